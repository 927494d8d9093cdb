"""The server's state: settings, the model, one index and completion engine per workspace folder.

Threads: all model work (loading, generating, switching adapters) runs on one
worker thread, so requests queue instead of competing for two CPU cores; index
writes (save, `housecoder.index`) run on a second one. The model thread, the
loaded models and the idle job belong to a `ModelHost`, shared by the sessions of
one process (one per TCP connection). Nothing here touches pygls: the LSP layer
calls in and turns results and notices into messages.

Idle work (`warm`: prefilling the prompt the next request will most likely use,
or computing the suggestion that follows one about to be accepted) queues on the
model thread too, at most one job at a time: a newer idle job or any real
request cancels it, and it stops between two prefill steps, keeping what it
computed. It never waits for a model that is still loading.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from housecoder.activity import ActivityMark, activity_file
from housecoder.completion import CompletionEngine, CompletionInput, CompletionOutput
from housecoder.config import Settings
from housecoder.errors import HousecoderError, first_line
from housecoder.inference.base import Cancellation
from housecoder.keep import KeepModel, load_model
from housecoder.keep.refit import model_path
from housecoder.models.progress import SILENT, Progress
from housecoder.server.documents import Located
from housecoder.server.host import ModelHost
from housecoder.server.training import BackgroundTraining

if TYPE_CHECKING:
    from housecoder.completion.loading import LoadedBackend

log = logging.getLogger(__name__)


@dataclass
class _Folder:
    """One workspace folder: its index (None until opened; `missing` when it has none) and engine."""

    root: Path
    retriever: Any = None
    missing: str = ""
    engine: CompletionEngine | None = None
    warned: bool = False


@dataclass
class _IdleJob:
    """The idle job queued or running: its cursor, whether it computes a completion, and its handles."""

    request: CompletionInput
    complete: bool
    cancel: Cancellation
    future: Future[int]
    owner: object = None


def _build_windows(retriever: Any) -> None:
    try:
        retriever.windows()
    except Exception as err:  # a broken index: the request that needs the windows reports it
        log.warning("cannot build the look-alike windows: %s", first_line(err))


def _same_cursor(a: CompletionInput, b: CompletionInput) -> bool:
    return a.path == b.path and a.offset == b.offset and a.text == b.text


def _done(value: int) -> Future[int]:
    future: Future[int] = Future()
    future.set_result(value)
    return future


@dataclass
class Answer:
    """A completion plus one-time notices for the user (e.g. "no index yet")."""

    output: CompletionOutput | None
    notices: list[str] = field(default_factory=list)


class Session:
    """Everything a running server knows, independent of the protocol."""

    def __init__(self, settings: Settings, folders: Sequence[Path], host: ModelHost | None = None) -> None:
        self.settings = settings
        self.folders = [folder.resolve() for folder in folders]
        self._folders = {folder: _Folder(folder) for folder in self.folders}
        self._outside = _Folder(Path("."), missing="outside the workspace")
        self._own_host = host is None
        self.host = host or ModelHost()
        self.model_pool = self.host.pool
        self.index_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="housecoder-index")
        self._backend: Future[LoadedBackend] | None = None
        self._model_key: tuple[str, str, tuple[str, ...]] | None = None
        self._embedder: Any = None
        self._embedder_lock = threading.Lock()  # not self._lock: the embedder loads while that one is held
        self._lock = threading.Lock()
        self.indexing: dict[Path, float] = {}  # folder -> start time of a running index job
        self.warmed: list[tuple[str, int]] = []  # (what, tokens prefilled or "completed") of recent idle jobs
        self.activity = ActivityMark(
            activity_file(settings)
        )  # every completion request: background training yields
        self.training = BackgroundTraining(finished=lambda _root: self.set_adapter(None))

    # -- model -------------------------------------------------------------------------

    def load_model(self) -> Future[LoadedBackend]:
        """Start loading the configured model on the model thread (again, after a settings change), with
        the configured adapter or the best one registered for the first workspace folder that has one. A
        session of the same process that wants the same model shares the one it loaded."""
        from housecoder.completion.loading import load

        settings, folders = self.settings, list(self.folders)

        def load_on_thread() -> LoadedBackend:
            started = time.perf_counter()
            try:
                loaded = load(settings, repo_roots=folders)
            except HousecoderError:
                raise
            except Exception as err:  # e.g. out of memory: say so, keep serving
                raise HousecoderError(f"cannot load {settings.models.code_model}: {first_line(err)}") from err
            log.info("model %s loaded in %.1f s", settings.models.code_model, time.perf_counter() - started)
            return loaded

        key = (
            settings.models.model_dump_json(),
            settings.inference.model_dump_json(),
            tuple(map(str, folders)),
        )
        with self._lock:
            self._model_key = key
            self._backend = self.host.acquire(self, key, load_on_thread)
            for folder in (*self._folders.values(), self._outside):
                folder.engine = None
            return self._backend

    def loaded(self) -> LoadedBackend:
        """The loaded backend and its adapter choice (waits for loading); raises HousecoderError when loading failed."""
        future = self._backend or self.load_model()
        result: LoadedBackend = future.result()
        return result

    def backend(self) -> Any:
        """The loaded backend (waits for loading); raises HousecoderError when loading failed."""
        return self.loaded().backend

    @property
    def model_ready(self) -> bool:
        return self._backend is not None and self._backend.done() and self._backend.exception() is None

    @property
    def model_error(self) -> str:
        """Why the model failed to load ('' while loading or loaded)."""
        future = self._backend
        error = future.exception() if future is not None and future.done() else None
        return first_line(error) if error is not None else ""

    def set_adapter(self, adapter: str | None) -> dict[str, Any]:
        """On the model thread: switch to the adapter at `adapter` (checked against the loaded base), or with
        None re-apply the configured one or re-scan the registry (an adapter trained since start-up is
        picked up). A refused adapter leaves the current one on. Returns the active adapter and whether it
        was picked automatically."""
        from housecoder.completion.loading import choose_adapter, describe_choice, explicit_adapter

        def switch() -> dict[str, Any]:
            loaded = self.loaded()
            choice = (
                explicit_adapter(Path(adapter), loaded.fingerprint)
                if adapter is not None
                else choose_adapter(self.settings, loaded.fingerprint, self.folders)
            )
            try:
                loaded.apply(choice)
            finally:
                self._clear_caches()
            log.info("adapter: %s", describe_choice(choice) if choice else "none")
            active = loaded.backend.adapter
            return {
                "adapter": str(active) if active else None,
                "automatic": bool(choice and choice.automatic),
            }

        result: dict[str, Any] = self.model_pool.submit(switch).result()
        return result

    def update_settings(self, settings: Settings) -> None:
        """Apply new settings; reload the model only when the model section changed."""
        reload = settings.models != self.settings.models or settings.inference != self.settings.inference
        index_changed = reload or settings.index != self.settings.index  # the embedder is a model too
        previous = self.settings
        background_was = previous.train.background
        self.settings = settings
        self.activity = ActivityMark(activity_file(settings))
        if background_was and not settings.train.background:  # off is off
            self.training.stop()
        elif settings.train.background:
            if background_was and (settings.train, settings.models) != (previous.train, previous.models):
                self.training.stop()  # the run goes on from its checkpoint with the new settings
            self.training.start_configured(settings, self.folders)
        if index_changed:
            with self._embedder_lock:
                self._embedder = None
        with self._lock:
            for folder in (*self._folders.values(), self._outside):
                folder.engine = None
                if index_changed:
                    folder.retriever, folder.missing, folder.warned = None, "", False
        if reload:
            self.load_model()

    def _clear_caches(self) -> None:
        for folder in (*self._folders.values(), self._outside):
            if folder.engine is not None:
                folder.engine.cache.clear()

    # -- completion --------------------------------------------------------------------

    def folder(self, located: Located) -> _Folder:
        return self._folders.get(located.root, self._outside) if located.root else self._outside

    def _open_index(self, folder: _Folder) -> None:
        """Open the folder's index once; a missing or broken index means completions without retrieval."""
        if folder.retriever is not None or folder.missing:
            return
        from housecoder.indexer.errors import IndexNotFound
        from housecoder.indexer.service import open_retriever

        try:
            folder.retriever = open_retriever(folder.root, self.settings, embedder=self.embedder)
            # the look-alike windows take a second to build on a large repository: not in a request's time
            threading.Thread(
                target=_build_windows, args=(folder.retriever,), name="housecoder-windows", daemon=True
            ).start()
        except IndexNotFound:
            folder.missing = f"{folder.root.name} has no index yet: run `housecoder index` (or the housecoder.index command) for repository context"
        except Exception as err:
            folder.missing = f"cannot open the index of {folder.root.name}: {first_line(err)}"
            log.warning("%s", folder.missing)

    def complete(self, located: Located, request: CompletionInput, cancel: Cancellation) -> Answer:
        """Runs on the model thread: the engine for the document's folder, built on first use."""
        if cancel.cancelled or self._reloading():
            return Answer(None)
        timeout_ms = self.settings.server.request_timeout_ms
        if timeout_ms:  # from the moment the model thread takes it up: a deadline on holding the model
            cancel.expire_at(time.monotonic() + timeout_ms / 1000)
        notices: list[str] = []
        engine = self._engine(located, notices)
        output = engine.complete(request, cancel)
        if cancel.expired:
            log.warning(
                "%s: no answer within server.request_timeout_ms (%d ms): answered empty",
                located.relative,
                timeout_ms,
            )
            return Answer(None, notices)
        return Answer(output, notices)

    def continues(self, located: Located, request: CompletionInput) -> bool:
        """True when `request` only typed what the generation in flight for its folder is writing."""
        with self._lock:
            engine = self.folder(located).engine
        return engine is not None and engine.continues(request)

    def _reloading(self) -> bool:
        """True on the model thread while a model load queued after the running job is pending: waiting for it
        there would wait forever (it runs only after this job)."""
        return (
            self._backend is not None
            and not self._backend.done()
            and threading.current_thread().name.startswith("housecoder-model")
        )

    def cancel_idle(self, keep: CompletionInput | None = None) -> None:
        """Stop the idle job, if any (a real request is coming), unless it is computing the completion of
        `keep`'s very cursor: the request then waits for it and is answered from the cache."""
        with self.host.lock:
            job = self.host.idle
            if job is None:
                return
            if (
                job.complete
                and keep is not None
                and _same_cursor(job.request, keep)
                and not job.future.done()
            ):
                return
            job.cancel.cancel()
            self.host.idle = None

    def warm(self, located: Located, request: CompletionInput, *, complete: bool = False) -> Future[int]:
        """Queue idle work for `request`'s cursor, replacing any earlier idle job: prefill its prompt, or with
        `complete` compute its completion into the engine's cache. A prefill never replaces a completion still
        to be computed. The future gives the tokens prefilled (-1 for a completion); 0 when cancelled before
        it started or while the model is not ready."""
        with self.host.lock:
            job = self.host.idle
            if job is not None and job.complete and not complete and not job.future.done():
                return _done(0)
            if job is not None:
                job.cancel.cancel()
            cancel = Cancellation()

            def run() -> int:
                if cancel.cancelled or not self.model_ready:
                    return 0
                engine = self._engine(located, None)
                try:
                    if complete:
                        engine.complete(request, cancel)
                        done = -1
                    else:
                        done = engine.warm(request, cancel)
                except (
                    Exception
                ) as err:  # idle work must never surface: the real request will say what is wrong
                    log.info("idle work for %s skipped: %s", located.relative, first_line(err))
                    return 0
                self.warmed = [*self.warmed[-7:], ("complete" if complete else "prefill", done)]
                return done

            try:
                future = self.model_pool.submit(run)
            except RuntimeError:  # shut down
                self.host.idle = None
                return _done(0)
            self.host.idle = _IdleJob(request, complete, cancel, future, owner=self)
            return future

    def _engine(self, located: Located, notices: list[str] | None) -> CompletionEngine:
        """The folder's engine, built on first use; a missing index is told once, through `notices` (None:
        idle work, which tells nobody and leaves the notice for the next real request)."""
        backend = self.backend()
        folder = self.folder(located)
        with self._lock:
            if folder is not self._outside:
                self._open_index(folder)
                if folder.missing and not folder.warned and notices is not None:
                    folder.warned = True
                    notices.append(folder.missing)
            if folder.engine is None:
                outside = folder is self._outside
                folder.engine = CompletionEngine(
                    backend,
                    self.settings,
                    repo_name=folder.root.name if not outside else "",
                    retriever=folder.retriever,
                    follow_prefill=True,
                    # the workspace's own keep model (`housecoder stats --fit`), else the shipped one
                    keep=None
                    if outside
                    else load_model(model_path(self.settings, folder.root), self.settings.models.code_model),
                )
            return folder.engine

    def use_keep_model(self, root: Path, model: KeepModel) -> None:
        """`root`'s keep model was refitted (`housecoder.server.keep`): its engine scores with it from now on (an
        engine not built yet reads the saved file)."""
        with self._lock:
            folder = self._folders.get(root)
            if folder is not None and folder.engine is not None:
                folder.engine.keep = model

    # -- index -------------------------------------------------------------------------

    def embedder(self) -> Any:
        """The embedder, loaded once and shared by index writes and retrieval (onnxruntime runs are thread-safe)."""
        from housecoder.indexer.service import load_embedder
        from housecoder.models.store import store_for

        with self._embedder_lock:
            if self._embedder is None:
                self._embedder = load_embedder(self.settings, store_for(self.settings))
            return self._embedder

    def reindex(self, root: Path, paths: Sequence[Path] | None = None, progress: Progress = SILENT) -> Any:
        """Index `root` (all of it, or just `paths`); then completions reopen the index. Index thread only."""
        from housecoder.indexer.indexer import Indexer
        from housecoder.indexer.service import index_location, indexes_root, open_for_indexing

        embedder = self.embedder()
        location = index_location(root, self.settings, indexes_root(self.settings))
        self.indexing[root] = time.time()
        try:
            store = open_for_indexing(root, self.settings, location, embedder.dimension, full=False)
            indexer = Indexer(root, self.settings.index, store, embedder)
            summary = indexer.run(progress) if paths is None else indexer.update(paths, progress)
        finally:
            self.indexing.pop(root, None)
        with self._lock:
            folder = self._folders[root]
            folder.retriever, folder.missing, folder.engine = None, "", None
        return summary

    def has_index(self, root: Path) -> bool:
        from housecoder.indexer.service import index_location, indexes_root

        folder = self._folders.get(root)
        if folder is not None and folder.retriever is not None:
            return True
        location = index_location(root, self.settings, indexes_root(self.settings))
        return "://" in location or Path(location).is_dir()

    def submit_index(self, work: Callable[[], Any]) -> Future[Any]:
        return self.index_pool.submit(work)

    # -- status ------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """Model, adapter and index freshness of every folder (blocks briefly on the index tables)."""
        from housecoder.server.status import adapter_status, folder_status

        loaded: LoadedBackend | None = self._backend.result() if self.model_ready and self._backend else None
        described = loaded.backend.describe() if loaded else {}
        return {
            "model": self.settings.models.code_model,
            "model_state": "ready" if self.model_ready else ("error" if self.model_error else "loading"),
            "model_error": self.model_error,
            "runtime": described.get("runtime"),
            "model_path": described.get("model_path"),
            "device": described.get("device"),
            "adapter": described.get("adapter"),
            **adapter_status(loaded.adapter if loaded else None),
            "kv_cache": described.get("kv_cache"),
            "prefill_tokens_per_s": described.get("prefill_tokens_per_s"),  # llama.cpp measures it
            "snippet_tokens": next(  # the budget the folders' engines fill now
                (f.engine.settings.context.snippet_tokens for f in self._folders.values() if f.engine), None
            ),
            "model_sessions": self.host.users(self._model_key)
            if self._model_key
            else 0,  # clients sharing it (TCP)
            "idle_work": [{"kind": kind, "tokens": tokens} for kind, tokens in self.warmed],
            "folders": [
                folder_status(root, self.settings, indexing=root in self.indexing) for root in self.folders
            ],
        }

    def shutdown(self) -> None:
        """The client is gone: stop this session's idle work; the host drops models nobody else uses."""
        with self.host.lock:
            job = self.host.idle
            if job is not None and job.owner is self:
                job.cancel.cancel()
                self.host.idle = None
        self.training.stop()
        self.host.release(self)
        if self._own_host:
            self.host.shutdown()
        self.index_pool.shutdown(wait=False, cancel_futures=True)
