"""The real default model behind the real server: the right answer needs a definition from another file.

In `shop/checkout.py` the cursor is at `return ` inside `gross_total(order)`.
Without repository context the model guesses (`price_with_vat(order) * 100`);
with the definitions of `Order` and `price_with_vat` in the prompt it writes
the call with the right fields. Uses the default model store (`make test` pulls it).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from editors import NO_TIME_LIMITS
from lsp import running_server
from lsprotocol import types

pytestmark = pytest.mark.e2e  # the real server over stdio or TCP (make test-fast skips it)

EXPECTED = "price_with_vat(order.net_cents, order.country_code)"


@pytest.mark.slow
def test_real_model_completes_with_a_cross_file_definition(shop: Path, tmp_path: Path) -> None:
    options = {
        "models": {"offline": True},
        "index": {"location": str(tmp_path / "index")},
        "feedback": {"enabled": False},  # the real user cache: record nothing of a test workspace there
        **NO_TIME_LIMITS,
    }

    async def scenario() -> None:
        async with running_server(shop, options) as client:
            [summary] = await client.command("housecoder.index")
            assert summary["indexed"] == 5
            uri = client.open(shop / "shop" / "checkout.py")
            result = await client.inline(uri, 8, 11)
            trace = await client.command("housecoder.lastCompletion", uri)
            print(
                json.dumps(
                    {
                        key: trace[key]
                        for key in ("timings_ms", "context_timings_ms", "prompt_tokens", "new_tokens")
                    }
                )
            )
            assert isinstance(result, types.InlineCompletionList) and result.items, client.stderr[-20:]
            assert result.items[0].insert_text == EXPECTED, trace["snippets"]

    asyncio.run(asyncio.wait_for(scenario(), 900))
