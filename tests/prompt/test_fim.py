"""The FIM prompt format, table-driven against the layout in the design notes."""

from __future__ import annotations

import pytest

from housecoder.prompt import Snippet, build_fim_prompt

CASES = [
    pytest.param(
        {"prefix": "def f(", "suffix": ")\n"},
        "<|fim_prefix|>def f(<|fim_suffix|>)\n<|fim_middle|>",
        id="file-level without a repository name",
    ),
    pytest.param(
        {"prefix": "x = ", "suffix": "", "path": "pkg/mod.py", "repo_name": "demo"},
        "<|repo_name|>demo\n<|file_sep|>pkg/mod.py\n<|fim_prefix|>x = <|fim_suffix|><|fim_middle|>",
        id="repository-level, no snippets",
    ),
    pytest.param(
        {
            "prefix": "load(",
            "suffix": ")",
            "path": "app.py",
            "repo_name": "demo",
            "snippets": [Snippet("util.py", "def load(p):\n    pass\n\n"), Snippet("b.py", "B = 1")],
        },
        "<|repo_name|>demo\n"
        "<|file_sep|>util.py\ndef load(p):\n    pass\n"
        "<|file_sep|>b.py\nB = 1\n"
        "<|file_sep|>app.py\n"
        "<|fim_prefix|>load(<|fim_suffix|>)<|fim_middle|>",
        id="snippets in order, each ending in exactly one newline",
    ),
    pytest.param(
        {
            "prefix": "a<|fim_middle|>b",
            "suffix": "<|endoftext|>c",
            "path": "x<|file_sep|>.py",
            "repo_name": "r",
        },
        "<|repo_name|>r\n<|file_sep|>x.py\n<|fim_prefix|>ab<|fim_suffix|>c<|fim_middle|>",
        id="control tokens in user text are removed",
    ),
    pytest.param(
        {"prefix": "a<|fim_<|endoftext|>middle|>b<|im_end|>", "suffix": ""},
        "<|fim_prefix|>ab<|fim_suffix|><|fim_middle|>",
        id="removing one token never assembles another",
    ),
]


@pytest.mark.parametrize(("arguments", "expected"), CASES)
def test_prompt_layout(arguments: dict[str, object], expected: str) -> None:
    assert build_fim_prompt(**arguments) == expected  # type: ignore[arg-type]


def test_stable_part_comes_first() -> None:
    """Two keystrokes in the same file share everything up to the cursor: what makes KV reuse pay."""
    snippets = [Snippet("util.py", "def load(p): ...")]
    one = build_fim_prompt(prefix="x = lo", suffix="\n", path="a.py", repo_name="r", snippets=snippets)
    two = build_fim_prompt(prefix="x = loa", suffix="\n", path="a.py", repo_name="r", snippets=snippets)
    common = len(one) - len("o<|fim_suffix|>\n<|fim_middle|>")
    assert one[:common] == two[:common]
