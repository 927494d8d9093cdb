"""Paired comparisons: the gain figures (hand-counted), and `bench compare` over two results folders."""

from __future__ import annotations

from pathlib import Path

import pytest
from record_fixture import make_record
from typer.testing import CliRunner

from housecoder.errors import HousecoderError
from housecoder.evaluation.compare import Outcome, compare_folders, gain_figures, paired_gain
from housecoder.evaluation.runner import Record, ResultsFile


def _folder(path: Path, records: list[Record]) -> Path:
    path.mkdir()
    results = ResultsFile(path / "results.jsonl", resume=False)
    for record in records:
        results.add(record)
    return path


def test_the_gain_counts_tasks_won_and_lost_and_its_interval_holds_the_difference() -> None:
    pairs = [
        (Outcome(False, 0.5), Outcome(True, 1.0)),
        (Outcome(False, 0.5), Outcome(True, 1.0)),
        (Outcome(True, 1.0), Outcome(False, 0.5)),
        (Outcome(True, 1.0), Outcome(True, 1.0)),
    ]
    gain = paired_gain(pairs)
    assert (gain.tasks, gain.gained, gain.lost) == (4, 2, 1)
    assert gain.exact_a == 0.5 and gain.exact_b == 0.75 and gain.exact_diff == pytest.approx(0.25)
    assert gain.exact_interval[0] <= gain.exact_diff <= gain.exact_interval[1]
    assert gain.similarity_diff == pytest.approx(0.125)
    figures = gain_figures(pairs)
    assert figures["exact_base"] == 50.0 and figures["exact_tuned"] == 75.0
    assert figures["exact_diff"][0] == 25.0 and figures["won_lost"] == [2, 1]  # type: ignore[index]
    assert gain_figures([]) == {"tasks": 0}


def test_two_folders_compare_run_by_run_on_the_tasks_both_completed(tmp_path: Path) -> None:
    a = _folder(
        tmp_path / "a",
        [
            make_record("housecoder", "t1", False),
            make_record("housecoder", "t2", True, kind="api"),
            make_record("housecoder", "t3", False),  # B has not done t3: left out
            make_record("infile", "t1", False),
        ],
    )
    b = _folder(
        tmp_path / "b",
        [
            make_record("housecoder", "t1", True, prompt_tokens=300),
            make_record("housecoder", "t2", True, kind="api", prompt_tokens=300),
            make_record("infile", "t1", True),
        ],
    )
    lines = compare_folders(a, b, ["housecoder"])
    assert lines[0] == f"A = {a}, B = {b}"
    rows = [line for line in lines if line.startswith("| housecoder")]
    assert rows[0].startswith("| housecoder | 2 | 50.0 → 100.0 | +1/−0 | +50.0 (")
    assert "| 100 → 300 | 1.00 → 1.00 |" in rows[0]
    assert [row.split(" | ")[0] for row in rows[1:]] == ["| housecoder, api", "| housecoder, line"]
    assert not any(line.startswith("| pooled") for line in lines)  # one run chosen
    every = compare_folders(a, b)
    assert every[-1].startswith("| pooled | 3 | 33.3 → 100.0 | +2/−0 |")
    with pytest.raises(HousecoderError, match="no task completed"):
        compare_folders(a, b, ["sparse"])


def test_bench_compare_prints_the_table_and_refuses_a_folder_without_results(tmp_path: Path) -> None:
    from housecoder.cli import app

    a = _folder(tmp_path / "a", [make_record("infile", "t1", False)])
    b = _folder(tmp_path / "b", [make_record("infile", "t1", True)])
    ran = CliRunner().invoke(app, ["bench", "compare", str(a), str(b)])
    assert ran.exit_code == 0, ran.output
    assert "| infile | 1 | 0.0 → 100.0 | +1/−0 |" in ran.output
    missing = CliRunner().invoke(app, ["bench", "compare", str(a), str(tmp_path)])
    assert missing.exit_code == 1 and "no results.jsonl" in str(missing.exception)
