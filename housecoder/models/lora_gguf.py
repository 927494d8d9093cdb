"""Convert a peft LoRA adapter (safetensors) to llama.cpp's GGUF adapter format.

llama.cpp loads LoRA adapters as GGUF files holding, for every adapted weight
`blk.N.attn_q.weight`, two tensors `....lora_a` (r x in) and `....lora_b`
(out x r), with `general.type = adapter`, `adapter.type = lora` and the alpha
(llama.cpp scales by alpha / r). This is the mapping llama.cpp's own
`convert_lora_to_gguf.py` performs for architectures that need no weight
permutation (Qwen2 among them), written with the `gguf` package so no
llama.cpp checkout is needed. Converted files are cached by content hash.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path

from housecoder.errors import MissingDependency, first_line
from housecoder.models.atomic import atomic_path
from housecoder.models.errors import ModelError

_LORA = re.compile(r"^(?:base_model\.model\.)?(?P<base>.+)\.lora_(?P<which>[AB])(?:\.[\w-]+)?\.weight$")
_PERMUTED = {"llama", "mistral", "granite"}  # convert_hf_to_gguf permutes q/k for these: not handled here


def adapter_files(adapter: Path) -> tuple[Path, Path]:
    """The adapter's config and weights; a clear error when it is not a peft LoRA directory."""
    config, weights = adapter / "adapter_config.json", adapter / "adapter_model.safetensors"
    if not config.is_file():
        raise ModelError(f"{adapter}: not a LoRA adapter (no adapter_config.json)")
    if not weights.is_file():
        raise ModelError(
            f"{adapter}: no adapter_model.safetensors (only safetensors adapters convert to GGUF)"
        )
    return config, weights


def _digest(adapter: Path, arch: str) -> str:
    config, weights = adapter_files(adapter)
    digest = hashlib.sha256(arch.encode())
    for path in (config, weights):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def convert_lora(adapter: Path, out: Path, arch: str) -> Path:
    """Write the GGUF form of the peft adapter at `adapter` for a base model of architecture `arch`."""
    try:
        import gguf
        from safetensors.numpy import load_file
    except ImportError as err:
        raise MissingDependency(err.name or "gguf", "ml") from err
    if arch in _PERMUTED:
        raise ModelError(f"{adapter}: converting LoRA adapters for '{arch}' models to GGUF is not supported")
    config_file, weights_file = adapter_files(adapter)
    try:
        config = json.loads(config_file.read_text())
        tensors = load_file(str(weights_file))
    except (OSError, ValueError) as err:
        raise ModelError(f"{adapter}: cannot read the adapter: {first_line(err)}") from err
    rank, alpha = int(config.get("r", 8)), float(config.get("lora_alpha", 8))
    if config.get("use_rslora"):
        alpha *= math.sqrt(rank)  # rsLoRA scales by alpha / sqrt(r); llama.cpp always divides by r
    pairs: dict[str, dict[str, object]] = {}
    for name, tensor in tensors.items():
        match = _LORA.match(name)
        if match is None:
            raise ModelError(f"{adapter}: unexpected tensor '{name}' (only LoRA A/B weights convert to GGUF)")
        pairs.setdefault(match["base"], {})[match["which"]] = tensor
    blocks = 1 + max((int(m) for m in re.findall(r"\.layers\.(\d+)\.", " ".join(pairs))), default=0)
    try:
        model_arch = next(a for a, n in gguf.MODEL_ARCH_NAMES.items() if n == arch)
    except StopIteration:
        raise ModelError(f"{adapter}: unknown GGUF architecture '{arch}'") from None
    names = gguf.get_tensor_name_map(model_arch, blocks)
    with atomic_path(out, directory=False) as staging:
        writer = gguf.GGUFWriter(str(staging), arch)
        writer.add_type(gguf.GGUFType.ADAPTER)
        writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
        writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, alpha)
        for base, pair in sorted(pairs.items()):
            target = names.get_name(base + ".weight", try_suffixes=(".weight",))
            if target is None or set(pair) != {"A", "B"}:
                raise ModelError(f"{adapter}: cannot map '{base}' to a {arch} GGUF tensor")
            writer.add_tensor(f"{target}.lora_a", pair["A"].astype("float32"))  # type: ignore[attr-defined]
            writer.add_tensor(f"{target}.lora_b", pair["B"].astype("float32"))  # type: ignore[attr-defined]
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
    return out


def gguf_adapter(adapter: Path, arch: str, cache_root: Path) -> Path:
    """The GGUF form of `adapter` under `cache_root/lora-gguf/`, converted once per adapter content."""
    target = cache_root / "lora-gguf" / f"{_digest(adapter, arch)}.gguf"
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        convert_lora(adapter, target, arch)
    return target
