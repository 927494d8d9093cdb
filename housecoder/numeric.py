"""Small numeric helpers shared by the benchmarks and the feedback statistics (pure): percentiles, and the
reliability bins and expected calibration error of probabilities against what happened (`housecoder bench keep`
and `housecoder stats --chart` draw the reliability diagram from them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) by linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


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
