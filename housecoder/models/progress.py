"""A tiny progress interface, so the store's steps report progress without importing a UI.

The CLI passes a rich-backed implementation; library callers and tests pass
nothing and get `SILENT`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Protocol

Advance = Callable[[int], None]


class Progress(Protocol):
    """Opens one task; the yielded callable advances it by a number of units."""

    def task(
        self, description: str, total: int | None = None, unit: str = "bytes"
    ) -> contextlib.AbstractContextManager[Advance]:
        """Open a progress task of `total` units (None: unknown length, shown as a spinner)."""
        ...


class _Silent:
    @contextlib.contextmanager
    def task(self, description: str, total: int | None = None, unit: str = "bytes") -> Iterator[Advance]:
        yield lambda _units: None


SILENT: Progress = _Silent()
