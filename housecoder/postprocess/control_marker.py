"""Stop at a model control marker written out as text (`<|cursor|>`, `<|endoftext|>`, `<|file_sep|>` ...).

Code models learn such markers from edit-prediction and chat data; generated as ordinary text
(not as the special token the runtime stops on) they would reach the editor. A marker that
the document itself contains (a tokenizer's source, say) is code, not a control marker.
"""

from __future__ import annotations

import re

from housecoder.postprocess.base import PostContext

MARKER = re.compile(r"<\|[A-Za-z][A-Za-z0-9_]*\|>")


def stop_at_control_marker(text: str, context: PostContext) -> str:
    for found in MARKER.finditer(text):
        if found.group() not in context.prefix and found.group() not in context.suffix:
            return text[: found.start()].rstrip(" \t")
    return text
