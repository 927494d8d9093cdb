"""The latency harness behind `housecoder bench latency`: typing sessions replayed on several runtimes.

Each runtime runs in its own process (so its peak memory is its own) over the same sessions, with the
repository's index for retrieval. The reference is llama.cpp's own `llama-server` on the same GGUF with
`cache_prompt` (and `--cache-reuse`, as llama.cpp's editor plugins run it), driven through the
OpenAI-compatible backend with the same prompts. `measure_runtime` starts that process (and the server);
`replay_runtime` is what runs inside it.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from housecoder.errors import HousecoderError
from housecoder.machine import usable_cores

if TYPE_CHECKING:  # the CLI reads RUNTIMES for its help: this module imports nothing heavy on load
    from housecoder.config import Settings

RUNTIMES: dict[str, dict[str, Any]] = {
    "llama.cpp": {"inference": {"runtime": "llama.cpp"}},
    "llama.cpp-no-reuse": {"inference": {"runtime": "llama.cpp", "tuning": {"kv_cache_entries": 0}}},
    "llama.cpp-wave1": {
        "inference": {"runtime": "llama.cpp"},
        "completion": {"tuning": {"layout": "psm", "reuse_in_flight": False}},
    },
    "llama.cpp-psm": {"inference": {"runtime": "llama.cpp"}, "completion": {"tuning": {"layout": "psm"}}},
    "llama.cpp-line-start": {
        "inference": {"runtime": "llama.cpp"},
        "completion": {"tuning": {"layout": "line-start"}},
    },
    "llama.cpp-whole-prompt": {
        "inference": {"runtime": "llama.cpp"},
        "completion": {"tuning": {"layout": "line-start", "cold_prefill_tokens": 0}},
    },
    "llama.cpp-0.5b": {
        "models": {"code_model": "qwen2.5-coder-0.5b-instruct"},
        "inference": {"runtime": "llama.cpp"},
        "completion": {"tuning": {"layout": "line-start"}},
    },
    "transformers": {"inference": {"runtime": "transformers"}},
    "transformers-no-reuse": {"inference": {"runtime": "transformers", "tuning": {"kv_cache_entries": 0}}},
    "llama-server": {"inference": {"runtime": "openai"}},
}
REFERENCE = "llama-server"
LLAMA_SERVER_PORT = 8089
COLUMNS = (
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
)


@dataclass(frozen=True)
class ReplayOptions:
    """How the sessions are typed; the same for every runtime."""

    lines: int = 8  # typing sessions, one line each
    per_file: int = 1  # lines typed one after the other in a file
    seed: int = 0
    interval_ms: int = 100  # between keystrokes within a word
    line_pause_ms: int = 0  # before each line (idle prefill's case)
    keep_cache: bool = False  # the completion cache on (off: every request reaches the model)

    def as_flags(self) -> list[str]:
        """The `bench latency-worker` options that carry these."""
        return [
            "--lines",
            str(self.lines),
            "--lines-per-file",
            str(self.per_file),
            "--seed",
            str(self.seed),
            "--interval-ms",
            str(self.interval_ms),
            "--line-pause-ms",
            str(self.line_pause_ms),
            *(["--with-completion-cache"] if self.keep_cache else []),
        ]


def pick_runtimes(names: str) -> list[str]:
    """The comma-separated runtime names, checked against `RUNTIMES`."""
    wanted = [name.strip() for name in names.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in RUNTIMES]
    if unknown:
        raise HousecoderError(f"unknown runtime {unknown[0]!r}: use {', '.join(RUNTIMES)}")
    return wanted


def python_files(root: Path) -> list[Path]:
    """The repository's Python sources the sessions are drawn from (tests, docs, examples, builds left out)."""
    skip = {"tests", "test", "testing", "docs", "examples", "build", ".git", ".venv", "node_modules"}
    return [
        p
        for p in root.rglob("*.py")
        if not skip & set(p.relative_to(root).parts[:-1]) and p.name != "setup.py"
    ]


def runtime_settings(settings: Settings, runtime: str, url: str | None, keep_cache: bool) -> Settings:
    """`settings` with the runtime's overrides (and the llama-server's `url`)."""
    from housecoder.config import CPU_CONTEXT_TOKENS, Settings, merge_sections

    overrides = copy.deepcopy(RUNTIMES[runtime])
    if url:
        overrides["inference"]["url"] = url
    if runtime == REFERENCE:  # on this machine's CPU: the CPU's snippet budget, as llama.cpp gets
        overrides["context"] = {"max_tokens": CPU_CONTEXT_TOKENS}
    if not keep_cache:
        overrides["server"] = {"tuning": {"cache_entries": 0}}  # the model path, not the completion cache
    return Settings.model_validate(merge_sections(settings.model_dump(), overrides))


def start_llama_server(binary: Path, gguf: Path, threads: int, port: int) -> subprocess.Popen[bytes]:
    """llama.cpp's `llama-server` on `gguf`, with prompt cache reuse; waits up to 120 s for its health."""
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
    raise HousecoderError(f"{binary}: llama-server did not start (exit {server.poll()})")


def own_peak_rss_mb() -> float | None:
    """This process's peak resident memory (None where the system does not say: Windows)."""
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB on Linux


def peak_rss_mb(pid: int) -> float:
    """Another process's peak resident memory, MB (0 where /proc does not say)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def measure_runtime(
    settings: Settings,
    root: Path,
    runtime: str,
    options: ReplayOptions,
    *,
    worker: Sequence[str],
    llama_server: Path | None = None,
) -> dict[str, Any]:
    """One runtime's replay in its own process: `worker` is the command line that runs `replay_runtime` and
    prints its JSON, given ROOT, RUNTIME and the options after it. For `llama-server` the server is started
    on the code model's GGUF first (and its memory added to the replay's)."""
    server = None
    url = None
    try:
        if runtime == REFERENCE:
            from housecoder.completion.loading import gguf_of
            from housecoder.models.store import store_for

            if llama_server is None or not llama_server.is_file():
                raise HousecoderError(
                    "llama-server needs --llama-server PATH (build it with scripts/build_llama_server.sh)"
                )
            gguf = gguf_of(store_for(settings).resolve(settings.models.code_model, "code").path)
            if gguf is None:
                raise HousecoderError(f"{settings.models.code_model}: no GGUF for llama-server")
            server = start_llama_server(llama_server, gguf, usable_cores(), LLAMA_SERVER_PORT)
            url = f"http://127.0.0.1:{LLAMA_SERVER_PORT}"
        command = [*worker, str(root), runtime, *options.as_flags(), *(["--url", url] if url else [])]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise HousecoderError(
                f"{runtime}: the replay failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}"
            )
        result: dict[str, Any] = json.loads(done.stdout)
        if server is not None:
            result["summary"]["server_peak_rss_mb"] = peak_rss_mb(server.pid)
            result["summary"]["peak_rss_mb"] += result["summary"]["server_peak_rss_mb"]
        return result
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)


def replay_runtime(settings: Settings, root: Path, options: ReplayOptions) -> dict[str, Any]:
    """Load the runtime `settings` name, replay the sessions drawn from `root`, and return the summary, every
    request and the backend's description (what `measure_runtime`'s worker prints)."""
    from housecoder.activity import ActivityMark, activity_file
    from housecoder.benchmarks.replay import as_rows, replay, summarize
    from housecoder.benchmarks.sessions import pick_sessions
    from housecoder.completion import CompletionEngine
    from housecoder.completion.loading import load_backend
    from housecoder.indexer.service import open_retriever

    started = time.perf_counter()
    backend = load_backend(settings)
    load_seconds = time.perf_counter() - started
    engine = CompletionEngine(
        backend, settings, repo_name=root.name, retriever=open_retriever(root, settings)
    )
    sessions = pick_sessions(root, python_files(root), options.lines, options.seed, options.per_file)
    warmed: list[int] = []
    requests = replay(
        engine,
        sessions,
        interval_s=options.interval_ms / 1000,
        line_pause_s=options.line_pause_ms / 1000,
        warmed=warmed,
        activity=ActivityMark(activity_file(settings)),  # background training yields to it as to the server
    )
    summary = summarize(requests)
    summary["lines"] = len(sessions)
    summary["idle_prefill_tokens_mean"] = sum(warmed) / len(warmed) if warmed else None
    summary["load_s"] = load_seconds
    summary["peak_rss_mb"] = own_peak_rss_mb()
    return {"summary": summary, "requests": as_rows(requests), "backend": backend.describe()}


def _fmt(value: Any, pattern: str = "{:.2f}") -> str:
    return "-" if value is None else pattern.format(value)


def table_rows(results: dict[str, dict[str, Any]]) -> list[list[str]]:
    """One row per runtime under `COLUMNS`."""
    rows = []
    for runtime, result in results.items():
        s = result["summary"]
        remote = runtime == REFERENCE  # its cache hits are not reported on a stream closed at the stop
        rows.append(
            [
                runtime,
                _fmt(s["p50_s"]),
                _fmt(s["p95_s"]),
                _fmt(s.get("line_start_p50_s")),
                _fmt(s["ttft_p50_s"]),
                _fmt(s["prompt_tokens_mean"], "{:.0f}"),
                "n/a" if remote else _fmt(s["prefill_tokens_mean"], "{:.0f}"),
                "n/a" if remote else _fmt(s["reused_fraction"], "{:.0%}"),
                "n/a" if remote else _fmt(s.get("cold_fraction"), "{:.0%}"),
                _fmt(s.get("with_context_fraction"), "{:.0%}"),
                _fmt(s["exact_at_pauses"], "{:.0%}"),
                _fmt(s["peak_rss_mb"], "{:.0f}"),
                f"{s['pauses_answered']}/{s['pauses']}",
            ]
        )
    return rows


def against_reference(results: dict[str, dict[str, Any]]) -> list[str]:
    """Each runtime's p50 and p95 as a ratio of llama-server's, where it ran."""
    reference = results.get(REFERENCE, {}).get("summary")
    if not reference or not reference["p50_s"]:
        return []
    return [
        f"{runtime} / {REFERENCE}: p50 {s['p50_s'] / reference['p50_s']:.2f}, "
        f"p95 {s['p95_s'] / reference['p95_s']:.2f}"
        for runtime, result in results.items()
        if runtime != REFERENCE and (s := result["summary"])["p50_s"]
    ]
