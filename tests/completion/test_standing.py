"""A file's standing snippet block: which block serves a keystroke and which one idle prefill works on."""

from __future__ import annotations

from housecoder.completion.standing import StandingBlocks
from housecoder.context import ContextSnippet


def _snippets(name: str) -> tuple[ContextSnippet, ...]:
    return (ContextSnippet(f"lib/{name}.py", 1, 1, f"{name} = 1", "retrieval", "test"),)


def test_a_settled_block_serves_up_to_twice_the_refresh_distance_and_only_its_file() -> None:
    blocks = StandingBlocks(refresh_lines=10)
    assert blocks.serving("a.py", 5) is None
    first = blocks.choose("a.py", _snippets("one"), 20)
    assert blocks.serving("a.py", 20) is None  # pending: not prefilled yet
    blocks.settle("a.py", first)
    assert blocks.serving("a.py", 20) is first and blocks.serving("a.py", 39) is first
    assert blocks.serving("a.py", 40) is None and blocks.serving("a.py", 0) is None
    assert blocks.serving("b.py", 20) is None


def test_idle_prefill_keeps_a_near_block_chooses_anew_far_away_and_finishes_a_pending_one() -> None:
    blocks = StandingBlocks(refresh_lines=10)
    assert blocks.to_prefill("a.py", 0) is None  # nothing yet: choose one
    settled = blocks.choose("a.py", _snippets("one"), 0)
    assert blocks.to_prefill("a.py", 3) is settled  # pending and near: prefill it further
    blocks.settle("a.py", settled)
    assert blocks.to_prefill("a.py", 9) is settled
    assert blocks.to_prefill("a.py", 10) is None  # far enough: a new block
    pending = blocks.choose("a.py", _snippets("two"), 10)
    assert blocks.to_prefill("a.py", 12) is pending  # an interrupted prefill goes on with the same block
    assert blocks.serving("a.py", 12) is settled  # meanwhile the old block serves keystrokes
    blocks.settle("a.py", pending)
    assert blocks.serving("a.py", 12) is pending and blocks.to_prefill("a.py", 25) is None


def test_without_a_refresh_distance_nothing_is_kept() -> None:
    blocks = StandingBlocks(refresh_lines=0)
    block = blocks.choose("a.py", _snippets("one"), 0)
    blocks.settle("a.py", block)
    assert blocks.serving("a.py", 0) is None and blocks.to_prefill("a.py", 0) is None


def test_the_least_recent_file_is_forgotten_first() -> None:
    blocks = StandingBlocks(refresh_lines=10, max_files=2)
    for name in ("a.py", "b.py", "c.py"):
        blocks.settle(name, blocks.choose(name, _snippets(name[0]), 0))
    assert blocks.serving("a.py", 0) is None
    assert blocks.serving("b.py", 0) is not None and blocks.serving("c.py", 0) is not None
