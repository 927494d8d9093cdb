"""Background training started by the server: one `housecoder train --background` process per workspace folder
whose settings say `train.background = true`, stopped when the session ends. A run that finishes with more of
the repository to learn (its record's `next_tokens`) is followed by the next, larger one.

The process yields to this server's completion requests by itself (the server marks each one in the activity
file, `housecoder.activity`), so nothing here pauses it. It trains with the session's own settings (the editor's
options included), handed over in `background-settings.json`; its output goes to `background.log`, both beside
its record in the adapter registry.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from housecoder.config import Settings
from housecoder.models.background import FINISHED, progress_path, read_progress, running

log = logging.getLogger(__name__)

LOG_FILE = "background.log"
SETTINGS_FILE = "background-settings.json"
STOP_WAIT_S = 10.0


class BackgroundTraining:
    """The background training processes this session started, by folder; `finished(root)` is called when one
    of them ends by itself with success (the server then looks for a newly activated adapter)."""

    def __init__(
        self,
        finished: Callable[[Path], object] = lambda _root: None,
        command: tuple[str, ...] = (sys.executable, "-m", "housecoder", "train", "--background"),
    ) -> None:
        self.command = command
        self.processes: dict[Path, subprocess.Popen[bytes]] = {}
        self.settings: dict[Path, Settings] = {}  # what each folder's run was started with
        self.finished = finished
        self.stopped: set[int] = set()  # pids ended on purpose: their exit is no failure
        self.lock = threading.RLock()  # a run that ends by itself starts the next; stop() must not race it

    def start(self, settings: Settings, root: Path) -> str:
        """Start a run for `root` unless one is running; returns what happened, in a few words."""
        with self.lock:
            return self._start(settings, root)

    def _start(self, settings: Settings, root: Path) -> str:
        mine = self.processes.get(root)
        if mine is not None and mine.poll() is None:
            return "already training in the background"
        if running(settings, root):
            return "already training in the background (another process)"
        log_path = progress_path(settings, root).with_name(LOG_FILE)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        settings_path = log_path.with_name(SETTINGS_FILE)
        settings_path.write_text(settings.model_dump_json(indent=1), encoding="utf-8")
        with log_path.open("ab") as output:
            self.processes[root] = subprocess.Popen(
                [*self.command, "--settings", str(settings_path), str(root)],
                cwd=root,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        process = self.processes[root]
        self.settings[root] = settings
        log.info("background training of %s started (pid %d, log %s)", root, process.pid, log_path)
        threading.Thread(
            target=self._watch, args=(root, process), name="housecoder-training", daemon=True
        ).start()
        return "started"

    def _watch(self, root: Path, process: subprocess.Popen[bytes]) -> None:
        code = process.wait()
        if process.pid in self.stopped:
            return
        if code != 0:
            log.warning(
                "background training of %s ended with exit code %s (see its %s)", root, code, LOG_FILE
            )
            return
        try:
            self.finished(root)
        except Exception as err:  # the next start or housecoder.reloadAdapter picks the adapter up
            log.warning("after background training of %s: %s", root, err)
        with self.lock:
            settings = self.settings.get(root)
            if settings is None or self.processes.get(root) is not process:  # stopped meanwhile
                return
            record = read_progress(progress_path(settings, root))
            if record is not None and record.phase == FINISHED and record.next_tokens is not None:
                log.info("background training of %s: learning more of the repository", root)
                try:
                    self._start(settings, root)
                except OSError as err:  # the next session starts it
                    log.warning("cannot start background training of %s again: %s", root, err)

    def start_configured(self, settings: Settings, roots: list[Path]) -> None:
        if not settings.train.background:
            return
        for root in roots:
            try:
                self.start(settings, root)
            except OSError as err:  # an unwritable cache, no such interpreter: the server goes on serving
                log.warning("cannot start background training of %s: %s", root, err)

    def stop(self) -> None:
        """End every run this session started; each loses at most its last chunk, and the next background run
        resumes it."""
        with self.lock:
            self._stop()

    def _stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                self.stopped.add(process.pid)
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(OSError):
                    process.kill()
        self.processes.clear()
        self.settings.clear()
