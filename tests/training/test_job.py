"""The training job end to end on the tiny model with a real index: samples, split, training, evaluation,
the adapter directory and its registration; dry run, resume, re-evaluation and the errors a user meets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from housecoder.config import tuned
from housecoder.evaluation.tasks import Task, write_tasks
from housecoder.models.adapters import list_adapters, read_adapter
from housecoder.training.errors import NoCheckpoint, TooSmall, TrainingError
from housecoder.training.job import TrainJob
from housecoder.training.preparation import SAMPLES_FILE, read_samples
from housecoder.training.trainer import CHECKPOINT


def _forgetting_file(tmp_path: Path) -> Path:
    tasks = [
        Task(f"he/{i}", "f.py", f"def add_{i}(a, b):\n    ", "\n", "return a + b", "python") for i in range(3)
    ]
    path = tmp_path / "forgetting.jsonl"
    write_tasks(path, tasks)
    return path


@pytest.mark.e2e  # a whole workflow (make test-fast skips it; make test runs it)
def test_a_run_writes_a_registered_adapter_with_its_report(
    inventory_repo: Path, train_settings: Any, tmp_path: Path
) -> None:
    settings = train_settings(forgetting_tasks=str(_forgetting_file(tmp_path)), forgetting_limit=3)
    steps = []
    outcome = TrainJob(inventory_repo, settings).run(on_step=steps.append)

    run = outcome.run_dir
    assert run.parent.parent == tmp_path / "adapters"
    for name in (
        "adapter_config.json",
        "adapter_model.safetensors",
        "housecoder-adapter.json",
        "report.md",
        "report.json",
        "loss.png",
        SAMPLES_FILE,
        "split.json",
        "history.json",
        "generations.jsonl",
    ):
        assert (run / name).is_file(), name
    assert not (run / CHECKPOINT).exists()  # a finished run drops its optimiser state
    assert (
        [log.step for log in steps] == [1, 2, 3, 4]
        and steps[1].eval_loss is not None
        and steps[0].eval_loss is None
    )

    info = read_adapter(run)
    assert info is not None and info.beat_base == outcome.beat_base and info.verdict == outcome.verdict
    meta = json.loads((run / "housecoder-adapter.json").read_text())
    report_json = json.loads((run / "report.json").read_text())
    assert meta["base_model"] == settings.models.code_model and report_json["samples"] == {
        "train": 12,
        "held_out": 6,
    }
    assert set(meta["metrics"]) == {"held_out_loss", "held-out", "forgetting"}
    assert (
        meta["metrics"]["held-out"]["before"]["tasks"] == 3
        and meta["metrics"]["forgetting"]["after"]["tasks"] == 3
    )
    assert [a.path for a in list_adapters(settings, inventory_repo)] == [run]
    report = (run / "report.md").read_text()
    assert outcome.verdict in report and "Forgetting check" in report

    # Held-out files never appear in training samples, neither as the sample's file nor in its context.
    train, held_out = read_samples(run / SAMPLES_FILE)
    split = json.loads((run / "split.json").read_text())
    assert len(train) == 12 and len(held_out) == 6
    assert all(s.path in split["held_out"] for s in held_out)
    for sample in train:
        assert sample.path in split["train"] and not set(sample.snippet_paths) & set(split["held_out"])
        assert sample.path not in sample.snippet_paths
    assert any(sample.snippet_paths for sample in train)  # retrieval did put other files in front

    # The generations before and after are the benchmark's records, paired per task.
    runs = {json.loads(line)["run"] for line in (run / "generations.jsonl").read_text().splitlines()}
    assert runs == {"housecoder", "housecoder+adapter", "infile", "infile+adapter"}


def test_dry_run_counts_samples_and_times_a_step_without_writing(
    inventory_repo: Path, train_settings: Any, tmp_path: Path
) -> None:
    settings = train_settings(steps=None, epochs=2.0)
    job = TrainJob(inventory_repo, settings)
    estimate = job.estimate(job.prepare())
    assert estimate.train_samples == 12 and estimate.eval_samples == 6 and estimate.files == 7
    assert estimate.steps == 12 and estimate.sequences == 24  # 2 epochs of 12 samples, 2 per optimiser step
    assert estimate.step_seconds > 0 and estimate.total_seconds > 0 and estimate.mean_tokens > 20
    assert "estimated" in estimate.lines()[-1]
    assert not (tmp_path / "adapters").exists()
    # More middles to generate than to measure the loss on: the held-out files give the larger number,
    # up to eval_per_file each (here 4 from each of the 2 held-out files, where per_file would allow 6).
    more = TrainJob(inventory_repo, train_settings(eval_samples=2, generate_samples=9))
    assert more.estimate(more.prepare()).eval_samples == 9
    capped = TrainJob(inventory_repo, train_settings(eval_samples=2, generate_samples=9, eval_per_file=4))
    assert 4 <= capped.estimate(capped.prepare()).eval_samples <= 8


def test_resume_continues_an_interrupted_run(
    inventory_repo: Path, train_settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from housecoder.training import trainer

    settings = train_settings(steps=4, generate_samples=1)
    seen: list[int] = []

    def stop_at_three(log: trainer.StepLog) -> None:
        seen.append(log.step)
        if log.step == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        TrainJob(inventory_repo, settings).run(on_step=stop_at_three)
    unfinished = TrainJob(inventory_repo, settings).unfinished_run()
    assert (unfinished / CHECKPOINT).is_dir() and not (unfinished / "housecoder-adapter.json").exists()

    resumed: list[int] = []
    outcome = TrainJob(inventory_repo, settings).run(
        resume=True, on_step=lambda log: resumed.append(log.step)
    )
    assert seen == [1, 2, 3] and resumed == [3, 4]  # the checkpoint at step 2 is where it picks up
    assert outcome.run_dir == unfinished and (unfinished / "housecoder-adapter.json").is_file()
    with pytest.raises(NoCheckpoint, match="no unfinished training run"):
        TrainJob(inventory_repo, settings).unfinished_run()


def test_a_run_stopped_before_its_first_checkpoint_resumes_with_its_samples(
    inventory_repo: Path, train_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = train_settings(steps=2, checkpoint_every=2, generate_samples=1)

    def interrupt(log: Any) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        TrainJob(inventory_repo, settings).run(on_step=interrupt)  # stopped at step 1: no checkpoint yet
    unfinished = TrainJob(inventory_repo, settings).unfinished_run()
    assert not (unfinished / CHECKPOINT).exists() and (unfinished / "before.json").is_file()
    samples = (unfinished / SAMPLES_FILE).read_text()
    steps: list[int] = []
    outcome = TrainJob(inventory_repo, settings).run(resume=True, on_step=lambda log: steps.append(log.step))
    assert (
        outcome.run_dir == unfinished
        and steps == [1, 2]
        and (unfinished / SAMPLES_FILE).read_text() == samples
    )


@pytest.mark.e2e  # a whole workflow (make test-fast skips it; make test runs it)
def test_eval_only_scores_the_newest_adapter_again(
    inventory_repo: Path, train_settings: Any, tmp_path: Path
) -> None:
    settings = train_settings(steps=2, generate_samples=2)
    with pytest.raises(TrainingError, match="no trained adapter"):
        TrainJob(inventory_repo, settings).eval_only()
    first = TrainJob(inventory_repo, settings).run()
    trained = json.loads((first.run_dir / "report.json").read_text())["training"]
    again = TrainJob(inventory_repo, settings).eval_only()
    assert again.run_dir == first.run_dir
    assert again.metrics.held_out_loss.after == pytest.approx(first.metrics.held_out_loss.after, rel=1e-4)
    assert json.loads((first.run_dir / "report.json").read_text())["training"] == trained  # kept, not lost
    assert f"{trained['step']} steps" in (first.run_dir / "report.md").read_text()

    # Asked for more held-out middles than the run drew, it draws new ones from its held-out files only (the cap
    # per file: test_samples); the loss stays the run's own samples'; plain --eval-only draws none.
    train, held_out = read_samples(first.run_dir / SAMPLES_FILE)
    split = json.loads((first.run_dir / "split.json").read_text())
    TrainJob(inventory_repo, train_settings(steps=2, generate_samples=len(held_out) + 4)).eval_only()
    assert read_samples(first.run_dir / SAMPLES_FILE) == (train, held_out)
    more = TrainJob(inventory_repo, train_settings(steps=2)).eval_only(held_out=len(held_out) + 4)
    train_after, held_after = read_samples(first.run_dir / SAMPLES_FILE)
    assert (
        train_after == train and held_after[: len(held_out)] == held_out and len(held_after) > len(held_out)
    )
    assert all(s.path in split["held_out"] for s in held_after)
    assert len({s.sample_id for s in held_after}) == len(held_after)
    assert more.metrics.held_out.before.tasks == len(held_after)
    assert more.metrics.held_out_loss.after == pytest.approx(again.metrics.held_out_loss.after, rel=1e-4)
    # keyed to the samples its records are of
    before = json.loads((first.run_dir / "before.json").read_text())
    job = TrainJob(inventory_repo, train_settings(steps=2, generate_samples=len(held_after)))
    assert before["key"] == job.base_keys(job.prepare(run_dir=first.run_dir))[job.config.tuning.end_of_text]


def test_too_small_repositories_say_so(train_settings: Any, tmp_path: Path) -> None:
    one = tmp_path / "one"
    one.mkdir()
    (one / "only.py").write_text("def f():\n    return 1\n")
    settings = train_settings()
    with pytest.raises(TooSmall, match="1 usable source file"):
        TrainJob(one, settings).prepare()
    with pytest.raises(TrainingError, match="not a directory"):
        TrainJob(tmp_path / "missing", settings).prepare()


def test_the_recorded_commit_is_the_one_that_holds_the_repository(tmp_path: Path) -> None:
    import subprocess

    from housecoder.training.job import git_commit

    outer = tmp_path / "outer"
    (outer / "src").mkdir(parents=True)
    (outer / "unpacked").mkdir()
    (outer / "src" / "a.py").write_text("x = 1\n")
    (outer / "unpacked" / "b.py").write_text("y = 2\n")
    (outer / ".gitignore").write_text("unpacked/\n")
    assert git_commit(outer) is None  # no repository yet
    git = ["git", "-C", str(outer), "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q"], check=True)
    assert git_commit(outer) is None  # no commit yet
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "one"], check=True)
    head = subprocess.run(
        [*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    # a tracked sub-folder: the same commit
    assert git_commit(outer) == head and git_commit(outer / "src") == head
    # ignored by the enclosing repository: no commit holds its files
    assert git_commit(outer / "unpacked") is None


def test_a_missing_training_stack_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from housecoder.errors import MissingDependency
    from housecoder.training.job import require_ml

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "peft" else real(name, *a)
    )
    with pytest.raises(
        MissingDependency,
        match=r"peft is not installed; in the housecoder checkout: pip install -e '\.\[ml\]'",
    ):
        require_ml()


@pytest.mark.e2e  # a whole workflow (make test-fast skips it; make test runs it)
def test_a_tuning_run_reuses_the_base_figures_of_a_run_on_the_same_inputs(
    inventory_repo: Path, train_settings: Any, tmp_path: Path
) -> None:
    forgetting = str(_forgetting_file(tmp_path))
    first = TrainJob(inventory_repo, train_settings(forgetting_tasks=forgetting, forgetting_limit=3)).run()

    def base_records(run: Path) -> dict[tuple[str, str], dict[str, Any]]:
        records = [json.loads(line) for line in (run / "generations.jsonl").read_text().splitlines()]
        return {(r["run"], r["task_id"]): r for r in records if "+" not in r["run"]}

    said: list[str] = []
    tuned = train_settings(forgetting_tasks=forgetting, forgetting_limit=3, learning_rate=1e-2, rank=2)
    second = TrainJob(inventory_repo, tuned, say=said.append).run()
    assert second.run_dir != first.run_dir
    assert any("reusing the base model's completions" in line for line in said)
    # copied, timings included: not generated again
    assert base_records(second.run_dir) == base_records(first.run_dir)
    assert json.loads((second.run_dir / "before.json").read_text()) == json.loads(
        (first.run_dir / "before.json").read_text()
    )

    said.clear()  # another end-of-text rule: the same completions, the held-out loss measured again under the rule
    inline = TrainJob(
        inventory_repo,
        train_settings(forgetting_tasks=forgetting, forgetting_limit=3, end_of_text="inline"),
        say=said.append,
    ).run()
    assert any("reusing the base model's completions" in line for line in said)
    assert base_records(inline.run_dir) == base_records(first.run_dir)
    before, measured = (
        json.loads((run / "before.json").read_text()) for run in (first.run_dir, inline.run_dir)
    )
    # fewer end-of-text targets: another key and another loss
    assert measured["key"] != before["key"] and measured["loss"] != before["loss"]

    said.clear()
    # other forgetting tasks: measured again
    other = train_settings(forgetting_tasks=forgetting, forgetting_limit=2)
    third = TrainJob(inventory_repo, other, say=said.append).run()
    assert not any("reusing the base model's completions" in line for line in said)
    assert len({key for key in base_records(third.run_dir) if key[0] == "infile"}) == 2


@pytest.mark.e2e  # a whole workflow (make test-fast skips it; make test runs it)
def test_completions_run_on_llama_cpp_over_the_models_gguf_when_asked(
    inventory_repo: Path, train_settings: Any, tiny_qwen_dir: Path, tmp_path: Path
) -> None:
    from housecoder.inference.llamacpp_backend import llama_cpp_available

    if not llama_cpp_available():
        pytest.skip("llama-cpp-python is not installed (make setup builds it)")
    from models.gguf_fixture import write_qwen2_gguf

    on_gguf = train_settings(eval_runtime="llama.cpp", steps=2, eval_every=2, checkpoint_every=2)
    on_gguf = on_gguf.model_copy(
        update={
            "models": on_gguf.models.model_copy(
                update={"code_model": str(write_qwen2_gguf(tiny_qwen_dir, tmp_path / "tiny.gguf"))}
            )
        }
    )
    job = TrainJob(inventory_repo, on_gguf)
    outcome = job.run()
    records = [json.loads(line) for line in (outcome.run_dir / "generations.jsonl").read_text().splitlines()]
    assert sorted({r["run"] for r in records}) == ["housecoder", "housecoder+adapter"]
    assert all(r["error"] == "" for r in records) and len(records) == 6
    assert outcome.metrics.held_out.after.tasks == 3

    prepared = job.prepare(run_dir=outcome.run_dir)
    assert (
        prepared.generator.describe()["runtime"] == "llama.cpp" and prepared.generator is not prepared.backend
    )
    transformers = TrainJob(
        inventory_repo,
        on_gguf.model_copy(update={"train": tuned(on_gguf.train, eval_runtime="transformers")}),
    ).prepare(run_dir=outcome.run_dir)
    assert transformers.generator is transformers.backend
    other_runtime = TrainJob(inventory_repo, on_gguf).base_keys(transformers)  # other runtime, other figures
    assert set(job.base_keys(prepared).values()).isdisjoint(other_runtime.values())

    with pytest.raises(TrainingError, match="needs a GGUF model"):  # a plain model directory has none
        TrainJob(inventory_repo, train_settings(eval_runtime="llama.cpp")).prepare()


@pytest.mark.e2e  # a whole workflow (make test-fast skips it; make test runs it)
@pytest.mark.parametrize("served_from", ["registry", "bundled"])
def test_a_run_completes_the_held_out_middles_with_the_adapter_in_service_too(
    served_from: str,
    inventory_repo: Path,
    train_settings: Any,
    tiny_qwen_dir: Path,
    tiny_adapter_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from registry_fixture import bundle, register

    from housecoder.evaluation.runner import ResultsFile
    from housecoder.models import adapters
    from housecoder.models.adapters import base_fingerprint
    from housecoder.training import report
    from housecoder.training.job import SERVICE_PREFIX

    # the adapter in service is asked only of a run that beat the base model: the tiny model's rarely does
    monkeypatch.setattr(report, "verdict", lambda *_args: (True, "activated: beat the base model (stand-in)"))

    settings = train_settings(steps=2, generate_samples=3)
    fingerprint = base_fingerprint(tiny_qwen_dir)
    # served: the repository's activated adapter, or where it has none the one shipped for the base
    monkeypatch.setattr(adapters, "BUNDLED_ROOT", tmp_path / "bundled")
    served = (
        register(settings, inventory_repo, "20250101-120000", fingerprint, peft_dir=tiny_adapter_dir)
        if served_from == "registry"
        else bundle(tmp_path / "bundled", "tiny-fim", fingerprint, peft_dir=tiny_adapter_dir)
    )
    outcome = TrainJob(inventory_repo, settings).run()

    records = ResultsFile(outcome.run_dir / f"{SERVICE_PREFIX}{served.name}.jsonl", resume=True).records
    assert len(records) == 3 and {record.run for record in records} == {"housecoder+adapter"}
    held = ResultsFile(outcome.run_dir / "generations.jsonl", resume=True).records
    assert {r.task_id for r in records} == {r.task_id for r in held if r.run == "housecoder+adapter"}
    if outcome.beat_base:  # activated only past the adapter in service as well
        assert f"ahead of the adapter in service ({served.name}:" in outcome.verdict
    else:
        assert outcome.verdict.startswith("not activated")
