"""Context retrievers the benchmark compares housecoder's own against (implement `housecoder.context.Retriever`).

- `WindowRetriever`: the classic sparse baseline of RepoCoder / CrossCodeEval:
  fixed windows of `size` lines every `size // 2` lines over the repository's
  other files, ranked by identifier Jaccard similarity against the query (the
  last lines before the cursor).
- `ProvidedRetriever`: a benchmark's own retrieved context for one task
  (CrossCodeEval's), in the benchmark's order.

Neither returns anything from the current file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from housecoder.bench.tasks import ProvidedSnippet
from housecoder.config import IndexConfig
from housecoder.context.identifiers import identifier_set
from housecoder.context.snippets import ContextSnippet, clip_lines
from housecoder.context.windows import jaccard, pick_best, windows


class WindowRetriever:
    """Sparse line-window retrieval over one repository (windows built once)."""

    def __init__(self, root: Path, config: IndexConfig, *, size: int = 20) -> None:
        from housecoder.indexer.sources import source_files

        self.size = size
        self.windows: list[tuple[str, int, str, frozenset[str]]] = []
        for file in source_files(root, config):
            for first, body in windows(file.text, size):
                if body.strip():
                    self.windows.append((file.path, first, body, identifier_set(body)))

    def definitions(self, names: Sequence[str], exclude_path: str, max_lines: int) -> list[ContextSnippet]:
        return []

    def search(self, query: str, exclude_path: str, k: int, max_lines: int) -> list[ContextSnippet]:
        wanted = identifier_set(query)
        if not wanted:
            return []
        scored = []
        for path, first, body, ids in self.windows:
            score = jaccard(wanted, ids) if path != exclude_path else 0.0
            if score > 0:
                text, kept = clip_lines(body, max_lines)
                scored.append(ContextSnippet(path, first, first + kept - 1, text, "retrieval", f"jaccard window {score:.2f}", score))
        return pick_best(scored, k)


UNKNOWN_LINES = 1_000_000


class ProvidedRetriever:
    """One task's benchmark-provided snippets, as search results in the given order."""

    def __init__(self, snippets: Sequence[ProvidedSnippet]) -> None:
        self.snippets = snippets

    def definitions(self, names: Sequence[str], exclude_path: str, max_lines: int) -> list[ContextSnippet]:
        return []

    def search(self, query: str, exclude_path: str, k: int, max_lines: int) -> list[ContextSnippet]:
        found = []
        for rank, snippet in enumerate(s for s in self.snippets if s.path != exclude_path):
            if rank == k:
                break
            text, kept = clip_lines(snippet.text, max_lines)
            first = rank * UNKNOWN_LINES + 1  # lines are not given: a range of its own, so only equal text is a duplicate
            found.append(ContextSnippet(snippet.path, first, first + kept - 1, text, "retrieval", f"provided #{rank + 1}", snippet.score))
        return found
