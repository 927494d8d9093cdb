"""`housecoder trust [PATH] [--remove | --list]`: the project roots whose own config may set sensitive keys, as it sets them now."""

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
    """Let a project's .housecoder.toml / [tool.housecoder] set the runtime, URL, API key variable, index URI, listen address and hub models, as they are now."""
    from housecoder.config import SENSITIVE_KEYS
    from housecoder.errors import ConfigError
    from housecoder.trust import sensitive_values, trust_fingerprint, write_trusted

    state: State = ctx.obj
    roots = state.trusted()
    if list_roots:
        if remove or path is not None:
            raise ConfigError("--list takes no PATH and no --remove")
        for trusted_root, fingerprint in sorted(roots.items()):
            current = trust_fingerprint(trusted_root) if trusted_root.is_dir() else None
            note = "" if fingerprint is not None and fingerprint == current else "  (changed since trusted)"
            typer.echo(f"{trusted_root}{note}")
        return
    root = path.expanduser().resolve() if path is not None else state.project_root()
    if remove:
        if root not in roots:
            raise ConfigError(f"{root}: not trusted")
        write_trusted(state.trust_file, {key: value for key, value in roots.items() if key != root})
        typer.echo(f"no longer trusted: {root}")
        return
    if not root.is_dir():
        raise ConfigError(f"{path}: no such directory")
    values = sensitive_values(root)
    write_trusted(state.trust_file, {**roots, root: trust_fingerprint(root)})
    now = "; ".join(f"{key} = {value!r}" for key, value in sorted(values.items())) or "none of them"
    typer.echo(
        f"trusted {root}: its config may set {', '.join(SENSITIVE_KEYS)}; it sets {now} (changing them asks again)"
    )
