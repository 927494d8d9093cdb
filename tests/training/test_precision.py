"""`train.mixed_precision` resolved per device: auto trains in bf16 only where the hardware computes it, and
on float32 weights elsewhere (no autocast on a CPU, fp16 autocast on an older GPU)."""

from __future__ import annotations

from typing import Any

import pytest

from housecoder.config import ModelsConfig, ModelsTuning, TrainConfig, TrainTuning
from housecoder.training import precision


@pytest.fixture
def hardware(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Sets which devices `native_bf16` reports as computing bf16."""

    def set_native(*devices: str) -> None:
        monkeypatch.setattr(precision, "native_bf16", lambda device: device in devices)

    return set_native


@pytest.mark.parametrize(
    ("wanted", "native", "device", "expected"),
    [
        ("auto", True, "cpu", "bf16"),  # AVX-512 BF16 / AMX
        ("auto", False, "cpu", "no"),  # AVX2 only: fp32
        ("auto", True, "cuda", "bf16"),  # Ampere and newer
        ("auto", False, "cuda", "fp16"),  # older GPUs
        ("bf16", False, "cpu", "bf16"),  # explicit settings are honoured
        ("fp16", True, "cpu", "bf16"),  # fp16 autocast is a GPU feature
        ("fp16", True, "cuda", "fp16"),
        ("no", True, "cpu", "no"),
    ],
)
def test_resolve(hardware: Any, wanted: str, native: bool, device: str, expected: str) -> None:
    hardware(device) if native else hardware()
    assert precision.resolve(TrainConfig(tuning=TrainTuning(mixed_precision=wanted)), device) == expected  # type: ignore[arg-type]


def test_auto_loads_float32_weights_only_on_a_cpu_without_bf16(hardware: Any) -> None:
    auto, explicit = TrainConfig(), TrainConfig(tuning=TrainTuning(mixed_precision="bf16"))
    models = ModelsConfig()
    assert models.tuning.dtype == "bfloat16" and auto.tuning.mixed_precision == "auto"
    hardware()
    assert precision.training_models(models, auto, "cpu").tuning.dtype == "float32"
    assert precision.training_models(models, explicit, "cpu").tuning.dtype == "bfloat16"
    assert (
        precision.training_models(
            models, TrainConfig(tuning=TrainTuning(mixed_precision="no")), "cpu"
        ).tuning.dtype
        == "bfloat16"
    )
    assert (
        precision.training_models(
            ModelsConfig(tuning=ModelsTuning(dtype="float16")), auto, "cpu"
        ).tuning.dtype
        == "float16"
    )  # as set
    # fp16 autocast over fp32 weights
    assert precision.training_models(models, auto, "cuda").tuning.dtype == "float32"
    hardware("cpu", "cuda")
    assert precision.training_models(models, auto, "cpu").tuning.dtype == "bfloat16"
    assert precision.training_models(models, auto, "cuda").tuning.dtype == "bfloat16"
    assert models.tuning.dtype == "bfloat16"  # a copy, the settings are unchanged


def test_describe() -> None:
    assert (
        precision.describe(ModelsConfig(tuning=ModelsTuning(dtype="float32")), "no")
        == "float32 weights, no autocast"
    )
    assert precision.describe(ModelsConfig(), "bf16") == "bfloat16 weights, bf16 autocast"


def test_native_bf16_asks_torch() -> None:
    torch = pytest.importorskip("torch")
    assert precision.native_bf16("cpu") is bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    assert precision.native_bf16("cuda") is bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())


def test_apple_gpu_trains_float32_without_autocast_and_is_refused_where_absent() -> None:
    import torch

    from housecoder.models.errors import ModelError
    from housecoder.models.loading import pick_device

    assert precision.native_bf16("mps") is False
    assert precision.resolve(TrainConfig(), "mps") == "no"
    assert precision.training_models(ModelsConfig(), TrainConfig(), "mps").tuning.dtype == "float32"
    if not torch.backends.mps.is_available():
        with pytest.raises(ModelError, match="'mps' but torch sees no Apple GPU"):
            pick_device("mps")
    assert ModelsConfig(device="mps").device == "mps"
