"""Stop decisions and cuts on generated text."""

from __future__ import annotations

import pytest

from housecoder.inference.stopping import cut, stop_reason


@pytest.mark.parametrize(
    ("text", "single_line", "stops", "reason", "kept"),
    [
        ("return x", True, (), None, "return x"),
        ("return x\n", True, (), "newline", "return x"),
        ("return x\n    y", True, (), "newline", "return x"),
        ("\n    return x", True, (), None, "\n    return x"),  # a completion may start on the next line
        ("\n    return x\n", True, (), "newline", "\n    return x"),
        ("\n", True, (), None, "\n"),
        ("a\nb\n", False, (), None, "a\nb\n"),
        ("a)\nb", False, ("\nb",), "stop_string", "a)"),
        ("foo", False, ("",), None, "foo"),
        ("\r\n    return x", True, (), None, "\r\n    return x"),  # CRLF files
        ("  \n    return x", True, (), None, "  \n    return x"),
        ("return x\r\ny", True, (), "newline", "return x"),
    ],
)
def test_stop_and_cut(
    text: str, single_line: bool, stops: tuple[str, ...], reason: str | None, kept: str
) -> None:
    assert stop_reason(text, single_line=single_line, stop_strings=stops) == reason
    assert cut(text, single_line=single_line, stop_strings=stops) == kept


def test_scope_check_stops_a_multi_line_generation_and_keeps_its_text() -> None:
    def left(text: str) -> bool:
        return "\ndef " in text

    assert stop_reason("x = 1\n", single_line=False, stop_strings=(), scope_ended=left) is None
    assert stop_reason("x = 1\ndef ", single_line=False, stop_strings=(), scope_ended=left) == "scope"
    assert stop_reason("x\ndef ", single_line=False, stop_strings=("x",), scope_ended=left) == "stop_string"
    assert cut("x = 1\ndef ", single_line=False, stop_strings=()) == "x = 1\ndef "


def test_a_spent_time_budget_ends_at_a_line_end_and_keeps_whole_lines() -> None:
    from housecoder.inference.base import GenerationRequest
    from housecoder.inference.stopping import out_of_time, whole_lines
    from housecoder.inference.streaming import run_generation

    assert not out_of_time("x = 1", " 1", 1.5, 1.0)  # the line is not finished yet
    assert not out_of_time("x = 1\n", "\n", 0.5, 1.0) and not out_of_time("x = 1\n", "\n", 5.0, None)
    assert out_of_time("x = 1\n  ", "\n  ", 1.5, 1.0)
    # the line end came before the budget ran out: wait for the next
    assert not out_of_time("x = 1\ny", "y", 1.5, 1.0)
    # the line being written has taken the budget alone: stop inside it (a line that never ends must not
    # hold the model); a slow prefill never cuts a line
    assert out_of_time("x = 1\ny", "y", 2.5, 1.0, 1.5) and out_of_time("'a very long", " long", 2.5, 1.0, 1.5)
    assert not out_of_time("'a very long", " long", 9.0, 1.0, 0.5)
    assert whole_lines("x = 1\n    'a very long") == "x = 1" and whole_lines("'a very long") == ""
    pieces = ["a = 1", "\n    b", " = 2", "\n", "c = 3\n"]

    def generate(max_seconds: float | None) -> tuple[str, str]:
        generation = run_generation(
            GenerationRequest("", 64, max_seconds=max_seconds),
            None,
            prompt_tokens=1,
            reused_tokens=0,
            prefill=lambda _: True,
            next_token=lambda previous, allowed: 0 if previous is None else previous + 1,
            decode=lambda tokens: "".join(pieces[: len(tokens)]),
            stop_ids={len(pieces)},
        )
        return generation.stopped_by, generation.text

    assert generate(0.0) == (
        "time",
        "a = 1",
    )  # spent at once: the first whole line, the one being written dropped
    assert generate(None) == ("eos", "a = 1\n    b = 2\nc = 3\n")
