"""Which of the repository's files train the adapter and which are held out to evaluate it (`housecoder train`).

Whole files are held out, so no held-out middle has its own file in the training set.
The held-out set is, in order of preference:

- `since`: the files changed after a commit the user names (committed, uncommitted
  or untracked), as the benchmark's `--since` does for its tasks;
- `git-newer`: the most recently changed `fraction` of the files by their last
  commit (one `git log`; uncommitted and untracked files count as newest), so the
  evaluation looks like the code written next;
- `hash`: a seeded hash of each path, when there is no git, no commit yet, or every
  file shares one last-commit time.

Either side always has at least one file; the outcome depends only on the inputs.
"""

from __future__ import annotations

import hashlib
import math
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from housecoder.training.errors import TooSmall, TrainingError

UNCOMMITTED = math.inf  # the "commit time" of a file with changes no commit holds


@dataclass(frozen=True)
class Split:
    """Training and held-out files (repository-relative, sorted) and how they were told apart."""

    train: tuple[str, ...]
    held_out: tuple[str, ...]
    method: str  # "since", "git-newer" or "hash"
    # The commit at the cut (short sha): for "since" the named commit; for "git-newer" the last
    # commit of the most recently changed training file (every held-out file was last changed
    # in it or later; HEAD when that file is uncommitted too); None for "hash".
    cut: str | None

    def describe(self) -> str:
        """One line for the CLI."""
        counts = f"held out {len(self.held_out)} of {len(self.held_out) + len(self.train)} files"
        if self.method == "since":
            return f"{counts} changed after {self.cut} (--since)"
        if self.method == "git-newer":
            return f"{counts}, the most recently changed ones (git, cut at {self.cut})"
        return f"{counts}, picked by a seeded hash of their paths (no usable git history)"


def split_files(
    root: Path, files: Sequence[str], *, fraction: float, seed: int, since: str | None = None
) -> Split:
    """Split `files` ('/'-separated paths relative to `root`) into training and held-out files.

    `fraction` is the held-out share for "git-newer" and "hash" (rounded, at least one
    file, at most all but one). Raises `TooSmall` when either side would be empty and
    `TrainingError` when `since` cannot be used (no git, not a work tree, no such commit).
    """
    paths = sorted(set(files))
    if len(paths) < 2:
        raise TooSmall(
            f"only {len(paths)} usable source file{'' if len(paths) == 1 else 's'}: need at least 2 to hold one out"
        )
    if since is not None:
        return _split_since(root, paths, since)
    size = min(len(paths) - 1, max(1, round(fraction * len(paths))))
    times = _commit_times(root, paths)
    if times is not None and len({time for time, _ in times.values()}) > 1:
        newest = sorted(paths, key=lambda path: (times[path][0], _hash(seed, path)), reverse=True)
        cut = times[newest[size]][1]  # the newest training file's last commit
        return Split(tuple(sorted(newest[size:])), tuple(sorted(newest[:size])), "git-newer", cut)
    ordered = sorted(paths, key=lambda path: _hash(seed, path))
    return Split(tuple(sorted(ordered[size:])), tuple(sorted(ordered[:size])), "hash", None)


def _split_since(root: Path, paths: list[str], since: str) -> Split:
    if shutil.which("git") is None:
        raise TrainingError(f"--since {since} needs git, which is not installed")
    if not _in_work_tree(root):
        raise TrainingError(f"--since {since}: {root} is not inside a git work tree")
    found = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--verify", "--quiet", "--short", f"{since}^{{commit}}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if found.returncode != 0:
        raise TrainingError(f"--since {since}: no such commit in {root}")
    cut = found.stdout.strip()
    changed = set(_names(root, "diff", "--name-only", "--relative", "--no-renames", "-z", cut)) | _untracked(
        root
    )
    held = [path for path in paths if path in changed]
    train = [path for path in paths if path not in changed]
    if not held:
        raise TooSmall(
            f"no file changed after {since} ({cut}): all {len(paths)} files would train; name an older commit"
        )
    if not train:
        raise TooSmall(
            f"all {len(paths)} files changed after {since} ({cut}): none left to train on; name a newer commit"
        )
    return Split(tuple(train), tuple(held), "since", cut)


def _commit_times(root: Path, paths: list[str]) -> dict[str, tuple[float, str]] | None:
    """path -> (commit time of its last change, short sha), uncommitted ones (UNCOMMITTED, HEAD);
    None without git, outside a work tree or before the first commit."""
    if shutil.which("git") is None or not _in_work_tree(root):
        return None
    head = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--verify", "--quiet", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    if head.returncode != 0:
        return None
    dirty = set(_names(root, "diff", "--name-only", "--relative", "--no-renames", "-z", "HEAD")) | _untracked(
        root
    )
    times = {path: (UNCOMMITTED, head.stdout.strip()) for path in paths if path in dirty}
    wanted = set(paths) - set(times)
    for path, time, commit in _last_commits(root, wanted):
        times[path] = (time, commit)
    for path in wanted - set(times):
        times[path] = (UNCOMMITTED, head.stdout.strip())  # ignored by git yet listed: no commit holds it
    return times


def _last_commits(root: Path, wanted: set[str]) -> Iterator[tuple[str, float, str]]:
    """(path, commit time, short sha) of the newest commit touching each path in `wanted`, from one
    `git log` read newest first and stopped once every path has been seen."""
    command = [
        "git",
        "-C",
        str(root),
        "log",
        "-z",
        "--no-renames",
        "--relative",
        "--name-only",
        "--format=%x01%ct %h",
    ]
    left = set(wanted)
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        stdout, stderr = process.stdout, process.stderr
        assert stdout is not None and stderr is not None
        time, commit, pending = 0.0, "", b""
        for chunk in iter(lambda: stdout.read(1 << 16), b""):
            *fields, pending = (pending + chunk).split(b"\0")
            for field in fields:
                name = field.decode("utf-8", "surrogateescape").lstrip("\n")
                if name.startswith("\x01"):
                    stamp, commit = name[1:].split(" ", 1)
                    time = float(stamp)
                elif name in left:
                    left.discard(name)
                    yield name, time, commit
            if not left:
                process.kill()
                return
        error = stderr.read().decode(errors="replace").strip()
        if process.wait() != 0:
            raise TrainingError(f"git log failed in {root}: {_last_line(error)}")


def _in_work_tree(root: Path) -> bool:
    found = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--is-inside-work-tree"],
        capture_output=True,
        text=True,
        check=False,
    )
    return found.returncode == 0 and found.stdout.strip() == "true"


def _untracked(root: Path) -> set[str]:
    return set(_names(root, "ls-files", "-z", "--others", "--exclude-standard"))


def _names(root: Path, *args: str) -> list[str]:
    """The NUL-separated paths a git command prints; a one-line TrainingError when it fails."""
    result = subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=False)
    if result.returncode != 0:
        raise TrainingError(
            f"git {args[0]} failed in {root}: {_last_line(result.stderr.decode(errors='replace'))}"
        )
    return [name for name in result.stdout.decode("utf-8", "surrogateescape").split("\0") if name]


def _last_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    return lines[-1] if lines else "no message"


def _hash(seed: int, path: str) -> str:
    return hashlib.sha256(f"{seed}:{path}".encode()).hexdigest()
