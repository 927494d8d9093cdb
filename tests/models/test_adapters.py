"""The adapter registry: base fingerprints, metadata, the best adapter to serve, and compatibility checks."""

from __future__ import annotations

import json
import logging
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from gguf_fixture import write_qwen2_gguf
from registry_fixture import register

from housecoder.config import Settings
from housecoder.indexer.service import index_location, indexes_root
from housecoder.models.adapters import (
    ADAPTER_META,
    adapters_root,
    base_fingerprint,
    best_adapter,
    check_compatible,
    list_adapters,
    read_adapter,
    repo_adapters_dir,
    write_adapter_meta,
)
from housecoder.models.errors import AdapterMismatch, ModelError
from housecoder.models.store import ModelStore, read_meta

FP = "a" * 64
OTHER = "b" * 64


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.model_validate(
        {
            "models": {"cache_dir": str(tmp_path / "cache" / "models")},
            "train": {"output": str(tmp_path / "adapters")},
        }
    )


def test_a_store_built_model_is_fingerprinted_by_its_verified_hash(
    tiny_qwen_dir: Path, tmp_path: Path
) -> None:
    gguf = write_qwen2_gguf(tiny_qwen_dir, tmp_path / "tiny.gguf")
    resolved = ModelStore(tmp_path / "store", dtype="float32").resolve(str(gguf), "code")
    meta = read_meta(resolved.path)
    assert meta is not None and base_fingerprint(resolved.path) == meta["sha256"]


def test_a_plain_directory_is_fingerprinted_by_config_and_weight_sizes(tmp_path: Path) -> None:
    def model(name: str, config: str, weights: int) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        (folder / "config.json").write_text(config)
        (folder / "model.safetensors").write_bytes(b"\1" * weights)
        (folder / "tokenizer.json").write_text("{}")
        return folder

    first = base_fingerprint(model("a", '{"hidden_size": 32}', 100))
    assert len(first) == 64
    assert base_fingerprint(model("b", '{"hidden_size": 32}', 100)) == first  # where it lies does not matter
    assert base_fingerprint(model("c", '{"hidden_size": 64}', 100)) != first  # another config
    assert base_fingerprint(model("d", '{"hidden_size": 32}', 101)) != first  # other weights
    same = model("e", '{"hidden_size": 32}', 100)
    (same / "tokenizer.json").write_text('{"changed": true}')
    assert base_fingerprint(same) == first  # only config and weights count


def test_the_registry_sits_beside_the_indexes_under_the_same_repository_key(tmp_path: Path) -> None:
    repo = tmp_path / "shop"
    repo.mkdir()
    default = Settings.model_validate({"models": {"cache_dir": str(tmp_path / "cache" / "models")}})
    assert adapters_root(default) == tmp_path / "cache" / "adapters"
    assert (
        repo_adapters_dir(default, repo).name
        == Path(index_location(repo, default, indexes_root(default))).name
    )
    assert repo_adapters_dir(default, repo).name.startswith("shop-")
    chosen = Settings.model_validate({"train": {"output": str(tmp_path / "elsewhere")}})
    assert repo_adapters_dir(chosen, repo).parent == tmp_path / "elsewhere"


def test_metadata_round_trips_and_is_validated(settings: Settings, tmp_path: Path) -> None:
    path = register(settings, tmp_path, "run1", FP)
    info = read_adapter(path)
    assert info is not None and info.path == path and info.base_fingerprint == FP and info.beat_base
    assert info.summary() == "held-out exact match 25.0 -> 50.0%"
    assert json.loads((path / ADAPTER_META).read_text())["format"] == 1
    assert [entry.name for entry in path.iterdir() if entry.name.startswith(".staging-")] == []
    with pytest.raises(ModelError, match="'beat_base' must be true or false"):
        write_adapter_meta(path, info.as_dict() | {"beat_base": "yes"})
    assert read_adapter(path) == info  # a refused write leaves the old metadata
    plain = tmp_path / "plain"
    plain.mkdir()
    assert read_adapter(plain) is None


def test_best_adapter_is_the_newest_that_beat_the_base_model_for_this_base(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    register(settings, repo, "old", FP, created="2025-01-01T10:00:00+00:00")
    wanted = register(settings, repo, "good", FP, created="2025-01-02T10:00:00+00:00")
    register(settings, repo, "worse", FP, created="2025-01-03T10:00:00+00:00", beat_base=False)
    register(settings, repo, "other-base", OTHER, created="2025-01-04T10:00:00+00:00")
    gone = register(settings, repo, "cleaned-up", FP, created="2025-01-05T10:00:00+00:00")
    (gone / "adapter_model.safetensors").unlink()
    corrupt = register(settings, repo, "corrupt", FP, created="2025-01-06T10:00:00+00:00")
    (corrupt / ADAPTER_META).write_text("{not json")
    unfinished = repo_adapters_dir(settings, repo) / "unfinished"
    unfinished.mkdir()  # a run still training: no metadata yet
    # A time zone is respected: 2025-01-02 09:30 at UTC-2 is later than 10:00 UTC.
    register(settings, repo, "west", FP, created="2025-01-02T09:30:00-02:00", beat_base=False)

    with caplog.at_level(logging.WARNING):
        names = [info.path.name for info in list_adapters(settings, repo)]
        best = best_adapter(settings, repo, FP)
    assert names == ["cleaned-up", "other-base", "worse", "west", "good", "old"]
    assert best is not None and best.path == wanted
    assert "corrupt" in caplog.text and "not JSON" in caplog.text
    assert best_adapter(settings, repo, "c" * 64) is None
    assert best_adapter(settings, tmp_path / "never-trained", FP) is None


def test_a_hostile_registry_entry_is_skipped_never_served_and_never_breaks_the_list(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    wanted = register(settings, repo, "good", FP, created="2025-01-02T10:00:00+00:00")
    future = register(settings, repo, "year-one", FP, created="2025-01-09T10:00:00+00:00")
    meta = json.loads((future / ADAPTER_META).read_text())
    # the first moment of year 1 east of Greenwich: before year 1 in UTC (OverflowError in the sort)
    (future / ADAPTER_META).write_text(json.dumps(meta | {"created": "0001-01-01T00:00:00+14:00"}))
    deep = register(settings, repo, "deep", FP, created="2025-01-08T10:00:00+00:00")
    (deep / ADAPTER_META).write_text('{"format": 1, "config": ' + "[" * 100_000 + "]" * 100_000 + "}")
    huge = register(settings, repo, "huge", FP, created="2025-01-07T10:00:00+00:00")
    (huge / ADAPTER_META).write_text(json.dumps(meta | {"verdict": "x" * 2_000_000}))
    outside = register(settings, tmp_path / "elsewhere", "outside", FP, created="2025-01-10T10:00:00+00:00")
    (repo_adapters_dir(settings, repo) / "linked").symlink_to(outside, target_is_directory=True)

    with caplog.at_level(logging.WARNING):
        names = [info.path.name for info in list_adapters(settings, repo)]
        best = best_adapter(settings, repo, FP)
    assert names == ["good"]
    assert best is not None and best.path == wanted
    for needle in ("year-one", "'created' is not an ISO-8601 time", "deep", "huge", "linked"):
        assert needle in caplog.text


def test_check_compatible_messages(settings: Settings, tmp_path: Path, tiny_adapter_dir: Path) -> None:
    with pytest.raises(ModelError, match=r"missing: not a LoRA adapter \(no such directory\)$"):
        check_compatible(tmp_path / "missing", FP)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelError, match=r"not a LoRA adapter \(no adapter_config\.json\)$"):
        check_compatible(empty, FP)
    check_compatible(tiny_adapter_dir, FP)  # a plain peft adapter: shapes are checked when it loads

    path = register(settings, tmp_path, "run", FP, base_model="qwen2.5-coder-1.5b-instruct")
    check_compatible(path, FP)
    with pytest.raises(AdapterMismatch) as caught:
        check_compatible(path, OTHER)
    assert str(caught.value) == (
        f"{path}: trained for qwen2.5-coder-1.5b-instruct (aaaaaaaaaaaa), not for the loaded model (bbbbbbbbbbbb); "
        "train a new adapter for it or set models.code_model back"
    )
    broken = tmp_path / "broken"
    shutil.copytree(path, broken)
    (broken / ADAPTER_META).write_text('{"format": 1}')
    with pytest.raises(ModelError, match="'base_model' must be a string") as caught_broken:
        check_compatible(broken, FP)
    assert "\n" not in str(caught_broken.value)


def test_the_adapter_shipped_with_the_fast_model_is_whole_and_fits_it(tmp_path: Path) -> None:
    """The bundled fill-in-the-middle adapter (bench/fim_adapter.sh): found for the 0.5B model's GGUF and
    no other, LoRA weights in float16 shaped for Qwen2.5-Coder-0.5B (24 layers, 896 wide, 2 key-value heads
    of 64), and convertible to llama.cpp's adapter format."""
    import gguf
    from safetensors.numpy import load_file

    from housecoder.models.adapters import BUNDLED_ROOT, bundled_adapter
    from housecoder.models.catalog import QWEN_CODER_0_5B, QWEN_CODER_1_5B
    from housecoder.models.lora_gguf import convert_lora

    shipped = bundled_adapter(QWEN_CODER_0_5B.sha256)
    assert shipped is not None and shipped.path.parent == BUNDLED_ROOT
    assert shipped.beat_base and shipped.base_model == QWEN_CODER_0_5B.name and shipped.has_weights
    assert bundled_adapter(QWEN_CODER_1_5B.sha256) is None
    config = json.loads((shipped.path / "adapter_config.json").read_text())
    assert config["peft_type"] == "LORA" and config["base_model_name_or_path"] is None
    rank, modules = config["r"], set(config["target_modules"])
    tensors = load_file(str(shipped.path / "adapter_model.safetensors"))
    assert len(tensors) == 24 * len(modules) * 2 and {str(t.dtype) for t in tensors.values()} == {"float16"}
    out = {"q_proj": 896, "k_proj": 128, "v_proj": 128, "o_proj": 896}
    for name, tensor in tensors.items():
        module = next(m for m in modules if f".{m}." in name)
        expected = (rank, 896) if ".lora_A." in name else (out[module], rank)
        assert tensor.shape == expected, name

    reader = gguf.GGUFReader(str(convert_lora(shipped.path, tmp_path / "fim.gguf", "qwen2")))
    assert len(reader.tensors) == len(tensors)
    gguf_names = {"q_proj": "attn_q", "k_proj": "attn_k", "v_proj": "attn_v", "o_proj": "attn_output"}
    assert {t.name.split(".", 2)[2] for t in reader.tensors} == {
        f"{gguf_names[m]}.weight.lora_{ab}" for m in modules for ab in "ab"
    }
