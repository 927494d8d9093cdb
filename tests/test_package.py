"""Packaging: one namespace, lazy imports, the console script."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def _python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_parts_live_under_the_one_namespace(tmp_path: Path) -> None:
    result = _python(
        "import housecoder.server, housecoder.indexer, housecoder.training, housecoder.models.store;"
        "print(housecoder.server.__file__)",
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(str(Path("server") / "__init__.py"))


def test_a_bare_import_of_a_part_fails(tmp_path: Path) -> None:
    for name in ("server", "indexer", "training"):
        result = _python(f"import {name}", tmp_path)
        assert result.returncode != 0 and "ModuleNotFoundError" in result.stderr


def test_the_cli_imports_nothing_heavy(tmp_path: Path) -> None:
    heavy = ("torch", "transformers", "onnxruntime", "numpy", "pydantic", "huggingface_hub", "rich.progress")
    result = _python(
        "import sys, housecoder.cli; print(','.join(m for m in " + repr(heavy) + " if m in sys.modules))",
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_help_and_version_from_the_console_script(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "housecoder"
    help_run = subprocess.run(
        [str(script), "--help"], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert help_run.returncode == 0
    for command in ("models", "complete"):
        assert command in help_run.stdout
    version = subprocess.run(
        [str(script), "--version"], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert version.stdout.startswith("housecoder ")


def test_typed_marker_ships() -> None:
    import housecoder

    assert (Path(housecoder.__file__).parent / "py.typed").is_file()
