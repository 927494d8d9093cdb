"""Indexing the fixture repository into a real LanceDB with the real embedder: content, increments, search."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from housecoder.config import IndexConfig, Settings
from housecoder.indexer.errors import IncompatibleIndex, IndexNotFound, NotADirectory
from housecoder.indexer.indexer import Indexer
from housecoder.indexer.service import open_for_indexing, open_for_search
from housecoder.indexer.store import IndexStore

SETTINGS = Settings()


def _index(repo: Path, location: Path, embedder: Any, *, full: bool = False) -> tuple[Indexer, Any]:
    store = open_for_indexing(repo, SETTINGS, str(location), embedder.dimension, full=full)
    indexer = Indexer(repo, IndexConfig(), store, embedder)
    return indexer, indexer.run()


def _paths(location: Path, table: str = "chunks") -> set[str]:
    store = open_for_search(str(location))
    return {row["path"] for row in store.tables[table].to_arrow().select(["path"]).to_pylist()}


def test_index_holds_code_and_never_secrets_or_ignored_files(repo: Path, tmp_path: Path, minilm: Any) -> None:
    _, summary = _index(repo, tmp_path / "index", minilm)
    paths = _paths(tmp_path / "index")
    assert {"app/config.py", "web/user.ts", "native/hash.c", "php/Router.php", "README.md"} <= paths
    forbidden = set(
        """
        .env .env.production keys/deploy.pem keys/id_rsa app/cloud.py app/leaked_key.txt ignored_dir/hidden.py
        debug.log web/generated.js scratch/notes.py local_only.py node_modules/left-pad/index.js vendor/lib.go
        assets/logo.png data/blob.dat web/app.min.js gen/models_pb2.py gen/schema.py legacy/latin1.py
        """.split()
    )
    assert not paths & forbidden
    assert (
        summary.skipped["secret"] >= 6 and summary.skipped["ignored"] >= 4 and summary.skipped["binary"] >= 2
    )
    assert summary.skipped["generated"] >= 3 and summary.skipped["not-utf8"] == 1
    assert summary.fell_back == 1  # broken/broken.py: indexed as line windows
    store = open_for_search(str(tmp_path / "index"))
    definition = store.definitions("djb2_hash")[0]
    assert (definition["path"], definition["start_line"], definition["kind"]) == (
        "native/hash.c",
        8,
        "function",
    )
    assert not any("hunter2" in row["text"] for row in store.tables["chunks"].to_arrow().to_pylist())


def test_no_planted_secret_kind_reaches_the_index(tmp_path: Path, minilm: Any) -> None:
    from test_secrets import PLANTED  # every kind the secret rule knows, each in its own file

    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "clean.py").write_text("def total(items):\n    return sum(items)\n")
    for number, text in enumerate(PLANTED.values()):
        (repo / f"module_{number}.py").write_text("def f():\n    return 1\n" + text)
    _, summary = _index(repo, tmp_path / "index", minilm)
    assert _paths(tmp_path / "index") == {"clean.py"}
    assert summary.skipped["secret"] == len(PLANTED)


def test_rerun_touches_only_changed_files_and_deletions_remove_rows(
    repo: Path, tmp_path: Path, minilm: Any
) -> None:
    indexer, first = _index(repo, tmp_path / "index", minilm)
    assert first.indexed > 10
    again = indexer.run()
    assert (again.indexed, again.deleted, again.chunks_added) == (0, 0, 0)
    assert again.unchanged == len(indexer.store.files())  # every known file, read or not

    (repo / "svc" / "server.go").write_text(
        (repo / "svc" / "server.go").read_text() + "\nfunc Shutdown() {}\n"
    )
    (repo / "ruby" / "invoice_mailer.rb").unlink()
    changed = indexer.run()
    assert (changed.indexed, changed.deleted) == (1, 1)
    assert "ruby/invoice_mailer.rb" not in _paths(tmp_path / "index")
    assert "ruby/invoice_mailer.rb" not in _paths(tmp_path / "index", "symbols")
    assert open_for_search(str(tmp_path / "index")).definitions("Shutdown")

    # touching a file without changing its bytes re-reads it but re-embeds nothing
    chunks_before = indexer.store.count("chunks")
    os.utime(repo / "app" / "cli.py", ns=(1, 1))
    touched = indexer.run()
    assert (touched.indexed, touched.chunks_added, touched.unchanged) == (0, 0, again.unchanged - 1)
    assert indexer.store.count("chunks") == chunks_before and "app/cli.py" in _paths(tmp_path / "index")
    assert indexer.store.files()["app/cli.py"]["mtime_ns"] == 1
    assert indexer.run().unchanged == again.unchanged - 1  # the new stat was recorded: nothing re-read

    # a file that becomes ignored leaves the index
    (repo / ".housecoderignore").write_text("scratch/\nphp/\n")
    ignored = indexer.run()
    assert "php/Router.php" not in _paths(tmp_path / "index")
    assert ignored.deleted == 1


def test_update_refreshes_one_saved_file(repo: Path, tmp_path: Path, minilm: Any) -> None:
    indexer, _ = _index(repo, tmp_path / "index", minilm)
    target = repo / "app" / "config.py"
    target.write_text(target.read_text() + "\n\ndef save_config(path, data):\n    return None\n")
    summary = indexer.update([target])
    assert (summary.indexed, summary.files_seen) == (1, 1)
    assert open_for_search(str(tmp_path / "index")).definitions("save_config")
    target.unlink()
    assert indexer.update(["app/config.py"]).deleted == 1
    assert "app/config.py" not in _paths(tmp_path / "index")


def test_search_modes(repo: Path, tmp_path: Path, minilm: Any) -> None:
    _index(repo, tmp_path / "index", minilm)
    store = open_for_search(str(tmp_path / "index"))
    paraphrase = "read settings from a json file on disk"
    vector = minilm.embed([paraphrase])[0]
    assert "app/config.py" in [hit.path for hit in store.dense(vector, 3)]
    assert "app/config.py" in [hit.path for hit in store.hybrid(paraphrase, vector, 3)]
    exact = store.bm25("djb2_hash", 3)
    assert exact[0].path == "native/hash.c" and "djb2_hash" in exact[0].text
    assert store.bm25("computeTotal", 1)[0].path == "java/Invoice.java"
    assert store.bm25("compute total", 1)[0].path == "java/Invoice.java"  # split identifiers
    # the current file is never returned: its text is already in the prompt
    excluded = store.hybrid(paraphrase, vector, 10, exclude_paths=["app/config.py"])
    assert excluded and "app/config.py" not in {hit.path for hit in excluded}
    assert store.bm25("", 3) == [] and store.bm25("!!!", 3) == []


def test_interrupted_run_leaves_the_previous_index_readable(
    repo: Path, tmp_path: Path, minilm: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    indexer, _ = _index(repo, tmp_path / "index", minilm)
    before = open_for_search(str(tmp_path / "index")).count("chunks")
    (repo / "svc" / "server.go").write_text("package svc\n\nfunc Replaced() {}\n")

    def crash(self: IndexStore, name: str, rows: list[dict[str, Any]]) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(IndexStore, "add", crash)
    with pytest.raises(KeyboardInterrupt):
        indexer.run()  # rows of server.go were deleted, the new ones never added
    reader = open_for_search(str(tmp_path / "index"))
    assert reader.count("chunks") == before and reader.definitions("StartServer")
    monkeypatch.undo()
    recovered = Indexer(
        repo,
        IndexConfig(),
        open_for_indexing(repo, SETTINGS, str(tmp_path / "index"), minilm.dimension, full=False),
        minilm,
    ).run()
    assert recovered.rolled_back and recovered.indexed == 1
    final = open_for_search(str(tmp_path / "index"))
    assert final.definitions("Replaced") and not final.definitions("StartServer")


def test_a_new_index_commits_its_empty_state(tmp_path: Path, minilm: Any) -> None:
    store = IndexStore(str(tmp_path / "fresh"), dim=minilm.dimension, embedder="x")
    assert set(store.meta["versions"]) == {"chunks", "symbols", "files"}


def test_bad_inputs(tmp_path: Path, minilm: Any) -> None:
    with pytest.raises(NotADirectory):
        open_for_indexing(tmp_path / "nope", SETTINGS, str(tmp_path / "index"), minilm.dimension, full=False)
    with pytest.raises(IndexNotFound, match="housecoder index"):
        open_for_search(str(tmp_path / "no-index"))
    store = IndexStore(str(tmp_path / "old"), dim=minilm.dimension, embedder="x")
    store._write_meta(store.meta | {"format": 0})
    with pytest.raises(IncompatibleIndex, match="--full"):
        IndexStore(str(tmp_path / "old"), dim=minilm.dimension, embedder="x")
    (tmp_path / "repo").mkdir()
    rebuilt = open_for_indexing(
        tmp_path / "repo", SETTINGS, str(tmp_path / "old"), minilm.dimension, full=True
    )
    assert rebuilt.count("chunks") == 0


def test_an_interrupted_full_rebuild_leaves_the_previous_index_readable(
    repo: Path, tmp_path: Path, minilm: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _index(repo, tmp_path / "index", minilm)
    before = open_for_search(str(tmp_path / "index")).count("chunks")

    def crash(self: IndexStore, name: str, rows: list[dict[str, Any]]) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(IndexStore, "add", crash)
    rebuild = Indexer(
        repo,
        IndexConfig(),
        open_for_indexing(repo, SETTINGS, str(tmp_path / "index"), minilm.dimension, full=True),
        minilm,
    )
    with pytest.raises(KeyboardInterrupt):
        rebuild.run()  # every table was emptied, nothing added yet
    reader = open_for_search(str(tmp_path / "index"))
    assert reader.count("chunks") == before and reader.definitions("StartServer")
    monkeypatch.undo()
    _index(repo, tmp_path / "index", minilm, full=True)
    assert open_for_search(str(tmp_path / "index")).count("chunks") == before


def test_one_writer_at_a_time(repo: Path, tmp_path: Path, minilm: Any) -> None:
    from housecoder.indexer.errors import IndexBusy

    location = str(tmp_path / "index")
    first = open_for_indexing(repo, SETTINGS, location, minilm.dimension, full=False)
    second = Indexer(
        repo, IndexConfig(), open_for_indexing(repo, SETTINGS, location, minilm.dimension, full=False), minilm
    )
    with first.write_lock(), pytest.raises(IndexBusy, match="another housecoder run"):
        second.run()
    assert second.run().indexed > 0  # released: the next run writes
