"""Verified stamps: a model file changed after it was verified is noticed before it is used, in one line,
and `models pull` repairs it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from housecoder.config import Settings
from housecoder.indexer.service import load_embedder
from housecoder.models import verify
from housecoder.models.assemble import file_sha256
from housecoder.models.store import ModelStore
from housecoder.models.verify import ModelDamaged, Stamps


def _tamper(path: Path, *, keep_time: bool = False) -> None:
    """Change bytes in the middle of `path`, keeping its size (and, with `keep_time`, its modification time)."""
    info = path.stat()
    with path.open("r+b") as handle:
        handle.seek(info.st_size // 2)
        handle.write(b"\x00!" * 64)
    if keep_time:
        os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))


def test_a_stamped_file_is_read_again_only_when_its_stamp_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = tmp_path / "model.bin"
    model.write_bytes(os.urandom(4096))
    digest = file_sha256(model)
    stamps = Stamps(tmp_path / "store")
    assert stamps.check(model, digest) == digest  # first use: hashed and stamped
    reads: list[Path] = []
    monkeypatch.setattr(verify, "file_sha256", lambda path, progress=None: reads.append(path) or digest)
    assert stamps.check(model, digest) == digest and reads == []  # unchanged: a stat, no read
    assert stamps.check(model, digest, rehash=True) == digest and reads == [model]


def test_changed_bytes_of_the_same_size_are_noticed(tmp_path: Path) -> None:
    model = tmp_path / "model.bin"
    model.write_bytes(os.urandom(4096))
    digest = file_sha256(model)
    stamps = Stamps(tmp_path / "store")
    stamps.record(model, digest)
    _tamper(model, keep_time=True)
    assert stamps.check(model, digest) == digest  # size, time and inode as verified: not read
    with pytest.raises(ModelDamaged, match=r"model.bin: damaged .*models pull --force"):
        stamps.check(model, digest, rehash=True)  # `models verify` and `models pull` read every byte
    _tamper(model)
    with pytest.raises(ModelDamaged, match="expected"):
        stamps.check(model)  # the recorded digest, when no other is known
    model.unlink()
    with pytest.raises(ModelDamaged, match="cannot read it"):
        stamps.check(model, digest)


def test_unreadable_stamps_mean_hashing_again_never_trusting(tmp_path: Path) -> None:
    model = tmp_path / "model.bin"
    model.write_bytes(b"weights")
    stamps = Stamps(tmp_path / "store")
    stamps.file.parent.mkdir()
    stamps.file.write_text("[" * 100_000)
    with pytest.raises(ModelDamaged):
        stamps.check(model, "0" * 64)
    assert stamps.check(model, file_sha256(model)) == file_sha256(model)


def test_a_damaged_builtin_gguf_is_one_line_before_llama_cpp_reads_it_and_pull_repairs_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_assemble import _fake_parts

    from housecoder.models import convert
    from housecoder.models.catalog import BUILTIN
    from housecoder.models.store import ResolvedModel

    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    spec, whole = _fake_parts(site, 3, "hc_fake_verify_")
    monkeypatch.setitem(BUILTIN, spec.name, spec)
    converted: list[Path] = []  # serving makes no weights (the parts are no real GGUF)
    monkeypatch.setattr(convert, "gguf_to_safetensors", lambda gguf, target, *args: converted.append(target))
    store = ModelStore(tmp_path / "store")
    store.builtin_dir(spec).mkdir(parents=True)
    store.pull(spec.name, force=True)
    gguf = store.gguf_path(spec)
    served = ResolvedModel(spec.name, "code", store.builtin_dir(spec), "builtin")
    store.verify_served(served, gguf)  # the catalog's sha256: checked once, stamped
    _tamper(gguf)
    with pytest.raises(ModelDamaged, match=r"fake.gguf: damaged \(sha256 .*models pull --force"):
        store.verify_served(served, gguf)
    store.pull(spec.name)  # already there: re-verified, found damaged, assembled again
    assert gguf.read_bytes() == whole and converted == []
    _tamper(gguf, keep_time=True)  # the same size, time and inode: only reading every byte tells
    store.verify_served(served, gguf)
    with pytest.raises(ModelDamaged):
        store.verify(spec.name, rehash=True)


def test_a_tampered_or_truncated_embedder_is_refused_and_pull_repairs_it(
    model_cache: Path, tmp_path: Path
) -> None:
    root = tmp_path / "models"
    shutil.copytree(model_cache, root)  # the session's store, pulled (and stamped) once
    store = ModelStore(root)
    settings = Settings.model_validate({"models": {"cache_dir": str(root)}})
    onnx = store.builtin_dir(store_model := _embedder()) / "model.onnx"
    assert load_embedder(settings, store).dimension == 384
    _tamper(onnx)
    with pytest.raises(ModelDamaged, match=r"model\.onnx: damaged"):
        load_embedder(settings, store)
    command = [str(Path(sys.executable).parent / "housecoder"), "--cache-dir", str(root), "models"]
    checked = subprocess.run([*command, "verify"], capture_output=True, text=True, timeout=300)
    assert checked.returncode == 1 and "damaged" in checked.stderr and "Traceback" not in checked.stderr
    store.pull(store_model.name)  # a pull of a model that is there checks it and repairs what is damaged
    assert load_embedder(settings, store).dimension == 384
    with onnx.open("r+b") as handle:
        handle.truncate(onnx.stat().st_size // 3)
    with pytest.raises(ModelDamaged, match=r"model\.onnx: damaged"):
        load_embedder(settings, store)
    store.pull(store_model.name)
    checked = subprocess.run([*command, "verify"], capture_output=True, text=True, timeout=300)
    assert checked.returncode == 0 and "ok all-minilm-l6-v2" in checked.stderr, checked.stderr


def _embedder():  # type: ignore[no-untyped-def]
    from housecoder.models.catalog import BUILTIN

    return BUILTIN["all-minilm-l6-v2"]
