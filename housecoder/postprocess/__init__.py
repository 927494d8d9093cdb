"""Post-processing of raw model output into the text an editor shows (pure functions).

`postprocess` runs an ordered list of small filters, each in its own module;
every filter takes the completion so far and the context around the cursor
and returns the (possibly shorter) completion. An empty string means "show
nothing". Order matters: stop at a control marker written out as text, cut to
one line, then stop at suffix repeats, then limit to the enclosing block, then
balance brackets, then drop results that are empty or repeat the next line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from housecoder.postprocess.base import PostContext
from housecoder.postprocess.block_scope import block_ended, limit_to_block
from housecoder.postprocess.brackets import balance_brackets
from housecoder.postprocess.control_marker import stop_at_control_marker
from housecoder.postprocess.duplicate_line import drop_duplicate_of_next_line
from housecoder.postprocess.empty import drop_empty
from housecoder.postprocess.single_line import keep_first_line
from housecoder.postprocess.suffix_repeat import stop_at_suffix_repeat

Filter = Callable[[str, PostContext], str]

DEFAULT_FILTERS: tuple[Filter, ...] = (
    stop_at_control_marker,
    keep_first_line,
    stop_at_suffix_repeat,
    limit_to_block,
    balance_brackets,
    drop_empty,
    drop_duplicate_of_next_line,
)


def postprocess(text: str, context: PostContext, filters: Sequence[Filter] = DEFAULT_FILTERS) -> str:
    """Apply `filters` in order; stops early once the completion is empty."""
    for apply in filters:
        text = apply(text, context)
        if not text:
            return ""
    return text


__all__ = ["DEFAULT_FILTERS", "Filter", "PostContext", "block_ended", "postprocess"]
