"""Definitions and references of a parsed file, from its `queries/<language>-tags.scm`.

Captures are named `name.definition.<kind>` and `name.reference.<kind>`, on the
name node. A definition's span is that of the enclosing definition node, so
the server can show a definition's whole text for an identifier near the cursor.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from housecoder.syntax.languages import LANGUAGES, tags_query
from housecoder.syntax.parsing import node_name


@dataclass(frozen=True)
class Symbol:
    """One tag; lines are 1-based and inclusive, `scope` is the enclosing symbol path."""

    name: str
    kind: str  # function, class, method, call, import, ...
    role: str  # "definition" or "reference"
    path: str
    language: str
    start_line: int
    end_line: int
    start_byte: int
    end_byte: int
    scope: str


def _enclosing_definition(node: Any, definitions: frozenset[str]) -> Any:
    current = node.parent
    while current is not None:
        if current.type in definitions:
            return current
        current = current.parent
    return node


def _scope(node: Any, definitions: frozenset[str]) -> str:
    names: list[str] = []
    current = node.parent
    while current is not None:
        if current.type in definitions:
            name = node_name(current)
            if name:
                names.append(name)
        current = current.parent
    return ".".join(reversed(names))


def extract_symbols(path: str, language: str, tree: Any) -> list[Symbol]:
    """Every definition and reference the language's tags query finds in `tree`."""
    import tree_sitter

    query = tags_query(language)
    if query is None:
        return []
    definitions = LANGUAGES[language].definitions
    symbols: list[Symbol] = []
    seen: set[tuple[int, str]] = set()
    for _, captures in tree_sitter.QueryCursor(query).matches(tree.root_node):
        for capture, nodes in captures.items():
            parts = capture.split(".")
            if len(parts) != 3 or parts[0] != "name" or parts[1] not in ("definition", "reference"):
                continue
            for node in nodes:
                key = (node.start_byte, parts[1])
                if key in seen:
                    continue
                seen.add(key)
                span = _enclosing_definition(node, definitions) if parts[1] == "definition" else node
                symbols.append(
                    Symbol(
                        name=(node.text or b"").decode("utf-8", errors="replace"),
                        kind=parts[2],
                        role=parts[1],
                        path=path,
                        language=language,
                        start_line=span.start_point[0] + 1,
                        end_line=span.end_point[0] + 1,
                        start_byte=span.start_byte,
                        end_byte=span.end_byte,
                        scope=_scope(span, definitions),
                    )
                )
    return symbols


def defined_and_used(
    symbols_by_path: Mapping[str, Iterable[Symbol]],
) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """The files that define each name, and the files that use it (a call, a type, an import)."""
    defined_in: dict[str, set[str]] = defaultdict(set)
    used_in: dict[str, set[str]] = defaultdict(set)
    for path, symbols in symbols_by_path.items():
        for symbol in symbols:
            (defined_in if symbol.role == "definition" else used_in)[symbol.name].add(path)
    return defined_in, used_in
