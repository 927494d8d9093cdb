"""Index freshness of a workspace folder and the active adapter's provenance, for `housecoder.status`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from housecoder.config import Settings
from housecoder.errors import first_line

if TYPE_CHECKING:
    from housecoder.completion.loading import AdapterChoice


def adapter_status(choice: AdapterChoice | None) -> dict[str, Any]:
    """Whether the active adapter was picked by itself (from the registry, or the one shipped for the base),
    and what its metadata says (None for a plain peft adapter or none at all)."""
    info = choice.info if choice else None
    meta = (
        None
        if info is None
        else {
            "created": info.created,
            "base_model": info.base_model,
            "repository": info.repository,
            "commit": info.commit,
            "beat_base": info.beat_base,
            "verdict": info.verdict,
            "summary": info.summary(),
            "metrics": info.metrics,
        }
    )
    return {
        "adapter_automatic": bool(choice and choice.automatic),
        "adapter_bundled": bool(choice and choice.bundled),
        "adapter_meta": meta,
    }


def folder_status(root: Path, settings: Settings, *, indexing: bool = False) -> dict[str, Any]:
    """Where the folder's index is, what it holds, when it was last written and how many files changed since."""
    from housecoder.indexer.errors import IndexNotFound
    from housecoder.indexer.service import index_location, indexes_root, open_for_search
    from housecoder.indexer.walker import Candidate, walk
    from housecoder.models.background import background_status

    location = index_location(root, settings, indexes_root(settings))
    status: dict[str, Any] = {
        "root": str(root),
        "index": location,
        "indexing": indexing,
        "training": background_status(settings, root),
    }
    try:
        store = open_for_search(location)
    except IndexNotFound:
        return status | {"indexed": False}
    except Exception as err:
        return status | {"indexed": False, "error": first_line(err)}
    known = store.files()
    current = {
        entry.path: entry
        for entry in walk(root, exclude=settings.index.exclude, max_bytes=settings.index.max_file_bytes)
        if isinstance(entry, Candidate)
    }
    changed = sum(
        1
        for path, entry in current.items()
        if path not in known or (known[path]["size"], known[path]["mtime_ns"]) != (entry.size, entry.mtime_ns)
    )
    deleted = sum(1 for path in known if path not in current)
    return status | {
        "indexed": True,
        "files": sum(1 for row in known.values() if row["status"] == "indexed"),
        "chunks": store.count("chunks"),
        "symbols": store.count("symbols"),
        "last_indexed": store.meta.get("committed_at"),
        "stale_files": changed + deleted,
        "embedder": store.embedder,
    }
