"""The CPU prefill policy on its own: own prompt, standing block or cold prompt, and who gets a policy at all."""

from __future__ import annotations

from collections.abc import Sequence

from housecoder.completion.prefill import PrefillPolicy
from housecoder.config import CompletionConfig, CompletionTuning, ContextConfig, ContextTuning, Settings
from housecoder.context import ContextSnippet
from housecoder.inference.base import Cancellation, Generation, GenerationRequest

SETTINGS = Settings(
    completion=CompletionConfig(tuning=CompletionTuning(cold_prefill_tokens=100)),
    context=ContextConfig(tuning=ContextTuning(standing_lines=10)),
)


def snippet(path: str) -> ContextSnippet:
    return ContextSnippet(path, 1, 1, f"# {path}", "definition", f"definition in {path}")


BLOCK = [snippet("util.py")]


class Held:
    """A local runtime holding exactly the prompts in `held`, tokens = words."""

    heals = False
    adapter = None

    def __init__(self) -> None:
        self.held: set[str] = set()

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def uncached_tokens(self, prompt: str) -> int:
        return 0 if prompt in self.held else self.count_tokens(prompt)

    def generate(self, request: GenerationRequest, cancel: Cancellation | None = None) -> Generation:
        return Generation("", 0, 0, 0.0, "eos")


def make(snippets: Sequence[ContextSnippet], cold: bool) -> str:
    """Prompts as word lists: 300 words with a block, 120 without, 20 cold."""
    if cold:
        return "cold " * 20
    return ("block " * 180 if snippets else "") + "file " * 120


def test_a_prompt_the_model_holds_is_sent_and_becomes_the_files_standing_block() -> None:
    backend = Held()
    policy = PrefillPolicy(backend, SETTINGS, "cpu", follow_prefill=False)
    backend.held.add(make(BLOCK, False))
    assert (
        policy.costly
        and policy.choose("a.py", 40, make(BLOCK, False), BLOCK, make, wants_context=True) is None
    )
    assert policy.blocks.serving("a.py", 45) is not None


def test_a_prompt_held_too_little_gets_the_standing_block_where_held_else_the_cold_prompt() -> None:
    backend = Held()
    policy = PrefillPolicy(backend, SETTINGS, "cpu", follow_prefill=False)
    cold = policy.choose("a.py", 40, make(BLOCK, False), BLOCK, make, wants_context=True)
    assert cold is not None and cold.cold and cold.prompt == make((), True) and cold.snippets == ()

    policy.settle("a.py", 40, BLOCK)
    backend.held.add(make(BLOCK, False))  # what the idle prefill ran
    other = [snippet("b.py")]
    standing = policy.choose("a.py", 44, make(other, False) + " new", other, make, wants_context=True)
    assert standing is not None and standing.standing and standing.snippets == tuple(BLOCK)
    body = policy.choose("a.py", 44, "x " * 300, other, make, wants_context=False)  # a block body: no context
    assert body is not None and body.cold


def test_no_policy_off_the_cpu_or_for_a_runtime_that_does_not_say_what_it_holds() -> None:
    class Unsaid:
        heals = False
        adapter = None

        def count_tokens(self, text: str) -> int:
            return len(text.split())

        def generate(self, request: GenerationRequest, cancel: Cancellation | None = None) -> Generation:
            return Generation("", 0, 0, 0.0, "eos")

    assert not PrefillPolicy(Unsaid(), SETTINGS, "cpu", follow_prefill=False).costly  # type: ignore[arg-type]
    gpu = PrefillPolicy(Held(), SETTINGS, "cuda:0", follow_prefill=False)
    assert gpu.choose("a.py", 1, "x " * 500, BLOCK, make, wants_context=True) is None
    assert gpu.blocks.standing_lines == 0
    off = SETTINGS.model_copy(
        update={"completion": CompletionConfig(tuning=CompletionTuning(cold_prefill_tokens=0))}
    )
    assert not PrefillPolicy(Held(), off, "cpu", follow_prefill=False).costly
