"""Typing sessions drawn from a repository, and the replay's figures (hand-computed), and a real replay
of two lines against the tiny model through the engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from housecoder.benchmarks.replay import Request, replay, summarize
from housecoder.benchmarks.sessions import pick_sessions
from housecoder.numeric import percentile

SOURCE = """import os


def home(user):
    # where the user lives
    base = os.path.join("/home", user)
    return os.path.abspath(base)


def shell():

    return os.environ.get("SHELL", "/bin/sh")
"""


def test_sessions_type_real_lines_and_leave_the_rest_of_the_file(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "paths.py").write_text(SOURCE)
    sessions = pick_sessions(tmp_path, [tmp_path / "pkg" / "paths.py"], count=5, seed=1)
    typed = sorted(session.typed for session in sessions)
    # comments, short lines and lines after a blank line are not typed
    assert typed == ['base = os.path.join("/home", user)', "return os.path.abspath(base)"]
    for session in sessions:
        assert session.path == "pkg/paths.py"
        text, offset = session.buffer(len(session.typed))
        assert text == SOURCE and text[:offset].endswith(session.typed)
        empty, cursor = session.buffer(0)
        assert empty[:cursor].endswith("\n    ") and session.typed not in empty
    assert pick_sessions(tmp_path, [tmp_path / "pkg" / "paths.py"], count=5, seed=1) == sessions  # seeded


def test_runs_of_lines_go_down_one_file_then_the_next(tmp_path: Path) -> None:
    source = "import os\n\n\ndef f(a):\n" + "".join(
        f"    value{n} = os.path.join(a, 'x{n}')\n" for n in range(8)
    )
    for name in ("a.py", "b.py"):
        (tmp_path / name).write_text(source)
    files = [tmp_path / "a.py", tmp_path / "b.py"]
    sessions = pick_sessions(tmp_path, files, count=6, seed=2, per_file=3)
    assert (
        len(sessions) == 6 and len({s.path for s in sessions[:3]}) == len({s.path for s in sessions[3:]}) == 1
    )
    assert sessions[0].path != sessions[3].path
    for run in (sessions[:3], sessions[3:]):
        rows = [source[: len(s.before)].count("\n") for s in run]
        assert rows == list(range(rows[0], rows[0] + 3))  # consecutive lines, top down
    assert pick_sessions(tmp_path, files, count=6, seed=2, per_file=3) == sessions


def test_pauses_follow_word_ends(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\nvalue = compute(x, y)\n")
    (session,) = pick_sessions(tmp_path, [tmp_path / "a.py"], count=1)
    assert session.typed == "value = compute(x, y)"
    assert [session.typed[:n] for n in session.pauses()] == [
        "",
        "value = ",
        "value = compute(",
        "value = compute(x, ",
    ]


def test_percentile_and_summary_by_hand() -> None:
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 95) == pytest.approx(4.8)
    assert percentile([], 50) is None
    requests = [
        Request(0, 0, True, True, 2.0, 1.0, 100, 0, False, "newline", "x = 1", True),
        Request(0, 1, False, False, None, None, 101, 90, True, "cancelled"),
        Request(0, 2, False, False, None, None, 0, 0, True, "cancelled"),  # cancelled before the model
        Request(0, 3, True, True, 4.0, 3.0, 103, 95, True, "newline", "y", False, cold=True),
    ]
    summary = summarize(requests)
    assert summary["pauses"] == 2 and summary["pauses_answered"] == 2
    assert summary["p50_s"] == 3.0 and summary["ttft_p50_s"] == 2.0
    assert summary["prompt_tokens_mean"] == pytest.approx(304 / 3)
    assert summary["prefill_tokens_mean"] == pytest.approx((100 + 11 + 8) / 3)
    assert summary["reused_fraction"] == pytest.approx(185 / 304)
    assert summary["exact_at_pauses"] == 0.5
    assert summary["cold_fraction"] == pytest.approx(1 / 3)


def test_replay_against_the_tiny_model(tiny_qwen_dir: Path, tmp_path: Path) -> None:
    from housecoder.completion import CompletionEngine
    from housecoder.config import Settings
    from housecoder.inference.transformers_backend import TransformersBackend
    from housecoder.models.loading import load_code_model

    (tmp_path / "a.py").write_text(SOURCE)
    settings = Settings.model_validate(
        {"models": {"device": "cpu", "tuning": {"dtype": "float32"}}, "completion": {"max_new_tokens": 4}}
    )
    backend = TransformersBackend(load_code_model(tiny_qwen_dir, settings.models), settings.inference)
    engine = CompletionEngine(backend, settings, repo_name="r")
    sessions = pick_sessions(tmp_path, [tmp_path / "a.py"], count=2)
    requests = replay(engine, sessions, interval_s=0.0)
    assert len(requests) == sum(len(session.typed) + 1 for session in sessions)
    paused = [request for request in requests if request.pause]
    assert paused and all(request.completed for request in paused)  # a pause waits for its answer
    assert all(request.seconds is not None and request.seconds > 0 for request in paused)
    assert summarize(requests)["reused_fraction"] > 0.3  # keystrokes share the front of their prompts


def test_the_replay_title_says_when_fewer_lines_were_typed_than_asked() -> None:
    from housecoder.benchmarks.replay import replay_title

    full = replay_title("repo", 32, 32, 8, 100, 3000)
    assert (
        full
        == "typing replay: 32 lines in runs of 8 of repo, 100 ms between keystrokes, 3000 ms pause before each line"
    )
    assert replay_title("repo", 32, 20, 1, 100, 0) == (
        "typing replay: 20 lines (of 32 asked: the files have too few) of repo, 100 ms between keystrokes"
    )


def test_each_runtime_gets_its_overrides_and_unknown_names_are_refused() -> None:
    from housecoder.benchmarks.latency import pick_runtimes, runtime_settings
    from housecoder.config import CPU_CONTEXT_TOKENS, Settings
    from housecoder.errors import HousecoderError

    assert pick_runtimes(" llama.cpp, llama-server ,") == ["llama.cpp", "llama-server"]
    with pytest.raises(HousecoderError, match="unknown runtime 'vllm'"):
        pick_runtimes("llama.cpp,vllm")
    psm = runtime_settings(Settings(), "llama.cpp-psm", None, keep_cache=False)
    assert psm.inference.runtime == "llama.cpp" and psm.completion.tuning.layout == "psm"
    assert psm.server.tuning.cache_entries == 0  # the model path is measured, not the completion cache
    remote = runtime_settings(Settings(), "llama-server", "http://127.0.0.1:8089", keep_cache=True)
    assert remote.inference.url == "http://127.0.0.1:8089"
    assert remote.context.max_tokens == CPU_CONTEXT_TOKENS
    assert remote.server.tuning.cache_entries == Settings().server.tuning.cache_entries


def test_the_table_has_a_cell_per_column_and_ratios_only_against_llama_server() -> None:
    from housecoder.benchmarks.latency import COLUMNS, against_reference, own_peak_rss_mb, table_rows

    summary = {
        "p50_s": 0.5,
        "p95_s": 1.0,
        "ttft_p50_s": 0.2,
        "prompt_tokens_mean": 900.0,
        "prefill_tokens_mean": 12.0,
        "reused_fraction": 0.9,
        "exact_at_pauses": 0.25,
        "peak_rss_mb": 1500.0,
        "pauses_answered": 7,
        "pauses": 8,
    }
    results = {"llama.cpp": {"summary": summary}}
    (row,) = table_rows(results)
    assert len(row) == len(COLUMNS) and row[0] == "llama.cpp" and row[-1] == "7/8" and row[3] == "-"
    assert against_reference(results) == []
    results["llama-server"] = {"summary": summary | {"p50_s": 0.25, "p95_s": 2.0}}
    assert table_rows(results)[1][6:9] == ["n/a", "n/a", "n/a"]  # the server does not report its cache
    assert against_reference(results) == ["llama.cpp / llama-server: p50 2.00, p95 0.50"]
    peak = own_peak_rss_mb()
    assert peak is None or peak > 1  # MB, not KiB or bytes
