"""The `housecoder train` job: files, split, samples, base evaluation, LoRA training, evaluation, adapter.

`TrainJob.prepare` does everything up to the samples (a dry run stops there and
times one training step to estimate the whole run); `run` trains and writes the
adapter directory under `<adapters root>/<repo>-<hash>/<run id>/`: the peft adapter,
`housecoder-adapter.json` (base model and fingerprint, commit, config, metrics,
verdict), the report (JSON, markdown, loss-curve PNG), the samples and the split.
An unfinished run keeps `checkpoint/` and `samples.jsonl`, which `--resume` reuses.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import hashlib
import json
import logging
import random
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

from housecoder.completion import CompletionEngine
from housecoder.config import InferenceConfig, ModelsConfig, Settings
from housecoder.context import Retriever
from housecoder.evaluation.runner import Record, ResultsFile
from housecoder.evaluation.tasks import Task, read_tasks
from housecoder.evaluation.tasks import limit as pick_tasks
from housecoder.indexer.sources import SourceFile, source_files
from housecoder.models.adapters import (
    ADAPTER_META,
    SPLIT_FILE,
    base_fingerprint,
    repo_adapters_dir,
    write_adapter_meta,
)
from housecoder.models.loading import LoadedModel
from housecoder.models.progress import SILENT, Progress
from housecoder.training import evaluate, precision
from housecoder.training.data import Encoded, EndOfText, encode, pad_id
from housecoder.training.errors import NoCheckpoint, OutOfMemory, TooSmall, TrainingError
from housecoder.training.samples import FilteredRetriever, Sample, build_samples, draw_cuts, sample_settings
from housecoder.training.split import Split, split_files
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

SAMPLES_FILE = "samples.jsonl"
GENERATIONS_FILE = "generations.jsonl"
BEFORE_FILE = "before.json"
REPORT_FILE = "report.json"
MIN_TRAIN_SAMPLES = 8
MIN_EVAL_SAMPLES = 4


@dataclass
class Prepared:
    """Everything the job needs before training: the split, the samples, the model and the index."""

    root: Path
    split: Split
    train: list[Sample]
    held_out: list[Sample]
    loaded: LoadedModel
    backend: Any  # TransformersBackend on `loaded`: token counts, samples, losses
    generator: Any  # what completes held-out middles and forgetting tasks: `backend` or llama.cpp (train.eval_runtime)
    retriever: Retriever | None
    model_dir: Path
    run_dir: Path


@dataclass(frozen=True)
class Estimate:
    """The dry run's figures: sample counts, steps, tokens, and the time on this machine."""

    files: int
    split: str
    train_samples: int
    eval_samples: int
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
            f"{self.steps} optimiser steps ({self.sequences} sequences) in {self.precision}; one sequence {self.step_seconds:.1f} s, "
            f"one held-out completion {self.generate_seconds:.1f} s",
            f"estimated {minutes:.0f} min on this machine (training, held-out checks, before/after generation)",
        ]


@dataclass(frozen=True)
class Outcome:
    run_dir: Path
    metrics: dict[str, Any]
    beat_base: bool
    verdict: str
    state: dict[str, Any]


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
        done = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, check=False)
        tracked = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--", "."], capture_output=True, check=False)
    except OSError:
        return None
    if done.returncode != 0 or tracked.returncode != 0 or not tracked.stdout:
        return None
    return done.stdout.strip() or None


def write_samples(path: Path, train: Sequence[Sample], held_out: Sequence[Sample]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for split, samples in (("train", train), ("held-out", held_out)):
            for sample in samples:
                out.write(json.dumps({"split": split, **dataclasses.asdict(sample)}, ensure_ascii=False) + "\n")


def read_samples(path: Path) -> tuple[list[Sample], list[Sample]]:
    train: list[Sample] = []
    held_out: list[Sample] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        data = json.loads(line)
        split = data.pop("split")
        data["snippet_paths"] = tuple(data["snippet_paths"])
        (train if split == "train" else held_out).append(Sample(**data))
    return train, held_out


class TrainJob:
    """One training run for the repository at `root` with `settings` (read once by the CLI)."""

    def __init__(self, root: Path, settings: Settings, progress: Progress = SILENT, say: Callable[[str], None] = log.info) -> None:
        self.root = root.resolve()
        self.settings = settings
        self.config = settings.train
        self.progress = progress
        self.say = say

    # -- preparation ---------------------------------------------------------------------

    def files(self) -> list[SourceFile]:
        if not self.root.is_dir():
            raise TrainingError(f"{self.root}: not a directory")
        return list(source_files(self.root, self.settings.index))

    def split(self, files: Sequence[SourceFile]) -> Split:
        if len(files) < 2:
            raise TooSmall(f"{self.root}: {len(files)} usable source file(s); need at least 2 to hold one out")
        return split_files(self.root, [f.path for f in files], fraction=self.config.held_out_fraction,
                           seed=self.config.seed, since=self.config.since)  # fmt: skip

    def unfinished_run(self) -> Path:
        """The newest run of this repository that has its samples (and maybe a checkpoint) but no finished adapter."""
        folder = repo_adapters_dir(self.settings, self.root)
        runs = sorted((p for p in folder.glob("*") if (p / SAMPLES_FILE).is_file() and not (p / ADAPTER_META).is_file()),
                      reverse=True) if folder.is_dir() else []  # fmt: skip
        if not runs:
            raise NoCheckpoint(f"{self.root}: no unfinished training run to resume; start one without --resume")
        return runs[0]

    def new_run_dir(self) -> Path:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        folder = repo_adapters_dir(self.settings, self.root)
        run, n = folder / stamp, 1
        while run.exists():  # two runs started within one second
            n += 1
            run = folder / f"{stamp}-{n}"
        return run

    @functools.cached_property
    def device(self) -> str:
        from housecoder.models.loading import pick_device

        return pick_device(self.settings.models.device)

    def models(self) -> ModelsConfig:
        """The code model's settings for training on this machine (float32 weights where `auto` trains in fp32)."""
        return precision.training_models(self.settings.models, self.config, self.device)

    def precision_line(self) -> str:
        return precision.describe(self.models(), precision.resolve(self.config, self.device))

    def load_model(self) -> tuple[LoadedModel, Any, Path]:
        from housecoder.inference.transformers_backend import TransformersBackend
        from housecoder.models.loading import load_code_model
        from housecoder.models.store import store_for

        resolved = store_for(self.settings).resolve(self.settings.models.code_model, "code", progress=self.progress)
        with self.progress.task(f"loading {self.settings.models.code_model} ({self.precision_line()})", total=None, unit="steps"):
            loaded = load_code_model(resolved.path, self.models())
        return loaded, TransformersBackend(loaded, InferenceConfig(kv_cache_entries=0)), resolved.path

    def load_generator(self, model_dir: Path, backend: Any) -> Any:
        """The backend of the greedy completions before and after training: `backend` itself, or llama.cpp on the
        model's GGUF when `train.eval_runtime` (auto: as `inference.runtime = auto` picks) says so."""
        from housecoder.completion.loading import gguf_of, pick_runtime

        gguf = gguf_of(model_dir)
        inference = self.settings.inference.model_copy(update={"runtime": self.config.eval_runtime})
        if pick_runtime(self.settings.model_copy(update={"inference": inference}), gguf) != "llama.cpp":
            return backend
        if gguf is None:
            raise TrainingError(f"train.eval_runtime = llama.cpp needs a GGUF model; {self.settings.models.code_model} has none")
        from housecoder.inference.llamacpp_backend import LlamaCppBackend
        from housecoder.models.store import store_for

        with self.progress.task("loading the GGUF for llama.cpp completions", total=None, unit="steps"):
            return LlamaCppBackend(gguf, inference, cache_root=store_for(self.settings).root)

    def use_adapter(self, prepared: Prepared, adapter: Path | None) -> None:
        """Put `adapter` on the trained model (losses) and on the completing backend."""
        prepared.backend.set_adapter(adapter)
        if prepared.generator is not prepared.backend:
            prepared.generator.set_adapter(adapter)

    def open_index(self) -> Retriever:
        from housecoder.indexer.service import index_repository, open_retriever
        from housecoder.models.store import store_for

        summary, _where = index_repository(self.root, self.settings, store_for(self.settings), self.progress)
        self.say(f"index up to date: {summary.indexed} files indexed, {summary.unchanged} unchanged, {summary.chunks_total} chunks")
        return open_retriever(self.root, self.settings, self.progress)

    def prepare(self, *, resume: bool = False, run_dir: Path | None = None) -> Prepared:
        require_ml()
        files = self.files()
        split = self.split(files)
        self.say(f"{len(files)} source files; {split.describe()}")
        run_dir = run_dir or (self.unfinished_run() if resume else self.new_run_dir())
        loaded, backend, model_dir = self.load_model()
        generator = self.load_generator(model_dir, backend)
        retriever = self.open_index()
        saved = run_dir / SAMPLES_FILE
        if saved.is_file():
            train, held_out = read_samples(saved)
            self.say(f"reusing {len(train)} training and {len(held_out)} held-out samples from {saved}")
        else:
            train, held_out = self.build_samples(files, split, backend, retriever)
        return Prepared(self.root, split, train, held_out, loaded, backend, generator, retriever, model_dir, run_dir)

    def build_samples(self, files: Sequence[SourceFile], split: Split, backend: Any,
                      retriever: Retriever) -> tuple[list[Sample], list[Sample]]:  # fmt: skip
        config, rng = self.config, random.Random(self.config.seed)
        held = set(split.held_out)
        settings = sample_settings(self.settings)
        chosen: dict[str, list[Sample]] = {}
        for name, wanted, per_file, group, source in (
            ("train", config.max_samples, config.per_file, [f for f in files if f.path not in held], FilteredRetriever(retriever, held)),
            ("held-out", max(config.eval_samples, config.generate_samples), config.eval_per_file, [f for f in files if f.path in held],
             retriever),
        ):  # fmt: skip
            cuts = draw_cuts(group, config, wanted, rng, per_file)
            engine = CompletionEngine(backend, settings, repo_name=self.root.name, retriever=source)
            with self.progress.task(f"{name} samples", total=min(wanted, len(cuts)), unit="samples") as advance:
                chosen[name] = build_samples(cuts, engine, wanted, config.middle_tokens, advance)
        train, held_out = chosen["train"], chosen["held-out"]
        if len(train) < MIN_TRAIN_SAMPLES or len(held_out) < MIN_EVAL_SAMPLES:
            raise TooSmall(
                f"{self.root}: {len(train)} training and {len(held_out)} held-out samples from {len(files)} files "
                f"({split.describe()}); need at least {MIN_TRAIN_SAMPLES} and {MIN_EVAL_SAMPLES}"
            )
        return train, held_out

    def more_held_out(self, prepared: Prepared, wanted: int) -> None:
        """Top a run's held-out samples up to `wanted` with new middles of its held-out files (as its split.json
        says, never a file it trained on), its own first, near-identical ones skipped, at most `eval_per_file` per
        file counting its own; the run's samples file keeps them."""
        config = self.config
        missing = wanted - len(prepared.held_out)
        if missing <= 0:
            return
        held = set(prepared.split.held_out)
        saved = prepared.run_dir / SPLIT_FILE
        if saved.is_file():
            split = json.loads(saved.read_text())
            held = set(split.get("held_out", [])) - set(split.get("train", []))
        files = [f for f in self.files() if f.path in held]
        rng = random.Random(f"{config.seed}:more held-out")  # not the first draw's sequence: new cuts
        cuts = draw_cuts(files, config, wanted, rng, config.eval_per_file, taken=prepared.held_out)
        engine = CompletionEngine(prepared.backend, sample_settings(self.settings), repo_name=self.root.name,
                                  retriever=prepared.retriever)  # fmt: skip
        with self.progress.task("more held-out samples", total=min(missing, len(cuts)), unit="samples") as advance:
            new = build_samples(cuts, engine, missing, config.middle_tokens, advance, taken=prepared.held_out)
        prepared.held_out.extend(new)
        write_samples(prepared.run_dir / SAMPLES_FILE, prepared.train, prepared.held_out)
        self.say(f"{len(new)} more held-out samples from the {len(files)} held-out files: {len(prepared.held_out)} now")

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
            prepared.generator, sample_settings(self.settings), [prepared.held_out[0].as_task(str(self.root))],
            None,
            context=evaluate.HELD_OUT_CONTEXT, adapter=None, retriever=prepared.retriever, label="timing one completion",
        )  # fmt: skip
        generate_seconds = generated[0].seconds if generated else 0.0
        model = add_lora(prepared.loaded.model, self.config)
        trainer = Trainer(model, self.config, prepared.run_dir, pad_id(tokenizer), device=prepared.loaded.device)
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
        sequences = steps * self.config.grad_accum * self.config.batch_size
        checks = steps // self.config.eval_every + 1
        forgetting = self.config.forgetting_limit if self.config.forgetting_tasks else 0
        completions = 2 * (min(self.config.generate_samples, len(prepared.held_out)) + forgetting)
        total = sequences * step_seconds + (checks + 1) * len(self.loss_samples(prepared)) * step_seconds / 3 + completions * generate_seconds
        return Estimate(
            files=len(prepared.split.train) + len(prepared.split.held_out), split=prepared.split.describe(),
            train_samples=len(prepared.train), eval_samples=len(prepared.held_out), steps=steps, sequences=sequences,
            mean_tokens=mean_tokens, step_seconds=step_seconds, generate_seconds=generate_seconds, total_seconds=total,
            precision=self.precision_line(),
        )  # fmt: skip

    # -- evaluation --------------------------------------------------------------------------

    def forgetting_tasks(self) -> list[Task]:
        if not self.config.forgetting_tasks:
            return []
        tasks = pick_tasks(read_tasks(Path(self.config.forgetting_tasks)), self.config.forgetting_limit, self.config.seed)
        return evaluate.relabel(tasks, evaluate.FORGETTING)

    def generations(self, prepared: Prepared, results: ResultsFile, adapter: Path | None) -> dict[str, list[Record]]:
        """Held-out middles (housecoder context) and forgetting tasks (in-file FIM), with or without the adapter."""
        settings = sample_settings(self.settings)
        held = [s.as_task(str(self.root)) for s in prepared.held_out[: self.config.generate_samples]]
        which = "with the adapter" if adapter else "base model"
        found = {evaluate.HELD_OUT: evaluate.generate(
            prepared.generator, settings, held, results, context=evaluate.HELD_OUT_CONTEXT, adapter=adapter, retriever=prepared.retriever,
            progress=self.progress, label=f"held-out completions, {which}",
        )}  # fmt: skip
        forgetting = self.forgetting_tasks()
        if forgetting:
            found[evaluate.FORGETTING] = evaluate.generate(
                prepared.generator, settings, forgetting, results, context=evaluate.FORGETTING_CONTEXT, adapter=adapter,
                progress=self.progress, label=f"forgetting check, {which}",
            )  # fmt: skip
        return found

    def base_keys(self, prepared: Prepared) -> dict[str, str]:
        """For each `end_of_text` rule, a hash of everything the base model's figures depend on: held-out samples,
        the forgetting tasks, the completion settings, the evaluation budget, the runtime that completes and the
        model; and, for the held-out loss only, the rule (that loss counts the end-of-text token or not)."""
        parts = {
            "held_out": [dataclasses.asdict(sample) for sample in prepared.held_out],
            "generate": self.config.generate_samples,
            "loss_samples": self.config.eval_samples,
            "forgetting": [dataclasses.asdict(task) for task in self.forgetting_tasks()],
            "settings": sample_settings(self.settings).model_dump(mode="json", exclude={"train"}),
            "precision": self.precision_line(),
            "runtime": prepared.generator.describe()["runtime"],
            "model": base_fingerprint(prepared.model_dir),
        }
        return {
            rule: hashlib.sha256(json.dumps(parts | {"end_of_text": rule}, sort_keys=True, default=str).encode()).hexdigest()
            for rule in get_args(EndOfText)
        }

    def reuse_base_figures(self, prepared: Prepared, keys: dict[str, str], results: ResultsFile) -> None:
        """Copy the base model's completions from the newest earlier run of this repository measured on the very
        same inputs (its key is one of `keys`), so a tuning run does not pay for them again; its held-out loss too
        when the `end_of_text` rule is also this run's, else only the loss is measured again (seconds, not minutes)."""
        key = keys[self.config.end_of_text]
        for other in sorted(prepared.run_dir.parent.glob("*"), reverse=True):
            saved = other / BEFORE_FILE
            if other == prepared.run_dir or not saved.is_file():
                continue
            try:
                before = json.loads(saved.read_text())
            except (OSError, ValueError):
                continue
            if before.get("key") not in keys.values():
                continue
            for record in ResultsFile(other / GENERATIONS_FILE, resume=True).records:
                if record.run in evaluate.BASE_RUNS and not results.has(record.run, record.task_id):
                    results.add(record)
            if before["key"] == key:
                (prepared.run_dir / BEFORE_FILE).write_text(json.dumps(before))
            self.say(f"reusing the base model's completions from {other.name} (same held-out samples and settings)")
            return

    def encode(self, samples: Sequence[Sample], tokenizer: Any) -> list[Encoded]:
        """Token ids and loss labels of `samples` under this run's `end_of_text` rule."""
        return [encode(sample, tokenizer, self.config.end_of_text) for sample in samples]

    def loss_samples(self, prepared: Prepared) -> list[Sample]:
        """The held-out samples whose loss is measured: the first `eval_samples` (more may be drawn for generation)."""
        return prepared.held_out[: self.config.eval_samples]

    def loss(self, prepared: Prepared, encoded: Sequence[Encoded]) -> float:
        try:
            return held_out_loss(prepared.loaded.model, encoded, pad_id(prepared.loaded.tokenizer), prepared.loaded.device,
                                 autocast_for(self.config, prepared.loaded.device))  # fmt: skip
        except (RuntimeError, MemoryError) as err:
            if is_out_of_memory(err):
                raise OutOfMemory("evaluation") from err
            raise

    # -- the run -------------------------------------------------------------------------------

    def run(self, *, resume: bool = False, on_step: Callable[[StepLog], None] = lambda _log: None) -> Outcome:
        prepared = self.prepare(resume=resume)
        run_dir = prepared.run_dir
        run_dir.mkdir(parents=True, exist_ok=True)
        if not (run_dir / SAMPLES_FILE).is_file():
            write_samples(run_dir / SAMPLES_FILE, prepared.train, prepared.held_out)
            (run_dir / SPLIT_FILE).write_text(json.dumps(dataclasses.asdict(prepared.split), indent=1))
        tokenizer = prepared.loaded.tokenizer
        train = self.encode(prepared.train, tokenizer)
        held_out = self.encode(self.loss_samples(prepared), tokenizer)
        results = ResultsFile(run_dir / GENERATIONS_FILE, resume=True)

        before_file = run_dir / BEFORE_FILE
        if not before_file.is_file():
            keys = self.base_keys(prepared)
            self.reuse_base_figures(prepared, keys, results)
            if not before_file.is_file():
                key = keys[self.config.end_of_text]
                before_file.write_text(json.dumps({"loss": self.loss(prepared, held_out), "key": key}))
        before_loss = float(json.loads(before_file.read_text())["loss"])
        self.say(f"held-out loss before training: {before_loss:.4f}")
        before = self.generations(prepared, results, None)

        model = add_lora(prepared.loaded.model, self.config)
        prepared.loaded.model = model  # so switching adapters later takes these LoRA layers off first
        trainer = Trainer(model, self.config, run_dir, pad_id(tokenizer), device=prepared.loaded.device)
        # A run stopped before its first checkpoint resumes with its samples and base figures, training from step 0.
        from_checkpoint = resume and (run_dir / CHECKPOINT).is_dir()
        result = trainer.train(train, held_out, resume=from_checkpoint, on_step=on_step, initial_loss=before_loss)
        if result.best_dir is not None:
            for item in result.best_dir.iterdir():
                shutil.copy2(item, run_dir / item.name)
            after_loss = result.state.best_loss if result.state.best_loss is not None else before_loss
        else:  # no check beat the base loss: keep the last weights so the report can show what they do
            trainer.accelerator.unwrap_model(model).save_pretrained(str(run_dir))
            after_loss = self.loss(prepared, held_out)
        self.use_adapter(prepared, run_dir)
        after = self.generations(prepared, results, run_dir)
        return self.finish(prepared, before_loss, after_loss, before, after, dataclasses.asdict(result.state))

    def finish(self, prepared: Prepared, before_loss: float, after_loss: float, before: dict[str, list[Record]],
               after: dict[str, list[Record]], state: dict[str, Any]) -> Outcome:  # fmt: skip
        from housecoder.training.report import verdict, write_report

        metrics: dict[str, Any] = {"held_out_loss": {"before": before_loss, "after": after_loss}}
        for name in before:
            metrics[name] = evaluate.compare(before[name], after.get(name, []), seed=self.config.seed)
        beat, why = verdict(metrics, self.config.max_forgetting, self.config.activation)
        meta = {
            "format": 1, "base_model": self.settings.models.code_model, "base_fingerprint": base_fingerprint(prepared.model_dir),
            "repository": str(self.root), "commit": git_commit(self.root),
            "created": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "config": self.config.model_dump(mode="json"), "split": prepared.split.describe(),
            "samples": {"train": len(prepared.train), "held_out": len(prepared.held_out)},
            "metrics": metrics, "beat_base": beat, "verdict": why,
            "training": {key: state[key] for key in ("step", "best_step", "stopped_early", "elapsed_s", "samples_seen") if key in state}
            | {"precision": self.precision_line()},
        }  # fmt: skip
        write_report(prepared.run_dir, meta, state.get("history", []))
        write_adapter_meta(prepared.run_dir, meta)
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
                raise TrainingError(f"{self.root}: no trained adapter to evaluate; run housecoder train first")
            adapter = found[0].path
        if not (adapter / SAMPLES_FILE).is_file():
            raise TrainingError(f"{adapter}: no {SAMPLES_FILE}: not an adapter written by housecoder train")
        prepared = self.prepare(run_dir=adapter)
        own = prepared.held_out[: self.config.eval_samples]  # the loss stays the run's own, comparable with it
        if held_out is not None:
            self.config = self.config.model_copy(update={"generate_samples": held_out})
            self.more_held_out(prepared, held_out)
        tokenizer = prepared.loaded.tokenizer
        encoded = self.encode(own, tokenizer)
        results = ResultsFile(adapter / GENERATIONS_FILE, resume=False)
        before_loss = self.loss(prepared, encoded)
        # the base completions now in the run are those of these samples and settings: a later run may reuse them
        (adapter / BEFORE_FILE).write_text(json.dumps({"loss": before_loss, "key": self.base_keys(prepared)[self.config.end_of_text]}))
        before = self.generations(prepared, results, None)
        self.use_adapter(prepared, adapter)
        after_loss = self.loss(prepared, encoded)
        after = self.generations(prepared, results, adapter)
        history_file = adapter / "history.json"
        history = json.loads(history_file.read_text()) if history_file.is_file() else []
        return self.finish(prepared, before_loss, after_loss, before, after, self.training_figures(adapter) | {"history": history})

    @staticmethod
    def training_figures(adapter: Path) -> dict[str, Any]:
        """What the run's report says of its training (steps, sequences, time), for the report written again."""
        try:
            training = json.loads((adapter / REPORT_FILE).read_text(encoding="utf-8")).get("training")
        except (OSError, ValueError, AttributeError):
            return {}
        return training if isinstance(training, dict) else {}
