"""A megabyte on one line (minified code, a data blob) in the real server: the completion at its end is answered
from a prompt cut around the cursor, and the server answers other requests meanwhile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lsp_peer import TIMEOUT_S, start_stdio

pytestmark = pytest.mark.e2e  # the real server or CLI in subprocesses (make test-fast skips it)


def test_a_completion_at_the_end_of_a_megabyte_line_is_answered_and_the_server_stays_free(
    shop: Path, options: dict[str, Any]
) -> None:
    process, peer = start_stdio(shop)
    try:
        peer.initialize(shop, options)
        line = "DATA = [" + "1, " * 350_000  # 1.05 MB, no newline
        uri = peer.open(shop / "shop" / "blob.py", "import os\n" + line)
        peer.request(
            "long",
            "textDocument/inlineCompletion",
            {
                "textDocument": {"uri": uri},
                "position": {"line": 1, "character": len(line)},
                "context": {"triggerKind": 1},
            },
        )
        status = peer.command("status", "housecoder.status")["result"]
        assert "folders" in status  # answered while the long line's completion is under way or done
        answer = peer.response("long")
        assert "result" in answer, answer
        last = peer.command("last", "housecoder.lastCompletion", uri)["result"]
        assert last is not None and last["trigger"]["complete"] and last["timings_ms"]["total"] > 0
        assert process.poll() is None
    finally:
        process.kill()
        process.wait(TIMEOUT_S)
