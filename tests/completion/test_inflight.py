"""The generation in flight: a request that only typed what it is writing lets it run and is answered from it."""

from __future__ import annotations

import threading

import pytest

from housecoder.completion import CompletionEngine, CompletionInput
from housecoder.completion.inflight import Flights
from housecoder.config import Settings
from housecoder.inference.base import Cancellation, Generation, GenerationRequest
from housecoder.inference.streaming import run_generation

PREFIX, SUFFIX = "def load(path):\n    return json.", "\n"


@pytest.mark.parametrize(
    ("written", "final", "typed", "follows", "answer"),
    [
        ("lo", None, "l", True, None),  # running, agrees: let it run (no answer until it is finished)
        ("lo", None, "loa", False, None),  # typed past what it wrote so far: it may go elsewhere
        ("lo", None, "x", False, None),  # disagrees: cancel it
        ("load(f)", "load(f)", "lo", False, None),  # finished before anyone typed: the completion cache's job
        ("", None, "l", False, None),  # nothing written yet: no evidence it agrees
    ],
)
def test_follows_and_answer(
    written: str, final: str | None, typed: str, follows: bool, answer: str | None
) -> None:
    flights = Flights()
    flight = flights.start("a.py", PREFIX, SUFFIX)
    flight.text, flight.final = written, final
    assert flights.follows("a.py", PREFIX + typed, SUFFIX) is follows
    assert flights.answer("a.py", PREFIX + typed, SUFFIX) == answer
    assert not flights.follows("b.py", PREFIX + typed, SUFFIX) and not flights.follows(
        "a.py", PREFIX + typed, "x\n"
    )


def test_a_cancelled_generation_is_never_adopted() -> None:
    flights = Flights()
    cancel = Cancellation()
    flights.start("a.py", PREFIX, SUFFIX, cancel).text = "load"
    assert flights.follows("a.py", PREFIX + "lo", SUFFIX)
    cancel.cancel()
    assert not flights.follows("a.py", PREFIX + "lo", SUFFIX)


def test_an_adopted_flight_answers_once_finished_and_only_where_it_agrees() -> None:
    flights = Flights()
    flight = flights.start("a.py", PREFIX, SUFFIX)
    flight.text = "lo"
    assert flights.follows("a.py", PREFIX + "l", SUFFIX)  # adopted while running
    flight.text, flight.final = "load(f)", "load(f)"
    assert flights.answer("a.py", PREFIX + "lo", SUFFIX) == "ad(f)"
    assert flights.answer("a.py", PREFIX + "load(f)", SUFFIX) is None  # typed all of it: nothing left to show
    assert flights.answer("a.py", PREFIX, SUFFIX) is None  # the same cursor again: a new request
    assert flights.answer("a.py", PREFIX + "x", SUFFIX) is None


class Paused:
    """Streams its text one character per token and waits for `go` after the first `pause_after` tokens."""

    heals = False
    adapter = None

    def __init__(self, text: str, pause_after: int) -> None:
        self.text, self.pause_after = text, pause_after
        self.go, self.paused = threading.Event(), threading.Event()
        self.calls = 0

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def generate(self, request: GenerationRequest, cancel: Cancellation | None = None) -> Generation:
        self.calls += 1

        def next_token(previous: int | None, allowed: object) -> int:
            index = 0 if previous is None else previous + 1
            if index == self.pause_after:
                self.paused.set()
                self.go.wait(30)
            return index

        return run_generation(
            request,
            cancel,
            prompt_tokens=1,
            reused_tokens=0,
            prefill=lambda _: True,
            next_token=next_token,
            decode=lambda tokens: self.text[: len(tokens)],
            stop_ids={len(self.text)},
        )


def test_typing_what_the_running_generation_writes_is_answered_from_it() -> None:
    backend = Paused("load(f)", pause_after=3)
    engine = CompletionEngine(  # type: ignore[arg-type]
        backend, Settings.model_validate({"server": {"tuning": {"cache_entries": 0}}}), repo_name=None
    )
    text = PREFIX + SUFFIX
    first: list[object] = []
    worker = threading.Thread(
        target=lambda: first.append(engine.complete(CompletionInput("a.py", text, len(PREFIX), "python")))
    )
    worker.start()
    assert backend.paused.wait(30)  # "loa" written, the model busy with the next token
    typed = PREFIX + "lo"
    assert engine.continues(CompletionInput("a.py", typed + SUFFIX, len(typed), "python"))
    assert not engine.continues(CompletionInput("a.py", PREFIX + "x" + SUFFIX, len(PREFIX) + 1, "python"))
    backend.go.set()
    worker.join(30)
    output = engine.complete(CompletionInput("a.py", typed + SUFFIX, len(typed), "python"))
    assert (output.text, output.cached, backend.calls) == ("ad(f)", "in-flight", 1)
    other = engine.complete(CompletionInput("a.py", PREFIX + "x" + SUFFIX, len(PREFIX) + 1, "python"))
    assert other.cached == "" and backend.calls == 2  # what it did not write goes to the model


def test_reuse_can_be_turned_off() -> None:
    backend = Paused("load(f)", pause_after=3)
    settings = Settings.model_validate({"completion": {"tuning": {"reuse_in_flight": False}}})
    engine = CompletionEngine(backend, settings, repo_name=None)  # type: ignore[arg-type]
    worker = threading.Thread(
        target=lambda: engine.complete(CompletionInput("a.py", PREFIX + SUFFIX, len(PREFIX), "python"))
    )
    worker.start()
    assert backend.paused.wait(30)
    typed = PREFIX + "lo"
    assert not engine.continues(CompletionInput("a.py", typed + SUFFIX, len(typed), "python"))
    backend.go.set()
    worker.join(30)
