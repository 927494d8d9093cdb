"""LSP positions to offsets in a buffer, fast on long lines.

pygls converts a position's UTF-16 column one code point at a time in Python: 0.4 s on a 1 MB line, on the
event loop, for every request there. On an ASCII line a UTF-16 column is the code-point column, so the offset
is the sum of the lines before it plus the column, computed at C speed; the result equals pygls's own
conversion (its clipping included). Any other line goes through pygls.
"""

from __future__ import annotations

from typing import Any


def offset_at(document: Any, line: int, character: int) -> int:
    """The offset in `document.source` (code points) of the LSP position `line`:`character` (UTF-16 units)."""
    lines = document.lines
    if 0 <= line < len(lines) and character >= 0 and lines[line].isascii():
        text = lines[line].replace("\r\n", "\n")
        # pygls's clipping: past the end is the last character (its "\n" where the line has one)
        column = min(character, len(text) - 1) if character > len(text) else character
        return column + sum(map(len, lines[:line]))
    from lsprotocol import types

    return int(document.offset_at_position(types.Position(line=line, character=character)))
