"""The session's adapter: picked from the registry at load, re-scanned by reloadAdapter, reported by status."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from registry_fixture import register
from settings_fixture import tiny_models

from housecoder.config import Settings
from housecoder.models.adapters import base_fingerprint
from housecoder.models.errors import AdapterMismatch
from housecoder.server.session import Session


@pytest.fixture
def settings(tiny_qwen_dir: Path, tmp_path: Path) -> Settings:
    return Settings.model_validate(
        {
            "models": tiny_models(tiny_qwen_dir, tmp_path / "cache" / "models"),
            "train": {"output": str(tmp_path / "adapters")},
            "completion": {"min_keep": 0.0},  # the random model's text: the keep gate would hide it
        }
    )


@pytest.fixture
def folders(tmp_path: Path) -> list[Path]:
    roots = [tmp_path / "first", tmp_path / "second"]
    for root in roots:
        root.mkdir()
    return roots


@pytest.fixture
def session(settings: Settings, folders: list[Path]) -> Iterator[Session]:
    session = Session(settings, folders)
    yield session
    session.shutdown()


def test_the_first_folder_with_a_registered_adapter_supplies_it_at_load(
    session: Session, settings: Settings, folders: list[Path], tiny_qwen_dir: Path, tiny_adapter_dir: Path
) -> None:
    adapter = register(
        settings, folders[1], "run1", base_fingerprint(tiny_qwen_dir), peft_dir=tiny_adapter_dir
    )
    session.load_model().result()
    status = session.status()
    assert status["adapter"] == str(adapter) and status["adapter_automatic"] is True
    assert status["adapter_meta"]["summary"] == "held-out exact match 25.0 -> 50.0%"
    assert status["adapter_meta"]["verdict"] == "activated: beat the base model"


def test_reload_without_argument_picks_up_a_newly_registered_adapter(
    session: Session,
    settings: Settings,
    folders: list[Path],
    tiny_qwen_dir: Path,
    tiny_adapter_dir: Path,
    tmp_path: Path,
) -> None:
    session.load_model().result()
    assert session.status()["adapter"] is None and session.status()["adapter_meta"] is None
    assert session.set_adapter(None) == {"adapter": None, "automatic": False}

    fingerprint = base_fingerprint(tiny_qwen_dir)
    trained = register(settings, folders[0], "run1", fingerprint, peft_dir=tiny_adapter_dir)
    register(
        settings,
        folders[0],
        "run2",
        fingerprint,
        peft_dir=tiny_adapter_dir,
        created="2025-02-01T00:00:00+00:00",
        beat_base=False,
    )
    assert session.set_adapter(None) == {"adapter": str(trained), "automatic": True}
    assert session.status()["adapter_automatic"] is True

    # A named adapter is checked: another base is refused and the current adapter stays on.
    other = register(settings, tmp_path, "other", "f" * 64, peft_dir=tiny_adapter_dir)
    with pytest.raises(AdapterMismatch):
        session.set_adapter(str(other))
    assert session.status()["adapter"] == str(trained)

    plain = tmp_path / "plain"
    shutil.copytree(tiny_adapter_dir, plain)
    assert session.set_adapter(str(plain)) == {"adapter": str(plain), "automatic": False}
    status = session.status()
    assert status["adapter_automatic"] is False and status["adapter_meta"] is None


def test_no_automatic_adapter_when_turned_off(
    settings: Settings, folders: list[Path], tiny_qwen_dir: Path, tiny_adapter_dir: Path
) -> None:
    register(settings, folders[0], "run1", base_fingerprint(tiny_qwen_dir), peft_dir=tiny_adapter_dir)
    off = settings.model_copy(update={"models": settings.models.model_copy(update={"auto_adapter": False})})
    session = Session(off, folders)
    try:
        session.load_model().result()
        assert session.status()["adapter"] is None
        assert session.set_adapter(None)["adapter"] is None
    finally:
        session.shutdown()


def test_a_refitted_keep_model_is_used_by_the_folders_engine_from_its_next_suggestion(
    session: Session, folders: list[Path]
) -> None:
    from housecoder.completion import CompletionInput
    from housecoder.inference.base import Cancellation
    from housecoder.keep import default_model
    from housecoder.server.documents import Located

    session.load_model().result()
    text = "def compute(values):\n"
    located = Located(folders[0], "draft.py", folders[0] / "draft.py", "python")
    request = CompletionInput("draft.py", text, len(text), "python")
    session.model_pool.submit(session.complete, located, request, Cancellation()).result()
    engine = session._folders[folders[0]].engine
    assert engine is not None and engine.keep == default_model()
    refitted = replace(default_model(), intercept=default_model().intercept + 1.0)
    session.use_keep_model(folders[0], refitted)
    session.use_keep_model(folders[1], refitted)  # no engine there yet: it reads the saved file when built
    assert engine.keep is refitted and session._folders[folders[1]].engine is None
