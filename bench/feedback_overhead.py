"""What recording a suggestion costs: time on the server's event loop per suggestion shown (the part a
completion waits for), time per accept, and bytes of store per suggestion, on a real source file.

    .venv/bin/python bench/feedback_overhead.py [FILE] [--count N]

Prints JSON with medians and p95s. The writes themselves run on the recorder's own thread.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from housecoder.completion import CompletionInput, CompletionOutput
from housecoder.config import Settings
from housecoder.server.documents import Located
from housecoder.server.feedback import FeedbackRecorder
from housecoder.trigger import Trigger

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", nargs="?", type=Path, default=ROOT / "housecoder" / "config.py")
    parser.add_argument("--count", type=int, default=500)
    args = parser.parse_args()
    text = args.file.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as work:
        root = Path(work) / "repo"
        root.mkdir()
        settings = Settings.model_validate({"models": {"cache_dir": str(Path(work) / "cache" / "models")}})
        recorder = FeedbackRecorder(settings, lambda _uri: text, lambda _delay, _work: None)
        located = Located(root, "pkg/module.py", root / "pkg" / "module.py", "python")
        lines = [i for i, char in enumerate(text) if char == "\n"]
        shown, accepted = [], []
        for n in range(args.count):
            offset = lines[(n * 7919) % len(lines)]
            request = CompletionInput("pkg/module.py", text, offset, "python")
            output = CompletionOutput(f"value_{n} = compute(x, y)", Trigger(True, False, "end of a line"))
            started = time.perf_counter()
            suggestion_id = recorder.shown(
                f"file://{root}/pkg/module.py", located, request, output, 120.0, None
            )
            shown.append(time.perf_counter() - started)
            if n % 3 == 0 and suggestion_id is not None:
                started = time.perf_counter()
                recorder.accepted(suggestion_id)
                accepted.append(time.perf_counter() - started)
        recorder.flush()
        size = recorder.store(root).path.stat().st_size
        recorder.close()

    def ms(values: list[float], q: int) -> float:
        return round(1000 * statistics.quantiles(values, n=100)[q - 1], 3)

    print(
        json.dumps(
            {
                "file": str(args.file.relative_to(ROOT) if args.file.is_relative_to(ROOT) else args.file),
                "file_chars": len(text),
                "suggestions": args.count,
                "shown_ms_p50": ms(shown, 50),
                "shown_ms_p95": ms(shown, 95),
                "accept_ms_p50": ms(accepted, 50),
                "store_bytes_per_suggestion": round(size / args.count),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
