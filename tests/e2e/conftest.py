"""Fixtures for end-to-end tests: the shop fixture repository, indexed with the real embedder."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from lsp import options, shop  # noqa: F401 (fixtures)


def index_repo(root: Path, location: Path, model_cache: Path) -> None:
    from housecoder.config import load_settings
    from housecoder.indexer.indexer import Indexer
    from housecoder.indexer.service import load_embedder, open_for_indexing
    from housecoder.models.store import ModelStore

    settings = load_settings(
        root, {"models": {"cache_dir": model_cache}, "index": {"location": str(location)}}
    )
    embedder = load_embedder(settings, ModelStore(model_cache))
    store = open_for_indexing(root, settings, str(location), embedder.dimension, full=True)
    Indexer(root, settings.index, store, embedder).run()
