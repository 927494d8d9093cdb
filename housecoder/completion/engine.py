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
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial

from housecoder.completion.cache import CompletionCache
from housecoder.completion.inflight import Flight, Flights
from housecoder.completion.standing import Block, StandingBlocks
from housecoder.config import FAST_CPU_PREFILL_TOKENS_PER_S, ContextConfig, Settings
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
from housecoder.inference.prefill_rate import fast_prefill
from housecoder.postprocess import PostContext, finished, postprocess
from housecoder.prompt import Snippet, build_fim_prompt, split_cursor_line, trim_prefix, trim_suffix
from housecoder.prompt.fim import strip_controls
from housecoder.secrets import is_secret
from housecoder.trigger import Trigger, decide, in_open_brackets

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


def _line_of(request: CompletionInput) -> int:
    """The cursor's line number (0-based)."""
    return request.text.count("\n", 0, request.offset)


CONTEXT_MEMO_ENTRIES = 32


# the prefix window starts on a multiple of this many lines (`trim_prefix`'s `step_lines`): the lines below
# reuse its keys and values (with the same snippet block in front)
PREFIX_STEP_LINES = 16


class CompletionEngine:
    """Runs the pipeline with one backend, one repository (name + optional retriever) and one settings object.

    Context results are remembered per context plan (`housecoder.context.plan`): keystrokes within a
    line that complete no new word get the same snippets without running the sources again, which
    also keeps the front of the prompt identical for the model's KV cache. Results with a source left
    out (over budget or failed) are not remembered. Where a new snippet block costs seconds of prefill (a
    local model on the CPU, `completion.cold_prefill_tokens`), a keystroke whose own prompt the model holds
    too little of gets the file's last block it holds (`housecoder.completion.standing`) before it goes
    without context. With `follow_prefill` (the server) and `context.max_tokens` unset, a local model on the
    CPU gets the bigger snippet budget once its measured prefill rate says the machine is fast
    (`housecoder.inference.prefill_rate`). Build a new engine when the index changes.
    Without a `repo_name` the prompt is plain file-level FIM (no path, no snippets), as published
    benchmarks such as HumanEval-FIM prompt the model.
    """

    def __init__(
        self,
        backend: Backend,
        settings: Settings,
        *,
        repo_name: str | None,
        retriever: Retriever | None = None,
        follow_prefill: bool = False,
    ) -> None:
        self.backend = backend
        self.device = device_of(backend)
        self.settings = settings.model_copy(update={"context": settings.context.for_device(self.device)})
        measured = getattr(backend, "prefill_rate", None)
        self._unset_context = (  # the context config whose budget follows the measured prefill rate
            settings.context
            if follow_prefill
            and self.device == "cpu"
            and settings.context.max_tokens is None
            and callable(measured)
            else None
        )
        self._fast_prefill = False
        self.repo_name = repo_name
        self.retriever = retriever
        self.cache = CompletionCache(settings.server.cache_entries)
        self.flights = Flights()
        self._contexts: OrderedDict[Hashable, ContextResult] = OrderedDict()
        self.blocks = StandingBlocks(settings.context.standing_lines if self._costly_prefill() else 0)
        self._lock = threading.Lock()

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
        """The completion at `request`'s cursor; `snippets`, when given, is the repository context to use
        instead of gathering it (a benchmark's block chosen elsewhere); on the CPU it is still replaced by
        the file's standing block or the cold prompt when the model holds too little of its prompt."""
        started = time.perf_counter()
        timings: dict[str, float] = {}
        prefix, suffix = self._around(request)
        decision = self._decide(request, prefix, suffix)
        timings["trigger"] = time.perf_counter() - started
        output = CompletionOutput(text="", trigger=decision, timings=timings)
        if not decision.complete:
            return self._finish(output, started)

        with self._lock:
            remembered = self.cache.typed_through(request.path, prefix, suffix)
        if remembered is not None:
            output.text, output.cached = remembered, "typed-through"
            return self._finish(output, started)
        continued = self.flights.answer(request.path, prefix, suffix)
        if continued is not None:
            output.text, output.cached = continued, "in-flight"
            return self._finish(output, started)

        stage = time.perf_counter()
        if snippets is not None:
            output.snippets = list(snippets)
        else:
            found, output.context_reused = self._context(
                self._context_request(request, prefix, suffix),
                request.use_index,
                multi_line=decision.multi_line,
            )
            output.snippets, output.context_timings, output.skipped = (
                found.snippets,
                found.timings,
                found.skipped,
            )
        timings["context"] = time.perf_counter() - stage

        stage = time.perf_counter()
        typed = self.typed_part(prefix)
        output.prompt = self.prompt(request.path, prefix, suffix, output.snippets, typed=typed)
        output.layout = "line-start" if typed else "psm"
        single_line = not decision.multi_line
        key = f"{int(single_line)}|{output.prompt}"
        with self._lock:
            cached = self.cache.get(key)
        if cached is None and self._costly_prefill():
            line = _line_of(request)
            missing = self.backend.uncached_tokens(output.prompt)  # type: ignore[attr-defined]
            cold = None
            if missing > self.settings.completion.cold_prefill_tokens:
                cold = self._cold_prompt(missing, request.path, prefix, suffix, typed)
            if cold is None:  # sent whole: the model will hold this block
                if output.snippets:
                    self.blocks.settle(request.path, Block(tuple(output.snippets), line))
            else:  # the file's last block the model holds, else no repository context at all
                wants = self._wants_context(request.language, prefix, multi_line=decision.multi_line)
                standing = self._standing_prompt(request.path, prefix, suffix, typed, line) if wants else None
                if standing is not None:
                    output.prompt, output.snippets, output.standing = *standing, True
                else:
                    output.prompt, output.cold, output.snippets = cold, True, []
                key = f"{int(single_line)}|{output.prompt}"
                with self._lock:
                    cached = self.cache.get(key)
        timings["prompt"] = time.perf_counter() - stage
        if cached is not None:
            output.text, output.cached = cached, "prompt"
            return self._finish(output, started)
        if cancel is not None and cancel.cancelled:
            output.stopped_by = "cancelled"
            return self._finish(output, started)

        stage = time.perf_counter()
        around = PostContext(prefix=prefix, suffix=suffix, single_line=single_line)
        flight = self.flights.start(request.path, prefix, suffix, cancel)
        try:
            generation = self._generate(output.prompt, typed, around, cancel, flight)
        except CannotHeal as err:  # the typed text ends in bytes no token continues: prompt it the old way
            log.info("line-start layout without healing for this request (%s): psm instead", first_line(err))
            output.prompt = self.prompt(request.path, prefix, suffix, output.snippets, cold=output.cold)
            output.layout = "psm"
            generation = self._generate(output.prompt, "", around, cancel, flight)
        timings["model"] = time.perf_counter() - stage
        output.raw, output.prompt_tokens = generation.text, generation.prompt_tokens
        output.new_tokens, output.stopped_by = generation.new_tokens, generation.stopped_by
        output.reused_tokens, output.first_token_seconds = (
            generation.reused_tokens,
            generation.first_token_seconds,
        )
        if generation.stopped_by == "cancelled":
            return self._finish(output, started)

        stage = time.perf_counter()
        output.text = flight.final = postprocess(generation.text, around)
        timings["postprocess"] = time.perf_counter() - stage
        with self._lock:
            self.cache.put(key, output.text, path=request.path, prefix=prefix, suffix=suffix)
        return self._finish(output, started)

    def continues(self, request: CompletionInput) -> bool:
        """True when `request` only typed what the generation in flight (or just finished) is writing: the
        caller should let it run rather than cancel it, and `complete(request)` answers from it."""
        prefix, suffix = self._around(request)
        return self.settings.completion.reuse_in_flight and self.flights.follows(request.path, prefix, suffix)

    def _generate(
        self,
        prompt: str,
        typed: str,
        around: PostContext,
        cancel: Cancellation | None,
        flight: Flight | None = None,
    ) -> Generation:
        budget = self.settings.completion
        single_line = around.single_line
        return self.backend.generate(
            GenerationRequest(
                prompt,
                budget.max_new_tokens,
                single_line=single_line,
                temperature=budget.temperature,
                end_of_text=single_line or budget.multi_line_end == "model",
                scope_ended=partial(finished, context=around)
                if budget.stop_early and not single_line
                else None,
                typed=strip_controls(typed),
                heal_tokens=budget.heal_tokens,
                max_seconds=budget.max_ms / 1000 if budget.max_ms else None,
                on_text=None if flight is None else partial(setattr, flight, "text"),
            ),
            cancel,
        )

    def typed_part(self, prefix: str) -> str:
        """The part of the cursor's line before the cursor, when the prompt takes the line-start layout:
        "" for the psm layout, a backend without token healing, or a typed part over a quarter of the prefix budget."""
        budget = self.settings.completion
        if budget.layout != "line-start" or not getattr(self.backend, "heals", False):
            return ""
        typed = split_cursor_line(prefix)[1]
        if (
            len(typed) > 4 * budget.max_prefix_tokens
            or self.backend.count_tokens(typed) > budget.max_prefix_tokens // 4
        ):
            return ""
        return typed

    def build_prompt(self, request: CompletionInput) -> tuple[str, list[ContextSnippet]]:
        """The prompt `complete` sends the model for `request` and the snippets in it, without generating.

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
        if done >= 0 and found.snippets:
            self.blocks.settle(request.path, Block(tuple(found.snippets), _line_of(request)))
        return max(done, 0)

    def _prefill(self, prompt: str, typed: str, cancel: Cancellation | None) -> int:
        """Prefill `prompt` (idle work): the tokens computed, -1 when cancelled or refused."""
        warming = GenerationRequest(
            prompt, 0, typed=strip_controls(typed), heal_tokens=self.settings.completion.heal_tokens
        )
        try:
            generation = self.backend.generate(warming, cancel)
        except CannotHeal:
            return -1  # the request itself will fall back to psm; nothing worth prefilling for it
        if generation.stopped_by == "cancelled":
            return -1
        return generation.prompt_tokens - generation.reused_tokens

    def _costly_prefill(self) -> bool:
        """True where a prompt the model holds little of goes cold (`completion.cold_prefill_tokens`): a local
        model on the CPU that says what it holds."""
        return (
            self.device == "cpu"
            and self.settings.completion.cold_prefill_tokens > 0
            and getattr(self.backend, "uncached_tokens", None) is not None
        )

    def _standing_prompt(
        self, path: str, prefix: str, suffix: str, typed: str, line: int
    ) -> tuple[str, list[ContextSnippet]] | None:
        """The prompt with the file's standing block for a keystroke at `line`, when the model holds all but
        `completion.cold_prefill_tokens` of it (the lines typed since and the suffix); else None."""
        block = self.blocks.serving(path, line)
        if block is None:
            return None
        prompt = self.prompt(path, prefix, suffix, block.snippets, typed=typed)
        held = self.backend.uncached_tokens(prompt) <= self.settings.completion.cold_prefill_tokens  # type: ignore[attr-defined]
        return (prompt, list(block.snippets)) if held else None

    def _cold_prompt(self, missing: int, path: str, prefix: str, suffix: str, typed: str) -> str | None:
        """The smaller prompt to send instead of one the model would prefill `missing` tokens of (more than
        `completion.cold_prefill_tokens`: a file it holds nothing of), or None to send that one: no repository
        context, prefix and suffix cut to fit, chosen only when it saves at least half that budget (a prompt
        mostly prefilled at idle keeps its context). Within a line the same choice recurs, so its keys and
        values are reused keystroke after keystroke."""
        cold = self.prompt(path, prefix, suffix, (), typed=typed, cold=True)
        saved = missing - self.backend.uncached_tokens(cold)  # type: ignore[attr-defined]
        return cold if saved >= self.settings.completion.cold_prefill_tokens // 2 else None

    def _around(self, request: CompletionInput) -> tuple[str, str]:
        """The text before and after the cursor, cut around it when the buffer is oversized."""
        return cap_lines(
            *cap_document(
                request.text[: request.offset],
                request.text[request.offset :],
                self.settings.server.max_document_bytes,
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
        if not self.settings.context.rest_of_file:
            return ()
        budget, count = self.settings.completion, self.backend.count_tokens
        typed = self.typed_part(prefix)
        head = prefix[: len(prefix) - len(typed)]
        shown = trim_prefix(head, budget.max_prefix_tokens, count, step_lines=PREFIX_STEP_LINES) + typed
        return hidden_parts(prefix, suffix, shown, trim_suffix(suffix, budget.max_suffix_tokens, count))

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

    def _follow_prefill_rate(self) -> ContextConfig:
        """The context config, its snippet budget set again from the backend's measured prefill rate where
        it follows it (`follow_prefill`: the CPU budget until the machine prefills fast)."""
        if self._unset_context is not None:
            rate = self.backend.prefill_rate()  # type: ignore[attr-defined]
            fast = fast_prefill(rate, FAST_CPU_PREFILL_TOKENS_PER_S, self._fast_prefill)
            if fast != self._fast_prefill:
                self._fast_prefill = fast
                context = self._unset_context.for_device(self.device, fast_prefill=fast)
                self.settings = self.settings.model_copy(update={"context": context})
                log.info("snippet budget %d tokens: prefill at %.0f tokens/s", context.snippet_tokens, rate)
        return self.settings.context

    def _context(
        self, request: ContextRequest, use_index: bool, *, multi_line: bool
    ) -> tuple[ContextResult, bool]:
        """The context for `request`, remembered per plan; True when it is an earlier keystroke's.
        A block body (a multi-line completion not inside brackets) gets none unless `context.multi_line` asks."""
        config = self._follow_prefill_rate()
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
        """The FIM prompt; the best snippet goes last, nearest the current file. `typed` (the end of `prefix`)
        goes after `<|fim_middle|>` (the line-start layout); the prefix budget applies to the rest. `cold`
        scales the prefix and suffix budgets into `completion.cold_prefill_tokens` (3 : 1)."""
        budget, count = self.settings.completion, self.backend.count_tokens
        prefix_tokens, suffix_tokens = budget.max_prefix_tokens, budget.max_suffix_tokens
        if cold:
            prefix_tokens = min(prefix_tokens, budget.cold_prefill_tokens * 3 // 4)
            suffix_tokens = min(suffix_tokens, budget.cold_prefill_tokens - prefix_tokens)
        head = prefix[: len(prefix) - len(typed)]
        return build_fim_prompt(
            prefix=trim_prefix(head, prefix_tokens, count, step_lines=PREFIX_STEP_LINES),
            suffix=trim_suffix(suffix, suffix_tokens, count),
            path=path,
            repo_name=self.repo_name,
            snippets=[Snippet(snippet.path, snippet.text) for snippet in reversed(snippets)],
            middle=typed,
        )

    @staticmethod
    def _finish(output: CompletionOutput, started: float) -> CompletionOutput:
        output.timings["total"] = time.perf_counter() - started
        return output
