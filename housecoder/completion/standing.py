"""The snippet block a file keeps for the lines after it (pure bookkeeping).

A prompt's repository context sits in front of the current file, so a new block
costs its whole length in prefill, and on a CPU that is seconds. The context
plan changes from line to line; a new line whose own block the model does not
hold yet (idle prefill had too little time) would go without context (the cold
prompt). Instead it gets the file's *standing* block: the last one the model ran
in full (sent whole, or prefilled at idle), while the cursor is within
`standing_lines` of the line it was chosen for. With it in front, the model
prefills only the lines typed since and the text after the cursor. A block
chosen lines away holds much less of what the answer needs than the line's own
(docs/experiments/0019), so it is only the fallback.
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


class StandingBlocks:
    """Per file, the last block the model ran in full; at most `max_files` files, least recent out.
    `standing_lines` 0 keeps nothing."""

    def __init__(self, standing_lines: int, max_files: int = 32) -> None:
        self.standing_lines = standing_lines
        self.max_files = max_files
        self._files: OrderedDict[str, Block] = OrderedDict()
        self._lock = threading.Lock()

    def serving(self, path: str, line: int) -> Block | None:
        """The block a keystroke at `line` of `path` may fall back on (chosen within `standing_lines`)."""
        with self._lock:
            block = self._files.get(path)
        if block is None or abs(line - block.line) >= self.standing_lines:
            return None
        return block

    def settle(self, path: str, block: Block) -> None:
        """The model ran `block`'s prompt in full: it is the file's standing block from now on."""
        if self.standing_lines <= 0:
            return
        with self._lock:
            self._files[path] = block
            self._files.move_to_end(path)
            while len(self._files) > self.max_files:
                self._files.popitem(last=False)
