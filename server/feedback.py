"""The server's side of the feedback loop: each suggestion shown gets an id, the client reports accepts through
the `housecoder.accepted` command the item carries, a newer suggestion for the document (or closing it)
rejects the one before, and some time after each decision the buffer is read again to measure what is left
of the suggestion at its place (`housecoder.feedback.retention`).

Typing through a suggestion (each key typed matches it, and the server answers with the rest) keeps its id:
it is one suggestion shown, and an accept after it counts the typed part as accepted. A suggestion outside a
workspace folder, in a file the index excludes, or in a secret file is never recorded. Writes go to the
workspace's store (`housecoder.feedback.store`) on one background thread, so a slow disk never holds up a
completion.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from housecoder.completion import CompletionInput, CompletionOutput
from housecoder.config import Settings
from housecoder.errors import first_line
from housecoder.feedback.retention import retained
from housecoder.feedback.rules import excluded
from housecoder.feedback.stats import today
from housecoder.feedback.store import Check, FeedbackStore, Suggestion, store_path
from housecoder.keep import KeepModel
from housecoder.server.documents import Located
from housecoder.server.keep import IdleRefit

log = logging.getLogger(__name__)

MAX_PENDING = 256  # suggestions remembered for an accept (older ids answer "unknown")
MAX_SCHEDULED = 512  # retention checks waiting at once; more are not measured
MAX_ID_CHARS = 64  # ids are 16 hex characters; a longer one is never echoed whole
WRITE_WAIT_S = 5.0  # how long an accept's answer waits for its write (a store another process holds)
COMPARE_CHARS = 200  # text before the cursor compared to tell typing through from a new place


@dataclass
class Pending:
    """A recorded suggestion the server still tracks: its store, its document, its record."""

    root: Path
    uri: str
    suggestion: Suggestion


class FeedbackRecorder:
    """One connection's recorder. `read(uri)` is the buffer's text now (None: closed and not on disk);
    `schedule(delay_s, work)` runs `work` later on the event loop. The decisions it records refit the folder's
    keep model at idle (`housecoder.server.keep`) where `refitted(root, model)` is given: it hands a refit to
    the engines."""

    def __init__(
        self,
        settings: Settings,
        read: Callable[[str], str | None],
        schedule: Callable[[float, Callable[[], None]], Any],
        clock: Callable[[], float] = time.time,
        refitted: Callable[[Path, KeepModel], object] | None = None,
    ) -> None:
        self.settings = settings
        self.read = read
        self.schedule = schedule
        self.clock = clock
        self.stores: dict[Path, FeedbackStore] = {}
        self.pending: OrderedDict[str, Pending] = OrderedDict()  # by id, oldest first
        self.current: dict[str, str] = {}  # uri -> id of the suggestion last shown there
        self.decisions: dict[Path, float] = {}  # folder -> clock time of its last accept or reject
        self.scheduled = 0
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="housecoder-feedback")
        self.refit = None if refitted is None else IdleRefit(lambda: self.settings, schedule, refitted)

    @property
    def enabled(self) -> bool:
        return self.settings.feedback.enabled

    def update_settings(self, settings: Settings) -> None:
        self.settings = settings

    def store(self, root: Path) -> FeedbackStore:
        found = self.stores.get(root)
        if found is None:
            found = self.stores[root] = FeedbackStore(
                store_path(self.settings, root), max_mb=self.settings.feedback.max_mb
            )
        return found

    def _write(self, store: FeedbackStore, work: Callable[[FeedbackStore], object]) -> Future[bool]:
        """Queue `work` on the writer thread; the future says whether it was written."""

        def run() -> bool:
            try:
                work(store)
            except Exception as err:  # never let the recorder's thread die on one write
                log.warning("feedback store %s: %s", store.path, first_line(err))
                return False
            return True

        return self.writer.submit(run)

    # -- events --------------------------------------------------------------------------

    def shown(
        self,
        uri: str,
        located: Located,
        request: CompletionInput,
        output: CompletionOutput,
        latency_ms: float,
        adapter: str | None,
    ) -> str | None:
        """Record a suggestion shown at the request's cursor; its id, for the item's accept command (None: not
        recorded). The same id when the user typed through the previous one."""
        if not self.enabled or not output.text or located.root is None:
            return None
        limit = self.settings.feedback.tuning.max_context_chars
        before, after = request.text[: request.offset][-limit:], request.text[request.offset :][: limit // 2]
        # the engine has already refused files with a secret near the cursor: checking what is kept is enough,
        # and bounded (a few milliseconds, not a whole file's scan)
        if excluded(located.relative, before + output.text + after, self.settings.index.exclude):
            return None
        previous = self._pending(self.current.get(uri))
        if previous is not None:
            typed = _typed_through(previous.suggestion, request, output.text)
            if typed is not None:
                previous.suggestion = replace(previous.suggestion, typed=typed)
                self._write(
                    self.store(previous.root), lambda store: store.typed(previous.suggestion.id, typed)
                )
                return previous.suggestion.id
            self._reject(previous)
        suggestion = Suggestion(
            id=uuid.uuid4().hex[:16],
            shown_at=self.clock(),
            path=located.relative,
            language=located.language,
            kind="block" if output.trigger.multi_line else "line",
            context=bool(output.snippets),
            adapter=adapter,
            layout=output.layout,
            latency_ms=latency_ms,
            text=output.text,
            before=before,
            after=after,
            cursor=request.offset,
            p_keep=output.p_keep,
            signals=output.signals,
            model=self.settings.models.code_model,
        )
        pending = Pending(located.root, uri, suggestion)
        self.pending[suggestion.id] = pending
        while len(self.pending) > MAX_PENDING:
            self.pending.popitem(last=False)
        self.current[uri] = suggestion.id
        self._write(self.store(located.root), lambda store: store.shown(suggestion))
        return suggestion.id

    def accepted(self, suggestion_id: str, chars: int | None = None) -> dict[str, Any]:
        """The client accepted a suggestion (all of it; `chars` of it after the part typed through: partly).
        The answer says what was decided; the write itself is queued (`accept` waits for it)."""
        return self._accept(suggestion_id, chars)[0]

    async def accept(self, suggestion_id: str, chars: int | None = None) -> dict[str, Any]:
        """`accepted`, answered once the store has it: `recorded` is true only for a written decision."""
        answer, written = self._accept(suggestion_id, chars)
        if written is None:
            return answer
        try:
            ok = await asyncio.wait_for(asyncio.wrap_future(written), WRITE_WAIT_S)
        except TimeoutError:
            return answer | {
                "recorded": False,
                "error": "the feedback store is busy: the accept is still queued",
            }
        return answer if ok else {"recorded": False, "error": "cannot write the feedback store (see the log)"}

    def _accept(self, suggestion_id: str, chars: int | None) -> tuple[dict[str, Any], Future[bool] | None]:
        pending = self._pending(suggestion_id) if len(suggestion_id) <= MAX_ID_CHARS else None
        if pending is None:
            shown = (
                suggestion_id if len(suggestion_id) <= MAX_ID_CHARS else suggestion_id[:MAX_ID_CHARS] + "…"
            )
            log.info("accept of an unknown suggestion %r: not recorded", shown)
            return {"recorded": False, "error": f"unknown suggestion {shown!r}"}, None
        if chars == 0:
            return {"recorded": False, "error": "nothing was accepted (0 characters)"}, None
        suggestion = pending.suggestion
        rest = len(suggestion.text) - suggestion.typed
        partial = chars is not None and 0 < chars < rest
        taken = chars if partial and chars is not None else rest
        if (
            suggestion.outcome == "accepted"
            or (suggestion.outcome == "partial" and taken <= (suggestion.accepted_chars or 0))
        ):  # decided: a repeated or smaller accept changes nothing (a rejection gives way to the user's accept)
            return {
                "recorded": False,
                "outcome": suggestion.outcome,
                "accepted_chars": suggestion.accepted_chars,
                "error": f"already {suggestion.outcome}",
            }, None
        decided = self.decisions[pending.root] = self.clock()
        pending.suggestion = replace(
            suggestion, outcome="partial" if partial else "accepted", accepted_chars=taken, decided_at=decided
        )
        outcome = pending.suggestion.outcome
        written = self._write(
            self.store(pending.root), lambda store: store.decide(suggestion.id, outcome, taken, decided)
        )
        for delay in self.settings.feedback.tuning.retention_checks_s:
            self._later(delay, pending, pending.suggestion.accepted_text)
        if self.refit is not None:
            self.refit.decided(pending.root)
        return {"recorded": True, "outcome": outcome, "accepted_chars": taken}, written

    def since_decision(self, root: Path | None) -> float | None:
        """Seconds since a suggestion in the folder `root` was last accepted or rejected (None: none yet on
        this connection): a signal of the keep-probability."""
        decided = None if root is None else self.decisions.get(root)
        return None if decided is None else max(0.0, self.clock() - decided)

    def closed(self, uri: str) -> None:
        """The document was closed: a suggestion still shown there was not taken."""
        pending = self._pending(self.current.pop(uri, None))
        if pending is not None:
            self._reject(pending)

    def _reject(self, pending: Pending) -> None:
        if pending.suggestion.outcome != "shown":
            return
        decided = self.decisions[pending.root] = self.clock()
        pending.suggestion = replace(pending.suggestion, outcome="rejected", decided_at=decided)
        suggestion_id = pending.suggestion.id
        self._write(
            self.store(pending.root), lambda store: store.decide(suggestion_id, "rejected", None, decided)
        )
        # what the user wrote there instead, once, at the last check
        self._later(self.settings.feedback.tuning.retention_checks_s[-1], pending, pending.suggestion.text)
        if self.refit is not None:
            self.refit.decided(pending.root)

    def _pending(self, suggestion_id: str | None) -> Pending | None:
        return self.pending.get(suggestion_id) if suggestion_id else None

    # -- retention -------------------------------------------------------------------------

    def _later(self, delay: int, pending: Pending, text: str) -> None:
        if self.scheduled >= MAX_SCHEDULED:
            return
        self.scheduled += 1

        def measure() -> None:
            self.scheduled -= 1
            self.measure(pending, text, delay)

        self.schedule(delay, measure)

    def measure(self, pending: Pending, text: str, after_s: int) -> None:
        """Record what is at the suggestion's place now (the buffer, else the saved file)."""
        suggestion = pending.suggestion
        document = self.read(pending.uri)
        found = (
            retained(text, document, suggestion.before, suggestion.after, suggestion.cursor)
            if document is not None
            else None
        )
        if found is not None and excluded(suggestion.path, found.now, self.settings.index.exclude):
            found = replace(found, now="")  # a secret written there since: the figures, never the text
        check = Check(
            suggestion.id,
            after_s,
            self.clock(),
            found is not None,
            found.kept_chars if found else 0,
            found.share if found else 0.0,
            found.now if found else "",
        )
        self._write(self.store(pending.root), lambda store: store.check(check))

    # -- reporting ---------------------------------------------------------------------------

    def status(self, roots: list[Path]) -> dict[str, Any]:
        """For `housecoder.status`: whether recording is on, where, and today's acceptance (first folder)."""
        if not roots:
            return {"enabled": self.enabled}
        store = self.store(roots[0])
        self.flush()
        try:
            figures = today(store)
        except Exception as err:  # a broken store must not break the status command
            return {"enabled": self.enabled, "store": str(store.path), "error": first_line(err)}
        return {"enabled": self.enabled, "store": str(store.path), "today": figures, "problem": store.problem}

    def flush(self) -> None:
        """Wait for the writes queued so far."""
        self.writer.submit(lambda: None).result()

    def close(self) -> None:
        if self.refit is not None:
            self.refit.close()
        self.writer.shutdown(wait=True)
        for store in self.stores.values():
            store.close()


def _typed_through(previous: Suggestion, request: CompletionInput, text: str) -> int | None:
    """How many characters of `previous` the user typed before this request, when this request is the same
    suggestion typed through (its answer is the rest of it); else None."""
    if previous.outcome != "shown":
        return None
    typed = request.offset - previous.cursor
    if not 0 < typed < len(previous.text) or previous.text[typed:] != text:
        return None
    if request.text[previous.cursor : request.offset] != previous.text[:typed]:
        return None
    start = max(0, previous.cursor - COMPARE_CHARS)
    kept = previous.before[len(previous.before) - (previous.cursor - start) :]
    return typed if request.text[start : previous.cursor] == kept else None
