"""The user is typing: one file whose modification time is the newest completion request on this machine.

The server touches it on every completion request (at most every `MARK_EVERY_S`); background training reads
it and gives the CPU back until no request has come for `train.idle_seconds`. It is one file for the whole
machine, beside the model store, because every workspace's completions share the same cores.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from housecoder.config import Settings
from housecoder.locations import cache_base

log = logging.getLogger(__name__)

ACTIVITY_FILE = "activity"
MARK_EVERY_S = 0.5  # a request within this long of the last mark leaves the file alone


def activity_file(settings: Settings) -> Path:
    return cache_base(settings) / ACTIVITY_FILE


class ActivityMark:
    """Touches the activity file when a completion is requested; a failure (read-only cache, full disk) is
    logged once and never reaches the request."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._last = 0.0
        self._warned = False

    def mark(self) -> None:
        now = time.monotonic()
        if now - self._last < MARK_EVERY_S:
            return
        self._last = now
        try:
            try:
                os.utime(self.path)
            except FileNotFoundError:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.path.touch()
        except OSError as err:
            if not self._warned:
                self._warned = True
                log.warning(
                    "%s: cannot mark typing activity (%s); background training will not yield", self.path, err
                )


def seconds_since(path: Path) -> float | None:
    """Seconds since the newest completion request (never negative); None when none was ever marked."""
    try:
        return max(0.0, time.time() - path.stat().st_mtime)
    except OSError:
        return None
