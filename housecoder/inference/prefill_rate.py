"""How fast this machine prefills: prompt tokens per second, measured on the prefills the model runs.

A local runtime records each completed prefill of at least `MIN_TOKENS` new
tokens (a shorter one is mostly fixed cost); the rate is the median of the
last `SAMPLES`, so one prefill slowed by other work on the machine does not
move it. The completion engine sizes the snippet block by it on the CPU
(`ContextConfig.for_device`).
"""

from __future__ import annotations

import statistics
import threading
from collections import deque

MIN_TOKENS = 256
SAMPLES = 16
MIN_SAMPLES = 3  # fewer measurements say nothing yet


class PrefillRate:
    """The recent prefill speed; `record` from the model thread, `tokens_per_second` from any thread."""

    def __init__(self, samples: int = SAMPLES, min_tokens: int = MIN_TOKENS) -> None:
        self.min_tokens = min_tokens
        self._rates: deque[float] = deque(maxlen=samples)
        self._lock = threading.Lock()

    def record(self, tokens: int, seconds: float) -> None:
        """One prefill of `tokens` new tokens that took `seconds` (ignored when too short to measure)."""
        if tokens >= self.min_tokens and seconds > 0:
            with self._lock:
                self._rates.append(tokens / seconds)

    def tokens_per_second(self) -> float | None:
        """The median rate of the recent prefills; None before `MIN_SAMPLES` of them."""
        with self._lock:
            rates = list(self._rates)
        return statistics.median(rates) if len(rates) >= MIN_SAMPLES else None


def fast_prefill(rate: float | None, threshold: float, was: bool) -> bool:
    """Whether prefill at `rate` counts as fast against `threshold`, `was` being the last answer: a fast
    machine stays fast until it measures below three quarters of the threshold, so a rate near it does
    not switch the snippet budget back and forth; an unmeasured rate keeps the last answer."""
    if rate is None:
        return was
    return rate >= (0.75 * threshold if was else threshold)
