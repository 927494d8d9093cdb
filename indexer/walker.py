"""Walk a repository and decide, per file, whether it is indexed and if not, why.

Path rules (no reading): `.gitignore` files at every level, `.git/info/exclude`,
`.housecoderignore`, extra patterns from config, vendored and tool directories,
secret file names, binary extensions, lock and minified file names, the size
cap, and symlinks (a directory link is never followed; a file link is used
only when its target is inside the repository). Content rules (after reading)
are in `content.py`.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from stat import S_ISREG

from pathspec import GitIgnoreSpec

from housecoder.secrets import is_secret_name

SKIPPED_DIRS = frozenset(
    """
    .git .hg .svn node_modules __pycache__ .venv venv .tox .nox .mypy_cache .pytest_cache .ruff_cache
    .idea .vscode .gradle .cache vendor third_party bower_components site-packages dist build target out
    .next .nuxt coverage htmlcov .eggs
    """.split()
)
BINARY_SUFFIXES = frozenset(
    """
    .png .jpg .jpeg .gif .bmp .ico .webp .tiff .pdf .zip .gz .tgz .bz2 .xz .7z .rar .jar .war .whl .egg
    .so .dll .dylib .a .o .obj .exe .bin .class .pyc .pyo .wasm .onnx .gguf .safetensors .pt .pth .ckpt
    .npy .npz .parquet .arrow .lance .db .sqlite .mp3 .mp4 .wav .ogg .mov .avi .ttf .otf .woff .woff2 .eot
    """.split()
)
GENERATED_NAMES = (
    "*.min.js",
    "*.min.css",
    "*.map",
    "*.lock",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "pnpm-lock.yaml",
    "*_pb2.py",
    "*_pb2_grpc.py",
    "*.pb.go",
    "*.generated.*",
)


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
    reason: str  # ignored, vendored, secret, binary, generated, too-large, symlink, special, unreadable


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
        self.entered: set[str] = set()
        # Precedence as in git, lowest first: .git/info/exclude, then .gitignore files from the
        # root down (a deeper file's `!negation` re-includes); ours come last and always apply.
        self.base = [spec for spec in (_load_spec(root / ".git/info/exclude"),) if spec is not None]
        self.specs: dict[str, list[GitIgnoreSpec]] = {}
        ours = [_load_spec(root / ".housecoderignore")]
        if extra:
            ours.append(GitIgnoreSpec.from_lines(list(extra)))
        self.ours = [spec for spec in ours if spec is not None]

    def enter(self, rel_dir: str, directory: Path) -> None:
        if rel_dir in self.entered:
            return
        self.entered.add(rel_dir)
        spec = _load_spec(directory / ".gitignore")
        if spec is not None:
            self.specs.setdefault(rel_dir, []).append(spec)

    def path_verdict(self, rel: str) -> str | None:
        """Why `rel` (a file) is skipped because of its directories or ignore rules, or None."""
        parts = rel.split("/")
        for depth in range(len(parts)):
            rel_dir = "/".join(parts[:depth])
            self.enter(rel_dir, self.root / rel_dir if rel_dir else self.root)
            if depth:
                if _skipped_dir(parts[depth - 1]):
                    return "vendored"
                if (self.root / rel_dir).is_symlink():
                    return "symlink"
                if self.ignored(rel_dir, is_dir=True):
                    return "ignored"
        return "ignored" if self.ignored(rel, is_dir=False) else None

    def ignored(self, rel_path: str, is_dir: bool) -> bool:
        """The decision of the last matching pattern, in precedence order."""
        probe = rel_path + "/" if is_dir else rel_path
        layers = [("", spec) for spec in self.base]
        layers += [(base, spec) for base, specs in self.specs.items() for spec in specs]
        verdict = False
        for base, spec in layers:
            if base and not rel_path.startswith(base + "/"):
                continue
            include = spec.check_file(probe[len(base) + 1 :] if base else probe).include
            if include is not None:
                verdict = include
        return verdict or any(spec.match_file(probe) for spec in self.ours)


def _matches(name: str, patterns: Sequence[str]) -> bool:
    lowered = name.lower()
    return any(fnmatch(lowered, pattern) for pattern in patterns)


def path_rule(name: str, size: int, max_bytes: int) -> str | None:
    """The reason a file is skipped by its name and size alone, or None."""
    if is_secret_name(name):
        return "secret"
    if Path(name).suffix.lower() in BINARY_SUFFIXES:
        return "binary"
    if _matches(name, GENERATED_NAMES):
        return "generated"
    if size > max_bytes:
        return "too-large"
    return None


def _classify(root: Path, ignores: _Ignores, rel: str, path: Path, max_bytes: int) -> Candidate | Skipped:
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        return Skipped(rel.encode("utf-8", "surrogateescape").decode("utf-8", "replace"), "bad-name")
    names = [path.name]
    try:
        if path.is_symlink():
            target = path.resolve(strict=True)
            if not target.is_relative_to(root) or not target.is_file():
                return Skipped(rel, "symlink")
            # A link is judged by its target too: a link to .env or into an ignored tree stays out.
            verdict = ignores.path_verdict(target.relative_to(root).as_posix())
            if verdict is not None:
                return Skipped(rel, verdict)
            names.append(target.name)
        stat = path.stat()
    except RuntimeError:  # a symlink loop (x.py -> y.py -> x.py)
        return Skipped(rel, "symlink")
    except OSError as err:
        return Skipped(rel, "symlink" if err.errno == errno.ELOOP else "unreadable")
    if not S_ISREG(stat.st_mode):  # a FIFO, socket or device: reading it could block forever
        return Skipped(rel, "special")
    for name in names:
        reason = path_rule(name, stat.st_size, max_bytes)
        if reason is not None:
            return Skipped(rel, reason)
    return Candidate(rel, path, stat.st_size, stat.st_mtime_ns)


def _skipped_dir(name: str) -> bool:
    return name in SKIPPED_DIRS or name.endswith(".egg-info")


def walk(
    root: Path, *, exclude: Sequence[str] = (), max_bytes: int = 1_000_000
) -> Iterator[Candidate | Skipped]:
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
                yield _classify(root, ignores, rel, here / name, max_bytes)


def walk_paths(
    root: Path, paths: Sequence[str], *, exclude: Sequence[str] = (), max_bytes: int = 1_000_000
) -> Iterator[Candidate | Skipped]:
    """The same decisions as `walk`, for just `paths` (repository-relative); missing files are not yielded."""
    root = root.resolve()
    ignores = _Ignores(root, exclude)
    for rel in paths:
        path = root / rel
        if not path.is_file() and not path.is_symlink():
            continue
        verdict = ignores.path_verdict(rel)
        yield Skipped(rel, verdict) if verdict is not None else _classify(root, ignores, rel, path, max_bytes)
