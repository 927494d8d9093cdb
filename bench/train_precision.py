"""Seconds per LoRA training sequence of the default code model in each `train.mixed_precision` setting.

Loads the model as `housecoder train` would for each setting (`auto` resolved on this machine: float32
weights on a CPU without bf16 instructions), puts the default LoRA on it, and times forward + backward of
the middle loss on one sequence of real code (this repository's own source) of `--tokens` tokens; the
first pass (allocations) is not counted, the best of `--reps` is printed.

    python bench/train_precision.py [--settings auto,bf16,no] [--tokens 256] [--reps 2]
"""

from __future__ import annotations

import argparse
import gc
import resource
import time
from pathlib import Path

from housecoder.config import Settings, TrainConfig
from housecoder.models.loading import load_code_model, pick_device
from housecoder.models.store import store_for
from housecoder.training import precision
from housecoder.training.data import IGNORE, Encoded, collate, middle_loss, pad_id
from housecoder.training.trainer import add_lora, autocast_for

ROOT = Path(__file__).resolve().parents[1]


def time_setting(settings: Settings, wanted: str, tokens: int, reps: int) -> tuple[str, float]:
    config = TrainConfig.model_validate(settings.train.model_dump() | {"mixed_precision": wanted})
    device = pick_device(settings.models.device)
    models = precision.training_models(settings.models, config, device)
    store = store_for(settings)
    loaded = load_code_model(store.weights(store.resolve(settings.models.code_model, "code")), models)
    text = (ROOT / "training" / "trainer.py").read_text()
    ids = loaded.tokenizer(text)["input_ids"][:tokens]
    middle = len(ids) // 4  # the loss on the last quarter, as on a FIM middle
    labels = [IGNORE] * (len(ids) - middle) + ids[-middle:]
    model = add_lora(loaded.model, config)
    model.train()
    batch = {k: v.to(device) for k, v in collate([Encoded(ids, labels)], pad_id(loaded.tokenizer)).items()}
    autocast = autocast_for(config, device)
    timings = []
    for _ in range(reps + 1):
        started = time.perf_counter()
        with autocast():
            loss = middle_loss(model, batch)
        loss.backward()
        model.zero_grad(set_to_none=True)
        timings.append(time.perf_counter() - started)
    del model, loaded
    gc.collect()
    return precision.describe(models, precision.resolve(config, device)), min(timings[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--settings", default="auto,bf16,no", help="comma-separated train.mixed_precision values"
    )
    parser.add_argument("--tokens", type=int, default=256, help="sequence length")
    parser.add_argument("--reps", type=int, default=2, help="timed passes after the first")
    args = parser.parse_args()
    settings = Settings()
    import torch

    print(
        f"torch {torch.__version__}, CPU capability {torch.backends.cpu.get_cpu_capability()}, "
        f"{torch.get_num_threads()} threads, native bf16 on {pick_device(settings.models.device)}: "
        f"{precision.native_bf16(pick_device(settings.models.device))}"
    )
    print("| mixed_precision | runs as | tokens | s per sequence (fwd+bwd) | peak RSS GB |")
    print("| --- | --- | ---: | ---: | ---: |")
    for wanted in args.settings.split(","):
        described, seconds = time_setting(settings, wanted.strip(), args.tokens, args.reps)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
        print(f"| {wanted} | {described} | {args.tokens} | {seconds:.2f} | {peak:.1f} |", flush=True)


if __name__ == "__main__":
    main()
