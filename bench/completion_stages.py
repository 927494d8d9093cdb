"""Per-stage timings of completions with the real default model: trigger, context, prompt, model, post-processing.

Indexes a repository into a temporary directory, then completes a set of
cursors (by default the `shop` fixture's cross-file case and cursors in this
repository's own code) with and without repository context, and prints one
row per completion plus medians. Cached answers are excluded (each cursor runs
once per setting).

    python bench/completion_stages.py [--repo DIR --cursor PATH:LINE:COL ...]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from housecoder.completion import CompletionEngine, CompletionInput
from housecoder.completion.loading import load_backend
from housecoder.config import load_settings
from housecoder.indexer.indexer import Indexer
from housecoder.indexer.service import load_embedder, open_for_indexing, open_retriever
from housecoder.models.store import store_for
from housecoder.syntax.languages import language_for

ROOT = Path(__file__).resolve().parents[1]
DEFAULTS = [
    (ROOT / "tests" / "fixtures" / "shop", "shop/checkout.py:9:12"),
    (ROOT, "housecoder/completion/engine.py:175:34"),
    (ROOT, "indexer/retrieval.py:48:18"),
    (ROOT, "server/session.py:145:32"),
]
STAGES = ("trigger", "context", "prompt", "model", "postprocess", "total")


def _cursor(root: Path, spec: str) -> tuple[str, str, int, str]:
    """The file with the rest of the cursor line removed (as if being typed), the offset, and that rest."""
    path, line, col = spec.rsplit(":", 2)
    lines = (root / path).read_text().split("\n")
    index, column = int(line) - 1, int(col) - 1
    expected = lines[index][column:]
    lines[index] = lines[index][:column]
    offset = sum(len(item) + 1 for item in lines[:index]) + column
    return path, "\n".join(lines), offset, expected


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=None)
    parser.add_argument("--cursor", action="append", default=[])
    args = parser.parse_args()
    cases = [(args.repo.resolve(), cursor) for cursor in args.cursor] if args.repo else DEFAULTS
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        backend = None
        rows: list[tuple[str, str, dict[str, float], int, int, str, int]] = []
        engines: dict[tuple[Path, bool], CompletionEngine] = {}
        for root, spec in cases:
            settings = load_settings(root, {"index": {"location": f"{scratch}/{root.name}"}})
            if backend is None:
                backend = load_backend(settings)
                print(f"model loaded in {time.perf_counter() - started:.1f} s")
            if (root, True) not in engines:
                embedder = load_embedder(settings, store_for(settings))
                store = open_for_indexing(
                    root, settings, f"{scratch}/{root.name}", embedder.dimension, full=True
                )
                summary = Indexer(root, settings.index, store, embedder).run()
                print(f"indexed {root.name}: {summary.chunks_total} chunks in {summary.seconds:.1f} s")
                engines[(root, True)] = CompletionEngine(
                    backend, settings, repo_name=root.name, retriever=open_retriever(root, settings)
                )
                engines[(root, False)] = CompletionEngine(backend, settings, repo_name=root.name)
            path, text, offset, expected = _cursor(root, spec)
            for with_context in (False, True):
                out = engines[(root, with_context)].complete(
                    CompletionInput(path, text, offset, language_for(path))
                )
                mark = (
                    "n/a"
                    if not expected.strip()
                    else ("exact" if out.text.strip() == expected.strip() else "differs")
                )
                rows.append(
                    (
                        spec,
                        "context" if with_context else "in-file",
                        out.timings,
                        out.prompt_tokens,
                        out.new_tokens,
                        f"{out.text[:60]}` ({mark})",
                        len(out.snippets),
                    )
                )
    print()
    print(
        f"| cursor | prompt | snippets | prompt tokens | new tokens | {' | '.join(f'{s} ms' for s in STAGES)} | completion |"
    )
    print("|" + " --- |" * (7 + len(STAGES)))
    for spec, kind, timings, prompt_tokens, new_tokens, text, snippets in rows:
        stages = " | ".join(f"{timings.get(stage, 0.0) * 1000:.1f}" for stage in STAGES)
        print(f"| {spec} | {kind} | {snippets} | {prompt_tokens} | {new_tokens} | {stages} | `{text} |")
    for kind in ("in-file", "context"):
        medians = {
            stage: statistics.median(row[2].get(stage, 0.0) for row in rows if row[1] == kind) * 1000
            for stage in STAGES
        }
        print(f"median {kind}: " + ", ".join(f"{stage} {ms:.1f} ms" for stage, ms in medians.items()))


if __name__ == "__main__":
    main()
