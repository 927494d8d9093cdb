"""The adapter's learning curve: each kept checkpoint of one training run on the run's held-out files' tasks,
served as the product serves it (repository context + adapter) against repository context alone, paired.

A run trained with `train.tuning.keep_checkpoints = true` (and `train.tuning.schedule = "constant"`, so that every
checkpoint is trained as the end of a run would be) keeps `<run>/steps/<step>/` with the tokens trained so
far. This keeps the benchmark tasks whose file the run held out (`<run>/split.json`), completes them once
with context alone (`housecoder bench run --runs housecoder`), then once per checkpoint with its adapter,
reusing the context-alone records (the runs stay paired on the same tasks), and prints one row per
checkpoint: tokens trained, exact match and edit similarity of context + adapter, and the paired difference
to context alone with a 95% bootstrap interval, pooled and by task kind.

    python bench/learning_curve.py RUN TASKS.jsonl --out DIR [--steps 10,30] [--limit N --seed S]
                                   [--config C.toml]

A finished run without kept checkpoints (`housecoder train` at its defaults) is one point: the adapter it
wrote (its best check), at the tokens trained by that check.

Records go to DIR/base and DIR/step-<step> (`bench report` reads each); DIR/curve.json holds the table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from housecoder.evaluation.compare import gain_figures
from housecoder.evaluation.runner import Record, read_records

HOUSECODER = Path(sys.executable).parent / "housecoder"
BASE, TUNED = "housecoder", "housecoder+adapter"


def held_out_tasks(run: Path, tasks: Path, out: Path) -> Path:
    """The tasks in files the run held out, written to `out`."""
    split = json.loads((run / "split.json").read_text())
    held = {str(path) for path in split["held_out"]}
    lines = [line for line in tasks.read_text().splitlines() if line.strip()]
    kept = [line for line in lines if json.loads(line)["path"] in held]
    if not kept:
        raise SystemExit(f"{tasks}: no task lies in the {len(held)} files {run} held out")
    out.parent.mkdir(parents=True, exist_ok=True)
    repo = json.loads(kept[0])["repo"]
    if not Path(repo).is_absolute():  # task repos are relative to the tasks file
        kept = [
            json.dumps(json.loads(line) | {"repo": str((tasks.parent / repo).resolve())}) for line in kept
        ]
    out.write_text("\n".join(kept) + "\n")
    print(f"{len(kept)} of {len(lines)} tasks lie in the {len(held)} held-out files", flush=True)
    return out


def bench_run(tasks: Path, out: Path, extra: list[str]) -> None:
    command = [str(HOUSECODER), "bench", "run", str(tasks), "--runs", "housecoder", "--out", str(out), *extra]
    print("$", " ".join(command), flush=True)
    subprocess.run(command, check=True)


def reuse_base(base: Path, results: Path) -> None:
    """Context alone is the same for every checkpoint: run it once and copy its records into each checkpoint's
    results, those of tasks added since (a larger task file on a later call) as well, so that `bench run
    --resume` completes only the adapter's run."""
    have = {r.task_id for r in read_records(results)[0] if r.run == BASE} if results.exists() else set()
    with results.open("a") as file:
        for line in base.read_text().splitlines(keepends=True):
            if line.strip() and (record := json.loads(line))["run"] == BASE and record["task_id"] not in have:
                file.write(line)


def _records(folder: Path, run: str) -> dict[str, Record]:
    records, _bad = read_records(folder / "results.jsonl")
    return {r.task_id: r for r in records if r.run == run and not r.error}


def _paired(base: dict[str, Record], tuned: dict[str, Record], kind: str | None) -> dict[str, object]:
    ids = sorted(i for i in set(base) & set(tuned) if kind is None or base[i].kind == kind)
    return gain_figures([(base[i], tuned[i]) for i in ids])


def trained_figures(adapter: Path) -> dict[str, Any]:
    """A kept checkpoint's `trained.json`, or a finished run's best check: its step, samples and tokens
    trained, and the training minutes up to it (from the run's step log and settings)."""
    if (adapter / "trained.json").is_file():
        return dict(json.loads((adapter / "trained.json").read_text()))
    report = json.loads((adapter / "report.json").read_text())
    history = report["history"]
    best = report["training"].get("best_step") or history[-1]["step"]
    at = next(entry for entry in history if entry["step"] == best)
    tuning = report["config"]["tuning"]  # every step before the last takes batch_size * grad_accum samples
    per_step = tuning["batch_size"] * tuning["grad_accum"]
    samples = min(report["training"]["samples_seen"], best * per_step)
    return {"step": best, "samples": samples, "tokens": at["tokens_seen"], "elapsed_s": at["elapsed_s"]}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run", type=Path, help="a `housecoder train` run directory with steps/")
    parser.add_argument("tasks", type=Path, help="bench tasks of the run's repository")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--steps", default="", help="comma-separated steps to measure (default: every kept one)"
    )
    parser.add_argument("--limit", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--config", type=Path, help="a settings file for every bench run")
    args = parser.parse_args()
    kept = sorted((args.run / "steps").iterdir()) if (args.run / "steps").is_dir() else []
    wanted = {int(step) for step in args.steps.split(",") if step}
    kept = [folder for folder in kept if not wanted or int(folder.name) in wanted]
    if not kept and (args.run / "adapter_model.safetensors").is_file():
        kept = [args.run]
    if not kept:
        raise SystemExit(
            f"{args.run}: no adapter and no kept checkpoint (train with train.tuning.keep_checkpoints = true)"
        )
    tasks = held_out_tasks(args.run, args.tasks, args.out / "tasks.jsonl")
    extra = ["--seed", str(args.seed)] + (["--limit", str(args.limit)] if args.limit else [])
    extra += ["--config", str(args.config)] if args.config else []
    bench_run(tasks, args.out / "base", [*extra, "--resume"])
    base = _records(args.out / "base", BASE)
    rows = []
    for folder in kept:
        trained = trained_figures(folder)
        out = args.out / f"step-{trained['step']}"
        out.mkdir(parents=True, exist_ok=True)
        reuse_base(args.out / "base" / "results.jsonl", out / "results.jsonl")
        bench_run(tasks, out, [*extra, "--resume", "--adapter", str(folder)])
        tuned = _records(out, TUNED)
        kinds = sorted({r.kind for r in base.values()})
        row = (
            trained
            | {"all": _paired(base, tuned, None)}
            | {kind: _paired(base, tuned, kind) for kind in kinds}
        )
        rows.append(row)
        pooled = row["all"]
        print(
            f"step {trained['step']:>4}  tokens {trained['tokens']:>8,}  trained {trained['elapsed_s'] / 60:5.1f} min  "
            f"tasks {pooled['tasks']}  exact {pooled['exact_base']} -> {pooled['exact_tuned']}  "
            f"diff {pooled['exact_diff'][0]:+.1f} ({pooled['exact_diff'][1]:+.1f} to {pooled['exact_diff'][2]:+.1f})  "
            f"ES {pooled['es_diff'][0]:+.1f} ({pooled['es_diff'][1]:+.1f} to {pooled['es_diff'][2]:+.1f})",
            flush=True,
        )
    (args.out / "curve.json").write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
