"""Every post-processing filter, table-driven; `‸` marks the cursor in the document."""

from __future__ import annotations

import pytest

from housecoder.postprocess import PostContext, finished, postprocess
from housecoder.postprocess.block_scope import block_ended, limit_to_block
from housecoder.postprocess.brackets import balance_brackets
from housecoder.postprocess.control_marker import stop_at_control_marker
from housecoder.postprocess.duplicate_line import drop_duplicate_of_next_line
from housecoder.postprocess.empty import drop_empty
from housecoder.postprocess.repetition import drop_repetitive_tail, repeats_itself
from housecoder.postprocess.single_line import keep_first_line
from housecoder.postprocess.suffix_repeat import reached_suffix, stop_at_suffix_repeat

CURSOR = "‸"


def at(document: str, *, single_line: bool = False) -> PostContext:
    prefix, suffix = document.split(CURSOR)
    return PostContext(prefix=prefix, suffix=suffix, single_line=single_line)


@pytest.mark.parametrize(
    ("document", "single", "completion", "expected"),
    [
        ("x = ‸\n", True, "1\ny = 2\n", "1"),
        ("x = ‸\n", True, "1   \n", "1"),
        ("def f():‸\n", True, "\n    return 1\n    x", "\n    return 1"),
        ("x = ‸\n", False, "1\ny = 2", "1\ny = 2"),
        ("def f():‸\r\n", True, "\r\n    return 1\r\n    x", "\r\n    return 1"),  # CRLF
    ],
)
def test_keep_first_line(document: str, single: bool, completion: str, expected: str) -> None:
    assert keep_first_line(completion, at(document, single_line=single)) == expected


@pytest.mark.parametrize(
    ("document", "completion", "expected"),
    [
        ("def f(x):\n    y = ‸\n    return y\n", "x + 1\n    return y\n", "x + 1"),
        ("def f(x):\n    y = ‸\n\n    return y\n", "x + 1\n    z = 2\n    return y", "x + 1\n    z = 2"),
        ("print(‸)\n", "'hi')", "'hi'"),
        ("foo(‸, bar)\n", "a, bar)", "a"),
        ("x = [‸]\n", "1, 2]", "1, 2"),
        ("if x:\n    ‸\n}\n", "a()\n}", "a()\n}"),  # `}` is too short to count as a repeat
        ("x = ‸\n", "1", "1"),
    ],
)
def test_stop_at_suffix_repeat(document: str, completion: str, expected: str) -> None:
    assert stop_at_suffix_repeat(completion, at(document)) == expected


@pytest.mark.parametrize(
    ("document", "completion", "expected"),
    [
        (
            "def f(x):\n    if x:‸\n",
            "\n        return 1\n    return 2\ndef g():",
            "\n        return 1",
        ),  # the if-block ends
        ("def f(x):\n    ‸\n", "a = 1\n    b = 2\n\ndef g():\n    pass", "a = 1\n    b = 2"),
        ("function f() {‸\n", "\n  return 1;\n}\nfunction g() {}", "\n  return 1;\n}"),
        ("function f() {‸\n}\n", "\n  return 1;\n}\nfunction g() {}", "\n  return 1;"),
        (
            "class A:\n    def m(self):\n        ‸",
            "x = 1\n        return x\n    def n(self):",
            "x = 1\n        return x",
        ),
        ("x = 1\n‸", "y = 2\nz = 3", "y = 2\nz = 3"),
    ],
)
def test_limit_to_block(document: str, completion: str, expected: str) -> None:
    assert limit_to_block(completion, at(document)) == expected


NARGS = "".join(f"\n\n    if param.nargs == {n}:\n        return False" for n in range(6))


@pytest.mark.parametrize(
    ("document", "completion", "expected"),
    [
        ("hello();\nhello();\n‸\n", "hello();\n" * 10 + "hel", "hello();"),  # Tabby's case
        ("const a = 1;\n‸", "".join(f"const {c} = 1;\n" for c in "bcdefghij") + "const k =", "const b = 1;"),
        (
            "def f(param):\n    ‸\n",
            "if param is None:\n        return False" + NARGS + "\n\n    if param.n",
            "if param is None:\n        return False\n\n    if param.nargs == 0:\n        return False",
        ),  # blocks loop
        ("x = 1\n‸", "a = 1\nb = 2\nc = 3\nd = 4\ne = 5\nf = 6\ng = 7\n", None),  # different lines
        ("x = 1\n‸", "y = 1\n" * 5 + "z", None),  # four steps: not yet a loop
        ("x = 1\n‸", "assert t(r[0], e[0])\nassert t(r[1], e[1])\nok()\n", None),
        ("x = [\n    ‸\n]\n", "1,\n    1,\n" * 5, "1,"),  # short lines: only equal ones count as similar
        ("x = [\n    ‸\n]\n", "".join(f"{n},\n    " for n in range(1, 12)), None),
    ],
)
def test_drop_repetitive_tail(document: str, completion: str, expected: str | None) -> None:
    assert drop_repetitive_tail(completion, at(document)) == (completion if expected is None else expected)
    assert repeats_itself(completion, at(document)) is (expected is not None)
    assert drop_repetitive_tail(completion, at(document, single_line=True)) == completion


@pytest.mark.parametrize(
    ("document", "completion", "ended"),
    [
        (
            "def f(x):\n    if x:‸\n",
            "\n        return 1\n    return 2",
            False,
        ),  # the leaving line may not be done
        ("def f(x):\n    if x:‸\n", "\n        return 1\n    return 2\n", True),
        ("def f(x):\n    if x:‸\n", "\n        return 1\n        y = 2\n", False),  # still inside
        ("def f(x):\n    ‸\n", "a = 1\n\ndef g():\n", True),
        ("def f(x):\n    ‸\n", "a = 1\n\n", False),  # blank lines leave nothing yet
        ("function f() {‸\n", "\n  return 1;\n}", False),  # the closing line is kept: wait for its end
        ("function f() {‸\n", "\n  return 1;\n}\n", True),
        ("x = 1\n‸", "y = 2\nz = 3\n", False),  # top level: no block to leave
        ("def f(x):\n    ‸\n", "a = 1", False),
    ],
)
def test_block_ended(document: str, completion: str, ended: bool) -> None:
    assert block_ended(completion, at(document)) is ended
    assert block_ended(completion, at(document, single_line=True)) is False


MULTI_LINE = [
    ("def f(x):\n    if x:‸\n", "\n        return 1\n    return 2\ndef g():\n    pass\n"),
    ("def f(x):\n    ‸\n", "a = 1\n    b = 2\n\ndef g():\n    pass"),
    ("function f() {‸\n", "\n  return 1;\n}\nfunction g() {}\n"),
    ("function f() {‸\n}\n", "\n  return 1;\n}\nfunction g() {}"),
    ("class A:\n    def m(self):\n        ‸", "x = 1\n        return x\n    def n(self):\n        pass\n"),
    ("class C:\n    ‸\n", "def get(self):<|cursor|>\n        return []\n\nclass D:\n    x = 1\n"),
    ("def f():\n    ‸\n    return 2\n", "y = 1\n    return 2\n\ndef g():\n"),  # suffix repeat before the end
    ("if (a) {\n  ‸\n}\n", "b(\n    c);\n}\nd();\n"),
]


@pytest.mark.parametrize(("document", "completion"), MULTI_LINE)
def test_stopping_where_the_block_ended_changes_nothing_shown(document: str, completion: str) -> None:
    """A generation loop stops at the first text (character by character here, token by token there)
    that `block_ended` accepts; the editor must get exactly what the whole text would have given."""
    context = at(document)
    stops = [size for size in range(len(completion) + 1) if block_ended(completion[:size], context)]
    assert stops, "every case leaves its block"
    assert postprocess(completion[: stops[0]], context) == postprocess(completion, context)


@pytest.mark.parametrize(
    ("document", "completion", "expected"),
    [
        ("print(‸)\n", '"hi")', '"hi"'),
        ("f(g(‸))\n", "1))", "1"),
        ("f(g(‸))\n", "1)", "1"),
        ("f(‸)\n", "g(1)", "g(1)"),  # balanced inside: nothing removed
        ("f(‸)\n", "')'", "')'"),  # a bracket inside a string is not a bracket
        ("x = ‸\n", "a)", "a)"),  # nothing after the cursor to balance against
        ("items[‸]\n", "0]", "0"),
    ],
)
def test_balance_brackets(document: str, completion: str, expected: str) -> None:
    assert balance_brackets(completion, at(document)) == expected


@pytest.mark.parametrize(
    ("document", "completion", "expected"),
    [
        ("    def f(self) -> None:‸\n", "<|cursor|>", ""),  # seen from the click adapter
        ("def g(self) -> List[str]:‸\n", " x  <|cursor|>\n    return 1", " x"),
        ("x = ‸\n", "f()<|endoftext|>garbage", "f()"),
        ("x = ‸\n", "a | b | c", "a | b | c"),  # no marker
        ("x = ‸\n", "'<|x-y|>'", "'<|x-y|>'"),  # not a marker's shape
        (
            "END = '<|endoftext|>'\nx = ‸\n",
            "END + '<|endoftext|>'",
            "END + '<|endoftext|>'",
        ),  # the document has it
        ("x = ‸\nSEP = '<|file_sep|>'\n", "'<|file_sep|>' + '<|fim_pad|>'", "'<|file_sep|>' + '"),
    ],
)
def test_stop_at_control_marker(document: str, completion: str, expected: str) -> None:
    assert stop_at_control_marker(completion, at(document)) == expected


@pytest.mark.parametrize(("completion", "expected"), [("", ""), ("  \n\t", ""), (" x", " x")])
def test_drop_empty(completion: str, expected: str) -> None:
    assert drop_empty(completion, at("‸")) == expected


@pytest.mark.parametrize(
    ("document", "completion", "expected"),
    [
        ("def f():\n    ‸\n    return 1\n", "return 1", ""),
        ("x = ‸foo()\n", "foo()", ""),
        ("def f():\n    ‸\n    return 1\n", "x = 2", "x = 2"),
        ("def f():\n    ‸\n    return 1\n", "return 1\n    y = 3", ""),
    ],
)
def test_drop_duplicate_of_next_line(document: str, completion: str, expected: str) -> None:
    assert drop_duplicate_of_next_line(completion, at(document)) == expected


@pytest.mark.parametrize(
    ("document", "single", "completion", "expected"),
    [
        (
            "import json\n\ndef load(path):\n    with open(path) as f:\n        ‸\n",
            True,
            "return json.load(f)\n\ndef save(",
            "return json.load(f)",
        ),
        ("print(‸)\n", True, "'hello')\nprint('again')", "'hello'"),
        ("def f():\n    ‸\n    return 1\n", True, "return 1\n", ""),
        ("x = ‸\n", True, "   \n", ""),
        (
            "class C:\n    ‸\n",
            False,
            "def get(self) -> List[str]:<|cursor|>\n        return []",
            "def get(self) -> List[str]:",
        ),
        (
            "def f(x):\n    if x:‸\n",
            False,
            "\n        return 1\n        y = 2\n\n\nclass B:",
            "\n        return 1\n        y = 2",
        ),
    ],
)
def test_pipeline(document: str, single: bool, completion: str, expected: str) -> None:
    assert postprocess(completion, at(document, single_line=single)) == expected


@pytest.mark.parametrize(
    ("document", "completion"),
    [
        *MULTI_LINE,
        (
            "def f(param):\n    ‸\n",
            "if param is None:\n        return False" + NARGS * 3,
        ),  # loops to the budget
        ("def f():\n    ‸\n", "a = 1\n" + "    b.append(1)\n" * 12),
        # reaches the suffix: the line after the cursor, written out again, then more
        (
            "def total(xs):\n    ‸\n    return t\n",
            "t = 0\n    for x in xs:\n        t += x\n    return t\n\n\ndef mean(xs):\n",
        ),
    ],
)
def test_finished_stops_where_the_filters_have_cut_for_good(document: str, completion: str) -> None:
    context = at(document)
    first = next(size for size in range(len(completion) + 1) if finished(completion[:size], context))
    assert postprocess(completion[:first], context) == postprocess(completion, context)
    assert not finished(completion, at(document, single_line=True))


def test_reaching_the_suffix_is_final_only_once_the_repeated_line_is_complete() -> None:
    context = at("def total(xs):\n    ‸\n    return t\n}\n")
    assert not reached_suffix("t = 0\n    return t", context)  # `return total` may still come
    assert reached_suffix("t = 0\n    return t\n", context)
    assert not reached_suffix("return t\n    x\n", context)  # the first line is the cursor's own
    assert not reached_suffix("a\n}\n}\n", at("if x:\n    ‸\n}\n"))  # `}` is too common to count
