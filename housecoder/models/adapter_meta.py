"""`housecoder-adapter.json`, the one schema of an adapter's metadata: `housecoder train` writes it
(`housecoder.training.job`), the registry (`housecoder.models.adapters`) reads it to pick what to serve.

    {"format": 1, "base_model": "qwen2.5-coder-1.5b-instruct", "base_fingerprint": "cc32…",
     "repository": "/abs/repo", "commit": "1a2b…" | null, "created": "2025-01-31T12:00:00+00:00",
     "config": {...train settings...}, "metrics": {"held_out_loss": {...}, "held-out": {"before":
     {"exact": 0.31, ...}, "after": {"exact": 0.42, ...}, ...}, ...}, "beat_base": true,
     "verdict": "one line", "split": "held out 2 of 9 files by hash",
     "samples": {"train": 40, "held_out": 10}, "training": {"step": 5, ...}}

`metrics` and `training` are kept as JSON here: the training report types them
(`housecoder.training.results`), which needs the evaluation code this layer must not import. `split`,
`samples` and `training` are absent from files the registry wrote before they were kept; they read
back as None / None / {}.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from housecoder.errors import first_line
from housecoder.models.errors import ModelError

ADAPTER_META = "housecoder-adapter.json"
FORMAT = 1  # bump when the metadata's fields change meaning
HELD_OUT = "held-out"  # the metrics entry of the held-out files, with "before"/"after" scores
_TEXT_FIELDS = ("base_model", "base_fingerprint", "repository", "created", "verdict")


@dataclass(frozen=True)
class SampleCounts:
    """Training and held-out samples (FIM sequences) of the run."""

    train: int
    held_out: int


@dataclass(frozen=True)
class AdapterMeta:
    """Which base model and repository the adapter belongs to, how it was trained (`config` is the `train`
    settings as JSON), what it measured and whether it beat the base model (and so may be served)."""

    base_model: str
    base_fingerprint: str
    repository: str
    commit: str | None
    created: str  # ISO 8601 with the time zone
    config: dict[str, Any]
    metrics: dict[str, Any]  # the training report's figures; the registry reads only held-out exact match
    beat_base: bool
    verdict: str
    split: str | None = None  # how the files were split, in words
    samples: SampleCounts | None = None
    training: dict[str, Any] = field(default_factory=dict)  # steps, time, precision (TrainingFigures)

    @property
    def created_at(self) -> datetime.datetime:
        """`created` as an aware datetime (a naive one is taken as local time)."""
        return datetime.datetime.fromisoformat(self.created).astimezone()

    def to_json(self) -> dict[str, Any]:
        """The file's contents; `split` and `samples` only when known."""
        data: dict[str, Any] = {
            "format": FORMAT,
            "base_model": self.base_model,
            "base_fingerprint": self.base_fingerprint,
            "repository": self.repository,
            "commit": self.commit,
            "created": self.created,
            "config": self.config,
            "metrics": self.metrics,
            "beat_base": self.beat_base,
            "verdict": self.verdict,
        }
        if self.split is not None:
            data["split"] = self.split
        if self.samples is not None:
            data["samples"] = {"train": self.samples.train, "held_out": self.samples.held_out}
        return data | {"training": self.training}

    @classmethod
    def from_json(cls, meta: Any, where: str = ADAPTER_META) -> AdapterMeta:
        """Validate metadata read from (or about to be written to) `where`; ModelError names the first
        problem. Keys it does not know (report.json's `history`) are ignored."""
        return cls(**fields_of(meta, where))


def fields_of(meta: Any, where: str) -> dict[str, Any]:
    """`AdapterMeta`'s fields from the JSON object `meta`, validated (ModelError names the first problem)."""
    if not isinstance(meta, Mapping):
        raise ModelError(f"{where}: adapter metadata must be a JSON object")
    if meta.get("format") != FORMAT:
        raise ModelError(
            f"{where}: unknown adapter metadata format {meta.get('format')!r} (expected {FORMAT})"
        )
    for key in _TEXT_FIELDS:
        if not isinstance(meta.get(key), str):
            raise ModelError(f"{where}: '{key}' must be a string")
    if not isinstance(meta.get("beat_base"), bool):
        raise ModelError(f"{where}: 'beat_base' must be true or false")
    for key in ("config", "metrics"):
        if not isinstance(meta.get(key), Mapping):
            raise ModelError(f"{where}: '{key}' must be an object")
    commit = meta.get("commit")
    if commit is not None and not isinstance(commit, str):
        raise ModelError(f"{where}: 'commit' must be a string or null")
    try:
        datetime.datetime.fromisoformat(meta["created"]).astimezone()  # as `created_at` reads it
    except (ValueError, OverflowError) as err:
        raise ModelError(f"{where}: 'created' is not an ISO-8601 time ({first_line(err)})") from err
    split = meta.get("split")
    if split is not None and not isinstance(split, str):
        raise ModelError(f"{where}: 'split' must be a string")
    samples = meta.get("samples")
    if samples is not None and not (
        isinstance(samples, Mapping) and all(type(samples.get(key)) is int for key in ("train", "held_out"))
    ):
        raise ModelError(f"{where}: 'samples' must be {{'train': count, 'held_out': count}}")
    training = meta.get("training", {})
    if not isinstance(training, Mapping):
        raise ModelError(f"{where}: 'training' must be an object")
    return {
        "base_model": meta["base_model"],
        "base_fingerprint": meta["base_fingerprint"],
        "repository": meta["repository"],
        "commit": commit,
        "created": meta["created"],
        "config": dict(meta["config"]),
        "metrics": dict(meta["metrics"]),
        "beat_base": meta["beat_base"],
        "verdict": " ".join(meta["verdict"].split()),
        "split": split,
        "samples": None if samples is None else SampleCounts(samples["train"], samples["held_out"]),
        "training": dict(training),
    }
