"""The robustness suite: the real server under malformed, out-of-order, concurrent and hostile input. It
shares the e2e suite's fixtures: the shop repository and the tiny model's initializationOptions."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "e2e"))
from lsp import options, shop  # noqa: F401 (fixtures)
