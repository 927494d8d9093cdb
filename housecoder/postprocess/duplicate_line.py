"""Never suggest what is already there: a completion equal to the rest of the line or the next line."""

from __future__ import annotations

from housecoder.postprocess.base import PostContext


def drop_duplicate_of_next_line(text: str, context: PostContext) -> str:
    candidate = text.strip()
    if not candidate:
        return ""
    rest = context.line_after.strip()
    following = next((line.strip() for line in context.next_lines if line.strip()), "")
    if candidate in (rest, following) or (context.line_before.strip() == "" and candidate == following):
        return ""
    first = candidate.split("\n", 1)[0].strip()
    if "\n" in candidate and first == following and not rest:
        return ""
    return text
