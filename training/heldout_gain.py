"""An adapter's gain on held-out middles, per run, per middle kind and pooled over runs (`housecoder bench
heldout`), with paired intervals.

`housecoder train` (and `--eval-only`) write every greedy completion of the held-out middles, without and with
the adapter, to the run's `generations.jsonl`. For each run: exact match and edit similarity before and after,
the paired difference and its bootstrap 95% interval (over all held-out middles, the run's own first `own`
ones and the rest, which `--eval-only` drew later from the same held-out files, and each middle kind), then the
same pooled over the runs (the middles of different repositories as one sample). With `versus`, "before" is
another run's adapter on the same middles (one recipe against another; the runs must share held-out samples,
e.g. by copying one run's `samples.jsonl` into the other before `--eval-only --held-out N`): only middles both
runs completed with their adapters count.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from housecoder.evaluation.compare import paired_gain, points
from housecoder.evaluation.runner import Record, ResultsFile
from housecoder.training.base_figures import GENERATIONS_FILE
from housecoder.training.errors import TrainingError
from housecoder.training.evaluate import HELD_OUT_CONTEXT
from housecoder.training.preparation import SAMPLES_FILE, read_samples

BASE, ADAPTED = HELD_OUT_CONTEXT, f"{HELD_OUT_CONTEXT}+adapter"
Pairs = list[tuple[Record, Record]]


def _records(run_dir: Path) -> dict[tuple[str, str], Record]:
    return {(r.run, r.task_id): r for r in ResultsFile(run_dir / GENERATIONS_FILE, resume=True).records}


def pairs(run_dir: Path, own: int = 0, versus: Path | None = None) -> tuple[Pairs, Pairs]:
    """(before, adapted) records of the run's first `own` held-out samples and of the rest, in the samples' order;
    before is the base model's record, or with `versus` that run's adapter's record of the same task id.

    Each task id counts once, with its last records, as the job's paired comparison counts it (sample sets
    drawn before ids were made distinct can hold two middles under one id; the first decides the group)."""
    _train, held_out = read_samples(run_dir / SAMPLES_FILE)
    records = _records(run_dir)
    before = (
        {task_id: r for (run, task_id), r in _records(versus).items() if run == ADAPTED} if versus else None
    )
    first = {s.sample_id for s in held_out[:own]}
    groups: tuple[Pairs, Pairs] = ([], [])
    for task_id in dict.fromkeys(s.sample_id for s in held_out):
        a = records.get((BASE, task_id)) if before is None else before.get(task_id)
        b = records.get((ADAPTED, task_id))
        if a is not None and b is not None:
            groups[0 if task_id in first else 1].append((a, b))
    return groups


def row(label: str, both: Sequence[tuple[Record, Record]]) -> str:
    if not both:
        return f"| {label} | 0 | | | | | |"
    gain = paired_gain(both)
    return (
        f"| {label} | {gain.tasks} | {100 * gain.exact_a:.1f} → {100 * gain.exact_b:.1f} | "
        f"+{gain.gained} / −{gain.lost} | {points(gain.exact_diff, gain.exact_interval)} | "
        f"{100 * gain.similarity_a:.1f} → {100 * gain.similarity_b:.1f} | "
        f"{points(gain.similarity_diff, gain.similarity_interval)} |"
    )


def table(title: str, groups: Sequence[tuple[str, Sequence[tuple[Record, Record]]]]) -> list[str]:
    return [
        "",
        title,
        "",
        "| middles | n | EM % before → after | +/− | EM paired, points (95% CI) | ES % | ES paired (95% CI) |",
        "| --- | ---: | --- | --- | --- | --- | --- |",
        *(row(label, both) for label, both in groups),
    ]


def by_kind(both: Sequence[tuple[Record, Record]]) -> list[tuple[str, Pairs]]:
    kinds = sorted({a.kind for a, _ in both})
    return [(kind, [p for p in both if p[0].kind == kind]) for kind in kinds]


def heldout_report(runs: Sequence[Path], own: Sequence[int] = (), versus: Sequence[Path] = ()) -> list[str]:
    """The markdown tables of each run (`own`: how many held-out samples each drew itself; `versus`: per run,
    the run whose adapter is "before") and, for several runs, pooled. Raises TrainingError for counts that do
    not match the runs, or a folder that is not a finished training run."""
    if own and len(own) != len(runs):
        raise TrainingError("--own needs one count per run directory")
    if versus and len(versus) != len(runs):
        raise TrainingError("--versus needs one run directory per run directory")
    lines: list[str] = []
    pooled: Pairs = []
    for index, run_dir in enumerate(runs):
        for folder in (run_dir, *versus[index : index + 1]):
            if not (folder / SAMPLES_FILE).is_file() or not (folder / GENERATIONS_FILE).is_file():
                raise TrainingError(
                    f"{folder}: no {SAMPLES_FILE} and {GENERATIONS_FILE}: not a finished training run"
                )
        mine, later = pairs(run_dir, own[index] if own else 0, versus[index] if versus else None)
        both = mine + later
        pooled += both
        groups: list[tuple[str, Pairs]] = [("all", both)]
        if mine and later:
            groups += [(f"the run's own {len(mine)}", mine), ("drawn later", later)]
        title = f"{run_dir}" + (f" against the adapter of {versus[index]}" if versus else "")
        lines += table(title, groups + by_kind(both))
    if len(runs) > 1:
        lines += table(f"pooled over {len(runs)} runs", [("all", pooled), *by_kind(pooled)])
    return lines
