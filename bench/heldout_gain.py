"""An adapter's gain on held-out middles, per run, per middle kind and pooled over runs, with paired intervals.

`housecoder train` (and `--eval-only`) write every greedy completion of the held-out middles, without and with
the adapter, to the run's `generations.jsonl`. This prints, for each run, exact match and edit similarity before
and after, the paired difference and its bootstrap 95% interval (over all held-out middles, the run's own first
`--own` ones and the rest, which `--eval-only` drew later from the same held-out files, and each middle kind),
then the same pooled over the runs (the middles of different repositories as one sample). With `--versus`,
"before" is another run's adapter on the same middles (one recipe against another; the runs must share held-out
samples, e.g. by copying one run's `samples.jsonl` into the other before `--eval-only --held-out N`): only middles
both runs completed with their adapters count.

    python bench/heldout_gain.py RUN_DIR [RUN_DIR ...] [--own 40,40,32] [--versus OTHER_RUN_DIR,...]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from housecoder.evaluation.metrics import paired_difference
from housecoder.evaluation.runner import Record, ResultsFile
from housecoder.training.base_figures import GENERATIONS_FILE
from housecoder.training.evaluate import HELD_OUT_CONTEXT
from housecoder.training.preparation import SAMPLES_FILE, read_samples

BASE, ADAPTED = HELD_OUT_CONTEXT, f"{HELD_OUT_CONTEXT}+adapter"


def _records(run_dir: Path) -> dict[tuple[str, str], Record]:
    return {(r.run, r.task_id): r for r in ResultsFile(run_dir / GENERATIONS_FILE, resume=True).records}


def pairs(
    run_dir: Path,
    own: int = 0,
    versus: Path | None = None,
) -> tuple[list[tuple[Record, Record]], list[tuple[Record, Record]]]:
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
    groups: tuple[list[tuple[Record, Record]], list[tuple[Record, Record]]] = ([], [])
    for task_id in dict.fromkeys(s.sample_id for s in held_out):
        a = records.get((BASE, task_id)) if before is None else before.get(task_id)
        b = records.get((ADAPTED, task_id))
        if a is not None and b is not None:
            groups[0 if task_id in first else 1].append((a, b))
    return groups


def row(label: str, both: Sequence[tuple[Record, Record]]) -> str:
    if not both:
        return f"| {label} | 0 | | | | | |"
    em = paired_difference([float(a.exact) for a, _ in both], [float(b.exact) for _, b in both])
    es = paired_difference([a.edit_similarity for a, _ in both], [b.edit_similarity for _, b in both])
    gained = sum(b.exact and not a.exact for a, b in both)
    lost = sum(a.exact and not b.exact for a, b in both)
    n = len(both)

    def pct(values: Sequence[float]) -> str:
        return f"{100 * sum(values) / n:.1f}"

    def points(found: tuple[float, tuple[float, float]]) -> str:
        difference, (low, high) = found
        return f"{100 * difference:+.1f} ({100 * low:+.1f} to {100 * high:+.1f})"

    return (
        f"| {label} | {n} | {pct([float(a.exact) for a, _ in both])} → {pct([float(b.exact) for _, b in both])} | "
        f"+{gained} / −{lost} | {points(em)} | {pct([a.edit_similarity for a, _ in both])} → "
        f"{pct([b.edit_similarity for _, b in both])} | {points(es)} |"
    )


def table(title: str, groups: Sequence[tuple[str, Sequence[tuple[Record, Record]]]]) -> None:
    print(f"\n{title}\n")
    print(
        "| middles | n | EM % before → after | +/− | EM paired, points (95% CI) | ES % | ES paired (95% CI) |"
    )
    print("| --- | ---: | --- | --- | --- | --- | --- |")
    for label, both in groups:
        print(row(label, both))


def by_kind(both: Sequence[tuple[Record, Record]]) -> list[tuple[str, list[tuple[Record, Record]]]]:
    kinds = sorted({a.kind for a, _ in both})
    return [(kind, [p for p in both if p[0].kind == kind]) for kind in kinds]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="training run directories")
    parser.add_argument(
        "--own", default="", help="comma-separated: how many held-out samples each run drew itself"
    )
    parser.add_argument(
        "--versus", default="", help="comma-separated: per run, the run whose adapter is 'before'"
    )
    args = parser.parse_args()
    own = [int(n) for n in args.own.split(",") if n.strip()]
    versus = [Path(p.strip()).expanduser() for p in args.versus.split(",") if p.strip()]
    if own and len(own) != len(args.runs):
        parser.error("--own needs one count per run directory")
    if versus and len(versus) != len(args.runs):
        parser.error("--versus needs one run directory per run directory")
    pooled: list[tuple[Record, Record]] = []
    for index, run_dir in enumerate(args.runs):
        for folder in (run_dir, *versus[index : index + 1]):
            if not (folder / SAMPLES_FILE).is_file() or not (folder / GENERATIONS_FILE).is_file():
                parser.error(
                    f"{folder}: no {SAMPLES_FILE} and {GENERATIONS_FILE}: not a finished training run"
                )
        mine, later = pairs(run_dir, own[index] if own else 0, versus[index] if versus else None)
        both = mine + later
        pooled += both
        groups = [("all", both)]
        if mine and later:
            groups += [(f"the run's own {len(mine)}", mine), ("drawn later", later)]
        title = f"{run_dir}" + (f" against the adapter of {versus[index]}" if versus else "")
        table(title, groups + by_kind(both))
    if len(args.runs) > 1:
        table(f"pooled over {len(args.runs)} runs", [("all", pooled), *by_kind(pooled)])


if __name__ == "__main__":
    main()
