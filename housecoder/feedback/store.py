"""The feedback store: one SQLite file per workspace (stdlib `sqlite3`), written by the server, read by
`housecoder stats`, `bench make-tasks --from-history` and `housecoder train`.

A corrupted store (or a symbolic link where it belongs) is moved aside and a new one started, with one log
line; a store another process holds locked is waited for (2 s), then the write is dropped, never moved aside
from under its holder; a store of a newer schema is left as it is and not written. A write that fails (a full
disk) is dropped with one log line. Recording never stops the server: every method catches what SQLite raises
and reports it through `problem`. Over `max_mb` the oldest half of the suggestions is deleted and the file
compacted.

Readers (`recorded`: `housecoder stats`, `bench make-tasks --from-history`, `housecoder train`) open the store
read-only, never move or change it, and take only rows that are well formed and bounded (a store is a file
any local program can write): a malformed row is skipped and counted.
"""

from __future__ import annotations

import json
import logging
import math
import sqlite3
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from housecoder.config import Settings
from housecoder.errors import HousecoderError, first_line
from housecoder.locations import cache_base, repo_key

log = logging.getLogger(__name__)
T = TypeVar("T")

# 2: the keep-probability and its signals; 3: the code model (an older store gains them when written)
SCHEMA_VERSION = 3
READS = ("1", "2", "3")
MAX_SIGNALS = 64
MAX_ID_CHARS = 64  # ids are 16 hex characters
MAX_TEXT_CHARS = 1 << 20  # a shown suggestion, a check's text, a path: longer means not written by housecoder
MAX_BUFFER_CHARS = 4 << 20  # the text around a suggestion, decompressed
LAST_TIME = 1e11  # seconds since the epoch (the year 5138): a later time is no time housecoder wrote
OUTCOMES = ("shown", "accepted", "partial", "rejected")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS suggestions (
    id TEXT PRIMARY KEY,
    shown_at REAL NOT NULL,
    path TEXT NOT NULL,
    language TEXT,
    kind TEXT NOT NULL,
    context INTEGER NOT NULL,
    adapter TEXT,
    layout TEXT NOT NULL,
    latency_ms REAL NOT NULL,
    text TEXT NOT NULL,
    before BLOB NOT NULL,
    after BLOB NOT NULL,
    cursor INTEGER NOT NULL,
    typed INTEGER NOT NULL DEFAULT 0,
    outcome TEXT NOT NULL DEFAULT 'shown',
    decided_at REAL,
    accepted_chars INTEGER,
    p_keep REAL,
    signals TEXT,
    model TEXT
);
CREATE INDEX IF NOT EXISTS suggestions_shown ON suggestions (shown_at);
CREATE TABLE IF NOT EXISTS checks (
    id TEXT NOT NULL REFERENCES suggestions (id) ON DELETE CASCADE,
    after_s INTEGER NOT NULL,
    measured_at REAL NOT NULL,
    found INTEGER NOT NULL,
    kept_chars INTEGER NOT NULL,
    share REAL NOT NULL,
    now TEXT NOT NULL,
    PRIMARY KEY (id, after_s)
);
"""


def store_path(settings: Settings, root: Path) -> Path:
    """`<cache>/feedback/<repo key>.sqlite`: beside the indexes and adapters of the same workspace."""
    return cache_base(settings) / "feedback" / f"{repo_key(root)}.sqlite"


@dataclass(frozen=True)
class Suggestion:
    """One suggestion shown: where, what, how it was made, and what became of it."""

    id: str
    shown_at: float  # seconds since the epoch
    path: str  # '/'-separated, relative to the workspace folder
    language: str | None
    kind: str  # "line" or "block"
    context: bool  # repository snippets were in the prompt
    adapter: str | None  # the LoRA adapter's folder name, None without one
    layout: str  # the prompt layout, "psm" or "line-start"
    latency_ms: float  # from the request to the answer
    text: str  # what was shown
    before: str  # the buffer before the cursor (the last `max_context_chars`)
    after: str  # the buffer after it (the first half as many)
    cursor: int  # the cursor's offset in the buffer when it was shown
    typed: int = 0  # characters of it the user typed before accepting (typing through it)
    outcome: str = "shown"  # "shown", "accepted", "partial" or "rejected"
    decided_at: float | None = None
    accepted_chars: int | None = None  # of `text`, for "accepted" and "partial"
    p_keep: float | None = None  # the keep-probability it was shown with (None: not scored)
    signals: dict[str, float] | None = None  # what p_keep was computed from (`housecoder.keep.signals`)
    model: str | None = None  # the code model that wrote it (`models.code_model`; None: not recorded)

    @property
    def accepted_text(self) -> str:
        """What the user took: the typed-through part and the accepted characters after it."""
        return self.text[: self.typed + (self.accepted_chars or 0)]


@dataclass(frozen=True)
class Check:
    """What was at a suggestion's place `after_s` seconds after it was decided."""

    id: str
    after_s: int
    measured_at: float
    found: bool  # False: the place was gone (rewritten around, deleted, or the file closed and unsaved)
    kept_chars: int
    share: float
    now: str


def _pack(text: str) -> bytes:
    return zlib.compress(text.encode("utf-8", "surrogatepass"), 6)


class FeedbackStore:
    """The store at `path`, opened on first use. Thread-safe; every write is its own short transaction."""

    def __init__(self, path: Path, *, max_mb: int = 64) -> None:
        self.path = path
        self.max_bytes = max_mb * 1024 * 1024
        self.problem = ""  # the last failure, one line ("" while all is well)
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._writes = 0

    # -- opening -------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # a symbolic link where the store belongs (to another program's database, or dangling out of the
        # cache) is refused, then moved aside like a broken store, never written through
        for suffix in ("", "-wal", "-shm"):
            if Path(f"{self.path}{suffix}").is_symlink():
                raise sqlite3.DatabaseError(f"{self.path.name}{suffix} is a symbolic link: not followed")
        connection = sqlite3.connect(self.path, timeout=2.0, check_same_thread=False, isolation_level=None)
        try:
            connection.execute("PRAGMA foreign_keys = ON")
            connection.execute("PRAGMA journal_mode = WAL")
            connection.executescript(_SCHEMA)
            row = connection.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if row is None:
                connection.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            elif row[0] in READS[:-1]:  # an older schema
                _upgrade(connection)
            elif row[0] != str(SCHEMA_VERSION):
                raise OtherSchema(f"schema {row[0]}, this housecoder writes {SCHEMA_VERSION}")
            connection.execute("SELECT count(*) FROM suggestions").fetchone()
        except BaseException:
            connection.close()
            raise
        return connection

    def _open(self) -> sqlite3.Connection:
        """The connection; a corrupted store is moved aside and a new one started; a locked one or one of
        another schema raises (its write is dropped), left where it is."""
        if self._connection is not None:
            return self._connection
        try:
            self._connection = self._connect()
        except (sqlite3.Error, OSError) as err:
            if not _corrupted(err):
                raise
            self._move_aside(err)
            self._connection = self._connect()
        return self._connection

    def _move_aside(self, err: BaseException) -> None:
        """Put a broken or locked store aside (`<name>.broken-<time>`), with one log line."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        aside = self.path.with_name(f"{self.path.name}.broken-{int(time.time())}")
        log.warning(
            "feedback store %s: %s; moved aside to %s, starting a new one",
            self.path,
            first_line(err),
            aside.name,
        )
        for suffix in ("", "-wal", "-shm"):
            old = Path(f"{self.path}{suffix}")
            if old.exists() or old.is_symlink():
                old.replace(Path(f"{aside}{suffix}"))

    def _run(self, what: str, work: str, parameters: Sequence[object] = ()) -> bool:
        """One write; False (and `problem` says why, once in the log) when it failed. A store that turns out
        corrupted or stays locked is moved aside and the write tried once more in a new one."""
        with self._lock:
            for attempt in (1, 2):
                try:
                    self._open().execute(work, parameters)
                    break
                except (sqlite3.Error, OSError) as err:
                    if attempt == 1 and _corrupted(err):
                        self._move_aside(err)
                        continue
                    message = f"feedback store {self.path}: cannot record {what}: {first_line(err)}"
                    if message != self.problem:
                        log.warning("%s", message)
                    self.problem = message
                    return False
            self.problem = ""
            self._writes += 1
        if self._writes % 200 == 0:
            self.trim()
        return True

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    # -- writing -------------------------------------------------------------------------

    def shown(self, suggestion: Suggestion) -> bool:
        s = suggestion
        return self._run(
            "a suggestion",
            "INSERT OR REPLACE INTO suggestions (id, shown_at, path, language, kind, context, adapter, layout, "
            "latency_ms, text, before, after, cursor, typed, outcome, p_keep, signals, model) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                s.id,
                s.shown_at,
                s.path,
                s.language,
                s.kind,
                int(s.context),
                s.adapter,
                s.layout,
                s.latency_ms,
                s.text,
                _pack(s.before),
                _pack(s.after),
                s.cursor,
                s.typed,
                s.outcome,
                s.p_keep,
                None if s.signals is None else json.dumps(s.signals),
                s.model,
            ),
        )

    def typed(self, suggestion_id: str, typed: int) -> bool:
        """The user typed `typed` characters of the suggestion (it is still shown, for the rest)."""
        return self._run(
            "typing through", "UPDATE suggestions SET typed = ? WHERE id = ?", (typed, suggestion_id)
        )

    def decide(
        self, suggestion_id: str, outcome: str, accepted_chars: int | None = None, at: float | None = None
    ) -> bool:
        """Record an accept (all of it, or `accepted_chars` of it: "partial") or a rejection."""
        if outcome not in OUTCOMES[1:]:
            raise ValueError(f"unknown outcome {outcome!r}")
        return self._run(
            "an outcome",
            "UPDATE suggestions SET outcome = ?, decided_at = ?, accepted_chars = ? WHERE id = ?",
            (outcome, at if at is not None else time.time(), accepted_chars, suggestion_id),
        )

    def check(self, check: Check) -> bool:
        c = check
        return self._run(
            "a retention check",
            "INSERT OR REPLACE INTO checks VALUES (?, ?, ?, ?, ?, ?, ?)",
            (c.id, c.after_s, c.measured_at, int(c.found), c.kept_chars, c.share, c.now),
        )

    def trim(self) -> None:
        """Over the size cap: delete the oldest half of the suggestions (and their checks), then compact."""
        try:
            size = sum(path.stat().st_size for path in (self.path, Path(f"{self.path}-wal")) if path.exists())
        except OSError:
            return
        if size <= self.max_bytes:
            return
        with self._lock:
            try:
                connection = self._open()
                connection.execute(
                    "DELETE FROM suggestions WHERE id IN (SELECT id FROM suggestions ORDER BY shown_at "
                    "LIMIT (SELECT count(*) / 2 + 1 FROM suggestions))"
                )
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                connection.execute("VACUUM")
            except sqlite3.Error as err:
                log.warning("feedback store %s: cannot trim: %s", self.path, first_line(err))

    # -- reading -------------------------------------------------------------------------

    def suggestions(self, since: float = 0.0) -> list[Suggestion]:
        """Every well-formed suggestion shown since `since` (seconds since the epoch), oldest first."""
        with self._lock:
            return _suggestions(self._open(), since)[0]

    def counts(self, since: float = 0.0) -> tuple[int, int]:
        """(shown, accepted) since `since`: partial accepts count as accepted."""
        with self._lock:
            shown, accepted = (
                self._open()
                .execute(
                    "SELECT count(*), coalesce(sum(outcome IN ('accepted', 'partial')), 0) FROM suggestions "
                    "WHERE shown_at >= ?",
                    (since,),
                )
                .fetchone()
            )
        return int(shown), int(accepted)

    def checks(self, since: float = 0.0) -> dict[str, list[Check]]:
        """The well-formed checks of the suggestions shown since `since`, by suggestion id, earliest first."""
        with self._lock:
            return _checks(self._open(), since)[0]


class OtherSchema(sqlite3.DatabaseError):
    """The store was written by a housecoder of another schema: left as it is."""


class StoreError(HousecoderError):
    """A store a reader cannot read (one line: which file, and why)."""


def _corrupted(err: BaseException) -> bool:
    """A store SQLite cannot read as a database (or a symbolic link in its place): to be moved aside."""
    if isinstance(err, OtherSchema):
        return False
    text = str(err).lower()
    return "malformed" in text or "not a database" in text or "symbolic link" in text


# Row checks: a store is a file any local program can write, so each value is checked for the type and the
# bounds housecoder writes before it is used; a row that fails one is skipped.


def _text(value: object, limit: int = MAX_TEXT_CHARS, *, empty: bool = True) -> str:
    if not isinstance(value, str) or len(value) > limit or (not empty and not value):
        raise ValueError("text")
    return value


def _optional_text(value: object) -> str | None:
    return None if value is None else _text(value, MAX_ID_CHARS * 4)


def _time(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= LAST_TIME:
        raise ValueError("time")
    return float(value)


def _count(value: object, limit: int = MAX_BUFFER_CHARS) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit:
        raise ValueError("count")
    return value


def _share(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise ValueError("share")
    return float(value)


def _buffer(value: object) -> str:
    """A compressed buffer, decompressed to at most `MAX_BUFFER_CHARS` UTF-8 bytes (a zlib bomb stops there)."""
    if not isinstance(value, bytes):
        raise ValueError("buffer")
    inflate = zlib.decompressobj()
    data = inflate.decompress(value, MAX_BUFFER_CHARS)
    if inflate.unconsumed_tail or not inflate.eof:
        raise ValueError("buffer")
    return data.decode("utf-8", "surrogatepass")


def _suggestion(r: Sequence[object]) -> Suggestion:
    outcome = _text(r[14], 16)
    if outcome not in OUTCOMES:
        raise ValueError("outcome")
    return Suggestion(
        _text(r[0], MAX_ID_CHARS, empty=False),
        _time(r[1]),
        _text(r[2], 4096, empty=False),
        _optional_text(r[3]),
        _text(r[4], 16),
        bool(_count(r[5], 1)),
        _optional_text(r[6]),
        _text(r[7], 16),
        _time(r[8]),
        _text(r[9]),
        _buffer(r[10]),
        _buffer(r[11]),
        _count(r[12], 1 << 40),
        _count(r[13], MAX_TEXT_CHARS),
        outcome,
        None if r[15] is None else _time(r[15]),
        None if r[16] is None else _count(r[16], MAX_TEXT_CHARS),
        None if r[17] is None else _share(r[17]),
        None if r[18] is None else _signals(r[18]),
        None if r[19] is None else _text(r[19], 4096),
    )


def _signals(value: object) -> dict[str, float]:
    """A suggestion's signals: a JSON object of at most `MAX_SIGNALS` names and finite numbers."""
    try:
        found = json.loads(_text(value, 1 << 14))
    except RecursionError:
        raise ValueError("signals") from None
    if not isinstance(found, dict) or len(found) > MAX_SIGNALS:
        raise ValueError("signals")
    signals = {}
    for name, number in found.items():
        if len(name) > 64 or isinstance(number, bool) or not isinstance(number, int | float):
            raise ValueError("signals")
        if not math.isfinite(number):
            raise ValueError("signals")
        signals[name] = float(number)
    return signals


def _upgrade(connection: sqlite3.Connection) -> None:
    """Schema 1 or 2 -> 3: the keep-probability, its signals and the code model (NULL for the suggestions
    already recorded)."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        columns = {row[1] for row in connection.execute("PRAGMA table_info(suggestions)")}
        for column, kind in (("p_keep", "REAL"), ("signals", "TEXT"), ("model", "TEXT")):
            if column not in columns:
                connection.execute(f"ALTER TABLE suggestions ADD COLUMN {column} {kind}")
        connection.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA_VERSION),))
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:  # a failed write may have rolled it back already
            connection.execute("ROLLBACK")
        raise


def _check(r: Sequence[object]) -> Check:
    return Check(
        _text(r[0], MAX_ID_CHARS, empty=False),
        _count(r[1], 1 << 31),
        _time(r[2]),
        bool(_count(r[3], 1)),
        _count(r[4], MAX_TEXT_CHARS),
        _share(r[5]),
        _text(r[6]),
    )


def _well_formed(
    rows: Sequence[Sequence[object]], parse: Callable[[Sequence[object]], T]
) -> tuple[list[T], int]:
    """The rows `parse` accepts, and how many it refused."""
    parsed: list[T] = []
    for row in rows:
        try:
            parsed.append(parse(row))
        except (ValueError, zlib.error, UnicodeDecodeError):
            continue
    return parsed, len(rows) - len(parsed)


def _suggestions(
    connection: sqlite3.Connection, since: float, schema: str = str(SCHEMA_VERSION)
) -> tuple[list[Suggestion], int]:
    """The well-formed suggestions shown since `since`, and how many rows were not."""
    scores = {"1": "NULL, NULL, NULL", "2": "p_keep, signals, NULL"}.get(schema, "p_keep, signals, model")
    rows = connection.execute(
        "SELECT id, shown_at, path, language, kind, context, adapter, layout, latency_ms, text, before, after, "
        f"cursor, typed, outcome, decided_at, accepted_chars, {scores} FROM suggestions WHERE shown_at >= ? "
        "ORDER BY shown_at",
        (since,),
    ).fetchall()
    return _well_formed(rows, _suggestion)


def _checks(connection: sqlite3.Connection, since: float) -> tuple[dict[str, list[Check]], int]:
    """The well-formed checks of the suggestions shown since `since` by suggestion id, and how many rows were
    not."""
    rows = connection.execute(
        "SELECT c.id, c.after_s, c.measured_at, c.found, c.kept_chars, c.share, c.now FROM checks c "
        "JOIN suggestions s ON s.id = c.id WHERE s.shown_at >= ? ORDER BY c.id, c.after_s",
        (since,),
    ).fetchall()
    checks, skipped = _well_formed(rows, _check)
    found: dict[str, list[Check]] = {}
    for check in checks:
        found.setdefault(check.id, []).append(check)
    return found, skipped


@dataclass(frozen=True)
class Recorded:
    """What a reader found in a store: the well-formed suggestions and checks, and how many rows were not."""

    suggestions: list[Suggestion]
    checks: dict[str, list[Check]]
    skipped: int  # suggestion and check rows skipped as malformed


def recorded(path: Path, since: float = 0.0) -> Recorded | None:
    """The suggestions shown since `since` in the store at `path`, and their checks, read without changing the
    store; None when nothing was recorded there yet. StoreError (one line) for a store it cannot read: a
    symbolic link, another schema, a corrupted or locked file."""
    if not path.is_file() and not path.is_symlink():
        return None
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{path}{suffix}").is_symlink():
            raise StoreError(f"feedback store {path}{suffix}: a symbolic link, not read")
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=2.0)
    except sqlite3.Error as err:
        raise StoreError(f"feedback store {path}: cannot read it: {first_line(err)}") from err
    try:
        row = connection.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if row is None or row[0] not in READS:
            found = "no schema" if row is None else f"schema {str(row[0])[:20]!r}"
            raise StoreError(
                f"feedback store {path}: {found}, this housecoder reads {', '.join(READS[:-1])} and {READS[-1]} (left as it is)"
            )
        suggestions, bad_suggestions = _suggestions(connection, since, row[0])
        checks, bad_checks = _checks(connection, since)
    except sqlite3.Error as err:
        raise StoreError(f"feedback store {path}: cannot read it: {first_line(err)}") from err
    finally:
        connection.close()
    return Recorded(suggestions, checks, bad_suggestions + bad_checks)
