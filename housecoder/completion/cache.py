"""Completions remembered between keystrokes (pure, bounded LRU).

Two lookups: by the exact prompt (the same request again, for example after
the editor re-asks on focus), and "typed through": the user typed the first
characters of a suggestion that is still showing, so the rest of it is the
answer and the model is not asked again. A prompt's answer keeps its keep-probability, so the gate decides
again when the same request comes back (an explicit one shows it); only shown answers are typed through.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Remembered:
    """A completion, its keep-probability and the signals it came from (None: not scored)."""

    text: str
    p_keep: float | None = None
    signals: dict[str, float] | None = None


@dataclass(frozen=True)
class _Shown:
    path: str
    prefix: str
    suffix: str
    completion: Remembered


class CompletionCache:
    """At most `capacity` prompts and as many shown completions; capacity 0 disables it."""

    def __init__(self, capacity: int = 128) -> None:
        self.capacity = capacity
        self._by_prompt: OrderedDict[str, Remembered] = OrderedDict()
        self._shown: OrderedDict[tuple[str, str, str], _Shown] = OrderedDict()

    def get(self, prompt: str) -> Remembered | None:
        found = self._by_prompt.get(prompt)
        if found is not None:
            self._by_prompt.move_to_end(prompt)
        return found

    def put(
        self,
        prompt: str,
        completion: str,
        *,
        path: str,
        prefix: str,
        suffix: str,
        p_keep: float | None = None,
        signals: dict[str, float] | None = None,
        shown: bool = True,
    ) -> None:
        """Remember `completion` for `prompt`, and where it was `shown`, for typing through (a hidden one
        also forgets what was shown at that cursor before)."""
        if self.capacity <= 0:
            return
        remembered = Remembered(completion, p_keep, signals)
        self._by_prompt[prompt] = remembered
        self._by_prompt.move_to_end(prompt)
        if shown:
            self.show(path, prefix, suffix, remembered)
        else:
            self._shown.pop((path, prefix, suffix), None)
        self._bound()

    def show(self, path: str, prefix: str, suffix: str, completion: Remembered) -> None:
        """`completion` is now showing at this cursor: typing its first characters answers the rest."""
        if self.capacity <= 0 or not completion.text:
            return
        key = (path, prefix, suffix)
        self._shown[key] = _Shown(path, prefix, suffix, completion)
        self._shown.move_to_end(key)
        self._bound()

    def _bound(self) -> None:
        for table in (self._by_prompt, self._shown):
            while len(table) > self.capacity:
                table.popitem(last=False)  # type: ignore[attr-defined]

    def typed_through(self, path: str, prefix: str, suffix: str) -> Remembered | None:
        """The rest of a shown completion whose start the user has just typed (with its keep-probability and
        signals), if any."""
        for shown in reversed(self._shown.values()):
            if shown.path != path or shown.suffix != suffix or not prefix.startswith(shown.prefix):
                continue
            typed, text = prefix[len(shown.prefix) :], shown.completion.text
            if typed and text.startswith(typed) and len(typed) < len(text):
                return replace(shown.completion, text=text[len(typed) :])
        return None

    def clear(self) -> None:
        self._by_prompt.clear()
        self._shown.clear()
