"""Background training's record in the adapter registry: what the run is doing, read by `housecoder.status`.

`housecoder train --background` holds `<repo adapters dir>/background.lock` while it runs (one background run
per repository) and rewrites `background.json` beside it at every phase and optimiser step. A reader tells a
live run from a dead one by the lock: a run killed with -9 leaves its record saying "training", but its lock
is free.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from housecoder.config import Settings
from housecoder.models.adapters import repo_adapters_dir
from housecoder.models.atomic import atomic_path

PROGRESS_FILE = "background.json"
LOCK_FILE = "background.lock"
MAX_PROGRESS_BYTES = 64 * 1024

# phases, in order
PREPARING = "preparing"
BASE = "measuring the base model"
TRAINING = "training"
EVALUATING = "evaluating"
FINISHED = "finished"
FAILED = "failed"


@dataclass
class Progress:
    """One background run, as its status line shows it."""

    run: str = ""
    pid: int = 0
    phase: str = PREPARING
    paused: bool = False  # waiting for the user to stop typing
    tokens_learned: int = 0
    tokens_planned: int = 0
    files_covered: int = 0  # training files the plan takes samples from
    train_files: int = 0
    step: int = 0
    total_steps: int = 0
    yields: int = 0  # times it gave the CPU back to a completion request
    max_yield_s: float = 0.0  # the longest time from a request to training pausing
    beat_base: bool | None = None
    verdict: str = ""
    # after a finished run: the next run's token budget while the repository has more to learn (0: all of it),
    # None when there is nothing new until the next commit
    next_tokens: int | None = None
    updated: str = ""

    def line(self) -> str:
        """One line for a status bar or `housecoder status`."""
        if self.phase == FINISHED:
            more = (
                ""
                if self.next_tokens is None
                else f"; learning more when idle ({size(self.next_tokens)} next)"
            )
            return f"finished: {self.verdict}{more}"
        if self.phase == FAILED:
            return f"failed: {self.verdict}"
        waiting = ", paused while you type" if self.paused else ""
        if self.phase != TRAINING:
            return f"{self.phase}{waiting}"
        share = 100 * self.tokens_learned / self.tokens_planned if self.tokens_planned else 0.0
        return (
            f"training: {self.tokens_learned:,} of {self.tokens_planned:,} tokens ({share:.0f}%), "
            f"from {self.files_covered} of {self.train_files} files{waiting}"
        )


def size(tokens: int) -> str:
    """A run's token budget in words (0: every sample)."""
    return f"{tokens:,} tokens" if tokens else "every sample"


def lock_path(settings: Settings, root: Path) -> Path:
    return repo_adapters_dir(settings, root) / LOCK_FILE


def progress_path(settings: Settings, root: Path) -> Path:
    return repo_adapters_dir(settings, root) / PROGRESS_FILE


def write_progress(path: Path, progress: Progress) -> None:
    """Replace the record atomically: a reader sees the old one or the new one."""
    progress.updated = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, directory=False) as staging:
        staging.write_text(json.dumps(dataclasses.asdict(progress), indent=1) + "\n", encoding="utf-8")


def read_progress(path: Path) -> Progress | None:
    """The record at `path`; None when there is none or it is not one (a damaged file is not an error here:
    the next step rewrites it)."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_PROGRESS_BYTES + 1)
        raw = json.loads(data) if len(data) <= MAX_PROGRESS_BYTES else None
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(raw, dict):
        return None
    known = {field.name for field in dataclasses.fields(Progress)}
    try:
        return Progress(**{key: value for key, value in raw.items() if key in known})
    except TypeError:
        return None


def running(settings: Settings, root: Path) -> bool:
    """Whether a background run holds the repository's lock now."""
    from filelock import FileLock, Timeout

    path = lock_path(settings, root)
    if not path.is_file():
        return False
    lock = FileLock(str(path), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        return True
    except OSError:
        return False
    lock.release()
    return False


def background_status(settings: Settings, root: Path) -> dict[str, Any] | None:
    """What `housecoder.status` says of the repository's background training; None when it never ran."""
    progress = read_progress(progress_path(settings, root))
    if progress is None:
        return None
    alive = running(settings, root)
    stopped = not alive and progress.phase not in (FINISHED, FAILED)
    line = (
        f"stopped while {progress.phase}; the next background run resumes it" if stopped else progress.line()
    )
    return dataclasses.asdict(progress) | {"running": alive, "line": line}
