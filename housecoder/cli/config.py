"""`housecoder config`: the effective settings, and the file, flag or default each came from."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any

import typer

from housecoder.cli.common import State

if TYPE_CHECKING:
    from pydantic import BaseModel

DEFAULT = "default"


def config(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print {key: {value, origin}} as JSON.")] = False,
    changed: Annotated[bool, typer.Option("--changed", help="Only the keys not at their default.")] = False,
    every_knob: Annotated[
        bool, typer.Option("--all", help="Also the tuning knobs at their defaults ([SECTION.tuning]).")
    ] = False,
) -> None:
    """Print the effective settings of the project (found from the current directory, or --project), each
    with the file, flag or default it came from; sources in order: defaults, the user's file, pyproject.toml,
    .housecoder.toml, then flags and the environment. Tuning knobs are shown where something set them, all of
    them with --all."""
    from housecoder.config import origins, settings_of

    state: State = ctx.obj
    layers = state.layers()  # read once: the settings and each key's origin both come from them
    came_from = origins(layers)
    every = [(key, value, _origin(key, came_from)) for key, value in _walk(settings_of(layers))]
    rows = [
        (key, value, origin)
        for key, value, origin in every
        if origin != DEFAULT or not (changed or (".tuning." in key and not every_knob))
    ]
    if as_json:
        typer.echo(
            json.dumps({key: {"value": value, "origin": origin} for key, value, origin in rows}, indent=2)
        )
        return
    typer.echo(f"# project: {state.project_root()}")
    typer.echo(f"# user file: {state.user_file}{'' if state.user_file.is_file() else ' (none)'}")
    hidden = sum(1 for key, _, origin in every if ".tuning." in key and origin == DEFAULT)
    if hidden and not every_knob and not changed:
        typer.echo(f"# {hidden} tuning knobs at their defaults not shown (--all shows them)")
    section = None
    for key, value, origin in rows:
        head, _, name = key.rpartition(".")
        if head != section:
            section = head
            typer.echo(f"\n[{head}]")
        line = f"# {name} is unset" if value is None else f"{name} = {json.dumps(value, ensure_ascii=False)}"
        typer.echo(f"{line:<56} # {origin}")


def _walk(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every setting as (dotted key, JSON value), sections before their keys' nested sections."""
    from pydantic import BaseModel

    nested: list[tuple[str, BaseModel]] = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            nested.append((f"{prefix}{name}.", value))
        else:
            yield f"{prefix}{name}", json.loads(json.dumps(value, default=str))
    for head, section in nested:
        yield from _walk(section, head)


def _origin(key: str, came_from: dict[str, str]) -> str:
    """The layer that set `key`, or any part of it (a table-valued key), else the default."""
    if key in came_from:
        return came_from[key]
    parts = [origin for found, origin in came_from.items() if found.startswith(f"{key}.")]
    return parts[-1] if parts else DEFAULT
