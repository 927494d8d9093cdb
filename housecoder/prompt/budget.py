"""Token budgets for the text around the cursor (pure; token counts come from a callable).

Budgets are in model tokens, counted with the model's own tokenizer through
`count`; characters are never used as a proxy. The prefix keeps the lines
nearest the cursor (its end), the suffix keeps its beginning; both cut at line
boundaries when they can so the model sees whole lines.
"""

from __future__ import annotations

from collections.abc import Callable

CountTokens = Callable[[str], int]


def _fit_lines(lines: list[str], budget: int, count: CountTokens) -> int:
    """How many of `lines`, taken in order, fit in `budget` tokens (per-line counts, then rechecked)."""
    used = 0
    taken = 0
    for line in lines:
        cost = count(line)
        if used + cost > budget:
            break
        used += cost
        taken += 1
    return taken


def trim_prefix(prefix: str, budget: int, count: CountTokens) -> str:
    """The longest tail of `prefix` (whole lines, except a too-long cursor line) within `budget` tokens."""
    if budget <= 0:
        return ""
    if count(prefix) <= budget:
        return prefix
    lines = prefix.splitlines(keepends=True)
    taken = _fit_lines(lines[::-1], budget, count)
    while taken > 0 and count("".join(lines[len(lines) - taken :])) > budget:
        taken -= 1  # tokens merge across line breaks; shrink until the joined text fits
    if taken == 0:
        # The cursor line alone is over budget: keep its end, character by character from the left.
        line = lines[-1]
        low, high = 0, len(line)
        while low < high:
            mid = (low + high) // 2
            if count(line[mid:]) <= budget:
                high = mid
            else:
                low = mid + 1
        return line[low:]
    return "".join(lines[len(lines) - taken :])


def trim_suffix(suffix: str, budget: int, count: CountTokens) -> str:
    """The longest head of `suffix` in whole lines within `budget` tokens."""
    if budget <= 0:
        return ""
    if count(suffix) <= budget:
        return suffix
    lines = suffix.splitlines(keepends=True)
    taken = _fit_lines(lines, budget, count)
    while taken > 0 and count("".join(lines[:taken])) > budget:
        taken -= 1
    return "".join(lines[:taken])
