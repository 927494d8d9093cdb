"""Noticing a damaged or tampered model file before it is used: a verified stamp per file.

When the store makes or checks a file it remembers its stamp: size, modification time, inode and sha256
(`<store>/verified.json`). Before a model is used, a file whose size, time and inode still match its stamp is
taken as verified without reading it; any other is hashed again and compared with the digest it must have
(the catalog's for a built-in GGUF, else the one recorded when the store wrote it). A file the store holds no
stamp for yet (a store from before stamps) is hashed and stamped at its first use. A mismatch is one line
naming the file and the repair (`housecoder models pull`).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path
from typing import Any

from housecoder.models.assemble import file_sha256
from housecoder.models.errors import ModelError
from housecoder.models.progress import SILENT, Progress

log = logging.getLogger(__name__)
STAMPS_FILE = "verified.json"


class ModelDamaged(ModelError):
    """A model file no longer has the content that was verified."""

    def __init__(self, path: Path, why: str) -> None:
        super().__init__(f"{path}: damaged ({why}); `housecoder models pull --force` repairs it")
        self.path = path


def _key(path: Path) -> str:
    return str(path.resolve())


def _stat(path: Path) -> dict[str, int]:
    info = path.stat()
    return {"size": info.st_size, "mtime_ns": info.st_mtime_ns, "inode": info.st_ino}


class Stamps:
    """The verified stamps of one model store (`root`)."""

    def __init__(self, root: Path) -> None:
        self.file = root / STAMPS_FILE

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return {}  # no stamps (or unreadable ones): files are hashed again, never trusted blindly
        return (
            {key: value for key, value in data.items() if isinstance(value, dict)}
            if isinstance(data, dict)
            else {}
        )

    def _write(self, stamps: dict[str, dict[str, Any]]) -> None:
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=self.file.parent, prefix=f".{self.file.name}.")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(stamps, handle, indent=1)
            os.replace(temporary, self.file)
        except OSError as err:  # a read-only store still serves: the files are hashed again next time
            log.warning("cannot record verified model files in %s: %s", self.file, err.strerror or err)
            with suppress(OSError, UnboundLocalError):
                os.unlink(temporary)

    def record(self, path: Path, sha256: str) -> None:
        """Remember `path` as verified with content `sha256` (call right after making or hashing it)."""
        stamps = self._read()
        stamps[_key(path)] = _stat(path) | {"sha256": sha256}
        self._write(stamps)

    def check(
        self, path: Path, expected: str | None = None, *, rehash: bool = False, progress: Progress = SILENT
    ) -> str:
        """The verified sha256 of `path`. Raises ModelDamaged when it is missing or its content is not `expected`
        (else not what was recorded). Reads the file only when its stamp changed, or with `rehash`."""
        stamp = self._read().get(_key(path))
        try:
            now = _stat(path)
        except OSError as err:
            raise ModelDamaged(path, f"cannot read it: {err.strerror or err}") from err
        recorded = stamp or {}
        wanted = expected or recorded.get("sha256")
        as_verified = bool(recorded) and all(recorded.get(field) == value for field, value in now.items())
        if as_verified and not rehash and wanted == recorded.get("sha256"):
            return str(wanted)  # not read
        try:
            actual = file_sha256(path, progress)
        except OSError as err:
            raise ModelDamaged(path, f"cannot read it: {err.strerror or err}") from err
        if wanted is not None and actual != wanted:
            raise ModelDamaged(path, f"sha256 {actual[:12]}…, expected {wanted[:12]}…")
        self.record(path, actual)
        return actual

    def intact(self, path: Path, expected: str, progress: Progress = SILENT) -> bool:
        """True when `path` is there with content `expected` (`check` without the error)."""
        try:
            self.check(path, expected, progress=progress)
        except ModelDamaged:
            return False
        return True

    def record_all(self, paths: Iterable[Path]) -> None:
        """Stamp every file in `paths` with its sha256 as it is now (files the store just wrote)."""
        stamps = self._read()
        for path in paths:
            stamps[_key(path)] = _stat(path) | {"sha256": file_sha256(path)}
        self._write(stamps)
