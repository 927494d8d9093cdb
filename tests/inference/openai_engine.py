"""A local HTTP engine speaking the OpenAI-compatible `/v1/completions` API with SSE streaming, for tests.

It streams a fixed list of pieces, one event each, as vLLM and the llama.cpp server do: at most `max_tokens`
of them, ending with finish_reason "length" when the budget cut the text and "stop" when the text ended
(with `ignore_eos` the pieces repeat until the budget is spent). Like a real engine it notices a client that
closed the stream. The `engine` fixture in conftest.py serves one per test.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Engine:
    """What the test engine streams, and what it saw."""

    def __init__(self) -> None:
        self.pieces = ["return", " json", ".load", "(f)", "\n", "    x = 1", "\n"]
        # seconds between two pieces, so that a client closing the stream early closes it mid-way
        self.delay = 0.05
        self.requests: list[dict[str, object]] = []
        self.headers: list[dict[str, str]] = []
        self.sent: list[int] = []
        self.finished = threading.Event()  # a streaming answer ended (all sent, or the client closed it)
        self.status = 200

    def answer(self, body: dict[str, object]) -> tuple[list[str], str]:
        """The pieces to stream for a request, and the finish reason after them."""
        budget = int(str(body["max_tokens"]))
        pieces = itertools.cycle(self.pieces) if body.get("ignore_eos") else iter(self.pieces)
        chosen = list(itertools.islice(pieces, budget))
        return chosen, "length" if body.get("ignore_eos") or len(self.pieces) > budget else "stop"


@contextmanager
def serve(state: Engine) -> Iterator[str]:
    """Serves `state` on a free local port; yields the engine's base URL."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests.append(body)
            state.headers.append(dict(self.headers))
            if self.path != "/v1/completions" or state.status != 200:
                self.send_response(state.status if self.path == "/v1/completions" else 404)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(
                    json.dumps({"error": {"message": "The model `nope` does not exist."}}).encode()
                )
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            pieces, reason = state.answer(body)
            sent = 0
            try:
                for piece in pieces:
                    event: dict[str, Any] = {"choices": [{"index": 0, "text": piece, "finish_reason": None}]}
                    if body.get("logprobs"):  # the completions API's shape, as vLLM streams it
                        logprob = -0.25 * (sent + 1)
                        event["choices"][0]["logprobs"] = {
                            "tokens": [piece],
                            "token_logprobs": [logprob],
                            "top_logprobs": [{piece: logprob, "<other>": logprob - 1.5}],
                        }
                    self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                    self.wfile.flush()
                    sent += 1
                    if state.delay:
                        time.sleep(state.delay)
                finish = {"choices": [{"index": 0, "text": "", "finish_reason": reason}]}
                self.wfile.write(f"data: {json.dumps(finish)}\n\ndata: [DONE]\n\n".encode())
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass
            state.sent.append(sent)
            state.finished.set()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    # shutdown() waits one
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
