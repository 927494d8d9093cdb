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
    """`base` adjusted to `rows`: logistic regression over base's own score (its logit) and `features`,
    folded back into one model over both sets of signals.

    The regularisation pulls every adjustment towards none, so a few dozen events move the model only where
    they agree (the user's own share of keeps, the scale of base's score, a signal base never saw vary), and
    many events may reweigh any signal. Features constant over `rows` are left out (they say nothing here)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    if len(set(kept)) < 2:
        raise ValueError("fitting needs both kept and rejected suggestions")
    varying = [name for name in features if len({row[name] for row in rows}) > 1]
    extra = np.array([[row[name] for name in varying] for row in rows], dtype=float).reshape(len(rows), -1)
    logits = np.array([[base.logit(row)] for row in rows], dtype=float)
    matrix = np.hstack([logits, extra])
    scaler = StandardScaler().fit(matrix)
    model = LogisticRegression(C=C, max_iter=1000).fit(scaler.transform(matrix), np.array(kept, dtype=int))
    # logit = a + b (z − μz)/σz + Σ w (x − m)/s, z = I + Σ c (x − μ)/σ: a constant and one slope per signal
    (slope, *weights), (z_mean, *means), (z_scale, *scales) = model.coef_[0], scaler.mean_, scaler.scale_
    ratio = slope / z_scale
    raw = {
        name: ratio * coef / scale
        for name, coef, scale in zip(base.features, base.coef, base.scale, strict=True)
    }
    constant = model.intercept_[0] + ratio * (base.intercept - z_mean)
    constant -= ratio * sum(
        coef * mean / scale for coef, mean, scale in zip(base.coef, base.mean, base.scale, strict=True)
    )
    for name, weight, mean, scale in zip(varying, weights, means, scales, strict=True):
        raw[name] = raw.get(name, 0.0) + weight / scale
        constant -= weight * mean / scale
    # each signal standardised as base had it, a new one as it varied here; ranges: base's, widened to the rows'
    known = dict(zip(base.features, zip(base.mean, base.scale, strict=True), strict=True))
    seen = dict(zip(varying, zip(means, scales, strict=True), strict=True))
    names = [*base.features, *(name for name in varying if name not in known)]
    centre = [known.get(name, seen.get(name, (0.0, 1.0)))[0] for name in names]
    spread = [known.get(name, seen.get(name, (0.0, 1.0)))[1] for name in names]
    values = {name: [row[name] for row in rows if name in row] for name in names}
    ranges = dict(zip(base.features, zip(base.low, base.high, strict=True), strict=True)) if base.low else {}
    low = [min([*values[name], ranges.get(name, (math.inf, -math.inf))[0]]) for name in names]
    high = [max([*values[name], ranges.get(name, (math.inf, -math.inf))[1]]) for name in names]
    return KeepModel(
        features=tuple(names),
        mean=tuple(float(value) for value in centre),
        scale=tuple(float(value) for value in spread),
        coef=tuple(float(raw[name] * scale) for name, scale in zip(names, spread, strict=True)),
        intercept=float(constant + sum(raw[name] * mean for name, mean in zip(names, centre, strict=True))),
        low=tuple(float(value) for value in low) if base.low else (),
        high=tuple(float(value) for value in high) if base.low else (),
        about=dict(about or {}) | {"examples": len(rows), "kept": int(sum(kept))},
    )
