"""Before/after evaluation of an adapter: held-out loss, generated middles, and a forgetting check.

Generation goes through the benchmark runner (`housecoder.evaluation.runner`), so the
held-out middles are completed by the real completion engine (context, prompt,
post-processing) and scored with the benchmark's metrics: held-out samples under
the `housecoder` context setting, the forgetting tasks (e.g. HumanEval-FIM) as
plain in-file FIM. Runs are named as the benchmark names them (`housecoder`,
`housecoder+adapter`, ...), so its summaries and paired comparisons apply as is.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path

from housecoder.config import Settings
from housecoder.context import Retriever
from housecoder.evaluation.report import comparisons, summarize
from housecoder.evaluation.runner import Record, ResultsFile, Runner, RunSpec
from housecoder.evaluation.tasks import Task
from housecoder.inference.base import Backend, Cancellation
from housecoder.models.progress import SILENT, Progress
from housecoder.training.results import BeforeAfter, PairedFigures, RunScores

HELD_OUT_CONTEXT = "housecoder"  # held-out middles get the served context assembly
FORGETTING_CONTEXT = "infile"  # forgetting tasks have no repository
BASE_RUNS = frozenset(RunSpec(context).name for context in (HELD_OUT_CONTEXT, FORGETTING_CONTEXT))


def generate(
    backend: Backend,
    settings: Settings,
    tasks: Sequence[Task],
    results: ResultsFile | None,
    *,
    context: str,
    adapter: Path | None,
    retriever: Retriever | None = None,
    progress: Progress = SILENT,
    label: str = "",
    pace: Callable[[], None] = lambda: None,
) -> list[Record]:
    """Complete every task with the backend's current adapter state (`adapter` names the run `+adapter`).

    Records are appended to `results` (tasks already there are not run again), or kept in memory (None);
    `pace` is called at every check of each completion's cancellation (between prefill steps and tokens)."""
    runner = Runner(
        backend,
        settings,
        open_index=(lambda _root: retriever) if retriever is not None else None,
        adapter=adapter,
    )
    spec = RunSpec(context, adapter=adapter is not None)
    done: list[Record] = []
    todo = [task for task in tasks if results is None or not results.has(spec.name, task.task_id)]
    with progress.task(
        f"{label or spec.name}: {len(todo)} completions", total=len(todo), unit="tasks"
    ) as advance:
        for task in todo:
            record = runner.run_task(
                spec, task, Cancellation(pause=pace)
            )  # pauses between prefill steps and tokens
            done.append(record)
            if results is not None:
                results.add(record)
            advance(1)
    if results is None:
        return done
    wanted = {task.task_id for task in tasks}
    return [record for record in results.records if record.run == spec.name and record.task_id in wanted]


def relabel(tasks: Sequence[Task], kind: str) -> list[Task]:
    return [dataclasses.replace(task, kind=kind) for task in tasks]


def compare(before: Sequence[Record], after: Sequence[Record], *, seed: int = 0) -> BeforeAfter:
    """Scores before and after, per task kind and over all tasks, and the paired exact-match and edit-similarity
    comparison."""
    both = [*before, *after]
    overall = [dataclasses.replace(record, kind="all") for record in both]
    return BeforeAfter(
        RunScores.of(before),
        RunScores.of(after),
        summarize(both, seed=seed),
        [PairedFigures.of(c) for c in comparisons(overall, seed=seed)],
    )
