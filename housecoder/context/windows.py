"""Look-alike code: sliding line windows ranked by identifier Jaccard against the query (pure).

The classic sparse retriever of RepoCoder / CrossCodeEval. A window that shares
most of its names with the lines above the cursor is often code written the
same way, and holds the very line the user is about to write. Runs over the
editor's buffers (code the index may not have yet) and over the whole
repository (`WindowIndex`, built once per index version).

A search may show each window moved on by `follow` lines (same size, within its
file): the window is matched against the lines *above* the cursor, so the line
that corresponds to the cursor's comes right after the matched stretch, which
an unmoved window leaves out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from housecoder.context.identifiers import identifier_set
from housecoder.context.snippets import ContextSnippet, clip_lines

# The repository's look-alike windows and the sparse baseline's query: 20 lines, the size RepoCoder and
# CrossCodeEval use (the editor's buffers are matched with `context.window_lines`).
REPOSITORY_WINDOW_LINES = 20


def windows(text: str, size: int) -> list[tuple[int, str]]:
    """(first line, text) of windows of `size` lines every `size // 2` lines (1-based line numbers)."""
    lines = text.split("\n")
    step = max(1, size // 2)
    starts = range(0, max(1, len(lines) - size + step), step)
    return [(start + 1, "\n".join(lines[start : start + size])) for start in starts if start < len(lines)]


class WindowIndex:
    """The windows of a set of files with their identifier sets, and an inverted index over them, so a
    query scores only the windows that share a name with it."""

    def __init__(self, files: Iterable[tuple[str, str, int]], size: int) -> None:
        """`files`: (path, text, line number of the text's first line)."""
        self.size = size
        self._parts: list[tuple[str, int, list[str]]] = []  # (path, first line number, lines)
        self._windows: list[tuple[int, int, frozenset[str]]] = []  # (part, first line's index, names)
        self._postings: dict[str, list[int]] = {}
        for path, text, offset in files:
            part = len(self._parts)
            self._parts.append((path, offset, text.split("\n")))
            for start, body in windows(text, size):
                names = identifier_set(body)
                if not names:
                    continue
                for name in names:
                    self._postings.setdefault(name, []).append(len(self._windows))
                self._windows.append((part, start - 1, names))

    def __len__(self) -> int:
        return len(self._windows)

    def paths(self) -> set[str]:
        return {path for path, *_ in self._parts}

    def search(
        self,
        query: str,
        *,
        exclude_path: str | None,
        k: int,
        max_lines: int,
        min_similarity: float = 0.0,
        source: str = "retrieval",
        label: str = "similar window",
        follow: int = 0,
    ) -> list[ContextSnippet]:
        """The `k` windows outside `exclude_path` most similar to `query` (at least `min_similarity`), best
        first, none overlapping another; each shown `follow` lines further on (as far as its text goes) and
        cut to `max_lines`."""
        wanted = identifier_set(query)
        shared: Counter[int] = Counter()
        for name in wanted:
            shared.update(self._postings.get(name, ()))
        scored: list[ContextSnippet] = []
        for number, common in sorted(shared.items()):  # file order, so ties go to the earlier window
            part, start, names = self._windows[number]
            path, offset, lines = self._parts[part]
            score = common / (len(wanted) + len(names) - common)  # Jaccard: |a ∩ b| / |a ∪ b|
            if path == exclude_path or score < min_similarity or score <= 0:
                continue
            shown = min(start + follow, max(start, len(lines) - self.size))
            text, kept = clip_lines("\n".join(lines[shown : shown + self.size]), max_lines)
            first = offset + shown
            reason = f"{label} {score:.2f}"
            scored.append(ContextSnippet(path, first, first + kept - 1, text, source, reason, score, True))
        return pick_best(scored, k)


def best_windows(
    query: str,
    documents: Sequence[tuple[str, str]],
    *,
    size: int,
    k: int,
    min_similarity: float,
    follow: int = 0,
) -> list[ContextSnippet]:
    """The `k` windows of `documents` ((path, text) pairs) most similar to `query`, at most one per overlap,
    each shown `follow` lines further on."""
    index = WindowIndex(((path, text, 1) for path, text in documents), size)
    return index.search(
        query,
        exclude_path=None,
        k=k,
        max_lines=size,
        min_similarity=min_similarity,
        source="open-document",
        label="open document, similarity",
        follow=follow,
    )


def pick_best(snippets: Sequence[ContextSnippet], k: int) -> list[ContextSnippet]:
    """The `k` highest-scoring snippets, skipping any that overlaps one already picked (ties: the given order)."""
    picked: list[ContextSnippet] = []
    for snippet in sorted(snippets, key=lambda snippet: -snippet.score):
        if len(picked) == k:
            break
        if not any(snippet.overlaps(other) for other in picked):
            picked.append(snippet)
    return picked
