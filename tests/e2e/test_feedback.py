"""The feedback loop end to end: the real server over stdio shows a suggestion, the client accepts it through the
item's command and edits part of it, the retention checks measure what is left; `housecoder stats --json`
reports it, `bench make-tasks --from-history` turns it into a task and `bench run` scores that task."""

from __future__ import annotations

import asyncio
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from editors import feedback_stats
from lsp import running_server

from housecoder.config import Settings
from housecoder.feedback.store import FeedbackStore, store_path
from housecoder.keep.signals import DECISION_CAP_S

pytestmark = pytest.mark.e2e  # the real server over stdio or TCP (make test-fast skips it)

TEXT = "from shop.orders import Order\n\n\ndef describe(order):\n    label = "
AFTER = "\n    return label\n"
CURSOR = (4, len("    label = "))


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 240))


def housecoder(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).parent / "housecoder"
    env = os.environ | {"HOUSECODER_OFFLINE": "1"}
    return subprocess.run([str(script), *args], cwd=cwd, capture_output=True, text=True, timeout=600, env=env)


def test_an_accept_is_recorded_measured_reported_and_becomes_a_task(
    shop: Path, options: dict[str, Any], model_cache: Path, tiny_qwen_dir: Path, tmp_path: Path
) -> None:
    # short retention checks; the psm layout and no stop at the line's end: the random model writes a line
    settings = options | {
        "feedback": {"tuning": {"retention_checks_s": [1, 2]}},
        "context": {"enabled": False},
        "completion": {"min_keep": 0.0, "tuning": {"layout": "psm"}},
    }
    path = store_path(Settings.model_validate({"models": {"cache_dir": str(model_cache)}}), shop)
    state: dict[str, Any] = {}

    async def scenario() -> None:
        async with running_server(shop, settings) as client:
            uri = client.open(shop / "shop" / "draft.py", TEXT + AFTER)
            while (await client.command("housecoder.status"))["model_state"] == "loading":
                await asyncio.sleep(0.1)
            result = await client.inline(uri, *CURSOR)
            assert result is not None and result.items, client.stderr[-20:]
            item = result.items[0]
            assert isinstance(item.insert_text, str) and item.insert_text.strip()
            assert item.command is not None and item.command.command == "housecoder.accepted"
            shown_id = item.command.arguments[0]  # type: ignore[index]

            # The user takes it, then rewrites its last third.
            suggestion = item.insert_text
            keep = suggestion[: max(1, 2 * len(suggestion) // 3)]
            client.change(uri, TEXT + suggestion + AFTER, 2)
            answer = await client.command("housecoder.accepted", shown_id)
            assert answer == {"recorded": True, "outcome": "accepted", "accepted_chars": len(suggestion)}
            client.change(uri, TEXT + keep + "EDITED" + AFTER, 3)
            assert (await client.command("housecoder.accepted", "no-such-id"))["recorded"] is False

            status = await client.command("housecoder.status")
            assert status["feedback"]["enabled"] and status["feedback"]["today"]["accepted"] >= 1

            store = FeedbackStore(path)
            for _ in range(600):  # poll: both checks written (1 s and 2 s after the accept)
                if len(store.checks().get(shown_id, [])) == 2:
                    break
                await asyncio.sleep(0.05)
            state.update(suggestion=suggestion, keep=keep, checks=store.checks()[shown_id], id=shown_id)
            [shown] = [s for s in store.suggestions() if s.id == shown_id]
            assert shown.model == str(tiny_qwen_dir)  # which code model wrote it: its keep refit is apart

            # the next suggestion is scored knowing the folder's last decision was moments ago
            text = TEXT + keep + "EDITED" + AFTER + "\ndef other(order):\n    total = "
            client.change(uri, text, 4)
            later = await client.inline(uri, text.count("\n"), len("    total = "))
            if later is not None and later.items:
                for _ in range(600):  # poll: the recorder writes on its own thread
                    others = [s for s in store.suggestions() if s.id != shown_id]
                    if others:
                        break
                    await asyncio.sleep(0.05)
                [after] = others
                assert after.signals is not None
                assert after.signals["since_decision"] < math.log1p(DECISION_CAP_S)
                state["after"] = after.signals["since_decision"]
            store.close()

    run(scenario())

    checks = state["checks"]
    assert [c.after_s for c in checks] == [1, 2] and all(c.found for c in checks)
    assert checks[-1].now == state["keep"] + "EDITED"
    # what was kept, plus whatever of the rest its replacement happens to share, in order
    assert len(state["keep"]) <= checks[-1].kept_chars < len(state["suggestion"])

    cache = ["--cache-dir", str(model_cache)]
    figures = feedback_stats(shop, str(model_cache))
    assert figures["total"]["shown"] == 1 + ("after" in state) and figures["total"]["accepted"] == 1
    assert figures["total"]["accepted_chars"] == len(state["suggestion"])
    assert figures["total"]["retained_chars"] == checks[-1].kept_chars and figures["notice"] == ""

    tasks_file = tmp_path / "mine.jsonl"
    made = housecoder(
        *cache, "bench", "make-tasks", str(shop), "--from-history", "-o", str(tasks_file), cwd=tmp_path
    )
    if len(state["keep"]) * 2 < len(state["suggestion"]):  # under half kept: not a retained suggestion
        assert made.returncode == 1 and "no kept or rewritten suggestions" in made.stderr
        return
    assert made.returncode == 0, made.stderr
    [task] = [json.loads(line) for line in tasks_file.read_text().splitlines()]
    assert task["groundtruth"] == state["keep"] + "EDITED" and (task["prefix"], task["suffix"]) == (
        TEXT,
        AFTER,
    )

    config = tmp_path / "tiny.toml"
    config.write_text(
        f'[models]\ncode_model = "{tiny_qwen_dir}"\ndevice = "cpu"\n[inference]\nruntime = "transformers"\n'
    )
    out = tmp_path / "results"
    scored = housecoder(
        *cache,
        "bench",
        "run",
        str(tasks_file),
        "--runs",
        "infile",
        "--config",
        str(config),
        "-o",
        str(out),
        cwd=tmp_path,
    )
    assert scored.returncode == 0, scored.stderr
    [record] = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert record["task_id"] == f"history-{state['id']}" and record["error"] == ""
