"""Idle work on the model thread (the tiny model): a prefilled prompt serves the next request, a real request
cancels idle work before it runs, an edited document or a model switch during idle work never gives a stale
or hung answer, and the suggestion after an accepted one is ready in the cache."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest
from settings_fixture import tiny_models

from housecoder.completion import CompletionInput
from housecoder.config import Settings, tuned
from housecoder.inference.base import Cancellation
from housecoder.server.documents import Located
from housecoder.server.session import Session

TEXT = "import json\n\n\ndef load_config(path):\n    with open(path) as f:\n        return json.\n\n\ndef save(path):\n    pass\n"
CURSOR = TEXT.index("json.\n") + len("json.")


def _settings(tiny_qwen_dir: Path, tmp_path: Path, **completion: object) -> Settings:
    return Settings.model_validate(
        {
            "models": tiny_models(tiny_qwen_dir, tmp_path / "cache" / "models"),
            # the random model's text: the keep gate would hide it
            "completion": {"max_new_tokens": 8, "min_keep": 0.0, "tuning": completion},
        }
    )


@pytest.fixture(params=["psm", "line-start"])
def session(request: pytest.FixtureRequest, tiny_qwen_dir: Path, tmp_path: Path) -> Iterator[Session]:
    root = tmp_path / "repo"
    root.mkdir()
    session = Session(_settings(tiny_qwen_dir, tmp_path, layout=request.param), [root])
    session.load_model().result()
    yield session
    session.shutdown()


def _located(session: Session) -> Located:
    return Located(session.folders[0], "cfg.py", session.folders[0] / "cfg.py", "python")


def _at(text: str, offset: int) -> CompletionInput:
    return CompletionInput("cfg.py", text, offset, "python", multi_line=False)


def _complete(session: Session, request: CompletionInput) -> object:
    return session.model_pool.submit(session.complete, _located(session), request, Cancellation()).result()


def _hold(session: Session) -> threading.Event:
    """Occupy the model thread until the returned event is set (what runs next is then decided by the test)."""
    release, started = threading.Event(), threading.Event()

    def hold() -> None:
        started.set()
        release.wait(60)

    session.model_pool.submit(hold)
    started.wait(60)
    return release


def test_a_prefilled_prompt_serves_the_next_request(session: Session) -> None:
    prefilled = session.warm(_located(session), _at(TEXT, CURSOR)).result()
    assert prefilled > 20
    answer = _complete(session, _at(TEXT, CURSOR))
    output = answer.output  # type: ignore[attr-defined]
    assert output.prompt_tokens - output.reused_tokens <= 1  # only the last prompt token runs again
    assert session.warmed[-1] == ("prefill", prefilled)
    status = session.status()  # transformers on the CPU measures no prefill rate: the CPU's budget
    assert status["prefill_tokens_per_s"] is None and status["snippet_tokens"] == 384


def test_a_real_request_cancels_idle_work_that_has_not_run(session: Session) -> None:
    release = _hold(session)
    idle = session.warm(_located(session), _at(TEXT, CURSOR))
    session.cancel_idle()  # what the server does before it queues a completion
    real = session.model_pool.submit(session.complete, _located(session), _at(TEXT, CURSOR), Cancellation())
    release.set()
    assert idle.result(60) == 0
    output = real.result(60).output
    # nothing was prefilled for it
    assert output is not None and output.prompt_tokens - output.reused_tokens > 20


def test_a_newer_idle_job_replaces_the_older(session: Session) -> None:
    release = _hold(session)
    first = session.warm(_located(session), _at(TEXT, CURSOR))
    second = session.warm(_located(session), _at(TEXT, len("import json\n")))
    release.set()
    assert first.result(60) == 0 and second.result(60) > 0


def test_an_edit_during_idle_prefill_gives_the_edited_documents_answer(
    session: Session, tiny_qwen_dir: Path, tmp_path: Path
) -> None:
    session.warm(_located(session), _at(TEXT, CURSOR)).result()
    edited = TEXT.replace("def load_config(path):", "def load_settings(name, path):")
    offset = edited.index("json.\n") + len("json.")
    hot = _complete(session, _at(edited, offset)).output  # type: ignore[attr-defined]
    cold_settings = session.settings.model_copy(
        update={"inference": tuned(session.settings.inference, kv_cache_entries=0)}
    )
    cold = Session(cold_settings, session.folders)
    cold.load_model().result()
    try:
        reference = (
            cold.model_pool.submit(cold.complete, _located(cold), _at(edited, offset), Cancellation())
            .result()
            .output
        )
    finally:
        cold.shutdown()
    assert reference is not None and reference.reused_tokens == 0
    assert (hot.raw, hot.text) == (reference.raw, reference.text)
    assert 0 < hot.reused_tokens < hot.prompt_tokens  # the unchanged front came from the idle prefill


def test_a_model_switch_during_idle_work_neither_hangs_nor_serves_the_old_model(
    session: Session, tiny_qwen_dir: Path, tmp_path: Path
) -> None:
    release = _hold(session)
    idle = session.warm(_located(session), _at(TEXT, CURSOR))
    queued = session.model_pool.submit(session.complete, _located(session), _at(TEXT, CURSOR), Cancellation())
    other = session.settings.model_copy(update={"models": tuned(session.settings.models, dtype="bfloat16")})
    session.update_settings(other)  # the reload queues behind the idle job and the request
    release.set()
    assert idle.result(60) == 0  # the model it would have warmed is being replaced
    assert queued.result(60).output is None  # not a hang waiting for the reload queued behind it
    import torch

    assert session.loaded().backend.loaded.model.dtype == torch.bfloat16
    after = _complete(session, _at(TEXT, CURSOR)).output  # type: ignore[attr-defined]
    assert after is not None and after.reused_tokens == 0  # a fresh model: no KV from the old one


def test_the_suggestion_after_an_accepted_one_is_computed_into_the_cache(
    tiny_qwen_dir: Path, tmp_path: Path
) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    session = Session(_settings(tiny_qwen_dir, tmp_path), [root])
    session.load_model().result()
    try:
        shown = _complete(session, _at(TEXT, CURSOR)).output  # type: ignore[attr-defined]
        accepted = TEXT[:CURSOR] + "load(f)" + TEXT[CURSOR:]  # whatever was shown: the user took this text
        after = _at(accepted, CURSOR + len("load(f)"))
        assert session.warm(_located(session), after, complete=True).result(60) == -1
        again = _complete(session, after).output  # type: ignore[attr-defined]
        assert shown is not None and again.cached == "prompt"
    finally:
        session.shutdown()


def test_idle_work_never_waits_for_a_model_that_is_loading(tiny_qwen_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    session = Session(_settings(tiny_qwen_dir, tmp_path), [root])
    try:
        release = _hold(session)
        loading: Future[object] = session.load_model()  # type: ignore[assignment]
        idle = session.warm(_located(session), _at(TEXT, CURSOR))
        release.set()
        loading.result(60)
        assert idle.result(60) > 0  # queued after the load, it warmed the loaded model
    finally:
        session.shutdown()


def test_the_request_a_precompute_is_for_waits_for_it_and_a_prefill_never_replaces_it(
    tiny_qwen_dir: Path, tmp_path: Path
) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    session = Session(_settings(tiny_qwen_dir, tmp_path), [root])
    session.load_model().result()
    try:
        located, after = _located(session), _at(TEXT, CURSOR)
        release = _hold(session)
        precompute = session.warm(located, after, complete=True)
        assert session.warm(located, _at(TEXT, 0)).result(1) == 0  # a cursor report meanwhile: ignored
        session.cancel_idle(keep=after)  # the user accepted: the request for that very cursor comes
        real = session.model_pool.submit(session.complete, located, after, Cancellation())
        release.set()
        assert precompute.result(60) == -1
        assert real.result(60).output.cached == "prompt"
        session.cancel_idle(keep=_at(TEXT, 0))  # any other request cancels idle work (none left here)
    finally:
        session.shutdown()
