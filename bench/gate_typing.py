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
from pathlib import Path

from typing_ab import figures, ratio_interval, replay  # bench/: the replay under two settings


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
