"""Every CLI error path a user can hit is one `error:` line and exit 1, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from housecoder.config import load_settings
from housecoder.errors import ConfigError

pytestmark = pytest.mark.e2e  # the real server or CLI in subprocesses (make test-fast skips it)

SCRIPT = Path(sys.executable).parent / "housecoder"


def _run(*args: str, cwd: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HOUSECODER_CACHE_DIR": str(cache),
        "HOUSECODER_OFFLINE": "1",
        "XDG_CONFIG_HOME": str(cwd.parent / "config"),  # the trust and token files of this test alone
    }
    return subprocess.run([str(SCRIPT), *args], cwd=cwd, capture_output=True, text=True, timeout=300, env=env)


def _one_error_line(result: subprocess.CompletedProcess[str], needle: str) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and needle in last, result.stderr


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / ".git").mkdir()
    (root / "a.py").write_text("def f():\n    return 1\n")
    return root


CONFIGS = {
    "unwritable index location": (
        '[index]\nlocation = "/proc/housecoder-index"\n',
        ["index"],
        "/proc/housecoder-index",
    ),
    "nested inline tables": (
        "[index]\nx = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n",
        ["index"],
        "nested too deeply",
    ),
}


@pytest.mark.parametrize("case", list(CONFIGS))
def test_bad_project_settings(repo: Path, model_cache: Path, minilm: object, case: str) -> None:
    text, args, needle = CONFIGS[case]
    (repo / ".housecoder.toml").write_text(text)
    _one_error_line(_run(*args, cwd=repo, cache=model_cache), needle)


def test_a_config_file_that_is_a_directory_is_an_error_not_ignored(repo: Path, model_cache: Path) -> None:
    (repo / ".housecoder.toml").mkdir()
    _one_error_line(_run("index", cwd=repo, cache=model_cache), "not a file")


@pytest.mark.parametrize(
    "args", [["--cache-dir", "/dev/null/x", "index"], ["--cache-dir", "/dev/null/x", "models", "pull"]]
)
def test_a_cache_dir_under_a_file(repo: Path, model_cache: Path, args: list[str]) -> None:
    _one_error_line(_run(*args, cwd=repo, cache=model_cache), "/dev/null/x: Not a directory")


def test_a_tcp_host_that_does_not_resolve(repo: Path, model_cache: Path) -> None:
    _one_error_line(
        _run("serve", "--tcp", "--host", "999.1.1.1", cwd=repo, cache=model_cache),
        "cannot listen on 999.1.1.1",
    )


def test_a_token_file_others_can_read_stops_a_tcp_server(repo: Path, model_cache: Path) -> None:
    token = repo.parent / "config" / "housecoder" / "server-token"
    token.parent.mkdir(parents=True)
    token.write_text("a-token-of-the-user\n")
    token.chmod(0o644)
    _one_error_line(_run("serve", "--tcp", cwd=repo, cache=model_cache), "readable by other users")
    _one_error_line(_run("token", cwd=repo, cache=model_cache), "housecoder token --rotate")
    rotated = _run("token", "--rotate", cwd=repo, cache=model_cache)
    assert rotated.returncode == 0 and rotated.stdout.strip() != "a-token-of-the-user", rotated.stderr
    assert token.stat().st_mode & 0o777 == 0o600
    assert _run("token", cwd=repo, cache=model_cache).stdout == rotated.stdout


@pytest.mark.parametrize("url", ["not a url", "ftp://box", "http://", "http://box:99999"])
def test_an_engine_url_must_be_http(url: str) -> None:
    with pytest.raises(ConfigError, match=r"inference\.url"):
        load_settings(None, {"inference": {"url": url}})
