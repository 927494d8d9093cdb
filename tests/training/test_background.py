"""Background training: the pacer pauses a forward or backward pass within one layer of a completion request and
lets it go on once the user stops typing; a background run trains, resumes a stopped run by itself, keeps its
record for the status, and refuses a second run of the same repository."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from housecoder.activity import ActivityMark
from housecoder.models import background
from housecoder.training.background import (
    BackgroundRun,
    Plan,
    background_settings,
    holding_lock,
    next_plan,
)
from housecoder.training.errors import TrainingError
from housecoder.training.pacing import Pacer


def _age(path: Path, seconds: float) -> None:
    """Make the newest request `seconds` old."""
    then = time.time() - seconds
    os.utime(path, (then, then))


@pytest.fixture
def tiny_model(tiny_qwen_dir: Path) -> Any:
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(tiny_qwen_dir)


class Tracer:
    """What happened, in order: each layer's forward, the request, the pause and its end."""

    def __init__(self, activity: Path) -> None:
        self.activity = activity
        self.events: list[str] = []

    def request(self) -> None:
        self.events.append("request")
        ActivityMark(self.activity).mark()

    def wait(self, _seconds: float) -> None:  # the user stops typing while the run waits
        self.events.append("waiting")
        _age(self.activity, 3600)

    def pacer(self) -> Pacer:
        return Pacer(
            self.activity,
            idle_seconds=60,
            on_pause=lambda paused: self.events.append("paused" if paused else "resumed"),
            wait=self.wait,
        )


@pytest.fixture
def traced(tiny_model: Any, tmp_path: Path) -> tuple[Tracer, Pacer]:
    """A tracer and its pacer, installed on the tiny model's layers."""
    trace = Tracer(tmp_path / "activity")
    pacer = trace.pacer()
    pacer.install(tiny_model)
    return trace, pacer


def test_a_request_in_the_middle_of_a_forward_pass_pauses_it_before_the_next_layer(
    tiny_model: Any, traced: tuple[Tracer, Pacer]
) -> None:
    import torch

    trace, pacer = traced
    first, second = tiny_model.model.layers
    first.register_forward_hook(lambda *_: trace.request())  # the user types while layer 0 computes
    second.register_forward_pre_hook(lambda *_: trace.events.append("layer 1"))

    tiny_model(torch.tensor([[1, 2, 3]]))

    assert trace.events == ["request", "paused", "waiting", "resumed", "layer 1"]
    count, longest = pacer.report()
    assert count == 1 and 0 <= longest < 60


def test_a_request_during_the_backward_pass_pauses_it_before_the_next_layer_gradient(
    tiny_model: Any, traced: tuple[Tracer, Pacer]
) -> None:
    import torch

    trace, pacer = traced
    layers_without_gradients: list[int] = []

    def wait(seconds: float) -> None:  # where the backward pass was when it paused
        layers_without_gradients.append(
            sum(all(p.grad is None for p in layer.parameters()) for layer in tiny_model.model.layers)
        )
        trace.wait(seconds)

    pacer.wait = wait
    ids = torch.tensor([[1, 2, 3, 4]])
    out = tiny_model(ids, labels=ids)  # nothing marked yet: the forward pass runs through
    assert trace.events == []
    out.logits.register_hook(lambda _grad: trace.request())  # the first gradient of the backward pass
    out.loss.backward()

    assert trace.events[:4] == ["request", "paused", "waiting", "resumed"]
    assert layers_without_gradients == [2]  # paused before the last layer's gradient, let alone the first's
    assert all(p.grad is not None for p in tiny_model.model.layers[0].parameters())  # it went on to the end


def test_an_idle_machine_never_pauses(tiny_model: Any, tmp_path: Path) -> None:
    import torch

    activity = tmp_path / "activity"
    pacer = Pacer(activity, idle_seconds=60, wait=lambda _s: pytest.fail("paused on an idle machine"))
    pacer.install(tiny_model)
    tiny_model(torch.tensor([[1, 2]]))  # never a request
    ActivityMark(activity).mark()
    _age(activity, 61)  # the last one longer ago than idle_seconds
    tiny_model(torch.tensor([[1, 2]]))
    assert pacer.report() == (0, 0.0)


def test_background_settings_leave_a_core_free(train_settings: Any) -> None:
    settings = background_settings(train_settings())
    from housecoder.machine import usable_cores

    expected = max(1, usable_cores() - 1)
    assert settings.models.torch_threads == expected
    assert settings.inference.threads == expected and settings.index.embed_threads == expected
    assert background_settings(train_settings(background_threads=3)).models.torch_threads == 3


BUDGET = 2400  # tokens: about 10 of the tiny repository's samples (it gives about 30)


def _trained(settings: Any, root: Path, run: str, plan: Plan, tokens: int | None, **more: Any) -> None:
    """A finished run of `root` of the size `plan` whose samples held `tokens` (None: not recorded)."""
    from registry_fixture import register

    tuning = {"per_file": plan.per_file, "max_samples": more.pop("max_samples", None)}
    register(
        settings,
        root,
        run,
        "f",
        created=f"2025-01-0{run[-1]}T12:00:00+00:00",
        commit=more.pop("commit", None),
        config={"token_budget": plan.token_budget, "tuning": tuning},
        training={} if tokens is None else {"sample_tokens": tokens},
    )


def test_each_run_is_followed_by_one_twice_as_large_while_the_repository_gives_more(
    train_settings: Any, tmp_path: Path
) -> None:
    settings, root = train_settings(token_budget=1000, max_samples=None, per_file=6), tmp_path / "repo"
    root.mkdir()
    assert next_plan(settings, root) == Plan(1000, 6)  # the first run: the settings' size
    _trained(settings, root, "run1", Plan(1000, 6), 1012)
    assert next_plan(settings, root) == Plan(2000, 12)
    _trained(settings, root, "run2", Plan(2000, 12), 1700)  # 68% more than the run before
    assert next_plan(settings, root) == Plan(4000, 24)
    _trained(settings, root, "run3", Plan(4000, 24), 2000)  # 18% more: the repository gave little more
    assert next_plan(settings, root) is None


@pytest.mark.parametrize(
    ("budget", "tokens", "more"),
    [
        (0, 5000, {}),  # every sample, by the budget 0
        (1000, 1012, {"max_samples": 12}),  # a recipe's cap on samples: not grown
        (1000, None, {}),  # a run from before the samples' tokens were recorded
    ],
)
def test_nothing_more_to_learn(
    train_settings: Any, tmp_path: Path, budget: int, tokens: int | None, more: dict[str, Any]
) -> None:
    settings, root = train_settings(token_budget=1000, max_samples=None), tmp_path / "repo"
    root.mkdir()
    _trained(settings, root, "run1", Plan(budget, 6), tokens, **more)
    assert next_plan(settings, root) is None


def test_new_code_is_learnt_again_at_the_size_the_repository_reached(
    train_settings: Any, tmp_path: Path
) -> None:
    import subprocess

    def settings(budget: int) -> Any:
        return train_settings(token_budget=budget, max_samples=None, per_file=6)

    root = tmp_path / "repo"
    root.mkdir()
    (root / "a.py").write_text("x = 1\n")
    for command in (
        ["init", "-q"],
        ["add", "a.py"],
        ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "a"],
    ):
        subprocess.run(["git", "-C", str(root), *command], check=True)
    _trained(settings(1000), root, "run1", Plan(4000, 24), 2600, commit="an older commit")
    assert next_plan(settings(1000), root) == Plan(4000, 24)
    assert next_plan(settings(8000), root) == Plan(8000, 24)
    assert next_plan(settings(0), root) == Plan(0, 24)


@pytest.mark.e2e
def test_the_next_background_run_learns_twice_as_much(inventory_repo: Path, train_settings: Any) -> None:
    settings = train_settings(token_budget=BUDGET, max_samples=None, per_file=2, steps=2)
    first = BackgroundRun(inventory_repo, settings)
    assert first.run() is not None and next_plan(settings, inventory_repo) == Plan(2 * BUDGET, 4)
    assert first.state.next_tokens == 2 * BUDGET  # for the server, which starts the next run
    said: list[str] = []
    second = BackgroundRun(inventory_repo, settings, say=said.append)
    outcome = second.run()
    assert outcome is not None and second.job.config.token_budget == 2 * BUDGET
    assert second.job.config.tuning.per_file == 4
    assert f"learning more of the repository: {2 * BUDGET:,} tokens, up to 4 samples a file" in said
    assert first.job.sample_tokens and second.job.sample_tokens
    assert second.job.sample_tokens > 1.5 * first.job.sample_tokens


@pytest.mark.e2e  # a whole workflow (make test-fast skips it; make test runs it)
def test_a_background_run_trains_reports_and_then_has_nothing_to_learn(
    inventory_repo: Path, train_settings: Any
) -> None:
    settings = train_settings()
    phases: list[str] = []
    run = BackgroundRun(inventory_repo, settings)
    record = background.progress_path(settings, inventory_repo)
    saved = run._save

    def save() -> None:
        saved()
        phases.append(background.read_progress(record).phase)  # type: ignore[union-attr]

    run._save = save  # type: ignore[method-assign]
    outcome = run.run()

    assert outcome is not None and (outcome.run_dir / "housecoder-adapter.json").is_file()
    assert phases[:3] == [background.PREPARING, background.BASE, background.TRAINING]
    assert phases[-2:] == [background.EVALUATING, background.FINISHED]
    status = background.background_status(settings, inventory_repo)
    assert status is not None and not status["running"]
    assert status["step"] == status["total_steps"] == 4
    assert 0 < status["tokens_learned"] <= status["tokens_planned"]
    assert status["files_covered"] == status["train_files"] > 0
    assert status["run"] == outcome.run_dir.name and status["line"] == f"finished: {outcome.verdict}"

    assert BackgroundRun(inventory_repo, settings).run() is None  # no git: a finished run is up to date


def test_a_background_run_resumes_a_stopped_run_by_itself(inventory_repo: Path, train_settings: Any) -> None:
    from housecoder.training.job import TrainJob
    from housecoder.training.trainer import StepLog

    settings = train_settings(steps=4, generate_samples=1)

    def stop_at_three(log: StepLog) -> None:
        if log.step == 3:
            raise KeyboardInterrupt  # a kill after the checkpoint at step 2

    with pytest.raises(KeyboardInterrupt):
        TrainJob(inventory_repo, settings).run(on_step=stop_at_three)
    stopped = TrainJob(inventory_repo, settings).unfinished_run()

    run = BackgroundRun(inventory_repo, settings)
    steps: list[int] = []
    step = run._step
    run._step = lambda log: (steps.append(log.step), step(log))  # type: ignore[method-assign]
    outcome = run.run()
    assert outcome is not None and outcome.run_dir == stopped
    assert steps == [3, 4]  # from the checkpoint at step 2: one chunk lost


def test_a_second_background_run_of_the_repository_is_refused(
    inventory_repo: Path, train_settings: Any
) -> None:
    settings = train_settings()
    assert not background.running(settings, inventory_repo)
    with holding_lock(settings, inventory_repo):
        assert background.running(settings, inventory_repo)
        with pytest.raises(TrainingError, match="already training"):
            BackgroundRun(inventory_repo, settings).run()
    assert not background.running(settings, inventory_repo)


def test_the_status_of_a_run_that_died_says_it_stopped(train_settings: Any, tmp_path: Path) -> None:
    settings = train_settings()
    root = tmp_path / "repo"
    assert background.background_status(settings, root) is None
    path = background.progress_path(settings, root)
    record = background.Progress(
        phase=background.TRAINING, tokens_learned=5_000, tokens_planned=20_000, files_covered=3, train_files=4
    )
    background.write_progress(path, record)
    status = background.background_status(settings, root)
    assert (
        status is not None and status["line"] == "stopped while training; the next background run resumes it"
    )
    record.paused = True
    assert record.line() == "training: 5,000 of 20,000 tokens (25%), from 3 of 4 files, paused while you type"
    path.write_text("{not json")
    assert background.background_status(settings, root) is None  # damaged: the next step rewrites it
