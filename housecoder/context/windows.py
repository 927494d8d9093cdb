"""Snippets from open and recently edited documents: sliding line windows ranked by identifier Jaccard (pure).

The classic sparse retriever of RepoCoder / CrossCodeEval, run over the
editor's buffers, which hold code the index may not have yet.
"""

from __future__ import annotations

from collections.abc import Sequence

from housecoder.context.identifiers import identifier_set
from housecoder.context.snippets import ContextSnippet


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """|a ∩ b| / |a ∪ b|; 0 for two empty sets."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def windows(text: str, size: int) -> list[tuple[int, str]]:
    """(first line, text) of windows of `size` lines every `size // 2` lines (1-based line numbers)."""
    lines = text.split("\n")
    step = max(1, size // 2)
    starts = range(0, max(1, len(lines) - size + step), step)
    return [(start + 1, "\n".join(lines[start : start + size])) for start in starts if start < len(lines)]


def best_windows(
    query: str,
    documents: Sequence[tuple[str, str]],
    *,
    size: int,
    k: int,
    min_similarity: float,
) -> list[ContextSnippet]:
    """The `k` windows of `documents` ((path, text) pairs) most similar to `query`, at most one per overlap."""
    wanted = identifier_set(query)
    if not wanted:
        return []
    scored: list[ContextSnippet] = []
    for path, text in documents:
        for first, body in windows(text, size):
            score = jaccard(wanted, identifier_set(body))
            if score >= min_similarity and body.strip():
                last = first + body.count("\n")
                scored.append(ContextSnippet(path, first, last, body, "open-document", f"open document, similarity {score:.2f}", score))
    return pick_best(scored, k)


def pick_best(snippets: Sequence[ContextSnippet], k: int) -> list[ContextSnippet]:
    """The `k` highest-scoring snippets, skipping any that overlaps one already picked."""
    picked: list[ContextSnippet] = []
    for snippet in sorted(snippets, key=lambda snippet: -snippet.score):
        if len(picked) == k:
            break
        if not any(snippet.overlaps(other) for other in picked):
            picked.append(snippet)
    return picked
