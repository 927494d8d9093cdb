"""Does the keep gate slow typing, and what does it hide? The same typing replay with the gate off and on.

    python bench/gate_typing.py REPO --lines 8 --out OUT [--on CONFIG]

Runs `housecoder bench latency REPO --runtimes llama.cpp` twice on the same typing sessions (seed 0): with
`completion.min_keep = 0` and then with the settings of `--on` (default: the shipped default threshold).
Prints, per replay, keystroke latency at pauses (p50, p95), the share of pauses that showed a suggestion, the
share of those that were exactly the rest of the line, how many exactly right ones the gate hid, and how many
generations stopped early ("unlikely"); and the ratio of p95 on to off with a bootstrap interval over typing
sessions.
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


def replay(repo: Path, lines: int, out: Path, config: Path | None) -> list[dict[str, Any]]:
    command = [HOUSECODER, "bench", "latency", str(repo), "--runtimes", "llama.cpp", "--lines", str(lines)]
    command += ["--out", str(out)] + (["--config", str(config)] if config else [])
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    data: dict[str, Any] = json.loads(out.read_text())
    requests: list[dict[str, Any]] = data.get("llama.cpp", data)["requests"]
    return requests


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def figures(requests: list[dict[str, Any]]) -> dict[str, Any]:
    pauses = [r for r in requests if r["pause"] and r["completed"] and r["seconds"] is not None]
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


def ratio_interval(off: list[dict[str, Any]], on: list[dict[str, Any]]) -> tuple[float, float, float]:
    """p95 on / p95 off, and its 95% bootstrap interval over typing sessions (resampled in pairs)."""

    def by_session(requests: list[dict[str, Any]]) -> dict[int, list[float]]:
        found: dict[int, list[float]] = {}
        for r in requests:
            if r["pause"] and r["completed"] and r["seconds"] is not None:
                found.setdefault(r["session"], []).append(r["seconds"])
        return found

    a, b = by_session(off), by_session(on)
    sessions = sorted(set(a) & set(b))
    rng = random.Random(0)

    def ratio(chosen: list[int]) -> float:
        return percentile([s for k in chosen for s in b[k]], 95) / percentile(
            [s for k in chosen for s in a[k]], 95
        )

    samples = sorted(ratio([rng.choice(sessions) for _ in sessions]) for _ in range(1000))
    return ratio(sessions), samples[25], samples[974]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("repo", type=Path)
    parser.add_argument("--lines", type=int, default=8)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--on", type=Path, help="settings with the gate on (default: the shipped defaults)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    off_config = args.out / "gate-off.toml"
    off_config.write_text("[completion]\nmin_keep = 0.0\n")
    off = replay(args.repo, args.lines, args.out / "off.json", off_config)
    on = replay(args.repo, args.lines, args.out / "on.json", args.on)
    summary = {"off": figures(off), "on": figures(on)}
    value, low, high = ratio_interval(off, on)
    summary["p95_on_over_off"] = {"ratio": value, "ci": [low, high]}
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
