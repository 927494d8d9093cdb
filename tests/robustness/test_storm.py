"""A cancel storm: a client typing fast sends a request per keystroke and cancels the previous one. Every
request is answered, no generation outlives the storm, and the server answers the next request."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from lsp_peer import TIMEOUT_S, frame, start_stdio

pytestmark = pytest.mark.e2e  # the real server or CLI in subprocesses (make test-fast skips it)

KEYS = 150
REQUEST_CANCELLED = -32800


def test_every_request_of_a_cancel_storm_is_answered_and_nothing_leaks(
    shop: Path, options: dict[str, Any]
) -> None:
    process, peer = start_stdio(shop)
    try:
        peer.initialize(shop, options)
        line = "def total(values):\n    return "
        uri = peer.open(shop / "shop" / "storm.py", line)
        typed = "sum(value * 2 for value in values if value)" * 4
        for key in range(KEYS):
            text = line + typed[: key + 1]
            peer.notify(
                "textDocument/didChange",
                {"textDocument": {"uri": uri, "version": key + 2}, "contentChanges": [{"text": text}]},
            )
            peer.send(
                frame(
                    {
                        "jsonrpc": "2.0",
                        "id": f"k{key}",
                        "method": "textDocument/inlineCompletion",
                        "params": {
                            "textDocument": {"uri": uri},
                            "position": {"line": 1, "character": len(text.split("\n")[1])},
                            "context": {"triggerKind": 2},
                        },
                    }
                )
            )
            if key:
                peer.notify("$/cancelRequest", {"id": f"k{key - 1}"})
        answers = [peer.response(f"k{key}") for key in range(KEYS)]
        assert all("result" in answer or answer["error"]["code"] == REQUEST_CANCELLED for answer in answers)
        assert "result" in answers[-1]  # the last keystroke is never cancelled

        deadline, alive = time.monotonic() + TIMEOUT_S, -1
        while alive:  # poll: generations the storm cancelled end at their next token
            alive = peer.command(f"s{time.monotonic()}", "housecoder.status")["result"]["requests_in_flight"]
            assert time.monotonic() < deadline, f"{alive} requests still hold the model after the storm"
        assert "result" in peer.inline("after", uri, 1, 10)
        assert process.poll() is None
    finally:
        process.kill()
        process.wait(TIMEOUT_S)
