"""Held-out files for training: by a seeded hash, by git recency, or after a named commit; in real git repositories."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from housecoder.training.errors import TooSmall, TrainingError
from housecoder.training.split import split_files

FILES = [f"pkg/module_{index}.py" for index in range(10)]


def git(root: Path, *args: str, day: int = 1) -> str:
    """Run git in `root` as a fixed author, with commits dated 2024-01-`day`."""
    date = f"2024-01-{day:02d}T12:00:00+00:00"
    env = {**os.environ, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    command = [
        "git",
        "-C",
        str(root),
        "-c",
        "user.name=Test",
        "-c",
        "user.email=test@example.com",
        "-c",
        "commit.gpgsign=false",
        *args,
    ]
    return subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout.strip()


def write(root: Path, paths: list[str], content: str = "x = 1\n") -> None:
    for path in paths:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(content)


def commit(root: Path, paths: list[str], day: int) -> str:
    """Write `paths` (new content each day) and commit them on 2024-01-`day`; the short sha."""
    write(root, paths, f"x = {day}\n")
    git(root, "add", *paths)
    git(root, "commit", "-q", "-m", f"day {day}", day=day)
    return git(root, "rev-parse", "--short", "HEAD")


@pytest.fixture
def history(tmp_path: Path) -> tuple[Path, dict[int, str]]:
    """A repository whose files 0-5 were last changed on day 1, 6-7 on day 2, 8 on day 3, 9 on day 4."""
    git(tmp_path, "init", "-q")
    commits = {
        1: commit(tmp_path, FILES[:8], 1),
        2: commit(tmp_path, FILES[6:8], 2),
        3: commit(tmp_path, FILES[8:9], 3),
        4: commit(tmp_path, FILES[9:], 4),
    }
    return tmp_path, commits


def test_hash_split_is_deterministic_and_sized(tmp_path: Path) -> None:
    split = split_files(tmp_path, FILES, fraction=0.3, seed=0)
    assert split.method == "hash" and split.cut is None
    assert len(split.held_out) == 3 and len(split.train) == 7
    assert sorted(split.train + split.held_out) == sorted(FILES)
    assert split == split_files(tmp_path, list(reversed(FILES)), fraction=0.3, seed=0)
    assert any(
        split_files(tmp_path, FILES, fraction=0.3, seed=seed).held_out != split.held_out
        for seed in range(1, 6)
    )
    assert (
        split.describe()
        == "held out 3 of 10 files, picked by a seeded hash of their paths (no usable git history)"
    )


@pytest.mark.parametrize(("fraction", "held"), [(0.01, 1), (0.15, 2), (0.5, 5), (0.99, 9)])
def test_either_side_keeps_a_file(tmp_path: Path, fraction: float, held: int) -> None:
    split = split_files(tmp_path, FILES, fraction=fraction, seed=3)
    assert (len(split.held_out), len(split.train)) == (held, 10 - held)


def test_one_commit_for_everything_falls_back_to_hash(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    commit(tmp_path, FILES, 1)
    assert split_files(tmp_path, FILES, fraction=0.3, seed=0).method == "hash"
    git(tmp_path / "pkg", "init", "-q")  # a repository with no commit yet
    assert (
        split_files(tmp_path / "pkg", [path.split("/")[1] for path in FILES], fraction=0.3, seed=0).method
        == "hash"
    )


def test_git_newer_holds_out_the_most_recently_changed(history: tuple[Path, dict[int, str]]) -> None:
    root, commits = history
    split = split_files(root, FILES, fraction=0.2, seed=0)
    assert split.method == "git-newer"
    assert split.held_out == (FILES[8], FILES[9])
    assert split.cut == commits[2]  # the newest training files (6 and 7) were last changed on day 2
    assert (
        split.describe()
        == f"held out 2 of 10 files, the most recently changed ones (git, cut at {commits[2]})"
    )
    wider = split_files(root, FILES, fraction=0.3, seed=0)
    assert set(wider.held_out) > {FILES[8], FILES[9]} and len(wider.held_out) == 3
    assert set(wider.held_out) - {FILES[8], FILES[9]} <= {FILES[6], FILES[7]}
    assert wider == split_files(root, FILES, fraction=0.3, seed=0)


def test_git_newer_from_a_subfolder_uses_its_relative_paths(history: tuple[Path, dict[int, str]]) -> None:
    root, _ = history
    names = [path.split("/")[1] for path in FILES]
    split = split_files(root / "pkg", names, fraction=0.1, seed=0)
    assert (split.method, split.held_out) == ("git-newer", ("module_9.py",))


def test_uncommitted_and_untracked_files_count_as_newest(history: tuple[Path, dict[int, str]]) -> None:
    root, commits = history
    (root / FILES[0]).write_text("x = 'edited'\n")
    write(root, ["pkg/brand_new.py"])
    files = [*FILES, "pkg/brand_new.py"]
    split = split_files(root, files, fraction=0.25, seed=0)
    assert split.held_out == ("pkg/brand_new.py", FILES[0], FILES[9])
    assert split.cut == commits[3]


def test_since_holds_out_files_changed_after_the_commit(history: tuple[Path, dict[int, str]]) -> None:
    root, commits = history
    write(root, ["pkg/brand_new.py"])
    (root / FILES[1]).write_text("x = 'edited'\n")
    split = split_files(root, [*FILES, "pkg/brand_new.py"], fraction=0.5, seed=0, since=commits[2])
    assert split.method == "since" and split.cut == commits[2]
    assert split.held_out == ("pkg/brand_new.py", FILES[1], FILES[8], FILES[9])
    assert len(split.train) == 7
    assert split.describe() == f"held out 4 of 11 files changed after {commits[2]} (--since)"
    assert split_files(root, FILES, fraction=0.5, seed=0, since="HEAD~1").held_out == (FILES[1], FILES[9])


def test_too_few_files(tmp_path: Path) -> None:
    with pytest.raises(TooSmall, match=r"^only 1 usable source file: need at least 2 to hold one out$"):
        split_files(tmp_path, ["a.py", "a.py"], fraction=0.5, seed=0)
    with pytest.raises(TooSmall, match=r"^only 0 usable source files"):
        split_files(tmp_path, [], fraction=0.5, seed=0)


def test_since_that_leaves_a_side_empty(history: tuple[Path, dict[int, str]]) -> None:
    root, commits = history
    with pytest.raises(
        TooSmall, match=rf"^no file changed after HEAD \({commits[4]}\): all 10 files would train"
    ):
        split_files(root, FILES, fraction=0.5, seed=0, since="HEAD")
    with pytest.raises(TooSmall, match=r"^all 2 files changed after HEAD~2 \(\w+\): none left to train on"):
        split_files(root, FILES[8:], fraction=0.5, seed=0, since="HEAD~2")


def test_since_needs_a_commit_in_a_git_work_tree(
    history: tuple[Path, dict[int, str]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    root, _ = history
    with pytest.raises(TrainingError, match=r"^--since nope: no such commit in ") as caught:
        split_files(root, FILES, fraction=0.5, seed=0, since="nope")
    assert "\n" not in str(caught.value)
    elsewhere = tmp_path_factory.mktemp("plain")
    with pytest.raises(TrainingError, match=r"^--since abc123: .* is not inside a git work tree$"):
        split_files(elsewhere, FILES, fraction=0.5, seed=0, since="abc123")
