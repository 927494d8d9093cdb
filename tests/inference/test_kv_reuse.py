"""Prefix KV reuse on a tiny random Qwen2: same tokens as a cold run, less prefill, bounded memory,
cancellation between two tokens, adapters never served from another adapter's cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from housecoder.config import InferenceConfig, InferenceTuning, ModelsConfig, ModelsTuning
from housecoder.inference.base import Cancellation, GenerationRequest
from housecoder.inference.prefix_cache import Entry, PrefixCache, common_prefix
from housecoder.inference.transformers_backend import TransformersBackend
from housecoder.models.loading import load_code_model
from housecoder.prompt import build_fim_prompt

FILE = "import json\n\n\ndef load_config(path):\n    with open(path) as f:\n        "
SUFFIX = "\n\n\ndef save(path, data):\n    pass\n"


def _backend(tiny_qwen_dir: Path, **inference: int) -> TransformersBackend:
    loaded = load_code_model(tiny_qwen_dir, ModelsConfig(device="cpu", tuning=ModelsTuning(dtype="float32")))
    return TransformersBackend(loaded, InferenceConfig(tuning=InferenceTuning(**inference)))


def _keystrokes(typed: str) -> list[str]:
    """The prompts of a user typing `typed` at the cursor, one per keystroke."""
    return [
        build_fim_prompt(prefix=FILE + typed[:n], suffix=SUFFIX, path="cfg.py", repo_name="r")
        for n in range(len(typed) + 1)
    ]


@pytest.fixture(scope="module")
def warm(tiny_qwen_dir: Path) -> TransformersBackend:
    return _backend(tiny_qwen_dir, prefill_chunk_tokens=7)


@pytest.fixture(scope="module")
def cold(tiny_qwen_dir: Path) -> TransformersBackend:
    return _backend(tiny_qwen_dir, kv_cache_entries=0)


def test_reuse_gives_the_same_tokens_as_a_cold_run(
    warm: TransformersBackend, cold: TransformersBackend
) -> None:
    reused = []
    for prompt in _keystrokes("return json.lo") + _keystrokes(
        "retu"
    ):  # typing, then "undo" to an older prompt
        request = GenerationRequest(prompt, max_new_tokens=12)
        hot, reference = warm.generate(request), cold.generate(request)
        assert (hot.text, hot.new_tokens, hot.stopped_by) == (
            reference.text,
            reference.new_tokens,
            reference.stopped_by,
        )
        assert reference.reused_tokens == 0
        reused.append(hot.reused_tokens / hot.prompt_tokens)
    assert reused[0] == 0.0
    assert min(reused[1:]) > 0.5  # every later keystroke reuses more than half of its prompt


def test_cold_run_matches_transformers_generate(cold: TransformersBackend) -> None:
    import torch

    prompt = _keystrokes("return")[-1]
    ids = cold.loaded.tokenizer(prompt, return_tensors="pt", add_special_tokens=False)["input_ids"]
    with torch.inference_mode():
        out = cold.loaded.model.generate(ids, max_new_tokens=10, do_sample=False, eos_token_id=cold.stop_ids)
    expected = cold.loaded.tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True)
    assert cold.generate(GenerationRequest(prompt, max_new_tokens=10)).text == expected


def test_cancellation_stops_within_one_token(warm: TransformersBackend) -> None:
    cancel = Cancellation()
    seen: list[str] = []

    def on_text(text: str) -> None:
        seen.append(text)
        if len(seen) == 3:
            cancel.cancel()

    result = warm.generate(
        GenerationRequest(_keystrokes("x")[-1], max_new_tokens=30, on_text=on_text), cancel
    )
    assert result.stopped_by == "cancelled"
    assert result.new_tokens == 3 and len(seen) == 3


def test_a_cancelled_prefill_keeps_what_it_computed(tiny_qwen_dir: Path) -> None:
    backend = _backend(tiny_qwen_dir, prefill_chunk_tokens=4)
    prompt = _keystrokes("ret")[-1]
    cancel = Cancellation()
    cancel.cancel()
    assert backend.generate(GenerationRequest(prompt, max_new_tokens=5), cancel).stopped_by == "cancelled"
    assert backend.kv.tokens == 0  # cancelled before the first chunk
    calls = {"n": 0}

    class AfterTwoChunks(Cancellation):
        @property
        def cancelled(self) -> bool:
            calls["n"] += 1
            return calls["n"] > 2

    first = backend.generate(GenerationRequest(prompt, max_new_tokens=5), AfterTwoChunks())
    assert first.stopped_by == "cancelled" and backend.kv.tokens == 8
    second = backend.generate(GenerationRequest(prompt, max_new_tokens=5))
    assert second.reused_tokens == 8 and second.stopped_by != "cancelled"


def test_single_line_requests_stop_on_the_token_that_ends_the_line(warm: TransformersBackend) -> None:
    for typed in ("", "re", "return json"):
        streamed: list[str] = []
        result = warm.generate(
            GenerationRequest(
                _keystrokes(typed)[-1], max_new_tokens=60, single_line=True, on_text=streamed.append
            )
        )
        assert "\n" not in result.text.lstrip("\n")
        # no token generated past the stop
        assert len(streamed) == result.new_tokens - (result.stopped_by == "eos")
        if result.stopped_by == "newline":
            assert all("\n" not in text.lstrip("\n").rstrip() for text in streamed[:-1])


def test_adapter_switch_clears_the_kv_cache_and_changes_output(tiny_qwen_dir: Path, tmp_path: Path) -> None:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(3)
    base_model = AutoModelForCausalLM.from_pretrained(tiny_qwen_dir)
    lora = LoraConfig(
        r=8, lora_alpha=256, target_modules=["q_proj", "v_proj", "o_proj", "up_proj"], init_lora_weights=False
    )
    get_peft_model(base_model, lora).save_pretrained(tmp_path / "adapter")

    backend = _backend(tiny_qwen_dir)
    request = GenerationRequest(_keystrokes("return")[-1], max_new_tokens=12)
    base = backend.generate(request)
    assert backend.generate(request).reused_tokens == base.prompt_tokens - 1
    backend.set_adapter(tmp_path / "adapter")
    tuned = backend.generate(request)
    assert tuned.reused_tokens == 0 and backend.adapter == tmp_path / "adapter"
    assert tuned.text != base.text
    backend.set_adapter(None)
    again = backend.generate(request)
    assert again.reused_tokens == 0 and again.text == base.text and backend.adapter is None


def test_common_prefix() -> None:
    assert common_prefix([1, 2, 3], [1, 2, 4, 5]) == 2
    assert common_prefix([], [1]) == 0
    assert common_prefix([1, 2], [1, 2]) == 2


def test_prefix_cache_picks_the_longest_match_and_keeps_its_bounds() -> None:
    cache: PrefixCache[str] = PrefixCache(max_entries=2, max_tokens=10)
    cache.put(Entry([1, 2, 3], "a"), owner="m")
    cache.put(Entry([1, 2, 9, 9], "b"), owner="m")
    entry, shared = cache.take([1, 2, 9, 5], owner="m")
    assert entry is not None and entry.kv == "b" and shared == 3 and len(cache) == 1
    entry, shared = cache.take([1, 2, 3], owner="m")
    assert entry is not None and entry.kv == "a" and shared == 2  # the last prompt token always runs again
    cache.put(Entry([1] * 6, "c"), owner="m")
    cache.put(Entry([2] * 6, "d"), owner="m")  # 12 tokens > 10: the oldest goes
    assert len(cache) == 1 and cache.tokens == 6
    cache.put(Entry([3] * 11, "e"), owner="m")  # larger than the whole budget: not kept
    assert cache.tokens == 6
    assert cache.take([2, 2, 2], owner="other") == (None, 0) and len(cache) == 0  # another model or adapter
