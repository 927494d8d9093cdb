"""`housecoder train` from the command line: dry run, a short run, and the one-line errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner


def _config(tmp_path: Path, tiny_qwen_dir: Path, model_cache: Path) -> Path:
    config = tmp_path / "train.toml"
    config.write_text(
        f'[models]\ncode_model = "{tiny_qwen_dir}"\ncache_dir = "{model_cache}"\noffline = true\ndevice = "cpu"\n'
        f'[models.tuning]\ndtype = "float32"\n'
        f'[index]\nlocation = "{tmp_path / "index"}"\n[completion]\nmax_new_tokens = 4\n'
        f'[train]\noutput = "{tmp_path / "adapters"}"\n'
        f"[train.tuning]\neval_samples = 5\nper_file = 6\ngrad_accum = 2\ngenerate_samples = 2\nheld_out_fraction = 0.3\n"
        "max_samples = 10\n"
        f'mixed_precision = "no"\nlearning_rate = 0.005\n'
    )
    return config


def test_dry_run_then_a_short_run(
    inventory_repo: Path, tiny_qwen_dir: Path, model_cache: Path, tmp_path: Path
) -> None:
    from housecoder.cli import app

    config = _config(tmp_path, tiny_qwen_dir, model_cache)
    # a token budget that buys fewer samples than a run needs: one line saying so
    small = CliRunner().invoke(
        app, ["train", str(inventory_repo), "--config", str(config), "--token-budget", "1500", "--dry-run"]
    )
    assert small.exit_code == 1
    [bought] = re.findall(r"(\d+) training and \d+ held-out samples", str(small.exception))
    assert 1 <= int(bought) < 8 and "need at least 8" in str(small.exception)

    dry = CliRunner().invoke(
        app, ["train", str(inventory_repo), "--config", str(config), "--token-budget", "0", "--dry-run"]
    )
    assert dry.exit_code == 0, dry.output
    assert "10 training samples, 5 held-out samples" in dry.output and "estimated" in dry.output
    assert "5 optimiser steps (10 sequences)" in dry.output  # one epoch, 2 sequences per step
    assert re.search(r"tokens to learn, from 5 of 5 training files", dry.output)
    assert not (tmp_path / "adapters").exists()

    ran = CliRunner().invoke(
        app, ["train", str(inventory_repo), "--config", str(config), "--token-budget", "0", "--steps", "2"]
    )
    assert ran.exit_code == 0, ran.output
    assert "step 2/2: loss" in ran.output and "report.md" in ran.output
    [run] = [p for p in (tmp_path / "adapters").glob("*/*") if p.is_dir()]
    assert json.loads((run / "housecoder-adapter.json").read_text())["verdict"].split(":")[0] in (
        "activated",
        "not activated",
    )


def test_cli_errors_are_one_line(inventory_repo: Path, tmp_path: Path) -> None:
    from housecoder.cli import app

    missing = CliRunner().invoke(app, ["train", str(tmp_path / "nowhere")])
    assert missing.exit_code == 1 and "not a directory" in str(missing.exception)
    both = CliRunner().invoke(app, ["train", str(inventory_repo), "--resume", "--dry-run"])
    assert both.exit_code == 1 and "choose one of" in str(both.exception)
    held = CliRunner().invoke(app, ["train", str(inventory_repo), "--held-out", "100"])
    assert held.exit_code == 1 and "--held-out goes with --eval-only" in str(held.exception)
    forgetting = CliRunner().invoke(
        app, ["train", str(inventory_repo), "--forgetting", str(tmp_path / "none.jsonl")]
    )
    assert forgetting.exit_code == 1 and "no such task file" in str(forgetting.exception)
