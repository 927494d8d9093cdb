"""Atomic store writes: staging, replacement, sweeping, disk-space checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from housecoder.models.atomic import STAGING_PREFIX, atomic_path, ensure_free_space, sweep_staging
from housecoder.models.errors import DiskFull


def test_directory_appears_only_on_success(tmp_path: Path) -> None:
    final = tmp_path / "model"
    with atomic_path(final, directory=True) as staging:
        (staging / "weights").write_text("w")
        assert not final.exists()
    assert (final / "weights").read_text() == "w"


def test_failure_leaves_the_old_version(tmp_path: Path) -> None:
    final = tmp_path / "model"
    final.mkdir()
    (final / "weights").write_text("old")
    with pytest.raises(RuntimeError), atomic_path(final, directory=True) as staging:
        (staging / "weights").write_text("half")
        raise RuntimeError("boom")
    assert (final / "weights").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_success_replaces_the_old_version(tmp_path: Path) -> None:
    final = tmp_path / "m.gguf"
    final.write_text("old")
    with atomic_path(final, directory=False) as staging:
        staging.write_text("new")
    assert final.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["m.gguf"]


def test_sweep_removes_stale_leftovers_but_not_a_pull_in_progress(tmp_path: Path) -> None:
    import os
    import time

    (tmp_path / f"{STAGING_PREFIX}model-1234").mkdir()
    (tmp_path / f"{STAGING_PREFIX}m.gguf-99").write_text("half")
    old = time.time() - 2 * 3600
    for entry in tmp_path.iterdir():
        os.utime(entry, (old, old))
    (tmp_path / f"{STAGING_PREFIX}other-pull-now").mkdir()
    (tmp_path / "kept").mkdir()
    assert sweep_staging(tmp_path) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{STAGING_PREFIX}other-pull-now", "kept"]


def test_disk_full_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DiskFull, match="not enough disk space") as caught:
        ensure_free_space(tmp_path / "not" / "yet", 1 << 62)
    assert "GB free" in str(caught.value)
    ensure_free_space(tmp_path, 1)
