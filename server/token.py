"""The TCP server's secret: a per-user token a client must present in `initialize` (`housecoder token`).

Over TCP any local process (another user's, a container's, a web page's request) can reach the port, so a
client proves that it may read the user's code with the token in `initializationOptions.token`. The token
lives in one file readable by the user alone, next to the trust file (`$XDG_CONFIG_HOME/housecoder/
server-token`); it is created at the first `serve --tcp` and replaced by `housecoder token --rotate`. A
server reads it at each `initialize`, so a rotation locks out every client that still holds the old one.
Over stdio the client started the server itself and needs no token.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import secrets
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from housecoder.config import config_home
from housecoder.errors import ConfigError

TOKEN_FILE = "server-token"
TOKEN_BYTES = 32  # 256 bits, url-safe base64: 43 characters
MAX_TOKEN_CHARS = 256  # a longer value in a token file or from a client is no token of ours


def token_file(environ: Mapping[str, str]) -> Path:
    """Where the user's server token is kept (`environ`: the entry point's environment)."""
    return config_home(environ) / "housecoder" / TOKEN_FILE


def read_token(path: Path) -> str | None:
    """The token in `path`; None when there is none yet. Raises ConfigError when the file is readable by
    others (a token they can read protects nothing) or is no token."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return None
    except OSError as err:
        raise ConfigError(f"{path}: cannot read the server token: {err.strerror or err}") from err
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise ConfigError(f"{path}: the server token is not a regular file")
    with os.fdopen(fd, "rb") as handle:
        if os.name == "posix" and info.st_mode & 0o077:
            raise ConfigError(
                f"{path}: the server token is readable by other users; run `housecoder token --rotate`"
            )
        data = handle.read(MAX_TOKEN_CHARS + 2)
    token = data.decode("ascii", errors="replace").strip()
    if not token or len(token) > MAX_TOKEN_CHARS or not token.isprintable() or " " in token:
        raise ConfigError(f"{path}: not a server token; run `housecoder token --rotate`")
    return token


def write_token(path: Path) -> str:
    """A new random token in `path` (mode 0600, written atomically; the folder is created 0700)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # created 0600
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(token + "\n")
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except OSError as err:
        raise ConfigError(f"{path}: cannot write the server token: {err.strerror or err}") from err
    return token


def ensure_token(path: Path) -> str:
    """The token in `path`, created if there is none yet."""
    return read_token(path) or write_token(path)


def presented_token(options: Any) -> str | None:
    """The token a client sent in `initializationOptions` (at its top level or in its `housecoder` section)."""
    if not isinstance(options, Mapping):
        return None
    for where in (options, options.get("housecoder")):
        if isinstance(where, Mapping) and isinstance(where.get("token"), str):
            return str(where["token"])
    return None


def token_matches(expected: str, presented: str | None) -> bool:
    """True when the client's token is the user's (compared in constant time)."""
    if presented is None or len(presented) > MAX_TOKEN_CHARS:
        return False
    return hmac.compare_digest(expected.encode(), presented.encode("utf-8", errors="replace"))
