"""A training run's preparation: the files and their split, the run's folder, the model on this machine, the
index, and the samples (drawn once, saved as `samples.jsonl`, reused when the run resumes or is evaluated again).
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from housecoder.completion import CompletionEngine
from housecoder.config import InferenceConfig, InferenceTuning, ModelsConfig, Settings
from housecoder.context import Retriever
from housecoder.evaluation.tasks import Task, read_tasks
from housecoder.indexer.sources import SourceFile, source_files
from housecoder.models.adapter_meta import ADAPTER_META
from housecoder.models.adapters import SPLIT_FILE, repo_adapters_dir
from housecoder.models.loading import LoadedModel
from housecoder.models.progress import Progress
from housecoder.training import precision
from housecoder.training.errors import NoCheckpoint, TooSmall, TrainingError
from housecoder.training.samples import (
    SAMPLE_TOKENS,
    FilteredRetriever,
    Sample,
    build_samples,
    dependents,
    draw_cuts,
    history_samples,
    sample_settings,
)
from housecoder.training.split import Split, split_files

SAMPLES_FILE = "samples.jsonl"
HISTORY_FILE = "history.jsonl"  # the history tasks a run holds out for the activation rule
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
    # the user's newest kept/rewritten, held out
    history: list[Task] = dataclasses.field(default_factory=list)


def write_samples(path: Path, train: Sequence[Sample], held_out: Sequence[Sample]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for split, samples in (("train", train), ("held-out", held_out)):
            for sample in samples:
                out.write(
                    json.dumps({"split": split, **dataclasses.asdict(sample)}, ensure_ascii=False) + "\n"
                )


def read_samples(path: Path) -> tuple[list[Sample], list[Sample]]:
    train: list[Sample] = []
    held_out: list[Sample] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        data = json.loads(line)
        split = data.pop("split")
        data["snippet_paths"] = tuple(data["snippet_paths"])
        (train if split == "train" else held_out).append(Sample(**data))
    return train, held_out


class Preparation:
    """Everything up to the samples for the repository at `root` with `settings` (read once by the CLI)."""

    def __init__(
        self, root: Path, settings: Settings, progress: Progress, say: Callable[[str], None]
    ) -> None:
        self.root = root
        self.settings = settings
        self.config = settings.train
        self.progress = progress
        self.say = say

    def files(self) -> list[SourceFile]:
        if not self.root.is_dir():
            raise TrainingError(f"{self.root}: not a directory")
        return list(source_files(self.root, self.settings.index))

    def split(self, files: Sequence[SourceFile]) -> Split:
        if len(files) < 2:
            raise TooSmall(
                f"{self.root}: {len(files)} usable source file(s); need at least 2 to hold one out"
            )
        return split_files(
            self.root,
            [f.path for f in files],
            fraction=self.config.tuning.held_out_fraction,
            seed=self.config.tuning.seed,
            since=self.config.since,
        )

    def unfinished_run(self) -> Path:
        """The newest run of this repository that has its samples (and maybe a checkpoint) but no finished adapter."""
        folder = repo_adapters_dir(self.settings, self.root)
        runs = (
            sorted(
                (
                    p
                    for p in folder.glob("*")
                    if (p / SAMPLES_FILE).is_file() and not (p / ADAPTER_META).is_file()
                ),
                reverse=True,
            )
            if folder.is_dir()
            else []
        )
        if not runs:
            raise NoCheckpoint(
                f"{self.root}: no unfinished training run to resume; start one without --resume"
            )
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

        store = store_for(self.settings)
        resolved = store.resolve(self.settings.models.code_model, "code", progress=self.progress)
        weights = store.weights(resolved, self.progress)  # the GGUF dequantized once, the first time
        with self.progress.task(
            f"loading {self.settings.models.code_model} ({self.precision_line()})", total=None, unit="steps"
        ):
            loaded = load_code_model(weights, self.models())
        return (
            loaded,
            TransformersBackend(loaded, InferenceConfig(tuning=InferenceTuning(kv_cache_entries=0))),
            resolved.path,
        )

    def load_generator(self, model_dir: Path, backend: Any) -> Any:
        """The backend of the greedy completions before and after training: `backend` itself, or llama.cpp on the
        model's GGUF when `train.eval_runtime` (auto: as `inference.runtime = auto` picks) says so."""
        from housecoder.completion.loading import gguf_of, pick_runtime

        gguf = gguf_of(model_dir)
        inference = self.settings.inference.model_copy(update={"runtime": self.config.tuning.eval_runtime})
        if pick_runtime(self.settings.model_copy(update={"inference": inference}), gguf) != "llama.cpp":
            return backend
        if gguf is None:
            raise TrainingError(
                f"train.eval_runtime = llama.cpp needs a GGUF model; {self.settings.models.code_model} has none"
            )
        from housecoder.inference.llamacpp_backend import LlamaCppBackend
        from housecoder.models.store import store_for

        with self.progress.task("loading the GGUF for llama.cpp completions", total=None, unit="steps"):
            return LlamaCppBackend(gguf, inference, cache_root=store_for(self.settings).root)

    def open_index(self) -> Retriever:
        from housecoder.indexer.service import index_repository, open_retriever
        from housecoder.models.store import store_for

        summary, _where = index_repository(self.root, self.settings, store_for(self.settings), self.progress)
        self.say(
            f"index up to date: {summary.indexed} files indexed, {summary.unchanged} unchanged, {summary.chunks_total} chunks"
        )
        return open_retriever(self.root, self.settings, self.progress)

    def prepare(self, *, resume: bool = False, run_dir: Path | None = None) -> Prepared:
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
            history = read_tasks(run_dir / HISTORY_FILE) if (run_dir / HISTORY_FILE).is_file() else []
            self.say(f"reusing {len(train)} training and {len(held_out)} held-out samples from {saved}")
        else:
            train, held_out = self.build_samples(files, split, backend, retriever)
            history_train, history = self.history(split)
            engine = CompletionEngine(
                backend,
                sample_settings(self.settings),
                repo_name=self.root.name,
                retriever=FilteredRetriever(retriever, set(split.held_out)),
            )
            added = history_samples(
                history_train, engine, self.config.tuning.middle_tokens, self.config.tuning.history_weight
            )
            train = [*train, *added]
            if history_train or history:
                self.say(
                    f"your own suggestions: {len(history_train)} kept or rewritten trained on"
                    f" (x{self.config.tuning.history_weight}), {len(history)} newest held out for the activation rule"
                )
        return Prepared(
            self.root,
            split,
            train,
            held_out,
            loaded,
            backend,
            generator,
            retriever,
            model_dir,
            run_dir,
            history,
        )

    def history(self, split: Split) -> tuple[list[Task], list[Task]]:
        """The user's kept and rewritten suggestions (the workspace's feedback store), split into those to train
        on and those held out: with `history_min_tasks` or more, the newest half is held out for the activation
        rule. Suggestions in held-out files are never trained on."""
        from housecoder.evaluation.history import workspace_history
        from housecoder.feedback.store import StoreError

        try:
            tasks, _recorded = workspace_history(self.settings, self.root)
        except StoreError as err:  # another housecoder's store, a hostile file: train without it
            self.say(f"{err}; training without your own suggestions")
            return [], []
        held_out: list[Task] = []
        if len(tasks) >= self.config.tuning.history_min_tasks:
            half = len(tasks) // 2
            tasks, held_out = tasks[:half], tasks[half:]
        blocked = set(split.held_out)
        train = (
            [task for task in tasks if task.path not in blocked] if self.config.tuning.history_weight else []
        )
        return train, held_out

    def build_samples(
        self, files: Sequence[SourceFile], split: Split, backend: Any, retriever: Retriever
    ) -> tuple[list[Sample], list[Sample]]:
        config, rng = self.config, random.Random(self.config.tuning.seed)
        held = set(split.held_out)
        settings = sample_settings(self.settings)
        training = [f for f in files if f.path not in held]
        chosen: dict[str, list[Sample]] = {}
        for name, wanted, budget, per_file, group, source, first in (
            (
                "train",
                config.tuning.max_samples,
                config.token_budget or None,
                config.tuning.per_file,
                training,
                FilteredRetriever(retriever, held),
                dependents(training),
            ),
            (
                "held-out",
                max(config.tuning.eval_samples, config.tuning.generate_samples),
                None,
                config.tuning.eval_per_file,
                [f for f in files if f.path in held],
                retriever,
                None,
            ),
        ):
            # a token budget draws cuts as for the samples it is likely to buy, so every file keeps its share
            expected = wanted if wanted is not None or budget is None else -(-budget // SAMPLE_TOKENS)
            cuts = draw_cuts(group, config, expected, rng, per_file, first=first)
            engine = CompletionEngine(backend, settings, repo_name=self.root.name, retriever=source)
            total, unit = (budget, "tokens") if budget else (min(expected or len(cuts), len(cuts)), "samples")
            with self.progress.task(f"{name} samples", total=total, unit=unit) as advance:
                chosen[name] = build_samples(
                    cuts, engine, wanted, config.tuning.middle_tokens, advance, token_budget=budget
                )
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
        rng = random.Random(f"{config.tuning.seed}:more held-out")  # not the first draw's sequence: new cuts
        cuts = draw_cuts(files, config, wanted, rng, config.tuning.eval_per_file, taken=prepared.held_out)
        engine = CompletionEngine(
            prepared.backend,
            sample_settings(self.settings),
            repo_name=self.root.name,
            retriever=prepared.retriever,
        )
        with self.progress.task(
            "more held-out samples", total=min(missing, len(cuts)), unit="samples"
        ) as advance:
            new = build_samples(
                cuts, engine, missing, config.tuning.middle_tokens, advance, taken=prepared.held_out
            )
        prepared.held_out.extend(new)
        write_samples(prepared.run_dir / SAMPLES_FILE, prepared.train, prepared.held_out)
        self.say(
            f"{len(new)} more held-out samples from the {len(files)} held-out files: {len(prepared.held_out)} now"
        )
