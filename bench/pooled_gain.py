"""One run of several `bench run` results folders against a run of others, paired task by task, per folder and
pooled over all (note 0031: a new shipped adapter against the one before it, over five task sets).

    python bench/pooled_gain.py A_RUN B_RUN A_FOLDER:B_FOLDER [...] [--out FILE.json]

B_RUN's records in each B_FOLDER against A_RUN's in its A_FOLDER, on the task ids both completed without an
error; `housecoder bench compare` does one pair of folders, this adds the pooled figure. Printed as JSON, and
written to --out: exact and edit similarity of A ("base") and B ("tuned") in percent, B − A with its paired
bootstrap 95% interval, tasks gained and lost.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from housecoder.evaluation.compare import folder_records, paired_gain
from housecoder.evaluation.runner import Record


def pairs_of(a_folder: Path, b_folder: Path, a_run: str, b_run: str) -> list[tuple[Record, Record]]:
    a = {task: r for (run, task), r in folder_records(a_folder).items() if run == a_run}
    b = {task: r for (run, task), r in folder_records(b_folder).items() if run == b_run}
    return [(a[task], b[task]) for task in sorted(a.keys() & b.keys())]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a_run")
    parser.add_argument("b_run")
    parser.add_argument("pairs", nargs="+", metavar="A_FOLDER:B_FOLDER")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    figures: dict[str, object] = {"a_run": args.a_run, "b_run": args.b_run}
    pooled: list[tuple[Record, Record]] = []
    for pair in args.pairs:
        a_folder, sep, b_folder = pair.partition(":")
        if not sep:
            print(f"{pair}: expected A_FOLDER:B_FOLDER", file=sys.stderr)
            return 2
        pairs = pairs_of(Path(a_folder), Path(b_folder), args.a_run, args.b_run)
        if not pairs:
            print(f"{pair}: no task completed by {args.a_run} in A and {args.b_run} in B", file=sys.stderr)
            return 2
        figures[b_folder] = paired_gain(pairs).as_dict()
        pooled += pairs
    figures["pooled"] = paired_gain(pooled).as_dict()
    text = json.dumps(figures, indent=1)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
