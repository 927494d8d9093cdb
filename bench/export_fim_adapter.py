"""Copy a `housecoder train` run into the package as the bundled fill-in-the-middle adapter (note 0030).

    python bench/export_fim_adapter.py RUN [--name qwen2.5-coder-0.5b-fim] [--note docs/experiments/NOTE.md]

RUN is the run's folder (`housecoder adapters list`). It must have beaten the base model on its held-out
files; a run that did so but was not activated over the adapter in service (the one shipped before it) is
exported when the benchmarks in `--note` chose it, and its README says so. Written to
housecoder/models/data/adapters/NAME/:
- adapter_config.json, without the machine's path to the base;
- adapter_model.safetensors in float16: half the bytes of the float32 the run saved; llama.cpp's converter
  reads it with numpy, which has no bfloat16. The largest relative rounding error is printed;
- housecoder-adapter.json, the run's metadata with the repository named by the script that made it and
  the verdict against the base model;
- README.md: where it came from.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load_file, save_file

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "housecoder" / "models" / "data" / "adapters"
SOURCE = "bench/fim_adapter.sh (rich, httpx, attrs, requests; @tanstack/query-core, @trpc/server)"


def base_verdict(meta: dict[str, Any]) -> tuple[bool, str]:
    """The activation rule against the base model alone, from the run's recorded figures."""
    from housecoder.training.report import verdict
    from housecoder.training.results import Metrics

    return verdict(Metrics.from_json(meta["metrics"]), float(meta["config"]["tuning"]["max_forgetting"]))


def export(run: Path, name: str, note: str) -> Path:
    meta = json.loads((run / "housecoder-adapter.json").read_text())
    beat, against_base = base_verdict(meta)
    if not beat:
        raise SystemExit(f"{run}: it did not beat the base model, nothing to ship ({against_base})")
    run_verdict = meta["verdict"]
    target = BUNDLED / name
    staging = target.with_name(f".{name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    config = json.loads((run / "adapter_config.json").read_text())
    config["base_model_name_or_path"] = None  # the machine's model path means nothing elsewhere
    (staging / "adapter_config.json").write_text(json.dumps(config, indent=2) + "\n")
    tensors = load_file(str(run / "adapter_model.safetensors"))
    half = {key: value.astype(np.float16) for key, value in tensors.items()}
    worst = max(
        float(np.max(np.abs(half[key].astype(np.float32) - value)) / max(float(np.max(np.abs(value))), 1e-12))
        for key, value in tensors.items()
    )
    save_file(half, str(staging / "adapter_model.safetensors"))
    meta.update(repository=SOURCE, beat_base=True, verdict=against_base)
    meta.pop("history", None)
    (staging / "housecoder-adapter.json").write_text(json.dumps(meta, indent=2) + "\n")
    (staging / "README.md").write_text(
        f"# {name}\n\nThe fill-in-the-middle LoRA adapter served with {meta['base_model']} when a repository has "
        f"no adapter of its own ({note}).\n\n"
        f"- Trained by `bash bench/fim_adapter.sh train` on {SOURCE}, {meta['created']}.\n"
        f"- Verdict on its held-out files: {against_base}\n"
        + (
            ""
            if run_verdict == against_base
            else f"- Against the adapter in service then, the one shipped before it: {run_verdict}. "
            f"It was shipped on the benchmarks' figures ({note}).\n"
        )
        + f"- Exported by `python bench/export_fim_adapter.py RUN` in float16 (largest rounding error "
        f"{100 * worst:.3f}% of a tensor's largest weight).\n"
    )
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)
    print(
        f"{target}: {len(half)} tensors, largest rounding error {100 * worst:.3f}% of a tensor's largest weight"
    )
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--name", default="qwen2.5-coder-0.5b-fim")
    parser.add_argument("--note", default="docs/experiments/0031-fim-adapter-twice-the-tokens.md")
    args = parser.parse_args()
    for needed in ("adapter_config.json", "adapter_model.safetensors", "housecoder-adapter.json"):
        if not (args.run / needed).is_file():
            print(f"{args.run}: no {needed}: not a run of housecoder train", file=sys.stderr)
            return 2
    export(args.run, args.name, args.note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
