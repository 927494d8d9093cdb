"""The one schema of `housecoder-adapter.json`: files written before it (by the registry, which dropped the
run's split, samples and training figures, and by the training job's own schema, which kept them, and
report.json beside them) still load, and a write keeps every field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from housecoder.models.adapter_meta import ADAPTER_META, FORMAT, AdapterMeta, SampleCounts
from housecoder.models.adapters import read_adapter, write_adapter_meta
from housecoder.models.errors import ModelError

METRICS = {
    "held_out_loss": {"before": 1.2, "after": 1.0},
    "held-out": {
        "before": {"tasks": 4, "exact": 0.25, "edit_similarity": 0.5, "identifier_f1": 0.5},
        "after": {"tasks": 4, "exact": 0.5, "edit_similarity": 0.75, "identifier_f1": 0.5},
        "by_kind": [],
        "paired": [],
    },
}
# As `housecoder.models.adapters._meta_of` wrote it before the one schema: no split, samples or training.
WRITTEN_BY_THE_REGISTRY: dict[str, Any] = {
    "format": 1,
    "base_model": "qwen2.5-coder-1.5b-instruct",
    "base_fingerprint": "c" * 64,
    "repository": "/src/shop",
    "commit": "0123abcd",
    "created": "2026-11-01T09:00:00+00:00",
    "config": {"rank": 16},
    "metrics": METRICS,
    "beat_base": True,
    "verdict": "activated: held-out exact match 25.0 -> 50.0%",
}
# As `housecoder.training.results.AdapterMeta.to_json` wrote it (report.json adds the history).
WRITTEN_BY_TRAINING: dict[str, Any] = WRITTEN_BY_THE_REGISTRY | {
    "split": "held out 2 of 9 files by hash",
    "samples": {"train": 40, "held_out": 10},
    "training": {"step": 5, "best_step": 4, "samples_seen": 40, "elapsed_s": 120.0},
}


def _written(folder: Path, meta: dict[str, Any]) -> Path:
    folder.mkdir()
    (folder / ADAPTER_META).write_text(json.dumps(meta, indent=2))
    return folder


def test_a_file_the_registry_wrote_before_loads_without_the_run_figures(tmp_path: Path) -> None:
    info = read_adapter(_written(tmp_path / "run", WRITTEN_BY_THE_REGISTRY))
    assert info is not None and info.beat_base and info.commit == "0123abcd"
    assert (info.split, info.samples, info.training) == (None, None, {})
    assert info.summary() == "held-out exact match 25.0 -> 50.0%"
    assert info.to_json() == WRITTEN_BY_THE_REGISTRY | {"training": {}}
    assert AdapterMeta.from_json(WRITTEN_BY_THE_REGISTRY) == AdapterMeta.from_json(info.to_json())


@pytest.mark.parametrize("extra", [{}, {"history": [{"step": 1, "loss": 1.5}]}], ids=["meta", "report.json"])
def test_a_file_the_training_job_wrote_before_loads_with_everything(
    tmp_path: Path, extra: dict[str, Any]
) -> None:
    info = read_adapter(_written(tmp_path / "run", WRITTEN_BY_TRAINING | extra))
    assert info is not None and info.split == "held out 2 of 9 files by hash"
    assert info.samples == SampleCounts(40, 10) and info.training["best_step"] == 4
    assert info.to_json() == WRITTEN_BY_TRAINING  # the history is the report's, not the metadata's


def test_a_write_keeps_every_field_and_reads_back_equal(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    meta = AdapterMeta.from_json(WRITTEN_BY_TRAINING)
    write_adapter_meta(run, meta.to_json())
    written = json.loads((run / ADAPTER_META).read_text())
    assert written == WRITTEN_BY_TRAINING and written["format"] == FORMAT
    info = read_adapter(run)
    assert info is not None and AdapterMeta.from_json(info.to_json()) == meta


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"format": 2}, "unknown adapter metadata format 2"),
        ({"samples": {"train": "40", "held_out": 10}}, "'samples' must be"),
        ({"split": 3}, "'split' must be a string"),
        ({"training": []}, "'training' must be an object"),
        ({"created": "yesterday"}, "'created' is not an ISO-8601 time"),
    ],
)
def test_malformed_metadata_is_refused_in_one_line(change: dict[str, Any], problem: str) -> None:
    with pytest.raises(ModelError, match=problem):
        AdapterMeta.from_json(WRITTEN_BY_TRAINING | change)
