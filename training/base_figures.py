"""The base model's figures of a run, and their cache across runs.

Before training, a run measures the base model on its held-out samples (the loss per middle token, saved as
`before.json` with a key) and completes its held-out middles and forgetting tasks (`generations.jsonl`).
Those figures depend only on the inputs the key hashes, so a tuning run whose inputs are the same takes them
from the newest earlier run of the repository instead of paying for them again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Sequence
from typing import get_args

from housecoder.config import Settings, TrainConfig
from housecoder.evaluation.runner import ResultsFile
from housecoder.evaluation.tasks import Task
from housecoder.models.adapters import base_fingerprint
from housecoder.training.data import EndOfText
from housecoder.training.evaluate import BASE_RUNS
from housecoder.training.preparation import Prepared
from housecoder.training.samples import sample_settings

GENERATIONS_FILE = "generations.jsonl"
BEFORE_FILE = "before.json"


class BaseFigures:
    """The base figures of runs of one repository, trained with `settings` on this machine (`precision`)."""

    def __init__(self, settings: Settings, precision: str, say: Callable[[str], None]) -> None:
        self.settings = settings
        self.precision = precision
        self.say = say

    def keys(self, prepared: Prepared, config: TrainConfig, tasks: Sequence[Task]) -> dict[str, str]:
        """For each `end_of_text` rule, a hash of everything the base model's figures depend on: held-out samples,
        the other task sets (`tasks`: the forgetting check's, the user's held-out history), the completion
        settings, the evaluation budget, the runtime that completes and the model; and, for the held-out loss
        only, the rule (that loss counts the end-of-text token or not)."""
        parts = {
            "held_out": [dataclasses.asdict(sample) for sample in prepared.held_out],
            "generate": config.tuning.generate_samples,
            "loss_samples": config.tuning.eval_samples,
            "forgetting": [dataclasses.asdict(task) for task in tasks],  # the name earlier runs' keys hashed
            "settings": sample_settings(self.settings).model_dump(mode="json", exclude={"train"}),
            "precision": self.precision,
            "runtime": prepared.generator.describe()["runtime"],
            "model": base_fingerprint(prepared.model_dir),
        }
        return {
            rule: hashlib.sha256(
                json.dumps(parts | {"end_of_text": rule}, sort_keys=True, default=str).encode()
            ).hexdigest()
            for rule in get_args(EndOfText)
        }

    def reuse(self, prepared: Prepared, keys: dict[str, str], rule: str, results: ResultsFile) -> None:
        """Copy the base model's completions from the newest earlier run of this repository measured on the very
        same inputs (its key is one of `keys`), so a tuning run does not pay for them again; its held-out loss too
        when the `end_of_text` rule is also this run's, else only the loss is measured again (seconds, not minutes)."""
        key = keys[rule]
        for other in sorted(prepared.run_dir.parent.glob("*"), reverse=True):
            saved = other / BEFORE_FILE
            if other == prepared.run_dir or not saved.is_file():
                continue
            try:
                before = json.loads(saved.read_text())
            except (OSError, ValueError):
                continue
            if before.get("key") not in keys.values():
                continue
            for record in ResultsFile(other / GENERATIONS_FILE, resume=True).records:
                if record.run in BASE_RUNS and not results.has(record.run, record.task_id):
                    results.add(record)
            if before["key"] == key:
                (prepared.run_dir / BEFORE_FILE).write_text(json.dumps(before))
            self.say(
                f"reusing the base model's completions from {other.name} (same held-out samples and settings)"
            )
            return

    def before_loss(
        self,
        prepared: Prepared,
        config: TrainConfig,
        tasks: Sequence[Task],
        results: ResultsFile,
        measure: Callable[[], float],
    ) -> float:
        """The run's held-out loss before training: saved, reused from an earlier run, or `measure`d and saved."""
        saved = prepared.run_dir / BEFORE_FILE
        if not saved.is_file():
            keys = self.keys(prepared, config, tasks)
            self.reuse(prepared, keys, config.tuning.end_of_text, results)
            if not saved.is_file():
                self.save(prepared, keys[config.tuning.end_of_text], measure())
        return float(json.loads(saved.read_text())["loss"])

    @staticmethod
    def save(prepared: Prepared, key: str, loss: float) -> None:
        """Record the run's base loss under `key`: the base completions now in the run are those of these inputs,
        so a later run may reuse them."""
        (prepared.run_dir / BEFORE_FILE).write_text(json.dumps({"loss": loss, "key": key}))
