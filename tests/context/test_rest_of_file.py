"""The current file's parts the prompt leaves out: its import statements and look-alike windows."""

from __future__ import annotations

from housecoder.context.rest_of_file import hidden_parts, import_block, import_lines, rest_of_file

TOP = "import os\nfrom .models import (\n    Agent,\n    Tool,\n)\n\nRATE = 2\n"
FAR = "def handle_create(event):\n    record = store.create(event.payload)\n    audit.log('create', record)\n"
NEAR = "def handle_delete(event):\n    record = store.delete(event.payload)\n"


def test_hidden_parts_are_what_the_prompt_does_not_show_with_their_line_numbers() -> None:
    prefix, suffix = TOP + FAR + NEAR, "    done()\n\nTAIL = 1\nEND = 2\n"
    parts = hidden_parts(prefix, suffix, shown_prefix=NEAR, shown_suffix="    done()\n")
    assert parts == ((1, TOP + FAR), (prefix.count("\n") + 2, "\nTAIL = 1\nEND = 2\n"))
    assert hidden_parts(prefix, suffix, prefix, suffix) == ()  # all shown: nothing hidden


def test_import_statements_with_their_continuation_lines() -> None:
    assert [line for _, line in import_lines(TOP)] == [
        "import os",
        "from .models import (",
        "    Agent,",
        "    Tool,",
        ")",
    ]
    ts = "import { a,\n  b } from './x'\nconst from = 1\nexport * from './y'\n"
    assert [i for i, _ in import_lines(ts)] == [0, 1, 3]
    block = import_block("app.py", [(1, TOP + FAR)])
    assert block is not None and (block.start_line, block.end_line) == (1, 5) and block.source == "in-file"
    assert import_block("app.py", [(40, TOP)]) is None  # only the file's head holds its imports


def test_look_alike_windows_keep_the_file_lines_and_follow_the_imports() -> None:
    parts = ((1, TOP + FAR),)
    found = rest_of_file("app.py", parts, NEAR, size=4, k=2, max_lines=40)
    assert found[0].reason == "imports of this file"
    window = found[1]
    assert "store.create(event.payload)" in window.text and window.path == "app.py"
    lines = (TOP + FAR).split("\n")
    assert window.text.split("\n")[0] == lines[window.start_line - 1]  # numbered as in the file
