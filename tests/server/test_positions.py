"""LSP positions to buffer offsets: the fast path agrees with pygls everywhere, and a long line costs nothing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lsprotocol import types
from pygls.workspace.text_document import TextDocument

from housecoder.server.positions import offset_at

PIECES = st.sampled_from(["a", "bc", " ", "\n", "\r\n", "\r", "é", "😋", "\t", "x = 1", "\x0c", ""])


@given(st.lists(PIECES, max_size=30).map("".join), st.integers(0, 8), st.integers(0, 40))
def test_the_offset_is_pygls_own(source: str, line: int, character: int) -> None:
    document = TextDocument("file:///a.py", source)
    expected = document.offset_at_position(types.Position(line=line, character=character))
    assert offset_at(document, line, character) == expected


def test_a_megabyte_ascii_line_is_not_walked_in_python() -> None:
    line = "DATA = [" + "1, " * 350_000

    class Counted(TextDocument):  # pygls's own conversion would be the per-character walk
        def offset_at_position(self, client_position: types.Position) -> int:
            raise AssertionError("the slow path ran")

    document = Counted("file:///blob.py", "import os\n" + line)
    assert offset_at(document, 1, len(line)) == len("import os\n") + len(line)
    with pytest.raises(AssertionError, match="slow path"):  # a line beyond ASCII goes through pygls
        offset_at(Counted("file:///e.py", "x = '😋'\n"), 0, 6)
