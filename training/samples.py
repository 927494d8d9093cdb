"""Training and held-out FIM samples: middles cut on syntax nodes, prompted exactly as the server prompts.

A sample is one cursor in one of the repository's files: the middle (the text the
model should write there) is a syntax-node span (`housecoder.training.spans`), and
its prompt comes from `CompletionEngine.build_prompt`, the server's own context
assembly and prompt builder, with the file's text minus the middle as the buffer.
The sample's own file never reaches its context (the context sources exclude the
current path), and training samples never see held-out files: their retriever is
wrapped in `FilteredRetriever`.

The training plan takes the files in turn (`draw_cuts`): one cut from each file, then a second from each,
and so on, the files that the rest of the repository uses most first (`dependents`). A budget that stops
the plan early (`train.token_budget`) has still covered as many files as it could.
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from housecoder.completion import CompletionEngine, CompletionInput
from housecoder.config import ContextTuning, Settings, TrainConfig, merge_sections
from housecoder.context import ContextSnippet, Retriever
from housecoder.evaluation.tasks import Task, answers_one_line
from housecoder.indexer.sources import SourceFile
from housecoder.models.progress import Advance
from housecoder.training.spans import Span, candidate_spans, choose_spans

# spans drawn per wanted sample, so deduplication and the middle-length limit still leave enough
OVERSAMPLE = 2
# tokens of an average sample (prompt and middle) under the CPU budgets: 546 in the smolagents dry run
SAMPLE_TOKENS = 550
SOURCE_BUDGET_MS = 10_000  # context sources get time to answer: samples are made offline, not while typing


@dataclass(frozen=True)
class Cut:
    """A middle chosen in a file, before it is prompted."""

    file: SourceFile
    span: Span

    @property
    def middle(self) -> str:
        return self.file.text[self.span.start : self.span.end]

    @property
    def prefix(self) -> str:
        return self.file.text[: self.span.start]

    @property
    def suffix(self) -> str:
        return self.file.text[self.span.end :]


def sample_id(path: str, start: int, kind: str) -> str:
    """A sample's task id in the evaluation's records: two middles of one kind at one offset (an expression and
    a longer one around it) would share it, so a sample set holds one of them."""
    return f"{path}:{start}:{kind}"


@dataclass(frozen=True)
class Sample:
    """One FIM training or evaluation example: the served prompt and the middle the model should write."""

    path: str
    language: str
    kind: str
    start: int  # the middle's character offset in the file
    middle: str
    prompt: str
    snippet_paths: tuple[str, ...]
    prefix: str
    suffix: str

    @property
    def sample_id(self) -> str:
        return sample_id(self.path, self.start, self.kind)

    def as_task(self, repo: str) -> Task:
        """The sample as a benchmark task, so generation is scored by `housecoder.evaluation` like any task."""
        return Task(
            task_id=self.sample_id,
            path=self.path,
            prefix=self.prefix,
            suffix=self.suffix,
            groundtruth=self.middle,
            language=self.language,
            repo=repo,
            kind=self.kind,
        )


def _normal(text: str) -> str:
    return " ".join(text.split())


def dedupe_key(middle: str, prefix: str) -> tuple[str, str]:
    """Near-identical samples share a middle and the line before it (whitespace ignored)."""
    before = prefix.rstrip().rsplit("\n", 1)[-1]
    return _normal(middle), _normal(before)


def dependents(files: Sequence[SourceFile]) -> dict[str, int]:
    """For each file, how many other files use a name it defines (a call, a type, an import)."""
    from housecoder.syntax.parsing import parse_tree
    from housecoder.syntax.symbols import defined_and_used, extract_symbols

    trees = {file.path: parse_tree(file.language, file.text.encode("utf-8")) for file in files}
    defined_in, used_in = defined_and_used(
        {
            file.path: extract_symbols(file.path, file.language, trees[file.path]) if trees[file.path] else []
            for file in files
        }
    )
    users: dict[str, set[str]] = defaultdict(set)
    for name, paths in defined_in.items():
        for path in paths:
            users[path] |= used_in[name] - {path}
    return {file.path: len(users[file.path]) for file in files}


def in_turn(cuts_by_file: Sequence[Sequence[Cut]]) -> list[Cut]:
    """The first cut of every file, then the second of every file, and so on, keeping the files' order."""
    rounds = max((len(cuts) for cuts in cuts_by_file), default=0)
    return [cuts[i] for i in range(rounds) for cuts in cuts_by_file if i < len(cuts)]


def draw_cuts(
    files: Sequence[SourceFile],
    config: TrainConfig,
    count: int | None,
    rng: random.Random,
    per_file: int | None = None,
    taken: Sequence[Sample] = (),
    first: dict[str, int] | None = None,
) -> list[Cut]:
    """Up to about `OVERSAMPLE * count` distinct cuts over `files` in the configured span mix, the files in turn.

    Each file gives at most `per_file` (default `config.per_file`; and, with a `count`, no more than its fair
    share), so one huge file cannot dominate; near-identical cuts (same middle after the same line) are kept
    once, and none is near-identical to a sample of `taken` (samples drawn before: they count in `count` and
    against their file's share). The result takes the files in turn (`in_turn`), those with the highest
    `first` score first (ties in a seeded order), so any prefix of it covers as many files as it can.
    """
    if not files:
        return []
    quota = per_file or config.tuning.per_file
    if count is not None:
        quota = min(quota, max(1, math.ceil(OVERSAMPLE * count / len(files))))
    seen = {dedupe_key(sample.middle, sample.prefix) for sample in taken}
    already = Counter(sample.path for sample in taken)
    used = {sample.sample_id for sample in taken}
    order = list(files)
    rng.shuffle(order)
    if first:
        order.sort(key=lambda file: -first.get(file.path, 0))
    by_file: list[list[Cut]] = []
    for file in order:
        cuts: list[Cut] = []
        room = quota - already[file.path]
        if room <= 0:
            continue
        candidates = candidate_spans(file.text, file.language, max_lines=config.tuning.max_middle_lines)
        if used:  # not the spans taken already: they would fill the file's room and then be dropped
            candidates = {
                kind: [span for span in spans if sample_id(file.path, span.start, kind) not in used]
                for kind, spans in candidates.items()
            }
        for span in choose_spans(candidates, config.tuning.span_mix, room, rng):
            cut = Cut(file, span)
            key = dedupe_key(cut.middle, cut.prefix)
            if key in seen:
                continue
            seen.add(key)
            cuts.append(cut)
        rng.shuffle(cuts)
        by_file.append(cuts)
    return in_turn(by_file)


class FilteredRetriever:
    """A retriever that never returns snippets of `blocked` paths (the held-out files, for training samples)."""

    def __init__(self, inner: Retriever, blocked: set[str]) -> None:
        self.inner = inner
        self.blocked = blocked

    def definitions(self, names: Sequence[str], exclude_path: str, max_lines: int) -> list[ContextSnippet]:
        return [
            s for s in self.inner.definitions(names, exclude_path, max_lines) if s.path not in self.blocked
        ]

    def search(self, query: str, exclude_path: str, k: int, max_lines: int) -> list[ContextSnippet]:
        # Ask for more, since blocked chunks (a held-out file may have several) are dropped after ranking.
        found = self.inner.search(query, exclude_path, 3 * k if self.blocked else k, max_lines)
        return [s for s in found if s.path not in self.blocked][:k]

    def similar(
        self, query: str, exclude_path: str, k: int, max_lines: int, follow: int = 0
    ) -> list[ContextSnippet]:
        found = self.inner.similar(query, exclude_path, 3 * k if self.blocked else k, max_lines, follow)
        return [s for s in found if s.path not in self.blocked][:k]


def sample_settings(settings: Settings) -> Settings:
    """The served settings with the training job's prompt budgets: the same sources and layout, sized for training."""
    train = settings.train
    overrides: dict[str, Any] = {
        "completion": {
            "max_prefix_tokens": train.tuning.prefix_tokens,
            "max_suffix_tokens": train.tuning.suffix_tokens,
            # held-out completions are judged on what the model writes, not on how fast this machine (or a
            # background run paused while the user types) writes it
            "max_ms": 0,
        },
        "context": {
            "max_tokens": train.tuning.context_tokens,
            "open_documents": False,
            # every source answers, on any machine: the same repository gives the same samples everywhere
            "tuning": {name: SOURCE_BUDGET_MS for name in ContextTuning.model_fields if name.endswith("_ms")},
        },
        "server": {"tuning": {"cache_entries": 0}},
    }
    return Settings.model_validate(merge_sections(settings.model_dump(), overrides))


def build_samples(
    cuts: Sequence[Cut],
    engine: CompletionEngine,
    count: int | None,
    max_middle_tokens: int,
    advance: Advance = lambda _n: None,
    taken: Sequence[Sample] = (),
    token_budget: int | None = None,
) -> list[Sample]:
    """Prompt the cuts in order, those whose middle fits `max_middle_tokens` and whose sample id is new (to them
    and to `taken`), with `engine.build_prompt`, until `count` samples or `token_budget` tokens (prompts and
    middles; the sample that reaches it is the last); `advance` by one after each sample, or by its tokens (up
    to the budget) under a `token_budget`."""
    samples: list[Sample] = []
    ids = {sample.sample_id for sample in taken}
    tokens = 0
    for cut in cuts:
        if (count is not None and len(samples) >= count) or (
            token_budget is not None and tokens >= token_budget
        ):
            break
        key = sample_id(cut.file.path, cut.span.start, cut.span.kind)
        middle_tokens = engine.backend.count_tokens(cut.middle)
        if key in ids or middle_tokens > max_middle_tokens:
            continue
        ids.add(key)
        # one line or a block, as the evaluation asks for it
        multi_line = not answers_one_line(cut.middle)
        samples.append(
            prompted(
                engine,
                cut.file.path,
                cut.file.language,
                cut.span.kind,
                cut.prefix,
                cut.middle,
                cut.suffix,
                multi_line,
            )
        )
        cost = engine.backend.count_tokens(samples[-1].prompt) + middle_tokens + 1  # and the end-of-text
        advance(1 if token_budget is None else min(cost, max(0, token_budget - tokens)))
        tokens += cost
    return samples


def prompted(
    engine: CompletionEngine,
    path: str,
    language: str | None,
    kind: str,
    prefix: str,
    middle: str,
    suffix: str,
    multi_line: bool,
) -> Sample:
    """The sample whose middle lies between `prefix` and `suffix`, prompted with `engine.build_prompt` as the
    server prompts that cursor (a file of no known language is "text" in the sample)."""
    prompt, snippets = engine.build_prompt(
        CompletionInput(
            path=path, text=prefix + suffix, offset=len(prefix), language=language, multi_line=multi_line
        )
    )
    return Sample(
        path=path,
        language=language or "text",
        kind=kind,
        start=len(prefix),
        middle=middle,
        prompt=prompt,
        snippet_paths=tuple(snippet.path for snippet in snippets),
        prefix=prefix,
        suffix=suffix,
    )


HISTORY_KIND = "history"


def history_samples(
    tasks: Sequence[Task], engine: CompletionEngine, max_middle_tokens: int, repeat: int
) -> list[Sample]:
    """The user's kept and rewritten suggestions (`housecoder.evaluation.history`) as samples, prompted by
    `engine` as any sample, each `repeat` times (their weight in training); a middle over `max_middle_tokens`
    is left out."""
    samples: list[Sample] = []
    for task in tasks:
        if repeat <= 0 or engine.backend.count_tokens(task.groundtruth) > max_middle_tokens:
            continue
        sample = prompted(
            engine,
            task.path,
            task.language,
            HISTORY_KIND,
            task.prefix,
            task.groundtruth,
            task.suffix,
            not task.is_single_line,
        )
        samples.extend([sample] * repeat)
    return samples
