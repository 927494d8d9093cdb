"""GGUF -> safetensors conversion on a real (tiny) GGUF file."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from gguf_fixture import write_qwen2_gguf

from housecoder.models.convert import gguf_to_safetensors
from housecoder.models.errors import ModelError


@pytest.fixture(scope="module")
def tiny_gguf(tiny_qwen_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_qwen2_gguf(tiny_qwen_dir, tmp_path_factory.mktemp("gguf") / "tiny.gguf")


def test_converted_model_matches_the_original(tiny_qwen_dir: Path, tiny_gguf: Path, tmp_path: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = gguf_to_safetensors(tiny_gguf, tmp_path / "converted", dtype="float32")
    assert (out / "model.safetensors").is_file() and (out / "tokenizer.json").is_file()
    assert "quantization_config" not in (out / "config.json").read_text()
    original = AutoModelForCausalLM.from_pretrained(tiny_qwen_dir, dtype=torch.float32)
    converted = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32)
    ids = torch.tensor([[5, 17, 300, 4000]])
    assert torch.allclose(original(ids).logits, converted(ids).logits, atol=1e-5)
    text = "def f(x):\n    return x<|fim_middle|>"
    assert (
        AutoTokenizer.from_pretrained(out)(text)["input_ids"]
        == AutoTokenizer.from_pretrained(tiny_qwen_dir)(text)["input_ids"]
    )


def test_generation_config_stops_on_fim_control_tokens(tiny_gguf: Path, tmp_path: Path) -> None:
    from transformers import AutoTokenizer, GenerationConfig

    out = gguf_to_safetensors(tiny_gguf, tmp_path / "converted")
    tokenizer = AutoTokenizer.from_pretrained(out)
    eos = GenerationConfig.from_pretrained(out).eos_token_id
    assert tokenizer.convert_tokens_to_ids("<|file_sep|>") in eos
    assert tokenizer.convert_tokens_to_ids("<|endoftext|>") in eos


def test_a_file_that_is_not_gguf_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.gguf"
    bogus.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises((ModelError, ValueError)):
        gguf_to_safetensors(bogus, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bogus.gguf"]
