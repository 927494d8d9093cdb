"""Chunks and symbols per language, from the real tree-sitter grammars and the tags queries."""

from __future__ import annotations

from pathlib import Path

import pytest

from housecoder.indexer.chunker import ChunkLimits
from housecoder.indexer.parsing import parse_file
from housecoder.syntax.languages import LANGUAGES, grammar, language_for

POLYGLOT = Path(__file__).resolve().parents[1] / "fixtures" / "polyglot"

EXPECTED = [
    (
        "app/config.py",
        "python",
        {"ConfigLoader", "load_config", "load", "__init__", "DEFAULT_TIMEOUT"},
        {"load_config", "json"},
    ),
    ("web/cart.js", "javascript", {"addToCart", "ShoppingCart", "total", "emptyCart"}, {"push", "reduce"}),
    ("web/user.ts", "typescript", {"User", "UserId", "formatUser", "UserService", "findById"}, {"find"}),
    ("web/Button.tsx", "tsx", {"Button"}, set()),
    ("svc/server.go", "go", {"Server", "StartServer", "Handle"}, {"ListenAndServe", "Write"}),
    ("core/src/lib.rs", "rust", {"Header", "Codec", "new", "parse_header", "encode"}, {"split_once", "new"}),
    ("java/Invoice.java", "java", {"Invoice", "computeTotal"}, set()),
    ("native/hash.c", "c", {"djb2_hash", "bucket"}, set()),
    ("native/matrix.cpp", "cpp", {"Matrix", "linalg", "transpose"}, set()),
    ("dotnet/Ledger.cs", "c_sharp", {"Accounting", "Ledger", "Balance", "PostEntry"}, set()),
    ("ruby/invoice_mailer.rb", "ruby", {"Billing", "InvoiceMailer", "deliver_invoice"}, {"send_mail"}),
    ("php/Router.php", "php", {"Router", "dispatch", "route_url"}, {"route_url"}),
]


@pytest.mark.parametrize(
    ("path", "language", "definitions", "references"), EXPECTED, ids=[e[1] for e in EXPECTED]
)
def test_each_language_yields_its_known_symbols(
    path: str, language: str, definitions: set[str], references: set[str]
) -> None:
    assert language_for(path) == language and grammar(language) is not None
    parsed = parse_file(path, (POLYGLOT / path).read_bytes(), ChunkLimits())
    assert parsed.language == language and not parsed.fell_back
    found = {s.name for s in parsed.symbols if s.role == "definition"}
    assert definitions <= found, definitions - found
    refs = {s.name for s in parsed.symbols if s.role == "reference"}
    assert references <= refs, references - refs
    assert parsed.chunks and all(chunk.text.strip() for chunk in parsed.chunks)


def test_every_supported_language_is_covered_by_a_fixture() -> None:
    assert {language for _, language, _, _ in EXPECTED} == set(LANGUAGES)


def test_definition_spans_and_scopes() -> None:
    parsed = parse_file("app/config.py", (POLYGLOT / "app/config.py").read_bytes(), ChunkLimits())
    by_name = {s.name: s for s in parsed.symbols if s.role == "definition"}
    assert (by_name["load_config"].start_line, by_name["load_config"].end_line) == (22, 25)
    assert by_name["load"].scope == "ConfigLoader"
    assert by_name["ConfigLoader"].kind == "class"


PY_LONG = "\n".join(
    [
        "import os",
        "",
        "class Big:",
        '    """A class too long for one chunk."""',
        "",
        *[
            line
            for i in range(12)
            for line in (f"    def method_{i}(self):", *[f"        x{j} = {j}" for j in range(6)], "")
        ],
        "def tiny_a():",
        "    return 1",
        "",
        "def tiny_b():",
        "    return 2",
        "",
        "def long_function():",
        *[f"    y{j} = {j}" for j in range(120)],
        "",
    ]
).encode()


def test_python_chunks_follow_syntax() -> None:
    chunks = parse_file(
        "big.py", PY_LONG, ChunkLimits(target_lines=30, max_lines=80, split_lines=40, split_overlap=10)
    ).chunks
    symbols = [c.symbol for c in chunks]
    # the oversized class is split by member; its header opens the first member chunk
    big = [c for c in chunks if c.symbol.startswith("Big")]
    assert len(big) > 1 and big[0].text.startswith("class Big:")
    # small neighbours are merged into one block
    assert any("def tiny_a" in c.text and "def tiny_b" in c.text for c in chunks)
    # an oversized function becomes overlapping windows that keep its symbol
    windows = [c for c in chunks if c.symbol == "long_function"]
    assert len(windows) >= 3 and windows[1].start_line < windows[0].end_line
    assert "long_function" in symbols
    # every chunk covers whole lines and its recorded bytes
    for chunk in chunks:
        assert PY_LONG[chunk.start_byte : chunk.end_byte].decode() == chunk.text
        assert chunk.text.count("\n") == chunk.end_line - chunk.start_line + (
            0 if chunk.end_byte == len(PY_LONG) and not chunk.text.endswith("\n") else 1
        )


def test_unknown_text_and_unparseable_code_become_windows() -> None:
    text = "\n".join(f"line {i}" for i in range(100)).encode()
    parsed = parse_file("notes.txt", text, ChunkLimits())
    assert parsed.language == "text" and all(c.kind == "window" for c in parsed.chunks) and not parsed.symbols
    garbage = b"def ok():\n    return 1\n" + b"))))((((\n" * 40
    broken = parse_file("broken.py", garbage, ChunkLimits())
    assert broken.fell_back and all(c.kind == "window" for c in broken.chunks)


def test_chunk_hash_changes_with_content() -> None:
    first = parse_file("a.py", b"def f():\n    return 1\n", ChunkLimits()).chunks[0]
    second = parse_file("a.py", b"def f():\n    return 2\n", ChunkLimits()).chunks[0]
    assert first.hash != second.hash and len(first.hash) == 40


def test_a_large_first_member_does_not_drag_the_class_header_into_a_later_chunk() -> None:
    body = "\n".join(f"        x{j} = {j}" for j in range(100))
    source = f"class A:\n    def big(self):\n{body}\n\n    def small(self):\n        return 1\n".encode()
    chunks = parse_file("a.py", source, ChunkLimits()).chunks
    small = next(c for c in chunks if c.symbol == "A.small")
    assert small.start_line > 100 and small.end_line - small.start_line < 5
    assert chunks[0].start_line == 1 and chunks[0].text.startswith("class A:")
