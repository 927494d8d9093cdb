"""Single-line requests keep only the first line of the completion.

A completion may start with a line break (the cursor sits at the end of a
line and the code continues below); then the first non-empty line is kept.
"""

from __future__ import annotations

from housecoder.postprocess.base import PostContext


def keep_first_line(text: str, context: PostContext) -> str:
    if not context.single_line:
        return text
    leading = len(text) - len(text.lstrip("\n"))
    rest = text[leading:].split("\n", 1)[0]
    return text[:leading] + rest.rstrip()
