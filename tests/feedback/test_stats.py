"""`housecoder stats` figures from a store's records."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from feedback_fixture import suggestion as make_suggestion

from housecoder.feedback.stats import (
    NO_ACCEPTS,
    keep_bucket,
    keep_events,
    render,
    summarize,
    today,
    write_chart,
)
from housecoder.feedback.store import Check, FeedbackStore
from housecoder.numeric import percentile

BASE = make_suggestion(
    0,
    id="a",
    shown_at=1_700_000_000.0,
    path="app/x.py",
    latency_ms=100.0,
    text="return total",
    before="def f():\n    ",
    cursor=13,
)


def test_acceptance_characters_and_latency_overall_and_split() -> None:
    suggestions = [
        replace(BASE, id="a", outcome="accepted", accepted_chars=12, latency_ms=100.0, p_keep=0.93),
        replace(
            BASE, id="b", outcome="partial", accepted_chars=6, latency_ms=300.0, kind="block", adapter="run-1"
        ),
        replace(
            BASE, id="c", outcome="rejected", latency_ms=200.0, context=False, language="go", p_keep=0.25
        ),
        replace(BASE, id="d", latency_ms=400.0, shown_at=BASE.shown_at + 86_400),
    ]
    checks = {
        "a": [Check("a", 30, 0, True, 12, 1.0, "return total"), Check("a", 300, 0, True, 6, 0.5, "return")],
        "b": [Check("b", 30, 0, False, 0, 0.0, "")],
    }
    stats = summarize(suggestions, checks, since=0)
    total = stats.total
    assert (total.shown, total.accepted, stats.rejected) == (4, 2, 1) and total.acceptance == 0.5
    assert total.accepted_chars == 12 + 6 and total.retained_chars == 6 and total.checked == 2
    assert total.p50_ms == 250.0 and percentile([100, 200, 300, 400], 95) == total.p95_ms
    kinds = {g.name: (g.shown, g.accepted) for g in stats.splits["kind"]}
    assert kinds == {"block": (1, 1), "line": (3, 1)}
    assert {g.name: g.shown for g in stats.splits["context"]} == {"in-file": 1, "repository context": 3}
    assert {g.name: g.accepted for g in stats.splits["adapter"]} == {"adapter": 1, "base model": 1}
    assert [(d.shown, d.accepted) for d in stats.days] == [(3, 2), (1, 0)]
    keep = {g.name: (g.shown, g.accepted) for g in stats.splits["p_keep"]}
    assert keep == {"0.8-1.0": (1, 1), "0.2-0.4": (1, 0), "not scored": (2, 1)}
    assert (keep_bucket(0.0), keep_bucket(1.0), keep_bucket(0.4)) == ("0.0-0.2", "0.8-1.0", "0.4-0.6")
    assert stats.notice == ""
    text = "\n".join(render(stats))
    assert "4 suggestions shown, 2 accepted (50.0%), 1 rejected" in text and "by language" in text


def test_a_client_that_never_reports_accepts_is_told_so() -> None:
    stats = summarize([replace(BASE, id=str(n)) for n in range(5)], {}, since=0)
    assert stats.notice == NO_ACCEPTS and NO_ACCEPTS in render(stats)
    assert summarize([], {}, since=0).notice == ""


def test_today_counts_only_today(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "repo.sqlite")
    assert today(store) == {"shown": 0, "accepted": 0, "rate": None}
    now = time.time()
    for suggestion in (
        replace(BASE, id="a", shown_at=now, outcome="accepted"),
        replace(BASE, id="b", shown_at=now),
        replace(BASE, id="c"),
    ):
        store.shown(suggestion)
    figures = today(store)
    assert figures == {"shown": 2, "accepted": 1, "rate": 0.5}


def test_the_chart_is_a_png(tmp_path: Path) -> None:
    stats = summarize([replace(BASE, outcome="accepted", accepted_chars=3)], {}, since=0)
    write_chart(stats, tmp_path / "out" / "chart.png")
    assert (tmp_path / "out" / "chart.png").read_bytes().startswith(b"\x89PNG")


def test_the_fates_a_keep_model_is_refitted_on() -> None:
    scored = {"mean_logprob": -0.5}
    suggestions = [
        replace(BASE, id="kept", outcome="accepted", accepted_chars=12, signals=scored),
        replace(BASE, id="rewritten", outcome="accepted", accepted_chars=12, signals=scored),
        replace(BASE, id="rejected", outcome="rejected", signals=scored),
        replace(BASE, id="unchecked", outcome="accepted", accepted_chars=12, signals=scored),
        replace(BASE, id="undecided", signals=scored),
        replace(BASE, id="unscored", outcome="rejected"),
    ]
    checks = {
        "kept": [Check("kept", 30, 0, True, 7, 7 / 12, "return ")],
        "rewritten": [Check("rewritten", 30, 0, True, 5, 5 / 12, "retur")],
    }
    rows, kept = keep_events(suggestions, checks)
    assert rows == [scored] * 3 and kept == [True, False, False]


def test_a_code_model_s_keep_events_are_its_own_and_those_of_before_stores_named_one() -> None:
    scored = {"mean_logprob": -0.5}
    suggestions = [
        replace(BASE, id="old", outcome="rejected", signals=scored),  # before stores named the model
        replace(BASE, id="small", outcome="rejected", signals=scored, model="small"),
        replace(BASE, id="large", outcome="rejected", signals=scored, model="large"),
    ]
    assert keep_events(suggestions, {}, "small") == ([scored] * 2, [False] * 2)
    assert keep_events(suggestions, {})[1] == [False] * 3


def test_the_keep_probability_against_what_was_kept(tmp_path: Path) -> None:
    suggestions = [replace(BASE, id=f"r{n}", outcome="rejected", p_keep=0.15 + n / 100) for n in range(3)] + [
        replace(BASE, id="kept", outcome="accepted", accepted_chars=12, p_keep=0.85),
        replace(BASE, id="undecided", p_keep=0.85),
        replace(BASE, id="unscored", outcome="rejected"),
    ]
    checks = {"kept": [Check("kept", 30, 0, True, 12, 1.0, "return total")]}
    stats = summarize(suggestions, checks, since=0)
    assert [(b.low, b.n, b.observed) for b in stats.reliability] == [(0.1, 3, 0.0), (0.8, 1, 1.0)]
    assert "calibration error 0.158 over 4 decided suggestions" in "\n".join(render(stats))
    assert summarize(suggestions[-2:], checks, since=0).reliability == []
    write_chart(stats, tmp_path / "chart.png")  # with the reliability diagram beside the days
    assert (tmp_path / "chart.png").read_bytes().startswith(b"\x89PNG")
