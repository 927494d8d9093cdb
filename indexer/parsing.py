"""Parse one file into chunks and symbols, falling back to line windows.

A file with no grammar (unknown extension, or the grammar wheel not
installed) or one tree-sitter cannot make sense of (mostly ERROR nodes) is
still indexed, as line windows with no symbols.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from housecoder.indexer.chunker import Chunk, ChunkLimits, chunk_tree, line_windows
from housecoder.indexer.languages import LANGUAGES, grammar, language_for
from housecoder.indexer.symbols import Symbol, extract_symbols

MAX_ERROR_SHARE = 0.5  # above this share of bytes under ERROR nodes, syntax chunks are not trusted


@dataclass(frozen=True)
class ParsedFile:
    path: str
    language: str  # a tree-sitter language, or "text" for line windows
    chunks: list[Chunk]
    symbols: list[Symbol]
    fell_back: bool  # True when a grammar existed but the parse was unusable


@functools.cache
def _parser(language: str) -> Any | None:
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


def parse_file(path: str, source: bytes, limits: ChunkLimits) -> ParsedFile:
    """Chunks and symbols of the file at repository-relative `path` with content `source`."""
    language = language_for(path)
    parser = _parser(language) if language else None
    if language is None or parser is None:
        return ParsedFile(path, "text", line_windows(path, "text", source, limits), [], False)
    tree = parser.parse(source)
    if error_share(tree, len(source)) > MAX_ERROR_SHARE:
        return ParsedFile(path, language, line_windows(path, language, source, limits), [], True)
    return ParsedFile(path, language, chunk_tree(path, language, source, tree, limits), extract_symbols(path, language, tree), False)


def parse_tree(language: str | None, source: bytes) -> Any | None:
    """A tree-sitter tree of `source`, or None without a grammar; a fresh parser, so safe in any thread."""
    import tree_sitter

    found = grammar(language) if language in LANGUAGES else None
    return tree_sitter.Parser(found).parse(source) if found is not None else None
