"""The prompt served for a cursor (pure): the one function the engine (server, CLI, benchmarks), the training
job's samples and the evaluation build their prompts with.

Inputs are the text around the cursor, the repository snippets (best first), the completion budgets and
the model's token counter; the output is the FIM prompt string. Two layouts: `psm` (prefix, suffix,
`<|fim_middle|>`, the model writes from the cursor) and `line-start` (the part of the cursor's line already
typed goes after `<|fim_middle|>`, where a backend heals its last tokens: `typed_part`).
"""

from __future__ import annotations

from collections.abc import Sequence

from housecoder.config import CompletionConfig
from housecoder.prompt.budget import CountTokens, trim_prefix, trim_suffix
from housecoder.prompt.fim import Snippet, build_fim_prompt, split_cursor_line

# the prefix window starts on a multiple of this many lines (`trim_prefix`'s `step_lines`): the lines below
# reuse its keys and values (with the same snippet block in front)
PREFIX_STEP_LINES = 16


def typed_part(prefix: str, budget: CompletionConfig, count: CountTokens, *, heals: bool) -> str:
    """The part of the cursor's line before the cursor, when the prompt takes the line-start layout: "" for the
    psm layout, a backend without token healing, or a typed part over a quarter of the prefix budget."""
    if budget.tuning.layout != "line-start" or not heals:
        return ""
    typed = split_cursor_line(prefix)[1]
    if len(typed) > 4 * budget.max_prefix_tokens or count(typed) > budget.max_prefix_tokens // 4:
        return ""
    return typed


def window_budgets(budget: CompletionConfig, *, cold: bool = False) -> tuple[int, int]:
    """Prefix and suffix tokens; `cold` scales them into `completion.cold_prefill_tokens` (3 : 1)."""
    prefix_tokens, suffix_tokens = budget.max_prefix_tokens, budget.max_suffix_tokens
    if cold:
        prefix_tokens = min(prefix_tokens, budget.tuning.cold_prefill_tokens * 3 // 4)
        suffix_tokens = min(suffix_tokens, budget.tuning.cold_prefill_tokens - prefix_tokens)
    return prefix_tokens, suffix_tokens


def shown(
    prefix: str,
    suffix: str,
    budget: CompletionConfig,
    count: CountTokens,
    *,
    typed: str = "",
    cold: bool = False,
) -> tuple[str, str]:
    """The prefix and suffix the prompt shows: cut to their budgets, the prefix starting on a step line,
    `typed` (the end of `prefix`) outside the prefix budget."""
    prefix_tokens, suffix_tokens = window_budgets(budget, cold=cold)
    head = prefix[: len(prefix) - len(typed)]
    return (
        trim_prefix(head, prefix_tokens, count, step_lines=PREFIX_STEP_LINES) + typed,
        trim_suffix(suffix, suffix_tokens, count),
    )


def cursor_prompt(
    path: str,
    prefix: str,
    suffix: str,
    snippets: Sequence[Snippet],
    budget: CompletionConfig,
    count: CountTokens,
    *,
    repo_name: str | None,
    typed: str = "",
    cold: bool = False,
) -> str:
    """The FIM prompt for a cursor between `prefix` and `suffix` in `path`. `snippets` come best first; the best
    goes last, nearest the current file. `typed` (the end of `prefix`, from `typed_part`) goes after
    `<|fim_middle|>`. Without a `repo_name` the prompt is plain file-level FIM (no path, no snippets)."""
    before, after = shown(prefix, suffix, budget, count, typed=typed, cold=cold)
    return build_fim_prompt(
        prefix=before[: len(before) - len(typed)],
        suffix=after,
        path=path,
        repo_name=repo_name,
        snippets=list(reversed(snippets)),
        middle=typed,
    )
