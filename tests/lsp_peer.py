"""A raw JSON-RPC peer for the language server: it writes any bytes (malformed framing included) and
collects what the server sends. The robustness tests assert on exactly what a hostile or broken client gets
back; the soak benchmark (`bench/soak.py`, which puts tests/ on its path) types through it for half an hour.
A test helper, not part of the package: the robustness tests import it as `lsp_peer` (tests/conftest.py puts
tests/ on the path)."""

from __future__ import annotations

import contextlib
import json
import queue
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

TIMEOUT_S = 120.0  # an upper bound on one answer, for a loaded CI machine


def frame(message: dict[str, Any] | bytes, header: str = "Content-Length") -> bytes:
    body = message if isinstance(message, bytes) else json.dumps(message).encode()
    return f"{header}: {len(body)}\r\n\r\n".encode() + body


class Peer:
    """Messages from the server, read on a thread from `source`; `write` sends raw bytes."""

    def __init__(self, source: IO[bytes], write: Any) -> None:
        self._write = write
        self.inbox: queue.Queue[dict[str, Any]] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        self.closed = threading.Event()
        self.log: list[str] = []  # the server's stderr, for a server started by `start_stdio`
        self.log_closed = threading.Event()
        threading.Thread(target=self._read, args=(source,), daemon=True).start()

    def _read(self, source: IO[bytes]) -> None:
        try:
            while True:
                headers: dict[str, str] = {}
                while True:
                    line = source.readline()
                    if not line:
                        return
                    if line in (b"\r\n", b"\n"):
                        break
                    name, _, value = line.decode().partition(":")
                    headers[name.strip().lower()] = value.strip()
                self.inbox.put(json.loads(source.read(int(headers["content-length"]))))
        except (OSError, ValueError):
            return
        finally:
            self.closed.set()

    def keep_log(self, stream: IO[bytes]) -> None:
        try:
            for line in stream:
                self.log.append(line.decode(errors="replace"))
        finally:
            self.log_closed.set()

    def send(self, data: bytes) -> None:
        self._write(data)

    def request(self, msg_id: Any, method: str, params: Any = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(frame(message))

    def notify(self, method: str, params: Any = None) -> None:
        self.send(
            frame({"jsonrpc": "2.0", "method": method, **({"params": params} if params is not None else {})})
        )

    def response(self, msg_id: Any) -> dict[str, Any]:
        """The response to `msg_id` (requests the server sends meanwhile, e.g. progress tokens, are answered)."""
        while True:
            for message in self.seen:
                if "method" not in message and message.get("id") == msg_id:
                    self.seen.remove(message)
                    return message
            self._take(self.inbox.get(timeout=TIMEOUT_S))

    def take_waiting(self) -> None:
        """Move every message already received into `seen`, without waiting."""
        while True:
            try:
                self._take(self.inbox.get_nowait())
            except queue.Empty:
                return

    def _take(self, message: dict[str, Any]) -> None:
        if "method" in message and "id" in message:  # a request from the server (a progress token): accept it
            self.send(frame({"jsonrpc": "2.0", "id": message["id"], "result": None}))
        else:
            self.seen.append(message)

    def call(self, msg_id: Any, method: str, params: Any = None) -> dict[str, Any]:
        self.request(msg_id, method, params)
        return self.response(msg_id)

    def initialize(self, root: Path, options: dict[str, Any], msg_id: Any = 1) -> dict[str, Any]:
        answer = self.call(
            msg_id,
            "initialize",
            {
                "processId": None,
                "rootUri": root.resolve().as_uri(),
                "capabilities": {},
                "initializationOptions": options,
            },
        )
        self.notify("initialized", {})
        return answer

    def open(self, path: Path, text: str, language: str = "python") -> str:
        uri = path.resolve().as_uri()
        self.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": language, "version": 1, "text": text}},
        )
        return uri

    def inline(self, msg_id: Any, uri: str, line: int, character: int) -> dict[str, Any]:
        return self.call(
            msg_id,
            "textDocument/inlineCompletion",
            {
                "textDocument": {"uri": uri},
                "position": {"line": line, "character": character},
                "context": {"triggerKind": 2},
            },
        )

    def command(self, msg_id: Any, name: str, *arguments: Any) -> dict[str, Any]:
        return self.call(msg_id, "workspace/executeCommand", {"command": name, "arguments": list(arguments)})


def start_stdio(cwd: Path, *args: str, verbose: bool = True) -> tuple[subprocess.Popen[bytes], Peer]:
    """`python -m housecoder.server -v ARGS` in `cwd` (without `-v` as editors start it: `verbose=False`), over
    stdio; its log (stderr) is read on a thread into `Peer.log` (an unread pipe would fill and block the
    server)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "housecoder.server", *(["-v"] if verbose else []), *args],
        cwd=cwd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None and process.stderr is not None
    stdin = process.stdin

    def write(data: bytes) -> None:
        stdin.write(data)
        stdin.flush()

    peer = Peer(process.stdout, write)
    threading.Thread(target=peer.keep_log, args=(process.stderr,), daemon=True).start()
    return process, peer


def hang_up(sock: socket.socket) -> None:
    """Close a connection for real (the reader's file object would otherwise keep it open)."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


def connect(port: int) -> tuple[socket.socket, Peer]:
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S)
    return sock, Peer(sock.makefile("rb"), sock.sendall)
