"""Qwen2.5-Coder fill-in-the-middle prompts, repository-level, as one pure function.

Layout (stable part first so a KV cache can be reused between keystrokes):

    <|repo_name|>{repo}
    <|file_sep|>{snippet path}
    {snippet text}
    <|file_sep|>{current path}
    <|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>

Without a repository name the prompt is plain file-level FIM:
`<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>`.

`middle` is text the model should continue after `<|fim_middle|>`: the
line-start layout ends the prefix at the start of the cursor's line and puts
the part of the line already typed there, so that keystrokes inside a line
only append tokens (`split_cursor_line`).
The server and the training job both call `build_fim_prompt`, so the adapter is
trained on exactly the prompts it will be served.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class FimTokens:
    """The control tokens of one model family's FIM format."""

    repo_name: str = "<|repo_name|>"
    file_sep: str = "<|file_sep|>"
    prefix: str = "<|fim_prefix|>"
    suffix: str = "<|fim_suffix|>"
    middle: str = "<|fim_middle|>"
    pad: str = "<|fim_pad|>"
    end_of_text: str = "<|endoftext|>"

    chat_end: str = "<|im_end|>"
    chat_start: str = "<|im_start|>"

    def all(self) -> tuple[str, ...]:
        return (
            self.repo_name,
            self.file_sep,
            self.prefix,
            self.suffix,
            self.middle,
            self.pad,
            self.end_of_text,
            self.chat_end,
            self.chat_start,
        )


FIM = FimTokens()


@dataclass(frozen=True)
class Snippet:
    """A piece of another file put in the prompt as context."""

    path: str
    text: str


def strip_controls(text: str, tokens: FimTokens = FIM) -> str:
    """Remove control tokens that appear literally in user text, so they cannot hijack the format.

    Repeated until nothing changes: removing one token must not assemble another
    (`<|fim_<|endoftext|>middle|>`).
    """
    previous = None
    while previous != text:
        previous = text
        for token in tokens.all():
            text = text.replace(token, "")
    return text


def build_fim_prompt(
    *,
    prefix: str,
    suffix: str,
    path: str | None = None,
    repo_name: str | None = None,
    snippets: Sequence[Snippet] = (),
    middle: str = "",
    tokens: FimTokens = FIM,
) -> str:
    """The FIM prompt for a cursor between `prefix` + `middle` and `suffix` in file `path`."""
    body = (
        f"{tokens.prefix}{strip_controls(prefix, tokens)}"
        f"{tokens.suffix}{strip_controls(suffix, tokens)}{tokens.middle}{strip_controls(middle, tokens)}"
    )
    if repo_name is None:
        return body
    parts = [f"{tokens.repo_name}{strip_controls(repo_name, tokens)}\n"]
    for snippet in snippets:
        text = strip_controls(snippet.text, tokens).rstrip("\n")
        parts.append(f"{tokens.file_sep}{strip_controls(snippet.path, tokens)}\n{text}\n")
    parts.append(f"{tokens.file_sep}{strip_controls(path or 'untitled', tokens)}\n")
    parts.append(body)
    return "".join(parts)


def split_cursor_line(prefix: str) -> tuple[str, str]:
    """`prefix` up to the start of the cursor's line, and the part of that line before the cursor."""
    start = prefix.rfind("\n") + 1
    return prefix[:start], prefix[start:]
