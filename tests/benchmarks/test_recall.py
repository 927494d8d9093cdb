"""Context recall without a model: the answer line and the outside names each setting's prompt holds."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from housecoder.benchmarks.recall import Hit, compare, judge, markdown, summarize


def test_judge_by_hand() -> None:
    in_file = "def total(order):\n    amount = order.net\n"
    answer = "    return price_with_vat(amount, order.country)\n"
    snippets = ["def price_with_vat(net, code): ...", "x = 1\nreturn price_with_vat(amount, order.country)\n"]
    assert judge(answer, in_file, snippets) == (
        True,
        ("price_with_vat", "country"),
        ("price_with_vat", "country"),
    )
    assert judge(answer, in_file, snippets[:1]) == (False, ("price_with_vat", "country"), ("price_with_vat",))
    assert judge("i += 1", "", ["i += 1"]) == (None, ("i",), ("i",))  # too short to count as a line found
    assert judge("return amount", in_file, []) == (False, (), ())  # nothing needed from outside


def _hit(
    run: str, task: str, kind: str, line: bool | None, missing: tuple[str, ...], found: tuple[str, ...]
) -> Hit:
    return Hit(
        run,
        task,
        kind,
        line,
        missing,
        found,
        prompt_tokens=100 if run == "a" else 200,
        snippets=1,
        context_seconds=0.01 * len(task),
    )


def test_summary_and_comparison_by_hand() -> None:
    hits = [
        _hit("a", "t1", "line", True, ("x", "y"), ("x",)),
        _hit("a", "t2", "api", None, ("z",), ("z",)),
        _hit("a", "t3", "line", False, (), ()),
        _hit("b", "t1", "line", False, ("x", "y"), ("x", "y")),
        _hit("b", "t2", "api", False, ("z",), ()),
        _hit("b", "t3", "line", False, (), ()),
        Hit("b", "t4", "line", None, (), (), 0, 0, error="bad file"),
    ]
    rows = {(row.run, row.kind): row for row in summarize(hits)}
    assert list(rows) == [
        ("a", "api"),
        ("a", "line"),
        ("a", "all"),
        ("b", "api"),
        ("b", "line"),
        ("b", "all"),
    ]
    a = rows[("a", "all")]
    assert (a.n, a.answer_line, a.with_missing, a.identifier_recall, a.all_found, a.prompt_tokens) == (
        3,
        0.5,
        2,
        2 / 3,
        0.5,
        100,
    )
    b = rows[("b", "line")]
    assert (b.n, b.answer_line, b.with_missing, b.identifier_recall, b.all_found) == (2, 0.0, 1, 1.0, 1.0)
    assert rows[("a", "api")].answer_line is None
    assert compare(hits, "b", "a") == (["t1"], ["t2"])
    table = markdown(summarize(hits), "t")
    assert "| a | all | 3 | 50.0 | 2 | 66.7 | 50.0 | 100 | 20 / 20 |" in table
    assert "| a | api | 1 | – | 1 | 100.0 | 100.0 | 100 | 20 / 20 |" in table


def test_bench_context_cli_builds_prompts_without_the_model(
    geometry_repo: Path, tiny_qwen_dir: Path, model_cache: Path, tmp_path: Path
) -> None:
    from housecoder.cli import app

    tasks = tmp_path / "geo.jsonl"
    made = CliRunner().invoke(
        app,
        ["bench", "make-tasks", str(geometry_repo), "-o", str(tasks), "--kinds", "line,api", "--count", "4"],
    )
    assert made.exit_code == 0, made.output
    config = tmp_path / "bench.toml"
    config.write_text(
        f'[models]\ncode_model = "{tiny_qwen_dir}"\ncache_dir = "{model_cache}"\noffline = true\n'
    )
    out = tmp_path / "hits.jsonl"
    ran = CliRunner().invoke(
        app, ["-C", str(tmp_path), "bench", "context", str(tasks), "--config", str(config), "--out", str(out)]
    )
    assert ran.exit_code == 0, ran.output
    hits = [json.loads(line) for line in out.read_text().splitlines()]
    assert {hit["run"] for hit in hits} == {"sparse", "housecoder"} and len(hits) == 2 * len(
        tasks.read_text().splitlines()
    )
    assert all(hit["prompt_tokens"] > 0 and not hit["error"] for hit in hits)
    assert (
        "| housecoder | all |" in ran.output
        and "housecoder holds every outside name where sparse does not:" in ran.output
    )
    bad = CliRunner().invoke(app, ["bench", "context", str(tasks), "--runs", "nearby"])
    assert bad.exit_code == 1 and "unknown run 'nearby'" in str(bad.exception)
