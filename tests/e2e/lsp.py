"""Drive the real server as a subprocess over stdio with pygls' own LSP client."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import shutil
import sys
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from context_budgets import ROOMY
from lsprotocol import types
from pygls.lsp.client import LanguageClient
from settings_fixture import tiny_models

SHOP = Path(__file__).resolve().parents[1] / "fixtures" / "shop"


def copy_shop(target: Path) -> Path:
    shutil.copytree(SHOP, target)
    return target


class Client(LanguageClient):
    """A client that records what the server tells it and accepts progress tokens."""

    def __init__(self) -> None:
        super().__init__("housecoder-tests", "1")
        self.messages: list[types.ShowMessageParams] = []
        self.progress: list[Any] = []
        self.stderr: list[str] = []

        @self.feature(types.WINDOW_SHOW_MESSAGE)
        def show_message(params: types.ShowMessageParams) -> None:
            self.messages.append(params)

        @self.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
        def create_progress(params: types.WorkDoneProgressCreateParams) -> None:
            return None

        @self.feature(types.PROGRESS)
        def progress(params: types.ProgressParams) -> None:
            self.progress.append(params.value)

    async def drain_stderr(self) -> None:
        assert self._server is not None and self._server.stderr is not None
        async for line in self._server.stderr:
            self.stderr.append(line.decode(errors="replace").rstrip())

    def uri(self, path: Path) -> str:
        return path.resolve().as_uri()

    def open(self, path: Path, text: str | None = None, language: str = "python") -> str:
        uri = self.uri(path)
        self.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id=language, version=1, text=path.read_text() if text is None else text
                )
            )
        )
        return uri

    def change(self, uri: str, text: str, version: int) -> None:
        self.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )

    async def inline(
        self, uri: str, line: int, character: int, *, invoked: bool = False
    ) -> types.InlineCompletionList | None:
        """An inline completion request, as typing sends it, or as a "suggest now" key does (`invoked`)."""
        return await self.text_document_inline_completion_async(
            self.inline_params(uri, line, character, invoked=invoked)
        )

    @staticmethod
    def inline_params(
        uri: str, line: int, character: int, *, invoked: bool = False
    ) -> types.InlineCompletionParams:
        kind = (
            types.InlineCompletionTriggerKind.Invoked
            if invoked
            else types.InlineCompletionTriggerKind.Automatic
        )
        return types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
            context=types.InlineCompletionContext(trigger_kind=kind),
        )

    async def command(self, name: str, *arguments: Any) -> Any:
        return await self.workspace_execute_command_async(
            types.ExecuteCommandParams(command=name, arguments=list(arguments))
        )

    def send_raw(self, message: dict[str, Any]) -> asyncio.Future[Any]:
        """Write a hand-made JSON-RPC message (e.g. malformed params) and await its response by id."""
        msg_id = message.setdefault("id", str(uuid.uuid4()))
        future: Any = asyncio.get_running_loop().create_future()
        wrapped: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self.protocol._request_futures[msg_id] = wrapped
        wrapped.add_done_callback(lambda done: future.get_loop().call_soon_threadsafe(_copy, done, future))
        body = json.dumps(message).encode()
        assert self._server is not None and self._server.stdin is not None
        self._server.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        return future  # type: ignore[no-any-return]


def _copy(source: Any, target: asyncio.Future[Any]) -> None:
    if target.done():
        return
    if source.exception() is not None:
        target.set_exception(source.exception())
    else:
        target.set_result(source.result())


def capabilities(inline: bool = True) -> types.ClientCapabilities:
    return types.ClientCapabilities(
        text_document=types.TextDocumentClientCapabilities(
            inline_completion=types.InlineCompletionClientCapabilities() if inline else None,
            completion=types.CompletionClientCapabilities(),
        ),
        window=types.WindowClientCapabilities(work_done_progress=True),
    )


@contextlib.asynccontextmanager
async def running_server(
    root: Path,
    options: dict[str, Any],
    *,
    inline: bool = True,
    command: Sequence[str] = (sys.executable, "-m", "housecoder.server"),
) -> AsyncIterator[Client]:
    """Start the server (`python -m housecoder.server -v`), initialize it on `root` with `options`, shut it
    down after."""
    client = Client()
    await client.start_io(*command, "-v")
    drain = asyncio.create_task(client.drain_stderr())
    try:
        await client.initialize_async(
            types.InitializeParams(
                capabilities=capabilities(inline),
                root_uri=root.resolve().as_uri(),
                workspace_folders=[types.WorkspaceFolder(uri=root.resolve().as_uri(), name=root.name)],
                initialization_options=options,
            )
        )
        client.initialized(types.InitializedParams())
        yield client
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.shutdown_async(None), 10)
            client.exit(None)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.stop(), 10)
        if client._server is not None and client._server.returncode is None:
            client._server.kill()
        drain.cancel()


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A copy of the shop fixture repository (used by the e2e and robustness suites' conftests)."""
    return copy_shop(tmp_path / "shop")


@pytest.fixture
def options(tmp_path: Path, model_cache: Path, tiny_qwen_dir: Path) -> dict[str, Any]:
    """initializationOptions: the tiny model, the session model store, an index in the test's temp dir,
    context budgets no slow or loaded machine runs out of (the tests check what the sources find), and no
    keep gate (the random model's text would be hidden; the gate has its own tests)."""
    return {
        "models": tiny_models(tiny_qwen_dir, model_cache, tuning={}),  # the default dtype, as a user runs
        "index": {"location": str(tmp_path / "index")},
        "context": ROOMY,
        "completion": {"min_keep": 0.0},
    }
