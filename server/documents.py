"""Which buffers the server may use, and for what (pure path logic; no pygls).

A document is *inside* the workspace when its `file:` path, with symlinks
resolved, lies under one of the workspace folders. Only such documents are
indexed on save, get repository context, or serve as context for another
file; anything else (another project, a temp file, an `untitled:` buffer) is
completed from its own buffer alone.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from housecoder.context import OpenDocument
from housecoder.syntax.languages import language_for

RECENT_DOCUMENTS = 20  # open or recently edited buffers remembered as context candidates


@dataclass(frozen=True)
class Located:
    """Where a document is: its workspace folder (None: outside), its path there, its language."""

    root: Path | None
    relative: str  # '/'-separated path under root, or the bare file name outside the workspace
    path: Path | None  # the resolved file path, for `file:` URIs
    language: str | None


def uri_to_path(uri: str) -> Path | None:
    """The local file a `file:` URI names (None for other schemes)."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    path = unquote(parsed.path)
    if len(path) >= 3 and path[0] == "/" and path[2] == ":":  # file:///C:/x on Windows
        path = path[1:]
    return Path(path)


def locate(uri: str, folders: Sequence[Path], language_id: str | None = None) -> Located:
    """Place `uri` in the workspace (folders are resolved absolute paths; the innermost match wins)."""
    path = uri_to_path(uri)
    name = (path.name if path else uri.rsplit("/", 1)[-1]) or "untitled"
    language = language_for(name) or _language_from_id(language_id)
    if path is None:
        return Located(None, name, None, language)
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError):
        return Located(None, name, None, language)
    inside = [folder for folder in folders if resolved.is_relative_to(folder)]
    if not inside:
        return Located(None, name, resolved, language)
    root = max(inside, key=lambda folder: len(folder.parts))
    return Located(root, resolved.relative_to(root).as_posix(), resolved, language)


_LANGUAGE_IDS = {
    "python": "python",
    "javascript": "javascript",
    "javascriptreact": "javascript",
    "typescript": "typescript",
    "typescriptreact": "tsx",
    "go": "go",
    "rust": "rust",
    "java": "java",
    "c": "c",
    "cpp": "cpp",
    "csharp": "c_sharp",
    "ruby": "ruby",
    "php": "php",
}


def _language_from_id(language_id: str | None) -> str | None:
    return _LANGUAGE_IDS.get(language_id or "")


class RecentDocuments:
    """Open and recently edited buffers, most recent first (bounded)."""

    def __init__(self, limit: int = RECENT_DOCUMENTS) -> None:
        self.limit = limit
        self._order: OrderedDict[str, None] = OrderedDict()

    def touch(self, uri: str) -> None:
        self._order[uri] = None
        self._order.move_to_end(uri, last=False)
        while len(self._order) > self.limit:
            self._order.popitem(last=True)

    def forget(self, uri: str) -> None:
        self._order.pop(uri, None)

    def context_for(
        self,
        current: Located,
        current_uri: str,
        texts: Mapping[str, str],
        folders: Sequence[Path],
        max_chars: int,
    ) -> list[OpenDocument]:
        """Other buffers of the current document's folder, most recent first, each at most `max_chars`.

        A document outside the workspace gets none, and is never given to another.
        """
        if current.root is None:
            return []
        found: list[OpenDocument] = []
        for uri in self._order:
            text = texts.get(uri)
            if uri == current_uri or text is None or len(text) > max_chars:
                continue
            where = locate(uri, folders)
            if where.root == current.root:
                found.append(OpenDocument(where.relative, text))
        return found
