"""The repository's source files as the indexer sees them: the same ignore, size, secret and content rules.

For consumers that need whole files rather than chunks (the benchmark's task
builder, the training job's sample builder), so they never read a file the
index would refuse (a secret, a generated or minified file, an ignored path).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from housecoder.config import IndexConfig
from housecoder.indexer.content import content_rule
from housecoder.indexer.walker import Skipped, walk
from housecoder.syntax.languages import language_for

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SourceFile:
    path: str  # repository-relative, '/'-separated
    language: str  # a tree-sitter language name
    text: str


def source_files(root: Path, config: IndexConfig) -> Iterator[SourceFile]:
    """Files under `root` in a language with a grammar that the index rules accept, in path order."""
    for entry in walk(root, exclude=config.exclude, max_bytes=config.max_file_bytes):
        if isinstance(entry, Skipped):
            continue
        language = language_for(entry.path)
        if language is None:
            continue
        try:
            data = entry.absolute.read_bytes()
        except OSError as err:
            log.debug("skip %s: unreadable (%s)", entry.path, err)
            continue
        if content_rule(data, max_line_chars=config.tuning.max_line_chars) is None:
            yield SourceFile(entry.path, language, data.decode("utf-8", errors="replace"))
