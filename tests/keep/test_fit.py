"""Adjusting a keep model to a workspace: the adjustment folds back into one model over the signals."""

from __future__ import annotations

import math
import random

import pytest

from housecoder.keep.fit import fit, fit_update
from housecoder.keep.model import KeepModel


def events(count: int, seed: int = 0) -> tuple[list[dict[str, float]], list[bool]]:
    """Kept by a rule base knows half of: confidence, and (unknown to base) the cursor mid-word."""
    rng = random.Random(seed)
    rows, kept = [], []
    for _ in range(count):
        row = {"mean_logprob": -2 * rng.random(), "mid_word": float(rng.random() < 0.5), "cut": 0.0}
        z = 4 * (row["mean_logprob"] + 1) - 2 * row["mid_word"] + 1
        rows.append(row)
        kept.append(rng.random() < 1 / (1 + math.exp(-z)))
    return rows, kept


BASE = KeepModel(("mean_logprob",), (-1.0,), (0.5,), (1.0,), 0.0, low=(-1.5,), high=(-0.2,))


def test_the_folded_model_is_the_regression_over_base_score_and_signals(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sklearn.linear_model import LogisticRegression

    from housecoder.keep import fit as fitting

    rows, kept = events(300)
    model = fit_update(rows, kept, BASE, features=("mean_logprob", "mid_word", "cut"))
    # the constant signal says nothing and is left out; base's own keeps its standardisation and range
    assert model.features == ("mean_logprob", "mid_word")
    assert (model.low, model.high) == ((-1.5, 0.0), (-0.2, 1.0))
    assert model.mean[0] == -1.0 and model.scale[0] == 0.5
    assert model.about == {"examples": 300, "kept": sum(kept)}
    # unregularised, the adjustment is the plain regression over base's score and the signals
    monkeypatch.setattr(fitting, "C", 1e9)
    loose = fit_update(rows, kept, BASE, features=("mean_logprob", "mid_word"))

    def inputs(row: dict[str, float]) -> list[float]:  # held to base's range, as base holds it
        return [BASE.logit(row), min(-0.2, max(-1.5, row["mean_logprob"])), row["mid_word"]]

    direct = LogisticRegression(C=math.inf, max_iter=5000, tol=1e-10).fit([inputs(r) for r in rows], kept)
    expected = direct.predict_proba([inputs(row) for row in rows])[:, 1]
    assert [loose.p_keep(row) for row in rows] == pytest.approx(list(expected), abs=1e-4)


def test_with_few_events_the_adjustment_keeps_base_ranking_and_moves_its_level() -> None:
    rows, kept = events(12, seed=4)
    kept = [True] * 9 + [False] * 3  # this user keeps most
    model = fit_update(rows, kept, BASE, features=())
    scores = [(BASE.p_keep(row), model.p_keep(row)) for row in rows]
    assert sorted(range(12), key=lambda i: scores[i][0]) == sorted(range(12), key=lambda i: scores[i][1])
    assert sum(after for _, after in scores) > sum(before for before, _ in scores)


def test_a_few_events_adjust_base_where_a_fresh_fit_cannot_learn() -> None:
    few_rows, few_kept = events(40, seed=1)
    test_rows, test_kept = events(2000, seed=2)

    def loss(model: KeepModel) -> float:
        return -sum(
            math.log(model.p_keep(row) if outcome else 1 - model.p_keep(row))
            for row, outcome in zip(test_rows, test_kept, strict=True)
        ) / len(test_rows)

    updated = fit_update(few_rows, few_kept, BASE, features=("mid_word",))
    fresh = fit(few_rows, few_kept, features=("mean_logprob", "mid_word"))
    assert updated.coef[updated.features.index("mid_word")] < 0  # the signal base never read, learned
    assert loss(updated) < loss(BASE) and loss(updated) < loss(fresh) + 0.02


def test_one_sided_events_are_refused() -> None:
    rows, _ = events(50)
    with pytest.raises(ValueError, match="both kept and rejected"):
        fit_update(rows, [True] * 50, BASE)
