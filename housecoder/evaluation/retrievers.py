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

from housecoder.config import IndexConfig
from housecoder.context.snippets import ContextSnippet, clip_lines
from housecoder.context.windows import WindowIndex
from housecoder.evaluation.tasks import ProvidedSnippet


class WindowRetriever:
    """Sparse line-window retrieval over one repository (windows built once), as the search results."""

    def __init__(self, root: Path, config: IndexConfig, *, size: int = 20) -> None:
        from housecoder.indexer.sources import source_files

        self.index = WindowIndex(((file.path, file.text, 1) for file in source_files(root, config)), size)

    def definitions(self, names: Sequence[str], exclude_path: str, max_lines: int) -> list[ContextSnippet]:
        return []

    def search(self, query: str, exclude_path: str, k: int, max_lines: int) -> list[ContextSnippet]:
        return self.index.search(
            query, exclude_path=exclude_path, k=k, max_lines=max_lines, label="jaccard window"
        )

    def similar(
        self, query: str, exclude_path: str, k: int, max_lines: int, follow: int = 0
    ) -> list[ContextSnippet]:
        return []


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
            # lines are not given: a range of its own, so only equal text is a duplicate
            first = rank * UNKNOWN_LINES + 1
            found.append(
                ContextSnippet(
                    snippet.path,
                    first,
                    first + kept - 1,
                    text,
                    "retrieval",
                    f"provided #{rank + 1}",
                    snippet.score,
                )
            )
        return found

    def similar(
        self, query: str, exclude_path: str, k: int, max_lines: int, follow: int = 0
    ) -> list[ContextSnippet]:
        return []
