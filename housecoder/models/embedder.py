"""Sentence embeddings on onnxruntime: a one-time ONNX export and a length-bucketed runtime.

The export puts the encoder's pooling (mean or CLS, from the sentence-transformers config) and L2
normalisation in the graph, so the ONNX graph maps token ids straight to unit vectors and the runtime
needs neither torch nor transformers. A BERT encoder (the default embedder) is written without torch
too (`housecoder.models.bert_onnx`); other architectures are traced by torch. The runtime sorts texts by token length before batching:
padding a batch to its longest member is what makes naive batching slow.
"""

from __future__ import annotations

import json
import shutil
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from housecoder.errors import first_line
from housecoder.models.atomic import atomic_path
from housecoder.models.bert_onnx import is_bert, write_bert_onnx
from housecoder.models.errors import ModelError, ModelUnavailable
from housecoder.models.progress import SILENT, Progress

ONNX_FILE = "model.onnx"
INT8_FILE = "model.int8.onnx"
META_FILE = "housecoder-embedder.json"
TOKENIZER_FILE = "tokenizer.json"


def _pooling_mode(src: Path) -> str:
    pooling = src / "1_Pooling" / "config.json"
    if pooling.is_file() and json.loads(pooling.read_text()).get("pooling_mode_cls_token"):
        return "cls"
    return "mean"


def _max_length(src: Path, config: dict[str, Any]) -> int:
    sbert = src / "sentence_bert_config.json"
    if sbert.is_file():
        value = json.loads(sbert.read_text()).get("max_seq_length")
        if isinstance(value, int) and value > 0:
            return value
    return int(config.get("max_position_embeddings", 512))


def export_embedder(src: Path, dest: Path, progress: Progress = SILENT) -> Path:
    """Export the sentence-embedding model directory `src` to an ONNX directory at `dest`: a BERT encoder
    (the default embedder among them) is written without torch (`housecoder.models.bert_onnx`), any other
    architecture is traced by torch (the `ml` extra)."""
    if not (src / "config.json").is_file() or not (src / TOKENIZER_FILE).is_file():
        raise ModelUnavailable(
            f"{src}: not a sentence-embedding model directory (needs config.json and tokenizer.json)"
        )
    config = json.loads((src / "config.json").read_text())
    pooling = _pooling_mode(src)
    with atomic_path(dest, directory=True) as staging, progress.task(f"exporting {src.name} to ONNX") as _:
        if is_bert(src):
            write_bert_onnx(src, staging / ONNX_FILE, pooling)
            reference = _torch_reference(src, pooling)
        else:
            reference = _trace(src, pooling, staging / ONNX_FILE)
        shutil.copy2(src / TOKENIZER_FILE, staging / TOKENIZER_FILE)
        meta = {
            "source": str(src),
            "pooling": pooling,
            "normalized": True,
            "max_length": _max_length(src, config),
            "dimension": int(config["hidden_size"]),
            "pad_token_id": int(config.get("pad_token_id") or 0),
        }
        (staging / META_FILE).write_text(json.dumps(meta, indent=2))
        _check_export(staging, reference)
    return dest


def _torch_reference(src: Path, pooling: str) -> Any:
    """The encoder in torch, to check an export against, where torch and transformers are installed."""
    try:
        import torch
        from transformers import AutoModel
    except ImportError:
        return None
    encoder = AutoModel.from_pretrained(str(src), dtype=torch.float32, attn_implementation="eager").eval()
    return _PooledEncoder(encoder, pooling)


def _trace(src: Path, pooling: str, out: Path) -> Any:
    """Trace the encoder at `src` with its pooling to ONNX at `out` (needs torch); returns the traced module."""
    wrapped = _torch_reference(src, pooling)
    if wrapped is None:
        from housecoder.errors import MissingDependency

        raise MissingDependency("torch", "ml")
    import torch

    sample = {
        "input_ids": torch.ones((2, 8), dtype=torch.long),
        "attention_mask": torch.ones((2, 8), dtype=torch.long),
        "token_type_ids": torch.zeros((2, 8), dtype=torch.long),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer chatter about shapes; the export is checked after
        # Eager attention traces to plain ONNX ops with the padding mask as a real input.
        torch.onnx.export(
            wrapped,
            (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"]),
            str(out),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["sentence_embedding"],
            dynamic_axes={name: {0: "batch", 1: "tokens"} for name in sample}
            | {"sentence_embedding": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
    return wrapped


def _check_export(exported: Path, reference: Any) -> None:
    """Refuse an export whose vectors on real text (padding included) are not finite unit vectors or, where
    torch is installed (`reference`), differ from torch's."""
    texts = ["def load_config(path):\n    return json.load(open(path))", "parse the command line arguments"]
    runtime = OnnxEmbedder(exported, threads=1)
    vectors = runtime.embed(texts)
    norms = np.linalg.norm(vectors, axis=1)
    if not np.all(np.isfinite(vectors)) or np.abs(norms - 1).max() > 1e-3:
        raise ModelError(
            "ONNX export of the embedder gives no usable vectors (not finite, or not unit length)"
        )
    if reference is None:
        return
    import torch

    ids, mask = runtime.pad([runtime.encode(text) for text in texts])
    with torch.no_grad():
        expected = reference(
            torch.from_numpy(ids), torch.from_numpy(mask), torch.zeros_like(torch.from_numpy(ids))
        )
    diff = float(np.abs(vectors - expected.numpy()).max())
    if diff > 1e-3:
        raise ModelError(f"ONNX export of the embedder disagrees with torch (max difference {diff:.2g})")


def _PooledEncoder(encoder: Any, pooling: str) -> Any:
    import torch

    class PooledEncoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            if pooling == "cls":
                pooled = hidden[:, 0]
            else:
                weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    return PooledEncoder().eval()


def quantized_model(path: Path) -> Path:
    """The int8 (dynamic quantization) version of the exported model at `path`, made once."""
    target = path / INT8_FILE
    if not target.is_file():
        from onnxruntime.quantization import QuantType, quantize_dynamic

        with atomic_path(target, directory=False) as staging, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            quantize_dynamic(str(path / ONNX_FILE), str(staging), weight_type=QuantType.QInt8)
    return target


class OnnxEmbedder:
    """Embeds texts with an exported ONNX model; vectors are L2-normalised float32."""

    def __init__(
        self,
        path: Path,
        *,
        threads: int | None = None,
        batch_size: int = 32,
        max_length: int | None = None,
        quantized: bool = False,
    ) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        meta_path = path / META_FILE
        if not meta_path.is_file() or not (path / ONNX_FILE).is_file():
            raise ModelUnavailable(f"{path}: not an exported embedder (missing {ONNX_FILE} or {META_FILE})")
        self.meta: dict[str, Any] = json.loads(meta_path.read_text())
        # Truncation is explicit: texts longer than max_length tokens are cut, never silently skipped.
        self.max_length = min(max_length or self.meta["max_length"], self.meta["max_length"])
        self.dimension = int(self.meta["dimension"])
        self.batch_size = batch_size
        self.tokenizer = Tokenizer.from_file(str(path / TOKENIZER_FILE))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_length)
        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        model = quantized_model(path) if quantized else path / ONNX_FILE
        try:
            self.session = onnxruntime.InferenceSession(
                str(model), options, providers=["CPUExecutionProvider"]
            )
        except Exception as err:  # onnxruntime's own types (InvalidProtobuf, Fail) for a broken file
            raise ModelError(
                f"{model}: cannot load the embedder ({first_line(err)}); `housecoder models pull --force` repairs it"
            ) from err

    def encode(self, text: str) -> list[int]:
        """Token ids of `text`, truncated to `max_length`."""
        ids: list[int] = self.tokenizer.encode(text).ids
        return ids

    def pad(self, encoded: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
        """Right-pad a batch to its longest member; returns (input_ids, attention_mask) as int64."""
        width = max((len(ids) for ids in encoded), default=1)
        ids = np.full((len(encoded), width), self.meta["pad_token_id"], dtype=np.int64)
        mask = np.zeros((len(encoded), width), dtype=np.int64)
        for row, tokens in enumerate(encoded):
            ids[row, : len(tokens)] = tokens
            mask[row, : len(tokens)] = 1
        return ids, mask

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for `texts` in input order, shape (len(texts), dimension)."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        encoded = [self.encode(text) for text in texts]
        order = sorted(range(len(texts)), key=lambda i: len(encoded[i]))
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            ids, mask = self.pad([encoded[i] for i in rows])
            (vectors,) = self.session.run(
                ["sentence_embedding"],
                {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
            )
            out[rows] = vectors
        return out
