"""TCP mode with several clients: each connection is its own session on one shared model, responses
never cross, one client's code is never visible to another, and the server outlives any client. Only a
client holding the user's token is served; a connection that is no LSP client (an HTTP request, a web
page's POST) is closed unanswered."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lsp_peer import TIMEOUT_S, Peer, connect, frame, hang_up

from housecoder.server.token import read_token

pytestmark = pytest.mark.e2e  # the real server or CLI in subprocesses (make test-fast skips it)


@dataclass
class TcpServer:
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    token_file: Path

    def token(self) -> str:
        token = read_token(self.token_file)
        assert token is not None
        return token


@pytest.fixture
def tcp(shop: Path, tmp_path: Path) -> Iterator[TcpServer]:
    log = tmp_path / "server.log"
    config = tmp_path / "config"  # the user's config folder: the server makes the token there
    process = subprocess.Popen(
        [sys.executable, "-m", "housecoder.server", "--tcp", "--port", "0", "-v", "--log-file", str(log)],
        cwd=shop,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        env={**os.environ, "XDG_CONFIG_HOME": str(config)},
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
    yield TcpServer(process, port, log, config / "housecoder" / "server-token")
    process.kill()
    process.wait(TIMEOUT_S)


@pytest.fixture
def tcp_server(tcp: TcpServer) -> tuple[subprocess.Popen[bytes], int, Path]:
    return tcp.process, tcp.port, tcp.log


@pytest.fixture
def options(options: dict[str, Any], tcp: TcpServer) -> dict[str, Any]:
    """The tests' settings with the user's token, as an authorised client sends them."""
    return options | {"token": tcp.token()}


def _closed_unanswered(sock: socket.socket, peer: Peer) -> None:
    assert peer.closed.wait(TIMEOUT_S), "the server kept the connection open"
    peer.take_waiting()
    assert peer.seen == [], peer.seen
    hang_up(sock)


def _initialize(peer: Peer, shop: Path, options: Any) -> dict[str, Any]:
    """The answer to `initialize` alone (a refused client must not write on: the server hangs up)."""
    params = {
        "processId": None,
        "rootUri": shop.as_uri(),
        "capabilities": {},
        "initializationOptions": options,
    }
    return peer.call(1, "initialize", params)


def _refused_then_closed(peer: Peer, answer: dict[str, Any], needle: str) -> None:
    assert "result" not in answer and needle in answer["error"]["message"], answer
    assert peer.closed.wait(TIMEOUT_S), "the server kept serving a client without the token"
    peer.take_waiting()
    assert [message for message in peer.seen if "result" in message] == [], peer.seen


def test_a_client_without_the_token_gets_one_error_and_nothing_else(
    tcp: TcpServer, shop: Path, options: dict[str, Any]
) -> None:
    assert tcp.token_file.stat().st_mode & 0o777 == 0o600  # made at the first `serve --tcp`, the user's alone
    anonymous = {key: value for key, value in options.items() if key != "token"}
    for sent, needle in (
        (anonymous, "no token"),
        (anonymous | {"token": tcp.token()[:-1] + "x"}, "a wrong token"),
        ({"housecoder": anonymous | {"token": 12345}}, "no token"),
    ):
        sock, peer = connect(tcp.port)
        try:
            _refused_then_closed(peer, _initialize(peer, shop, sent), needle)
        finally:
            hang_up(sock)
    sock, peer = connect(tcp.port)  # the token in the `housecoder` section works as at the top level
    try:
        peer.initialize(shop, {"housecoder": options})
        assert peer.command(2, "housecoder.status")["result"]["folders"]
    finally:
        hang_up(sock)
    assert tcp.process.poll() is None


def test_a_rotated_token_refuses_the_clients_that_hold_the_old_one(
    tcp: TcpServer, shop: Path, options: dict[str, Any]
) -> None:
    old = options["token"]
    rotated = subprocess.run(
        [str(Path(sys.executable).parent / "housecoder"), "token", "--rotate"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        env={**os.environ, "XDG_CONFIG_HOME": str(tcp.token_file.parent.parent)},
    )
    assert rotated.returncode == 0, rotated.stderr
    new = rotated.stdout.strip()
    assert new != old and tcp.token() == new
    sock, peer = connect(tcp.port)
    try:
        _refused_then_closed(peer, _initialize(peer, shop, options), "a wrong token")
    finally:
        hang_up(sock)
    sock, peer = connect(tcp.port)
    try:
        assert "result" in peer.initialize(shop, options | {"token": new})
    finally:
        hang_up(sock)


@pytest.mark.parametrize(
    "sent",
    [
        # what a web page's fetch("http://127.0.0.1:2087", {method: "POST", body}) sends: an HTTP request
        b"POST / HTTP/1.1\r\nHost: 127.0.0.1:2087\r\nContent-Type: text/plain\r\nOrigin: http://evil.example\r\n"
        b"Content-Length: %d\r\n\r\n%s",
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        # an LSP-looking block with a browser's header
        b"Origin: http://evil.example\r\nContent-Length: %d\r\n\r\n%s",
    ],
    ids=["http post", "http get", "origin header"],
)
def test_what_is_no_lsp_header_block_is_closed_unanswered(tcp: TcpServer, shop: Path, sent: bytes) -> None:
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {"processId": None, "rootUri": shop.as_uri(), "capabilities": {}},
        }
    ).encode()
    sock, peer = connect(tcp.port)
    peer.send(sent % (len(body), body) if b"%d" in sent else sent)
    _closed_unanswered(sock, peer)
    assert "not an LSP header" in tcp.log.read_text()
    sock, peer = connect(tcp.port)  # the server goes on serving real clients
    try:
        peer.send(frame({"jsonrpc": "2.0", "id": 1, "method": "shutdown"}))
        assert "error" in peer.response(1)  # not initialized: an LSP error, so the connection was read
    finally:
        hang_up(sock)
    assert tcp.process.poll() is None


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
