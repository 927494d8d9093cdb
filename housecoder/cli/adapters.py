"""`housecoder adapters list | export`: the adapters `housecoder train` registered for a repository, and a
copy of one for a GPU box that serves them (vLLM loads peft adapters as they are)."""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from housecoder.cli.common import State

if TYPE_CHECKING:
    from housecoder.config import Settings
    from housecoder.models.adapters import AdapterInfo

adapters_app = typer.Typer(
    help="List the repository's adapters; export one for a vLLM box.", no_args_is_help=True
)
SERVED_NAME = re.compile(r"^[A-Za-z0-9][\w.-]{0,63}$")  # a model name an OpenAI-compatible engine accepts
# What vLLM (and peft) read of a run; the metadata and the split travel with it, for the record.
EXPORTED = (
    "adapter_config.json",
    "adapter_model.safetensors",
    "housecoder-adapter.json",
    "split.json",
    "README.md",
)
DEFAULT_BASE = "Qwen/Qwen2.5-Coder-1.5B-Instruct"  # the original weights of the default code model


def _registered(state: State, path: Path | None) -> tuple[Path, list[AdapterInfo]]:
    from housecoder.models.adapters import list_adapters

    root = state.project_root(path)
    return root, list_adapters(state.settings(path), root)


@adapters_app.command("list")
def list_command(
    ctx: typer.Context,
    path: Annotated[
        Path | None, typer.Argument(help="The repository (default: the current project).")
    ] = None,
) -> None:
    """The repository's registered adapters, newest first: whether each beat the base, and its figures; and what
    its background training is doing."""
    from housecoder.models.background import background_status

    state: State = ctx.obj
    root, found = _registered(state, path)
    settings = state.settings(path)
    training = background_status(settings, root)
    if training is not None:
        typer.echo(f"background training: {training['line']}")
    bundled = _bundled(settings)
    if bundled is not None:
        served = (
            "served unless one of the repository's below is"
            if settings.models.auto_adapter
            else "off (auto_adapter)"
        )
        typer.echo(f"shipped with housecoder for {bundled.base_model}: {bundled.path.name}, {served}")
    if not found:
        typer.echo(f"no adapters registered for {root} (`housecoder train` makes one)")
        return
    for info in found:
        mark = "beat the base" if info.beat_base else "not served (see its verdict: housecoder-adapter.json)"
        gone = "" if info.has_weights else "; its files are gone"
        typer.echo(f"{info.path.name}  {info.created_at:%Y-%m-%d %H:%M}  {mark}: {info.summary()}{gone}")


@adapters_app.command("export")
def export(
    ctx: typer.Context,
    dest: Annotated[
        Path, typer.Argument(help="The folder to copy it into (a mount or share of the GPU box).")
    ],
    run: Annotated[
        str | None,
        typer.Option("--run", help="The run (`adapters list`); default: the newest that beat the base."),
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="The name it is served under (default: the repository's).")
    ] = None,
    path: Annotated[
        Path | None, typer.Option("--repo", help="The repository (default: the current project).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an earlier export of that name.")] = False,
) -> None:
    """Copy an adapter into DEST/NAME and print how vLLM serves it and how housecoder asks for it."""
    from housecoder.errors import HousecoderError

    root, found = _registered(ctx.obj, path)
    chosen = _choose(found, run, root)
    served = name or root.name
    if not SERVED_NAME.match(served):
        raise HousecoderError(f"--name {served!r}: use letters, digits, '.', '_' or '-' (at most 64)")
    target = dest.expanduser().resolve() / served
    if target.exists() and not force:
        raise HousecoderError(f"{target} exists: --force replaces it")
    staging = target.with_name(f".{served}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for file in EXPORTED:
        if (chosen.path / file).is_file():
            shutil.copy2(chosen.path / file, staging / file)
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)
    rank = json.loads((target / "adapter_config.json").read_text()).get("r", 16)
    typer.echo(f"exported {chosen.path.name} ({chosen.summary()}) to {target}")
    typer.echo("on the GPU box (with the folder at the same path there):")
    typer.echo(
        f"  vllm serve {DEFAULT_BASE} --enable-lora --max-lora-rank {max(int(rank), 8)} "
        f"--lora-modules {served}={shlex.quote(str(target))}"
    )
    typer.echo("in your ~/.config/housecoder/config.toml (or the editor's settings):")
    typer.echo(
        f'  [models]\n  adapter = "{served}"\n  [inference]\n  runtime = "openai"\n  url = "http://gpu-box:8000"'
    )
    typer.echo(
        f"its verdict was measured on {chosen.base_model} as housecoder runs it here; vLLM serves the original "
        "weights: train on the GPU box (models.code_model = the original) for a verdict on those"
    )


def _bundled(settings: Settings) -> AdapterInfo | None:
    """The adapter shipped for the configured code model, when it is a built-in with one."""
    from housecoder.models.adapters import bundled_adapter
    from housecoder.models.catalog import BUILTIN, PartsGguf

    model = BUILTIN.get(settings.models.code_model)
    return bundled_adapter(model.sha256) if isinstance(model, PartsGguf) else None


def _choose(found: list[AdapterInfo], run: str | None, root: Path) -> AdapterInfo:
    from housecoder.errors import HousecoderError

    if run is not None:
        named = [info for info in found if info.path.name == run]
        if not named:
            raise HousecoderError(f"no run {run!r} registered for {root} (`housecoder adapters list`)")
        chosen = named[0]
    else:
        served = [info for info in found if info.beat_base and info.has_weights]
        if not served:
            raise HousecoderError(
                f"no adapter of {root} beat the base model (`housecoder adapters list`; --run exports another)"
            )
        chosen = served[0]
    if not chosen.has_weights:
        raise HousecoderError(f"{chosen.path}: its adapter files are gone")
    return chosen
