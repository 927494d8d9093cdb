"""`housecoder serve`: the language server, over stdio (editors) or TCP (127.0.0.1 unless told otherwise)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from housecoder.cli.common import State


def serve(
    ctx: typer.Context,
    tcp: Annotated[bool, typer.Option("--tcp", help="Listen on TCP instead of stdio.")] = False,
    host: Annotated[
        str | None, typer.Option("--host", help="TCP address (default server.host, 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None, typer.Option("--port", min=0, max=65535, help="TCP port (default server.port, 2087).")
    ] = None,
    log_file: Annotated[
        Path | None, typer.Option("--log-file", help="Write the log here instead of stderr.")
    ] = None,
) -> None:
    """Serve inline completions over the Language Server Protocol (over TCP, to clients that send `housecoder token`)."""
    from housecoder.server.main import serve as run

    state: State = ctx.obj
    run(
        tcp=tcp,
        host=host,
        port=port,
        overrides={"models": state.models_overrides},
        trusted=state.trusted(),
        verbose=state.verbose,
        log_file=log_file,
        token_path=state.token_file,
        user_file=state.user_file,
    )


def token(
    ctx: typer.Context,
    rotate: Annotated[
        bool, typer.Option("--rotate", help="Replace it: clients holding the old one are refused.")
    ] = False,
    path: Annotated[bool, typer.Option("--path", help="Print the token file's path instead.")] = False,
) -> None:
    """Print the token a TCP client sends as initializationOptions.token (created on first use)."""
    from housecoder.server.token import ensure_token, write_token

    state: State = ctx.obj
    value = write_token(state.token_file) if rotate else ensure_token(state.token_file)
    typer.echo(str(state.token_file) if path else value)
