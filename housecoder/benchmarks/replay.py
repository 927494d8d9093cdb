"""Replay typing sessions against a completion engine in real time, one request per keystroke.

Like an editor: every keystroke sends a request and cancels the previous one,
unless that one is writing what was just typed (it runs on and answers the new
request, as in the server); requests run one at a time on a model thread. Between
keystrokes within a word the user waits `interval_s`; at a pause point (the
empty line, after a space or symbol) the user waits for the suggestion (at most
`patience_s`). The time from such a keystroke to its complete single-line
suggestion is the latency a user feels.

With `line_pause_s` the user also pauses before typing each line (reading the
code first): meanwhile the engine prefills the prompt of the empty line at idle
(`CompletionEngine.warm`), and the first keystroke cancels that if it is still
running, as the server does.
"""

from __future__ import annotations

import contextlib
import functools
import statistics
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict, dataclass

from housecoder.activity import ActivityMark
from housecoder.benchmarks.sessions import TypingSession
from housecoder.completion import CompletionEngine, CompletionInput, CompletionOutput
from housecoder.inference.base import Cancellation
from housecoder.numeric import percentile
from housecoder.syntax.languages import language_for


@dataclass
class Request:
    """One keystroke's request and what became of it."""

    session: int
    typed: int  # characters typed when it was sent
    pause: bool
    completed: bool = False
    seconds: float | None = None  # keystroke -> complete suggestion
    first_token_seconds: float | None = None  # keystroke -> first generated token
    prompt_tokens: int = 0
    reused_tokens: int = 0
    context_reused: bool = False
    stopped_by: str = ""
    suggestion: str = ""
    exact: bool = False  # the suggestion is exactly the rest of the line
    cold: bool = False  # sent the smaller prompt of a file the model held too little of
    standing: bool = False  # with the file's standing snippet block, chosen for an earlier line
    snippets: int = 0  # repository snippets in the prompt


def _run(
    engine: CompletionEngine, session: TypingSession, typed: int, cancel: Cancellation, sent: float
) -> tuple[CompletionOutput, float]:
    text, offset = session.buffer(typed)
    started = time.perf_counter()
    output = engine.complete(
        CompletionInput(session.path, text, offset, language_for(session.path), multi_line=False), cancel
    )
    return output, started - sent


def replay(
    engine: CompletionEngine,
    sessions: Sequence[TypingSession],
    *,
    interval_s: float = 0.1,
    patience_s: float = 30.0,
    line_pause_s: float = 0.0,
    warmed: list[int] | None = None,
    activity: ActivityMark | None = None,
) -> list[Request]:
    """Type every session; returns every request sent, in order. With `line_pause_s`, the tokens each idle
    prefill computed are appended to `warmed`; each request is marked on `activity`, as the server marks it."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bench-model")
    requests: list[Request] = []
    try:
        for number, session in enumerate(sessions):
            if line_pause_s > 0:
                text, offset = session.buffer(0)
                idle = Cancellation()
                warming = pool.submit(
                    engine.warm,
                    CompletionInput(session.path, text, offset, language_for(session.path), multi_line=False),
                    idle,
                )
                if warmed is not None:
                    warming.add_done_callback(
                        lambda done: warmed.append(done.result() if done.exception() is None else 0)
                    )
                time.sleep(line_pause_s)
                idle.cancel()  # the first keystroke: idle work yields
            pauses = set(session.pauses())
            previous: Cancellation | None = None
            for typed in range(len(session.typed) + 1):
                if previous is not None and not _continues(engine, session, typed):
                    previous.cancel()  # as the server: a generation that wrote what was just typed runs on
                cancel = previous = Cancellation()
                if activity is not None:
                    activity.mark()
                sent = time.perf_counter()
                future = pool.submit(_run, engine, session, typed, cancel, sent)
                request = Request(number, typed, pause=typed in pauses)
                requests.append(request)
                future.add_done_callback(functools.partial(_record, request, session, sent))
                if request.pause:
                    with contextlib.suppress(FutureTimeout):
                        future.result(timeout=patience_s)
                else:
                    time.sleep(interval_s)
            if previous is not None:
                previous.cancel()
        pool.submit(lambda: None).result()  # the last cancelled request has returned
    finally:
        pool.shutdown(wait=True)
    return requests


def _continues(engine: CompletionEngine, session: TypingSession, typed: int) -> bool:
    text, offset = session.buffer(typed)
    return engine.continues(
        CompletionInput(session.path, text, offset, language_for(session.path), multi_line=False)
    )


def _record(
    request: Request, session: TypingSession, sent: float, done: Future[tuple[CompletionOutput, float]]
) -> None:
    finished = time.perf_counter()
    try:
        output, waited = done.result()
    except Exception as err:  # a failing backend is a result too
        request.stopped_by = f"error: {err}"
        return
    request.stopped_by = output.stopped_by or output.cached or "no-model"
    request.prompt_tokens, request.reused_tokens = output.prompt_tokens, output.reused_tokens
    request.context_reused, request.cold = output.context_reused, output.cold
    request.standing, request.snippets = output.standing, len(output.snippets)
    if output.stopped_by == "cancelled":
        return
    request.completed = True
    request.seconds = finished - sent
    request.suggestion = output.text
    request.exact = bool(output.text) and output.text.strip() == session.typed[request.typed :].strip()
    if output.first_token_seconds is not None:
        before_model = sum(output.timings.get(stage, 0.0) for stage in ("trigger", "context", "prompt"))
        request.first_token_seconds = waited + before_model + output.first_token_seconds


def summarize(requests: Sequence[Request]) -> dict[str, float | int | None]:
    """The replay's figures: latency at pauses, time to first token, prefill per request with and
    without KV reuse, how often the suggestion was exactly the rest of the line."""
    at_pauses = [r for r in requests if r.pause]
    latencies = [r.seconds for r in at_pauses if r.completed and r.seconds is not None]
    firsts = [r.first_token_seconds for r in requests if r.completed and r.first_token_seconds is not None]
    modelled = [r for r in requests if r.prompt_tokens]
    in_line = [r for r in modelled if r.typed > 0]  # every keystroke but the line's first (a new prompt)
    line_starts = [r.seconds for r in at_pauses if r.typed == 0 and r.completed and r.seconds is not None]
    return {
        "requests": len(requests),
        "pauses": len(at_pauses),
        "pauses_answered": len(latencies),
        "p50_s": percentile(latencies, 50),
        "p95_s": percentile(latencies, 95),
        "ttft_p50_s": percentile(firsts, 50),
        "line_start_p50_s": percentile(line_starts, 50),  # the first keystroke of each line (a new prompt)
        "line_start_p95_s": percentile(line_starts, 95),
        "prompt_tokens_mean": statistics.fmean(r.prompt_tokens for r in modelled) if modelled else None,
        "prefill_tokens_mean": statistics.fmean(r.prompt_tokens - r.reused_tokens for r in modelled)
        if modelled
        else None,
        "prefill_tokens_in_line_mean": statistics.fmean(r.prompt_tokens - r.reused_tokens for r in in_line)
        if in_line
        else None,
        "reused_fraction": (sum(r.reused_tokens for r in modelled) / sum(r.prompt_tokens for r in modelled))
        if modelled
        else None,
        "context_reused_fraction": sum(r.context_reused for r in modelled) / len(modelled)
        if modelled
        else None,
        "cold_fraction": sum(r.cold for r in modelled) / len(modelled) if modelled else None,
        "standing_fraction": sum(r.standing for r in modelled) / len(modelled) if modelled else None,
        "with_context_fraction": sum(r.snippets > 0 for r in modelled) / len(modelled) if modelled else None,
        "exact_at_pauses": sum(r.exact for r in at_pauses) / len(at_pauses) if at_pauses else None,
    }


def replay_title(repo: str, asked: int, replayed: int, per_file: int, interval_ms: int, pause_ms: int) -> str:
    """The replay table's title; says so where the repository had fewer lines to type than asked."""
    lines = (
        f"{replayed} lines (of {asked} asked: the files have too few)"
        if replayed < asked
        else f"{asked} lines"
    )
    runs = f" in runs of {per_file}" if per_file > 1 else ""
    paused = f", {pause_ms} ms pause before each line" if pause_ms else ""
    return f"typing replay: {lines}{runs} of {repo}, {interval_ms} ms between keystrokes{paused}"


def as_rows(requests: Sequence[Request]) -> list[dict[str, object]]:
    return [asdict(request) for request in requests]
