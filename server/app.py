"""The housecoder language server (pygls): inline completions with repository context.

Handlers stay thin: they read the buffer, place it in the workspace, hand the
work to the session's model thread and turn the answer into LSP types. Every
handler catches its own failures: a broken model or index gives an empty
result and a log line, never a dead server. Malformed requests are answered
with JSON-RPC errors by pygls before they reach a handler.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from housecoder import __version__
from housecoder.completion import CompletionInput, CompletionOutput
from housecoder.config import Settings, load_settings, merge_sections
from housecoder.errors import ConfigError, HousecoderError, first_line
from housecoder.inference.base import Cancellation
from housecoder.models.progress import SILENT
from housecoder.server.decision import Decision, explain
from housecoder.server.documents import Located, RecentDocuments, locate, uri_to_path
from housecoder.server.feedback import FeedbackRecorder
from housecoder.server.host import ModelHost
from housecoder.server.positions import offset_at
from housecoder.server.progress import LspProgress
from housecoder.server.protocol import HardenedProtocol, strict_converter
from housecoder.server.session import Session

log = logging.getLogger(__name__)
COMMANDS = (
    "housecoder.index",
    "housecoder.status",
    "housecoder.reloadAdapter",
    "housecoder.lastCompletion",
    "housecoder.accepted",
    "housecoder.trainBackground",
)
# How long a generation the client cancelled waits for a next request that continues it: longer than a client's
# debounce plus a pause between keystrokes. Cheap: any other request cancels it at once.
ABANDON_GRACE_S = 1.0
CURSOR = "housecoder/cursor"  # client notification {textDocument: {uri}, position}: the cursor settled on a new line
_WORD_BEFORE = re.compile(r"[A-Za-z0-9_$]*$")


def _section(options: Any) -> dict[str, Any]:
    """Settings sent by a client: either the sections themselves or wrapped as {"housecoder": {...}}."""
    if not isinstance(options, Mapping):
        return {}
    inner = options.get("housecoder", options)
    return (
        {key: value for key, value in inner.items() if isinstance(value, Mapping)}
        if isinstance(inner, Mapping)
        else {}
    )


class HousecoderServer(LanguageServer):
    """pygls server plus the session it serves, for one client connection; `overrides` are settings from the
    command line, `trusted` the project roots whose own config files may set sensitive keys (`housecoder
    trust`), `host` the model thread and models shared with the process's other connections (None: its own),
    `token` (TCP) what gives the user's token, which `initialize` must carry; `user_file` the user's own settings
    file (`housecoder.config.user_config_file`)."""

    def __init__(
        self,
        overrides: Mapping[str, Mapping[str, Any]] | None = None,
        trusted: Collection[Path] = (),
        host: ModelHost | None = None,
        token: Callable[[], str] | None = None,
        user_file: Path | None = None,
    ) -> None:
        super().__init__(
            "housecoder",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Full,
            protocol_cls=HardenedProtocol,
            converter_factory=strict_converter,
        )
        cast(HardenedProtocol, self.protocol).expected_token = token
        self.overrides: dict[str, Any] = merge_sections({}, overrides or {})
        # roots -> the fingerprint each was trusted with (`housecoder trust`), or bare roots
        self.trusted: Collection[Path] = dict(trusted) if isinstance(trusted, Mapping) else frozenset(trusted)
        self.host = host
        self.user_file = user_file  # the user's own settings, below the project's
        self.stopped = asyncio.Event()  # set by `exit`: the transport ends the connection
        self.exit_code: int | None = None
        self.client_options: dict[str, Any] = {}
        self.session: Session | None = None
        self.recent = RecentDocuments()
        # Per document, the requests not cancelled yet: the latest, and older ones left to run because it
        # continues what they write (or that the client cancelled a moment ago; see ABANDON_GRACE_S).
        self.inflight: dict[str, list[Cancellation]] = {}
        self.seen: dict[str, int] = {}  # completion requests per document, to tell whether a newer one came
        self.last: dict[str, CompletionOutput] = {}
        self.decision: Decision | None = None  # the last completion request's answer and why
        self.shown: set[str] = set()
        self.feedback: FeedbackRecorder | None = None  # set at `initialize`, with the settings
        self._tokens = itertools.count(1)

    # -- connection --------------------------------------------------------------------

    def end_connection(self, code: int) -> None:
        """`exit` was received: end this connection with `code` (over stdio, the process)."""
        self.exit_code = code
        self.stopped.set()

    def close(self) -> None:
        """The connection ended: stop its work and let the host drop what nobody else uses."""
        for alive in self.inflight.values():
            for cancel in alive:
                cancel.cancel()
        self.inflight.clear()
        if self.feedback is not None:  # first: a keep refit finishing now hands nothing to a closed session
            self.feedback.close()
        if self.session is not None:
            self.session.shutdown()

    def start_io(self, stdin: Any = None, stdout: Any = None) -> None:
        """Serve stdin/stdout until `exit` or the end of stdin (`server.transport`); the exit code is kept in
        `exit_code`."""
        from housecoder.server.transport import serve_stdio

        self.exit_code = serve_stdio(self, stdin, stdout)

    # -- settings ----------------------------------------------------------------------

    def settings_for(self, root: Path | None, client_options: Mapping[str, Any]) -> Settings:
        """Project files of `root`, then CLI overrides, then the client's options (raises ConfigError). Sensitive
        keys an untrusted project sets are dropped and shown to the user once."""
        return load_settings(
            root,
            merge_sections(self.overrides, client_options),
            trusted=self.trusted,
            warn=self._untrusted,
            user_file=self.user_file,
        )

    def valid_options(
        self,
        root: Path | None,
        options: Mapping[str, Mapping[str, Any]],
        base: Mapping[str, Any] | None = None,
    ) -> tuple[dict[str, Any], Settings, list[str]]:
        """`options` from the client (on top of `base`, the options already in force) less each key the settings
        refuse, tried one at a time on top of the project's files; the settings they make; and the reason for
        each refused key. Raises HousecoderError when the project's configuration itself is broken."""
        kept: dict[str, Any] = merge_sections({}, base or {})
        whole = merge_sections(kept, options)
        try:
            return whole, self.settings_for(root, whole), []
        except ConfigError:
            settings = self.settings_for(root, kept)  # the project's own files (and what was in force) stand
        refused: list[str] = []
        for section, values in options.items():
            for key, value in values.items():
                trial = merge_sections(kept, {section: {key: value}})
                try:
                    settings = self.settings_for(root, trial)
                except ConfigError as err:
                    refused.append(first_line(err).removeprefix("settings: "))
                    continue
                kept = trial
        return kept, settings, refused

    def _refused(self, refused: list[str]) -> None:
        if refused:
            self.notify_user(
                f"housecoder: editor settings ignored ({'; '.join(refused)}); the others and the project's apply",
                types.MessageType.Warning,
            )

    def _untrusted(self, message: str) -> None:
        self.notify_user(
            f"housecoder: {message} and restart the server", types.MessageType.Warning, once=True
        )

    def notify_user(
        self, message: str, kind: types.MessageType = types.MessageType.Info, once: bool = False
    ) -> None:
        """A `window/showMessage` (from the event loop thread only)."""
        if once and message in self.shown:
            return
        self.shown.add(message)
        log.warning("%s", message) if kind <= types.MessageType.Warning else log.info("%s", message)
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))

    # -- completion --------------------------------------------------------------------

    async def complete_at(
        self, uri: str, position: types.Position, *, explicit: bool = False
    ) -> tuple[str, str | None, float | None]:
        """The completion text for a cursor ('' for nothing), the id it was recorded under (None: not
        recorded) and its keep-probability; supersedes an older request for the same document. `explicit`:
        the user asked for it (shown whatever its keep-probability)."""
        session = self.session
        document = self.workspace.text_documents.get(uri)  # never the disk: only buffers the client sent

        def decided(shown: bool, reason: str) -> None:
            self.decision = Decision.now(uri, position.line, position.character, shown, reason)

        if session is None or document is None:
            decided(
                False, "the server has no workspace yet" if session is None else "the document is not open"
            )
            return "", None, None
        session.activity.mark()  # the user is typing: background training gives the CPU back
        cancel = Cancellation()
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            located, request = self._cursor(session, uri, document, position)
            request = replace(request, explicit=explicit)
            # idle work yields to every real request but the one it precomputes
            session.cancel_idle(keep=request)
            alive = self.inflight.setdefault(uri, [])
            if alive and not session.continues(located, request):
                # unless they write what was just typed: then they run on and answer this one
                for older in alive:
                    older.cancel()
                alive.clear()
            seen = self.seen[uri] = self.seen.get(uri, 0) + 1
            work = session.model_pool.submit(session.complete, located, request, cancel)
            alive.append(cancel)  # until the model thread is done with it, whatever the client does meanwhile
            work.add_done_callback(lambda _: loop.call_soon_threadsafe(self._forget, uri, cancel))
            answer = await asyncio.wrap_future(work)
        except asyncio.CancelledError:
            # $/cancelRequest (clients send it on every keystroke): the model stops at its next token, unless the
            # next request, due after the client's debounce, continues what it is writing.
            loop.call_later(ABANDON_GRACE_S, self._abandon, uri, cancel, seen)
            decided(False, "cancelled by the editor (a newer keystroke asks again)")
            raise
        except HousecoderError as err:
            self.notify_user(f"housecoder: {err}", types.MessageType.Error, once=True)
            decided(False, f"error: {err}")
            return "", None, None
        except Exception as err:
            log.exception("completion failed for %s", uri)
            self.notify_user(
                f"housecoder: completion failed: {first_line(err)}", types.MessageType.Error, once=True
            )
            decided(False, f"error: {first_line(err)}")
            return "", None, None
        for notice in answer.notices:
            self.notify_user(notice, types.MessageType.Info, once=True)
        output = answer.output
        if output is None or cancel.cancelled:
            decided(
                False,
                "no answer within server.request_timeout_ms"
                if cancel.expired
                else "cancelled: a newer request for the document, or the model was reloading",
            )
            return "", None, None
        decided(*explain(output))
        self.last[uri] = output
        shown_id = self._record_shown(uri, located, request, output, (loop.time() - started) * 1000)
        server = session.settings.server
        # ready before Tab: the one after it
        if output.text and server.precompute_next and server.tuning.cache_entries > 0:
            text = request.text[: request.offset] + output.text + request.text[request.offset :]
            session.warm(
                located, replace(request, text=text, offset=request.offset + len(output.text)), complete=True
            )
        log.info(
            "%s:%d:%d %s (%s) %s",
            located.relative,
            position.line + 1,
            position.character + 1,
            output.trigger.reason,
            output.cached or output.stopped_by,
            " ".join(f"{name}={seconds * 1000:.0f}ms" for name, seconds in output.timings.items()),
        )
        return output.text, shown_id, output.p_keep

    def _record_shown(
        self,
        uri: str,
        located: Located,
        request: CompletionInput,
        output: CompletionOutput,
        latency_ms: float,
    ) -> str | None:
        """Record the suggestion about to be shown (never fails a completion)."""
        if self.feedback is None or self.session is None or not output.text:
            return None
        try:
            choice = self.session.loaded().adapter if self.session.model_ready else None
            name = choice.path.name if choice is not None else None
            return self.feedback.shown(uri, located, request, output, latency_ms, name)
        except Exception as err:
            log.warning("not recording the suggestion: %s", first_line(err))
            return None

    def read_document(self, uri: str) -> str | None:
        """A document's text now: the client's buffer while it is open, else the saved file (None: neither)."""
        document = self.workspace.text_documents.get(uri)
        if document is not None:
            return str(document.source)
        path = uri_to_path(uri)
        try:
            return path.read_text(encoding="utf-8") if path is not None and path.is_file() else None
        except (OSError, UnicodeDecodeError):
            return None

    def schedule(self, delay_s: float, work: Any) -> None:
        """Run `work` on the event loop in `delay_s` seconds (from the event loop thread)."""
        asyncio.get_running_loop().call_later(delay_s, work)

    def _abandon(self, uri: str, cancel: Cancellation, seen: int) -> None:
        """A request the client cancelled: stop it unless a later request for the document came (which either
        cancelled it or lets it run because it continues it; it stays in `inflight` until it is done)."""
        if self.seen.get(uri) == seen:
            cancel.cancel()

    def _forget(self, uri: str, cancel: Cancellation) -> None:
        alive = self.inflight.get(uri, [])
        if cancel in alive:
            alive.remove(cancel)
        if not alive:
            self.inflight.pop(uri, None)

    def _cursor(
        self, session: Session, uri: str, document: Any, position: types.Position
    ) -> tuple[Located, CompletionInput]:
        """The completion input for a cursor in an open document (its folder, language and context buffers)."""
        text = document.source
        offset = min(offset_at(document, position.line, position.character), len(text))
        located = locate(uri, session.folders, document.language_id)
        documents = self.recent.context_for(
            located,
            uri,
            {u: d.source for u, d in self.workspace.text_documents.items()},
            session.folders,
            session.settings.server.tuning.max_document_bytes,
        )
        return located, CompletionInput(
            located.relative,
            text,
            offset,
            located.language,
            documents,
            use_index=located.root is not None,
            since_decision=None if self.feedback is None else self.feedback.since_decision(located.root),
        )

    def warm_at(self, uri: str, position: types.Position) -> None:
        """Prefill, at idle, the prompt of a cursor the user has moved to (never while a request is running)."""
        session = self.session
        document = self.workspace.text_documents.get(uri)
        if (
            session is None
            or document is None
            or not session.settings.server.idle_prefill
            or any(self.inflight.values())
        ):
            return
        try:
            located, request = self._cursor(session, uri, document, position)
        except Exception as err:  # a position outside the buffer, a bad URI: nothing to warm
            log.info("no idle prefill for %s: %s", uri, first_line(err))
            return
        session.warm(located, request)

    # -- indexing ----------------------------------------------------------------------

    async def index_folder(self, root: Path, paths: list[Path] | None = None) -> dict[str, Any]:
        """Index `root` on the index thread, reporting `$/progress` when the client supports it."""
        assert self.session is not None
        session = self.session
        loop = asyncio.get_running_loop()
        progress: LspProgress | None = None
        window = self.client_capabilities.window
        if paths is None and window is not None and window.work_done_progress:
            token = f"housecoder-index-{next(self._tokens)}"
            try:
                await self.work_done_progress.create_async(token)
                progress = LspProgress(self, token, loop)
                progress.begin(f"housecoder: indexing {root.name}")
            except Exception as err:  # the client refused the token: index without progress
                log.info("no work-done progress: %s", first_line(err))
                progress = None
        try:
            summary = await asyncio.wrap_future(
                session.submit_index(lambda: session.reindex(root, paths, progress or SILENT))
            )
        except Exception as err:
            message = f"housecoder: indexing {root.name} failed: {first_line(err)}"
            if progress:
                progress.end(message)
            raise HousecoderError(message) from err
        result = {
            "root": str(root),
            "indexed": summary.indexed,
            "unchanged": summary.unchanged,
            "deleted": summary.deleted,
            "chunks": summary.chunks_total,
            "symbols": summary.symbols_total,
            "seconds": round(summary.seconds, 2),
        }
        if progress:
            progress.end(f"{summary.indexed} files indexed, {summary.chunks_total} chunks")
        return result


def _accept_command(shown_id: str | None, p_keep: float | None) -> types.Command | None:
    """What a client runs when the user accepts the item: reports the accept (None: it was not recorded).
    Its arguments are [id, null, p_keep]: the second is the characters of a partial accept (the client's)."""
    if shown_id is None:
        return None
    arguments: list[Any] = [shown_id] if p_keep is None else [shown_id, None, round(p_keep, 4)]
    return types.Command(title="housecoder: accepted", command="housecoder.accepted", arguments=arguments)


def _cursor_params(params: Any) -> tuple[str, types.Position]:
    """`housecoder/cursor` params (a dict, or the object pygls makes of one) as a URI and a position."""

    def field(value: Any, name: str) -> Any:
        return value[name] if isinstance(value, Mapping) else getattr(value, name)

    document, position = field(params, "textDocument"), field(params, "position")
    line, character = int(field(position, "line")), int(field(position, "character"))
    if line < 0 or character < 0:
        raise ValueError(f"negative position {line}:{character}")
    return str(field(document, "uri")), types.Position(line=line, character=character)


def _folders(params: types.InitializeParams) -> list[Path]:
    uris = [folder.uri for folder in params.workspace_folders or []] or (
        [params.root_uri] if params.root_uri else []
    )
    paths = [path for path in (uri_to_path(uri) for uri in uris) if path is not None and path.is_dir()]
    if not paths and params.root_path and Path(params.root_path).is_dir():
        paths = [Path(params.root_path)]
    return paths


def create_server(
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    trusted: Collection[Path] = (),
    host: ModelHost | None = None,
    token: Callable[[], str] | None = None,
    user_file: Path | None = None,
) -> HousecoderServer:
    """A server with every feature registered, for one client (sharing `host` with other clients' servers;
    over TCP, `token` gives the token the client must present; `user_file`: the user's own settings)."""
    server = HousecoderServer(overrides, trusted, host, token, user_file)

    @server.feature(types.INITIALIZE)
    def initialize(ls: HousecoderServer, params: types.InitializeParams) -> None:
        folders = _folders(params)
        root = folders[0] if folders else None
        try:
            ls.client_options, settings, refused = ls.valid_options(
                root, _section(params.initialization_options)
            )
            ls._refused(refused)
        except HousecoderError as err:  # the project's own configuration is broken
            ls.notify_user(f"housecoder: {err}; using the defaults", types.MessageType.Error)
            ls.client_options = {}
            try:
                settings = ls.settings_for(None, {})
            except HousecoderError:
                settings = Settings()
        ls.session = Session(settings, folders, ls.host)
        ls.feedback = FeedbackRecorder(
            settings, ls.read_document, ls.schedule, refitted=ls.session.use_keep_model
        )

    @server.feature(types.INITIALIZED)
    def initialized(ls: HousecoderServer, params: types.InitializedParams) -> None:
        if ls.session is not None:
            ls.session.load_model()
            ls.session.training.start_configured(ls.session.settings, ls.session.folders)

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: HousecoderServer, params: None) -> None:
        ls.close()

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: HousecoderServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.recent.touch(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: HousecoderServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.recent.touch(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: HousecoderServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.recent.forget(uri)
        ls.last.pop(uri, None)
        for cancel in ls.inflight.pop(uri, []):
            cancel.cancel()
        ls.seen.pop(uri, None)
        if ls.feedback is not None:
            ls.feedback.closed(uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))
    async def did_save(ls: HousecoderServer, params: types.DidSaveTextDocumentParams) -> None:
        session = ls.session
        if session is None or not session.settings.server.index_on_save:
            return
        located = locate(params.text_document.uri, session.folders)
        if located.root is None or located.path is None or not session.has_index(located.root):
            return  # outside the workspace: never indexed; no index yet: `housecoder.index` makes one
        try:
            await ls.index_folder(located.root, [located.path])
        except HousecoderError as err:
            log.warning("%s", err)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(ls: HousecoderServer, params: types.DidChangeConfigurationParams) -> None:
        changed = _section(params.settings)
        if ls.session is None or not changed:
            return
        root = ls.session.folders[0] if ls.session.folders else None
        try:
            options, settings, refused = ls.valid_options(root, changed, ls.client_options)
        except HousecoderError as err:
            ls.notify_user(f"housecoder: {err}; keeping the previous settings", types.MessageType.Error)
            return
        ls._refused(refused)
        ls.client_options = options
        ls.session.update_settings(settings)
        if ls.feedback is not None:
            ls.feedback.update_settings(settings)

    @server.feature(CURSOR)
    def cursor(ls: HousecoderServer, params: Any) -> None:
        try:
            uri, position = _cursor_params(params)
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            log.warning("malformed %s notification: %s", CURSOR, first_line(err))
            return
        ls.warm_at(uri, position)

    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(
        ls: HousecoderServer, params: types.InlineCompletionParams
    ) -> types.InlineCompletionList | None:
        invoked = params.context.trigger_kind == types.InlineCompletionTriggerKind.Invoked
        text, shown_id, p_keep = await ls.complete_at(
            params.text_document.uri, params.position, explicit=invoked
        )
        if not text:
            return types.InlineCompletionList(items=[])
        where = types.Range(start=params.position, end=params.position)
        item = types.InlineCompletionItem(
            insert_text=text, range=where, command=_accept_command(shown_id, p_keep)
        )
        return types.InlineCompletionList(items=[item])

    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(resolve_provider=False))
    async def completion(ls: HousecoderServer, params: types.CompletionParams) -> types.CompletionList | None:
        document_caps = ls.client_capabilities.text_document
        if document_caps is not None and document_caps.inline_completion is not None:
            return None  # the client shows inline completions; a second list entry would duplicate them
        text, shown_id, p_keep = await ls.complete_at(params.text_document.uri, params.position)
        document = ls.workspace.text_documents.get(params.text_document.uri)
        if not text or document is None:
            return types.CompletionList(is_incomplete=True, items=[])
        lines = document.lines
        line = lines[params.position.line] if params.position.line < len(lines) else ""
        at = params.position
        before = line[: offset_at(document, at.line, at.character) - offset_at(document, at.line, 0)]
        word = _WORD_BEFORE.search(before).group(0)  # type: ignore[union-attr]
        start = types.Position(line=params.position.line, character=params.position.character - len(word))
        item = types.CompletionItem(
            label=(word + text).split("\n", 1)[0][:80] or text.strip()[:80],
            kind=types.CompletionItemKind.Text,
            detail="housecoder",
            filter_text=word + text,
            sort_text="0",
            insert_text_format=types.InsertTextFormat.PlainText,
            text_edit=types.TextEdit(
                range=types.Range(start=start, end=params.position), new_text=word + text
            ),
            command=_accept_command(shown_id, p_keep),
        )
        return types.CompletionList(is_incomplete=True, items=[item])

    @server.command("housecoder.index")
    async def index_command(ls: HousecoderServer, *args: Any) -> list[dict[str, Any]]:
        if ls.session is None:
            return []
        wanted = {uri_to_path(str(arg)) or Path(str(arg)) for arg in args}
        roots = [
            root for root in ls.session.folders if not wanted or root in {path.resolve() for path in wanted}
        ]
        results = []
        for root in roots:
            try:
                results.append(await ls.index_folder(root))
            except HousecoderError as err:
                ls.notify_user(str(err), types.MessageType.Error)
                results.append({"root": str(root), "error": str(err)})
        return results

    @server.command("housecoder.status")
    async def status_command(ls: HousecoderServer, *args: Any) -> dict[str, Any]:
        if ls.session is None:
            return {}
        loop = asyncio.get_running_loop()
        status = await loop.run_in_executor(None, ls.session.status)
        feedback = (
            await loop.run_in_executor(None, ls.feedback.status, ls.session.folders) if ls.feedback else {}
        )
        in_flight = sum(len(alive) for alive in ls.inflight.values())
        last = ls.decision.as_dict() if ls.decision else None
        return {**status, "requests_in_flight": in_flight, "feedback": feedback, "last_decision": last}

    @server.command("housecoder.accepted")
    async def accepted_command(ls: HousecoderServer, *args: Any) -> dict[str, Any]:
        """[id] when the user accepted a suggestion, [id, characters] when they took only part of it; the item's
        own command is [id, null, p_keep] (its keep-probability travels with it; the server reads the id)."""
        if ls.feedback is None:
            return {"recorded": False, "error": "the server is not initialized"}
        if not args or not isinstance(args[0], str):
            return {"recorded": False, "error": "housecoder.accepted takes [id] or [id, characters]"}
        chars = args[1] if len(args) > 1 else None
        if chars is not None and (isinstance(chars, bool) or not isinstance(chars, int) or chars < 0):
            return {"recorded": False, "error": "the accepted characters must be a whole number"}
        return await ls.feedback.accept(args[0], chars)

    @server.command("housecoder.reloadAdapter")
    async def reload_adapter_command(ls: HousecoderServer, *args: Any) -> dict[str, Any]:
        if ls.session is None:
            return {}
        adapter = str(args[0]) if args and args[0] is not None else None
        try:
            return await asyncio.get_running_loop().run_in_executor(None, ls.session.set_adapter, adapter)
        except HousecoderError as err:
            ls.notify_user(f"housecoder: {err}", types.MessageType.Error)
            return {"adapter": None, "error": str(err)}

    @server.command("housecoder.trainBackground")
    def train_background_command(ls: HousecoderServer, *args: Any) -> list[dict[str, str]]:
        """Start background training of every workspace folder (or of the folder `args[0]`) now."""
        if ls.session is None:
            return []
        session = ls.session
        roots = [Path(str(args[0])).resolve()] if args and args[0] else session.folders
        started = []
        for root in roots:
            if root not in session.folders:
                started.append({"root": str(root), "state": "not a workspace folder"})
                continue
            try:
                started.append({"root": str(root), "state": session.training.start(session.settings, root)})
            except OSError as err:
                started.append({"root": str(root), "state": f"cannot start: {err.strerror or err}"})
        return started

    @server.command("housecoder.lastCompletion")
    def last_completion_command(ls: HousecoderServer, *args: Any) -> dict[str, Any] | None:
        output = ls.last.get(str(args[0])) if args else None
        return output.as_dict() | {"why": explain(output)[1]} if output else None

    return server
