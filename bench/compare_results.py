"""One benchmark results folder against another on the same tasks: paired exact match and edit similarity.

`housecoder bench run` compares context settings within one results file; this compares two results files
made under two configurations (for example `completion.layout = "psm"` and `"line-start"`), run by run, over
the task ids both completed, with paired-bootstrap 95% intervals (B minus A), split by task kind, and the same
pooled over runs. The model's median seconds per task (prefill of the whole prompt plus the new tokens) is what
a bigger prompt costs where nothing of it was prefilled before.

    python bench/compare_results.py A_DIR B_DIR [--runs infile,housecoder]
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from housecoder.evaluation.metrics import paired_difference
from housecoder.evaluation.runner import Record, read_records


def _by_key(folder: Path) -> dict[tuple[str, str], Record]:
    records, _bad = read_records(folder / "results.jsonl")
    return {(r.run, r.task_id): r for r in records if not r.error}


def _row(name: str, pairs: list[tuple[Record, Record]]) -> str:
    exact_a = [float(a.exact) for a, _ in pairs]
    exact_b = [float(b.exact) for _, b in pairs]
    em, em_ci = paired_difference(exact_a, exact_b)
    es, es_ci = paired_difference(
        [a.edit_similarity for a, _ in pairs], [b.edit_similarity for _, b in pairs]
    )
    gained = sum(b.exact and not a.exact for a, b in pairs)
    lost = sum(a.exact and not b.exact for a, b in pairs)
    mean_a, mean_b = 100 * sum(exact_a) / len(pairs), 100 * sum(exact_b) / len(pairs)
    prompt_a = sum(a.prompt_tokens for a, _ in pairs) / len(pairs)
    prompt_b = sum(b.prompt_tokens for _, b in pairs) / len(pairs)
    model_a = statistics.median(a.model_seconds for a, _ in pairs)
    model_b = statistics.median(b.model_seconds for _, b in pairs)
    return (
        f"| {name} | {len(pairs)} | {mean_a:.1f} → {mean_b:.1f} | +{gained}/−{lost} | {100 * em:+.1f} "
        f"({100 * em_ci[0]:+.1f} to {100 * em_ci[1]:+.1f}) | {100 * es:+.1f} ({100 * es_ci[0]:+.1f} to "
        f"{100 * es_ci[1]:+.1f}) | {prompt_a:.0f} → {prompt_b:.0f} | {model_a:.2f} → {model_b:.2f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    parser.add_argument(
        "--runs", default="", help="comma-separated runs to compare (default: every run both have)"
    )
    args = parser.parse_args()
    a, b = _by_key(args.a), _by_key(args.b)
    shared = sorted(set(a) & set(b))
    runs = [run for run in args.runs.split(",") if run] or sorted({run for run, _ in shared})
    print(f"A = {args.a}, B = {args.b}\n")
    print(
        "| run | tasks | EM % A → B | +/− | EM B − A (95% CI) | ES B − A (95% CI) | prompt tokens A → B "
        "| model s p50 A → B |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    pooled: list[tuple[Record, Record]] = []
    for run in runs:
        pairs = [(a[key], b[key]) for key in shared if key[0] == run]
        if pairs:
            print(_row(run, pairs))
            kinds = sorted({a.kind for a, _ in pairs})
            for kind in kinds if len(kinds) > 1 else ():
                print(_row(f"{run}, {kind}", [(x, y) for x, y in pairs if x.kind == kind]))
            pooled += pairs
    if len(runs) > 1 and pooled:
        print(_row("pooled", pooled))


if __name__ == "__main__":
    main()
