"""The token-by-token loop every local runtime shares: stop checks, streaming, cancellation, timings.

A runtime supplies `prefill(cancel)` (run the prompt, return False if cancelled
first), `next_token(previous, allowed)` (feed the previous generated token, None
right after the prompt, and return the next token id, chosen among `allowed` when
that is not None) and `decode(tokens)`. This module decides when to stop: at a
stop token, once the text meets the request's stop conditions (checked after
every token, so a single-line request ends with its line), at the token budget,
or between two tokens once cancelled.

With token healing (`housecoder.inference.healing`) the first tokens must write
the bytes dropped from the prompt's end again; the text streamed, checked and
returned is what follows them. Those tokens count against `max_new_tokens` too.
Once `max_seconds` are spent the generation ends at the next line end.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection

import numpy as np

from housecoder.inference.base import Cancellation, Generation, GenerationRequest
from housecoder.inference.healing import Healing
from housecoder.inference.stopping import cut, out_of_time, stop_reason, whole_lines


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
) -> Generation:
    """Prefill, then generate until a stop; the text is cut at the stop (stop strings, end of line)."""
    started = time.perf_counter()
    generated: list[int] = []
    text, stopped_by, first = "", "length", None
    if not prefill(cancel):
        stopped_by = "cancelled"
    else:
        previous: int | None = None
        while len(generated) < request.max_new_tokens:
            if cancel is not None and cancel.cancelled:
                stopped_by = "cancelled"
                break
            allowed = healing.allowed() if healing is not None else None
            if allowed is not None and len(allowed) == 0:  # no token writes the dropped bytes on: nothing to show
                stopped_by = "eos"
                break
            token = next_token(previous, allowed)
            if first is None:
                first = time.perf_counter() - started
            if token in stop_ids:
                stopped_by = "eos"
                break
            generated.append(token)
            before = text
            if healing is not None:
                healing.advance(token)
                if not healing.done:
                    previous = token
                    continue
                text = healing.visible(generated)
            else:
                text = decode(generated)
            if request.on_text is not None:
                request.on_text(text)
            why = stop_reason(text, single_line=request.single_line, stop_strings=request.stop_strings,
                              scope_ended=request.scope_ended)
            if why:
                stopped_by = why
                break
            if out_of_time(text, text[len(before) :], time.perf_counter() - started, request.max_seconds):
                stopped_by, text = "time", whole_lines(text)
                break
            previous = token
    return Generation(
        text=cut(text, single_line=request.single_line, stop_strings=request.stop_strings),
        prompt_tokens=prompt_tokens,
        new_tokens=len(generated) + (stopped_by == "eos"),
        seconds=time.perf_counter() - started,
        stopped_by=stopped_by,
        reused_tokens=reused_tokens,
        first_token_seconds=first,
    )
