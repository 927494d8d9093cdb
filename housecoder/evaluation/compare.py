"""Paired comparisons of two sets of completions of the same tasks, with bootstrap 95% intervals.

`housecoder bench run` compares context settings within one results file; `housecoder bench compare` (here,
`compare_folders`) compares two results folders made under two configurations (for example
`completion.layout = "psm"` and `"line-start"`), run by run over the task ids both completed, B minus A, split
by task kind and pooled over runs. `paired_gain` is the figure each row holds; the adapter learning curves
under bench/ print it per checkpoint (`Gain.as_dict`).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from housecoder.errors import HousecoderError
from housecoder.evaluation.metrics import paired_difference
from housecoder.evaluation.runner import Record, read_records


class Scored(Protocol):
    """One task's scores in one setting (a `Record`, or an `Outcome` built from another record format)."""

    @property
    def exact(self) -> bool: ...

    @property
    def edit_similarity(self) -> float: ...


@dataclass(frozen=True)
class Outcome:
    exact: bool
    edit_similarity: float


@dataclass(frozen=True)
class Gain:
    """B against A over the same tasks; shares and differences are fractions (0.05 is 5 points)."""

    tasks: int
    exact_a: float
    exact_b: float
    exact_diff: float  # mean(B - A)
    exact_interval: tuple[float, float]  # paired bootstrap, 95%
    similarity_a: float
    similarity_b: float
    similarity_diff: float
    similarity_interval: tuple[float, float]
    gained: int  # exact in B, not in A
    lost: int  # exact in A, not in B

    def as_dict(self) -> dict[str, object]:
        """The learning curves' JSON form: A is context alone ("base"), B the adapter ("tuned"), in percent."""
        return {
            "tasks": self.tasks,
            "exact_base": round(100 * self.exact_a, 1),
            "exact_tuned": round(100 * self.exact_b, 1),
            "exact_diff": [round(100 * v, 1) for v in (self.exact_diff, *self.exact_interval)],
            "es_diff": [round(100 * v, 1) for v in (self.similarity_diff, *self.similarity_interval)],
            "won_lost": [self.gained, self.lost],
        }


def paired_gain(pairs: Sequence[tuple[Scored, Scored]]) -> Gain:
    """Exact match and edit similarity of B against A over `pairs` (A's and B's scores of one task each)."""
    if not pairs:
        raise ValueError("a paired comparison needs at least one task both sides completed")
    exact_a = [float(a.exact) for a, _ in pairs]
    exact_b = [float(b.exact) for _, b in pairs]
    similarity_a = [a.edit_similarity for a, _ in pairs]
    similarity_b = [b.edit_similarity for _, b in pairs]
    exact_diff, exact_interval = paired_difference(exact_a, exact_b)
    similarity_diff, similarity_interval = paired_difference(similarity_a, similarity_b)
    return Gain(
        tasks=len(pairs),
        exact_a=statistics.fmean(exact_a),
        exact_b=statistics.fmean(exact_b),
        exact_diff=exact_diff,
        exact_interval=exact_interval,
        similarity_a=statistics.fmean(similarity_a),
        similarity_b=statistics.fmean(similarity_b),
        similarity_diff=similarity_diff,
        similarity_interval=similarity_interval,
        gained=sum(b.exact and not a.exact for a, b in pairs),
        lost=sum(a.exact and not b.exact for a, b in pairs),
    )


def gain_figures(pairs: Sequence[tuple[Scored, Scored]]) -> dict[str, object]:
    """`paired_gain(pairs).as_dict()`, or `{"tasks": 0}` where no task was completed on both sides."""
    return paired_gain(pairs).as_dict() if pairs else {"tasks": 0}


def points(difference: float, interval: tuple[float, float]) -> str:
    """A difference and its interval in points: `+2.3 (-0.7 to +5.0)`."""
    return f"{100 * difference:+.1f} ({100 * interval[0]:+.1f} to {100 * interval[1]:+.1f})"


def folder_records(folder: Path) -> dict[tuple[str, str], Record]:
    """A results folder's records without errors, by (run, task id)."""
    records, _bad = read_records(folder / "results.jsonl")
    return {(r.run, r.task_id): r for r in records if not r.error}


HEADER = (
    "| run | tasks | EM % A → B | +/− | EM B − A (95% CI) | ES B − A (95% CI) | prompt tokens A → B "
    "| model s p50 A → B |\n| --- | --- | --- | --- | --- | --- | --- | --- |"
)


def folder_row(name: str, pairs: Sequence[tuple[Record, Record]]) -> str:
    """One row of `HEADER`: the gain, and what the prompts and the model's time cost on each side."""
    gain = paired_gain(pairs)
    prompt_a = statistics.fmean(a.prompt_tokens for a, _ in pairs)
    prompt_b = statistics.fmean(b.prompt_tokens for _, b in pairs)
    model_a = statistics.median(a.model_seconds for a, _ in pairs)
    model_b = statistics.median(b.model_seconds for _, b in pairs)
    return (
        f"| {name} | {gain.tasks} | {100 * gain.exact_a:.1f} → {100 * gain.exact_b:.1f} | "
        f"+{gain.gained}/−{gain.lost} | {points(gain.exact_diff, gain.exact_interval)} | "
        f"{points(gain.similarity_diff, gain.similarity_interval)} | {prompt_a:.0f} → {prompt_b:.0f} | "
        f"{model_a:.2f} → {model_b:.2f} |"
    )


def compare_folders(a: Path, b: Path, runs: Sequence[str] = ()) -> list[str]:
    """The markdown comparison of results folder `b` against `a`: a row per run (default: every run both
    have), per task kind where a run has several, and pooled over the runs; the model's median seconds per
    task (prefill of the whole prompt plus the new tokens) is what a bigger prompt costs uncached. Raises
    HousecoderError where no chosen run has a task completed in both."""
    records_a, records_b = folder_records(a), folder_records(b)
    shared = sorted(set(records_a) & set(records_b))
    chosen = list(runs) or sorted({run for run, _ in shared})
    lines = [f"A = {a}, B = {b}", "", HEADER]
    pooled: list[tuple[Record, Record]] = []
    for run in chosen:
        pairs = [(records_a[key], records_b[key]) for key in shared if key[0] == run]
        if not pairs:
            continue
        lines.append(folder_row(run, pairs))
        kinds = sorted({r.kind for r, _ in pairs})
        for kind in kinds if len(kinds) > 1 else ():
            lines.append(folder_row(f"{run}, {kind}", [(x, y) for x, y in pairs if x.kind == kind]))
        pooled += pairs
    if not pooled:
        raise HousecoderError(f"{a} and {b}: no task completed under the same run in both")
    if len(chosen) > 1:
        lines.append(folder_row("pooled", pooled))
    return lines
