"""What the real-editor tests share: whether this is CI, the default model's store, and what the server
recorded of the suggestions (`housecoder stats --json`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

IN_CI = os.environ.get("CI") == "true"


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
