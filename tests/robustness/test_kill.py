"""kill -9 during `housecoder index` (incremental and --full): the previous index still loads and answers
searches, and the next run recovers it. Each trial kills at a different point: at once, and once the run
has written table versions past the committed ones (mid-write)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from housecoder.bench.lsp_peer import TIMEOUT_S
from housecoder.indexer.service import open_for_search
from housecoder.indexer.store import IndexStore

SCRIPT = Path(sys.executable).parent / "housecoder"
FILES = 240  # enough chunks that embedding them takes a while on a loaded machine


def _repo(root: Path, generation: int) -> Path:
    package = root / "pkg"
    package.mkdir(parents=True, exist_ok=True)
    (root / ".git").mkdir(exist_ok=True)
    for number in range(FILES):
        body = "\n".join(f"    total_{k} = value * {k} + offset_{number}" for k in range(12))
        body += f'\n    marker = "generation_{generation}"'
        (package / f"module_{number}.py").write_text(
            f'"""Module {number}."""\n\n\ndef compute_{number}(value, offset_{number}=0):\n{body}\n    return total_0\n'
        )
    return root


def _index(root: Path, cache: Path, location: Path, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "HOUSECODER_CACHE_DIR": str(cache), "HOUSECODER_OFFLINE": "1"}
    (root / ".housecoder.toml").write_text(f'[index]\nlocation = "{location}"\n')
    return subprocess.Popen([str(SCRIPT), "index", str(root), *extra], cwd=root, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip


def _writing(location: Path) -> bool:
    """True once some table is past its committed version: the run is between two commits."""
    try:
        store = IndexStore(str(location), dim=0, embedder="", create=False)
    except Exception:  # not created yet, or a table mid-creation
        return False
    committed = store.meta.get("versions", {})
    return any(table.version != committed.get(name) for name, table in store.tables.items())


def _kill(process: subprocess.Popen[str], location: Path, when: str) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while when == "mid-write" and process.poll() is None and not _writing(location):
        assert time.monotonic() < deadline, "the run never started writing"
        time.sleep(0.02)  # poll without starving the run on 2 cores
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait(TIMEOUT_S)


@pytest.mark.parametrize("full", [False, True], ids=["incremental", "full"])
@pytest.mark.parametrize("when", ["at-once", "mid-write"])
def test_kill_9_during_index_keeps_the_previous_index(tmp_path: Path, model_cache: Path, minilm: object, full: bool, when: str) -> None:
    root, location = _repo(tmp_path / "repo", 0), tmp_path / "index"
    first = _index(root, model_cache, location)
    assert first.wait(TIMEOUT_S * 3) == 0, first.stderr.read() if first.stderr else ""
    before = open_for_search(str(location)).count("chunks")
    assert before > 0

    _repo(root, 1)  # every file changed: the next run rewrites every row
    _kill(_index(root, model_cache, location, *(["--full"] if full else [])), location, when)

    reader = open_for_search(str(location))  # the state the killed run started from
    assert reader.count("chunks") == before and reader.definitions("compute_7")
    assert any("generation_0" in hit.text for hit in reader.bm25("compute_7", 3))

    recovery = _index(root, model_cache, location)
    assert recovery.wait(TIMEOUT_S * 3) == 0, recovery.stderr.read() if recovery.stderr else ""
    after = open_for_search(str(location))
    assert after.definitions("compute_7") and any("generation_1" in hit.text for hit in after.bm25("compute_7", 3))


def _staging(cache: Path) -> bool:
    return any(cache.rglob(".staging-*"))


@pytest.mark.parametrize("when", ["at-once", "mid-write"])
def test_kill_9_during_models_pull_keeps_the_pulled_model(tmp_path: Path, when: str) -> None:
    cache = tmp_path / "store"
    env = {**os.environ, "HOUSECODER_OFFLINE": "1"}

    def pull(*extra: str) -> subprocess.Popen[str]:
        return subprocess.Popen([str(SCRIPT), "--cache-dir", str(cache), "models", "pull", "all-minilm-l6-v2", *extra],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip

    first = pull()
    assert first.wait(TIMEOUT_S * 3) == 0, first.stderr.read() if first.stderr else ""
    again = pull("--force")  # a rebuild of the same model, killed: the pulled copy must survive
    deadline = time.monotonic() + TIMEOUT_S
    while when == "mid-write" and again.poll() is None and not _staging(cache):
        assert time.monotonic() < deadline, "the pull never started writing"
        time.sleep(0.02)
    if again.poll() is None:
        again.send_signal(signal.SIGKILL)
    again.wait(TIMEOUT_S)

    from housecoder.config import load_settings
    from housecoder.indexer.service import load_embedder
    from housecoder.models.store import store_for

    settings = load_settings(None, {"models": {"cache_dir": str(cache), "offline": True}})
    embedder = load_embedder(settings, store_for(settings))  # the previous export loads and embeds
    assert len(embedder.embed(["def total(values): return sum(values)"])[0]) == embedder.dimension
    assert pull().wait(TIMEOUT_S * 3) == 0  # and the store is usable for the next pull
