"""Build a completion engine's model backend from settings, with the LoRA adapter chosen for it.
Shared by the server, the CLI, training and the benchmarks; the index retriever comes from
`housecoder.indexer.service.open_retriever`, wired in by them."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from housecoder.config import Settings
from housecoder.errors import HousecoderError, first_line
from housecoder.inference.base import Backend
from housecoder.models.adapters import (
    AdapterInfo,
    adapter_in_service,
    base_fingerprint,
    check_compatible,
    is_bundled,
    read_adapter,
)
from housecoder.models.errors import ModelError
from housecoder.models.progress import SILENT, Progress

if TYPE_CHECKING:
    from housecoder.models.store import ModelStore, ResolvedModel

log = logging.getLogger(__name__)


def gguf_of(model_dir: Path) -> Path | None:
    """The GGUF file a store model was converted from (built-ins and local .gguf files), if still there."""
    from housecoder.models.store import read_meta

    gguf = (read_meta(model_dir) or {}).get("gguf")
    return Path(gguf) if gguf and Path(gguf).is_file() else None


def pick_runtime(settings: Settings, gguf: Path | None) -> str:
    """The configured runtime; `auto` is llama.cpp when it is installed and the model has a GGUF, unless
    only torch can reach the GPU (`models.device = "cuda"`, or `auto` with CUDA in torch and a llama.cpp
    built without a GPU backend); else transformers."""
    from housecoder.inference.llamacpp_backend import llama_cpp_available, llama_cpp_gpu

    wanted = settings.inference.runtime
    if wanted != "auto":
        return wanted
    if settings.models.device == "cuda" or gguf is None or not llama_cpp_available():
        return "transformers"
    if settings.models.device == "auto" and not llama_cpp_gpu():
        from housecoder.models.loading import torch_cuda

        if torch_cuda():
            return "transformers"
    return "llama.cpp"


@dataclass(frozen=True)
class AdapterChoice:
    """The adapter a load chose: named in the settings or a command (`automatic` False), or the
    registry's best for the workspace, or the one shipped with housecoder for the base (`bundled`); `info` is
    its metadata, None for a plain peft adapter."""

    path: Path
    automatic: bool
    info: AdapterInfo | None = None

    @property
    def bundled(self) -> bool:
        """Picked by itself as the adapter shipped with housecoder for the base."""
        return self.automatic and self.info is not None and is_bundled(self.info)


@dataclass
class LoadedBackend:
    """A loaded backend plus what adapter choices need: the base's fingerprint (None on the openai
    runtime, whose engine owns the weights and serves adapters by name) and the active choice."""

    backend: Backend
    fingerprint: str | None
    adapter: AdapterChoice | None = None

    def apply(self, choice: AdapterChoice | None) -> None:
        """Switch to `choice` (None: no adapter); on failure the backend is left without one and ModelError
        says why in one line."""
        self.adapter = None
        path = choice.path if choice else None
        try:
            self.backend.set_adapter(path)
        except HousecoderError:
            raise
        except Exception as err:  # peft and safetensors raise their own types for broken files
            raise ModelError(f"{path}: cannot load the adapter: {first_line(err)}") from err
        self.adapter = choice


def explicit_adapter(adapter: Path, fingerprint: str | None) -> AdapterChoice:
    """An adapter named by the user, checked against the loaded base (ModelError, AdapterMismatch)."""
    if fingerprint is None:  # a served adapter name on a remote engine: nothing local to check
        return AdapterChoice(adapter, automatic=False)
    check_compatible(adapter, fingerprint)
    return AdapterChoice(adapter, automatic=False, info=read_adapter(adapter))


def choose_adapter(
    settings: Settings, fingerprint: str | None, repo_roots: Sequence[Path] = ()
) -> AdapterChoice | None:
    """`models.adapter` when set (checked); else, with `models.auto_adapter`, the best registered adapter
    of the first of `repo_roots` that has one, else the adapter bundled for the base (never on the openai
    runtime); else None."""
    if settings.models.adapter:
        return explicit_adapter(Path(settings.models.adapter), fingerprint)
    if not settings.models.auto_adapter or fingerprint is None:
        return None
    info = adapter_in_service(settings, repo_roots, fingerprint)
    if info is None:
        return None
    return AdapterChoice(info.path, automatic=True, info=info)


def load(settings: Settings, progress: Progress = SILENT, repo_roots: Sequence[Path] = ()) -> LoadedBackend:
    """Resolve (pulling a built-in model if needed) and load the configured code model on the configured
    runtime, with the adapter `choose_adapter` picks for `repo_roots`. An explicit adapter that does not
    fit raises before the weights load; a registered one that fails to apply is logged and left off.
    Reads the API key variable `inference.api_key_env` names."""
    from housecoder.models.store import store_for

    store = store_for(settings)
    resolved = store.resolve(settings.models.code_model, "code", progress=progress)
    gguf = gguf_of(resolved.path)
    runtime = pick_runtime(settings, gguf)
    fingerprint = None if runtime == "openai" else base_fingerprint(resolved.path)
    choice = choose_adapter(settings, fingerprint, repo_roots)
    backend: Backend
    if runtime == "llama.cpp":
        from housecoder.inference.llamacpp_backend import LlamaCppBackend

        if gguf is None:
            raise ModelError(
                f"{settings.models.code_model}: the llama.cpp runtime needs a GGUF model (a built-in or a .gguf file)"
            )
        store.verify_served(resolved, gguf)  # a damaged GGUF is one line, not `!!!!` completions
        backend = LlamaCppBackend(gguf, settings.inference, cache_root=store.root)
    elif runtime == "openai":
        import os

        from housecoder.inference.openai_backend import OpenAIBackend

        key_env = settings.inference.api_key_env
        backend = OpenAIBackend(
            settings.inference,
            _counter(store, resolved, gguf, progress),
            model_name=settings.models.code_model,
            api_key=os.environ.get(key_env) if key_env else None,
        )
    else:
        from housecoder.inference.transformers_backend import TransformersBackend
        from housecoder.models.loading import load_code_model

        weights = store.weights(resolved, progress)  # made from the GGUF on first need
        backend = TransformersBackend(load_code_model(weights, settings.models), settings.inference)
    loaded = LoadedBackend(backend, fingerprint)
    if choice is None:
        return loaded
    try:
        loaded.apply(choice)
    except ModelError as err:
        if not choice.automatic:
            raise
        log.warning("not using the registered adapter: %s", err)
        return loaded
    log.info("using adapter %s", describe_choice(choice))
    return loaded


def prompt_token_counter(settings: Settings, progress: Progress = SILENT) -> Callable[[str], int]:
    """The configured code model's token count without loading its weights: from the GGUF's vocabulary
    (llama.cpp's own count, the default runtime's) when there is one, else the model directory's tokenizer."""
    from housecoder.models.store import store_for

    store = store_for(settings)
    resolved = store.resolve(settings.models.code_model, "code", progress=progress)
    return _counter(store, resolved, gguf_of(resolved.path), progress)


def _counter(
    store: ModelStore, resolved: ResolvedModel, gguf: Path | None, progress: Progress
) -> Callable[[str], int]:
    """Token counts by llama.cpp's reading of the GGUF where llama.cpp is installed, else by the model
    directory's tokenizer (a GGUF model's weights are then made once)."""
    from housecoder.inference.llamacpp_backend import llama_cpp_available, vocabulary_counter

    if gguf is not None and llama_cpp_available():
        return vocabulary_counter(gguf)
    from housecoder.models.loading import token_counter

    return token_counter(store.weights(resolved, progress))


def describe_choice(choice: AdapterChoice) -> str:
    """ "<path> trained <date> (<summary>)" for a log line; plain adapters are just their path."""
    if choice.info is None:
        return str(choice.path)
    trained = choice.info.created_at.strftime("%Y-%m-%d %H:%M")
    picked = (
        ", shipped with housecoder"
        if choice.bundled
        else ", picked from the registry"
        if choice.automatic
        else ""
    )
    return f"{choice.path} trained {trained} ({choice.info.summary()}){picked}"


def load_backend(settings: Settings, progress: Progress = SILENT, repo_root: Path | None = None) -> Backend:
    """`load(...)`'s backend: the configured adapter, else the best one registered for `repo_root`."""
    return load(settings, progress, (repo_root,) if repo_root else ()).backend
