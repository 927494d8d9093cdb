"""GPU offload on llama.cpp: `inference.gpu_layers` picks every layer where the installed build has a GPU
backend and none where it has not, `describe()` (and so `housecoder.status` and the context budget) says
where the model runs, and `auto` keeps llama.cpp when llama.cpp can reach the GPU itself."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from housecoder.completion import loading
from housecoder.config import InferenceConfig, InferenceTuning, Settings
from housecoder.inference import llamacpp_backend
from housecoder.inference.llamacpp_backend import (
    LlamaCppBackend,
    gpu_backends,
    llama_cpp_available,
    offload_layers,
)

CPU_BUILD = "CPU : SSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | OPENMP = 1 | REPACK = 1 | "
CUDA_BUILD = (
    "CUDA : ARCHS = 890 | FORCE_MMQ = 0 | USE_GRAPHS = 1 | PEER_MAX_BATCH_SIZE = 128 | CPU : AVX2 = 1 | "
)
ALL_LAYERS = 0x7FFFFFFF  # llama-cpp-python's value for n_gpu_layers = -1
METAL_BUILD = "Metal : EMBED_LIBRARY = 1 | CPU : NEON = 1 | ARM_FMA = 1 | ACCELERATE = 1 | "


def test_the_gpu_backends_are_read_off_the_builds_system_info() -> None:
    assert gpu_backends(CPU_BUILD) == []
    assert gpu_backends(CUDA_BUILD) == ["CUDA"]
    assert gpu_backends(METAL_BUILD) == ["Metal"]
    assert gpu_backends("") == []


def test_layers_default_to_all_on_a_gpu_build_and_none_on_a_cpu_build(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert offload_layers(None, gpu=True) == -1
    assert offload_layers(None, gpu=False) == 0
    assert offload_layers(12, gpu=True) == 12 and offload_layers(0, gpu=True) == 0
    with caplog.at_level(logging.WARNING):
        assert offload_layers(12, gpu=False) == 0
    assert "no GPU backend" in caplog.text and "LLAMA_GPU" in caplog.text


@pytest.mark.skipif(
    not llama_cpp_available(), reason="llama-cpp-python is not installed (make setup builds it)"
)
def test_the_backend_offloads_what_the_build_can_and_says_where_it_runs(
    tiny_qwen_gguf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = InferenceConfig(tuning=InferenceTuning(context_tokens=512))
    on_this_build = LlamaCppBackend(tiny_qwen_gguf, config, cache_root=tmp_path)
    expected = llamacpp_backend.llama_cpp_gpu()
    assert on_this_build.llm.model_params.n_gpu_layers == (ALL_LAYERS if expected else 0)
    assert (on_this_build.describe()["device"] == "cpu") == (not expected)
    on_this_build.close()
    # A build with a GPU backend (this machine's may have none): every layer is asked for, and the
    # device is named (this CPU build loads it all the same).
    monkeypatch.setattr(llamacpp_backend, "llama_cpp_gpu", lambda: ["CUDA"])
    offloaded = LlamaCppBackend(tiny_qwen_gguf, config, cache_root=tmp_path)
    assert offloaded.llm.model_params.n_gpu_layers == ALL_LAYERS
    assert offloaded.describe()["device"] == "CUDA, all layers"
    offloaded.close()
    some = LlamaCppBackend(tiny_qwen_gguf, config.model_copy(update={"gpu_layers": 3}), cache_root=tmp_path)
    assert some.llm.model_params.n_gpu_layers == 3 and some.describe()["device"] == "CUDA, 3 layers"
    some.close()
    cpu_only = LlamaCppBackend(
        tiny_qwen_gguf, config.model_copy(update={"gpu_layers": 0}), cache_root=tmp_path
    )
    assert cpu_only.describe()["device"] == "cpu"
    cpu_only.close()


def test_auto_keeps_llama_cpp_when_it_reaches_the_gpu_and_never_needs_torch_to_decide(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from housecoder.models import loading as model_loading

    gguf = tmp_path / "m.gguf"
    monkeypatch.setattr(llamacpp_backend, "llama_cpp_available", lambda: True)
    monkeypatch.setattr(llamacpp_backend, "llama_cpp_gpu", lambda: ["CUDA"])
    monkeypatch.setattr(model_loading, "torch_cuda", lambda: pytest.fail("torch asked"))
    assert loading.pick_runtime(Settings(), gguf) == "llama.cpp"
    monkeypatch.setattr(llamacpp_backend, "llama_cpp_gpu", lambda: [])
    monkeypatch.setattr(model_loading, "torch_cuda", lambda: True)
    assert loading.pick_runtime(Settings(), gguf) == "transformers"  # only torch reaches this GPU
    monkeypatch.setattr(model_loading, "torch_cuda", lambda: False)
    assert loading.pick_runtime(Settings(), gguf) == "llama.cpp"
    assert loading.pick_runtime(Settings(), None) == "transformers"  # no GGUF: nothing for llama.cpp


def test_torch_cuda_is_false_without_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from housecoder.models import loading as model_loading

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a)
    )
    assert model_loading.torch_cuda() is False
