"""`housecoder index` and `housecoder search` from the console script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).parent / "housecoder"


def run(*args: str, cwd: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, HOUSECODER_CACHE_DIR=str(cache / "models"))
    return subprocess.run([str(SCRIPT), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.e2e  # a whole workflow (make test-fast skips it; make test runs it)
def test_index_then_search(repo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    (repo / "web" / "[id]").mkdir()
    (repo / "web" / "[id]" / "page.tsx").write_text(
        "export function renderDynamicPage() {\n  return null;\n}\n"
    )
    first = run("index", str(repo), cwd=tmp_path, cache=cache)
    assert first.returncode == 0, first.stderr
    assert "parsed" in first.stderr and "skipped:" in first.stderr and "secret" in first.stderr
    assert (cache / "indexes").is_dir()
    second = run("index", str(repo), cwd=tmp_path, cache=cache)
    assert "0 parsed" in second.stderr, second.stderr
    found = run(
        "search", "djb2_hash", "--mode", "bm25", "--repo", str(repo), "-k", "2", cwd=tmp_path, cache=cache
    )
    assert found.returncode == 0, found.stderr
    assert found.stdout.splitlines()[0].split()[1] == "native/hash.c:1-12"  # one small file, one chunk
    dynamic = run(
        "search",
        "renderDynamicPage",
        "--mode",
        "bm25",
        "--repo",
        str(repo),
        "-k",
        "1",
        cwd=tmp_path,
        cache=cache,
    )
    # no rich markup in paths
    assert "web/[id]/page.tsx:1-3" in dynamic.stdout, dynamic.stdout + dynamic.stderr
    hybrid = run("search", "read a json settings file", "--repo", str(repo), cwd=tmp_path, cache=cache)
    assert "app/config.py" in hybrid.stdout


def test_errors_are_one_line(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    missing = run("index", str(tmp_path / "nope"), cwd=tmp_path, cache=cache)
    assert (
        missing.returncode == 1 and missing.stderr.strip() == f"error: {tmp_path / 'nope'}: not a directory"
    )
    (tmp_path / "empty").mkdir()
    no_index = run("search", "x", "--repo", str(tmp_path / "empty"), cwd=tmp_path, cache=cache)
    assert no_index.returncode == 1 and "run: housecoder index" in no_index.stderr
    assert len(no_index.stderr.strip().splitlines()) == 1
    bad_mode = run("search", "x", "--mode", "fuzzy", cwd=tmp_path, cache=cache)
    assert bad_mode.returncode == 1 and "use dense, bm25 or hybrid" in bad_mode.stderr
