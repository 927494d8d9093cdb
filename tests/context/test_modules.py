"""Repository modules used near the cursor: imports read, paths resolved, top levels outlined."""

from __future__ import annotations

import pytest

from housecoder.context.modules import (
    imported_modules,
    matches,
    module_files,
    module_outline,
    module_receivers,
)

PY_IMPORTS = """import os
import a.b as c, d.e
from . import exceptions, router as r
from .core import (
    data,
    types as t,
)
from pkg.sub import mod  # a module or a name: the files decide
"""


def test_python_imports_bind_names_to_modules() -> None:
    assert imported_modules(PY_IMPORTS, "python") == {
        "os": "os",
        "c": "a.b",
        "d": "d",
        "exceptions": ".exceptions",
        "r": ".router",
        "data": ".core.data",
        "t": ".core.types",
        "mod": "pkg.sub.mod",
    }


def test_typescript_namespace_imports_bind_names_to_modules() -> None:
    text = (
        'import * as api from "./api.js";\nimport { Agent } from "./agent";\nimport * as fs from "node:fs";\n'
    )
    assert imported_modules(text, "typescript") == {"api": "./api.js", "fs": "node:fs"}
    assert imported_modules(text, "go") == {}


def test_receivers_are_modules_used_near_the_cursor_nearest_first() -> None:
    settled = "".join(f"    v{i} = {i}\n" for i in range(6))
    prefix = f"from . import exceptions, router\nimport helpers\n\ndef f(x):\n    y = router.resolve(x)\n{settled}    "
    suffix = "\n    raise exceptions.Bad(y)\n"
    assert module_receivers(prefix, suffix, "python", 12) == [".router", ".exceptions"]
    assert module_receivers(prefix, suffix, "python", 6) == [".exceptions"]  # router's line is out of reach
    assert module_receivers("import helpers\nx = helpers\n", "", "python", 12) == []  # not used as `helpers.`
    assert module_receivers(prefix, suffix, "rust", 12) == []


def test_a_module_named_only_in_its_import_line_is_not_a_receiver() -> None:
    assert module_receivers("import os.path\nfrom . import util\n", "", "python", 12) == []


def test_python_modules_resolve_to_paths() -> None:
    assert module_files(".exceptions", "pkg/core/x.py", "python") == (
        "/pkg/core/exceptions.py",
        "/pkg/core/exceptions/__init__.py",
    )
    assert module_files("..util", "pkg/core/x.py", "python") == ("/pkg/util.py", "/pkg/util/__init__.py")
    assert module_files("...deep", "pkg/x.py", "python") == ()  # above the repository root
    assert module_files("pkg.router", "elsewhere/x.py", "python") == (
        "pkg/router.py",
        "pkg/router/__init__.py",
        "/router.py",  # the repository is the package `pkg` itself
        "/router/__init__.py",
    )
    assert module_files("router", "x.py", "python") == ("router.py", "router/__init__.py")


def test_typescript_modules_resolve_to_paths() -> None:
    assert module_files("./api.js", "src/x/y.ts", "typescript")[:2] == ("/src/x/api.ts", "/src/x/api.tsx")
    assert "/src/lib/index.ts" in module_files("../lib", "src/x/y.ts", "typescript")
    assert module_files("node:fs", "src/y.ts", "typescript") == ()  # a package, not a repository file


@pytest.mark.parametrize(
    ("candidate", "path", "expected"),
    [
        ("pkg/router.py", "pkg/router.py", True),
        ("pkg/router.py", "src/pkg/router.py", True),  # a src/ layout
        ("pkg/router.py", "src/mypkg/router.py", False),
        ("/pkg/router.py", "src/pkg/router.py", False),  # relative imports resolve from the root
        ("/pkg/router.py", "pkg/router.py", True),
    ],
)
def test_candidates_match_paths(candidate: str, path: str, expected: bool) -> None:
    assert matches(candidate, path) is expected


MODULE = '''"""Errors."""
import os
from typing import Any

__all__ = [
    "resolve",
]
LIMIT = 10
_CACHE: dict[str, Any] = {}


def _helper() -> None:
    pass


class FormatParseError(ValueError):
    """Raised when the output cannot be parsed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


def resolve(model_id: str,
            strict: bool = False) -> type:
    """Find the provider."""
    return os.environ[model_id]


@cache
def names() -> list[str]:
    return []
'''


def test_a_module_outline_keeps_its_public_top_level_names_and_signatures() -> None:
    assert module_outline(MODULE).split("\n") == [
        "LIMIT = 10",
        "class FormatParseError(ValueError): ...",
        "def resolve(model_id: str,",
        "            strict: bool = False) -> type: ...",
        "@cache",
        "def names() -> list[str]: ...",
    ]
    assert module_outline(MODULE, max_lines=2).split("\n") == [
        "LIMIT = 10",
        "class FormatParseError(ValueError): ...",
    ]
    assert module_outline("import os\n") == ""


HOSTILE = {
    "spaces after import": "import " + " " * 200_000 + "(",
    "dots after from": "from " + "." * 200_000 + " (",
    "an unclosed import": "from a import (" + "b, " * 70_000,
    "a long word": "import a\nx = " + "a" * 200_000 + ".b",
    "a long chain": "import a\n" + "a." * 100_000,
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_text_takes_linear_time(name: str) -> None:
    # linear takes well under a second on these; a quadratic pattern takes minutes. The bound only tells them apart.
    import time

    text = HOSTILE[name]
    started = time.perf_counter()
    module_receivers(text, text, "python", 12)
    imported_modules(text, "python")
    module_outline(text)
    assert time.perf_counter() - started < 30
