"""Fitting a keep model: logistic regression (scikit-learn) on standardised signals.

`fit` makes a model from nothing (`housecoder bench keep`: the shipped default, fitted on benchmark tasks);
`fit_update` adjusts a model to a workspace's own events (`housecoder.keep.refit`). scikit-learn is imported
here only, so serving never needs it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from housecoder.keep.model import KeepModel
from housecoder.keep.signals import FEATURES

# inverse regularisation strength: a few hundred examples and ~20 correlated signals want it firm
C = 0.5


def fit(
    rows: Sequence[dict[str, float]],
    kept: Sequence[bool],
    *,
    features: Sequence[str] = FEATURES,
    about: dict[str, Any] | None = None,
) -> KeepModel:
    """A model of P(kept) over `features` of `rows`; `kept` must hold both outcomes."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    if len(set(kept)) < 2:
        raise ValueError("fitting needs both kept and rejected suggestions")
    matrix = np.array([[row[name] for name in features] for row in rows], dtype=float)
    scaler = StandardScaler().fit(matrix)
    model = LogisticRegression(C=C, max_iter=1000).fit(scaler.transform(matrix), np.array(kept, dtype=int))
    return KeepModel(
        features=tuple(features),
        mean=tuple(float(value) for value in scaler.mean_),
        scale=tuple(float(value) for value in scaler.scale_),
        coef=tuple(float(value) for value in model.coef_[0]),
        intercept=float(model.intercept_[0]),
        low=tuple(float(value) for value in matrix.min(axis=0)),
        high=tuple(float(value) for value in matrix.max(axis=0)),
        about=dict(about or {}) | {"examples": len(rows), "kept": int(sum(kept))},
    )


def fit_update(
    rows: Sequence[dict[str, float]],
    kept: Sequence[bool],
    base: KeepModel,
    *,
    features: Sequence[str] = FEATURES,
    about: dict[str, Any] | None = None,
) -> KeepModel:
    """`base` adjusted to `rows`, folded back into one model over base's signals and `features`.

    The adjustment is a logistic regression with base's own score (its logit z) as the starting point:
    logit = z + a + d·(z − μz)/σz + Σ w·(x − m)/s over the standardised `features`. The shift `a` (the user's
    own share of keeps) is free; the change of scale `d` and the weights `w` are pulled towards zero (the same
    `C` as `fit`), so a few dozen events leave base's ranking as it was and many may reweigh any signal,
    including one base never saw vary. Features constant over `rows` are left out (they say nothing here)."""
    import numpy as np
    from scipy.optimize import minimize
    from scipy.special import expit
    from sklearn.preprocessing import StandardScaler

    if len(set(kept)) < 2:
        raise ValueError("fitting needs both kept and rejected suggestions")
    varying = [name for name in features if len({row[name] for row in rows}) > 1]
    ranges = _ranges(rows, base, varying)
    extra = np.array(
        [[_held(row[name], ranges.get(name)) for name in varying] for row in rows], dtype=float
    ).reshape(len(rows), -1)
    offset = np.array([base.logit(row) for row in rows], dtype=float)
    scaler = StandardScaler().fit(np.hstack([offset[:, None], extra]))
    inputs, outcome = scaler.transform(np.hstack([offset[:, None], extra])), np.array(kept, dtype=float)

    def objective(params: Any) -> tuple[float, Any]:
        eta = offset + params[0] + inputs @ params[1:]
        loss = np.sum(np.logaddexp(0.0, eta) - outcome * eta) + params[1:] @ params[1:] / (2 * C)
        error = expit(eta) - outcome
        return float(loss), np.concatenate([[error.sum()], inputs.T @ error + params[1:] / C])

    found = minimize(objective, np.zeros(1 + inputs.shape[1]), jac=True, method="L-BFGS-B").x
    (shift, change, *weights), (z_mean, *means), (z_scale, *scales) = found, scaler.mean_, scaler.scale_
    # z = I + Σ c (x − μ)/σ over base's signals: the logit is a constant and one slope per signal
    ratio = 1.0 + change / z_scale
    raw = {
        name: ratio * coef / scale
        for name, coef, scale in zip(base.features, base.coef, base.scale, strict=True)
    }
    constant = shift - change * z_mean / z_scale + ratio * base.intercept
    constant -= ratio * sum(
        coef * mean / scale for coef, mean, scale in zip(base.coef, base.mean, base.scale, strict=True)
    )
    for name, weight, mean, scale in zip(varying, weights, means, scales, strict=True):
        raw[name] = raw.get(name, 0.0) + weight / scale
        constant -= weight * mean / scale
    # each signal standardised as base had it, a new one as it varied here
    standard = dict(zip(varying, zip(means, scales, strict=True), strict=True))
    standard |= dict(zip(base.features, zip(base.mean, base.scale, strict=True), strict=True))
    names = [*base.features, *(name for name in varying if name not in base.features)]
    centre = [standard[name][0] for name in names]
    spread = [standard[name][1] for name in names]
    low = [ranges[name][0] for name in names] if ranges else []
    high = [ranges[name][1] for name in names] if ranges else []
    return KeepModel(
        features=tuple(names),
        mean=tuple(float(value) for value in centre),
        scale=tuple(float(value) for value in spread),
        coef=tuple(float(raw[name] * scale) for name, scale in zip(names, spread, strict=True)),
        intercept=float(constant + sum(raw[name] * mean for name, mean in zip(names, centre, strict=True))),
        low=tuple(float(value) for value in low),
        high=tuple(float(value) for value in high),
        about=dict(about or {}) | {"examples": len(rows), "kept": int(sum(kept))},
    )


def _ranges(
    rows: Sequence[dict[str, float]], base: KeepModel, varying: Sequence[str]
) -> dict[str, tuple[float, float]]:
    """The range each signal of the adjusted model is held to (none where base has none): base's own, so its
    score stays what it was fitted as, except where base saw a signal take one value only (it weighs nothing
    there): that one and a new one span what `rows` hold."""
    if not base.low:
        return {}
    found = dict(zip(base.features, zip(base.low, base.high, strict=True), strict=True))
    for name in varying:
        values = [row[name] for row in rows]
        low, high = found.get(name, (math.inf, -math.inf))
        if low >= high:
            found[name] = (min(low, *values), max(high, *values))
    return found


def _held(value: float, span: tuple[float, float] | None) -> float:
    return value if span is None else min(span[1], max(span[0], value))
