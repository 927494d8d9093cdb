"""Whether to complete at a cursor, and how much: the trigger decision (pure; tree-sitter for syntax).

Rules, in order:
1. inside a comment or a string (found with the file's tree-sitter grammar): no
   completion unless configured; interpolations (`f"{x}"`, `${x}`) count as code;
2. code after the cursor on the same line (other than closing brackets, quotes
   and separators): no completion unless configured, then a single line;
3. at the end of a block opener (`:` in Python, `{`, `(`, `[`, `=>`, ...), on an
   empty line right after one, or (Python) on an empty line right after the
   docstring that opens a block: a multi-line completion (the block's body);
4. otherwise a single line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Characters that may follow the cursor without making it "mid-line" (the editor closed them for us).
_CLOSERS = set(")]}>\"'`;,: \t\r")
_OPENERS: dict[str, tuple[str, ...]] = {
    "python": (":", "(", "[", "{"),
    "ruby": (" do", "|", "(", "[", "{"),
}
_DEFAULT_OPENERS = ("{", "(", "[", "=>", "->")
# Openers of a bracketed list (call arguments, a literal) rather than a block body.
_BRACKETS: dict[str, tuple[str, ...]] = {"python": ("(", "[", "{")}
_DEFAULT_BRACKETS = ("(", "[")
_LINE_COMMENTS = {"python": "#", "ruby": "#"}  # whole-line comments; the others here use //
_INTERPOLATIONS = {
    "interpolation",
    "template_substitution",
    "string_interpolation",
    "interpolated_expression",
}
_STRING_TYPES = {"char_literal", "character_literal", "heredoc_body", "template_string", "rune_literal"}


@dataclass(frozen=True)
class Trigger:
    """The decision: complete or not, one line or a block, and why (for logs and `--json`)."""

    complete: bool
    multi_line: bool
    reason: str


def _is_comment(node: Any) -> bool:
    return "comment" in node.type


def _is_string(node: Any) -> bool:
    return "string" in node.type or node.type in _STRING_TYPES


def _covers(node: Any, offset: int) -> bool:
    """True when the cursor (a byte offset) is inside `node`; a line comment also covers its end."""
    if node.start_byte < offset < node.end_byte:
        return True
    if node.end_byte == offset and _is_comment(node):
        text = node.text or b""
        return not text.rstrip().endswith((b"*/", b"-->", b"=end"))
    return False


def syntax_at(tree: Any, offset: int) -> str:
    """'comment', 'string' or 'code' at byte `offset` of a parsed tree."""
    node = tree.root_node
    path: list[Any] = []
    while True:
        inner = next((child for child in node.children if _covers(child, offset)), None)
        if inner is None:
            break
        path.append(inner)
        node = inner
    for node in reversed(path):  # innermost first: an interpolation inside a string is code
        if node.type in _INTERPOLATIONS:
            return "code"
        if _is_comment(node):
            return "comment"
        if _is_string(node):
            return "string"
    return "code"


def _ends_with_opener(line: str, language: str | None) -> bool:
    stripped = line.rstrip()
    return bool(stripped) and stripped.endswith(_OPENERS.get(language or "", _DEFAULT_OPENERS))


def decide(
    prefix: str,
    suffix: str,
    language: str | None,
    tree: Any = None,
    *,
    in_comments: bool = False,
    in_strings: bool = False,
    mid_line: bool = False,
) -> Trigger:
    """The trigger decision for a cursor between `prefix` and `suffix`.

    `tree` is the tree-sitter parse of `prefix + suffix` (None: no grammar, so no
    comment/string detection).
    """
    if tree is not None:
        where = syntax_at(tree, len(prefix.encode("utf-8")))
        if where == "comment" and not in_comments:
            return Trigger(False, False, "inside a comment")
        if where == "string" and not in_strings:
            return Trigger(False, False, "inside a string")
    line_before = prefix.rsplit("\n", 1)[-1]
    line_after = suffix.split("\n", 1)[0]
    if not set(line_after) <= _CLOSERS:
        if not mid_line:
            return Trigger(False, False, "code after the cursor on this line")
        return Trigger(True, False, "mid-line")
    if line_before.strip():
        if _ends_with_opener(line_before, language):
            return Trigger(True, True, "end of a block opener")
        return Trigger(True, False, "end of a line")
    before = prefix.split("\n")[:-1]
    marker = _LINE_COMMENTS.get(language or "", "//")
    while before and (not before[-1].strip() or before[-1].lstrip().startswith(marker)):
        before = before[:-1]  # blank lines and whole-line comments say nothing of what comes next
    previous = before[-1] if before else ""
    if _ends_with_opener(previous, language):
        return Trigger(True, True, "empty line after a block opener")
    if language == "python" and _after_docstring(before, line_before):
        return Trigger(True, True, "empty line after a docstring")
    return Trigger(True, False, "empty line")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _after_docstring(lines: list[str], cursor_line: str) -> bool:
    """True when `lines` end with a triple-quoted string that opens the block of the line before it
    (`def f():` then its docstring) and the cursor is inside that block: its body is still to be written."""
    if not lines:
        return False
    closing = lines[-1].strip()
    quote = closing[-3:]
    if quote not in ('"""', "'''"):
        return False
    start = len(lines) - 1
    if closing.count(quote) < 2 or closing == quote:  # the docstring opened on an earlier line
        start = next((i for i in range(len(lines) - 2, -1, -1) if quote in lines[i]), -1)
        if start < 0 or lines[start].strip().count(quote) != 1:
            return False
    opener = next((line for line in reversed(lines[:start]) if line.strip()), "")
    return (
        opener.rstrip().endswith(":")
        and lines[start].lstrip().lstrip("rRbBuU").startswith(quote)
        and _indent(cursor_line) > _indent(opener)
    )


def in_open_brackets(prefix: str, language: str | None) -> bool:
    """True when the last non-blank line before the cursor ends with an opening bracket: a multi-line
    completion there fills call arguments or a literal, not a block body (after `:`, `{`, a docstring)."""
    last = next((line for line in reversed(prefix.split("\n")) if line.strip()), "")
    return last.rstrip().endswith(_BRACKETS.get(language or "", _DEFAULT_BRACKETS))
