"""Settings tables for tests written as flat keys: the tuning knobs go into the section's `tuning` table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from housecoder.config import Settings


def section(name: str, keys: Mapping[str, Any]) -> dict[str, Any]:
    """The `[name]` table of `keys`, its tuning knobs (`[name.tuning]`) split out."""
    knobs = type(getattr(Settings(), name).tuning).model_fields
    tuning = {key: value for key, value in keys.items() if key in knobs}
    return {key: value for key, value in keys.items() if key not in knobs} | {"tuning": tuning}
