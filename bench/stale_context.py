"""Context recall when the snippets were chosen some lines before the cursor, as a snippet block kept stable
while the user types (refreshed at idle, not per line) would be. No model runs.

A stable block is what would make a bigger `context.max_tokens` cheap per keystroke: its keys and values are
computed once and reused line after line. The question is how much a block chosen `k` lines up, before the
user wrote those lines, still holds of what the answer needs, against a fresh block at the default budget.
Each task's context is gathered for a cursor at the start of the line `k` lines above the task's (forward
typing: the lines between are not written yet, the rest of the file after the answer line is), then judged
against the answer and the task's own in-file text exactly as `bench context` judges it.

    python bench/stale_context.py bench-results/tasks/unseen-py-lines.jsonl --back 0,3,10 \
        --config bench/configs/context-1536.toml
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from housecoder.benchmarks.recall import Hit, PromptOnlyBackend, judge, markdown, summarize
from housecoder.cli.bench import _index_opener
from housecoder.cli.common import RichProgress, stderr_console
from housecoder.completion.engine import CompletionInput
from housecoder.completion.loading import prompt_token_counter
from housecoder.config import apply_config_file, load_settings
from housecoder.evaluation.runner import Runner, RunSpec
from housecoder.evaluation.tasks import Task, read_tasks


def earlier(request: CompletionInput, back: int) -> CompletionInput:
    """`request` with the cursor on an empty line `back` lines above its line: those lines, and all of the
    cursor's line, not written yet; the context is asked for a single line."""
    prefix, suffix = request.text[: request.offset], request.text[request.offset :]
    lines = prefix.split("\n")
    kept = "\n".join(lines[: max(len(lines) - back, 1) - 1])
    head = kept + "\n" if kept else ""
    after = suffix.split("\n", 1)[1] if "\n" in suffix else ""
    return replace(request, text=head + "\n" + after, offset=len(head), multi_line=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tasks", type=Path)
    parser.add_argument("--back", default="0,3,10", help="lines above the task's line (comma-separated)")
    parser.add_argument("--config", type=Path, help="a housecoder.toml-style file on top of the defaults")
    parser.add_argument("--limit", type=int, default=0, help="only the first N tasks")
    args = parser.parse_args()
    tasks: list[Task] = read_tasks(args.tasks)[: args.limit or None]
    settings = load_settings(Path.cwd())
    if args.config:
        settings = apply_config_file(settings, args.config)
    progress = RichProgress(stderr_console())
    backend = PromptOnlyBackend(prompt_token_counter(settings, progress), settings.models.code_model)
    runner = Runner(backend, settings, open_index=_index_opener(settings, progress))
    backs = [int(value) for value in args.back.split(",")]
    hits = []
    for task in tasks:
        engine, request = runner.prepare(RunSpec("housecoder"), task)
        in_file = engine.prompt(
            request.path, request.text[: request.offset], request.text[request.offset :], []
        )
        for back in backs:
            _, snippets = engine.build_prompt(earlier(request, back))
            answer_line, missing, found = judge(task.groundtruth, in_file, [s.text for s in snippets])
            tokens = sum(backend.count_tokens(s.text) for s in snippets)
            hits.append(
                Hit(
                    f"{back} lines up",
                    task.task_id,
                    task.kind,
                    answer_line,
                    missing,
                    found,
                    tokens,
                    len(snippets),
                )
            )
    title = f"Context chosen k lines up, {args.tasks.name}, {args.config or 'defaults'} (prompt tokens: snippets only)"
    print(markdown(summarize(hits), title))


if __name__ == "__main__":
    main()
