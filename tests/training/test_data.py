"""Encoding: where the end-of-text token after a middle counts in the loss (`train.end_of_text`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from housecoder.training.data import IGNORE, encode, ends_inside_line, served_one_line
from housecoder.training.samples import Sample


def _sample(prefix: str, middle: str, suffix: str, kind: str = "line") -> Sample:
    prompt = f"<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>"
    return Sample("a.py", "python", kind, len(prefix), middle, prompt, (), prefix, suffix)


CASES = [
    # (prefix, middle, suffix, served one line?, code after the middle on its line?)
    ("def f(x):\n    y = ", "x + 1", "\n    return y\n", True, False),  # rest of a line: cut at the newline
    ("def f(x):\n    y = x\n    ", "return y", "\n", True, False),  # a statement on an empty line, no opener
    ("def f(x):\n    y = g(", "x, 1", ")\n    return y\n", False, True),  # arguments: stop before the ")"
    ("def f(x):\n    y = ", "g(x)", " + 1\n", False, True),  # an expression inside the line
    ("def f(x):\n    ", "y = x\n    return y", "\n", False, False),  # a two-line body: the scope stop ends it
    (
        "def f(x):\n    ",
        "return x",
        "\n",
        False,
        False,
    ),  # after a block opener the editor serves several lines
    ("if ok:\n    a = 1\nelse:\n    ", "a = 2", "\nprint(a)\n", False, False),  # likewise after `else:`
    ("x = [\n    ", "1, 2", "\n]\n", False, False),  # after an opening bracket
    ("values = ", "load()", "   \n", True, False),  # trailing blanks after the middle still end the line
    ("def f(x):\n    ", "y = x\n    z = (", "y)\n    return z\n", False, True),  # two lines ending inside one
]


@pytest.mark.parametrize(("prefix", "middle", "suffix", "one_line", "inside"), CASES)
def test_served_one_line(prefix: str, middle: str, suffix: str, one_line: bool, inside: bool) -> None:
    assert served_one_line(_sample(prefix, middle, suffix)) is one_line
    assert ends_inside_line(_sample(prefix, middle, suffix)) is inside


@pytest.mark.parametrize(("prefix", "middle", "suffix", "one_line", "inside"), CASES)
def test_end_of_text_counts_only_where_the_editor_uses_it(
    tiny_qwen_dir: Path, prefix: str, middle: str, suffix: str, one_line: bool, inside: bool
) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_qwen_dir)
    sample = _sample(prefix, middle, suffix)
    always = encode(sample, tokenizer)
    served = encode(sample, tokenizer, "multi-line")
    assert served.input_ids == always.input_ids  # the same sequence; only its labels differ
    end = always.input_ids[-1]
    assert tokenizer.convert_ids_to_tokens(end) == "<|endoftext|>" and always.labels[-1] == end
    assert always.labels[:-1] == served.labels[:-1]  # the middle's own tokens count either way
    assert served.labels[-1] == (IGNORE if one_line else end)
    assert served.target_tokens == always.target_tokens - int(one_line)
    inline = encode(sample, tokenizer, "inline")
    assert inline.input_ids == always.input_ids and inline.labels[:-1] == always.labels[:-1]
    assert inline.labels[-1] == (end if inside else IGNORE)
