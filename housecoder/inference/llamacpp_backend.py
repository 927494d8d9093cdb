"""llama.cpp (through llama-cpp-python) on the GGUF: the fast CPU runtime, with prefix KV reuse.

The llama.cpp context keeps the keys and values of the tokens it last
evaluated. A new prompt is compared with them token by token; the KV beyond the
shared prefix is dropped and only the rest is prefilled, in chunks so that a
cancellation is honoured between chunks (what was prefilled stays for the next
keystroke). Decoding is one `eval` per token through `run_generation`, which
checks the stop conditions as the text grows.

Besides the live context, up to `inference.kv_cache_entries - 1` saved states
(a copy of one prompt's keys and values, about 28 KB per token for the default
model) are kept, so moving between a few files does not throw away each file's
prefill.

LoRA adapters trained by `housecoder train` (peft safetensors) are converted to
llama.cpp's GGUF adapter format once (`housecoder.models.lora_gguf`) and
switched on the live context; switching clears the KV cache.

llama-cpp-python's `verbose=False` points the process's stdout and stderr file
descriptors at /dev/null while it loads a model. In the language server stdout
is the LSP stream, so every message other threads sent meanwhile was lost (a
client waiting for an answer waited forever). The model is therefore loaded
with `verbose=True`; llama.cpp's log goes to Python logging (`housecoder.llama_cpp`,
debug level) and the library's own prints during loading are dropped at the
Python level only.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from housecoder.config import InferenceConfig
from housecoder.errors import MissingDependency, first_line
from housecoder.inference.base import Cancellation, Generation, GenerationRequest
from housecoder.inference.healing import Vocabulary, plan_healing
from housecoder.inference.prefill_rate import PrefillRate
from housecoder.inference.prefix_cache import Entry, PrefixCache, common_prefix
from housecoder.inference.streaming import chunked_prefill, run_generation, token_scores
from housecoder.machine import usable_cores
from housecoder.models.errors import ModelError
from housecoder.prompt.fim import FIM

_LOG = logging.getLogger("housecoder.llama_cpp")
log = logging.getLogger(__name__)
_LOG_CALLBACK: Any = None  # the ctypes callback must outlive every model


def _route_llama_log(llama_cpp: Any) -> None:
    """Send llama.cpp's log to Python logging instead of the process's stderr (once)."""
    global _LOG_CALLBACK
    if _LOG_CALLBACK is not None:
        return

    @llama_cpp.llama_log_callback  # type: ignore[untyped-decorator]
    def forward(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        if _LOG.isEnabledFor(logging.DEBUG):
            _LOG.debug("%s", text.decode("utf-8", errors="replace").rstrip("\n"))

    _LOG_CALLBACK = forward
    llama_cpp.llama_log_set(forward, ctypes.c_void_p(0))


def _piece(llama_cpp: Any, vocab: Any, token: int) -> bytes:
    """One token's bytes. llama-cpp-python's own `detokenize` reads into a 32-byte buffer and returns wrong
    bytes for longer pieces (Qwen has 240 of them: runs of spaces or dashes); a negative size asks for more."""
    size = 64
    while True:
        buffer = (ctypes.c_char * size)()
        n = llama_cpp.llama_token_to_piece(vocab, llama_cpp.llama_token(token), buffer, size, 0, False)
        if n >= 0:
            return buffer.raw[:n]
        size = -n


def _tokenize(llm: Any, text: str) -> list[int]:
    return list(llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))


def vocabulary_counter(gguf: Path) -> Callable[[str], int]:
    """Model tokens in a text as the backend counts them, from the GGUF's vocabulary alone (no weights)."""
    try:
        import llama_cpp
    except ImportError as err:
        raise MissingDependency("llama_cpp", "llamacpp") from err
    _route_llama_log(llama_cpp)
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            vocab = llama_cpp.Llama(model_path=str(gguf), vocab_only=True, verbose=False)
    except (ValueError, RuntimeError, OSError) as err:
        raise ModelError(f"{gguf}: llama.cpp cannot read the vocabulary: {first_line(err)}") from err
    return lambda text: len(_tokenize(vocab, text))


def gpu_backends(system_info: str) -> list[str]:
    """The GPU backends a llama.cpp build lists in `llama_print_system_info` ("CUDA : ARCHS = 890 | ..."):
    every section name but the CPU's."""
    names = (part.split(" : ", 1)[0].strip() for part in system_info.split("|") if " : " in part)
    return [name for name in dict.fromkeys(names) if name and name.upper() != "CPU"]


def offload_layers(configured: int | None, gpu: bool) -> int:
    """llama.cpp's `n_gpu_layers` for `inference.gpu_layers`: None offloads every layer (-1) when the build has
    a GPU backend, else none; an explicit count on a build without one is logged and ignored."""
    if configured is None:
        return -1 if gpu else 0
    if configured and not gpu:
        log.warning(
            "inference.gpu_layers = %d, but this llama.cpp build has no GPU backend: running on the CPU "
            "(`make setup LLAMA_GPU=cuda|metal|vulkan` builds one)",
            configured,
        )
        return 0
    return configured


def llama_cpp_gpu() -> list[str]:
    """The GPU backends of the installed llama.cpp (empty: a CPU build, or none installed)."""
    if not llama_cpp_available():
        return []
    import llama_cpp

    if not llama_cpp.llama_supports_gpu_offload():
        return []
    return gpu_backends(llama_cpp.llama_print_system_info().decode(errors="replace")) or ["GPU"]


def llama_cpp_available() -> bool:
    """True when llama-cpp-python is installed (it is an optional extra)."""
    import importlib.util

    return importlib.util.find_spec("llama_cpp") is not None


class LlamaCppBackend:
    """Runs a GGUF code model on llama.cpp."""

    runtime = "llama.cpp"
    heals = True

    def __init__(
        self, gguf: Path, config: InferenceConfig | None = None, *, cache_root: Path | None = None
    ) -> None:
        try:
            import llama_cpp
        except ImportError as err:
            raise MissingDependency("llama_cpp", "llamacpp") from err
        self.config = config or InferenceConfig()
        self.path = gguf
        self.cache_root = cache_root or gguf.parent
        threads = self.config.threads or usable_cores()
        self.gpus = llama_cpp_gpu()
        self.gpu_layers = offload_layers(self.config.gpu_layers, bool(self.gpus))
        _route_llama_log(llama_cpp)
        try:
            with contextlib.redirect_stderr(
                io.StringIO()
            ):  # its prints while loading; never the file descriptors
                self.llm = llama_cpp.Llama(
                    model_path=str(gguf),
                    n_ctx=self.config.tuning.context_tokens,
                    n_batch=min(512, self.config.tuning.context_tokens),
                    n_threads=threads,
                    n_threads_batch=threads,
                    n_gpu_layers=self.gpu_layers,
                    verbose=True,  # False would redirect fds 1 and 2 (the LSP stream) to /dev/null while loading
                )
        except (ValueError, RuntimeError, OSError) as err:
            raise ModelError(f"{gguf}: llama.cpp cannot load the model: {first_line(err)}") from err
        self.llm.verbose = False  # no timing prints per call
        self._lib = llama_cpp
        self.arch = str(self.llm.metadata.get("general.architecture", "qwen2"))
        controls = [
            self.tokenize(token) for token in FIM.all()
        ]  # a token the vocabulary lacks splits into pieces
        self.stop_ids = sorted({ids[0] for ids in controls if len(ids) == 1} | {self.llm.token_eos()})
        self._adapter: Path | None = None
        self._lora: dict[Path, Any] = {}  # loaded adapters, freed with the model
        self.saved: PrefixCache[Any] = PrefixCache(
            max(self.config.tuning.kv_cache_entries - 1, 0), self.config.tuning.kv_cache_tokens
        )
        self._vocabulary: Vocabulary | None = None
        self.prefill_meter = PrefillRate()

    @property
    def vocabulary(self) -> Vocabulary:
        """Every token's bytes, for token healing (built on first use: about a second for 150k tokens)."""
        if self._vocabulary is None:
            vocab = self.llm._model.vocab
            pieces = [_piece(self._lib, vocab, token) for token in range(self.llm.n_vocab())]
            self._vocabulary = Vocabulary(pieces, excluded=self.stop_ids)
        return self._vocabulary

    # -- the Backend interface -------------------------------------------------------------

    def tokenize(self, text: str) -> list[int]:
        return _tokenize(self.llm, text)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text))

    def uncached_tokens(self, prompt: str) -> int:
        """Tokens of `prompt` a request would prefill: those after the longest prefix the live context or a
        saved KV state holds."""
        ids = self.tokenize(prompt)
        if self.config.tuning.kv_cache_entries <= 0:
            return len(ids)
        return len(ids) - max(common_prefix(self._live(), ids), self.saved.shared(ids, self._adapter))

    @property
    def adapter(self) -> Path | None:
        return self._adapter

    def set_adapter(self, adapter: Path | None) -> None:
        from housecoder.models.lora_gguf import gguf_adapter

        lib, ctx = self._lib, self.llm.ctx
        self._forget()
        if adapter is None:
            lib.llama_set_adapters_lora(ctx, None, 0, None)
            self._adapter = None
            return
        handle = self._lora.get(adapter)
        if handle is None:
            path = gguf_adapter(adapter, self.arch, self.cache_root)
            handle = lib.llama_adapter_lora_init(self.llm.model, str(path).encode("utf-8"))
            if not handle:
                raise ModelError(f"{adapter}: llama.cpp refused the adapter (is it for this base model?)")
            self._lora[adapter] = handle
        adapters = (lib.llama_adapter_lora_p_ctypes * 1)(handle)
        scales = (ctypes.c_float * 1)(1.0)
        if lib.llama_set_adapters_lora(ctx, adapters, 1, scales):
            lib.llama_set_adapters_lora(ctx, None, 0, None)
            self._adapter = None
            raise ModelError(f"{adapter}: llama.cpp could not apply the adapter")
        self._adapter = adapter

    def describe(self) -> dict[str, Any]:
        return {
            "runtime": self.runtime,
            "model_path": str(self.path),
            "device": self.device(),
            "prefill_tokens_per_s": self.prefill_rate(),
            "adapter": str(self._adapter) if self._adapter else None,
            "kv_cache": {"entries": 1 + len(self.saved), "tokens": self.llm.n_tokens + self.saved.tokens},
        }

    def device(self) -> str:
        """Where the layers run: "cpu", or the GPU backend and how many layers it holds ("CUDA, all layers")."""
        if not self.gpu_layers:
            return "cpu"
        layers = "all layers" if self.gpu_layers < 0 else f"{self.gpu_layers} layers"
        return f"{', '.join(self.gpus)}, {layers}"

    def prefill_rate(self) -> float | None:
        """Prompt tokens per second over the recent prefills (`PrefillRate`); None before a few were run."""
        return self.prefill_meter.tokens_per_second()

    def close(self) -> None:
        self._forget()
        for handle in self._lora.values():
            self._lib.llama_adapter_lora_free(handle)
        self._lora.clear()
        self.llm.close()

    # -- generation ------------------------------------------------------------------------

    def _live(self) -> list[int]:
        return [int(t) for t in self.llm._input_ids[: self.llm.n_tokens]]

    def _save(self) -> Entry[Any]:
        """The live context's tokens and a copy of their keys and values only (not the logits buffer
        `Llama.save_state` also copies, hundreds of MB for a large vocabulary)."""
        lib, ctx = self._lib, self.llm.ctx
        size = lib.llama_state_seq_get_size(ctx, 0)
        buffer = (ctypes.c_uint8 * size)()
        written = lib.llama_state_seq_get_data(ctx, buffer, size, 0)
        return Entry(self._live(), (buffer, written))

    def _load(self, entry: Entry[Any]) -> None:
        buffer, size = entry.kv
        self.llm._ctx.kv_cache_seq_rm(0, 0, -1)
        if self._lib.llama_state_seq_set_data(self.llm.ctx, buffer, size, 0) != size:
            self.llm.n_tokens = 0
            raise ModelError("llama.cpp could not restore a saved KV state")
        self.llm.input_ids[: len(entry.ids)] = entry.ids
        self.llm.n_tokens = len(entry.ids)

    def last_logits(self) -> np.ndarray:
        """A copy of the logits at the last position llama.cpp evaluated."""
        pointer = self._lib.llama_get_logits_ith(self.llm.ctx, -1)
        return np.ctypeslib.as_array(pointer, shape=(self.llm.n_vocab(),)).copy()

    def _among(self, allowed: np.ndarray, temperature: float) -> int:
        """The token chosen from the last position's logits among `allowed` only (token healing)."""
        logits = self.last_logits()[allowed]
        if temperature <= 0:
            return int(allowed[int(logits.argmax())])
        weights = np.exp((logits - logits.max()) / temperature)
        return int(np.random.default_rng().choice(allowed, p=weights / weights.sum()))

    def _other_than_stops(self, temperature: float) -> int:
        """The token `sample` would have chosen from the last position's logits without the stop tokens."""
        logits = self.last_logits()
        logits[self.stop_ids] = -np.inf
        if temperature <= 0:
            return int(logits.argmax())
        weights = np.exp((logits - logits.max()) / temperature)
        return int(np.random.default_rng().choice(len(weights), p=weights / weights.sum()))

    def _forget(self) -> None:
        self.llm.n_tokens = 0
        self.saved.clear()

    def _best_start(self, ids: list[int]) -> int:
        """Make the live context hold the longest available prefix of `ids`; returns its length."""
        owner = self._adapter
        live = self._live()
        shared = min(common_prefix(live, ids), len(ids) - 1)
        entry, saved_shared = self.saved.take(ids, owner)
        # loading a state costs a copy: worth it for a real gain
        if entry is not None and saved_shared > shared + 16:
            if live:
                self.saved.put(self._save(), owner)
            self._load(entry)
            return saved_shared
        if entry is not None:
            self.saved.put(entry, owner)
        if shared < len(live) // 2 and len(live) - shared >= 16:
            self.saved.put(self._save(), owner)  # most of it is another prompt: keep it
        return shared

    def generate(self, request: GenerationRequest, cancel: Cancellation | None = None) -> Generation:
        llm = self.llm
        ids, healing = self.tokenize(request.prompt), None
        if request.typed:
            ids, healing = plan_healing(ids, self.vocabulary, request.typed, request.heal_tokens)
        if len(ids) + request.max_new_tokens > llm.n_ctx():
            raise ModelError(
                f"prompt of {len(ids)} tokens + {request.max_new_tokens} new does not fit inference.context_tokens={llm.n_ctx()}"
            )
        if self.config.tuning.kv_cache_entries == 0:
            self.llm.n_tokens = 0  # reuse disabled: every prompt is prefilled from its first token
        shared = self._best_start(ids)
        llm.n_tokens = shared  # eval() drops the KV beyond n_tokens before it runs

        def next_token(previous: int | None, allowed: np.ndarray | None) -> int:
            if previous is not None:
                llm.eval([previous])
            if allowed is not None:
                return self._among(allowed, request.temperature)
            token = int(
                llm.sample(temp=request.temperature, top_k=0, top_p=1.0, min_p=0.0, repeat_penalty=1.0)
            )
            if not request.end_of_text and token in self.stop_ids:
                token = self._other_than_stops(request.temperature)
            return token

        def decode(tokens: list[int]) -> str:
            return b"".join(self.vocabulary.piece(token) for token in tokens).decode("utf-8", "ignore")

        try:
            return run_generation(
                request,
                cancel,
                prompt_tokens=len(ids),
                reused_tokens=shared,
                prefill=chunked_prefill(
                    ids, shared, self.config.tuning.prefill_chunk_tokens, llm.eval, self.prefill_meter
                ),
                next_token=next_token,
                decode=decode,
                stop_ids=self.stop_ids,
                healing=healing,
                score=lambda token: token_scores(self.last_logits(), token),
            )
        except Exception:
            self._forget()  # a failed eval leaves the KV in an unknown state
            raise
