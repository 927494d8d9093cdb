"""Which refit of the keep model helps a user soonest? Ways of refitting, on a simulated history.

    python bench/keep_refit.py FOLDER... [--run housecoder] [--code-model NAME] --out OUT.json

Each repository's suggestions in the `bench run` folders, in the order the tasks ran, are one user's events;
the user starts with the shipped model (`housecoder/keep/default.json`, or the one shipped for `--code-model`,
the model the runs used). For each
way of refitting, a candidate is made from the older three quarters and scored on the newest quarter against
the shipped model: per repository the mean held-out log-loss of both, and over all the mean difference per
held-out event (candidate minus shipped; below zero: the candidate foretells better) with a bootstrap
interval that resamples events within each repository. Also at 40, 60, 100 and 140 events (the first events of
each history), to show how soon a way pays. The ways:

- `fresh`: logistic regression over every signal, from nothing (the refit before the adjustment);
- `adjust`: the shipped model adjusted (`fit_update`) over every signal: what `housecoder.keep.refit` does;
- `adjust-place`: adjusted over the cursor's place and what the prompt had (`PLACE`) alone;
- `recalibrate`: adjusted over the shipped model's own score alone (its scale and the user's share of keeps).

A repository the shipped model was fitted on (langextract, openai-agents, strands, @tanstack/ai) gives it an
edge: the comparison is then harder for the refit.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from housecoder.benchmarks.keep import Example, examples, within_groups
from housecoder.evaluation.runner import read_records
from housecoder.keep import FEATURES, PLACE, KeepModel, default_model
from housecoder.keep.fit import fit, fit_update
from housecoder.keep.refit import held_out_from, losses, recorded
from housecoder.machine import cpu_name

SAMPLES = 2000
LENGTHS = (40, 60, 100, 140)  # events of a history so far


def ways(base: KeepModel) -> dict[str, Callable[[list[dict[str, float]], list[bool]], KeepModel]]:
    return {
        "fresh": lambda rows, kept: fit(rows, kept, features=recorded(rows, FEATURES)),
        "adjust": lambda rows, kept: fit_update(rows, kept, base, features=recorded(rows, FEATURES)),
        "adjust-place": lambda rows, kept: fit_update(rows, kept, base, features=recorded(rows, PLACE)),
        "recalibrate": lambda rows, kept: fit_update(rows, kept, base, features=()),
    }


def differences(history: Sequence[tuple[Example, bool]], base: KeepModel) -> dict[str, Any]:
    """Each way's held-out losses against the shipped model's on the newest quarter of `history` (each
    suggestion and whether it was kept)."""
    rows, kept = [e.signals for e, _ in history], [fate for _, fate in history]
    split = held_out_from(len(rows))
    older, newest = (rows[:split], kept[:split]), (rows[split:], kept[split:])
    shipped = losses(base, *newest)
    found: dict[str, Any] = {"events": len(rows), "held_out": len(shipped), "shipped": _mean(shipped)}
    for name, make in ways(base).items():
        if len(set(older[1])) < 2:
            found[name] = None
            continue
        mine = losses(make(*older), *newest)
        found[name] = {
            "log_loss": _mean(mine),
            "per_event": [a - b for a, b in zip(mine, shipped, strict=True)],
        }
    return found


def pooled(per_repo: dict[str, dict[str, Any]], name: str) -> dict[str, Any] | None:
    """The mean difference of way `name` over every held-out event, with its bootstrap interval."""
    groups = [figures[name]["per_event"] for figures in per_repo.values() if figures.get(name)]
    if not groups:
        return None
    every = [value for group in groups for value in group]
    return {"held_out": len(every), "difference": _mean(every), "ci": within_groups(groups, SAMPLES)}


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--run", default="housecoder")
    parser.add_argument("--code-model", default=None, help="the runs' code model (its shipped keep model)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    found: list[Example] = []
    written: dict[str, int] = {}  # characters of each suggestion
    for folder in args.folders:
        records = [r for r in read_records(folder / "results.jsonl")[0] if r.run == args.run]
        found += examples(records)
        written |= {r.task_id: len(r.prediction.rstrip()) for r in records}
    users: dict[str, Callable[[Example], bool]] = {
        "exact": lambda e: e.exact,
        "half kept": lambda e: 2 * e.kept_chars >= written[e.task_id],
    }
    base = default_model(args.code_model)
    repos = sorted({e.repo for e in found})
    report: dict[str, Any] = {
        "about": {
            "folders": [str(folder) for folder in args.folders],
            "run": args.run,
            "cpu": cpu_name(),
            "code_model": args.code_model,
            "shipped": base.about,
        }
    }
    for user, fate in users.items():
        events = {repo: [(e, fate(e)) for e in found if e.repo == repo] for repo in repos}
        table: dict[str, Any] = {"repositories": {}, "pooled": {}, "so_far": {}}
        for repo in repos:
            table["repositories"][repo] = differences(events[repo], base)
        for name in ways(base):
            table["pooled"][name] = pooled(table["repositories"], name)
        for length in LENGTHS:
            per = {r: differences(e[:length], base) for r, e in events.items() if len(e) >= length}
            table["so_far"][length] = {name: pooled(per, name) for name in ways(base)} if per else None
        show(user, table, list(ways(base)))
        report[user] = table
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"written to {args.out}")


def show(user: str, table: dict[str, Any], names: Sequence[str]) -> None:
    """Print one user's figures (and drop the per-event lists: they stay out of the JSON)."""
    print(f"\nuser: kept where {user}")
    print(
        f"{'repository':<14} {'events':>6} {'held out':>8} {'shipped':>8} "
        + " ".join(f"{n:>12}" for n in names)
    )
    for repo, figures in table["repositories"].items():
        cells = " ".join(
            f"{figures[n]['log_loss']:>12.3f}" if figures.get(n) else f"{'-':>12}" for n in names
        )
        print(
            f"{repo:<14} {figures['events']:>6} {figures['held_out']:>8} {figures['shipped']:>8.3f} {cells}"
        )
    for label, pooled_table in [
        ("all", table["pooled"]),
        *((f"first {k}", v) for k, v in table["so_far"].items()),
    ]:
        for name, figures in (pooled_table or {}).items():
            if figures:
                low, high = figures["ci"]
                print(
                    f"{label:<10} {name:<13} candidate − shipped {figures['difference']:+.3f} "
                    f"(95% CI {low:+.3f} to {high:+.3f}) over {figures['held_out']} held-out events"
                )
    for figures in table["repositories"].values():
        for name in names:
            if figures.get(name):
                figures[name].pop("per_event")


if __name__ == "__main__":
    main()
