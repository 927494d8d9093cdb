"""One recorded suggestion for the feedback tests: a line completion with repository context, what a test
changes given as keywords; and a decided history to refit a keep model on."""

from __future__ import annotations

import random

from housecoder.feedback.store import Check, FeedbackStore, Suggestion


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


# how sure the model was of a suggestion, in the keep signals (a user of `keep_history` keeps the sure ones)
SURE = {
    "sum_logprob": -0.05,
    "mean_logprob": -0.01,
    "min_logprob": -0.03,
    "first_logprob": -0.01,
    "first_margin": 8.0,
}
UNSURE = {
    "sum_logprob": -14.0,
    "mean_logprob": -2.0,
    "min_logprob": -7.0,
    "first_logprob": -3.0,
    "first_margin": 0.1,
}


def keep_history(store: FeedbackStore, count: int = 200, seed: int = 0, model: str | None = None) -> int:
    """`count` suggestions (of the code model `model`) decided in `store` by a user who keeps what the model was
    sure of (accepted and still there at the check) and rejects the rest; returns how many were kept. Closes
    the store."""
    from housecoder.keep import FEATURES

    rng = random.Random(seed)
    kept = 0
    for n in range(1, count + 1):
        sure = rng.random() < 0.5
        kept += sure
        scores = {name: value * rng.uniform(0.5, 1.5) for name, value in (SURE if sure else UNSURE).items()}
        signals = {name: float(rng.random() < 0.5) for name in FEATURES} | scores
        store.shown(suggestion(n, signals=signals, p_keep=0.5, model=model))
        store.decide(f"s{n}", "accepted" if sure else "rejected", 12 if sure else None, at=2000.0 + n)
        if sure:
            store.check(Check(f"s{n}", 30, 2030.0 + n, True, 12, 1.0, "return value"))
    store.close()
    return kept
