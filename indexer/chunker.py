"""Split a source file into retrieval chunks that follow its syntax.

Definitions (functions, methods, classes, ...) are the natural units. Small
neighbouring pieces (imports, constants, one-line functions, the comments
that precede them) are merged until a chunk reaches `target_lines`; a single
definition up to `max_lines` stays whole; a larger container (a class, an impl,
a namespace) is split by member after a header chunk (its signature, docstring
and fields); anything else that is too large, and every file without a grammar
or that tree-sitter cannot parse, becomes overlapping line windows.

Every chunk covers whole lines and records its byte and line span, its
enclosing symbol path (`Class.method`) and a content hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from housecoder.syntax.languages import LANGUAGES, LanguageSpec
from housecoder.syntax.parsing import decode, node_name


@dataclass(frozen=True)
class ChunkLimits:
    """Chunk sizes in lines."""

    target_lines: int = 30  # merge small neighbours up to this size
    max_lines: int = 80  # a definition this long or shorter stays one chunk
    split_lines: int = 40  # line windows for oversized nodes and unparsed files
    split_overlap: int = 10


@dataclass(frozen=True)
class Chunk:
    """A span of a file stored in the index; lines are 1-based and inclusive."""

    path: str
    language: str
    kind: str  # definition node kind, "block" (merged pieces) or "window"
    symbol: str  # enclosing symbol path, e.g. "Config.load"; "" at module level
    start_byte: int
    end_byte: int
    start_line: int
    end_line: int
    text: str

    @property
    def hash(self) -> str:
        return hashlib.sha1(f"{self.path}\0{self.start_line}\0{self.text}".encode()).hexdigest()


class _Lines:
    """Line arithmetic over the source bytes."""

    def __init__(self, source: bytes) -> None:
        self.source = source
        self.starts = [0]
        position = source.find(b"\n")
        while position != -1:
            self.starts.append(position + 1)
            position = source.find(b"\n", position + 1)
        if self.starts[-1] == len(source) and len(self.starts) > 1:
            self.starts.pop()  # a final newline does not open a new line

    @property
    def count(self) -> int:
        return len(self.starts)

    def span(self, first: int, last: int) -> tuple[int, int]:
        """Byte span of 0-based lines first..last inclusive, newline of the last included."""
        end = self.starts[last + 1] if last + 1 < len(self.starts) else len(self.source)
        return self.starts[first], end


def line_windows(
    path: str,
    language: str,
    source: bytes,
    limits: ChunkLimits,
    symbol: str = "",
    first: int = 0,
    last: int | None = None,
    kind: str = "window",
    lines: _Lines | None = None,
) -> list[Chunk]:
    """Overlapping windows of `split_lines` lines over lines first..last (0-based, inclusive).

    `lines` is the line table of `source` when the caller already has it.
    """
    lines = lines or _Lines(source)
    last = lines.count - 1 if last is None else last
    step = max(1, limits.split_lines - limits.split_overlap)
    chunks: list[Chunk] = []
    start = first
    while start <= last:
        end = min(last, start + limits.split_lines - 1)
        begin, stop = lines.span(start, end)
        text = decode(source[begin:stop])
        if text.strip():
            chunks.append(Chunk(path, language, kind, symbol, begin, stop, start + 1, end + 1, text))
        if end == last:
            break
        start += step
    return chunks


class _Chunker:
    def __init__(self, path: str, spec: LanguageSpec, source: bytes, limits: ChunkLimits) -> None:
        self.path, self.spec, self.source, self.limits = path, spec, source, limits
        self.lines = _Lines(source)
        self.chunks: list[Chunk] = []

    def definition(self, node: Any) -> Any | None:
        """The definition node `node` is or wraps (decorators, export, template), else None."""
        if node.type in self.spec.definitions:
            return node
        if node.type in self.spec.wrappers:
            for child in reversed(node.named_children):
                inner = self.definition(child)
                if inner is not None:
                    return inner
        return None

    def emit(self, first: int, last: int, kind: str, symbol: str) -> None:
        begin, end = self.lines.span(first, last)
        text = decode(self.source[begin:end])
        if text.strip():
            self.chunks.append(
                Chunk(self.path, self.spec.name, kind, symbol, begin, end, first + 1, last + 1, text)
            )

    def siblings(self, nodes: Sequence[Any], scope: tuple[str, ...], lead: int | None = None) -> None:
        """Chunk sibling nodes; `lead` is a first line (a container's header) the first chunk starts at."""
        group: list[tuple[Any, Any | None]] = []
        pending_lead = [lead]

        def flush() -> None:
            if not group:
                return
            first = group[0][0].start_point[0]
            if pending_lead[0] is not None:
                first, pending_lead[0] = min(first, pending_lead[0]), None
            last = max(node.end_point[0] for node, _ in group)
            definitions = [inner for _, inner in group if inner is not None]
            if len(definitions) == 1 and len(group) <= 2:  # one definition, perhaps with its comment
                inner = definitions[0]
                self.emit(first, last, inner.type, ".".join((*scope, node_name(inner))))
            else:
                self.emit(first, last, "block", ".".join(scope))
            group.clear()

        for node in nodes:
            first, last = node.start_point[0], node.end_point[0]
            size = last - first + 1
            inner = self.definition(node)
            if size > self.limits.max_lines:
                flush()
                if pending_lead[0] is not None and pending_lead[0] < first:
                    # the container's header has no small member to open: it is a chunk of its own
                    self.emit(pending_lead[0], first - 1, "block", ".".join(scope))
                pending_lead[0] = None
                self.oversized(node, inner, scope)
                continue
            if group and (last - group[0][0].start_point[0] + 1 > self.limits.target_lines):
                # keep a comment attached to the definition that follows it
                carried = group.pop() if inner is not None and "comment" in group[-1][0].type else None
                flush()
                if carried is not None:
                    group.append(carried)
            if (
                inner is not None
                and size >= self.limits.target_lines
                and group
                and "comment" not in group[-1][0].type
            ):
                flush()
            group.append((node, inner))
            if inner is not None and size >= self.limits.target_lines:
                flush()
        flush()

    def oversized(self, node: Any, inner: Any | None, scope: tuple[str, ...]) -> None:
        first, last = node.start_point[0], node.end_point[0]
        if inner is None:
            self.chunks += line_windows(
                self.path,
                self.spec.name,
                self.source,
                self.limits,
                ".".join(scope),
                first,
                last,
                lines=self.lines,
            )
            return
        symbol = (*scope, node_name(inner))
        body = inner.child_by_field_name("body")
        members = [child for child in (body.children if body is not None else []) if child.is_named]
        if inner.type in self.spec.containers and members:
            # The header (signature, decorators, docstring) opens the first member chunk.
            self.siblings(members, symbol, lead=first)
            return
        self.chunks += line_windows(
            self.path,
            self.spec.name,
            self.source,
            self.limits,
            ".".join(symbol),
            first,
            last,
            kind=inner.type,
            lines=self.lines,
        )


def chunk_tree(path: str, language: str, source: bytes, tree: Any, limits: ChunkLimits) -> list[Chunk]:
    """Chunks of a parsed file."""
    chunker = _Chunker(path, LANGUAGES[language], source, limits)
    chunker.siblings(tree.root_node.children, ())
    return chunker.chunks
