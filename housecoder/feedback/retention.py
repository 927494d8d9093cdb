"""How much of a suggestion is still where it was put, and what is there now (pure).

A suggestion was shown at a cursor with `before` (the text before it, up to the cursor) and `after` (the text
after it). Later the buffer has changed. The place is found again by its anchors: the end of `before` and the
start of `after`, searched nearest to where the cursor was. What lies between them is what the user has there
now; for an accepted suggestion the share of its characters still there, in order (the longest common
subsequence), is what was retained; for a rejected one it is what the user wrote instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz.distance import LCSseq

ANCHOR_CHARS = 120  # the anchors' length: enough to be unique in a file, short enough to survive nearby edits
MIN_ANCHOR_CHARS = 8
MAX_REGION_CHARS = 4000  # what is there now, at most (a region longer than this is not the same place)


@dataclass(frozen=True)
class Retained:
    """What is at the suggestion's place now: the text, and how many of the suggestion's characters it keeps."""

    now: str
    kept_chars: int
    share: float  # kept_chars / the suggestion's length (1.0 for an empty suggestion)


def _nearest(haystack: str, needle: str, hint: int) -> int:
    """The index of the occurrence of `needle` in `haystack` nearest to `hint` (-1 when there is none)."""
    best, start = -1, 0
    while True:
        found = haystack.find(needle, start)
        if found < 0:
            return best
        if best < 0 or abs(found - hint) < abs(best - hint):
            best = found
        elif found > hint:
            return best
        start = found + 1


def locate(document: str, before: str, after: str, hint: int) -> tuple[int, int] | None:
    """(start, end) in `document` of what now lies between `before`'s end and `after`'s start, searched near
    offset `hint`; None when the anchors are gone (the user rewrote around the place or deleted it). Shorter
    anchors are tried when the long ones were edited."""
    for size in (ANCHOR_CHARS, ANCHOR_CHARS // 3, MIN_ANCHOR_CHARS):
        head, tail = before[-size:], after[:size]
        start = 0
        if head:
            found = _nearest(document, head, hint - len(head))
            if found < 0:
                continue
            start = found + len(head)
        end = document.find(tail, start) if tail else len(document)
        if end >= 0 and end - start <= MAX_REGION_CHARS:
            return start, end
    return None


def retained(suggestion: str, document: str, before: str, after: str, hint: int) -> Retained | None:
    """What is at the place of `suggestion` (inserted, or shown, at offset `hint` between `before` and `after`)
    in `document` now; None when the place cannot be found."""
    found = locate(document, before, after, hint)
    if found is None:
        return None
    now = document[found[0] : found[1]]
    kept = LCSseq.similarity(suggestion, now) if suggestion else 0
    return Retained(now, kept, kept / len(suggestion) if suggestion else 1.0)
