"""The adapter registry: LoRA adapters `housecoder train` wrote for a repository, and which one to serve.

Layout: `<adapters root>/<repo name>-<sha12 of its absolute path>/<run>/`, each run a
peft directory (`adapter_config.json`, `adapter_model.safetensors`) plus
`housecoder-adapter.json` (its schema: `housecoder.models.adapter_meta`; only the held-out exact
match of its metrics, a fraction, is read here).

The server serves the newest adapter that beat the base model and was trained
for the very base it loaded (`base_fingerprint`); a plain peft adapter without
metadata can still be named explicitly (peft and llama.cpp check its shapes).
Where the repository has none, a bundled adapter for that base (shipped in the
package under `data/adapters/`, `bench/fim_adapter.sh` made it) is served: the
0.5B model's fill-in-the-middle adapter (docs/experiments/0030).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from housecoder.config import Settings
from housecoder.errors import first_line
from housecoder.locations import cache_base, repo_key
from housecoder.models.adapter_meta import ADAPTER_META, FORMAT, HELD_OUT, AdapterMeta, fields_of
from housecoder.models.atomic import STAGING_PREFIX, atomic_path
from housecoder.models.errors import AdapterMismatch, ModelError

log = logging.getLogger(__name__)

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt", ".pth")
# Adapters shipped with housecoder, one folder each (package data).
BUNDLED_ROOT = Path(__file__).parent / "data" / "adapters"
SPLIT_FILE = "split.json"  # the run's file split: {"train": [paths], "held_out": [paths], "method": ..., ...}


@dataclass(frozen=True, kw_only=True)
class AdapterInfo(AdapterMeta):
    """One registered adapter: its metadata (the base it was trained for, how it did on held-out files)
    and where it is."""

    path: Path

    @property
    def has_weights(self) -> bool:
        """Whether the peft files are still there (a run may have been cleaned up)."""
        return (
            (self.path / ADAPTER_CONFIG).is_file()
            and any((self.path / name).is_file() for name in ADAPTER_WEIGHTS)
            and weights_problem(self.path) is None
        )

    def summary(self) -> str:
        """ "held-out exact match 31.0 -> 42.0%" when the metrics hold both figures, else the verdict."""
        try:
            before, after = (
                100 * float(self.metrics[HELD_OUT][side]["exact"]) for side in ("before", "after")
            )
        except (KeyError, TypeError, ValueError):
            return self.verdict
        return f"held-out exact match {before:.1f} -> {after:.1f}%"

    def as_dict(self) -> dict[str, Any]:
        """The metadata as written, plus the path (for status displays)."""
        return {"path": str(self.path), **self.to_json()}


MAX_META_BYTES = 1 << 20  # adapter metadata is a few KB; far more is no metadata of ours


def _parse(path: Path, meta: Any) -> AdapterInfo:
    """Validate metadata read from (or about to be written to) `path`; ModelError names the first problem."""
    return AdapterInfo(path=path, **fields_of(meta, str(path / ADAPTER_META)))


def base_fingerprint(model_dir: Path) -> str:
    """Identifies a base model's weights cheaply: the verified sha256 the model store recorded (the GGUF
    hash of built-ins and converted .gguf files), else a hash of config.json's bytes and the names and
    sizes of the weight files (never their contents: they are gigabytes)."""
    from housecoder.models.store import read_meta

    recorded = (read_meta(model_dir) or {}).get("sha256")
    if isinstance(recorded, str) and recorded:
        return recorded
    digest = hashlib.sha256()
    config = model_dir / "config.json"
    digest.update(config.read_bytes() if config.is_file() else b"")
    weights = sorted(
        entry for entry in model_dir.iterdir() if entry.suffix in WEIGHT_SUFFIXES and entry.is_file()
    )
    for weight in weights:
        digest.update(f"\0{weight.name}\0{weight.stat().st_size}".encode())
    return digest.hexdigest()


def adapters_root(settings: Settings) -> Path:
    """Where adapters are registered: `train.output`, else `<cache>/adapters` beside the model store."""
    return (
        Path(settings.train.output).expanduser()
        if settings.train.output
        else cache_base(settings) / "adapters"
    )


def repo_adapters_dir(settings: Settings, repo_root: Path) -> Path:
    """The folder holding one directory per training run of the repository at `repo_root`."""
    return adapters_root(settings) / repo_key(repo_root)


def read_adapter(path: Path) -> AdapterInfo | None:
    """The metadata of the adapter at `path`; None when it has none (a plain peft adapter).
    Raises ModelError (one line) when the metadata is unreadable or malformed."""
    try:
        with (path / ADAPTER_META).open("rb") as handle:
            data = handle.read(MAX_META_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as err:
        raise ModelError(f"{path / ADAPTER_META}: cannot read: {err.strerror or err}") from err
    if len(data) > MAX_META_BYTES:
        raise ModelError(f"{path / ADAPTER_META}: larger than {MAX_META_BYTES} bytes: not adapter metadata")
    try:
        meta = json.loads(data)
    except (ValueError, RecursionError) as err:  # not UTF-8 JSON, or nested past the interpreter's depth
        raise ModelError(f"{path / ADAPTER_META}: not JSON ({first_line(err)})") from err
    return _parse(path, meta)


def trained_files(adapter: Path) -> tuple[str, frozenset[str]] | None:
    """(the repository, the files of it the adapter trained on as '/'-separated relative paths) for a run of
    `housecoder train`; None for an adapter without that record (a plain peft directory)."""
    info = read_adapter(adapter)
    try:
        split = json.loads((adapter / SPLIT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if info is None or not isinstance(split, dict):
        return None
    return info.repository, frozenset(str(path) for path in split.get("train", []))


def write_adapter_meta(path: Path, meta: Mapping[str, Any]) -> None:
    """Validate `meta` (`format` may be left out) and write it into the adapter directory `path`
    atomically: a reader sees the old file or the new one, never half of one."""
    info = _parse(path, {"format": FORMAT, **meta})
    with atomic_path(path / ADAPTER_META, directory=False) as staging:
        staging.write_text(json.dumps(info.to_json(), indent=2) + "\n", encoding="utf-8")


def list_adapters(settings: Settings, repo_root: Path) -> list[AdapterInfo]:
    """Every adapter registered for the repository, newest first. Runs without metadata are not
    registered; corrupt metadata is skipped with a warning."""
    folder = repo_adapters_dir(settings, repo_root)
    try:
        runs = [
            entry
            for entry in folder.iterdir()
            if entry.is_dir() and not entry.name.startswith(STAGING_PREFIX)
        ]
    except OSError:
        return []
    found: list[AdapterInfo] = []
    for run in runs:
        if run.is_symlink():  # a registered run is a folder `housecoder train` wrote here, never a link away
            log.warning(
                "skipping adapter %s: a link, not a run of housecoder train (name it in models.adapter)", run
            )
            continue
        try:
            info = read_adapter(run)
        except ModelError as err:
            log.warning("skipping adapter: %s", err)
            continue
        if info is not None:
            found.append(info)
    return sorted(found, key=lambda info: info.created_at, reverse=True)


def best_adapter(settings: Settings, repo_root: Path, fingerprint: str) -> AdapterInfo | None:
    """The newest registered adapter that beat the base model, was trained for the base with
    `fingerprint`, and still has its files; None when there is none."""
    for info in list_adapters(settings, repo_root):
        if info.beat_base and info.base_fingerprint == fingerprint and info.has_weights:
            return info
    return None


def bundled_adapter(fingerprint: str) -> AdapterInfo | None:
    """The adapter shipped with housecoder for the base with `fingerprint`, if there is one (and it is whole)."""
    try:
        folders = sorted(entry for entry in BUNDLED_ROOT.iterdir() if entry.is_dir())
    except OSError:
        return None
    for folder in folders:
        try:
            info = read_adapter(folder)
        except ModelError as err:
            log.warning("skipping the bundled adapter: %s", err)
            continue
        if info is not None and info.base_fingerprint == fingerprint and info.has_weights:
            return info
    return None


def adapter_in_service(
    settings: Settings, repo_roots: Sequence[Path], fingerprint: str
) -> AdapterInfo | None:
    """What the server serves on that base when it picks by itself: the registry's best for the first of
    `repo_roots` that has one, else the bundled adapter for the base, else None."""
    for root in repo_roots:
        best = best_adapter(settings, root, fingerprint)
        if best is not None:
            return best
    return bundled_adapter(fingerprint)


def is_bundled(info: AdapterInfo) -> bool:
    """Whether the adapter is one shipped with housecoder (not one trained here)."""
    return info.path.parent == BUNDLED_ROOT


def weights_problem(adapter: Path) -> str | None:
    """Why the adapter's safetensors file holds no LoRA weights (an empty or truncated file would apply as
    no adapter at all); None when it has some, or when there is no safetensors file to check."""
    path = adapter / ADAPTER_WEIGHTS[0]
    if not path.is_file():
        return None
    try:
        from safetensors import safe_open
    except ImportError:  # the runtimes that read adapters install it
        return None
    try:
        with safe_open(str(path), framework="numpy") as weights:
            names = list(weights.keys())
    except Exception as err:  # safetensors raises its own error types for a broken header
        return f"unreadable {path.name}: {first_line(err)}"
    if not any("lora_" in name for name in names):
        return f"{path.name} holds no LoRA weights"
    return None


def check_compatible(adapter: Path, fingerprint: str) -> None:
    """Refuse, in one line, an adapter that is missing or whose metadata names another base model.
    A plain peft adapter (no metadata) passes: peft and llama.cpp check its shapes when loading."""
    if not adapter.is_dir():
        raise ModelError(f"{adapter}: not a LoRA adapter (no such directory)")
    if not (adapter / ADAPTER_CONFIG).is_file():
        raise ModelError(f"{adapter}: not a LoRA adapter (no {ADAPTER_CONFIG})")
    problem = weights_problem(adapter)
    if problem is not None:
        raise ModelError(f"{adapter}: not a LoRA adapter ({problem})")
    info = read_adapter(adapter)
    if info is not None and info.base_fingerprint != fingerprint:
        raise AdapterMismatch(str(adapter), info.base_model, info.base_fingerprint, fingerprint)
