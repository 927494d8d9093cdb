"""Reports of benchmark records: paired selection, overall rows, a results file cut mid-write,
and `bench report` writing the report again from results.jsonl."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from typer.testing import CliRunner

from housecoder.evaluation.report import complete_tasks, summarize, with_overall
from housecoder.evaluation.runner import Record, ResultsFile


def _record(run: str, task: str, exact: bool, kind: str = "line") -> Record:
    similarity = 1.0 if exact else 0.5
    return Record(
        run, task, kind, "p", "g", True, exact, similarity, exact, similarity, 1.0, 1.0, 100, 3, 0, "newline"
    )


RECORDS = [
    _record("infile", "t1", True),
    _record("sparse", "t1", False),
    _record("housecoder", "t1", True),
    _record("infile", "t2", False, "api"),
    _record("sparse", "t2", True, "api"),
    _record("housecoder", "t2", True, "api"),
    _record("infile", "t3", True),
    _record("sparse", "t3", True),  # housecoder has not reached t3 yet
    _record("infile", "t4", False, "api"),
]


def test_complete_tasks_keeps_the_tasks_every_run_has_done() -> None:
    kept = complete_tasks(RECORDS)
    assert {r.task_id for r in kept} == {"t1", "t2"} and len(kept) == 6
    assert complete_tasks([]) == []


def test_overall_rows_only_when_there_are_several_kinds() -> None:
    summaries = summarize(with_overall(complete_tasks(RECORDS)))
    overall = {s.run: s for s in summaries if s.kind == "all"}
    assert {run: (s.tasks, s.exact) for run, s in overall.items()} == {
        "infile": (2, 0.5),
        "sparse": (2, 0.5),
        "housecoder": (2, 1.0),
    }
    one_kind = [r for r in RECORDS if r.kind == "line"]
    assert with_overall(one_kind) == one_kind


def test_a_results_file_cut_mid_write_resumes_without_the_cut_line(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    good = [json.dumps(asdict(r)) for r in RECORDS[:3]]
    path.write_text("\n".join(good) + "\n" + good[0][:40])  # the process was killed while writing a line
    results = ResultsFile(path, resume=True)
    assert [r.task_id for r in results.records] == ["t1"] * 3
    assert not results.has("infile", "t2")
    results.add(RECORDS[3])  # appended on a line of its own, not glued to the cut one
    again = ResultsFile(path, resume=True)
    assert [(r.run, r.task_id) for r in again.records] == [(r.run, r.task_id) for r in RECORDS[:4]]
    assert path.read_text().endswith("\n") and len(path.read_text().splitlines()) == 4


def test_bench_report_rewrites_the_report_from_results(tmp_path: Path) -> None:
    from housecoder.cli import app

    out = tmp_path / "click"
    out.mkdir()
    (out / "results.jsonl").write_text("".join(json.dumps(asdict(r)) + "\n" for r in RECORDS) + "{not json\n")
    (out / "summary.json").write_text(json.dumps({"meta": {"model": "tiny", "tasks": 4}}))
    ran = CliRunner().invoke(app, ["bench", "report", str(out), "--title", "click (partial)"])
    assert ran.exit_code == 0, ran.output
    assert "# click (partial): 2 tasks" in ran.output and "| all | housecoder | 2 | 100.0 (" in ran.output
    assert (
        "| line | infile | sparse | 1 | 0 | 1 | -100.0 (-100.0 to -100.0) | -50.0 (-50.0 to -50.0) |"
        in ran.output
    )
    payload = json.loads((out / "summary.json").read_text())
    line = next(
        c
        for c in payload["comparisons"]
        if (c["kind"], c["base"], c["other"]) == ("line", "infile", "sparse")
    )
    assert line["similarity_difference"] == -0.5 and line["similarity_interval"] == [-0.5, -0.5]
    assert (
        payload["meta"]["model"] == "tiny"
        and payload["meta"]["tasks"] == 2
        and payload["meta"]["rewritten_from_results"]
    )
    assert (out / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "report.md").read_text() == ran.stdout

    every = CliRunner().invoke(app, ["bench", "report", str(out), "--every-record"])
    assert (
        every.exit_code == 0
        and "| line | infile | 2 |" in every.output
        and "| api | infile | 2 |" in every.output
    )

    missing = CliRunner().invoke(app, ["bench", "report", str(tmp_path / "nowhere")])
    assert missing.exit_code == 1 and "no results.jsonl there" in str(missing.exception)
    (out / "results.jsonl").write_text(json.dumps(asdict(RECORDS[-1])) + "\n")
    single = CliRunner().invoke(app, ["bench", "report", str(out)])
    assert single.exit_code == 0, single.output  # one run: every task it has is complete
