"""Stop decisions on generated text, checked after every token (pure).

Single-line: stop once a line break follows some non-blank text (a leading
line break is kept so a completion can start on the next line). Stop strings:
stop at the first occurrence and cut the text there.
"""

from __future__ import annotations

from collections.abc import Sequence


def stop_reason(text: str, *, single_line: bool, stop_strings: Sequence[str]) -> str | None:
    """Why generation should stop now, or None to continue."""
    if any(stop and stop in text for stop in stop_strings):
        return "stop_string"
    if single_line and "\n" in text.lstrip("\n") and text.strip():
        return "newline"
    return None


def cut(text: str, *, single_line: bool, stop_strings: Sequence[str]) -> str:
    """`text` cut at the first stop string and, for single-line, at the end of its first non-blank line."""
    for stop in stop_strings:
        if stop and stop in text:
            text = text[: text.index(stop)]
    if single_line:
        leading = len(text) - len(text.lstrip("\n"))
        rest = text[leading:]
        if "\n" in rest:
            rest = rest[: rest.index("\n")]
        text = text[:leading] + rest
    return text
