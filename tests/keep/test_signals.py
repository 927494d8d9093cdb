"""The keep-probability's signals: scores, the cursor, repetition; nothing where there is nothing to score."""

from __future__ import annotations

import math

import pytest

from housecoder.keep.signals import DECISION_CAP_S, FEATURES, FLOOR, signals


def signals_of(text: str = "json.load(f)\n", **overrides: object) -> dict[str, float] | None:
    given: dict[str, object] = {
        "logprobs": (-0.1, -2.5, -0.3),
        "first_margin": 1.2,
        "raw": text,
        "text": text,
        "prefix": "import json\n\ndef read(path):\n    with open(path) as f:\n        return ",
        "suffix": "\n",
        "reason": "end of a line",
        "multi_line": False,
        "context": True,
        "adapter": False,
        "stopped_by": "newline",
    }
    return signals(**(given | overrides))  # type: ignore[arg-type]


def test_scores_and_place() -> None:
    found = signals_of()
    assert found is not None and tuple(found) == FEATURES
    assert found["sum_logprob"] == pytest.approx(-2.9)
    assert found["mean_logprob"] == pytest.approx(-2.9 / 3)
    assert found["min_logprob"] == -2.5 and found["first_logprob"] == -0.1 and found["first_margin"] == 1.2
    assert found["log_tokens"] == pytest.approx(math.log(4))
    assert found["mid_line"] == 1.0 and found["mid_word"] == 0.0 and found["empty_line"] == 0.0
    assert found["context"] == 1.0 and found["adapter"] == 0.0 and found["cut"] == 0.0
    assert found["repeats_prefix"] == 0.0 and found["repeats_suffix"] == 0.0
    # no decision yet: as one longer ago than the cap; a recent one, its seconds
    assert found["since_decision"] == pytest.approx(math.log1p(DECISION_CAP_S))
    recent = signals_of(since_decision=2.0)
    assert recent is not None and recent["since_decision"] == pytest.approx(math.log1p(2.0))
    late = signals_of(since_decision=10 * DECISION_CAP_S)
    assert late is not None and late["since_decision"] == found["since_decision"]


def test_cursor_kinds_cuts_and_floors() -> None:
    mid_word = signals_of("on.load(f)", prefix="x = js")
    assert mid_word is not None and mid_word["mid_word"] == 1.0
    opener = signals_of("    pass\n", prefix="def f():\n    ", reason="empty line after a block opener")
    assert opener is not None and opener["empty_line"] == opener["after_opener"] == 1.0
    assert opener["mid_line"] == 0.0
    cut = signals_of("x = 1", raw="x = 1\ny = 2\n", logprobs=(-50.0,), stopped_by="length")
    assert (
        cut is not None and cut["cut"] == 1.0 and cut["min_logprob"] == FLOOR and cut["stopped_length"] == 1.0
    )


def test_repeating_the_lines_around_the_cursor() -> None:
    prefix = "a = 1\nb = 2\n"
    again = signals_of("a = 1", prefix=prefix)
    assert again is not None and again["repeats_prefix"] == 1.0
    below = signals_of("\nb = 2", prefix=prefix + "x = 0")  # starts on the next line: compared as it is
    assert below is not None and below["repeats_prefix"] == 1.0
    ahead = signals_of("c = 3", prefix=prefix, suffix="\nc = 3\n")
    assert ahead is not None and ahead["repeats_suffix"] == 1.0 and ahead["repeats_prefix"] == 0.0


def test_nothing_to_score() -> None:
    assert signals_of("  \n") is None
    assert signals_of(logprobs=()) is None  # a remote engine that sent no log-probabilities
