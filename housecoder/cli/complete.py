"""`housecoder complete FILE[:LINE[:COL]]`: one completion at a cursor, printed to stdout."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from housecoder.cli.common import RichProgress, State, stderr_console, store_for


def parse_location(location: str) -> tuple[Path, int | None, int | None]:
    """Split `FILE[:LINE[:COL]]` (1-based) from the right, so paths may contain colons."""
    parts = location.rsplit(":", 2)
    numbers: list[int] = []
    while len(parts) > 1 and parts[-1].isdigit():
        numbers.insert(0, int(parts.pop()))
    path = Path(":".join(parts))
    line = numbers[0] if numbers else None
    col = numbers[1] if len(numbers) > 1 else None
    return path, line, col


def split_at_cursor(text: str, line: int | None, col: int | None) -> tuple[str, str]:
    """(prefix, suffix) of `text` at a 1-based line/column; no line = end of file, no column = end of line."""
    from housecoder.errors import HousecoderError

    if line is None:
        return text, ""
    # Lines as editors count them: only "\n" separates lines, and the empty line after a final
    # newline is a line too (new code is typed there).
    lines = text.split("\n")
    if not 1 <= line <= len(lines):
        raise HousecoderError(f"line {line} is outside the file (it has {len(lines)} lines)")
    body = lines[line - 1].removesuffix("\r")
    if col is None:
        col = len(body) + 1
    if not 1 <= col <= len(body) + 1:
        raise HousecoderError(f"column {col} is outside line {line} (it has {len(body)} characters)")
    offset = sum(len(item) + 1 for item in lines[: line - 1]) + col - 1
    return text[:offset], text[offset:]


def complete(
    ctx: typer.Context,
    location: Annotated[str, typer.Argument(help="FILE, FILE:LINE or FILE:LINE:COL (1-based); the cursor.")],
    model: Annotated[str | None, typer.Option("--model", "-m", help="Code model (default: models.code_model).")] = None,
    max_new_tokens: Annotated[int | None, typer.Option("--max-new-tokens", min=1, help="Generation budget in tokens.")] = None,
    multi_line: Annotated[bool, typer.Option("--multi-line/--single-line", help="Complete a block instead of one line.")] = False,
    show_prompt: Annotated[bool, typer.Option("--show-prompt", help="Print the prompt the model saw (to stderr).")] = False,
) -> None:
    """Complete the code at a cursor in a file with the local code model."""
    from housecoder.errors import HousecoderError

    path, line, col = parse_location(location)
    if not path.is_file():
        raise HousecoderError(f"{path}: no such file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise HousecoderError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from err
    except OSError as err:
        raise HousecoderError(f"{path}: cannot read: {err.strerror or err}") from err
    prefix, suffix = split_at_cursor(text, line, col)

    state: State = ctx.obj
    settings = state.settings(path.parent)
    root = state.project_root(path.parent)
    console = stderr_console()
    resolved = store_for(settings).resolve(model or settings.models.code_model, "code", progress=RichProgress(console))

    from housecoder.inference.base import GenerationRequest
    from housecoder.inference.transformers_backend import TransformersBackend
    from housecoder.models.loading import load_code_model
    from housecoder.prompt import build_fim_prompt, trim_prefix, trim_suffix

    with console.status(f"loading {resolved.name}"):
        backend = TransformersBackend(load_code_model(resolved.path, settings.models))
    budget = settings.completion
    try:
        relative = path.resolve().relative_to(root).as_posix()
    except ValueError:
        relative = path.name
    prompt = build_fim_prompt(
        prefix=trim_prefix(prefix, budget.max_prefix_tokens, backend.count_tokens),
        suffix=trim_suffix(suffix, budget.max_suffix_tokens, backend.count_tokens),
        path=relative,
        repo_name=root.name,
    )
    if show_prompt:
        console.rule("prompt")
        console.print(prompt, markup=False, highlight=False, soft_wrap=True)
        console.rule("completion")
    request = GenerationRequest(
        prompt=prompt,
        max_new_tokens=max_new_tokens or budget.max_new_tokens,
        single_line=not multi_line,
        temperature=budget.temperature,
    )
    from housecoder.postprocess import PostContext, postprocess

    with console.status("generating"):
        result = backend.generate(request)
    typer.echo(postprocess(result.text, PostContext(prefix=prefix, suffix=suffix, single_line=not multi_line)))
    console.print(
        f"[dim]{result.new_tokens} tokens in {result.seconds:.1f} s, prompt {result.prompt_tokens} tokens, "
        f"stopped by {result.stopped_by}[/]"
    )
