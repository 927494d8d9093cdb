"""The LoRA training loop: accelerate + peft, loss on middles, checkpoints, resume and early stop.

The loop is plain PyTorch under `accelerate.Accelerator`, so the same code runs on
CPU (bf16 autocast where it has bf16 instructions, else fp32), one GPU, or many under `accelerate launch` / torchrun. One
optimiser step is `grad_accum` micro-steps of `batch_size` samples. Every
`eval_every` steps the held-out loss is measured; the best adapter so far is kept
in `<run>/best/`, and training stops after `patience` checks without a better
held-out loss. Every `checkpoint_every` steps the adapter weights, optimiser,
scheduler and counters go to `<run>/checkpoint/` (written beside, then renamed),
which `resume` continues from, skipping the samples already seen in that epoch; with
`keep_checkpoints` each checkpoint's adapter also stays in `<run>/steps/<step>/` with the tokens
trained so far (`trained.json`), so that one run gives a learning curve.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from housecoder.config import TrainConfig
from housecoder.errors import first_line
from housecoder.models.atomic import atomic_path
from housecoder.training import precision
from housecoder.training.data import Encoded, collate, middle_loss
from housecoder.training.errors import Diverged, NoCheckpoint, OutOfMemory

CHECKPOINT = "checkpoint"
BEST = "best"
STEPS = "steps"
TRAINED_FILE = "trained.json"
STATE_FILE = "trainer.pt"
# A step whose loss or gradient is not finite (a bf16 overflow, one bad batch) is skipped, weights untouched;
# this many in a row means the run diverged and stops with a message instead of training on nothing.
MAX_SKIPPED_IN_A_ROW = 5


@dataclass
class StepLog:
    """One optimiser step (and the held-out loss when it was measured then)."""

    step: int
    total_steps: int
    loss: float
    learning_rate: float
    samples_per_s: float
    elapsed_s: float
    eval_loss: float | None = None
    tokens_seen: int = 0  # sequence tokens (prompt and middle, no padding) trained on so far
    skipped: bool = False  # the step's loss or gradient was not finite: the weights were left as they were


@dataclass
class TrainState:
    """What a checkpoint must restore besides the weights: counters, best loss, history."""

    step: int = 0
    epoch: int = 0
    batches_in_epoch: int = 0  # micro-batches of `epoch` already consumed
    best_loss: float | None = None
    best_step: int = 0
    checks_without_gain: int = 0
    stopped_early: bool = False
    elapsed_s: float = 0.0  # training time, pauses for the user's typing left out
    paused_s: float = 0.0  # time paused for the user's typing (background training)
    samples_seen: int = 0
    tokens_seen: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    skipped_steps: int = 0  # optimiser steps not taken: their loss or gradient was not finite
    skipped_in_a_row: int = 0


@dataclass(frozen=True)
class TrainResult:
    state: TrainState
    best_dir: Path | None  # None when no check beat the loss before training


def is_out_of_memory(err: BaseException) -> bool:
    import torch

    return isinstance(err, (MemoryError, torch.OutOfMemoryError)) or "out of memory" in str(err).lower()


def total_steps(config: TrainConfig, samples: int) -> int:
    """Optimiser steps: `config.steps`, else `epochs` passes over `samples`."""
    if config.steps is not None:
        return config.steps
    per_epoch = math.ceil(samples / (config.tuning.batch_size * config.tuning.grad_accum))
    return max(1, math.ceil(per_epoch * config.epochs))


def lora_config(config: TrainConfig, layers: int | None = None) -> Any:
    """peft's LoRA config; with `config.lora_layers` set, only the top that many of the model's `layers` get LoRA
    (the backward pass then stops there)."""
    from peft import LoraConfig

    top = None
    if config.tuning.lora_layers is not None and layers is not None and config.tuning.lora_layers < layers:
        top = list(range(layers - config.tuning.lora_layers, layers))
    return LoraConfig(
        r=config.tuning.rank,
        lora_alpha=config.tuning.alpha,
        lora_dropout=config.tuning.dropout,
        target_modules=list(config.tuning.target_modules),
        layers_to_transform=top,
        task_type="CAUSAL_LM",
        bias="none",
    )


def add_lora(model: Any, config: TrainConfig) -> Any:
    """`model` wrapped by peft with `lora_config` sized to its layer count."""
    from peft import get_peft_model

    return get_peft_model(model, lora_config(config, getattr(model.config, "num_hidden_layers", None)))


def autocast_for(config: TrainConfig, device: str) -> Callable[[], Any]:
    """The autocast the trainer's Accelerator uses for `config.mixed_precision` on `device`, for measuring outside it."""
    import contextlib

    import torch

    mixed = precision.resolve(config, device)
    if mixed == "no":
        return contextlib.nullcontext
    dtype = torch.bfloat16 if mixed == "bf16" else torch.float16
    return lambda: torch.autocast(str(device).split(":")[0], dtype=dtype)


def held_out_losses(
    model: Any, encoded: Sequence[Encoded], pad: int, device: Any, autocast: Callable[[], Any]
) -> list[tuple[float, int]]:
    """Each item's loss summed over its middle tokens, and their count (every middle token counts once)."""
    import torch

    was_training = model.training
    model.eval()
    found = []
    try:
        with torch.no_grad():
            for item in encoded:
                batch = {name: tensor.to(device) for name, tensor in collate([item], pad).items()}
                with autocast():
                    loss = middle_loss(model, batch)
                count = item.target_tokens  # every target is predicted: the first one follows the prompt
                found.append((float(loss) * count, count))
    finally:
        model.train(was_training)
    return found


def held_out_loss(
    model: Any, encoded: Sequence[Encoded], pad: int, device: Any, autocast: Callable[[], Any]
) -> float:
    """Mean loss per middle token over `encoded`."""
    found = held_out_losses(model, encoded, pad, device, autocast)
    tokens = sum(count for _, count in found)
    return sum(total for total, _ in found) / tokens if tokens else float("nan")


def _save_adapter(model: Any, target: Path) -> None:
    with atomic_path(target, directory=True) as staging:
        model.save_pretrained(str(staging))


class Trainer:
    """Trains the LoRA adapter on `model` (a peft model) in `run_dir`."""

    def __init__(self, model: Any, config: TrainConfig, run_dir: Path, pad: int, *, device: str) -> None:
        from accelerate import Accelerator

        self.accelerator = Accelerator(
            mixed_precision=precision.resolve(config, device),
            cpu=device == "cpu",
            gradient_accumulation_steps=config.tuning.grad_accum,
        )
        self.config = config
        self.run_dir = run_dir
        self.pad = pad
        self.model = model

    def _optimiser(self, steps: int) -> tuple[Any, Any]:
        import torch
        from transformers import get_constant_schedule_with_warmup, get_cosine_schedule_with_warmup

        trainable = [p for p in self.model.parameters() if p.requires_grad]
        optimiser = torch.optim.AdamW(
            trainable, lr=self.config.tuning.learning_rate, weight_decay=self.config.tuning.weight_decay
        )
        # accelerate steps a prepared schedule once per process for each optimiser step, so it is sized in those.
        ticks = self.accelerator.num_processes
        warmup = min(self.config.tuning.warmup_steps, steps // 2) * ticks
        if self.config.tuning.schedule == "constant":
            return optimiser, get_constant_schedule_with_warmup(optimiser, warmup)
        return optimiser, get_cosine_schedule_with_warmup(optimiser, warmup, steps * ticks)

    def _checkpoint(self, optimiser: Any, schedule: Any, state: TrainState) -> None:
        import torch

        if not self.accelerator.is_main_process:
            return
        with atomic_path(self.run_dir / CHECKPOINT, directory=True) as staging:
            self.accelerator.unwrap_model(self.model).save_pretrained(str(staging))
            torch.save(
                {
                    "optimiser": optimiser.state_dict(),
                    "schedule": schedule.state_dict(),
                    "state": asdict(state),
                },
                staging / STATE_FILE,
            )
        if self.config.tuning.keep_checkpoints:
            with atomic_path(self.run_dir / STEPS / f"{state.step:05d}", directory=True) as staging:
                self.accelerator.unwrap_model(self.model).save_pretrained(str(staging))
                trained = {"step": state.step, "samples": state.samples_seen, "tokens": state.tokens_seen}
                (staging / TRAINED_FILE).write_text(
                    json.dumps(trained | {"elapsed_s": round(state.elapsed_s, 1)})
                )

    def _restore(self, optimiser: Any, schedule: Any) -> TrainState:
        import torch
        from peft import set_peft_model_state_dict
        from safetensors.torch import load_file

        folder = self.run_dir / CHECKPOINT
        weights = folder / "adapter_model.safetensors"
        if not (folder / STATE_FILE).is_file() or not weights.is_file():
            raise NoCheckpoint(f"{self.run_dir}: no checkpoint to resume from; start again without --resume")
        try:  # weights only: a checkpoint folder someone else wrote must not run pickled code
            saved = torch.load(folder / STATE_FILE, map_location="cpu", weights_only=True)
        except Exception as err:  # UnpicklingError, a truncated file, ...
            raise NoCheckpoint(
                f"{folder / STATE_FILE}: not a checkpoint housecoder wrote ({first_line(err)}); "
                "start again without --resume"
            ) from err
        set_peft_model_state_dict(self.model, load_file(str(weights)))
        optimiser.load_state_dict(saved["optimiser"])
        schedule.load_state_dict(saved["schedule"])
        return TrainState(**saved["state"])

    def train(
        self,
        train: Sequence[Encoded],
        held_out: Sequence[Encoded],
        *,
        resume: bool = False,
        on_step: Callable[[StepLog], None] = lambda _log: None,
        initial_loss: float | None = None,
        pace: Callable[[], None] = lambda: None,
        paused: Callable[[], float] = lambda: 0.0,
    ) -> TrainResult:
        """Train until the step budget or early stop; `initial_loss` is the held-out loss before training;
        `pace` is called before every micro-step (background training waits there while the user types), and
        `paused()` says how long it has waited so far: that time counts in `paused_s`, not in `elapsed_s` or
        samples/s."""
        import torch
        from torch.utils.data import DataLoader

        config, accelerator = self.config, self.accelerator
        steps = total_steps(config, len(train))
        optimiser, schedule = self._optimiser(steps)
        state = self._restore(optimiser, schedule) if resume else TrainState(best_loss=initial_loss)
        if not resume:  # a fresh start must not inherit the best adapter of an earlier, abandoned attempt
            shutil.rmtree(self.run_dir / BEST, ignore_errors=True)
        if config.tuning.gradient_checkpointing:
            self.model.gradient_checkpointing_enable()
            self.model.enable_input_require_grads()
        model, optimiser, schedule = accelerator.prepare(self.model, optimiser, schedule)
        model.train()
        started, elapsed_before, paused_before, waited_before = (
            time.perf_counter(),
            state.elapsed_s,
            state.paused_s,
            paused(),
        )

        def clock() -> tuple[float, float]:
            """(training time, paused time) of the whole run until now."""
            now, waited = time.perf_counter(), paused() - waited_before
            return elapsed_before + now - started - waited, paused_before + waited

        window_loss, window_samples, window_started = 0.0, 0, clock()[0]
        finite = True  # every micro-step of this optimiser step so far had a finite loss

        def loader(epoch: int) -> Any:
            generator = torch.Generator().manual_seed(config.tuning.seed * 1000 + epoch)
            items: Any = list(train)  # a list is a map-style dataset
            data: DataLoader[Any] = DataLoader(
                items,
                batch_size=config.tuning.batch_size,
                shuffle=True,
                generator=generator,
                collate_fn=lambda items: collate(items, self.pad),
            )
            return accelerator.prepare(data)

        try:
            while state.step < steps and not state.stopped_early:
                batches = loader(state.epoch)
                if state.batches_in_epoch:
                    batches = accelerator.skip_first_batches(batches, state.batches_in_epoch)
                for batch in batches:
                    pace()
                    with accelerator.accumulate(model):
                        loss = middle_loss(model, batch)
                        finite = finite and bool(torch.isfinite(loss))
                        if finite:  # a non-finite loss would write NaN into every gradient it reaches
                            accelerator.backward(loss)
                        if accelerator.sync_gradients:
                            norm = accelerator.clip_grad_norm_(
                                model.parameters(), config.tuning.max_grad_norm
                            )
                            finite = finite and bool(torch.isfinite(norm))
                        if finite or not accelerator.sync_gradients:
                            optimiser.step()
                            schedule.step()
                        optimiser.zero_grad()
                    state.batches_in_epoch += 1
                    state.samples_seen += int(batch["input_ids"].shape[0])
                    state.tokens_seen += int(batch["attention_mask"].sum())
                    window_loss += float(loss.detach())
                    window_samples += int(batch["input_ids"].shape[0])
                    if not accelerator.sync_gradients:
                        continue
                    state.step += 1
                    skipped, finite = not finite, True
                    state.skipped_steps += skipped
                    state.skipped_in_a_row = state.skipped_in_a_row + 1 if skipped else 0
                    if state.skipped_in_a_row >= MAX_SKIPPED_IN_A_ROW:
                        raise Diverged(
                            f"training diverged: {state.skipped_in_a_row} optimiser steps in a row had a "
                            "non-finite loss or gradient (lower train.learning_rate, or train in float32 with "
                            "train.mixed_precision = 'no')"
                        )
                    trained, state.paused_s = clock()
                    log = StepLog(
                        step=state.step,
                        total_steps=steps,
                        loss=window_loss / max(1, config.tuning.grad_accum),
                        learning_rate=float(schedule.get_last_lr()[0]),
                        samples_per_s=window_samples / max(trained - window_started, 1e-9),
                        elapsed_s=trained,
                        tokens_seen=state.tokens_seen,
                        skipped=skipped,
                    )
                    window_loss, window_samples, window_started = 0.0, 0, trained
                    if state.step % config.tuning.eval_every == 0 or state.step == steps:
                        log.eval_loss = held_out_loss(
                            model, held_out, self.pad, accelerator.device, accelerator.autocast
                        )
                        self._judge(log.eval_loss, state)
                    state.elapsed_s, state.paused_s = clock()
                    state.history.append(asdict(log))
                    on_step(log)
                    if (
                        state.step % config.tuning.checkpoint_every == 0
                        or state.step == steps
                        or state.stopped_early
                    ):
                        self._checkpoint(optimiser, schedule, state)
                    if state.step >= steps or state.stopped_early:
                        break
                else:
                    state.epoch += 1
                    state.batches_in_epoch = 0
        except (RuntimeError, MemoryError) as err:
            if is_out_of_memory(err):
                raise OutOfMemory("training") from err
            raise
        self._write_history(state)
        best = self.run_dir / BEST
        return TrainResult(state, best if best.is_dir() else None)

    def _judge(self, eval_loss: float, state: TrainState) -> None:
        """Keep the adapter when the held-out loss improved; count checks without gain for early stop."""
        if state.best_loss is None or eval_loss < state.best_loss:
            state.best_loss, state.best_step, state.checks_without_gain = eval_loss, state.step, 0
            if self.accelerator.is_main_process:
                _save_adapter(self.accelerator.unwrap_model(self.model), self.run_dir / BEST)
            return
        state.checks_without_gain += 1
        if state.checks_without_gain >= self.config.tuning.patience:
            state.stopped_early = True

    def _write_history(self, state: TrainState) -> None:
        if self.accelerator.is_main_process:
            (self.run_dir / "history.json").write_text(json.dumps(state.history, indent=1))
