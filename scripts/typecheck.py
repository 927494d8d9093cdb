"""Run mypy over the whole `housecoder.*` namespace.

mypy cannot follow setuptools' folder mapping (`server/` -> `housecoder.server`),
so this builds a tree of symbolic links in `.cache/typecheck/` shaped like the
installed package and checks that. Exit status is mypy's.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAPPED = {"server": "server", "indexer": "indexer", "training": "training"}


def main() -> int:
    tree = ROOT / ".cache" / "typecheck"
    shutil.rmtree(tree, ignore_errors=True)
    package = tree / "housecoder"
    package.mkdir(parents=True)
    for entry in (ROOT / "housecoder").iterdir():
        if entry.name != "__pycache__":
            (package / entry.name).symlink_to(entry)
    for name, folder in MAPPED.items():
        (package / name).symlink_to(ROOT / folder)
    command = [
        sys.executable,
        "-m",
        "mypy",
        "--config-file",
        str(ROOT / "pyproject.toml"),
        "-p",
        "housecoder",
    ]
    return subprocess.call(command, cwd=tree)


if __name__ == "__main__":
    sys.exit(main())
