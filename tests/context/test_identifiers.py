"""Identifiers near the cursor and imported names, per language."""

from __future__ import annotations

import pytest

from housecoder.context.identifiers import identifiers_near, imported_names, lookup_names

IMPORTS = [
    ("python", "from app.config import load_config, Settings as S\nimport os\n", ["load_config", "Settings"]),
    ("python", "from .util import (\n    parse_args,\n    run_main,\n)\n", ["parse_args", "run_main"]),
    ("python", "from x import *\n", []),
    (
        "javascript",
        "import { readConfig, writeConfig as w } from './config';\n",
        ["readConfig", "writeConfig"],
    ),
    ("javascript", "import Default from 'lib';\nconst { a, b: c } = require('m');\n", ["Default", "a", "b"]),
    ("typescript", "import type { Shape } from './shapes';\n", ["Shape"]),
    (
        "java",
        "import com.acme.billing.InvoiceService;\nimport static org.junit.Assert.assertEquals;\n",
        ["InvoiceService", "assertEquals"],
    ),
    ("rust", "use crate::geometry::{Point, scale};\nuse std::io::Read;\n", ["Point", "scale", "Read"]),
    ("go", 'import "fmt"\n', []),
]


@pytest.mark.parametrize(("language", "text", "expected"), IMPORTS)
def test_imported_names(language: str, text: str, expected: list[str]) -> None:
    assert imported_names(text, language) == expected


def test_identifiers_near_are_nearest_first_without_keywords() -> None:
    prefix = (
        "import os\ndef far_away():\n    pass\n\ndef handler(request):\n    user = request.user\n    return "
    )
    found = identifiers_near(prefix, "\n", near_lines=3)
    assert found[:3] == ["user", "request", "handler"]
    assert "far_away" not in found and "return" not in found and "def" not in found


def test_lookup_names_puts_near_identifiers_before_imports_and_limits() -> None:
    prefix = "from lib import helper_one, helper_two\n\nvalue = compute("
    assert lookup_names(prefix, ")\n", "python", near_lines=1, limit=3) == ["compute", "value", "helper_one"]


def test_names_the_file_binds_itself_are_not_looked_up() -> None:
    prefix = (
        "from shop.orders import Order\n\n"
        "def gross_total(order: Order, *, rate=2) -> int:\n"
        "    total = order.net_cents\n"
        "    for item in order.items:\n"
        "        with open(item) as handle:\n"
        "            value = price_with_vat("
    )
    names = lookup_names(prefix, ")\n", "python", near_lines=10, limit=20)
    assert names[0] == "price_with_vat"
    assert {"order", "rate", "total", "item", "handle", "value"}.isdisjoint(names)
    assert {"Order", "net_cents", "items", "gross_total"} <= set(names)


def test_local_names_across_languages() -> None:
    from housecoder.context.identifiers import local_names

    assert local_names("function f(a, b = 2) {\n  const c = a;\n  let d: number = 1;\n") >= {
        "a",
        "b",
        "c",
        "d",
    }
    assert local_names("fn f(mut x: u32, y: &str) {\n    let mut z = 1;\n") >= {"x", "y", "z"}
    assert "total" not in local_names("if total == 3:\n")


def test_builtins_are_never_looked_up() -> None:
    from housecoder.context.identifiers import lookup_names

    names = lookup_names(
        "def load(path):\n    with open(path) as f:\n        data = sorted(f)\n    ", "", "python", 12, 24
    )
    assert "open" not in names and "sorted" not in names and "data" not in names
