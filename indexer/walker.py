"""Walk a repository and decide, per file, whether it is indexed and if not, why.

Path rules (no reading): `.gitignore` files at every level, `.git/info/exclude`,
`.housecoderignore`, extra patterns from config, vendored and tool directories,
secret file names, binary extensions, lock and minified file names, the size
cap, and symlinks (a directory link is never followed; a file link is used
only when its target is inside the repository). Content rules (after reading)
are in `content.py`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

from pathspec import GitIgnoreSpec

SKIPPED_DIRS = frozenset(
    [".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".idea", ".vscode", ".gradle", ".cache", "vendor", "third_party", "bower_components", "site-packages", "dist", "build", "target", "out", ".next", ".nuxt", "coverage", "htmlcov", ".eggs"]
)
SECRET_NAMES = (
    ".env", ".env.*", "*.env", "*.pem", "*.key", "*.p12", "*.pfx", "*.jks", "*.keystore", "id_rsa*", "id_dsa*",
    "id_ecdsa*", "id_ed25519*", ".netrc", ".npmrc", ".pypirc", ".git-credentials", ".htpasswd", "credentials",
    "credentials.json", "*.credentials", "*.token", "token.json", "service-account*.json", "*secret*.json",
    "*secrets*.yaml", "*secrets*.yml",
)  # fmt: skip
BINARY_SUFFIXES = frozenset(
    [".png", ".jpg", ".jpeg", ".gif", ".bmp", ".ico", ".webp", ".tiff", ".pdf", ".zip", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".jar", ".war", ".whl", ".egg", ".so", ".dll", ".dylib", ".a", ".o", ".obj", ".exe", ".bin", ".class", ".pyc", ".pyo", ".wasm", ".onnx", ".gguf", ".safetensors", ".pt", ".pth", ".ckpt", ".npy", ".npz", ".parquet", ".arrow", ".lance", ".db", ".sqlite", ".mp3", ".mp4", ".wav", ".ogg", ".mov", ".avi", ".ttf", ".otf", ".woff", ".woff2", ".eot"]
)
GENERATED_NAMES = (
    "*.min.js", "*.min.css", "*.map", "*.lock", "package-lock.json", "npm-shrinkwrap.json", "pnpm-lock.yaml",
    "*_pb2.py", "*_pb2_grpc.py", "*.pb.go", "*.generated.*",
)  # fmt: skip


@dataclass(frozen=True)
class Candidate:
    """A file the path rules accept; content rules still apply."""

    path: str  # repository-relative, '/'-separated
    absolute: Path
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str  # ignored, vendored, secret, binary, generated, too-large, symlink, unreadable


def _load_spec(file: Path) -> GitIgnoreSpec | None:
    try:
        lines = file.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return GitIgnoreSpec.from_lines(lines) if any(line.strip() for line in lines) else None


class _Ignores:
    """gitignore-style specs by the directory they apply to."""

    def __init__(self, root: Path, extra: Sequence[str]) -> None:
        self.root = root
        self.specs: dict[str, list[GitIgnoreSpec]] = {"": []}
        for name in (".git/info/exclude", ".housecoderignore"):
            spec = _load_spec(root / name)
            if spec is not None:
                self.specs[""].append(spec)
        if extra:
            self.specs[""].append(GitIgnoreSpec.from_lines(list(extra)))

    def enter(self, rel_dir: str, directory: Path) -> None:
        spec = _load_spec(directory / ".gitignore")
        if spec is not None:
            self.specs.setdefault(rel_dir, []).append(spec)

    def ignored(self, rel_path: str, is_dir: bool) -> bool:
        probe = rel_path + "/" if is_dir else rel_path
        for base, specs in self.specs.items():
            if base and not rel_path.startswith(base + "/"):
                continue
            relative = probe[len(base) + 1 :] if base else probe
            if any(spec.match_file(relative) for spec in specs):
                return True
        return False


def _matches(name: str, patterns: Sequence[str]) -> bool:
    lowered = name.lower()
    return any(fnmatch(lowered, pattern) for pattern in patterns)


def path_rule(name: str, size: int, max_bytes: int) -> str | None:
    """The reason a file is skipped by its name and size alone, or None."""
    if _matches(name, SECRET_NAMES):
        return "secret"
    if Path(name).suffix.lower() in BINARY_SUFFIXES:
        return "binary"
    if _matches(name, GENERATED_NAMES):
        return "generated"
    if size > max_bytes:
        return "too-large"
    return None


def _classify(root: Path, rel: str, path: Path, max_bytes: int) -> Candidate | Skipped:
    name = path.name
    try:
        if path.is_symlink():
            target = path.resolve(strict=True)
            if not target.is_relative_to(root) or not target.is_file():
                return Skipped(rel, "symlink")
        stat = path.stat()
    except OSError:
        return Skipped(rel, "unreadable")
    reason = path_rule(name, stat.st_size, max_bytes)
    if reason is not None:
        return Skipped(rel, reason)
    return Candidate(rel, path, stat.st_size, stat.st_mtime_ns)


def _skipped_dir(name: str) -> bool:
    return name in SKIPPED_DIRS or name.endswith(".egg-info")


def walk(root: Path, *, exclude: Sequence[str] = (), max_bytes: int = 1_000_000) -> Iterator[Candidate | Skipped]:
    """Every file under `root`, as a Candidate to read or a Skipped with its reason (sorted, deterministic)."""
    root = root.resolve()
    ignores = _Ignores(root, exclude)
    for current, dirs, files in os.walk(root, followlinks=False):
        here = Path(current)
        rel_dir = here.relative_to(root).as_posix()
        rel_dir = "" if rel_dir == "." else rel_dir
        ignores.enter(rel_dir, here)
        kept_dirs = []
        for name in sorted(dirs):
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if _skipped_dir(name):
                continue  # tool and vendored directories are never counted file by file
            if (here / name).is_symlink():
                yield Skipped(rel, "symlink")
            elif ignores.ignored(rel, is_dir=True):
                yield Skipped(rel + "/", "ignored")
            else:
                kept_dirs.append(name)
        dirs[:] = kept_dirs
        for name in sorted(files):
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if ignores.ignored(rel, is_dir=False):
                yield Skipped(rel, "ignored")
            else:
                yield _classify(root, rel, here / name, max_bytes)


def walk_paths(
    root: Path, paths: Sequence[str], *, exclude: Sequence[str] = (), max_bytes: int = 1_000_000
) -> Iterator[Candidate | Skipped]:
    """The same decisions as `walk`, for just `paths` (repository-relative); missing files are not yielded."""
    root = root.resolve()
    ignores = _Ignores(root, exclude)
    entered: set[str] = set()
    for rel in paths:
        path = root / rel
        if not path.is_file() and not path.is_symlink():
            continue
        parts = rel.split("/")
        verdict: Skipped | None = None
        for depth in range(len(parts)):
            rel_dir = "/".join(parts[:depth])
            if rel_dir not in entered:
                ignores.enter(rel_dir, root / rel_dir if rel_dir else root)
                entered.add(rel_dir)
            if depth and verdict is None:
                name = parts[depth - 1]
                if _skipped_dir(name):
                    verdict = Skipped(rel, "vendored")
                elif (root / rel_dir).is_symlink():
                    verdict = Skipped(rel, "symlink")
                elif ignores.ignored(rel_dir, is_dir=True):
                    verdict = Skipped(rel, "ignored")
        if verdict is None and ignores.ignored(rel, is_dir=False):
            verdict = Skipped(rel, "ignored")
        yield verdict if verdict is not None else _classify(root, rel, path, max_bytes)
