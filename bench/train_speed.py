"""Cheaper training tokens on this CPU: tokens/s and the held-out loss after the same tokens, per training variant.

Each variant trains the same samples in the same order with the product's `Trainer` (batch 1 x 8, the default
schedule), in its own process, one after another: tokens/s is measured after the first optimiser step (a
compiled model's first shapes compile there), and the held-out loss after training is measured per held-out
sample, so each variant is paired with the first one (95% bootstrap interval over the held-out samples). A
variant that is faster with a held-out loss within noise of the first one trains cheaper tokens.

    python bench/train_speed.py REPO --out DIR [--config C.toml] [--samples 48] [--held-out 32]
                                [--variant NAME:KEY=VALUE,...] [--timeout-s 1200]

REPO's training samples are made once (DIR/run/: the training job's split, its serving prompts with retrieved
snippets). A variant's keys are `[train.tuning]` fields (rank, target_modules, lora_layers, ...), plus
`threads` (`models.torch_threads`), `compile` (`torch.compile` of the LoRA model with dynamic shapes) and
`pack` (consecutive samples packed into sequences of at most that many tokens, each attending only to
itself: transformers' packed-sequence mask from restarting position ids; give it a smaller `grad_accum` so
an optimiser step still sees about 8 samples) and `samples` (this variant trains on more or fewer samples: a
faster variant given the first one's training time); a value is JSON where it parses (`target_modules=["q_proj","v_proj"]`). DIR/speed.json holds the table.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from learning_curve_gpu import (  # bench/ is this script's first import path
    SETTINGS_FILE,
    parse_variants,
    write_prepared,
)

from housecoder.config import Settings, merge_sections

SAMPLES = 2000  # bootstrap resamples
BENCH_KEYS = ("threads", "compile", "pack", "samples")  # a variant's keys that are not [train.tuning] fields


def prepare(repo: Path, config: Path | None, out: Path) -> None:
    """The training job's samples of `repo` (its split, prompts and snippets) in `out`/run/, once."""
    from housecoder.config import apply_config_file, load_settings
    from housecoder.training.preparation import SAMPLES_FILE

    if (out / "run" / SAMPLES_FILE).is_file():
        return
    settings = load_settings(repo)
    if config is not None:
        settings = apply_config_file(settings, config)
    write_prepared(
        repo,
        Settings.model_validate(merge_sections(settings.model_dump(), {"models": {"device": "cpu"}})),
        out,
    )


@dataclasses.dataclass(frozen=True)
class Packed:
    """Several samples in one sequence: their ids and labels end to end, positions restarting at each."""

    input_ids: list[int]
    labels: list[int]
    positions: list[int]


def pack(encoded: Sequence[Any], tokens: int) -> list[Packed]:
    found: list[Packed] = []
    ids: list[int] = []
    labels: list[int] = []
    positions: list[int] = []
    for item in encoded:
        if ids and len(ids) + len(item.input_ids) > tokens:
            found.append(Packed(ids, labels, positions))
            ids, labels, positions = [], [], []
        ids, labels = ids + item.input_ids, labels + item.labels
        positions = positions + list(range(len(item.input_ids)))
    return [*found, Packed(ids, labels, positions)] if ids else found


def packed_steps() -> None:
    """Teach the trainer's collate and loss packed sequences (position ids, no attention mask: transformers then
    masks attention within each sample)."""
    import torch
    import torch.nn.functional as F

    from housecoder.training import trainer
    from housecoder.training.data import IGNORE

    plain_collate, plain_loss = trainer.collate, trainer.middle_loss

    def collate(batch: Sequence[Any], pad: int) -> dict[str, Any]:
        if not isinstance(batch[0], Packed):
            return plain_collate(batch, pad)
        (item,) = batch
        return {
            "input_ids": torch.tensor([item.input_ids]),
            "labels": torch.tensor([item.labels]),
            "position_ids": torch.tensor([item.positions]),
            "attention_mask": torch.ones((1, len(item.input_ids)), dtype=torch.long),  # counted, not passed
        }

    def middle_loss(model: Any, batch: dict[str, Any]) -> Any:
        if "position_ids" not in batch:
            return plain_loss(model, batch)
        following = batch["labels"][:, 1:]
        keep = (following != IGNORE).any(dim=0).nonzero().squeeze(-1)
        out = model(
            input_ids=batch["input_ids"],
            position_ids=batch["position_ids"],
            logits_to_keep=keep,
            use_cache=False,
        )
        logits = out.logits.float().flatten(0, 1)
        return F.cross_entropy(logits, following[:, keep].flatten(), ignore_index=IGNORE)

    trainer.collate, trainer.middle_loss = collate, middle_loss


def train_variant(
    out: Path, name: str, overrides: dict[str, Any], samples: int, held_out: int, base: bool
) -> None:
    """One variant, in this process: train `samples` samples, then the held-out loss of each held-out sample."""
    import torch

    from housecoder.models.loading import load_code_model
    from housecoder.models.progress import SILENT
    from housecoder.models.store import store_for
    from housecoder.training import precision
    from housecoder.training.data import encode, pad_id
    from housecoder.training.preparation import SAMPLES_FILE, read_samples
    from housecoder.training.trainer import Trainer, add_lora, autocast_for, held_out_losses

    tuning = {key: value for key, value in overrides.items() if key not in BENCH_KEYS}
    settings = Settings.model_validate_json((out / SETTINGS_FILE).read_text())
    sections: dict[str, Any] = {"train": {"tuning": tuning | {"eval_every": 10_000}, "steps": None}}
    if "threads" in overrides:
        sections["models"] = {"torch_threads": int(overrides["threads"])}
    settings = Settings.model_validate(merge_sections(settings.model_dump(), sections))
    config = settings.train
    train, held = read_samples(out / "run" / SAMPLES_FILE)
    store = store_for(settings)
    weights = store.weights(store.resolve(settings.models.code_model, "code", progress=SILENT), SILENT)
    started = time.perf_counter()
    loaded = load_code_model(weights, precision.training_models(settings.models, config, "cpu"))
    load_s = time.perf_counter() - started
    tokenizer, pad = loaded.tokenizer, pad_id(loaded.tokenizer)
    # the same first `samples` samples for every variant, one pass in the trainer's seeded order
    samples = int(overrides.get("samples", samples))
    encoded = [encode(sample, tokenizer, config.tuning.end_of_text) for sample in train[:samples]]
    if "pack" in overrides:
        encoded = pack(encoded, int(overrides["pack"]))
    steps = max(1, len(encoded) // (config.tuning.batch_size * config.tuning.grad_accum))
    config = config.model_copy(update={"steps": steps})
    held_encoded = [encode(sample, tokenizer, config.tuning.end_of_text) for sample in held[:held_out]]
    model = add_lora(loaded.model, config)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    autocast = autocast_for(config, "cpu")

    def losses() -> list[tuple[float, int]]:
        return held_out_losses(model, held_encoded, pad, "cpu", autocast)

    before = losses() if base else None
    if "pack" in overrides:
        packed_steps()
    run_dir = out / "variants" / name
    runnable = torch.compile(model, dynamic=True) if overrides.get("compile") else model
    trainer = Trainer(runnable, config, run_dir, pad, device="cpu")
    result = trainer.train(
        encoded,
        held_encoded[:1],  # the loop's own check at its last step; the figures are measured below
        on_step=lambda log: print(
            f"[{name}] step {log.step}/{log.total_steps} loss {log.loss:.4f} tokens {log.tokens_seen:,} "
            f"{log.elapsed_s:.0f}s",
            flush=True,
        ),
    )
    history = result.state.history
    first, last = history[0], history[-1]
    if len(history) < 2:  # one optimiser step: its own rate, compilation included
        first = {"tokens_seen": 0, "elapsed_s": 0.0}
    steady = (last["tokens_seen"] - first["tokens_seen"]) / max(last["elapsed_s"] - first["elapsed_s"], 1e-9)
    figures = {
        "name": name,
        "overrides": overrides,
        "threads": torch.get_num_threads(),
        "trainable": trainable,
        "load_s": round(load_s, 1),
        "steps": result.state.step,
        "tokens": result.state.tokens_seen,
        "train_s": round(last["elapsed_s"], 1),
        "first_step_s": round(history[0]["elapsed_s"], 1),
        "tokens_per_s": round(steady, 2),
        "losses": losses(),
        "before": before,
        "history": history,
    }
    (out / "variants" / f"{name}.json").write_text(json.dumps(figures, indent=1))


def mean(pairs: Sequence[tuple[float, int]]) -> float:
    return sum(loss for loss, _ in pairs) / sum(count for _, count in pairs)


def paired(
    mine: Sequence[tuple[float, int]], theirs: Sequence[tuple[float, int]]
) -> tuple[float, float, float]:
    """Held-out loss per middle token, mine minus theirs, and its 95% bootstrap interval over the samples."""
    rng = random.Random(0)
    indexes = range(len(mine))
    draws = []
    for _ in range(SAMPLES):
        picked = [rng.choice(indexes) for _ in indexes]
        draws.append(mean([mine[i] for i in picked]) - mean([theirs[i] for i in picked]))
    draws.sort()
    return mean(mine) - mean(theirs), draws[int(0.025 * SAMPLES)], draws[int(0.975 * SAMPLES) - 1]


def report(out: Path, names: Sequence[str]) -> None:
    rows = [json.loads((out / "variants" / f"{name}.json").read_text()) for name in names]
    reference = rows[0]
    table = []
    before = mean(reference["before"]) if reference["before"] else None
    print(
        f"| variant | trainable | tokens | training | tokens/s | vs {reference['name']} | held-out loss | "
        f"its drop | minus {reference['name']} (95% CI) |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    if before is not None:
        print(f"| before training | | | | | | {before:.4f} | | |")
    for row in rows:
        difference, low, high = paired(row["losses"], reference["losses"])
        speed = row["tokens_per_s"] / reference["tokens_per_s"]
        table.append(
            {
                "name": row["name"],
                "overrides": row["overrides"],
                "trainable": row["trainable"],
                "tokens": row["tokens"],
                "tokens_per_s": row["tokens_per_s"],
                "speed": round(speed, 3),
                "first_step_s": row["first_step_s"],
                "train_s": row["train_s"],
                "held_out_loss": round(mean(row["losses"]), 4),
                "difference": [round(difference, 4), round(low, 4), round(high, 4)],
            }
        )
        drop = f"{before - mean(row['losses']):.4f}" if before is not None else ""
        print(
            f"| {row['name']} | {row['trainable'] / 1e6:.1f} M | {row['tokens']:,} | {row['train_s'] / 60:.1f} min | "
            f"{row['tokens_per_s']:.1f} | {speed:.2f}x | {mean(row['losses']):.4f} | {drop} | "
            f"{difference:+.4f} ({low:+.4f} to {high:+.4f}) |"
        )
    (out / "speed.json").write_text(
        json.dumps({"before": before, "held_out": len(reference["losses"]), "variants": table}, indent=1)
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("repo", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--config", type=Path)
    parser.add_argument("--samples", type=int, default=48, help="training samples per variant")
    parser.add_argument("--held-out", type=int, default=32, help="held-out samples whose loss is measured")
    parser.add_argument("--variant", action="append", default=[])
    parser.add_argument("--timeout-s", type=int, default=1200, help="one variant's limit")
    parser.add_argument("--only", help=argparse.SUPPRESS)  # NAME: train that variant in this process
    args = parser.parse_args()
    found = parse_variants(args.variant)
    if args.only:
        names = list(found)
        train_variant(
            args.out, args.only, found[args.only], args.samples, args.held_out, args.only == names[0]
        )
        return
    args.out.mkdir(parents=True, exist_ok=True)
    prepare(args.repo.resolve(), args.config, args.out)
    done = []
    for name in found:
        if (args.out / "variants" / f"{name}.json").is_file():
            done.append(name)
            continue
        command = [sys.executable, __file__, str(args.repo), "--out", str(args.out), "--only", name]
        command += ["--samples", str(args.samples), "--held-out", str(args.held_out)]
        command += [part for spec in args.variant for part in ("--variant", spec)]
        print(f"== {name}: {found[name]}", flush=True)
        try:
            finished = subprocess.run(command, timeout=args.timeout_s).returncode == 0
        except subprocess.TimeoutExpired:
            finished = False
            print(f"== {name}: over {args.timeout_s}s, left out", flush=True)
        if finished:
            done.append(name)
    report(args.out, done)


if __name__ == "__main__":
    main()
