"""Which parts of a file are worth completing: the rules that the benchmark's repository tasks
(`housecoder.benchmarks.repotasks`) and training's FIM spans (`housecoder.training.spans`) share.

- A *line* answer is the rest of a code line after its indentation, where the previous line is not
  blank, the line is not trivial (`pass`, closers, comments, short or symbol-only lines) or too long,
  and it does not start inside a string or comment.
- A *body* is a function's statements after its signature and docstring, as whole lines.

Rows are 0-based; offsets are `str` indices into the file's text. Pure: nothing here reads files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

TRIVIAL = frozenset(
    [
        "pass",
        "else:",
        "try:",
        "finally:",
        "return",
        "break",
        "continue",
        "}",
        "};",
        "});",
        ");",
        ")",
        "]",
        "],",
        "},",
        "end",
        "do",
        "begin",
        "else",
        "{",
        "} else {",
        "else {",
        "return;",
        "break;",
        "continue;",
        "default:",
        "*/",
        "@override",
        "@Override",
    ]
)
COMMENT = re.compile(r"^(#|//|/\*|\*|--|\"\"\"|''')")
FUNCTION_NODES = frozenset(
    [
        "function_definition",
        "function_declaration",
        "method_definition",
        "method_declaration",
        "constructor_declaration",
        "function_item",
    ]
)


@dataclass(frozen=True)
class LineRules:
    """When a line is an answer worth asking for."""

    min_chars: int = 6
    max_line_chars: int = 160


@dataclass(frozen=True)
class LineSpan:
    row: int  # 0-based line
    start: int  # offsets of the answer: after the indentation, to the end of the line without trailing blanks
    end: int


def trivial(stripped: str, min_chars: int) -> bool:
    """An answer not worth asking for: keywords and closers, comments, short or symbol-only lines."""
    return (
        stripped in TRIVIAL
        or len(stripped) < min_chars
        or COMMENT.match(stripped) is not None
        or not re.search(r"[A-Za-z0-9]", stripped)
    )


def line_offsets(text: str) -> list[int]:
    """Character offset of the start of each line (0-based line index)."""
    offsets = [0]
    for match in re.finditer("\n", text):
        offsets.append(match.end())
    return offsets


def in_string_or_comment(tree: Any, row: int, column: int) -> bool:
    """Whether the text at (row, column) lies inside a string or comment node (docstrings included)."""
    node = tree.root_node.descendant_for_point_range((row, column), (row, column))
    while node is not None:
        if "string" in node.type or "comment" in node.type:
            return True
        node = node.parent
    return False


def line_spans(
    text: str, tree: Any | None, rules: LineRules = LineRules(), allowed: set[int] | None = None
) -> list[LineSpan]:
    """Every line answer of `text` (`tree`: its tree-sitter tree, None for text rules only); `allowed`
    limits them to those 1-based line numbers."""
    lines = text.split("\n")
    offsets = line_offsets(text)
    found = []
    for index in range(1, len(lines)):
        line, before = lines[index], lines[index - 1]
        stripped = line.strip()
        if not before.strip() or trivial(stripped, rules.min_chars) or len(stripped) > rules.max_line_chars:
            continue
        if allowed is not None and index + 1 not in allowed:
            continue
        indent = len(line) - len(line.lstrip())
        if tree is not None and in_string_or_comment(tree, index, indent):
            continue
        found.append(LineSpan(index, offsets[index] + indent, offsets[index] + len(line.rstrip())))
    return found


def body_span(node: Any) -> tuple[int, int] | None:
    """(first, last) 0-based rows of a function's body statements, without a docstring or braces."""
    body = node.child_by_field_name("body")
    if body is None:
        return None
    statements = [child for child in body.named_children if child.type != "comment"]
    if (
        statements
        and statements[0].type == "expression_statement"
        and statements[0].named_children
        and statements[0].named_children[0].type == "string"
    ):
        statements = statements[1:]  # a docstring stays in the prompt, as in RepoEval
    if not statements:
        return None
    first, last = statements[0].start_point[0], statements[-1].end_point[0]
    if first == node.start_point[0]:
        return None  # a one-line function: nothing to hold out as a body
    return first, last
