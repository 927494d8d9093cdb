"""The benchmark runner on the tiny model with a real index: every context setting, the adapter runs,
no snippet from the task's own file, resuming; the report files; the CLI end to end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from record_fixture import make_record
from typer.testing import CliRunner

from housecoder.benchmarks.repotasks import TaskOptions, make_tasks
from housecoder.config import IndexConfig, Settings
from housecoder.errors import HousecoderError
from housecoder.evaluation.report import comparisons, markdown, summarize, write_report
from housecoder.evaluation.retrievers import ProvidedRetriever, WindowRetriever
from housecoder.evaluation.runner import Record, ResultsFile, Runner, parse_runs
from housecoder.evaluation.tasks import ProvidedSnippet, Task


def test_sparse_windows_rank_by_jaccard_and_skip_the_current_file(geometry_repo: Path) -> None:
    windows = WindowRetriever(geometry_repo, IndexConfig(), size=4)
    found = windows.search(
        "surface = area(width, height)\nedge = perimeter(width, height)", "pkg/report.py", 3, 40
    )
    assert found and all(snippet.path == "pkg/geometry.py" for snippet in found)
    assert found[0].score == max(snippet.score for snippet in found) and "width" in found[0].text
    assert not any(snippet.overlaps(other) for i, snippet in enumerate(found) for other in found[i + 1 :])
    assert windows.search("", "pkg/report.py", 3, 40) == [] and windows.definitions(["area"], "x", 40) == []
    assert windows.index.paths() == {"pkg/geometry.py", "pkg/report.py"}  # index rules: no secret, no build/


def test_provided_snippets_keep_their_order_and_skip_the_current_file() -> None:
    provided = ProvidedRetriever(
        [
            ProvidedSnippet("a.py", "x = 1\ny = 2"),
            ProvidedSnippet("self.py", "z"),
            ProvidedSnippet("a.py", "w"),
        ]
    )
    found = provided.search("q", "self.py", 5, 1)
    assert [(s.path, s.text) for s in found] == [("a.py", "x = 1"), ("a.py", "w")] and not found[0].overlaps(
        found[1]
    )


def test_parse_runs() -> None:
    assert [spec.name for spec in parse_runs("infile, housecoder", adapter=True)] == [
        "infile",
        "housecoder",
        "infile+adapter",
        "housecoder+adapter",
    ]
    with pytest.raises(HousecoderError, match="unknown run 'bm25'"):
        parse_runs("infile,bm25", adapter=False)


def _backend(tiny_qwen_dir: Path) -> Any:
    from housecoder.inference.transformers_backend import TransformersBackend
    from housecoder.models.loading import load_code_model

    settings = Settings.model_validate({"models": {"device": "cpu", "tuning": {"dtype": "float32"}}})
    return TransformersBackend(load_code_model(tiny_qwen_dir, settings.models), settings.inference)


# a task that brings its own context (as CrossCodeEval's do)
PROVIDED = Task(
    "cc/1",
    "pkg/new.py",
    "from pkg.geometry import area\nvalue = ",
    "\n",
    "area(2, 3)",
    "python",
    context=(ProvidedSnippet("pkg/geometry.py", "def area(width, height):"),),
    context_text="# pkg/geometry.py\n# def area(width, height):\n",
    metadata={"repository": "geo"},
)


def test_every_setting_with_and_without_the_adapter(
    geometry_repo: Path, tiny_qwen_dir: Path, tiny_adapter_dir: Path, model_cache: Path, tmp_path: Path
) -> None:
    from housecoder.indexer.service import index_repository, open_retriever
    from housecoder.models.store import ModelStore

    settings = Settings.model_validate(
        {
            "models": {
                "cache_dir": str(model_cache),
                "offline": True,
                "device": "cpu",
                "tuning": {"dtype": "float32"},
            },
            "index": {"location": str(tmp_path / "index")},
            "completion": {"max_new_tokens": 6},
        }
    )
    opened: list[Path] = []

    def open_index(root: Path) -> Any:
        opened.append(root)
        index_repository(root, settings, ModelStore(model_cache))
        return open_retriever(root, settings)

    tasks = make_tasks(geometry_repo, settings.index, TaskOptions(kinds=("api", "function"), count=2, seed=0))
    tasks.append(PROVIDED)
    backend = _backend(tiny_qwen_dir)
    runner = Runner(
        backend, settings, open_index=open_index, adapter=tiny_adapter_dir, max_new_tokens_multi=8
    )
    results = ResultsFile(tmp_path / "out" / "results.jsonl", resume=False)
    specs = parse_runs("infile,sparse,housecoder,provided,provided-comment", adapter=True)
    runner.run(tasks, specs, results)

    by_run: dict[str, list[Record]] = {}
    for record in results.records:
        by_run.setdefault(record.run, []).append(record)
    repo_tasks = {task.task_id for task in tasks if task.repo}
    for suffix in ("", "+adapter"):
        assert {r.task_id for r in by_run["infile" + suffix]} == repo_tasks | {
            "cc/1"
        }  # in-file runs on every task
        for name in ("sparse", "housecoder"):
            assert {
                r.task_id for r in by_run[name + suffix]
            } == repo_tasks  # repository settings need the repository
    for name in ("provided", "provided-comment", "provided+adapter", "provided-comment+adapter"):
        assert [r.task_id for r in by_run[name]] == ["cc/1"]
    assert opened == [geometry_repo]  # indexed once, reused by every task and the adapter runs
    paths = {task.task_id: task.path for task in tasks}
    assert all(paths[r.task_id] not in r.snippet_paths for r in results.records)  # never the task's own file
    assert all(r.snippets == 0 for r in by_run["infile"]) and any(r.snippets for r in by_run["housecoder"])
    assert any(r.snippets for r in by_run["sparse"]) and by_run["provided"][0].snippet_paths == [
        "pkg/geometry.py"
    ]
    # a function body is served from its own file (context.multi_line); the baseline as defined keeps its windows
    bodies = {
        run: {r.task_id: (r.prompt_tokens, r.prediction) for r in by_run[run] if r.kind == "function"}
        for run in ("infile", "housecoder")
    }
    # the in-file prompt, the in-file answer
    assert bodies["housecoder"] == bodies["infile"] and bodies["infile"]
    assert any(r.snippets for r in by_run["sparse"] if r.kind == "function")
    infile_cc = next(r for r in by_run["infile"] if r.task_id == "cc/1")
    # the comment block is in the prompt
    assert by_run["provided-comment"][0].prompt_tokens > infile_cc.prompt_tokens + 10
    assert by_run["provided-comment"][0].snippets == 0  # the benchmark's block sits in the prefix instead
    assert all(not r.error and r.seconds > 0 and r.prompt_tokens > 0 for r in results.records)
    assert all(not r.single_line for r in results.records if r.kind == "function")
    with_adapter = {r.task_id: r.prediction for r in by_run["infile+adapter"]}
    # the adapter was really applied
    assert any(with_adapter[r.task_id] != r.prediction for r in by_run["infile"])
    assert backend.adapter == tiny_adapter_dir

    lines = (tmp_path / "out" / "results.jsonl").read_text().count("\n")
    again = ResultsFile(tmp_path / "out" / "results.jsonl", resume=True)
    assert len(again.records) == lines == len(results.records)
    runner.run(tasks, specs, again)  # everything is done: nothing runs, nothing is appended
    assert (tmp_path / "out" / "results.jsonl").read_text().count("\n") == lines

    summaries = write_report(results.records, tmp_path / "out", "geo", {"model": "tiny"})
    assert {s.run for s in summaries} >= {"infile", "housecoder+adapter", "provided-comment"}
    assert (tmp_path / "out" / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    payload = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert payload["meta"] == {"model": "tiny"} and payload["comparisons"]
    assert "| api | housecoder |" in (tmp_path / "out" / "report.md").read_text()


def test_summary_and_markdown_by_hand() -> None:
    records = [
        make_record("infile", "t1", True, similarity=1.0, seconds=1.0, stopped_by="newline"),
        make_record("infile", "t2", False, similarity=0.5, seconds=2.0, stopped_by="newline"),
        make_record("infile", "t3", False, similarity=0.0, seconds=3.0, stopped_by="newline"),
        make_record("infile", "t4", True, similarity=1.0, seconds=4.0, stopped_by="newline"),
        make_record("housecoder", "t1", True, similarity=1.0, seconds=2.0, stopped_by="newline"),
        make_record("housecoder", "t2", True, similarity=1.0, seconds=2.0, stopped_by="newline"),
        make_record("housecoder", "t3", True, similarity=0.9, seconds=2.0, stopped_by="newline"),
        make_record("housecoder", "t4", False, similarity=0.8, seconds=6.0, stopped_by="newline"),
    ]
    infile, housecoder = summarize(records)
    assert (infile.tasks, infile.exact, infile.edit_similarity, infile.p50_s) == (4, 0.5, 0.625, 2.5)
    assert infile.p95_s == pytest.approx(3.85) and infile.identifier_f1 == 0.625
    assert housecoder.exact == 0.75 and housecoder.edit_similarity == pytest.approx(0.925)
    (compared,) = comparisons(records)
    assert (compared.base, compared.other, compared.tasks) == ("infile", "housecoder", 4)
    assert compared.result.gained == ["t2", "t3"] and compared.result.lost == ["t4"]
    table = markdown(summarize(records), [compared], "demo")
    assert (
        "| line | infile | 4 | 50.0 (" in table
        and "| line | infile | housecoder | 4 | 2 | 1 | +25.0 (" in table
    )


def test_bench_cli_makes_tasks_and_runs_them(
    geometry_repo: Path, tiny_qwen_dir: Path, model_cache: Path, tmp_path: Path
) -> None:
    from housecoder.cli import app

    tasks = tmp_path / "sets" / "geo.jsonl"
    made = CliRunner().invoke(
        app, ["bench", "make-tasks", str(geometry_repo), "-o", str(tasks), "--kinds", "line", "--count", "3"]
    )
    assert made.exit_code == 0, made.output
    assert (
        len(tasks.read_text().splitlines()) == 3
        and json.loads(tasks.read_text().splitlines()[0])["repo"] == "../repo"
    )
    config = tmp_path / "bench.toml"
    config.write_text(
        f'[models]\ncode_model = "{tiny_qwen_dir}"\ncache_dir = "{model_cache}"\noffline = true\ndevice = "cpu"\n'
        "[completion]\nmax_new_tokens = 4\n"
    )
    out = tmp_path / "results"
    ran = CliRunner().invoke(
        app,
        [
            "-C",
            str(tmp_path),
            "bench",
            "run",
            str(tasks),
            "--runs",
            "infile,sparse,housecoder",
            "--config",
            str(config),
            "--limit",
            "2",
            "--out",
            str(out),
        ],
    )
    assert ran.exit_code == 0, ran.output
    assert "| line | housecoder | 2 |" in ran.output
    assert {json.loads(line)["run"] for line in (out / "results.jsonl").read_text().splitlines()} == {
        "infile",
        "sparse",
        "housecoder",
    }
    assert (
        (out / "report.md").is_file() and (out / "chart.png").is_file() and (out / "summary.json").is_file()
    )
    bad = CliRunner().invoke(app, ["bench", "run", str(tmp_path / "none.jsonl")])
    assert bad.exit_code == 1 and "no such task file" in str(bad.exception)  # `main` prints it as one line


def test_adapter_runs_keep_to_the_files_the_adapter_did_not_train_on(
    geometry_repo: Path, tiny_qwen_dir: Path, tiny_adapter_dir: Path, model_cache: Path, tmp_path: Path
) -> None:
    import shutil

    from housecoder.cli import app
    from housecoder.models.adapters import SPLIT_FILE, base_fingerprint, trained_files, write_adapter_meta

    assert trained_files(tiny_adapter_dir) is None  # a plain peft adapter: no record of what it learnt from
    adapter = tmp_path / "run"
    shutil.copytree(tiny_adapter_dir, adapter)
    write_adapter_meta(
        adapter,
        {
            "format": 1,
            "base_model": str(tiny_qwen_dir),
            "base_fingerprint": base_fingerprint(tiny_qwen_dir),
            "repository": str(geometry_repo),
            "commit": None,
            "created": "2026-11-23T00:00:00+00:00",
            "config": {},
            "metrics": {},
            "beat_base": False,
            "verdict": "kept",
        },
    )
    (adapter / SPLIT_FILE).write_text(
        json.dumps({"train": ["pkg/geometry.py"], "held_out": ["pkg/report.py"]})
    )
    assert trained_files(adapter) == (str(geometry_repo), frozenset({"pkg/geometry.py"}))
    tasks = tmp_path / "geo.jsonl"
    made = CliRunner().invoke(
        app, ["bench", "make-tasks", str(geometry_repo), "-o", str(tasks), "--kinds", "line", "--count", "6"]
    )
    assert made.exit_code == 0, made.output
    paths = [json.loads(line)["path"] for line in tasks.read_text().splitlines()]
    assert {"pkg/geometry.py", "pkg/report.py"} <= set(paths)
    config = tmp_path / "bench.toml"
    config.write_text(
        f'[models]\ncode_model = "{tiny_qwen_dir}"\ncache_dir = "{model_cache}"\noffline = true\ndevice = "cpu"\n'
        "[completion]\nmax_new_tokens = 3\n"
    )

    def run(out: str, *more: str) -> list[dict[str, Any]]:
        ran = CliRunner().invoke(
            app,
            [
                "-C",
                str(tmp_path),
                "bench",
                "run",
                str(tasks),
                "--runs",
                "infile",
                "--config",
                str(config),
                "--adapter",
                str(adapter),
                "--out",
                str(tmp_path / out),
                *more,
            ],
        )
        assert ran.exit_code == 0, ran.output
        return [json.loads(line) for line in (tmp_path / out / "results.jsonl").read_text().splitlines()]

    held = run("held")
    report_tasks = sum(path == "pkg/report.py" for path in paths)
    assert len(held) == 2 * report_tasks and {r["run"] for r in held} == {"infile", "infile+adapter"}
    assert all("report.py" in r["task_id"] for r in held)  # paired: both runs on the held-out file only
    assert len(run("all", "--all-files")) == 2 * len(paths)
    # drawn from the held-out tasks
    assert report_tasks > 1 and len(run("one", "--limit", "1", "--seed", "3")) == 2

    (adapter / SPLIT_FILE).write_text(
        json.dumps({"train": ["pkg/geometry.py", "pkg/report.py"], "held_out": []})
    )
    refused = CliRunner().invoke(
        app,
        [
            "-C",
            str(tmp_path),
            "bench",
            "run",
            str(tasks),
            "--runs",
            "infile",
            "--config",
            str(config),
            "--adapter",
            str(adapter),
            "--out",
            str(tmp_path / "none"),
        ],
    )
    assert refused.exit_code == 1 and "every task lies in a file the adapter" in str(refused.exception)


def test_the_baselines_get_only_their_own_source() -> None:
    from housecoder.config import Settings
    from housecoder.evaluation.runner import context_settings

    for context in ("sparse", "provided"):
        config = context_settings(Settings(), context, realtime=False).context
        enabled = {
            name
            for name in ("definitions", "similar", "retrieval", "open_documents")
            if getattr(config, name)
        }
        assert enabled == {"retrieval"} and not config.tuning.rest_of_file, context
    assert not context_settings(Settings(), "infile", realtime=False).context.enabled


def test_every_task_is_measured_with_the_whole_prompt() -> None:
    from housecoder.config import Settings
    from housecoder.evaluation.runner import context_settings

    # each task is a file the model holds nothing of: no cold prompt, whatever the realtime budgets
    for realtime in (False, True):
        settings = context_settings(Settings(), "housecoder", realtime=realtime)
        assert (
            settings.completion.tuning.cold_prefill_tokens == 0
            and Settings().completion.tuning.cold_prefill_tokens > 0
        )
