"""The snippet block a file keeps while the user types down it (pure bookkeeping).

A prompt's repository context sits in front of the current file, so a new block
costs its whole length in prefill, and on a CPU that is seconds. The context
plan changes from line to line; without a standing block every new line would
either wait for a new block or go without context (the cold prompt). Instead a
file keeps a *settled* block, one that idle prefill ran in full: keystrokes on
the lines within twice `refresh_lines` of the line it was chosen for use it
while the model still holds it. At each idle moment the engine first prefills
the settled block's prompt for the new cursor (a few hundred tokens: what the
next keystroke sends), then a block chosen for the cursor's line, which settles
once its prefill is complete. A block still being prefilled (*pending*) for a
line within `refresh_lines` is continued rather than chosen again, so short
pauses add up to a full prefill.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from housecoder.context import ContextSnippet


@dataclass(frozen=True)
class Block:
    """The snippets chosen for a cursor line of a file."""

    snippets: tuple[ContextSnippet, ...]
    line: int


@dataclass
class _FileBlocks:
    settled: Block | None = None
    pending: Block | None = None


class StandingBlocks:
    """Per file, the settled block and the one being prefilled; at most `max_files` files, least recent out.
    `refresh_lines` 0 keeps nothing: every line gets its own block."""

    def __init__(self, refresh_lines: int, max_files: int = 32) -> None:
        self.refresh_lines = refresh_lines
        self.max_files = max_files
        self._files: OrderedDict[str, _FileBlocks] = OrderedDict()
        self._lock = threading.Lock()

    def serving(self, path: str, line: int) -> Block | None:
        """The settled block a keystroke at `line` may use (within twice `refresh_lines` of its line)."""
        with self._lock:
            held = self._files.get(path)
            block = None if held is None else held.settled
        if block is None or abs(line - block.line) >= 2 * self.refresh_lines:
            return None
        return block

    def pending_near(self, path: str, line: int) -> Block | None:
        """The block idle prefill was preparing for a line within `refresh_lines` of `line`, to go on with."""
        with self._lock:
            held = self._files.get(path)
            block = None if held is None else held.pending
        if block is None or abs(line - block.line) >= self.refresh_lines:
            return None
        return block

    def choose(self, path: str, snippets: tuple[ContextSnippet, ...], line: int) -> Block:
        """A new block for `path`, pending until `settle`; returns it."""
        block = Block(snippets, line)
        if self.refresh_lines > 0:
            with self._lock:
                self._held(path).pending = block
        return block

    def settle(self, path: str, block: Block) -> None:
        """`block` was prefilled in full (or sent whole): it serves the file's keystrokes from now on."""
        if self.refresh_lines <= 0:
            return
        with self._lock:
            held = self._held(path)
            if held.pending == block:
                held.pending = None
            held.settled = block

    def forget(self) -> None:
        with self._lock:
            self._files.clear()

    def _held(self, path: str) -> _FileBlocks:
        held = self._files.get(path)
        if held is None:
            held = self._files[path] = _FileBlocks()
        self._files.move_to_end(path)
        while len(self._files) > self.max_files:
            self._files.popitem(last=False)
        return held
