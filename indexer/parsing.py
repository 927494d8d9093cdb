"""Parse one file into chunks and symbols, falling back to line windows.

A file with no grammar (unknown extension, or the grammar wheel not
installed) or one tree-sitter cannot make sense of (mostly ERROR nodes) is
still indexed, as line windows with no symbols.
"""

from __future__ import annotations

from dataclasses import dataclass

from housecoder.indexer.chunker import Chunk, ChunkLimits, chunk_tree, line_windows
from housecoder.syntax.languages import language_for
from housecoder.syntax.parsing import MAX_ERROR_SHARE, error_share
from housecoder.syntax.parsing import parser as parser_for
from housecoder.syntax.symbols import Symbol, extract_symbols


@dataclass(frozen=True)
class ParsedFile:
    path: str
    language: str  # a tree-sitter language, or "text" for line windows
    chunks: list[Chunk]
    symbols: list[Symbol]
    fell_back: bool  # True when a grammar existed but the parse was unusable


def parse_file(path: str, source: bytes, limits: ChunkLimits) -> ParsedFile:
    """Chunks and symbols of the file at repository-relative `path` with content `source`."""
    language = language_for(path)
    parser = parser_for(language) if language else None
    if language is None or parser is None:
        return ParsedFile(path, "text", line_windows(path, "text", source, limits), [], False)
    tree = parser.parse(source)
    if error_share(tree, len(source)) > MAX_ERROR_SHARE:
        return ParsedFile(path, language, line_windows(path, language, source, limits), [], True)
    return ParsedFile(
        path,
        language,
        chunk_tree(path, language, source, tree, limits),
        extract_symbols(path, language, tree),
        False,
    )
