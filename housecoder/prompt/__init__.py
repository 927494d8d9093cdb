"""Prompt construction shared by the server and the training job (pure functions only)."""

from housecoder.prompt.budget import trim_prefix, trim_suffix
from housecoder.prompt.fim import FIM, Snippet, build_fim_prompt, split_cursor_line

__all__ = ["FIM", "Snippet", "build_fim_prompt", "split_cursor_line", "trim_prefix", "trim_suffix"]
