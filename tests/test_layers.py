"""The layering, checked on every import statement of the package (lazy and type-only imports included).

From the bottom: the base (settings, errors, paths, secrets rules), `housecoder.syntax` (tree-sitter
parsing, languages, span rules) and the core (prompt, context, post-processing, inference, models, the
completion engine) import none of the parts above them; the indexer builds on the core; `housecoder.evaluation` scores completions on tasks; training
uses evaluation but never the benchmarks; the server and the benchmarks are wired by the CLI.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {
    "housecoder": "housecoder",
    "server": "housecoder.server",
    "indexer": "housecoder.indexer",
    "training": "housecoder.training",
}
PARTS = ("syntax", "feedback", "indexer", "evaluation", "training", "benchmarks", "server", "cli")
BASE = (
    "config",
    "errors",
    "locations",
    "secrets",
    "numeric",
    "machine",
    "trust",
    "activity",
)  # settings, errors, paths, numbers, cores, trusted roots, typing activity
CORE = ("prompt", "context", "postprocess", "inference", "models", "keep", "completion")
# part -> the parts it must not import (the base's and the core's modules are one part each)
FORBIDDEN = {
    "base": {
        "syntax",
        "feedback",
        "core",
        "indexer",
        "evaluation",
        "training",
        "benchmarks",
        "server",
        "cli",
    },
    "syntax": {"core", "feedback", "indexer", "evaluation", "training", "benchmarks", "server", "cli"},
    "feedback": {"syntax", "core", "indexer", "evaluation", "training", "benchmarks", "server", "cli"},
    "core": {"feedback", "indexer", "evaluation", "training", "benchmarks", "server", "cli"},
    "indexer": {"evaluation", "training", "benchmarks", "server", "cli"},
    "evaluation": {"training", "benchmarks", "server", "cli"},
    "training": {"benchmarks", "server", "cli"},
    "benchmarks": {"training", "server", "cli"},
    "server": {"evaluation", "training", "benchmarks", "cli"},
}


def part_of(module: str) -> str | None:
    """The layer a `housecoder.*` module belongs to; None for the package root and `__main__`."""
    name = module.split(".")[1] if module.count(".") else ""
    if name in PARTS:
        return name
    if name in BASE:
        return "base"
    return "core" if name in CORE else None


def module_name(path: Path) -> str:
    relative = path.relative_to(ROOT)
    parts = [FOLDERS[relative.parts[0]], *relative.parts[1:-1]]
    if path.stem != "__init__":
        parts.append(path.stem)
    return ".".join(parts)


def imported(source: str, module: str) -> Iterator[tuple[int, str]]:
    """(line, absolute module) of every import in `source`, relative ones resolved against `module`."""
    package = module.split(".")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level] + ([base] if base else []))
            if base == "housecoder":  # `from housecoder import training` names a part
                for alias in node.names:
                    yield node.lineno, f"housecoder.{alias.name}"
            else:
                yield node.lineno, base


def violations(source: str, module: str) -> list[str]:
    """`module:line imports target` for every import that crosses the layering the wrong way."""
    own = part_of(module)
    found = []
    for line, target in imported(source, module):
        if own is None or not target.startswith("housecoder."):
            continue
        other = part_of(target)
        if other is not None and other in FORBIDDEN.get(own, set()):
            found.append(f"{module}:{line} imports {target} ({own} must not import {other})")
    return found


def package_files() -> list[Path]:
    return sorted(path for folder in FOLDERS for path in (ROOT / folder).rglob("*.py"))


def test_every_module_keeps_to_its_layer() -> None:
    files = package_files()
    assert len(files) > 100  # the walk found the package
    found = [
        problem
        for path in files
        for problem in violations(path.read_text(encoding="utf-8"), module_name(path))
    ]
    assert found == []


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("housecoder.completion.engine", "from housecoder.indexer.parsing import parse_file"),
        ("housecoder.context.gather", "def f():\n    import housecoder.indexer.retrieval\n"),
        ("housecoder.training.spans", "from housecoder.benchmarks.repotasks import line_candidates"),
        ("housecoder.training.job", "from housecoder import benchmarks"),
        ("housecoder.training.evaluate", "from ..benchmarks import replay"),
        ("housecoder.syntax.parsing", "from housecoder.models.store import store_for"),
        (
            "housecoder.evaluation.runner",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from housecoder.training.job import TrainJob\n",
        ),
    ],
)
def test_a_crossing_import_is_found(module: str, source: str) -> None:
    assert len(violations(source, module)) == 1


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("housecoder.training.evaluate", "from housecoder.evaluation.runner import Runner"),
        ("housecoder.indexer.chunker", "from housecoder.syntax.parsing import node_name"),
        ("housecoder.cli.bench", "from housecoder.benchmarks.replay import replay"),
        ("housecoder.completion.engine", "from housecoder.syntax.parsing import parse_tree\nimport json"),
    ],
)
def test_an_allowed_import_passes(module: str, source: str) -> None:
    assert violations(source, module) == []


def test_modules_map_to_their_namespace() -> None:
    assert module_name(ROOT / "training" / "spans.py") == "housecoder.training.spans"
    assert module_name(ROOT / "housecoder" / "syntax" / "__init__.py") == "housecoder.syntax"
    assert (
        part_of("housecoder.completion.trigger") == "core"
        and part_of("housecoder.indexer.store") == "indexer"
    )
    assert part_of("housecoder.config") == "base" and part_of("housecoder.__main__") is None
