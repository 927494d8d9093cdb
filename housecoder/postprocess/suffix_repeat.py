"""Stop where the model starts writing what already follows the cursor.

Models often finish the middle and then carry on with the suffix. Two cases:
a completion line equal to the first non-blank suffix line ends the
completion before it; and text at the end of the completion that repeats the
start of the rest of the cursor line (`foo(x)` + `)` after the cursor) is cut.
"""

from __future__ import annotations

from housecoder.postprocess.base import PostContext

MIN_REPEAT = 4  # characters: shorter suffix lines (`}`, `)`, `end`) are too common to count as a repeat


def _repeatable_line(context: PostContext) -> str | None:
    """The first non-blank line after the cursor's, stripped, when it is long enough to count as a repeat."""
    following = next((line.strip() for line in context.next_lines if line.strip()), None)
    return following if following and len(following) >= MIN_REPEAT else None


def reached_suffix(text: str, context: PostContext) -> bool:
    """Whether `stop_at_suffix_repeat` already cuts `text` for good: a complete line (a line break follows it)
    after the first repeats the first non-blank line of the suffix (one line: the line's end stops first)."""
    following = None if context.single_line else _repeatable_line(context)
    return following is not None and any(line.strip() == following for line in text.split("\n")[1:-1])


def stop_at_suffix_repeat(text: str, context: PostContext) -> str:
    following = _repeatable_line(context)
    lines = text.split("\n")
    if following:
        for index, line in enumerate(lines[1:], start=1):
            if line.strip() == following:
                lines = lines[:index]
                while lines and not lines[-1].strip():
                    lines.pop()
                break
    text = "\n".join(lines)
    rest_of_line = context.line_after.rstrip()
    if rest_of_line and "\n" not in text:
        for size in range(len(rest_of_line), 0, -1):
            if text.endswith(rest_of_line[:size]) and (size >= MIN_REPEAT or size == len(rest_of_line)):
                return text[: len(text) - size]
    return text
