"""Errors a user can cause, shared by every part.

Every exception here carries a one-line message meant for the user; the CLI
prints it (no traceback) and exits non-zero, the server logs it and answers
with an empty result.

    HousecoderError
    ├── ConfigError          bad config file, unknown key, wrong type
    └── MissingDependency    an optional extra is not installed
"""

from __future__ import annotations


def first_line(err: BaseException, limit: int = 200) -> str:
    """The first line of an exception's message (or its type name), for one-line user errors."""
    text = str(err).strip()
    return (text.splitlines()[0] if text else type(err).__name__)[:limit]


def os_error_line(err: OSError) -> str:
    """An operating-system error (file system, sockets, name resolution) as one line naming what failed."""
    what = err.strerror or first_line(err)
    names = [str(name) for name in (err.filename, err.filename2) if name is not None]
    return f"{' -> '.join(names)}: {what}" if names else what


class HousecoderError(Exception):
    """Base of every error a user can cause; `str(err)` is one line for the user."""


class ConfigError(HousecoderError):
    """The configuration (file, flag or LSP option) is invalid."""


def install_hint(extra: str) -> str:
    """How to install one of housecoder's extras (housecoder is installed from its checkout, not an index);
    torch comes first, chosen for the platform (docs/guide/install.md)."""
    torch = " (torch first, for your platform: docs/guide/install.md)" if extra == "ml" else ""
    return f"in the housecoder checkout: pip install -e '.[{extra}]'{torch}"


class MissingDependency(HousecoderError):
    """An optional dependency is not installed; the message names the extra to install."""

    def __init__(self, module: str, extra: str) -> None:
        super().__init__(f"{module} is not installed; {install_hint(extra)}")
        self.module = module
        self.extra = extra
