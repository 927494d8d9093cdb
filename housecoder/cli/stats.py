"""`housecoder stats [PATH]`: what happened to the suggestions shown in a workspace (the local feedback store)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from housecoder.cli.common import State

if TYPE_CHECKING:
    from housecoder.config import Settings

_SPAN = re.compile(r"^(\d+)([hdw])$")
_SECONDS = {"h": 3600, "d": 86_400, "w": 7 * 86_400}


def since_seconds(text: str) -> float:
    """`7d`, `12h`, `2w` as seconds; anything else is a one-line error."""
    from housecoder.errors import HousecoderError

    found = _SPAN.match(text.strip())
    if found is None or int(found.group(1)) == 0:
        raise HousecoderError(f"--since {text!r}: give a span such as 12h, 7d or 2w")
    return int(found.group(1)) * _SECONDS[found.group(2)]


def stats(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Workspace folder (default: the current directory).")] = Path(
        "."
    ),
    since: Annotated[str, typer.Option("--since", help="How far back: 12h, 7d, 2w.")] = "7d",
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    chart: Annotated[
        Path | None,
        typer.Option(
            "--chart",
            help="Write a PNG of suggestions and acceptance per day, and of the share kept against p_keep.",
        ),
    ] = None,
    refit: Annotated[
        bool,
        typer.Option(
            "--fit",
            help="Refit the keep-probability on this workspace's kept and rejected suggestions (all of them); "
            "used only if it foretells the newest ones better than the model in use.",
        ),
    ] = False,
) -> None:
    """Suggestions shown, acceptance, accepted and retained characters, latency: overall and split (by
    keep-probability too); --fit refits the keep-probability on them."""
    from housecoder.errors import HousecoderError, MissingDependency
    from housecoder.feedback.stats import render, summarize, write_chart
    from housecoder.feedback.store import recorded, store_path

    if not path.is_dir():
        raise HousecoderError(f"{path}: not a directory")
    state: State = ctx.obj
    root = path.resolve()
    settings = state.settings(root)
    start = time.time() - since_seconds(since)
    where = store_path(settings, root)
    if refit:
        typer.echo(refit_keep(settings, root))
        return
    found = recorded(where, since=start)
    figures = summarize(found.suggestions, found.checks, start) if found else summarize([], {}, start)
    if found is not None and found.skipped:
        typer.echo(f"{found.skipped} malformed rows in {where} skipped", err=True)
    if chart is not None:
        try:
            write_chart(figures, chart)
        except ImportError as err:
            raise MissingDependency("matplotlib", "bench") from err
    if as_json:
        typer.echo(json.dumps({**figures.as_dict(), "store": str(where)}, indent=1))
        return
    if found is None:
        typer.echo(f"nothing recorded for {root} yet (the store would be {where})")
        return
    for line in render(figures):
        typer.echo(line)
    typer.echo(f"\nstore: {where}")


def refit_keep(settings: Settings, root: Path) -> str:
    """Refit the workspace's keep model on every event of its feedback store; one line saying what came of it."""
    from housecoder.errors import MissingDependency
    from housecoder.server.keep import refit_workspace

    try:
        outcome, target = refit_workspace(settings, root)
    except ImportError as err:
        raise MissingDependency("scikit-learn", "bench") from err
    if outcome.model is not None:
        return f"{outcome.line()}; saved to {target} (a running server uses it from its next start)"
    return outcome.line()
