"""Token budgets for the text around the cursor (pure; token counts come from a callable).

Budgets are in model tokens, counted with the model's own tokenizer through
`count`; characters are never used as a proxy. The prefix keeps the lines
nearest the cursor (its end), the suffix keeps its beginning; both cut at line
boundaries when they can so the model sees whole lines.
"""

from __future__ import annotations

from collections.abc import Callable

CountTokens = Callable[[str], int]


def _keep_lines(text: str, budget: int, count: CountTokens, *, from_end: bool) -> str:
    """The most whole lines of `text`, from its end or its start, whose joined text fits `budget`."""
    lines = text.splitlines(keepends=True)

    def joined(n: int) -> str:
        return "".join(lines[len(lines) - n :] if from_end else lines[:n])

    used = taken = 0
    for line in reversed(lines) if from_end else lines:
        cost = count(line)  # per-line counts first: one tokenizer call per line, not per candidate
        if used + cost > budget:
            break
        used += cost
        taken += 1
    while taken > 0 and count(joined(taken)) > budget:
        taken -= 1  # tokens merge across line breaks; shrink until the joined text fits
    return joined(taken)


def trim_prefix(prefix: str, budget: int, count: CountTokens, *, step_lines: int = 0) -> str:
    """The longest tail of `prefix` (whole lines, except a too-long cursor line) within `budget` tokens.

    With `step_lines` the tail starts at a line number that is a multiple of it (a few lines later than it
    could): as the cursor moves down the file the start stays put for about that many lines, so prompts
    for those lines share their front, token for token.
    """
    if budget <= 0:
        return ""
    if count(prefix) <= budget:
        return prefix
    kept = _keep_lines(prefix, budget, count, from_end=True)
    if kept and step_lines > 0:
        lines = prefix.splitlines(keepends=True)
        start = len(lines) - len(kept.splitlines(keepends=True))
        snapped = -(-start // step_lines) * step_lines  # the next multiple at or after the start
        if snapped < len(lines) - 1:  # two lines at least
            return "".join(lines[snapped:])
    if kept:
        return kept
    # The cursor line alone is over budget: keep its end, cutting characters from the left.
    line = prefix.splitlines(keepends=True)[-1]
    low, high = 0, len(line)
    while low < high:
        mid = (low + high) // 2
        if count(line[mid:]) <= budget:
            high = mid
        else:
            low = mid + 1
    return line[low:]


def trim_suffix(suffix: str, budget: int, count: CountTokens) -> str:
    """The longest head of `suffix` in whole lines within `budget` tokens."""
    if budget <= 0:
        return ""
    if count(suffix) <= budget:
        return suffix
    return _keep_lines(suffix, budget, count, from_end=False)
