"""The server's recorder: ids, typing through, rejections, accepts, retention checks, what is never recorded."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from settings_fixture import section

from housecoder.completion import CompletionInput, CompletionOutput
from housecoder.completion.trigger import Trigger
from housecoder.config import Settings
from housecoder.keep import KeepModel
from housecoder.server.documents import Located
from housecoder.server.feedback import FeedbackRecorder
from housecoder.server.keep import IDLE_S

TEXT = "def total(items):\n    \n"
CURSOR = len("def total(items):\n    ")


class Harness:
    def __init__(
        self,
        tmp_path: Path,
        refitted: Callable[[Path, KeepModel], object] | None = None,
        **feedback: object,
    ) -> None:
        self.root = tmp_path / "repo"
        self.root.mkdir(parents=True)
        self.documents: dict[str, str] = {}
        self.later: list[tuple[float, Callable[[], None]]] = []
        self.now = 1_000.0
        settings = Settings.model_validate(
            {
                "models": {"cache_dir": str(tmp_path / "cache" / "models")},
                "feedback": section("feedback", feedback),
                "index": {"exclude": ["generated/"]},
            }
        )
        self.recorder = FeedbackRecorder(
            settings,
            self.documents.get,
            lambda delay, work: self.later.append((delay, work)),
            lambda: self.now,
            refitted,
        )

    def show(
        self, text: str, offset: int, answer: str, path: str = "app/calc.py", multi: bool = False
    ) -> str | None:
        uri = f"file://{self.root}/{path}"
        self.documents[uri] = text
        located = Located(self.root, path, self.root / path, "python")
        output = CompletionOutput(answer, Trigger(True, multi, "end of a line"), layout="line-start")
        return self.recorder.shown(
            uri, located, CompletionInput(path, text, offset, "python"), output, 80.0, None
        )

    def run_later(self) -> list[float]:
        delays = [delay for delay, _ in self.later]
        for _, work in self.later:
            work()
        self.later.clear()
        self.recorder.flush()
        return delays

    def store(self):  # type: ignore[no-untyped-def]
        self.recorder.flush()
        return self.recorder.store(self.root)


def test_an_accepted_suggestion_is_measured_later(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    shown = h.show(TEXT, CURSOR, "return sum(items)")
    assert shown is not None
    assert h.recorder.accepted(shown) == {"recorded": True, "outcome": "accepted", "accepted_chars": 17}
    uri = f"file://{h.root}/app/calc.py"
    h.documents[uri] = TEXT[:CURSOR] + "return sum(items) + 1" + TEXT[CURSOR:]  # the user edited the end
    assert h.run_later() == [30, 300]
    [record] = h.store().suggestions()
    assert record.outcome == "accepted" and record.accepted_chars == 17 and record.kind == "line"
    checks = h.store().checks()[shown]
    assert [(c.after_s, c.found, c.kept_chars, c.now) for c in checks] == [
        (30, True, 17, "return sum(items) + 1"),
        (300, True, 17, "return sum(items) + 1"),
    ]


def test_a_secret_written_where_a_suggestion_was_is_never_stored(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    shown = h.show(TEXT, CURSOR, "return sum(items)")
    assert shown is not None and h.recorder.accepted(shown)["recorded"]
    uri = f"file://{h.root}/app/calc.py"
    token = "ghp_" + "x1Y2z3" * 6
    h.documents[uri] = TEXT[:CURSOR] + f"return sum(items) or '{token}'" + TEXT[CURSOR:]
    h.run_later()
    checks = h.store().checks()[shown]
    assert [(c.found, c.kept_chars, c.now) for c in checks] == [(True, 17, ""), (True, 17, "")]
    path = h.store().path
    for stored in path.parent.glob(path.name + "*"):  # the database and its write-ahead log
        assert token.encode() not in stored.read_bytes(), stored


def test_typing_through_keeps_the_id_and_a_new_place_rejects(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    first = h.show(TEXT, CURSOR, "return sum(items)")
    typed = TEXT[:CURSOR] + "ret" + TEXT[CURSOR:]
    assert h.show(typed, CURSOR + 3, "urn sum(items)") == first  # the same suggestion, typed through
    other = h.show(typed, CURSOR + 3, "urn len(items)")  # a different answer at the same place: a new one
    assert other not in (None, first)
    assert h.recorder.accepted(other, 3)["outcome"] == "partial"  # type: ignore[arg-type]
    records = {s.id: s for s in h.store().suggestions()}
    assert records[first].outcome == "rejected" and records[first].typed == 3  # type: ignore[index]
    assert records[other].accepted_text == "urn"  # type: ignore[index]
    assert sorted(h.run_later()) == [30, 300, 300]  # the accepted one twice, the rejected one once


def test_decisions_ask_for_a_keep_refit_at_idle_where_the_server_takes_refits(tmp_path: Path) -> None:
    h = Harness(tmp_path, refitted=lambda _root, _model: None)
    first = h.show(TEXT, CURSOR, "return sum(items)")
    h.show(TEXT, CURSOR, "return len(items)")  # a new answer at the place rejects the first
    assert first is not None and h.recorder.refit is not None
    assert h.recorder.refit.waiting == {h.root} and sorted(delay for delay, _ in h.later) == [IDLE_S, 300]
    assert Harness(tmp_path / "plain").recorder.refit is None


def test_unknown_ids_and_disabled_recording(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    assert h.recorder.accepted("nope") == {"recorded": False, "error": "unknown suggestion 'nope'"}
    off = Harness(tmp_path / "off", enabled=False)
    assert off.show(TEXT, CURSOR, "return 1") is None
    assert not off.recorder.store(off.root).path.exists()


@pytest.mark.parametrize(
    ("path", "text"),
    [("generated/api.py", TEXT), (".env", TEXT), ("app/keys.py", TEXT + 'KEY = "AKIAABCDEFGHIJKLMNOP"\n')],
)
def test_excluded_and_secret_files_are_never_recorded(tmp_path: Path, path: str, text: str) -> None:
    h = Harness(tmp_path)
    assert h.show(text, CURSOR, "return 1", path=path) is None
    assert h.store().suggestions() == []


def test_a_closed_document_rejects_what_it_showed(tmp_path: Path) -> None:
    h = Harness(tmp_path, retention_checks_s=[2])
    shown = h.show(TEXT, CURSOR, "return 0")
    h.recorder.closed(f"file://{h.root}/app/calc.py")
    h.documents.clear()  # closed and never saved: the check finds nothing
    assert h.run_later() == [2]
    assert h.store().suggestions()[0].outcome == "rejected"
    assert [c.found for c in h.store().checks()[shown]] == [False]  # type: ignore[index]


def test_accepts_are_bounded_and_a_decision_stays_decided(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    huge = "x" * 10_000_000
    answer = h.recorder.accepted(huge)
    assert answer["recorded"] is False and len(answer["error"]) < 200  # never echoed whole
    shown = h.show(TEXT, CURSOR, "return sum(items)")
    assert shown is not None
    assert h.recorder.accepted(shown, 0) == {
        "recorded": False,
        "error": "nothing was accepted (0 characters)",
    }
    assert h.recorder.accepted(shown, 6)["outcome"] == "partial"  # a word, then more of it
    assert h.recorder.accepted(shown, 3)["recorded"] is False  # less than already taken changes nothing
    assert h.recorder.accepted(shown) == {"recorded": True, "outcome": "accepted", "accepted_chars": 17}
    again = h.recorder.accepted(shown, 2)
    assert again["recorded"] is False and again["outcome"] == "accepted" and again["accepted_chars"] == 17
    [record] = h.store().suggestions()
    assert (record.outcome, record.accepted_chars) == ("accepted", 17)
    # a newer suggestion rejected it: the user's accept that arrives after still counts
    first = h.show(TEXT, CURSOR, "return len(items)")
    h.show(TEXT, CURSOR, "return max(items)")
    assert first is not None and h.recorder.accepted(first)["recorded"] is True


def test_an_accept_is_recorded_true_only_once_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio
    import sqlite3

    h = Harness(tmp_path)
    shown, other = h.show(TEXT, CURSOR, "return sum(items)"), None
    assert shown is not None
    assert asyncio.run(h.recorder.accept(shown))["recorded"] is True
    other = h.show(TEXT, CURSOR, "return len(items)")
    assert other is not None

    def full_disk(*args: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(h.store(), "decide", full_disk)
    answer = asyncio.run(h.recorder.accept(other))
    assert answer["recorded"] is False and "cannot write" in answer["error"], answer


def test_the_time_since_the_folders_last_decision_is_kept(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    assert h.recorder.since_decision(h.root) is None and h.recorder.since_decision(None) is None
    first = h.show(TEXT, CURSOR, "return sum(items)")
    assert h.recorder.since_decision(h.root) is None  # shown is not decided
    h.now += 4.0
    h.show(TEXT, CURSOR, "return len(items)")  # rejects the first
    h.now += 2.5
    assert h.recorder.since_decision(h.root) == 2.5
    second = h.show(TEXT, CURSOR, "return max(items)")
    h.now += 1.0
    assert first is not None and second is not None
    h.recorder.accepted(second)
    h.now += 0.5
    assert h.recorder.since_decision(h.root) == 0.5
    assert h.recorder.since_decision(tmp_path / "elsewhere") is None
