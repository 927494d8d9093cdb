"""Fixtures for end-to-end tests: the shop fixture repository, indexed with the real embedder."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from lsp import copy_shop


def index_repo(root: Path, location: Path, model_cache: Path) -> None:
    from housecoder.config import load_settings
    from housecoder.indexer.indexer import Indexer
    from housecoder.indexer.service import load_embedder, open_for_indexing
    from housecoder.models.store import ModelStore

    settings = load_settings(root, {"models": {"cache_dir": model_cache}, "index": {"location": str(location)}})
    embedder = load_embedder(settings, ModelStore(model_cache))
    store = open_for_indexing(root, settings, str(location), embedder.dimension, full=True)
    Indexer(root, settings.index, store, embedder).run()


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    return copy_shop(tmp_path / "shop")


@pytest.fixture
def options(tmp_path: Path, model_cache: Path, tiny_qwen_dir: Path) -> dict[str, Any]:
    """initializationOptions: the tiny model, the session model store, an index in the test's temp dir."""
    return {
        "models": {"cache_dir": str(model_cache), "code_model": str(tiny_qwen_dir), "offline": True, "device": "cpu"},
        "index": {"location": str(tmp_path / "index")},
    }
