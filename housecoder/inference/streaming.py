"""The token-by-token loop every local runtime shares: stop checks, streaming, cancellation, timings.

A runtime supplies `prefill(cancel)` (run the prompt, return False if cancelled
first; `chunked_prefill` makes one from a forward pass), `next_token(previous,
allowed)` (feed the previous generated token, None right after the prompt, and
return the next token id, chosen among `allowed` when that is not None) and
`decode(tokens)`. This module decides when to stop: at a stop token, once the
text meets the request's stop conditions (checked after every token, so a
single-line request ends with its line), at the token budget, or between two
tokens once cancelled; the stop conditions and what a stopped generation
returns are `stopping.Decoding`'s, which the remote runtime applies too.

With token healing (`housecoder.inference.healing`) the first tokens must write
the bytes dropped from the prompt's end again; the text streamed, checked and
returned is what follows them. Those tokens count against `max_new_tokens` too.
Once `max_seconds` are spent the generation ends at the next line end, and in a multi-line one at once when one line took that long alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence

import numpy as np

from housecoder.inference.base import Cancellation, Generation, GenerationRequest
from housecoder.inference.healing import Healing
from housecoder.inference.prefill_rate import PrefillRate
from housecoder.inference.stopping import Decoding


def chunked_prefill(
    ids: Sequence[int],
    start: int,
    size: int,
    run: Callable[[Sequence[int]], object],
    rate: PrefillRate | None = None,
) -> Callable[[Cancellation | None], bool]:
    """A `prefill` that runs `ids[start:]` in chunks of `size` tokens, checking the cancellation before each
    (what was prefilled before it stays in the runtime's KV cache); a prefill run to its end is recorded
    in `rate`."""

    def prefill(cancel: Cancellation | None) -> bool:
        started = time.perf_counter()
        for chunk in range(start, len(ids), size):
            if cancel is not None and cancel.cancelled:
                return False
            run(ids[chunk : chunk + size])
        if rate is not None:
            rate.record(len(ids) - start, time.perf_counter() - started)
        return True

    return prefill


def token_scores(logits: np.ndarray, token: int) -> tuple[float, float]:
    """The log-probability of `token` under `logits` (one position's, over the vocabulary) and its lead over the
    most likely other token, in log-probability (negative when another token was more likely). About 1 ms for
    Qwen's 152k tokens on one core: float32, no copy."""
    logits = np.asarray(logits, dtype=np.float32)
    best = float(logits.max())
    log_total = best + float(np.log(np.exp(logits - best).sum(dtype=np.float64)))
    chosen = float(logits[token])
    others = [float(part.max()) for part in (logits[:token], logits[token + 1 :]) if part.size]
    return chosen - log_total, chosen - max(others) if others else 0.0


def run_generation(
    request: GenerationRequest,
    cancel: Cancellation | None,
    *,
    prompt_tokens: int,
    reused_tokens: int,
    prefill: Callable[[Cancellation | None], bool],
    next_token: Callable[[int | None, np.ndarray | None], int],
    decode: Callable[[list[int]], str],
    stop_ids: Collection[int],
    healing: Healing | None = None,
    score: Callable[[int], tuple[float, float]] | None = None,
) -> Generation:
    """Prefill, then generate until a stop; the text is cut at the stop (stop strings, end of line). `score`
    gives a chosen token's log-probability and margin (`token_scores` of the position's logits); tokens that
    rewrite the healed bytes are not scored."""
    decoding = Decoding(request, cancel)
    generated: list[int] = []
    if not prefill(cancel):
        decoding.stopped_by = "cancelled"
    else:
        previous: int | None = None
        while len(generated) < request.max_new_tokens:
            if decoding.cancelled():
                break
            allowed = healing.allowed() if healing is not None else None
            # no token writes the dropped bytes on: nothing to show
            if allowed is not None and len(allowed) == 0:
                decoding.stopped_by = "eos"
                break
            token = next_token(previous, allowed)
            decoding.token()
            if score is not None and (healing is None or healing.done):
                decoding.scored(*score(token))
            if token in stop_ids:
                decoding.stopped_by = "eos"
                break
            generated.append(token)
            if healing is not None:
                healing.advance(token)
                if not healing.done:
                    previous = token
                    continue
                text = healing.visible(generated)
            else:
                text = decode(generated)
            if decoding.stopped(decoding.show(text)):
                break
            previous = token
    new_tokens = len(generated) + (decoding.stopped_by == "eos")
    return decoding.result(prompt_tokens=prompt_tokens, new_tokens=new_tokens, reused_tokens=reused_tokens)
