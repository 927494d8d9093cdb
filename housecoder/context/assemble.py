"""Merge the sources' snippets into the prompt's context: best first, deduplicated, within a token budget (pure).

Sources are interleaved by rank in priority order (the rest of the current
file, definitions, look-alike windows, hybrid search, open documents), so each contributes its best snippets
before any contributes its weaker ones. A snippet that overlaps one already
taken, or whose text is contained in one, is dropped, and so is one past
`per_file` snippets of its file; one that does not fit the remaining budget is skipped and smaller ones
after it may still fit. What budget is left
then (at least `MIN_PARTIAL_TOKENS`) goes to the best skipped definition's first
lines (a long class outline whose head still fits; search hits and windows stay
whole or out, as the classic baselines take them). The result lists
the best snippet first; the prompt builder decides the order it shows them in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from itertools import zip_longest

from housecoder.context.snippets import ContextSnippet, clip_lines

CountTokens = Callable[[str], int]
MIN_PARTIAL_TOKENS = 48  # less left over is not worth a snippet's head
MIN_PARTIAL_LINES = 3


def snippet_cost(snippet: ContextSnippet, count: CountTokens) -> int:
    """Model tokens the snippet takes in the prompt: its path line, its text and the separator."""
    return count(f"{snippet.path}\n{snippet.text}\n") + 1


def _duplicate(snippet: ContextSnippet, taken: Sequence[ContextSnippet]) -> bool:
    body = snippet.text.strip()
    return any(snippet.overlaps(other) or body in other.text for other in taken)


def assemble(
    sources: Sequence[Sequence[ContextSnippet]],
    budget: int,
    count: CountTokens,
    exclude_path: str | None = None,
    *,
    per_file: int = 0,
) -> list[ContextSnippet]:
    """Snippets from `sources` (each best first, in priority order) that fit `budget` tokens; see the module.
    `per_file` 0 takes any number from one file."""
    taken: list[ContextSnippet] = []
    skipped: list[ContextSnippet] = []
    used = 0
    for round_ in zip_longest(*sources):
        for snippet in round_:
            if (
                snippet is None
                or not snippet.text.strip()
                or (snippet.path == exclude_path and snippet.source != "in-file")
            ):
                continue
            if _duplicate(snippet, taken):
                continue
            if per_file and sum(other.path == snippet.path for other in taken) >= per_file:
                continue
            cost = snippet_cost(snippet, count)
            if used + cost > budget:
                if snippet.source == "definition":
                    skipped.append(snippet)
                continue
            taken.append(snippet)
            used += cost
    for snippet in skipped:
        if budget - used < MIN_PARTIAL_TOKENS:
            break
        head = _head_that_fits(snippet, budget - used, count)
        if head is not None and not _duplicate(head, taken):
            taken.append(head)
            used += snippet_cost(head, count)
    return taken


def _head_that_fits(snippet: ContextSnippet, budget: int, count: CountTokens) -> ContextSnippet | None:
    """The snippet cut to its first lines that fit `budget` tokens; None below `MIN_PARTIAL_LINES` lines."""
    lines = snippet.text.rstrip("\n").count("\n") + 1
    while lines >= MIN_PARTIAL_LINES:
        text, kept = clip_lines(snippet.text, lines)
        head = replace(snippet, text=text, end_line=min(snippet.end_line, snippet.start_line + kept - 1))
        if snippet_cost(head, count) <= budget:
            return head
        lines -= max(1, lines // 8)
    return None
