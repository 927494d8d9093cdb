"""Cut a multi-line completion where it starts repeating itself (a small model's loop).

A model that has run out of ideas often writes the same line, or the same block,
again and again with small changes (`if n == 3: return False`, `if n == 4: ...`)
until its token budget ends. Walking back from the end (the last line may be
unfinished, so it is not compared), a line that differs from the line before it
by at most 10% of its length (Levenshtein distance) continues a run; five such
steps cut the run after its first line. Blocks separated by blank lines are
compared the same way, where two steps are enough. After Tabby's
`removeRepetitiveLines` / `removeRepetitiveBlocks`.

`repeats_itself` tells a generation loop that the cut has happened, so it stops
instead of writing the loop on to its budget.
"""

from __future__ import annotations

import re

from rapidfuzz.distance import Levenshtein

from housecoder.postprocess.base import PostContext

LINE_STEPS = 5  # similar consecutive lines (after the first) that make a loop
BLOCK_STEPS = 2  # similar consecutive blocks
SIMILAR = 0.1  # largest edit distance between two units, as a share of the longer one
_BLOCK_BREAK = re.compile(r"(\n[ \t]*\n)")  # kept in the split, so the pieces join back to the text


def _similar(a: str, b: str) -> bool:
    a, b = a.strip(), b.strip()
    return Levenshtein.distance(a, b) <= SIMILAR * max(len(a), len(b))


def _loop_start(units: list[str], steps_needed: int) -> int | None:
    """Index of the first unit of the run of similar units that ends the text (its last unit not
    compared), when the run makes at least `steps_needed` steps; blank units are skipped."""
    index, steps = len(units) - 2, 0
    while index >= 1:
        if not units[index].strip():
            index -= 1
            continue
        previous = index - 1
        while previous >= 0 and not units[previous].strip():
            previous -= 1
        if previous < 0 or not _similar(units[index], units[previous]):
            break
        steps, index = steps + 1, previous
    return index if steps >= steps_needed else None


def _cut(text: str) -> str | None:
    """`text` without its repeating tail, or None when it has none."""
    lines = text.split("\n")
    start = _loop_start(lines, LINE_STEPS)
    if start is not None:
        return "\n".join(lines[: start + 1]).rstrip()
    pieces = _BLOCK_BREAK.split(text)
    start = _loop_start(pieces, BLOCK_STEPS)
    return None if start is None else "".join(pieces[: start + 1]).rstrip()


def drop_repetitive_tail(text: str, context: PostContext) -> str:
    if context.single_line or "\n" not in text:
        return text
    cut = _cut(text)
    return text if cut is None else cut


def repeats_itself(text: str, context: PostContext) -> bool:
    """Whether `drop_repetitive_tail` cuts `text`: the model is looping."""
    return not context.single_line and "\n" in text and _cut(text) is not None
