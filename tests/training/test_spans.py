"""FIM spans for training samples: each kind on small Python and JavaScript files, offsets, and the drawing by mix."""

from __future__ import annotations

import random

import pytest

from housecoder.config import SPAN_KINDS
from housecoder.training.spans import Span, candidate_spans, choose_spans

PYTHON = '''import os

# A comment line.
def scale(values, factor=2):
    """Multiply each value.

    by the factor.
    """
    result = [v * factor for v in values]
    if factor > 1:
        log("big", os.getpid())
    return result


class Box:
    def area(self):
        return self.width * self.height

    def skip(self):
        pass
'''

JAVASCRIPT = """import { log } from "./log";

// Scale every value.
export function scale(values, factor) {
  const result = values.map((v) => v * factor);
  if (factor > 1) {
    log("big", factor);
  }
  return result;
}

class Box {
  area() {
    return this.width * this.height;
  }
}
"""

EXPECTED = {
    "python": {
        "line": [
            "def scale(values, factor=2):",
            "result = [v * factor for v in values]",
            "if factor > 1:",
            'log("big", os.getpid())',
            "return result",
            "def area(self):",
            "return self.width * self.height",
        ],
        "statement": [
            "import os",
            "result = [v * factor for v in values]",
            'if factor > 1:\n        log("big", os.getpid())',
            'log("big", os.getpid())',
            "return result",
            "def area(self):\n        return self.width * self.height",
            "return self.width * self.height",
            "def skip(self):\n        pass",
        ],
        "expression": [
            "[v * factor for v in values]",
            "v * factor",
            "values",
            "factor > 1",
            "os.getpid",
            "os.getpid()",
            "result",
            "self.width",
            "self.width * self.height",
            "self.height",
        ],
        "arguments": ['"big", os.getpid()'],
        "body": [
            'result = [v * factor for v in values]\n    if factor > 1:\n        log("big", os.getpid())\n    return result',
            "return self.width * self.height",
        ],
    },
    "javascript": {
        "line": [
            "export function scale(values, factor) {",
            "const result = values.map((v) => v * factor);",
            "if (factor > 1) {",
            'log("big", factor);',
            "return result;",
            "area() {",
            "return this.width * this.height;",
        ],
        "statement": [
            'import { log } from "./log";',
            "const result = values.map((v) => v * factor);",
            'if (factor > 1) {\n    log("big", factor);\n  }',
            'log("big", factor);',
            "return result;",
            "area() {\n    return this.width * this.height;\n  }",
            "return this.width * this.height;",
        ],
        "expression": [
            "values.map",
            "values.map((v) => v * factor)",
            "(v) => v * factor",
            "v * factor",
            "factor > 1",
            "result",
            "this.width",
            "this.width * this.height",
            "this.height",
        ],
        "arguments": ["(v) => v * factor", '"big", factor'],
        "body": ["return this.width * this.height;"],
    },
}
SOURCES = {"python": PYTHON, "javascript": JAVASCRIPT}


def middles(text: str, spans: list[Span]) -> list[str]:
    return [text[span.start : span.end] for span in spans]


@pytest.mark.parametrize("language", ["python", "javascript"])
@pytest.mark.parametrize("kind", SPAN_KINDS)
def test_each_kind_cuts_the_expected_middles(language: str, kind: str) -> None:
    text = SOURCES[language]
    found = candidate_spans(text, language, max_lines=4)
    assert set(found) == set(SPAN_KINDS)
    assert middles(text, found[kind]) == EXPECTED[language][kind]
    assert all(span.kind == kind for span in found[kind])


@pytest.mark.parametrize("language", ["python", "javascript"])
def test_spans_are_clean_cuts_of_the_file(language: str) -> None:
    text = SOURCES[language]
    docstring = (text.index('"""'), text.rindex('"""') + 3) if language == "python" else (0, 0)
    for kind, spans in candidate_spans(text, language, max_lines=20).items():
        assert len({(span.start, span.end) for span in spans}) == len(spans), kind
        assert spans == sorted(spans, key=lambda span: (span.start, span.end))
        for span in spans:
            middle = text[span.start : span.end]
            assert text[: span.start] + middle + text[span.end :] == text
            assert middle.strip() == middle and middle, (kind, middle)
            assert not middle.startswith(("#", "//", '"""')), (kind, middle)
            inside_docstring = docstring[0] <= span.start < docstring[1]
            assert not inside_docstring, (kind, middle)


def test_max_lines_bounds_bodies_and_statements() -> None:
    at_four = candidate_spans(JAVASCRIPT, "javascript", max_lines=4)
    at_five = candidate_spans(JAVASCRIPT, "javascript", max_lines=5)
    scale_body = 'const result = values.map((v) => v * factor);\n  if (factor > 1) {\n    log("big", factor);\n  }\n  return result;'
    assert scale_body not in middles(JAVASCRIPT, at_four["body"])
    assert scale_body in middles(JAVASCRIPT, at_five["body"])
    wide = candidate_spans(PYTHON, "python", max_lines=20)
    assert any(middle.startswith("def scale(") for middle in middles(PYTHON, wide["statement"]))
    assert all(middle.count("\n") < 4 for spans in at_four.values() for middle in middles(JAVASCRIPT, spans))


def test_a_go_body_stops_before_the_closing_brace() -> None:
    text = "package m\n\nfunc f(a int) int {\n\tb := g(a, 1)\n\treturn b * scale\n}\n"
    found = candidate_spans(text, "go", max_lines=8)
    assert middles(text, found["body"]) == ["b := g(a, 1)\n\treturn b * scale"]
    assert middles(text, found["arguments"]) == ["a, 1"]
    assert "b := g(a, 1)" in middles(text, found["statement"])


def test_offsets_are_characters_after_non_ascii_text() -> None:
    text = '"""Größe: 😀 ✓."""\nname = "héllo wörld"\ntotal = compute(näme, 2)\nresult = total * scale\n'
    found = candidate_spans(text, "python", max_lines=4)
    assert middles(text, found["line"]) == [
        'name = "héllo wörld"',
        "total = compute(näme, 2)",
        "result = total * scale",
    ]
    assert middles(text, found["expression"]) == ["compute(näme, 2)", "total * scale"]
    assert middles(text, found["arguments"]) == ["näme, 2"]
    assert "total = compute(näme, 2)" in middles(text, found["statement"])


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("python", "def f(:\n  )))) (((\n  x = = = 3\n  y = compute(x)\n  ]]] if ( else\n"),
        (None, "first line\nsecond line here\nthird = line(4)\n"),
        ("text", "first line\nsecond line here\n"),
    ],
)
def test_without_a_usable_tree_only_lines_remain(language: str | None, text: str) -> None:
    found = candidate_spans(text, language, max_lines=8)
    assert found["line"]
    assert all(not found[kind] for kind in SPAN_KINDS if kind != "line")


def spans_of(kind: str, count: int, offset: int = 0) -> list[Span]:
    return [Span(offset + 10 * index, offset + 10 * index + 5, kind) for index in range(count)]


POOLS = {
    "line": spans_of("line", 100),
    "body": spans_of("body", 100, 3),
    "expression": spans_of("expression", 100, 6),
}


def test_choose_follows_the_mix() -> None:
    chosen = choose_spans(POOLS, {"line": 0.5, "body": 0.3, "expression": 0.2}, 20, random.Random(0))
    assert [sum(span.kind == kind for span in chosen) for kind in ("line", "body", "expression")] == [
        10,
        6,
        4,
    ]
    assert chosen == sorted(chosen, key=lambda span: (span.start, span.end))


def test_choose_is_deterministic_for_a_seed() -> None:
    mix = {"line": 1.0, "body": 1.0}
    first = choose_spans(POOLS, mix, 10, random.Random(7))
    assert first == choose_spans(POOLS, mix, 10, random.Random(7))
    assert any(choose_spans(POOLS, mix, 10, random.Random(seed)) != first for seed in range(8, 12))


def test_a_kind_without_candidates_gives_its_share_away() -> None:
    pools = {"line": spans_of("line", 100), "body": spans_of("body", 3, 3), "statement": []}
    chosen = choose_spans(pools, {"line": 0.25, "body": 0.25, "statement": 0.5}, 12, random.Random(1))
    assert len(chosen) == 12
    assert sum(span.kind == "body" for span in chosen) == 3
    assert sum(span.kind == "line" for span in chosen) == 9


def test_choose_caps_the_count_and_never_repeats_a_cut() -> None:
    shared = [Span(0, 5, "line"), Span(10, 15, "line")]
    pools = {"line": shared, "statement": [Span(0, 5, "statement"), Span(20, 30, "statement")]}
    chosen = choose_spans(pools, {"line": 1.0, "statement": 1.0}, 10, random.Random(0))
    assert [(span.start, span.end) for span in chosen] == [(0, 5), (10, 15), (20, 30)]
    assert choose_spans(pools, {"line": 1.0, "body": 0.0}, 10, random.Random(0)) == shared
    assert choose_spans(pools, {"body": 1.0}, 10, random.Random(0)) == []
    assert choose_spans(pools, {"line": 1.0}, 0, random.Random(0)) == []
