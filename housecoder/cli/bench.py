"""`housecoder bench`: completion quality (`make-tasks`, `run`) and latency (`latency`).

`make-tasks` writes a task file (the design doc's JSONL format) from a repository
(RepoEval-style), HumanEval-FIM's parquet or a CrossCodeEval inputs file; `run`
evaluates any task file under several context settings with the real completion
engine and writes results.jsonl, summary.json, report.md and chart.png; `report`
writes the last three again from a results.jsonl (a run stopped part-way).

`context` builds the same prompts without a model and reports how often each
setting's snippets hold what the answer needs (`housecoder.benchmarks.recall`).

`latency REPO` replays typing sessions on several runtimes side by side.

Each runtime runs in its own process (so its peak memory is its own) over the
same sessions, with the repository's index for retrieval. The reference is
llama.cpp's own `llama-server` on the same GGUF with `cache_prompt` (and
`--cache-reuse`, as llama.cpp's editor plugins run it), driven through the
OpenAI-compatible backend with the same prompts.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from housecoder.cli.common import RichProgress, State, stderr_console
from housecoder.machine import usable_cores

bench_app = typer.Typer(
    help="Benchmarks: completion quality on task files, latency on replayed typing.", no_args_is_help=True
)

RUNTIMES: dict[str, dict[str, Any]] = {
    "llama.cpp": {"inference": {"runtime": "llama.cpp"}},
    "llama.cpp-no-reuse": {"inference": {"runtime": "llama.cpp", "kv_cache_entries": 0}},
    "llama.cpp-wave1": {
        "inference": {"runtime": "llama.cpp"},
        "completion": {"layout": "psm", "reuse_in_flight": False},
    },
    "llama.cpp-psm": {"inference": {"runtime": "llama.cpp"}, "completion": {"layout": "psm"}},
    "llama.cpp-line-start": {"inference": {"runtime": "llama.cpp"}, "completion": {"layout": "line-start"}},
    "llama.cpp-whole-prompt": {
        "inference": {"runtime": "llama.cpp"},
        "completion": {"layout": "line-start", "cold_prefill_tokens": 0},
    },
    "llama.cpp-0.5b": {
        "models": {"code_model": "qwen2.5-coder-0.5b-instruct"},
        "inference": {"runtime": "llama.cpp"},
        "completion": {"layout": "line-start"},
    },
    "transformers": {"inference": {"runtime": "transformers"}},
    "transformers-no-reuse": {"inference": {"runtime": "transformers", "kv_cache_entries": 0}},
    "llama-server": {"inference": {"runtime": "openai"}},
}


def _python_files(root: Path) -> list[Path]:
    skip = {"tests", "test", "testing", "docs", "examples", "build", ".git", ".venv", "node_modules"}
    return [
        p
        for p in root.rglob("*.py")
        if not skip & set(p.relative_to(root).parts[:-1]) and p.name != "setup.py"
    ]


def _settings(
    state: State, root: Path, runtime: str, url: str | None, keep_cache: bool, config: Path | None = None
) -> Any:
    from housecoder.config import CPU_CONTEXT_TOKENS, Settings, apply_config_file, merge_sections

    settings: Settings = state.settings(root)
    if config is not None:
        settings = apply_config_file(settings, config)
    overrides = copy.deepcopy(RUNTIMES[runtime])
    if url:
        overrides["inference"]["url"] = url
    if runtime == "llama-server":  # on this machine's CPU: the CPU's snippet budget, as llama.cpp gets
        overrides["context"] = {"max_tokens": CPU_CONTEXT_TOKENS}
    if not keep_cache:
        overrides["server"] = {"cache_entries": 0}  # measure the model path, not the completion cache
    return Settings.model_validate(merge_sections(settings.model_dump(), overrides))


def _start_llama_server(binary: Path, gguf: Path, threads: int, port: int) -> subprocess.Popen[bytes]:
    import urllib.request

    command = [
        str(binary),
        "--model",
        str(gguf),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--ctx-size",
        "4096",
        "--threads",
        str(threads),
        "--threads-batch",
        str(threads),
        "--cache-reuse",
        "256",
        "--parallel",
        "1",
        "--no-webui",
    ]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.5)
        if server.poll() is not None:
            break
    server.kill()
    from housecoder.errors import HousecoderError

    raise HousecoderError(f"{binary}: llama-server did not start (exit {server.poll()})")


def _own_peak_rss_mb() -> float | None:
    """This process's peak resident memory (None where the system does not say: Windows)."""
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB on Linux


def _peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


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

    from housecoder.benchmarks.replay import replay_title
    from housecoder.errors import HousecoderError

    state: State = ctx.obj
    root = repo.resolve()
    if not root.is_dir():
        raise HousecoderError(f"{repo}: not a directory")
    wanted = [name.strip() for name in runtimes.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in RUNTIMES]
    if unknown:
        raise HousecoderError(f"unknown runtime {unknown[0]!r}: use {', '.join(RUNTIMES)}")
    if "llama-server" in wanted and (llama_server is None or not llama_server.is_file()):
        raise HousecoderError(
            "llama-server needs --llama-server PATH (build it with scripts/build_llama_server.sh)"
        )
    from housecoder.cli.common import store_for
    from housecoder.indexer.service import index_repository

    settings = state.settings(root)
    if config is not None:
        from housecoder.config import apply_config_file

        settings = apply_config_file(settings, config)  # a bad file stops here, in one line
    index_repository(root, settings, store_for(settings), RichProgress(stderr_console()))
    results: dict[str, Any] = {}
    console = stderr_console()
    for runtime in wanted:
        console.print(f"[bold]{runtime}[/]: replaying {lines} typing sessions ...")
        server = None
        url = None
        try:
            if runtime == "llama-server":
                from housecoder.completion.loading import gguf_of

                gguf = gguf_of(store_for(settings).resolve(settings.models.code_model, "code").path)
                if gguf is None:
                    raise HousecoderError(f"{settings.models.code_model}: no GGUF for llama-server")
                assert llama_server is not None
                server = _start_llama_server(llama_server, gguf, usable_cores(), 8089)
                url = "http://127.0.0.1:8089"
            command = [
                sys.executable,
                "-m",
                "housecoder",
                *(["--project", str(state.project)] if state.project else []),
                "bench",
                "latency-worker",
                str(root),
                runtime,
                "--lines",
                str(lines),
                "--lines-per-file",
                str(per_file),
                "--seed",
                str(seed),
                "--interval-ms",
                str(interval_ms),
                "--line-pause-ms",
                str(line_pause_ms),
                *(["--url", url] if url else []),
                *(["--with-completion-cache"] if keep_cache else []),
                *(["--config", str(config.resolve())] if config else []),
            ]
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 0:
                raise HousecoderError(
                    f"{runtime}: the replay failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}"
                )
            result = json.loads(done.stdout)
            if server is not None:
                result["summary"]["server_peak_rss_mb"] = _peak_rss_mb(server.pid)
                result["summary"]["peak_rss_mb"] += result["summary"]["server_peak_rss_mb"]
            results[runtime] = result
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=30)
    replayed = min((result["summary"].get("lines", lines) for result in results.values()), default=lines)
    table = Table(title=replay_title(root.name, lines, replayed, per_file, interval_ms, line_pause_ms))
    for column in (
        "runtime",
        "p50 s",
        "p95 s",
        "line start p50 s",
        "TTFT p50 s",
        "prompt tok",
        "prefill tok",
        "reused",
        "cold",
        "context",
        "exact",
        "peak RSS MB",
        "answered",
    ):
        table.add_column(column, justify="left" if column == "runtime" else "right")

    def fmt(value: Any, pattern: str = "{:.2f}") -> str:
        return "-" if value is None else pattern.format(value)

    for runtime, result in results.items():
        s = result["summary"]
        remote = runtime == "llama-server"  # its cache hits are not reported on a stream closed at the stop
        table.add_row(
            runtime,
            fmt(s["p50_s"]),
            fmt(s["p95_s"]),
            fmt(s.get("line_start_p50_s")),
            fmt(s["ttft_p50_s"]),
            fmt(s["prompt_tokens_mean"], "{:.0f}"),
            "n/a" if remote else fmt(s["prefill_tokens_mean"], "{:.0f}"),
            "n/a" if remote else fmt(s["reused_fraction"], "{:.0%}"),
            "n/a" if remote else fmt(s.get("cold_fraction"), "{:.0%}"),
            fmt(s.get("with_context_fraction"), "{:.0%}"),
            fmt(s["exact_at_pauses"], "{:.0%}"),
            fmt(s["peak_rss_mb"], "{:.0f}"),
            f"{s['pauses_answered']}/{s['pauses']}",
        )
    Console(width=160).print(table)
    reference = results.get("llama-server", {}).get("summary")
    if reference and reference["p50_s"]:
        for runtime, result in results.items():
            if runtime != "llama-server" and result["summary"]["p50_s"]:
                s = result["summary"]
                print(
                    f"{runtime} / llama-server: p50 {s['p50_s'] / reference['p50_s']:.2f}, p95 {s['p95_s'] / reference['p95_s']:.2f}"
                )
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
    from housecoder.benchmarks.replay import as_rows, replay, summarize
    from housecoder.benchmarks.sessions import pick_sessions
    from housecoder.completion import CompletionEngine
    from housecoder.completion.loading import load_backend
    from housecoder.indexer.service import open_retriever

    state: State = ctx.obj
    root = repo.resolve()
    settings = _settings(state, root, runtime, url, keep_cache, config)
    started = time.perf_counter()
    backend = load_backend(settings)
    load_seconds = time.perf_counter() - started
    engine = CompletionEngine(
        backend, settings, repo_name=root.name, retriever=open_retriever(root, settings)
    )
    sessions = pick_sessions(root, _python_files(root), lines, seed, per_file)
    warmed: list[int] = []
    requests = replay(
        engine, sessions, interval_s=interval_ms / 1000, line_pause_s=line_pause_ms / 1000, warmed=warmed
    )
    summary = summarize(requests)
    summary["lines"] = len(sessions)
    summary["idle_prefill_tokens_mean"] = sum(warmed) / len(warmed) if warmed else None
    summary["load_s"] = load_seconds
    summary["peak_rss_mb"] = _own_peak_rss_mb()
    print(json.dumps({"summary": summary, "requests": as_rows(requests), "backend": backend.describe()}))


@bench_app.command("make-tasks")
def make_tasks_command(
    ctx: typer.Context,
    source: Annotated[
        Path,
        typer.Argument(help="A repository, HumanEval-FIM's .parquet, or a CrossCodeEval *.inputs.jsonl."),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Task file to write (JSONL).")],
    kinds: Annotated[
        str, typer.Option("--kinds", help="Repository task kinds: line, api, function.")
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
        open_index=_index_opener(settings, progress),
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
        "machine": f"{platform.machine()}, {usable_cores()} cores, {_cpu_name()}",
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


def _index_opener(settings: Any, progress: Any) -> Any:
    """`open_index(root)` for the runner: each benchmark repository gets its own index in the cache (not the
    project's `index.location`), brought up to date first."""
    from housecoder.cli.common import store_for
    from housecoder.config import Settings, merge_sections
    from housecoder.indexer.service import index_repository, open_retriever

    store = store_for(settings)
    own_index = Settings.model_validate(merge_sections(settings.model_dump(), {"index": {"location": None}}))

    def open_index(root: Path) -> Any:
        index_repository(root, own_index, store, progress)
        retriever = open_retriever(root, own_index, progress)
        retriever.windows()  # built up front, as the server builds it when it opens an index
        return retriever

    return open_index


def prompt_only_runner(settings: Any, progress: Any, *, count: Any = None, realtime: bool = False) -> Any:
    """A `Runner` that builds prompts without a model (the tokenizer counts the budgets, `count` when given),
    each repository with its own index: `bench context` and the prompt studies under bench/."""
    from housecoder.benchmarks.recall import PromptOnlyBackend
    from housecoder.completion.loading import prompt_token_counter
    from housecoder.evaluation.runner import Runner

    backend = PromptOnlyBackend(count or prompt_token_counter(settings, progress), settings.models.code_model)
    return Runner(backend, settings, open_index=_index_opener(settings, progress), realtime=realtime)


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


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or "unknown CPU"
