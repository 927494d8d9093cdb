"""Build the small Qwen tokenizer fixture used by tests (run once; the output is committed).

Usage: python scripts/make_tiny_tokenizer.py MODEL_DIR tests/fixtures/qwen-tokenizer-tiny [VOCAB]

Keeps the first VOCAB byte-level BPE tokens of the Qwen2.5 tokenizer (the 256
byte tokens and the highest-ranked merges), every merge that stays inside that
vocabulary, and all the special tokens (FIM, file separator, chat) renumbered
right after it. The result tokenizes any text (byte-level BPE never fails) with
the same pre-tokenizer and control tokens as the real model, in about 100 KB,
so tiny random models in tests have a small embedding table.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(source: Path, dest: Path, vocab_size: int = 4096) -> None:
    data = json.loads((source / "tokenizer.json").read_text())
    added_ids = {token["id"] for token in data["added_tokens"]}
    vocab = {piece: i for piece, i in data["model"]["vocab"].items() if i < vocab_size and i not in added_ids}
    merges = []
    for merge in data["model"]["merges"]:
        left, right = merge if isinstance(merge, list) else merge.split(" ", 1)
        if left in vocab and right in vocab and left + right in vocab:
            merges.append([left, right])
    next_id = vocab_size
    for token in data["added_tokens"]:
        token["id"] = next_id
        vocab[token["content"]] = next_id
        next_id += 1
    data["model"]["vocab"] = vocab
    data["model"]["merges"] = merges
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "tokenizer.json").write_text(json.dumps(data, ensure_ascii=False))
    config = json.loads((source / "tokenizer_config.json").read_text())
    for key in ("is_local", "local_files_only"):
        config.pop(key, None)
    (dest / "tokenizer_config.json").write_text(json.dumps(config, indent=2))
    print(f"{dest}: {len(vocab)} tokens ({len(data['added_tokens'])} special), {len(merges)} merges")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 4096)
