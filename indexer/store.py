"""The LanceDB index of one repository: chunks (with vectors and a full-text index), symbols, files.

Consistency: every successful run ends by writing the version of each table
into the `meta` table. Readers check those versions out, so a run that was
interrupted half-way leaves the previous index readable; the next run first
restores the tables to those versions. A full rebuild empties the tables as
one more uncommitted version, so until it commits, readers (and a rollback)
still see the previous index. One run writes at a time (`write_lock`).

Search: dense (cosine over the embedder's unit vectors), BM25 (LanceDB
full-text index over the chunk text plus its identifiers split into words)
and hybrid (both, fused by reciprocal rank), one call each.
"""

from __future__ import annotations

import contextlib
import json
import re
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from housecoder.indexer.errors import IncompatibleIndex, IndexBusy, IndexNotFound

FORMAT = 1  # bump when the schema or the meaning of a column changes
TABLES = ("chunks", "symbols", "files")
Mode = Literal["dense", "bm25", "hybrid"]
RRF_K = 60  # reciprocal-rank-fusion constant, as in the original paper and LanceDB's default
_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")


def split_identifiers(text: str) -> str:
    """`loadConfig parse_args` -> 'load config parse args': lets BM25 match parts of identifiers."""
    words: list[str] = []
    for identifier in set(_IDENTIFIER.findall(text)):
        parts = _WORDS.findall(identifier)
        if len(parts) > 1:
            words.extend(part.lower() for part in parts)
    return " ".join(words)


@dataclass(frozen=True)
class Hit:
    """One search result; `score` is higher-is-better within one mode."""

    path: str
    start_line: int
    end_line: int
    symbol: str
    kind: str
    language: str
    text: str
    score: float


def _schemas(dim: int) -> dict[str, Any]:
    import pyarrow as pa

    return {
        "chunks": pa.schema(
            [
                ("id", pa.string()),
                ("path", pa.string()),
                ("language", pa.string()),
                ("kind", pa.string()),
                ("symbol", pa.string()),
                ("start_line", pa.int32()),
                ("end_line", pa.int32()),
                ("start_byte", pa.int64()),
                ("end_byte", pa.int64()),
                ("text", pa.string()),
                ("search_text", pa.string()),
                ("vector", pa.list_(pa.float32(), dim)),
            ]
        ),
        "symbols": pa.schema(
            [
                ("name", pa.string()),
                ("kind", pa.string()),
                ("role", pa.string()),
                ("path", pa.string()),
                ("language", pa.string()),
                ("start_line", pa.int32()),
                ("end_line", pa.int32()),
                ("start_byte", pa.int64()),
                ("end_byte", pa.int64()),
                ("scope", pa.string()),
            ]
        ),
        "files": pa.schema(
            [
                ("path", pa.string()),
                ("size", pa.int64()),
                ("mtime_ns", pa.int64()),
                ("hash", pa.string()),
                ("status", pa.string()),
                ("chunks", pa.int32()),
                ("symbols", pa.int32()),
            ]
        ),
        "meta": pa.schema([("key", pa.string()), ("value", pa.string())]),
    }


def _table_names(db: Any) -> set[str]:
    return set(db.list_tables().tables)


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def path_filter(paths: Iterable[str]) -> str:
    return "path IN (" + ", ".join(_quote(path) for path in paths) + ")"


class IndexStore:
    """Open (or create) the index at `location`, a directory or a LanceDB URI."""

    def __init__(self, location: str, *, dim: int, embedder: str, create: bool = True) -> None:
        try:
            import lancedb
        except ImportError as err:
            from housecoder.errors import MissingDependency

            raise MissingDependency("lancedb", "index") from err

        self.location = location
        self.clear_on_write = False  # a full rebuild: `Indexer` empties the tables once it holds the lock
        self.db = lancedb.connect(location)
        if "meta" not in _table_names(self.db):
            if not create:
                raise IndexNotFound(location)
            self._create(dim, embedder)
        self.meta = self._read_meta()
        if self.meta.get("format") != FORMAT:
            raise IncompatibleIndex(location, self.meta.get("format"), FORMAT)
        self.dim = int(self.meta["dim"])
        self.embedder = str(self.meta["embedder"])
        self.tables = {name: self.db.open_table(name) for name in TABLES}
        if not self.meta.get("versions"):
            self.commit()  # a new index: the empty tables are the state an interrupted first run rolls back to

    # -- lifecycle ---------------------------------------------------------------------

    def _create(self, dim: int, embedder: str) -> None:
        schemas = _schemas(dim)
        for name in TABLES:
            self.db.create_table(name, schema=schemas[name], mode="create")
        self._write_meta({"format": FORMAT, "dim": dim, "embedder": embedder, "versions": {}})

    @classmethod
    def recreate(cls, location: str, *, dim: int, embedder: str) -> IndexStore:
        """Drop whatever is at `location` and start an empty index."""
        import lancedb

        db = lancedb.connect(location)
        existing = _table_names(db)
        for name in [*TABLES, "meta"]:
            if name in existing:
                db.drop_table(name)
        return cls(location, dim=dim, embedder=embedder)

    def _read_meta(self) -> dict[str, Any]:
        rows = self.db.open_table("meta").to_arrow().to_pylist()
        return {row["key"]: json.loads(row["value"]) for row in rows}

    def _write_meta(self, meta: dict[str, Any]) -> None:
        rows = [{"key": key, "value": json.dumps(value)} for key, value in meta.items()]
        mode = "overwrite" if "meta" in _table_names(self.db) else "create"
        self.db.create_table("meta", data=rows, schema=_schemas(1)["meta"], mode=mode)

    @contextlib.contextmanager
    def write_lock(self) -> Iterator[None]:
        """Held for a whole indexing run: a second writer fails at once with IndexBusy (a lock file beside
        the tables, released by the OS if the process dies; remote locations are not locked)."""
        if "://" in self.location:
            yield
            return
        from filelock import FileLock, Timeout

        lock = FileLock(str(Path(self.location) / ".write.lock"), timeout=0)
        try:
            lock.acquire()
        except Timeout as err:
            raise IndexBusy(self.location) from err
        try:
            yield
        finally:
            lock.release()

    def clear(self) -> None:
        """Delete every row, uncommitted: readers keep the committed index until the next `commit`."""
        for table in self.tables.values():
            table.delete("true")

    def rollback_uncommitted(self) -> bool:
        """Restore tables an interrupted run left ahead of the committed versions; True if any was."""
        versions = self.meta.get("versions", {})
        restored = False
        for name, table in self.tables.items():
            committed = versions.get(name)
            if committed is not None and table.version != committed:
                table.restore(committed)
                restored = True
        return restored

    def commit(self, **extra: Any) -> None:
        """Record the current table versions as the readable state of the index."""
        self.meta = (
            self.meta | extra | {"versions": {name: table.version for name, table in self.tables.items()}}
        )
        self._write_meta(self.meta)

    def pin_committed(self) -> None:
        """For readers: look at the committed versions only, never at a run in progress."""
        for name, table in self.tables.items():
            version = self.meta.get("versions", {}).get(name)
            if version is not None and version != table.version:
                table.checkout(version)

    # -- writes --------------------------------------------------------------------------

    def delete_paths(self, paths: Sequence[str], tables: Sequence[str] = TABLES, batch: int = 500) -> None:
        for start in range(0, len(paths), batch):
            where = path_filter(paths[start : start + batch])
            for name in tables:
                self.tables[name].delete(where)

    def add(self, name: str, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.tables[name].add(rows)

    def rebuild_text_index(self) -> None:
        from lancedb.index import FTS

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.tables["chunks"].create_index(
                "search_text", config=FTS(stem=False, remove_stop_words=False, lower_case=True), replace=True
            )

    # -- reads ---------------------------------------------------------------------------

    def files(self) -> dict[str, dict[str, Any]]:
        return {row["path"]: row for row in self.tables["files"].to_arrow().to_pylist()}

    def count(self, name: str) -> int:
        return int(self.tables[name].count_rows())

    def _hits(self, rows: list[dict[str, Any]], score: str, transform: Any = float) -> list[Hit]:
        return [
            Hit(
                row["path"],
                row["start_line"],
                row["end_line"],
                row["symbol"],
                row["kind"],
                row["language"],
                row["text"],
                transform(row[score]),
            )
            for row in rows
        ]

    def _where(self, exclude_paths: Sequence[str]) -> str | None:
        return f"NOT ({path_filter(exclude_paths)})" if exclude_paths else None

    def dense(self, vector: Sequence[float], k: int = 10, exclude_paths: Sequence[str] = ()) -> list[Hit]:
        query = self.tables["chunks"].search(list(vector)).distance_type("cosine").limit(k)  # type: ignore[attr-defined]
        where = self._where(exclude_paths)
        if where:
            query = query.where(where, prefilter=True)
        return self._hits(query.to_list(), "_distance", lambda distance: 1.0 - float(distance))

    def bm25(self, text: str, k: int = 10, exclude_paths: Sequence[str] = ()) -> list[Hit]:
        terms = _fts_query(text)
        if not terms:
            return []
        query = self.tables["chunks"].search(terms, query_type="fts", fts_columns="search_text").limit(k)
        where = self._where(exclude_paths)
        if where:
            query = query.where(where, prefilter=True)
        return self._hits(query.to_list(), "_score")

    def hybrid(
        self, text: str, vector: Sequence[float], k: int = 10, exclude_paths: Sequence[str] = ()
    ) -> list[Hit]:
        """Dense and BM25 lists fused by reciprocal rank (each list fetched 2k deep)."""
        return fuse([self.dense(vector, 2 * k, exclude_paths), self.bm25(text, 2 * k, exclude_paths)], k)

    def definitions_of(
        self, names: Sequence[str], exclude_path: str | None = None, limit: int = 500
    ) -> list[dict[str, Any]]:
        """Definition rows of any of `names` (one query), outside `exclude_path`."""
        if not names:
            return []
        where = "role = 'definition' AND name IN (" + ", ".join(_quote(name) for name in names) + ")"
        if exclude_path is not None:
            where += f" AND path != {_quote(exclude_path)}"
        rows: list[dict[str, Any]] = self.tables["symbols"].search().where(where).limit(limit).to_list()
        return rows

    def chunks_in(self, paths: Iterable[str], limit: int = 5000) -> list[dict[str, Any]]:
        """Chunk rows (no vectors) of the files `paths`."""
        wanted = sorted(set(paths))
        if not wanted:
            return []
        columns = ["path", "start_line", "end_line", "symbol", "kind", "text"]
        rows: list[dict[str, Any]] = (
            self.tables["chunks"].search().where(path_filter(wanted)).select(columns).limit(limit).to_list()
        )
        return rows

    def chunk_texts(self) -> list[dict[str, Any]]:
        """Every chunk's path, line span and text (no vectors), for rebuilding the indexed files' text."""
        columns = ["path", "start_line", "end_line", "text"]
        table = self.tables["chunks"]
        rows: list[dict[str, Any]] = (
            table.search().select(columns).limit(max(1, table.count_rows())).to_list()
        )
        return rows

    def definitions(self, name: str, limit: int = 10) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = (
            self.tables["symbols"]
            .search()
            .where(f"name = {_quote(name)} AND role = 'definition'")
            .limit(limit)
            .to_list()
        )
        return rows


def _fts_query(text: str) -> str:
    """Plain words for the full-text index: identifiers plus their split parts, no query syntax."""
    words = re.findall(r"[A-Za-z0-9_]+", text)
    extra = split_identifiers(text).split()
    return " ".join(dict.fromkeys(word.lower() for word in [*words, *extra]))


def fuse(rankings: Sequence[Sequence[Hit]], k: int) -> list[Hit]:
    """Reciprocal rank fusion: score = sum over lists of 1 / (RRF_K + rank); ties keep first-seen order."""
    scores: dict[tuple[str, int], float] = {}
    first: dict[tuple[str, int], Hit] = {}
    for ranking in rankings:
        for rank, hit in enumerate(ranking, start=1):
            key = (hit.path, hit.start_line)
            scores[key] = scores.get(key, 0.0) + 1.0 / (RRF_K + rank)
            first.setdefault(key, hit)
    ordered = sorted(scores, key=lambda key: -scores[key])
    return [
        Hit(
            first[key].path,
            first[key].start_line,
            first[key].end_line,
            first[key].symbol,
            first[key].kind,
            first[key].language,
            first[key].text,
            scores[key],
        )
        for key in ordered[:k]
    ]
