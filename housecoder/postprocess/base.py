"""The context every post-processing filter reads: the text around the cursor and the request kind."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class PostContext:
    """Prefix and suffix of the document at the cursor (untrimmed), and whether one line was asked for."""

    prefix: str
    suffix: str
    single_line: bool

    @property
    def line_before(self) -> str:
        """Text of the cursor line before the cursor."""
        return self.prefix.rsplit("\n", 1)[-1]

    @property
    def line_after(self) -> str:
        """Text of the cursor line after the cursor."""
        return self.suffix.split("\n", 1)[0]

    @cached_property
    def next_lines(self) -> list[str]:
        """The lines after the cursor line (split once: a generation loop asks after every token)."""
        return self.suffix.split("\n")[1:]


def indent_of(line: str) -> int:
    """Width of the leading whitespace, tabs counted as 4."""
    stripped = line.lstrip(" \t")
    return len(line[: len(line) - len(stripped)].expandtabs(4))
