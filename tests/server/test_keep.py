"""The keep model refitted at idle: after the first decision and every REFIT_EVERY more, once the user stops typing."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from feedback_fixture import keep_history

from housecoder.activity import activity_file
from housecoder.config import Settings
from housecoder.feedback.store import FeedbackStore, store_path
from housecoder.keep import KeepModel
from housecoder.keep.refit import model_path
from housecoder.server import keep
from housecoder.server.keep import IDLE_S, REFIT_EVERY, IdleRefit


class Harness:
    def __init__(self, tmp_path: Path) -> None:
        self.root = tmp_path / "repo"
        self.root.mkdir()
        self.settings = Settings.model_validate({"models": {"cache_dir": str(tmp_path / "cache" / "models")}})
        self.later: list[tuple[float, Callable[[], None]]] = []
        self.used: list[tuple[Path, KeepModel]] = []
        self.refits = IdleRefit(
            lambda: self.settings,
            lambda delay, work: self.later.append((delay, work)),
            lambda root, model: self.used.append((root, model)),
        )

    def history(self, count: int = 200) -> None:
        """A user who keeps what the model was sure of and rejects the rest."""
        keep_history(FeedbackStore(store_path(self.settings, self.root)), count)

    def typed(self, seconds_ago: float) -> None:
        path = activity_file(self.settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        stamp = time.time() - seconds_ago
        os.utime(path, (stamp, stamp))

    def run_later(self) -> list[float]:
        due, self.later = self.later, []
        for _, work in due:
            work()
        self.refits.flush()
        return [delay for delay, _ in due]


def test_a_refit_waits_for_a_quiet_spell_and_is_used_and_saved(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.history()
    for _ in range(5):  # the first decision asks for a try; the next ones count towards the one after
        h.refits.decided(h.root)
    h.typed(seconds_ago=1.0)  # typing: the try moves to the end of the quiet spell
    delays = h.run_later()
    assert delays == [IDLE_S] and h.used == [] and len(h.later) == 1
    assert 0 < h.later[0][0] <= IDLE_S - 0.5
    h.typed(seconds_ago=IDLE_S + 1)
    h.run_later()
    [(root, model)] = h.used
    saved = KeepModel.from_json(model_path(h.settings, h.root).read_text())
    assert root == h.root and saved == model and model.about["examples"] == 200
    assert dict(zip(model.features, model.coef, strict=True))["mean_logprob"] > 0
    for _ in range(REFIT_EVERY - 5):
        h.refits.decided(h.root)
    assert h.later == []
    h.refits.decided(h.root)  # REFIT_EVERY decisions after the first: another try
    assert [delay for delay, _ in h.later] == [IDLE_S]
    h.refits.close()
    h.run_later()  # after the server closed: nothing runs
    h.refits._run(h.root)  # a refit that was already on its way hands nothing over
    assert len(h.used) == 1


def test_too_few_events_change_nothing(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    h = Harness(tmp_path)
    h.history(10)
    h.refits.decided(h.root)
    with caplog.at_level(logging.INFO, logger="housecoder.server.keep"):
        h.run_later()
    assert h.used == [] and not model_path(h.settings, h.root).exists()
    assert "keep model not refitted: 10 decided suggestions with signals, 60 needed" in caplog.text


def test_without_scikit_learn_the_server_says_so_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def missing(*_args: object, **_kwargs: object) -> None:
        raise ImportError("No module named 'sklearn'")

    monkeypatch.setattr(keep, "refit", missing)
    h = Harness(tmp_path)
    h.history(70)
    h.refits.decided(h.root)
    with caplog.at_level(logging.INFO, logger="housecoder.server.keep"):
        h.run_later()
    assert h.refits.unavailable and "scikit-learn is missing" in caplog.text
    for _ in range(2 * REFIT_EVERY):
        h.refits.decided(h.root)
    assert h.later == [] and h.used == []


def test_each_code_model_refits_its_own_events_from_its_own_shipped_model(tmp_path: Path) -> None:
    from housecoder.keep import default_model
    from housecoder.keep.model import shipped
    from housecoder.server.keep import refit_workspace

    [fast] = shipped()  # the smaller built-in model ships coefficients of its own
    h = Harness(tmp_path)
    large = h.settings.models.code_model
    keep_history(FeedbackStore(store_path(h.settings, h.root)), 200, model=large)
    small = h.settings.model_copy(
        update={"models": h.settings.models.model_copy(update={"code_model": fast})}
    )
    assert model_path(small, h.root) != model_path(h.settings, h.root)
    outcome, _ = refit_workspace(small, h.root)  # the large model's events say nothing of the small one's
    assert outcome.model is None and outcome.events == 0
    keep_history(FeedbackStore(store_path(h.settings, h.root)), 200, seed=1, model=fast)
    outcome, target = refit_workspace(small, h.root)
    base = default_model(fast)
    assert outcome.model is not None and outcome.events == 200 and target == model_path(small, h.root)
    assert outcome.model.about["code_model"] == fast and base != default_model(large)
    assert outcome.model.mean[: len(base.features)] == base.mean  # adjusted from the small model's own
    assert not model_path(h.settings, h.root).exists()
