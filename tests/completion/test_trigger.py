"""Table-driven cases for the trigger decision; `‸` marks the cursor."""

from __future__ import annotations

import pytest

from housecoder.completion.trigger import decide, in_open_brackets
from housecoder.syntax.parsing import parse_tree

CASES = [
    # (language, text with cursor, complete, multi_line)
    ("python", "x = 1  # a comment‸\n", False, False),
    ("python", "# TODO: wri‸te\n", False, False),
    ("python", "x = 'hel‸lo'\n", False, False),
    ("python", 's = """doc‸\n"""\n', False, False),
    ("python", 'msg = f"{na‸}"\n', True, False),
    ("python", "x = 'hello'‸\n", True, False),
    ("python", "def load(path):‸\n", True, True),
    ("python", "def load(path):\n    ‸\n", True, True),
    ("python", "if ok:\n    run()\n    ‸\n", True, False),
    ("python", 'def load(path):\n    """Read the file."""\n    ‸\n', True, True),
    ("python", "class Store:\n    r'''Keeps\n    things.\n    '''\n\n    ‸\n", True, True),
    ("python", 'def load(path):\n    """Read\n    the file."""\n    ‸\n', True, True),
    ("python", '"""Module docstring."""\n‸\n', True, False),
    ("python", 'def load(path):\n    x = """text"""\n    ‸\n', True, False),
    ("python", 'def load(path):\n    """Read."""\n    run()\n    ‸\n', True, False),
    ("python", "def load(path):\n    # read it first\n    ‸\n", True, True),
    ("python", 'def load(path):\n    """Read."""\n    # step one\n\n    ‸\n', True, True),
    ("python", 'class P:\n    def a(self):\n        """Doc."""\n\n    ‸\n', True, False),  # back in the class
    ("python", 'def load(path):\n    """Read."""\n\n\n‸\n', True, False),
    ("javascript", "function f() {\n  // step one\n  ‸\n}\n", True, True),
    ("python", "items = [‸]\n", True, True),
    ("python", "value = compute(‸)\n", True, True),
    ("python", "value = compute(a‸, b)\n", False, False),
    ("python", "result = ‸\n", True, False),
    ("python", "‸", True, False),
    ("javascript", "function f() {‸}\n", True, True),
    ("javascript", "// note‸\n", False, False),
    ("javascript", "/* block */‸\n", True, False),
    ("javascript", "const s = `a ${na‸}`;\n", True, False),
    ("javascript", "const s = `a ‸ b`;\n", False, False),
    ("javascript", "const x = load(‸);\n", True, True),
    ("go", "func main() {\n\t‸\n}\n", True, True),
    ("go", 'x := "ab‸c"\n', False, False),
    ("rust", "fn main() {\n    let x = 1; // c‸\n}\n", False, False),
    ("rust", "fn main() {\n    let x = ‸\n}\n", True, False),
    (None, "plain text‸", True, False),
    (None, "# looks like a comment‸", True, False),
]


@pytest.mark.parametrize(("language", "marked", "complete", "multi_line"), CASES)
def test_trigger(language: str | None, marked: str, complete: bool, multi_line: bool) -> None:
    prefix, suffix = marked.split("‸")
    tree = parse_tree(language, (prefix + suffix).encode())
    decision = decide(prefix, suffix, language, tree)
    assert (decision.complete, decision.multi_line) == (complete, multi_line), decision.reason


def test_configured_to_complete_in_comments_and_strings() -> None:
    for marked in ("x = 1  # a comm‸ent\n", "x = 'hel‸lo'\n"):
        prefix, suffix = marked.split("‸")
        tree = parse_tree("python", (prefix + suffix).encode())
        assert decide(
            prefix, suffix, "python", tree, in_comments=True, in_strings=True, mid_line=True
        ).complete


def test_mid_line_when_configured_is_single_line() -> None:
    decision = decide("value = compute(a", ", b)\n", "python", None, mid_line=True)
    assert decision == decision.__class__(True, False, "mid-line")


def test_non_ascii_before_the_cursor_uses_byte_offsets() -> None:
    prefix, suffix = ["name = 'café'  # é", "\nx = 1\n"]
    tree = parse_tree("python", (prefix + suffix).encode())
    assert decide(prefix, suffix, "python", tree).reason == "inside a comment"


@pytest.mark.parametrize(
    ("prefix", "language", "inside"),
    [
        ("data = read_json(", "python", True),
        ("items = [\n    1,\n    ", "python", False),  # the last non-blank line ends with a comma
        ("config = {\n    ", "python", True),  # a dict literal in Python
        ("def load(path):\n    ", "python", False),
        ('def load(path):\n    """Read it."""\n    ', "python", False),
        ("function f() {\n  ", "javascript", False),  # a block in a brace language
        ("call(\n  ", "javascript", True),
        ("", None, False),
    ],
)
def test_in_open_brackets_tells_arguments_and_literals_from_block_bodies(
    prefix: str, language: str | None, inside: bool
) -> None:
    assert in_open_brackets(prefix, language) is inside
