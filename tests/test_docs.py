"""The documentation against the code: the configuration reference and the links between documents.

- every key of `housecoder.config.Settings` (nested sections walked) has a row in the reference
  (docs/guide/configuration.md), every row names a real key, and the documented default is the real one;
- every `section.key` written in backticks in README.md or docs/ is a real key;
- every relative link in README.md and docs/**/*.md points to an existing file, and a `#fragment` to
  an existing heading.
"""

from __future__ import annotations

import itertools
import re
import tomllib
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from housecoder.config import MOVED_TO_TUNING, REMOVED, RENAMED, Settings

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "guide" / "configuration.md"
DOCUMENTS = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])

ROW = re.compile(r"^\|\s*`(?P<key>[a-z_]+\.(?:tuning\.)?[a-z_]+)`\s*\|(?P<default>[^|]*)\|")
LINK = re.compile(r"(?<!!)\[[^\]]*\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^(```|~~~)")
UNSET = "unset"


def _defaults(instance: BaseModel, prefix: str = "") -> dict[str, Any]:
    """Every leaf key of a settings model, dotted, with its default (nested sections walked)."""
    found: dict[str, Any] = {}
    for name in type(instance).model_fields:
        value = getattr(instance, name)
        if isinstance(value, BaseModel):
            found |= _defaults(value, f"{prefix}{name}.")
        else:
            found[f"{prefix}{name}"] = value
    return found


SETTINGS = _defaults(Settings())
SECTIONS = sorted({key.split(".")[0] for key in SETTINGS})


def _documented() -> dict[str, str]:
    rows: dict[str, str] = {}
    for line in REFERENCE.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            assert match["key"] not in rows, f"{match['key']} is documented twice"
            rows[match["key"]] = match["default"].strip()
    return rows


def _plain(value: Any) -> Any:
    """A default as TOML would read it back: tuples as lists, paths as strings."""
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, Path):
        return str(value)
    return value


def _parse_default(cell: str) -> Any:
    if cell == UNSET:
        return None
    assert cell.startswith("`") and cell.endswith("`"), f"a default is `a TOML value` or {UNSET}: {cell!r}"
    return tomllib.loads(f"value = {cell[1:-1]}")["value"]


def test_settings_walk_finds_nested_sections() -> None:
    assert {"models", "inference", "completion", "context", "index", "server", "train"} <= set(SECTIONS)
    assert "context.max_tokens" in SETTINGS and "train.tuning.span_mix" in SETTINGS


def test_every_configuration_key_is_documented_and_every_documented_key_exists() -> None:
    documented = _documented()
    missing = sorted(set(SETTINGS) - set(documented))
    unknown = sorted(set(documented) - set(SETTINGS))
    assert not missing, f"keys of housecoder/config.py missing from {REFERENCE.name}: {missing}"
    assert not unknown, f"keys in {REFERENCE.name} that housecoder/config.py does not define: {unknown}"


@pytest.mark.parametrize("key", sorted(SETTINGS))
def test_documented_default_is_the_real_default(key: str) -> None:
    cell = _documented().get(key)
    if cell is None:
        pytest.skip("not documented (the coverage test reports it)")
    assert _parse_default(cell) == _plain(SETTINGS[key]), f"{key}: documented {cell}, real {SETTINGS[key]!r}"


def _prose(path: Path) -> str:
    """The document without fenced code blocks (TOML examples there may name keys freely)."""
    kept, fenced = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line.strip()):
            fenced = not fenced
            continue
        if not fenced:
            kept.append(line)
    return "\n".join(kept)


RETIRED_LIST = "## Renamed and removed keys"  # the reference's list of the keys a config may no longer set
NOTES = ROOT / "docs" / "experiments"  # a note keeps the keys of its time


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_keys_named_in_the_documents_exist(path: Path) -> None:
    sections = "|".join({*SECTIONS, *(key.split(".")[0] for key in (*RENAMED, *REMOVED))})
    # `section.key`, `section.key = value`; not `models.py` or `server.host.ModelHost` (modules)
    pattern = re.compile(rf"`(?P<key>(?:{sections})\.(?:tuning\.)?[a-z_]+)(?![\w./])(?:\s*=[^`]*)?`")
    prose, retired = _prose(path), ""
    if path == REFERENCE:
        prose, retired = prose.split(RETIRED_LIST)
    elif path.is_relative_to(NOTES):
        prose, retired = "", prose
    named = {match["key"] for match in pattern.finditer(prose)}
    unknown = sorted(key for key in named if key not in SETTINGS and not key.endswith((".py", ".md")))
    old = {match["key"] for match in pattern.finditer(retired)}
    unknown += sorted(
        key for key in old - set(SETTINGS) if not _retired(key) and not key.endswith((".py", ".md"))
    )
    assert not unknown, f"{path.relative_to(ROOT)} names configuration keys that do not exist: {unknown}"


def _retired(key: str) -> bool:
    return key in RENAMED or key in MOVED_TO_TUNING or key in REMOVED or key.split(".")[0] in RENAMED


def test_the_reference_lists_every_renamed_and_removed_key() -> None:
    listed = _prose(REFERENCE).split(RETIRED_LIST)[1]
    missing = [key for key in RENAMED if f"`{key}`" not in listed and f"`[{key}]`" not in listed]
    missing += [key for key in REMOVED if f"`{key}`" not in listed]
    assert not missing, f"renamed or removed keys missing from {REFERENCE.name}'s list: {missing}"


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|<[^>]+>", "", heading).strip().lower()
    text = "".join(ch for ch in text if ch in " -" or unicodedata.category(ch)[0] in "LN")
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    for line in _prose(path).splitlines():
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match:
            slug = _slug(match[1])
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_point_to_existing_files_and_headings(path: Path) -> None:
    broken = []
    for match in LINK.finditer(_prose(path)):
        target = match["target"]
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        file_part, _, fragment = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            broken.append(f"{target} (no such file)")
        elif fragment and linked.suffix == ".md" and fragment not in _anchors(linked):
            broken.append(f"{target} (no such heading)")
    assert not broken, f"{path.relative_to(ROOT)}: broken links: {broken}"


def test_documents_hold_no_machine_paths() -> None:
    machine = re.compile(r"(?<![\w.~])/(?:root|home|tmp|work)/")
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in DOCUMENTS
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if machine.search(line)
    ]
    assert not found, f"machine paths in documents: {found}"


def test_readme_stays_short() -> None:
    lines = len((ROOT / "README.md").read_text(encoding="utf-8").splitlines())
    assert lines <= 250, f"README.md has {lines} lines; the details belong in docs/"


def test_the_readme_example_config_works_as_copied(tmp_path: Path) -> None:
    """A user who copies the README's `.housecoder.toml` into a project gets valid settings that name no
    file they do not have (an adapter directory that is not there stops the model from loading)."""
    from housecoder.config import load_settings

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    [block] = re.findall(r"```toml\n(# \.housecoder\.toml\n.*?)```", readme, flags=re.DOTALL)
    (tmp_path / ".housecoder.toml").write_text(block, encoding="utf-8")
    settings = load_settings(tmp_path)
    assert settings.models.adapter is None and settings.models.code_model == "qwen2.5-coder-1.5b-instruct"
    assert settings.index.exclude and settings.completion.max_prefix_tokens == 512


def _layout() -> str:
    """The source layout block of docs/guide/development.md."""
    text = (ROOT / "docs" / "guide" / "development.md").read_text(encoding="utf-8")
    return text.split("## Layout", 1)[1].split("```", 2)[1]


def test_the_development_guide_names_every_package_and_part_module() -> None:
    layout = _layout()
    packages = sorted(path.parent.name for path in (ROOT / "housecoder").glob("*/__init__.py"))
    missing = [name for name in packages if not re.search(rf"(^|\s){name}/", layout, re.MULTILINE)]
    assert not missing, f"housecoder/ packages missing from the development guide's layout: {missing}"
    for part in ("indexer", "server", "training"):
        rest = layout.split(f"\n{part}/", 1)[1].split("\n")
        block = [
            rest[0],
            *itertools.takewhile(lambda line: line.startswith(" "), rest[1:]),
        ]  # and continuations
        modules = sorted(
            path.stem
            for path in (ROOT / part).glob("*.py")
            if path.stem not in ("__init__", "__main__", "errors")
        )
        unnamed = [name for name in modules if not re.search(rf"\b{name}\b", " ".join(block))]
        assert not unnamed, f"{part}/ modules missing from the development guide's layout: {unnamed}"


def test_each_removed_key_names_a_note_that_exists() -> None:
    missing = [f"{key}: {note}" for key, note in REMOVED.items() if not (ROOT / note).is_file()]
    assert not missing, f"removed keys whose note is not there: {missing}"
