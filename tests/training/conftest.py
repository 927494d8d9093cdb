"""A small repository for the training tests, and settings that train the tiny model on it quickly."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from settings_fixture import section, tiny_models

from housecoder.config import Settings

MODULES = {
    "inventory/stock.py": '''"""Stock levels."""

from inventory.errors import OutOfStock


class Stock:
    def __init__(self, levels):
        self.levels = dict(levels)

    def take(self, sku, count):
        available = self.levels.get(sku, 0)
        if available < count:
            raise OutOfStock(sku, count, available)
        self.levels[sku] = available - count
        return self.levels[sku]

    def restock(self, sku, count):
        current = self.levels.get(sku, 0)
        self.levels[sku] = current + count
        return self.levels[sku]
''',
    "inventory/errors.py": '''"""Errors."""


class InventoryError(Exception):
    pass


class OutOfStock(InventoryError):
    def __init__(self, sku, wanted, available):
        super().__init__(f"{sku}: wanted {wanted}, only {available}")
        self.sku = sku
        self.wanted = wanted
''',
    "inventory/pricing.py": '''"""Prices in cents."""

VAT = {"de": 19, "fr": 20, "nl": 21}


def with_vat(net_cents, country):
    rate = VAT.get(country, 0)
    gross = net_cents * (100 + rate)
    return gross // 100


def discount(cents, percent):
    cut = cents * percent // 100
    return max(cents - cut, 0)
''',
    "inventory/orders.py": '''"""Orders."""

from inventory.pricing import discount, with_vat
from inventory.stock import Stock


def order_total(lines, country):
    total = 0
    for sku, count, cents in lines:
        subtotal = with_vat(cents * count, country)
        total += subtotal
    return total


def place(stock: Stock, lines, country, percent=0):
    for sku, count, _cents in lines:
        stock.take(sku, count)
    gross = order_total(lines, country)
    return discount(gross, percent)
''',
    "inventory/report.py": '''"""Reports."""

from inventory.orders import order_total


def summary(orders, country):
    totals = [order_total(lines, country) for lines in orders]
    count = len(totals)
    average = sum(totals) // max(count, 1)
    return {"count": count, "average": average, "largest": max(totals, default=0)}


def lines_of(order):
    result = []
    for sku, count, cents in order:
        result.append(f"{sku} x{count} at {cents}")
    return "\\n".join(result)
''',
    "inventory/shipping.py": '''"""Shipping."""

from inventory.pricing import with_vat

RATES = {"de": 490, "fr": 650}


def shipping_cost(country, weight_grams):
    base = RATES.get(country, 990)
    extra = max(weight_grams - 1000, 0) // 500 * 120
    return with_vat(base + extra, country)


def free_shipping(total_cents, country):
    limit = 5000 if country == "de" else 7500
    return total_cents >= limit
''',
}


@pytest.fixture(autouse=True)
def fresh_accelerator_state() -> Iterator[None]:
    """accelerate keeps one mixed-precision setting per process (a real job trains once per process);
    tests train many times with different settings, so each starts from a clean state."""
    yield
    from accelerate.state import AcceleratorState

    AcceleratorState._reset_state()


@pytest.fixture
def inventory_repo(tmp_path: Path) -> Path:
    root = tmp_path / "inventory-repo"
    for name, text in MODULES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "inventory" / "__init__.py").write_text("")
    return root


@pytest.fixture
def train_settings(model_cache: Path, tiny_qwen_dir: Path, tmp_path: Path) -> Callable[..., Settings]:
    """Settings with the tiny model on CPU in float32, a temporary index and adapters root, and a quick
    recipe; keyword arguments override `train` keys."""
    return lambda **train: _settings(model_cache, tiny_qwen_dir, tmp_path, train)


def _settings(model_cache: Path, tiny_qwen_dir: Path, tmp_path: Path, train: dict[str, Any]) -> Settings:
    recipe = {
        "max_samples": 12,
        "eval_samples": 6,
        "per_file": 6,
        "steps": 4,
        "grad_accum": 2,
        "eval_every": 2,
        "checkpoint_every": 2,
        "generate_samples": 3,
        "learning_rate": 5e-3,
        "warmup_steps": 0,
        "dropout": 0.0,
        "mixed_precision": "no",
        "held_out_fraction": 0.3,
        "output": str(tmp_path / "adapters"),
    } | train
    return Settings.model_validate(
        {
            "models": tiny_models(tiny_qwen_dir, model_cache),
            "index": {"location": str(tmp_path / "index")},
            "completion": {"max_new_tokens": 6},
            "train": section("train", recipe),
        }
    )
