"""Register an adapter for a repository the way `housecoder train` does: a peft directory plus metadata."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from housecoder.config import Settings
from housecoder.models.adapters import repo_adapters_dir, write_adapter_meta


def register(settings: Settings, repo: Path, run: str, fingerprint: str, **fields: Any) -> Path:
    """`<registry>/<repo key>/<run>/`: a copy of `peft_dir` (or placeholder peft files: one tiny LoRA tensor) and
    its metadata; `fields` as `write_run` takes them."""
    return write_run(
        repo_adapters_dir(settings, repo) / run, fingerprint, repository=str(repo.resolve()), **fields
    )


def bundle(root: Path, name: str, fingerprint: str, *, peft_dir: Path | None = None) -> Path:
    """`root/name/`, an adapter as housecoder ships one for the base with `fingerprint` (root stands in for
    `housecoder.models.adapters.BUNDLED_ROOT`)."""
    return write_run(root / name, fingerprint, repository="a mix of code", peft_dir=peft_dir, commit=None)


def write_run(
    target: Path,
    fingerprint: str,
    *,
    repository: str,
    peft_dir: Path | None = None,
    created: str = "2025-01-01T12:00:00+00:00",
    beat_base: bool = True,
    base_model: str = "tiny-qwen",
    commit: str | None = "0123abcd",
    config: dict[str, Any] | None = None,
    training: dict[str, Any] | None = None,
) -> Path:
    """An adapter folder at `target`: `peft_dir`'s files or a placeholder, and metadata as `housecoder train` writes it."""
    if peft_dir is not None:
        shutil.copytree(peft_dir, target)
    else:
        target.mkdir(parents=True)
        (target / "adapter_config.json").write_text('{"peft_type": "LORA"}')
        import numpy as np
        from safetensors.numpy import save_file

        save_file(
            {"base_model.model.q_proj.lora_A.weight": np.zeros((1, 1), np.float32)},
            str(target / "adapter_model.safetensors"),
        )
    exact = (0.25, 0.5) if beat_base else (0.5, 0.25)
    meta: dict[str, Any] = {
        "base_model": base_model,
        "base_fingerprint": fingerprint,
        "repository": repository,
        "commit": commit,
        "created": created,
        "config": config or {"rank": 4},
        "metrics": {"held-out": {"before": {"exact": exact[0]}, "after": {"exact": exact[1]}}},
        "beat_base": beat_base,
        "verdict": "activated: beat the base model" if beat_base else "not activated: worse",
        "training": training or {},
    }
    write_adapter_meta(target, meta)
    return target
