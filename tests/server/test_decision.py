"""Why a completion showed something or nothing, in one line (`housecoder.status`, `lastCompletion`)."""

from __future__ import annotations

import pytest

from housecoder.completion import CompletionOutput
from housecoder.completion.trigger import Trigger
from housecoder.server.decision import Decision, explain

LINE_END = Trigger(complete=True, multi_line=False, reason="end of a line")


@pytest.mark.parametrize(
    ("output", "shown", "reason"),
    [
        (
            CompletionOutput("", Trigger(False, False, "inside a comment")),
            False,
            "not triggered: inside a comment",
        ),
        (
            CompletionOutput("x)", LINE_END, stopped_by="newline"),
            True,
            "shown: 2 characters (end of a line)",
        ),
        (
            CompletionOutput("x)", LINE_END, cached="typed-through"),
            True,
            "shown: 2 characters (end of a line, from the cache (typed-through))",
        ),
        (
            CompletionOutput("", LINE_END, stopped_by="newline", raw="  return total  # " + "x" * 80),
            False,
            "post-processing removed what the model wrote (stopped by newline): 'return total  # "
            + "x" * 44
            + "…'",
        ),
        (
            CompletionOutput("", LINE_END, stopped_by="eos", raw="\n"),
            False,
            "the model wrote nothing (stopped by eos)",
        ),
    ],
)
def test_each_answer_says_why(output: CompletionOutput, shown: bool, reason: str) -> None:
    assert explain(output) == (shown, reason)


def test_a_decision_is_plain_data() -> None:
    decision = Decision.now("file:///a.py", 3, 4, False, "the document is not open")
    data = decision.as_dict()
    assert data["reason"] == "the document is not open" and data["at"].endswith("Z") and len(data) == 6
