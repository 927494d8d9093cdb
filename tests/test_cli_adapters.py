"""`housecoder adapters list | export`: the repository's registered adapters, and one copied for vLLM."""

from __future__ import annotations

from pathlib import Path

import pytest
from registry_fixture import register
from typer.testing import CliRunner

from housecoder.cli import app
from housecoder.config import load_settings
from housecoder.errors import HousecoderError


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    (root / ".git").mkdir(parents=True)
    (root / ".housecoder.toml").write_text(f'[train]\noutput = "{tmp_path / "adapters"}"\n')
    return root


def test_list_and_export_the_newest_adapter_that_beat_the_base(repo: Path, tmp_path: Path) -> None:
    settings = load_settings(repo)
    register(settings, repo, "run-old", "f" * 64, created="2025-01-01T12:00:00+00:00")
    register(settings, repo, "run-new", "f" * 64, created="2025-02-01T12:00:00+00:00")
    register(settings, repo, "run-worse", "f" * 64, created="2025-03-01T12:00:00+00:00", beat_base=False)
    runner = CliRunner()
    listed = runner.invoke(app, ["-C", str(repo), "adapters", "list"])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert [line.split()[0] for line in lines] == ["run-worse", "run-new", "run-old"]
    assert "not served" in lines[0] and "held-out exact match 25.0 -> 50.0%" in lines[1]

    share = tmp_path / "share"
    exported = runner.invoke(app, ["-C", str(repo), "adapters", "export", str(share)])
    assert exported.exit_code == 0, exported.output
    target = share / "shop"
    assert sorted(p.name for p in target.iterdir()) == [
        "adapter_config.json",
        "adapter_model.safetensors",
        "housecoder-adapter.json",
    ]
    assert "exported run-new" in exported.output
    assert f"--lora-modules shop={target}" in exported.output and 'adapter = "shop"' in exported.output
    again = runner.invoke(app, ["-C", str(repo), "adapters", "export", str(share)])
    assert isinstance(again.exception, HousecoderError) and "exists: --force" in str(again.exception)
    forced = runner.invoke(
        app,
        ["-C", str(repo), "adapters", "export", str(share), "--run", "run-old", "--name", "house", "--force"],
    )
    assert forced.exit_code == 0 and (share / "house" / "adapter_config.json").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--run", "nope"], "no run 'nope' registered"),
        (["--name", "../up"], "use letters, digits"),
    ],
)
def test_export_errors_are_one_line(repo: Path, tmp_path: Path, args: list[str], message: str) -> None:
    register(load_settings(repo), repo, "run-1", "f" * 64)
    result = CliRunner().invoke(app, ["-C", str(repo), "adapters", "export", str(tmp_path / "out"), *args])
    assert isinstance(result.exception, HousecoderError) and message in str(result.exception)
    assert "\n" not in str(result.exception)


def test_nothing_registered_says_how_to_make_one(repo: Path, tmp_path: Path) -> None:
    listed = CliRunner().invoke(app, ["-C", str(repo), "adapters", "list"])
    assert listed.exit_code == 0 and "housecoder train" in listed.output
    result = CliRunner().invoke(app, ["-C", str(repo), "adapters", "export", str(tmp_path / "out")])
    assert isinstance(result.exception, HousecoderError) and "beat the base" in str(result.exception)


def test_list_says_what_background_training_is_doing(repo: Path) -> None:
    from housecoder.models import background

    settings = load_settings(repo)
    record = background.Progress(
        phase=background.TRAINING, tokens_learned=1_000, tokens_planned=4_000, files_covered=2, train_files=2
    )
    background.write_progress(background.progress_path(settings, repo), record)
    listed = CliRunner().invoke(app, ["-C", str(repo), "adapters", "list"])
    assert listed.exit_code == 0, listed.output
    assert (
        listed.output.splitlines()[0]
        == (
            "background training: stopped while training; the next background run resumes it"  # no process holds its lock
        )
    )


def test_list_names_the_adapter_shipped_for_the_configured_model(repo: Path) -> None:
    config = repo / ".housecoder.toml"
    base = config.read_text()
    assert (
        "shipped with housecoder" not in CliRunner().invoke(app, ["-C", str(repo), "adapters", "list"]).output
    )
    config.write_text(base + '[models]\ncode_model = "qwen2.5-coder-0.5b-instruct"\n')
    listed = CliRunner().invoke(app, ["-C", str(repo), "adapters", "list"])
    assert listed.exit_code == 0, listed.output
    assert listed.output.splitlines()[0] == (
        "shipped with housecoder for qwen2.5-coder-0.5b-instruct: qwen2.5-coder-0.5b-fim, "
        "served unless one of the repository's below is"
    )
    config.write_text(base + '[models]\ncode_model = "qwen2.5-coder-0.5b-instruct"\nauto_adapter = false\n')
    off = CliRunner().invoke(app, ["-C", str(repo), "adapters", "list"])
    assert "qwen2.5-coder-0.5b-fim, off (auto_adapter)" in off.output
