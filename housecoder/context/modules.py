"""Modules of the repository used near the cursor: `exceptions.FormatParseError(` -> the outline of
`exceptions.py` (pure).

The definitions source looks names up, but a module bound by an import (`from . import exceptions`,
`import pkg.router as router`, `import * as api from "./api"`) is no definition: without this its
members are found only if the search happens to rank them. Here the file's imports say which module a
name near the cursor is, the module is turned into candidate paths (relative imports from the current
file's folder, absolute ones as path endings, so a `src/` layout matches, or below the top-level package
when the repository is that package), and the retriever outlines
the first indexed file that matches: its top-level names and signatures, bodies elided.
Python and the TypeScript / JavaScript family are read; other languages give nothing.
"""

from __future__ import annotations

import posixpath
import re

from housecoder.context.identifiers import IDENTIFIER
from housecoder.context.outline import members

LANGUAGES = frozenset(["python", "typescript", "tsx", "javascript"])
MODULE_OUTLINE_LINES = 16  # about 150 tokens: a module has many members, the budget is 384 for all snippets
# every pattern is linear: no two adjacent parts can match the same character, spans are bounded
_PY_IMPORT = re.compile(r"^[ \t]*import[ \t]+([^\n#]*)", re.MULTILINE)
_PY_FROM = re.compile(
    r"^[ \t]*from[ \t]+([\w.]+)[ \t]+import[ \t]+(?:\(([^)]{0,4000})\)|([^\n#(]+))", re.MULTILINE
)
_JS_NAMESPACE = re.compile(
    r"^[ \t]*import[ \t]+\*[ \t]+as[ \t]+([A-Za-z_$][\w$]*)[ \t]+from[ \t]+['\"]([^'\"\n]+)['\"]",
    re.MULTILINE,
)
_JS_EXTENSIONS = (".ts", ".tsx", ".js", ".jsx", "/index.ts", "/index.tsx", "/index.js")
_PRIVATE = re.compile(r"(?:async[ \t]+)?(?:def[ \t]+|class[ \t]+)?_")  # `_x = `, `def _f`, `__all__`
_CLOSERS = frozenset(")]}")
_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
_IMPORT_LINE = re.compile(r"^[ \t]*(?:import|from|export[ \t]+\*)[ \t]")


def imported_modules(text: str, language: str | None) -> dict[str, str]:
    """Name -> module for the names `text` binds to a module by import: `import a.b as c` -> c: a.b,
    `import a.b` -> a: a, `from . import x` -> x: .x, `from .p import q` -> q: .p.q (q may be a name in
    .p rather than a module: then no file matches), `import * as ns from "./m"` -> ns: ./m."""
    found: dict[str, str] = {}
    if language == "python":
        for match in _PY_IMPORT.finditer(text):
            for part in match.group(1).split(","):
                words = part.split()
                if not words or not _DOTTED.fullmatch(words[0]):
                    continue
                if len(words) == 3 and words[1] == "as" and IDENTIFIER.fullmatch(words[2]):
                    found[words[2]] = words[0]
                elif len(words) == 1:
                    found[words[0].split(".")[0]] = words[0].split(".")[0]
        for match in _PY_FROM.finditer(text):
            module = match.group(1)
            for part in re.split(r"[,\n]", match.group(2) or match.group(3)):
                words = part.split()
                if not words or not IDENTIFIER.fullmatch(words[0]):
                    continue
                name = words[2] if len(words) == 3 and words[1] == "as" else words[0]
                found[name] = module + words[0] if module.endswith(".") else f"{module}.{words[0]}"
    elif language in ("typescript", "tsx", "javascript"):
        for match in _JS_NAMESPACE.finditer(text):
            found[match.group(1)] = match.group(2)
    return found


def module_receivers(prefix: str, suffix: str, language: str | None, near_lines: int) -> list[str]:
    """Modules used as `name.` in the `near_lines` lines before the cursor and a few after, nearest first."""
    if language not in LANGUAGES:
        return []
    modules = imported_modules(prefix + suffix, language)
    if not modules:
        return []
    before = prefix.split("\n")[-near_lines:]
    after = suffix.split("\n")[: max(1, near_lines // 3)]
    lines = [*reversed(before), *after]
    used: list[str] = []
    for line in lines:
        if _IMPORT_LINE.match(line):
            continue
        for match in re.finditer(r"(?<![\w$.])([A-Za-z_$][\w$]*)\.", line):
            module = modules.get(match.group(1))
            if module is not None and module not in used:
                used.append(module)
    return used


def module_files(module: str, current_path: str, language: str | None) -> tuple[str, ...]:
    """Paths `module` may live at, relative to the repository root, in order of preference; a path without
    a leading `/` may also match the end of an indexed path (`agents/x.py` matches `src/agents/x.py`),
    one with it must match from the root."""
    folder = posixpath.dirname(current_path)
    if language == "python":
        dots = len(module) - len(module.lstrip("."))
        rest = module[dots:].replace(".", "/")
        if dots:
            parts = folder.split("/") if folder else []
            if dots - 1 > len(parts):
                return ()  # above the repository root
            stem = "/".join([*parts[: len(parts) - (dots - 1)], *([rest] if rest else [])])
            if not stem:
                return ()
            return ("/" + stem + ".py", "/" + stem + "/__init__.py")
        found = [rest + ".py", rest + "/__init__.py"]
        if "/" in rest:  # the repository may be the top-level package itself
            inner = rest.split("/", 1)[1]
            found += ["/" + inner + ".py", "/" + inner + "/__init__.py"]
        return tuple(found)
    if language in ("typescript", "tsx", "javascript") and module.startswith("."):
        stem = posixpath.normpath(posixpath.join(folder, module))
        if stem.startswith(".."):
            return ()
        stem = stem.removesuffix(".js")  # TypeScript imports name the emitted .js
        return tuple("/" + stem + ending for ending in _JS_EXTENSIONS)
    return ()


def matches(candidate: str, path: str) -> bool:
    """Whether indexed `path` is the file `candidate` (from `module_files`) names."""
    if candidate.startswith("/"):
        return path == candidate[1:]
    return path == candidate or path.endswith("/" + candidate)


def module_outline(text: str, max_lines: int = MODULE_OUTLINE_LINES) -> str:
    """A module's public top level: class and function signatures with bodies elided, constants and
    assignments; imports, `__all__` and private names (`_x`) left out; at most `max_lines` lines, whole
    statements only."""
    statements: list[list[str]] = []
    for line in members(text.split("\n"), 0):
        opens = line[:1] not in " \t" and line.strip()[:1] not in _CLOSERS
        if opens and not (statements and statements[-1][-1].startswith("@")):
            statements.append([line])
        elif statements:
            statements[-1].append(line)
    kept: list[str] = []
    for statement in statements:
        head = next((line for line in statement if not line.startswith("@")), statement[0])
        if _IMPORT_LINE.match(head) or _PRIVATE.match(head):
            continue
        if len(kept) + len(statement) > max_lines:
            break
        kept += statement
    return "\n".join(kept)
