"""The `housecoder train` job: prepare, estimate, train, evaluate before and after, write the adapter.

`TrainJob.prepare` does everything up to the samples (`preparation.Preparation`; a dry run stops there and
times one training step to estimate the whole run); `run` measures the base model (`base_figures`, reused
from an earlier run on the same inputs), trains, measures again and writes the adapter directory under
`<adapters root>/<repo>-<hash>/<run id>/`: the peft adapter, `housecoder-adapter.json`
(`housecoder.models.adapter_meta.AdapterMeta`: base model and fingerprint, commit, config, metrics,
verdict), the report (JSON, markdown, loss-curve PNG), the samples and the split. An unfinished run keeps `checkpoint/` and
`samples.jsonl`, which `--resume` reuses.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import json
import logging
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from housecoder.config import Settings, TrainConfig, tuned
from housecoder.evaluation.runner import Record, ResultsFile
from housecoder.evaluation.tasks import Task, read_tasks, write_tasks
from housecoder.evaluation.tasks import limit as pick_tasks
from housecoder.models import background
from housecoder.models.adapter_meta import HELD_OUT, AdapterMeta, SampleCounts
from housecoder.models.adapters import SPLIT_FILE, base_fingerprint, write_adapter_meta
from housecoder.models.progress import SILENT, Progress
from housecoder.training import evaluate
from housecoder.training.base_figures import GENERATIONS_FILE, BaseFigures
from housecoder.training.data import Encoded, encode, pad_id
from housecoder.training.errors import OutOfMemory, TrainingError
from housecoder.training.pacing import Pacer
from housecoder.training.preparation import HISTORY_FILE, SAMPLES_FILE, Preparation, Prepared, write_samples
from housecoder.training.results import (
    FORGETTING,
    HISTORY,
    Loss,
    Metrics,
    RunScores,
    TrainingFigures,
)
from housecoder.training.samples import HISTORY_KIND, Sample, sample_settings
from housecoder.training.trainer import (
    CHECKPOINT,
    StepLog,
    Trainer,
    add_lora,
    autocast_for,
    held_out_loss,
    is_out_of_memory,
    total_steps,
)

log = logging.getLogger(__name__)

REPORT_FILE = "report.json"
SERVICE_PREFIX = (
    "in-service-"  # + <its run>.jsonl: the adapter in service's completions of this run's middles
)


@dataclass(frozen=True)
class Estimate:
    """The dry run's figures: sample counts, steps, tokens, and the time on this machine."""

    files: int
    split: str
    train_samples: int
    eval_samples: int
    tokens: int  # prompts and middles of the training samples
    covered: int  # training files that give at least one sample
    train_files: int
    steps: int
    sequences: int
    mean_tokens: float
    step_seconds: float  # one measured forward+backward of a mean-length sample (the faster of two)
    generate_seconds: float  # one measured greedy completion of a held-out sample
    total_seconds: float
    precision: str  # the weights' dtype and the autocast this machine trains in

    def lines(self) -> list[str]:
        minutes = self.total_seconds / 60
        return [
            f"{self.files} source files; {self.split}",
            f"{self.train_samples} training samples, {self.eval_samples} held-out samples, mean {self.mean_tokens:.0f} tokens",
            f"{self.tokens:,} tokens to learn, from {self.covered} of {self.train_files} training files",
            f"{self.steps} optimiser steps ({self.sequences} sequences) in {self.precision}; one sequence {self.step_seconds:.1f} s, "
            f"one held-out completion {self.generate_seconds:.1f} s",
            f"estimated {minutes:.0f} min on this machine (training, held-out checks, before/after generation)",
        ]


@dataclass(frozen=True)
class Outcome:
    run_dir: Path
    metrics: Metrics
    beat_base: bool
    verdict: str
    state: dict[str, Any]


def planned_tokens(config: TrainConfig, lengths: Sequence[int]) -> int:
    """The tokens a run trains on: `epochs` passes over samples of `lengths`, or `steps` optimiser steps of
    mean-length sequences."""
    if not lengths:
        return 0
    if config.steps is None:
        return round(sum(lengths) * config.epochs)
    return round(
        config.steps * config.tuning.batch_size * config.tuning.grad_accum * sum(lengths) / len(lengths)
    )


def require_ml() -> None:
    """One line naming the extra when the training stack (the `ml` extra) is not installed."""
    import importlib.util

    from housecoder.errors import MissingDependency

    for module in ("torch", "transformers", "peft", "accelerate"):
        if importlib.util.find_spec(module) is None:
            raise MissingDependency(module, "ml")


def git_commit(root: Path) -> str | None:
    """HEAD of the git repository holding `root`, or None: no git, no commit yet, or none of the files under
    `root` tracked (a folder that an enclosing repository ignores, such as a source tree unpacked into it)."""
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
        )
        tracked = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z", "--", "."], capture_output=True, check=False
        )
    except OSError:
        return None
    if done.returncode != 0 or tracked.returncode != 0 or not tracked.stdout:
        return None
    return done.stdout.strip() or None


class TrainJob:
    """One training run for the repository at `root` with `settings` (read once by the CLI)."""

    def __init__(
        self,
        root: Path,
        settings: Settings,
        progress: Progress = SILENT,
        say: Callable[[str], None] = log.info,
        pacer: Pacer | None = None,
        on_phase: Callable[[str], None] = lambda _phase: None,
    ) -> None:
        """`pacer` makes the run yield to the user's typing (background training); `on_phase` hears each phase
        of `run` (`housecoder.models.background`'s names)."""
        self.root = root.resolve()
        self.pacer = pacer
        self.pace = pacer.pause_point if pacer else (lambda: None)
        self.on_phase = on_phase
        self.prepared: Prepared | None = None  # the running run's inputs, once prepared
        self.planned_tokens = 0  # the tokens the run trains on (its samples', times the epochs)
        self.sample_tokens: int | None = None  # the training samples' tokens, once encoded
        self.settings = settings
        self.config = settings.train
        self.progress = progress
        self.say = say
        self.preparation = Preparation(self.root, settings, progress, say)

    def _paused(self) -> float:
        """Seconds this run has waited for the user's typing so far."""
        return self.pacer.paused_s if self.pacer is not None else 0.0

    @functools.cached_property
    def base(self) -> BaseFigures:
        return BaseFigures(self.settings, self.preparation.precision_line(), self.say)

    def prepare(self, *, resume: bool = False, run_dir: Path | None = None) -> Prepared:
        require_ml()
        return self.preparation.prepare(resume=resume, run_dir=run_dir)

    def unfinished_run(self) -> Path:
        return self.preparation.unfinished_run()

    def base_keys(self, prepared: Prepared) -> dict[str, str]:
        return self.base.keys(prepared, self.config, [*self.forgetting_tasks(), *prepared.history])

    def use_adapter(self, prepared: Prepared, adapter: Path | None) -> None:
        """Put `adapter` on the trained model (losses) and on the completing backend."""
        prepared.backend.set_adapter(adapter)
        if prepared.generator is not prepared.backend:
            prepared.generator.set_adapter(adapter)

    # -- estimate --------------------------------------------------------------------------

    def estimate(self, prepared: Prepared) -> Estimate:
        """Sample counts and the run's time on this machine from one timed step and one timed completion."""
        import torch

        from housecoder.training.data import collate, middle_loss

        tokenizer = prepared.loaded.tokenizer
        encoded = self.encode(prepared.train, tokenizer)
        mean_tokens = sum(len(e.input_ids) for e in encoded) / len(encoded)
        typical = min(encoded, key=lambda e: abs(len(e.input_ids) - mean_tokens))
        generated = evaluate.generate(
            prepared.generator,
            sample_settings(self.settings),
            [prepared.held_out[0].as_task(str(self.root))],
            None,
            context=evaluate.HELD_OUT_CONTEXT,
            adapter=None,
            retriever=prepared.retriever,
            label="timing one completion",
        )
        generate_seconds = generated[0].seconds if generated else 0.0
        model = add_lora(prepared.loaded.model, self.config)
        trainer = Trainer(
            model, self.config, prepared.run_dir, pad_id(tokenizer), device=prepared.loaded.device
        )
        batch = {k: v.to(prepared.loaded.device) for k, v in collate([typical], trainer.pad).items()}
        timings = []
        for _ in range(2):  # the first pass also pays for allocating activations and gradients
            started = time.perf_counter()
            with trainer.accelerator.autocast():
                loss = middle_loss(model, batch)
            loss.backward()
            timings.append(time.perf_counter() - started)
            model.zero_grad(set_to_none=True)
        step_seconds = min(timings)
        with torch.no_grad():
            prepared.loaded.model = model.unload()
        steps = total_steps(self.config, len(encoded))
        sequences = steps * self.config.tuning.grad_accum * self.config.tuning.batch_size
        checks = steps // self.config.tuning.eval_every + 1
        forgetting = self.config.tuning.forgetting_limit if self.config.forgetting_tasks else 0
        held = min(self.config.tuning.generate_samples, len(prepared.held_out))
        completions = 2 * (held + forgetting + len(prepared.history))
        total = (
            sequences * step_seconds
            + (checks + 1) * len(self.loss_samples(prepared)) * step_seconds / 3
            + completions * generate_seconds
        )
        return Estimate(
            files=len(prepared.split.train) + len(prepared.split.held_out),
            split=prepared.split.describe(),
            train_samples=len(prepared.train),
            eval_samples=len(prepared.held_out),
            tokens=sum(len(e.input_ids) for e in encoded),
            covered=len({sample.path for sample in prepared.train if sample.kind != HISTORY_KIND}),
            train_files=len(prepared.split.train),
            steps=steps,
            sequences=sequences,
            mean_tokens=mean_tokens,
            step_seconds=step_seconds,
            generate_seconds=generate_seconds,
            total_seconds=total,
            precision=self.preparation.precision_line(),
        )

    # -- evaluation --------------------------------------------------------------------------

    def forgetting_tasks(self) -> list[Task]:
        if not self.config.forgetting_tasks:
            return []
        tasks = pick_tasks(
            read_tasks(Path(self.config.forgetting_tasks)),
            self.config.tuning.forgetting_limit,
            self.config.tuning.seed,
        )
        return evaluate.relabel(tasks, FORGETTING)

    def complete(
        self,
        prepared: Prepared,
        tasks: Sequence[Task],
        results: ResultsFile,
        adapter: Path | None,
        label: str,
        context: str = evaluate.HELD_OUT_CONTEXT,
        with_retriever: bool = True,
    ) -> list[Record]:
        """`tasks` completed with `adapter` (None: the base model) under the training job's settings, appended to
        `results`, pausing where background training must."""
        return evaluate.generate(
            prepared.generator,
            sample_settings(self.settings),
            tasks,
            results,
            context=context,
            adapter=adapter,
            retriever=prepared.retriever if with_retriever else None,
            progress=self.progress,
            label=label,
            pace=self.pace,
        )

    def generations(
        self, prepared: Prepared, results: ResultsFile, adapter: Path | None
    ) -> dict[str, list[Record]]:
        """Held-out middles (housecoder context), forgetting tasks (in-file FIM) and the user's own newest kept and
        rewritten suggestions (housecoder context), with or without the adapter."""
        which = "with the adapter" if adapter else "base model"
        found = {
            HELD_OUT: self.complete(
                prepared, self.held_tasks(prepared), results, adapter, f"held-out completions, {which}"
            )
        }
        forgetting = self.forgetting_tasks()
        if forgetting:
            found[FORGETTING] = self.complete(
                prepared,
                forgetting,
                results,
                adapter,
                f"forgetting check, {which}",
                evaluate.FORGETTING_CONTEXT,
                with_retriever=False,
            )
        if prepared.history:
            found[HISTORY] = self.complete(
                prepared,
                evaluate.relabel(prepared.history, HISTORY),
                results,
                adapter,
                f"your own suggestions, {which}",
            )
        return found

    def encode(self, samples: Sequence[Sample], tokenizer: Any) -> list[Encoded]:
        """Token ids and loss labels of `samples` under this run's `end_of_text` rule."""
        return [encode(sample, tokenizer, self.config.tuning.end_of_text) for sample in samples]

    def loss_samples(self, prepared: Prepared) -> list[Sample]:
        """The held-out samples whose loss is measured: the first `eval_samples` (more may be drawn for generation)."""
        return prepared.held_out[: self.config.tuning.eval_samples]

    def loss(self, prepared: Prepared, encoded: Sequence[Encoded]) -> float:
        try:
            return held_out_loss(
                prepared.loaded.model,
                encoded,
                pad_id(prepared.loaded.tokenizer),
                prepared.loaded.device,
                autocast_for(self.config, prepared.loaded.device),
            )
        except (RuntimeError, MemoryError) as err:
            if is_out_of_memory(err):
                raise OutOfMemory("evaluation") from err
            raise

    # -- the run -----------------------------------------------------------------------------

    def run(self, *, resume: bool = False, on_step: Callable[[StepLog], None] = lambda _log: None) -> Outcome:
        self.on_phase(background.PREPARING)
        prepared = self.prepare(resume=resume)
        self.prepared = prepared
        if self.pacer is not None:
            self.pacer.install(prepared.loaded.model)
        run_dir = prepared.run_dir
        run_dir.mkdir(parents=True, exist_ok=True)
        if not (run_dir / SAMPLES_FILE).is_file():
            write_samples(run_dir / SAMPLES_FILE, prepared.train, prepared.held_out)
            if prepared.history:
                write_tasks(run_dir / HISTORY_FILE, prepared.history)
            (run_dir / SPLIT_FILE).write_text(json.dumps(dataclasses.asdict(prepared.split), indent=1))
        tokenizer = prepared.loaded.tokenizer
        train = self.encode(prepared.train, tokenizer)
        lengths = [len(e.input_ids) for e in train]
        self.planned_tokens, self.sample_tokens = planned_tokens(self.config, lengths), sum(lengths)
        held_out = self.encode(self.loss_samples(prepared), tokenizer)
        results = ResultsFile(run_dir / GENERATIONS_FILE, resume=True)

        self.on_phase(background.BASE)
        before_loss = self.base.before_loss(
            prepared,
            self.config,
            [*self.forgetting_tasks(), *prepared.history],
            results,
            lambda: self.loss(prepared, held_out),
        )
        self.say(f"held-out loss before training: {before_loss:.4f}")
        before = self.generations(prepared, results, None)

        model = add_lora(prepared.loaded.model, self.config)
        prepared.loaded.model = model  # so switching adapters later takes these LoRA layers off first
        trainer = Trainer(model, self.config, run_dir, pad_id(tokenizer), device=prepared.loaded.device)
        # A run stopped before its first checkpoint resumes with its samples and base figures, training from step 0.
        from_checkpoint = resume and (run_dir / CHECKPOINT).is_dir()
        self.on_phase(background.TRAINING)
        result = trainer.train(
            train,
            held_out,
            resume=from_checkpoint,
            on_step=on_step,
            initial_loss=before_loss,
            pace=self.pace,
            paused=self._paused,
        )
        if result.best_dir is not None:
            for item in result.best_dir.iterdir():
                shutil.copy2(item, run_dir / item.name)
            after_loss = result.state.best_loss if result.state.best_loss is not None else before_loss
        else:  # no check beat the base loss: keep the last weights so the report can show what they do
            trainer.accelerator.unwrap_model(model).save_pretrained(str(run_dir))
            after_loss = self.loss(prepared, held_out)
        self.on_phase(background.EVALUATING)
        self.use_adapter(prepared, run_dir)
        after = self.generations(prepared, results, run_dir)
        return self.finish(
            prepared,
            before_loss,
            after_loss,
            before,
            after,
            dataclasses.asdict(result.state),
            against_served=True,
        )

    def in_service(self, prepared: Prepared) -> tuple[str, list[Record]] | None:
        """The adapter served for this repository now (the registry's best for this base, else the one bundled
        for it), and its completions of this run's held-out middles in files it did not train on; None when
        none is served, or when it trained on the files of more than half of them (then the rule is the base
        model's alone)."""
        from housecoder.models.adapters import adapter_in_service, trained_files

        service = adapter_in_service(self.settings, [self.root], base_fingerprint(prepared.model_dir))
        if service is None or service.path == prepared.run_dir:
            return None
        trained = trained_files(service.path)
        seen = trained[1] if trained else frozenset()
        held = self.held_tasks(prepared)
        tasks = [task for task in held if task.path not in seen]
        if not tasks or 2 * len(tasks) < len(held):  # a comparison on the rest would be on a few chosen files
            self.say(
                f"not compared with the adapter in service ({service.path.name}): it trained on the files of "
                f"{len(held) - len(tasks)} of the {len(held)} held-out middles"
            )
            return None
        self.use_adapter(prepared, service.path)
        records = self.complete(
            prepared,
            tasks,
            ResultsFile(prepared.run_dir / f"{SERVICE_PREFIX}{service.path.name}.jsonl", resume=True),
            service.path,
            f"held-out completions, adapter in service {service.path.name}",
        )
        self.use_adapter(prepared, prepared.run_dir)
        return service.path.name, records

    def held_tasks(self, prepared: Prepared) -> list[Task]:
        """The held-out middles completed before and after (the verdict's evidence)."""
        return [s.as_task(str(self.root)) for s in prepared.held_out[: self.config.tuning.generate_samples]]

    def finish(
        self,
        prepared: Prepared,
        before_loss: float,
        after_loss: float,
        before: dict[str, list[Record]],
        after: dict[str, list[Record]],
        state: dict[str, Any],
        against_served: bool = False,
    ) -> Outcome:
        """Compare, judge (against the base model; then, with `against_served` and only when that passed, against
        the adapter in service on the same held-out middles), write the report and register the adapter."""
        from housecoder.training.report import against_service, verdict, write_report

        compared = {
            name: evaluate.compare(before[name], after.get(name, []), seed=self.config.tuning.seed)
            for name in before
        }
        metrics = Metrics(
            Loss(before_loss, after_loss),
            compared.get(HELD_OUT),
            compared.get(FORGETTING),
            compared.get(HISTORY),
        )
        beat, why = verdict(metrics, self.config.tuning.max_forgetting, self.config.activation)
        service = self.in_service(prepared) if beat and against_served and after.get(HELD_OUT) else None
        if service is not None:
            name, served = service
            same = {record.task_id for record in served}
            mine = [record for record in after[HELD_OUT] if record.task_id in same]
            beat, why = against_service(why, RunScores.of(served), RunScores.of(mine), name)
        figures = TrainingFigures.from_json(state) if state else TrainingFigures()
        meta = AdapterMeta(
            base_model=self.settings.models.code_model,
            base_fingerprint=base_fingerprint(prepared.model_dir),
            repository=str(self.root),
            commit=git_commit(self.root),
            created=datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            config=self.config.model_dump(mode="json"),
            split=prepared.split.describe(),
            samples=SampleCounts(len(prepared.train), len(prepared.held_out)),
            metrics=metrics.to_json(),
            beat_base=beat,
            verdict=why,
            training=dataclasses.replace(
                figures,
                precision=self.preparation.precision_line(),
                sample_tokens=self.sample_tokens or figures.sample_tokens,
            ).to_json(),
        )
        write_report(prepared.run_dir, meta, state.get("history", []))
        write_adapter_meta(prepared.run_dir, meta.to_json())
        shutil.rmtree(prepared.run_dir / CHECKPOINT, ignore_errors=True)
        self.say(why)
        return Outcome(prepared.run_dir, metrics, beat, why, state)

    def eval_only(self, adapter: Path | None = None, held_out: int | None = None) -> Outcome:
        """Evaluate the newest finished adapter of this repository (or `adapter`) again on its own held-out samples,
        or on `held_out` of them, drawing new middles of its held-out files when it has fewer."""
        from housecoder.models.adapters import list_adapters

        if adapter is None:
            found = list_adapters(self.settings, self.root)
            if not found:
                raise TrainingError(
                    f"{self.root}: no trained adapter to evaluate; run housecoder train first"
                )
            adapter = found[0].path
        if not (adapter / SAMPLES_FILE).is_file():
            raise TrainingError(f"{adapter}: no {SAMPLES_FILE}: not an adapter written by housecoder train")
        prepared = self.prepare(run_dir=adapter)
        own = prepared.held_out[
            : self.config.tuning.eval_samples
        ]  # the loss stays the run's own, comparable with it
        if held_out is not None:
            self.config = tuned(self.config, generate_samples=held_out)
            self.preparation.more_held_out(prepared, held_out)
        tokenizer = prepared.loaded.tokenizer
        encoded = self.encode(own, tokenizer)
        results = ResultsFile(adapter / GENERATIONS_FILE, resume=False)
        before_loss = self.loss(prepared, encoded)
        self.base.save(prepared, self.base_keys(prepared)[self.config.tuning.end_of_text], before_loss)
        before = self.generations(prepared, results, None)
        self.use_adapter(prepared, adapter)
        after_loss = self.loss(prepared, encoded)
        after = self.generations(prepared, results, adapter)
        history_file = adapter / "history.json"
        history = json.loads(history_file.read_text()) if history_file.is_file() else []
        return self.finish(
            prepared,
            before_loss,
            after_loss,
            before,
            after,
            self.training_figures(adapter) | {"history": history},
        )

    @staticmethod
    def training_figures(adapter: Path) -> dict[str, Any]:
        """What the run's report says of its training (steps, sequences, time), for the report written again."""
        try:
            training = json.loads((adapter / REPORT_FILE).read_text(encoding="utf-8")).get("training")
        except (OSError, ValueError, AttributeError):
            return {}
        return training if isinstance(training, dict) else {}
