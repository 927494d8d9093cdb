"""Samples as token ids: the served prompt, then the middle and the end-of-text token, loss on the middle only.

The model is served the prompt and writes the middle followed by `<|endoftext|>`
(the engine stops there), so that is the target; prompt tokens are masked out of
the loss with -100. Prompt and middle are tokenized apart: the prompt ends in the
`<|fim_middle|>` control token, so no token can straddle the boundary.

With `end_of_text = "multi-line"` the end-of-text token counts only where the editor
uses it: a one-line middle that runs to the end of its line, at a cursor the
trigger serves one line at a time, is cut at the newline by post-processing, so
whatever the model writes after the line is never shown. Training end-of-text
there (45% of smolagents' samples under the default span mix) taught
adapters to stop function bodies after their first line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from housecoder.completion.trigger import decide
from housecoder.prompt.fim import FIM
from housecoder.training.samples import Sample

IGNORE = -100  # label of a position that does not count in the loss (transformers' convention)


@dataclass(frozen=True)
class Encoded:
    input_ids: list[int]
    labels: list[int]

    @property
    def target_tokens(self) -> int:
        return sum(1 for label in self.labels if label != IGNORE)


def served_one_line(sample: Sample) -> bool:
    """True when the editor would show only the middle's one line: a one-line middle running to the end of its
    line, at a cursor the trigger serves single-line (not after a block opener)."""
    rest_of_line = sample.suffix.split("\n", 1)[0]
    if "\n" in sample.middle.strip() or rest_of_line.strip():
        return False
    return not decide(sample.prefix, sample.suffix, sample.language).multi_line


def ends_inside_line(sample: Sample) -> bool:
    """True when code follows the middle on its last line (an expression or arguments inside a line): only the
    model's end-of-text can end that completion before the rest of the line."""
    return bool(sample.suffix.split("\n", 1)[0].strip())


EndOfText = Literal["always", "multi-line", "inline"]


def counts_end_of_text(sample: Sample, end_of_text: EndOfText) -> bool:
    """Whether the end-of-text token after `sample`'s middle counts in the loss under the `end_of_text` rule."""
    if end_of_text == "multi-line":
        return not served_one_line(sample)
    if end_of_text == "inline":
        return ends_inside_line(sample)
    return True


def encode(sample: Sample, tokenizer: Any, end_of_text: EndOfText = "always") -> Encoded:
    """Prompt and target ids; the labels put the loss on the middle and, where `end_of_text` counts it
    (`counts_end_of_text`), the end-of-text token after it."""
    prompt = tokenizer(sample.prompt, add_special_tokens=False)["input_ids"]
    target = list(tokenizer(sample.middle + FIM.end_of_text, add_special_tokens=False)["input_ids"])
    labels = list(target)
    if not counts_end_of_text(sample, end_of_text):
        labels[-1] = IGNORE  # the tokenizer maps the end-of-text marker to its one special token, last
    return Encoded(list(prompt) + target, [IGNORE] * len(prompt) + labels)


def collate(batch: Sequence[Encoded], pad_id: int) -> dict[str, Any]:
    """Right-padded tensors: input_ids, attention_mask and labels (-100 on padding)."""
    import torch

    width = max(len(item.input_ids) for item in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, item in enumerate(batch):
        n = len(item.input_ids)
        ids[row, :n] = torch.tensor(item.input_ids)
        labels[row, :n] = torch.tensor(item.labels)
        mask[row, :n] = 1
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def middle_loss(model: Any, batch: dict[str, Any]) -> Any:
    """Mean cross-entropy over the target (middle) tokens of `batch`, computing logits only where needed.

    Equal to transformers' own `labels=` loss, but the vocabulary projection (151k
    columns for Qwen) runs on the positions that predict a target instead of the
    whole prompt: about a quarter less time per training sequence on CPU.
    """
    import torch.nn.functional as F

    following = batch["labels"][:, 1:]  # position t predicts token t + 1
    keep = (following != IGNORE).any(dim=0).nonzero().squeeze(-1)
    out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], logits_to_keep=keep)
    logits = out.logits.float().flatten(0, 1)
    return F.cross_entropy(logits, following[:, keep].flatten(), ignore_index=IGNORE)


def pad_id(tokenizer: Any) -> int:
    found = tokenizer.pad_token_id
    if found is None:
        found = tokenizer.convert_tokens_to_ids(FIM.end_of_text)
    return int(found)
