"""A chosen token's log-probability and its lead over the runner-up (`token_scores`), against the definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from housecoder.inference.streaming import token_scores


def test_the_log_probability_is_the_log_softmax_and_the_margin_the_lead_over_the_best_other() -> None:
    logits = np.array([2.0, 0.5, -1.0, 1.5], dtype=np.float32)
    total = math.log(sum(math.exp(x) for x in logits))
    logprob, margin = token_scores(logits, 0)
    assert logprob == pytest.approx(2.0 - total) and margin == pytest.approx(0.5)
    logprob, margin = token_scores(logits, 3)  # a sampled token behind the best one
    assert logprob == pytest.approx(1.5 - total) and margin == pytest.approx(-0.5)


def test_a_tie_has_no_margin_and_a_huge_vocabulary_stays_finite() -> None:
    assert token_scores(np.array([1.0, 1.0, 0.0]), 1)[1] == 0.0
    logits = np.full(151_000, -30.0, dtype=np.float32)
    logits[7] = 40.0
    logprob, margin = token_scores(logits, 7)
    assert logprob == pytest.approx(0.0, abs=1e-6) and margin == pytest.approx(70.0)
