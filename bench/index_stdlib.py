"""Benchmark the indexer on a large tree nobody here wrote: the interpreter's standard library.

Prints files/s, chunks/s, the embedding share, peak memory and index size for
a cold full index, a no-change re-run and a one-file change (the server's save
hook, `Indexer.update`). The tree is copied to a temporary directory first so
the one-file change does not touch the interpreter.

    python bench/index_stdlib.py [--src DIR] [--exclude PATTERN ...] [--fp32]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

from housecoder.config import load_settings
from housecoder.indexer.indexer import Indexer, Summary
from housecoder.indexer.service import load_embedder, open_for_indexing
from housecoder.models.store import ModelStore


def _dir_bytes(path: Path) -> int:
    return sum(entry.stat().st_size for entry in path.rglob("*") if entry.is_file())


def _report(label: str, summary: Summary) -> None:
    rate = summary.indexed / summary.seconds if summary.seconds else 0.0
    chunk_rate = summary.chunks_added / summary.embed_seconds if summary.embed_seconds else 0.0
    share = 100 * summary.embed_seconds / summary.seconds if summary.seconds else 0.0
    print(
        f"{label}: {summary.seconds:.2f} s; files parsed {summary.indexed} ({rate:.1f}/s), unchanged {summary.unchanged}, "
        f"chunks added {summary.chunks_added} ({chunk_rate:.1f}/s embedded), embedding {share:.0f}% of the time; "
        f"totals: {summary.chunks_total} chunks, {summary.symbols_total} symbols; "
        f"skipped {dict(summary.skipped)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--src", type=Path, default=Path(sysconfig.get_paths()["stdlib"]))
    parser.add_argument(
        "--exclude", nargs="*", default=["site-packages/", "test/", "tests/", "idle_test/", "__pycache__/"]
    )
    parser.add_argument("--fp32", action="store_true", help="embed with the fp32 model instead of int8")
    parser.add_argument("--models", type=Path, default=Path.home() / ".cache" / "housecoder" / "models")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="hc-bench-"))
    tree = work / "stdlib"
    shutil.copytree(
        args.src, tree, ignore=shutil.ignore_patterns("__pycache__", "site-packages"), symlinks=True
    )
    settings = load_settings(
        None, {"index": {"exclude": tuple(args.exclude), "tuning": {"quantized": not args.fp32}}}
    )
    embedder = load_embedder(settings, ModelStore(args.models))
    location = str(work / "index")
    py_files = sum(1 for _ in tree.rglob("*.py"))
    print(f"tree: {args.src} ({py_files} .py files before exclusions, {_dir_bytes(tree) / 1e6:.1f} MB)")

    store = open_for_indexing(tree, settings, location, embedder.dimension, full=True)
    cold = Indexer(tree, settings.index, store, embedder).run()
    _report("cold full index", cold)
    print(f"index size on disk: {_dir_bytes(Path(location)) / 1e6:.1f} MB")

    again = Indexer(
        tree,
        settings.index,
        open_for_indexing(tree, settings, location, embedder.dimension, full=False),
        embedder,
    )
    _report("no-change re-run", again.run())

    target = tree / "json" / "decoder.py"
    target.write_text(target.read_text() + "\n\ndef bench_added(x):\n    return x\n")
    started = time.perf_counter()
    one = again.update([target])
    _report(f"one saved file (update, {time.perf_counter() - started:.2f} s wall)", one)
    _report("one changed file (full re-run)", again.run())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(f"peak RSS: {peak:.2f} GB; python {sys.version.split()[0]}")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
