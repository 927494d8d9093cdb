"""`housecoder complete FILE[:LINE[:COL]]`: one completion at a cursor, printed to stdout."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from housecoder.cli.common import RichProgress, State, stderr_console

if TYPE_CHECKING:
    from rich.console import Console

    from housecoder.completion import CompletionOutput


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
    line_option: Annotated[
        int | None, typer.Option("--line", "-l", min=1, help="Cursor line (1-based).")
    ] = None,
    col_option: Annotated[
        int | None, typer.Option("--col", "-c", min=1, help="Cursor column (1-based).")
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Code model (default: models.code_model).")
    ] = None,
    max_new_tokens: Annotated[
        int | None, typer.Option("--max-new-tokens", min=1, help="Generation budget in tokens.")
    ] = None,
    multi_line: Annotated[
        bool | None,
        typer.Option(
            "--multi-line/--single-line", help="Force a block or one line (default: decided at the cursor)."
        ),
    ] = None,
    no_context: Annotated[
        bool, typer.Option("--no-context", help="Complete from the file alone, without the index.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print completion, snippets and timings as JSON.")
    ] = False,
    show_prompt: Annotated[
        bool, typer.Option("--show-prompt", help="Print the prompt the model saw (to stderr).")
    ] = False,
) -> None:
    """Complete the code at a cursor with the same pipeline as the server: context, prompt, model, filters."""
    import json

    from housecoder.errors import HousecoderError

    path, line, col = parse_location(location)
    line, col = line_option or line, col_option or col
    if not path.is_file():
        raise HousecoderError(f"{path}: no such file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise HousecoderError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from err
    except OSError as err:
        raise HousecoderError(f"{path}: cannot read: {err.strerror or err}") from err
    prefix, _ = split_at_cursor(text, line, col)

    state: State = ctx.obj
    settings = state.settings(path.parent)
    root = state.project_root(path.parent)
    overrides: dict[str, dict[str, object]] = {}
    if model:
        overrides["models"] = {"code_model": model}
    if max_new_tokens:
        overrides["completion"] = {"max_new_tokens": max_new_tokens}
    if overrides:
        settings = settings.model_copy(
            update={
                name: getattr(settings, name).model_copy(update=values) for name, values in overrides.items()
            }
        )
    console = stderr_console()
    from housecoder.completion import CompletionEngine, CompletionInput
    from housecoder.completion.loading import load_backend
    from housecoder.indexer.errors import IndexNotFound
    from housecoder.indexer.service import open_retriever
    from housecoder.syntax.languages import language_for

    with console.status(f"loading {settings.models.code_model}"):
        backend = load_backend(settings, RichProgress(console), repo_root=root)  # the server's adapter choice
    if backend.adapter is not None:
        from rich.markup import escape

        console.print(f"[dim]adapter[/] {escape(str(backend.adapter))}", highlight=False, soft_wrap=True)
    retriever = None
    if not no_context:
        try:
            retriever = open_retriever(root, settings, RichProgress(console))
        except IndexNotFound:
            console.print(
                f"[yellow]no index for {root.name}: completing without repository context "
                "(run `housecoder index` first)[/]",
                highlight=False,
                soft_wrap=True,
            )
    try:
        relative = path.resolve().relative_to(root).as_posix()
    except ValueError:
        relative = path.name
    engine = CompletionEngine(backend, settings, repo_name=root.name, retriever=retriever)
    # asked for: shown whatever its keep-probability (`p_keep` in --json)
    request = CompletionInput(
        relative, text, len(prefix), language_for(relative), multi_line=multi_line, explicit=True
    )
    with console.status("completing"):
        output = engine.complete(request)
    if as_json:
        typer.echo(
            json.dumps(
                {"path": relative, "line": line, "col": col, **output.as_dict()}
                | ({"prompt": output.prompt} if show_prompt else {}),
                indent=2,
            )
        )
        return
    if show_prompt:
        console.rule("prompt")
        console.print(output.prompt, markup=False, highlight=False, soft_wrap=True)
        console.rule("completion")
    typer.echo(output.text)
    _report(console, output)


def _report(console: Console, output: CompletionOutput) -> None:
    """Context used and per-stage timings, to stderr."""
    from rich.markup import escape

    if not output.trigger.complete:
        console.print(f"[yellow]no completion here: {escape(output.trigger.reason)}[/]", highlight=False)
        return
    for snippet in output.snippets:
        console.print(
            f"[dim]context[/] {escape(snippet.path)}:{snippet.start_line}-{snippet.end_line} "
            f"[cyan]{escape(snippet.reason)}[/]",
            highlight=False,
            soft_wrap=True,
        )
    for name, why in output.skipped.items():
        console.print(
            f"[dim]context[/] {name} [yellow]skipped: {escape(why)}[/]", highlight=False, soft_wrap=True
        )
    stages = " ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in output.timings.items())
    console.print(
        f"[dim]{output.trigger.reason}; {output.new_tokens} tokens, prompt {output.prompt_tokens} tokens, "
        f"stopped by {output.stopped_by or output.cached}; {stages}[/]",
        highlight=False,
        soft_wrap=True,
    )
