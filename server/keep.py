"""The workspace's keep model refitted on its user's own fates (`housecoder.keep.refit`): by `housecoder stats
--fit`, and by the server while the user is idle.

The server tries after the first suggestion decided (accepted or rejected) in a folder, so a restarted editor
refits too, and then after every `REFIT_EVERY` more. A try waits until no completion has been requested on
this machine for `IDLE_S` (the activity file background training reads), then runs on its own thread: it reads
the folder's feedback store, and a refit that foretells the newest events better than the model in use is
saved beside the store and used by the folder's engine from its next suggestion. Refitting needs scikit-learn
(the `bench` extra); without it the server says so once and serves with the model it has.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from housecoder.activity import activity_file, seconds_since
from housecoder.config import Settings
from housecoder.errors import first_line
from housecoder.feedback.stats import keep_events
from housecoder.feedback.store import recorded, store_path
from housecoder.keep import KeepModel, default_model, load_model
from housecoder.keep.refit import Refit, model_path, refit
from housecoder.models.atomic import atomic_path

log = logging.getLogger(__name__)

REFIT_EVERY = 25  # suggestions decided in a folder between two refits
IDLE_S = 10.0  # no completion requested for this long: the user is not typing


def refit_workspace(settings: Settings, root: Path) -> tuple[Refit, Path]:
    """Refit `root`'s keep model on every decided suggestion of its feedback store, saving it where it wins;
    the outcome and the model's path. ImportError: scikit-learn is missing."""
    code_model = settings.models.code_model
    found = recorded(store_path(settings, root))
    rows, kept = keep_events(found.suggestions, found.checks, code_model) if found else ([], [])
    target = model_path(settings, root)
    outcome = refit(
        rows,
        kept,
        load_model(target, code_model),
        about={"workspace": root.name, "code_model": code_model},
        base=default_model(code_model),
    )
    if (
        outcome.model is not None
    ):  # under a staging name of its own: a server and `stats --fit` may both write
        with atomic_path(target, directory=False) as staged:
            staged.write_text(outcome.model.to_json(), encoding="utf-8")
    return outcome, target


class IdleRefit:
    """Counts the decided suggestions per folder and refits at idle. `schedule(delay_s, work)` runs `work` on
    the event loop later; `decided` is called there too. `refitted(root, model)` hands a saved refit to the
    engines (from the refit thread)."""

    def __init__(
        self,
        settings: Callable[[], Settings],
        schedule: Callable[[float, Callable[[], None]], Any],
        refitted: Callable[[Path, KeepModel], object],
    ) -> None:
        self.settings = settings
        self.schedule = schedule
        self.refitted = refitted
        self.counts: dict[Path, int] = {}  # decided since the last try, by folder
        self.waiting: set[Path] = set()  # folders whose try waits for the user to stop typing
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="housecoder-refit")
        self.unavailable = False  # no scikit-learn: said once, never tried again
        self.closed = False

    def decided(self, root: Path) -> None:
        """A suggestion in `root` was accepted or rejected."""
        if self.unavailable or self.closed:
            return
        count = self.counts.get(root)
        if count is not None and count + 1 < REFIT_EVERY:
            self.counts[root] = count + 1
            return
        self.counts[root] = 0
        if root not in self.waiting:
            self.waiting.add(root)
            self.schedule(IDLE_S, lambda: self._try(root))

    def _try(self, root: Path) -> None:
        if self.closed:
            return
        since = seconds_since(activity_file(self.settings()))
        if since is not None and since < IDLE_S:  # the user is typing: after the next quiet spell
            self.schedule(IDLE_S - since, lambda: self._try(root))
            return
        self.waiting.discard(root)
        self.pool.submit(self._run, root)

    def _run(self, root: Path) -> None:
        try:
            outcome, target = refit_workspace(self.settings(), root)
        except ImportError:
            self.unavailable = True
            log.info(
                "keep model not refitted at idle: scikit-learn is missing (pip install 'housecoder[bench]')"
            )
            return
        except Exception as err:  # an unreadable store, a full disk: the model in use stays
            log.warning("keep model of %s not refitted: %s", root, first_line(err))
            return
        log.info("%s: %s", root, outcome.line())
        if outcome.model is not None:
            self.refitted(root, outcome.model)
            log.info("keep model of %s saved to %s and in use", root, target)

    def flush(self) -> None:
        """Wait for the refit running or queued (tests)."""
        if not self.closed:
            self.pool.submit(lambda: None).result()

    def close(self) -> None:
        """No more tries; a refit already running finishes on its thread without holding the caller (the
        event loop) and hands nothing over."""
        self.closed = True
        self.pool.shutdown(wait=False, cancel_futures=True)
