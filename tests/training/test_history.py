"""The user's own kept and rewritten suggestions in training: they enter as weighted samples, the newest are held
out, and an adapter that completes them worse than the base model is not activated (tiny model, real index)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from feedback_fixture import suggestion as make_suggestion

from housecoder.feedback.store import Check, FeedbackStore, store_path
from housecoder.training import evaluate
from housecoder.training.job import TrainJob
from housecoder.training.preparation import HISTORY_FILE, SAMPLES_FILE, read_samples
from housecoder.training.results import HISTORY
from housecoder.training.samples import HISTORY_KIND, sample_settings

# Cursors after a line's indentation in the inventory repository, and what the user kept there.
PLACES = [
    ("inventory/stock.py", "        available = self.levels.get(sku, 0)\n"),
    ("inventory/stock.py", "        self.levels[sku] = available - count\n"),
    ("inventory/stock.py", "        current = self.levels.get(sku, 0)\n"),
    ("inventory/stock.py", "        self.levels[sku] = current + count\n"),
    ("inventory/stock.py", "        return self.levels[sku]\n"),
    ("inventory/stock.py", "            raise OutOfStock(sku, count, available)\n"),
]


def record(root: Path, settings: Any, answers: Sequence[str] | None = None) -> None:
    """A feedback store for `root` holding one accepted suggestion per place, kept as `answers` (default: the
    file's own line) at its 30 s check; older places first."""
    path = store_path(settings, root)
    for old in path.parent.glob(path.name + "*"):
        old.unlink()
    store = FeedbackStore(path)
    for number, (file, line) in enumerate(PLACES):
        text = (root / file).read_text()
        start = text.index(line) + len(line) - len(line.lstrip())
        end = start + len(line.strip())
        kept = answers[number] if answers is not None else text[start:end]
        suggestion = make_suggestion(
            number,
            id=f"h{number}",
            path=file,
            latency_ms=90.0,
            text=kept,
            before=text[:start],
            after=text[end:],
            cursor=start,
            outcome="accepted",
            accepted_chars=len(kept),
        )
        store.shown(suggestion)
        store.decide(suggestion.id, "accepted", len(kept), at=1_010.0 + number)
        store.check(Check(suggestion.id, 30, 1_040.0 + number, True, len(kept), 1.0, kept))
    store.close()


@pytest.mark.e2e  # a whole workflow (make test-fast skips it; make test runs it)
def test_history_enters_training_and_an_adapter_that_loses_on_it_is_refused(
    inventory_repo: Path, train_settings: Any
) -> None:
    settings = train_settings(history_min_tasks=4, history_weight=2, learning_rate=5e-2)
    record(inventory_repo, settings)

    # What the base model writes at the three newest places becomes what the user kept there: the base model
    # then completes them exactly, so an adapter whose training moved those answers completes them worse.
    job = TrainJob(inventory_repo, settings)
    prepared = job.prepare()
    assert [task.task_id for task in prepared.history] == ["history-h3", "history-h4", "history-h5"]
    base = evaluate.generate(
        prepared.generator,
        sample_settings(settings),
        prepared.history,
        None,
        context=evaluate.HELD_OUT_CONTEXT,
        adapter=None,
        retriever=prepared.retriever,
    )
    written = {record.task_id: record.prediction for record in base}
    answers = [line.strip() for _, line in PLACES[:3]] + [written[f"history-h{n}"] or "x" for n in (3, 4, 5)]
    record(inventory_repo, settings, answers)

    outcome = TrainJob(inventory_repo, settings).run()
    train, _held_out = read_samples(outcome.run_dir / SAMPLES_FILE)
    history = [sample for sample in train if sample.kind == HISTORY_KIND]
    held = set(json.loads((outcome.run_dir / "split.json").read_text())["held_out"])
    trained_on = [line.strip() for file, line in PLACES[:3] if file not in held]
    assert sorted(sample.middle for sample in history) == sorted(trained_on * 2)  # the older half, twice each
    assert len((outcome.run_dir / HISTORY_FILE).read_text().splitlines()) == 3

    figures = outcome.metrics.history
    assert figures is not None and figures.before.tasks == 3 and figures.after.tasks == 3
    report = json.loads((outcome.run_dir / "report.json").read_text())
    assert report["metrics"][HISTORY]["before"]["tasks"] == 3
    worse = (
        figures.after.exact < figures.before.exact
        or figures.after.edit_similarity < figures.before.edit_similarity
    )
    assert worse, figures  # training at this rate moved the tiny model's answers
    assert not outcome.beat_base and "it completes your own recent code worse" in outcome.verdict
    assert "Your own recent code" in (outcome.run_dir / "report.md").read_text()


def test_too_few_recorded_suggestions_are_all_trained_on(inventory_repo: Path, train_settings: Any) -> None:
    settings = train_settings(history_min_tasks=20)
    record(inventory_repo, settings)
    prepared = TrainJob(inventory_repo, settings).prepare()
    assert prepared.history == []
    held = set(prepared.split.held_out)
    expected = sorted(line.strip() for file, line in PLACES if file not in held)
    assert sorted(sample.middle for sample in prepared.train if sample.kind == HISTORY_KIND) == expected


def test_a_store_another_housecoder_wrote_is_skipped_with_one_line(tmp_path: Path) -> None:
    import sqlite3

    from housecoder.config import Settings
    from housecoder.models.progress import SILENT
    from housecoder.training.preparation import Preparation
    from housecoder.training.split import Split

    settings = Settings.model_validate({"models": {"cache_dir": str(tmp_path / "cache")}})
    store = FeedbackStore(store_path(settings, tmp_path))
    assert store.shown(make_suggestion(1))
    store.close()
    with sqlite3.connect(store_path(settings, tmp_path)) as newer:
        newer.execute("UPDATE meta SET value = '9' WHERE key = 'schema'")
    said: list[str] = []
    preparation = Preparation(tmp_path, settings, SILENT, said.append)
    assert preparation.history(Split(("a.py",), ("b.py",), "hash", None)) == ([], [])
    assert (
        len(said) == 1
        and "schema '9'" in said[0]
        and said[0].endswith("training without your own suggestions")
    )
