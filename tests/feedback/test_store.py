"""The SQLite store: round trips, a corrupted or locked file, a full disk, the size cap."""

from __future__ import annotations

import logging
import secrets
import sqlite3
from pathlib import Path

import pytest
from feedback_fixture import suggestion

from housecoder.feedback.store import Check, FeedbackStore


def test_a_suggestion_and_its_fate_read_back(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "f" / "repo.sqlite")
    assert store.shown(suggestion(1, before="x" * 5000 + "\N{SNOWMAN}"))
    assert store.typed("s1", 3) and store.decide("s1", "partial", 4, at=2000.0)
    assert store.check(Check("s1", 30, 2030.0, True, 7, 7 / 12, "retu!rn"))
    [back] = store.suggestions()
    assert (
        back.outcome == "partial"
        and back.typed == 3
        and back.accepted_chars == 4
        and back.decided_at == 2000.0
    )
    assert (
        back.before.endswith("\N{SNOWMAN}") and len(back.before) == 5001 and back.accepted_text == "return "
    )
    assert store.checks() == {"s1": [Check("s1", 30, 2030.0, True, 7, 7 / 12, "retu!rn")]}
    assert store.suggestions(since=5000.0) == []
    with pytest.raises(ValueError):
        store.decide("s1", "maybe")


def test_a_corrupted_store_is_moved_aside_with_one_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "repo.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    store = FeedbackStore(path)
    with caplog.at_level(logging.WARNING):
        assert store.shown(suggestion(1))
    [line] = [r.getMessage() for r in caplog.records if "feedback store" in r.getMessage()]
    assert "moved aside" in line and "\n" not in line
    assert [s.id for s in store.suggestions()] == ["s1"]
    assert len(list(tmp_path.glob("repo.sqlite.broken-*"))) == 1


def test_a_store_locked_by_another_process_is_never_moved_from_under_it(tmp_path: Path) -> None:
    path = tmp_path / "repo.sqlite"
    FeedbackStore(path).shown(suggestion(1))
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process writing, slower than the 2 s a write waits
    try:
        store = FeedbackStore(path)
        assert not store.shown(suggestion(2))  # the write is dropped, and says why
        assert "locked" in store.problem and "\n" not in store.problem
        holder.execute("INSERT INTO meta VALUES ('holder', 'done')")
        holder.execute("COMMIT")  # the holder's own work still lands: the file is where it was
    finally:
        holder.close()
    assert not list(tmp_path.glob("repo.sqlite.broken-*"))
    assert store.shown(suggestion(3))  # once released, recording goes on in the same store
    assert [s.id for s in store.suggestions()] == ["s1", "s3"]


def test_a_store_of_a_newer_schema_is_left_as_it_is(tmp_path: Path) -> None:
    from housecoder.feedback.store import StoreError, recorded

    path = tmp_path / "repo.sqlite"
    FeedbackStore(path).shown(suggestion(1))
    with sqlite3.connect(path) as newer:
        newer.execute("UPDATE meta SET value = '4' WHERE key = 'schema'")
    before = path.read_bytes()
    store = FeedbackStore(path)
    assert not store.shown(suggestion(2)) and "schema 4" in store.problem
    with pytest.raises(StoreError, match="schema '4', this housecoder reads 1, 2 and 3"):
        recorded(path)
    assert path.read_bytes() == before and not list(tmp_path.glob("repo.sqlite.broken-*"))


def test_a_store_of_schema_1_is_read_as_it_is_and_gains_the_keep_probability_when_written(
    tmp_path: Path,
) -> None:
    from dataclasses import replace

    from housecoder.feedback.store import recorded

    path = tmp_path / "repo.sqlite"
    FeedbackStore(path).shown(suggestion(1))
    with sqlite3.connect(path) as old:  # as housecoder wrote it before the keep-probability
        old.execute("ALTER TABLE suggestions DROP COLUMN model")
        old.execute("ALTER TABLE suggestions DROP COLUMN signals")
        old.execute("ALTER TABLE suggestions DROP COLUMN p_keep")
        old.execute("UPDATE meta SET value = '1' WHERE key = 'schema'")
    before = path.read_bytes()
    found = recorded(path)
    assert found is not None and [(s.id, s.p_keep, s.signals) for s in found.suggestions] == [
        ("s1", None, None)
    ]
    assert path.read_bytes() == before  # a reader never upgrades
    store = FeedbackStore(path)
    assert store.shown(replace(suggestion(2), p_keep=0.75, signals={"mean_logprob": -0.25}))
    assert [(s.p_keep, s.signals) for s in store.suggestions()] == [
        (None, None),
        (0.75, {"mean_logprob": -0.25}),
    ]
    with sqlite3.connect(path) as upgraded:
        assert upgraded.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == ("3",)


def test_a_store_of_schema_2_gains_the_code_model_when_written(tmp_path: Path) -> None:
    from dataclasses import replace

    from housecoder.feedback.store import recorded

    path = tmp_path / "repo.sqlite"
    FeedbackStore(path).shown(replace(suggestion(1), p_keep=0.5))
    with sqlite3.connect(path) as old:  # as housecoder wrote it before suggestions named their code model
        old.execute("ALTER TABLE suggestions DROP COLUMN model")
        old.execute("UPDATE meta SET value = '2' WHERE key = 'schema'")
    found = recorded(path)
    assert found is not None and [(s.p_keep, s.model) for s in found.suggestions] == [(0.5, None)]
    store = FeedbackStore(path)
    assert store.shown(replace(suggestion(2), model="qwen2.5-coder-0.5b-instruct"))
    assert [s.model for s in store.suggestions()] == [None, "qwen2.5-coder-0.5b-instruct"]
    with sqlite3.connect(path) as upgraded:
        assert upgraded.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == ("3",)


def test_readers_skip_hostile_rows_and_never_change_the_store(tmp_path: Path) -> None:
    import zlib

    from housecoder.feedback.store import MAX_BUFFER_CHARS, recorded

    path = tmp_path / "repo.sqlite"
    store = FeedbackStore(path)
    for n in range(1, 11):
        assert store.shown(suggestion(n))
    assert store.check(Check("s1", 30, 2030.0, True, 7, 0.5, "return value"))
    store.close()
    bomb = zlib.compress(b"x" * (MAX_BUFFER_CHARS + 1), 9)  # a few KB that inflate past the bound
    with sqlite3.connect(path) as hostile:
        for sql, value in (
            ("UPDATE suggestions SET before = ? WHERE id = 's2'", b"not zlib"),
            ("UPDATE suggestions SET shown_at = ? WHERE id = 's3'", 1e30),
            ("UPDATE suggestions SET text = ? WHERE id = 's4'", b"\x00\xff"),
            ("UPDATE suggestions SET after = ? WHERE id = 's5'", bomb),
            ("UPDATE suggestions SET outcome = ? WHERE id = 's6'", "stolen"),
            ("UPDATE checks SET share = ? WHERE id = 's1'", 5.0),
            ("UPDATE suggestions SET signals = ? WHERE id = 's8'", '{"mean_logprob": NaN}'),
            ("UPDATE suggestions SET signals = ? WHERE id = 's9'", "[" * 10_000),
            ("UPDATE suggestions SET p_keep = ? WHERE id = 's10'", 7.0),
        ):
            hostile.execute(sql, (value,))
        hostile.execute("UPDATE suggestions SET language = NULL, adapter = x'00' WHERE id = 's7'")
    before = path.read_bytes()
    found = recorded(path)
    assert found is not None
    assert [s.id for s in found.suggestions] == ["s1"] and found.checks == {} and found.skipped == 10
    assert path.read_bytes() == before


def test_a_full_disk_drops_the_write_and_says_so(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = FeedbackStore(tmp_path / "repo.sqlite")
    assert store.shown(suggestion(0))
    pages = store._open().execute("PRAGMA page_count").fetchone()[0]
    store._open().execute(f"PRAGMA max_page_count = {pages}")  # the database cannot grow: SQLITE_FULL
    with caplog.at_level(logging.WARNING):
        results = [store.shown(suggestion(n, before=secrets.token_hex(20_000))) for n in range(1, 4)]
    assert results == [False, False, False]
    assert "disk is full" in store.problem and "\n" not in store.problem
    assert sum("cannot record" in r.getMessage() for r in caplog.records) == 1  # one line, not one per write
    assert [s.id for s in store.suggestions()] == ["s0"]


def test_over_the_cap_the_oldest_half_goes(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "repo.sqlite")
    for n in range(40):
        store.shown(suggestion(n, before=f"{n}" * 3000))
    store.max_bytes = 1  # any size is over it
    store.trim()
    kept = [s.id for s in store.suggestions()]
    assert kept == [f"s{n}" for n in range(21, 40)]


@pytest.mark.parametrize("target", ["other program's database", "dangling"])
def test_a_symlink_where_the_store_belongs_is_never_written_through(tmp_path: Path, target: str) -> None:
    other = tmp_path / "elsewhere" / "app.sqlite"
    other.parent.mkdir()
    if target != "dangling":
        sqlite3.connect(other).execute("CREATE TABLE mine (x)").connection.close()
    before = other.read_bytes() if other.exists() else None
    path = tmp_path / "cache" / "feedback" / "repo one.sqlite"
    path.parent.mkdir(parents=True)
    path.symlink_to(other)
    store = FeedbackStore(path)
    assert store.shown(suggestion(1))  # recorded, in a store of its own
    assert [s.id for s in store.suggestions()] == ["s1"]
    assert not path.is_symlink() and path.is_file()
    assert (other.read_bytes() if other.exists() else None) == before  # the link's target untouched
