"""Which arithmetic the fine-tune runs in on this machine: `train.mixed_precision` resolved for the device.

bf16 autocast is the fast choice on a GPU and on a CPU with bf16 instructions (AVX-512 BF16, AMX). On a CPU
without them torch emulates bf16 matrix products: forward + backward of a 64-token sequence of the 1.5B default
model with LoRA took 267 s in bf16 on 2 AVX2 cores, against 5.7 s in fp32 (bench/train_precision.py at commit 5f3d229). `auto`
(the default) therefore trains in bf16 where the hardware has it, and elsewhere on float32 weights: without
autocast on a CPU, with fp16 autocast on an older GPU (the usual mixed-precision recipe over fp32 weights). An
explicit `bf16`, `fp16` or `no` is honoured as written (fp16 autocast is a GPU feature, so a CPU runs it as bf16).
"""

from __future__ import annotations

from typing import Literal

from housecoder.config import ModelsConfig, TrainConfig, tuned

Precision = Literal["bf16", "fp16", "no"]


def native_bf16(device: str) -> bool:
    """True when `device` computes bf16 natively: a CUDA device that supports it, or a CPU whose oneDNN build has
    bf16 kernels for its instruction set (what torch itself checks before choosing bf16 on a CPU)."""
    import torch

    if device.startswith("cuda"):
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    if device.startswith("mps"):
        return False  # Apple's GPU trains in float32 here: its bf16 support varies with the macOS release
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a torch built without oneDNN
        return False


def resolve(config: TrainConfig, device: str) -> Precision:
    """The autocast `config.mixed_precision` means on `device`."""
    wanted = config.tuning.mixed_precision
    if wanted == "auto":
        if native_bf16(device):
            return "bf16"
        return "fp16" if device.startswith("cuda") else "no"
    if wanted == "fp16" and not device.startswith("cuda"):
        return "bf16"
    return wanted


def training_models(models: ModelsConfig, config: TrainConfig, device: str) -> ModelsConfig:
    """`models` as the fine-tune loads the code model on `device`: with `auto` on a device without native bf16 the
    weights come in float32 (bf16 weights there would still run emulated bf16 products)."""
    if (
        config.tuning.mixed_precision == "auto"
        and models.tuning.dtype == "bfloat16"
        and resolve(config, device) != "bf16"
    ):
        return tuned(models, dtype="float32")
    return models


def describe(models: ModelsConfig, precision: Precision) -> str:
    """One line for the dry run and the report: the weights' dtype and the autocast."""
    autocast = "no autocast" if precision == "no" else f"{precision} autocast"
    return f"{models.tuning.dtype} weights, {autocast}"
