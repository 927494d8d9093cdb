"""Where housecoder keeps per-user data beside the model store, and how a repository is keyed there.

Shared by the indexer (`<cache>/indexes/<key>`) and the adapter registry
(`<cache>/adapters/<key>`), so that one repository has the same key in both.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from housecoder.config import Settings


def cache_base(settings: Settings) -> Path:
    """The parent of the model store: `models.cache_dir`'s parent, else the user cache directory."""
    from platformdirs import user_cache_path

    return settings.models.cache_dir.parent if settings.models.cache_dir else user_cache_path("housecoder")


def repo_key(root: Path) -> str:
    """`<repo name>-<first 12 hex digits of the sha256 of its absolute path>`."""
    resolved = root.resolve()
    return f"{resolved.name}-{hashlib.sha256(str(resolved).encode()).hexdigest()[:12]}"
