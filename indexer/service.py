"""Open a repository's index, its embedder and its context retriever from settings: shared by the CLI, the
server, training and the benchmarks."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from housecoder.config import Settings
from housecoder.indexer.errors import IncompatibleIndex, NotADirectory
from housecoder.indexer.indexer import Indexer, Summary
from housecoder.indexer.retrieval import IndexRetriever
from housecoder.indexer.store import IndexStore
from housecoder.locations import cache_base, repo_key
from housecoder.models.embedder import OnnxEmbedder
from housecoder.models.progress import SILENT, Progress
from housecoder.models.store import ModelStore, store_for

log = logging.getLogger(__name__)


def indexes_root(settings: Settings) -> Path:
    """Where indexes live by default: beside the model store (`<cache>/indexes`)."""
    return cache_base(settings) / "indexes"


def index_location(root: Path, settings: Settings, indexes_root: Path) -> str:
    """The configured location, or `<indexes_root>/<repo name>-<hash of its absolute path>`."""
    if settings.index.location:
        return settings.index.location
    return str(indexes_root / repo_key(root))


def embedder_id(settings: Settings) -> str:
    """Identifies how an index was made (embedder and chunking); a different id means rebuilding it."""
    config = settings.index
    precision = "int8" if config.tuning.quantized else "fp32"
    chunking = f"{config.tuning.target_lines},{config.tuning.max_lines},{config.tuning.split_lines},{config.tuning.split_overlap},{config.tuning.max_line_chars}"
    return f"{settings.models.embedder}|{precision}|{config.tuning.embed_max_tokens}|{chunking}"


def load_embedder(settings: Settings, models: ModelStore, progress: Progress = SILENT) -> OnnxEmbedder:
    resolved = models.resolve(settings.models.embedder, "embedder", progress=progress)
    models.verify_served(resolved)  # a damaged embedder is one line, not an index of garbage vectors
    return OnnxEmbedder(
        resolved.path,
        threads=settings.index.embed_threads,
        batch_size=settings.index.tuning.embed_batch,
        max_length=settings.index.tuning.embed_max_tokens,
        quantized=settings.index.tuning.quantized,
    )


def open_for_indexing(root: Path, settings: Settings, location: str, dim: int, *, full: bool) -> IndexStore:
    """The index to write; `full` starts from empty, keeping the previous index readable until the rebuild
    commits. An index made with another embedder or format is dropped and rebuilt (it is unusable anyway)."""
    if not root.is_dir():
        raise NotADirectory(str(root))
    identity = embedder_id(settings)
    try:
        store = IndexStore(location, dim=dim, embedder=identity)
    except IncompatibleIndex:
        if not full:
            raise
        return IndexStore.recreate(location, dim=dim, embedder=identity)
    if store.embedder != identity or store.dim != dim:
        log.warning("index was built with embedder %s, now %s: rebuilding it", store.embedder, identity)
        return IndexStore.recreate(location, dim=dim, embedder=identity)
    store.clear_on_write = full
    return store


def open_for_search(location: str) -> IndexStore:
    """The committed state of an existing index (raises IndexNotFound when there is none)."""
    store = IndexStore(location, dim=0, embedder="", create=False)
    store.pin_committed()
    return store


def index_repository(
    root: Path, settings: Settings, models: ModelStore, progress: Progress = SILENT, *, full: bool = False
) -> tuple[Summary, str]:
    """Bring the index of the repository at `root` up to date (rebuild with `full`); the summary and where it is."""
    embedder = load_embedder(settings, models, progress)
    location = index_location(root, settings, indexes_root(settings))
    store = open_for_indexing(root, settings, location, embedder.dimension, full=full)
    return Indexer(root, settings.index, store, embedder).run(progress), location


def open_retriever(
    root: Path,
    settings: Settings,
    progress: Progress = SILENT,
    embedder: Callable[[], OnnxEmbedder] | None = None,
) -> IndexRetriever:
    """The index of the repository at `root` as a context retriever; raises IndexNotFound when it has none.

    `embedder` returns an already loaded embedder (the server shares one between indexing and
    retrieval); it is called only once the index is known to exist.
    """
    store = open_for_search(index_location(root, settings, indexes_root(settings)))
    return IndexRetriever(
        store, embedder() if embedder else load_embedder(settings, store_for(settings), progress)
    )
