"""Does speculative decoding speed up block bodies on llama.cpp, with output identical to plain greedy?

Takes the function-body tasks of a task file, builds each one's in-file prompt with the completion engine
(as served: budgets, layout), prefills it once on the default model, and then decodes the same body three
ways from that prefilled state, greedy, up to `--max-new` tokens or a stop token:

- `plain`: one token per forward pass (what `housecoder` does today);
- `draft`: the 0.5B model (same vocabulary) proposes `--draft-tokens` tokens greedily, the default model
  checks them in one forward pass and keeps the longest agreeing run plus its own next token;
- `lookup`: prompt lookup (no second model): the last `--ngram` tokens are looked up in the prompt and
  what followed them there is proposed, then checked the same way.

Checking guesses is exact for greedy decoding in exact arithmetic, so each method should reproduce `plain`'s
tokens; on llama.cpp a batch's logits differ slightly from one token's (other kernels), so a near tie can
flip. The script counts the bodies that differ and the tokens before the first difference. Printed: tokens/s of the decoding phase per method, the paired speed ratio with a
bootstrap 95% interval, mean tokens accepted per check, and the draft model's own prefill (which the
`draft` method adds before the first token).

    python bench/speculative.py bench-results/tasks/click.jsonl bench-results/tasks/jinja2.jsonl --limit 20
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from housecoder.config import Settings, merge_sections
from housecoder.evaluation.runner import Runner, RunSpec
from housecoder.evaluation.tasks import read_tasks
from housecoder.inference.llamacpp_backend import LlamaCppBackend
from housecoder.models.store import store_for

Proposer = Callable[[list[int], int], list[int]]  # (tokens so far, n) -> up to n guesses of what follows


class Model:
    """A llama.cpp model whose KV can be cut back to a position and fed a batch with logits at every row."""

    def __init__(self, backend: LlamaCppBackend) -> None:
        self.backend = backend
        self.llm = backend.llm
        self.vocab = self.llm.n_vocab()

    def prefill(self, ids: list[int]) -> float:
        started = time.perf_counter()
        self.llm.n_tokens = 0
        self.llm.eval(ids)
        return time.perf_counter() - started

    def cut(self, length: int) -> None:
        self.llm._ctx.kv_cache_seq_rm(-1, length, -1)
        self.llm.n_tokens = length

    def argmax_last(self) -> int:
        return int(self.backend.last_logits().argmax())

    def step(self, token: int) -> int:
        """Feed one token, return the greedy next one."""
        self.llm.eval([token])
        return self.argmax_last()

    def check(self, tokens: list[int]) -> list[int]:
        """Feed `tokens` in one pass; the greedy next token after each of them."""
        llm, lib = self.llm, self.backend._lib
        start = llm.n_tokens
        llm._batch.set_batch(batch=tokens, n_past=start, logits_all=True)
        llm._ctx.decode(llm._batch)
        llm.input_ids[start : start + len(tokens)] = tokens
        llm.n_tokens = start + len(tokens)
        rows = np.ctypeslib.as_array(lib.llama_get_logits(llm.ctx), shape=(len(tokens), self.vocab))
        return [int(row.argmax()) for row in rows]


def plain(main: Model, first: int, stops: set[int], budget: int) -> tuple[list[int], int]:
    out = [first]
    while out[-1] not in stops and len(out) < budget:
        out.append(main.step(out[-1]))
    return out, len(out) - 1


def speculate(
    main: Model, first: int, stops: set[int], budget: int, propose: Proposer, max_draft: int
) -> tuple[list[int], int]:
    """Greedy speculative decoding: `propose(tokens so far, n)` returns up to n guesses for what follows."""
    out, passes = [first], 0
    while out[-1] not in stops and len(out) < budget:
        guesses = propose(out, min(max_draft, budget - len(out) - 1))
        base = main.llm.n_tokens
        answers = main.check([out[-1], *guesses])
        passes += 1
        kept = 0
        while kept < len(guesses) and guesses[kept] == answers[kept] and guesses[kept] not in stops:
            kept += 1
        out += [*guesses[:kept], answers[kept]]
        main.cut(base + 1 + kept)  # the KV of the rejected guesses goes
    return out[:budget], passes


def draft_proposer(draft: Model, prompt_len: int) -> Proposer:
    def propose(out: list[int], n: int) -> list[int]:
        if n <= 0:
            return []
        # the draft's KV holds the prompt plus the tokens it has seen of `out`; bring it up to out[:-1]
        held = draft.llm.n_tokens - prompt_len
        seen = [int(t) for t in draft.llm.input_ids[prompt_len : draft.llm.n_tokens]]
        agree = 0
        while agree < min(held, len(out) - 1) and seen[agree] == out[agree]:
            agree += 1
        draft.cut(prompt_len + agree)
        if len(out) - 1 > agree:
            draft.llm.eval(out[agree:-1])
        guesses, token = [], out[-1]
        for _ in range(n):
            token = draft.step(token)
            guesses.append(token)
        # the draft's KV now holds `out` and every guess but the last; the next call cuts it back
        return guesses

    return propose


def lookup_proposer(prompt: list[int], ngram: int) -> Proposer:
    def propose(out: list[int], n: int) -> list[int]:
        tokens = prompt + out
        for size in range(ngram, 0, -1):
            key = tokens[-size:]
            for start in range(len(tokens) - size - 1, -1, -1):
                if tokens[start : start + size] == key:
                    return tokens[start + size : start + size + n]
        return []

    return propose


METHODS = ("plain", "draft", "lookup")


def decode(
    name: str,
    main: Model,
    draft: Model,
    ids: list[int],
    first: int,
    stops: set[int],
    args: argparse.Namespace,
) -> tuple[list[int], int]:
    """One body decoded by method `name` from the prefilled prompt `ids`; its tokens and forward passes."""
    if name == "plain":
        return plain(main, first, stops, args.max_new)
    propose = draft_proposer(draft, len(ids)) if name == "draft" else lookup_proposer(ids, args.ngram)
    limit = args.draft_tokens if name == "draft" else args.lookup_tokens
    return speculate(main, first, stops, args.max_new, propose, limit)


def _common(a: list[int], b: list[int]) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def bootstrap_ratio(a: list[float], b: list[float], seed: int = 0) -> tuple[float, float, float]:
    """sum(b)/sum(a) (speed of b over a, from seconds a/b) with a paired bootstrap 95% interval."""
    rng = random.Random(seed)
    index = range(len(a))
    point = sum(a) / sum(b)
    samples = []
    for _ in range(2000):
        pick = [rng.choice(index) for _ in index]
        samples.append(sum(a[i] for i in pick) / sum(b[i] for i in pick))
    samples.sort()
    return point, samples[50], samples[1949]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tasks", type=Path, nargs="+")
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-new", type=int, default=96)
    parser.add_argument("--draft-tokens", type=int, default=4)
    parser.add_argument("--lookup-tokens", type=int, default=8)
    parser.add_argument("--ngram", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="JSON with one row per task")
    args = parser.parse_args()

    settings = Settings()
    if args.threads:
        settings = Settings.model_validate(
            merge_sections(settings.model_dump(), {"inference": {"threads": args.threads}})
        )
    store = store_for(settings)
    big = LlamaCppBackend(store.root / "qwen2.5-coder-1.5b-instruct.gguf", settings.inference)
    small = LlamaCppBackend(store.root / "qwen2.5-coder-0.5b-instruct.gguf", settings.inference)
    main_model, draft = Model(big), Model(small)
    stops = set(big.stop_ids)

    tasks = [task for path in args.tasks for task in read_tasks(path) if not task.is_single_line]
    random.Random(args.seed).shuffle(tasks)
    tasks = tasks[: args.limit]
    runner = Runner(big, settings)
    rows = []
    for task in tasks:
        engine, request = runner.prepare(RunSpec("infile"), task)
        prompt, _ = engine.build_prompt(request)
        ids = big.tokenize(prompt)
        prefill_s = main_model.prefill(ids)
        first = main_model.argmax_last()
        draft_prefill_s = draft.prefill(ids)
        row = {"task": task.task_id, "prompt_tokens": len(ids), "prefill_s": prefill_s}
        row["draft_prefill_s"] = draft_prefill_s
        reference: list[int] = []
        for name in METHODS:
            main_model.cut(len(ids))
            draft.cut(len(ids))
            started = time.perf_counter()
            tokens, passes = decode(name, main_model, draft, ids, first, stops, args)
            row[name] = {
                "seconds": time.perf_counter() - started,
                "tokens": len(tokens),
                "passes": passes,
                "same": tokens == reference if reference else True,
                "agree": _common(tokens, reference) if reference else len(tokens),
            }
            if name == "plain":
                reference = tokens
        rows.append(row)
        print(
            f"{task.task_id}: {len(ids)} prompt, {len(reference)} new; "
            + ", ".join(
                f"{m} {row[m]['seconds']:.2f} s{'' if row[m]['same'] else ' DIFFERENT'}" for m in METHODS
            )
            + f"; draft prefill {draft_prefill_s:.2f} s",
            flush=True,
        )
    print(
        f"\n{len(rows)} bodies, {sum(r['plain']['tokens'] for r in rows)} tokens, greedy, threads {args.threads or 'all'}"
    )
    plain_s = [r["plain"]["seconds"] for r in rows]
    tokens = sum(r["plain"]["tokens"] for r in rows)
    print(
        "| method | tokens/s | speed vs plain (95% CI) | tokens per check | identical | tokens before a difference |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    print(f"| plain | {tokens / sum(plain_s):.1f} | 1.00 | 1.0 | {len(rows)}/{len(rows)} | {tokens} |")
    for name in ("draft", "lookup"):
        seconds = [r[name]["seconds"] for r in rows]
        point, low, high = bootstrap_ratio(plain_s, seconds)
        per_check = sum(r[name]["tokens"] - 1 for r in rows) / max(1, sum(r[name]["passes"] for r in rows))
        same = sum(r[name]["same"] for r in rows)
        print(
            f"| {name} | {tokens / sum(seconds):.1f} | {point:.2f} ({low:.2f} to {high:.2f}) | {per_check:.2f} | "
            f"{same}/{len(rows)} | {sum(r[name]['agree'] for r in rows)} |"
        )
    draft_extra = sum(r["draft_prefill_s"] for r in rows) / len(rows)
    print(f"\ndraft model prefill per prompt (added before the first token): {draft_extra:.2f} s mean")
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
