"""Merge the sources' snippets into the prompt's context: best first, deduplicated, within a token budget (pure).

Sources are interleaved by rank in priority order (definitions, then
retrieval, then open documents), so each contributes its best snippets before
any contributes its weaker ones. A snippet that overlaps one already taken, or
whose text is contained in one, is dropped; one that does not fit the remaining
budget is skipped and smaller ones after it may still fit. The result lists
the best snippet first; the prompt builder decides the order it shows them in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import zip_longest

from housecoder.context.snippets import ContextSnippet

CountTokens = Callable[[str], int]


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
) -> list[ContextSnippet]:
    """Snippets from `sources` (each best first, in priority order) that fit `budget` tokens."""
    taken: list[ContextSnippet] = []
    used = 0
    for round_ in zip_longest(*sources):
        for snippet in round_:
            if snippet is None or snippet.path == exclude_path or not snippet.text.strip():
                continue
            if _duplicate(snippet, taken):
                continue
            cost = snippet_cost(snippet, count)
            if used + cost > budget:
                continue
            taken.append(snippet)
            used += cost
    return taken
