"""Merging sources within a token budget: priority interleaving, deduplication, skipping what does not fit."""

from __future__ import annotations

from housecoder.context.assemble import assemble, snippet_cost
from housecoder.context.snippets import ContextSnippet


def count(text: str) -> int:
    return len(text.split())  # one "token" per word keeps the hand arithmetic simple


def snip(path: str, start: int, text: str, source: str = "retrieval") -> ContextSnippet:
    return ContextSnippet(path, start, start + text.count("\n"), text, source, "test")


def test_sources_interleave_by_rank_in_priority_order() -> None:
    definitions = [snip("d.py", 1, "def a"), snip("d.py", 10, "def b")]
    retrieval = [snip("r.py", 1, "x y")]
    got = assemble([definitions, retrieval], budget=100, count=count)
    assert [(s.path, s.start_line) for s in got] == [("d.py", 1), ("r.py", 1), ("d.py", 10)]


def test_overlapping_contained_and_current_file_snippets_are_dropped() -> None:
    first = snip("a.py", 1, "def f():\n    return 1\n")
    overlapping = snip("a.py", 2, "    return 1\n    more")
    contained = snip("b.py", 5, "return 1")
    own = snip("cur.py", 1, "def g")
    assert assemble([[first], [overlapping, contained, own]], 100, count, exclude_path="cur.py") == [first]


def test_budget_skips_what_does_not_fit_but_keeps_smaller_later_ones() -> None:
    big = snip("a.py", 1, " ".join(["w"] * 20))
    small = snip("b.py", 1, "tiny")
    budget = snippet_cost(small, count) + 3
    assert assemble([[big, small]], budget, count) == [small]
    assert assemble([[big]], 0, count) == []


def test_left_over_budget_takes_the_head_of_a_skipped_definition_only() -> None:
    small = snip("b.py", 1, "tiny", source="definition")
    long_class = snip("a.py", 10, "\n".join(f"def m{i}(self): ..." for i in range(60)), source="definition")
    long_hit = snip("c.py", 1, "\n".join(f"x{i} = {i}" for i in range(60)))
    budget = snippet_cost(small, count) + 60
    got = assemble([[small, long_class], [long_hit]], budget, count)
    assert [s.path for s in got] == ["b.py", "a.py"]  # the search hit is not cut, the class outline is
    head = got[1]
    assert head.text == "\n".join(f"def m{i}(self): ..." for i in range(head.text.count("\n") + 1))
    assert head.end_line == 10 + head.text.count("\n") and sum(snippet_cost(s, count) for s in got) <= budget
    assert assemble([[small, long_class]], snippet_cost(small, count) + 20, count) == [
        small
    ]  # too little left


def test_at_most_per_file_snippets_of_one_file() -> None:
    many = [snip("a.py", 10 * i + 1, f"line {i}") for i in range(4)]
    other = snip("b.py", 1, "other")
    got = assemble([many, [other]], 100, count, per_file=2)
    assert [(s.path, s.start_line) for s in got] == [("a.py", 1), ("b.py", 1), ("a.py", 11)]
