"""How fast does this machine prefill, and which snippet budget would the server choose on it?

Builds prompts of about `--sizes` tokens (default 1000 and 2048: the median served prompt with 384 and
with 1536 snippet tokens on unseen Python code) from the tasks' own file text, and prefills each from an
empty KV cache on the default model (llama.cpp, every CPU core unless `--threads`), `--limit` prompts per
size. Printed per size: prefill seconds p50 with a bootstrap 95% interval and tokens per second; then the
rate the server's meter reports (`housecoder.inference.prefill_rate`: the median over its recent
prefills) and the snippet budget it would start with on this machine, and the rate at which a
prompt of the biggest size would prefill in this machine's median time for the smallest (the reasoning
behind `FAST_CPU_PREFILL_TOKENS_PER_S`).

    python bench/prefill_rate.py bench-results/tasks/unseen-py-lines.jsonl --limit 10
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

from housecoder.completion.loading import gguf_of
from housecoder.config import FAST_CPU_PREFILL_TOKENS_PER_S, InferenceConfig, InferenceTuning, Settings
from housecoder.evaluation.metrics import bootstrap_interval
from housecoder.evaluation.tasks import read_tasks
from housecoder.inference.base import GenerationRequest
from housecoder.inference.llamacpp_backend import LlamaCppBackend
from housecoder.inference.prefill_rate import PrefillRate, fast_prefill
from housecoder.models.store import store_for
from housecoder.prompt import build_fim_prompt, trim_prefix


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("tasks", type=Path, nargs="+")
    parser.add_argument("--sizes", default="1000,2048", help="prompt sizes in tokens, comma-separated")
    parser.add_argument("--limit", type=int, default=10, help="prompts per size")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    settings = Settings()
    gguf = gguf_of(store_for(settings).resolve(settings.models.code_model, "code", pull=False).path)
    assert gguf is not None, "the default model is not a GGUF"
    sizes = sorted(int(size) for size in args.sizes.split(","))
    # no saved states and room for the biggest prompt: each one is prefilled from its first token
    tuning = InferenceTuning(kv_cache_entries=0, context_tokens=max(sizes) + 256)
    config = InferenceConfig(threads=args.threads, tuning=tuning)
    backend = LlamaCppBackend(gguf, config)
    tasks = [task for path in args.tasks for task in read_tasks(path)]
    random.Random(args.seed).shuffle(tasks)
    texts = [task.prefix for task in tasks if backend.count_tokens(task.prefix) >= max(sizes)][: args.limit]
    if len(texts) < args.limit:
        raise SystemExit(f"only {len(texts)} tasks have {max(sizes)} tokens of prefix")
    backend.generate(GenerationRequest(build_fim_prompt(prefix=texts[0][-2000:], suffix="\n"), 0))  # warm-up
    backend.prefill_meter = PrefillRate()  # the warm-up does not count
    medians: dict[int, float] = {}
    sizes_seen: dict[int, float] = {}  # the median prompt's real token count
    print(f"{len(texts)} prompts per size, {config.threads or 'all'} threads, llama.cpp, {gguf.name}\n")
    print("| prompt tokens | prefill s p50 (95% CI) | tokens/s |")
    print("| ---: | --- | ---: |")
    for size in sizes:
        seconds: list[float] = []
        tokens: list[int] = []
        for text in texts:
            prompt = build_fim_prompt(prefix=trim_prefix(text, size, backend.count_tokens), suffix="\n")
            started = time.perf_counter()
            generation = backend.generate(GenerationRequest(prompt, 0))
            seconds.append(time.perf_counter() - started)
            tokens.append(generation.prompt_tokens)
        medians[size] = statistics.median(seconds)
        sizes_seen[size] = statistics.median(tokens)
        low, high = bootstrap_interval(seconds, statistic=statistics.median)
        rate = statistics.median(tokens) / medians[size]
        print(
            f"| {statistics.median(tokens):.0f} | {medians[size]:.2f} ({low:.2f}–{high:.2f}) | {rate:.0f} |"
        )
    measured = backend.prefill_rate()
    fast = fast_prefill(measured, FAST_CPU_PREFILL_TOKENS_PER_S, was=False)
    budget = settings.context.for_device("cpu", fast_prefill=fast).snippet_tokens
    print(f"\nthe server's meter: {measured:.0f} tokens/s -> {budget} snippet tokens")
    print(
        f"a {sizes_seen[max(sizes)]:.0f}-token prompt in this machine's median time for "
        f"{sizes_seen[min(sizes)]:.0f} tokens needs {sizes_seen[max(sizes)] / medians[min(sizes)]:.0f} "
        f"tokens/s (the server's threshold: {FAST_CPU_PREFILL_TOKENS_PER_S:.0f})"
    )
    backend.close()


if __name__ == "__main__":
    main()
