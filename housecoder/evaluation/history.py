"""The user's own eval set: tasks from what happened to the suggestions shown (`housecoder.feedback`).

- An accepted suggestion, partly kept or edited, whose place was found again at its last check: the ground
  truth is what stayed in the file there.
- A rejected suggestion, where the user wrote something else: the ground truth is what they wrote.

The prompt's text is the buffer as it was when the suggestion was shown (`prefix`, `suffix`), so the task
asks what the model was asked. Tasks are deduplicated (same file, same text before the cursor, same answer),
and files the settings now exclude (or that hold secrets) are left out. `bench run` scores them as any task
file; `housecoder train` adds them as samples and checks that an adapter does not complete them worse.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from housecoder.config import Settings
from housecoder.evaluation.tasks import Task
from housecoder.feedback.rules import excluded
from housecoder.feedback.store import Check, Suggestion, recorded, store_path

MIN_KEPT_SHARE = 0.5  # an accepted suggestion counts as retained when at least this share of it stayed
DEDUPE_CHARS = 200  # text before the cursor that tells two places apart


def _answer(suggestion: Suggestion, checks: Sequence[Check]) -> str | None:
    """What the task's ground truth is, or None when the suggestion makes no task."""
    found = [check for check in checks if check.found]
    if not found:
        return None
    latest = found[-1]
    now = latest.now.rstrip()
    if not now.strip():
        return None
    if suggestion.outcome in ("accepted", "partial"):
        return now if latest.share >= MIN_KEPT_SHARE else None
    if suggestion.outcome == "rejected":
        return now if now != suggestion.text.rstrip() else None
    return None


def inside_workspace(path: str) -> bool:
    """A recorded path is '/'-separated and relative to the workspace folder: not absolute, no `..`, no drive."""
    normal = path.replace("\\", "/")
    parts = normal.split("/")
    return bool(normal) and not normal.startswith("/") and ":" not in parts[0] and ".." not in parts


def history_tasks(
    suggestions: Iterable[Suggestion],
    checks: Mapping[str, Sequence[Check]],
    repo: Path,
    exclude: Sequence[str] = (),
) -> list[Task]:
    """Tasks from the suggestions of the workspace at `repo`, oldest first (the newest of duplicates kept)."""
    chosen: dict[tuple[str, str, str], Task] = {}
    for suggestion in suggestions:
        if not inside_workspace(suggestion.path):
            continue
        answer = _answer(suggestion, checks.get(suggestion.id, ()))
        if answer is None or excluded(
            suggestion.path, suggestion.before + answer + suggestion.after, exclude
        ):
            continue
        key = (suggestion.path, suggestion.before[-DEDUPE_CHARS:], answer)
        chosen.pop(key, None)
        chosen[key] = Task(
            task_id=f"history-{suggestion.id}",
            path=suggestion.path,
            prefix=suggestion.before,
            suffix=suggestion.after,
            groundtruth=answer,
            language=suggestion.language,
            repo=str(repo),
            kind=f"history-{'kept' if suggestion.outcome != 'rejected' else 'rewritten'}",
            single_line=suggestion.kind == "line",  # asked for as it was asked for then
            metadata={
                "shown_at": suggestion.shown_at,
                "outcome": suggestion.outcome,
                "shown": suggestion.text,
            },
        )
    return list(chosen.values())


def workspace_history(settings: Settings, root: Path, since: float = 0.0) -> tuple[list[Task], int]:
    """The history tasks of the workspace at `root` (its feedback store), and how many suggestions it holds."""
    found = recorded(store_path(settings, root), since=since)
    if found is None:
        return [], 0
    return history_tasks(found.suggestions, found.checks, root, settings.index.exclude), len(
        found.suggestions
    )
