"""What the real-editor tests share: whether this is CI, the default model's store, what the server
recorded of the suggestions (`housecoder stats --json`), and the Neovim drivers' spec and environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from context_budgets import ROOMY

IN_CI = os.environ.get("CI") == "true"
NEOVIM_SNIPPET_DIR = Path(__file__).resolve().parents[2] / "editor-client" / "neovim"
# Real-model tests check the model's answer, not the machine's speed: a CPU four times slower than the build
# machines (AVX2 only, ~40 prefill tokens/s against ~154) spends the 3 s decoding budget in the prefill, can
# near the 15 s request timeout with a file's first prompt, and can leave a context source (the first LanceDB
# query of a fresh index) out of the prompt past its time budget. The keep gate is off: a test's cursor must
# get its suggestion whatever its keep-probability (the gate has its own tests).
NO_TIME_LIMITS: dict[str, dict[str, Any]] = {
    "completion": {"max_ms": 0, "min_keep": 0.0},
    "server": {"request_timeout_ms": 0},
    "context": ROOMY,
}


def default_model_store() -> Path:
    """The model store that holds the default code model; outside CI a test skips when it is not pulled."""
    from housecoder.config import Settings
    from housecoder.models.errors import ModelError
    from housecoder.models.store import store_for

    store = store_for(Settings())
    try:
        store.resolve("qwen2.5-coder-1.5b-instruct", "code", pull=False)
    except ModelError as err:
        if IN_CI:
            raise
        pytest.skip(f"default model not pulled: {err}")
    return store.root


def feedback_stats(workspace: Path, cache_dir: str) -> dict[str, Any]:
    """`housecoder stats --json` on the workspace: what the server recorded of the suggestions and accepts."""
    proc = subprocess.run(
        [sys.executable, "-m", "housecoder", "--cache-dir", cache_dir, "stats", "--json", str(workspace)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    figures: dict[str, Any] = json.loads(proc.stdout)
    return figures


def neovim_spec(workdir: Path, repo: Path, settings: dict[str, Any], **extra: Any) -> dict[str, str]:
    """Write the Neovim driver's `spec.json` in `workdir` (the housecoder server, logging to
    `workdir/server.log`, with `settings`, on `repo`/shop/checkout.py, and `extra`); returns the environment
    that points Neovim at it, with Neovim's own state and logs under `workdir/nvim-home`."""
    spec = {
        "snippet_dir": str(NEOVIM_SNIPPET_DIR),
        "cmd": [sys.executable, "-m", "housecoder", "-v", "serve", "--log-file", str(workdir / "server.log")],
        "settings": settings,
        "file": str(repo / "shop" / "checkout.py"),
        **extra,
    }
    (workdir / "spec.json").write_text(json.dumps(spec))
    home = workdir / "nvim-home"
    env = os.environ | {"HOUSECODER_NVIM_SPEC": str(workdir / "spec.json"), "LANCEDB_LOG": "error"}
    return env | {
        f"XDG_{kind}_HOME": str(home / kind.lower()) for kind in ("CONFIG", "DATA", "STATE", "CACHE")
    }
