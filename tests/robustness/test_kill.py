"""kill -9 during `housecoder index` (incremental and --full): the previous index still loads and answers
searches, and the next run recovers it. Each trial kills at a different point: at once, and once the run
has written table versions past the committed ones (mid-write)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from lsp_peer import TIMEOUT_S

from housecoder.indexer.service import open_for_search
from housecoder.indexer.store import IndexStore

pytestmark = pytest.mark.e2e  # the real server or CLI in subprocesses (make test-fast skips it)

SCRIPT = Path(sys.executable).parent / "housecoder"
FILES = 240  # enough chunks that embedding them takes a while on a loaded machine


def _repo(root: Path, generation: int, files: int = FILES) -> Path:
    package = root / "pkg"
    package.mkdir(parents=True, exist_ok=True)
    (root / ".git").mkdir(exist_ok=True)
    for number in range(files):
        body = "\n".join(f"    total_{k} = value * {k} + offset_{number}" for k in range(12))
        body += f'\n    marker = "generation_{generation}"'
        (package / f"module_{number}.py").write_text(
            f'"""Module {number}."""\n\n\ndef compute_{number}(value, offset_{number}=0):\n{body}\n    return total_0\n'
        )
    return root


def _index(root: Path, cache: Path, location: Path, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "HOUSECODER_CACHE_DIR": str(cache), "HOUSECODER_OFFLINE": "1"}
    (root / ".housecoder.toml").write_text(f'[index]\nlocation = "{location}"\n')
    return subprocess.Popen(
        [str(SCRIPT), "index", str(root), *extra],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _writing(location: Path) -> bool:
    """True once some table is past its committed version: the run is between two commits."""
    try:
        store = IndexStore(str(location), dim=0, embedder="", create=False)
    except Exception:  # not created yet, or a table mid-creation
        return False
    committed = store.meta.get("versions", {})
    return any(table.version != committed.get(name) for name, table in store.tables.items())


def _kill(process: subprocess.Popen[str], ready: Callable[[], bool], limit_s: float = TIMEOUT_S) -> None:
    """kill -9 `process` once `ready()` holds (or once it has ended: then there is nothing to kill)."""
    deadline = time.monotonic() + limit_s
    while process.poll() is None and not ready():
        assert time.monotonic() < deadline, "the run never reached the point to kill it at"
        time.sleep(0.02)  # poll without starving the run on 2 cores
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait(TIMEOUT_S)


def _at(when: str, writing: Callable[[], bool]) -> Callable[[], bool]:
    return writing if when == "mid-write" else lambda: True


@pytest.mark.parametrize("full", [False, True], ids=["incremental", "full"])
@pytest.mark.parametrize("when", ["at-once", "mid-write"])
def test_kill_9_during_index_keeps_the_previous_index(
    tmp_path: Path, model_cache: Path, minilm: object, full: bool, when: str
) -> None:
    root, location = _repo(tmp_path / "repo", 0), tmp_path / "index"
    first = _index(root, model_cache, location)
    assert first.wait(TIMEOUT_S * 3) == 0, first.stderr.read() if first.stderr else ""
    before = open_for_search(str(location)).count("chunks")
    assert before > 0

    _repo(root, 1)  # every file changed: the next run rewrites every row
    _kill(
        _index(root, model_cache, location, *(["--full"] if full else [])),
        _at(when, lambda: _writing(location)),
    )

    reader = open_for_search(str(location))  # the state the killed run started from
    assert reader.count("chunks") == before and reader.definitions("compute_7")
    assert any("generation_0" in hit.text for hit in reader.bm25("compute_7", 3))

    recovery = _index(root, model_cache, location)
    assert recovery.wait(TIMEOUT_S * 3) == 0, recovery.stderr.read() if recovery.stderr else ""
    after = open_for_search(str(location))
    assert after.definitions("compute_7") and any(
        "generation_1" in hit.text for hit in after.bm25("compute_7", 3)
    )


def _staging(cache: Path) -> bool:
    return any(cache.rglob(".staging-*"))


@pytest.mark.parametrize("when", ["at-once", "mid-write"])
def test_kill_9_during_models_pull_keeps_the_pulled_model(tmp_path: Path, when: str) -> None:
    cache = tmp_path / "store"
    env = {**os.environ, "HOUSECODER_OFFLINE": "1"}

    def pull(*extra: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(SCRIPT), "--cache-dir", str(cache), "models", "pull", "all-minilm-l6-v2", *extra],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    first = pull()
    assert first.wait(TIMEOUT_S * 3) == 0, first.stderr.read() if first.stderr else ""
    again = pull("--force")  # a rebuild of the same model, killed: the pulled copy must survive
    _kill(again, _at(when, lambda: _staging(cache)))

    from housecoder.config import load_settings
    from housecoder.indexer.service import load_embedder
    from housecoder.models.store import store_for

    settings = load_settings(None, {"models": {"cache_dir": str(cache), "offline": True}})
    embedder = load_embedder(settings, store_for(settings))  # the previous export loads and embeds
    assert len(embedder.embed(["def total(values): return sum(values)"])[0]) == embedder.dimension
    assert pull().wait(TIMEOUT_S * 3) == 0  # and the store is usable for the next pull


TRAIN_CONFIG = """[models]\ncode_model = "{model}"\ncache_dir = "{cache}"\noffline = true\ndevice = "cpu"
[models.tuning]\ndtype = "float32"
[index]\nlocation = "{index}"\n[completion]\nmax_new_tokens = 4
[train]\noutput = "{adapters}"
[train.tuning]\neval_samples = 4\nper_file = 6\ngrad_accum = 1\ngenerate_samples = 1\nheld_out_fraction = 0.3\nmixed_precision = "no"
learning_rate = 0.005\ncheckpoint_every = 1\neval_every = 1000\nmax_samples = 8\n"""


@pytest.mark.slow
def test_kill_9_during_train_keeps_the_registered_adapter_and_resumes(
    tmp_path: Path, model_cache: Path, tiny_qwen_dir: Path
) -> None:
    from housecoder.config import load_settings
    from housecoder.models.adapters import base_fingerprint, best_adapter, list_adapters

    repo = _repo(tmp_path / "train-repo", 0, files=12)
    adapters = tmp_path / "adapters"
    config = tmp_path / "train.toml"
    config.write_text(
        TRAIN_CONFIG.format(
            model=tiny_qwen_dir, cache=model_cache, index=tmp_path / "index", adapters=adapters
        )
    )
    env = {**os.environ, "HOUSECODER_OFFLINE": "1"}

    def train(*extra: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(SCRIPT), "train", str(repo), "--config", str(config), "--token-budget", "0", *extra],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    first = train("--steps", "2")
    assert first.wait(TIMEOUT_S * 3) == 0, first.stderr.read() if first.stderr else ""
    settings = load_settings(
        None, {"models": {"cache_dir": str(model_cache)}, "train": {"output": str(adapters)}}
    )
    before = [(info.path, info.created_at) for info in list_adapters(settings, repo)]
    best = best_adapter(settings, repo, base_fingerprint(tiny_qwen_dir))
    assert len(before) == 1

    long = train("--steps", "400")  # killed once its first checkpoint is on disk
    _kill(long, lambda: any(adapters.rglob("checkpoint/*")), TIMEOUT_S * 3)
    assert long.returncode == -signal.SIGKILL, "the run ended before it could be killed"

    assert [
        (info.path, info.created_at) for info in list_adapters(settings, repo)
    ] == before  # nothing half-registered
    after = best_adapter(settings, repo, base_fingerprint(tiny_qwen_dir))
    assert (after.path if after else None) == (best.path if best else None)
    # continues the killed run from its checkpoint and registers it
    resumed = train("--resume", "--steps", "3")
    assert resumed.wait(TIMEOUT_S * 3) == 0, resumed.stderr.read() if resumed.stderr else ""
    assert len(list_adapters(settings, repo)) == 2


@pytest.mark.slow
def test_kill_9_during_background_training_loses_at_most_one_chunk(
    tmp_path: Path, model_cache: Path, tiny_qwen_dir: Path
) -> None:
    """`housecoder train --background` killed at a random optimiser step: its record says it stopped, its lock is
    free, its checkpoint is at most one chunk (`checkpoint_every` steps) behind, and the next start resumes the
    same run to the end."""
    import random

    import torch

    from housecoder.config import load_settings
    from housecoder.models import background
    from housecoder.models.adapters import list_adapters
    from housecoder.training.trainer import CHECKPOINT, STATE_FILE

    chunk = 3
    repo = _repo(tmp_path / "bg-repo", 0, files=12)
    adapters = tmp_path / "adapters"
    config = tmp_path / "train.toml"
    text = TRAIN_CONFIG.format(
        model=tiny_qwen_dir, cache=model_cache, index=tmp_path / "index", adapters=adapters
    )
    config.write_text(
        text.replace("checkpoint_every = 1", f"checkpoint_every = {chunk}").replace(
            "[train.tuning]",
            "idle_seconds = 1\n[train.tuning]",  # other tests' typing holds it back a second at most
        )
    )
    settings = load_settings(
        None, {"models": {"cache_dir": str(model_cache)}, "train": {"output": str(adapters)}}
    )
    record = background.progress_path(settings, repo)

    def train() -> subprocess.Popen[str]:
        return subprocess.Popen(
            [
                str(SCRIPT),
                "train",
                str(repo),
                "--config",
                str(config),
                "--token-budget",
                "0",
                "--steps",
                "400",
                "--background",
            ],
            env={**os.environ, "HOUSECODER_OFFLINE": "1"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def step() -> int:
        found = background.read_progress(record)
        return found.step if found is not None else 0

    target = random.randint(chunk + 1, 6 * chunk)
    run = train()
    _kill(run, lambda: step() >= target, TIMEOUT_S * 3)
    assert run.returncode == -signal.SIGKILL, "the run ended before it could be killed"

    killed = background.read_progress(record)
    assert killed is not None and killed.step >= target
    status = background.background_status(settings, repo)
    assert status is not None and not status["running"]
    assert status["line"] == "stopped while training; the next background run resumes it"
    run_dir = adapters / record.parent.name / killed.run
    saved = torch.load(run_dir / CHECKPOINT / STATE_FILE, map_location="cpu", weights_only=True)
    assert killed.step - saved["state"]["step"] <= chunk, f"killed at step {target}: more than one chunk lost"

    resumed = train()
    assert resumed.wait(TIMEOUT_S * 3) == 0, resumed.stderr.read() if resumed.stderr else ""
    assert [info.path for info in list_adapters(settings, repo)] == [run_dir]
    finished = background.read_progress(record)
    assert finished is not None and finished.phase == background.FINISHED and finished.step == 400
