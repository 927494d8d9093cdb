"""Editing sessions to replay: a user typing one line of a real file, character by character (pure).

Lines are drawn with a fixed seed from the repository's source files: code
statements of a typical length whose previous line is not blank (so the cursor
has local context), never comments or string-only lines. The buffer holds the
file with that line emptied after its indentation; the user types the rest.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

PAUSE_AFTER = set(" .(,=:[")  # a user who types a word or a symbol and then looks at the suggestion


@dataclass(frozen=True)
class TypingSession:
    """`typed` is typed at `offset` of `before + after` (the line's indentation is already there)."""

    path: str  # relative to the repository root
    before: str
    after: str
    typed: str

    def buffer(self, typed_chars: int) -> tuple[str, int]:
        """The buffer text and cursor offset after `typed_chars` keystrokes."""
        prefix = self.before + self.typed[:typed_chars]
        return prefix + self.after, len(prefix)

    def pauses(self) -> list[int]:
        """Keystroke counts after which the user waits for a suggestion: the empty line, and the end of each
        run of spaces and symbols (after `= `, not between `=` and ` `)."""
        text = self.typed
        return [0] + [
            n for n in range(1, len(text)) if text[n - 1] in PAUSE_AFTER and text[n] not in PAUSE_AFTER
        ]


def _candidate(line: str, previous: str) -> bool:
    body = line.strip()
    return (
        20 <= len(body) <= 72
        and bool(previous.strip())
        and not body.startswith(("#", '"', "'", "@", "def ", "class ", "import ", "from "))
        and not body.endswith(('"""', "'''"))
        and any(ch.isalpha() for ch in body)
    )


def pick_sessions(
    root: Path, files: Iterable[Path], count: int, seed: int = 0, per_file: int = 1
) -> list[TypingSession]:
    """`count` sessions over `files` (paths under `root`), at most one per file while files last; with
    `per_file` > 1, runs of that many lines of one file, one after the other in the file's order (the user
    writes down the file), one run per file."""
    by_file: list[list[TypingSession]] = []
    for path in sorted(files):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        lines = text.splitlines(keepends=True)
        found = []
        for number in range(1, len(lines)):
            line = lines[number]
            if not line.endswith("\n") or not _candidate(line, lines[number - 1]):
                continue
            indent = line[: len(line) - len(line.lstrip())]
            start = sum(len(part) for part in lines[:number])
            found.append(
                TypingSession(
                    path=path.relative_to(root).as_posix(),
                    before=text[:start] + indent,
                    after=text[start + len(line) - 1 :],
                    typed=line.strip(),
                )
            )
        if found:
            by_file.append(found)
    rng = random.Random(seed)
    rng.shuffle(by_file)
    picked: list[TypingSession] = []
    if per_file > 1:
        for sessions in by_file:
            if len(sessions) >= per_file and len(picked) < count:
                start = rng.randrange(len(sessions) - per_file + 1)
                picked.extend(sessions[start : start + min(per_file, count - len(picked))])
        return picked
    while len(picked) < count and any(by_file):
        for sessions in by_file:
            if sessions and len(picked) < count:
                picked.append(sessions.pop(rng.randrange(len(sessions))))
    return picked
