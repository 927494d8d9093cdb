"""Typed, frozen configuration, one section per part, read once at the entry point.

Sources, later ones winning: built-in defaults, the user's own file
(`user_config_file()`: a team's engine URL once for every project), `[tool.housecoder]`
in the project's `pyproject.toml`, `.housecoder.toml` at the project root, then the
overrides the entry point passes in (CLI flags, the environment variables it
chose to read, LSP initializationOptions). `setting_layers` lists them and
`origins` says which one set each key (`housecoder config`). Nothing below the entry point reads
files or the environment for configuration: it receives these objects.

A cloned repository is not the user: its files may not set `SENSITIVE_KEYS`
(settings that send code elsewhere, read an environment variable or open a
socket) unless the user trusts its root (`housecoder trust`, kept by
`housecoder.trust`); such keys are dropped and reported, the rest of the file applies.

Each section holds what a user sets; its `tuning` model (`ContextTuning`, ... : `[context.tuning]` in a
file) holds the experiment knobs, whose defaults the notes under docs/experiments measured. A knob that
measured within noise is removed, not left switched off (`REMOVED`); a renamed or moved key is refused in
one line naming its new place (`RENAMED`, `MOVED_TO_TUNING`).

File layout (the same tables in both files, under `tool.housecoder.` in pyproject):

    [models]
    code_model = "qwen2.5-coder-1.5b-instruct"   # built-in name, HF id, model dir or .gguf
    [completion]
    max_new_tokens = 64
    [index]
    exclude = ["docs/"]
    [context.tuning]
    similar_k = 4
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shlex
import tomllib
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from housecoder.errors import ConfigError

log = logging.getLogger(__name__)

PROJECT_FILE = ".housecoder.toml"
USER_FILE = "config.toml"
DEFAULT_CODE_MODEL = "qwen2.5-coder-1.5b-instruct"
DEFAULT_EMBEDDER = "all-minilm-l6-v2"


MAX_MS = 3_600_000  # an hour: a longer time limit is a mistake (and a 400-digit one overflows a timer)


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ModelsTuning(_Section):
    """The models section's tuning knobs (`[models.tuning]`): experiment settings whose defaults are
    measured (docs/experiments); a user rarely needs them."""

    dtype: Literal["bfloat16", "float16", "float32"] = "bfloat16"


class ModelsConfig(_Section):
    """Where models live and which ones each part uses."""

    cache_dir: Path | None = Field(
        default=None, description="model store root; None means the user cache directory"
    )
    code_model: str = Field(default=DEFAULT_CODE_MODEL, min_length=1)
    embedder: str = Field(default=DEFAULT_EMBEDDER, min_length=1)
    offline: bool = Field(default=False, description="never contact a model hub")
    device: Literal["auto", "cpu", "cuda", "mps"] = Field(
        default="auto",
        description="where torch runs the code model (training, the transformers runtime): auto is CUDA when torch "
        "sees it, else the CPU; mps: Apple Silicon's GPU (float32 weights, no autocast)",
    )
    torch_threads: int | None = Field(
        default=None,
        ge=1,
        description="CPU threads of torch (training, the transformers runtime); None = torch's default",
    )
    adapter: str | None = Field(
        default=None,
        description="LoRA adapter directory (peft) applied to the code model; None: the newest adapter "
        "`housecoder train` registered for the workspace that beat the base model, else the one shipped "
        "for the base model (see auto_adapter)",
    )
    auto_adapter: bool = Field(
        default=True,
        description="with no adapter set, use the newest registered adapter that beat the base model, "
        "else the adapter shipped for the base model (the 0.5B model's fill-in-the-middle adapter)",
    )
    tuning: ModelsTuning = Field(default_factory=ModelsTuning)


class InferenceTuning(_Section):
    """The inference section's tuning knobs (`[inference.tuning]`): experiment settings whose defaults are
    measured (docs/experiments); a user rarely needs them."""

    # Prefix KV reuse: keys/values of recent prompts, reused for the longest shared token prefix.
    # One token of the 1.5B default model costs 28 KiB in bf16, so 8,192 tokens is about 230 MB.
    kv_cache_entries: int = Field(default=4, ge=0, le=64, description="prompts kept (0 disables reuse)")
    kv_cache_tokens: int = Field(default=8192, ge=0, description="tokens kept over all entries")
    # Cancellation is checked between prefill chunks: a smaller chunk frees a cancelled model sooner.
    prefill_chunk_tokens: int = Field(
        default=64, ge=1, description="prefill step; cancellation is checked between steps"
    )
    context_tokens: int = Field(default=4096, ge=256, description="llama.cpp context window")


class InferenceConfig(_Section):
    """Which runtime runs the code model, and its speed knobs."""

    runtime: Literal["auto", "transformers", "llama.cpp", "openai"] = Field(
        default="auto",
        description="auto: llama.cpp when llama-cpp-python is installed and the model has a GGUF, else transformers",
    )
    threads: int | None = Field(default=None, ge=1, description="llama.cpp threads; None = the CPU cores")
    gpu_layers: int | None = Field(
        default=None,
        ge=-1,
        description="layers llama.cpp offloads to the GPU: None = all of them when the installed llama.cpp has "
        "a GPU backend (CUDA, Metal, Vulkan: `make setup LLAMA_GPU=...`), else 0; -1 = all; 0 = the CPU only",
    )
    # OpenAI-compatible engine (vLLM, TGI, llama.cpp server): POST {url}/v1/completions.
    url: str | None = Field(default=None, description="base URL, e.g. http://gpu-box:8000")
    remote_model: str | None = Field(
        default=None, description="model name sent to the engine (vLLM: the LoRA adapter's served name)"
    )
    api_key_env: str | None = Field(default=None, description="environment variable holding the API key")
    timeout_s: float = Field(default=30.0, gt=0)
    tuning: InferenceTuning = Field(default_factory=InferenceTuning)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not an http(s) URL such as http://gpu-box:8000")
        try:
            parts.port  # noqa: B018 (raises on a port that is not a number or out of range)
        except ValueError as err:
            raise ValueError(f"{value!r}: {err}") from err
        return value


class CompletionTuning(_Section):
    """The completion section's tuning knobs (`[completion.tuning]`): experiment settings whose defaults are
    measured (docs/experiments); a user rarely needs them."""

    # Defaults sized for CPU latency: on a CPU the prompt's prefill (context + prefix + suffix) is
    # paid before the first token; a GPU affords more.
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    stop_early: bool = Field(
        default=True,
        description="stop a multi-line generation once post-processing has cut it for good (the block "
        "ended, or the text loops); false decodes on to max_new_tokens, to see what the model would have written",
    )
    layout: Literal["psm", "line-start"] = Field(
        default="line-start",
        description="'line-start': the prompt's prefix ends at the cursor line's start and the part of "
        "the line already typed follows <|fim_middle|> (each keystroke then only appends tokens; token healing on "
        "llama.cpp and transformers, 'psm' on an openai engine); 'psm': the prefix ends at the cursor",
    )
    heal_tokens: int = Field(
        default=4,
        ge=1,
        le=16,
        description="line-start: at most this many tokens at the end of "
        "the typed text are dropped and written again by the model (token healing)",
    )
    reuse_in_flight: bool = Field(
        default=True,
        description="a keystroke that types what the running generation "
        "is writing lets it run and is answered from it (false: every keystroke cancels it)",
    )
    cold_prefill_tokens: int = Field(
        default=512,
        ge=0,
        description="on the CPU, a request whose prompt the model holds less than all but this many tokens of "
        "(a file it has not prefilled) goes without repository context, its prefix and suffix cut to fit, so it answers "
        "in seconds; idle prefill gives later requests the whole prompt; 0: always the whole prompt",
    )


class CompletionConfig(_Section):
    """Generation knobs for one completion; budgets are in model tokens."""

    max_new_tokens: int = Field(default=64, ge=1, le=4096)
    max_prefix_tokens: int = Field(default=512, ge=16)
    max_suffix_tokens: int = Field(default=192, ge=0)
    max_ms: int = Field(
        default=3000,
        ge=0,
        le=MAX_MS,
        strict=True,
        description="once a request has taken this long (prefill included), "
        "decoding ends at the next line end (in a block, at once when one line took this long alone); 0: no limit",
    )
    min_keep: float = Field(
        default=0.3,  # the best expected value on unseen code (docs/experiments/0025)
        ge=0.0,
        le=1.0,
        description="suggestions whose keep-probability (how likely they are to be accepted and kept, from "
        "the model's own scores and the cursor) is under this are not shown; a suggestion asked for explicitly "
        "is shown whatever it is; 0: show every suggestion",
    )
    tuning: CompletionTuning = Field(default_factory=CompletionTuning)


class IndexTuning(_Section):
    """The index section's tuning knobs (`[index.tuning]`): experiment settings whose defaults are
    measured (docs/experiments); a user rarely needs them."""

    max_line_chars: int = Field(default=1000, ge=80, description="longer lines mark a file as minified")
    target_lines: int = Field(default=30, ge=1, description="small neighbours merge up to this many lines")
    max_lines: int = Field(default=80, ge=1, description="a definition up to this long stays one chunk")
    split_lines: int = Field(
        default=40,
        ge=2,
        description="what the chunker cannot cut at definitions (a long definition that has no members, code "
        "tree-sitter cannot parse, other text files) is split into overlapping chunks of this many lines",
    )
    split_overlap: int = Field(default=10, ge=0, description="lines two of those chunks share")
    embed_max_tokens: int = Field(
        default=128, ge=8, description="chunks are truncated to this many embedder tokens"
    )
    embed_batch: int = Field(default=32, ge=1)
    quantized: bool = Field(default=True, description="int8 dynamic quantization of the embedder")


class IndexConfig(_Section):
    """What the indexer reads, how it chunks and embeds, and where the index lives."""

    location: str | None = Field(
        default=None, description="LanceDB directory or URI; None means <user cache>/indexes/<repo>-<hash>"
    )
    exclude: tuple[str, ...] = Field(default=(), description="extra gitignore-style patterns to skip")
    max_file_bytes: int = Field(default=1_000_000, ge=1)
    embed_threads: int | None = Field(
        default=None, ge=1, description="CPU threads of the embedder (onnxruntime); None = its default"
    )
    tuning: IndexTuning = Field(default_factory=IndexTuning)


# the snippet budget left to follow the hardware (docs/experiments/0018, 0019 and 0021): where each new
# snippet block costs seconds of prefill (a CPU), and where it costs little (a GPU, a remote engine, a CPU
# measured to prefill the bigger block's prompt in the time the reference 2-core CPU takes for the smaller)
CPU_CONTEXT_TOKENS = 384
FAST_PREFILL_CONTEXT_TOKENS = 1536
FAST_CPU_PREFILL_TOKENS_PER_S = 400.0


class ContextTuning(_Section):
    """The context section's tuning knobs (`[context.tuning]`): experiment settings whose defaults are
    measured (docs/experiments); a user rarely needs them."""

    standing_lines: int = Field(
        default=10,
        ge=0,
        description="a local model on the CPU: a line whose own snippets the model does not hold yet gets the "
        "file's last snippets it holds, chosen fewer than this many lines away, instead of none; 0: none",
    )
    max_snippet_lines: int = Field(default=40, ge=1, description="a longer definition or chunk is cut")
    definitions_ms: int = Field(default=150, ge=1)
    max_identifiers: int = Field(default=24, ge=1, description="identifiers near the cursor looked up")
    near_lines: int = Field(
        default=12, ge=1, description="lines around the cursor whose identifiers are looked up"
    )
    retrieval_ms: int = Field(default=400, ge=1)
    retrieval_k: int = Field(default=6, ge=1)
    query_lines: int = Field(default=12, ge=1, description="lines before the cursor used as the search query")
    similar_ms: int = Field(default=150, ge=1)
    rest_of_file: bool = Field(
        default=True,
        description="the current file's import statements and look-alike "
        "windows from the parts of it the prompt leaves out",
    )
    similar_k: int = Field(default=4, ge=1)
    strong_window: float = Field(
        default=0.3,
        ge=0.0,
        le=1.0,
        description="a look-alike window at least this similar (identifier Jaccard) comes before every "
        "other source's snippets (1: none does, each source keeps its place)",
    )
    window_follow: int = Field(
        default=5,
        ge=0,
        description="look-alike windows are shown this many lines further on: the code that followed "
        "the stretch matched against the lines above the cursor, where the next line's counterpart is",
    )
    per_file: int = Field(default=3, ge=1, description="snippets from one file at most")
    open_documents_ms: int = Field(default=50, ge=1)
    window_lines: int = Field(
        default=10,
        ge=2,
        description="the lines above the cursor that look-alike windows are matched against, and the size of "
        "the windows over the current file's hidden parts and open documents (the repository's are 20 lines)",
    )
    min_similarity: float = Field(
        default=0.1, ge=0.0, le=1.0, description="identifier Jaccard floor for windows"
    )


class ContextConfig(_Section):
    """Repository context put in front of the current file; budgets in model tokens and milliseconds.

    Each source runs under its own time budget (a source that overruns is skipped
    for this request) and together they fill at most `max_tokens` of the prompt.
    """

    enabled: bool = True
    multi_line: bool = Field(
        default=False,
        description="repository context for block bodies too (a multi-line completion after `:`, "
        "`{` or a docstring); false serves them from the current file alone; "
        "multi-line call arguments and bracketed lists (Python: dicts too) always get it",
    )
    max_tokens: int | None = Field(
        default=None,
        ge=0,
        description="all snippets together, model tokens; unset: 1536 on a GPU, a remote engine or a CPU "
        "the server measures to prefill at least 400 tokens a second, else 384",
    )
    definitions: bool = True
    retrieval: bool = True
    similar: bool = Field(
        default=True,
        description="look-alike code: the repository's 20-line windows whose "
        "identifiers are most like the last `window_lines` lines'",
    )
    open_documents: bool = True
    tuning: ContextTuning = Field(default_factory=ContextTuning)

    @property
    def snippet_tokens(self) -> int:
        """`max_tokens`, or the CPU budget while it is left to follow the hardware (see `for_device`)."""
        return CPU_CONTEXT_TOKENS if self.max_tokens is None else self.max_tokens

    def for_device(self, device: str, *, fast_prefill: bool = False) -> ContextConfig:
        """This config with `max_tokens` set for a model on `device` ("cpu", "cuda:0", "remote", ...) where it
        is left to follow the hardware; `fast_prefill`: a CPU measured to prefill at least
        `FAST_CPU_PREFILL_TOKENS_PER_S` (`housecoder.inference.prefill_rate`)."""
        if self.max_tokens is not None:
            return self
        slow = device == "cpu" and not fast_prefill
        return self.model_copy(
            update={"max_tokens": CPU_CONTEXT_TOKENS if slow else FAST_PREFILL_CONTEXT_TOKENS}
        )


class ServerTuning(_Section):
    """The server section's tuning knobs (`[server.tuning]`): experiment settings whose defaults are
    measured (docs/experiments); a user rarely needs them."""

    max_document_bytes: int = Field(
        default=1_000_000, ge=1024, description="larger buffers are cut around the cursor"
    )
    cache_entries: int = Field(
        default=128, ge=0, description="completions remembered for typing through them"
    )


class ServerConfig(_Section):
    """The language server: when to complete, limits, and how it listens."""

    complete_in_comments: bool = False
    complete_in_strings: bool = False
    complete_mid_line: bool = Field(default=False, description="also complete when code follows the cursor")
    index_on_save: bool = True
    idle_prefill: bool = Field(
        default=True,
        description="prefill the prompt of a cursor the client reports "
        "(housecoder/cursor) while the user is idle",
    )
    precompute_next: bool = Field(
        default=True,
        description="after a suggestion is shown, compute the one that "
        "follows its acceptance while the user reads it",
    )
    request_timeout_ms: int = Field(
        default=15_000,
        ge=0,
        le=MAX_MS,
        strict=True,  # `true` is no duration
        description="a completion still running after this "
        "long on the model thread answers empty and frees the model (0: no limit)",
    )
    host: str = Field(default="127.0.0.1", description="TCP mode only; another address exposes your code")
    port: int = Field(default=2087, ge=0, le=65535)
    tuning: ServerTuning = Field(default_factory=ServerTuning)


SPAN_KINDS = ("line", "statement", "expression", "arguments", "body")


class TrainTuning(_Section):
    """The train section's tuning knobs (`[train.tuning]`): experiment settings whose defaults are
    measured (docs/experiments); a user rarely needs them."""

    eval_samples: int = Field(default=40, ge=1, description="held-out samples whose loss is measured")
    per_file: int = Field(default=16, ge=1, description="at most this many training samples from one file")
    max_samples: int | None = Field(
        default=None,
        ge=1,
        description="at most this many training samples (a recipe's cap; unset: `token_budget` decides)",
    )
    eval_per_file: int = Field(
        default=40,
        ge=1,
        description="at most this many held-out samples from one file: a few held-out files must "
        "give enough middles for a paired verdict",
    )
    span_mix: dict[str, float] = Field(
        default_factory=lambda: {
            "line": 0.2,
            "statement": 0.25,
            "expression": 0.1,
            "arguments": 0.1,
            "body": 0.35,
        },
        description="share of each kind of middle: line, statement, expression, arguments, body",
    )
    max_middle_lines: int = Field(
        default=15, ge=1, description="longest middle (a body or statement) in lines"
    )
    held_out_fraction: float = Field(default=0.15, gt=0.0, lt=1.0, description="share of files held out")
    # Prompt budgets for the samples (the server's prompt builder, these budgets).
    context_tokens: int = Field(default=192, ge=0, description="retrieved snippets in a sample's prompt")
    prefix_tokens: int = Field(default=320, ge=16)
    suffix_tokens: int = Field(default=128, ge=0)
    middle_tokens: int = Field(default=224, ge=4, description="a longer middle is not used as a sample")
    end_of_text: Literal["always", "multi-line", "inline"] = Field(
        default="always",
        description="where the end-of-text token after a middle counts in the loss: always; "
        "multi-line: not after a one-line middle that ends its line at a cursor served one line at a time (the "
        "editor cuts that completion at the newline); inline: only after a middle with code after it "
        "on its line, where no post-processing stop (newline, end of block, suffix repeat) can end the "
        "completion",
    )
    # LoRA and optimisation.
    rank: int = Field(default=16, ge=1)
    alpha: int = Field(default=32, ge=1, description="LoRA scale numerator (scale = alpha / rank)")
    dropout: float = Field(default=0.05, ge=0.0, lt=1.0)
    target_modules: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj")
    lora_layers: int | None = Field(
        default=None,
        ge=1,
        description="LoRA on the top N transformer layers only (unset: all); the backward pass "
        "stops there, so fewer layers train faster, but they learn less per token (note 0026)",
    )
    learning_rate: float = Field(default=1e-4, gt=0)
    warmup_steps: int = Field(default=3, ge=0, description="optimiser steps of linear warm-up")
    schedule: Literal["cosine", "constant"] = Field(
        default="cosine",
        description="learning rate after the warm-up: cosine decays it to 0 at the last step; constant keeps it "
        "(every checkpoint of a run is then trained as its end would be: a learning curve from one run)",
    )
    batch_size: int = Field(default=1, ge=1, description="sequences per micro-step")
    grad_accum: int = Field(default=8, ge=1, description="micro-steps per optimiser step")
    weight_decay: float = Field(default=0.0, ge=0.0)
    max_grad_norm: float = Field(default=1.0, gt=0)
    gradient_checkpointing: bool = False
    mixed_precision: Literal["auto", "bf16", "fp16", "no"] = Field(
        default="auto",
        description="autocast: auto is bf16 where the GPU or CPU computes bf16, elsewhere float32 "
        "weights with fp16 autocast on a GPU and none on a CPU (where bf16 would be emulated); "
        "fp16 runs as bf16 on a CPU",
    )
    # Evaluation, checkpoints, early stop.
    eval_every: int = Field(default=10, ge=1, description="optimiser steps between held-out loss checks")
    patience: int = Field(
        default=3, ge=1, description="stop after this many checks without a better held-out loss"
    )
    checkpoint_every: int = Field(default=10, ge=1, description="optimiser steps between checkpoints")
    keep_checkpoints: bool = Field(
        default=False,
        description="also keep each checkpoint's adapter in <run>/steps/<step>/ with the tokens trained so far",
    )
    generate_samples: int = Field(
        default=80,
        ge=0,
        description="held-out samples generated greedily before/after (the "
        "verdict's evidence; more middles give a narrower interval)",
    )
    eval_runtime: Literal["auto", "llama.cpp", "transformers"] = Field(
        default="auto",
        description="runtime of those completions: llama.cpp on the model's GGUF (the served runtime, "
        "the adapter converted to a GGUF LoRA; faster on a CPU), transformers on the trained "
        "weights; auto picks as inference.runtime = auto does",
    )
    forgetting_limit: int = Field(default=40, ge=1)
    max_forgetting: float = Field(
        default=0.05, ge=0.0, le=1.0, description="largest exact-match drop there that still activates"
    )
    history_weight: int = Field(
        default=1,
        ge=0,
        description="how many times each of the user's kept or rewritten suggestions (the feedback store) "
        "counts as a training sample (0: they are not trained on)",
    )
    history_min_tasks: int = Field(
        default=20,
        ge=2,
        description="with this many kept or rewritten suggestions recorded, the newest half is held out and an "
        "adapter that completes them worse is not activated",
    )
    seed: int = 0

    @field_validator("span_mix")
    @classmethod
    def _known_kinds(cls, mix: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(mix) - set(SPAN_KINDS))
        if unknown:
            raise ValueError(f"unknown span kind {unknown[0]!r}: choose from {', '.join(SPAN_KINDS)}")
        if any(share < 0 for share in mix.values()) or sum(mix.values()) <= 0:
            raise ValueError("shares must be >= 0 and not all 0")
        return mix


class TrainConfig(_Section):
    """The conventions fine-tune (`housecoder train`): samples, LoRA, optimisation, evaluation.

    Sizes are in model tokens. The CPU defaults keep training sequences short (the context,
    prefix, suffix and middle budgets add up to 864 tokens); on a GPU raise the
    prompt budgets to the server's (`completion.*`, `context.max_tokens`: 1536 there when unset) so the
    adapter trains on prompts exactly as long as it will be served.
    """

    # Samples: FIM middles on syntax nodes of the repository's own files.
    token_budget: int = Field(
        default=220_000,
        ge=0,
        description="tokens to train on (prompts and middles): samples are taken from every training file in "
        "turn, the files the rest of the repository uses most first, until the budget is spent; 0: every "
        "sample the repository gives (up to `train.tuning.per_file` a file). About 550 tokens a sample; "
        "220k tokens take 40 to 70 minutes on 2 AVX-512 cores. Background training doubles it (and "
        "`train.tuning.per_file`) after each run while the repository gives more",
    )
    since: str | None = Field(
        default=None, description="git commit: files changed after it are the held-out set"
    )
    epochs: float = Field(default=1.0, gt=0, description="passes over the samples when `steps` is unset")
    steps: int | None = Field(default=None, ge=1, description="optimiser steps (overrides epochs)")
    forgetting_tasks: str | None = Field(
        default=None,
        description="task file (bench JSONL, e.g. HumanEval-FIM) for the forgetting check; None skips it",
    )
    activation: Literal["clear", "ahead"] = Field(
        default="clear",
        description="when an adapter that completes held-out code better is activated: clear, when the "
        "paired 95% interval of its gain (exact match or edit similarity) lies above zero; ahead, on the point "
        "estimates alone",
    )
    output: str | None = Field(default=None, description="adapters root; None means <user cache>/adapters")
    background: bool = Field(
        default=False,
        description="the server trains the workspace's adapter in the background (`housecoder train "
        "--background`) while no completion has been requested for `idle_seconds`, resumes after a restart, "
        "and goes on learning more of the repository after each finished run",
    )
    idle_seconds: float = Field(
        default=60.0,
        ge=1.0,
        le=86_400.0,
        description="background training pauses at a completion request and goes on after this many seconds "
        "without one",
    )
    background_threads: int | None = Field(
        default=None, ge=1, description="CPU threads of background training; None: every core but one"
    )
    tuning: TrainTuning = Field(default_factory=TrainTuning)


class FeedbackTuning(_Section):
    """The feedback section's tuning knobs (`[feedback.tuning]`): experiment settings whose defaults are
    measured (docs/experiments); a user rarely needs them."""

    retention_checks_s: tuple[int, ...] = Field(
        default=(30, 300),
        description="seconds after an accept (or a rejection) when the server measures what is left of the "
        "suggestion at its place in the buffer",
    )
    max_context_chars: int = Field(
        default=8000, ge=256, description="text kept before the cursor (half as much after it) per suggestion"
    )

    @field_validator("retention_checks_s")
    @classmethod
    def _checks(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(not 1 <= seconds <= 86_400 for seconds in value):
            raise ValueError("give one or more delays between 1 and 86400 seconds")
        return tuple(sorted(set(value)))


class FeedbackConfig(_Section):
    """The local feedback loop: what happened to each suggestion shown, kept in one SQLite file per workspace
    under the user cache. Nothing is ever sent anywhere."""

    enabled: bool = Field(
        default=True, description="record suggestions shown, accepted, rejected and retained"
    )
    max_mb: int = Field(
        default=64, ge=1, description="the store's size cap; over it the oldest half is dropped"
    )
    tuning: FeedbackTuning = Field(default_factory=FeedbackTuning)


class Settings(_Section):
    """Every part's configuration."""

    models: ModelsConfig = ModelsConfig()
    inference: InferenceConfig = InferenceConfig()
    completion: CompletionConfig = CompletionConfig()
    context: ContextConfig = ContextConfig()
    index: IndexConfig = IndexConfig()
    server: ServerConfig = ServerConfig()
    train: TrainConfig = TrainConfig()
    feedback: FeedbackConfig = FeedbackConfig()


_S = TypeVar("_S", bound=_Section)


def tuned(section: _S, **knobs: Any) -> _S:
    """A copy of a settings section with these of its tuning knobs set (validated)."""
    tuning: _Section = getattr(section, "tuning")  # noqa: B009 (every section has one; _Section does not)
    return section.model_copy(update={"tuning": tuning.model_validate(tuning.model_dump() | knobs)})


def find_project_root(start: Path) -> Path:
    """The nearest directory at or above `start` holding `.git`, `.housecoder.toml` or `pyproject.toml`."""
    start = start.resolve()
    if start.is_file():
        start = start.parent
    for directory in (start, *start.parents):
        if any((directory / marker).exists() for marker in (".git", PROJECT_FILE, "pyproject.toml")):
            return directory
    return start


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file's tables; ConfigError in one line naming the file when it cannot be read or parsed."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: invalid TOML: {err}") from err
    except RecursionError as err:  # tomllib recurses per nested inline table or array
        raise ConfigError(f"{path}: invalid TOML: nested too deeply") from err
    except OSError as err:
        raise ConfigError(f"{path}: cannot read: {err.strerror or err}") from err


def merge_sections(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """`extra` laid over `base`, tables merged key by key at every depth (neither is modified)."""
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge_sections(merged[key], value)
        else:
            merged[key] = value
    return merged


def _one_line(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "(top level)"
    more = len(err.errors()) - 1
    tail = f" (and {more} more)" if more else ""
    return f"{where}: {first['msg']}{tail}"


# Keys an older config file may still set, refused in one line that says what became of each (before the
# model's "Extra inputs are not permitted"): sections and dotted keys renamed, and keys whose feature was
# removed, with the experiment note that measured it.
RENAMED: Mapping[str, str] = {
    "telemetry": "feedback",  # the whole section: nothing is ever sent
    "models.threads": "models.torch_threads",
    "index.threads": "index.embed_threads",
    "index.window_lines": "index.tuning.split_lines",  # not the look-alike windows' size (context's)
    "index.window_overlap": "index.tuning.split_overlap",
}

# every tuning knob sat in its section itself until the knobs moved to `[SECTION.tuning]`
MOVED_TO_TUNING: Mapping[str, str] = {
    f"{section}.{knob}": f"{section}.tuning.{knob}"
    for section in Settings.model_fields
    for knob in type(getattr(Settings(), section).tuning).model_fields
}
NOTE_0014 = "docs/experiments/0014-repository-context-unseen-code.md"
REMOVED: Mapping[str, str] = {
    "context.receivers": NOTE_0014,
    "context.modules": NOTE_0014,
    "context.max_overlap": NOTE_0014,
    "completion.multi_line_end": "docs/experiments/0011-multi-line-end-scope.md",
}


def retired(data: Mapping[str, Any]) -> str | None:
    """What became of the first renamed or removed key that config tables `data` set, in one line; None
    when they set none."""
    for name, table in data.items():
        if name in RENAMED:
            return f"[{name}] is now [{RENAMED[name]}]"
        for key in table if isinstance(table, Mapping) else ():
            dotted = f"{name}.{key}"
            if dotted in RENAMED or dotted in MOVED_TO_TUNING:
                return f"{dotted} is now {RENAMED.get(dotted) or MOVED_TO_TUNING[dotted]}"
            if dotted in REMOVED:
                return f"{dotted} was removed (off by default, no gain measured: {REMOVED[dotted]})"
    return None


def _validate(data: Mapping[str, Any], origin: str) -> Settings:
    if (message := retired(data)) is not None:
        raise ConfigError(f"{origin}: {message}")
    try:
        return Settings.model_validate(data)
    except ValidationError as err:
        raise ConfigError(f"{origin}: {_one_line(err)}") from err


def project_sections(root: Path) -> list[tuple[str, dict[str, Any]]]:
    """The project's own config files under `root`, as (origin, tables): `[tool.housecoder]` of
    pyproject.toml, then .housecoder.toml (each only where it exists)."""
    found: list[tuple[str, dict[str, Any]]] = []
    pyproject = root / "pyproject.toml"
    for candidate in (pyproject, root / PROJECT_FILE):
        if candidate.exists() and not candidate.is_file():
            raise ConfigError(
                f"{candidate}: not a file (a directory or special file where the config belongs)"
            )
    if pyproject.is_file():
        table = read_toml(pyproject).get("tool", {}).get("housecoder", {})
        if not isinstance(table, dict):
            raise ConfigError(f"{pyproject}: [tool.housecoder] must be a table")
        found.append((f"{pyproject} [tool.housecoder]", table))
    project_file = root / PROJECT_FILE
    if project_file.is_file():
        found.append((str(project_file), read_toml(project_file)))
    return found


def _resolve_paths(data: dict[str, Any], root: Path) -> dict[str, Any]:
    """Relative local paths in a config file are relative to the project root, not the cwd."""
    for section, key in (
        ("models", "cache_dir"),
        ("models", "code_model"),
        ("models", "embedder"),
        ("models", "adapter"),
        ("index", "location"),
        ("train", "forgetting_tasks"),
        ("train", "output"),
    ):
        table = data.get(section)
        value = table.get(key) if isinstance(table, dict) else None
        if not isinstance(value, str) or "://" in value:
            continue
        path = Path(value).expanduser()
        is_local = key in ("cache_dir", "location") or value.startswith((".", "~")) or (root / path).exists()
        if is_local and not path.is_absolute():
            path = root / path
        if is_local:
            data = merge_sections(data, {section: {key: path if key == "cache_dir" else str(path)}})
    return data


def _always(value: object) -> bool:
    return True


HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")  # a Hugging Face model id, `owner/name`


def _is_hub_id(value: object) -> bool:
    """A model name that is a Hugging Face id (`owner/name`), not a built-in or a path (`./models/mine`)."""
    return isinstance(value, str) and bool(HUB_ID.match(value)) and not value.endswith(".gguf")


def _is_uri(value: object) -> bool:
    return isinstance(value, str) and "://" in value


# What a project's own files may set only in a root the user trusts, and for which values: each of these
# can send the user's code off the machine, read an environment variable or open a socket. CLI flags,
# editor settings and other overrides from the entry point may always set them.
SENSITIVE_KEYS: Mapping[str, Callable[[object], bool]] = {
    "inference.runtime": lambda value: value == "openai",  # the one runtime that posts prompts to a URL
    "inference.url": _always,
    "inference.api_key_env": _always,  # its value is sent as a bearer token
    "index.location": _is_uri,  # a remote index (s3://, gs://, db://) receives the code's chunks
    "server.host": _always,
    "server.port": _always,
    "models.code_model": _is_hub_id,  # a model `serve` or `complete` would download from a model hub
    "models.embedder": _is_hub_id,
}


def config_home(environ: Mapping[str, str]) -> Path:
    """The user's configuration folder: `$XDG_CONFIG_HOME`, else `~/.config` (`environ` is the entry point's
    environment)."""
    base = environ.get("XDG_CONFIG_HOME", "")
    if base and Path(base).is_absolute():
        return Path(base)
    return Path(environ.get("HOME") or Path.home()) / ".config"


def user_config_file(environ: Mapping[str, str]) -> Path:
    """The user's own settings, below every project's: `<config_home>/housecoder/config.toml`."""
    return config_home(environ) / "housecoder" / USER_FILE


def _sensitive_in(section: Mapping[str, Any]) -> dict[str, Any]:
    """The sensitive keys one config file's sections set, dotted, with their values."""
    return {
        f"{name}.{key}": value
        for name, table in section.items()
        if isinstance(table, dict)
        for key, value in table.items()
        if (rule := SENSITIVE_KEYS.get(f"{name}.{key}")) and rule(value)
    }


def sensitive_values_of(sections: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """The sensitive keys config files' sections (`project_sections`) set, dotted, with their values (the last
    file wins)."""
    values: dict[str, Any] = {}
    for _origin, section in sections:
        values |= _sensitive_in(section)
    return values


def sections_fingerprint(sections: list[tuple[str, dict[str, Any]]]) -> str:
    """The sha256 of the sensitive values config files' sections set: what a trusted root is trusted with
    (`housecoder.trust.trust_fingerprint`)."""
    canonical = json.dumps(sensitive_values_of(sections), sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _without_sensitive(section: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A project file's sections without the sensitive keys it sets, and those keys (dotted)."""
    dropped = list(_sensitive_in(section))
    kept = {
        name: {key: value for key, value in table.items() if f"{name}.{key}" not in dropped}
        if isinstance(table, dict)
        else table  # not a table: validation names the mistake
        for name, table in section.items()
    }
    return kept, dropped


OVERRIDES = "flags, environment or editor"  # the origin `origins` gives keys the entry point set


def load_settings(
    project_root: Path | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    trusted: Collection[Path] = (),
    warn: Callable[[str], None] | None = None,
    user_file: Path | None = None,
) -> Settings:
    """Read the user's file (`user_file`, if it exists) and the project's config files (if any), and apply
    `overrides` on top.

    `overrides` maps section name to keys, e.g. `{"models": {"cache_dir": "/x"}}`;
    keys whose value is None are ignored so unset CLI flags do not clobber files.
    Unless `project_root` is among the `trusted` roots (resolved paths, see
    `housecoder.trust.read_trusted`; where `trusted` maps roots to fingerprints, only while the project's
    sensitive values still have the fingerprint it was trusted with), its files'
    `SENSITIVE_KEYS` are dropped and `warn` (default: a log warning) gets one line per
    file naming them; the user's own file may set them. Raises ConfigError with a
    one-line message naming the file and the key.
    """
    return settings_of(
        setting_layers(project_root, overrides, trusted=trusted, warn=warn, user_file=user_file)
    )


def settings_of(layers: list[tuple[str, dict[str, Any]]]) -> Settings:
    """The settings `setting_layers` make, laid over the defaults in order."""
    data: dict[str, Any] = {}
    for _origin, section in layers:
        data = merge_sections(data, section)
    return _validate(data, "settings")


def setting_layers(
    project_root: Path | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    trusted: Collection[Path] = (),
    warn: Callable[[str], None] | None = None,
    user_file: Path | None = None,
) -> list[tuple[str, dict[str, Any]]]:
    """The sources `load_settings` lays over the defaults, in order, each as (origin, tables) once its
    untrusted keys are dropped and its relative paths resolved; each is validated on its own."""
    layers: list[tuple[str, dict[str, Any]]] = []
    if user_file is not None and user_file.exists():
        if not user_file.is_file():
            raise ConfigError(
                f"{user_file}: not a file (a directory or special file where the config belongs)"
            )
        section = _resolve_paths(read_toml(user_file), user_file.parent)
        _validate(section, str(user_file))
        layers.append((str(user_file), section))
    if project_root is not None:
        root, sections = project_root.resolve(), project_sections(project_root)
        trusted_root, changed = root in trusted, False
        if trusted_root and isinstance(trusted, Mapping) and trusted[root] != sections_fingerprint(sections):
            trusted_root, changed = False, True  # what it sets is not what the user trusted
        for origin, section in sections:
            if not trusted_root:
                section, dropped = _without_sensitive(section)
                if dropped:
                    (warn or log.warning)(_untrusted_message(origin, dropped, project_root, changed))
            section = _resolve_paths(section, project_root)
            _validate(section, origin)  # name the file that holds the mistake
            layers.append((origin, section))
    clean = {
        name: {key: value for key, value in keys.items() if value is not None}
        for name, keys in (overrides or {}).items()
    }
    clean = {name: keys for name, keys in clean.items() if keys}
    if clean:
        layers.append((OVERRIDES, clean))
    return layers


def origins(layers: list[tuple[str, dict[str, Any]]]) -> dict[str, str]:
    """Which layer set each dotted key last (a table-valued key: the last layer that set any part of it)."""
    found: dict[str, str] = {}

    def walk(table: Mapping[str, Any], prefix: str, origin: str) -> None:
        for key, value in table.items():
            found[f"{prefix}{key}"] = origin
            if isinstance(value, Mapping):
                walk(value, f"{prefix}{key}.", origin)

    for origin, section in layers:
        walk(section, "", origin)
    return found


def _untrusted_message(origin: str, dropped: list[str], root: Path, changed: bool = False) -> str:
    why = "they changed since you trusted the project" if changed else "the project is not trusted"
    return (
        f"{origin}: ignored {', '.join(dropped)}: {why}; to allow them, run "
        f"`housecoder trust {shlex.quote(str(root.resolve()))}`"
    )


def apply_config_file(settings: Settings, path: Path) -> Settings:
    """`settings` with a config file's sections (housecoder.toml layout) on top; relative paths are
    relative to the file. One-line ConfigError for a missing or invalid file."""
    if not path.is_file():
        raise ConfigError(f"{path}: no such config file")
    section = _resolve_paths(read_toml(path), path.parent.resolve())
    _validate(section, str(path))
    return _validate(merge_sections(settings.model_dump(), section), str(path))
