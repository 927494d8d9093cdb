"""The user's own eval set from the feedback store: only places inside the workspace become tasks."""

from __future__ import annotations

from pathlib import Path

import pytest
from feedback_fixture import suggestion

from housecoder.evaluation.history import history_tasks, inside_workspace
from housecoder.feedback.store import Check


@pytest.mark.parametrize(
    ("path", "inside"),
    [
        ("app/main.py", True),
        ("main.py", True),
        ("a..b/c.py", True),
        ("../../../../etc/passwd", False),
        ("app/../../secret.py", False),
        ("/etc/passwd", False),
        ("C:/Windows/win.ini", False),
        ("\\\\server\\share\\x.py", False),
        ("app\\..\\..\\x.py", False),
        ("", False),
    ],
)
def test_a_recorded_path_must_lie_inside_the_workspace(path: str, inside: bool) -> None:
    assert inside_workspace(path) is inside


def test_suggestions_recorded_outside_the_workspace_make_no_task(tmp_path: Path) -> None:
    shown = [
        suggestion(1, outcome="accepted", accepted_chars=12),
        suggestion(2, outcome="accepted", accepted_chars=12, path="../../../../etc/passwd"),
        suggestion(3, outcome="accepted", accepted_chars=12, path="/home/other/.ssh/config"),
    ]
    checks = {s.id: [Check(s.id, 30, 2000.0, True, 12, 1.0, "return value")] for s in shown}
    tasks = history_tasks(shown, checks, tmp_path)
    assert [task.path for task in tasks] == ["app/main.py"]
