"""Samples: prompted by the server's own prompt builder, never from held-out files; cuts deduplicated and capped."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any, cast

from housecoder.completion import CompletionEngine, CompletionInput
from housecoder.config import TrainConfig, TrainTuning
from housecoder.context import ContextSnippet
from housecoder.indexer.sources import SourceFile
from housecoder.training.data import IGNORE, collate, encode
from housecoder.training.samples import (
    Cut,
    FilteredRetriever,
    build_samples,
    dependents,
    draw_cuts,
    sample_settings,
)
from housecoder.training.spans import Span


def _engine_parts(inventory_repo: Path, settings: Any, tiny_qwen_dir: Path) -> tuple[Any, Any]:
    from housecoder.indexer.service import index_repository, open_retriever
    from housecoder.inference.transformers_backend import TransformersBackend
    from housecoder.models.loading import load_code_model
    from housecoder.models.store import store_for

    index_repository(inventory_repo, settings, store_for(settings))
    backend = TransformersBackend(load_code_model(tiny_qwen_dir, settings.models), settings.inference)
    return backend, open_retriever(inventory_repo, settings)


def test_a_sample_prompt_is_the_prompt_the_server_sends_for_that_cursor(
    inventory_repo: Path, train_settings: Any, tiny_qwen_dir: Path
) -> None:
    settings = sample_settings(train_settings())
    backend, retriever = _engine_parts(inventory_repo, settings, tiny_qwen_dir)
    text = (inventory_repo / "inventory/orders.py").read_text()
    start = text.index("with_vat(cents * count, country)")
    cut = Cut(
        SourceFile("inventory/orders.py", "python", text),
        Span(start, start + len("with_vat(cents * count, country)"), "expression"),
    )
    engine = CompletionEngine(backend, settings, repo_name=inventory_repo.name, retriever=retriever)
    [sample] = build_samples([cut], engine, 1, 64)

    served = CompletionEngine(backend, settings, repo_name=inventory_repo.name, retriever=retriever).complete(
        CompletionInput(
            "inventory/orders.py", cut.prefix + cut.suffix, len(cut.prefix), "python", multi_line=False
        )
    )
    assert served.prompt == sample.prompt
    assert sample.prompt.startswith(f"<|repo_name|>{inventory_repo.name}\n<|file_sep|>")
    assert sample.prompt.endswith("<|fim_middle|>        subtotal = ")  # the served line-start layout
    # other files, never its own
    assert sample.snippet_paths and "inventory/orders.py" not in sample.snippet_paths
    assert (
        sample.middle == "with_vat(cents * count, country)" and "with_vat(cents * count" not in sample.prompt
    )
    assert sample.as_task(str(inventory_repo)).groundtruth == sample.middle
    # an expression inside it, at the same offset, would share its id (its records): one of the two is kept
    inner = Cut(cut.file, Span(start, start + len("with_vat"), "expression"))
    assert (
        build_samples([cut, inner], engine, 2, 64) == [sample]
        and build_samples([inner], engine, 1, 64, taken=[sample]) == []
    )

    # two statements after a plain line: the trigger alone would ask for one line there (with context); the
    # evaluation asks for the block, so the sample is prompted as a block: from its own file
    start = text.index("    gross = order_total")
    body = Cut(
        SourceFile("inventory/orders.py", "python", text),
        Span(start, text.index("\n", text.index("discount(gross")) + 1, "statement"),
    )
    assert not engine.trigger(body.prefix, body.suffix, "python").multi_line
    [block] = build_samples([body], engine, 1, 64)
    served = engine.complete(
        CompletionInput(
            "inventory/orders.py", body.prefix + body.suffix, len(body.prefix), "python", multi_line=True
        )
    )
    assert block.prompt == served.prompt and block.snippet_paths == ()


class _Everything:
    def definitions(self, names: Any, exclude_path: str, max_lines: int) -> list[ContextSnippet]:
        return [ContextSnippet(p, 1, 2, "x", "definition", "d") for p in ("a.py", "held.py", "b.py")]

    def search(self, query: str, exclude_path: str, k: int, max_lines: int) -> list[ContextSnippet]:
        return [
            ContextSnippet(p, 1, 2, "x", "retrieval", "r")
            for p in ("held.py", "a.py", "held.py", "b.py", "c.py")
        ][:k]

    def similar(
        self, query: str, exclude_path: str, k: int, max_lines: int, follow: int = 0
    ) -> list[ContextSnippet]:
        return [ContextSnippet(p, 1, 2, "y", "retrieval", "w") for p in ("held.py", "d.py")][:k]


def test_filtered_retriever_drops_blocked_paths_and_still_fills_k() -> None:
    filtered = FilteredRetriever(_Everything(), {"held.py"})
    assert [s.path for s in filtered.definitions(["f"], "x.py", 10)] == ["a.py", "b.py"]
    assert [s.path for s in filtered.search("q", "x.py", 3, 10)] == ["a.py", "b.py", "c.py"]


def test_cuts_are_capped_per_file_and_deduplicated() -> None:
    big = SourceFile(
        "big.py", "python", "".join(f"def f{i}(x):\n    y = x + {i}\n    return y\n\n\n" for i in range(40))
    )
    copy = SourceFile("copy.py", "python", "def g(x):\n    y = x + 1\n    return y\n")
    config = TrainConfig(tuning=TrainTuning(per_file=5, span_mix={"line": 1.0}))
    cuts = draw_cuts([big, copy], config, 100, random.Random(0))
    per_file = {path: sum(1 for c in cuts if c.file.path == path) for path in ("big.py", "copy.py")}
    assert per_file["big.py"] == 5 and per_file["copy.py"] >= 1
    keys = [(" ".join(c.middle.split()), c.prefix.rstrip().rsplit("\n", 1)[-1].strip()) for c in cuts]
    assert len(keys) == len(set(keys))
    assert all(c.prefix + c.middle + c.suffix == c.file.text for c in cuts)
    assert draw_cuts([big, copy], config, 100, random.Random(0)) == cuts  # seeded
    more = draw_cuts([big, copy], config, 100, random.Random(0), per_file=12)  # the held-out files' own cap
    assert sum(1 for c in more if c.file.path == "big.py") == 12

    # drawn again after samples were taken: none near-identical to them (the same line of another function
    # is), and the taken ones count against their file's cap
    from housecoder.training.samples import Sample

    taken = [
        Sample(c.file.path, "python", c.span.kind, c.span.start, c.middle, "", (), c.prefix, c.suffix)
        for c in cuts
    ]
    again = draw_cuts([big, copy], config, 100, random.Random(1), per_file=12, taken=taken)
    assert sum(1 for c in again if c.file.path == "big.py") == 12 - 5
    assert not {
        (" ".join(c.middle.split()), c.prefix.rstrip().rsplit("\n", 1)[-1].strip()) for c in again
    } & set(keys)
    assert not draw_cuts([big], config, 100, random.Random(1), per_file=5, taken=taken)  # its cap is spent


def test_encoding_puts_the_loss_on_the_middle_and_the_end_token_only(tiny_qwen_dir: Path) -> None:
    from transformers import AutoTokenizer

    from housecoder.training.samples import Sample

    tokenizer = AutoTokenizer.from_pretrained(tiny_qwen_dir)
    sample = Sample(
        "a.py",
        "python",
        "line",
        10,
        "return x",
        "<|fim_prefix|>def f(x):\n    <|fim_suffix|>\n<|fim_middle|>",
        (),
        "def f(x):\n    ",
        "\n",
    )
    encoded = encode(sample, tokenizer)
    prompt_length = len(tokenizer(sample.prompt, add_special_tokens=False)["input_ids"])
    assert encoded.labels[:prompt_length] == [IGNORE] * prompt_length
    target = encoded.input_ids[prompt_length:]
    assert encoded.labels[prompt_length:] == target and tokenizer.decode(target) == "return x<|endoftext|>"
    assert encoded.target_tokens == len(target)

    batch = collate([encoded, encode(sample, tokenizer).__class__([1, 2], [IGNORE, 2])], pad_id=0)
    assert batch["input_ids"].shape == (2, len(encoded.input_ids))
    assert batch["attention_mask"][1].tolist() == [1, 1] + [0] * (len(encoded.input_ids) - 2)
    assert batch["labels"][1, 2:].tolist() == [IGNORE] * (len(encoded.input_ids) - 2)


def test_filtered_retriever_drops_blocked_look_alike_windows() -> None:
    assert [s.path for s in FilteredRetriever(_Everything(), {"held.py"}).similar("q", "x.py", 2, 10)] == [
        "d.py"
    ]


def _shop_files() -> list[SourceFile]:
    """core.py defines price(), which the three other files call; nobody uses what they define."""
    core = SourceFile("core.py", "python", "def price(x):\n    y = x * 2\n    return y + 1\n")
    users = [
        SourceFile(
            f"{name}.py",
            "python",
            "from core import price\n\n\n"
            + "".join(
                f"def {name}_{i}(x):\n    z = price(x) + {i}\n    return z * {i}\n\n\n" for i in range(3)
            ),
        )
        for name in ("cart", "invoice", "refund")
    ]
    return [*users, core]


def test_the_plan_takes_the_files_in_turn_those_the_repository_uses_most_first() -> None:
    files = _shop_files()
    first = dependents(files)
    assert first == {"core.py": 3, "cart.py": 0, "invoice.py": 0, "refund.py": 0}
    config = TrainConfig(tuning=TrainTuning(per_file=4, span_mix={"line": 1.0}))
    cuts = draw_cuts(files, config, None, random.Random(0), first=first)
    paths = [cut.file.path for cut in cuts]
    assert paths[0] == "core.py"  # the file the others use
    assert set(paths[:4]) == {file.path for file in files}  # every file before any gives a second
    assert set(paths[4:8]) == set(paths[:4])  # then a second from each
    assert draw_cuts(files, config, None, random.Random(0), first=first) == cuts  # seeded


class _CountingEngine:
    """What build_samples needs of an engine: a token count (words here) and a prompt per cursor."""

    class backend:
        @staticmethod
        def count_tokens(text: str) -> int:
            return len(text.split())

    def build_prompt(self, request: CompletionInput) -> tuple[str, list[ContextSnippet]]:
        return " ".join(["token"] * 10), []


def test_a_token_budget_stops_the_samples_once_it_is_spent() -> None:
    cuts = draw_cuts(
        _shop_files(), TrainConfig(tuning=TrainTuning(span_mix={"line": 1.0})), None, random.Random(0)
    )
    engine = cast(Any, _CountingEngine())
    every = build_samples(cuts, engine, None, 64)
    assert len(every) == len(cuts)
    # each sample costs 10 prompt tokens, its middle's words and the end-of-text
    costs = [10 + len(sample.middle.split()) + 1 for sample in every]
    budget = sum(costs[:3]) - 1  # reached by the third sample, which is the last
    assert [s.sample_id for s in build_samples(cuts, engine, None, 64, token_budget=budget)] == [
        s.sample_id for s in every[:3]
    ]
    assert len(build_samples(cuts, engine, 2, 64, token_budget=budget)) == 2  # a count stops it first
