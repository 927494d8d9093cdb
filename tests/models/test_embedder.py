"""ONNX export of a sentence-embedding model and the length-bucketed onnxruntime embedder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from housecoder.models.embedder import OnnxEmbedder, export_embedder
from housecoder.models.errors import ModelUnavailable

WORDS = """
    def return load config path json open file parse args class self import error value list
    """.split()


def _tiny_sentence_model(root: Path, pooling: str = "mean", **bert: object) -> Path:
    """A random 2-layer BERT with a WordPiece tokenizer, laid out like a sentence-transformers folder."""
    import torch
    from tokenizers import Tokenizer, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordPiece
    from transformers import BertConfig, BertModel

    vocab = {
        token: i for i, token in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", *WORDS, "(", ")", ":", "."])
    }
    tokenizer = Tokenizer(WordPiece(vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])]
    )
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
        pad_token_id=0,
        **bert,
    )
    root.mkdir(parents=True)
    BertModel(config).save_pretrained(root)
    tokenizer.save(str(root / "tokenizer.json"))
    (root / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 16}))
    (root / "1_Pooling").mkdir()
    (root / "1_Pooling" / "config.json").write_text(
        json.dumps(
            {"pooling_mode_mean_tokens": pooling == "mean", "pooling_mode_cls_token": pooling == "cls"}
        )
    )
    return root


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("embed")
    return export_embedder(_tiny_sentence_model(root / "src"), root / "onnx")


def test_export_writes_a_self_contained_directory(exported: Path) -> None:
    meta = json.loads((exported / "housecoder-embedder.json").read_text())
    assert meta["pooling"] == "mean" and meta["max_length"] == 16 and meta["dimension"] == 32
    assert {p.name for p in exported.iterdir()} >= {
        "model.onnx",
        "tokenizer.json",
        "housecoder-embedder.json",
    }


def test_vectors_are_unit_length_and_in_input_order(exported: Path) -> None:
    embedder = OnnxEmbedder(exported, batch_size=2)
    texts = ["def load config path", "json", "class self import error value list open file", "parse args", ""]
    vectors = embedder.embed(texts)
    assert vectors.shape == (5, 32) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors[:4], axis=1), 1.0, atol=1e-5)
    one_by_one = np.stack([embedder.embed([text])[0] for text in texts])
    assert np.allclose(vectors, one_by_one, atol=1e-5)  # sorting and padding change nothing


def test_truncation_is_explicit(exported: Path) -> None:
    embedder = OnnxEmbedder(exported, max_length=8)
    long = " ".join(WORDS * 5)
    assert len(embedder.encode(long)) == 8
    assert embedder.embed([long]).shape == (1, 32)
    assert OnnxEmbedder(exported, max_length=10_000).max_length == 16  # never past the model's limit


def test_cls_pooling_is_exported_as_configured(tmp_path: Path) -> None:
    out = export_embedder(_tiny_sentence_model(tmp_path / "src", pooling="cls"), tmp_path / "onnx")
    assert json.loads((out / "housecoder-embedder.json").read_text())["pooling"] == "cls"


def _traced(src: Path, out: Path) -> Path:
    """The same directory exported by torch's tracer (how every architecture but BERT is exported)."""
    import shutil

    from housecoder.models import embedder

    shutil.copytree(src, out)
    embedder._trace(src, embedder._pooling_mode(src), out / "model.onnx")
    (out / "housecoder-embedder.json").write_text(
        json.dumps({"max_length": 16, "dimension": 32, "pad_token_id": 0})
    )
    return out


@pytest.mark.parametrize("pooling", ["mean", "cls"])
def test_the_bert_graph_written_without_torch_computes_what_torch_traces(
    tmp_path: Path, pooling: str
) -> None:
    from housecoder.models.bert_onnx import is_bert

    src = _tiny_sentence_model(tmp_path / "src", pooling=pooling)
    assert is_bert(src)
    written = OnnxEmbedder(export_embedder(src, tmp_path / "onnx"), batch_size=3)
    traced = OnnxEmbedder(_traced(src, tmp_path / "traced"), batch_size=3)
    texts = [
        "def load config path",
        "json",
        "class self import error value list open file",
        "",
        "parse args (",
    ]
    assert np.abs(written.embed(texts) - traced.embed(texts)).max() < 1e-5  # padded batches included


def test_other_architectures_are_traced_by_torch(tmp_path: Path) -> None:
    from housecoder.models.bert_onnx import is_bert

    src = _tiny_sentence_model(tmp_path / "src", position_embedding_type="relative_key")
    assert not is_bert(src)
    vectors = OnnxEmbedder(export_embedder(src, tmp_path / "onnx")).embed(["def load config", "parse args"])
    assert vectors.shape == (2, 32) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_not_an_embedder(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="not a sentence-embedding model directory"):
        export_embedder(tmp_path, tmp_path / "out")
    with pytest.raises(ModelUnavailable, match="not an exported embedder"):
        OnnxEmbedder(tmp_path)


def test_store_exports_a_local_embedder_directory_once(tmp_path: Path) -> None:
    from housecoder.models.store import ModelStore

    source = _tiny_sentence_model(tmp_path / "src")
    store = ModelStore(tmp_path / "store")
    first = store.resolve(str(source), "embedder")
    assert (first.path / "model.onnx").is_file()
    stamp = (first.path / "model.onnx").stat().st_mtime_ns
    assert store.resolve(str(source), "embedder", pull=False).path == first.path
    assert (first.path / "model.onnx").stat().st_mtime_ns == stamp
    assert store.resolve(str(first.path), "embedder").path == first.path  # an exported dir is used in place


@pytest.mark.slow
def test_real_minilm_export_ranks_related_code_first(tmp_path: Path) -> None:
    from housecoder.models.store import ModelStore

    resolved = ModelStore(tmp_path / "store").pull("all-minilm-l6-v2")
    embedder = OnnxEmbedder(resolved.path)
    query, *docs = embedder.embed(
        [
            "read the configuration file",
            "def load_config(path):\n    with open(path) as f:\n        return json.load(f)",
            "def add(a, b):\n    return a + b",
        ]
    )
    assert embedder.dimension == 384
    assert float(query @ docs[0]) > float(query @ docs[1])
    package = (
        resolved.path.parent / "source"
    )  # the packaged safetensors, exported by torch's tracer as before
    source = Path(json.loads((resolved.path / "housecoder-embedder.json").read_text())["source"])
    traced = _traced(source, package)
    (traced / "housecoder-embedder.json").write_text((resolved.path / "housecoder-embedder.json").read_text())
    texts = ["read the configuration file", "def add(a, b):\n    return a + b", "x = 1"]
    assert np.abs(OnnxEmbedder(traced).embed(texts) - embedder.embed(texts)).max() < 1e-5
