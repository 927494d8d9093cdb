"""Benchmark tasks: one completion per JSON line (the format in the design doc), read and written.

    {"task_id": "...", "repo": "path/to/repo/root", "path": "pkg/mod.py", "language": "python",
     "prefix": "...", "suffix": "...", "groundtruth": "..."}

`repo` is relative to the tasks file or absolute, or null for tasks without a
repository (HumanEval-FIM). Optional fields: `kind` (line, api, function, ...),
`single_line` (default: the ground truth has one line), `context` (a benchmark's
own retrieved snippets: [{"path", "text", "score"}]), `context_text` (the same as
the benchmark's own prompt block) and `metadata`.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from housecoder.errors import HousecoderError

REQUIRED = ("task_id", "path", "prefix", "suffix", "groundtruth")


class TaskError(HousecoderError):
    """A task file that cannot be read."""


@dataclass(frozen=True)
class ProvidedSnippet:
    path: str
    text: str
    score: float = 0.0


def answers_one_line(answer: str) -> bool:
    """True when `answer` (a task's ground truth, a training sample's middle) is one line: the
    completion is asked for as one line, and as a block otherwise (the benchmark, the training job)."""
    return "\n" not in answer.strip("\n")


@dataclass(frozen=True)
class Task:
    task_id: str
    path: str
    prefix: str
    suffix: str
    groundtruth: str
    language: str | None = None
    repo: str | None = None
    kind: str = "line"
    single_line: bool | None = None
    context: tuple[ProvidedSnippet, ...] = ()
    context_text: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def is_single_line(self) -> bool:
        if self.single_line is not None:
            return self.single_line
        return answers_one_line(self.groundtruth)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["context"] = [asdict(snippet) for snippet in self.context]
        return data


def task_from_dict(data: dict[str, Any], where: str) -> Task:
    missing = [name for name in REQUIRED if not isinstance(data.get(name), str)]
    if missing:
        raise TaskError(f"{where}: missing or not a string: {', '.join(missing)}")
    try:
        context = tuple(
            ProvidedSnippet(str(item["path"]), str(item["text"]), float(item.get("score", 0.0)))
            for item in data.get("context") or ()
        )
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise TaskError(f"{where}: bad context entry ({err})") from err
    single = data.get("single_line")
    return Task(
        task_id=data["task_id"],
        path=data["path"],
        prefix=data["prefix"],
        suffix=data["suffix"],
        groundtruth=data["groundtruth"],
        language=data.get("language"),
        repo=data.get("repo"),
        kind=str(data.get("kind") or "line"),
        single_line=None if single is None else bool(single),
        context=context,
        context_text=str(data.get("context_text") or ""),
        metadata=dict(data.get("metadata") or {}),
    )


def read_tasks(path: Path) -> list[Task]:
    """Tasks from a JSONL file; `repo` made absolute (relative to the file). One-line errors for bad files."""
    if not path.is_file():
        raise TaskError(f"{path}: no such task file")
    tasks: list[Task] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                data = json.loads(line)
            except json.JSONDecodeError as err:
                raise TaskError(f"{where}: not JSON ({err.msg})") from err
            if not isinstance(data, dict):
                raise TaskError(f"{where}: a task must be a JSON object")
            task = task_from_dict(data, where)
            if task.task_id in seen:
                raise TaskError(f"{where}: duplicate task_id {task.task_id!r}")
            seen.add(task.task_id)
            if task.repo is not None:
                repo = Path(task.repo)
                repo = repo if repo.is_absolute() else (path.parent / repo).resolve()
                if not repo.is_dir():
                    raise TaskError(f"{where}: repository {task.repo!r} is not a directory")
                task = Task(**{**task.__dict__, "repo": str(repo)})
            tasks.append(task)
    if not tasks:
        raise TaskError(f"{path}: no tasks")
    return tasks


def write_tasks(path: Path, tasks: Iterable[Task], *, relative_to: Path | None = None) -> int:
    """Write tasks as JSONL; repositories under `relative_to` are written relative to the file's folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for task in tasks:
            data = task.as_dict()
            if task.repo and relative_to is not None:
                data["repo"] = _relative(Path(task.repo), path.parent.resolve())
            out.write(json.dumps(data, ensure_ascii=False) + "\n")
            count += 1
    return count


def _relative(repo: Path, base: Path) -> str:
    import os

    try:
        return os.path.relpath(repo.resolve(), base)
    except ValueError:  # another drive on Windows
        return str(repo.resolve())


def limit(tasks: Sequence[Task], count: int | None, seed: int) -> list[Task]:
    """`count` tasks drawn with `seed` (kept in file order), or all of them."""
    import random

    if count is None or count >= len(tasks):
        return list(tasks)
    keep = set(random.Random(seed).sample(range(len(tasks)), count))
    return [task for index, task in enumerate(tasks) if index in keep]


def outside_training(tasks: Sequence[Task], repository: str, trained: Collection[str]) -> list[Task]:
    """`tasks` without those in files an adapter was trained on (`trained`, paths relative to `repository`):
    an adapter scored on code it learnt measures its memory, not what it does for new code. A task's
    repository is that one when the folder names match (a copy elsewhere counts too)."""
    name = Path(repository).name
    return [
        task for task in tasks if not (task.repo and Path(task.repo).name == name and task.path in trained)
    ]


CURSORS = ("as-is", "word", "mid-word")
_BOUNDARY = set(" .(,=:[")  # the symbols after which a typing user pauses (as in the latency replay)


def _word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def typed_into(task: Task, cursor: str) -> Task | None:
    """`task` with the start of its one-line answer already typed, as typing produces a cursor inside the
    line: "word" after a run of spaces and symbols (`x = ‸`, `call(‸`), "mid-word" inside an identifier
    (`self.conv‸`). The position is drawn from the task id, so every run gets the same cursor. None where
    the answer offers no such position (a block, a one-word line); "as-is" returns the task unchanged."""
    if cursor == "as-is":
        return task
    if cursor not in CURSORS:
        raise TaskError(f"unknown cursor {cursor!r}: use {', '.join(CURSORS)}")
    if not task.is_single_line:
        return None
    import random

    answer = task.groundtruth
    last = len(answer.rstrip())
    start = len(answer) - len(answer.lstrip())
    if cursor == "word":
        places = [
            n for n in range(start + 1, last - 1) if answer[n - 1] in _BOUNDARY and answer[n] not in _BOUNDARY
        ]
    else:
        places = [
            n for n in range(start + 1, last - 1) if _word_char(answer[n - 1]) and _word_char(answer[n])
        ]
    if not places:
        return None
    at = random.Random(f"{task.task_id}|{cursor}").choice(places)
    return replace(
        task, task_id=f"{task.task_id}@{cursor}", prefix=task.prefix + answer[:at], groundtruth=answer[at:]
    )
