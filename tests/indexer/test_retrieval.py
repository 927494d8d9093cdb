"""The index as a context source: definitions by name and hybrid search, never the current file."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from housecoder.config import Settings
from housecoder.indexer.indexer import Indexer
from housecoder.indexer.retrieval import IndexRetriever
from housecoder.indexer.service import open_for_indexing, open_for_search

SHOP = Path(__file__).resolve().parents[1] / "fixtures" / "shop"


def _retriever(tmp_path: Path, minilm: Any) -> IndexRetriever:
    root = tmp_path / "shop"
    shutil.copytree(SHOP, root)
    (root / "shop" / "legacy.py").write_text("def price_with_vat(amount):\n    return amount\n")
    for i in range(4):  # a name defined everywhere says nothing about which one is meant
        (root / f"m{i}.py").write_text("def run():\n    pass\n")
    settings = Settings()
    store = open_for_indexing(root, settings, str(tmp_path / "index"), minilm.dimension, full=True)
    Indexer(root, settings.index, store, minilm).run()
    return IndexRetriever(open_for_search(str(tmp_path / "index")), minilm)


def test_definitions_come_from_other_files_in_name_order(tmp_path: Path, minilm: Any) -> None:
    retriever = _retriever(tmp_path, minilm)
    found = retriever.definitions(
        ["Order", "price_with_vat", "run", "missing"], "shop/legacy.py", max_lines=40
    )
    assert [(s.path, s.reason) for s in found] == [
        ("shop/orders.py", "definition of Order (class)"),
        ("shop/pricing.py", "definition of price_with_vat (function)"),
    ]
    order, price = found
    assert order.text.startswith("class Order:") and "country_code: str" in order.text
    assert price.text.splitlines()[0] == "def price_with_vat(net_cents: int, country_code: str) -> int:"
    assert (price.start_line, price.end_line) == (6, 9)


def test_definitions_are_clipped_to_max_lines(tmp_path: Path, minilm: Any) -> None:
    [price] = _retriever(tmp_path, minilm).definitions(["price_with_vat"], "shop/legacy.py", max_lines=2)
    assert price.text.count("\n") == 1 and price.end_line == price.start_line + 1


def test_search_excludes_the_current_file(tmp_path: Path, minilm: Any) -> None:
    retriever = _retriever(tmp_path, minilm)
    query = "gross price in cents with VAT for a country code"
    assert retriever.search(query, "shop/checkout.py", 3, 40)[0].path == "shop/pricing.py"
    hits = retriever.search(query, "shop/pricing.py", 10, 40)
    assert hits and all(hit.path != "shop/pricing.py" for hit in hits)
    assert all(hit.source == "retrieval" and hit.reason.startswith("hybrid search #") for hit in hits)


def test_a_long_class_split_over_chunks_comes_back_whole_as_its_outline(tmp_path: Path, minilm: Any) -> None:
    root = tmp_path / "shop"
    methods = "".join(
        f"\n    def method_{i}(self, x: int) -> int:\n        y = x * {i}\n        return y + {i}\n"
        for i in range(30)
    )
    big = f'class Catalog:\n    """Every product."""\n\n    currency = "EUR"\n{methods}'
    _retriever(tmp_path, minilm)  # indexes the shop
    (root / "shop" / "catalog.py").write_text(big)
    settings = Settings()
    Indexer(
        root,
        settings.index,
        open_for_indexing(root, settings, str(tmp_path / "index"), minilm.dimension, full=False),
        minilm,
    ).run()
    retriever = IndexRetriever(open_for_search(str(tmp_path / "index")), minilm)
    assert len(retriever.store.chunks_in(["shop/catalog.py"])) > 1  # split by member
    [catalog] = retriever.definitions(["Catalog"], "shop/checkout.py", max_lines=40)
    assert catalog.reason == "definition of Catalog (outline)" and (catalog.start_line, catalog.end_line) == (
        1,
        big.count("\n"),
    )
    lines = catalog.text.splitlines()
    assert lines[:4] == [
        "class Catalog:",
        '    """Every product."""',
        '    currency = "EUR"',
        "    def method_0(self, x: int) -> int: ...",
    ]
    assert (
        len(lines) == 33
        and lines[-1] == "    def method_29(self, x: int) -> int: ..."
        and "return" not in catalog.text
    )


def test_similar_windows_come_from_the_indexed_files_at_their_own_lines(tmp_path: Path, minilm: Any) -> None:
    retriever = _retriever(tmp_path, minilm)
    pricing = (SHOP / "shop" / "pricing.py").read_text().split("\n")
    query = "\n".join(pricing[:8])
    found = retriever.similar(query, "shop/checkout.py", 2, 40)
    assert found[0].path == "shop/pricing.py" and found[0].start_line == 1
    assert found[0].text == "\n".join(pricing[:20]).rstrip("\n") or found[0].text.startswith(
        "\n".join(pricing[:8])
    )
    assert all(s.path != "shop/pricing.py" for s in retriever.similar(query, "shop/pricing.py", 4, 40))
    moved = retriever.similar(query, "shop/checkout.py", 2, 40, follow=5)[0]
    assert moved.path == "shop/pricing.py" and moved.score == found[0].score and moved.look_alike
    assert (moved.text, moved.start_line) == (found[0].text, 1)  # a file shorter than a window stays put
    assert retriever.windows() is retriever.windows()  # built once per retriever
