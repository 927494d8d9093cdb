"""The tasks whose prompt a config file changes, so a context change is run by the model only where it acts.

With greedy decoding a request's output depends only on its prompt, so on a task whose prompt a setting
leaves unchanged its result is the default's. A change that fires on a few tasks in a hundred is then
measured on exactly those (the paired difference over all tasks is the one over these, scaled by their
share), in minutes instead of hours. Prompts are built as `bench context` builds them (no model; the
tokenizer counts the budgets). Writes the changed tasks as a task file and prints how many changed.

    python bench/changed_prompts.py bench-results/tasks/unseen-py-lines.jsonl \
        --config bench/configs/ablations/context-1536.toml -o bench-results/tasks/unseen-py-lines-1536.jsonl
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

from housecoder.benchmarks.runners import prompt_only_runner
from housecoder.cli.common import RichProgress, stderr_console
from housecoder.completion.loading import prompt_token_counter
from housecoder.config import Settings, apply_config_file, load_settings
from housecoder.evaluation.runner import RunSpec
from housecoder.evaluation.tasks import Task, read_tasks


def _prompts(count: Callable[[str], int], settings: Settings, tasks: list[Task], run: str) -> dict[str, str]:
    runner = prompt_only_runner(settings, RichProgress(stderr_console()), count=count)
    prompts = {}
    for task in tasks:
        engine, request = runner.prepare(RunSpec(run), task)
        prompts[task.task_id] = engine.build_prompt(request)[0]
    return prompts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tasks", type=Path)
    parser.add_argument("--config", type=Path, required=True, help="the setting to compare with the default")
    parser.add_argument("--run", default="housecoder", help="context setting (default: housecoder)")
    parser.add_argument("-o", "--out", type=Path, required=True, help="task file of the changed tasks")
    args = parser.parse_args()
    tasks = read_tasks(args.tasks)
    default = load_settings(Path.cwd())
    # one tokenizer for both settings: the config must not change the model, or prompts differ by design
    count = prompt_token_counter(default, RichProgress(stderr_console()))
    before = _prompts(count, default, tasks, args.run)
    after = _prompts(count, apply_config_file(default, args.config), tasks, args.run)
    changed = {task_id for task_id in before if before[task_id] != after[task_id]}
    lines = [line for line in args.tasks.read_text().splitlines() if json.loads(line)["task_id"] in changed]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("".join(line + "\n" for line in lines))
    print(f"{len(changed)} of {len(tasks)} prompts changed by {args.config}; written to {args.out}")


if __name__ == "__main__":
    main()
