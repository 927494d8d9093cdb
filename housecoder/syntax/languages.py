"""Languages housecoder parses with tree-sitter, and how their syntax maps to chunks.

Grammars come from the official per-language wheels (`tree-sitter-python`, ...),
which work offline. Each language names the node types that are definitions
(chunk boundaries), which of those are containers (split by member when large),
and how to find a definition's name. Tags queries live beside this module as
`queries/<language>-tags.scm`. A language whose wheel is missing falls back to
line windows.
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

QUERIES = Path(__file__).parent / "queries"


@dataclass(frozen=True)
class LanguageSpec:
    """How one language is parsed and chunked."""

    name: str
    module: str  # the wheel's import name
    factory: str = "language"  # function in the module returning the grammar pointer
    definitions: frozenset[str] = field(default_factory=frozenset)
    containers: frozenset[str] = field(default_factory=frozenset)  # definitions split by member when large
    # nodes wrapping one definition (decorators, export)
    wrappers: frozenset[str] = field(default_factory=frozenset)


def _spec(
    name: str,
    module: str,
    definitions: str,
    containers: str = "",
    wrappers: str = "",
    factory: str = "language",
) -> LanguageSpec:
    return LanguageSpec(
        name=name,
        module=module,
        factory=factory,
        definitions=frozenset(definitions.split()),
        containers=frozenset(containers.split()),
        wrappers=frozenset(wrappers.split()),
    )


_JS_DEFS = (
    "function_declaration generator_function_declaration class_declaration method_definition "
    "lexical_declaration variable_declaration"
)
_TS_DEFS = (
    _JS_DEFS
    + " abstract_class_declaration interface_declaration type_alias_declaration enum_declaration internal_module module"
)
_TS_CONTAINERS = "class_declaration abstract_class_declaration interface_declaration internal_module module"

LANGUAGES: dict[str, LanguageSpec] = {
    spec.name: spec
    for spec in (
        _spec(
            "python",
            "tree_sitter_python",
            "function_definition class_definition",
            "class_definition",
            "decorated_definition",
        ),
        _spec("javascript", "tree_sitter_javascript", _JS_DEFS, "class_declaration", "export_statement"),
        _spec(
            "typescript",
            "tree_sitter_typescript",
            _TS_DEFS,
            _TS_CONTAINERS,
            "export_statement",
            "language_typescript",
        ),
        _spec("tsx", "tree_sitter_typescript", _TS_DEFS, _TS_CONTAINERS, "export_statement", "language_tsx"),
        _spec("go", "tree_sitter_go", "function_declaration method_declaration type_declaration"),
        _spec(
            "rust",
            "tree_sitter_rust",
            "function_item struct_item enum_item trait_item impl_item mod_item macro_definition union_item",
            "impl_item trait_item mod_item",
        ),
        _spec(
            "java",
            "tree_sitter_java",
            "class_declaration interface_declaration enum_declaration record_declaration method_declaration "
            "constructor_declaration annotation_type_declaration",
            "class_declaration interface_declaration enum_declaration record_declaration",
        ),
        _spec(
            "c",
            "tree_sitter_c",
            "function_definition struct_specifier union_specifier enum_specifier type_definition",
        ),
        _spec(
            "cpp",
            "tree_sitter_cpp",
            "function_definition class_specifier struct_specifier union_specifier enum_specifier namespace_definition",
            "class_specifier struct_specifier namespace_definition",
            "template_declaration",
        ),
        _spec(
            "c_sharp",
            "tree_sitter_c_sharp",
            "class_declaration struct_declaration interface_declaration enum_declaration record_declaration "
            "method_declaration constructor_declaration property_declaration namespace_declaration",
            "class_declaration struct_declaration interface_declaration record_declaration namespace_declaration",
        ),
        _spec("ruby", "tree_sitter_ruby", "method singleton_method class module", "class module"),
        _spec(
            "php",
            "tree_sitter_php",
            "function_definition class_declaration interface_declaration trait_declaration enum_declaration method_declaration",
            "class_declaration interface_declaration trait_declaration enum_declaration",
            factory="language_php",
        ),
    )
}

QUERY_FILES = {"tsx": "typescript"}  # languages that share another's tags query

EXTENSIONS: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".jsx": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".hpp": "cpp",
    ".hh": "cpp",
    ".hxx": "cpp",
    ".cs": "c_sharp",
    ".rb": "ruby",
    ".php": "php",
}


def language_for(path: str) -> str | None:
    """The tree-sitter language of a file, by extension; None means line windows."""
    return EXTENSIONS.get(Path(path).suffix.lower())


@functools.cache
def grammar(name: str) -> Any | None:
    """The tree-sitter Language for `name`, or None when its wheel is not installed."""
    try:
        import tree_sitter
    except ImportError as err:
        from housecoder.errors import MissingDependency

        raise MissingDependency("tree-sitter", "index") from err

    spec = LANGUAGES[name]
    try:
        module = importlib.import_module(spec.module)
    except ImportError:
        return None
    return tree_sitter.Language(getattr(module, spec.factory)())


@functools.cache
def tags_query(name: str) -> Any | None:
    """The compiled tags query of `name` from `queries/<name>-tags.scm`, or None."""
    import tree_sitter

    language = grammar(name)
    path = QUERIES / f"{QUERY_FILES.get(name, name)}-tags.scm"
    if language is None or not path.is_file():
        return None
    return tree_sitter.Query(language, path.read_text())
