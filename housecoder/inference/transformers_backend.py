"""The reference backend: transformers + torch, greedy or sampled, token by token.

Generation runs through `model.generate` with a stopping criterion that
decodes the new tokens after each step, so single-line requests stop as soon
as their line ends and a cancellation stops the model between two tokens.
"""

from __future__ import annotations

import time
from typing import Any

from housecoder.inference.base import Cancellation, Generation, GenerationRequest
from housecoder.inference.stopping import cut, stop_reason
from housecoder.models.loading import LoadedModel
from housecoder.prompt.fim import FIM


class TransformersBackend:
    """Runs a loaded transformers causal LM."""

    def __init__(self, loaded: LoadedModel) -> None:
        self.loaded = loaded
        tokenizer = loaded.tokenizer
        ids = [tokenizer.convert_tokens_to_ids(token) for token in (*FIM.all(), "<|im_end|>")]
        self.stop_ids = sorted({i for i in ids if isinstance(i, int) and i != tokenizer.unk_token_id and i >= 0})

    def count_tokens(self, text: str) -> int:
        return len(self.loaded.tokenizer(text, add_special_tokens=False)["input_ids"])

    def generate(self, request: GenerationRequest, cancel: Cancellation | None = None) -> Generation:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList

        tokenizer, model = self.loaded.tokenizer, self.loaded.model
        encoded = tokenizer(request.prompt, return_tensors="pt", add_special_tokens=False).to(self.loaded.device)
        prompt_len = int(encoded["input_ids"].shape[1])
        reason: list[str] = []

        class _Stop(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                if cancel is not None and cancel.cancelled:
                    reason.append("cancelled")
                    return torch.ones(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
                text = tokenizer.decode(input_ids[0, prompt_len:], skip_special_tokens=True)
                why = stop_reason(text, single_line=request.single_line, stop_strings=request.stop_strings)
                if why:
                    reason.append(why)
                return torch.full((input_ids.shape[0],), bool(why), dtype=torch.bool, device=input_ids.device)

        sampling: dict[str, Any] = (
            {"do_sample": True, "temperature": request.temperature} if request.temperature > 0 else {"do_sample": False}
        )
        started = time.perf_counter()
        with torch.inference_mode():
            output = model.generate(
                **encoded,
                max_new_tokens=request.max_new_tokens,
                eos_token_id=self.stop_ids or None,
                pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else (self.stop_ids or [0])[0],
                stopping_criteria=StoppingCriteriaList([_Stop()]),
                **sampling,
            )
        seconds = time.perf_counter() - started
        new = output[0, prompt_len:]
        ended_on_stop_token = len(new) > 0 and int(new[-1]) in self.stop_ids
        text = tokenizer.decode(new, skip_special_tokens=True)
        stopped_by = reason[0] if reason else ("eos" if ended_on_stop_token else "length")
        return Generation(
            text=cut(text, single_line=request.single_line, stop_strings=request.stop_strings),
            prompt_tokens=prompt_len,
            new_tokens=len(new),
            seconds=seconds,
            stopped_by=stopped_by,
        )
