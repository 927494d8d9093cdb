"""Atomic writes for the store: build under a staging name, then rename into place.

A pull that is interrupted (Ctrl-C, crash, full disk) leaves only a staging
entry whose name starts with `.staging-`; nothing under the final name ever
holds a half-written model. Staging entries are swept before the next write.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from housecoder.models.errors import DiskFull

STAGING_PREFIX = ".staging-"
STALE_SECONDS = 3600  # a staging entry untouched this long belongs to no live pull (a pull takes minutes)


def _staging_name(final: Path) -> Path:
    return final.with_name(f"{STAGING_PREFIX}{final.name}-{uuid.uuid4().hex[:8]}")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def sweep_staging(directory: Path, older_than: float = STALE_SECONDS) -> int:
    """Remove leftovers of interrupted writes in `directory`; returns how many were removed.

    Only entries untouched for `older_than` seconds go: a younger one may be another
    process's pull in progress.
    """
    if not directory.is_dir():
        return 0
    cutoff = time.time() - older_than
    leftovers = [
        entry
        for entry in directory.iterdir()
        if entry.name.startswith(STAGING_PREFIX) and entry.lstat().st_mtime < cutoff
    ]
    for entry in leftovers:
        _remove(entry)
    return len(leftovers)


@contextlib.contextmanager
def atomic_path(final: Path, *, directory: bool) -> Iterator[Path]:
    """Yield a staging path (a fresh directory, or a file path) that becomes `final` on success.

    On any exception the staging entry is removed and `final` is untouched. An
    existing `final` is replaced.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = _staging_name(final)
    if directory:
        staging.mkdir()
    try:
        yield staging
        if final.exists():
            old = _staging_name(final)
            os.replace(final, old)
            os.replace(staging, final)
            _remove(old)
        else:
            os.replace(staging, final)
    except BaseException:
        _remove(staging)
        raise


def ensure_free_space(where: Path, needed: int) -> None:
    """Raise DiskFull unless `where` (or its nearest existing parent) has `needed` bytes free."""
    probe = where
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if free < needed:
        raise DiskFull(str(where), needed, free)
