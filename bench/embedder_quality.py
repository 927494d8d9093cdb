"""Does int8 quantization (and 128-token truncation) of the embedder keep retrieval quality?

Task: for functions of the standard library that have a docstring, the query
is the docstring's first line and the document is the function's code with
the docstring removed; every document is a candidate for every query. Prints
MRR and recall@1/@10 and the embedding speed for each variant.

    python bench/embedder_quality.py [--limit 1000]
"""

from __future__ import annotations

import argparse
import ast
import random
import sysconfig
import time
from pathlib import Path

import numpy as np

from housecoder.models.embedder import OnnxEmbedder
from housecoder.models.store import ModelStore


def _pairs(root: Path, limit: int, seed: int) -> tuple[list[str], list[str]]:
    queries, documents = [], []
    files = sorted(p for p in root.rglob("*.py") if "test" not in p.parts and "site-packages" not in p.parts)
    for path in files:
        try:
            source = path.read_text()
            tree = ast.parse(source)
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and ast.get_docstring(node):
                doc = ast.get_docstring(node) or ""
                first = doc.strip().splitlines()[0]
                if len(first.split()) < 4:
                    continue
                body = node.body[1:]
                if not body:
                    continue
                code = ast.get_source_segment(source, node) or ""
                header = code.splitlines()[0]
                rest = "\n".join(ast.get_source_segment(source, stmt) or "" for stmt in body)
                queries.append(first)
                documents.append(f"{path.relative_to(root)}\n{header}\n{rest}")
    order = list(range(len(queries)))
    random.Random(seed).shuffle(order)
    order = order[:limit]
    return [queries[i] for i in order], [documents[i] for i in order]


def _evaluate(
    embedder: OnnxEmbedder, queries: list[str], documents: list[str]
) -> tuple[float, float, float, float]:
    started = time.perf_counter()
    docs = embedder.embed(documents)
    rate = len(documents) / (time.perf_counter() - started)
    scores = embedder.embed(queries) @ docs.T
    ranks = (scores > scores[np.arange(len(queries)), np.arange(len(queries))][:, None]).sum(axis=1) + 1
    return float((1 / ranks).mean()), float((ranks == 1).mean()), float((ranks <= 10).mean()), rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", type=Path, default=Path.home() / ".cache" / "housecoder" / "models")
    args = parser.parse_args()
    queries, documents = _pairs(Path(sysconfig.get_paths()["stdlib"]), args.limit, args.seed)
    path = ModelStore(args.models).pull("all-minilm-l6-v2").path
    print(f"{len(queries)} docstring -> function pairs from the standard library")
    for quantized, tokens in ((False, 256), (False, 128), (True, 256), (True, 128)):
        embedder = OnnxEmbedder(path, max_length=tokens, quantized=quantized)
        mrr, r1, r10, rate = _evaluate(embedder, queries, documents)
        label = f"{'int8' if quantized else 'fp32'} @{tokens} tokens"
        print(f"{label:18} MRR {mrr:.3f}  recall@1 {r1:.3f}  recall@10 {r10:.3f}  {rate:6.1f} chunks/s")


if __name__ == "__main__":
    main()
