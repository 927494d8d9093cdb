"""The `housecoder` command line: one app, subcommands registered from small modules.

Start-up stays fast: this module imports only typer; every command imports
what it needs when it runs. Configuration and the environment are read here,
at the entry point, and passed down as typed settings.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from housecoder import __version__
from housecoder.cli.adapters import adapters_app
from housecoder.cli.bench import bench_app
from housecoder.cli.common import State, fail
from housecoder.cli.complete import complete
from housecoder.cli.config import config
from housecoder.cli.index import index, search
from housecoder.cli.models import models_app
from housecoder.cli.serve import serve, token
from housecoder.cli.stats import stats
from housecoder.cli.train import train
from housecoder.cli.trust import trust

app = typer.Typer(
    name="housecoder",
    help="Private, repository-aware code completion: index, complete, serve, train.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)
app.add_typer(models_app, name="models")
app.add_typer(adapters_app, name="adapters")
app.add_typer(bench_app, name="bench")
app.command(name="complete")(complete)
app.command(name="config")(config)
app.command(name="index")(index)
app.command(name="search")(search)
app.command(name="serve")(serve)
app.command(name="stats")(stats)
app.command(name="token")(token)
app.command(name="train")(train)
app.command(name="trust")(trust)

# Environment variables, read here and nowhere deeper.
ENV_CACHE_DIR = "HOUSECODER_CACHE_DIR"
ENV_OFFLINE = "HOUSECODER_OFFLINE"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"housecoder {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    project: Annotated[
        Path | None,
        typer.Option("--project", "-C", help="Project root to read config from (default: found from cwd)."),
    ] = None,
    cache_dir: Annotated[
        Path | None, typer.Option("--cache-dir", help=f"Model store directory (env {ENV_CACHE_DIR}).")
    ] = None,
    offline: Annotated[
        bool | None,
        typer.Option("--offline/--online", help=f"Never contact a model hub (env {ENV_OFFLINE}=1)."),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    from housecoder.config import user_config_file
    from housecoder.server.token import token_file
    from housecoder.trust import trust_file

    env_offline = os.environ.get(ENV_OFFLINE)
    ctx.obj = State(
        project=project,
        models_overrides={
            "cache_dir": cache_dir or os.environ.get(ENV_CACHE_DIR) or None,
            "offline": offline
            if offline is not None
            else (env_offline.lower() in ("1", "true", "yes") if env_offline else None),
        },
        verbose=verbose,
        trust_file=trust_file(os.environ),
        token_file=token_file(os.environ),
        user_file=user_config_file(os.environ),
    )


def main() -> None:
    """Console entry point: user errors become one red line and exit status 1."""
    import logging

    from housecoder.errors import HousecoderError, os_error_line

    # LanceDB's native logger would print its own warnings on stderr; errors still show.
    os.environ.setdefault("LANCEDB_LOG", "error")
    try:
        app()
    except HousecoderError as err:
        fail(str(err))
    except OSError as err:  # an unwritable location, a path under a file, a name that does not resolve
        logging.getLogger("housecoder").debug("OS error", exc_info=True)
        fail(os_error_line(err))
    except RecursionError:
        fail("the input is nested too deeply")
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
