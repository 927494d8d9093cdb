"""What every command shares: the entry-point state, settings, progress and errors."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from rich.console import Console

    from housecoder.config import Settings
    from housecoder.models.progress import Advance
    from housecoder.models.store import ModelStore


@dataclass
class State:
    """Options of the root command, turned into settings on first use."""

    project: Path | None
    models_overrides: dict[str, Any]
    trust_file: Path  # the user's trusted project roots (`housecoder trust`)
    token_file: Path  # the TCP server's token (`housecoder token`)
    user_file: Path  # the user's own settings, below every project's
    verbose: bool = False
    _settings: Settings | None = field(default=None, repr=False)

    def project_root(self, start: Path | None = None) -> Path:
        from housecoder.config import find_project_root

        if self.project is not None:
            if not self.project.is_dir():
                from housecoder.errors import ConfigError

                raise ConfigError(f"--project {self.project}: not a directory")
            return self.project.resolve()
        return find_project_root(start or Path.cwd())

    def trusted(self) -> dict[Path, str | None]:
        """The project roots the user trusts with sensitive settings (`housecoder trust`)."""
        from housecoder.trust import read_trusted

        return read_trusted(self.trust_file)

    def settings(self, start: Path | None = None) -> Settings:
        if self._settings is None:
            from housecoder.config import load_settings

            logging.basicConfig(
                level=logging.DEBUG if self.verbose else logging.WARNING,
                format="%(levelname)s %(name)s: %(message)s",
            )
            self._settings = load_settings(**self._sources(start), warn=warn)
        return self._settings

    def layers(self, start: Path | None = None) -> list[tuple[str, dict[str, Any]]]:
        """The sources the settings are made of, in order (`housecoder.config.setting_layers`)."""
        from housecoder.config import setting_layers

        return setting_layers(**self._sources(start), warn=warn)

    def _sources(self, start: Path | None) -> dict[str, Any]:
        return {
            "project_root": self.project_root(start),
            "overrides": {"models": self.models_overrides},
            "trusted": self.trusted(),
            "user_file": self.user_file,
        }


def store_for(settings: Settings) -> ModelStore:
    """The model store the settings name (imported on use, to keep start-up instant)."""
    from housecoder.models import store

    return store.store_for(settings)


def stderr_console() -> Console:
    from rich.console import Console

    return Console(stderr=True)


class RichProgress:
    """`housecoder.models.progress.Progress` on a rich console: a bar when the total is known, else a spinner."""

    def __init__(self, console: Console) -> None:
        self.console = console

    @contextlib.contextmanager
    def task(self, description: str, total: int | None = None, unit: str = "bytes") -> Iterator[Advance]:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        columns: list[Any] = [SpinnerColumn(), TextColumn("{task.description}")]
        if total and unit == "bytes":
            columns += [BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn()]
        elif total:
            columns += [BarColumn(), MofNCompleteColumn(), TextColumn(unit), TimeRemainingColumn()]
        columns.append(TimeElapsedColumn())
        with Progress(*columns, console=self.console, transient=False) as bar:
            task_id = bar.add_task(description, total=total)
            yield lambda units: bar.advance(task_id, units)
            if total is None:
                bar.update(task_id, total=1, completed=1)


def warn(message: str) -> None:
    """Print one warning line to stderr."""
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True, highlight=False, soft_wrap=True).print(f"[bold yellow]warning:[/] {escape(message)}")


def fail(message: str) -> NoReturn:
    """Print one error line to stderr and exit 1."""
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True, highlight=False, soft_wrap=True).print(f"[bold red]error:[/] {escape(message)}")
    sys.exit(1)
