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


def test_a_block_being_prefilled_is_continued_near_its_line_and_serves_once_settled() -> None:
    blocks = StandingBlocks(refresh_lines=10)
    assert blocks.pending_near("a.py", 0) is None  # nothing yet: choose one
    settled = blocks.choose("a.py", _snippets("one"), 0)
    assert blocks.pending_near("a.py", 3) is settled  # short pauses add up to its full prefill
    blocks.settle("a.py", settled)
    assert blocks.pending_near("a.py", 3) is None
    pending = blocks.choose("a.py", _snippets("two"), 10)
    assert blocks.pending_near("a.py", 19) is pending and blocks.pending_near("a.py", 20) is None
    assert blocks.serving("a.py", 12) is settled  # meanwhile the old block serves keystrokes
    blocks.settle("a.py", pending)
    assert blocks.serving("a.py", 12) is pending


def test_without_a_refresh_distance_nothing_is_kept() -> None:
    blocks = StandingBlocks(refresh_lines=0)
    block = blocks.choose("a.py", _snippets("one"), 0)
    blocks.settle("a.py", block)
    assert blocks.serving("a.py", 0) is None and blocks.pending_near("a.py", 0) is None


def test_the_least_recent_file_is_forgotten_first() -> None:
    blocks = StandingBlocks(refresh_lines=10, max_files=2)
    for name in ("a.py", "b.py", "c.py"):
        blocks.settle(name, blocks.choose(name, _snippets(name[0]), 0))
    assert blocks.serving("a.py", 0) is None
    assert blocks.serving("b.py", 0) is not None and blocks.serving("c.py", 0) is not None
