"""Settings tables for tests written as flat keys: the tuning knobs go into the section's `tuning` table."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from housecoder.config import Settings


def section(name: str, keys: Mapping[str, Any]) -> dict[str, Any]:
    """The `[name]` table of `keys`, its tuning knobs (`[name.tuning]`) split out."""
    knobs = type(getattr(Settings(), name).tuning).model_fields
    tuning = {key: value for key, value in keys.items() if key in knobs}
    return {key: value for key, value in keys.items() if key not in knobs} | {"tuning": tuning}


def tiny_models(model_dir: Path, cache_dir: Path, **models: Any) -> dict[str, Any]:
    """The `[models]` table that runs the tiny random Qwen2 of the `tiny_qwen_dir` fixture: on the CPU, in
    float32, offline, with `cache_dir` as its model store; `models` overrides any of it."""
    return {
        "code_model": str(model_dir),
        "device": "cpu",
        "offline": True,
        "cache_dir": str(cache_dir),
        "tuning": {"dtype": "float32"},
    } | models
