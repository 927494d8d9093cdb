"""The backend interface every inference runtime implements.

A backend turns one prompt string into generated text under stop conditions.
Three runtimes implement it: llama.cpp on the model's GGUF (`llamacpp_backend`,
the fast CPU runtime `inference.runtime = auto` picks when it can),
transformers + torch on the safetensors weights (`transformers_backend`), and a
remote engine behind the OpenAI-compatible completions API (`openai_backend`:
vLLM, TGI, the llama.cpp server). The interface is deliberately small so the
server, the evaluation of a trained adapter and the benchmark swap them behind
the same call.

How a generation stops, and what it returns then, is one contract, applied for
every runtime by `stopping.Decoding` (the local runtimes through the token loop
in `streaming`) and checked for all three by tests/inference/test_contract.py:
see `Backend.generate`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class GenerationRequest:
    """What to generate: the prompt and when to stop (token budgets are in model tokens). `max_new_tokens = 0`
    only prefills the prompt into the KV cache (idle warming), where the runtime keeps one."""

    prompt: str
    max_new_tokens: int = 64
    single_line: bool = False  # stop once a non-empty line has ended
    stop_strings: tuple[str, ...] = ()
    temperature: float = 0.0
    # False: the model's end-of-text and control tokens are never chosen (the next most likely token is), so the
    # text ends at the other stops only: scope_ended, a stop string, the end of the line, or the token budget.
    end_of_text: bool = True
    # Stop once this says the text so far is finished (post-processing has cut it for good: the engine
    # passes `postprocess.finished` for multi-line requests: the block ended, the suffix came back, or the text loops).
    scope_ended: Callable[[str], bool] | None = field(default=None, compare=False)
    # streamed text so far, per token
    on_text: Callable[[str], None] | None = field(default=None, compare=False)
    # The prompt ends with this text the user typed (the line-start layout). A backend that heals drops the
    # prompt's last tokens inside it (at most `heal_tokens`) and makes the model write them again; the text it
    # returns is what follows. "" or 0: the prompt is run as it is.
    typed: str = ""
    heal_tokens: int = 0
    # Seconds from the call (prefill included) after which decoding ends at the next line end; None: no limit.
    max_seconds: float | None = None
    # Stop ("unlikely") once this says the text cannot be worth showing, from the log-probabilities of the tokens
    # chosen so far and the first one's margin (the keep-probability can no longer reach the gate's threshold).
    hopeless: Callable[[Sequence[float], float | None], bool] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Generation:
    """The generated text (stop strings and control tokens removed) and its costs."""

    text: str
    prompt_tokens: int
    new_tokens: int
    seconds: float
    # "eos", "newline", "stop_string", "scope" (scope_ended), "time" (max_seconds), "unlikely" (hopeless), "length"
    # or "cancelled"
    stopped_by: str
    reused_tokens: int = 0  # prompt tokens whose keys/values came from the KV cache (not prefilled)
    first_token_seconds: float | None = None  # from the call to the first generated token
    # the model's log-probability of each token it chose after token healing (its end-of-text too), in order;
    # empty where the runtime gives none (a remote engine without logprobs)
    logprobs: tuple[float, ...] = ()
    first_margin: float | None = None  # the first of them over the runner-up token, in log-probability


@dataclass
class Cancellation:
    """Set from another thread to stop a generation between two tokens (or prefill steps), or past a deadline
    (`time.monotonic()` seconds, see `expire_at`). `pause`, when given, is called at every check: work that
    must give way (background training's held-out completions while the user types) waits there."""

    event: threading.Event = field(default_factory=threading.Event)
    deadline: float | None = None
    pause: Callable[[], None] | None = None

    def cancel(self) -> None:
        self.event.set()

    def expire_at(self, deadline: float) -> None:
        self.deadline = deadline

    @property
    def expired(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    @property
    def cancelled(self) -> bool:
        if self.pause is not None:
            self.pause()
        return self.event.is_set() or self.expired


class Backend(Protocol):
    """An inference runtime. `heals` is True where it honours `GenerationRequest.typed` (token healing);
    where it is False the engine never sends the line-start layout."""

    heals: bool

    def generate(self, request: GenerationRequest, cancel: Cancellation | None = None) -> Generation:
        """Generate for `request`, streaming the text so far to `request.on_text` after each token.

        Stops at the first of: the model's end of text ("eos"; never with `end_of_text=False`), a stop string
        ("stop_string"), the end of the first non-blank line of a single-line request ("newline"),
        `scope_ended` ("scope"), `hopeless` ("unlikely"), a line end once `max_seconds` are spent, or, in a multi-line one, at once when one line took that long alone ("time": whole lines kept),
        `max_new_tokens` ("length"; 0 only prefills), or `cancel` set or past its deadline, checked before
        the first token and between two tokens ("cancelled": what was written so far, nothing when set
        before the call). The text is cut at the stop string and at the end of a single-line request's line,
        and holds no control tokens; `prompt_tokens` is `count_tokens(request.prompt)` unless token healing
        dropped some of them.
        """
        ...

    def count_tokens(self, text: str) -> int:
        """Number of model tokens in `text`, with the model's own tokenizer."""
        ...

    @property
    def adapter(self) -> Path | None:
        """The LoRA adapter in use, if any."""
        ...

    def set_adapter(self, adapter: Path | None) -> None:
        """Switch to the LoRA adapter at `adapter` (a peft directory), or to none; raises ModelError."""
        ...

    def describe(self) -> dict[str, Any]:
        """Runtime, model, device and adapter, for status displays."""
        ...


@runtime_checkable
class HoldsPrompts(Protocol):
    """A local runtime that keeps prompts' keys and values (a KV cache) and says how much of a prompt it would
    prefill: llama.cpp and transformers. The engine's CPU prefill policy needs it."""

    def uncached_tokens(self, prompt: str) -> int:
        """Tokens of `prompt` a request would prefill: those after the longest prefix the runtime holds."""
        ...


@runtime_checkable
class MeasuresPrefill(Protocol):
    """A local runtime that measures its prefill speed (llama.cpp: `housecoder.inference.prefill_rate`)."""

    def prefill_rate(self) -> float | None:
        """Prompt tokens per second over the recent prefills; None before there are enough of them."""
        ...


def device_of(backend: object) -> str:
    """Where `backend` runs its model, as `describe()` says ("cpu", "cuda:0", "remote", ...); "cpu" for a
    backend that does not say."""
    describe = getattr(backend, "describe", None)
    return str(describe().get("device", "cpu")) if describe is not None else "cpu"
