"""Token budgets around the cursor, with a word counter standing in for a tokenizer."""

from __future__ import annotations

import pytest

from housecoder.prompt import trim_prefix, trim_suffix


def words(text: str) -> int:
    return len(text.split())


@pytest.mark.parametrize(
    ("prefix", "budget", "expected"),
    [
        ("a b\nc d\ne f", 10, "a b\nc d\ne f"),
        ("a b\nc d\ne f", 4, "c d\ne f"),
        ("a b\nc d\ne f", 3, "e f"),
        ("a b\nc d\ne f g h", 2, " g h"),  # the cursor line alone is too long: keep its end
        ("a b\nc d\n", 2, "c d\n"),
        ("anything", 0, ""),
    ],
)
def test_trim_prefix_keeps_the_lines_nearest_the_cursor(prefix: str, budget: int, expected: str) -> None:
    assert trim_prefix(prefix, budget, words) == expected
    assert words(trim_prefix(prefix, budget, words)) <= budget


@pytest.mark.parametrize(
    ("suffix", "budget", "expected"),
    [
        ("a b\nc d\ne f", 10, "a b\nc d\ne f"),
        ("a b\nc d\ne f", 4, "a b\nc d\n"),
        ("a b c\nd", 2, ""),
        ("x", 0, ""),
    ],
)
def test_trim_suffix_keeps_whole_lines_from_the_start(suffix: str, budget: int, expected: str) -> None:
    assert trim_suffix(suffix, budget, words) == expected


def test_with_the_real_tokenizer_the_budget_holds() -> None:
    from tests_paths import TINY_TOKENIZER
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(TINY_TOKENIZER / "tokenizer.json"))

    def count(text: str) -> int:
        return len(tokenizer.encode(text, add_special_tokens=False).ids)

    source = "".join(f"def function_{i}(argument):\n    return argument * {i}\n\n" for i in range(200))
    for budget in (1, 7, 50, 333):
        kept = trim_prefix(source, budget, count)
        assert count(kept) <= budget and source.endswith(kept)
        head = trim_suffix(source, budget, count)
        assert count(head) <= budget and source.startswith(head)


def test_a_stepped_prefix_keeps_its_start_while_the_cursor_moves_down() -> None:
    def head(lines: int) -> str:
        return "".join(f"w{n}\n" for n in range(lines))

    starts = []
    for lines in range(100, 120):
        kept = trim_prefix(head(lines), 40, words, step_lines=16)
        assert words(kept) <= 40 and head(lines).endswith(kept)
        starts.append(int(kept.split()[0][1:]))
    assert starts == [64] * 5 + [80] * 15  # the start moves in steps of 16 lines, never past the budget
    assert trim_prefix(head(100), 40, words) == "".join(f"w{n}\n" for n in range(60, 100))
    # too few lines to step: the plain tail
    assert trim_prefix("a b c\nd e f\ng", 4, words, step_lines=16) == "d e f\ng"
