"""TCP mode: the server listens on 127.0.0.1 by default and speaks the same protocol to a client that sends
the user's token."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from lsp import Client, capabilities
from lsprotocol import types

from housecoder.server.token import read_token

pytestmark = pytest.mark.e2e  # the real server over stdio or TCP (make test-fast skips it)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_tcp_mode_binds_loopback_and_serves(shop: Path, options: dict[str, Any], tmp_path: Path) -> None:
    port = _free_port()
    config = tmp_path / "config"
    process = subprocess.Popen(
        [sys.executable, "-m", "housecoder.server", "--tcp", "--port", str(port)],
        cwd=shop,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "XDG_CONFIG_HOME": str(config)},
    )
    try:

        async def scenario() -> None:
            client = Client()
            deadline = time.monotonic() + 120
            while True:  # pygls serves one connection per process, so no probing: retry the real client
                try:
                    await client.start_tcp("127.0.0.1", port)
                    break
                except OSError:
                    assert process.poll() is None and time.monotonic() < deadline, (
                        "the server did not start listening"
                    )
                    await asyncio.sleep(0.2)
            listening = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True)
            if listening.returncode == 0 and listening.stdout.strip():
                assert [line.split()[3] for line in listening.stdout.splitlines()] == [f"127.0.0.1:{port}"]
            token = read_token(config / "housecoder" / "server-token")  # made before the server listens
            await client.initialize_async(
                types.InitializeParams(
                    capabilities=capabilities(),
                    root_uri=shop.as_uri(),
                    initialization_options=options | {"token": token},
                )
            )
            client.initialized(types.InitializedParams())
            status = await client.command("housecoder.status")
            assert status["folders"][0]["root"] == str(shop.resolve())
            uri = client.open(shop / "shop" / "checkout.py")
            assert isinstance(await client.inline(uri, 8, 11), types.InlineCompletionList)
            await client.shutdown_async(None)
            client.exit(None)

        asyncio.run(asyncio.wait_for(scenario(), 120))
    finally:
        process.kill()
        process.wait(10)
