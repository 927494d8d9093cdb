"""Token healing for prompts that end inside the text the user is typing (pure; numpy only).

With the line-start layout the part of the cursor's line already typed sits
after `<|fim_middle|>`, so the prompt ends where the user stopped typing, which
is usually inside a token: `input: ` ends with a space that the tokenizer
attaches to the next word (` str`), `get_defaul` is cut mid-word. Prompted as
is, the model continues from an unnatural token boundary (it writes
`input:  str`). Healing drops the prompt's last token(s) and makes the model
write them again: until the dropped bytes are reproduced, only tokens
consistent with them may be chosen (a token that starts with what is left of
them, or that is a prefix of it). The text shown is what comes after the
dropped bytes.

How much is dropped: the last token always, and further tokens while the
boundary before the dropped text falls inside a word (`get` + `_def` + `aul`
are all dropped, so the model may write `get` `_default` `_model`), at most
`max_tokens`, and never further back than the typed text (`healable` bytes).
Everything is in bytes: a token of a byte-level vocabulary can hold part of a
multi-byte character.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from housecoder.inference.errors import CannotHeal


def _word_byte(byte: int) -> bool:
    """Letters, digits, `_` and every byte of a non-ASCII character count as part of a word."""
    return (
        byte >= 0x80 or byte == 0x5F or 0x30 <= byte <= 0x39 or 0x41 <= byte <= 0x5A or 0x61 <= byte <= 0x7A
    )


class Vocabulary:
    """Every ordinary token's bytes, searchable by prefix; built once per model (control tokens left out)."""

    def __init__(self, pieces: Sequence[bytes], excluded: Sequence[int] = ()) -> None:
        skip = set(excluded)
        self.pieces = list(pieces)
        order = sorted((piece, i) for i, piece in enumerate(self.pieces) if piece and i not in skip)
        self._keys = [piece for piece, _ in order]
        self._ids = np.array([i for _, i in order], dtype=np.int64)
        self._exact: dict[bytes, list[int]] = {}
        for piece, i in order:
            self._exact.setdefault(piece, []).append(i)

    def __len__(self) -> int:
        return len(self.pieces)

    def piece(self, token: int) -> bytes:
        return self.pieces[token] if 0 <= token < len(self.pieces) else b""

    def consistent(self, rest: bytes) -> np.ndarray:
        """Ids of the tokens that start with `rest` or are a (non-empty) prefix of it."""
        start = bisect.bisect_left(self._keys, rest)
        # no token repeats 0xff eight times
        end = bisect.bisect_left(self._keys, rest + b"\xff" * 8, lo=start)
        while end < len(self._keys) and self._keys[end].startswith(rest):
            end += 1
        shorter = [i for n in range(1, len(rest)) for i in self._exact.get(rest[:n], ())]
        return np.concatenate([self._ids[start:end], np.array(shorter, dtype=np.int64)])


def tokens_to_drop(pieces: Sequence[bytes], healable: int, max_tokens: int) -> int:
    """How many of the prompt's last tokens (`pieces`, in order) to drop: see the module's rule.

    `healable` is the length in bytes of the prompt's tail that may be dropped (the typed text).
    """
    dropped = size = 0
    for piece in reversed(pieces):
        if dropped >= max_tokens or size + len(piece) > healable or not piece:
            break
        dropped, size = dropped + 1, size + len(piece)
        before = pieces[len(pieces) - dropped - 1] if dropped < len(pieces) else b""
        inside_word = bool(before) and _word_byte(before[-1]) and _word_byte(piece[0])
        if not inside_word:
            break
    return dropped


@dataclass
class Healing:
    """One request's healing: the dropped bytes, and how much of them the generated tokens have written."""

    vocabulary: Vocabulary
    dropped: bytes
    written: bytes = field(default=b"")

    @property
    def done(self) -> bool:
        return len(self.written) >= len(self.dropped)

    def allowed(self) -> np.ndarray | None:
        """The token ids the next step may choose, or None once the dropped text is written."""
        if self.done:
            return None
        return self.vocabulary.consistent(self.dropped[len(self.written) :])

    def advance(self, token: int) -> None:
        self.written += self.vocabulary.piece(token)

    def visible(self, generated: Sequence[int]) -> str:
        """The text after the dropped bytes (an incomplete trailing character left out)."""
        data = b"".join(self.vocabulary.piece(token) for token in generated)
        return data[len(self.dropped) :].decode("utf-8", "ignore") if len(data) >= len(self.dropped) else ""


def plan_healing(
    ids: list[int], vocabulary: Vocabulary, healable_text: str, max_tokens: int
) -> tuple[list[int], Healing | None]:
    """The prompt ids to prefill (the tail dropped) and the healing to apply, for a prompt whose last
    `healable_text` is text the user typed. No healing (ids unchanged) where nothing can be dropped.
    Raises CannotHeal when no vocabulary token can start the dropped text."""
    healable = len(healable_text.encode("utf-8"))
    if healable == 0 or max_tokens <= 0 or not ids:
        return ids, None
    tail = [vocabulary.piece(token) for token in ids[-(max_tokens + 1) :]]
    count = tokens_to_drop(tail, healable, max_tokens)
    if count == 0 or count >= len(ids):
        return ids, None
    healing = Healing(vocabulary, b"".join(tail[len(tail) - count :]))
    allowed = healing.allowed()
    if allowed is None or len(allowed) == 0:
        raise CannotHeal(f"no token continues {healing.dropped!r}")
    return ids[: len(ids) - count], healing
