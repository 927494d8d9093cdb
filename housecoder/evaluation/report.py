"""Summaries of benchmark records: per run and task kind, paired comparisons, JSON, markdown and a PNG chart.

Pure except `write_chart` (matplotlib, headless) and `write_report` (files).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from housecoder.evaluation.compare import points
from housecoder.evaluation.metrics import (
    Paired,
    bootstrap_interval,
    mean,
    paired,
    paired_difference,
)
from housecoder.evaluation.runner import Record
from housecoder.numeric import percentile

# Comparisons worth reading: each setting against in-file only, housecoder against the baselines,
# and every setting with the adapter against the same setting without it.
BASELINES = (
    ("infile", "sparse"),
    ("infile", "housecoder"),
    ("sparse", "housecoder"),
    ("infile", "provided"),
    ("infile", "provided-comment"),
    ("provided", "provided-comment"),
)


@dataclass(frozen=True)
class RunSummary:
    run: str
    kind: str
    tasks: int
    exact: float
    exact_ci: tuple[float, float]
    edit_similarity: float
    edit_similarity_ci: tuple[float, float]
    identifier_exact: float
    identifier_f1: float
    p50_s: float
    p95_s: float
    prompt_tokens: float
    errors: int


@dataclass(frozen=True)
class Comparison:
    kind: str
    base: str
    other: str
    tasks: int
    result: Paired  # exact match
    similarity_difference: float  # mean edit similarity B - A
    similarity_interval: tuple[float, float]

    def figures(self) -> dict[str, Any]:
        """The comparison's numbers as JSON: flips, and both differences with their intervals."""
        return {
            "tasks": self.tasks,
            **asdict(self.result),
            "interval": list(self.result.interval),
            "similarity_difference": self.similarity_difference,
            "similarity_interval": list(self.similarity_interval),
        }


def _runs_in_order(records: Sequence[Record]) -> list[str]:
    return list(dict.fromkeys(record.run for record in records))


def summarize(records: Sequence[Record], *, seed: int = 0) -> list[RunSummary]:
    """One summary per (task kind, run), kinds and runs in order of appearance."""
    kinds = list(dict.fromkeys(record.kind for record in records))
    summaries = []
    for kind in kinds:
        for run in _runs_in_order(records):
            chosen = [record for record in records if record.kind == kind and record.run == run]
            if not chosen:
                continue
            exact = [float(record.exact) for record in chosen]
            similarity = [record.edit_similarity for record in chosen]
            seconds = [record.seconds for record in chosen if not record.error]
            summaries.append(
                RunSummary(
                    run=run,
                    kind=kind,
                    tasks=len(chosen),
                    exact=mean(exact),
                    exact_ci=bootstrap_interval(exact, seed=seed),
                    edit_similarity=mean(similarity),
                    edit_similarity_ci=bootstrap_interval(similarity, seed=seed),
                    identifier_exact=mean([float(record.identifier_exact) for record in chosen]),
                    identifier_f1=mean([record.identifier_f1 for record in chosen]),
                    p50_s=percentile(seconds, 50) or 0.0,
                    p95_s=percentile(seconds, 95) or 0.0,
                    prompt_tokens=mean(
                        [float(record.prompt_tokens) for record in chosen if not record.error]
                    ),
                    errors=sum(1 for record in chosen if record.error),
                )
            )
    return summaries


def comparisons(records: Sequence[Record], *, seed: int = 0) -> list[Comparison]:
    """Paired exact-match and edit-similarity comparisons on the tasks both runs of a pair have, per task kind."""
    runs = _runs_in_order(records)
    pairs = [(a + suffix, b + suffix) for suffix in ("", "+adapter") for a, b in BASELINES]
    pairs += [(run, run + "+adapter") for run in runs if not run.endswith("+adapter")]
    found = []
    for kind in dict.fromkeys(record.kind for record in records):
        by_run: dict[str, dict[str, Record]] = {}
        for record in records:
            if record.kind == kind:
                by_run.setdefault(record.run, {})[record.task_id] = record
        for base, other in pairs:
            if base not in by_run or other not in by_run:
                continue
            common = [task for task in by_run[base] if task in by_run[other]]
            if not common:
                continue
            a, b = [by_run[base][t] for t in common], [by_run[other][t] for t in common]
            result = paired(common, [r.exact for r in a], [r.exact for r in b], seed=seed)
            similarity = paired_difference(
                [r.edit_similarity for r in a], [r.edit_similarity for r in b], seed=seed
            )
            found.append(Comparison(kind, base, other, len(common), result, *similarity))
    return found


def _pct(value: float) -> str:
    return f"{100 * value:.1f}"


def markdown(summaries: Sequence[RunSummary], compared: Sequence[Comparison], title: str) -> str:
    lines = [
        f"# {title}",
        "",
        "| tasks | run | n | EM % (95% CI) | ES % (95% CI) | id EM % | id F1 % | p50 s | p95 s | prompt tok |",
        "| --- | --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in summaries:
        errors = f" ({s.errors} errors)" if s.errors else ""
        lines.append(
            f"| {s.kind} | {s.run} | {s.tasks}{errors} | {_pct(s.exact)} ({_pct(s.exact_ci[0])}-{_pct(s.exact_ci[1])}) | "
            f"{_pct(s.edit_similarity)} ({_pct(s.edit_similarity_ci[0])}-{_pct(s.edit_similarity_ci[1])}) | "
            f"{_pct(s.identifier_exact)} | {_pct(s.identifier_f1)} | {s.p50_s:.2f} | {s.p95_s:.2f} | {s.prompt_tokens:.0f} |"
        )
    if compared:
        lines += [
            "",
            "Paired (B vs A on the same tasks): tasks B gets exactly right and A not (+), the reverse (-); "
            "the differences of the means with paired-bootstrap 95% intervals.",
            "",
            "| tasks | A | B | n | + | - | EM B-A, points (95% CI) | ES B-A, points (95% CI) |",
            "| --- | --- | --- | ---: | ---: | ---: | --- | --- |",
        ]
        for c in compared:
            lines.append(
                f"| {c.kind} | {c.base} | {c.other} | {c.tasks} | {len(c.result.gained)} | {len(c.result.lost)} | "
                f"{points(c.result.difference, c.result.interval)} | "
                f"{points(c.similarity_difference, c.similarity_interval)} |"
            )
    return "\n".join(lines) + "\n"


def write_chart(summaries: Sequence[RunSummary], path: Path, title: str) -> None:
    """Exact match and edit similarity per run, grouped by task kind, with 95% intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = list(dict.fromkeys(s.kind for s in summaries))
    runs = list(dict.fromkeys(s.run for s in summaries))
    figure, axes = plt.subplots(1, 2, figsize=(max(8, 2.2 * len(kinds) * 2), 4.5), squeeze=False)
    width = 0.8 / max(len(runs), 1)
    for axis, metric, label in (
        (axes[0][0], "exact", "exact match %"),
        (axes[0][1], "edit_similarity", "edit similarity %"),
    ):
        for index, run in enumerate(runs):
            xs, ys, errors_low, errors_high = [], [], [], []
            for position, kind in enumerate(kinds):
                found = [s for s in summaries if s.kind == kind and s.run == run]
                if not found:
                    continue
                value, (low, high) = getattr(found[0], metric), getattr(found[0], metric + "_ci")
                xs.append(position + index * width)
                ys.append(100 * value)
                errors_low.append(100 * (value - low))
                errors_high.append(100 * (high - value))
            axis.bar(xs, ys, width, yerr=[errors_low, errors_high], capsize=2, label=run)
        axis.set_xticks([position + width * (len(runs) - 1) / 2 for position in range(len(kinds))], kinds)
        axis.set_ylabel(label)
        axis.set_ylim(0, 100)
    axes[0][0].legend(fontsize=8)
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def complete_tasks(records: Sequence[Record]) -> list[Record]:
    """The records of the tasks that every run has done, so that a run stopped part-way is compared on
    the same tasks throughout (each run's other records are left out)."""
    runs = _runs_in_order(records)
    done: dict[str, set[str]] = {}
    for record in records:
        done.setdefault(record.task_id, set()).add(record.run)
    return [record for record in records if len(done[record.task_id]) == len(runs)]


def with_overall(records: Sequence[Record]) -> list[Record]:
    """The records, plus a copy of each under the kind `all` when there is more than one kind."""
    if len({record.kind for record in records}) < 2:
        return list(records)
    return [*records, *(replace(record, kind="all") for record in records)]


def write_report(
    records: Sequence[Record], out: Path, title: str, meta: dict[str, Any], *, seed: int = 0
) -> list[RunSummary]:
    """summary.json, report.md and chart.png in `out` (per task kind, and over all kinds); returns the summaries."""
    records = with_overall(records)
    summaries = summarize(records, seed=seed)
    compared = comparisons(records, seed=seed)
    out.mkdir(parents=True, exist_ok=True)
    payload = {
        "meta": meta,
        "summaries": [asdict(s) for s in summaries],
        "comparisons": [{"kind": c.kind, "base": c.base, "other": c.other, **c.figures()} for c in compared],
    }
    (out / "summary.json").write_text(json.dumps(payload, indent=1))
    (out / "report.md").write_text(markdown(summaries, compared, title))
    if summaries:
        write_chart(summaries, out / "chart.png", title)
    return summaries
