"""The transformers backend on a tiny random Qwen2 model: its stop tokens, end_of_text, loading errors
(what every backend does, budgets, stops, cancellation, is checked in test_contract.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from housecoder.config import ModelsConfig, ModelsTuning
from housecoder.inference.base import GenerationRequest
from housecoder.inference.transformers_backend import TransformersBackend
from housecoder.models.loading import load_code_model
from housecoder.prompt import build_fim_prompt


@pytest.fixture(scope="module")
def backend(tiny_qwen_dir: Path) -> TransformersBackend:
    return TransformersBackend(
        load_code_model(tiny_qwen_dir, ModelsConfig(device="cpu", tuning=ModelsTuning(dtype="float32")))
    )


PROMPT = build_fim_prompt(prefix="def f(x):\n    return ", suffix="\n", path="a.py", repo_name="r")


def test_control_tokens_count_as_single_tokens(backend: TransformersBackend) -> None:
    assert backend.count_tokens("<|fim_middle|>") == 1
    assert {
        backend.loaded.tokenizer.convert_tokens_to_ids(t) for t in ("<|endoftext|>", "<|file_sep|>")
    } <= set(backend.stop_ids)


def test_without_end_of_text_the_stop_tokens_are_never_chosen(backend: TransformersBackend) -> None:
    first = backend.loaded.tokenizer(
        backend.generate(GenerationRequest(prompt=PROMPT, max_new_tokens=1)).text, add_special_tokens=False
    )["input_ids"][0]
    stopping = TransformersBackend(backend.loaded)
    # the token the model picks first now ends the text
    stopping.stop_ids = sorted({*backend.stop_ids, first})
    assert stopping.generate(GenerationRequest(prompt=PROMPT, max_new_tokens=6)).stopped_by == "eos"
    result = stopping.generate(GenerationRequest(prompt=PROMPT, max_new_tokens=6, end_of_text=False))
    assert result.stopped_by == "length" and result.new_tokens == 6
    assert first not in backend.loaded.tokenizer(result.text, add_special_tokens=False)["input_ids"][:1]


def test_loading_a_directory_without_weights_is_a_model_error(tmp_path: Path) -> None:
    from housecoder.models.errors import ModelError

    (tmp_path / "config.json").write_text('{"model_type": "qwen2"}')
    with pytest.raises(ModelError, match="cannot load the model"):
        load_code_model(tmp_path, ModelsConfig(device="cpu"))
