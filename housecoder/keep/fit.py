"""Fitting a keep model: logistic regression (scikit-learn) on standardised signals.

Used by `housecoder bench keep` (the shipped default, fitted on benchmark tasks). scikit-learn is imported
here only, so serving never needs it.
"""

from __future__ import annotations

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
