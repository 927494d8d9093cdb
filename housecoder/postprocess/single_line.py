"""Single-line requests keep only the first line of the completion.

A completion may start with blank lines (the cursor sits at the end of a line
and the code continues below); then the first non-blank line is kept. The cut
is the one generation stops on (`housecoder.inference.stopping.cut`), so the
streaming stop and this filter always agree, CRLF text included.
"""

from __future__ import annotations

from housecoder.inference.stopping import cut
from housecoder.postprocess.base import PostContext


def keep_first_line(text: str, context: PostContext) -> str:
    if not context.single_line:
        return text
    return cut(text, single_line=True, stop_strings=()).rstrip()
