"""Limit a multi-line completion to the block the cursor is in, by indentation.

The reference indentation is the cursor line's; after a block opener (a line
ending in `:`, `{`, `(`, `[`, `do` or `then`) the body is one level deeper and
the opener's own level is where the block ends. The first completion line
that is not blank and is indented less than the reference ends the
completion; a closing bracket line at the opener's level is kept when the
suffix does not already close the block.

`block_ended` tells a generation loop when that cut is final (the line that
ends the block is complete), so a multi-line generation stops there instead of
writing on to its token budget: the filters give the same text either way.
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


def _block_end(lines: list[str], minimum: int) -> int | None:
    """Index of the first line that leaves the block (not blank, indented less than `minimum`), if any.
    The first line continues the cursor line; its own indentation is not comparable."""
    return next(
        (
            index
            for index, line in enumerate(lines[1:], start=1)
            if line.strip() and indent_of(line) < minimum
        ),
        None,
    )


def block_ended(text: str, context: PostContext) -> bool:
    """Whether `limit_to_block` already cuts `text` for good: the line that leaves the block is complete
    (a line break follows it), so nothing generated after it can reach the editor."""
    if context.single_line or "\n" not in text:
        return False
    lines = text.split("\n")
    end = _block_end(lines, _reference(context)[0])
    return end is not None and end < len(lines) - 1


def limit_to_block(text: str, context: PostContext) -> str:
    if context.single_line or "\n" not in text:
        return text
    minimum, _ = _reference(context)
    lines = text.split("\n")
    index = _block_end(lines, minimum)
    if index is not None:
        line = lines[index]
        closing = line.strip().startswith(CLOSERS)
        already_closed = (context.suffix.strip() or " ")[0] in "})]" or context.suffix.strip().startswith(
            "end"
        )
        keep = (
            index + 1 if closing and not already_closed and indent_of(line) == max(minimum - 1, 0) else index
        )
        lines = lines[:keep]
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines)
