"""What a training run found, typed: scores before and after the adapter, their paired comparison, the held-out
loss and the training figures.

They are the `metrics` and `training` objects of the adapter's metadata, `housecoder-adapter.json` (and of
report.json, which adds the history), whose one schema is `housecoder.models.adapter_meta.AdapterMeta`:
`to_json` writes them there, `from_json` reads them back, with the figures older reports lack left None. The
JSON names are those the registry (`housecoder.models.adapters`) and earlier runs use: `held_out_loss`,
`held-out`, `forgetting`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from housecoder.evaluation.metrics import mean
from housecoder.evaluation.report import Comparison, RunSummary
from housecoder.evaluation.runner import Record
from housecoder.models.adapter_meta import HELD_OUT

FORGETTING = "forgetting"
HISTORY = "history"  # the user's own kept and rewritten suggestions (housecoder.feedback)


@dataclass(frozen=True)
class RunScores:
    """Generation scores of one run (base model or adapter) over one task set."""

    tasks: int
    exact: float
    edit_similarity: float
    identifier_f1: float

    @classmethod
    def of(cls, records: Sequence[Record]) -> RunScores:
        return cls(
            len(records),
            mean([float(r.exact) for r in records]),
            mean([r.edit_similarity for r in records]),
            mean([r.identifier_f1 for r in records]),
        )

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunScores:
        return cls(
            int(data["tasks"]),
            float(data["exact"]),
            float(data["edit_similarity"]),
            float(data["identifier_f1"]),
        )


def _interval(value: Any) -> tuple[float, float]:
    low, high = value
    return float(low), float(high)


@dataclass(frozen=True)
class PairedFigures:
    """The adapter against the base model on the same tasks: exact-match flips and difference, and the edit
    similarity difference, each with its paired-bootstrap 95% interval (fractions)."""

    tasks: int
    gained: list[str]
    lost: list[str]
    difference: float
    interval: tuple[float, float]
    similarity_difference: float | None = None  # reports written before it was measured lack it
    similarity_interval: tuple[float, float] | None = None

    @classmethod
    def of(cls, comparison: Comparison) -> PairedFigures:
        result = comparison.result
        return cls(
            comparison.tasks,
            list(result.gained),
            list(result.lost),
            result.difference,
            result.interval,
            comparison.similarity_difference,
            comparison.similarity_interval,
        )

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "tasks": self.tasks,
            "gained": self.gained,
            "lost": self.lost,
            "difference": self.difference,
            "interval": list(self.interval),
        }
        if self.similarity_difference is not None and self.similarity_interval is not None:
            data |= {
                "similarity_difference": self.similarity_difference,
                "similarity_interval": list(self.similarity_interval),
            }
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PairedFigures:
        similarity = data.get("similarity_interval")
        return cls(
            int(data["tasks"]),
            list(data.get("gained", [])),
            list(data.get("lost", [])),
            float(data["difference"]),
            _interval(data["interval"]),
            float(data["similarity_difference"]) if "similarity_difference" in data else None,
            _interval(similarity) if similarity is not None else None,
        )


def _summary_to_json(summary: RunSummary) -> dict[str, Any]:
    return {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(summary).items()}


def _summary_from_json(data: Mapping[str, Any]) -> RunSummary:
    values = {item.name: data[item.name] for item in fields(RunSummary)}
    return RunSummary(
        **(
            values
            | {
                "exact_ci": _interval(values["exact_ci"]),
                "edit_similarity_ci": _interval(values["edit_similarity_ci"]),
            }
        )
    )


@dataclass(frozen=True)
class BeforeAfter:
    """One task set completed by the base model and with the adapter: overall scores, per task kind, paired."""

    before: RunScores
    after: RunScores
    by_kind: list[RunSummary] = field(default_factory=list)
    paired: list[PairedFigures] = field(default_factory=list)

    @property
    def overall(self) -> PairedFigures | None:
        """The paired comparison over all tasks, when there is one."""
        return self.paired[0] if self.paired else None

    def to_json(self) -> dict[str, Any]:
        return {
            "before": asdict(self.before),
            "after": asdict(self.after),
            "by_kind": [_summary_to_json(summary) for summary in self.by_kind],
            "paired": [pair.to_json() for pair in self.paired],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BeforeAfter:
        return cls(
            RunScores.from_json(data["before"]),
            RunScores.from_json(data["after"]),
            [_summary_from_json(row) for row in data.get("by_kind", [])],
            [PairedFigures.from_json(pair) for pair in data.get("paired", [])],
        )


@dataclass(frozen=True)
class Loss:
    """Mean loss per middle token on the held-out samples, before and after training."""

    before: float
    after: float


@dataclass(frozen=True)
class Metrics:
    """Everything the activation rule looks at."""

    held_out_loss: Loss
    held_out: BeforeAfter | None = None  # generated middles of the held-out files
    forgetting: BeforeAfter | None = None  # the forgetting tasks (in-file FIM), when configured
    history: BeforeAfter | None = None  # the newest of the user's kept and rewritten suggestions, when enough

    def sets(self) -> list[tuple[str, BeforeAfter]]:
        """(JSON name, figures) of the task sets measured, held-out first."""
        found = ((HELD_OUT, self.held_out), (FORGETTING, self.forgetting), (HISTORY, self.history))
        return [(name, figures) for name, figures in found if figures is not None]

    def to_json(self) -> dict[str, Any]:
        return {"held_out_loss": asdict(self.held_out_loss)} | {
            name: figures.to_json() for name, figures in self.sets()
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Metrics:
        loss = data["held_out_loss"]
        held, forgetting, history = data.get(HELD_OUT), data.get(FORGETTING), data.get(HISTORY)
        return cls(
            Loss(float(loss["before"]), float(loss["after"])),
            BeforeAfter.from_json(held) if held is not None else None,
            BeforeAfter.from_json(forgetting) if forgetting is not None else None,
            BeforeAfter.from_json(history) if history is not None else None,
        )


@dataclass(frozen=True)
class TrainingFigures:
    """How the training went: steps, the best check, sequences seen, time and precision (None: not recorded)."""

    step: int | None = None
    best_step: int | None = None
    stopped_early: bool | None = None
    elapsed_s: float | None = None  # pauses for the user's typing left out
    paused_s: float | None = None
    samples_seen: int | None = None
    precision: str | None = None
    # the training samples' tokens (one pass): what `train.token_budget` bought
    sample_tokens: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TrainingFigures:
        return cls(**{item.name: data[item.name] for item in fields(cls) if item.name in data})
