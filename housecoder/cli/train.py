"""`housecoder train [PATH]`: the conventions fine-tune, with a dry run, resume and re-evaluation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from housecoder.cli.common import RichProgress, State, stderr_console

HELD_OUT_HELP = "With --eval-only: on this many held-out middles, drawing new ones from the held-out files when the run has fewer."


def train(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Repository root (default: the current directory).")] = Path(
        "."
    ),
    token_budget: Annotated[
        int | None,
        typer.Option(
            "--token-budget",
            min=0,
            help="Tokens to train on (train.token_budget; about 550 a sample; 0: all).",
        ),
    ] = None,
    steps: Annotated[
        int | None, typer.Option("--steps", min=1, help="Optimiser steps (train.steps; default: epochs).")
    ] = None,
    eval_only: Annotated[
        bool, typer.Option("--eval-only", help="Evaluate the newest adapter again; no training.")
    ] = False,
    held_out: Annotated[int | None, typer.Option("--held-out", min=1, help=HELD_OUT_HELP)] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the newest unfinished run from its checkpoint.")
    ] = False,
    background: Annotated[
        bool,
        typer.Option(
            "--background",
            help="Train politely: pause while completions are requested, lowest priority, every core but one, "
            "resume an unfinished run by itself (what train.background starts).",
        ),
    ] = False,
    settings_file: Annotated[
        Path | None,
        typer.Option(
            "--settings",
            hidden=True,
            help="With --background: train with these settings (JSON of every section, what the server hands over) "
            "instead of the configuration files.",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print sample counts and the estimated time, then stop.")
    ] = False,
    forgetting: Annotated[
        Path | None,
        typer.Option("--forgetting", help="Task file for the forgetting check (train.forgetting_tasks)."),
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="A housecoder.toml whose sections override.")
    ] = None,
) -> None:
    """Train a LoRA adapter on the repository's own code and measure it on held-out files."""
    from rich.markup import escape

    from housecoder.config import Settings, apply_config_file, merge_sections
    from housecoder.errors import HousecoderError
    from housecoder.training.job import TrainJob

    if not path.is_dir():
        raise HousecoderError(f"{path}: not a directory")
    if sum((eval_only, resume, dry_run, background)) > 1:
        raise HousecoderError("choose one of --eval-only, --resume, --dry-run and --background")
    if held_out is not None and not eval_only:
        raise HousecoderError(
            "--held-out goes with --eval-only (a training run draws train.generate_samples)"
        )
    if settings_file is not None and not background:
        raise HousecoderError("--settings goes with --background")
    state: State = ctx.obj
    root = path.resolve()
    if state.project is None:
        state.project = root
    settings = state.settings() if settings_file is None else _read_settings(settings_file)
    if config is not None:
        settings = apply_config_file(settings, config)
    overrides: dict[str, Any] = {
        "token_budget": token_budget,
        "steps": steps,
        "forgetting_tasks": str(forgetting.resolve()) if forgetting else None,
    }
    overrides = {key: value for key, value in overrides.items() if value is not None}
    if forgetting is not None and not forgetting.is_file():
        raise HousecoderError(f"--forgetting {forgetting}: no such task file")
    settings = Settings.model_validate(merge_sections(settings.model_dump(), {"train": overrides}))
    console = stderr_console()
    progress = RichProgress(console)
    job = TrainJob(root, settings, progress, say=lambda line: console.print(escape(line), highlight=False))

    more: int | None = None  # a background run's next budget
    if background:
        from housecoder.training.background import BackgroundRun, lower_priority

        lower_priority()
        runner = BackgroundRun(root, settings, progress, say=job.say)
        found = runner.run()
        if found is None:
            return
        outcome, more = found, runner.state.next_tokens
    elif dry_run:
        prepared = job.prepare()
        for line in job.estimate(prepared).lines():
            console.print(escape(line), highlight=False)
        return
    elif eval_only:
        outcome = job.eval_only(held_out=held_out)
    else:
        from housecoder.training.background import holding_lock

        with holding_lock(settings, root):
            outcome = job.run(resume=resume, on_step=_step_printer(console))
    colour = "green" if outcome.beat_base else "yellow"
    console.print(
        f"[{colour}]{escape(outcome.verdict)}[/]\n  adapter: {escape(str(outcome.run_dir))}\n"
        f"  report: {escape(str(outcome.run_dir / 'report.md'))}",
        highlight=False,
    )
    if more is not None:
        from housecoder.models.background import size

        console.print(
            f"  more of the repository to learn: the next background run learns {size(more)}", highlight=False
        )


def _read_settings(path: Path) -> Any:
    from pydantic import ValidationError

    from housecoder.config import Settings
    from housecoder.errors import HousecoderError, first_line

    try:
        return Settings.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise HousecoderError(f"--settings {path}: cannot read: {err.strerror or err}") from err
    except (ValidationError, ValueError) as err:  # not JSON, not UTF-8, or not the settings' shape
        raise HousecoderError(f"--settings {path}: not housecoder settings ({first_line(err)})") from err


def _step_printer(console: Any) -> Any:
    from housecoder.training.trainer import StepLog

    def show(log: StepLog) -> None:
        held = f", held-out {log.eval_loss:.4f}" if log.eval_loss is not None else ""
        remaining = (log.total_steps - log.step) * log.elapsed_s / max(log.step, 1)
        console.print(
            f"step {log.step}/{log.total_steps}: loss {log.loss:.4f}{held}, lr {log.learning_rate:.2e}, "
            f"{log.samples_per_s:.2f} samples/s, {log.elapsed_s / 60:.1f} min, ~{remaining / 60:.0f} min left",
            highlight=False,
        )

    return show
