"""Where a training sample's middle is cut out of a file: FIM spans on syntax nodes (`housecoder train`).

A span is the middle of one fill-in-the-middle sample; the prefix is the file's text
before it and the suffix the text after. Kinds (`housecoder.config.SPAN_KINDS`),
after how code models are FIM-trained and what the editor asks for:

- `line`: the rest of a code line after its indentation, by the rules the benchmark's
  tasks use too (`housecoder.syntax.spans.line_spans`: previous line not blank, no
  comments, strings or trivial lines).
- `statement`: one whole statement (simple or compound) of a block, module or class
  body that starts its line, from its first character to its end.
- `expression`: one expression inside a line that is not the line's whole statement
  (a call, an operand, a condition, a comprehension, an assigned or returned value);
  the cursor sits mid-line.
- `arguments`: the inside of a call's parentheses, trimmed of surrounding whitespace.
- `body`: a function's body after its signature and docstring, as whole lines, the
  way the benchmark's `function` tasks cut it (`housecoder.syntax.spans.body_span`).

Multi-line kinds span 1 to `max_lines` lines. Node types are matched by name, so
any indexer grammar works where its names fit (Python, JavaScript/TypeScript, Go,
Java, the C family, Rust). A file without a grammar, or one tree-sitter cannot make
sense of, yields `line` spans by the text rules alone. Offsets are `str` indices.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from housecoder.config import SPAN_KINDS
from housecoder.syntax.parsing import MAX_ERROR_SHARE, error_share, parse_tree
from housecoder.syntax.spans import (
    FUNCTION_NODES,
    LineRules,
    body_span,
    in_string_or_comment,
    line_offsets,
    line_spans,
    trivial,
)

# Nodes whose named children are statements (blocks, module and class bodies).
BLOCK_NODES = frozenset(
    """
    module program source_file translation_unit compilation_unit block statement_block statement_list
    compound_statement class_body declaration_list constructor_body interface_body body_statement
    """.split()
)
# Function-like nodes beyond the benchmark's, whose body is a block (checked with BODY_BLOCKS).
MORE_FUNCTIONS = frozenset(
    [
        "arrow_function",
        "function_expression",
        "function",
        "generator_function",
        "generator_function_declaration",
        "func_literal",
        "method",
        "singleton_method",
        "local_function_statement",
    ]
)
BODY_BLOCKS = BLOCK_NODES - {"module", "program", "source_file", "translation_unit", "compilation_unit"}
EXPRESSION_NODES = frozenset(
    """
    call call_expression new_expression method_invocation object_creation_expression invocation_expression
    function_call_expression member_call_expression macro_invocation binary_operator binary_expression
    boolean_operator comparison_operator not_operator unary_operator unary_expression
    conditional_expression ternary_expression await await_expression attribute member_expression
    field_access selector_expression field_expression subscript subscript_expression index_expression
    element_access_expression list_comprehension set_comprehension dictionary_comprehension
    generator_expression list dictionary set tuple array object lambda arrow_function composite_literal
    """.split()
)
CALL_NODES = frozenset(
    [
        "call",
        "call_expression",
        "new_expression",
        "method_invocation",
        "object_creation_expression",
        "invocation_expression",
        "function_call_expression",
        "member_call_expression",
        "scoped_call_expression",
        "explicit_constructor_invocation",
    ]
)
VALUE_FIELDS = ("right", "value", "condition")  # fields whose node is an expression whatever its type
MIN_EXPRESSION_CHARS = 3  # non-space characters
_LINE_RULES = LineRules()  # the benchmark's trivial-line and line-length rules


@dataclass(frozen=True)
class Span:
    """The middle of one FIM sample: `text[start:end]` of its file."""

    start: int  # character offset in the file text where the middle starts
    end: int  # character offset just after the middle
    kind: str  # one of housecoder.config.SPAN_KINDS


def candidate_spans(text: str, language: str | None, *, max_lines: int) -> dict[str, list[Span]]:
    """Every span of each kind in `text` (a file in tree-sitter `language`), by kind, in file order.

    Within a kind no two spans share (start, end); across kinds they may (a one-line
    statement is also a line), and `choose_spans` keeps one of them.
    """
    source = text.encode("utf-8", "surrogatepass")
    tree = parse_tree(language, source)
    if tree is not None and error_share(tree, len(source)) > MAX_ERROR_SHARE:
        tree = None  # node boundaries of a mostly-ERROR tree are not trusted
    found: dict[str, list[Span]] = {kind: [] for kind in SPAN_KINDS}
    found["line"] = [Span(line.start, line.end, "line") for line in line_spans(text, tree, _LINE_RULES)]
    if tree is not None:
        file = _File(text, tree, _char_offsets(text, source), line_offsets(text), text.split("\n"), max_lines)
        for node in _walk(tree.root_node):
            if node.has_error:
                continue
            for kind, span in _node_spans(file, node):
                found[kind].append(span)
    return {kind: _unique(text, spans) for kind, spans in found.items()}


def choose_spans(
    candidates: Mapping[str, Sequence[Span]], mix: Mapping[str, float], count: int, rng: random.Random
) -> list[Span]:
    """Up to `count` spans with distinct (start, end), drawn with `rng` in the shares of `mix`, by position.

    A kind without candidates (or without enough) passes its share to the others in
    proportion to theirs; kinds absent from `mix` are never drawn.
    """
    kinds = [kind for kind in sorted(mix, key=_kind_order) if mix[kind] > 0 and candidates.get(kind)]
    pools: dict[str, list[Span]] = {}
    for kind in kinds:
        pool = sorted(candidates[kind], key=lambda span: (span.start, span.end))
        rng.shuffle(pool)
        pools[kind] = pool
    chosen: dict[tuple[int, int], Span] = {}
    while len(chosen) < count and kinds:
        quotas = _apportion(count - len(chosen), {kind: mix[kind] for kind in kinds})
        for kind in kinds:
            pool, wanted = pools[kind], quotas[kind]
            while wanted and pool:
                span = pool.pop()
                if (span.start, span.end) not in chosen:
                    chosen[(span.start, span.end)] = span
                    wanted -= 1
        kinds = [kind for kind in kinds if pools[kind]]
    return sorted(chosen.values(), key=lambda span: (span.start, span.end))


@dataclass(frozen=True)
class _File:
    text: str
    tree: Any
    char_at: Callable[[int], int]  # byte offset -> character offset
    offsets: list[int]  # character offset of each line's start
    lines: list[str]
    max_lines: int


def _node_spans(file: _File, node: Any) -> Iterator[tuple[str, Span]]:
    """The spans `node` itself gives (statement, expression, arguments, body), if any."""
    makers = (
        ("statement", _statement_span),
        ("expression", _expression_span),
        ("arguments", _arguments_span),
        ("body", _body),
    )
    for kind, make in makers:
        span = make(file, node)
        if span is not None:
            yield kind, span


def _statement_span(file: _File, node: Any) -> Span | None:
    if not _is_statement(node) or "comment" in node.type or _is_docstring(node):
        return None
    start = file.char_at(node.start_byte)
    end = start + len(file.text[start : file.char_at(node.end_byte)].rstrip())
    row = node.start_point[0]
    if file.text[file.offsets[row] : start].strip() or not _fits(node, file.max_lines):
        return None  # starts mid-line
    return (
        None
        if trivial(file.text[start:end].strip(), _LINE_RULES.min_chars)
        else Span(start, end, "statement")
    )


def _expression_span(file: _File, node: Any) -> Span | None:
    if node.start_point[0] != node.end_point[0] or not (node.type in EXPRESSION_NODES or _fills_value(node)):
        return None
    start, end = file.char_at(node.start_byte), file.char_at(node.end_byte)
    middle = file.text[start:end]
    if len("".join(middle.split())) < MIN_EXPRESSION_CHARS or "string" in node.type or "comment" in node.type:
        return None
    row = node.start_point[0]
    line = file.lines[row]
    before, after = line[: start - file.offsets[row]], line[end - file.offsets[row] :]
    if not before.strip() and after.strip() in ("", ";", ","):
        return None  # the whole line: a `line` span
    owner = node
    while owner.parent is not None and not _is_statement(owner):
        owner = owner.parent
    if owner.start_byte == node.start_byte and file.text[end : file.char_at(owner.end_byte)].strip() in (
        "",
        ";",
    ):
        return None  # the whole statement
    return None if in_string_or_comment(file.tree, *node.start_point) else Span(start, end, "expression")


def _arguments_span(file: _File, node: Any) -> Span | None:
    parent = node.parent
    if parent is None or parent.type not in CALL_NODES or node.child_count < 2:
        return None
    if (
        node.children[0].type != "("
        or node.children[-1].type != ")"
        or _field_of(parent, "arguments") != _key(node)
    ):
        return None
    inside = file.text[file.char_at(node.children[0].end_byte) : file.char_at(node.children[-1].start_byte)]
    if not inside.strip():
        return None
    start = file.char_at(node.children[0].end_byte) + len(inside) - len(inside.lstrip())
    end = start + len(inside.strip())
    if file.text.count("\n", start, end) >= file.max_lines or in_string_or_comment(
        file.tree, *node.start_point
    ):
        return None
    return Span(start, end, "arguments")


def _body(file: _File, node: Any) -> Span | None:
    if node.type not in FUNCTION_NODES | MORE_FUNCTIONS:
        return None
    block = node.child_by_field_name("body")
    if block is None or block.type not in BODY_BLOCKS:
        return None  # an arrow function's expression body is an expression span
    rows = body_span(node)
    if rows is None:
        return None
    first, last = rows
    if last > first and last == block.end_point[0] and file.lines[last].lstrip().startswith("}"):
        last -= 1  # the closing brace's line (Go's statement_list ends on it)
    if not 1 <= last - first + 1 <= file.max_lines:
        return None
    indent = len(file.lines[first]) - len(file.lines[first].lstrip())
    start, end = file.offsets[first] + indent, file.offsets[last] + len(file.lines[last].rstrip())
    return None if trivial(file.text[start:end].strip(), _LINE_RULES.min_chars) else Span(start, end, "body")


def _is_statement(node: Any) -> bool:
    parent = node.parent
    return bool(
        node.is_named and parent is not None and parent.type in BLOCK_NODES and node.type not in BLOCK_NODES
    )


def _is_docstring(node: Any) -> bool:
    named = node.named_children
    return node.type == "expression_statement" and len(named) == 1 and "string" in named[0].type


def _fills_value(node: Any) -> bool:
    """Whether `node` is an assigned, returned or tested value (an identifier or literal counts there)."""
    parent = node.parent
    if (
        parent is None
        or not node.is_named
        or "string" in node.type
        or node.type == "parenthesized_expression"
    ):
        return False
    if parent.type in EXPRESSION_NODES:
        return False  # an operand, not a value of its own
    if parent.type == "return_statement":
        return True
    return any(_field_of(parent, field) == _key(node) for field in VALUE_FIELDS)


def _field_of(node: Any, field: str) -> tuple[int, int, str] | None:
    child = node.child_by_field_name(field)
    return None if child is None else _key(child)


def _key(node: Any) -> tuple[int, int, str]:
    return node.start_byte, node.end_byte, node.type


def _fits(node: Any, max_lines: int) -> bool:
    return bool(node.end_point[0] - node.start_point[0] + 1 <= max_lines)


def _walk(root: Any) -> Iterator[Any]:
    """Named nodes in file order, not entering ERROR nodes."""
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type != "ERROR":
            yield node
            stack.extend(reversed(node.named_children))


def _char_offsets(text: str, source: bytes) -> Callable[[int], int]:
    """Byte offset in `source` (UTF-8 of `text`) -> character offset in `text`."""
    if len(source) == len(text):
        return lambda byte: byte
    table = [0] * (len(source) + 1)
    byte = 0
    for index, char in enumerate(text):
        width = len(char.encode("utf-8", "surrogatepass"))
        for step in range(width):
            table[byte + step] = index
        byte += width
    table[byte] = len(text)
    return table.__getitem__


def _unique(text: str, spans: list[Span]) -> list[Span]:
    """`spans` in file order without repeated (start, end) or blank middles."""
    seen: set[tuple[int, int]] = set()
    kept = []
    for span in sorted(spans, key=lambda span: (span.start, span.end)):
        if (span.start, span.end) not in seen and text[span.start : span.end].strip():
            seen.add((span.start, span.end))
            kept.append(span)
    return kept


def _kind_order(kind: str) -> tuple[int, str]:
    return (SPAN_KINDS.index(kind) if kind in SPAN_KINDS else len(SPAN_KINDS), kind)


def _apportion(total: int, shares: Mapping[str, float]) -> dict[str, int]:
    """`total` split by `shares` (largest remainders; ties to the earlier kind)."""
    weight = sum(shares.values())
    exact = {kind: total * share / weight for kind, share in shares.items()}
    quotas = {kind: int(value) for kind, value in exact.items()}
    by_remainder = sorted(shares, key=lambda kind: -(exact[kind] - quotas[kind]))
    for kind in by_remainder[: total - sum(quotas.values())]:
        quotas[kind] += 1
    return quotas
