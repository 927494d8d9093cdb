"""Token healing in the local runtimes, on the tiny random Qwen2 (transformers, and llama.cpp on its GGUF):
the first tokens write the dropped bytes again whatever the model prefers, the vocabulary is the tokenizer's
bytes, and inside a line each keystroke of the line-start layout prefills only its new tokens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from housecoder.config import InferenceConfig, InferenceTuning, ModelsConfig, ModelsTuning
from housecoder.inference import streaming
from housecoder.inference.base import GenerationRequest
from housecoder.inference.healing import Healing
from housecoder.inference.transformers_backend import TransformersBackend, byte_pieces
from housecoder.models.loading import load_code_model
from housecoder.prompt import build_fim_prompt

HEAD = "import json\n\n\ndef load_config(path):\n    with open(path) as f:\n"
SUFFIX = "\n\n\ndef save(path, data):\n    pass\n"
TYPED = {
    "a trailing space": "        value: ",
    "a partial identifier": "        self.conv",
    "a partial operator": "        x =",
    "a partial multi-byte character's line": "        name = '名",
}


def _prompt(typed: str) -> str:
    return build_fim_prompt(prefix=HEAD, suffix=SUFFIX, path="cfg.py", repo_name="r", middle=typed)


@pytest.fixture(scope="module")
def transformers_backend(tiny_qwen_dir: Path) -> TransformersBackend:
    loaded = load_code_model(tiny_qwen_dir, ModelsConfig(device="cpu", tuning=ModelsTuning(dtype="float32")))
    return TransformersBackend(loaded, InferenceConfig(tuning=InferenceTuning(prefill_chunk_tokens=16)))


@pytest.fixture(scope="module")
def llama_backend(tiny_qwen_gguf: Path) -> Iterator[Any]:
    from housecoder.inference.llamacpp_backend import LlamaCppBackend, llama_cpp_available

    if not llama_cpp_available():
        pytest.skip("llama-cpp-python is not installed (make setup builds it)")
    backend = LlamaCppBackend(
        tiny_qwen_gguf,
        InferenceConfig(threads=1, tuning=InferenceTuning(prefill_chunk_tokens=16, context_tokens=1024)),
    )
    yield backend
    backend.close()


@pytest.fixture(params=["transformers", "llama.cpp"])
def backend(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue(
        "transformers_backend" if request.param == "transformers" else "llama_backend"
    )


@pytest.fixture
def healings(monkeypatch: pytest.MonkeyPatch) -> list[Healing]:
    """The healing of every generation, as the shared token loop saw it."""
    seen: list[Healing] = []
    original = streaming.run_generation

    def recording(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("healing") is not None:
            seen.append(kwargs["healing"])
        return original(*args, **kwargs)

    for module in ("transformers_backend", "llamacpp_backend"):
        monkeypatch.setattr(f"housecoder.inference.{module}.run_generation", recording, raising=False)
    return seen


@pytest.mark.parametrize("case", list(TYPED))
def test_the_first_tokens_write_the_dropped_text_again(
    backend: Any, healings: list[Healing], case: str
) -> None:
    typed = TYPED[case]
    whole = backend.tokenize(_prompt(typed)) if hasattr(backend, "tokenize") else None
    generation = backend.generate(GenerationRequest(_prompt(typed), 12, typed=typed, heal_tokens=4))
    assert len(healings) == 1
    healing = healings[0]
    assert healing.dropped and typed.encode().endswith(healing.dropped)
    assert healing.written.startswith(healing.dropped)  # a random model, constrained: never another text
    assert (
        generation.text
        == healing.written[len(healing.dropped) :].decode("utf-8", "ignore")[: len(generation.text)]
    )
    if whole is not None:
        assert generation.prompt_tokens < len(whole)  # the dropped tokens are not prefilled
    assert len(generation.logprobs) <= generation.new_tokens - 1  # the rewriting tokens are not scored


def test_without_typed_text_nothing_is_healed(backend: Any, healings: list[Healing]) -> None:
    plain = backend.generate(GenerationRequest(_prompt(""), 8, typed="", heal_tokens=4))
    assert healings == [] and plain.prompt_tokens == backend.count_tokens(_prompt(""))


def test_the_vocabulary_is_the_tokenizers_bytes(
    transformers_backend: TransformersBackend, llama_backend: Any
) -> None:
    tokenizer = transformers_backend.loaded.tokenizer
    text = "def naïve(名前):\n\treturn x  >= 1 # ok"
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    pieces = byte_pieces(tokenizer)
    assert b"".join(pieces[i] for i in ids).decode() == text
    llama_pieces = llama_backend.vocabulary.pieces
    assert [llama_pieces[i] for i in ids] == [pieces[i] for i in ids]
    control = tokenizer.convert_tokens_to_ids("<|fim_middle|>")
    assert pieces[control] == b"" and llama_pieces[control] == b""


def test_each_keystroke_of_a_line_prefills_only_its_new_tokens(backend: Any) -> None:
    line = "        return json.load(f)"
    start = len("        ")
    prefilled = []
    for n in range(start, len(line) + 1):
        typed = line[:n]
        generation = backend.generate(
            GenerationRequest(_prompt(typed), 4, single_line=True, typed=typed, heal_tokens=4)
        )
        prefilled.append(generation.prompt_tokens - generation.reused_tokens)
    psm = backend.count_tokens(
        build_fim_prompt(prefix=HEAD + line[: start + 3], suffix=SUFFIX, path="cfg.py", repo_name="r")
    )
    # after the line's first keystroke: the typed word's tokens, never the suffix
    assert max(prefilled[1:]) <= 5, prefilled
    assert psm > 40  # what a psm keystroke would have to prefill at least: the suffix and the control tokens


def test_the_backend_says_how_much_of_a_prompt_it_would_prefill(backend: Any) -> None:
    first, other = _prompt("        return "), _prompt("        value = ").replace("load_config", "read_all")
    generation = backend.generate(GenerationRequest(first, 2, single_line=True))
    assert backend.uncached_tokens(first) == 0  # the live context holds it
    assert backend.uncached_tokens(first + "x") <= 2
    assert backend.uncached_tokens(other) >= backend.count_tokens(other) - 20  # shares only the file's start
    backend.generate(GenerationRequest(other, 2, single_line=True))
    if backend.runtime == "llama.cpp":  # it saves a copy of the state it leaves; transformers crops its own
        assert backend.uncached_tokens(first) <= 1
    assert generation.prompt_tokens == backend.count_tokens(first)
