"""Framing and lifecycle per the LSP spec, over stdio against the real server process: each case failed
before (the server died, dropped the request or answered it wrongly)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from lsp_peer import TIMEOUT_S, Peer, frame, start_stdio

pytestmark = pytest.mark.e2e  # the real server or CLI in subprocesses (make test-fast skips it)

INVALID_REQUEST, INVALID_PARAMS, PARSE_ERROR, NOT_INITIALIZED = -32600, -32602, -32700, -32002


@pytest.fixture
def server(shop: Path) -> Any:
    process, peer = start_stdio(shop)
    yield process, peer
    if process.poll() is None:
        process.kill()
    process.wait(TIMEOUT_S)


def _alive(peer: Peer, msg_id: Any) -> None:
    """The server still answers (a request every state accepts: status after initialize)."""
    assert "result" in peer.command(msg_id, "housecoder.status")


def _exit(process: subprocess.Popen[bytes], peer: Peer) -> int:
    peer.notify("exit")
    return process.wait(TIMEOUT_S)


def test_a_request_before_initialize_is_refused_and_a_second_initialize_too(
    server: Any, shop: Path, options: dict[str, Any]
) -> None:
    _, peer = server
    assert peer.call("early", "housecoder/nothing")["error"]["code"] == NOT_INITIALIZED
    assert "capabilities" in peer.initialize(shop, options)["result"]
    again = peer.call(
        2, "initialize", {"processId": None, "rootUri": Path("/etc").as_uri(), "capabilities": {}}
    )
    assert again["error"]["code"] == INVALID_REQUEST
    status = peer.command(3, "housecoder.status")["result"]
    assert [folder["root"] for folder in status["folders"]] == [str(shop.resolve())]  # not moved to /etc


def test_requests_after_shutdown_get_invalid_request_and_exit_codes_follow_the_spec(
    server: Any, shop: Path, options: dict[str, Any]
) -> None:
    process, peer = server
    peer.initialize(shop, options)
    assert peer.call(2, "shutdown")["result"] is None
    assert peer.command(3, "housecoder.status")["error"]["code"] == INVALID_REQUEST
    assert _exit(process, peer) == 0


def test_exit_without_shutdown_exits_1(server: Any, shop: Path, options: dict[str, Any]) -> None:
    process, peer = server
    peer.initialize(shop, options)
    assert _exit(process, peer) == 1


def test_header_names_are_case_insensitive(server: Any, shop: Path, options: dict[str, Any]) -> None:
    _, peer = server
    peer.initialize(shop, options)
    peer.send(frame({"jsonrpc": "2.0", "id": "lower", "method": "shutdown"}, header="content-length"))
    assert peer.response("lower")["result"] is None


@pytest.mark.parametrize("length", [10**12, 10**30])
def test_an_absurd_content_length_does_not_kill_the_server(
    server: Any, shop: Path, options: dict[str, Any], length: int
) -> None:
    process, peer = server
    peer.initialize(shop, options)
    peer.send(f"Content-Length: {length}\r\n\r\n{{}}".encode())
    assert process.stdin is not None
    process.stdin.close()  # the client gives up: the server ends like at any end of input, no MemoryError
    assert process.wait(TIMEOUT_S) == 1
    assert peer.log_closed.wait(TIMEOUT_S)
    stderr = "".join(peer.log)
    assert "Traceback" not in stderr and "MemoryError" not in stderr and "OverflowError" not in stderr


def test_an_oversized_message_is_skipped_and_answered_with_a_parse_error(
    server: Any, shop: Path, options: dict[str, Any]
) -> None:
    from housecoder.server.transport import MAX_MESSAGE_BYTES

    _, peer = server
    peer.initialize(shop, options)
    peer.send(f"Content-Length: {MAX_MESSAGE_BYTES + 1}\r\n\r\n".encode() + b" " * (MAX_MESSAGE_BYTES + 1))
    _alive(peer, 2)
    errors = [message for message in peer.seen if message.get("id") is None and "error" in message]
    assert errors and errors[0]["error"]["code"] == PARSE_ERROR


@pytest.mark.parametrize(
    "body", [b"{not json", b"\xff\xfe", b"[" * 100_000 + b"]" * 100_000, b'"just a string"']
)
def test_unreadable_bodies_are_answered_and_the_server_reads_on(
    server: Any, shop: Path, options: dict[str, Any], body: bytes
) -> None:
    _, peer = server
    peer.initialize(shop, options)
    peer.send(frame(body))
    _alive(peer, 2)


def test_garbage_headers_and_missing_length_are_skipped(
    server: Any, shop: Path, options: dict[str, Any]
) -> None:
    _, peer = server
    peer.initialize(shop, options)
    peer.send(
        b"no colon here\r\nX-Other: 1\r\n\r\n" + b"Content-Length: abc\r\n\r\n" + b"x" * 20_000 + b"\r\n"
    )
    _alive(peer, 2)


def test_params_of_the_wrong_type_get_invalid_params(
    server: Any, shop: Path, options: dict[str, Any]
) -> None:
    _, peer = server
    peer.initialize(shop, options)
    numeric_uri = peer.call(
        2,
        "textDocument/inlineCompletion",
        {
            "textDocument": {"uri": 12345},
            "position": {"line": 0, "character": 0},
            "context": {"triggerKind": 2},
        },
    )
    assert numeric_uri["error"]["code"] == INVALID_PARAMS
    string_arguments = peer.call(
        3, "workspace/executeCommand", {"command": "housecoder.lastCompletion", "arguments": "file:///x"}
    )
    assert string_arguments["error"]["code"] == INVALID_PARAMS
    _alive(peer, 4)


ODD_URIS = [
    "untitled:Untitled-1",
    "file:///nonexistent/%C3%BC%20n%CC%83.py",
    "http://example.com/x.py",
    "file:///tmp/a%0Ab.py",
    "file:///tmp/nul%00.py",
    "file://remote-host/share/x.py",
    "not a uri at all",
    "file:///" + "d/" * 2000 + "x.py",
]


def test_huge_and_odd_documents_are_answered(server: Any, shop: Path, options: dict[str, Any]) -> None:
    _, peer = server
    peer.initialize(shop, options)
    huge = "x = " + "a" * 5_000_000  # one 5 MB line: linear scans only, cut around the cursor
    uri = peer.open(shop / "huge.py", huge)
    assert "result" in peer.inline("huge", uri, 0, len(huge))
    for number, odd in enumerate(ODD_URIS):
        peer.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": odd,
                    "languageId": "python",
                    "version": 1,
                    "text": "def f(values):\n    return ",
                }
            },
        )
        answer = peer.inline(f"odd-{number}", odd, 1, 11)
        assert "result" in answer or answer["error"]["code"] == INVALID_PARAMS, (odd, answer)
    _alive(peer, "after")


def test_a_clients_bad_requests_are_one_log_line_each_not_a_traceback(
    shop: Path, options: dict[str, Any]
) -> None:
    process, peer = start_stdio(shop, verbose=False)  # as editors start it
    try:
        peer.initialize(shop, options)
        bad_schema = peer.call(2, "textDocument/inlineCompletion", {"textDocument": 5, "position": "here"})
        bad_arguments = peer.call(
            3, "workspace/executeCommand", {"command": "housecoder.accepted", "arguments": 7}
        )
        assert bad_schema["error"]["code"] == bad_arguments["error"]["code"] == INVALID_PARAMS
        _alive(peer, 4)
        assert peer.call(5, "shutdown")["result"] is None
        assert _exit(process, peer) == 0
    finally:
        if process.poll() is None:
            process.kill()
    assert peer.log_closed.wait(TIMEOUT_S)
    stderr = "".join(peer.log)
    assert "Traceback" not in stderr, stderr
    logged = [line for line in stderr.splitlines() if "housecoder.server" in line or "pygls" in line]
    assert sum("malformed" in line for line in logged) == 2, stderr
    assert all(line[:4].isdigit() for line in stderr.splitlines() if line.strip()), stderr  # no stack lines
