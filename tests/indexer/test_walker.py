"""What the walker indexes and what it skips, and why."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from housecoder.indexer.walker import Candidate, Skipped, walk, walk_paths


def _decisions(repo: Path, **kwargs: object) -> dict[str, str]:
    out: dict[str, str] = {}
    for entry in walk(repo, **kwargs):  # type: ignore[arg-type]
        out[entry.path] = "index" if isinstance(entry, Candidate) else entry.reason
    return out


@pytest.mark.parametrize(
    ("path", "decision"),
    [
        ("app/config.py", "index"),
        ("native/hash.c", "index"),
        ("README.md", "index"),
        ("ignored_dir/", "ignored"),
        ("debug.log", "ignored"),
        ("web/generated.js", "ignored"),  # nested .gitignore
        ("scratch/", "ignored"),  # .housecoderignore
        ("local_only.py", "ignored"),  # .git/info/exclude
        (".env", "secret"),
        (".env.production", "secret"),
        ("keys/deploy.pem", "secret"),
        ("keys/id_rsa", "secret"),
        ("assets/logo.png", "binary"),
        ("web/app.min.js", "generated"),
        ("gen/models_pb2.py", "generated"),
    ],
)
def test_path_decisions(repo: Path, path: str, decision: str) -> None:
    assert _decisions(repo)[path] == decision


def test_tool_and_vendored_directories_are_not_entered(repo: Path) -> None:
    paths = _decisions(repo)
    assert not any(path.startswith(("node_modules", "vendor/", ".git/")) for path in paths)


def test_size_cap_and_extra_excludes(repo: Path) -> None:
    decisions = _decisions(repo, max_bytes=300, exclude=("php/",))
    assert decisions["app/config.py"] == "too-large"
    assert decisions["php/"] == "ignored"


def test_symlinks_never_leave_the_repository(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.py"
    outside.write_text("def outside():\n    pass\n")
    os.symlink(outside, repo / "link_out.py")
    os.symlink(repo / "app" / "config.py", repo / "link_in.py")
    os.symlink(tmp_path, repo / "loop_dir")
    decisions = _decisions(repo)
    assert decisions["link_out.py"] == "symlink"
    assert decisions["loop_dir"] == "symlink"
    assert decisions["link_in.py"] == "index"


def test_walk_paths_agrees_with_walk(repo: Path) -> None:
    full = _decisions(repo)
    files = [path for path, decision in full.items() if not path.endswith("/")]
    probe = [
        *files,
        "ignored_dir/hidden.py",
        "scratch/notes.py",
        "node_modules/left-pad/index.js",
        "missing.py",
    ]
    partial = {
        entry.path: "index" if isinstance(entry, Candidate) else entry.reason
        for entry in walk_paths(repo, probe)
    }
    for path in files:
        assert partial[path] == full[path], path
    assert partial["ignored_dir/hidden.py"] == "ignored"
    assert partial["scratch/notes.py"] == "ignored"
    assert partial["node_modules/left-pad/index.js"] == "vendored"
    assert "missing.py" not in partial


def test_order_is_deterministic(repo: Path) -> None:
    assert [e.path for e in walk(repo)] == [e.path for e in walk(repo)]
    assert all(isinstance(entry, Candidate | Skipped) for entry in walk(repo))


def test_a_symlink_is_judged_by_its_target_too(repo: Path) -> None:
    os.symlink(repo / ".env", repo / "settings.txt")
    os.symlink(repo / "ignored_dir" / "hidden.py", repo / "visible.py")
    os.symlink(repo / "node_modules" / "left-pad" / "index.js", repo / "pad.js")
    decisions = _decisions(repo)
    assert decisions["settings.txt"] == "secret"
    assert decisions["visible.py"] == "ignored"
    assert decisions["pad.js"] == "vendored"


def test_a_file_name_that_is_not_utf8_is_skipped_not_fatal(repo: Path) -> None:
    name = os.fsencode(str(repo)) + b"/caf\xe9.py"
    with open(name, "wb") as handle:
        handle.write(b"x = 1\n")
    decisions = _decisions(repo)
    assert "bad-name" in decisions.values()


def test_a_deeper_gitignore_can_re_include(repo: Path) -> None:
    (repo / "logs").mkdir()
    (repo / "logs" / ".gitignore").write_text("!keep.log\n")
    (repo / "logs" / "keep.log").write_text("kept\n")
    (repo / "logs" / "drop.log").write_text("dropped\n")
    decisions = _decisions(repo)
    assert decisions["logs/keep.log"] == "index"
    assert decisions["logs/drop.log"] == "ignored"
    partial = {e.path: e for e in walk_paths(repo, ["logs/keep.log", "logs/drop.log"])}
    assert isinstance(partial["logs/keep.log"], Candidate) and isinstance(partial["logs/drop.log"], Skipped)


def test_symlink_loops_and_special_files_are_skipped_not_fatal(repo: Path) -> None:
    os.symlink(repo / "y.py", repo / "x.py")
    os.symlink(repo / "x.py", repo / "y.py")
    os.symlink(repo / "self.py", repo / "self.py")
    os.mkfifo(repo / "pipe.py")  # reading it would block forever
    decisions = _decisions(repo)
    assert (decisions["x.py"], decisions["y.py"], decisions["self.py"]) == ("symlink", "symlink", "symlink")
    assert decisions["pipe.py"] == "special"
    by_path = {entry.path: entry for entry in walk_paths(repo, ["x.py", "pipe.py"])}
    assert by_path["x.py"] == Skipped("x.py", "symlink") and "pipe.py" not in by_path  # never a Candidate
    assert decisions["app/config.py"] == "index"
