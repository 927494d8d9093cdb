"""Convert a GGUF checkpoint into a plain bf16 safetensors model directory, once.

Loading the GGUF through transformers dequantizes every tensor (about a
minute for 1.5B parameters on 2 cores); the saved safetensors directory then
loads in seconds. transformers refuses `save_pretrained` on a GGUF-loaded
model, so the weights are moved into a model built from the same config
without its `quantization_config` (on the meta device, so nothing is
allocated twice) and that model is saved.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from housecoder.errors import first_line
from housecoder.models.atomic import atomic_path, ensure_free_space
from housecoder.models.errors import ModelError
from housecoder.models.progress import SILENT, Progress

# Qwen2.5 FIM and chat control tokens that end a generation; the saved
# generation config lists those the tokenizer has so `generate` stops on them.
STOP_TOKENS = ("<|endoftext|>", "<|im_end|>", "<|file_sep|>", "<|fim_pad|>", "<|repo_name|>")


def _torch_dtype(name: str) -> Any:
    import torch

    return {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}[name]


def _estimated_bytes(gguf_path: Path, dtype: str) -> int:
    """Size of the converted weights: parameter count x bytes per parameter."""
    from gguf import GGUFReader

    reader = GGUFReader(gguf_path)
    params = sum(int(tensor.n_elements) for tensor in reader.tensors)
    return params * (4 if dtype == "float32" else 2)


def gguf_to_safetensors(
    gguf_path: Path,
    dest: Path,
    dtype: str = "bfloat16",
    progress: Progress = SILENT,
    finish: Callable[[Path], None] | None = None,
) -> Path:
    """Write a transformers model directory (weights, config, tokenizer) for `gguf_path` at `dest`, replacing
    whatever is there in one rename; `finish` adds files to the staging directory just before it."""
    try:
        import gguf  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as err:
        from housecoder.errors import MissingDependency

        raise MissingDependency(err.name or "transformers", "ml") from err

    from transformers.utils import logging as hf_logging

    ensure_free_space(dest.parent, _estimated_bytes(gguf_path, dtype) + (256 << 20))
    folder, name = str(gguf_path.parent), gguf_path.name
    torch_dtype = _torch_dtype(dtype)
    # Our own progress reports the steps; transformers' bars and its (CPU-irrelevant)
    # packed-weights advice would only interleave with it.
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        _convert(folder, name, dest, torch_dtype, dtype, gguf_path, progress, finish)
    finally:
        hf_logging.set_verbosity(verbosity)
        hf_logging.enable_progress_bar()
    return dest


def _convert(
    folder: str,
    name: str,
    dest: Path,
    torch_dtype: Any,
    dtype: str,
    gguf_path: Path,
    progress: Progress,
    finish: Callable[[Path], None] | None,
) -> None:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    with atomic_path(dest, directory=True) as staging:
        try:
            with progress.task(f"dequantizing {name}") as _:
                quantized = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch_dtype)
            with progress.task("converting the tokenizer") as _:
                tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        except (ValueError, KeyError, RuntimeError, OSError) as err:
            raise ModelError(f"{gguf_path}: cannot load as a GGUF language model: {first_line(err)}") from err

        with progress.task(f"saving {dtype} safetensors") as _:
            config_dict = quantized.config.to_dict()
            config_dict.pop("quantization_config", None)
            config_dict.pop("_name_or_path", None)
            config = AutoConfig.for_model(**config_dict)
            with torch.device("meta"):
                plain = AutoModelForCausalLM.from_config(config, dtype=torch_dtype)
            plain.load_state_dict(quantized.state_dict(), assign=True, strict=True)
            del quantized
            stop_ids = [tokenizer.convert_tokens_to_ids(token) for token in STOP_TOKENS]
            stop_ids = [i for i in stop_ids if isinstance(i, int) and i != tokenizer.unk_token_id]
            if stop_ids:
                plain.generation_config.eos_token_id = stop_ids
            plain.save_pretrained(staging)
            tokenizer.save_pretrained(staging)
        if finish is not None:
            finish(staging)
