"""Numeric helpers: the reliability bins and the expected calibration error."""

from __future__ import annotations

import pytest

from housecoder.numeric import Bin, expected_error, reliability


def test_bins_hold_their_suggestions_and_a_perfect_score_falls_in_the_last() -> None:
    found = reliability([0.05, 0.05, 0.95, 1.0, 0.5], [False, False, True, True, False])
    assert [(b.low, b.n) for b in found] == [(0.0, 2), (0.5, 1), (0.9, 2)]
    assert found[0].observed == 0.0 and found[-1].predicted == pytest.approx(0.975)
    assert expected_error(found) == pytest.approx((2 * 0.05 + 0.5 + 2 * 0.025) / 5)


def test_no_suggestions_no_error() -> None:
    assert reliability([], []) == [] and expected_error([]) == 0.0
    assert expected_error([Bin(0.0, 0.1, 4, 0.05, 0.05)]) == 0.0
