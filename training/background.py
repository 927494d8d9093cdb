"""`housecoder train --background`: the training run, politely, in the machine's idle time.

The same job as `housecoder train` (samples, base figures, LoRA, held-out verdict, activation), with five
differences:
- it yields: `pacing.Pacer` pauses it within one transformer layer of a completion request and lets it go on
  once no request has come for `train.idle_seconds`;
- it runs on `train.background_threads` threads (every core but one by default), and its command at the lowest
  CPU priority (`lower_priority`);
- it resumes by itself: an unfinished run of the repository goes on from its last checkpoint (a kill -9 or a
  reboot loses at most `checkpoint_every` optimiser steps);
- it keeps learning: after a finished run the next one's plan is twice as large (`next_plan`: token budget and
  samples a file), until a plan finds little more than the one before it; then the repository is left alone
  until its next commit;
- it holds the repository's background lock and keeps `background.json` current for `housecoder.status`
  (`housecoder.models.background`).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from housecoder.activity import activity_file
from housecoder.config import Settings, merge_sections
from housecoder.errors import first_line
from housecoder.machine import usable_cores
from housecoder.models import background
from housecoder.models.adapters import AdapterInfo, list_adapters
from housecoder.models.progress import SILENT, Progress
from housecoder.training.errors import NoCheckpoint, TrainingError
from housecoder.training.job import Outcome, TrainJob, git_commit
from housecoder.training.pacing import Pacer
from housecoder.training.trainer import StepLog

log = logging.getLogger(__name__)

GROWTH = 1.25  # a plan under a quarter larger than the run before it: the repository gave little more

NICENESS = 19  # the lowest priority: the editor, the server and everything else the user runs come first
LOCK_WAIT_S = 2.0  # a status reader holds the lock for a moment; another run holds it for hours


def background_settings(settings: Settings) -> Settings:
    """`settings` with every thread count of the run (torch, llama.cpp for the held-out completions, the
    embedder for retrieval) set to `train.background_threads`, else every core but one."""
    threads = settings.train.background_threads or max(1, usable_cores() - 1)
    return Settings.model_validate(
        merge_sections(
            settings.model_dump(),
            {
                "models": {"torch_threads": threads},
                "inference": {"threads": threads},
                "index": {"embed_threads": threads},
            },
        )
    )


@contextlib.contextmanager
def holding_lock(settings: Settings, root: Path) -> Iterator[None]:
    """One training run of a repository at a time, in the foreground or the background: a second would resume
    or write the same run directory."""
    from filelock import FileLock, Timeout

    path = background.lock_path(settings, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path), timeout=LOCK_WAIT_S)
    try:
        lock.acquire()
    except Timeout:
        raise TrainingError(
            f"{root}: already training (another housecoder train holds {path}); wait for it or stop it"
        ) from None
    try:
        yield
    finally:
        lock.release()


def lower_priority() -> None:
    with contextlib.suppress(AttributeError, OSError):  # no os.nice on Windows; a sandbox may refuse
        os.nice(NICENESS - os.nice(0))


@dataclass(frozen=True)
class Plan:
    """The size of a run's plan: its token budget (0: every sample) and the samples one file may give."""

    token_budget: int
    per_file: int

    @classmethod
    def of(cls, settings: Settings) -> Plan:
        """The size `settings` give a run."""
        return cls(settings.train.token_budget, settings.train.tuning.per_file)

    def overrides(self) -> dict[str, Any]:
        """The `train` settings that make a run of this size."""
        return {"token_budget": self.token_budget, "tuning": {"per_file": self.per_file}}


def _tuning(info: AdapterInfo) -> dict[str, Any]:
    tuning = info.config.get("tuning")
    return tuning if isinstance(tuning, dict) else {}


def _plan_of(info: AdapterInfo) -> Plan | None:
    budget, per_file = info.config.get("token_budget"), _tuning(info).get("per_file")
    return Plan(budget, per_file) if isinstance(budget, int) and isinstance(per_file, int) else None


def _sample_tokens(info: AdapterInfo) -> int | None:
    tokens = info.training.get("sample_tokens")
    return tokens if isinstance(tokens, int) else None


def next_plan(settings: Settings, root: Path, found: list[AdapterInfo] | None = None) -> Plan | None:
    """The size of the repository's next background run, or None when there is nothing new to learn.

    Idle hours are for learning more: after a finished run at the repository's current commit (any finished
    run, without git), the next run's plan is twice its size (token budget and samples a file), until a run's
    plan held under `GROWTH` times the tokens of the run before it (the repository gave little more). A run
    capped by a sample count (`train.tuning.max_samples`) or by none (`token_budget = 0`) is not grown. Each
    larger run is activated only if it beats the adapter in service. After a new commit the next run starts
    at the size the newest run reached, or at the settings' if they are larger. `found` is the registry's
    listing of the repository's runs, newest first, when the caller has it."""
    configured = Plan.of(settings)
    found = list_adapters(settings, root) if found is None else found
    if not found:
        return configured
    newest, commit = found[0], git_commit(root)
    last = _plan_of(newest)
    if commit is not None and newest.commit != commit:  # new code
        if last is None:
            return configured
        budgets = (last.token_budget, configured.token_budget)
        return Plan(0 if 0 in budgets else max(budgets), max(last.per_file, configured.per_file))
    capped = _tuning(newest).get("max_samples") is not None
    tokens = _sample_tokens(newest)
    if last is None or last.token_budget == 0 or capped or tokens is None:
        return None
    before = next((_sample_tokens(info) for info in found[1:] if info.commit == newest.commit), None)
    if before is not None and tokens < GROWTH * before:
        return None
    return Plan(2 * last.token_budget, 2 * last.per_file)


class BackgroundRun:
    """One background run of the repository at `root`; `run` returns its outcome, or None when the repository
    was up to date."""

    def __init__(
        self,
        root: Path,
        settings: Settings,
        progress: Progress = SILENT,
        say: Callable[[str], None] = log.info,
    ) -> None:
        self.root = root.resolve()
        self.settings = background_settings(settings)
        self.say = say
        self.path = background.progress_path(self.settings, self.root)
        self.state = background.Progress(pid=os.getpid())
        self.pacer = Pacer(
            activity_file(self.settings), self.settings.train.idle_seconds, on_pause=self._paused
        )
        self.progress = progress
        self.job = self._job()

    def _job(self) -> TrainJob:
        return TrainJob(
            self.root, self.settings, self.progress, self.say, pacer=self.pacer, on_phase=self._phase
        )

    def run(self) -> Outcome | None:
        with holding_lock(self.settings, self.root):
            return self._run()

    def _run(self) -> Outcome | None:
        found = list_adapters(self.settings, self.root)
        plan = next_plan(self.settings, self.root, found)  # an unfinished run began under it too (the lock)
        try:
            self.job.unfinished_run()
            resume = True
        except NoCheckpoint:
            resume = False
            if plan is None:
                newest = found[0]
                self.say(
                    "nothing new to learn: the newest adapter was trained at this commit on all it could take"
                )
                self._end(background.FINISHED, newest.verdict, None)
                return None
        if plan is not None and plan != Plan.of(self.settings):
            if not resume:
                self.say(
                    f"learning more of the repository: {plan.token_budget:,} tokens, up to {plan.per_file} "
                    "samples a file"
                )
            self.settings = Settings.model_validate(
                merge_sections(self.settings.model_dump(), {"train": plan.overrides()})
            )
            self.job = self._job()
        try:
            outcome = self.job.run(resume=resume, on_step=self._step)
        except Exception as err:
            self._end(background.FAILED, first_line(err), False)
            raise
        grown = next_plan(self.settings, self.root)
        self.state.next_tokens = None if grown is None else grown.token_budget
        self._end(background.FINISHED, outcome.verdict, outcome.beat_base)
        return outcome

    # -- the record --------------------------------------------------------------------------

    def _save(self) -> None:
        self.state.yields, self.state.max_yield_s = self.pacer.report()
        self.state.max_yield_s = round(self.state.max_yield_s, 3)
        try:
            background.write_progress(self.path, self.state)
        except OSError as err:  # the record is for the status bar: never a reason to stop training
            log.warning("%s: cannot write the background record: %s", self.path, err)

    def _phase(self, phase: str) -> None:
        self.state.phase = phase
        if phase == background.TRAINING:
            self._plan()
        self._save()

    def _plan(self) -> None:
        """The plan's size, from the samples the run trains on."""
        from housecoder.training.samples import HISTORY_KIND

        prepared = self.job.prepared
        if prepared is None:
            return
        self.state.run = prepared.run_dir.name
        self.state.tokens_planned = self.job.planned_tokens
        self.state.files_covered = len({s.path for s in prepared.train if s.kind != HISTORY_KIND})
        self.state.train_files = len(prepared.split.train)

    def _paused(self, paused: bool) -> None:
        self.state.paused = paused
        self._save()

    def _step(self, step: StepLog) -> None:
        self.state.step, self.state.total_steps = step.step, step.total_steps
        self.state.tokens_learned = step.tokens_seen
        self._save()

    def _end(self, phase: str, verdict: str, beat_base: bool | None) -> None:
        self.state.phase, self.state.verdict, self.state.beat_base = phase, verdict, beat_base
        self.state.paused = False
        self._save()
