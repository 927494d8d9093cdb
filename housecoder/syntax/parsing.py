"""Parse source text with tree-sitter (offline grammar wheels): trees, how much of a tree is broken, and
the declared names of definition nodes. Shared by the completion engine, the indexer, training and the
benchmarks; a fresh parser per call where threads share it."""

from __future__ import annotations

import functools
from typing import Any

from housecoder.syntax.languages import LANGUAGES, grammar

MAX_ERROR_SHARE = 0.5  # above this share of bytes under ERROR nodes, syntax chunks are not trusted


@functools.cache
def parser(language: str) -> Any | None:
    import tree_sitter

    found = grammar(language)
    return tree_sitter.Parser(found) if found is not None else None


def error_share(tree: Any, size: int) -> float:
    if not tree.root_node.has_error or size == 0:
        return 0.0
    bad = 0
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            bad += node.end_byte - node.start_byte
        elif node.has_error:
            stack.extend(node.children)
    return bad / size


def parse_tree(language: str | None, source: bytes) -> Any | None:
    """A tree-sitter tree of `source`, or None without a grammar; a fresh parser, so safe in any thread."""
    import tree_sitter

    found = grammar(language) if language in LANGUAGES else None
    return tree_sitter.Parser(found).parse(source) if found is not None else None


def decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def node_name(node: Any) -> str:
    """The declared name of a definition node, following the grammar's fields."""
    name = node.child_by_field_name("name")
    if name is not None:
        return decode(name.text)
    if node.type == "impl_item":
        target, trait = node.child_by_field_name("type"), node.child_by_field_name("trait")
        if target is not None:
            return decode(target.text) if trait is None else f"{decode(trait.text)} for {decode(target.text)}"
    declarator = node.child_by_field_name("declarator")
    while declarator is not None:
        if declarator.type in (
            "identifier",
            "field_identifier",
            "qualified_identifier",
            "type_identifier",
            "operator_name",
            "destructor_name",
        ):
            return decode(declarator.text)
        declarator = declarator.child_by_field_name("declarator")
    for child in node.named_children:
        if child.type in ("variable_declarator", "type_spec"):
            return node_name(child)
    return ""
