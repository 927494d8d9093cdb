"""Drop completions that hold only whitespace."""

from __future__ import annotations

from housecoder.postprocess.base import PostContext


def drop_empty(text: str, context: PostContext) -> str:
    return text if text.strip() else ""
