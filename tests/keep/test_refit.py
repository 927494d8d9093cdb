"""A workspace's own keep model: used where it foretells the newest events better, refused where not."""

from __future__ import annotations

import random

from housecoder.keep.model import KeepModel
from housecoder.keep.refit import MIN_EVENTS, losses, refit
from housecoder.keep.signals import FEATURES


def events(count: int, rule: float, seed: int = 0) -> tuple[list[dict[str, float]], list[bool]]:
    """Suggestions kept when `rule` × (mean log-probability + 1) wins a coin weighted by it."""
    rng = random.Random(seed)
    rows, kept = [], []
    for _ in range(count):
        row = {name: rng.random() for name in FEATURES} | {"mean_logprob": -2 * rng.random()}
        z = rule * (row["mean_logprob"] + 1)
        rows.append(row)
        kept.append(rng.random() < 1 / (1 + 2.718281828**-z))
    return rows, kept


FLAT = KeepModel(("mean_logprob",), (-1.0,), (1.0,), (0.0,), 0.0)  # knows nothing: p_keep 0.5


def test_a_refit_that_foretells_better_is_used_and_fitted_on_everything() -> None:
    rows, kept = events(400, 6.0)
    outcome = refit(rows, kept, FLAT, about={"workspace": "shop"}, base=FLAT, features=FEATURES)
    assert outcome.model is not None and outcome.held_out == 100 and outcome.events == 400
    assert outcome.refit_loss is not None and outcome.current_loss is not None
    assert outcome.refit_loss < outcome.current_loss
    assert outcome.model.about["examples"] == 400 and outcome.model.about["workspace"] == "shop"
    assert sum(losses(outcome.model, rows, kept)) < sum(losses(FLAT, rows, kept))
    assert outcome.line().startswith("keep model refitted: held-out log-loss")


def test_a_refit_that_foretells_worse_is_refused() -> None:
    # the user's habits changed: the newest quarter follows the opposite rule, which the model in use knows
    old_rows, old_kept = events(300, 6.0, seed=1)
    new_rows, new_kept = events(100, -6.0, seed=2)
    knows = KeepModel(("mean_logprob",), (-1.0,), (1.0,), (-6.0,), 0.0)
    outcome = refit(old_rows + new_rows, old_kept + new_kept, knows, about={})
    assert outcome.model is None and outcome.reason == "it foretells worse"
    assert outcome.line().startswith("keep model refit refused: held-out log-loss")


def test_too_few_or_one_sided_events_are_nothing_to_refit_on() -> None:
    rows, kept = events(MIN_EVENTS - 1, 6.0)
    assert refit(rows, kept, FLAT, about={}).line() == (
        f"keep model not refitted: {MIN_EVENTS - 1} decided suggestions with signals, {MIN_EVENTS} needed"
    )
    rows, _ = events(200, 6.0)
    assert "same fate" in refit(rows, [False] * 200, FLAT, about={}).reason


def test_events_recorded_without_a_signal_the_model_reads_are_left_out() -> None:
    rows, kept = events(400, 6.0)
    old = [{"mean_logprob": row["mean_logprob"]} for row in rows[:100]]  # an older version's signals
    outcome = refit(old + rows[100:], kept, FLAT, about={}, base=FLAT, features=FEATURES)
    assert outcome.events == 400  # FLAT reads mean_logprob alone: every event has it
    assert outcome.model is not None and outcome.model.features == ("mean_logprob",)
    reads_more = KeepModel(("mean_logprob", "first_margin"), (-1.0, 1.0), (1.0, 1.0), (0.0, 0.0), 0.0)
    outcome = refit(old + rows[100:], kept, reads_more, about={}, base=FLAT, features=FEATURES)
    assert outcome.events == 300 and outcome.model is not None
    # the shipped model is adjusted unless told otherwise: it reads every signal
    assert refit(old + rows[100:], kept, FLAT, about={}).events == 300
    assert refit([{}] * 100, [True, False] * 50, FLAT, about={}).events == 0


def test_the_refit_adjusts_the_base_model_and_learns_a_signal_base_never_read() -> None:
    # base knows the confidence rule; this user also keeps nothing written after an accept a moment ago
    rng = random.Random(3)
    rows, kept = [], []
    for _ in range(120):
        row = {"mean_logprob": -2 * rng.random(), "since_decision": rng.choice([0.0, 6.0])}
        rows.append(row)
        kept.append(
            rng.random() < 1 / (1 + 2.718281828 ** -(6 * (row["mean_logprob"] + 1)))
            and row["since_decision"] > 0
        )
    knows = KeepModel(("mean_logprob",), (-1.0,), (1.0,), (6.0,), 0.0)
    outcome = refit(rows, kept, knows, about={}, base=knows)
    assert outcome.model is not None and "since_decision" in outcome.model.features
    weights = dict(zip(outcome.model.features, outcome.model.coef, strict=True))
    assert weights["since_decision"] > 0 and weights["mean_logprob"] > 0
