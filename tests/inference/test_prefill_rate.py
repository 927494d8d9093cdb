"""The measured prefill rate: what counts, its median, and when it says the machine is fast."""

from __future__ import annotations

from housecoder.inference.base import Cancellation
from housecoder.inference.prefill_rate import MIN_SAMPLES, PrefillRate, fast_prefill
from housecoder.inference.streaming import chunked_prefill


def test_the_rate_is_the_median_of_the_recent_prefills_long_enough_to_measure() -> None:
    rate = PrefillRate(samples=4, min_tokens=100)
    rate.record(50, 0.001)  # too short: mostly fixed cost
    rate.record(1000, 0.0)  # no time measured
    assert rate.tokens_per_second() is None
    for seconds in (1.0, 2.0):
        rate.record(1000, seconds)
    assert rate.tokens_per_second() is None  # fewer than MIN_SAMPLES say nothing yet
    rate.record(1000, 10.0)  # one prefill slowed by other work does not move the median
    assert MIN_SAMPLES == 3 and rate.tokens_per_second() == 500.0
    for _ in range(4):  # only the last `samples` count
        rate.record(400, 1.0)
    assert rate.tokens_per_second() == 400.0


def test_a_fast_machine_stays_fast_until_well_below_the_threshold() -> None:
    assert not fast_prefill(None, 400, was=False) and fast_prefill(None, 400, was=True)
    assert not fast_prefill(399, 400, was=False) and fast_prefill(400, 400, was=False)
    assert fast_prefill(300, 400, was=True) and not fast_prefill(299, 400, was=True)


def test_a_chunked_prefill_is_recorded_only_when_it_runs_to_its_end() -> None:
    rate, ran = PrefillRate(min_tokens=1), []
    ids = list(range(40))
    assert chunked_prefill(ids, 8, 16, ran.append, rate)(None)
    assert [len(chunk) for chunk in ran] == [16, 16] and len(rate._rates) == 1
    assert rate._rates[0] > 0
    cancel = Cancellation()
    cancel.cancel()
    assert not chunked_prefill(ids, 0, 16, ran.append, rate)(cancel)
    assert len(rate._rates) == 1  # a cancelled prefill measures nothing
