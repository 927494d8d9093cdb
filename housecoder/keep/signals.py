"""The numbers a keep-probability is computed from, for one suggestion; pure.

Each is known once the model has written its text, on every runtime that returns log-probabilities (the
local ones always; an OpenAI-compatible engine where it sends `logprobs`): how sure the model was (the sum,
mean and lowest log-probability of its tokens, the first token's lead over the runner-up), how much it wrote
and whether post-processing cut it, where the cursor is (the trigger's reason, inside a word), whether it had
repository context or an adapter, how long ago the user last accepted or rejected a suggestion, and whether
the text repeats the lines around the cursor. The shipped model reads none of the time since a decision
(benchmark tasks have no user); a workspace's refit may learn it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

# known before the model writes anything: where the cursor is and what the prompt had
PLACE: tuple[str, ...] = (
    "multi_line",
    "empty_line",
    "after_opener",
    "mid_line",
    "mid_word",
    "context",
    "adapter",
    "since_decision",
)
# the order of a model's coefficients
FEATURES: tuple[str, ...] = (
    "sum_logprob",
    "mean_logprob",
    "min_logprob",
    "first_logprob",
    "first_margin",
    "log_tokens",
    "log_chars",
    "cut",
    *PLACE,
    "repeats_prefix",
    "repeats_suffix",
    "stopped_eos",
    "stopped_length",
)
# log-probabilities below this are taken as this (a token the model chose against all odds says no more)
FLOOR = -20.0
MARGIN_CAP = 20.0
RECENT_LINES = 20  # prefix lines a suggestion's first line is compared with
DECISION_CAP_S = 600.0  # a decision longer ago than this (or none yet) is as good as none


def place(
    *,
    prefix: str,
    reason: str,
    multi_line: bool,
    context: bool,
    adapter: bool,
    since_decision: float | None = None,
) -> dict[str, float]:
    """The `PLACE` signals of a cursor after `prefix` (the trigger said `reason`), `since_decision` seconds
    after the user last accepted or rejected a suggestion in the folder (None: not yet)."""
    since = DECISION_CAP_S if since_decision is None else min(DECISION_CAP_S, max(0.0, since_decision))
    line = prefix.rsplit("\n", 1)[-1]
    return {
        "multi_line": float(multi_line),
        "empty_line": float(reason.startswith("empty line")),
        "after_opener": float("block opener" in reason),
        "mid_line": float(bool(line.strip())),
        "mid_word": float(bool(line) and (line[-1].isalnum() or line[-1] == "_")),
        "context": float(context),
        "adapter": float(adapter),
        "since_decision": math.log1p(since),
    }


def floored(logprobs: Sequence[float]) -> list[float]:
    return [max(FLOOR, logprob) for logprob in logprobs]


def signals(
    *,
    logprobs: Sequence[float],
    first_margin: float | None,
    raw: str,
    text: str,
    prefix: str,
    suffix: str,
    reason: str,
    multi_line: bool,
    context: bool,
    adapter: bool,
    stopped_by: str,
    since_decision: float | None = None,
) -> dict[str, float] | None:
    """The `FEATURES` of a suggestion `text` (post-processed from the model's `raw` text) at the cursor between
    `prefix` and `suffix`; None where there is nothing to score (no text, or the runtime gave no
    log-probabilities)."""
    if not text.strip() or not logprobs:
        return None
    scores = floored(logprobs)
    line = prefix.rsplit("\n", 1)[-1]
    first = text.strip("\n").split("\n", 1)[0].strip()
    # the first line the text writes: the cursor's own, unless the text starts on the next line
    written = first if text.lstrip(" \t").startswith("\n") else (line + first).strip()
    recent = {old.strip() for old in prefix.split("\n")[-RECENT_LINES - 1 : -1] if old.strip()}
    following = next((rest.strip() for rest in suffix.split("\n")[1:] if rest.strip()), "")
    where = place(
        prefix=prefix,
        reason=reason,
        multi_line=multi_line,
        context=context,
        adapter=adapter,
        since_decision=since_decision,
    )
    found = {
        "sum_logprob": sum(scores),
        "mean_logprob": sum(scores) / len(scores),
        "min_logprob": min(scores),
        "first_logprob": scores[0],
        "first_margin": min(MARGIN_CAP, first_margin or 0.0),
        "log_tokens": math.log1p(len(scores)),
        "log_chars": math.log1p(len(text)),
        "cut": float(len(text.rstrip()) < len(raw.rstrip())),
        "repeats_prefix": float(bool(first) and written in recent),
        "repeats_suffix": float(bool(first) and written == following),
        "stopped_eos": float(stopped_by == "eos"),
        "stopped_length": float(stopped_by == "length"),
    } | where
    return {name: found[name] for name in FEATURES}
