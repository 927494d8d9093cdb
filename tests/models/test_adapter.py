"""LoRA adapters on the code model: switch on, switch to another, switch off; bad adapters refused in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from housecoder.config import ModelsConfig, ModelsTuning
from housecoder.inference.base import GenerationRequest
from housecoder.inference.transformers_backend import TransformersBackend
from housecoder.models.errors import ModelError
from housecoder.models.loading import load_code_model, set_adapter


def _adapter(base: Path, out: Path, seed: int) -> Path:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(base)
    config = LoraConfig(
        r=4, lora_alpha=64, target_modules=["q_proj", "v_proj", "o_proj"], init_lora_weights=False
    )
    get_peft_model(model, config).save_pretrained(out)
    return out


def test_adapter_changes_the_output_and_switches_back(tiny_qwen_dir: Path, tmp_path: Path) -> None:
    loaded = load_code_model(tiny_qwen_dir, ModelsConfig(device="cpu", tuning=ModelsTuning(dtype="float32")))
    backend = TransformersBackend(loaded)
    request = GenerationRequest(
        "<|fim_prefix|>def f(x):\n    return <|fim_suffix|><|fim_middle|>", max_new_tokens=8
    )

    def logits() -> list[float]:
        import torch

        ids = loaded.tokenizer(request.prompt, return_tensors="pt")["input_ids"]
        with torch.inference_mode():
            return [float(v) for v in loaded.model(ids).logits[0, -1, :20]]

    base = logits()
    first, second = _adapter(tiny_qwen_dir, tmp_path / "a", 1), _adapter(tiny_qwen_dir, tmp_path / "b", 2)
    set_adapter(loaded, first)
    with_first = logits()
    assert loaded.adapter == first and with_first != base
    backend.generate(request)  # generation works through the peft wrapper
    set_adapter(loaded, second)
    assert loaded.adapter == second and logits() not in (base, with_first)
    set_adapter(loaded, None)
    assert loaded.adapter is None and logits() == pytest.approx(base)


def test_bad_adapters_are_refused_in_one_line(tiny_qwen_dir: Path, tmp_path: Path) -> None:
    loaded = load_code_model(tiny_qwen_dir, ModelsConfig(device="cpu", tuning=ModelsTuning(dtype="float32")))
    with pytest.raises(ModelError, match="not a LoRA adapter"):
        set_adapter(loaded, tmp_path)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "adapter_config.json").write_text(
        '{"peft_type": "LORA", "r": 4, "target_modules": ["nope_proj"]}'
    )
    with pytest.raises(ModelError) as caught:
        set_adapter(loaded, broken)
    assert "\n" not in str(caught.value) and loaded.adapter is None


def test_an_adapter_without_lora_tensors_is_refused(
    tiny_qwen_dir: Path, tiny_adapter_dir: Path, tmp_path: Path
) -> None:
    import shutil

    from safetensors.numpy import save_file

    from housecoder.models.adapters import check_compatible

    empty = tmp_path / "empty"
    shutil.copytree(tiny_adapter_dir, empty)
    save_file({}, str(empty / "adapter_model.safetensors"))
    loaded = load_code_model(tiny_qwen_dir, ModelsConfig(device="cpu", tuning=ModelsTuning(dtype="float32")))
    with pytest.raises(ModelError, match="holds no LoRA weights"):
        set_adapter(loaded, empty)
    with pytest.raises(ModelError, match="holds no LoRA weights"):
        check_compatible(empty, "any fingerprint")
    assert loaded.adapter is None


def test_a_refused_adapter_leaves_no_layers_behind(
    tiny_qwen_dir: Path, tiny_adapter_dir: Path, tmp_path: Path
) -> None:
    import json
    import shutil

    from peft.tuners.tuners_utils import BaseTunerLayer

    wrong_rank = tmp_path / "wrong-rank"  # peft injects rank-8 layers, then the rank-4 weights do not fit
    shutil.copytree(tiny_adapter_dir, wrong_rank)
    config = json.loads((wrong_rank / "adapter_config.json").read_text())
    (wrong_rank / "adapter_config.json").write_text(json.dumps({**config, "r": 8}))
    loaded = load_code_model(tiny_qwen_dir, ModelsConfig(device="cpu", tuning=ModelsTuning(dtype="float32")))
    set_adapter(loaded, tiny_adapter_dir)
    with pytest.raises(ModelError, match="cannot load the adapter"):
        set_adapter(loaded, wrong_rank)
    assert loaded.adapter is None
    assert not [name for name, module in loaded.model.named_modules() if isinstance(module, BaseTunerLayer)]
    set_adapter(loaded, tiny_adapter_dir)  # and a good one still applies afterwards
    assert loaded.adapter == tiny_adapter_dir
