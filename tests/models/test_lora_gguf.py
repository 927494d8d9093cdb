"""peft LoRA -> llama.cpp GGUF adapter: tensor names, shapes, alpha; cached by content; bad input refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from housecoder.models.errors import ModelError
from housecoder.models.lora_gguf import convert_lora, gguf_adapter


@pytest.fixture(scope="module")
def peft_adapter(tiny_qwen_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    out = tmp_path_factory.mktemp("lora") / "adapter"
    config = LoraConfig(
        r=4, lora_alpha=16, target_modules=["q_proj", "v_proj", "down_proj"], init_lora_weights=False
    )
    get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_qwen_dir), config).save_pretrained(out)
    return out


def test_peft_adapter_converts_to_llama_cpp_names(peft_adapter: Path, tmp_path: Path) -> None:
    import gguf
    from safetensors.numpy import load_file

    out = convert_lora(peft_adapter, tmp_path / "a.gguf", "qwen2")
    reader = gguf.GGUFReader(str(out))
    fields = {name: field.contents() for name, field in reader.fields.items() if not name.startswith("GGUF.")}
    assert fields["general.architecture"] == "qwen2" and fields["general.type"] == "adapter"
    assert fields["adapter.type"] == "lora" and fields["adapter.lora.alpha"] == 16.0
    tensors = {tensor.name: tensor for tensor in reader.tensors}
    assert set(tensors) == {
        f"blk.{layer}.{module}.weight.lora_{ab}"
        for layer in (0, 1)
        for module in ("attn_q", "attn_v", "ffn_down")
        for ab in "ab"
    }
    source = load_file(str(peft_adapter / "adapter_model.safetensors"))
    a = source["base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight"]
    assert tensors["blk.1.attn_q.weight.lora_a"].data.shape == a.shape  # (r, in): numpy order kept
    assert (tensors["blk.1.attn_q.weight.lora_a"].data == a).all()


def test_conversion_is_cached_by_content(peft_adapter: Path, tmp_path: Path) -> None:
    first = gguf_adapter(peft_adapter, "qwen2", tmp_path)
    stamp = first.stat().st_mtime_ns
    assert gguf_adapter(peft_adapter, "qwen2", tmp_path) == first and first.stat().st_mtime_ns == stamp


def test_bad_adapters_are_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not a LoRA adapter"):
        convert_lora(tmp_path, tmp_path / "x.gguf", "qwen2")
    (tmp_path / "adapter_config.json").write_text(json.dumps({"r": 4, "lora_alpha": 8}))
    with pytest.raises(ModelError, match=r"no adapter_model\.safetensors"):
        convert_lora(tmp_path, tmp_path / "x.gguf", "qwen2")
    import numpy as np
    from safetensors.numpy import save_file

    save_file(
        {"base_model.model.model.embed_tokens.weight": np.zeros((2, 2), np.float32)},
        str(tmp_path / "adapter_model.safetensors"),
    )
    with pytest.raises(ModelError, match="unexpected tensor"):
        convert_lora(tmp_path, tmp_path / "x.gguf", "qwen2")
    assert not (tmp_path / "x.gguf").exists()
