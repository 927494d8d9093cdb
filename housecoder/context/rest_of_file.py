"""Context from the current file's parts the prompt leaves out (pure).

The prompt shows the current file only around the cursor (`completion.max_prefix_tokens` before it,
`max_suffix_tokens` after). In a long file the rest holds what the next line most often needs: the
file's imports (the names it can use) and code written the same way further up or down (the other
branch of the same dispatch, the sibling method). This source offers the import statements of the
hidden part and its look-alike windows, so nothing of the file is lost to the window's size. It
needs no index.
"""

from __future__ import annotations

from collections.abc import Sequence

from housecoder.context.snippets import ContextSnippet
from housecoder.context.windows import WindowIndex

Part = tuple[int, str]  # (first line number, text) of a stretch of the current file
_IMPORT_STARTS = ("import ", "from ", "export * from", "export {", "use ", "#include")


def hidden_parts(prefix: str, suffix: str, shown_prefix: str, shown_suffix: str) -> tuple[Part, ...]:
    """The stretches of the file before `shown_prefix` (the end of `prefix` the prompt keeps) and after
    `shown_suffix` (the start of `suffix` it keeps), with their first line numbers."""
    parts: list[Part] = []
    before = prefix[: len(prefix) - len(shown_prefix)]
    if before.strip():
        parts.append((1, before))
    after = suffix[len(shown_suffix) :]
    if after.strip():
        parts.append((prefix.count("\n") + shown_suffix.count("\n") + 1, after))
    return tuple(parts)


def _is_import(line: str) -> bool:
    stripped = line.lstrip()
    if not stripped.startswith(_IMPORT_STARTS):
        return False
    return (
        not stripped.startswith("from ") or " import" in stripped or stripped.rstrip().endswith(("(", "\\"))
    )


def import_lines(text: str) -> list[tuple[int, str]]:
    """(line index, line) of the import statements in `text`, continuation lines included."""
    lines = text.split("\n")
    found: list[tuple[int, str]] = []
    i = 0
    while i < len(lines):
        if not _is_import(lines[i]):
            i += 1
            continue
        depth = 0
        while i < len(lines):
            line = lines[i]
            found.append((i, line))
            depth += sum(line.count(c) for c in "({[") - sum(line.count(c) for c in ")}]")
            i += 1
            if depth <= 0 and not line.rstrip().endswith("\\"):
                break
    return found


def import_block(path: str, parts: Sequence[Part]) -> ContextSnippet | None:
    """The hidden part's import statements as one snippet (None when it has none)."""
    for first, text in parts:
        if first != 1:
            continue
        found = import_lines(text)
        if found:
            body = "\n".join(line for _, line in found)
            return ContextSnippet(
                path, first + found[0][0], first + found[-1][0], body, "in-file", "imports of this file", 1.0
            )
    return None


def rest_of_file(
    path: str, parts: Sequence[Part], query: str, *, size: int, k: int, max_lines: int, follow: int = 0
) -> list[ContextSnippet]:
    """The hidden part's import block, then its `k` windows most like `query`, best first, each shown
    `follow` lines further on (`housecoder.context.windows`)."""
    found: list[ContextSnippet] = []
    block = import_block(path, parts)
    if block is not None:
        found.append(block)
    if query.strip():
        index = WindowIndex(((path, text, first) for first, text in parts), size)
        found += index.search(
            query,
            exclude_path=None,
            k=k,
            max_lines=max_lines,
            source="in-file",
            label="look-alike part of this file",
            follow=follow,
        )
    return found
