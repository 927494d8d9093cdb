"""`housecoder bench heldout`: an adapter's paired gain on a run's held-out middles, per run, per kind and
pooled."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from housecoder.cli import app
from housecoder.evaluation.runner import Record, ResultsFile
from housecoder.training.base_figures import GENERATIONS_FILE
from housecoder.training.preparation import SAMPLES_FILE, write_samples
from housecoder.training.samples import Sample


def _heldout(*args: str) -> tuple[int, str]:
    """Exit code, and the output (or the error's message)."""
    ran = CliRunner().invoke(app, ["bench", "heldout", *args])
    return ran.exit_code, ran.output if ran.exit_code == 0 else str(ran.exception)


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


def test_it_prints_each_run_its_own_and_later_middles_and_the_pool(tmp_path: Path) -> None:
    one = _run(
        tmp_path / "one",
        [("line", False, True), ("body", True, True), ("line", False, True), ("body", True, False)],
    )
    two = _run(tmp_path / "two", [("line", False, False), ("line", False, True)])
    code, out = _heldout(str(one), str(two), "--own", "2,2")
    assert code == 0, out
    assert "| all | 4 | 50.0 → 75.0 | +2 / −1 |" in out
    assert (
        "| the run's own 2 | 2 | 50.0 → 100.0 | +1 / −0 |" in out
        and "| drawn later | 2 | 50.0 → 50.0 | +1 / −1 |" in out
    )
    assert "| body | 2 | 100.0 → 50.0 | +0 / −1 |" in out
    assert "pooled over 2 runs" in out and "| all | 6 | 33.3 → 66.7 | +3 / −1 |" in out
    assert "| line | 4 | 0.0 → 75.0 | +3 / −0 |" in out
    assert "drawn later | 0" not in out  # run two drew nothing later


def test_a_folder_that_is_no_run_is_one_line(tmp_path: Path) -> None:
    code, message = _heldout(str(tmp_path))
    assert code == 1 and "not a finished training run" in message
    code, message = _heldout(str(tmp_path), "--own", "forty")
    assert code == 1 and "give whole numbers" in message


def test_versus_pairs_one_runs_adapter_against_anothers_on_the_middles_both_completed(tmp_path: Path) -> None:
    one = _run(tmp_path / "one", [("line", False, True), ("body", False, False), ("line", True, True)])
    # drew only the first two middles
    two = _run(tmp_path / "two", [("line", False, False), ("body", False, True)])
    code, out = _heldout(str(two), "--versus", str(one))
    assert code == 0, out
    assert f"{two} against the adapter of {one}" in out
    assert "| all | 2 | 50.0 → 50.0 | +1 / −1 |" in out  # before = run one's adapter (line exact, body not)
    assert "| line | 1 | 100.0 → 0.0 | +0 / −1 |" in out and "| body | 1 | 0.0 → 100.0 | +1 / −0 |" in out
    code, message = _heldout(str(two), "--versus", f"{one},{one}")
    assert code == 1 and "--versus needs one run directory per run directory" in message
