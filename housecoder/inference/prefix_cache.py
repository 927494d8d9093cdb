"""Keep the KV caches of recent prompts and hand back the one sharing the longest token prefix.

Between two keystrokes a completion prompt changes only after the cursor: the
context snippets and the file's text before the cursor are the same tokens. The
backend asks this cache for the entry whose token ids share the longest prefix
with the new prompt, crops that entry's KV to the shared part and prefills only
the rest. Entries are bounded by count and by total cached tokens (the memory
of one token's keys and values is fixed for a model), least recently used
first out. Pure bookkeeping: the KV objects themselves are opaque here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

KV = TypeVar("KV")


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """Length of the longest common prefix of two token id sequences."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


@dataclass
class Entry(Generic[KV]):
    """Token ids whose keys and values are in `kv`, position by position."""

    ids: list[int]
    kv: KV


class PrefixCache(Generic[KV]):
    """At most `max_entries` KV caches holding at most `max_tokens` tokens in all."""

    def __init__(self, max_entries: int = 4, max_tokens: int = 8192) -> None:
        self.max_entries = max_entries
        self.max_tokens = max_tokens
        self._entries: list[Entry[KV]] = []  # most recently used last
        self.owner: object = None

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def tokens(self) -> int:
        return sum(len(entry.ids) for entry in self._entries)

    def clear(self, owner: object = None) -> None:
        """Drop every entry; `owner` names what the caches were computed with (model + adapter)."""
        self._entries.clear()
        self.owner = owner

    def take(self, ids: Sequence[int], owner: object) -> tuple[Entry[KV] | None, int]:
        """Remove and return the entry sharing the longest prefix with `ids`, and that length.

        The shared length is capped at `len(ids) - 1`: the last prompt token is
        always run again so the model yields logits for the first new token.
        Entries made for another `owner` (another model or adapter) are dropped.
        """
        if owner != self.owner:
            self.clear(owner)
        best, shared = None, 0
        for entry in self._entries:
            n = min(common_prefix(entry.ids, ids), len(ids) - 1)
            if n > shared:
                best, shared = entry, n
        if best is None:
            return None, 0
        self._entries.remove(best)
        return best, shared

    def shared(self, ids: Sequence[int], owner: object) -> int:
        """The longest prefix of `ids` an entry holds (0 for another `owner`), leaving the entries as they are."""
        if owner != self.owner:
            return 0
        return max((common_prefix(entry.ids, ids) for entry in self._entries), default=0)

    def put(self, entry: Entry[KV], owner: object) -> None:
        """Store `entry` as the most recent; evict the oldest until both bounds hold."""
        if owner != self.owner:
            self.clear(owner)
        if not entry.ids or len(entry.ids) > self.max_tokens or self.max_entries <= 0:
            return
        self._entries.append(entry)
        while len(self._entries) > self.max_entries or self.tokens > self.max_tokens:
            self._entries.pop(0)
