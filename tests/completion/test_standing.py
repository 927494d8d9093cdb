"""A file's standing snippet block: which block a keystroke may fall back on."""

from __future__ import annotations

from housecoder.completion.standing import Block, StandingBlocks
from housecoder.context import ContextSnippet


def _block(name: str, line: int) -> Block:
    return Block((ContextSnippet(f"lib/{name}.py", 1, 1, f"{name} = 1", "retrieval", "test"),), line)


def test_the_last_settled_block_serves_lines_near_its_own_in_its_file_only() -> None:
    blocks = StandingBlocks(standing_lines=10)
    assert blocks.serving("a.py", 5) is None
    first = _block("one", 20)
    blocks.settle("a.py", first)
    assert blocks.serving("a.py", 20) is first and blocks.serving("a.py", 29) is first
    assert blocks.serving("a.py", 11) is first and blocks.serving("a.py", 30) is None
    assert blocks.serving("a.py", 10) is None and blocks.serving("b.py", 20) is None
    second = _block("two", 25)
    blocks.settle("a.py", second)
    assert blocks.serving("a.py", 30) is second


def test_without_standing_lines_nothing_is_kept() -> None:
    blocks = StandingBlocks(standing_lines=0)
    blocks.settle("a.py", _block("one", 0))
    assert blocks.serving("a.py", 0) is None


def test_the_least_recent_file_is_forgotten_first() -> None:
    blocks = StandingBlocks(standing_lines=10, max_files=2)
    for name in ("a.py", "b.py", "c.py"):
        blocks.settle(name, _block(name[0], 0))
    assert blocks.serving("a.py", 0) is None
    assert blocks.serving("b.py", 0) is not None and blocks.serving("c.py", 0) is not None
