"""Balance brackets against the suffix: never close twice what the text after the cursor closes.

With the cursor in `print(|)` a completion `"hi")` would leave `print("hi"))`.
Closing brackets at the end of the completion that close something opened
before the completion, and that the rest of the cursor line closes anyway,
are removed.
"""

from __future__ import annotations

from housecoder.postprocess.base import PostContext

PAIRS = {")": "(", "]": "[", "}": "{"}


def _unmatched_closers(text: str) -> list[tuple[int, str]]:
    """Closers in `text` with no opener inside `text` (position, char), in order (strings ignored)."""
    stack: list[str] = []
    loose: list[tuple[int, str]] = []
    quote: str | None = None
    escaped = False
    for position, char in enumerate(text):
        if quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = None
            continue
        if char in "\"'`":
            quote = char
        elif char in "([{":
            stack.append(char)
        elif char in PAIRS:
            if stack and stack[-1] == PAIRS[char]:
                stack.pop()
            else:
                loose.append((position, char))
    return loose


def balance_brackets(text: str, context: PostContext) -> str:
    after = context.line_after.lstrip()
    leading_closers = ""
    for char in after:
        if char in PAIRS:
            leading_closers += char
        else:
            break
    if not leading_closers:
        return text
    body = text.rstrip()
    loose = _unmatched_closers(body)
    # Remove, from the end, loose closers that the suffix's leading closers will provide.
    removable = 0
    for (position, char), expected in zip(reversed(loose), reversed(leading_closers), strict=False):
        if char != expected or position != len(body) - 1 - removable:
            break
        removable += 1
    return body[: len(body) - removable] if removable else text
