"""One recorded suggestion for the feedback tests: a line completion with repository context, what a test
changes given as keywords."""

from __future__ import annotations

from housecoder.feedback.store import Suggestion


def suggestion(number: int, shown_at: float = 1000.0, **changes: object) -> Suggestion:
    base = Suggestion(
        id=f"s{number}",
        shown_at=shown_at + number,
        path="app/main.py",
        language="python",
        kind="line",
        context=True,
        adapter=None,
        layout="line-start",
        latency_ms=120.0 + number,
        text="return value",
        before="def f(value):\n    ",
        after="\n",
        cursor=18,
    )
    return Suggestion(**{**base.__dict__, **changes})  # type: ignore[arg-type]
