"""The user's trust store: the project roots whose own config may set `housecoder.config.SENSITIVE_KEYS`.

Kept in `trust_file()` (`<config_home>/housecoder/trusted.toml`), written by `housecoder trust` and read
once by each entry point, which passes the roots to `housecoder.config.load_settings`. A root is trusted
with the sensitive values its config set then (their sha256, `trust_fingerprint`): trust ends when they
change.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from housecoder.config import (
    SENSITIVE_KEYS,
    config_home,
    project_sections,
    read_toml,
    sections_fingerprint,
    sensitive_values_of,
)
from housecoder.errors import ConfigError

TRUST_FILE = "trusted.toml"

TrustedRoots = Mapping[Path, "str | None"]  # a trusted root -> the fingerprint of what it was trusted with


def trust_file(environ: Mapping[str, str]) -> Path:
    """Where the user's trusted project roots are kept: `<config_home>/housecoder/trusted.toml`."""
    return config_home(environ) / "housecoder" / TRUST_FILE


def read_trusted(path: Path) -> dict[Path, str | None]:
    """The trusted project roots in a trust file (`roots = [...]`, absolute paths) with the fingerprint of the
    sensitive values each was trusted with (`[fingerprints]`; None for a root trusted before fingerprints);
    none if the file does not exist."""
    if not path.is_file():
        return {}
    data = read_toml(path)
    roots, fingerprints = data.get("roots", []), data.get("fingerprints", {})
    if not isinstance(roots, list) or not all(isinstance(root, str) for root in roots):
        raise ConfigError(f"{path}: roots must be a list of paths")
    if not isinstance(fingerprints, dict):
        raise ConfigError(f"{path}: [fingerprints] must be a table")
    found = {root: fingerprints.get(root) for root in roots}
    return {Path(root): value if isinstance(value, str) else None for root, value in found.items()}


def sensitive_values(project_root: Path) -> dict[str, Any]:
    """The sensitive keys the project's own config files set, dotted, with their values (the last file wins)."""
    return sensitive_values_of(project_sections(project_root))


def trust_fingerprint(project_root: Path) -> str:
    """What trusting a project means: the sha256 of the sensitive values its config sets now. Trust ends when
    they change (a `git pull` that points `inference.url` elsewhere asks again)."""
    return sections_fingerprint(project_sections(project_root))


def _toml_string(text: str) -> str:
    """`text` as a TOML basic string: JSON's escapes are TOML's, and TOML wants DEL escaped too."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def write_trusted(path: Path, roots: TrustedRoots) -> None:
    """Replace the trust file's roots and their fingerprints (written sorted, atomically; the directory is
    created)."""
    entries = "".join(f"    {_toml_string(str(root))},\n" for root in sorted(roots))
    prints = "".join(
        f"{_toml_string(str(root))} = {_toml_string(value)}\n"
        for root, value in sorted(roots.items())
        if value is not None
    )
    text = (
        f"# Project roots whose own config may set {', '.join(SENSITIVE_KEYS)} (housecoder trust),\n"
        f"# each as long as those values are what they were when it was trusted (their sha256 below).\n"
        f"roots = [\n{entries}]\n\n[fingerprints]\n{prints}"
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", delete=False
        ) as handle:
            handle.write(text)
        try:
            os.replace(handle.name, path)
        except OSError:
            os.unlink(handle.name)
            raise
    except OSError as err:
        raise ConfigError(f"{path}: cannot write: {err.strerror or err}") from err
