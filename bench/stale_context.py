"""Context recall when the snippets were chosen some lines before the cursor, as a snippet block kept stable
while the user types (refreshed at idle, not per line) would be; without `--out` no model runs.

A stable block is what would make a bigger `context.max_tokens` cheap per keystroke: its keys and values are
computed once and reused line after line. The question is how much a block chosen `k` lines up, before the
user wrote those lines, still holds of what the answer needs, against a fresh block at the default budget.
Each task's context is gathered for a cursor at the start of the line `k` lines above the task's (forward
typing: the lines between are not written yet, the rest of the file after the answer line is), then judged
against the answer and the task's own in-file text exactly as `bench context` judges it.

    python bench/stale_context.py bench-results/tasks/unseen-py-lines.jsonl --back 0,3,10 \
        --config bench/configs/context-1536.toml

With `--out DIR` (one `--back` value) the model runs too: each task is completed at its own cursor with the
block chosen that many lines up, as `bench run` would run the `housecoder` setting (records, report and
summary in DIR, paired with other runs by `bench/compare_results.py`).

    python bench/stale_context.py bench-results/tasks/unseen-py-lines.jsonl --back 5 --limit 150 \
        --config bench/configs/context-1536.toml --out bench-results/runs/unseen/py-1536-back5
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from functools import partial
from pathlib import Path

from housecoder.benchmarks.recall import markdown, measure, summarize
from housecoder.cli.bench import _index_opener, prompt_only_runner
from housecoder.cli.common import RichProgress, stderr_console
from housecoder.completion.engine import CompletionInput
from housecoder.completion.loading import load_backend
from housecoder.config import Settings, apply_config_file, load_settings
from housecoder.evaluation.report import write_report
from housecoder.evaluation.runner import ResultsFile, Runner, RunSpec
from housecoder.evaluation.tasks import Task, read_tasks
from housecoder.evaluation.tasks import limit as pick_tasks
from housecoder.inference.base import device_of


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
    parser.add_argument("--limit", type=int, help="only N tasks, drawn with --seed (as `bench run`)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="run the model too (one --back value); results here")
    args = parser.parse_args()
    tasks: list[Task] = pick_tasks(read_tasks(args.tasks), args.limit, args.seed)
    settings = load_settings(Path.cwd())
    if args.config:
        settings = apply_config_file(settings, args.config)
    progress = RichProgress(stderr_console())
    if args.out:
        if "," in args.back:
            parser.error("--out runs the model for one --back value")
        run_model(settings, tasks, int(args.back), args.out, progress, args.seed)
        return
    runner = prompt_only_runner(settings, progress)
    hits = []
    for back in (int(value) for value in args.back.split(",")):
        at = partial(earlier, back=back)
        hits += measure(runner, tasks, ["housecoder"], progress, at=at, label=f"{back} lines up")
    title = f"Context chosen k lines up, {args.tasks.name}, {args.config or 'defaults'}"
    print(markdown(summarize(hits), title))


def run_model(
    settings: Settings, tasks: list[Task], back: int, out: Path, progress: RichProgress, seed: int
) -> None:
    """Complete each task with the block chosen `back` lines up; records resume from `out`."""
    backend = load_backend(settings, progress)
    runner = Runner(
        backend,
        settings,
        open_index=_index_opener(settings, progress),
        context_at=partial(earlier, back=back),
    )
    results = ResultsFile(out / "results.jsonl", resume=True)
    runner.run(tasks, [RunSpec("housecoder")], results, progress, seed=seed)
    wanted = {task.task_id for task in tasks}
    records = [record for record in results.records if record.task_id in wanted]
    meta = {
        "tasks": len(tasks),
        "seed": seed,
        "back": back,
        "context": settings.context.for_device(device_of(backend)).model_dump(),
    }
    write_report(records, out, f"block chosen {back} lines up: {len(tasks)} tasks", meta, seed=seed)
    print((out / "report.md").read_text(), end="")


if __name__ == "__main__":
    main()
