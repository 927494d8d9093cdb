"""Does llama.cpp run the adapter that training made? Per-token loss of held-out middles in both runtimes.

`housecoder train` measures its held-out loss with transformers + peft, but generates the held-out middles
(and the server completes) on llama.cpp with the adapter converted to a GGUF LoRA over the quantized GGUF
model. This prints the mean negative log-likelihood per middle token (end-of-text included) of a training
run's held-out samples in four settings: transformers and llama.cpp, each without and with the adapter. If
the conversion is right, the adapter moves both runtimes' loss by about the same amount (the runtimes differ
by the GGUF's quantization only).

    python bench/lora_parity.py RUN_DIR [--samples 8]
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from housecoder.completion.loading import gguf_of
from housecoder.config import Settings
from housecoder.models.loading import load_code_model, set_adapter
from housecoder.models.store import store_for
from housecoder.training.data import encode
from housecoder.training.preparation import SAMPLES_FILE, read_samples


def torch_nll(model: object, ids: list[int], start: int) -> list[float]:
    import torch

    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ids])).logits[0].float()  # type: ignore[operator]
    logprobs = torch.log_softmax(logits[start - 1 : len(ids) - 1], dim=-1)
    return [-float(logprobs[i, token]) for i, token in enumerate(ids[start:])]


def llama_nll(llm: object, ids: list[int], start: int) -> list[float]:
    llm.reset()  # type: ignore[attr-defined]
    llm.eval(ids)  # type: ignore[attr-defined]
    scores = np.asarray(llm.scores[start - 1 : len(ids) - 1], dtype=np.float64)  # type: ignore[attr-defined]
    top = scores.max(axis=1, keepdims=True)
    logsum = top[:, 0] + np.log(np.exp(scores - top).sum(axis=1))
    return [float(logsum[i] - scores[i, token]) for i, token in enumerate(ids[start:])]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run", type=Path, help="a housecoder train run directory (samples.jsonl + adapter)")
    parser.add_argument("--samples", type=int, default=8)
    args = parser.parse_args()
    import ctypes

    import llama_cpp

    from housecoder.models.lora_gguf import gguf_adapter

    settings = Settings()
    store = store_for(settings)
    resolved = store.resolve(settings.models.code_model, "code")
    loaded = load_code_model(store.weights(resolved), settings.models.model_copy(update={"dtype": "float32"}))
    samples = read_samples(args.run / SAMPLES_FILE)[1][: args.samples]
    encoded = [encode(sample, loaded.tokenizer) for sample in samples]
    starts = [next(i for i, label in enumerate(e.labels) if label >= 0) for e in encoded]

    def over_samples(nll: Callable[[object, list[int], int], list[float]], model: object) -> list[float]:
        return [x for e, s in zip(encoded, starts, strict=True) for x in nll(model, e.input_ids, s)]

    gguf = gguf_of(resolved.path)
    if gguf is None:
        raise SystemExit(f"{resolved.path}: no GGUF for llama.cpp")
    llm = llama_cpp.Llama(model_path=str(gguf), n_ctx=2048, n_batch=512, logits_all=True, verbose=False)
    arch = str(llm.metadata.get("general.architecture", "qwen2"))
    handle = llama_cpp.llama_adapter_lora_init(
        llm.model, str(gguf_adapter(args.run, arch, gguf.parent)).encode()
    )
    figures = {
        "transformers": over_samples(torch_nll, loaded.model),
        "llama.cpp": over_samples(llama_nll, llm),
    }
    set_adapter(loaded, args.run)
    llama_cpp.llama_set_adapters_lora(
        llm.ctx, (llama_cpp.llama_adapter_lora_p_ctypes * 1)(handle), 1, (ctypes.c_float * 1)(1.0)
    )
    figures["transformers+adapter"] = over_samples(torch_nll, loaded.model)
    figures["llama.cpp+adapter"] = over_samples(llama_nll, llm)
    tokens = len(figures["transformers"])
    print(f"{len(samples)} held-out samples of {args.run}, {tokens} middle tokens (end-of-text included)")
    for name, values in figures.items():
        print(
            f"  {name:22s} mean NLL {sum(values) / tokens:.4f}  (perplexity {math.exp(sum(values) / tokens):.3f})"
        )
    for runtime in ("transformers", "llama.cpp"):
        delta = (sum(figures[runtime + "+adapter"]) - sum(figures[runtime])) / tokens
        print(f"  adapter moves {runtime}: {delta:+.4f}")
    pairs = np.array([figures["transformers+adapter"], figures["llama.cpp+adapter"]])
    print(
        f"  per-token NLL correlation with the adapter, transformers vs llama.cpp: {np.corrcoef(pairs)[0, 1]:.3f}"
    )


if __name__ == "__main__":
    main()
