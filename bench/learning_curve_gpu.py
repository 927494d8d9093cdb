"""The adapter's learning curve where a GPU is lent for minutes: prepare here, train and complete there, score here.

`bench/learning_curve.py` measures a curve with the served runtime (llama.cpp + the adapter's GGUF), which on
2 cores costs hours a point. This splits the same measurement so that the GPU machine needs nothing but torch,
transformers, peft and housecoder itself (no index, no LanceDB, no embedder):

    python bench/learning_curve_gpu.py prepare REPO --config C.toml --out DIR [--tasks T.jsonl] [--forgetting F.jsonl]
        # here, on the CPU: the training job's samples (its split, its serving prompts with retrieved snippets),
        # and the evaluation set with each task's snippets as the housecoder context gathers them here:
        # held-out middles (the job's own yardstick), the benchmark tasks that lie in held-out files, and
        # in-file forgetting tasks (HumanEval-FIM)
    python bench/learning_curve_gpu.py model --gguf MODEL.gguf
        # on the GPU machine, ahead of the run: the GGUF (the served weights) converted to bf16 safetensors
    python bench/learning_curve_gpu.py run DIR --gguf MODEL.gguf --out OUT [--variant NAME:KEY=VALUE,...]
        # on the GPU: trains each variant of [train.tuning] in its own process, keeping every 4th checkpoint,
        # while the base model completes the evaluation set; then each variant's last checkpoint, then its
        # checkpoints nearest --budgets, complete it too, through the real completion engine (the recorded
        # snippets stand in for the retriever), until --deadline-s
    python bench/learning_curve_gpu.py report OUT
        # here: tokens trained -> exact match and edit similarity, context + adapter against context alone,
        # paired 95% bootstrap intervals, per evaluation group and task kind; OUT/curve.json holds the table

Both runs of a pair see the same prompt (same snippets, same layout), so the difference is the adapter's.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import math
import os
import random
import re
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from housecoder.config import Settings, merge_sections

EVAL_FILE = "eval.jsonl"
SETTINGS_FILE = "settings.json"
RECORDS = "records"  # OUT/records-<model>.jsonl: few files, as the GPU machine sends back at most 8
TRAIN_FILE = "train.json"  # per variant: the kept checkpoints' tokens and times, and the step log


# -- prepare (CPU, where the repository and its index are) ------------------------------------------------


def write_prepared(repo: Path, settings: Settings, out: Path) -> Any:
    """The training job's samples of `repo` (its split, serving prompts and snippets) in `out`/run/, with the
    settings in `out`: what every variant trains on. Returns the job's `Prepared`."""
    from housecoder.models.adapters import SPLIT_FILE
    from housecoder.models.progress import SILENT
    from housecoder.training.job import TrainJob
    from housecoder.training.preparation import SAMPLES_FILE, write_samples

    run_dir = out / "run"
    prepared = TrainJob(repo, settings, SILENT, say=lambda line: print(line, flush=True)).prepare(
        run_dir=run_dir
    )
    run_dir.mkdir(parents=True, exist_ok=True)
    write_samples(run_dir / SAMPLES_FILE, prepared.train, prepared.held_out)
    (run_dir / SPLIT_FILE).write_text(json.dumps(dataclasses.asdict(prepared.split), indent=1))
    (out / SETTINGS_FILE).write_text(settings.model_dump_json(indent=1))
    return prepared


def prepare(args: argparse.Namespace) -> None:
    from housecoder.config import apply_config_file, load_settings
    from housecoder.evaluation.runner import Runner, RunSpec
    from housecoder.evaluation.tasks import Task, limit, read_tasks
    from housecoder.training.samples import sample_settings

    repo, out = args.repo.resolve(), args.out
    settings = apply_config_file(load_settings(repo), args.config)
    settings = Settings.model_validate(
        merge_sections(
            settings.model_dump(),
            {
                "train": {"tuning": {"eval_runtime": "transformers", "generate_samples": args.middles}},
                "models": {"device": "cpu"},
            },
        )
    )
    prepared = write_prepared(repo, settings, out)
    held = set(prepared.split.held_out)
    runners = {
        "samples": Runner(
            prepared.backend, sample_settings(settings), open_index=lambda _root: prepared.retriever
        ),
        "served": Runner(prepared.backend, settings, open_index=lambda _root: prepared.retriever),
    }

    def entry(group: str, which: str, context: str, task: Task) -> dict[str, Any]:
        snippets: list[dict[str, object]] = []
        if context == "housecoder":
            engine, request = runners[which].prepare(RunSpec(context), task)
            snippets = [snippet.as_dict() for snippet in engine.build_prompt(request)[1]]
        return {
            "group": group,
            "settings": which,
            "context": context,
            "task": task.as_dict(),
            "snippets": snippets,
        }

    entries = [
        entry("middles", "samples", "housecoder", sample.as_task(str(repo)))
        for sample in prepared.held_out[: args.middles]
    ]
    if args.tasks:
        tasks = [task for task in read_tasks(args.tasks) if task.path in held]
        entries += [entry("tasks", "served", "housecoder", task) for task in tasks]
    if args.forgetting:
        forgetting = limit(read_tasks(args.forgetting), args.forgetting_limit, 0)
        entries += [entry("forgetting", "served", "infile", task) for task in forgetting]
    with (out / EVAL_FILE).open("w", encoding="utf-8") as handle:
        for item in entries:
            handle.write(json.dumps(item, ensure_ascii=False) + "\n")
    counts = {
        group: sum(e["group"] == group for e in entries) for group in ("middles", "tasks", "forgetting")
    }
    print(f"{len(prepared.train)} training samples; evaluation set {counts} -> {out}", flush=True)


# -- run (the GPU machine) ------------------------------------------------------------------------------


def _gpu_settings(prep: Path, device: str, steps: int | None) -> Settings:
    settings = Settings.model_validate_json((prep / SETTINGS_FILE).read_text())
    # the product's batch (1 x 8): no padding, as `housecoder train` runs on a CPU
    train: dict[str, Any] = {"tuning": {"keep_checkpoints": True}} | ({"steps": steps} if steps else {})
    # no time limit on a completion: a dozen processes share the GPU, and the comparison is of text, not speed
    sections = {
        "models": {"device": device, "tuning": {"dtype": "bfloat16"}},
        "train": train,
        "completion": {"max_ms": 0},
    }
    return Settings.model_validate(merge_sections(settings.model_dump(), sections))


def parse_variants(specs: Sequence[str]) -> dict[str, dict[str, Any]]:
    """`NAME:KEY=VALUE,KEY=VALUE` -> {NAME: [train.tuning] overrides}; a value is JSON where it parses, and may
    hold commas (`target_modules=["q_proj","v_proj"],rank=8`: a piece without `=` belongs to the one before)."""
    variants: dict[str, dict[str, Any]] = {}
    for spec in specs or ["default:"]:
        name, _, pairs = spec.partition(":")
        overrides: dict[str, Any] = {}
        joined: list[str] = []
        for piece in pairs.split(","):
            if joined and "=" not in piece:
                joined[-1] += "," + piece
            else:
                joined.append(piece)
        for pair in filter(None, joined):
            key, _, raw = pair.partition("=")
            try:
                overrides[key] = json.loads(raw)
            except json.JSONDecodeError:
                overrides[key] = raw
        if not name or "-" in name or name in variants:
            raise SystemExit(f"variant {spec!r}: give each a distinct name without '-'")
        variants[name] = overrides
    return variants


def _variant_settings(settings: Settings, overrides: dict[str, Any]) -> Settings:
    return Settings.model_validate(merge_sections(settings.model_dump(), {"train": {"tuning": overrides}}))


def _model(gguf: Path, work: Path) -> Path:
    from housecoder.models.convert import gguf_to_safetensors

    model_dir = work / "model"
    started = time.perf_counter()
    if not (model_dir / "config.json").is_file():
        gguf_to_safetensors(gguf, model_dir)
    print(f"model ready in {time.perf_counter() - started:.0f}s", flush=True)
    return model_dir


def _train(name: str, settings_json: str, model_dir: Path, prep: Path, run_dir: Path, target: Path) -> None:
    """One variant's run in its own process; its kept checkpoints and step log go to `target`."""
    from housecoder.models.adapters import SPLIT_FILE
    from housecoder.models.loading import load_code_model
    from housecoder.training import precision
    from housecoder.training.data import encode, pad_id
    from housecoder.training.preparation import SAMPLES_FILE, read_samples
    from housecoder.training.trainer import STEPS, TRAINED_FILE, Trainer, add_lora

    settings = Settings.model_validate_json(settings_json)
    config = settings.train
    run_dir.mkdir(parents=True, exist_ok=True)
    for file in (SAMPLES_FILE, SPLIT_FILE):
        shutil.copy2(prep / "run" / file, run_dir / file)
    train, held_out = read_samples(run_dir / SAMPLES_FILE)
    loaded = load_code_model(
        model_dir, precision.training_models(settings.models, config, settings.models.device)
    )
    tokenizer = loaded.tokenizer
    encoded = [encode(sample, tokenizer, config.tuning.end_of_text) for sample in train]
    held = [
        encode(sample, tokenizer, config.tuning.end_of_text)
        for sample in held_out[: config.tuning.eval_samples]
    ]
    print(
        f"[{name}] training on {len(encoded)} samples, {sum(len(e.input_ids) for e in encoded):,} tokens",
        flush=True,
    )
    trainer = Trainer(
        add_lora(loaded.model, config), config, run_dir, pad_id(tokenizer), device=loaded.device
    )
    started = time.perf_counter()
    result = trainer.train(
        encoded,
        held,
        on_step=lambda log: print(
            f"[{name}] step {log.step}/{log.total_steps} loss {log.loss:.4f}"
            + (f" held-out {log.eval_loss:.4f}" if log.eval_loss is not None else "")
            + f" tokens {log.tokens_seen:,} {log.elapsed_s:.0f}s",
            flush=True,
        ),
    )
    print(f"[{name}] trained {result.state.step} steps in {time.perf_counter() - started:.0f}s", flush=True)
    kept = [json.loads((folder / TRAINED_FILE).read_text()) for folder in sorted((run_dir / STEPS).iterdir())]
    history = json.loads((run_dir / "history.json").read_text())
    target.write_text(json.dumps({"kept": kept, "history": history}, indent=1))


def _complete(
    model_dir: str,
    adapter: str | None,
    label: str,
    entries: list[dict[str, Any]],
    settings_json: str,
    target: str,
) -> None:
    """One worker process: the model (with `adapter`) completes `entries`; records go to `target`."""
    import torch

    from housecoder.context.snippets import ContextSnippet
    from housecoder.evaluation.runner import Runner, RunSpec
    from housecoder.evaluation.tasks import task_from_dict
    from housecoder.inference.transformers_backend import TransformersBackend
    from housecoder.models.loading import load_code_model
    from housecoder.training.samples import sample_settings

    torch.set_num_threads(1)
    settings = Settings.model_validate_json(settings_json)
    loaded = load_code_model(Path(model_dir), settings.models)
    backend = TransformersBackend(loaded, settings.inference)
    backend.set_adapter(Path(adapter) if adapter else None)

    def no_index(_root: Path) -> None:  # the recorded snippets stand in for the retriever
        return None

    runners = {
        "samples": Runner(backend, sample_settings(settings), open_index=no_index),
        "served": Runner(backend, settings, open_index=no_index),
    }
    handle = os.open(
        target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644
    )  # one write() per line: shards share it
    try:
        for item in entries:
            task = task_from_dict(item["task"], "eval")
            spec = RunSpec(item["context"], adapter=adapter is not None)
            engine, request = runners[item["settings"]].prepare(spec, task)
            snippets = (
                [ContextSnippet(**s) for s in item["snippets"]] if item["context"] != "infile" else None
            )
            record = Runner.record(spec, task, engine.complete(request, snippets=snippets))
            row = {"model": label, "group": item["group"], **dataclasses.asdict(record)}
            os.write(handle, (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8"))
    finally:
        os.close(handle)


def _chosen_steps(kept: Sequence[dict[str, Any]], wanted: str, budgets: Sequence[float]) -> list[int]:
    """The last kept step first (it is completed first), then those nearest each budget of tokens."""
    if wanted:
        return [int(step) for step in wanted.split(",")]
    last = kept[-1]["step"]
    nearest = {min(kept, key=lambda k: abs(k["tokens"] - budget))["step"] for budget in budgets}
    return [last, *sorted(nearest - {last})]


def _join(processes: Sequence[Any], deadline: float) -> int:
    """Waits for `processes` until `deadline` (then ends them: their records so far stay); returns failures."""
    for process in processes:
        process.join(None if deadline == math.inf else max(0.0, deadline - time.monotonic()))
    late = [process for process in processes if process.is_alive()]
    for process in late:
        process.terminate()
    for process in late:
        process.join()
    if late:
        print(f"{len(late)} processes stopped at the deadline", flush=True)
    return sum(process.exitcode not in (0, None) for process in processes if process not in late)


def run(args: argparse.Namespace) -> None:
    import multiprocessing

    from housecoder.training.trainer import STEPS

    prep, out, work = args.prep, args.out, args.work
    deadline = time.monotonic() + args.deadline_s
    out.mkdir(parents=True, exist_ok=True)
    settings = _gpu_settings(prep, args.device, args.train_steps)
    variants = parse_variants(args.variant)
    model_dir = _model(args.gguf, work)
    entries = [json.loads(line) for line in (prep / EVAL_FILE).read_text().splitlines() if line.strip()]
    random.Random(0).shuffle(entries)  # a run cut short still has every group, paired across the models
    if args.limit:
        entries = entries[: args.limit]
    context = multiprocessing.get_context("spawn")
    started = time.perf_counter()

    def complete(models: Sequence[tuple[str, str | None]], workers: int) -> list[Any]:
        shards = max(1, workers // len(models))
        processes = []
        for label, adapter in models:
            for shard in range(shards):
                process = context.Process(
                    target=_complete,
                    args=(
                        str(model_dir),
                        adapter,
                        label,
                        entries[shard::shards],
                        settings.model_dump_json(),
                        str(out / f"{RECORDS}-{label}.jsonl"),  # shards append whole lines
                    ),
                )
                process.start()
                processes.append(process)
        return processes

    trainers = []
    for name, overrides in variants.items():
        target = work / f"train-{name}.json"
        if not target.is_file():
            process = context.Process(
                target=_train,
                args=(
                    name,
                    _variant_settings(settings, overrides).model_dump_json(),
                    model_dir,
                    prep,
                    work / f"run-{name}",
                    target,
                ),
            )
            process.start()
            trainers.append(process)
    # the base model completes while the variants train: its records do not wait for theirs
    base = complete([("base", None)], args.base_workers)
    failed = _join(trainers, deadline)
    trained = {
        name: json.loads((work / f"train-{name}.json").read_text())
        for name in variants
        if (work / f"train-{name}.json").is_file()
    }
    (out / TRAIN_FILE).write_text(json.dumps({"overrides": variants, "variants": trained}, indent=1))
    print(
        f"{len(trained)} of {len(variants)} variants trained ({failed} failed) in "
        f"{time.perf_counter() - started:.0f}s",
        flush=True,
    )
    budgets = [float(b) * 1e6 for b in args.budgets.split(",")]
    chosen = {name: _chosen_steps(t["kept"], args.steps, budgets) for name, t in trained.items()}
    waves = [
        [
            (f"{name}-{steps[0]}", str(work / f"run-{name}" / STEPS / f"{steps[0]:05d}"))
            for name, steps in chosen.items()
        ],
        [
            (f"{name}-{step}", str(work / f"run-{name}" / STEPS / f"{step:05d}"))
            for name, steps in chosen.items()
            for step in steps[1:]
        ],
    ]
    for wave in filter(None, waves):
        print(f"completing with {[label for label, _ in wave]}", flush=True)
        failed += _join(complete(wave, args.workers), deadline)
    failed += _join(base, deadline)
    print(f"done in {time.perf_counter() - started:.0f}s, {failed} processes failed", flush=True)
    if failed:
        sys.exit(1)


def model(args: argparse.Namespace) -> None:
    _model(args.gguf, args.work)


# -- report (here) --------------------------------------------------------------------------------------


def _adds_comment(row: dict[str, Any]) -> bool:
    """The prediction ends with a comment (`# pylint: ...`, `# type: ignore`) that the answer does not have."""
    last = row["prediction"].rstrip().rsplit("\n", 1)[-1]
    match = re.search(r"(^|\s)#[^\n]*$", last)
    return bool(match) and match.group(0).strip() not in row["groundtruth"]


def _trained(out: Path) -> dict[str, dict[int, dict[str, Any]]]:
    """{variant: {step: its kept checkpoint}}; a first run's train.json held one variant's, named `step`."""
    data = json.loads((out / TRAIN_FILE).read_text())
    variants = data.get("variants", {"step": data})
    return {name: {k["step"]: k for k in v["kept"]} for name, v in variants.items()}


def report(args: argparse.Namespace) -> None:
    from housecoder.evaluation.compare import Outcome, gain_figures

    def outcome(row: dict[str, Any]) -> Outcome:
        return Outcome(bool(row["exact"]), float(row["edit_similarity"]))

    rows: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}
    for path in sorted(args.out.glob(f"{RECORDS}-*.jsonl")):
        for line in path.read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                rows.setdefault(row["model"], {})[(row["group"], row["task_id"])] = row
    trained = _trained(args.out)
    base = rows.pop("base")
    table = []

    def pair(tuned: dict[tuple[str, str], dict[str, Any]], keys: list[tuple[str, str]]) -> dict[str, Any]:
        return gain_figures([(outcome(base[k]), outcome(tuned[k])) for k in keys])

    def habits(model: dict[tuple[str, str], dict[str, Any]], keys: list[tuple[str, str]]) -> dict[str, float]:
        n = max(1, len(keys))
        return {
            "comment_pct": round(100 * sum(_adds_comment(model[k]) for k in keys) / n, 1),
            "eos_pct": round(100 * sum(model[k]["stopped_by"] == "eos" for k in keys) / n, 1),
        }

    def label_key(label: str) -> tuple[str, int]:
        variant, _, step = label.rpartition("-")
        return variant, int(step)

    for label in sorted(rows, key=label_key):
        tuned, (variant, step) = rows[label], label_key(label)
        shared = sorted(set(base) & set(tuned))
        slices: dict[str, list[tuple[str, str]]] = {}
        for key in shared:
            group, kind = key[0], base[key]["kind"]
            slices.setdefault(group, []).append(key)
            slices.setdefault(f"{group}/{kind}", []).append(key)
        completed = [key for key in shared if key[0] != "forgetting"]
        row = (
            {"variant": variant}
            | trained[variant][step]
            | {name: pair(tuned, keys) for name, keys in sorted(slices.items())}
            | {"base_habits": habits(base, completed), "habits": habits(tuned, completed)}
        )
        table.append(row)
        print(
            f"{variant} step {step}: of {len(completed)} middles and tasks, ends with a comment the answer lacks "
            f"{row['base_habits']['comment_pct']}% -> {row['habits']['comment_pct']}%, stops by end-of-text "
            f"{row['base_habits']['eos_pct']}% -> {row['habits']['eos_pct']}%"
        )
        for name in sorted(slices):
            f = row[name]
            print(
                f"{variant:>8} step {step:>4} tokens {row['tokens']:>9,}  {name:<22} n={f['tasks']:<4} exact "
                f"{f['exact_base']:5.1f} -> {f['exact_tuned']:5.1f}  diff {f['exact_diff'][0]:+5.1f} "
                f"({f['exact_diff'][1]:+.1f} to {f['exact_diff'][2]:+.1f})  ES {f['es_diff'][0]:+5.1f} "
                f"({f['es_diff'][1]:+.1f} to {f['es_diff'][2]:+.1f})"
            )
    # variants at the same step, against each other (the first named as the baseline), on what both completed
    between = []
    labels = sorted(rows, key=label_key)
    for first, second in itertools.combinations(labels, 2):
        if label_key(first)[1] != label_key(second)[1]:
            continue
        a, b = rows[first], rows[second]
        groups: dict[str, list[tuple[str, str]]] = {}
        for key in sorted(set(a) & set(b)):
            groups.setdefault(key[0], []).append(key)
        figures = {
            group: gain_figures([(outcome(a[k]), outcome(b[k])) for k in keys])
            for group, keys in groups.items()
        }
        between.append({"baseline": first, "tuned": second} | figures)
        for group, f in figures.items():
            print(
                f"{first} -> {second}  {group:<12} n={f['tasks']:<4} exact {f['exact_base']:5.1f} -> "
                f"{f['exact_tuned']:5.1f}  diff {f['exact_diff'][0]:+5.1f} ({f['exact_diff'][1]:+.1f} to "
                f"{f['exact_diff'][2]:+.1f})  ES {f['es_diff'][0]:+5.1f} ({f['es_diff'][1]:+.1f} to {f['es_diff'][2]:+.1f})"
            )
    (args.out / "curve.json").write_text(json.dumps({"curve": table, "between": between}, indent=1) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("prepare")
    p.add_argument("repo", type=Path)
    p.add_argument("--config", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--tasks", type=Path, help="benchmark tasks of REPO; those in held-out files are kept")
    p.add_argument("--forgetting", type=Path, help="in-file tasks (HumanEval-FIM) for the forgetting check")
    p.add_argument("--forgetting-limit", type=int, default=80)
    p.add_argument("--middles", type=int, default=200, help="held-out middles to complete")
    r = commands.add_parser("run")
    r.add_argument("prep", type=Path)
    r.add_argument("--gguf", type=Path, required=True)
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--work", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "curve")
    r.add_argument("--steps", default="", help="checkpoints to complete with (default: nearest to --budgets)")
    r.add_argument("--budgets", default="0.05,0.15,0.4", help="million tokens trained")
    r.add_argument("--workers", type=int, default=12, help="completion processes for the checkpoints")
    r.add_argument("--base-workers", type=int, default=8, help="completion processes for the base model")
    r.add_argument(
        "--variant",
        action="append",
        help="NAME:KEY=VALUE,... a run with these [train.tuning] values (repeat; default: one, as configured)",
    )
    r.add_argument(
        "--deadline-s", type=float, default=math.inf, help="stop every process after this many seconds"
    )
    r.add_argument("--limit", type=int, help="complete only the first N evaluation tasks (a smoke run)")
    r.add_argument("--device", default="cuda")
    r.add_argument("--train-steps", type=int, help="optimiser steps (default: one pass over the samples)")
    m = commands.add_parser("model")
    m.add_argument("--gguf", type=Path, required=True)
    m.add_argument("--work", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "curve")
    s = commands.add_parser("report")
    s.add_argument("out", type=Path)
    args = parser.parse_args()
    {"prepare": prepare, "run": run, "model": model, "report": report}[args.command](args)


if __name__ == "__main__":
    main()
