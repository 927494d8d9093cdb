"""Run the context sources for one cursor, each under its own time budget, and assemble the result.

Sources run in parallel threads; a source that has not answered within its
budget (measured from the start of gathering) is left out of this request and
reported in `skipped`, and so is one that failed. The index-backed sources come
through the small `Retriever` protocol, so this module needs no database.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Protocol

from housecoder.config import ContextConfig
from housecoder.context.assemble import CountTokens, assemble
from housecoder.context.identifiers import lookup_names
from housecoder.context.rest_of_file import Part, rest_of_file
from housecoder.context.snippets import ContextSnippet
from housecoder.context.windows import best_windows
from housecoder.errors import first_line
from housecoder.secrets import is_secret

log = logging.getLogger(__name__)
_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="housecoder-context")


class Retriever(Protocol):
    """Index-backed lookups (implemented by `housecoder.indexer.retrieval.IndexRetriever`)."""

    def definitions(self, names: Sequence[str], exclude_path: str, max_lines: int) -> list[ContextSnippet]:
        """Definitions of `names` outside `exclude_path`, in the order of `names`."""
        ...

    def search(self, query: str, exclude_path: str, k: int, max_lines: int) -> list[ContextSnippet]:
        """The `k` chunks outside `exclude_path` that best match `query`, best first."""
        ...

    def similar(
        self, query: str, exclude_path: str, k: int, max_lines: int, follow: int = 0
    ) -> list[ContextSnippet]:
        """The `k` line windows of the repository outside `exclude_path` whose names are most like
        `query`'s (identifier Jaccard), best first, none overlapping another; each shown `follow` lines
        further on (`housecoder.context.windows`)."""
        ...


@dataclass(frozen=True)
class OpenDocument:
    """Another open or recently edited buffer that may serve as context (a secret one is left out here)."""

    path: str
    text: str


@dataclass(frozen=True)
class ContextRequest:
    """The cursor to find context for; `path` is relative to the repository root."""

    path: str
    language: str | None
    prefix: str
    suffix: str
    documents: Sequence[OpenDocument] = ()
    hidden: tuple[
        Part, ...
    ] = ()  # stretches of the current file the prompt leaves out (`rest_of_file.hidden_parts`)


@dataclass
class ContextResult:
    """The snippets for the prompt (best first), seconds spent per source, and sources left out."""

    snippets: list[ContextSnippet] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def _timed(run: Callable[[], list[ContextSnippet]]) -> Callable[[], tuple[list[ContextSnippet], float]]:
    def wrapper() -> tuple[list[ContextSnippet], float]:
        started = time.perf_counter()
        found = run()
        return found, time.perf_counter() - started

    return wrapper


_WORD_START = re.compile(r"[A-Za-z_$]")


def without_partial_word(text: str) -> str:
    """`text` without the identifier it ends in (`self.conv` -> `self.`); linear, where a `[A-Za-z_$][\\w$]*$`
    substitution is quadratic on a long run of word characters."""
    start = len(text)
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_$"):
        start -= 1
    while start < len(text) and not _WORD_START.match(text[start]):
        start += 1  # a word starts at a letter, `_` or `$`, not at a digit
    return text[:start]


@dataclass(frozen=True)
class ContextPlan:
    """What the sources look for: the retrieval query and the names whose definitions are wanted.

    Both come from settled text only: the query from the lines above the cursor
    line, the names without the word being typed at the cursor. While the user
    types within a line the plan changes only when a word is completed, so the
    snippets (and with them the KV-cached front of the prompt) stay the same from
    one keystroke to the next.
    """

    query: str
    names: tuple[str, ...]
    window_query: str = ""  # the look-alike windows' query: the last `window_lines` settled lines


def plan(request: ContextRequest, config: ContextConfig) -> ContextPlan:
    lines = request.prefix.split("\n")
    settled = lines[:-1] if len(lines) > 1 and "".join(lines[:-1]).strip() else lines
    query = "\n".join(settled[-config.tuning.query_lines :])
    prefix = without_partial_word(request.prefix)
    names = lookup_names(
        prefix, request.suffix, request.language, config.tuning.near_lines, config.tuning.max_identifiers
    )
    return ContextPlan(query, tuple(names), "\n".join(settled[-config.tuning.window_lines :]))


SOURCE_ORDER = (
    "rest_of_file",
    "definitions",
    "similar",
    "retrieval",
    "open_documents",
)  # the assembly's priority


def promote_strong(sources: Sequence[Sequence[ContextSnippet]], floor: float) -> list[list[ContextSnippet]]:
    """`sources` behind a first source of the look-alike windows at least `floor` similar, taken out of
    theirs, most similar first: a window that shares most names with the lines above the cursor is the
    likeliest to hold the next line, and a fixed source order let short definitions crowd it out.
    A `floor` of 1 or more promotes none."""
    if floor >= 1.0:
        return [[], *(list(source) for source in sources)]
    strong = sorted(
        (s for source in sources for s in source if s.look_alike and s.score >= floor), key=lambda s: -s.score
    )
    return [strong, *([s for s in source if s not in strong] for source in sources)]


def _sources(
    request: ContextRequest, config: ContextConfig, wanted: ContextPlan, retriever: Retriever | None
) -> dict[str, tuple[int, Callable[[], list[ContextSnippet]]]]:
    """name -> (time budget in ms, work) for the sources enabled for this request."""
    query = wanted.query
    sources: dict[str, tuple[int, Callable[[], list[ContextSnippet]]]] = {}
    if retriever is not None and config.definitions:
        sources["definitions"] = (
            config.tuning.definitions_ms,
            lambda: retriever.definitions(list(wanted.names), request.path, config.tuning.max_snippet_lines),
        )
    if retriever is not None and config.retrieval and query.strip():
        sources["retrieval"] = (
            config.tuning.retrieval_ms,
            lambda: retriever.search(
                query, request.path, config.tuning.retrieval_k, config.tuning.max_snippet_lines
            ),
        )
    if retriever is not None and config.similar and wanted.window_query.strip():
        sources["similar"] = (
            config.tuning.similar_ms,
            lambda: retriever.similar(
                wanted.window_query,
                request.path,
                config.tuning.similar_k,
                config.tuning.max_snippet_lines,
                follow=config.tuning.window_follow,
            ),
        )
    if config.tuning.rest_of_file and request.hidden:
        sources["rest_of_file"] = (
            config.tuning.similar_ms,
            lambda: rest_of_file(
                request.path,
                request.hidden,
                wanted.window_query,
                size=config.tuning.window_lines,
                k=config.tuning.similar_k,
                max_lines=config.tuning.max_snippet_lines,
                follow=config.tuning.window_follow,
            ),
        )
    documents = (
        [
            (doc.path, doc.text)
            for doc in request.documents
            if doc.path != request.path and not is_secret(doc.path, doc.text)
        ]
        if config.open_documents
        else []
    )
    if documents:
        sources["open_documents"] = (
            config.tuning.open_documents_ms,
            lambda: best_windows(
                wanted.window_query,
                documents,
                size=config.tuning.window_lines,
                k=4,
                min_similarity=config.tuning.min_similarity,
                follow=config.tuning.window_follow,
            ),
        )
    return sources


def gather(
    request: ContextRequest,
    config: ContextConfig,
    count: CountTokens,
    retriever: Retriever | None = None,
    pool: ThreadPoolExecutor | None = None,
    wanted: ContextPlan | None = None,
) -> ContextResult:
    """Snippets for `request` from every enabled source, assembled within `config.snippet_tokens`.
    `wanted` is `plan(request, config)` when the caller already has it."""
    result = ContextResult()
    if not config.enabled or config.snippet_tokens <= 0:
        return result
    started = time.perf_counter()
    running: dict[str, tuple[int, Future[tuple[list[ContextSnippet], float]]]] = {
        name: (budget, (pool or _POOL).submit(_timed(work)))
        for name, (budget, work) in _sources(
            request, config, wanted or plan(request, config), retriever
        ).items()
    }
    found: dict[str, list[ContextSnippet]] = {}
    for name, (budget_ms, future) in running.items():
        remaining = budget_ms / 1000 - (time.perf_counter() - started)
        try:
            found[name], result.timings[name] = future.result(timeout=max(remaining, 0.0))
        except FutureTimeout:
            result.skipped[name] = f"over its {budget_ms} ms budget"
            result.timings[name] = time.perf_counter() - started
        except Exception as err:  # a broken index must not break completion
            log.warning("context source %s failed: %s", name, first_line(err))
            result.skipped[name] = f"failed: {first_line(err)}"
    assembling = time.perf_counter()
    ordered = promote_strong([found.get(name, []) for name in SOURCE_ORDER], config.tuning.strong_window)
    result.snippets = assemble(
        ordered, config.snippet_tokens, count, exclude_path=request.path, per_file=config.tuning.per_file
    )
    result.timings["assemble"] = time.perf_counter() - assembling
    return result
