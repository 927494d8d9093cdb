"""The feedback store: one SQLite file per workspace (stdlib `sqlite3`), written by the server, read by
`housecoder stats`, `bench make-tasks --from-history` and `housecoder train`.

A store that cannot be opened (a corrupted file, one another process holds locked) is moved aside and a new
one started, with one log line; a write that fails (a full disk) is dropped with one log line. Recording
never stops the server: every method catches what SQLite raises and reports it through `problem`.
Over `max_mb` the oldest half of the suggestions is deleted and the file compacted.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from housecoder.config import Settings
from housecoder.errors import first_line
from housecoder.locations import cache_base, repo_key

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
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
    accepted_chars INTEGER
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


def _unpack(data: bytes) -> str:
    return zlib.decompress(data).decode("utf-8", "surrogatepass")


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
            elif row[0] != str(SCHEMA_VERSION):
                raise sqlite3.DatabaseError(f"schema {row[0]}, this housecoder writes {SCHEMA_VERSION}")
            connection.execute("SELECT count(*) FROM suggestions").fetchone()
        except BaseException:
            connection.close()
            raise
        return connection

    def _open(self) -> sqlite3.Connection:
        """The connection; a store that cannot be opened is moved aside and a new one started."""
        if self._connection is not None:
            return self._connection
        try:
            self._connection = self._connect()
        except (sqlite3.Error, OSError) as err:
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
                    text = str(err).lower()
                    if attempt == 1 and ("locked" in text or "malformed" in text or "not a database" in text):
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
            "latency_ms, text, before, after, cursor, typed, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
        """Every suggestion shown since `since` (seconds since the epoch), oldest first."""
        with self._lock:
            rows = (
                self._open()
                .execute(
                    "SELECT id, shown_at, path, language, kind, context, adapter, layout, latency_ms, text, before, after, "
                    "cursor, typed, outcome, decided_at, accepted_chars FROM suggestions WHERE shown_at >= ? ORDER BY shown_at",
                    (since,),
                )
                .fetchall()
            )
        return [
            Suggestion(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                bool(r[5]),
                r[6],
                r[7],
                r[8],
                r[9],
                _unpack(r[10]),
                _unpack(r[11]),
                r[12],
                r[13],
                r[14],
                r[15],
                r[16],
            )
            for r in rows
        ]

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
        """The checks of the suggestions shown since `since`, by suggestion id, earliest first."""
        with self._lock:
            rows = (
                self._open()
                .execute(
                    "SELECT c.id, c.after_s, c.measured_at, c.found, c.kept_chars, c.share, c.now FROM checks c "
                    "JOIN suggestions s ON s.id = c.id WHERE s.shown_at >= ? ORDER BY c.id, c.after_s",
                    (since,),
                )
                .fetchall()
            )
        found: dict[str, list[Check]] = {}
        for r in rows:
            found.setdefault(r[0], []).append(Check(r[0], r[1], r[2], bool(r[3]), r[4], r[5], r[6]))
        return found


def recorded(path: Path, since: float = 0.0) -> tuple[list[Suggestion], dict[str, list[Check]]] | None:
    """The suggestions shown since `since` in the store at `path`, and their checks; None when nothing was
    recorded there yet."""
    if not path.is_file():
        return None
    store = FeedbackStore(path)
    try:
        return store.suggestions(since=since), store.checks(since=since)
    finally:
        store.close()
