"""Post-processing of raw model output into the text an editor shows (pure functions).

`postprocess` runs an ordered list of small filters, each in its own module;
every filter takes the completion so far and the context around the cursor
and returns the (possibly shorter) completion. An empty string means "show
nothing". Order matters: stop at a control marker written out as text, cut to
one line, then stop at suffix repeats, then limit to the enclosing block, then
cut a tail that repeats itself, then balance brackets, then drop results that
are empty or repeat the next line.

`finished` tells a generation loop when those filters have cut the text for
good (it left the cursor's block, reached the suffix, or it loops), so a multi-line generation
stops there instead of running on to its token budget.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from housecoder.postprocess.base import PostContext
from housecoder.postprocess.block_scope import block_ended, limit_to_block
from housecoder.postprocess.brackets import balance_brackets
from housecoder.postprocess.control_marker import stop_at_control_marker
from housecoder.postprocess.duplicate_line import drop_duplicate_of_next_line
from housecoder.postprocess.empty import drop_empty
from housecoder.postprocess.repetition import drop_repetitive_tail, repeats_itself
from housecoder.postprocess.single_line import keep_first_line
from housecoder.postprocess.suffix_repeat import reached_suffix, stop_at_suffix_repeat

Filter = Callable[[str, PostContext], str]

DEFAULT_FILTERS: tuple[Filter, ...] = (
    stop_at_control_marker,
    keep_first_line,
    stop_at_suffix_repeat,
    limit_to_block,
    drop_repetitive_tail,
    balance_brackets,
    drop_empty,
    drop_duplicate_of_next_line,
)


def finished(text: str, context: PostContext) -> bool:
    """Whether to stop generating: the block ended or the text reached the suffix (nothing generated after it
    can reach the editor), or the text has fallen into a loop (cut by `drop_repetitive_tail`; going on would only
    lengthen it). The loop is looked for in what that filter gets: the text after the filters before it."""
    if block_ended(text, context) or reached_suffix(text, context):
        return True
    for apply in DEFAULT_FILTERS[: DEFAULT_FILTERS.index(drop_repetitive_tail)]:
        text = apply(text, context)
    return repeats_itself(text, context)


def postprocess(text: str, context: PostContext, filters: Sequence[Filter] = DEFAULT_FILTERS) -> str:
    """Apply `filters` in order; stops early once the completion is empty."""
    for apply in filters:
        text = apply(text, context)
        if not text:
            return ""
    return text


__all__ = ["DEFAULT_FILTERS", "Filter", "PostContext", "finished", "postprocess"]
