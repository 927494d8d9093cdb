"""Build the pieces of a completion engine from settings: the model backend and the index retriever."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from housecoder.config import Settings
from housecoder.inference.base import Backend
from housecoder.models.errors import ModelError
from housecoder.models.progress import SILENT, Progress

if TYPE_CHECKING:
    from housecoder.indexer.retrieval import IndexRetriever


def gguf_of(model_dir: Path) -> Path | None:
    """The GGUF file a store model was converted from (built-ins and local .gguf files), if still there."""
    from housecoder.models.store import read_meta

    gguf = (read_meta(model_dir) or {}).get("gguf")
    return Path(gguf) if gguf and Path(gguf).is_file() else None


def pick_runtime(settings: Settings, gguf: Path | None) -> str:
    """The configured runtime; `auto` is llama.cpp when it is installed, the model has a GGUF and no GPU
    is asked for, else transformers (always available)."""
    from housecoder.inference.llamacpp_backend import llama_cpp_available

    wanted = settings.inference.runtime
    if wanted != "auto":
        return wanted
    if settings.models.device == "cuda" or gguf is None or not llama_cpp_available():
        return "transformers"
    if settings.models.device == "auto":
        from housecoder.models.loading import pick_device

        if pick_device("auto") == "cuda":
            return "transformers"
    return "llama.cpp"


def load_backend(settings: Settings, progress: Progress = SILENT) -> Backend:
    """Resolve (pulling a built-in model if needed) and load the configured code model on the configured
    runtime, with the configured adapter. Reads the API key variable `inference.api_key_env` names."""
    from housecoder.models.store import store_for

    store = store_for(settings)
    resolved = store.resolve(settings.models.code_model, "code", progress=progress)
    gguf = gguf_of(resolved.path)
    runtime = pick_runtime(settings, gguf)
    backend: Backend
    if runtime == "llama.cpp":
        from housecoder.inference.llamacpp_backend import LlamaCppBackend

        if gguf is None:
            raise ModelError(f"{settings.models.code_model}: the llama.cpp runtime needs a GGUF model (a built-in or a .gguf file)")
        backend = LlamaCppBackend(gguf, settings.inference, cache_root=store.root)
    elif runtime == "openai":
        import os

        from housecoder.inference.openai_backend import OpenAIBackend
        from housecoder.models.loading import load_tokenizer

        tokenizer = load_tokenizer(resolved.path)
        key_env = settings.inference.api_key_env
        backend = OpenAIBackend(
            settings.inference,
            lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"]),
            model_name=settings.models.code_model,
            api_key=os.environ.get(key_env) if key_env else None,
        )
    else:
        from housecoder.inference.transformers_backend import TransformersBackend
        from housecoder.models.loading import load_code_model

        return TransformersBackend(load_code_model(resolved.path, settings.models), settings.inference)
    if settings.models.adapter:
        backend.set_adapter(Path(settings.models.adapter))
    return backend


def open_retriever(
    root: Path, settings: Settings, progress: Progress = SILENT, embedder: Callable[[], Any] | None = None
) -> IndexRetriever:
    """The index of the repository at `root` as a context retriever; raises IndexNotFound when it has none.

    `embedder` returns an already loaded embedder (the server shares one between indexing and
    retrieval); it is called only once the index is known to exist.
    """
    from housecoder.indexer.retrieval import IndexRetriever
    from housecoder.indexer.service import index_location, indexes_root, load_embedder, open_for_search
    from housecoder.models.store import store_for

    store = open_for_search(index_location(root, settings, indexes_root(settings)))
    return IndexRetriever(store, embedder() if embedder else load_embedder(settings, store_for(settings), progress))
