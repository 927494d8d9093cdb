"""bench/heldout_gain.py: an adapter's paired gain on a run's held-out middles, per run, per kind and pooled."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from housecoder.evaluation.runner import Record, ResultsFile
from housecoder.training.base_figures import GENERATIONS_FILE
from housecoder.training.preparation import SAMPLES_FILE, write_samples
from housecoder.training.samples import Sample

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "heldout_gain.py"


def _script() -> object:
    spec = importlib.util.spec_from_file_location("heldout_gain", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(folder: Path, outcomes: list[tuple[str, bool, bool]]) -> Path:
    """A run directory whose held-out middle i has kind outcomes[i][0], base exact [1], adapted exact [2]."""
    folder.mkdir()
    held = [
        Sample(f"m{i}.py", "python", kind, i, "x", "", (), "", "")
        for i, (kind, _a, _b) in enumerate(outcomes)
    ]
    write_samples(folder / SAMPLES_FILE, [], held)
    results = ResultsFile(folder / GENERATIONS_FILE, resume=False)
    for sample, (kind, base, adapted) in zip(held, outcomes, strict=True):
        for run, exact in (("housecoder", base), ("housecoder+adapter", adapted)):
            results.add(
                Record(
                    run,
                    sample.sample_id,
                    kind,
                    "x" if exact else "y",
                    "x",
                    True,
                    exact,
                    float(exact),
                    exact,
                    float(exact),
                    0.0,
                    0.0,
                    0,
                    0,
                    0,
                    "eos",
                )
            )
    return folder


def test_it_prints_each_run_its_own_and_later_middles_and_the_pool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    one = _run(
        tmp_path / "one",
        [("line", False, True), ("body", True, True), ("line", False, True), ("body", True, False)],
    )
    two = _run(tmp_path / "two", [("line", False, False), ("line", False, True)])
    monkeypatch.setattr(sys, "argv", ["heldout_gain.py", str(one), str(two), "--own", "2,2"])
    _script().main()  # type: ignore[attr-defined]
    out = capsys.readouterr().out
    assert "| all | 4 | 50.0 → 75.0 | +2 / −1 |" in out
    assert (
        "| the run's own 2 | 2 | 50.0 → 100.0 | +1 / −0 |" in out
        and "| drawn later | 2 | 50.0 → 50.0 | +1 / −1 |" in out
    )
    assert "| body | 2 | 100.0 → 50.0 | +0 / −1 |" in out
    assert "pooled over 2 runs" in out and "| all | 6 | 33.3 → 66.7 | +3 / −1 |" in out
    assert "| line | 4 | 0.0 → 75.0 | +3 / −0 |" in out
    assert "drawn later | 0" not in out  # run two drew nothing later


def test_a_folder_that_is_no_run_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["heldout_gain.py", str(tmp_path)])
    with pytest.raises(SystemExit):
        _script().main()  # type: ignore[attr-defined]
    assert "not a finished training run" in capsys.readouterr().err


def test_versus_pairs_one_runs_adapter_against_anothers_on_the_middles_both_completed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    one = _run(tmp_path / "one", [("line", False, True), ("body", False, False), ("line", True, True)])
    # drew only the first two middles
    two = _run(tmp_path / "two", [("line", False, False), ("body", False, True)])
    monkeypatch.setattr(sys, "argv", ["heldout_gain.py", str(two), "--versus", str(one)])
    _script().main()  # type: ignore[attr-defined]
    out = capsys.readouterr().out
    assert f"{two} against the adapter of {one}" in out
    assert "| all | 2 | 50.0 → 50.0 | +1 / −1 |" in out  # before = run one's adapter (line exact, body not)
    assert "| line | 1 | 100.0 → 0.0 | +0 / −1 |" in out and "| body | 1 | 0.0 → 100.0 | +1 / −0 |" in out
    monkeypatch.setattr(sys, "argv", ["heldout_gain.py", str(two), "--versus", f"{one},{one}"])
    with pytest.raises(SystemExit):
        _script().main()  # type: ignore[attr-defined]
    assert "--versus needs one run directory per run directory" in capsys.readouterr().err
