"""Build and refresh a repository's index: walk, parse, embed, store; incremental by content hash.

A run compares every file with the `files` table: same size and mtime means
unchanged without reading it; otherwise the content hash decides. Only new
and changed files are parsed and embedded; rows of deleted and newly skipped
files are removed. The new state becomes visible to readers only when the run
commits (see `store.py`), so an interrupted run leaves the previous index
readable.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from housecoder.config import IndexConfig
from housecoder.indexer.chunker import Chunk, ChunkLimits
from housecoder.indexer.content import content_rule
from housecoder.indexer.errors import IndexerError, NotADirectory
from housecoder.indexer.parsing import ParsedFile, parse_file
from housecoder.indexer.store import IndexStore, split_identifiers
from housecoder.indexer.walker import Candidate, Skipped, walk, walk_paths
from housecoder.models.progress import SILENT, Progress

log = logging.getLogger(__name__)


class Embedder(Protocol):
    dimension: int

    def embed(self, texts: Sequence[str]) -> Any:
        """Unit vectors, one row per text."""
        ...


@dataclass
class Summary:
    """What a run did; `skipped` counts files by reason."""

    files_seen: int = 0
    indexed: int = 0  # parsed and embedded in this run (new or changed)
    unchanged: int = 0
    deleted: int = 0
    fell_back: int = 0  # a grammar existed but the parse was unusable: line windows
    skipped: Counter[str] = field(default_factory=Counter)
    chunks_added: int = 0
    chunks_total: int = 0
    symbols_total: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0
    rolled_back: bool = False


@dataclass
class _Batch:
    """What one run writes: parsed files, files-table rows, and which paths change how."""

    parsed: list[ParsedFile] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # content changed or gone: all their rows are replaced
    restat: list[str] = field(default_factory=list)  # same bytes, new size/mtime: only the files row changes


def embedding_text(chunk: Chunk) -> str:
    """What the embedder sees: the path and symbol give context the code alone may lack."""
    header = f"{chunk.path} {chunk.symbol}".strip()
    return f"{header}\n{chunk.text}"


def file_hash(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def _chunk_row(chunk: Chunk, vector: Any) -> dict[str, Any]:
    return {
        "id": chunk.hash,
        "path": chunk.path,
        "language": chunk.language,
        "kind": chunk.kind,
        "symbol": chunk.symbol,
        "start_line": chunk.start_line,
        "end_line": chunk.end_line,
        "start_byte": chunk.start_byte,
        "end_byte": chunk.end_byte,
        "text": chunk.text,
        "search_text": f"{chunk.path} {chunk.symbol} {chunk.text} {split_identifiers(chunk.text + ' ' + chunk.symbol)}",
        "vector": vector,
    }


class Indexer:
    """Indexes the repository at `root` into `store` with `embedder`."""

    def __init__(self, root: Path, config: IndexConfig, store: IndexStore, embedder: Embedder) -> None:
        if not root.is_dir():
            raise NotADirectory(str(root))
        self.root = root.resolve()
        self.config = config
        self.store = store
        self.embedder = embedder
        self.limits = ChunkLimits(
            config.tuning.target_lines,
            config.tuning.max_lines,
            config.tuning.split_lines,
            config.tuning.split_overlap,
        )

    # -- one file ----------------------------------------------------------------------

    def _examine(
        self, candidate: Candidate, known: dict[str, Any] | None
    ) -> tuple[str, ParsedFile | None, dict[str, Any]]:
        """('unchanged' | 'indexed' | skip reason, parsed file or None, files-table row)."""
        row = {"path": candidate.path, "size": candidate.size, "mtime_ns": candidate.mtime_ns}
        if (
            known
            and known["status"] != "unreadable"  # retried each run: permissions may have been fixed
            and known["size"] == candidate.size
            and known["mtime_ns"] == candidate.mtime_ns
        ):
            return "unchanged", None, known
        try:
            data = candidate.absolute.read_bytes()
        except OSError as err:
            log.debug("skip %s: unreadable (%s)", candidate.path, err)
            return "unreadable", None, row | {"hash": "", "status": "unreadable", "chunks": 0, "symbols": 0}
        digest = file_hash(data)
        if known and known["hash"] == digest:
            return "unchanged", None, known | row  # touched, same bytes: only the stat changed
        reason = content_rule(data, max_line_chars=self.config.tuning.max_line_chars)
        if reason is not None:
            log.debug("skip %s: %s", candidate.path, reason)
            return reason, None, row | {"hash": digest, "status": reason, "chunks": 0, "symbols": 0}
        parsed = parse_file(candidate.path, data, self.limits)
        status = "indexed"
        return (
            status,
            parsed,
            row
            | {
                "hash": digest,
                "status": status,
                "chunks": len(parsed.chunks),
                "symbols": len(parsed.symbols),
            },
        )

    # -- runs ----------------------------------------------------------------------------

    def run(self, progress: Progress = SILENT) -> Summary:
        """Bring the index up to date with the working tree (a full rebuild when the store asks for one)."""
        with self.store.write_lock():
            rolled_back = self.store.rollback_uncommitted()
            if self.store.clear_on_write:
                self.store.clear()
                self.store.clear_on_write = False
            return self._run(progress, rolled_back)

    def _run(self, progress: Progress, rolled_back: bool) -> Summary:
        started = time.perf_counter()
        summary = Summary(rolled_back=rolled_back)
        known = self.store.files()
        seen: set[str] = set()
        batch = _Batch()
        with progress.task(f"scanning {self.root.name}") as advance:
            for entry in walk(self.root, exclude=self.config.exclude, max_bytes=self.config.max_file_bytes):
                summary.files_seen += 1
                advance(1)
                if isinstance(entry, Skipped):
                    log.debug("skip %s: %s", entry.path, entry.reason)
                    summary.skipped[entry.reason] += 1
                    continue
                seen.add(entry.path)
                self._collect(entry, known.get(entry.path), summary, batch)
        deleted = sorted(set(known) - seen)
        summary.deleted = sum(1 for path in deleted if known[path]["status"] == "indexed")
        batch.changed += deleted
        self._write(batch, summary, progress)
        summary.seconds = time.perf_counter() - started
        return summary

    def update(self, paths: Iterable[Path | str], progress: Progress = SILENT) -> Summary:
        """Refresh just `paths` (e.g. a file the editor saved); deleted or now-ignored ones are removed."""
        with self.store.write_lock():
            return self._update(paths, progress)

    def _update(self, paths: Iterable[Path | str], progress: Progress) -> Summary:
        started = time.perf_counter()
        summary = Summary(rolled_back=self.store.rollback_uncommitted())
        known = self.store.files()
        batch = _Batch()
        wanted = {self._relative(path) for path in paths}
        for entry in walk_paths(
            self.root, sorted(wanted), exclude=self.config.exclude, max_bytes=self.config.max_file_bytes
        ):
            summary.files_seen += 1
            if isinstance(entry, Skipped):
                summary.skipped[entry.reason] += 1
                if entry.path in known:
                    batch.changed.append(entry.path)
                continue
            wanted.discard(entry.path)
            self._collect(entry, known.get(entry.path), summary, batch)
        gone = sorted(path for path in wanted if path in known and not (self.root / path).is_file())
        summary.deleted = len(gone)
        batch.changed += gone
        self._write(batch, summary, progress)
        summary.seconds = time.perf_counter() - started
        return summary

    def _relative(self, path: Path | str) -> str:
        absolute = (self.root / path).resolve() if not Path(path).is_absolute() else Path(path).resolve()
        try:
            return absolute.relative_to(self.root).as_posix()
        except ValueError as err:
            raise IndexerError(f"{path}: outside the repository {self.root}") from err

    def _collect(
        self, entry: Candidate, known: dict[str, Any] | None, summary: Summary, batch: _Batch
    ) -> None:
        status, result, row = self._examine(entry, known)
        if status == "unchanged":
            summary.unchanged += 1
            if row is not known:
                batch.rows.append(row)
                batch.restat.append(entry.path)
            return
        batch.changed.append(entry.path)
        batch.rows.append(row)
        if result is None:
            summary.skipped[status] += 1
            return
        summary.indexed += 1
        summary.fell_back += int(result.fell_back)
        batch.parsed.append(result)

    def _write(self, batch: _Batch, summary: Summary, progress: Progress) -> None:
        chunks = [chunk for result in batch.parsed for chunk in result.chunks]
        vectors = self._embed(chunks, summary, progress)
        store = self.store
        if batch.changed or batch.restat:
            store.delete_paths(sorted(set(batch.changed)))
            store.delete_paths(sorted(set(batch.restat)), tables=("files",))
            store.add("chunks", [_chunk_row(chunk, vectors[i]) for i, chunk in enumerate(chunks)])
            store.add("symbols", [symbol.__dict__ for result in batch.parsed for symbol in result.symbols])
            store.add("files", batch.rows)
            if chunks or summary.deleted:
                store.rebuild_text_index()
            store.commit(committed_at=time.time())
        summary.chunks_added = len(chunks)
        summary.chunks_total = store.count("chunks")
        summary.symbols_total = store.count("symbols")

    def _embed(self, chunks: list[Chunk], summary: Summary, progress: Progress) -> Any:
        import numpy as np

        started = time.perf_counter()
        vectors = np.zeros((len(chunks), self.embedder.dimension), dtype=np.float32)
        batch = 1024  # texts per embedder call: it sorts them by length so batches pad little
        with progress.task("embedding", len(chunks) or None, unit="chunks") as advance:
            for start in range(0, len(chunks), batch):
                part = chunks[start : start + batch]
                vectors[start : start + len(part)] = self.embedder.embed(
                    [embedding_text(chunk) for chunk in part]
                )
                advance(len(part))
        summary.embed_seconds = time.perf_counter() - started
        return vectors
