"""The generation in flight, so that keystrokes that type what it is writing do not start another.

While the model writes a completion at a cursor, the user may type its first
characters. Cancelling it and starting again at the new cursor would throw the
work away: instead the caller asks `follows` before cancelling, lets the
generation finish when the typed text agrees with what it has written so far
(the flight is then adopted), and the next request is answered from its result
(`answer`), minus what was typed. Only a generation adopted while it ran answers
this way: typing through a suggestion already shown is the completion cache's
job (`CompletionCache.typed_through`). A cancelled generation is never adopted,
nor one the user has typed past. Only the latest generation is kept; it is
shared by the model thread (which writes it) and callers (which read it).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from housecoder.inference.base import Cancellation


@dataclass
class Flight:
    """One generation: its cursor, the text written after the cursor so far, and its final completion
    (post-processed; None while it runs, and for good if it was cancelled)."""

    path: str
    prefix: str
    suffix: str
    text: str = ""
    final: str | None = None
    adopted: bool = False  # a later request found it writing what was typed, and let it run
    cancel: Cancellation | None = None

    def typed(self, path: str, prefix: str, suffix: str) -> str | None:
        """What was typed at this flight's cursor to reach `prefix` (None: another cursor or buffer)."""
        if path != self.path or suffix != self.suffix or not prefix.startswith(self.prefix):
            return None
        return prefix[len(self.prefix) :]


class Flights:
    """The latest generation, shared by the model thread (which writes it) and callers (which read it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: Flight | None = None

    def start(self, path: str, prefix: str, suffix: str, cancel: Cancellation | None = None) -> Flight:
        flight = Flight(path, prefix, suffix, cancel=cancel)
        with self._lock:
            self._latest = flight
        return flight

    def follows(self, path: str, prefix: str, suffix: str) -> bool:
        """True when a request at this cursor only typed what the latest generation has written (or will
        finish with): it should be left to run, and the request answered from it."""
        with self._lock:
            flight = self._latest
        if flight is None or (flight.cancel is not None and flight.cancel.cancelled):
            return False
        typed = flight.typed(path, prefix, suffix)
        if not typed:
            return False
        # finished: adopted earlier, or a suggestion already shown (not ours to reuse)
        if flight.final is not None:
            return flight.adopted and len(flight.final) > len(typed) and flight.final.startswith(typed)
        # typed past what it wrote: it may go elsewhere, do not wait for it
        agrees = flight.text.startswith(typed)
        flight.adopted = flight.adopted or agrees
        return agrees

    def answer(self, path: str, prefix: str, suffix: str) -> str | None:
        """The rest of the latest finished completion after what was typed since its request, if it agrees."""
        with self._lock:
            flight = self._latest
        if flight is None or flight.final is None or not flight.adopted:
            return None
        typed = flight.typed(path, prefix, suffix)
        if not typed or len(flight.final) <= len(typed) or not flight.final.startswith(typed):
            return None
        return flight.final[len(typed) :]
