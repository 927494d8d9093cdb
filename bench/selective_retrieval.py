"""Would skipping repository context where no name near the cursor is unresolved pay? Measured offline.

Selective retrieval sends a request without repository context when a rule predicts the context will not
help. The rule tried here: skip when every identifier within `--near` lines of the cursor is bound in the
file itself (a parameter, an assignment, a `def`/`class`, a loop or `as` variable) or is a keyword or
builtin, so nothing near the cursor needs another file.

With greedy decoding a request's output depends only on its prompt, so the selective setting's result on a
task is the in-file run's where the rule skips and the context run's where it does not: two `bench run`
results folders over the same tasks give it without the model. Printed per `--near`: tasks skipped, exact
match against always sending context (paired bootstrap 95% interval), tasks gained and lost by skipping,
and prompt tokens saved per task.

    python bench/selective_retrieval.py bench-results/tasks/unseen-py-lines.jsonl INFILE_DIR CONTEXT_DIR
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from housecoder.context.identifiers import identifiers_near, local_names
from housecoder.evaluation.metrics import paired_difference
from housecoder.evaluation.runner import Record, read_records
from housecoder.evaluation.tasks import Task, read_tasks

DEFINED = re.compile(r"^[ \t]*(?:async[ \t]+)?(?:def|class)[ \t]+(\w+)", re.MULTILINE)


def unresolved(task: Task, near: int) -> list[str]:
    """Identifiers within `near` lines of the cursor that the file does not bind itself."""
    bound = local_names(task.prefix) | set(DEFINED.findall(task.prefix + task.suffix))
    return [name for name in identifiers_near(task.prefix, task.suffix, near) if name not in bound]


def _records(folder: Path, run: str) -> dict[str, Record]:
    records, _bad = read_records(folder / "results.jsonl")
    return {r.task_id: r for r in records if r.run == run and not r.error}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("tasks", type=Path)
    parser.add_argument("infile", type=Path, help="results folder holding the `infile` run")
    parser.add_argument("context", type=Path, help="results folder holding the context run")
    parser.add_argument("--run", default="housecoder", help="the context run's name in its folder")
    parser.add_argument("--near", default="2,3,5,8", help="comma-separated line distances to try")
    args = parser.parse_args()
    tasks = {task.task_id: task for task in read_tasks(args.tasks)}
    infile, context = _records(args.infile, "infile"), _records(args.context, args.run)
    ids = sorted(set(infile) & set(context) & set(tasks))
    always = [float(context[t].exact) for t in ids]
    print(f"{len(ids)} tasks; in-file {100 * sum(infile[t].exact for t in ids) / len(ids):.1f}%, ", end="")
    print(f"always context {100 * sum(always) / len(ids):.1f}%\n")
    print(
        "| near lines | skipped | selective EM % | vs always (95% CI) | gained/lost by skipping | tokens saved per task |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for near in (int(n) for n in args.near.split(",")):
        skip = {t for t in ids if not unresolved(tasks[t], near)}
        chosen = [float((infile if t in skip else context)[t].exact) for t in ids]
        diff, (low, high) = paired_difference(always, chosen)
        gained = sum(infile[t].exact and not context[t].exact for t in skip)
        lost = sum(context[t].exact and not infile[t].exact for t in skip)
        saved = sum(context[t].prompt_tokens - infile[t].prompt_tokens for t in skip) / len(ids)
        print(
            f"| {near} | {len(skip)} | {100 * sum(chosen) / len(ids):.1f} | {100 * diff:+.1f} "
            f"({100 * low:+.1f} to {100 * high:+.1f}) | +{gained}/−{lost} | {saved:.0f} |"
        )


if __name__ == "__main__":
    main()
