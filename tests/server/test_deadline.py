"""`server.request_timeout_ms`: a completion that runs past it answers empty and frees the model thread."""

from __future__ import annotations

from pathlib import Path

from settings_fixture import tiny_models

from housecoder.completion import CompletionInput
from housecoder.config import Settings
from housecoder.inference.base import Cancellation
from housecoder.server.documents import Located
from housecoder.server.session import Session

TEXT = "def compute(values):\n"


def _session(tiny_qwen_dir: Path, tmp_path: Path, timeout_ms: int) -> Session:
    root = tmp_path / "repo"
    root.mkdir(exist_ok=True)
    settings = Settings.model_validate(
        {
            "models": tiny_models(tiny_qwen_dir, tmp_path / "cache" / "models"),
            # a long generation from the random model: thousands of tokens unless something stops it
            "completion": {
                "max_new_tokens": 3000,
                "max_ms": 0,
                "min_keep": 0.0,  # the keep gate would give it up after a token
                "tuning": {"stop_early": False, "layout": "psm"},
            },
            "context": {"enabled": False},
            "server": {"request_timeout_ms": timeout_ms, "tuning": {"cache_entries": 0}},
        }
    )
    return Session(settings, [root])


def _complete(session: Session, cancel: Cancellation) -> object:
    located = Located(session.folders[0], "draft.py", session.folders[0] / "draft.py", "python")
    request = CompletionInput("draft.py", TEXT, len(TEXT) - 1, "python")
    return session.model_pool.submit(session.complete, located, request, cancel).result()


def test_a_request_past_its_deadline_answers_empty_and_frees_the_model(
    tiny_qwen_dir: Path, tmp_path: Path
) -> None:
    session = _session(tiny_qwen_dir, tmp_path, timeout_ms=1)
    try:
        session.load_model().result()
        cancel = Cancellation()
        answer = _complete(session, cancel)
        assert answer.output is None and cancel.expired  # type: ignore[attr-defined]
        free = session.model_pool.submit(lambda: "free").result()  # the model thread took the next job
        assert free == "free"
    finally:
        session.shutdown()
    unlimited = _session(tiny_qwen_dir, tmp_path, timeout_ms=0)
    try:
        unlimited.load_model().result()
        answer = _complete(unlimited, Cancellation())
        assert answer.output is not None and answer.output.new_tokens > 100  # type: ignore[attr-defined]
    finally:
        unlimited.shutdown()


def test_a_deadline_cancels_like_a_client_does() -> None:
    cancel = Cancellation()
    assert not cancel.cancelled and not cancel.expired
    cancel.expire_at(0.0)  # long past on the monotonic clock
    assert cancel.cancelled and cancel.expired
    fresh = Cancellation()
    fresh.cancel()
    assert fresh.cancelled and not fresh.expired
