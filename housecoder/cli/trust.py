"""`housecoder trust [PATH] [--remove | --list]`: the project roots whose own config may set sensitive keys."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from housecoder.cli.common import State


def trust(
    ctx: typer.Context,
    path: Annotated[
        Path | None, typer.Argument(help="Project root (default: the current project's).")
    ] = None,
    remove: Annotated[bool, typer.Option("--remove", help="Stop trusting it.")] = False,
    list_roots: Annotated[bool, typer.Option("--list", help="Print the trusted project roots.")] = False,
) -> None:
    """Let a project's .housecoder.toml / [tool.housecoder] set the runtime, URL, API key variable, index URI and listen address."""
    from housecoder.config import SENSITIVE_KEYS, write_trusted
    from housecoder.errors import ConfigError

    state: State = ctx.obj
    if list_roots:
        if remove or path is not None:
            raise ConfigError("--list takes no PATH and no --remove")
        for root in sorted(state.trusted()):
            typer.echo(root)
        return
    roots = state.trusted()
    root = path.expanduser().resolve() if path is not None else state.project_root()
    if remove:
        if root not in roots:
            raise ConfigError(f"{root}: not trusted")
        write_trusted(state.trust_file, roots - {root})
        typer.echo(f"no longer trusted: {root}")
        return
    if not root.is_dir():
        raise ConfigError(f"{path}: no such directory")
    write_trusted(state.trust_file, roots | {root})
    typer.echo(f"trusted {root}: its config may set {', '.join(SENSITIVE_KEYS)}")
