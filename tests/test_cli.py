"""The CLI: locations, one-line errors with exit status 1, `complete` on a tiny model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from housecoder.cli import app
from housecoder.cli.complete import parse_location, split_at_cursor
from housecoder.errors import HousecoderError

SCRIPT = Path(sys.executable).parent / "housecoder"


def run(*args: str, cwd: Path, env_cache: Path | None = None) -> subprocess.CompletedProcess[str]:
    import os

    env = dict(os.environ)
    if env_cache is not None:
        env["HOUSECODER_CACHE_DIR"] = str(env_cache)
    return subprocess.run([str(SCRIPT), *args], cwd=cwd, capture_output=True, text=True, timeout=300, env=env)


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("a.py", (Path("a.py"), None, None)),
        ("a.py:3", (Path("a.py"), 3, None)),
        ("a.py:3:7", (Path("a.py"), 3, 7)),
        ("C:/x/a.py:3:7", (Path("C:/x/a.py"), 3, 7)),
        ("weird:name.py", (Path("weird:name.py"), None, None)),
    ],
)
def test_parse_location(location: str, expected: tuple[Path, int | None, int | None]) -> None:
    assert parse_location(location) == expected


@pytest.mark.parametrize(
    ("line", "col", "prefix", "suffix"),
    [
        (None, None, "ab\ncd\n", ""),
        (1, 1, "", "ab\ncd\n"),
        (1, None, "ab", "\ncd\n"),
        (2, 2, "ab\nc", "d\n"),
        (2, 3, "ab\ncd", "\n"),
        (3, 1, "ab\ncd\n", ""),  # the empty line after a final newline is where new code goes
    ],
)
def test_split_at_cursor(line: int | None, col: int | None, prefix: str, suffix: str) -> None:
    assert split_at_cursor("ab\ncd\n", line, col) == (prefix, suffix)


def test_lines_are_counted_like_an_editor_does() -> None:
    assert split_at_cursor("a\f\nb\r\nc\n", 3, 1) == ("a\f\nb\r\n", "c\n")
    assert split_at_cursor("x\r\ny\r\n", 1, None) == ("x", "\r\ny\r\n")


@pytest.mark.parametrize(
    ("line", "col", "message"), [(9, None, "line 9 is outside"), (1, 9, "column 9 is outside")]
)
def test_cursor_outside_the_file(line: int, col: int | None, message: str) -> None:
    with pytest.raises(HousecoderError, match=message):
        split_at_cursor("ab\ncd\n", line, col)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["complete", "nope.py"], "nope.py: no such file"),
        (["models", "path", "qwen2.5-coder-1.5b-instruct"], "run: housecoder models pull"),
        (["models", "path", "Org/Not-Cached"], "run: housecoder models pull Org/Not-Cached"),
        (["models", "pull", "./missing-model-dir"], "does not exist"),
        (["complete", "bad.py", "--model", "Org/Not-Cached"], "offline mode is on"),
        (["complete", "latin1.py"], "not UTF-8 text"),
        (["stats", ".", "--since", "forever"], "--since 'forever': give a span such as 12h, 7d or 2w"),
        (["stats", "nope"], "nope: not a directory"),
        (["bench", "make-tasks", ".", "--from-history", "-o", "t.jsonl"], "no kept or rewritten suggestions"),
        (
            ["bench", "latency", ".", "--runtimes", "llama.cpp", "--config", "gone.toml"],
            "no such config file",
        ),
    ],
)
def test_user_errors_are_one_red_line_and_exit_1(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "bad.py").write_text("x = 1\n")
    (tmp_path / "latin1.py").write_bytes("caf\xe9 = 1\n".encode("latin-1"))
    result = run("--offline", *args, cwd=tmp_path, env_cache=tmp_path / "store")
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_bad_config_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / ".housecoder.toml").write_text("[completion]\nmax_new_tokens = -1\n")
    result = run("models", "list", cwd=tmp_path, env_cache=tmp_path / "store")
    assert result.returncode == 1
    assert "completion.max_new_tokens" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_models_list_shows_the_builtins(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["--cache-dir", str(tmp_path), "models", "list"])
    assert result.exit_code == 0, result.output
    assert "qwen2.5-coder-1.5b-instruct" in result.output and "not pulled" in result.output


@pytest.mark.e2e  # a whole workflow (make test-fast skips it; make test runs it)
def test_complete_with_a_tiny_model_prints_a_completion(tiny_qwen_dir: Path, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".housecoder.toml").write_text(
        "[models.tuning]\ndtype = 'float32'\n[completion]\nmax_new_tokens = 6\n"
    )
    source = tmp_path / "pkg" / "mod.py"
    source.parent.mkdir()
    source.write_text("def double(x):\n    return \n")
    result = run(
        "--cache-dir",
        str(tmp_path / "store"),
        "complete",
        f"{source}:2:12",
        "--model",
        str(tiny_qwen_dir),
        "--show-prompt",
        "--multi-line",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    # the line-start layout: the typed part of the cursor's line follows <|fim_middle|> (its last token is healed)
    assert (
        f"<|repo_name|>{tmp_path.name}\n<|file_sep|>pkg/mod.py\n<|fim_prefix|>def double(x):\n<|fim_suffix|>\n<|fim_middle|>    return "
        in result.stderr
    )
    assert (
        "prompt 35 tokens" in result.stderr and " model " in result.stderr and "no index for" in result.stderr
    )


@pytest.mark.e2e  # a whole workflow (make test-fast skips it; make test runs it)
def test_complete_json_reports_trigger_snippets_and_stage_timings(
    tiny_qwen_dir: Path, tmp_path: Path
) -> None:
    import json

    (tmp_path / ".git").mkdir()
    source = tmp_path / "mod.py"
    source.write_text("# a comment\ndef double(x):\n    return \n")
    common = (
        "--cache-dir",
        str(tmp_path / "store"),
        "complete",
        str(source),
        "--model",
        str(tiny_qwen_dir),
        "--json",
    )
    result = run(*common, "--line", "3", "--col", "12", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["line"], report["col"], report["trigger"]["reason"]) == (3, 12, "end of a line")
    assert report["snippets"] == [] and set(report["timings_ms"]) >= {
        "trigger",
        "context",
        "prompt",
        "model",
        "postprocess",
    }
    in_comment = json.loads(run(*common, "--line", "1", "--col", "4", cwd=tmp_path).stdout)
    assert (in_comment["completion"], in_comment["trigger"]["reason"]) == ("", "inside a comment")


def test_trust_adds_lists_and_removes_project_roots(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config")}
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    (second / ".git").mkdir(parents=True)
    runner = CliRunner()

    added = runner.invoke(app, ["trust", str(first)], env=env)
    assert added.exit_code == 0 and added.output.startswith(
        f"trusted {first.resolve()}: its config may set inference.runtime"
    )
    # the current project by default
    assert runner.invoke(app, ["-C", str(second), "trust"], env=env).exit_code == 0
    assert (tmp_path / "config" / "housecoder" / "trusted.toml").is_file()
    listed = runner.invoke(app, ["trust", "--list"], env=env)
    assert listed.output.splitlines() == [str(first.resolve()), str(second.resolve())]

    removed = runner.invoke(app, ["trust", "--remove", str(first)], env=env)
    assert removed.exit_code == 0 and removed.output == f"no longer trusted: {first.resolve()}\n"
    assert runner.invoke(app, ["trust", "--list"], env=env).output.splitlines() == [str(second.resolve())]


def test_config_prints_each_setting_with_where_it_came_from(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config"), "HOUSECODER_CACHE_DIR": str(tmp_path / "store")}
    user = tmp_path / "config" / "housecoder" / "config.toml"
    user.parent.mkdir(parents=True)
    user.write_text('[inference]\nurl = "http://gpu-box:8000"\n[completion]\nmax_new_tokens = 10\n')
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)
    (project / ".housecoder.toml").write_text("[completion]\nmax_new_tokens = 20\n")
    runner = CliRunner()
    shown = runner.invoke(app, ["-C", str(project), "config", "--json"], env=env)
    assert shown.exit_code == 0, shown.output
    report = json.loads(shown.output)
    assert report["inference.url"] == {"value": "http://gpu-box:8000", "origin": str(user)}
    assert report["completion.max_new_tokens"] == {"value": 20, "origin": str(project / ".housecoder.toml")}
    assert report["models.cache_dir"] == {
        "value": str(tmp_path / "store"),
        "origin": "flags, environment or editor",
    }
    assert report["completion.max_ms"] == {"value": 3000, "origin": "default"}
    assert "completion.tuning.temperature" not in report  # a tuning knob at its default: only with --all
    every = json.loads(runner.invoke(app, ["-C", str(project), "config", "--json", "--all"], env=env).output)
    assert every["completion.tuning.temperature"] == {"value": 0.0, "origin": "default"}
    changed = runner.invoke(app, ["-C", str(project), "config", "--changed"], env=env)
    lines = changed.output.splitlines()
    assert "[completion]" in lines and "[inference]" in lines and "max_ms" not in changed.output
    assert any(line.startswith('url = "http://gpu-box:8000"') and line.endswith(str(user)) for line in lines)
    user.write_text("[completion]\nmax_new_tokens = 'many'\n")
    broken = runner.invoke(app, ["-C", str(project), "config"], env=env)
    assert "config.toml: completion.max_new_tokens" in str(broken.exception)  # main() prints it in one line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["trust", "missing"], "missing: no such directory"),
        (["trust", "--remove", "."], "not trusted"),
        (["trust", "--list", "."], "--list takes no PATH"),
        (["trust", "."], "trusted.toml: cannot write"),
    ],
)
def test_trust_errors_are_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    config_home = tmp_path / "config"
    if message.endswith("cannot write"):
        config_home.write_text("a file where the config directory should be")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config_home))
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr


def test_an_untrusted_project_config_is_reported_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    project = tmp_path / "project"
    project.mkdir()
    (project / ".housecoder.toml").write_text(
        "[inference]\nurl = 'https://attacker.example'\napi_key_env = 'HOME'\n"
    )
    result = run("models", "list", cwd=project, env_cache=tmp_path / "store")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        f"warning: {project / '.housecoder.toml'}: ignored inference.url, inference.api_key_env: the project is not "
        f"trusted; to allow them, run `housecoder trust {project.resolve()}`"
    ]
    assert run("trust", cwd=project).returncode == 0
    assert run("models", "list", cwd=project, env_cache=tmp_path / "store").stderr == ""


def test_stats_of_a_workspace_with_nothing_recorded(tmp_path: Path) -> None:
    result = run("stats", str(tmp_path), cwd=tmp_path, env_cache=tmp_path / "store")
    assert result.returncode == 0 and "nothing recorded" in result.stdout, result.stderr
    assert str(tmp_path / "feedback") in result.stdout


def test_stats_fit_refits_the_keep_probability_on_the_workspaces_own_fates(tmp_path: Path) -> None:
    import json

    from feedback_fixture import keep_history

    from housecoder.feedback.store import FeedbackStore
    from housecoder.keep import KeepModel

    probe = run("stats", str(tmp_path), "--json", cwd=tmp_path, env_cache=tmp_path / "store")
    store = FeedbackStore(Path(json.loads(probe.stdout)["store"]))
    few = run("stats", str(tmp_path), "--fit", cwd=tmp_path, env_cache=tmp_path / "store")
    assert few.returncode == 0 and few.stdout.startswith("keep model not refitted: 0 decided"), few.stderr
    kept = keep_history(store)  # this user keeps what the model was sure of, and rejects the rest
    fitted = run("stats", str(tmp_path), "--fit", cwd=tmp_path, env_cache=tmp_path / "store")
    assert fitted.returncode == 0 and fitted.stdout.startswith("keep model refitted: held-out log-loss")
    saved = Path(fitted.stdout.split("saved to ", 1)[1].split(" (", 1)[0])
    model = KeepModel.from_json(saved.read_text())
    assert (model.about["examples"], model.about["kept"]) == (200, kept)
    assert dict(zip(model.features, model.coef, strict=True))["mean_logprob"] > 0


def test_stats_and_history_on_a_hostile_store_skip_rows_or_say_one_line(tmp_path: Path) -> None:
    import json
    import sqlite3

    from feedback_fixture import suggestion

    from housecoder.feedback.store import FeedbackStore

    probe = run("stats", str(tmp_path), "--json", cwd=tmp_path, env_cache=tmp_path / "store")
    where = Path(json.loads(probe.stdout)["store"])  # where the server would record this workspace
    store = FeedbackStore(where)
    assert store.shown(suggestion(1)) and store.shown(suggestion(2))
    store.close()
    with sqlite3.connect(where) as hostile:
        hostile.execute("UPDATE suggestions SET before = x'00ff', shown_at = 1e30 WHERE id = 's2'")
    result = run("stats", str(tmp_path), "--since", "100000d", cwd=tmp_path, env_cache=tmp_path / "store")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert "1 malformed rows" in result.stderr and "store:" in result.stdout
    with sqlite3.connect(where) as newer:
        newer.execute("UPDATE meta SET value = '9' WHERE key = 'schema'")
    for args in (
        ["stats", str(tmp_path)],
        ["bench", "make-tasks", str(tmp_path), "--from-history", "-o", "t.jsonl"],
    ):
        result = run(*args, cwd=tmp_path, env_cache=tmp_path / "store")
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 1 and len(lines) == 1, result.stderr
        assert "schema '9', this housecoder reads 1, 2 and 3 (left as it is)" in lines[0]
    assert not list(where.parent.glob("*.broken-*"))
