"""The robustness suite: the real server under malformed, out-of-order, concurrent and hostile input."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "e2e"))
from lsp import copy_shop


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    return copy_shop(tmp_path / "shop")


@pytest.fixture
def options(tmp_path: Path, model_cache: Path, tiny_qwen_dir: Path) -> dict[str, Any]:
    """The tiny model, the session's model store, no index (tests that want one build it)."""
    return {
        "models": {"cache_dir": str(model_cache), "code_model": str(tiny_qwen_dir), "offline": True, "device": "cpu"},
        "index": {"location": str(tmp_path / "index")},
    }
