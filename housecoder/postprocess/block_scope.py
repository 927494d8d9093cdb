"""Limit a multi-line completion to the block the cursor is in, by indentation.

The reference indentation is the cursor line's; after a block opener (a line
ending in `:`, `{`, `(`, `[`, `do` or `then`) the body is one level deeper and
the opener's own level is where the block ends. The first completion line
that is not blank and is indented less than the reference ends the
completion; a closing bracket line at the opener's level is kept when the
suffix does not already close the block.
"""

from __future__ import annotations

from housecoder.postprocess.base import PostContext, indent_of

OPENERS = (":", "{", "(", "[", " do", " then", "=>")
CLOSERS = ("}", ")", "]", "end")


def _reference(context: PostContext) -> tuple[int, bool]:
    """(indent a completion line must keep, True when the cursor line opens a block)."""
    before = context.line_before
    if before.strip():
        opener = before.rstrip().endswith(OPENERS)
        return indent_of(before) + (1 if opener else 0), opener
    previous = next((line for line in reversed(context.prefix.split("\n")[:-1]) if line.strip()), "")
    if previous.rstrip().endswith(OPENERS):
        return indent_of(previous) + 1, True
    return indent_of(before) if before else indent_of(previous), False


def limit_to_block(text: str, context: PostContext) -> str:
    if context.single_line or "\n" not in text:
        return text
    minimum, _ = _reference(context)
    lines = text.split("\n")
    # The first line continues the cursor line; its own indentation is not comparable.
    for index, line in enumerate(lines[1:], start=1):
        if not line.strip():
            continue
        if indent_of(line) < minimum:
            closing = line.strip().startswith(CLOSERS)
            already_closed = (context.suffix.strip() or " ")[0] in "})]" or context.suffix.strip().startswith("end")
            keep = index + 1 if closing and not already_closed and indent_of(line) == max(minimum - 1, 0) else index
            lines = lines[:keep]
            break
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines)
