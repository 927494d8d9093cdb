"""The server's background training: one process per folder with `train.background`, never two, stopped when the
setting goes off or the session ends, the session's settings handed over, the registry re-scanned when a run
ends well, and its record in `housecoder.status`. The process here is a stand-in script (the real
`housecoder train --background` runs in tests/robustness/test_kill.py and tests/e2e/test_server.py)."""

from __future__ import annotations

import dataclasses
import json
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from settings_fixture import tiny_models

from housecoder.config import Settings
from housecoder.models import background
from housecoder.server.session import Session
from housecoder.server.training import SETTINGS_FILE, BackgroundTraining

# Prints its arguments, then waits for stdin to close (never: stdin is /dev/null, so it reads EOF and exits 0),
# or with "wait" in its settings' train section, sleeps until it is terminated.
STAND_IN = (
    "import json, sys, time\n"
    "settings = json.loads(open(sys.argv[sys.argv.index('--settings') + 1]).read())\n"
    "print(' '.join(sys.argv[1:]), flush=True)\n"
    "while settings['train']['idle_seconds'] == 999: time.sleep(0.05)\n"
)


def _settings(
    tiny_qwen_dir: Path, tmp_path: Path, *, background_on: bool = True, wait: bool = True
) -> Settings:
    return Settings.model_validate(
        {
            "models": tiny_models(tiny_qwen_dir, tmp_path / "cache" / "models"),
            "train": {
                "output": str(tmp_path / "adapters"),
                "background": background_on,
                "idle_seconds": 999 if wait else 5,
            },
        }
    )


def _training(finished: object = lambda _root: None) -> BackgroundTraining:
    return BackgroundTraining(finished, command=(sys.executable, "-c", STAND_IN))  # type: ignore[arg-type]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "repo"
    folder.mkdir()
    return folder


def test_one_process_per_folder_with_the_sessions_settings(
    tiny_qwen_dir: Path, tmp_path: Path, root: Path
) -> None:
    settings = _settings(tiny_qwen_dir, tmp_path)
    training = _training()
    try:
        assert training.start(settings, root) == "started"
        assert training.start(settings, root) == "already training in the background"
        process = training.processes[root]
        handed = background.progress_path(settings, root).with_name(SETTINGS_FILE)
        assert Settings.model_validate_json(handed.read_text()) == settings  # the editor's options too
    finally:
        training.stop()
    assert process.returncode is not None and training.processes == {}


def test_a_run_that_ends_well_rescans_the_registry(tiny_qwen_dir: Path, tmp_path: Path, root: Path) -> None:
    ended: list[Path] = []
    done = threading.Event()
    training = _training(lambda folder: (ended.append(folder), done.set()))
    training.start(_settings(tiny_qwen_dir, tmp_path, wait=False), root)
    assert done.wait(60)
    assert ended == [root]
    log = background.progress_path(_settings(tiny_qwen_dir, tmp_path), root).with_name("background.log")
    assert log.read_text().split() == ["--settings", str(log.with_name(SETTINGS_FILE)), str(root)]


# A run that counts itself beside its settings and records, as `housecoder train --background` does at its end,
# more to learn after its first two runs and nothing after the third.
LEARNS_THREE_TIMES = (
    "import json, os, sys\n"
    "here = os.path.dirname(sys.argv[sys.argv.index('--settings') + 1])\n"
    "count = os.path.join(here, 'runs')\n"
    "n = int(open(count).read()) + 1 if os.path.exists(count) else 1\n"
    "open(count, 'w').write(str(n))\n"
    "record = {'phase': 'finished', 'verdict': 'v', 'next_tokens': 1000 * 2 ** n if n < 3 else None}\n"
    "open(os.path.join(here, 'background.json'), 'w').write(json.dumps(record))\n"
)


def test_a_run_with_more_to_learn_is_followed_by_the_next(
    tiny_qwen_dir: Path, tmp_path: Path, root: Path
) -> None:
    ended: list[Path] = []
    training = BackgroundTraining(ended.append, command=(sys.executable, "-c", LEARNS_THREE_TIMES))
    settings = _settings(tiny_qwen_dir, tmp_path, wait=False)
    training.start(settings, root)
    while watching := [t for t in threading.enumerate() if t.name == "housecoder-training"]:
        for thread in watching:
            thread.join(60)  # a run started by a watcher has its own watcher before the first one ends
    record = background.read_progress(background.progress_path(settings, root))
    assert record is not None and record.next_tokens is None
    assert (record.line(), ended) == ("finished: v", [root] * 3)
    assert background.progress_path(settings, root).with_name("runs").read_text() == "3"


def test_the_status_line_says_there_is_more_to_learn() -> None:
    finished = background.Progress(phase=background.FINISHED, verdict="activated", next_tokens=440_000)
    assert finished.line() == "finished: activated; learning more when idle (440,000 tokens next)"
    assert dataclasses.replace(finished, next_tokens=0).line().endswith("(every sample next)")


@pytest.fixture
def session(tiny_qwen_dir: Path, tmp_path: Path, root: Path) -> Iterator[Session]:
    session = Session(_settings(tiny_qwen_dir, tmp_path), [root])
    session.training = _training()
    yield session
    session.shutdown()


def test_turning_the_setting_off_stops_the_run(
    session: Session, tiny_qwen_dir: Path, tmp_path: Path, root: Path
) -> None:
    session.training.start_configured(session.settings, session.folders)
    process = session.training.processes[root]
    assert process.poll() is None
    session.update_settings(_settings(tiny_qwen_dir, tmp_path, background_on=False))
    assert process.returncode is not None and session.training.processes == {}
    session.training.start_configured(session.settings, session.folders)  # off: nothing starts
    assert session.training.processes == {}


def test_the_session_ending_stops_the_run(session: Session, root: Path) -> None:
    session.training.start_configured(session.settings, session.folders)
    process = session.training.processes[root]
    session.shutdown()
    assert process.returncode is not None


def test_status_reports_the_folders_background_training(session: Session, root: Path) -> None:
    assert session.status()["folders"][0]["training"] is None
    record = background.Progress(
        phase=background.TRAINING, tokens_learned=1_000, tokens_planned=4_000, files_covered=2, train_files=3
    )
    background.write_progress(background.progress_path(session.settings, root), record)
    training = session.status()["folders"][0]["training"]
    assert training["tokens_learned"] == 1_000 and training["running"] is False
    assert training["line"] == "stopped while training; the next background run resumes it"
    json.dumps(training)  # it travels in an LSP answer
