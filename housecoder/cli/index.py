"""`housecoder index [PATH] [--full]` and `housecoder search QUERY`: the repository index."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from housecoder.cli.common import RichProgress, State, stderr_console, store_for


def _indexes_root(state: State) -> Path:
    from housecoder.indexer.service import indexes_root

    return indexes_root(state.settings())


def index(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Repository root (default: the current directory).")] = Path(
        "."
    ),
    full: Annotated[bool, typer.Option("--full", help="Rebuild from scratch instead of updating.")] = False,
) -> None:
    """Index a repository: tree-sitter chunks and symbols, embedded, stored in LanceDB."""
    from housecoder.indexer.errors import NotADirectory
    from housecoder.indexer.service import index_repository

    if not path.is_dir():
        raise NotADirectory(str(path))
    state: State = ctx.obj
    root = path.resolve()
    if state.project is None:
        state.project = root
    settings = state.settings()
    console = stderr_console()
    summary, location = index_repository(
        root, settings, store_for(settings), RichProgress(console), full=full
    )
    from rich.markup import escape

    skipped = ", ".join(f"{reason} {count}" for reason, count in summary.skipped.most_common()) or "none"
    console.print(
        f"[green]indexed[/] {escape(str(root))} -> {escape(location)}\n"
        f"  files: {summary.indexed} parsed, {summary.unchanged} unchanged, {summary.deleted} deleted"
        f"{f', {summary.fell_back} as line windows (parse errors)' if summary.fell_back else ''}\n"
        f"  skipped: {skipped}\n"
        f"  chunks: {summary.chunks_total} (+{summary.chunks_added}), symbols: {summary.symbols_total}\n"
        f"  time: {summary.seconds:.1f} s (embedding {summary.embed_seconds:.1f} s)"
        + ("\n  [yellow]an interrupted run was rolled back first[/]" if summary.rolled_back else ""),
        highlight=False,
    )


def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="Words, code or an identifier.")],
    mode: Annotated[str, typer.Option("--mode", help="dense, bm25 or hybrid.")] = "hybrid",
    k: Annotated[int, typer.Option("-k", min=1, max=200, help="How many results.")] = 10,
    path: Annotated[
        Path, typer.Option("--repo", help="Repository root (default: the current directory).")
    ] = Path("."),
    preview: Annotated[int, typer.Option("--preview", min=0, help="Lines of each chunk to show.")] = 2,
) -> None:
    """Search the repository index."""
    from rich.console import Console
    from rich.markup import escape

    from housecoder.errors import HousecoderError
    from housecoder.indexer.service import index_location, load_embedder, open_for_search

    if mode not in ("dense", "bm25", "hybrid"):
        raise HousecoderError(f"--mode {mode}: use dense, bm25 or hybrid")
    state: State = ctx.obj
    root = path.resolve()
    if state.project is None:
        state.project = root
    settings = state.settings()
    store = open_for_search(index_location(root, settings, _indexes_root(state)))
    if mode == "bm25":
        hits = store.bm25(query, k)
    else:
        vector = load_embedder(settings, store_for(settings)).embed([query])[0]
        hits = store.dense(vector, k) if mode == "dense" else store.hybrid(query, vector, k)
    out = Console(highlight=False, soft_wrap=True)
    if not hits:
        out.print("no results")
    for hit in hits:
        out.print(
            f"[bold]{hit.score:.4f}[/] {escape(hit.path)}:{hit.start_line}-{hit.end_line} [cyan]{escape(hit.symbol)}[/]"
        )
        for line in hit.text.splitlines()[:preview]:
            out.print(f"    {line}", markup=False)
