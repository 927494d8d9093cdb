"""Runners for benchmark task files: each benchmark repository with its own index (`bench run`,
`bench context` and the prompt studies under bench/)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from housecoder.config import Settings, merge_sections
from housecoder.context import Retriever
from housecoder.evaluation.runner import Runner
from housecoder.models.progress import Progress


def index_opener(settings: Settings, progress: Progress) -> Callable[[Path], Retriever]:
    """`open_index(root)` for the runner: each benchmark repository gets its own index in the cache (not the
    project's `index.location`), brought up to date first."""
    from housecoder.indexer.service import index_repository, open_retriever
    from housecoder.models.store import store_for

    store = store_for(settings)
    own_index = Settings.model_validate(merge_sections(settings.model_dump(), {"index": {"location": None}}))

    def open_index(root: Path) -> Retriever:
        index_repository(root, own_index, store, progress)
        retriever = open_retriever(root, own_index, progress)
        retriever.windows()  # built up front, as the server builds it when it opens an index
        return retriever

    return open_index


def prompt_only_runner(
    settings: Settings,
    progress: Progress,
    *,
    count: Callable[[str], int] | None = None,
    realtime: bool = False,
) -> Runner:
    """A `Runner` that builds prompts without a model (the tokenizer counts the budgets, `count` when given),
    each repository with its own index: `bench context` and the prompt studies under bench/."""
    from housecoder.benchmarks.recall import PromptOnlyBackend
    from housecoder.completion.loading import prompt_token_counter

    backend = PromptOnlyBackend(count or prompt_token_counter(settings, progress), settings.models.code_model)
    return Runner(backend, settings, open_index=index_opener(settings, progress), realtime=realtime)
