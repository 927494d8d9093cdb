"""The classes behind the receivers near the cursor: `self.store.` is a `Store`, `agent.run(` an `Agent` (pure).

Looking up `run` by name finds every `run` of the repository; the receiver's class says which one is
meant and lists the members the next line can use. A receiver is resolved from the text of the current
file, the way a reader would, with regular expressions so half-typed code works:
- `self` / `this`: the enclosing class, whose base classes (usually in other files) hold what it inherits;
- `self.attr` / `this.attr`: the attribute's annotation (`self.attr: T`, a class-level `attr: T`, a
  constructor parameter `private attr: T`) or its assignment (`self.attr = T(...)`, `= new T(...)`);
- a name: its annotation (a parameter `name: T`, `name: T = ...`) or its assignment (`name = T(...)`).
Python and the TypeScript / JavaScript family are read; other languages give nothing.
"""

from __future__ import annotations

import re

from housecoder.context.identifiers import IDENTIFIER, KEYWORDS

LANGUAGES = frozenset(["python", "typescript", "tsx", "javascript"])
_CHAIN = re.compile(r"(?<![\w$.])((?:self|this|[A-Za-z_$][\w$]*)(?:\.[A-Za-z_$][\w$]*)*)\.[A-Za-z_$][\w$]*")
_TYPING = frozenset(
    """
    Optional Union List Dict Set Tuple Type Callable Awaitable Iterable Iterator Sequence Mapping Any
    ClassVar Final Literal Annotated Self Generic Protocol AsyncIterator AsyncIterable Generator
    AsyncGenerator Coroutine TypeVar Promise Array Record Partial Readonly Map ReadonlyArray Required Pick
    Omit NotRequired TypedDict
    """.split()
)
_CLASS = re.compile(
    r"^([ \t]*)(?:export\s+)?(?:default\s+)?(?:abstract\s+)?class\s+([A-Za-z_$][\w$]*)([^\n:{]*)"
)


def type_names(annotation: str) -> list[str]:
    """The class names an annotation or constructor call mentions: `Optional[Store]` -> Store,
    `Map<string, Agent> | null` -> Agent."""
    return [
        name
        for name in IDENTIFIER.findall(annotation)
        if name[:1].isupper() and len(name) > 1 and name not in _TYPING and name not in KEYWORDS
    ]


def _annotation_of(name: str, text: str) -> list[str]:
    """Types `text` gives `name` (a bare name or `self.x` / `this.x`), the nearest definition last."""
    member = name.split(".", 1)[1] if name.startswith(("self.", "this.")) else None
    escaped = re.escape(name)
    patterns = [
        rf"(?<![\w$.]){escaped}\s*[?!]?:\s*([^=\n,;)]+)",  # name: T / self.x: T / x?: T
        rf"(?<![\w$.]){escaped}\s*=\s*(?:await\s+)?(?:new\s+)?([A-Z][\w$.]*)\s*[(<]",  # name = T( / new T(
    ]
    if member is not None:  # class-level fields, constructor parameters (`self.x = x`, `private x: T`)
        patterns.append(rf"(?<![\w$.]){re.escape(member)}\s*[?!]?:\s*([^=\n,;)]+)")
    found: list[tuple[int, str]] = []
    for pattern in patterns:
        for match in re.finditer(pattern, text, re.MULTILINE):
            found += [(match.start(), type_name) for type_name in type_names(match.group(1))]
    if member is not None and not found:  # self.x = value, a parameter of another name
        for match in re.finditer(rf"(?<![\w$.]){escaped}\s*=\s*([a-z_$][\w$]*)\s*[;\n]", text):
            if match.group(1) != member:
                found += [(match.start(), type_name) for type_name in _annotation_of(match.group(1), text)]
    return [type_name for _, type_name in sorted(found)]


def enclosing_class(prefix: str) -> tuple[str, list[str]] | None:
    """(name, base class names) of the class the cursor is in, judged by indentation: walking up, each
    line indented less than everything below it opens an enclosing block."""
    lines = prefix.split("\n")
    cursor = lines[-1]
    limit = len(cursor) - len(cursor.lstrip()) if cursor.strip() or not cursor else len(cursor)
    for line in reversed(lines[:-1]):
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if indent >= limit:
            continue
        match = _CLASS.match(line)
        if match is not None:
            return match.group(2), type_names(match.group(3))
        limit = indent
        if limit == 0:
            break
    return None


def receiver_types(prefix: str, suffix: str, language: str | None, near_lines: int) -> list[str]:
    """Class names of the receivers in the `near_lines` lines before the cursor (and a few after),
    nearest first; the current class's bases for `self` / `this`."""
    if language not in LANGUAGES:
        return []
    before = prefix.split("\n")[-near_lines:]
    after = suffix.split("\n")[: max(1, near_lines // 3)]
    chains: list[str] = []
    for line in [*reversed(before), *after]:
        chains += reversed(_CHAIN.findall(line))
    text = prefix + suffix
    found: list[str] = []
    for chain in dict.fromkeys(chains):
        if chain in ("self", "this"):
            enclosing = enclosing_class(prefix)
            found += enclosing[1] if enclosing else []
            continue
        parts = chain.split(".")
        receiver = ".".join(parts[:2]) if parts[0] in ("self", "this") else parts[0]
        if receiver in KEYWORDS and receiver not in ("self", "this"):
            continue
        found += reversed(_annotation_of(receiver, text))
    return list(dict.fromkeys(found))
