"""Errors of the conventions fine-tune (`housecoder train`), each one line for the user.

HousecoderError
└── TrainingError         the job cannot go on (says why and what to change)
    ├── TooSmall          too few files or samples to train and hold some out
    ├── OutOfMemory       a step did not fit; names the knobs that shrink it
    └── NoCheckpoint      --resume with nothing to resume from
"""

from __future__ import annotations

from housecoder.errors import HousecoderError


class TrainingError(HousecoderError):
    """The training job cannot go on."""


class TooSmall(TrainingError):
    """The repository has too few usable files or samples to split into training and held-out sets."""


class OutOfMemory(TrainingError):
    """A training or evaluation step ran out of memory."""

    def __init__(self, where: str) -> None:
        super().__init__(
            f"out of memory during {where}: lower train.prefix_tokens/context_tokens/suffix_tokens (sequence length), "
            "train.rank or train.batch_size, or turn on train.gradient_checkpointing"
        )


class Diverged(TrainingError):
    """Optimiser step after optimiser step had a non-finite loss or gradient: the run cannot learn as set."""


class NoCheckpoint(TrainingError):
    """`--resume` found no checkpoint of an unfinished run for this repository."""
