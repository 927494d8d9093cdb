"""Which adapter a backend loads with: the configured one (checked), else the registry's best for the repository."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from registry_fixture import bundle, register
from safetensors.numpy import save_file
from settings_fixture import tiny_models

from housecoder.completion.loading import choose_adapter, load, load_backend
from housecoder.config import Settings
from housecoder.models.adapters import base_fingerprint
from housecoder.models.errors import AdapterMismatch, ModelError

PROMPT = "<|fim_prefix|>def f(x):\n    return <|fim_suffix|><|fim_middle|>"


def settings_for(tiny_qwen_dir: Path, tmp_path: Path, **models: Any) -> Settings:
    return Settings.model_validate(
        {
            "models": tiny_models(tiny_qwen_dir, tmp_path / "models", offline=False, **models),
            "train": {"output": str(tmp_path / "adapters")},
        }
    )


def last_logits(backend: Any) -> list[float]:
    import torch

    loaded = backend.loaded
    ids = loaded.tokenizer(PROMPT, return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        return [float(v) for v in loaded.model(ids).logits[0, -1, :20]]


def test_a_registered_adapter_is_picked_for_the_repository_and_changes_the_output(
    tiny_qwen_dir: Path, tiny_adapter_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    settings = settings_for(tiny_qwen_dir, tmp_path)
    plain = load(settings, repo_roots=[repo])
    assert (
        plain.adapter is None
        and plain.backend.adapter is None
        and plain.fingerprint == base_fingerprint(tiny_qwen_dir)
    )

    registered = register(settings, repo, "run1", base_fingerprint(tiny_qwen_dir), peft_dir=tiny_adapter_dir)
    with caplog.at_level(logging.INFO, logger="housecoder.completion.loading"):
        tuned = load(settings, repo_roots=[tmp_path / "other", repo])
    assert tuned.adapter is not None and tuned.adapter.automatic and tuned.adapter.info is not None
    assert tuned.backend.adapter == registered
    assert f"using adapter {registered} trained 2025-01-01" in caplog.text
    assert "held-out exact match 25.0 -> 50.0%" in caplog.text
    assert last_logits(tuned.backend) != pytest.approx(last_logits(plain.backend))

    # Off when asked, and without a repository there is nothing to pick from.
    assert (
        load_backend(settings_for(tiny_qwen_dir, tmp_path, auto_adapter=False), repo_root=repo).adapter
        is None
    )
    assert load_backend(settings).adapter is None


def test_the_adapter_shipped_for_the_base_is_served_where_the_repository_has_none(
    tiny_qwen_dir: Path,
    tiny_adapter_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from housecoder.models import adapters

    repo = tmp_path / "repo"
    repo.mkdir()
    settings = settings_for(tiny_qwen_dir, tmp_path)
    fingerprint = base_fingerprint(tiny_qwen_dir)
    monkeypatch.setattr(adapters, "BUNDLED_ROOT", tmp_path / "bundled")
    bundle(tmp_path / "bundled", "other-base-fim", "f" * 64, peft_dir=tiny_adapter_dir)  # another base's
    assert load(settings, repo_roots=[repo]).adapter is None
    shipped = bundle(tmp_path / "bundled", "tiny-fim", fingerprint, peft_dir=tiny_adapter_dir)

    with caplog.at_level(logging.INFO, logger="housecoder.completion.loading"):
        loaded = load(settings, repo_roots=[repo])
    assert loaded.adapter is not None and loaded.adapter.bundled and loaded.adapter.automatic
    assert loaded.backend.adapter == shipped and "shipped with housecoder" in caplog.text
    assert load(settings).adapter is not None  # no workspace folder: still the base's own adapter
    assert load(settings_for(tiny_qwen_dir, tmp_path, auto_adapter=False), repo_roots=[repo]).adapter is None

    # The repository's activated adapter comes first; without it, back to the shipped one.
    registered = register(settings, repo, "run1", fingerprint, peft_dir=tiny_adapter_dir)
    tuned = load(settings, repo_roots=[repo])
    assert tuned.backend.adapter == registered and tuned.adapter is not None and not tuned.adapter.bundled
    shutil.rmtree(registered)
    assert load(settings, repo_roots=[repo]).backend.adapter == shipped


def test_a_registered_adapter_that_does_not_load_is_left_off(tiny_qwen_dir: Path, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    settings = settings_for(tiny_qwen_dir, tmp_path)
    broken = tmp_path / "broken"  # LoRA weights whose shapes do not fit the model: peft fails to load them
    broken.mkdir()
    (broken / "adapter_config.json").write_text('{"peft_type": "LORA", "r": 4, "target_modules": ["q_proj"]}')
    wrong = {"base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight": np.zeros((1, 1), np.float32)}
    save_file(wrong, str(broken / "adapter_model.safetensors"))
    register(settings, repo, "broken", base_fingerprint(tiny_qwen_dir), peft_dir=broken)
    loaded = load(settings, repo_roots=[repo])
    assert loaded.adapter is None and loaded.backend.adapter is None


def test_an_explicit_adapter_for_another_base_is_refused_in_one_line(
    tiny_qwen_dir: Path, tiny_adapter_dir: Path, tmp_path: Path
) -> None:
    other = register(
        settings_for(tiny_qwen_dir, tmp_path), tmp_path, "other", "f" * 64, peft_dir=tiny_adapter_dir
    )
    with pytest.raises(AdapterMismatch) as caught:
        load_backend(settings_for(tiny_qwen_dir, tmp_path, adapter=str(other)))
    assert "\n" not in str(caught.value) and "not for the loaded model" in str(caught.value)
    with pytest.raises(ModelError, match="not a LoRA adapter"):
        load_backend(settings_for(tiny_qwen_dir, tmp_path, adapter=str(tmp_path / "missing")))

    plain = tmp_path / "plain"
    shutil.copytree(tiny_adapter_dir, plain)  # no metadata: allowed, peft checks the shapes
    loaded = load(settings_for(tiny_qwen_dir, tmp_path, adapter=str(plain)), repo_roots=[tmp_path])
    assert loaded.backend.adapter == plain and loaded.adapter is not None and not loaded.adapter.automatic


def test_a_remote_engine_gets_no_registry_lookup_and_no_local_check(tmp_path: Path) -> None:
    settings = Settings.model_validate({"train": {"output": str(tmp_path / "adapters")}})
    register(settings, tmp_path, "run", "a" * 64)
    assert choose_adapter(settings, None, [tmp_path]) is None  # fingerprint None: the openai runtime
    assert choose_adapter(settings, "a" * 64, [tmp_path]) is not None
    served = Settings.model_validate({"models": {"adapter": "/served/house-style"}})
    choice = choose_adapter(served, None, [tmp_path])
    assert choice is not None and choice.path == Path("/served/house-style") and choice.info is None
