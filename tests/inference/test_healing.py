"""Token healing, pure: which tokens are dropped, which may follow, and the text shown after them."""

from __future__ import annotations

import numpy as np
import pytest

from housecoder.inference.base import GenerationRequest
from housecoder.inference.errors import CannotHeal
from housecoder.inference.healing import Healing, Vocabulary, plan_healing, tokens_to_drop
from housecoder.inference.streaming import run_generation

PIECES = [
    b"input",
    b":",
    b" ",
    b" str",
    b"  ",
    b"get",
    b"_def",
    b"aul",
    b"_default",
    b"t",
    b"_model",
    b"_settings",
    b" =",
    b" ==",
    b"=",
    b"\xe5",
    b"\x90\x8d",
    "名".encode(),
    "前".encode(),
    b"(",
    b"\n",
    b"",
]
VOCAB = Vocabulary(PIECES, excluded=[len(PIECES) - 1])


def ids(*pieces: bytes) -> list[int]:
    return [PIECES.index(piece) for piece in pieces]


@pytest.mark.parametrize(
    ("pieces", "healable", "max_tokens", "dropped"),
    [
        ((b"input", b":", b" "), 7, 4, 1),  # a trailing space: only the space
        ((b"get", b"_def", b"aul"), 10, 4, 3),  # a partial identifier: back to the word's start
        ((b"get", b"_def", b"aul"), 10, 2, 2),  # ... at most max_tokens
        ((b"get", b"_def", b"aul"), 7, 4, 2),  # ... never before the typed text
        ((b"(", b"get"), 4, 4, 1),  # a word after a symbol: the word
        ((b"x", b" ="), 3, 4, 1),  # a partial operator
        (
            (b"\xe5", b"\x90\x8d"),
            3,
            4,
            2,
        ),  # a character split over two tokens: both (bytes over 0x7f are word bytes)
        ((b"get",), 0, 4, 0),  # nothing typed
    ],
)
def test_tokens_to_drop(pieces: tuple[bytes, ...], healable: int, max_tokens: int, dropped: int) -> None:
    assert tokens_to_drop(pieces, healable, max_tokens) == dropped


def test_consistent_tokens_start_with_the_rest_or_are_a_prefix_of_it() -> None:
    def pieces(rest: bytes) -> set[bytes]:
        return {PIECES[i] for i in VOCAB.consistent(rest)}

    assert pieces(b" ") == {b" ", b" str", b"  ", b" =", b" =="}
    assert pieces(b"_def") == {b"_def", b"_default"}
    assert pieces(b"aul") == {b"aul"}
    assert pieces(b"get_d") == {b"get"}  # a prefix of the rest
    assert pieces(b"\xe5") == {b"\xe5", "名".encode(), "前".encode()}  # part of a multi-byte character


def test_plan_drops_the_tail_and_the_control_token_is_never_healed() -> None:
    prompt = ids(b"(", b"get", b"_def", b"aul")
    kept, healing = plan_healing(prompt, VOCAB, "get_defaul", max_tokens=4)
    assert kept == ids(b"(") and healing is not None and healing.dropped == b"get_defaul"
    kept, healing = plan_healing(prompt, VOCAB, "", max_tokens=4)
    assert kept == prompt and healing is None


def test_a_tail_no_token_continues_is_refused() -> None:
    no_space = Vocabulary(
        PIECES, excluded=[PIECES.index(p) for p in (b" ", b" str", b"  ", b" =", b" ==", b"")]
    )
    with pytest.raises(CannotHeal):
        plan_healing(ids(b"input", b":", b" "), no_space, "input: ", max_tokens=4)


def _generate(prompt: list[int], typed: str, steps: list[dict[bytes, float]]) -> tuple[str, list[bytes]]:
    """Greedy generation through the shared loop, honouring `allowed`: step n prefers the pieces of `steps[n]`
    in their order of score (others score -1); after the steps the model ends the line."""
    kept, healing = plan_healing(prompt, VOCAB, typed, max_tokens=4)
    chosen: list[bytes] = []

    def next_token(previous: int | None, allowed: np.ndarray | None) -> int:
        scores = steps[len(chosen)] if len(chosen) < len(steps) else {b"\n": 1.0}
        ranking = np.array([scores.get(piece, -1.0) for piece in PIECES])
        pool = allowed if allowed is not None else np.arange(len(PIECES) - 1)
        token = int(pool[int(ranking[pool].argmax())])
        chosen.append(PIECES[token])
        return token

    request = GenerationRequest("", 8, single_line=True, typed=typed, heal_tokens=4)
    generation = run_generation(
        request,
        None,
        prompt_tokens=len(kept),
        reused_tokens=0,
        prefill=lambda _: True,
        next_token=next_token,
        decode=lambda t: "",
        stop_ids=(),
        healing=healing,
    )
    return generation.text, chosen


def test_after_a_space_the_model_writes_the_word_with_its_space_once() -> None:
    text, chosen = _generate(
        ids(b"input", b":", b" "), "input: ", [{b"  ": 2.0, b" str": 1.0, b"t": 0.5}, {b"t": 1.0}]
    )
    assert chosen[0] == b"  "  # the likeliest token that starts with the dropped space: allowed
    assert text == " t"
    text, chosen = _generate(ids(b"input", b":", b" "), "input: ", [{b"t": 3.0, b" str": 2.0}])
    assert chosen[0] == b" str" and text == "str"  # `t` is likelier but does not write the space


def test_a_partial_identifier_is_written_in_the_models_own_tokens() -> None:
    text, chosen = _generate(
        ids(b"(", b"get", b"_def", b"aul"),
        "get_defaul",
        [{b"(": 5.0, b"get": 1.0}, {b"_default": 2.0, b"_def": 1.0}, {b"_model": 1.0}],
    )
    assert chosen[:3] == [b"get", b"_default", b"_model"]
    assert text == "t_model"


def test_a_character_split_over_tokens_is_written_whole_before_anything_else() -> None:
    text, chosen = _generate(
        ids(b"(", b"\xe5", b"\x90\x8d"),
        "名",
        [{"前".encode(): 3.0, "名".encode(): 2.0}, {"前".encode(): 1.0}],
    )
    assert chosen[0] == "名".encode()  # "前" is likelier but does not write the dropped bytes
    assert text == "前"


def test_an_operator_is_healed_into_a_longer_one() -> None:
    text, chosen = _generate(ids(b"(", b" ="), " =", [{b" ==": 2.0, b" =": 1.0}, {b"t": 1.0}])
    assert chosen[0] == b" ==" and text == "=t"


def test_healing_is_seen_as_finished_only_once_the_dropped_bytes_are_written() -> None:
    healing = Healing(VOCAB, b"_def")
    assert healing.allowed() is not None
    healing.advance(PIECES.index(b"_default"))
    assert healing.done and healing.allowed() is None
    assert healing.visible([PIECES.index(b"_default")]) == "ault"
