"""Neovim's ghost text: Neovim 0.11.4 (from PyPI, `make editor-e2e`) runs headless with the documented set-up
(editor-client/neovim/housecoder.lua), which starts `housecoder serve` on the shop fixture. The test types
into it from outside like a person (`nvim --server SOCK --remote-send`), waits for the suggestion to appear
as inline virtual text (an extmark) at the cursor, presses Tab and checks the line, and that the accept
reached the server (`housecoder stats`); once with the server the set-up starts over stdio, once with a
shared `housecoder serve --tcp` it connects to with the user's token. A second test takes the
completion-menu fallback (`ghost_text = false`: omnifunc, <C-x><C-o>, <C-y>) and checks that accepting it is
reported too.

Without that Neovim the tests skip, except in CI (CI=true), where they fail.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from editors import IN_CI, feedback_stats, neovim_spec

# the real server driven by a real editor (make test-fast skips both markers; make test-editors runs these)
pytestmark = [pytest.mark.e2e, pytest.mark.editor]

ROOT = Path(__file__).resolve().parents[2]
NEOVIM = "0.11.4"
NVIM = ROOT / ".cache" / "editor-e2e" / f"nvim-{NEOVIM}" / "bin" / "nvim"
SETUP = Path(__file__).parent / "nvim" / "inline.lua"
LINE = 9  # shop/checkout.py: "    return " ends gross_total


@pytest.fixture(scope="module")
def nvim() -> Path:
    if not NVIM.exists():
        failed = ROOT / ".cache" / "editor-e2e" / "nvim.failed"
        reason = failed.read_text().strip() if failed.exists() else "not installed"
        message = f"Neovim {NEOVIM} ({NVIM.relative_to(ROOT)}): {reason}; `make editor-e2e` installs it"
        if IN_CI:
            pytest.fail(f"{message}; CI must run the Neovim ghost text test")
        pytest.skip(message)
    return NVIM


class Editor:
    """A headless Neovim listening on a socket, driven with --remote-send and read with --remote-expr."""

    def __init__(self, nvim: Path, socket: Path, env: dict[str, str]) -> None:
        self.nvim, self.socket, self.env = nvim, socket, env

    def _remote(self, *args: str) -> str:
        proc = subprocess.run(
            [str(self.nvim), "--server", str(self.socket), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    def keys(self, keys: str) -> None:
        self._remote("--remote-send", keys)

    def lua(self, expression: str) -> Any:
        return self._remote("--remote-expr", f'luaeval("{expression}")')

    def state(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.lua("HousecoderTest.state()"))
        return result

    def wait(self, what: str, ok: Callable[[dict[str, Any]], bool], timeout_s: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while True:
            state = self.state()
            if ok(state):
                return state
            assert time.monotonic() < deadline, f"{what}: not within {timeout_s} s; last state {state}"
            time.sleep(0.05)


@contextlib.contextmanager
def tcp_server(workdir: Path, repo: Path) -> Iterator[dict[str, Any]]:
    """`housecoder serve --tcp` on a free port, its token in Neovim's config folder (where the set-up reads
    it); yields the set-up's `tcp` option."""
    log = workdir / "server.log"
    env = os.environ | {"XDG_CONFIG_HOME": str(workdir / "nvim-home" / "config")}
    command = [
        sys.executable,
        "-m",
        "housecoder",
        "-v",
        "serve",
        "--tcp",
        "--port",
        "0",
        "--log-file",
        str(log),
    ]
    proc = subprocess.Popen(command, cwd=repo, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    try:
        deadline, port = time.monotonic() + 60, None
        while port is None:  # the log names the port once it listens
            found = re.search(r"listening on 127\.0\.0\.1:(\d+)", log.read_text() if log.exists() else "")
            port = int(found.group(1)) if found else None
            assert port or (proc.poll() is None and time.monotonic() < deadline), "the server did not listen"
            time.sleep(0.05)
        yield {"host": "127.0.0.1", "port": port}
    finally:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def neovim(
    nvim: Path,
    workdir: Path,
    repo: Path,
    settings: dict[str, Any],
    ghost_text: bool,
    tcp: dict[str, Any] | None = None,
    enabled: bool = True,
) -> Iterator[Editor]:
    env = neovim_spec(
        workdir, repo, settings, ghost_text=ghost_text, enabled=enabled, **({"tcp": tcp} if tcp else {})
    )
    log, home = workdir / "server.log", workdir / "nvim-home"
    socket = workdir / "nvim.sock"
    command = [str(nvim), "--headless", "--listen", str(socket), "-u", "NONE", "-i", "NONE", "-n"]
    proc = subprocess.Popen(
        [*command, "-c", f"luafile {SETUP}"],
        cwd=repo,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=(workdir / "nvim.stderr").open("w"),
    )
    editor = Editor(nvim, socket, env)
    try:
        deadline = time.monotonic() + 30
        while not socket.exists():
            assert proc.poll() is None, (workdir / "nvim.stderr").read_text()
            assert time.monotonic() < deadline, "Neovim did not listen within 30 s"
            time.sleep(0.05)
        yield editor
    except AssertionError as err:
        lsp_log = home / "cache" / "nvim" / "lsp.log"
        tails = [
            f"{name}:\n" + "\n".join(path.read_text(errors="replace").splitlines()[-25:])
            for name, path in (
                ("server log", log),
                ("Neovim's LSP log", lsp_log),
                ("stderr", workdir / "nvim.stderr"),
            )
            if path.exists()
        ]
        raise AssertionError("\n".join([str(err), *tails])) from None
    finally:
        with contextlib.suppress(Exception):
            editor.keys("<Esc>:qall!<CR>")
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_ready(editor: Editor) -> dict[str, Any]:
    def ready(state: dict[str, Any]) -> bool:
        if state["initialized"] and state["model_state"] != "ready":
            editor.lua("HousecoderTest.poll()")
        return bool(state["initialized"]) and state["model_state"] == "ready"

    return editor.wait("the server and its model", ready, 120)


@pytest.mark.parametrize("transport", ["stdio", "tcp"])
def test_neovim_shows_and_accepts_ghost_text(
    nvim: Path, shop: Path, tmp_path: Path, options: dict[str, Any], transport: str
) -> None:
    with contextlib.ExitStack() as stack:
        tcp = stack.enter_context(tcp_server(tmp_path, shop)) if transport == "tcp" else None
        editor = stack.enter_context(neovim(nvim, tmp_path, shop, options, ghost_text=True, tcp=tcp))
        state = wait_ready(editor)
        assert state["nvim_version"].startswith(NEOVIM) and state["client"] == "housecoder"
        assert state["announces_inline"] is True  # so the server leaves textDocument/completion empty
        # At the end of `    return `, type the word again like a person (80 ms a key), in insert mode.
        editor.keys(f"{LINE}G$xxxxxxx")
        editor.keys("a")
        for key in "return ":
            editor.keys(key)
            time.sleep(0.08)
        state = editor.wait("ghost text", lambda state: state["ghost"] is not None, 60)
        text = state["ghost"]
        assert text and state["mode"] == "i"
        [mark] = state["virtual"]  # drawn where the cursor is, inline, in the ghost text colour
        first = text.split("\n")[0]
        assert (mark["row"], mark["col"], mark["text"]) == (LINE - 1, len("    return "), first)
        assert mark["pos"] == "inline" and mark["hl"] == "HousecoderGhost"
        assert mark["lines"] == len(text.split("\n")) - 1
        assert state["lines"][LINE - 1] == "    return "  # shown, not yet in the buffer
        assert state["command"]["command"] == "housecoder.accepted", state["command"]
        print(
            json.dumps({"nvim": state["nvim_version"], "ghost_ms": round(state["ghost_ms"]), "ghost": text})
        )

        editor.keys("<Tab>")
        state = editor.wait("the accepted text", lambda state: state["ghost"] != text, 10)
        assert state["lines"][LINE - 1 :][: len(text.split("\n"))] == ("    return " + text).split("\n")
        assert state["mode"] == "i"
        editor.keys("<Esc>")
    total = feedback_stats(shop, options["models"]["cache_dir"])["total"]
    assert total["accepted"] == 1 and total["accepted_chars"] == len(text), total
    if tcp is not None:  # served by the shared TCP server, which the token let in
        log = (tmp_path / "server.log").read_text()
        assert "connected" in log and "initialize refused" not in log


def test_neovim_completion_fallback_reports_the_accept(
    nvim: Path, shop: Path, tmp_path: Path, options: dict[str, Any]
) -> None:
    """`ghost_text = false`: the omnifunc menu's housecoder item, accepted with <C-y>, runs its command."""
    with neovim(nvim, tmp_path, shop, options, ghost_text=False) as editor:
        state = wait_ready(editor)
        assert state["announces_inline"] is False and state["omnifunc"] == "v:lua.vim.lsp.omnifunc"
        editor.keys(f"{LINE}GA<C-x><C-o>")
        state = editor.wait("the completion menu", lambda state: state["pum_visible"], 60)
        editor.keys("<C-n><C-y>")
        state = editor.wait("the accepted item", lambda state: state["lines"][LINE - 1] != "    return ", 10)
        line = state["lines"][LINE - 1]
        item = json.loads(
            editor.lua("vim.json.encode(vim.v.completed_item.user_data.nvim.lsp.completion_item)")
        )
        editor.keys("<Esc>")
        total = feedback_stats(shop, options["models"]["cache_dir"])["total"]
        deadline = time.monotonic() + 10
        while total["accepted"] < 1 and time.monotonic() < deadline:  # the command is sent asynchronously
            time.sleep(0.2)
            total = feedback_stats(shop, options["models"]["cache_dir"])["total"]
    # all of the suggestion, not only its first word (what Neovim 0.11 inserts of a plain-text item)
    assert line == "    return " + item["textEdit"]["newText"].split("\n")[0], (line, item)
    assert total["accepted"] == 1 and total["accepted_chars"] == len(line) - len("    return "), (total, line)


def test_neovim_off_is_off_and_the_toggle_turns_it_back_on(
    nvim: Path, shop: Path, tmp_path: Path, options: dict[str, Any]
) -> None:
    """`enabled = false` starts no server; :HousecoderToggle starts it, and off again stops it (no process,
    nothing sent while typing)."""
    log = tmp_path / "server.log"
    with neovim(nvim, tmp_path, shop, options, ghost_text=True, enabled=False) as editor:
        state = editor.state()
        assert state["enabled"] is False and state["clients"] == 0 and state["client"] is None
        assert not log.exists()  # no server was started
        editor.keys(":HousecoderToggle<CR>")
        state = wait_ready(editor)
        assert state["enabled"] is True and state["clients"] == 1
        editor.keys(":HousecoderToggle off<CR>")
        state = editor.wait("the server stopped", lambda state: state["clients"] == 0, 30)
        assert state["enabled"] is False
        seen = log.read_text()
        editor.keys(f"{LINE}GA")
        for key in "x = 1":
            editor.keys(key)
            time.sleep(0.05)
        editor.keys("<Esc>")
        time.sleep(0.5)  # what a running client would have sent by now (the debounce is 150 ms)
        assert log.read_text() == seen and editor.state()["clients"] == 0
        editor.keys(":HousecoderToggle on<CR>")
        assert wait_ready(editor)["clients"] == 1
