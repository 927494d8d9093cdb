"""Run completion tasks through the real completion engine under several context settings.

Context settings (`CONTEXTS`), each optionally with the active LoRA adapter (`+adapter`):
- `infile`: no repository context; the current file only (FIM on prefix and suffix).
- `sparse`: the classic baseline, RepoCoder / CrossCodeEval style: 20-line windows of the
  repository's other files ranked by identifier Jaccard against the last 20 lines
  before the cursor, in the same token budget.
- `housecoder`: housecoder's full context assembly (definitions + hybrid index search), as served.
- `provided`: the benchmark's own retrieved context (CrossCodeEval), in housecoder's prompt layout.
- `provided-comment`: the same context as the benchmark's own comment block at the top of the prefix.

Every setting goes through `CompletionEngine.complete` (trigger forced on, same
post-processing as the editor gets); retrieval never sees the current file.
Results are appended to a JSONL file as they come, so an interrupted run resumes.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from housecoder.completion import CompletionEngine, CompletionInput, CompletionOutput
from housecoder.config import Settings, merge_sections
from housecoder.context import Retriever
from housecoder.context.windows import REPOSITORY_WINDOW_LINES
from housecoder.errors import HousecoderError, first_line
from housecoder.evaluation.metrics import score
from housecoder.evaluation.retrievers import ProvidedRetriever, WindowRetriever
from housecoder.evaluation.tasks import Task
from housecoder.inference.base import Backend, Cancellation
from housecoder.models.progress import SILENT, Progress
from housecoder.prompt import trim_prefix
from housecoder.prompt.serving import PREFIX_STEP_LINES

log = logging.getLogger(__name__)

CONTEXTS = ("infile", "sparse", "housecoder", "provided", "provided-comment")
QUALITY_BUDGET_MS = 10_000  # sources get time to answer: the benchmark measures quality, not a busy machine


def applies(context: str, task: Task) -> bool:
    """Whether a context setting can run on `task` (repository settings need the repository on disk)."""
    if context in ("sparse", "housecoder"):
        return task.repo is not None
    if context == "provided":
        return bool(task.context)
    if context == "provided-comment":
        return bool(task.context_text)
    return context == "infile"


@dataclass(frozen=True)
class RunSpec:
    context: str
    adapter: bool = False

    @property
    def name(self) -> str:
        return self.context + ("+adapter" if self.adapter else "")


def parse_runs(text: str, *, adapter: bool) -> list[RunSpec]:
    """`infile,sparse,housecoder` -> specs; each also with the adapter when one is active."""
    contexts = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in contexts if name not in CONTEXTS]
    if unknown or not contexts:
        raise HousecoderError(
            f"unknown run {unknown[0] if unknown else text!r}: choose from {', '.join(CONTEXTS)}"
        )
    specs = [RunSpec(context) for context in contexts]
    return specs + [RunSpec(context, True) for context in contexts] if adapter else specs


@dataclass
class Record:
    """One task under one run: the prediction, its scores and what it cost."""

    run: str
    task_id: str
    kind: str
    prediction: str
    groundtruth: str
    single_line: bool
    exact: bool
    edit_similarity: float
    identifier_exact: bool
    identifier_f1: float
    seconds: float
    model_seconds: float
    prompt_tokens: int
    new_tokens: int
    snippets: int
    stopped_by: str
    snippet_paths: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    error: str = ""
    # what the model said of its own text: each chosen token's log-probability and the first one's lead over the
    # runner-up (`Generation`), and why the trigger asked for it; the keep-probability is fitted on them
    logprobs: list[float] = field(default_factory=list)
    first_margin: float | None = None
    trigger: str = ""
    raw: str = ""
    signals: dict[str, float] | None = None  # `housecoder.keep.signals`
    p_keep: float | None = None


def context_settings(settings: Settings, context: str, *, realtime: bool) -> Settings:
    """The settings a context setting runs with (completion cache off: every task reaches the model)."""
    # every task is a file the model has not prefilled: the whole prompt, as served once it has had time
    overrides: dict[str, Any] = {
        "server": {"tuning": {"cache_entries": 0}},
        "completion": {"tuning": {"cold_prefill_tokens": 0}},
        "context": {"tuning": {}},
    }
    tuning = overrides["context"]["tuning"]
    if not realtime:
        tuning |= {"definitions_ms": QUALITY_BUDGET_MS, "retrieval_ms": QUALITY_BUDGET_MS}
    if context in ("infile", "provided-comment"):
        overrides["context"]["enabled"] = False
    elif context in ("sparse", "provided"):
        # the baselines as defined put their context in front of every completion, block bodies too
        overrides["context"] |= {
            "definitions": False,
            "open_documents": False,
            "similar": False,
            "retrieval": True,
            "multi_line": True,
        }
        tuning |= {"rest_of_file": False, "strong_window": 1.0, "per_file": 1_000}
        if context == "sparse":
            tuning["query_lines"] = REPOSITORY_WINDOW_LINES
    return Settings.model_validate(merge_sections(settings.model_dump(), overrides))


class Runner:
    """Runs tasks on one backend. `open_index(root)` returns the housecoder retriever of a repository
    (indexing it first); the sparse baseline's windows are built here, once per repository."""

    def __init__(
        self,
        backend: Backend,
        settings: Settings,
        *,
        open_index: Callable[[Path], Retriever] | None = None,
        adapter: Path | None = None,
        max_new_tokens_multi: int = 256,
        realtime: bool = False,
    ) -> None:
        self.backend = backend
        self.settings = {
            context: context_settings(settings, context, realtime=realtime) for context in CONTEXTS
        }
        self.open_index = open_index
        self.adapter = adapter
        self.max_new_tokens_multi = max_new_tokens_multi
        self._indexes: dict[str, Retriever] = {}
        self._windows: dict[str, WindowRetriever] = {}

    def _retriever(self, context: str, task: Task) -> Retriever | None:
        if context == "provided":
            return ProvidedRetriever(task.context)
        if context == "sparse" and task.repo:
            if task.repo not in self._windows:
                self._windows[task.repo] = WindowRetriever(
                    Path(task.repo), self.settings["sparse"].index, size=REPOSITORY_WINDOW_LINES
                )
            return self._windows[task.repo]
        if context == "housecoder" and task.repo:
            if self.open_index is None:
                raise HousecoderError("the housecoder run needs the repository index (no index opener given)")
            if task.repo not in self._indexes:
                self._indexes[task.repo] = self.open_index(Path(task.repo))
            return self._indexes[task.repo]
        return None

    def prepare(self, spec: RunSpec, task: Task) -> tuple[CompletionEngine, CompletionInput]:
        """The engine (settings, retriever) and request `spec` sends for `task`; `run_task` completes them,
        `bench context` only builds their prompts."""
        settings = self.settings[spec.context]
        completion: dict[str, Any] = {}
        if not task.is_single_line:
            completion["max_new_tokens"] = max(settings.completion.max_new_tokens, self.max_new_tokens_multi)
        prefix = task.prefix
        if spec.context == "provided-comment":
            count = self.backend.count_tokens
            budget = settings.completion.max_prefix_tokens
            prefix = task.context_text + trim_prefix(task.prefix, budget, count, step_lines=PREFIX_STEP_LINES)
            completion["max_prefix_tokens"] = budget + count(task.context_text) + 8
        if completion:
            settings = Settings.model_validate(
                merge_sections(settings.model_dump(), {"completion": completion})
            )
        repo_name = Path(task.repo).name if task.repo else task.metadata.get("repository")
        engine = CompletionEngine(
            self.backend, settings, repo_name=repo_name, retriever=self._retriever(spec.context, task)
        )
        request = CompletionInput(
            path=task.path,
            text=prefix + task.suffix,
            offset=len(prefix),
            language=task.language,
            use_index=True,
            multi_line=not task.is_single_line,
            explicit=True,  # the suggestion is scored whatever its keep-probability (`Record.p_keep`)
        )
        return engine, request

    def run_task(self, spec: RunSpec, task: Task, cancel: Cancellation | None = None) -> Record:
        engine, request = self.prepare(spec, task)
        output = engine.complete(request, cancel)
        return self.record(spec, task, output)

    @staticmethod
    def record(spec: RunSpec, task: Task, output: CompletionOutput) -> Record:
        """`output`, the completion of `task` under `spec`, scored against the task's answer."""
        scores = score(output.text, task.groundtruth, single_line=task.is_single_line)
        return Record(
            run=spec.name,
            task_id=task.task_id,
            kind=task.kind,
            prediction=output.text,
            groundtruth=task.groundtruth,
            single_line=task.is_single_line,
            exact=scores.exact,
            edit_similarity=scores.edit_similarity,
            identifier_exact=scores.identifier_exact,
            identifier_f1=scores.identifier_f1,
            seconds=output.timings.get("total", 0.0),
            model_seconds=output.timings.get("model", 0.0),
            prompt_tokens=output.prompt_tokens,
            new_tokens=output.new_tokens,
            snippets=len(output.snippets),
            stopped_by=output.stopped_by,
            snippet_paths=[snippet.path for snippet in output.snippets],
            skipped=output.skipped,
            logprobs=[round(logprob, 4) for logprob in output.logprobs],
            first_margin=None if output.first_margin is None else round(output.first_margin, 4),
            trigger=output.trigger.reason,
            raw=output.raw,
            signals=output.signals,
            p_keep=output.p_keep,
        )

    def run(
        self,
        tasks: Sequence[Task],
        specs: Sequence[RunSpec],
        results: ResultsFile,
        progress: Progress = SILENT,
        *,
        seed: int = 0,
    ) -> None:
        """Every applicable (run, task) pair not yet in `results`: adapter-free runs first, then task by task
        (in an order shuffled with `seed`) every setting, so a run stopped early still holds paired results
        on a random sample of the tasks."""
        order = list(tasks)
        random.Random(seed).shuffle(order)
        for adapter in (False, True):
            chosen = [spec for spec in specs if spec.adapter == adapter]
            todo = [
                (task, spec)
                for task in order
                for spec in chosen
                if applies(spec.context, task) and not results.has(spec.name, task.task_id)
            ]
            if not todo:
                continue
            self.backend.set_adapter(self.adapter if adapter else None)
            label = ", ".join(spec.name for spec in chosen)
            with progress.task(f"{label}: {len(todo)} completions", total=len(todo), unit="tasks") as advance:
                for task, spec in todo:
                    try:
                        record = self.run_task(spec, task)
                    except (
                        HousecoderError
                    ) as err:  # one bad task (a file the index refuses, ...) must not end the run
                        log.warning("%s %s: %s", spec.name, task.task_id, first_line(err))
                        record = Record(
                            spec.name,
                            task.task_id,
                            task.kind,
                            "",
                            task.groundtruth,
                            task.is_single_line,
                            False,
                            0.0,
                            False,
                            0.0,
                            0.0,
                            0.0,
                            0,
                            0,
                            0,
                            "error",
                            error=first_line(err),
                        )
                    results.add(record)
                    advance(1)


class ResultsFile:
    """Records as JSONL, appended and flushed one by one; read back to resume."""

    def __init__(self, path: Path, *, resume: bool) -> None:
        self.path = path
        self.records: list[Record] = []
        if resume and path.is_file():
            self.records, bad = read_records(path)
            # a run killed mid-write leaves a cut last line: drop it (its task runs again), keep the rest
            if bad:
                log.warning(
                    "%s: %d unreadable line(s) dropped (first at line %d); those tasks run again",
                    path,
                    len(bad),
                    bad[0],
                )
                self._rewrite()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("")
        self._done = {(record.run, record.task_id) for record in self.records}

    def _rewrite(self) -> None:
        partial = self.path.with_name(self.path.name + ".partial")
        partial.write_text("".join(_json_line(r) for r in self.records), encoding="utf-8")
        partial.replace(self.path)

    def has(self, run: str, task_id: str) -> bool:
        return (run, task_id) in self._done

    def add(self, record: Record) -> None:
        self.records.append(record)
        self._done.add((record.run, record.task_id))
        with self.path.open("a", encoding="utf-8") as out:
            out.write(_json_line(record))


def _json_line(record: Record) -> str:
    return json.dumps(asdict(record), ensure_ascii=False) + "\n"


def read_records(path: Path) -> tuple[list[Record], list[int]]:
    """The records of a results file, and the numbers of the lines that are not one (cut or edited by hand)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise HousecoderError(f"{path}: cannot read the results: {first_line(err)}") from err
    records: list[Record] = []
    bad: list[int] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(Record(**json.loads(line)))
        except (ValueError, TypeError):
            bad.append(number)
    return records, bad
