"""What is never recorded, and never becomes a task: files the index excludes and secret files."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from housecoder.secrets import is_secret


@functools.lru_cache(maxsize=8)
def _spec(patterns: tuple[str, ...]) -> Any:
    from pathspec import GitIgnoreSpec

    return GitIgnoreSpec.from_lines(list(patterns))


def excluded(path: str, text: str, patterns: Sequence[str]) -> bool:
    """True for a workspace path `index.exclude` `patterns` (gitignore syntax) match, or a secret file name or
    `text` holding a secret."""
    if patterns and _spec(tuple(patterns)).match_file(path):
        return True
    return is_secret(path, text)
