"""Identifiers worth looking up for a cursor: those used near it, and names the file imports (pure).

Words are found with a regular expression, not a parser, so half-typed code
works; keywords and builtins of the supported languages are dropped. Every
pattern runs in time linear in the text (line-anchored patterns never let
whitespace run across lines, spans are bounded), so a hostile buffer cannot
stall the server.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Iterable

IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")

KEYWORDS = frozenset(
    """
    and as assert async await break case catch class const continue def default del delete do elif else
    enum except export extends false final finally fn for from func function go if impl import in
    instanceof interface is lambda let loop match mod mut new nil none not null or package pass private
    protected pub public raise return self static struct super switch this throw throws true try type
    typeof use using var void while with yield None True False int str float bool bytes dict list set
    tuple object print len range isinstance string number boolean any unknown undefined string_view auto
    char double long short unsigned signed size_t usize isize u8 u16 u32 u64 i8 i16 i32 i64 f32 f64 err
    error ok Some Ok Err Self byte rune uint int32 int64 float32 float64 interface map chan defer select
    fallthrough goto struct where crate
    """.split()
) | frozenset(
    name
    for name in dir(builtins)
    if not name.startswith("_")  # open, sorted, zip, ValueError, ...: never a repository's definition
)

_PYTHON_FROM = re.compile(
    r"^[ \t]*from[ \t]+[\w.]+[ \t]+import[ \t]+\(?([^)#\n]+(?:\n[^)#]{0,4000})?)\)?", re.MULTILINE
)
_JS_IMPORT = re.compile(r"^[ \t]*import\s+(?:type\s+)?([^'\";]{1,4000}?)\s+from\s+['\"]", re.MULTILINE)
_JS_REQUIRE = re.compile(r"(?:const|let|var)\s+\{([^}]{1,4000})\}\s*=\s*require\(")
_JAVA_IMPORT = re.compile(r"^[ \t]*import[ \t]+(?:static[ \t]+)?[\w.]+\.(\w+)[ \t]*;", re.MULTILINE)
_RUST_USE = re.compile(r"^[ \t]*(?:pub[ \t]+)?use[ \t]+([^;]{1,4000});", re.MULTILINE)


def _names(clause: str) -> list[str]:
    """`a, b as c, {d, e}` -> the imported original names a, b, d, e."""
    names: list[str] = []
    for part in re.split(r"[,{}\n]", clause):
        words = part.strip().split()
        if words and IDENTIFIER.fullmatch(words[0]) and words[0] != "*":
            names.append(words[0])
    return names


def imported_names(text: str, language: str | None) -> list[str]:
    """Names the file imports from other modules, in file order (modules themselves excluded)."""
    found: list[str] = []
    if language == "python":
        for match in _PYTHON_FROM.finditer(text):
            found += _names(match.group(1))
    elif language in ("javascript", "typescript", "tsx"):
        for match in _JS_IMPORT.finditer(text):
            found += _names(match.group(1).replace("* as", ""))
        for match in _JS_REQUIRE.finditer(text):
            found += [name.split(":")[0].strip() for name in match.group(1).split(",") if name.strip()]
    elif language in ("java", "c_sharp"):
        found += [match.group(1) for match in _JAVA_IMPORT.finditer(text)]
    elif language == "rust":
        for match in _RUST_USE.finditer(text):
            clause = match.group(1)
            inner = clause[clause.index("{") + 1 :] if "{" in clause else clause.rsplit("::", 1)[-1]
            found += _names(inner)
    return _unique(name for name in found if name not in KEYWORDS and name not in ("self", "super", "crate"))


def _unique(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(names))


def identifiers_near(prefix: str, suffix: str, near_lines: int) -> list[str]:
    """Identifiers in the `near_lines` lines before the cursor and a few after, nearest first."""
    before = prefix.split("\n")[-near_lines:]
    after = suffix.split("\n")[: max(1, near_lines // 3)]
    ordered: list[str] = []
    for line in reversed(before):
        ordered += reversed(IDENTIFIER.findall(line))
    for line in after:
        ordered += IDENTIFIER.findall(line)
    return _unique(word for word in ordered if len(word) > 1 and word not in KEYWORDS)


_SIGNATURE = re.compile(
    r"^[ \t]*(?:async[ \t]+)?(?:def|function|fn|func)[ \t]+[\w$]*[ \t]*\((.*?)(?:\)|$)", re.MULTILINE
)
_ASSIGNED = re.compile(
    r"^[ \t]*(?:(?:let|const|var|mut|auto)[ \t]+)*([A-Za-z_$][\w$]*)[ \t]*(?::[^=\n]*)?(?<![=!<>])=(?!=)",
    re.MULTILINE,
)
_BOUND = re.compile(r"\b(?:for|as)\s+([A-Za-z_$][\w$]*)")


def local_names(prefix: str) -> set[str]:
    """Names the current file binds itself (parameters, assignment targets, loop and `as` variables).

    Looking these up in other files finds namesakes, not the thing meant. A
    parameter list is read as `name: Type` or a bare name; `Type name` (Java, C)
    is ambiguous and left alone.
    """
    names = set(_ASSIGNED.findall(prefix)) | set(_BOUND.findall(prefix))
    for match in _SIGNATURE.finditer(prefix):
        for piece in match.group(1).split(","):
            head = piece.split(":", 1)[0].split("=", 1)[0].strip().lstrip("*&").removeprefix("mut ")
            if IDENTIFIER.fullmatch(head):
                names.add(head)
    return names


def lookup_names(prefix: str, suffix: str, language: str | None, near_lines: int, limit: int) -> list[str]:
    """What the definitions source looks up: identifiers near the cursor that the file does not bind
    itself, then imported names."""
    imported = imported_names(prefix + suffix, language)
    local = local_names(prefix) - set(imported)
    near = [name for name in identifiers_near(prefix, suffix, near_lines) if name not in local]
    return _unique([*near, *imported])[:limit]


def identifier_set(text: str) -> frozenset[str]:
    """The identifiers of `text` as a set, for Jaccard similarity."""
    return frozenset(word for word in IDENTIFIER.findall(text) if word not in KEYWORDS)
