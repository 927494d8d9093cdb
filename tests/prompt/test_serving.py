"""The served prompt for a cursor: layouts, budgets, snippet order (pure; a word counter as the tokenizer)."""

from __future__ import annotations

from housecoder.config import CompletionConfig, CompletionTuning, tuned
from housecoder.prompt import Snippet
from housecoder.prompt.serving import PREFIX_STEP_LINES, cursor_prompt, shown, typed_part, window_budgets


def words(text: str) -> int:
    return len(text.split())


LINE_START = CompletionConfig(
    max_prefix_tokens=64, max_suffix_tokens=16, tuning=CompletionTuning(layout="line-start")
)


def test_the_best_snippet_goes_last_next_to_the_file_and_the_typed_part_after_fim_middle() -> None:
    prompt = cursor_prompt(
        "app.py",
        "import util\nx = util.lo",
        "\nprint(x)\n",
        [Snippet("util.py", "def load(): ..."), Snippet("other.py", "Z = 1")],
        LINE_START,
        words,
        repo_name="demo",
        typed="x = util.lo",
    )
    assert prompt.index("other.py") < prompt.index("util.py") < prompt.index("app.py")
    assert prompt.endswith("<|fim_prefix|>import util\n<|fim_suffix|>\nprint(x)\n<|fim_middle|>x = util.lo")


def test_without_a_repository_name_the_prompt_is_plain_file_level_fim() -> None:
    prompt = cursor_prompt(
        "a.py", "x = ", "\n", [Snippet("b.py", "B = 1")], LINE_START, words, repo_name=None
    )
    assert prompt == "<|fim_prefix|>x = <|fim_suffix|>\n<|fim_middle|>"


def test_the_typed_part_is_only_for_the_line_start_layout_on_a_healing_backend_and_within_budget() -> None:
    prefix = "def f():\n    return tot"
    assert typed_part(prefix, LINE_START, words, heals=True) == "    return tot"
    assert typed_part(prefix, LINE_START, words, heals=False) == ""
    assert typed_part(prefix, tuned(LINE_START, layout="psm"), words, heals=True) == ""
    long_line = "x = " + " ".join(["a"] * 20)  # 21 words: over a quarter of 64
    assert typed_part(long_line, LINE_START, words, heals=True) == ""


def test_cold_windows_fit_the_cold_budget_three_to_one() -> None:
    budget = CompletionConfig(
        max_prefix_tokens=512, max_suffix_tokens=192, tuning=CompletionTuning(cold_prefill_tokens=200)
    )
    assert window_budgets(budget) == (512, 192)
    assert window_budgets(budget, cold=True) == (150, 50)


def test_the_shown_prefix_starts_on_a_step_line_and_keeps_the_typed_part_whole() -> None:
    lines = [f"line {n}\n" for n in range(100)]  # 2 words a line
    prefix = "".join(lines) + "    total = su"
    budget = CompletionConfig(max_prefix_tokens=40, max_suffix_tokens=4)
    before, after = shown(prefix, "a b\nc d\ne f\n", budget, words, typed="    total = su")
    first = int(before.split()[1])
    assert first % PREFIX_STEP_LINES == 0 and before.endswith("line 99\n    total = su")
    assert words(before[: -len("    total = su")]) <= 40 and after == "a b\nc d\n"
