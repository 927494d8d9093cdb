"""How well keep-probabilities match what happened: the reliability bins and the expected calibration error.

Pure: the benchmark (`housecoder bench keep`) and the workspace report (`housecoder stats --chart`) both draw
the reliability diagram from these bins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

BINS = 10  # equal-width bins of p_keep


@dataclass(frozen=True)
class Bin:
    """The suggestions whose p_keep fell in [low, high): how many, their mean p_keep, the share kept."""

    low: float
    high: float
    n: int
    predicted: float
    observed: float


def reliability(scores: Sequence[float], outcomes: Sequence[bool], bins: int = BINS) -> list[Bin]:
    """The non-empty bins, lowest first (a p_keep of exactly 1 falls in the last)."""
    found = []
    for index in range(bins):
        low, high = index / bins, (index + 1) / bins
        inside = [
            (p, y)
            for p, y in zip(scores, outcomes, strict=True)
            if low <= p < high or (index == bins - 1 and p >= 1.0)
        ]
        if inside:
            found.append(
                Bin(
                    low=low,
                    high=high,
                    n=len(inside),
                    predicted=sum(p for p, _ in inside) / len(inside),
                    observed=sum(y for _, y in inside) / len(inside),
                )
            )
    return found


def expected_error(found: Sequence[Bin]) -> float:
    """Expected calibration error: the bins' gaps between predicted and observed, weighted by their size."""
    total = sum(b.n for b in found)
    return sum(b.n / total * abs(b.predicted - b.observed) for b in found) if total else 0.0
