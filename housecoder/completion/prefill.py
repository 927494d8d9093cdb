"""The CPU prefill policy: which prompt a keystroke sends where a new snippet block costs seconds of prefill.

On a GPU or a remote engine the prompt is sent as it is built. A local model on the CPU that says how much
of a prompt it holds (`HoldsPrompts`) gets, for a keystroke whose own prompt it would prefill more than
`completion.cold_prefill_tokens` of:
1. the file's standing block (`housecoder.completion.standing`: the last block the model ran in full,
   chosen within `context.standing_lines`), when the model holds all but that budget of its prompt;
2. else the cold prompt: no repository context, prefix and suffix cut to fit the budget, when that saves
   at least half the budget;
3. else its own prompt (sent whole, it becomes the file's standing block).
The snippet budget on the CPU follows the measured prefill rate (`MeasuresPrefill`) where the engine is
told to follow it and `context.max_tokens` is unset: the bigger budget once the machine prefills fast.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from housecoder.completion.standing import Block, StandingBlocks
from housecoder.config import FAST_CPU_PREFILL_TOKENS_PER_S, ContextConfig, Settings
from housecoder.context import ContextSnippet
from housecoder.inference.base import Backend, HoldsPrompts, MeasuresPrefill
from housecoder.inference.prefill_rate import fast_prefill

log = logging.getLogger(__name__)

# builds the prompt for the cursor with these snippets (best first); True: the cold prompt
MakePrompt = Callable[[Sequence[ContextSnippet], bool], str]


@dataclass(frozen=True)
class Choice:
    """The prompt to send instead of the keystroke's own, and what is in it."""

    prompt: str
    snippets: tuple[ContextSnippet, ...]
    standing: bool  # the file's standing block
    cold: bool  # no repository context, smaller windows


class PrefillPolicy:
    """The prefill policy of one engine (one backend, one settings object)."""

    def __init__(self, backend: Backend, settings: Settings, device: str, *, follow_prefill: bool) -> None:
        self.budget = settings.completion.tuning.cold_prefill_tokens
        on_cpu = device == "cpu"
        self.held = backend if on_cpu and self.budget > 0 and isinstance(backend, HoldsPrompts) else None
        self.blocks = StandingBlocks(settings.context.tuning.standing_lines if self.held is not None else 0)
        follows = follow_prefill and on_cpu and settings.context.max_tokens is None
        self._meter = backend if follows and isinstance(backend, MeasuresPrefill) else None
        self._unset_context = settings.context  # the context config as set, before `for_device`
        self._fast = False

    @property
    def costly(self) -> bool:
        """True where a prompt the model holds little of may go cold or standing."""
        return self.held is not None

    def context(self, device: str) -> ContextConfig | None:
        """A new context config when the measured prefill rate crossed the fast-CPU line since the last call
        (its snippet budget set again for it); None when nothing changed or the budget does not follow it."""
        if self._meter is None:
            return None
        rate = self._meter.prefill_rate()
        fast = fast_prefill(rate, FAST_CPU_PREFILL_TOKENS_PER_S, self._fast)
        if fast == self._fast:
            return None
        self._fast = fast
        context = self._unset_context.for_device(device, fast_prefill=fast)
        log.info("snippet budget %d tokens: prefill at %.0f tokens/s", context.snippet_tokens, rate)
        return context

    def choose(
        self,
        path: str,
        line: int,
        prompt: str,
        snippets: Sequence[ContextSnippet],
        make: MakePrompt,
        *,
        wants_context: bool,
    ) -> Choice | None:
        """What to send instead of `prompt` (built with `snippets` for a keystroke at `line` of `path`), or None
        to send it: then it is the file's standing block from now on."""
        if self.held is None:
            return None
        missing = self.held.uncached_tokens(prompt)
        cold = self._cold(self.held, missing, make) if missing > self.budget else None
        if cold is None:
            self.settle(path, line, snippets)
            return None
        block = self.blocks.serving(path, line) if wants_context else None
        if block is not None:
            standing = make(block.snippets, False)
            if self.held.uncached_tokens(standing) <= self.budget:
                return Choice(standing, block.snippets, standing=True, cold=False)
        return Choice(cold, (), standing=False, cold=True)

    def settle(self, path: str, line: int, snippets: Sequence[ContextSnippet]) -> None:
        """The model ran (or will run) the prompt with `snippets` for `line` of `path` in full: sent whole, or
        prefilled at idle."""
        if snippets:
            self.blocks.settle(path, Block(tuple(snippets), line))

    def _cold(self, held: HoldsPrompts, missing: int, make: MakePrompt) -> str | None:
        """The cold prompt, chosen only when it saves at least half the budget (a prompt mostly prefilled at
        idle keeps its context). Within a line the same choice recurs, so its keys and values are reused."""
        cold = make((), True)
        saved = missing - held.uncached_tokens(cold)
        return cold if saved >= self.budget // 2 else None
