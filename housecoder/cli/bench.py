"""`housecoder bench`: completion quality (`make-tasks`, `run`, `compare`, `heldout`) and latency (`latency`).

`make-tasks` writes a task file (the design doc's JSONL format) from a repository
(RepoEval-style), HumanEval-FIM's parquet or a CrossCodeEval inputs file; `run`
evaluates any task file under several context settings with the real completion
engine and writes results.jsonl, summary.json, report.md and chart.png; `report`
writes the last three again from a results.jsonl (a run stopped part-way).
`compare A B` sets two results folders side by side, paired
(`housecoder.evaluation.compare`); `heldout RUN...` an adapter's paired gain on
its training run's held-out middles (`housecoder.training.heldout_gain`).

`context` builds the same prompts without a model and reports how often each
setting's snippets hold what the answer needs (`housecoder.benchmarks.recall`).

`keep FOLDER...` fits the keep-probability on a run's suggestions and measures the gate it sets
(`housecoder.benchmarks.keep`).

`latency REPO` replays typing sessions on several runtimes side by side
(`housecoder.benchmarks.latency`, each runtime in its own process).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from housecoder.benchmarks.latency import RUNTIMES
from housecoder.cli.common import RichProgress, State, stderr_console
from housecoder.machine import cpu_name, usable_cores

bench_app = typer.Typer(
    help="Benchmarks: completion quality on task files, latency on replayed typing.", no_args_is_help=True
)


@bench_app.command("latency")
def latency(
    ctx: typer.Context,
    repo: Annotated[
        Path, typer.Argument(help="Repository whose files are typed in (indexed first for retrieval).")
    ],
    runtimes: Annotated[
        str, typer.Option("--runtimes", help=f"Comma-separated, from: {', '.join(RUNTIMES)}.")
    ] = "llama.cpp,transformers,llama-server",
    lines: Annotated[int, typer.Option("--lines", min=1, help="Typing sessions (one line each).")] = 8,
    per_file: Annotated[
        int,
        typer.Option(
            "--lines-per-file",
            min=1,
            help="Type runs of this many lines of a file, one after the other (1: every line in another file).",
        ),
    ] = 1,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    interval_ms: Annotated[
        int, typer.Option("--interval-ms", min=0, help="Time between keystrokes within a word.")
    ] = 100,
    llama_server: Annotated[
        Path | None,
        typer.Option("--llama-server", help="llama-server binary (scripts/build_llama_server.sh)."),
    ] = None,
    keep_cache: Annotated[
        bool,
        typer.Option(
            "--with-completion-cache",
            help="Keep the completion cache on (off: every request reaches the model).",
        ),
    ] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write every request and the summary as JSON here.")
    ] = None,
    line_pause_ms: Annotated[
        int,
        typer.Option(
            "--line-pause-ms",
            min=0,
            help="The user pauses this long before typing each line (idle prefill's case); 0: types at once.",
        ),
    ] = 0,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="A housecoder.toml-style file applied on top of the project settings (each runtime).",
        ),
    ] = None,
) -> None:
    """Replay typing sessions on each runtime: latency at pauses, time to first token, prefill with and
    without KV reuse, peak memory."""
    from rich.console import Console
    from rich.table import Table

    from housecoder.benchmarks.latency import (
        COLUMNS,
        REFERENCE,
        ReplayOptions,
        against_reference,
        measure_runtime,
        pick_runtimes,
        table_rows,
    )
    from housecoder.benchmarks.replay import replay_title
    from housecoder.cli.common import store_for
    from housecoder.errors import HousecoderError
    from housecoder.indexer.service import index_repository

    state: State = ctx.obj
    root = repo.resolve()
    if not root.is_dir():
        raise HousecoderError(f"{repo}: not a directory")
    wanted = pick_runtimes(runtimes)
    if REFERENCE in wanted and (llama_server is None or not llama_server.is_file()):
        raise HousecoderError(
            "llama-server needs --llama-server PATH (build it with scripts/build_llama_server.sh)"
        )
    settings = state.settings(root)
    if config is not None:
        from housecoder.config import apply_config_file

        settings = apply_config_file(settings, config)  # a bad file stops here, in one line
    index_repository(root, settings, store_for(settings), RichProgress(stderr_console()))
    options = ReplayOptions(lines, per_file, seed, interval_ms, line_pause_ms, keep_cache)
    worker = [
        sys.executable,
        "-m",
        "housecoder",
        *(["--project", str(state.project)] if state.project else []),
        "bench",
        "latency-worker",
        *(["--config", str(config.resolve())] if config else []),
    ]
    results: dict[str, Any] = {}
    console = stderr_console()
    for runtime in wanted:
        console.print(f"[bold]{runtime}[/]: replaying {lines} typing sessions ...")
        results[runtime] = measure_runtime(
            settings, root, runtime, options, worker=worker, llama_server=llama_server
        )
    replayed = min((result["summary"].get("lines", lines) for result in results.values()), default=lines)
    table = Table(title=replay_title(root.name, lines, replayed, per_file, interval_ms, line_pause_ms))
    for column in COLUMNS:
        table.add_column(column, justify="left" if column == "runtime" else "right")
    for row in table_rows(results):
        table.add_row(*row)
    Console(width=160).print(table)
    for line in against_reference(results):
        print(line)
    if out is not None:
        out.write_text(json.dumps(results, indent=1))


@bench_app.command("latency-worker", hidden=True)
def latency_worker(
    ctx: typer.Context,
    repo: Path,
    runtime: str,
    lines: Annotated[int, typer.Option("--lines")] = 8,
    per_file: Annotated[int, typer.Option("--lines-per-file")] = 1,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    interval_ms: Annotated[int, typer.Option("--interval-ms")] = 100,
    url: Annotated[str | None, typer.Option("--url")] = None,
    keep_cache: Annotated[bool, typer.Option("--with-completion-cache")] = False,
    line_pause_ms: Annotated[int, typer.Option("--line-pause-ms")] = 0,
    config: Annotated[Path | None, typer.Option("--config")] = None,
) -> None:
    """One runtime's replay, printed as JSON (run by `bench latency` in its own process)."""
    from housecoder.benchmarks.latency import ReplayOptions, replay_runtime, runtime_settings
    from housecoder.config import apply_config_file

    state: State = ctx.obj
    root = repo.resolve()
    settings = state.settings(root)
    if config is not None:
        settings = apply_config_file(settings, config)
    options = ReplayOptions(lines, per_file, seed, interval_ms, line_pause_ms, keep_cache)
    result = replay_runtime(runtime_settings(settings, runtime, url, keep_cache), root, options)
    print(json.dumps(result))


@bench_app.command("make-tasks")
def make_tasks_command(
    ctx: typer.Context,
    source: Annotated[
        Path,
        typer.Argument(help="A repository, HumanEval-FIM's .parquet, or a CrossCodeEval *.inputs.jsonl."),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Task file to write (JSONL).")],
    kinds: Annotated[
        str, typer.Option("--kinds", help="Repository task kinds: line, api, function, convention.")
    ] = "line,api,function",
    count: Annotated[int, typer.Option("--count", min=1, help="Tasks per kind (repository).")] = 150,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    since: Annotated[
        str | None, typer.Option("--since", help="Only code added after this commit (repository).")
    ] = None,
    max_per_file: Annotated[
        int, typer.Option("--max-per-file", min=0, help="0: enough for --count from half the files.")
    ] = 0,
    languages: Annotated[
        str, typer.Option("--languages", help="HumanEval-FIM languages: python, javascript, java.")
    ] = "python",
    from_history: Annotated[
        bool,
        typer.Option(
            "--from-history",
            help="From the suggestions recorded in this workspace: what the user kept, and rewrote.",
        ),
    ] = False,
) -> None:
    """Write a task file from a repository (RepoEval-style lines, API calls and function bodies), a published set,
    or (--from-history) the user's own accepted and rewritten suggestions."""
    from housecoder.benchmarks.datasets import cceval_tasks, humaneval_tasks
    from housecoder.benchmarks.repotasks import TaskOptions, make_tasks
    from housecoder.evaluation.tasks import TaskError, write_tasks

    state: State = ctx.obj
    if from_history:
        from housecoder.evaluation.history import workspace_history

        if not source.is_dir():
            raise TaskError(f"{source}: --from-history takes the workspace folder the server recorded")
        root = source.resolve()
        tasks, recorded = workspace_history(state.settings(root), root)
        if not tasks:
            raise TaskError(
                f"{root}: no kept or rewritten suggestions recorded yet ({recorded} suggestions in its store); "
                "accepted ones become tasks after their first retention check"
            )
    elif source.is_dir():
        root = source.resolve()
        options = TaskOptions(
            kinds=tuple(k.strip() for k in kinds.split(",") if k.strip()),
            count=count,
            seed=seed,
            since=since,
            max_per_file=max_per_file,
        )
        tasks = make_tasks(root, state.settings(root).index, options)
    elif source.suffix == ".parquet":
        tasks = humaneval_tasks(source, tuple(name.strip() for name in languages.split(",") if name.strip()))
    elif source.name.endswith(".jsonl"):
        tasks = cceval_tasks(source)
    else:
        raise TaskError(
            f"{source}: expected a repository directory, a HumanEval-FIM .parquet or a CrossCodeEval .jsonl"
        )
    written = write_tasks(out, tasks, relative_to=out.parent)
    from collections import Counter

    by_kind = ", ".join(f"{kind} {n}" for kind, n in Counter(task.kind for task in tasks).items())
    stderr_console().print(f"wrote {written} tasks to {out} ({by_kind})")


@bench_app.command("run")
def run_command(
    ctx: typer.Context,
    tasks_file: Annotated[
        Path, typer.Argument(help="Task file (JSONL) from `bench make-tasks` or elsewhere.")
    ],
    runs: Annotated[
        str,
        typer.Option(
            "--runs", help="Context settings: infile, sparse, housecoder, provided, provided-comment."
        ),
    ] = "infile,sparse,housecoder,provided,provided-comment",
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Results folder (default bench-results/<task file name>)."),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="A housecoder.toml-style file applied on top of the project settings."),
    ] = None,
    adapter: Annotated[
        Path | None,
        typer.Option("--adapter", help="LoRA adapter for the +adapter runs (default: the configured one)."),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            min=1,
            help="Run only N tasks, drawn with --seed (after the adapter's training files are left out).",
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    resume: Annotated[
        bool, typer.Option("--resume", help="Keep results.jsonl and run only what is missing.")
    ] = False,
    realtime: Annotated[
        bool, typer.Option("--realtime", help="Keep the context sources' time budgets (default: 10 s each).")
    ] = False,
    max_new_tokens_multi: Annotated[
        int, typer.Option("--max-new-tokens-multi", min=1, help="Budget for multi-line tasks.")
    ] = 256,
    all_files: Annotated[
        bool,
        typer.Option(
            "--all-files",
            help="Keep tasks in files the adapter trained on (default: its held-out files only).",
        ),
    ] = False,
    cursor: Annotated[
        str,
        typer.Option(
            "--cursor",
            help="Where one-line tasks put the cursor: as-is, word (part of the line typed, up to a space or symbol) or mid-word (inside an identifier); tasks without such a place are left out.",
        ),
    ] = "as-is",
) -> None:
    """Evaluate a task file: exact match, edit similarity, identifier match, latency, with and without
    repository context and adapter; paired comparisons; JSON, markdown and PNG."""
    import datetime
    import platform

    from housecoder.benchmarks.runners import index_opener
    from housecoder.completion.loading import load_backend
    from housecoder.config import apply_config_file
    from housecoder.errors import HousecoderError
    from housecoder.evaluation.report import write_report
    from housecoder.evaluation.runner import ResultsFile, Runner, parse_runs
    from housecoder.evaluation.tasks import limit as pick_tasks
    from housecoder.evaluation.tasks import outside_training, read_tasks, typed_into
    from housecoder.inference.base import device_of
    from housecoder.models.adapters import trained_files

    state: State = ctx.obj
    settings = state.settings()
    if config is not None:
        settings = apply_config_file(settings, config)
    tasks = read_tasks(tasks_file)
    if cursor != "as-is":
        placed = [moved for moved in (typed_into(task, cursor) for task in tasks) if moved is not None]
        stderr_console().print(f"--cursor {cursor}: {len(placed)} of {len(tasks)} tasks have such a place")
        tasks = placed
    active = (
        adapter.resolve() if adapter else (Path(settings.models.adapter) if settings.models.adapter else None)
    )
    console = stderr_console()
    if active is not None:  # checked against the model before its weights load (missing, other base)
        settings = settings.model_copy(
            update={"models": settings.models.model_copy(update={"adapter": str(active)})}
        )
        trained = None if all_files else trained_files(active)
        if trained is not None:  # every run on the same tasks, so the comparisons stay paired
            kept = outside_training(tasks, *trained)
            if len(kept) < len(tasks):
                console.print(
                    f"left out {len(tasks) - len(kept)} of {len(tasks)} tasks in files the adapter trained on "
                    f"(--all-files keeps them)"
                )
            tasks = kept
            if not tasks:
                raise HousecoderError(
                    f"{tasks_file}: every task lies in a file the adapter {active} trained on; "
                    "use tasks from its held-out files, or --all-files"
                )
    tasks = pick_tasks(tasks, limit, seed)  # drawn from what can be scored, so --limit N runs N tasks
    specs = parse_runs(runs, adapter=active is not None)
    progress = RichProgress(console)
    backend = load_backend(settings, progress)
    folder = out or Path("bench-results") / tasks_file.name.removesuffix(".jsonl")
    results = ResultsFile(folder / "results.jsonl", resume=resume)
    runner = Runner(
        backend,
        settings,
        open_index=index_opener(settings, progress),
        adapter=active,
        max_new_tokens_multi=max_new_tokens_multi,
        realtime=realtime,
    )
    console.print(
        f"{len(tasks)} tasks, runs: {', '.join(spec.name for spec in specs)}; model {backend.describe()}"
    )
    runner.run(tasks, specs, results, progress, seed=seed)
    wanted_ids = {task.task_id for task in tasks}
    wanted_runs = {spec.name for spec in specs}
    records = [r for r in results.records if r.task_id in wanted_ids and r.run in wanted_runs]
    meta = {
        "tasks_file": str(tasks_file),
        "tasks": len(tasks),
        "limit": limit,
        "seed": seed,
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "model": settings.models.code_model,
        "backend": backend.describe(),
        "adapter": str(active) if active else None,
        "machine": f"{platform.machine()}, {usable_cores()} cores, {cpu_name()}",
        "realtime": realtime,
        "completion": settings.completion.model_dump(),
        "context": settings.context.for_device(device_of(backend)).model_dump(),
    }
    title = f"{tasks_file.name}: {len(tasks)} tasks"
    write_report(records, folder, title, meta, seed=seed)
    print((folder / "report.md").read_text(), end="")  # the bootstrap intervals are not computed twice
    console.print(f"results in {folder}/ (results.jsonl, summary.json, report.md, chart.png)")


@bench_app.command("report")
def report_command(
    folder: Annotated[Path, typer.Argument(help="A `bench run` results folder (holding results.jsonl).")],
    title: Annotated[
        str | None,
        typer.Option("--title", help="Heading of report.md and the chart (default: the folder's name)."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap intervals.")] = 0,
    every_record: Annotated[
        bool, typer.Option("--every-record", help="Keep tasks that some runs have not done yet.")
    ] = False,
) -> None:
    """Write summary.json, report.md and chart.png again from a folder's results.jsonl, without the model:
    for a run stopped part-way (by default only the tasks every run has done, so the comparisons stay
    paired) or results gathered over several sessions."""
    from housecoder.errors import HousecoderError
    from housecoder.evaluation.report import complete_tasks, write_report
    from housecoder.evaluation.runner import read_records

    results = folder / "results.jsonl"
    if not results.is_file():
        raise HousecoderError(
            f"{folder}: no results.jsonl there; `housecoder bench run TASKS --out {folder}` writes one"
        )
    records, bad = read_records(results)
    console = stderr_console()
    if bad:
        console.print(f"{results}: {len(bad)} unreadable line(s) left out (first at line {bad[0]})")
    kept = records if every_record else complete_tasks(records)
    if not kept:
        raise HousecoderError(
            f"{results}: no task has a result under every run yet (--every-record shows what there is)"
        )
    summary = folder / "summary.json"
    try:
        meta = json.loads(summary.read_text())["meta"] if summary.is_file() else {}
    except (ValueError, KeyError, TypeError):
        meta = {}
    tasks = len({record.task_id for record in kept})
    meta.update(
        {"tasks": tasks, "records": len(kept), "rewritten_from_results": True, "every_record": every_record}
    )
    write_report(kept, folder, f"{title or folder.name}: {tasks} tasks", meta, seed=seed)
    print((folder / "report.md").read_text(), end="")
    left = len({record.task_id for record in records}) - tasks
    console.print(
        f"{tasks} tasks"
        + (f" ({left} left out: not done by every run)" if left else "")
        + f"; written to {folder}/ (summary.json, report.md, chart.png)"
    )


@bench_app.command("context")
def context_command(
    ctx: typer.Context,
    tasks_file: Annotated[
        Path, typer.Argument(help="Task file (JSONL) from `bench make-tasks` or elsewhere.")
    ],
    runs: Annotated[
        str,
        typer.Option(
            "--runs", help="Context settings: sparse, housecoder, provided, provided-comment, infile."
        ),
    ] = "sparse,housecoder",
    config: Annotated[
        Path | None,
        typer.Option("--config", help="A housecoder.toml-style file applied on top of the project settings."),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Only N tasks, drawn with --seed.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write every task's result as JSONL here.")
    ] = None,
    realtime: Annotated[
        bool,
        typer.Option(
            "--realtime",
            help="Keep the context sources' time budgets (default: 10 s each), so the context time is the served one.",
        ),
    ] = False,
) -> None:
    """How often each setting's prompt holds what the answer needs (its line, the names its file lacks),
    without running the model: seconds per task, for trying retrieval changes before `bench run`."""
    import dataclasses

    from housecoder.benchmarks.recall import compare, markdown, measure, summarize
    from housecoder.benchmarks.runners import prompt_only_runner
    from housecoder.config import apply_config_file
    from housecoder.evaluation.runner import parse_runs
    from housecoder.evaluation.tasks import limit as pick_tasks
    from housecoder.evaluation.tasks import read_tasks

    state: State = ctx.obj
    settings = state.settings()
    if config is not None:
        settings = apply_config_file(settings, config)
    tasks = pick_tasks(read_tasks(tasks_file), limit, seed)
    contexts = [spec.context for spec in parse_runs(runs, adapter=False)]
    progress = RichProgress(stderr_console())
    runner = prompt_only_runner(settings, progress, realtime=realtime)
    hits = measure(runner, tasks, contexts, progress)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("".join(json.dumps(dataclasses.asdict(hit)) + "\n" for hit in hits))
    print(markdown(summarize(hits), f"{tasks_file.name}: {len(tasks)} tasks, context recall"), end="")
    for other in contexts[1:]:  # each against the first setting
        better, worse = compare(hits, other, contexts[0])
        print(
            f"\n{other} holds every outside name where {contexts[0]} does not: {len(better)} tasks; "
            f"the reverse: {len(worse)}"
        )
    errors = [hit for hit in hits if hit.error]
    if errors:
        print(f"{len(errors)} prompts failed, first: {errors[0].task_id}: {errors[0].error}")


@bench_app.command("compare")
def compare_command(
    a: Annotated[Path, typer.Argument(help="A `bench run` results folder (holding results.jsonl).")],
    b: Annotated[Path, typer.Argument(help="Another, over the same tasks under another configuration.")],
    runs: Annotated[
        str, typer.Option("--runs", help="Comma-separated runs to compare (default: every run both have).")
    ] = "",
) -> None:
    """B against A on the tasks both completed, run by run: paired exact match and edit similarity (B − A,
    bootstrap 95% intervals), by task kind and pooled, with prompt tokens and the model's median seconds."""
    from housecoder.errors import HousecoderError
    from housecoder.evaluation.compare import compare_folders

    for folder in (a, b):
        if not (folder / "results.jsonl").is_file():
            raise HousecoderError(f"{folder}: no results.jsonl there; `housecoder bench run` writes one")
    print("\n".join(compare_folders(a, b, [run.strip() for run in runs.split(",") if run.strip()])))


@bench_app.command("heldout")
def heldout_command(
    runs: Annotated[list[Path], typer.Argument(help="`housecoder train` run directories.")],
    own: Annotated[
        str,
        typer.Option("--own", help="Comma-separated: how many held-out samples each run drew itself."),
    ] = "",
    versus: Annotated[
        str,
        typer.Option("--versus", help="Comma-separated: per run, the run whose adapter is 'before'."),
    ] = "",
) -> None:
    """An adapter's gain on its run's held-out middles: exact match and edit similarity before and after,
    paired (bootstrap 95% intervals), per run, the run's own middles and those drawn later, per kind and
    pooled over the runs; with --versus, one run's adapter against another's on the same middles."""
    from housecoder.training.errors import TrainingError
    from housecoder.training.heldout_gain import heldout_report

    try:
        counts = [int(n) for n in own.split(",") if n.strip()]
    except ValueError:
        raise TrainingError(f"--own {own!r}: give whole numbers, one per run directory") from None
    others = [Path(p.strip()).expanduser() for p in versus.split(",") if p.strip()]
    print("\n".join(heldout_report(runs, counts, others)))


@bench_app.command("keep")
def keep_command(
    folders: Annotated[
        list[Path], typer.Argument(help="`bench run` results folders whose records hold signals.")
    ],
    out: Annotated[Path, typer.Option("-o", "--out", help="Folder for the figures and model.json.")],
    run: Annotated[str, typer.Option("--run", help="The run whose suggestions are gated.")] = "housecoder",
    features: Annotated[
        str, typer.Option("--features", help="Comma-separated signals the model reads (default: all).")
    ] = "",
    served: Annotated[
        bool,
        typer.Option(
            "--served",
            help="Score each suggestion with the p_keep it was served with (the run's own model; one "
            "repository is enough) instead of fitting; no model.json.",
        ),
    ] = False,
    threshold: Annotated[
        float | None,
        typer.Option(
            "--threshold",
            min=0.0,
            max=1.0,
            help="Report the gate at this threshold (default: the best expected value's).",
        ),
    ] = None,
    model: Annotated[
        Path | None,
        typer.Option(
            "--model",
            help="A keep model (JSON) to score every suggestion with instead of fitting (one repository is "
            "enough; no model.json), compared with the p_keep they were served with.",
        ),
    ] = None,
    code_model: Annotated[
        str | None,
        typer.Option(
            "--code-model",
            help="The code model the runs used (the `bench run --config`'s `models.code_model`): said in "
            "model.json; with --served the simulated history starts from the keep model shipped for it.",
        ),
    ] = None,
) -> None:
    """The keep-probability gate on benchmark suggestions: each repository scored by a model fitted on the
    others (or, with --served, by the model the run used; with --model, by that one); precision and recall of the shown suggestions over
    thresholds, calibration, the threshold with the best expected value; writes summary.json, report.md,
    chart.png and model.json (fitted on all)."""
    from housecoder.benchmarks.keep import evaluate, markdown, write_chart
    from housecoder.errors import HousecoderError
    from housecoder.evaluation.runner import read_records

    records = []
    for folder in folders:
        results = folder / "results.jsonl"
        if not results.is_file():
            raise HousecoderError(f"{folder}: no results.jsonl there; `housecoder bench run` writes one")
        records += [record for record in read_records(results)[0] if record.run == run]
    from housecoder.keep import FEATURES

    chosen = [name.strip() for name in features.split(",") if name.strip()] or list(FEATURES)
    unknown = sorted(set(chosen) - set(FEATURES))
    if unknown:
        raise HousecoderError(
            f"--features: unknown signal {unknown[0]!r}; the signals: {', '.join(FEATURES)}"
        )
    from housecoder.errors import MissingDependency, first_line

    scorer = None
    if model is not None:
        if served:
            raise HousecoderError("bench keep: give --model or --served, not both")
        from housecoder.keep import KeepModel

        try:
            scorer = KeepModel.from_json(model.read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise HousecoderError(f"--model {model}: not a keep model ({first_line(err)})") from None
        chosen = list(scorer.features)  # what it reads
    lacking = [r.task_id for r in records if r.signals and any(name not in r.signals for name in chosen)]
    if lacking:
        raise HousecoderError(
            f"{lacking[0]}: its record lacks some of the signals asked for (recorded by another version); "
            "run the tasks again or choose --features"
        )
    about: dict[str, Any] = {"folders": [str(folder) for folder in folders], "run": run, "cpu": cpu_name()}
    if code_model:
        about["code_model"] = code_model
    if scorer is not None:
        about["model"] = str(model)
    try:
        summary, fitted = evaluate(
            records, about=about, features=chosen, served=served, threshold=threshold, scorer=scorer
        )
    except ImportError as err:
        raise MissingDependency("scikit-learn", "bench") from err
    except ValueError as err:
        raise HousecoderError(f"bench keep: {err}") from None
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    (out / "report.md").write_text(markdown(summary))
    if fitted is not None:
        (out / "model.json").write_text(fitted.to_json())
    write_chart(summary, out / "chart.png")
    print(markdown(summary), end="")
    written = "summary.json, report.md, chart.png" + (", model.json" if fitted is not None else "")
    stderr_console().print(f"written to {out}/ ({written})")
