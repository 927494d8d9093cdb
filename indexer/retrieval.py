"""The index as a context source for completions: definitions by name, hybrid search and look-alike windows.

Implements `housecoder.context.Retriever` over an `IndexStore` and the
embedder. Reads only the index (never the disk), and never returns the
current file's chunks: they are already in the prompt, and in a benchmark
they would leak the answer.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Any

from housecoder.context.outline import outline
from housecoder.context.snippets import ContextSnippet, clip_lines
from housecoder.context.windows import REPOSITORY_WINDOW_LINES, WindowIndex
from housecoder.indexer.indexer import Embedder
from housecoder.indexer.store import IndexStore

# a name defined more often (get, run, __init__) says little about which one is meant
MAX_DEFINITIONS_PER_NAME = 3
OUTLINE_OVER_LINES = 12  # a longer definition is shown as its outline (signature, docstring head, members)


class IndexRetriever:
    """Definitions and hybrid search over one repository's index."""

    def __init__(self, store: IndexStore, embedder: Embedder) -> None:
        self.store = store
        self.embedder = embedder
        self._windows: WindowIndex | None = None
        self._windows_lock = threading.Lock()

    def definitions(self, names: Sequence[str], exclude_path: str, max_lines: int) -> list[ContextSnippet]:
        rows = self.store.definitions_of(names, exclude_path)
        by_name: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            by_name.setdefault(row["name"], []).append(row)
        wanted = [
            row
            for name in names
            for row in by_name.get(name, [])
            if len(by_name[name]) <= MAX_DEFINITIONS_PER_NAME
        ]
        chunks = self.store.chunks_in(row["path"] for row in wanted)
        snippets: list[ContextSnippet] = []
        for row in wanted:
            text = _definition_text(row, chunks)
            if text is None:
                continue
            short = outline(text, row["kind"], OUTLINE_OVER_LINES)
            body, kept = clip_lines(short, max_lines)
            outlined = short != text  # an outline stands for the whole definition
            end = row["end_line"] if outlined else row["start_line"] + kept - 1
            snippets.append(
                ContextSnippet(
                    row["path"],
                    row["start_line"],
                    end,
                    body,
                    "definition",
                    f"definition of {row['name']} ({'outline' if outlined else row['kind']})",
                    1.0,
                )
            )
        return snippets

    def search(self, query: str, exclude_path: str, k: int, max_lines: int) -> list[ContextSnippet]:
        vector = self.embedder.embed([query])[0]
        hits = self.store.hybrid(query, vector, k, exclude_paths=[exclude_path])
        snippets: list[ContextSnippet] = []
        for rank, hit in enumerate(hits, start=1):
            body, kept = clip_lines(hit.text, max_lines)
            label = f"{hit.kind} {hit.symbol}".strip()
            snippets.append(
                ContextSnippet(
                    hit.path,
                    hit.start_line,
                    hit.start_line + kept - 1,
                    body,
                    "retrieval",
                    f"hybrid search #{rank}: {label}",
                    hit.score,
                )
            )
        return snippets

    def similar(
        self, query: str, exclude_path: str, k: int, max_lines: int, follow: int = 0
    ) -> list[ContextSnippet]:
        return self.windows().search(
            query, exclude_path=exclude_path, k=k, max_lines=max_lines, follow=follow
        )

    def windows(self) -> WindowIndex:
        """The repository's windows, built from the index's chunks on first use (a second or two for a
        100,000-line repository); the server opens a new retriever after each index update."""
        with self._windows_lock:
            if self._windows is None:
                self._windows = WindowIndex(file_texts(self.store.chunk_texts()), REPOSITORY_WINDOW_LINES)
            return self._windows


def file_texts(chunks: Iterable[dict[str, Any]]) -> list[tuple[str, str, int]]:
    """(path, text, 1) of each indexed file put back together from its chunks (`WindowIndex`'s input); lines no
    chunk holds are blank, so line numbers stay those of the file."""
    lines: dict[str, dict[int, str]] = {}
    for chunk in chunks:
        _hold_lines(chunk, lines.setdefault(chunk["path"], {}))
    return [
        (path, "\n".join(held.get(n, "") for n in range(1, max(held) + 1)), 1)
        for path, held in sorted(lines.items())
        if held
    ]


def _definition_text(symbol: dict[str, Any], chunks: list[dict[str, Any]]) -> str | None:
    """The definition's lines, put together from the chunks of its file (a large class is split over
    several member chunks); None when no chunk holds its first line."""
    lines: dict[int, str] = {}
    for chunk in chunks:
        if (
            chunk["path"] != symbol["path"]
            or chunk["end_line"] < symbol["start_line"]
            or chunk["start_line"] > symbol["end_line"]
        ):
            continue
        _hold_lines(chunk, lines)
    if symbol["start_line"] not in lines:
        return None
    end = symbol["start_line"]
    while end + 1 <= symbol["end_line"] and end + 1 in lines:  # up to the first line no chunk holds
        end += 1
    return "\n".join(lines[number] for number in range(symbol["start_line"], end + 1))


def _hold_lines(chunk: dict[str, Any], lines: dict[int, str]) -> None:
    """Add the chunk's lines to `lines` by line number (a line another chunk already gave is kept)."""
    for number, line in enumerate(chunk["text"].split("\n"), start=chunk["start_line"]):
        lines.setdefault(number, line)
