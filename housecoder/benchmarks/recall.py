"""Context recall: does a context setting put what the answer needs into the prompt? No model runs.

Each task's prompt is built exactly as `bench run` builds it (`Runner.prepare`, then
`CompletionEngine.build_prompt`) and held against the answer:
- answer line: the answer's first line (stripped, `MIN_LINE` characters or more) is a line of a
  snippet, the repetition RepoCoder's retrieval relies on;
- identifier recall: of the answer's identifiers that the prompt's part of the file (the prefix and
  suffix left after the token budgets) does not contain, i.e. names the model cannot copy from
  what it sees of the file, the share that some snippet contains;
- prompt tokens, and the seconds the context took (sources and assembly; with `--realtime`
  under the served time budgets, so its p95 is the cost at the cursor).
A setting is judged in seconds instead of a model run's ~10 s per task, so a retrieval change can
be tried on hundreds of tasks and then confirmed by `bench run`.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from housecoder.errors import HousecoderError, first_line
from housecoder.evaluation.metrics import identifiers
from housecoder.evaluation.runner import Runner, RunSpec, applies
from housecoder.evaluation.tasks import Task
from housecoder.inference.base import Cancellation, Generation, GenerationRequest
from housecoder.models.errors import ModelError
from housecoder.models.progress import SILENT, Progress
from housecoder.numeric import percentile

MIN_LINE = 8  # shorter answer lines (`i += 1`) are found everywhere and say nothing


@dataclass(frozen=True)
class Hit:
    """What one setting's prompt holds for one task."""

    run: str
    task_id: str
    kind: str
    answer_line: bool | None  # None: the answer line is too short to count
    missing: tuple[str, ...]  # answer identifiers the prompt's part of the file lacks
    found: tuple[str, ...]  # of those, the ones a snippet holds
    prompt_tokens: int
    snippets: int
    error: str = ""
    context_seconds: float = 0.0


def judge(
    groundtruth: str, in_file: str, snippets: Sequence[str]
) -> tuple[bool | None, tuple[str, ...], tuple[str, ...]]:
    """(answer line in a snippet, answer identifiers missing from `in_file`, those found in `snippets`)."""
    first = next((line.strip() for line in groundtruth.splitlines() if line.strip()), "")
    lines = {line.strip() for text in snippets for line in text.splitlines()}
    answer_line = first in lines if len(first) >= MIN_LINE else None
    seen = set(identifiers(in_file))
    missing = tuple(dict.fromkeys(name for name in identifiers(groundtruth) if name not in seen))
    in_snippets = {name for text in snippets for name in identifiers(text)}
    return answer_line, missing, tuple(name for name in missing if name in in_snippets)


class PromptOnlyBackend:
    """A backend that counts tokens with the model's tokenizer and never generates (the model is not loaded).
    It stands for a local runtime, so prompts take the configured layout."""

    heals = True

    def __init__(self, count: Callable[[str], int], model: str) -> None:
        self._count = count
        self.model = model

    def generate(self, request: GenerationRequest, cancel: Cancellation | None = None) -> Generation:
        raise ModelError("bench context builds prompts only; it has no model to generate with")

    def count_tokens(self, text: str) -> int:
        return self._count(text)

    @property
    def adapter(self) -> Path | None:
        return None

    def set_adapter(self, adapter: Path | None) -> None:
        if adapter is not None:
            raise ModelError("bench context builds prompts only; adapters do not change them")

    def describe(self) -> dict[str, Any]:
        return {"runtime": "prompt-only", "model": self.model}


def measure(
    runner: Runner,
    tasks: Sequence[Task],
    contexts: Sequence[str],
    progress: Progress = SILENT,
) -> list[Hit]:
    """A `Hit` per task and applicable context setting."""
    todo = [(task, context) for task in tasks for context in contexts if applies(context, task)]
    hits = []
    with progress.task(
        f"{', '.join(contexts)}: {len(todo)} prompts", total=len(todo), unit="prompts"
    ) as advance:
        for task, context in todo:
            try:
                engine, request = runner.prepare(RunSpec(context), task)
                started = time.perf_counter()
                prompt, snippets = engine.build_prompt(request)
                seconds = time.perf_counter() - started
                prefix, suffix = request.text[: request.offset], request.text[request.offset :]
                in_file = engine.prompt(request.path, prefix, suffix, [])
            except HousecoderError as err:
                hits.append(Hit(context, task.task_id, task.kind, None, (), (), 0, 0, error=first_line(err)))
            else:
                answer_line, missing, found = judge(task.groundtruth, in_file, [s.text for s in snippets])
                hits.append(
                    Hit(
                        context,
                        task.task_id,
                        task.kind,
                        answer_line,
                        missing,
                        found,
                        runner.backend.count_tokens(prompt),
                        len(snippets),
                        context_seconds=seconds,
                    )
                )
            advance(1)
    return hits


@dataclass(frozen=True)
class RecallRow:
    run: str
    kind: str
    n: int
    answer_line: float | None  # share of tasks with a countable answer line whose line a snippet holds
    with_missing: int  # tasks whose answer needs names from outside its file
    identifier_recall: float | None  # found / missing, over all those names
    all_found: float | None  # share of `with_missing` tasks whose every missing name is in a snippet
    prompt_tokens: float
    context_ms_p50: float = 0.0  # the context's time per prompt (sources, assembly and prompt building)
    context_ms_p95: float = 0.0


def _share(values: Sequence[bool]) -> float | None:
    return sum(values) / len(values) if values else None


def _p50_p95(values: Sequence[float]) -> tuple[float, float]:
    return percentile(values, 50) or 0.0, percentile(values, 95) or 0.0


def summarize(hits: Sequence[Hit]) -> list[RecallRow]:
    """One row per (run, kind), then per run over all kinds (kind "all"); runs in first-seen order."""
    groups: dict[tuple[str, str], list[Hit]] = defaultdict(list)
    for hit in hits:
        if not hit.error:
            groups[(hit.run, hit.kind)].append(hit)
            groups[(hit.run, "all")].append(hit)
    rows = []
    for (run, kind), group in groups.items():
        needing = [hit for hit in group if hit.missing]
        missing = sum(len(hit.missing) for hit in needing)
        rows.append(
            RecallRow(
                run,
                kind,
                len(group),
                _share([hit.answer_line for hit in group if hit.answer_line is not None]),
                len(needing),
                sum(len(hit.found) for hit in needing) / missing if missing else None,
                _share([len(hit.found) == len(hit.missing) for hit in needing]),
                sum(hit.prompt_tokens for hit in group) / len(group),
                *_p50_p95([1000 * hit.context_seconds for hit in group]),
            )
        )
    runs = list(dict.fromkeys(hit.run for hit in hits))
    return sorted(rows, key=lambda row: (runs.index(row.run), row.kind == "all", row.kind))


def markdown(rows: Sequence[RecallRow], title: str) -> str:
    def pct(value: float | None) -> str:
        return "–" if value is None else f"{100 * value:.1f}"

    lines = [
        f"# {title}",
        "",
        "| run | kind | n | answer line in context % | tasks needing outside names | identifier recall % | all found % | prompt tokens | context ms p50 / p95 |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| {row.run} | {row.kind} | {row.n} | {pct(row.answer_line)} | {row.with_missing} | "
            f"{pct(row.identifier_recall)} | {pct(row.all_found)} | {row.prompt_tokens:.0f} | "
            f"{row.context_ms_p50:.0f} / {row.context_ms_p95:.0f} |"
        )
    return "\n".join(lines) + "\n"


def compare(hits: Sequence[Hit], a: str, b: str) -> tuple[list[str], list[str]]:
    """Tasks needing outside names where run `a` finds them all and `b` does not, and the reverse."""
    complete = {
        (hit.run, hit.task_id): len(hit.found) == len(hit.missing)
        for hit in hits
        if hit.missing and not hit.error
    }
    tasks = [task_id for run, task_id in complete if run == a and (b, task_id) in complete]
    return (
        [t for t in tasks if complete[(a, t)] and not complete[(b, t)]],
        [t for t in tasks if complete[(b, t)] and not complete[(a, t)]],
    )
