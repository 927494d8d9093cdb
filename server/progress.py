"""`$/progress` work-done reports for long jobs that run off the event loop (indexing).

The indexer reports through `housecoder.models.progress.Progress`; this
adapter turns its tasks into LSP begin/report/end notifications, sent from the
event loop thread (pygls writers are not thread-safe) and throttled to whole
percentage steps.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

from lsprotocol import types

from housecoder.models.progress import Advance


class LspProgress:
    """A Progress whose tasks report under one work-done token."""

    def __init__(self, server: Any, token: str, loop: asyncio.AbstractEventLoop) -> None:
        self.server, self.token, self.loop = server, token, loop

    def _send(self, value: Any) -> None:
        self.loop.call_soon_threadsafe(
            self.server.protocol.notify, types.PROGRESS, types.ProgressParams(token=self.token, value=value)
        )

    def begin(self, title: str) -> None:
        self._send(types.WorkDoneProgressBegin(title=title, cancellable=False, percentage=0))

    def end(self, message: str) -> None:
        self._send(types.WorkDoneProgressEnd(message=message))

    @contextlib.contextmanager
    def task(self, description: str, total: int | None = None, unit: str = "bytes") -> Iterator[Advance]:
        done, last = 0, -1
        self._send(types.WorkDoneProgressReport(message=description, percentage=0 if total else None))

        def advance(units: int) -> None:
            nonlocal done, last
            done += units
            if not total:
                return
            percent = min(100, done * 100 // total)
            if percent != last:
                last = percent
                self._send(
                    types.WorkDoneProgressReport(
                        message=f"{description} {done}/{total} {unit}", percentage=percent
                    )
                )

        yield advance
