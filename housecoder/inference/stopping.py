"""When a generation stops, and what it returns: the one contract every runtime applies.

Single-line: stop once a line break follows some non-blank text (leading
blank lines are kept so a completion can start on the next line). Stop strings:
stop at the first occurrence and cut the text there. A scope check (the
request's `scope_ended`) stops a multi-line generation once post-processing has
cut the text for good (it left the cursor's block, or loops); the text is kept
as it is (post-processing cuts it). A hopeless check (the request's `hopeless`)
stops a text whose tokens' scores already rule out showing it. A time budget (`out_of_time`) ends a
generation at the first line end written after it is spent, keeping whole lines.

The decisions are pure functions. `Decoding` is one generation's run of them,
shared by the local token loop (`streaming.run_generation`) and the remote
engine's stream (`openai_backend`): a runtime reports each token or piece as it
comes (`token`, `show`), asks `cancelled()` where it can stop between two of
them and `stopped(piece)` once the text has grown, and builds its result with
`result`. So every runtime streams the same text, reports the same
`stopped_by`, and returns the same text on a stop: cut at the stop string or
the line end, whole lines on "time", and what was written so far (cut the
same way) on "cancelled".
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence

from housecoder.inference.base import Cancellation, Generation, GenerationRequest

_ENDED_LINE = re.compile(r"\S[^\n]*\n")  # a line with visible text, and its end


def stop_reason(
    text: str,
    *,
    single_line: bool,
    stop_strings: Sequence[str],
    scope_ended: Callable[[str], bool] | None = None,
) -> str | None:
    """Why generation should stop now, or None to continue."""
    if any(stop and stop in text for stop in stop_strings):
        return "stop_string"
    if single_line and _ENDED_LINE.search(text):
        return "newline"
    if scope_ended is not None and scope_ended(text):
        return "scope"
    return None


def cut(text: str, *, single_line: bool, stop_strings: Sequence[str]) -> str:
    """`text` cut at the first stop string and, for single-line, at the end of its first non-blank line."""
    for stop in stop_strings:
        if stop and stop in text:
            text = text[: text.index(stop)]
    if single_line:
        ended = _ENDED_LINE.search(text)
        if ended:
            text = text[: ended.end() - 1].removesuffix("\r")
    return text


def out_of_time(
    text: str, piece: str, elapsed_s: float, max_seconds: float | None, line_s: float = 0.0
) -> bool:
    """True once `max_seconds` have passed and the newest `piece` of `text` ended a line with visible text,
    or at once when the line being written has alone been decoding that long (`line_s`; the caller passes
    it for multi-line completions, where a line that never ends must not hold the model). A budget of 0 s
    is spent before the first token: the first line end."""
    if max_seconds is None or elapsed_s <= max_seconds:
        return False
    return 0 < max_seconds < line_s or ("\n" in piece and bool(_ENDED_LINE.search(text)))


def whole_lines(text: str) -> str:
    """`text` up to its last line break: the line the newest token began, or never ended, is dropped."""
    return text[: text.rfind("\n")] if "\n" in text else ""


class Decoding:
    """One generation's text, stop reason and timings as its tokens (or streamed pieces) come.

    `stopped_by` starts as "length" (the token budget ran out); the runtime sets "eos" itself when the model
    (or engine) ends the text, and the methods below set every other reason."""

    def __init__(self, request: GenerationRequest, cancel: Cancellation | None) -> None:
        self.request = request
        self.cancel = cancel
        self.started = time.perf_counter()  # `seconds` count from here: prefill included
        self.text = ""
        self.stopped_by = "length"
        self.first_token_seconds: float | None = None
        self.line_started: float | None = None  # when the line being written began (elapsed seconds)
        self.logprobs: list[float] = []
        self.first_margin: float | None = None

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def cancelled(self) -> bool:
        """True, and stopped_by "cancelled", once `cancel` is set or past its deadline (checked between tokens)."""
        if self.cancel is not None and self.cancel.cancelled:
            self.stopped_by = "cancelled"
            return True
        return False

    def token(self) -> None:
        """A token (or piece) came: the first one's time is `first_token_seconds`."""
        if self.first_token_seconds is None:
            self.first_token_seconds = self.elapsed()

    def scored(self, logprob: float, margin: float) -> None:
        """The model chose a token with this log-probability, `margin` ahead of the runner-up."""
        if not self.logprobs:
            self.first_margin = margin
        self.logprobs.append(logprob)

    def show(self, text: str) -> str:
        """The text so far is now `text`: streams it to the request's `on_text`; returns what it added."""
        before, self.text = self.text, text
        if self.request.on_text is not None:
            self.request.on_text(text)
        return text[len(before) :]

    def stopped(self, piece: str) -> bool:
        """True, with `stopped_by` set, once the text (whose newest part is `piece`) meets a stop condition:
        a stop string, the end of the line (single-line), the scope's end, a hopeless text (`hopeless`), or a
        spent time budget (the text is then cut back to its whole lines)."""
        request = self.request
        why = stop_reason(
            self.text,
            single_line=request.single_line,
            stop_strings=request.stop_strings,
            scope_ended=request.scope_ended,
        )
        if why:
            self.stopped_by = why
            return True
        if (
            request.hopeless is not None
            and self.logprobs
            and request.hopeless(self.logprobs, self.first_margin)
        ):
            self.stopped_by = "unlikely"
            return True
        elapsed = self.elapsed()
        if self.line_started is None or "\n" in piece:
            self.line_started = elapsed
        line = (
            0.0 if request.single_line else elapsed - self.line_started
        )  # one line: max_new_tokens bounds it
        if out_of_time(self.text, piece, elapsed, request.max_seconds, line):
            self.stopped_by, self.text = "time", whole_lines(self.text)
            return True
        return False

    def result(self, *, prompt_tokens: int, new_tokens: int, reused_tokens: int = 0) -> Generation:
        """The generation: the text cut at the stop (stop strings, end of line), whatever stopped it."""
        return Generation(
            text=cut(self.text, single_line=self.request.single_line, stop_strings=self.request.stop_strings),
            prompt_tokens=prompt_tokens,
            new_tokens=new_tokens,
            seconds=self.elapsed(),
            stopped_by=self.stopped_by,
            reused_tokens=reused_tokens,
            first_token_seconds=self.first_token_seconds,
            logprobs=tuple(self.logprobs),
            first_margin=self.first_margin,
        )
