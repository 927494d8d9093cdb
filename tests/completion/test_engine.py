"""The completion pipeline: stages, trigger, cache, context in the prompt, cancellation, document caps."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest
from context_budgets import ROOMY, roomy

from housecoder.completion import CompletionEngine, CompletionInput, CompletionOutput
from housecoder.completion.engine import MAX_LINE_CHARS, cap_document, cap_lines
from housecoder.config import Settings
from housecoder.context import ContextSnippet
from housecoder.inference.base import Cancellation, Generation, GenerationRequest
from housecoder.inference.errors import CannotHeal
from housecoder.inference.prefix_cache import common_prefix
from housecoder.inference.streaming import run_generation
from housecoder.keep import KeepModel


class ScriptedBackend:
    """Returns a fixed text and records prompts (the model's place in a pipeline test)."""

    heals = False
    adapter = None

    def __init__(self, text: str) -> None:
        self.text = text
        self.prompts: list[GenerationRequest] = []

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def generate(self, request: GenerationRequest, cancel: Cancellation | None = None) -> Generation:
        self.prompts.append(request)
        scores = (
            -0.05,
            -0.2,
            -0.1,
        )  # the model's log-probabilities of the 3 tokens: sure (the gate shows it)
        return Generation(
            self.text, len(request.prompt.split()), 3, 0.01, "eos", logprobs=scores, first_margin=1.2
        )


class OneDefinition:
    def definitions(self, names: Sequence[str], exclude_path: str, max_lines: int) -> list[ContextSnippet]:
        return [
            ContextSnippet(
                "lib/io.py", 1, 2, "def read_json(path):\n    ...", "definition", "definition of read_json"
            )
        ]

    def search(self, query: str, exclude_path: str, k: int, max_lines: int) -> list[ContextSnippet]:
        return [
            ContextSnippet("lib/other.py", 5, 5, "OTHER = 1", "retrieval", "hybrid search #1"),
            ContextSnippet("app/main.py", 1, 1, "leak", "retrieval", "own file"),
        ]

    def similar(
        self, query: str, exclude_path: str, k: int, max_lines: int, follow: int = 0
    ) -> list[ContextSnippet]:
        return []


TEXT = "import json\n\ndef load(path):\n    return \n"
CURSOR = TEXT.index("return ") + len("return ")


def engine(backend: ScriptedBackend, retriever: object = None, **server: object) -> CompletionEngine:
    settings = Settings.model_validate({"server": server, "context": ROOMY})
    return CompletionEngine(backend, settings, repo_name="demo", retriever=retriever)  # type: ignore[arg-type]


def test_pipeline_builds_a_repository_prompt_and_post_processes() -> None:
    backend = ScriptedBackend("read_json(path)\nmore = 1\n")
    out = engine(backend, OneDefinition()).complete(CompletionInput("app/main.py", TEXT, CURSOR, "python"))
    assert out.text == "read_json(path)"
    assert [s.path for s in out.snippets] == ["lib/io.py", "lib/other.py"]  # own file never used
    prompt = backend.prompts[0].prompt
    assert prompt.startswith(
        "<|repo_name|>demo\n<|file_sep|>lib/other.py\nOTHER = 1\n<|file_sep|>lib/io.py\n"
    )
    assert "<|file_sep|>app/main.py\n<|fim_prefix|>import json" in prompt and "leak" not in prompt
    assert backend.prompts[0].single_line
    assert list(out.timings) == ["trigger", "context", "prompt", "model", "postprocess", "total"]


def test_without_a_repository_name_the_prompt_is_plain_file_level_fim() -> None:
    backend = ScriptedBackend("json.load(f)")
    bare = CompletionEngine(backend, Settings(), repo_name=None)  # HumanEval-FIM style: no repository
    assert bare.complete(CompletionInput("t.py", TEXT, CURSOR, "python")).text == "json.load(f)"
    assert (
        backend.prompts[0].prompt
        == f"<|fim_prefix|>{TEXT[:CURSOR]}<|fim_suffix|>{TEXT[CURSOR:]}<|fim_middle|>"
    )


def test_no_model_call_inside_a_comment() -> None:
    backend = ScriptedBackend("x")
    text = "# explain the\n"
    out = engine(backend).complete(CompletionInput("a.py", text, len("# explain the"), "python"))
    assert (out.text, out.trigger.reason, backend.prompts) == ("", "inside a comment", [])
    assert (
        engine(backend, complete_in_comments=True).complete(CompletionInput("a.py", text, 13, "python")).text
        == "x"
    )


def test_typing_through_a_suggestion_reuses_it_and_same_prompt_hits_the_cache() -> None:
    backend = ScriptedBackend("json.load(f)")
    eng = engine(backend)
    first = eng.complete(CompletionInput("a.py", TEXT, CURSOR, "python"))
    again = eng.complete(CompletionInput("a.py", TEXT, CURSOR, "python"))
    typed = TEXT[:CURSOR] + "js" + TEXT[CURSOR:]
    through = eng.complete(CompletionInput("a.py", typed, CURSOR + 2, "python"))
    assert (first.text, again.cached, through.text, through.cached) == (
        "json.load(f)",
        "prompt",
        "on.load(f)",
        "typed-through",
    )
    assert len(backend.prompts) == 1


def test_a_cancelled_request_never_reaches_the_model() -> None:
    backend = ScriptedBackend("x")
    cancel = Cancellation()
    cancel.cancel()
    out = engine(backend).complete(CompletionInput("a.py", TEXT, CURSOR, "python"), cancel)
    assert (out.text, out.stopped_by, backend.prompts) == ("", "cancelled", [])


def test_requested_multi_line_overrides_the_trigger() -> None:
    backend = ScriptedBackend("a = 1\nb = 2")
    out = engine(backend).complete(CompletionInput("a.py", TEXT, CURSOR, "python", multi_line=True))
    assert not backend.prompts[0].single_line and out.trigger.reason == "requested"


def test_a_block_body_is_served_from_its_own_file_unless_context_multi_line_asks_for_more() -> None:
    block = "import json\n\ndef load(path):\n    \n"
    cursor = block.index("    \n") + 4
    retriever = CountingRetriever()
    backend = ScriptedBackend("return read_json(path)")
    body = engine(backend, retriever).complete(CompletionInput("app/main.py", block, cursor, "python"))
    assert body.trigger.multi_line and body.snippets == [] and not retriever.names and not retriever.queries
    assert "<|file_sep|>lib/" not in backend.prompts[0].prompt
    line = engine(backend, retriever).complete(CompletionInput("app/main.py", TEXT, CURSOR, "python"))
    assert not line.trigger.multi_line and [s.path for s in line.snippets] == ["lib/io.py", "lib/other.py"]
    call = "import json\n\ndef load(path):\n    return read_json(\n"
    arguments = engine(backend, retriever).complete(
        CompletionInput("app/main.py", call, len(call) - 1, "python")
    )
    assert arguments.trigger.multi_line and arguments.snippets  # call arguments keep the definitions
    wide = CompletionEngine(
        backend,
        Settings.model_validate({"context": ROOMY | {"multi_line": True}}),
        repo_name="demo",
        retriever=retriever,
    )  # type: ignore[arg-type]
    assert [
        s.path for s in wide.complete(CompletionInput("app/main.py", block, cursor, "python")).snippets
    ] == ["lib/io.py", "lib/other.py"]
    # the training job's prompts follow the same rule: a sample is trained as it would be served
    prompt, snippets = engine(backend, retriever).build_prompt(
        CompletionInput("app/main.py", block, cursor, "python")
    )
    assert snippets == [] and prompt == backend.prompts[0].prompt
    _, snippets = engine(backend, retriever).build_prompt(
        CompletionInput("app/main.py", block, cursor, "python", multi_line=False)
    )
    assert snippets


class TokenByToken(ScriptedBackend):
    """Streams its text one line per step through the runtimes' shared token loop (within the 64-token budget);
    each line scored `score` where given (log-probability, margin)."""

    score: tuple[float, float] | None = None

    def generate(self, request: GenerationRequest, cancel: Cancellation | None = None) -> Generation:
        self.prompts.append(request)
        pieces = self.text.splitlines(keepends=True)
        score = self.score
        return run_generation(
            request,
            cancel,
            prompt_tokens=1,
            reused_tokens=0,
            prefill=lambda _: True,
            next_token=lambda previous, allowed: 0 if previous is None else previous + 1,
            decode=lambda tokens: "".join(pieces[: len(tokens)]),
            stop_ids={len(pieces)},
            score=None if score is None else lambda token: score,
        )


def test_a_multi_line_generation_stops_once_it_has_left_the_block() -> None:
    text = "def load(path):\n    \n\nload('a')\n"
    cursor = text.index("    \n") + 4
    rest = "data = read(path)\n    return data\n\n\ndef save(path, data):\n    write(path, data)\n"
    whole = engine(ScriptedBackend(rest)).complete(
        CompletionInput("a.py", text, cursor, "python", multi_line=True)
    )
    backend = TokenByToken(rest)
    out = engine(backend).complete(CompletionInput("a.py", text, cursor, "python", multi_line=True))
    assert out.text == whole.text == "data = read(path)\n    return data"
    assert out.stopped_by == "scope" and out.raw.endswith("def save(path, data):\n")  # not a token further
    assert backend.prompts[0].scope_ended is not None
    engine(backend).complete(CompletionInput("a.py", TEXT, CURSOR, "python", multi_line=False))
    assert backend.prompts[1].scope_ended is None  # one line: the line's end stops it
    off = CompletionEngine(
        backend, Settings.model_validate({"completion": {"tuning": {"stop_early": False}}}), repo_name="demo"
    )
    whole_run = off.complete(CompletionInput("a.py", text, cursor, "python", multi_line=True))
    assert whole_run.stopped_by == "eos" and whole_run.raw == rest and whole_run.text == out.text


def test_a_looping_generation_stops_and_shows_the_loop_once() -> None:
    text = "def check(n):\n    \n"
    loop = "".join(f"if n == {k}:\n        return False\n\n    " for k in range(40))
    backend = TokenByToken(loop)
    out = engine(backend).complete(
        CompletionInput("a.py", text, text.index("    \n") + 4, "python", multi_line=True)
    )
    assert out.text == "if n == 0:\n        return False"
    assert out.stopped_by == "scope" and out.raw.count("return False") <= 4


def test_huge_documents_are_cut_around_the_cursor_on_line_boundaries() -> None:
    prefix = "x = 1\n" * 100_000 + "y = "
    suffix = "\nz = 2" * 100_000
    cut_prefix, cut_suffix = cap_document(prefix, suffix, 64_000)
    assert len(cut_prefix) <= 48_000 and cut_prefix.startswith("x = 1\n") and cut_prefix.endswith("y = ")
    assert len(cut_suffix) <= 16_000 and cut_suffix.startswith("\nz = 2")
    assert cap_document("a", "b", 64_000) == ("a", "b")


def test_overlong_lines_are_cut_the_cursors_around_the_cursor() -> None:
    row = "v, " * 400_000  # a 1.2 MB line, minified data
    prefix, suffix = "import os\n" + row + "\nx = [" + row, row + "]\n" + row + "\nend = 1\n"
    cut_prefix, cut_suffix = cap_lines(prefix, suffix)
    assert cut_prefix.startswith("import os\n" + row[:MAX_LINE_CHARS] + "\n")
    assert cut_prefix.endswith(row[-MAX_LINE_CHARS:]) and len(cut_prefix.rsplit("\n", 1)[1]) == MAX_LINE_CHARS
    assert cut_suffix == row[: MAX_LINE_CHARS // 4] + "\n" + row[:MAX_LINE_CHARS] + "\nend = 1\n"
    normal = ("import os\n" * 5_000, "\n" + "y = 2\n" * 5_000)  # long files of short lines stay as they are
    assert cap_lines(*normal) == normal
    assert cap_lines("x = [" + row, "") == (("x = [" + row)[-MAX_LINE_CHARS:], "")


class CountingBackend(ScriptedBackend):
    """Records the longest text it was asked to count (the tokenizer's work per request)."""

    longest = 0

    def count_tokens(self, text: str) -> int:
        self.longest = max(self.longest, len(text))
        return super().count_tokens(text)


def test_a_megabyte_line_costs_the_pipeline_no_more_than_a_normal_one() -> None:
    backend = CountingBackend("v, v]")
    text = "import os\n\ndata = [" + "v, " * 350_000
    out = engine(backend, OneDefinition()).complete(CompletionInput("a.py", text, len(text), "python"))
    assert out.trigger.complete and out.text == "v, v]"
    assert backend.longest <= 2 * MAX_LINE_CHARS  # nothing near the 1 MB line reached the tokenizer
    prompt = backend.prompts[0].prompt
    assert ("v, " * 100 + "<|fim_suffix|>") in prompt  # the cursor's line, up to the cursor


def test_with_the_tiny_model(tiny_qwen_dir: Path) -> None:
    from housecoder.completion.loading import load_backend

    settings = Settings.model_validate({"models": {"code_model": str(tiny_qwen_dir), "device": "cpu"}})
    backend = load_backend(settings)
    out = CompletionEngine(backend, settings, repo_name="demo").complete(
        CompletionInput("a.py", TEXT, CURSOR, "python")
    )
    assert out.prompt_tokens > 10 and out.stopped_by in ("eos", "newline", "length", "unlikely")
    assert "\n" not in out.text  # single line after post-processing


@pytest.mark.parametrize(("offset", "complete"), [(0, False), (len(TEXT), True)])
def test_cursor_at_the_ends(offset: int, complete: bool) -> None:
    out = engine(ScriptedBackend("pass")).complete(CompletionInput("a.py", TEXT, offset, "python"))
    assert out.trigger.complete is complete


class CountingRetriever(OneDefinition):
    def __init__(self) -> None:
        self.names: list[list[str]] = []
        self.queries: list[str] = []

    def definitions(self, names: Sequence[str], exclude_path: str, max_lines: int) -> list[ContextSnippet]:
        self.names.append(list(names))
        return super().definitions(names, exclude_path, max_lines)

    def search(self, query: str, exclude_path: str, k: int, max_lines: int) -> list[ContextSnippet]:
        self.queries.append(query)
        return super().search(query, exclude_path, k, max_lines)


def test_keystrokes_within_a_word_reuse_the_context_and_a_finished_word_refreshes_it() -> None:
    retriever = CountingRetriever()
    pipeline = engine(ScriptedBackend("x"), retriever)
    head = "import json\n\ndef load(path):\n    data = "
    outputs = [
        pipeline.complete(CompletionInput("app/main.py", head + typed + "\n", len(head + typed), "python"))
        for typed in ("", "rea", "read_js", "read_json(")
    ]
    assert [out.context_reused for out in outputs] == [False, True, True, False]
    assert (
        len(retriever.names) == 2
        and "read_json" in retriever.names[1]
        and "read_json" not in retriever.names[0]
    )
    # the cursor line is not in the query
    assert all(query.endswith("def load(path):") for query in retriever.queries)
    prompts = [out.prompt for out in outputs[:3]]
    front = prompts[0][: prompts[0].index("<|fim_prefix|>")]
    assert all(prompt.startswith(front) for prompt in prompts)


def test_a_context_with_a_source_left_out_is_not_remembered() -> None:
    class Failing(CountingRetriever):
        def search(self, query: str, exclude_path: str, k: int, max_lines: int) -> list[ContextSnippet]:
            raise RuntimeError("index is being rebuilt")

    pipeline = engine(ScriptedBackend("x"), Failing())
    first = pipeline.complete(CompletionInput("app/main.py", TEXT, CURSOR, "python"))
    second = pipeline.complete(
        CompletionInput("app/main.py", TEXT.replace("return ", "return j"), CURSOR + 1, "python")
    )
    assert "retrieval" in first.skipped and not second.context_reused


class HealingBackend(ScriptedBackend):
    """A scripted backend that says it heals; `refuse` makes it refuse the typed tail as llama.cpp would."""

    heals = True

    def __init__(self, text: str, refuse: bool = False) -> None:
        super().__init__(text)
        self.refuse = refuse

    def generate(self, request: GenerationRequest, cancel: Cancellation | None = None) -> Generation:
        if self.refuse and request.typed:
            self.prompts.append(request)
            raise CannotHeal("no token continues b'\\xff'")
        return super().generate(request, cancel)


def _layout(layout: str) -> Settings:
    return Settings.model_validate({"completion": {"tuning": {"layout": layout}}})


def test_line_start_layout_puts_the_typed_part_of_the_line_after_fim_middle() -> None:
    backend = HealingBackend("json.load(f)")
    out = CompletionEngine(backend, _layout("line-start"), repo_name=None).complete(
        CompletionInput("t.py", TEXT, CURSOR, "python")
    )
    line_start = TEXT.rindex("\n", 0, CURSOR) + 1
    assert backend.prompts[0].prompt == (
        f"<|fim_prefix|>{TEXT[:line_start]}<|fim_suffix|>{TEXT[CURSOR:]}"
        f"<|fim_middle|>{TEXT[line_start:CURSOR]}"
    )
    assert backend.prompts[0].typed == "    return " and backend.prompts[0].heal_tokens == 4
    assert (out.text, out.layout) == ("json.load(f)", "line-start")


def test_line_start_falls_back_to_psm_where_the_backend_cannot_heal(caplog: pytest.LogCaptureFixture) -> None:
    # an OpenAI-compatible engine: no way to constrain the first tokens
    plain = ScriptedBackend("json.load(f)")
    out = CompletionEngine(plain, _layout("line-start"), repo_name=None).complete(
        CompletionInput("t.py", TEXT, CURSOR, "python")
    )
    assert (
        plain.prompts[0].prompt.endswith("<|fim_middle|>")
        and plain.prompts[0].typed == ""
        and out.layout == "psm"
    )
    refusing = HealingBackend("json.load(f)", refuse=True)
    with caplog.at_level("INFO"):
        out = CompletionEngine(refusing, _layout("line-start"), repo_name=None).complete(
            CompletionInput("t.py", TEXT, CURSOR, "python")
        )
    assert [r.typed for r in refusing.prompts] == [
        "    return ",
        "",
    ]  # tried, refused, asked again the old way
    assert (
        refusing.prompts[1].prompt
        == f"<|fim_prefix|>{TEXT[:CURSOR]}<|fim_suffix|>{TEXT[CURSOR:]}<|fim_middle|>"
    )
    assert (out.text, out.layout) == ("json.load(f)", "psm")
    assert "psm instead" in caplog.text


def test_the_training_prompt_takes_the_served_layout() -> None:
    backend = HealingBackend("json.load(f)")
    eng = CompletionEngine(backend, _layout("line-start"), repo_name="demo")
    prompt, _ = eng.build_prompt(CompletionInput("t.py", TEXT, CURSOR, "python"))
    eng.complete(CompletionInput("t.py", TEXT, CURSOR, "python"))
    assert prompt == backend.prompts[0].prompt and prompt.endswith("<|fim_middle|>    return ")


HOSTILE = {
    "a long word inside a line": "x = " + "a" * 400_000 + " + 1\n",
    "a long word at the cursor": "x = " + "a" * 400_000,
    "blank lines": "def f():\n" + "\n" * 400_000 + "    ",
    "a long chain": "class A:\n    def f(self):\n        " + "self." * 80_000,
    "an unclosed import": "from a import (" + "b, " * 130_000,
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_documents_take_linear_time(name: str) -> None:
    # Quadratic text handling took minutes on 40 KB of these (a wedged server); linear takes well under a
    # second on 400 KB. The bound is loose on purpose: it only tells linear from quadratic.
    import time

    from housecoder.context import OpenDocument

    text = HOSTILE[name]
    started = time.perf_counter()
    engine(ScriptedBackend("y"), OneDefinition()).complete(
        CompletionInput(
            "a.py", text, len(text), "python", documents=(OpenDocument("b.py", text),), multi_line=False
        )
    )
    assert time.perf_counter() - started < 30


def test_secret_buffers_never_reach_the_prompt() -> None:
    from housecoder.context import OpenDocument

    aws = "AKIAIOSFODNN7EXAMPLE"
    stripe = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
    documents = (
        OpenDocument(".env", "DATABASE_PASSWORD=hunter2hunter2\nreturn_value = load(path)\n"),
        OpenDocument("app/billing.py", f"STRIPE = '{stripe}'\ndef load(path):\n    return read_json(path)\n"),
        OpenDocument("app/cloud.py", f"KEY = '{aws}'\ndef load(path):\n    return read_json(path)\n"),
        OpenDocument("app/util.py", "def load(path):\n    return read_json(path)\n"),
    )
    backend = ScriptedBackend("read_json(path)")
    out = engine(backend, OneDefinition()).complete(
        CompletionInput("app/main.py", TEXT, CURSOR, "python", documents=documents)
    )
    prompt = backend.prompts[0].prompt
    assert "app/util.py" in [s.path for s in out.snippets]  # open documents do reach the prompt
    assert not any(secret in prompt for secret in ("hunter2", stripe, aws))


@pytest.mark.parametrize(
    ("path", "text"),
    [
        (".env", "API_URL=https://example.com\nDEBUG="),
        ("app/settings.py", "KEY = 'AKIAIOSFODNN7EXAMPLE'\nDEBUG = "),
        ("app/hub.py", "login('hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh')\nDEBUG = "),
        ("app/bus.py", "BUS = 'Endpoint=sb://a/;SharedAccessKey=" + "k3Jq8ZmW2x" * 4 + "abc='\nDEBUG = "),
        ("deploy/run.sh", "export DATABASE_PASSWORD=Zq8rT2xW9vLm4KpY7sNc\nDEBUG="),
    ],
)
def test_a_secret_file_gets_no_completion(path: str, text: str) -> None:
    backend = ScriptedBackend("True")
    out = engine(backend).complete(CompletionInput(path, text, len(text), "python", multi_line=False))
    assert (out.text, out.trigger.reason, backend.prompts) == ("", "the file holds a secret", [])


class KVBackend(HealingBackend):
    """A healing backend that holds the last prompt it ran (its KV cache, word by word) and says how much
    of a new prompt it would prefill, as the local runtimes do."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.held: list[str] = []

    def uncached_tokens(self, prompt: str) -> int:
        words = prompt.split()
        return len(words) - common_prefix(self.held, words)

    def generate(self, request: GenerationRequest, cancel: Cancellation | None = None) -> Generation:
        self.held = request.prompt.split()
        return super().generate(request, cancel)


LONG = (
    "import json\n\n"
    + "".join(f"x{n} = read_json('f{n}')\n" for n in range(40))
    + "def load(path):\n    y = 1\n    "
)
AFTER = "\n" + "".join(f"y{n} = {n}\n" for n in range(40))


def _cold(tokens: int) -> Settings:
    return Settings.model_validate(
        {
            "completion": {"tuning": {"layout": "line-start", "cold_prefill_tokens": tokens}},
            "server": {"tuning": {"cache_entries": 0}},
        }
    )


def test_a_file_the_model_holds_nothing_of_gets_a_cold_prompt_that_stays_put_within_the_line() -> None:
    backend = KVBackend("x")
    pipeline = CompletionEngine(backend, _cold(48), repo_name="demo", retriever=CountingRetriever())
    typed = ("", "da", "data = ")
    outputs = [
        pipeline.complete(CompletionInput("app/main.py", LONG + t + AFTER, len(LONG + t), "python"))
        for t in typed
    ]
    assert all(out.cold and not out.snippets for out in outputs)
    full = pipeline.prompt("app/main.py", LONG, AFTER, [], typed="    ")
    for out in outputs:
        assert "<|file_sep|>lib/io.py" not in out.prompt  # no repository context
        head, tail = out.prompt.split("<|fim_suffix|>")
        assert (
            len(head.split("<|fim_prefix|>")[1].split()) <= 36
            and len(tail.split("<|fim_middle|>")[0].split()) <= 12
        )
        assert len(out.prompt.split()) < len(full.split())
    # within the line each keystroke extends the same front: only the typed words are new
    fronts = [out.prompt[: out.prompt.index("<|fim_middle|>")] for out in outputs]
    assert len(set(fronts)) == 1


def test_after_idle_prefill_the_whole_prompt_is_sent_and_without_a_budget_always() -> None:
    backend = KVBackend("x")
    pipeline = CompletionEngine(backend, _cold(48), repo_name="demo", retriever=CountingRetriever())
    request = CompletionInput("app/main.py", LONG + AFTER, len(LONG), "python")
    assert pipeline.warm(request) > 48  # the idle prefill runs the whole prompt
    warm = pipeline.complete(CompletionInput("app/main.py", LONG + "d" + AFTER, len(LONG) + 1, "python"))
    assert not warm.cold and "<|file_sep|>lib/io.py" in warm.prompt

    # a prompt partly prefilled at idle keeps its context unless the smaller one saves half the budget
    whole = pipeline.build_prompt(request)[0].split()
    backend.held = whole[: len(whole) - 60]
    assert not pipeline.complete(request).cold
    backend.held = whole[:10]
    assert pipeline.complete(request).cold

    unbudgeted = CompletionEngine(KVBackend("x"), _cold(0), repo_name="demo", retriever=CountingRetriever())
    out = unbudgeted.complete(request)
    assert not out.cold and "<|file_sep|>lib/io.py" in out.prompt


def test_backends_that_cannot_say_what_they_hold_always_get_the_whole_prompt() -> None:
    backend = HealingBackend("x")  # no uncached_tokens: a remote engine
    out = CompletionEngine(backend, _cold(8), repo_name="demo", retriever=CountingRetriever()).complete(
        CompletionInput("app/main.py", LONG + AFTER, len(LONG), "python")
    )
    assert not out.cold and "<|file_sep|>lib/io.py" in out.prompt


def test_typing_on_line_after_line_reuses_the_cold_prompts_front() -> None:
    backend = KVBackend("x")
    pipeline = CompletionEngine(backend, _cold(160), repo_name="demo", retriever=CountingRetriever())
    body = "import json\n\n" + "".join(f"x{n} = read_json('f{n}')\n" for n in range(80))
    starts, prefilled = [], []
    for line in range(6):  # the user types a line, then the next, without a pause
        head = body + "".join(f"z{n} = {n}\n" for n in range(line))
        held = backend.uncached_tokens(pipeline.prompt("app/main.py", head, AFTER, [], cold=True))
        out = pipeline.complete(CompletionInput("app/main.py", head + AFTER, len(head), "python"))
        assert out.cold
        starts.append(out.prompt.split("<|fim_prefix|>")[1].split()[0])
        prefilled.append(held)
    assert len(set(starts)) <= 2  # the window's start moves in steps, not with every line
    assert sorted(prefilled)[-2] < 60  # most lines prefill the new line and the suffix, not the window


class InterruptedBackend(KVBackend):
    """Keeps the prompts it ran (llama.cpp saves a few states); with `interrupt`, an idle prefill of more
    than 160 new tokens stops halfway, as when the user types again during it; what it computed is kept."""

    interrupt = False

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.states: list[list[str]] = []

    def uncached_tokens(self, prompt: str) -> int:
        words = prompt.split()
        return len(words) - max((common_prefix(state, words) for state in self.states), default=0)

    def generate(self, request: GenerationRequest, cancel: Cancellation | None = None) -> Generation:
        words = request.prompt.split()
        if self.interrupt and request.max_new_tokens == 0 and self.uncached_tokens(request.prompt) > 160:
            self.states.append(words[: len(words) // 2])
            return Generation("", len(words), 0, 0.01, "cancelled")
        self.states.append(words)
        return super().generate(request, cancel)


class ShiftingRetriever(CountingRetriever):
    """Each search finds another module: every block chosen differs from the one before."""

    def search(self, query: str, exclude_path: str, k: int, max_lines: int) -> list[ContextSnippet]:
        self.queries.append(query)
        n = len(self.queries)
        return [ContextSnippet(f"lib/m{n}.py", 1, 1, f"M{n} = {n}", "retrieval", "hybrid search #1")]


BODY = "import json\n\n" + "".join(f"x{n} = read_json('f{n}')\n" for n in range(203))  # window from line 48


def _at_line(line: int) -> CompletionInput:
    head = BODY + "".join(f"z{n} = {n}\n" for n in range(line))
    return CompletionInput("app/main.py", head + AFTER, len(head), "python")


def _standing(tokens: int, standing_lines: int = 10) -> Settings:
    return Settings.model_validate(
        {
            "completion": {"tuning": {"layout": "line-start", "cold_prefill_tokens": tokens}},
            "context": roomy(standing_lines=standing_lines),
            "server": {"tuning": {"cache_entries": 0}},
        }
    )


def test_a_line_whose_own_snippets_are_not_held_gets_the_files_last_block() -> None:
    backend, retriever = InterruptedBackend("x"), ShiftingRetriever()
    pipeline = CompletionEngine(backend, _standing(160), repo_name="demo", retriever=retriever)
    pipeline.warm(_at_line(0))  # idle: the whole prompt, its block in full
    for line in range(1, 8):  # the user types line after line without a pause
        held = backend.held
        out = pipeline.complete(_at_line(line))
        assert out.standing and not out.cold and "<|file_sep|>lib/m1.py" in out.prompt
        assert f"<|file_sep|>lib/m{line + 1}.py" not in out.prompt  # the line's own block: not held
        words = out.prompt.split()  # prefilled: the new line and the suffix; the window above stays put
        assert len(words) - common_prefix(held, words) < 160 < len(words)

    backend.interrupt = True  # a short pause: the line's own block is prefilled only in part
    pipeline.warm(_at_line(8))
    out = pipeline.complete(_at_line(8))
    assert out.standing and "<|file_sep|>lib/m1.py" in out.prompt
    backend.interrupt = False
    pipeline.warm(_at_line(9))  # a long enough pause: the line's own block, in full
    out = pipeline.complete(_at_line(9))
    assert not out.standing and not out.cold and out.prompt == pipeline.build_prompt(_at_line(9))[0]
    later = pipeline.complete(_at_line(12))  # it is the file's block now
    assert later.standing and out.prompt.split("<|file_sep|>app/main.py")[0] in later.prompt


def test_a_line_mostly_prefilled_keeps_its_own_block_which_becomes_the_files() -> None:
    backend, retriever = KVBackend("x"), ShiftingRetriever()
    pipeline = CompletionEngine(backend, _standing(160), repo_name="demo", retriever=retriever)
    pipeline.warm(_at_line(0))
    request = _at_line(1)
    whole = pipeline.build_prompt(request)[0].split()  # the line's own block
    backend.held = whole[: len(whole) - 200]  # over budget, but the cold prompt would not save half of it
    out = pipeline.complete(request)
    assert not out.standing and not out.cold and "<|file_sep|>lib/m2.py" in out.prompt
    assert pipeline.blocks.serving("app/main.py", 206).snippets == tuple(out.snippets)


def test_a_standing_block_the_model_no_longer_holds_goes_cold() -> None:
    backend = KVBackend("x")
    pipeline = CompletionEngine(backend, _standing(160), repo_name="demo", retriever=CountingRetriever())
    pipeline.warm(_at_line(0))
    pipeline.complete(CompletionInput("app/other.py", LONG + AFTER, len(LONG), "python"))  # elsewhere
    out = pipeline.complete(_at_line(1))
    assert out.cold and not out.standing and not out.snippets


def test_without_standing_lines_a_line_whose_snippets_are_not_held_goes_cold() -> None:
    backend, retriever = KVBackend("x"), ShiftingRetriever()
    pipeline = CompletionEngine(backend, _standing(160, 0), repo_name="demo", retriever=retriever)
    pipeline.warm(_at_line(0))
    out = pipeline.complete(_at_line(1))
    assert out.cold and not out.standing and not out.snippets


def test_given_snippets_replace_the_gathered_context() -> None:
    backend, retriever = ScriptedBackend("x"), CountingRetriever()
    given = [ContextSnippet("lib/x.py", 1, 1, "X = 1", "retrieval", "given")]
    out = engine(backend, retriever).complete(
        CompletionInput("app/main.py", TEXT, CURSOR, "python"), snippets=given
    )
    assert out.snippets == given and not retriever.queries
    assert "<|file_sep|>lib/x.py\nX = 1\n<|file_sep|>app/main.py" in backend.prompts[0].prompt


class GPUBackend(KVBackend):
    """A local model on a GPU: it says what it holds, but prefill costs little there."""

    def describe(self) -> dict[str, object]:
        return {"runtime": "transformers", "device": "cuda:0"}


def test_the_snippet_budget_and_the_cold_prompt_follow_the_hardware() -> None:
    cpu = CompletionEngine(KVBackend("x"), _standing(48), repo_name="demo", retriever=CountingRetriever())
    gpu = CompletionEngine(GPUBackend("x"), _standing(48), repo_name="demo", retriever=CountingRetriever())
    assert (cpu.settings.context.max_tokens, gpu.settings.context.max_tokens) == (384, 1536)
    assert gpu.blocks.standing_lines == 0 and cpu.blocks.standing_lines == 10
    request = CompletionInput("app/main.py", LONG + AFTER, len(LONG), "python")
    assert cpu.complete(request).cold
    out = gpu.complete(request)  # prefill is cheap: the whole prompt, context and all
    assert not out.cold and "<|file_sep|>lib/io.py" in out.prompt
    pinned = Settings.model_validate({"context": {"max_tokens": 700}})
    assert CompletionEngine(GPUBackend("x"), pinned, repo_name="demo").settings.context.max_tokens == 700


class MeasuredBackend(KVBackend):
    """A local CPU model whose measured prefill rate the test sets."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.rate: float | None = None

    def prefill_rate(self) -> float | None:
        return self.rate


class ManyWindows(OneDefinition):
    """Twenty 50-word look-alike windows: a bigger snippet budget takes more of them."""

    def similar(
        self, query: str, exclude_path: str, k: int, max_lines: int, follow: int = 0
    ) -> list[ContextSnippet]:
        return [
            ContextSnippet(f"lib/m{n}.py", 1, 1, " ".join([f"w{n}"] * 50), "retrieval", "window", 0.2, True)
            for n in range(20)
        ]


def test_on_the_cpu_the_snippet_budget_follows_the_measured_prefill_rate() -> None:
    backend = MeasuredBackend("x")
    settings = Settings.model_validate(
        {
            "context": roomy(similar_k=20),
            "completion": {"tuning": {"cold_prefill_tokens": 0}},
        }
    )
    served = CompletionEngine(
        backend, settings, repo_name="demo", retriever=ManyWindows(), follow_prefill=True
    )
    request = CompletionInput("app/main.py", TEXT, CURSOR, "python", multi_line=False)

    def budget() -> tuple[int, int]:
        out = served.complete(request)
        return served.settings.context.snippet_tokens, sum(len(s.text.split()) + 2 for s in out.snippets)

    tokens, used = budget()
    assert tokens == 384 and 0 < used <= 384  # not measured yet: the CPU's budget
    backend.rate = 399.0
    assert budget()[0] == 384
    backend.rate = 400.0  # as fast as FAST_CPU_PREFILL_TOKENS_PER_S: the bigger block, gathered again
    tokens, used = budget()
    assert tokens == 1536 and 384 < used <= 1536
    backend.rate = 320.0  # a busy moment near the threshold does not switch back
    assert budget()[0] == 1536
    backend.rate = 250.0
    tokens, used = budget()
    assert tokens == 384 and used <= 384
    # benchmarks and prompt builders keep a fixed budget, and so does a budget the user set
    assert CompletionEngine(backend, settings, repo_name="demo").settings.context.snippet_tokens == 384
    pinned = Settings.model_validate({"context": {"max_tokens": 700}})
    fixed = CompletionEngine(backend, pinned, repo_name="demo", follow_prefill=True)
    backend.rate = 5000.0
    fixed.complete(request)
    assert fixed.settings.context.snippet_tokens == 700


def test_the_models_confidence_travels_with_the_completion() -> None:
    out = engine(ScriptedBackend("read_json(path)")).complete(
        CompletionInput("app/main.py", TEXT, CURSOR, "python")
    )
    assert out.as_dict()["confidence"] == {
        "tokens": 3,
        "mean_logprob": pytest.approx(-0.1167, abs=1e-4),
        "min_logprob": -0.2,
        "first_margin": 1.2,
    }
    assert CompletionOutput("", out.trigger).as_dict()["confidence"] is None  # nothing generated


def gated(threshold: float, backend: ScriptedBackend) -> CompletionEngine:
    """An engine whose keep model reads the mean log-probability alone (p = 0.5 at −0.1)."""
    settings = Settings.model_validate({"context": ROOMY, "completion": {"min_keep": threshold}})
    keep = KeepModel(("mean_logprob",), (-0.1,), (1.0,), (3.0,), 0.0)
    return CompletionEngine(backend, settings, repo_name="demo", keep=keep)  # type: ignore[arg-type]


def test_the_gate_hides_an_unlikely_suggestion_and_an_explicit_request_shows_it() -> None:
    backend = ScriptedBackend("read_json(path)")  # mean log-probability −0.117: p_keep 0.49
    request = CompletionInput("app/main.py", TEXT, CURSOR, "python")
    shown = gated(0.45, backend).complete(request)
    assert shown.text == "read_json(path)" and shown.p_keep == pytest.approx(0.4875, abs=1e-3)
    assert shown.as_dict()["p_keep"] == pytest.approx(0.4875, abs=1e-3) and not shown.hidden
    strict = gated(0.6, backend)
    hidden = strict.complete(request)
    assert (hidden.text, hidden.hidden) == ("", "read_json(path)")
    # the cache remembers the answer and its probability: the gate decides again, without the model
    again = strict.complete(request)
    asked = strict.complete(replace(request, explicit=True))
    assert (again.text, again.cached) == ("", "prompt")
    assert (asked.text, asked.cached, asked.p_keep) == ("read_json(path)", "prompt", hidden.p_keep)
    assert len(backend.prompts) == 2  # each engine asked the model once
    # the suggestion asked for is now showing: typing its first letters keeps it, gate or not
    typed_in = TEXT[:CURSOR] + "re" + TEXT[CURSOR:]
    kept = strict.complete(CompletionInput("app/main.py", typed_in, CURSOR + 2, "python"))
    assert (kept.text, kept.cached, kept.p_keep) == ("ad_json(path)", "typed-through", hidden.p_keep)
    # a hidden suggestion is not typed through
    typed = TEXT[:CURSOR] + "re" + TEXT[CURSOR:]
    through = gated(0.6, ScriptedBackend("read_json(path)"))
    through.complete(request)
    assert (
        through.complete(CompletionInput("app/main.py", typed, CURSOR + 2, "python")).cached
        != "typed-through"
    )


def test_without_scores_nothing_is_gated() -> None:
    class Unscored(ScriptedBackend):
        def generate(self, request: GenerationRequest, cancel: Cancellation | None = None) -> Generation:
            return Generation(self.text, 1, 3, 0.01, "eos")  # a remote engine that sends no logprobs

    out = gated(0.99, Unscored("read_json(path)")).complete(
        CompletionInput("app/main.py", TEXT, CURSOR, "python")
    )
    assert (out.text, out.p_keep, out.signals) == ("read_json(path)", None, None)


def test_a_suggestion_the_gate_would_hide_whatever_comes_next_stops_early() -> None:
    lines = "".join(f"    x{k} = {k}\n" for k in range(30))

    class Unsure(TokenByToken):
        score = (-2.0, 0.5)  # each line a token the model chose with log-probability −2

    # p_keep falls with the sum of log-probabilities, which ends anywhere down to −100
    keep = KeepModel(("sum_logprob",), (-5.0,), (2.0,), (2.0,), 0.0, low=(-100.0,), high=(0.0,))
    settings = Settings.model_validate({"context": ROOMY, "completion": {"min_keep": 0.5}})
    backend = Unsure(lines)
    request = CompletionInput("a.py", "def f():\n    \n", len("def f():\n    "), "python", multi_line=True)
    out = CompletionEngine(backend, settings, repo_name="demo", keep=keep).complete(request)  # type: ignore[arg-type]
    # the sum passes −5 (p_keep 0.5) at the third token: the model stops there, and nothing is shown
    assert (out.stopped_by, out.new_tokens, out.text) == ("unlikely", 3, "")
    assert out.hidden.split() == ["x0", "=", "0", "x1", "=", "1", "x2", "=", "2"]  # what it had written
    asked = CompletionEngine(backend, settings, repo_name="demo", keep=keep).complete(
        replace(request, explicit=True)
    )
    assert asked.stopped_by != "unlikely" and asked.text and backend.prompts[-1].hopeless is None


def test_the_time_since_the_last_decision_reaches_the_signals_and_the_early_stop() -> None:
    keep = KeepModel(("since_decision",), (3.0,), (1.0,), (4.0,), 0.0, low=(0.0,), high=(7.0,))
    settings = Settings.model_validate({"context": ROOMY, "completion": {"min_keep": 0.5}})
    request = CompletionInput("app/main.py", TEXT, CURSOR, "python", since_decision=120.0)
    shown = CompletionEngine(
        ScriptedBackend("read_json(path)"), settings, repo_name="demo", keep=keep
    ).complete(request)  # type: ignore[arg-type]
    assert shown.signals is not None and shown.signals["since_decision"] == pytest.approx(math.log1p(120.0))
    assert shown.text == "read_json(path)" and shown.p_keep is not None and shown.p_keep > 0.5

    # a decision a moment ago: this model gives the suggestion up at its first token
    class Sure(TokenByToken):
        score = (-0.1, 3.0)

    engine = CompletionEngine(Sure("read_json(path)"), settings, repo_name="demo", keep=keep)  # type: ignore[arg-type]
    moment = engine.complete(replace(request, since_decision=0.5))
    assert (moment.text, moment.stopped_by, moment.new_tokens) == ("", "unlikely", 1)


def test_the_engine_scores_with_the_keep_model_shipped_for_its_code_model() -> None:
    from housecoder.keep import default_model
    from housecoder.keep.model import shipped

    for name in (*shipped(), "/models/my-own.gguf"):
        settings = Settings.model_validate({"models": {"code_model": name}})
        engine = CompletionEngine(ScriptedBackend("x"), settings, repo_name="demo")  # type: ignore[arg-type]
        assert engine.keep == default_model(name)
