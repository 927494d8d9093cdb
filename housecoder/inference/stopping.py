"""Stop decisions on generated text, checked after every token (pure).

Single-line: stop once a line break follows some non-blank text (leading
blank lines are kept so a completion can start on the next line). Stop strings:
stop at the first occurrence and cut the text there. A scope check (the
request's `scope_ended`) stops a multi-line generation once post-processing has
cut the text for good (it left the cursor's block, or loops); the text is kept
as it is (post-processing cuts it). A time budget (`out_of_time`) ends a
generation at the first line end written after it is spent, keeping whole lines.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

_ENDED_LINE = re.compile(r"\S[^\n]*\n")  # a line with visible text, and its end


def stop_reason(
    text: str, *, single_line: bool, stop_strings: Sequence[str], scope_ended: Callable[[str], bool] | None = None
) -> str | None:
    """Why generation should stop now, or None to continue."""
    if any(stop and stop in text for stop in stop_strings):
        return "stop_string"
    if single_line and _ENDED_LINE.search(text):
        return "newline"
    if scope_ended is not None and scope_ended(text):
        return "scope"
    return None


def cut(text: str, *, single_line: bool, stop_strings: Sequence[str]) -> str:
    """`text` cut at the first stop string and, for single-line, at the end of its first non-blank line."""
    for stop in stop_strings:
        if stop and stop in text:
            text = text[: text.index(stop)]
    if single_line:
        ended = _ENDED_LINE.search(text)
        if ended:
            text = text[: ended.end() - 1].removesuffix("\r")
    return text


def out_of_time(text: str, piece: str, elapsed_s: float, max_seconds: float | None) -> bool:
    """True once `max_seconds` have passed and the newest `piece` of `text` ended a line with visible text."""
    return max_seconds is not None and elapsed_s > max_seconds and "\n" in piece and bool(_ENDED_LINE.search(text))


def whole_lines(text: str) -> str:
    """`text` up to its last line break (what the newest token began of the next line is dropped)."""
    return text[: text.rfind("\n")] if "\n" in text else text
