"""Build the pieces of a completion engine from settings: the model backend and the index retriever."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from housecoder.config import Settings
from housecoder.inference.transformers_backend import TransformersBackend
from housecoder.models.progress import SILENT, Progress

if TYPE_CHECKING:
    from housecoder.indexer.retrieval import IndexRetriever


def load_backend(settings: Settings, progress: Progress = SILENT) -> TransformersBackend:
    """Resolve (pulling a built-in model if needed) and load the configured code model and adapter."""
    from housecoder.models.loading import load_code_model
    from housecoder.models.store import store_for

    resolved = store_for(settings).resolve(settings.models.code_model, "code", progress=progress)
    return TransformersBackend(load_code_model(resolved.path, settings.models))


def open_retriever(
    root: Path, settings: Settings, progress: Progress = SILENT, embedder: Callable[[], Any] | None = None
) -> IndexRetriever:
    """The index of the repository at `root` as a context retriever; raises IndexNotFound when it has none.

    `embedder` returns an already loaded embedder (the server shares one between indexing and
    retrieval); it is called only once the index is known to exist.
    """
    from housecoder.indexer.retrieval import IndexRetriever
    from housecoder.indexer.service import index_location, indexes_root, load_embedder, open_for_search
    from housecoder.models.store import store_for

    store = open_for_search(index_location(root, settings, indexes_root(settings)))
    return IndexRetriever(store, embedder() if embedder else load_embedder(settings, store_for(settings), progress))
