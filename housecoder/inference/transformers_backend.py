"""The reference backend: transformers + torch (bf16 on CPU, CUDA when present), with prefix KV reuse.

Each request tokenizes its prompt, takes the cached KV of the recent prompt
sharing the longest token prefix (`PrefixCache`), crops it to the shared part
and prefills the rest in chunks (a cancellation is honoured between chunks and
the part already prefilled stays cached for the next keystroke). Decoding runs
one token per forward pass through `run_generation`, which checks the stop
conditions after every token. A LoRA adapter (peft) can be switched at any time;
the KV cache is keyed by model and adapter, so a switch never reuses stale keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from housecoder.config import InferenceConfig
from housecoder.inference.base import Cancellation, Generation, GenerationRequest
from housecoder.inference.healing import Vocabulary, plan_healing
from housecoder.inference.prefix_cache import Entry, PrefixCache
from housecoder.inference.streaming import chunked_prefill, run_generation, token_scores
from housecoder.models.loading import LoadedModel, set_adapter
from housecoder.prompt.fim import FIM


def _byte_decoder() -> dict[str, int]:
    """GPT-2's byte-level BPE alphabet backwards: each printable stand-in character to its byte."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    codes, extra = list(printable), 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            codes.append(256 + extra)
            extra += 1
    return {chr(code): byte for byte, code in zip(printable, codes, strict=True)}


def byte_pieces(tokenizer: Any) -> list[bytes]:
    """Each token id's bytes for a byte-level BPE tokenizer (Qwen's); b"" for added and control tokens."""
    decoder = _byte_decoder()
    added = set(tokenizer.get_added_vocab().values())
    pieces = []
    for token, text in enumerate(tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))):
        if token in added or not text or any(char not in decoder for char in text):
            pieces.append(b"")
        else:
            pieces.append(bytes(decoder[char] for char in text))
    return pieces


def stop_token_ids(tokenizer: Any) -> list[int]:
    """Ids of the FIM/chat control tokens that end a completion, as the tokenizer knows them."""
    ids = [tokenizer.convert_tokens_to_ids(token) for token in FIM.all()]
    return sorted({i for i in ids if isinstance(i, int) and i != tokenizer.unk_token_id and i >= 0})


class TransformersBackend:
    """Runs a loaded transformers causal LM token by token, reusing KV caches across prompts."""

    runtime = "transformers"
    heals = True

    def __init__(self, loaded: LoadedModel, config: InferenceConfig | None = None) -> None:
        self.loaded = loaded
        self.config = config or InferenceConfig()
        self.stop_ids = stop_token_ids(loaded.tokenizer)
        self.kv: PrefixCache[Any] = PrefixCache(
            self.config.tuning.kv_cache_entries, self.config.tuning.kv_cache_tokens
        )
        self._vocabulary: Vocabulary | None = None

    @property
    def vocabulary(self) -> Vocabulary:
        """Every token's bytes, for token healing (built on first use)."""
        if self._vocabulary is None:
            self._vocabulary = Vocabulary(byte_pieces(self.loaded.tokenizer), excluded=self.stop_ids)
        return self._vocabulary

    # -- the Backend interface -------------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        return len(self.loaded.tokenizer(text, add_special_tokens=False)["input_ids"])

    def uncached_tokens(self, prompt: str) -> int:
        """Tokens of `prompt` a request would prefill: those after the longest prefix a saved KV state holds."""
        ids: list[int] = self.loaded.tokenizer(prompt, add_special_tokens=False)["input_ids"]
        if self.config.tuning.kv_cache_entries <= 0:
            return len(ids)
        return len(ids) - self.kv.shared(ids, (id(self.loaded.model), self.loaded.adapter))

    @property
    def adapter(self) -> Path | None:
        return self.loaded.adapter

    def set_adapter(self, adapter: Path | None) -> None:
        try:
            set_adapter(self.loaded, adapter)
        finally:
            self.kv.clear()

    def describe(self) -> dict[str, Any]:
        return {
            "runtime": self.runtime,
            "model_path": str(self.loaded.path),
            "device": self.loaded.device,
            "adapter": str(self.loaded.adapter) if self.loaded.adapter else None,
            "kv_cache": {"entries": len(self.kv), "tokens": self.kv.tokens},
        }

    def generate(self, request: GenerationRequest, cancel: Cancellation | None = None) -> Generation:
        import torch

        model, tokenizer = self.loaded.model, self.loaded.tokenizer
        ids: list[int] = tokenizer(request.prompt, add_special_tokens=False)["input_ids"]
        healing = None
        if request.typed:
            ids, healing = plan_healing(ids, self.vocabulary, request.typed, request.heal_tokens)
        owner = (id(model), self.loaded.adapter)
        entry, shared = self.kv.take(ids, owner) if self.config.tuning.kv_cache_entries > 0 else (None, 0)
        if entry is None:
            from transformers import DynamicCache

            entry = Entry(ids=[], kv=DynamicCache(config=model.config))
        if len(entry.ids) > shared:
            entry.kv.crop(shared - len(entry.ids))  # transformers 5: a negative count of tokens to drop
            del entry.ids[shared:]
        logits: list[Any] = []

        def forward(chunk: Sequence[int]) -> None:
            tensor = torch.tensor([chunk], dtype=torch.long, device=self.loaded.device)
            out = model(input_ids=tensor, past_key_values=entry.kv, use_cache=True, logits_to_keep=1)
            entry.ids.extend(chunk)
            logits[:] = [out.logits[0, -1].float()]

        def next_token(previous: int | None, allowed: np.ndarray | None) -> int:
            if previous is not None:
                forward([previous])
            scores = logits[0]
            if allowed is not None:  # token healing: only tokens that write the dropped text again
                index = torch.as_tensor(allowed[allowed < scores.shape[0]], device=scores.device)
                mask = torch.full_like(scores, float("-inf"))
                mask[index] = 0.0
                scores = scores + mask
            if not request.end_of_text:
                scores = scores.clone()
                scores[[i for i in self.stop_ids if i < scores.shape[0]]] = float("-inf")
            if request.temperature > 0:
                probabilities = torch.softmax(scores / request.temperature, dim=-1)
                return int(torch.multinomial(probabilities, 1)[0])
            return int(torch.argmax(scores))

        with torch.inference_mode():
            result = run_generation(
                request,
                cancel,
                prompt_tokens=len(ids),
                reused_tokens=shared,
                prefill=chunked_prefill(ids, shared, self.config.tuning.prefill_chunk_tokens, forward),
                next_token=next_token,
                decode=lambda tokens: tokenizer.decode(tokens, skip_special_tokens=True),
                stop_ids=self.stop_ids,
                healing=healing,
                score=lambda token: token_scores(logits[0].cpu().numpy(), token),
            )
        self.kv.put(entry, owner)  # not after a failure: a half-run forward pass leaves the KV inconsistent
        return result
