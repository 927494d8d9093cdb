"""`housecoder models pull | list | path | verify`: the model store from the command line."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated

import typer

from housecoder.cli.common import RichProgress, State, stderr_console, store_for

if TYPE_CHECKING:
    from housecoder.models.store import StoredModel

models_app = typer.Typer(
    help="Pull, list and locate models (built-in offline defaults, GGUF files, hub ids).",
    no_args_is_help=True,
)


@models_app.command("pull")
def pull(
    ctx: typer.Context,
    names: Annotated[
        list[str] | None,
        typer.Argument(
            help="Built-in name, .gguf file, model directory or hub id (default: the configured code model and embedder)."
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Rebuild even if already in the store.")] = False,
    training: Annotated[
        bool,
        typer.Option(
            "--training",
            help="Also make the code model's bf16 safetensors now (training makes them on first need otherwise).",
        ),
    ] = False,
) -> None:
    """Assemble and verify what serving needs (the code model's GGUF, the embedder), once."""
    from housecoder.models.catalog import BUILTIN, ModelKind

    state: State = ctx.obj
    settings = state.settings()
    store = store_for(settings)
    console = stderr_console()
    progress = RichProgress(console)
    wanted = names or [settings.models.code_model, settings.models.embedder]
    for name in wanted:
        started = time.perf_counter()
        if name in BUILTIN:
            resolved = store.pull(name, progress, force=force, training=training)
        else:
            kind: ModelKind = "embedder" if name == settings.models.embedder else "code"
            resolved = store.resolve(name, kind, progress=progress, pull=True)
            if training:
                store.weights(resolved, progress)
        console.print(
            f"[green]ready[/] {resolved.name} ({resolved.kind}) in {time.perf_counter() - started:.1f} s: {resolved.path}"
        )


@models_app.command("list")
def list_models(ctx: typer.Context) -> None:
    """Show the built-in models and everything converted in the store."""
    from rich.console import Console
    from rich.table import Table

    from housecoder.models.catalog import BUILTIN

    state: State = ctx.obj
    store = store_for(state.settings())
    table = Table(title=f"model store: {store.root}")
    for column in ("name", "kind", "status", "size", "path"):
        table.add_column(column, overflow="fold")
    stored = {entry.path: entry for entry in store.list()}
    for model in BUILTIN.values():
        entry = stored.pop(store.builtin_dir(model), None)
        status = "not pulled" if entry is None else _status(entry)
        size = f"{entry.size_bytes / 1e9:.2f} GB" if entry else "-"
        table.add_row(model.name, model.kind, status, size, str(store.builtin_dir(model)) if entry else "-")
    for entry in stored.values():
        table.add_row(
            entry.name, entry.kind, _status(entry), f"{entry.size_bytes / 1e9:.2f} GB", str(entry.path)
        )
    Console().print(table)


def _status(entry: StoredModel) -> str:
    return "pulled" if entry.training_weights else "pulled (serving; training weights on first need)"


@models_app.command("path")
def path(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Model name as in `pull`.")],
) -> None:
    """Print the local directory of a model (without pulling it)."""
    from housecoder.models.catalog import BUILTIN

    state: State = ctx.obj
    settings = state.settings()
    store = store_for(settings)
    builtin = BUILTIN.get(name)
    kind = builtin.kind if builtin else ("embedder" if name == settings.models.embedder else "code")
    typer.echo(store.resolve(name, kind, pull=False).path)


@models_app.command("verify")
def verify(
    ctx: typer.Context,
    names: Annotated[
        list[str] | None,
        typer.Argument(help="Built-in names (default: every built-in in the store)."),
    ] = None,
) -> None:
    """Read every byte of the built-in models' files and compare them with their verified sha256."""
    from housecoder.errors import HousecoderError
    from housecoder.models.catalog import BUILTIN
    from housecoder.models.errors import ModelUnavailable
    from housecoder.models.verify import ModelDamaged

    state: State = ctx.obj
    store = store_for(state.settings())
    console = stderr_console()
    unknown = [name for name in names or [] if name not in BUILTIN]
    if unknown:
        raise ModelUnavailable(
            f"not a built-in model: {', '.join(unknown)} (built-ins: {', '.join(BUILTIN)})"
        )
    wanted = names or [name for name, model in BUILTIN.items() if store.is_pulled(model)]
    damaged = 0
    for name in wanted:
        if not store.is_pulled(BUILTIN[name]):
            console.print(f"[yellow]not pulled[/] {name}: `housecoder models pull {name}`")
            continue
        try:
            files = store.verify(name, rehash=True, progress=RichProgress(console))
        except ModelDamaged as err:
            damaged += 1
            console.print(f"[red]damaged[/] {name}: {err}")
            continue
        console.print(f"[green]ok[/] {name}: {len(files)} file(s) as verified")
    if damaged:
        raise HousecoderError(
            f"{damaged} damaged model(s): `housecoder models pull --force NAME` repairs them"
        )
