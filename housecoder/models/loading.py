"""Load a resolved code model and its tokenizer for inference, on CPU or CUDA.

Heavy imports happen here, on first use, never at CLI start-up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from housecoder.config import ModelsConfig
from housecoder.errors import MissingDependency, first_line
from housecoder.models.adapters import weights_problem
from housecoder.models.errors import ModelError


@dataclass
class LoadedModel:
    """A causal LM ready to generate, with its tokenizer and where it runs."""

    model: Any
    tokenizer: Any
    device: str
    path: Path
    adapter: Path | None = None


def torch_cuda() -> bool:
    """Whether torch is installed and sees a CUDA device (serving installs may have no torch)."""
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return bool(torch.cuda.is_available())


def pick_device(requested: str) -> str:
    """`auto` means CUDA when torch sees a GPU, else CPU."""
    import torch

    if requested == "cuda" and not torch.cuda.is_available():
        raise ModelError("models.device is 'cuda' but torch sees no CUDA device")
    if requested == "mps" and not torch.backends.mps.is_available():
        raise ModelError("models.device is 'mps' but torch sees no Apple GPU (Metal Performance Shaders)")
    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return requested


def load_tokenizer(path: Path) -> Any:
    """The tokenizer of the model directory at `path` (for budgets when a remote engine generates)."""
    try:
        from transformers import AutoTokenizer
    except ImportError as err:
        raise MissingDependency(err.name or "transformers", "ml") from err
    try:
        return AutoTokenizer.from_pretrained(str(path))
    except (OSError, ValueError, KeyError) as err:
        raise ModelError(f"{path}: cannot load the tokenizer: {first_line(err)}") from err


def token_counter(path: Path) -> Callable[[str], int]:
    """Model tokens in a text, by the tokenizer of the model directory at `path` (no special tokens added)."""
    tokenizer = load_tokenizer(path)
    return lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"])


def load_code_model(path: Path, config: ModelsConfig) -> LoadedModel:
    """Load the model directory at `path` (config.json + weights + tokenizer) in `config.dtype`, without an
    adapter: `housecoder.completion.loading` chooses, checks and applies that (`set_adapter`)."""
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as err:
        raise MissingDependency(err.name or "transformers", "ml") from err

    if config.torch_threads:
        torch.set_num_threads(config.torch_threads)
    device = pick_device(config.device)
    dtype = getattr(torch, config.tuning.dtype)
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # a per-tensor bar for a 4-second load is noise in the editor log
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path))
        model = AutoModelForCausalLM.from_pretrained(str(path), dtype=dtype)
        model = model.to(device).eval()  # type: ignore[arg-type]
    except (OSError, ValueError, KeyError, RuntimeError) as err:
        raise ModelError(f"{path}: cannot load the model: {first_line(err)}") from err
    finally:
        hf_logging.enable_progress_bar()
    return LoadedModel(model=model, tokenizer=tokenizer, device=device, path=path)


def set_adapter(loaded: LoadedModel, adapter: Path | None) -> None:
    """Put the LoRA adapter at `adapter` (a peft directory) on the model, or take any adapter off (None).

    The previous adapter is removed first, so switching never stacks adapters;
    on failure the model is left without an adapter and the error says why in one line.
    """
    model = loaded.model
    if hasattr(model, "unload") and hasattr(model, "peft_config"):
        model = model.unload()  # the base model, LoRA layers removed (weights were never merged)
    loaded.model, loaded.adapter = model, None
    if adapter is None:
        return
    config_file = adapter / "adapter_config.json"
    if not config_file.is_file():
        raise ModelError(f"{adapter}: not a LoRA adapter (no adapter_config.json)")
    problem = weights_problem(adapter)
    if problem is not None:
        raise ModelError(f"{adapter}: not a LoRA adapter ({problem})")
    try:
        from peft import PeftModel
    except ImportError as err:
        raise MissingDependency("peft", "ml") from err
    try:
        loaded.model = PeftModel.from_pretrained(model, str(adapter)).eval()
    except (OSError, ValueError, KeyError, RuntimeError) as err:
        _strip_lora(model)  # peft injects its layers in place before it loads the weights that failed
        raise ModelError(f"{adapter}: cannot load the adapter: {first_line(err)}") from err
    loaded.adapter = adapter


def _strip_lora(model: Any) -> None:
    """Put every base layer back where a refused adapter left a peft layer around it."""
    from peft.tuners.tuners_utils import BaseTunerLayer

    for name, module in list(model.named_modules()):
        if name and isinstance(module, BaseTunerLayer):
            parent, _, child = name.rpartition(".")
            setattr(model.get_submodule(parent) if parent else model, child, module.get_base_layer())
