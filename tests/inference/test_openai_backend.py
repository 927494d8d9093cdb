"""The OpenAI-compatible backend against a local HTTP engine speaking `/v1/completions` with SSE streaming:
request shape (raw FIM prompt, adapter as model name), stops and cancellation close the stream early,
engine errors and an unreachable engine become one-line ModelErrors."""

from __future__ import annotations

from pathlib import Path

import pytest
from inference.openai_engine import Engine  # the `engine` fixture (conftest.py) serves one

from housecoder.config import InferenceConfig
from housecoder.inference.base import Cancellation, GenerationRequest
from housecoder.inference.openai_backend import OpenAIBackend
from housecoder.models.errors import ModelError


def _backend(url: str, **config: object) -> OpenAIBackend:
    return OpenAIBackend(  # type: ignore[arg-type]
        InferenceConfig(url=url, **config), lambda text: len(text.split()), model_name="qwen-coder"
    )


def test_sends_the_raw_fim_prompt_and_streams_until_the_line_ends(engine: tuple[Engine, str]) -> None:
    state, url = engine
    streamed: list[str] = []
    prompt = "<|fim_prefix|>with open(p) as f:\n    <|fim_suffix|>\n<|fim_middle|>"
    result = _backend(url + "/v1").generate(
        GenerationRequest(prompt, max_new_tokens=16, single_line=True, on_text=streamed.append)
    )
    assert result.text == "return json.load(f)" and result.stopped_by == "newline"
    assert result.new_tokens == 5 and streamed[-1] == "return json.load(f)\n"
    assert result.first_token_seconds is not None and result.first_token_seconds <= result.seconds
    body = state.requests[0]
    assert body["prompt"] == prompt and body["model"] == "qwen-coder" and body["stream"] is True
    assert body["max_tokens"] == 16 and body["temperature"] == 0.0
    assert state.finished.wait(30)  # the handler noticed the closed stream
    # closed at the stop: at most one more piece was in flight, not all 7
    assert state.sent and state.sent[0] <= 6


def test_multi_line_reads_to_the_end_and_the_adapter_is_the_model_name(engine: tuple[Engine, str]) -> None:
    state, url = engine
    backend = _backend(url, remote_model="Qwen/Qwen2.5-Coder-1.5B")
    backend.set_adapter(Path("/adapters/house-style"))
    result = backend.generate(
        GenerationRequest("<|fim_prefix|>x<|fim_suffix|><|fim_middle|>", max_new_tokens=64)
    )
    assert result.text == "return json.load(f)\n    x = 1\n" and result.stopped_by == "eos"
    assert state.requests[0]["model"] == "house-style" and "ignore_eos" not in state.requests[0]
    backend.set_adapter(None)
    backend.generate(GenerationRequest("p", max_new_tokens=1))
    assert state.requests[1]["model"] == "Qwen/Qwen2.5-Coder-1.5B"
    assert backend.describe()["runtime"] == "openai"
    backend.generate(GenerationRequest("p", max_new_tokens=1, end_of_text=False))
    assert state.requests[2]["ignore_eos"] is True  # vLLM and the llama.cpp server then write on


def test_cancellation_closes_the_stream(engine: tuple[Engine, str]) -> None:
    state, url = engine
    cancel = Cancellation()

    def on_text(text: str) -> None:
        if text.endswith(" json"):
            cancel.cancel()

    result = _backend(url).generate(GenerationRequest("p", max_new_tokens=64, on_text=on_text), cancel)
    assert result.stopped_by == "cancelled" and result.new_tokens == 2
    assert state.finished.wait(30)  # the handler noticed the closed stream
    assert state.sent and state.sent[0] < len(state.pieces)


def test_api_key_goes_in_the_authorization_header(engine: tuple[Engine, str]) -> None:
    state, url = engine
    backend = OpenAIBackend(InferenceConfig(url=url), len, model_name="m", api_key="sk-test")
    backend.generate(GenerationRequest("p", max_new_tokens=1))
    assert state.headers[0]["Authorization"] == "Bearer sk-test"


def test_engine_errors_are_one_line_model_errors(engine: tuple[Engine, str]) -> None:
    state, url = engine
    state.status = 404
    with pytest.raises(ModelError, match=r"answered 404: The model `nope` does not exist\.$"):
        _backend(url).generate(GenerationRequest("p", max_new_tokens=4))


def test_an_unreachable_engine_is_a_model_error() -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ModelError, match="cannot reach the engine"):
        _backend(f"http://127.0.0.1:{port}", timeout_s=2).generate(GenerationRequest("p", max_new_tokens=4))
    with pytest.raises(ModelError, match=r"inference\.url is not set"):
        OpenAIBackend(InferenceConfig(), len, model_name="m")
