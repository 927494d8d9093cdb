"""Model name resolution, the store layout and its metadata, and user-facing errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from gguf_fixture import write_qwen2_gguf

from housecoder.models.errors import ModelUnavailable, NotPulled
from housecoder.models.store import ModelStore, read_meta


def test_a_model_directory_is_used_in_place(tiny_qwen_dir: Path, store_root: Path) -> None:
    resolved = ModelStore(store_root).resolve(str(tiny_qwen_dir), "code")
    assert resolved.path == tiny_qwen_dir.resolve()
    assert resolved.source == "directory"
    assert not store_root.exists()


def test_a_gguf_file_is_converted_once_and_listed(
    tiny_qwen_dir: Path, store_root: Path, tmp_path: Path
) -> None:
    gguf = write_qwen2_gguf(tiny_qwen_dir, tmp_path / "tiny.gguf")
    store = ModelStore(store_root, dtype="float32")
    with pytest.raises(NotPulled):
        store.resolve(str(gguf), "code", pull=False)
    first = store.resolve(str(gguf), "code")
    assert first.source == "gguf" and (first.path / "config.json").is_file()
    meta = read_meta(first.path)
    assert meta is not None and meta["kind"] == "code" and len(meta["sha256"]) == 64
    mtime = (first.path / "model.safetensors").stat().st_mtime_ns
    again = store.resolve(str(gguf), "code", pull=False)
    assert again.path == first.path
    assert (first.path / "model.safetensors").stat().st_mtime_ns == mtime
    assert [entry.name for entry in store.list()] == ["tiny.gguf"]


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
