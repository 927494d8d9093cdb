"""Fixtures shared by the inference tests: the tiny Qwen2 as a GGUF (llama.cpp) and a local OpenAI-compatible
engine (`openai_engine.Engine`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from inference.openai_engine import Engine, serve
from models.gguf_fixture import write_qwen2_gguf


@pytest.fixture(scope="session")
def tiny_qwen_gguf(tiny_qwen_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny random Qwen2 (`tiny_qwen_dir`) written as a GGUF for llama.cpp (same weights, same tokenizer)."""
    return write_qwen2_gguf(tiny_qwen_dir, tmp_path_factory.mktemp("gguf") / "tiny.gguf")


@pytest.fixture
def engine() -> Iterator[tuple[Engine, str]]:
    """A local OpenAI-compatible engine streaming `Engine.pieces`, and its URL."""
    state = Engine()
    with serve(state) as url:
        yield state, url
