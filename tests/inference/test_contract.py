"""The backend contract: what `Backend.generate` and the rest of the interface promise (see
`housecoder.inference.base`), one suite run on every runtime:

- transformers on the tiny random Qwen2 (`tiny_qwen_dir`);
- llama.cpp on the same model written as a GGUF (`tiny_qwen_gguf`; skipped without llama-cpp-python);
- the OpenAI-compatible backend against the local test engine (`engine`), which streams a fixed text.

The models are random, so the cases never assume what text comes: each takes the text a plain greedy run
writes (`_written`) and checks how a stop condition ends it. No case waits on time or measures it: a
cancellation from another thread is handed over with events.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from inference.openai_engine import Engine

from housecoder.config import InferenceConfig, InferenceTuning, ModelsConfig, ModelsTuning
from housecoder.inference.base import Cancellation, Generation, GenerationRequest
from housecoder.inference.openai_backend import OpenAIBackend
from housecoder.inference.stopping import cut
from housecoder.inference.transformers_backend import TransformersBackend
from housecoder.models.loading import load_code_model
from housecoder.prompt import build_fim_prompt

PROMPT = build_fim_prompt(prefix="def f(x):\n    return ", suffix="\n", path="a.py", repo_name="r")
BUDGET = 32  # tokens: the tiny model ends its first line at the 25th for PROMPT, the test engine at the 5th
ENDED_LINE = re.compile(r"\S[^\n]*\n")
WAIT = 30.0  # seconds an event is waited for before the case fails (never reached when the contract holds)


@pytest.fixture(scope="module")
def transformers_runtime(tiny_qwen_dir: Path) -> TransformersBackend:
    loaded = load_code_model(tiny_qwen_dir, ModelsConfig(device="cpu", tuning=ModelsTuning(dtype="float32")))
    return TransformersBackend(loaded, InferenceConfig(tuning=InferenceTuning(prefill_chunk_tokens=16)))


@pytest.fixture(scope="module")
def llama_runtime(tiny_qwen_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from housecoder.inference.llamacpp_backend import LlamaCppBackend, llama_cpp_available

    if not llama_cpp_available():
        pytest.skip("llama-cpp-python is not installed (make setup builds it)")
    config = InferenceConfig(threads=1, tuning=InferenceTuning(prefill_chunk_tokens=16, context_tokens=1024))
    backend = LlamaCppBackend(tiny_qwen_gguf, config, cache_root=tmp_path_factory.mktemp("llama-cache"))
    yield backend
    backend.close()


@pytest.fixture(scope="module")
def tiny_counter(tiny_qwen_dir: Path) -> Callable[[str], int]:
    """Tokens in a text as the tiny model's tokenizer counts them (the OpenAI backend counts budgets locally)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_qwen_dir)
    return lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"])


@pytest.fixture
def openai_runtime(engine: tuple[Engine, str], tiny_counter: Callable[[str], int]) -> OpenAIBackend:
    state, url = engine
    state.delay = 0.0  # the pieces come as fast as the client reads them
    return OpenAIBackend(InferenceConfig(url=url, timeout_s=WAIT), tiny_counter, model_name="tiny-qwen")


@pytest.fixture(params=["transformers", "llama.cpp", "openai"])
def backend(request: pytest.FixtureRequest) -> Any:
    runtime = {
        "transformers": "transformers_runtime",
        "llama.cpp": "llama_runtime",
        "openai": "openai_runtime",
    }
    return request.getfixturevalue(runtime[request.param])


def _written(backend: Any, tokens: int = BUDGET) -> Generation:
    """What the backend writes for PROMPT when only the token budget stops it."""
    written = backend.generate(GenerationRequest(PROMPT, tokens, end_of_text=False))
    assert written.stopped_by == "length" and written.new_tokens == tokens
    return written


def test_a_generation_reports_its_text_and_costs(backend: Any) -> None:
    result = backend.generate(GenerationRequest(PROMPT, max_new_tokens=8))
    assert isinstance(result, Generation) and isinstance(result.text, str)
    assert result.stopped_by in {"eos", "length"}  # no other stop condition was asked for
    assert 1 <= result.new_tokens <= 8
    assert result.prompt_tokens == backend.count_tokens(PROMPT)
    assert 0 <= result.reused_tokens <= result.prompt_tokens
    assert result.first_token_seconds is not None and 0 <= result.first_token_seconds <= result.seconds
    assert "<|" not in result.text  # no control tokens


def test_the_token_budget_ends_a_generation_with_length(backend: Any) -> None:
    streamed: list[str] = []
    result = backend.generate(GenerationRequest(PROMPT, 5, end_of_text=False, on_text=streamed.append))
    assert (result.stopped_by, result.new_tokens) == (
        "length",
        5,
    )  # without end_of_text, nothing else stops it
    assert len(streamed) == 5 and streamed[-1] == result.text  # the text so far, after every token


def test_greedy_generation_is_deterministic(backend: Any) -> None:
    request = GenerationRequest(PROMPT, max_new_tokens=12)
    first, second = backend.generate(request), backend.generate(request)
    assert (first.text, first.new_tokens, first.stopped_by) == (
        second.text,
        second.new_tokens,
        second.stopped_by,
    )


def test_no_new_tokens_only_prefills(backend: Any) -> None:
    streamed: list[str] = []
    result = backend.generate(GenerationRequest(PROMPT, 0, on_text=streamed.append))
    assert (result.text, result.new_tokens, result.stopped_by) == ("", 0, "length")
    assert result.prompt_tokens == backend.count_tokens(PROMPT) and streamed == []


def test_a_cancellation_set_before_the_call_returns_at_once_with_nothing(backend: Any) -> None:
    cancel = Cancellation()
    cancel.cancel()
    streamed: list[str] = []
    result = backend.generate(
        GenerationRequest(PROMPT, 200, end_of_text=False, on_text=streamed.append), cancel
    )
    assert (result.text, result.new_tokens, result.stopped_by) == ("", 0, "cancelled")
    assert streamed == [] and result.first_token_seconds is None


def test_a_deadline_already_past_cancels(backend: Any) -> None:
    cancel = Cancellation()
    cancel.expire_at(time.monotonic() - 1.0)
    result = backend.generate(GenerationRequest(PROMPT, 200, end_of_text=False), cancel)
    assert (result.text, result.new_tokens, result.stopped_by) == ("", 0, "cancelled")


def test_a_deadline_not_reached_stops_nothing(backend: Any) -> None:
    written = _written(backend, 8)
    cancel = Cancellation()
    cancel.expire_at(time.monotonic() + 3600.0)
    result = backend.generate(GenerationRequest(PROMPT, 8, end_of_text=False), cancel)
    assert (result.text, result.new_tokens, result.stopped_by) == (written.text, 8, "length")


def test_a_cancellation_from_another_thread_stops_before_the_next_token(backend: Any) -> None:
    """The first token's text is handed to the caller; another thread cancels meanwhile: no second token
    comes, and the text written so far is returned."""
    cancel = Cancellation()
    writing, cancelled = threading.Event(), threading.Event()
    streamed: list[str] = []

    def on_text(text: str) -> None:
        streamed.append(text)
        writing.set()
        assert cancelled.wait(WAIT), "the other thread never cancelled"

    def canceller() -> None:
        if writing.wait(WAIT):
            cancel.cancel()
            cancelled.set()

    thread = threading.Thread(target=canceller)
    thread.start()
    try:
        result = backend.generate(
            GenerationRequest(PROMPT, BUDGET, end_of_text=False, on_text=on_text), cancel
        )
    finally:
        writing.set()  # never leave the other thread waiting, whatever happened
        thread.join(WAIT)
    assert result.stopped_by == "cancelled"
    assert result.new_tokens == 1 and len(streamed) == 1
    assert result.text == streamed[0]  # a cancelled generation keeps what it wrote
    assert _written(backend).text.startswith(result.text)


def test_a_stop_string_ends_the_text_before_it(backend: Any) -> None:
    written = _written(backend)
    at = next(
        i
        for i in range(1, len(written.text) - 1)
        if written.text[i : i + 2].isascii() and written.text[i : i + 2].isalpha()
    )
    stop = written.text[at : at + 2]
    streamed: list[str] = []
    request = GenerationRequest(
        PROMPT, BUDGET, end_of_text=False, stop_strings=("\x00never", stop), on_text=streamed.append
    )
    result = backend.generate(request)
    assert result.stopped_by == "stop_string"
    assert result.text == written.text[: written.text.index(stop)]
    assert result.new_tokens == len(streamed) < BUDGET  # no token after the one that wrote the stop string
    assert stop in streamed[-1] and not any(stop in text for text in streamed[:-1])


def test_a_single_line_request_stops_at_the_end_of_its_line(backend: Any) -> None:
    written = _written(backend)
    assert ENDED_LINE.search(written.text), f"no line ended in {written.text!r}: choose another PROMPT"
    streamed: list[str] = []
    result = backend.generate(
        GenerationRequest(PROMPT, BUDGET, single_line=True, end_of_text=False, on_text=streamed.append)
    )
    assert result.stopped_by == "newline"
    assert result.text == cut(written.text, single_line=True, stop_strings=())
    assert "\n" not in result.text.lstrip("\n")
    assert result.new_tokens == len(streamed) < BUDGET  # no token after the one that ended the line
    assert ENDED_LINE.search(streamed[-1]) and not any(ENDED_LINE.search(text) for text in streamed[:-1])


def test_a_spent_time_budget_ends_at_the_next_line_end_keeping_whole_lines(backend: Any) -> None:
    written = _written(backend)
    assert ENDED_LINE.search(written.text), f"no line ended in {written.text!r}: choose another PROMPT"
    spent = backend.generate(GenerationRequest(PROMPT, BUDGET, end_of_text=False, max_seconds=0.0))
    assert spent.stopped_by == "time" and spent.new_tokens < BUDGET
    # whole lines: the line begun after the line end is dropped
    assert written.text.startswith(spent.text + "\n")
    ample = backend.generate(GenerationRequest(PROMPT, BUDGET, end_of_text=False, max_seconds=3600.0))
    assert (ample.text, ample.stopped_by) == (written.text, "length")


def test_the_scope_check_stops_with_the_text_as_it_is(backend: Any) -> None:
    written = _written(backend)
    streamed: list[str] = []
    request = GenerationRequest(
        PROMPT, BUDGET, end_of_text=False, scope_ended=lambda text: len(text) >= 3, on_text=streamed.append
    )
    result = backend.generate(request)
    assert result.stopped_by == "scope"
    assert (
        result.text == streamed[-1] and len(result.text) >= 3 and all(len(text) < 3 for text in streamed[:-1])
    )
    assert written.text.startswith(result.text)


def test_a_hopeless_text_stops_once_its_scores_say_so(backend: Any) -> None:
    """The keep gate's early stop: `hopeless` sees every scored token's log-probability and the first margin."""
    seen: list[tuple[int, float | None]] = []

    def hopeless(logprobs: Sequence[float], first_margin: float | None) -> bool:
        seen.append((len(logprobs), first_margin))
        return len(logprobs) >= 3

    full = _written(backend)
    stopped = backend.generate(GenerationRequest(PROMPT, BUDGET, end_of_text=False, hopeless=hopeless))
    assert stopped.stopped_by == "unlikely" and stopped.new_tokens == 3
    assert full.text.startswith(stopped.text) and len(stopped.logprobs) == 3
    assert [count for count, _ in seen] == [1, 2, 3] and all(margin is not None for _, margin in seen)


def test_count_tokens_uses_the_models_tokenizer(backend: Any) -> None:
    assert backend.count_tokens("") == 0
    assert backend.count_tokens("<|fim_middle|>") == 1  # control tokens are single tokens
    assert (
        backend.count_tokens("def f(x):\n    return x") == backend.count_tokens("def f(x):\n    return x") > 1
    )
    assert backend.generate(GenerationRequest(PROMPT, 1)).prompt_tokens == backend.count_tokens(PROMPT)


def test_an_adapter_is_switched_on_and_off(backend: Any, tiny_adapter_dir: Path) -> None:
    base = backend.generate(GenerationRequest(PROMPT, 8, end_of_text=False))
    assert backend.adapter is None and backend.describe()["adapter"] is None
    try:
        backend.set_adapter(tiny_adapter_dir)
        assert backend.adapter == tiny_adapter_dir and backend.describe()["adapter"]
        tuned = backend.generate(GenerationRequest(PROMPT, 8, end_of_text=False))
        assert (tuned.stopped_by, tuned.new_tokens) == ("length", 8)
    finally:
        backend.set_adapter(None)
    assert backend.adapter is None and backend.describe()["adapter"] is None
    again = backend.generate(GenerationRequest(PROMPT, 8, end_of_text=False))
    assert again.text == base.text  # back on the base model


def test_describe_names_the_runtime_and_healing_is_declared(backend: Any) -> None:
    described = backend.describe()
    assert {"runtime", "model_path", "device", "adapter"} <= set(described)
    assert described["runtime"] == backend.runtime in {"transformers", "llama.cpp", "openai"}
    assert isinstance(backend.heals, bool)


def test_every_chosen_token_comes_with_its_log_probability_and_the_first_with_its_margin(
    backend: Any,
) -> None:
    written = _written(backend, 8)
    assert len(written.logprobs) == written.new_tokens == 8
    assert all(logprob <= 0.0 for logprob in written.logprobs)
    assert written.first_margin is not None
    if backend.runtime != "openai":  # greedy: the chosen token leads (the test engine's figures are fixed)
        assert written.first_margin >= 0.0
        again = backend.generate(GenerationRequest(PROMPT, 8, end_of_text=False))
        assert again.logprobs == pytest.approx(written.logprobs, abs=1e-3)


def test_a_cancellations_pause_is_called_before_every_token(backend: Any) -> None:
    """Background training's held-out completions wait there while the user types (training/pacing.py)."""
    checks: list[int] = []
    streamed: list[str] = []
    cancel = Cancellation(pause=lambda: checks.append(len(streamed)))
    result = backend.generate(
        GenerationRequest(PROMPT, 6, end_of_text=False, on_text=streamed.append), cancel
    )
    assert result.new_tokens == 6 and result.stopped_by == "length"
    assert set(range(6)) <= set(
        checks
    )  # paused before the first token (prefill included) and before each next
