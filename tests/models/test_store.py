"""Model name resolution, the store layout and its metadata, and user-facing errors."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from gguf_fixture import write_qwen2_gguf

from housecoder.completion.loading import gguf_of
from housecoder.config import ModelsConfig, ModelsTuning
from housecoder.models.adapters import base_fingerprint
from housecoder.models.errors import ModelUnavailable, NotPulled
from housecoder.models.loading import load_code_model
from housecoder.models.store import ModelStore, has_weights, read_meta


def test_a_model_directory_is_used_in_place(tiny_qwen_dir: Path, store_root: Path) -> None:
    resolved = ModelStore(store_root).resolve(str(tiny_qwen_dir), "code")
    assert resolved.path == tiny_qwen_dir.resolve()
    assert resolved.source == "directory"
    assert not store_root.exists()


def test_a_gguf_file_is_served_as_it_is_and_converted_once_when_weights_are_needed(
    tiny_qwen_dir: Path, store_root: Path, tmp_path: Path
) -> None:
    gguf = write_qwen2_gguf(tiny_qwen_dir, tmp_path / "tiny.gguf")
    store = ModelStore(store_root, dtype="float32")
    with pytest.raises(NotPulled):
        store.resolve(str(gguf), "code", pull=False)
    first = store.resolve(str(gguf), "code")
    meta = read_meta(first.path)
    assert (
        first.source == "gguf" and meta is not None and meta["kind"] == "code" and len(meta["sha256"]) == 64
    )
    assert gguf_of(first.path) == gguf and not has_weights(first.path)  # llama.cpp serves the file itself
    assert [(entry.name, entry.training_weights) for entry in store.list()] == [("tiny.gguf", False)]
    assert store.weights(first) == first.path and has_weights(first.path)
    assert read_meta(first.path) == meta | {"created": read_meta(first.path)["created"], "dtype": "float32"}
    mtime = (first.path / "model.safetensors").stat().st_mtime_ns
    again = store.resolve(str(gguf), "code", pull=False)
    assert again.path == first.path and store.weights(again) == first.path
    assert (first.path / "model.safetensors").stat().st_mtime_ns == mtime
    assert [(entry.name, entry.training_weights) for entry in store.list()] == [("tiny.gguf", True)]


def test_a_builtin_is_pulled_for_serving_and_its_training_weights_are_made_on_first_need(
    tiny_qwen_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_assemble import _fake_parts

    from housecoder.models.catalog import BUILTIN

    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    content = write_qwen2_gguf(tiny_qwen_dir, tmp_path / "tiny.gguf").read_bytes()
    spec, _ = _fake_parts(site, 3, "hc_fake_serving_", content=content)
    monkeypatch.setitem(BUILTIN, spec.name, spec)
    store = ModelStore(tmp_path / "store", dtype="float32")
    served = store.pull(spec.name)
    assert gguf_of(served.path) == store.gguf_path(spec) and not has_weights(served.path)
    assert base_fingerprint(served.path) == spec.sha256  # adapters match the GGUF, weights made or not
    steps: list[str] = []

    class Recorder:
        @contextlib.contextmanager
        def task(self, description: str, total: int | None = None, unit: str = "bytes") -> Iterator[Any]:
            steps.append(description)
            yield lambda _units: None

    assert store.pull(spec.name, Recorder(), training=True) == served
    assert has_weights(served.path) and any(step.startswith("dequantizing") for step in steps)
    assert base_fingerprint(served.path) == spec.sha256 and read_meta(served.path)["dtype"] == "float32"
    loaded = load_code_model(served.path, ModelsConfig(device="cpu", tuning=ModelsTuning(dtype="float32")))
    assert loaded.tokenizer("def f():")["input_ids"]
    steps.clear()
    assert store.pull(spec.name, Recorder()) == served and has_weights(served.path)  # kept, not re-made
    assert not any(step.startswith("dequantizing") for step in steps)
    assert not has_weights(store.pull(spec.name, force=True).path)  # weights of a re-assembled GGUF: re-made
    store.gguf_path(spec).unlink()
    with pytest.raises(ModelUnavailable, match=r"GGUF .* is gone; `housecoder models pull --force fake`"):
        store.weights(served)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("./no/such/dir", "does not exist"),
        ("missing.gguf", "does not exist"),
        ("not a model name!", "unknown model"),
    ],
)
def test_bad_names_give_one_line_errors(name: str, message: str, store_root: Path) -> None:
    with pytest.raises(ModelUnavailable, match=message) as caught:
        ModelStore(store_root).resolve(name, "code")
    assert "\n" not in str(caught.value)


def test_a_file_that_is_not_a_model(tmp_path: Path, store_root: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ModelUnavailable, match=r"not a model directory or a \.gguf file"):
        ModelStore(store_root).resolve(str(text), "code")
    with pytest.raises(ModelUnavailable, match=r"no config\.json"):
        ModelStore(store_root).resolve(str(tmp_path), "code")


def test_hub_id_offline_and_not_cached_is_a_clear_error(store_root: Path) -> None:
    with pytest.raises(ModelUnavailable, match="offline mode is on") as caught:
        ModelStore(store_root, offline=True).resolve("Qwen/Qwen2.5-Coder-1.5B", "code")
    assert "\n" not in str(caught.value)


def test_builtin_not_pulled_names_the_pull_command(store_root: Path) -> None:
    with pytest.raises(NotPulled, match=r"housecoder models pull qwen2\.5-coder-1\.5b-instruct"):
        ModelStore(store_root).resolve("qwen2.5-coder-1.5b-instruct", "code", pull=False)


def test_builtin_of_the_wrong_kind(store_root: Path) -> None:
    with pytest.raises(ModelUnavailable, match="is a embedder model, not a code model"):
        ModelStore(store_root).resolve("all-minilm-l6-v2", "code")


def test_metadata_of_another_format_reads_as_absent(tmp_path: Path) -> None:
    (tmp_path / "housecoder-model.json").write_text(json.dumps({"format": 999}))
    assert read_meta(tmp_path) is None
    (tmp_path / "housecoder-model.json").write_text("{not json")
    assert read_meta(tmp_path) is None
