"""Shorten a long definition to its outline: signature, first docstring line and members, bodies elided (pure).

The definitions source shows what a name near the cursor refers to, so the model can call it or
use its members: a function's signature and what its docstring says first, a class's attributes
and method signatures. Printed whole, one long class fills the context budget (384 tokens by
default); as outlines several definitions fit. Works on indentation and brackets, so Python and
the brace languages both read right; what it cannot place it leaves out.
"""

from __future__ import annotations

CONTAINER_KINDS = frozenset(
    ["class", "interface", "struct", "impl", "trait", "enum", "module", "namespace", "object", "type"]
)
MAX_HEADER_LINES = 8
_COMMENT = ("#", "//", "/*", "*", "--")
_DOCSTRING = ('"""', "'''", 'r"""', "r'''")
_CLOSERS = frozenset(")]}")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _depth(line: str) -> int:
    """Net open brackets on `line` (strings are not told apart: an outline is a heuristic)."""
    return sum(line.count(c) for c in "([{") - sum(line.count(c) for c in ")]}")


def _statement(lines: list[str], start: int, limit: int) -> int:
    """Index after the statement beginning at `start`: its continuation lines while brackets stay open
    (a `{` ending a line opens a block, not a continuation)."""
    depth, end = 0, start
    while end < len(lines) and end - start < limit:
        line = lines[end].rstrip()
        depth += _depth(line) - line.endswith("{")
        end += 1
        if depth <= 0:
            break
    return end


def _header_end(lines: list[str]) -> int:
    """Index after the definition's header: decorators, attributes and doc comments, then the signature
    up to its `:` or `{`."""
    i = 0
    while (
        i < len(lines) - 1 and lines[i].lstrip().startswith(("@", "#[", *_COMMENT)) and i < MAX_HEADER_LINES
    ):
        i = _statement(lines, i, MAX_HEADER_LINES)
    return _statement(lines, i, MAX_HEADER_LINES)


def _elide(line: str) -> str:
    """A block opener with its body cut: `def f(x): ...`, `void f() { ... }`."""
    stripped = line.rstrip()
    if stripped.endswith(":"):
        return stripped + " ..."
    if stripped.endswith("{"):
        return stripped + " ... }"
    return stripped


def _docstring_head(lines: list[str], at: int) -> str | None:
    """The first line of a docstring or doc comment starting at `at` (closed when the docstring goes on)."""
    line = lines[at].rstrip()
    stripped = line.lstrip()
    quote = next((q for q in _DOCSTRING if stripped.startswith(q)), None)
    if quote is not None:
        closing = quote[-3:]
        if stripped == quote and at + 1 < len(lines):  # the summary is on the next line
            line, stripped = line + lines[at + 1].strip(), stripped + lines[at + 1].strip()
        return line if stripped.count(closing) >= 2 else line + closing
    if stripped.startswith("/**"):
        return line if stripped.endswith("*/") else line + " */"
    if stripped.startswith("///"):
        return line
    return None


def outline(text: str, kind: str, max_lines: int) -> str:
    """`text` itself when it has at most `max_lines` lines; else its outline (see the module docstring)."""
    lines = text.split("\n")
    if len(lines) <= max_lines:
        return text
    head = _header_end(lines)
    header = [line.rstrip() for line in lines[:head]]
    body = [i for i in range(head, len(lines)) if lines[i].strip()]
    if not body:
        return "\n".join(header)
    body_indent = _indent(lines[body[0]])
    last = len(lines)
    closing = None
    if lines[-1].strip() in _CLOSERS and _indent(lines[-1]) < body_indent:
        closing, last = lines[-1].rstrip(), len(lines) - 1
    doc = _docstring_head(lines, body[0])
    listed = members(lines[head:last], body_indent) if kind in CONTAINER_KINDS else []
    if doc is None and not listed:  # `def f(x): ...`, `void f() { ... }`
        return "\n".join([*header[:-1], _elide(header[-1])])
    kept = header + ([doc] if doc is not None else []) + (listed or [" " * body_indent + "..."])
    return "\n".join(kept + ([closing] if closing is not None else []))


def members(lines: list[str], indent: int) -> list[str]:
    """The lines at member indentation (attributes, decorators, method signatures), bodies elided; comments
    and docstrings left out."""
    kept: list[str] = []
    i, in_string = 0, None
    while i < len(lines):
        line, stripped = lines[i], lines[i].strip()
        i += 1
        if in_string is not None:  # inside a block string that began at member level
            in_string = None if in_string in stripped else in_string
            continue
        quote = next((q for q in _DOCSTRING if stripped.startswith(q)), None)
        if quote is not None:
            in_string = quote[-3:] if stripped.count(quote[-3:]) == 1 else None
            continue
        if not stripped or _indent(line) != indent or stripped.startswith(_COMMENT) or stripped in _CLOSERS:
            continue
        end = _statement(lines, i - 1, MAX_HEADER_LINES)
        statement = [lines[j].rstrip() for j in range(i - 1, end)]
        kept += [*statement[:-1], _elide(statement[-1])]
        i = end
    return kept
