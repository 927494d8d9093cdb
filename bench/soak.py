"""Soak: replayed typing through the real language server for a long time; its memory and threads sampled.

    python bench/soak.py REPO [--minutes 30] [--lines 6] [--interval-ms 100] [--sample-s 10] [--out FILE]

Starts `python -m housecoder.server` over stdio in REPO with the user's settings (the default model, the
repository's index if it has one), waits for the model, then types the lines `pick_sessions` picks (seed 0)
over and over: per keystroke a didChange and an inline-completion request that cancels the previous one, as
an editor does, `--interval-ms` apart, waiting for the answer at the end of each line. The server's resident
memory and thread count are read from /proc every `--sample-s` seconds. Printed: requests sent / answered /
cancelled / failed, and RSS and threads after the first pass (warm) against the end (growth), plus the exit
code after shutdown. Nothing else should run meanwhile (2 cores).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

from housecoder.benchmarks.sessions import pick_sessions

# The raw LSP peer is a test helper (tests/lsp_peer.py), not part of the package: this script runs from a
# checkout, beside the tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from lsp_peer import frame, start_stdio

SKIP = {"tests", "test", "testing", "docs", "examples", "build", ".git", ".venv", "node_modules"}


def _proc(pid: int) -> tuple[float, int]:
    """(resident MB, threads) of process `pid`."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["Threads"])


def _sampler(
    pid: int, every_s: float, samples: list[tuple[float, float, int]], stop: threading.Event
) -> None:
    started = time.monotonic()
    while not stop.wait(every_s):
        try:
            samples.append((time.monotonic() - started, *_proc(pid)))
        except (OSError, KeyError, ValueError):
            return


def _drain(peer: Any, answers: dict[str, str]) -> None:
    """Move every response the server sent so far into `answers` (id -> result / cancelled / error)."""
    peer.take_waiting()
    for message in peer.seen:
        if "id" in message:
            error = message.get("error")
            answers[str(message["id"])] = (
                "result" if error is None else ("cancelled" if error["code"] == -32800 else "error")
            )
    peer.seen.clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--lines", type=int, default=6)
    parser.add_argument("--interval-ms", type=int, default=100)
    parser.add_argument("--sample-s", type=float, default=10.0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    root = args.repo.resolve()
    files = [p for p in root.rglob("*.py") if not SKIP & set(p.relative_to(root).parts[:-1])]
    sessions = pick_sessions(root, files, args.lines, 0)

    process, peer = start_stdio(root, "--log-file", "/dev/null")
    peer.initialize(root, {})
    while peer.command("status", "housecoder.status")["result"].get("model_state") == "loading":
        time.sleep(1)
    samples: list[tuple[float, float, int]] = []
    stop = threading.Event()
    threading.Thread(target=_sampler, args=(process.pid, args.sample_s, samples, stop), daemon=True).start()

    answers: dict[str, str] = {}
    sent, passes, warm_at = 0, 0, None
    started = time.monotonic()
    while time.monotonic() - started < args.minutes * 60:
        for number, session in enumerate(sessions):
            uri = peer.open(root / session.path, session.buffer(0)[0])
            previous = None
            for typed in range(len(session.typed) + 1):
                text, offset = session.buffer(typed)
                line = text.count("\n", 0, offset)
                character = offset - (text.rfind("\n", 0, offset) + 1)
                peer.notify(
                    "textDocument/didChange",
                    {"textDocument": {"uri": uri, "version": typed + 2}, "contentChanges": [{"text": text}]},
                )
                msg_id = f"p{passes}-s{number}-k{typed}"
                peer.send(
                    frame(
                        {
                            "jsonrpc": "2.0",
                            "id": msg_id,
                            "method": "textDocument/inlineCompletion",
                            "params": {
                                "textDocument": {"uri": uri},
                                "position": {"line": line, "character": character},
                                "context": {"triggerKind": 2},
                            },
                        }
                    )
                )
                if previous is not None:
                    peer.notify("$/cancelRequest", {"id": previous})
                sent, previous = sent + 1, msg_id
                time.sleep(args.interval_ms / 1000)
                _drain(peer, answers)
            while previous not in answers and process.poll() is None:  # the user waits at the end of the line
                _drain(peer, answers)
                time.sleep(0.05)
            peer.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
        passes += 1
        if warm_at is None:
            warm_at = len(samples)
    deadline = time.monotonic() + 120
    while len(answers) < sent and time.monotonic() < deadline and process.poll() is None:
        _drain(peer, answers)
        time.sleep(0.1)
    stop.set()
    peer.request("bye", "shutdown")
    peer.notify("exit")
    code = process.wait(120)

    warm = samples[max(0, (warm_at or 1) - 1)] if samples else (0.0, 0.0, 0)
    end = samples[-1] if samples else warm
    counts = {
        kind: sum(1 for value in answers.values() if value == kind)
        for kind in ("result", "cancelled", "error")
    }
    report = {
        "minutes": round((time.monotonic() - started) / 60, 1),
        "passes": passes,
        "sent": sent,
        "answered": counts["result"],
        "cancelled": counts["cancelled"],
        "failed": counts["error"],
        "unanswered": sent - len(answers),
        "exit_code": code,
        "rss_mb_warm": round(warm[1], 1),
        "rss_mb_end": round(end[1], 1),
        "rss_mb_max": round(max(s[1] for s in samples), 1) if samples else None,
        "rss_growth_mb": round(end[1] - warm[1], 1),
        "threads_warm": warm[2],
        "threads_end": end[2],
        "threads_max": max(s[2] for s in samples) if samples else None,
        "samples": [{"t_s": round(t, 1), "rss_mb": round(r, 1), "threads": n} for t, r, n in samples],
    }
    print(json.dumps({key: value for key, value in report.items() if key != "samples"}, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
