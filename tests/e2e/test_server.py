"""The real server over stdio, driven by pygls' LSP client: completion with cross-file context,
cancellation, superseding, malformed requests, indexing commands, settings and safety rules.

The code model is the tiny random Qwen2 (its text is noise); what the tests check
is the protocol behaviour and, through `housecoder.lastCompletion`, what went
into the prompt. The real model's answer is checked in test_real_model.py.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import index_repo
from lsp import running_server
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from registry_fixture import register

from housecoder.config import Settings
from housecoder.models.adapters import base_fingerprint

pytestmark = pytest.mark.e2e  # the real server over stdio or TCP (make test-fast skips it)

CURSOR = (8, 11)  # shop/checkout.py, after "    return "


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 240))


def test_inline_completion_uses_definitions_from_other_files(
    shop: Path, options: dict[str, Any], model_cache: Path
) -> None:
    index_repo(shop, Path(options["index"]["location"]), model_cache)

    async def scenario() -> None:
        async with running_server(shop, options) as client:
            uri = client.open(shop / "shop" / "checkout.py")
            result = await client.inline(uri, *CURSOR)
            assert isinstance(result, types.InlineCompletionList)
            trace = await client.command("housecoder.lastCompletion", uri)
            assert trace is not None, client.stderr[-20:]
            reasons = {(s["path"], s["reason"]) for s in trace["snippets"]}
            assert ("shop/orders.py", "definition of Order (class)") in reasons
            # The imported function's definition is there, as its own snippet or inside a retrieved chunk.
            assert any(
                s["path"] == "shop/pricing.py"
                and "def price_with_vat(net_cents: int, country_code: str)" in s["text"]
                for s in trace["snippets"]
            )
            assert all(s["path"] != "shop/checkout.py" for s in trace["snippets"])
            assert trace["trigger"]["reason"] == "end of a line"
            assert set(trace["timings_ms"]) >= {
                "trigger",
                "context",
                "prompt",
                "model",
                "postprocess",
                "total",
            }
            if result.items:
                assert result.items[0].insert_text == trace["completion"]
                assert result.items[0].range == types.Range(
                    start=types.Position(*CURSOR), end=types.Position(*CURSOR)
                )
            # The same request again is served from the cache.
            await client.inline(uri, *CURSOR)
            assert (await client.command("housecoder.lastCompletion", uri))["cached"] == "prompt"

    run(scenario())


def test_the_gate_hides_what_typing_asks_for_and_a_suggest_now_request_shows_it(
    shop: Path, options: dict[str, Any]
) -> None:
    # every keep-probability is under 1: whatever the model starts to write is given up after its first token
    gated = options | {"completion": options.get("completion", {}) | {"min_keep": 1.0}}

    async def scenario() -> None:
        async with running_server(shop, gated) as client:
            uri = client.open(shop / "shop" / "checkout.py")
            typed = await client.inline(uri, *CURSOR)
            assert typed is not None and not typed.items
            trace = await client.command("housecoder.lastCompletion", uri)
            # given up while written, or (a text that ended at its first token) hidden once written
            assert trace["completion"] == "" and (trace["stopped_by"] == "unlikely" or trace["hidden"])
            status = await client.command("housecoder.status")
            assert status["last_decision"]["reason"].startswith("hidden: "), client.stderr[-20:]
            asked = await client.inline(uri, *CURSOR, invoked=True)
            trace = await client.command("housecoder.lastCompletion", uri)
            # scored (the random model's text scores next to nothing: 0 at four decimals), shown all the same
            assert (
                trace["stopped_by"] != "unlikely"
                and trace["p_keep"] is not None
                and 0.0 <= trace["p_keep"] < 1.0
            )
            assert asked is not None and [item.insert_text for item in asked.items] == (
                [trace["completion"]] if trace["completion"] else []
            )
            if asked.items and asked.items[0].command is not None:  # recorded: the item carries its p_keep
                assert asked.items[0].command.arguments[2] == trace["p_keep"]

    run(scenario())


def _slow_options(options: dict[str, Any]) -> dict[str, Any]:
    """Long multi-line generations from the random model: seconds of work to cancel (its text would leave the
    block at once and end the generation there, so the early stop and the time budget are off; the psm layout, whose
    prompts for these cursors the random model continues for long)."""
    completion = {
        "max_new_tokens": 3000,
        "max_ms": 0,
        "min_keep": 0.0,  # the keep gate would give the random model's text up after a token
        "tuning": {"stop_early": False, "layout": "psm"},
    }
    server = {
        "request_timeout_ms": 0
    }  # on a slow CPU the uncancelled generation may run past the default 15 s
    return options | {"completion": completion, "context": {"enabled": False}, "server": server}


def test_cancel_request_stops_generation_and_newer_requests_supersede(
    shop: Path, options: dict[str, Any]
) -> None:
    async def scenario() -> None:
        async with running_server(shop, _slow_options(options)) as client:
            text = "def compute(values):\n"
            uri = client.open(shop / "shop" / "draft.py", text)
            await client.command("housecoder.status")  # the model is loaded once status answers "ready"
            while (await client.command("housecoder.status"))["model_state"] == "loading":
                await asyncio.sleep(0.1)

            # How long the uncancelled generation takes, for scale.
            started = time.perf_counter()
            await client.inline(uri, 0, len(text) - 1)
            full = time.perf_counter() - started
            trace = await client.command("housecoder.lastCompletion", uri)
            assert trace["new_tokens"] > 100, trace  # long enough to make cancelling meaningful

            # $/cancelRequest: the server answers RequestCancelled promptly and the model thread is free again.
            client.change(uri, text + "\n", 2)
            pending = client.protocol.send_request(
                types.TEXT_DOCUMENT_INLINE_COMPLETION,
                client.inline_params(uri, 0, len(text) - 1),
                msg_id="slow-1",
            )
            await asyncio.sleep(min(0.5, full / 4))
            started = time.perf_counter()
            client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="slow-1"))
            with pytest.raises(JsonRpcException) as caught:
                await asyncio.wrap_future(pending)
            assert caught.value.code == -32800  # RequestCancelled
            client.change(uri, "x = 1\n", 3)
            assert await client.inline(uri, 0, 5) is not None
            # poll until nothing is left running
            while (await client.command("housecoder.status"))["requests_in_flight"]:
                assert time.perf_counter() - started < 60, "the cancelled generation kept the model busy"
                await asyncio.sleep(0.05)

            # A newer request for the same document supersedes the older one, which comes back empty.
            other = "def summarise(rows):\n"  # not cached yet
            client.change(uri, other, 4)
            older = asyncio.ensure_future(client.inline(uri, 0, len(other) - 1))
            await asyncio.sleep(min(0.5, full / 4))
            client.change(uri, "y = 2\n", 5)
            newer = await client.inline(uri, 0, 5)
            assert (await older).items in ([], ())
            assert newer is not None

    run(scenario())


def test_a_reported_cursor_is_prefilled_while_idle(shop: Path, options: dict[str, Any]) -> None:
    async def scenario() -> None:
        async with running_server(shop, options) as client:
            uri = client.open(shop / "shop" / "checkout.py")
            while (await client.command("housecoder.status"))["model_state"] == "loading":
                await asyncio.sleep(0.1)
            position = {"line": CURSOR[0], "character": CURSOR[1]}  # where a completion would trigger
            client.protocol.notify("housecoder/cursor", {"textDocument": {"uri": uri}, "position": position})
            client.protocol.notify("housecoder/cursor", {"textDocument": {"uri": uri}})  # malformed: ignored
            client.protocol.notify(
                "housecoder/cursor",
                {"textDocument": {"uri": "file:///nowhere.py"}, "position": {"line": 0, "character": 0}},
            )
            status = await client.command("housecoder.status")
            while not status["idle_work"]:
                await asyncio.sleep(0.1)
                status = await client.command("housecoder.status")
            assert status["idle_work"][0]["kind"] == "prefill" and status["idle_work"][0]["tokens"] > 50
            await client.inline(uri, *CURSOR)  # the line's prompt is in the KV cache: little left to prefill
            trace = await client.command("housecoder.lastCompletion", uri)
            assert trace["reused_tokens"] > trace["prompt_tokens"] // 2, trace

    run(scenario())


def test_malformed_requests_get_errors_and_the_server_keeps_serving(
    shop: Path, options: dict[str, Any]
) -> None:
    async def scenario() -> None:
        async with running_server(shop, options) as client:
            bad = client.send_raw(
                {
                    "jsonrpc": "2.0",
                    "method": types.TEXT_DOCUMENT_INLINE_COMPLETION,
                    "params": {"textDocument": 5},
                }
            )
            with pytest.raises(JsonRpcException) as caught:
                await asyncio.wait_for(bad, 30)
            assert caught.value.code == -32602  # InvalidParams
            unknown = client.send_raw({"jsonrpc": "2.0", "method": "housecoder/nonsense", "params": {}})
            with pytest.raises(JsonRpcException) as caught:
                await asyncio.wait_for(unknown, 30)
            assert caught.value.code == -32601  # MethodNotFound

            # A document the client never opened is not read from disk: empty result, and status says why.
            assert (await client.inline(client.uri(shop / "shop" / "pricing.py"), 0, 0)).items in ([], ())
            last = (await client.command("housecoder.status"))["last_decision"]
            assert (last["shown"], last["reason"], last["line"]) == (False, "the document is not open", 0)
            # A position past the end of the buffer is clamped, not a crash.
            uri = client.open(shop / "shop" / "checkout.py")
            assert isinstance(await client.inline(uri, 500, 3), types.InlineCompletionList)
            # Still serving, and no index means one notice suggesting `housecoder index`.
            assert isinstance(await client.inline(uri, *CURSOR), types.InlineCompletionList)
            await client.inline(uri, *CURSOR)
            notices = [m.message for m in client.messages if "housecoder index" in m.message]
            assert len(notices) == 1, client.messages
            # Why nothing was shown in the docstring, in status and in the document's trace.
            await client.inline(uri, 0, 5)
            last = (await client.command("housecoder.status"))["last_decision"]
            assert (last["shown"], last["reason"]) == (False, "not triggered: inside a string"), (
                last
            )  # a docstring
            assert (await client.command("housecoder.lastCompletion", uri))["why"] == last["reason"]

    run(scenario())


def test_index_command_reports_progress_and_save_updates_the_index(
    shop: Path, options: dict[str, Any]
) -> None:
    async def scenario() -> None:
        async with running_server(shop, options) as client:
            status = await client.command("housecoder.status")
            assert status["folders"][0]["indexed"] is False
            [summary] = await client.command("housecoder.index")
            assert summary["indexed"] == 5 and summary["chunks"] > 0
            kinds = [value["kind"] for value in client.progress]
            assert kinds[0] == "begin" and kinds[-1] == "end" and "report" in kinds
            assert any(value.get("percentage") == 100 for value in client.progress)

            status = await client.command("housecoder.status")
            folder = status["folders"][0]
            assert (folder["indexed"], folder["files"], folder["stale_files"]) == (True, 5, 0)

            # Save a new definition: the index learns it and the next completion uses it.
            extra = shop / "shop" / "shipping.py"
            extra.write_text("def shipping_fee_cents(country_code: str) -> int:\n    return 499\n")
            assert (await client.command("housecoder.status"))["folders"][0]["stale_files"] == 1
            client.text_document_did_save(
                types.DidSaveTextDocumentParams(
                    text_document=types.TextDocumentIdentifier(uri=client.uri(extra))
                )
            )
            for _ in range(100):
                if (await client.command("housecoder.status"))["folders"][0]["stale_files"] == 0:
                    break
                await asyncio.sleep(0.2)
            text = "from shop.shipping import shipping_fee_cents\n\ndef fee(order):\n    return "
            uri = client.open(shop / "shop" / "fees.py", text)
            await client.inline(uri, 3, 11)
            trace = await client.command("housecoder.lastCompletion", uri)
            assert any(
                s["reason"] == "definition of shipping_fee_cents (function)" for s in trace["snippets"]
            )

    run(scenario())


def test_documents_outside_the_workspace_get_no_repository_context(
    shop: Path, tmp_path: Path, options: dict[str, Any], model_cache: Path
) -> None:
    index_repo(shop, Path(options["index"]["location"]), model_cache)
    outside = tmp_path / "elsewhere" / "secret.py"
    outside.parent.mkdir()
    outside.write_text("from shop.pricing import price_with_vat\n\ndef leak():\n    return \n")

    async def scenario() -> None:
        async with running_server(shop, options) as client:
            out_uri = client.open(outside)
            await client.inline(out_uri, 3, 11)
            trace = await client.command("housecoder.lastCompletion", out_uri)
            assert trace["snippets"] == []
            # ...and its buffer is never context for a workspace file.
            uri = client.open(shop / "shop" / "checkout.py")
            await client.inline(uri, *CURSOR)
            trace = await client.command("housecoder.lastCompletion", uri)
            assert all("elsewhere" not in s["path"] and "secret" not in s["path"] for s in trace["snippets"])

    run(scenario())


def test_configuration_changes_and_completion_fallback(
    shop: Path, options: dict[str, Any], tmp_path: Path, tiny_qwen_dir: Path
) -> None:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(3)
    adapter = tmp_path / "adapter"
    lora = LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_qwen_dir), lora).save_pretrained(adapter)
    options = options | {"train": {"output": str(tmp_path / "adapters")}}
    registry = Settings.model_validate({"train": options["train"]})

    async def scenario() -> None:
        async with running_server(shop, options, inline=False) as client:
            uri = client.open(shop / "shop" / "checkout.py")
            listed = await client.text_document_completion_async(
                types.CompletionParams(
                    text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(*CURSOR)
                )
            )
            assert isinstance(listed, types.CompletionList) and listed.is_incomplete
            assert all(item.insert_text_format == types.InsertTextFormat.PlainText for item in listed.items)
            # Comments are skipped by default; a configuration change turns them on.
            client.change(uri, "# a comment about ", 2)
            await client.inline(uri, 0, 18)
            assert (await client.command("housecoder.lastCompletion", uri))["trigger"][
                "reason"
            ] == "inside a comment"
            client.workspace_did_change_configuration(
                types.DidChangeConfigurationParams(
                    settings={"housecoder": {"server": {"complete_in_comments": True}}}
                )
            )
            await client.inline(uri, 0, 18)
            assert (await client.command("housecoder.lastCompletion", uri))["trigger"]["complete"] is True
            # A bad value is reported in one line and the server goes on with defaults.
            client.workspace_did_change_configuration(
                types.DidChangeConfigurationParams(
                    settings={"housecoder": {"completion": {"max_new_tokens": -3}}}
                )
            )
            await client.inline(uri, 0, 18)
            assert any("max_new_tokens" in m.message for m in client.messages)
            # Adapters switch live; a bad one is refused with a message and the server keeps serving.
            assert (await client.command("housecoder.reloadAdapter", str(adapter)))["adapter"] == str(adapter)
            assert (await client.command("housecoder.status"))["adapter"] == str(adapter)
            refused = await client.command("housecoder.reloadAdapter", str(tmp_path / "missing"))
            assert "not a LoRA adapter" in refused["error"]
            assert (await client.command("housecoder.reloadAdapter"))[
                "adapter"
            ] is None  # back to the configured (none)
            assert isinstance(await client.inline(uri, 0, 18), types.InlineCompletionList)
            # An adapter `housecoder train` registers for the workspace after start-up is picked up by a reload.
            registered = register(registry, shop, "run1", base_fingerprint(tiny_qwen_dir), peft_dir=adapter)
            assert (await client.command("housecoder.reloadAdapter")) == {
                "adapter": str(registered),
                "automatic": True,
            }
            status = await client.command("housecoder.status")
            assert status["adapter"] == str(registered) and status["adapter_automatic"] is True
            assert status["adapter_meta"]["summary"] == "held-out exact match 25.0 -> 50.0%"
            assert isinstance(await client.inline(uri, 0, 18), types.InlineCompletionList)

    run(scenario())


def test_a_bad_editor_setting_is_refused_alone_and_the_project_settings_stay(
    shop: Path, options: dict[str, Any]
) -> None:
    """One invalid option from the editor drops that key alone: the project's privacy keys and the editor's
    other settings stay in force (they used to fall back to the defaults, recording switched back on)."""
    (shop / ".housecoder.toml").write_text("[feedback]\nenabled = false\n")
    sent = options | {"server": {"request_timeout_ms": True, "complete_in_comments": True}}

    async def scenario() -> None:
        async with running_server(shop, sent) as client:
            status = await client.command("housecoder.status")
            assert status["feedback"]["enabled"] is False  # the project's choice stands
            [notice] = [m.message for m in client.messages if "ignored" in m.message]
            assert "server.request_timeout_ms" in notice and "complete_in_comments" not in notice
            uri = client.open(shop / "shop" / "checkout.py")
            client.change(uri, "# a comment about ", 2)
            await client.inline(uri, 0, 18)  # the editor's other setting of that section applies
            assert (await client.command("housecoder.lastCompletion", uri))["trigger"]["complete"] is True
            # a later change with one bad key keeps the good one and what was in force
            client.workspace_did_change_configuration(
                types.DidChangeConfigurationParams(
                    settings={"housecoder": {"completion": {"max_ms": 10**400, "max_new_tokens": 7}}}
                )
            )
            status = await client.command("housecoder.status")
            assert status["feedback"]["enabled"] is False
            assert any("completion.max_ms" in m.message for m in client.messages)

    run(scenario())


def test_the_server_trains_in_the_background_and_reports_it(
    shop: Path, options: dict[str, Any], model_cache: Path, tmp_path: Path
) -> None:
    """`train.background` from the editor's options: the server starts `housecoder train --background` with the
    session's settings, marks each completion request for it, and reports the run in `housecoder.status`."""
    for number, noun in enumerate(("invoice", "refund", "voucher", "parcel", "basket", "ledger")):
        (shop / "shop" / f"{noun}.py").write_text(  # enough code for a split and a few samples
            f'"""{noun.title()}s."""\n\n\nclass {noun.title()}:\n    def __init__(self, amount, owner):\n'
            f"        self.amount = amount\n        self.owner = owner.strip().lower()\n\n"
            f"    def scaled(self, factor):\n        if factor <= {number}:\n            raise ValueError(factor)\n"
            f"        return {noun.title()}(self.amount * factor, self.owner)\n\n"
            f"    def describe(self):\n        words = [self.owner, str(self.amount), '{noun}']\n"
            f"        return ' '.join(word.upper() for word in words if word)\n"
        )
    index_repo(shop, Path(options["index"]["location"]), model_cache)
    adapters = tmp_path / "adapters"
    recipe = {"max_samples": 8, "eval_samples": 4, "per_file": 4, "grad_accum": 1, "generate_samples": 1}
    recipe |= {"held_out_fraction": 0.3, "mixed_precision": "no", "eval_every": 1000}
    trained = options | {
        "train": {
            "background": True,
            "idle_seconds": 1,
            "output": str(adapters),
            "token_budget": 0,
            "steps": 2,
        }
        | {"tuning": recipe}
    }
    activity = model_cache.parent / "activity"

    async def scenario() -> None:
        async with running_server(shop, trained) as client:
            uri = client.open(shop / "shop" / "checkout.py")
            before = activity.stat().st_mtime_ns if activity.exists() else 0
            await client.inline(uri, *CURSOR)
            assert activity.stat().st_mtime_ns > before  # the request told background training to wait
            deadline = time.monotonic() + 240
            while True:
                [folder] = (await client.command("housecoder.status"))["folders"]
                training = folder["training"]
                if training is not None and training["phase"] in ("finished", "failed"):
                    break
                assert time.monotonic() < deadline, f"no finished run: {training}; {client.stderr[-10:]}"
                await asyncio.sleep(0.5)
            assert training["phase"] == "finished" and training["step"] == 2, training
            assert training["line"].startswith("finished: ") and not training["running"]
            while (again := await client.command("housecoder.trainBackground"))[0]["state"] != "started":
                assert again[0]["state"] == "already training in the background", (
                    again
                )  # the first is exiting
                assert time.monotonic() < deadline, "the first run never exited"
                await asyncio.sleep(0.2)

    run(scenario())
    assert any(adapters.glob("*/*/housecoder-adapter.json"))
