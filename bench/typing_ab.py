"""The same typing replay under two settings, A and B: keystroke latency at pauses, and B's p95 over A's.

    python bench/typing_ab.py REPO --a A.toml --b B.toml --out OUT [--runtime llama.cpp] [--lines 8]

Runs `housecoder bench latency REPO --runtimes RUNTIME` with `--config A.toml` and then `B.toml`, on the same
typing sessions (seed 0). Prints, per replay, keystroke latency at pauses (p50, p95), the share of pauses that
showed a suggestion, the share of those that were exactly the rest of the line, and how many generations
stopped early ("unlikely"); the ratio of p95 B to A with a bootstrap interval over typing sessions, resampled
in pairs; and the pauses exactly right in one replay and not in the other. Writes OUT/a.json, OUT/b.json
(every request) and OUT/summary.json.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

HOUSECODER = str(Path(sys.executable).parent / "housecoder")


def replay(
    repo: Path, lines: int, out: Path, config: Path | None, runtime: str = "llama.cpp"
) -> list[dict[str, Any]]:
    """Every request of one `bench latency` replay of `runtime`, with `config` on top of the defaults."""
    command = [HOUSECODER, "bench", "latency", str(repo), "--runtimes", runtime, "--lines", str(lines)]
    command += ["--out", str(out)] + (["--config", str(config)] if config else [])
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    data: dict[str, Any] = json.loads(out.read_text())
    requests: list[dict[str, Any]] = data[runtime]["requests"]
    return requests


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def _pauses(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in requests if r["pause"] and r["completed"] and r["seconds"] is not None]


def figures(requests: list[dict[str, Any]]) -> dict[str, Any]:
    pauses = _pauses(requests)
    shown = [r for r in pauses if r["suggestion"]]
    return {
        "pauses": len(pauses),
        "p50_s": percentile([r["seconds"] for r in pauses], 50),
        "p95_s": percentile([r["seconds"] for r in pauses], 95),
        "shown": len(shown) / len(pauses),
        "exact_of_shown": sum(r["exact"] for r in shown) / len(shown) if shown else 0.0,
        "exact": sum(r["exact"] for r in pauses),
        "stopped_early": sum(r["stopped_by"] == "unlikely" for r in pauses),
    }


def ratio_interval(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> tuple[float, float, float]:
    """p95 of B / p95 of A, and its 95% bootstrap interval over typing sessions (resampled in pairs)."""

    def by_session(requests: list[dict[str, Any]]) -> dict[int, list[float]]:
        found: dict[int, list[float]] = {}
        for r in _pauses(requests):
            found.setdefault(r["session"], []).append(r["seconds"])
        return found

    first, second = by_session(a), by_session(b)
    sessions = sorted(set(first) & set(second))
    rng = random.Random(0)

    def ratio(chosen: list[int]) -> float:
        return percentile([s for k in chosen for s in second[k]], 95) / percentile(
            [s for k in chosen for s in first[k]], 95
        )

    samples = sorted(ratio([rng.choice(sessions) for _ in sessions]) for _ in range(1000))
    return ratio(sessions), samples[25], samples[974]


def exact_won_lost(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> tuple[int, int]:
    """Pauses (the same session and keystroke in both) exactly right in B and not in A, and the reverse."""
    first = {(r["session"], r["typed"]): bool(r["exact"]) for r in _pauses(a)}
    second = {(r["session"], r["typed"]): bool(r["exact"]) for r in _pauses(b)}
    both = first.keys() & second.keys()
    return sum(second[k] and not first[k] for k in both), sum(first[k] and not second[k] for k in both)


def summarize(
    a: list[dict[str, Any]], b: list[dict[str, Any]], runtime: str, names: tuple[str, str]
) -> dict[str, Any]:
    """The two replays' figures side by side, with B's p95 over A's and the pauses each got right alone."""
    value, low, high = ratio_interval(a, b)
    return {
        "runtime": runtime,
        "a": {"config": names[0], **figures(a)},
        "b": {"config": names[1], **figures(b)},
        "p95_b_over_a": {"ratio": value, "ci": [low, high]},
        "exact_won_lost": exact_won_lost(a, b),
    }


def compare(
    repo: Path, lines: int, out: Path, configs: tuple[Path | None, Path | None], runtime: str = "llama.cpp"
) -> dict[str, Any]:
    """Replay A then B into `out`; write and return the summary."""
    out.mkdir(parents=True, exist_ok=True)
    a = replay(repo, lines, out / "a.json", configs[0], runtime)
    b = replay(repo, lines, out / "b.json", configs[1], runtime)
    names = (str(configs[0] or "the defaults"), str(configs[1] or "the defaults"))
    summary = summarize(a, b, runtime, names)
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("repo", type=Path)
    parser.add_argument("--a", type=Path, help="settings of replay A (default: the shipped defaults)")
    parser.add_argument("--b", type=Path, help="settings of replay B (default: the shipped defaults)")
    parser.add_argument(
        "--runtime", default="llama.cpp", help="a `bench latency` runtime (default: llama.cpp)"
    )
    parser.add_argument("--lines", type=int, default=8)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    print(json.dumps(compare(args.repo, args.lines, args.out, (args.a, args.b), args.runtime), indent=1))


if __name__ == "__main__":
    main()
