"""TCP mode with several clients: each connection is its own session on one shared model, responses
never cross, one client's code is never visible to another, and the server outlives any client."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from housecoder.benchmarks.lsp_peer import TIMEOUT_S, connect, hang_up


@pytest.fixture
def tcp_server(shop: Path, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    log = tmp_path / "server.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "housecoder.server", "--tcp", "--port", "0", "-v", "--log-file", str(log)],
        cwd=shop,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + TIMEOUT_S
    port = None
    while port is None:  # poll the log for the bound port
        found = re.search(r"listening on 127\.0\.0\.1:(\d+)", log.read_text() if log.exists() else "")
        port = int(found.group(1)) if found else None
        assert port or (process.poll() is None and time.monotonic() < deadline), (
            "the server did not start listening"
        )
        if port is None:
            time.sleep(0.05)
    yield process, port, log
    process.kill()
    process.wait(TIMEOUT_S)


def test_clients_get_their_own_answers_and_sessions_and_share_one_model(
    tcp_server: tuple[subprocess.Popen[bytes], int, Path], shop: Path, options: dict[str, Any]
) -> None:
    process, port, log = tcp_server
    sock_a, a = connect(port)
    sock_b, b = connect(port)
    try:
        a.initialize(shop, options, msg_id=1)
        b.initialize(shop, options, msg_id=1)  # the same id on both connections: each gets its own answer
        checkout = shop / "shop" / "checkout.py"
        uri = a.open(checkout, checkout.read_text())
        assert "items" in a.inline("a-2", uri, 8, 11)["result"]
        assert a.command("a-3", "housecoder.lastCompletion", uri)["result"] is not None

        b.open(checkout, checkout.read_text())  # the same file: still B's own buffer and history
        assert b.command("b-2", "housecoder.lastCompletion", uri)["result"] is None
        status = b.command("b-3", "housecoder.status")["result"]
        assert status["model_sessions"] == 2 and status["model_state"] in ("ready", "loading")
        assert not [message for message in b.seen if str(message.get("id", "")).startswith("a-")]
        assert not [message for message in a.seen if str(message.get("id", "")).startswith("b-")]

        a.call("a-4", "shutdown")
        a.notify("exit")
        assert a.closed.wait(TIMEOUT_S)  # A's exit ends A's connection only
        assert process.poll() is None
        assert "result" in b.inline("b-4", uri, 8, 11)
        assert b.command("b-5", "housecoder.status")["result"]["model_sessions"] == 1

        sock_c, c = connect(port)  # a client after one left is served like the first
        c.initialize(shop, options, msg_id=1)
        assert c.command("c-2", "housecoder.status")["result"]["model_sessions"] == 2
        sock_d, d = connect(port)
        d.initialize(shop, options, msg_id=1)
        # D holds the model before the others leave (a request after `initialized` is answered after it)
        assert d.command("d-2", "housecoder.status")["result"]["model_sessions"] == 3
        hang_up(sock_b)  # clients that vanish without shutdown
        hang_up(sock_c)
        deadline, sessions = time.monotonic() + TIMEOUT_S, 0
        while sessions != 1:  # poll: the server notices the hang-ups on its own loop
            sessions = d.command(f"d-{time.monotonic()}", "housecoder.status")["result"]["model_sessions"]
            assert time.monotonic() < deadline, f"{sessions} sessions still hold the model"
        hang_up(sock_d)
        assert process.poll() is None
        assert len(re.findall(r"model \S+ loaded", log.read_text())) == 1, (
            "every client must share the one model"
        )
    finally:
        for sock in (sock_a, sock_b):
            hang_up(sock)
