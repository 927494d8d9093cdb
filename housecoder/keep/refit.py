"""A workspace's own keep model: the shipped one adjusted to what its user kept, used only where it foretells
better.

The events come in time order (the oldest first). The newest quarter is held out: the shipped model adjusted to
the rest (`fit.fit_update`: the level and scale of its own score, and the weights of the cursor's place, of
what the prompt had and of the time since the last decision, each pulled towards no change) must have a lower
log-loss there than the model in use, or it is refused. An accepted candidate is adjusted again on every event
before it is saved. The model's reading of the scores themselves is left to the shipped fit: on simulated
histories a refit of every signal, from nothing or adjusted, was as good on average but far less steady on a
few dozen events (note 0025). The target is the user's own: kept (accepted, and at least half of it still in place), where the
shipped model's is exact match on benchmark tasks. Suggestions the gate hid were never shown, so they have no
fate: once the gate is on, a refit learns from those above the threshold only.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from housecoder.config import Settings
from housecoder.keep.fit import fit_update
from housecoder.keep.model import KeepModel, default_model
from housecoder.keep.signals import FEATURES, PLACE
from housecoder.locations import cache_base, repo_key

MIN_EVENTS = 60  # fewer decided suggestions with signals than this: nothing to refit on
HELD_OUT = 0.25
EPSILON = 1e-6


def model_path(settings: Settings, root: Path) -> Path:
    """`<cache>/keep/<repo key>.<code model key>.json`: the workspace's keep model refitted on the suggestions
    of the code model in use (another model's scores mean something else), beside its feedback store."""
    code_model = settings.models.code_model
    name = re.sub(r"[^A-Za-z0-9._-]", "_", Path(code_model).name)[:64]
    key = f"{name}-{hashlib.sha256(code_model.encode()).hexdigest()[:8]}"
    return cache_base(settings) / "keep" / f"{repo_key(root)}.{key}.json"


def losses(model: KeepModel, rows: Sequence[dict[str, float]], kept: Sequence[bool]) -> list[float]:
    """Each event's negative log-likelihood of its outcome under `model`."""
    return [event_loss(model.p_keep(row), outcome) for row, outcome in zip(rows, kept, strict=True)]


def event_loss(p: float, kept: bool) -> float:
    """One event's negative log-likelihood of its outcome, `p` being the probability of a keep."""
    p = min(1 - EPSILON, max(EPSILON, p))
    return -math.log(p if kept else 1 - p)


@dataclass(frozen=True)
class Refit:
    """The outcome: the model to save (None: refused, `reason` says why) and the held-out figures: each
    held-out event's log-loss under the model in use and under the candidate fitted on the older events
    (empty when there were too few events to fit), and their means."""

    model: KeepModel | None
    events: int
    reason: str
    current_losses: tuple[float, ...] = ()
    refit_losses: tuple[float, ...] = ()

    @property
    def held_out(self) -> int:
        return len(self.current_losses)

    @property
    def current_loss(self) -> float | None:
        return _mean(self.current_losses)

    @property
    def refit_loss(self) -> float | None:
        return _mean(self.refit_losses)

    def line(self) -> str:
        if self.current_loss is None or self.refit_loss is None:
            return f"keep model not refitted: {self.reason}"
        figures = (
            f"held-out log-loss {self.refit_loss:.3f} against {self.current_loss:.3f} of the model in use "
            f"on the newest {self.held_out} of {self.events} events"
        )
        return f"keep model refitted: {figures}" if self.model else f"keep model refit refused: {figures}"


def refit(
    rows: Sequence[dict[str, float]],
    kept: Sequence[bool],
    current: KeepModel,
    *,
    about: dict[str, Any],
    features: Sequence[str] = PLACE,
    base: KeepModel | None = None,
) -> Refit:
    """Adjust `base` (the shipped model unless given) to the older events (`fit_update`: its score's level and
    scale, and those of `features` the events record: by default where the cursor was, what the prompt had
    and the time since the last decision), compare it with `current` (the model in use) on the newest; where it
    foretells them better, the adjustment made on every event. Events recorded without a signal either
    model reads (by another housecoder version) are left out."""
    base = base or default_model()
    rows, kept = _with(rows, kept, set(current.features) | set(base.features))
    features = recorded(rows, features)
    events = len(rows)
    if events < MIN_EVENTS:
        return Refit(None, events, f"{events} decided suggestions with signals, {MIN_EVENTS} needed")
    split = held_out_from(events)
    older, newest = (rows[:split], kept[:split]), (rows[split:], kept[split:])
    if len(set(older[1])) < 2 or len(set(kept)) < 2:
        return Refit(None, events, "every suggestion had the same fate: nothing to learn")
    candidate = fit_update(*older, base, features=features)
    theirs, mine = tuple(losses(current, *newest)), tuple(losses(candidate, *newest))
    if sum(mine) >= sum(theirs):
        return Refit(None, events, "it foretells worse", theirs, mine)
    about = about | {"held_out_log_loss": sum(mine) / len(mine)}
    return Refit(fit_update(rows, kept, base, features=features, about=about), events, "", theirs, mine)


def recorded(rows: Sequence[dict[str, float]], names: Sequence[str]) -> list[str]:
    """Those of `names` every one of `rows` records."""
    return [name for name in names if all(name in row for row in rows)]


def held_out_from(events: int) -> int:
    """Where the held-out newest `HELD_OUT` of `events` begins (at least one is held out)."""
    return events - max(1, int(events * HELD_OUT))


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _with(
    rows: Sequence[dict[str, float]], kept: Sequence[bool], names: set[str]
) -> tuple[list[dict[str, float]], list[bool]]:
    """The events whose signals hold every one of `names` and at least one known signal."""
    pairs = [
        (row, fate)
        for row, fate in zip(rows, kept, strict=True)
        if names <= set(row) and set(row) & set(FEATURES)
    ]
    return [row for row, _ in pairs], [fate for _, fate in pairs]
