"""Assembling a GGUF from part packages: discovery, hashing, refusal, atomicity."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import pytest

from housecoder.models.assemble import assemble_gguf, file_sha256, locate_parts
from housecoder.models.catalog import QWEN_CODER_1_5B, PartsGguf
from housecoder.models.errors import HashMismatch, MissingParts, ModelError


def _fake_parts(
    root: Path, count: int, stem: str, missing: tuple[int, ...] = (), content: bytes | None = None
) -> tuple[PartsGguf, bytes]:
    """Create importable packages `{stem}{n}` each holding data/partNN.bin (filler bytes, or `content` cut into
    `count` pieces); returns their spec and the whole."""
    whole = b""
    step = -(-len(content) // count) if content is not None else 0
    for n in range(1, count + 1):
        data = bytes([n]) * (1000 + n) if content is None else content[(n - 1) * step : n * step]
        whole += data
        if n in missing:
            continue
        package = root / f"{stem}{n}"
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "data" / f"part{n:02d}.bin").write_bytes(data)
    spec = replace(
        QWEN_CODER_1_5B,
        name="fake",
        package=f"{stem.replace('_', '-')}{{n}}",
        module=f"{stem}{{n}}",
        count=count,
        size=len(whole),
        sha256=hashlib.sha256(whole).hexdigest(),
    )
    return spec, whole


@pytest.fixture
def parts_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    return root


def test_parts_assemble_to_the_pinned_bytes(parts_root: Path, tmp_path: Path) -> None:
    spec, whole = _fake_parts(parts_root, 3, "hc_fake_ok_")
    out = assemble_gguf(spec, locate_parts(spec), tmp_path / "store" / "m.gguf")
    assert out.read_bytes() == whole
    assert file_sha256(out) == spec.sha256
    assert [p.name for p in out.parent.iterdir()] == ["m.gguf"]


def test_missing_parts_are_all_named_with_the_install_command(parts_root: Path) -> None:
    spec, _ = _fake_parts(parts_root, 5, "hc_fake_missing_", missing=(2, 5))
    with pytest.raises(MissingParts) as caught:
        locate_parts(spec)
    message = str(caught.value)
    assert "2 part package(s) not installed" in message
    assert "hc-fake-missing-2" in message and "hc-fake-missing-5" in message
    assert "in the housecoder checkout: pip install -e '.[model]'" in message
    assert "\n" not in message


def test_hash_mismatch_is_refused_and_leaves_no_file(parts_root: Path, tmp_path: Path) -> None:
    spec, _ = _fake_parts(parts_root, 2, "hc_fake_hash_")
    wrong = replace(spec, sha256="0" * 64)
    dest = tmp_path / "store" / "m.gguf"
    with pytest.raises(HashMismatch, match="sha256 mismatch"):
        assemble_gguf(wrong, locate_parts(wrong), dest)
    assert not dest.exists()
    assert list(dest.parent.iterdir()) == []


def test_size_mismatch_is_refused_before_writing(parts_root: Path, tmp_path: Path) -> None:
    spec, _ = _fake_parts(parts_root, 2, "hc_fake_size_")
    with pytest.raises(ModelError, match="expected"):
        assemble_gguf(replace(spec, size=spec.size + 1), locate_parts(spec), tmp_path / "m.gguf")
    assert not (tmp_path / "m.gguf").exists()


def test_interrupted_assembly_keeps_the_previous_file(parts_root: Path, tmp_path: Path) -> None:
    spec, whole = _fake_parts(parts_root, 2, "hc_fake_interrupt_")
    dest = assemble_gguf(spec, locate_parts(spec), tmp_path / "store" / "m.gguf")

    class Interrupt:
        def task(self, description: str, total: int | None = None, unit: str = "bytes"):  # type: ignore[no-untyped-def]
            import contextlib

            @contextlib.contextmanager
            def run():  # type: ignore[no-untyped-def]
                def advance(units: int) -> None:
                    raise KeyboardInterrupt

                yield advance

            return run()

    with pytest.raises(KeyboardInterrupt):
        assemble_gguf(spec, locate_parts(spec), dest, progress=Interrupt())
    assert dest.read_bytes() == whole
    assert [p.name for p in dest.parent.iterdir()] == ["m.gguf"]


def test_the_real_catalog_entry_matches_the_design() -> None:
    assert QWEN_CODER_1_5B.count == 22
    assert QWEN_CODER_1_5B.size == 1_117_320_768
    assert QWEN_CODER_1_5B.sha256 == "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
    assert QWEN_CODER_1_5B.data_file.format(n=7) == "data/part07.bin"
