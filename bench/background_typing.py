"""Does background training slow the user? A typing replay with `housecoder train --background` running, paired
against the same replay without it, before and after (off, on, off).

    python bench/background_typing.py TYPE_REPO TRAIN_REPO --lines 12 --out OUT

TYPE_REPO is typed in (`housecoder bench latency --runtimes llama.cpp`: it marks every request in the activity
file, as the server does); TRAIN_REPO is trained on in the background, started before the second replay and
stopped after it. The replay starts once the run has reached `--phase` (the base model's held-out completions by
default; `training` waits for the LoRA steps). Prints keystroke latency at pauses (p50, p95) per replay, the ratio
of p95 with training to p95 without (the mean of the two "off" replays) with a bootstrap interval over typing
sessions, and the run's record: how often it yielded and the longest time from a request to its pause.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HOUSECODER = str(Path(sys.executable).parent / "housecoder")
PHASES = ("measuring the base model", "training", "evaluating")


def replay(repo: Path, lines: int, out: Path, pause_ms: int) -> dict[str, Any]:
    subprocess.run(
        [
            HOUSECODER,
            "bench",
            "latency",
            str(repo),
            "--runtimes",
            "llama.cpp",
            "--lines",
            str(lines),
            "--line-pause-ms",
            str(pause_ms),
            "--out",
            str(out),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    data: dict[str, Any] = json.loads(out.read_text())
    found: dict[str, Any] = data.get("llama.cpp", data)
    return found


def pause_latencies(result: dict[str, Any]) -> dict[int, list[float]]:
    found: dict[int, list[float]] = {}
    for row in result["requests"]:
        if row["pause"] and row["completed"] and row["seconds"] is not None:
            found.setdefault(row["session"], []).append(row["seconds"])
    return found


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def ratio_interval(
    on: dict[int, list[float]], off: list[dict[int, list[float]]], draws: int = 2000
) -> tuple[float, float, float]:
    sessions = sorted(set(on).intersection(*off))
    rng = random.Random(0)

    def ratio(chosen: list[int]) -> float:
        with_training = p95([v for s in chosen for v in on[s]])
        without = sum(p95([v for s in chosen for v in other[s]]) for other in off) / len(off)
        return with_training / without

    point = ratio(sessions)
    samples = sorted(ratio([rng.choice(sessions) for _ in sessions]) for _ in range(draws))
    return point, samples[int(0.025 * draws)], samples[int(0.975 * draws) - 1]


def record_of(settings_root: Path) -> dict[str, Any] | None:
    found = sorted(settings_root.glob("*/background.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    return json.loads(found[0].read_text()) if found else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("type_repo", type=Path)
    parser.add_argument("train_repo", type=Path)
    parser.add_argument("--lines", type=int, default=12)
    parser.add_argument(
        "--line-pause-ms", type=int, default=0, help="the user pauses this long before each line"
    )
    parser.add_argument("--phase", choices=PHASES, default=PHASES[0])
    parser.add_argument("--adapters", type=Path, default=Path.home() / ".cache/housecoder/adapters")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--config", type=Path, help="a housecoder.toml for the background run (train --config)"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    results: dict[str, dict[str, Any]] = {
        "off-before": replay(args.type_repo, args.lines, args.out / "off-before.json", args.line_pause_ms)
    }
    log = (args.out / "train.log").open("w")
    extra = ["--config", str(args.config)] if args.config else []
    trainer = subprocess.Popen(
        [HOUSECODER, "train", "--background", *extra, str(args.train_repo)], stdout=log, stderr=log
    )
    started = time.monotonic()
    try:
        while True:
            record = record_of(args.adapters)
            phase = record.get("phase") if record and record.get("pid") == trainer.pid else None
            if phase in PHASES and PHASES.index(phase) >= PHASES.index(args.phase):
                break
            if trainer.poll() is not None:
                sys.exit(
                    f"the background run ended first (exit {trainer.returncode}); see {args.out / 'train.log'}"
                )
            time.sleep(2)
        reached = time.monotonic() - started
        results["on"] = replay(args.type_repo, args.lines, args.out / "on.json", args.line_pause_ms)
        record = record_of(args.adapters) or {}
    finally:
        os.kill(trainer.pid, signal.SIGTERM)
        trainer.wait()
    results["off-after"] = replay(args.type_repo, args.lines, args.out / "off-after.json", args.line_pause_ms)

    for name, result in results.items():
        summary = result["summary"]
        print(
            f"{name:>10}: p50 {summary['p50_s']:.3f} s, p95 {summary['p95_s']:.3f} s, {summary['pauses_answered']} pauses"
        )
    point, low, high = ratio_interval(
        pause_latencies(results["on"]),
        [pause_latencies(results["off-before"]), pause_latencies(results["off-after"])],
    )
    print(f"p95 with background training / without: {point:.2f} (95% CI {low:.2f} to {high:.2f})")
    print(
        f"background run: reached '{args.phase}' after {reached:.0f} s; during the replay it was '{record.get('phase')}', "
        f"yielded {record.get('yields')} times, longest request -> pause {record.get('max_yield_s')} s"
    )
    summary = {
        "replays": {name: result["summary"] for name, result in results.items()},
        "p95_ratio": [point, low, high],
        "background": record,
        "reached_s": reached,
    }
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
