"""Completion metrics against hand-computed values."""

from __future__ import annotations

import statistics

import pytest

from housecoder.evaluation.metrics import (
    bootstrap_interval,
    edit_similarity,
    exact_match,
    identifier_match,
    identifiers,
    normalise,
    paired,
    paired_difference,
    score,
)


@pytest.mark.parametrize(
    ("text", "single_line", "expected"),
    [
        ("\n    return x  \nmore", True, "return x"),  # first non-blank line, stripped
        ("   \n\t\n", True, ""),
        (
            "if a:\n    b()  \n\n    c()\n",
            False,
            "if a:\n    b()\n    c()",
        ),  # trailing spaces and blank lines go
        ("\n\nx = 1\n", False, "x = 1"),
    ],
)
def test_normalise(text: str, single_line: bool, expected: str) -> None:
    assert normalise(text, single_line=single_line) == expected


def test_exact_match_compares_the_first_line_for_single_line_tasks() -> None:
    assert exact_match("\n            elif num < 0:\n", "            elif num < 0:", single_line=True)
    assert exact_match("return x\nprint(1)", "return x", single_line=True)  # later lines are not judged
    assert not exact_match("return x\nprint(1)", "return x", single_line=False)
    assert not exact_match("return  x", "return x", single_line=True)  # inner spacing counts


def test_edit_similarity_is_indel_ratio() -> None:
    # "abc" / "abd": LCS 2, Indel distance 3 + 3 - 2*2 = 2, ratio 1 - 2/6
    assert edit_similarity("abc", "abd", single_line=True) == pytest.approx(2 / 3)
    # "return x" (8) / "return y + 1" (12): LCS 7 ("return "), distance 6, ratio 1 - 6/20
    assert edit_similarity("  return x", "return y + 1\n", single_line=True) == pytest.approx(0.7)
    assert edit_similarity("", "", single_line=True) == 1.0
    assert edit_similarity("", "x", single_line=True) == 0.0


def test_identifiers_drop_keywords_but_keep_builtins() -> None:
    assert identifiers("return len(self.items) if not None else total") == ["len", "self", "items", "total"]


def test_identifier_match_by_hand() -> None:
    # prediction ids [a, b, c], truth ids [a, b, d, e]: common 2, precision 2/3, recall 2/4, F1 = 2*(2/3*1/2)/(2/3+1/2)
    exact, f1 = identifier_match("a(b, c)", "a(b, d, e)", single_line=True)
    assert not exact and f1 == pytest.approx(4 / 7)
    assert identifier_match("x = foo(y)", "x = foo(y)", single_line=True) == (True, 1.0)
    assert identifier_match("foo(x, x)", "foo(x)", single_line=True)[1] == pytest.approx(
        2 * (2 / 3) * 1 / (2 / 3 + 1)
    )
    assert identifier_match("return", "pass", single_line=True) == (True, 1.0)  # no identifiers either side
    assert identifier_match("1 + 2", "total", single_line=True) == (False, 0.0)


def test_score_bundles_the_metrics() -> None:
    scores = score("\n    return total", "    return total", single_line=True)
    assert (
        scores.exact
        and scores.edit_similarity == 1.0
        and scores.identifier_exact
        and scores.identifier_f1 == 1.0
    )


def test_bootstrap_interval() -> None:
    assert bootstrap_interval([1.0] * 20) == (1.0, 1.0)
    assert bootstrap_interval([]) == (0.0, 0.0)
    values = [1.0] * 80 + [0.0] * 20
    low, high = bootstrap_interval(values, seed=3)
    assert low < 0.8 < high and low > 0.68 and high < 0.9  # binomial SE 0.04: about 0.72..0.88
    assert bootstrap_interval(values, seed=3) == (low, high)  # seeded
    # another statistic: the median of 80% ones is one in (nearly) every resample
    assert bootstrap_interval(values, seed=3, statistic=statistics.median) == (1.0, 1.0)


def test_paired_lists_flips_and_the_difference() -> None:
    result = paired(["t1", "t2", "t3", "t4"], [True, False, True, False], [True, True, False, True], seed=1)
    assert result.gained == ["t2", "t4"] and result.lost == ["t3"]
    assert result.difference == pytest.approx(0.25)
    low, high = result.interval
    assert -1.0 <= low <= 0.25 <= high <= 1.0
    with pytest.raises(ValueError, match="same tasks"):
        paired(["t1"], [True], [True, False])


def test_paired_difference_of_a_continuous_score() -> None:
    before = [0.2 + 0.01 * i for i in range(40)]
    after = [x + 0.05 for x in before]  # every task a little closer: no exact-match flip, yet a clear gain
    difference, (low, high) = paired_difference(before, after, seed=2)
    assert difference == pytest.approx(0.05) and low == pytest.approx(0.05) and high == pytest.approx(0.05)
    mixed = [x + (0.1 if i % 2 else -0.1) for i, x in enumerate(before)]
    difference, (low, high) = paired_difference(before, mixed, seed=2)
    assert difference == pytest.approx(0.0) and low < 0 < high
    with pytest.raises(ValueError, match="same tasks"):
        paired_difference([0.1], [0.1, 0.2])
