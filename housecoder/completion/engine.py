"""One completion at a cursor: trigger, context, prompt, model, post-processing, timed per stage.

The engine owns no I/O of its own beyond what it is given: the backend (a
loaded model), an optional retriever (the repository's index) and the buffers
the caller judged safe to use. It is thread-safe for one caller at a time per
backend; the server serialises model work on one worker thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial

from housecoder.completion.cache import CompletionCache, Remembered
from housecoder.completion.inflight import Flight, Flights
from housecoder.completion.prefill import PrefillPolicy
from housecoder.completion.standing import StandingBlocks
from housecoder.completion.trigger import Trigger, decide, in_open_brackets
from housecoder.config import Settings
from housecoder.context import (
    ContextRequest,
    ContextResult,
    ContextSnippet,
    OpenDocument,
    Part,
    Retriever,
    gather,
    hidden_parts,
    plan,
)
from housecoder.errors import first_line
from housecoder.inference.base import Backend, Cancellation, Generation, GenerationRequest, device_of
from housecoder.inference.errors import CannotHeal
from housecoder.keep import KeepModel, default_model, place, signals
from housecoder.postprocess import PostContext, finished, postprocess
from housecoder.prompt import Snippet
from housecoder.prompt.fim import strip_controls
from housecoder.prompt.serving import cursor_prompt, shown, typed_part
from housecoder.secrets import is_secret

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CompletionInput:
    """A cursor in a buffer. `path` is relative to the repository root (or a bare name outside it)."""

    path: str
    text: str
    offset: int  # characters before the cursor
    language: str | None
    documents: Sequence[OpenDocument] = ()
    use_index: bool = True  # False for a buffer outside the workspace: served from itself alone
    multi_line: bool | None = None  # None: the trigger decides
    # the user asked for a suggestion here (a key): shown whatever its keep-probability
    explicit: bool = False
    # seconds since the user last accepted or rejected a suggestion in the folder (None: not yet)
    since_decision: float | None = None


@dataclass
class CompletionOutput:
    """The completion (empty: show nothing), what went into it and seconds per stage."""

    text: str
    trigger: Trigger
    snippets: list[ContextSnippet] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    context_timings: dict[str, float] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    prompt: str = ""
    prompt_tokens: int = 0
    new_tokens: int = 0
    stopped_by: str = ""
    # "", "prompt", "typed-through" or "in-flight" (the generation running when it was asked for)
    cached: str = ""
    # the prompt's layout: "psm", or "line-start" (the typed part of the line after <|fim_middle|>)
    layout: str = "psm"
    # the model held too little of the prompt: sent without repository context, with a smaller window
    cold: bool = False
    context_reused: bool = False  # the snippets of an earlier keystroke with the same context plan
    standing: bool = False  # the file's standing snippet block, chosen for an earlier line
    reused_tokens: int = 0  # prompt tokens served from the model's KV cache
    first_token_seconds: float | None = None
    raw: str = ""
    # the model's log-probability of each token it chose (`Generation.logprobs`) and the first one's margin
    logprobs: tuple[float, ...] = ()
    first_margin: float | None = None
    # what the keep-probability is computed from (`housecoder.keep.signals`), the probability, and the text
    # the gate held back (its probability under `completion.min_keep`)
    signals: dict[str, float] | None = None
    p_keep: float | None = None
    hidden: str = ""

    def confidence(self) -> dict[str, float | int] | None:
        """How sure the model was of what it wrote: tokens scored, mean and lowest log-probability, the first
        token's lead over the runner-up; None where nothing was generated or the runtime gave no scores."""
        if not self.logprobs:
            return None
        return {
            "tokens": len(self.logprobs),
            "mean_logprob": round(sum(self.logprobs) / len(self.logprobs), 4),
            "min_logprob": round(min(self.logprobs), 4),
            "first_margin": round(self.first_margin or 0.0, 4),
        }

    def as_dict(self) -> dict[str, object]:
        return {
            "completion": self.text,
            "trigger": {
                "complete": self.trigger.complete,
                "multi_line": self.trigger.multi_line,
                "reason": self.trigger.reason,
            },
            "snippets": [snippet.as_dict() for snippet in self.snippets],
            "timings_ms": {name: round(seconds * 1000, 1) for name, seconds in self.timings.items()},
            "context_timings_ms": {
                name: round(seconds * 1000, 1) for name, seconds in self.context_timings.items()
            },
            "skipped": self.skipped,
            "prompt_tokens": self.prompt_tokens,
            "new_tokens": self.new_tokens,
            "stopped_by": self.stopped_by,
            "cached": self.cached,
            "layout": self.layout,
            "cold": self.cold,
            "context_reused": self.context_reused,
            "standing": self.standing,
            "reused_tokens": self.reused_tokens,
            "first_token_ms": None
            if self.first_token_seconds is None
            else round(self.first_token_seconds * 1000, 1),
            "raw": self.raw,
            "confidence": self.confidence(),
            "p_keep": None if self.p_keep is None else round(self.p_keep, 4),
            "hidden": self.hidden,
        }


def cap_document(prefix: str, suffix: str, max_bytes: int) -> tuple[str, str]:
    """Cut an oversized buffer around the cursor: at most ~3/4 of `max_bytes` before it, 1/4 after.

    A guard against megabyte buffers reaching the tokenizer and parser; the real
    prompt budget is applied later in model tokens.
    """
    if len(prefix) + len(suffix) <= max_bytes // 4 or len((prefix + suffix).encode("utf-8")) <= max_bytes:
        return prefix, suffix
    before, after = max_bytes * 3 // 4, max_bytes // 4
    cut_prefix = prefix[-before:]
    if len(cut_prefix) < len(prefix) and "\n" in cut_prefix:
        cut_prefix = cut_prefix[cut_prefix.index("\n") + 1 :]  # start on a whole line
    cut_suffix = suffix[:after]
    if len(cut_suffix) < len(suffix) and "\n" in cut_suffix:
        cut_suffix = cut_suffix[: cut_suffix.rindex("\n") + 1]
    return cut_prefix, cut_suffix


# A line longer than this (minified code, a data blob) is cut, the cursor's line around the cursor: every
# later stage (secrets rule, trigger parse, context sources, prompt trimming) then works on a bounded text.
# No line of code a model is prompted with comes near it (a 2,048-token prompt is ~8,000 characters).
MAX_LINE_CHARS = 20_000


def cap_lines(prefix: str, suffix: str, limit: int = MAX_LINE_CHARS) -> tuple[str, str]:
    """`prefix` and `suffix` with every line longer than `limit` cut: the cursor's line to its last `limit`
    characters before the cursor and its first `limit // 4` after it, any other line to its first `limit`."""
    if len(prefix) <= limit and len(suffix) <= limit:
        return prefix, suffix
    head, _, current = prefix.rpartition("\n")
    rest, newline, tail = suffix.partition("\n")
    current = current[-limit:]
    rest = rest[: limit // 4]
    head = _cap_each_line(head, limit) + "\n" if "\n" in prefix else ""
    return head + current, rest + newline + _cap_each_line(tail, limit)


def _cap_each_line(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    lines = text.split("\n")
    if all(len(line) <= limit for line in lines):
        return text
    return "\n".join(line[:limit] for line in lines)


def _adopt(output: CompletionOutput, remembered: Remembered, source: str) -> None:
    """Answer with a remembered completion: its text, keep-probability and signals; `source` says whence."""
    output.text, output.p_keep, output.signals = remembered.text, remembered.p_keep, remembered.signals
    output.cached = source


def _line_of(request: CompletionInput) -> int:
    """The cursor's line number (0-based)."""
    return request.text.count("\n", 0, request.offset)


CONTEXT_MEMO_ENTRIES = 32


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = time.perf_counter() - started


class CompletionEngine:
    """Runs the pipeline with one backend, one repository (name + optional retriever) and one settings object.

    Context results are remembered per context plan (`housecoder.context.plan`): keystrokes within a
    line that complete no new word get the same snippets without running the sources again, which
    also keeps the front of the prompt identical for the model's KV cache. Results with a source left
    out (over budget or failed) are not remembered. The prompt is `housecoder.prompt.serving`'s; where a
    new snippet block costs seconds of prefill (a local model on the CPU), `housecoder.completion.prefill`
    decides what a keystroke sends instead (the file's standing block, or the cold prompt), and with
    `follow_prefill` (the server) the CPU snippet budget follows the measured prefill rate. Build a new
    engine when the index changes. Without a `repo_name` the prompt is plain file-level FIM (no path, no
    snippets), as published benchmarks such as HumanEval-FIM prompt the model.
    """

    def __init__(
        self,
        backend: Backend,
        settings: Settings,
        *,
        repo_name: str | None,
        retriever: Retriever | None = None,
        follow_prefill: bool = False,
        keep: KeepModel | None = None,
    ) -> None:
        self.backend = backend
        self.keep = keep or default_model(settings.models.code_model)
        self.device = device_of(backend)
        self.settings = settings.model_copy(update={"context": settings.context.for_device(self.device)})
        self.prefill = PrefillPolicy(backend, settings, self.device, follow_prefill=follow_prefill)
        self.repo_name = repo_name
        self.retriever = retriever
        self.cache = CompletionCache(settings.server.tuning.cache_entries)
        self.flights = Flights()
        self._contexts: OrderedDict[Hashable, ContextResult] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def blocks(self) -> StandingBlocks:
        """The files' standing snippet blocks (kept only where prefill is costly)."""
        return self.prefill.blocks

    def trigger(self, prefix: str, suffix: str, language: str | None) -> Trigger:
        from housecoder.syntax.parsing import parse_tree

        server = self.settings.server
        try:
            tree = parse_tree(language, (prefix + suffix).encode("utf-8"))
        except Exception as err:  # a grammar problem must not stop completion: fall back to text rules
            log.warning("cannot parse for the trigger decision: %s", first_line(err))
            tree = None
        return decide(
            prefix,
            suffix,
            language,
            tree,
            in_comments=server.complete_in_comments,
            in_strings=server.complete_in_strings,
            mid_line=server.complete_mid_line,
        )

    def complete(
        self,
        request: CompletionInput,
        cancel: Cancellation | None = None,
        *,
        snippets: Sequence[ContextSnippet] | None = None,
    ) -> CompletionOutput:
        """The completion at `request`'s cursor: trigger, remembered answers, context, prompt, model,
        post-processing, each timed. `snippets`, when given, is the repository context to use instead of
        gathering it (a benchmark's block prepared elsewhere); the prefill policy still applies to it."""
        started = time.perf_counter()
        prefix, suffix = self._around(request)
        output = CompletionOutput(text="", trigger=self._decide(request, prefix, suffix))
        output.timings["trigger"] = time.perf_counter() - started
        if not output.trigger.complete or self._remembered(output, request.path, prefix, suffix):
            return self._finish(output, started)
        with _timed(output.timings, "context"):
            self._gather(output, request, prefix, suffix, snippets)
        with _timed(output.timings, "prompt"):
            typed, key, cached = self._prompt(output, request, prefix, suffix)
        if cached is not None:
            _adopt(output, cached, "prompt")
            self._gate(output, request)
            if output.text:  # shown now (asked for explicitly, it may not have been before)
                with self._lock:
                    self.cache.show(request.path, prefix, suffix, cached)
            return self._finish(output, started)
        if cancel is not None and cancel.cancelled:
            output.stopped_by = "cancelled"
            return self._finish(output, started)
        around = PostContext(prefix=prefix, suffix=suffix, single_line=not output.trigger.multi_line)
        flight = self.flights.start(request.path, prefix, suffix, cancel)
        with _timed(output.timings, "model"):
            self._run_model(output, request, around, typed, cancel, flight)
        if output.stopped_by == "cancelled":
            return self._finish(output, started)
        if output.stopped_by == "unlikely":  # given up by the gate: nothing to show or remember
            output.hidden = postprocess(output.raw, around)
            flight.final = ""
            return self._finish(output, started)
        with _timed(output.timings, "postprocess"):
            output.text = postprocess(output.raw, around)
            output.signals = signals(
                logprobs=output.logprobs,
                first_margin=output.first_margin,
                raw=output.raw,
                text=output.text,
                prefix=prefix,
                suffix=suffix,
                reason=output.trigger.reason,
                multi_line=output.trigger.multi_line,
                context=bool(output.snippets),
                adapter=self.backend.adapter is not None,
                stopped_by=output.stopped_by,
                since_decision=request.since_decision,
            )
            output.p_keep = None if output.signals is None else self.keep.p_keep(output.signals)
            answer = output.text
            self._gate(output, request)
            flight.final = output.text
        with self._lock:
            self.cache.put(
                key,
                answer,
                path=request.path,
                prefix=prefix,
                suffix=suffix,
                p_keep=output.p_keep,
                signals=output.signals,
                shown=not output.hidden,
            )
        return self._finish(output, started)

    def _gate(self, output: CompletionOutput, request: CompletionInput) -> None:
        """Hide a suggestion whose keep-probability is under `completion.min_keep` (kept in `hidden`), unless
        the user asked for it."""
        threshold = self.settings.completion.min_keep
        if output.p_keep is not None and output.p_keep < threshold and output.text and not request.explicit:
            output.hidden, output.text = output.text, ""

    def continues(self, request: CompletionInput) -> bool:
        """True when `request` only typed what the generation in flight (or just finished) is writing: the
        caller should let it run rather than cancel it, and `complete(request)` answers from it."""
        prefix, suffix = self._around(request)
        return self.settings.completion.tuning.reuse_in_flight and self.flights.follows(
            request.path, prefix, suffix
        )

    def _remembered(self, output: CompletionOutput, path: str, prefix: str, suffix: str) -> bool:
        """Answer from a completion the user is typing through, or from the generation in flight."""
        with self._lock:
            remembered = self.cache.typed_through(path, prefix, suffix)
        if remembered is not None:
            _adopt(output, remembered, "typed-through")
            return True
        continued = self.flights.answer(path, prefix, suffix)
        if continued is not None:
            output.text, output.cached = continued, "in-flight"
            return True
        return False

    def _gather(
        self,
        output: CompletionOutput,
        request: CompletionInput,
        prefix: str,
        suffix: str,
        snippets: Sequence[ContextSnippet] | None,
    ) -> None:
        if snippets is not None:
            output.snippets = list(snippets)
            return
        found, output.context_reused = self._context(
            self._context_request(request, prefix, suffix),
            request.use_index,
            multi_line=output.trigger.multi_line,
        )
        output.snippets, output.context_timings, output.skipped = found.snippets, found.timings, found.skipped

    def _prompt(
        self, output: CompletionOutput, request: CompletionInput, prefix: str, suffix: str
    ) -> tuple[str, str, Remembered | None]:
        """Set the prompt to send (the prefill policy's choice where it has one, asked only when the cache has
        no answer for the keystroke's own prompt) and its layout; returns the typed part of the line (the
        line-start layout) or "", the prompt's cache key and the cached answer, if any."""
        typed = self.typed_part(prefix)
        output.layout = "line-start" if typed else "psm"

        def make(snippets: Sequence[ContextSnippet], cold: bool) -> str:
            return self.prompt(request.path, prefix, suffix, snippets, typed=typed, cold=cold)

        output.prompt = make(output.snippets, False)
        key, cached = self._cached(output)
        if cached is None and self.prefill.costly:
            wants = self._wants_context(request.language, prefix, multi_line=output.trigger.multi_line)
            choice = self.prefill.choose(
                request.path, _line_of(request), output.prompt, output.snippets, make, wants_context=wants
            )
            if choice is not None:
                output.prompt, output.snippets = choice.prompt, list(choice.snippets)
                output.standing, output.cold = choice.standing, choice.cold
                key, cached = self._cached(output)
        return typed, key, cached

    def _cached(self, output: CompletionOutput) -> tuple[str, Remembered | None]:
        """The cache key of `output`'s prompt (single-line or not) and the answer kept for it."""
        key = f"{int(not output.trigger.multi_line)}|{output.prompt}"
        with self._lock:
            return key, self.cache.get(key)

    def _run_model(
        self,
        output: CompletionOutput,
        request: CompletionInput,
        around: PostContext,
        typed: str,
        cancel: Cancellation | None,
        flight: Flight,
    ) -> None:
        hopeless = self._hopeless(output, request, around.prefix)
        try:
            generation = self._generate(output.prompt, typed, around, cancel, flight, hopeless)
        except CannotHeal as err:  # the typed text ends in bytes no token continues: prompt it the old way
            log.info("line-start layout without healing for this request (%s): psm instead", first_line(err))
            output.prompt = self.prompt(
                request.path, around.prefix, around.suffix, output.snippets, cold=output.cold
            )
            output.layout = "psm"
            generation = self._generate(output.prompt, "", around, cancel, flight, hopeless)
        output.raw, output.prompt_tokens = generation.text, generation.prompt_tokens
        output.new_tokens, output.stopped_by = generation.new_tokens, generation.stopped_by
        output.reused_tokens, output.first_token_seconds = (
            generation.reused_tokens,
            generation.first_token_seconds,
        )
        output.logprobs, output.first_margin = generation.logprobs, generation.first_margin

    def _generate(
        self,
        prompt: str,
        typed: str,
        around: PostContext,
        cancel: Cancellation | None,
        flight: Flight | None = None,
        hopeless: Callable[[Sequence[float], float | None], bool] | None = None,
    ) -> Generation:
        budget = self.settings.completion
        single_line = around.single_line
        return self.backend.generate(
            GenerationRequest(
                prompt,
                budget.max_new_tokens,
                single_line=single_line,
                temperature=budget.tuning.temperature,
                scope_ended=partial(finished, context=around)
                if budget.tuning.stop_early and not single_line
                else None,
                typed=strip_controls(typed),
                heal_tokens=budget.tuning.heal_tokens,
                max_seconds=budget.max_ms / 1000 if budget.max_ms else None,
                on_text=None if flight is None else partial(setattr, flight, "text"),
                hopeless=hopeless,
            ),
            cancel,
        )

    def _hopeless(
        self, output: CompletionOutput, request: CompletionInput, prefix: str
    ) -> Callable[[Sequence[float], float | None], bool] | None:
        """The early stop of a suggestion the gate would hide whatever its remaining tokens (None: the gate is
        off, the request explicit, or the model knows no signal ranges)."""
        threshold = self.settings.completion.min_keep
        if request.explicit or threshold <= 0 or not self.keep.low:
            return None
        known = place(
            prefix=prefix,
            reason=output.trigger.reason,
            multi_line=output.trigger.multi_line,
            context=bool(output.snippets),
            adapter=self.backend.adapter is not None,
            since_decision=request.since_decision,
        )
        keep = self.keep

        def hopeless(logprobs: Sequence[float], first_margin: float | None) -> bool:
            return keep.ceiling(known, logprobs, first_margin) < threshold

        return hopeless

    def typed_part(self, prefix: str) -> str:
        """The typed part of the cursor's line the line-start layout puts after `<|fim_middle|>`, or ""
        (`housecoder.prompt.serving.typed_part`)."""
        return typed_part(
            prefix, self.settings.completion, self.backend.count_tokens, heals=self.backend.heals
        )

    def build_prompt(self, request: CompletionInput) -> tuple[str, list[ContextSnippet]]:
        """The prompt `complete` sends the model for `request` and the snippets in it, without generating
        (before the prefill policy: the keystroke's own prompt).

        The training job builds its samples with this, so an adapter is trained on prompts made exactly
        as they are served (same buffer cap, context sources, budgets and layout).
        """
        prefix, suffix = self._around(request)
        found = self._found(request, prefix, suffix, self._decide(request, prefix, suffix))
        return self.prompt(
            request.path, prefix, suffix, found.snippets, typed=self.typed_part(prefix)
        ), found.snippets

    def warm(self, request: CompletionInput, cancel: Cancellation | None = None) -> int:
        """Prefill, without generating, the prompt `complete` would send for `request` (idle time: a file opened,
        the cursor on another line); returns the tokens prefilled, 0 where the trigger would not complete or
        when cancelled (what a cancelled prefill computed stays in the KV cache for the next request). A prompt
        prefilled in full gives its file a new standing block."""
        prefix, suffix = self._around(request)
        decision = self._decide(request, prefix, suffix)
        if not decision.complete:
            return 0
        found = self._found(request, prefix, suffix, decision)
        if cancel is not None and cancel.cancelled:
            return 0
        typed = self.typed_part(prefix)
        done = self._prefill(
            self.prompt(request.path, prefix, suffix, found.snippets, typed=typed), typed, cancel
        )
        if done >= 0:
            self.prefill.settle(request.path, _line_of(request), found.snippets)
        return max(done, 0)

    def _prefill(self, prompt: str, typed: str, cancel: Cancellation | None) -> int:
        """Prefill `prompt` (idle work): the tokens computed, -1 when cancelled or refused."""
        warming = GenerationRequest(
            prompt, 0, typed=strip_controls(typed), heal_tokens=self.settings.completion.tuning.heal_tokens
        )
        try:
            generation = self.backend.generate(warming, cancel)
        except CannotHeal:
            return -1  # the request itself will fall back to psm; nothing worth prefilling for it
        if generation.stopped_by == "cancelled":
            return -1
        return generation.prompt_tokens - generation.reused_tokens

    def _around(self, request: CompletionInput) -> tuple[str, str]:
        """The text before and after the cursor, cut around it when the buffer is oversized."""
        return cap_lines(
            *cap_document(
                request.text[: request.offset],
                request.text[request.offset :],
                self.settings.server.tuning.max_document_bytes,
            )
        )

    def _found(self, request: CompletionInput, prefix: str, suffix: str, decision: Trigger) -> ContextResult:
        found, _ = self._context(
            self._context_request(request, prefix, suffix), request.use_index, multi_line=decision.multi_line
        )
        return found

    def _context_request(self, request: CompletionInput, prefix: str, suffix: str) -> ContextRequest:
        return ContextRequest(request.path, request.language, prefix, suffix, request.documents)

    def _hidden(self, prefix: str, suffix: str) -> tuple[Part, ...]:
        """The parts of the file the prompt leaves out, cut as `prompt` cuts it (for `context.rest_of_file`)."""
        if not self.settings.context.tuning.rest_of_file:
            return ()
        budget, count = self.settings.completion, self.backend.count_tokens
        return hidden_parts(
            prefix, suffix, *shown(prefix, suffix, budget, count, typed=self.typed_part(prefix))
        )

    def _decide(self, request: CompletionInput, prefix: str, suffix: str) -> Trigger:
        if is_secret(request.path, prefix + suffix):  # its text would be the prompt
            return Trigger(False, False, "the file holds a secret")
        if request.multi_line is not None:
            return Trigger(True, request.multi_line, "requested")
        return self.trigger(prefix, suffix, request.language)

    def _wants_context(self, language: str | None, prefix: str, *, multi_line: bool) -> bool:
        """False for a block body (a multi-line completion not inside brackets) unless `context.multi_line` asks."""
        config = self.settings.context
        return config.enabled and (not multi_line or config.multi_line or in_open_brackets(prefix, language))

    def _context(
        self, request: ContextRequest, use_index: bool, *, multi_line: bool
    ) -> tuple[ContextResult, bool]:
        """The context for `request`, remembered per plan; True when it is an earlier keystroke's.
        A block body (a multi-line completion not inside brackets) gets none unless `context.multi_line` asks."""
        followed = self.prefill.context(self.device)
        if followed is not None:
            self.settings = self.settings.model_copy(update={"context": followed})
        config = self.settings.context
        if not self._wants_context(request.language, request.prefix, multi_line=multi_line):
            return ContextResult(), False
        documents = tuple((doc.path, hash(doc.text)) for doc in request.documents if doc.path != request.path)
        wanted = plan(request, config)
        key = (request.path, request.language, use_index, wanted, documents, config.snippet_tokens)
        with self._lock:
            found = self._contexts.get(key)
            if found is not None:
                self._contexts.move_to_end(key)
                return found, True
        request = replace(request, hidden=self._hidden(request.prefix, request.suffix))
        found = gather(
            request, config, self.backend.count_tokens, self.retriever if use_index else None, wanted=wanted
        )
        if not found.skipped:
            with self._lock:
                self._contexts[key] = found
                while len(self._contexts) > CONTEXT_MEMO_ENTRIES:
                    self._contexts.popitem(last=False)
        return found, False

    def prompt(
        self,
        path: str,
        prefix: str,
        suffix: str,
        snippets: Sequence[ContextSnippet],
        *,
        typed: str = "",
        cold: bool = False,
    ) -> str:
        """The FIM prompt for this engine's model and repository (`housecoder.prompt.serving.cursor_prompt`);
        `snippets` best first, `typed` the line-start layout's typed part, `cold` the smaller windows."""
        return cursor_prompt(
            path,
            prefix,
            suffix,
            [Snippet(snippet.path, snippet.text) for snippet in snippets],
            self.settings.completion,
            self.backend.count_tokens,
            repo_name=self.repo_name,
            typed=typed,
            cold=cold,
        )

    @staticmethod
    def _finish(output: CompletionOutput, started: float) -> CompletionOutput:
        output.timings["total"] = time.perf_counter() - started
        return output
