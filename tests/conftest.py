"""Shared fixtures: tiny random models built in the test session, and a clean model store.

The tiny code model is a Qwen2 architecture with two small layers over the
trimmed Qwen tokenizer fixture (same pre-tokenizer and control tokens as the
real model, 4,118 tokens); it loads and generates in milliseconds.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from tests_paths import TINY_TOKENIZER

pytest_plugins = [
    "geometry_fixture"
]  # the `geometry_repo` repository, shared by tests/evaluation and tests/benchmarks


@pytest.fixture(scope="session")
def tiny_qwen_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A saved random Qwen2ForCausalLM (2 layers, hidden 32) with the tiny Qwen tokenizer."""
    import torch
    from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(TINY_TOKENIZER)
    torch.manual_seed(0)
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        tie_word_embeddings=False,
        bos_token_id=tokenizer.convert_tokens_to_ids("<|endoftext|>"),
        eos_token_id=tokenizer.convert_tokens_to_ids("<|endoftext|>"),
    )
    model = Qwen2ForCausalLM(config).eval()
    out = tmp_path_factory.mktemp("tiny-qwen")
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture
def store_root(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model store holding the real default embedder (exported once per session; a few seconds)."""
    from housecoder.models.store import ModelStore

    root = tmp_path_factory.mktemp("models")
    ModelStore(root).pull("all-minilm-l6-v2")
    return root


@pytest.fixture(scope="session")
def minilm(model_cache: Path):  # type: ignore[no-untyped-def]
    """The real default embedder on onnxruntime (int8, 128 tokens), from the session store."""
    from housecoder.models.embedder import OnnxEmbedder
    from housecoder.models.store import ModelStore

    return OnnxEmbedder(
        ModelStore(model_cache).resolve("all-minilm-l6-v2", "embedder").path, max_length=128, quantized=True
    )


@pytest.fixture(scope="session")
def tiny_adapter_dir(tiny_qwen_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random (non-zero) peft LoRA adapter for the tiny model, saved as peft does."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(5)
    model = AutoModelForCausalLM.from_pretrained(tiny_qwen_dir)
    config = LoraConfig(
        r=4, lora_alpha=64, target_modules=["q_proj", "v_proj", "o_proj"], init_lora_weights=False
    )
    out = tmp_path_factory.mktemp("tiny-adapter")
    get_peft_model(model, config).save_pretrained(out)
    return out
