"""Which buffers the server may use: workspace placement by resolved path, and context from other buffers."""

from __future__ import annotations

from pathlib import Path

from housecoder.server.documents import RecentDocuments, locate, uri_to_path


def test_locate_inside_outside_and_non_file_uris(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "mod.py").write_text("x = 1\n")
    (tmp_path / "other.py").write_text("y = 2\n")
    (root / "link.py").symlink_to(tmp_path / "other.py")
    folders = [root.resolve()]
    inside = locate((root / "pkg" / "mod.py").as_uri(), folders)
    assert (inside.root, inside.relative, inside.language) == (root.resolve(), "pkg/mod.py", "python")
    assert locate((tmp_path / "other.py").as_uri(), folders).root is None
    # a symlink out of the workspace is outside
    assert locate((root / "link.py").as_uri(), folders).root is None
    untitled = locate("untitled:Untitled-1", folders, "typescript")
    assert (untitled.root, untitled.path, untitled.language) == (None, None, "typescript")
    assert locate((root / "pkg" / ".." / ".." / "other.py").as_uri(), folders).root is None


def test_innermost_folder_wins_and_uris_are_decoded(tmp_path: Path) -> None:
    outer, inner = tmp_path / "outer", tmp_path / "outer" / "inner dir"
    inner.mkdir(parents=True)
    where = locate((inner / "a.go").as_uri(), [outer, inner])
    assert (where.root, where.relative, where.language) == (inner, "a.go", "go")
    assert uri_to_path("file:///tmp/a%20b.py") == Path("/tmp/a b.py")
    assert uri_to_path("https://example.com/a.py") is None


def test_context_documents_are_recent_same_folder_and_bounded(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    folders = [a, b]
    recent = RecentDocuments(limit=3)
    uris = {
        name: (folder / f"{name}.py").as_uri()
        for folder, name in ((a, "one"), (a, "two"), (b, "three"), (a, "big"))
    }
    texts = {
        uris["one"]: "1",
        uris["two"]: "2",
        uris["three"]: "3",
        uris["big"]: "x" * 100,
        "untitled:x": "u",
    }
    for name in ("one", "two", "three", "big"):
        recent.touch(uris[name])
    recent.touch("untitled:x")  # pushes "one" out (limit 3)
    current = locate(uris["two"], folders)
    # big is too big, one forgotten
    assert recent.context_for(current, uris["two"], texts, folders, max_chars=50) == []
    recent.touch(uris["one"])
    docs = recent.context_for(current, uris["two"], texts, folders, max_chars=50)
    assert [doc.path for doc in docs] == ["one.py"]
    outside = locate("untitled:x", folders)
    assert recent.context_for(outside, "untitled:x", texts, folders, max_chars=50) == []
