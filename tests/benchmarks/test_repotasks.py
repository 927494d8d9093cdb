"""RepoEval-style tasks from a repository: no answer left in the buffer, kinds, filters, time split."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from housecoder.benchmarks.repotasks import TaskOptions, make_tasks
from housecoder.config import IndexConfig
from housecoder.evaluation.tasks import TaskError
from housecoder.syntax.spans import trivial


def test_every_task_is_its_file_with_the_answer_cut_out(geometry_repo: Path) -> None:
    root = geometry_repo
    tasks = make_tasks(root, IndexConfig(), TaskOptions(count=50, seed=1))
    assert {task.kind for task in tasks} == {"line", "api", "function"}
    for task in tasks:
        original = (root / task.path).read_text()
        assert task.prefix + task.groundtruth + task.suffix == original
        assert task.repo == str(root.resolve()) and task.language == "python"
        line_start = task.prefix.rfind("\n") + 1
        assert task.prefix[line_start:].strip() == ""  # the cursor sits after the indentation ...
        assert task.suffix.startswith("\n")  # ... and the whole answer (to the end of its line) is gone
        before = task.prefix[:line_start].rstrip("\n").split("\n")[-1]
        if task.kind != "function":
            assert task.is_single_line and before.strip()  # the previous line is not blank
            assert not trivial(task.groundtruth.strip(), 6) and not task.groundtruth.lstrip().startswith("#")
        assert task.path in ("pkg/geometry.py", "pkg/report.py")  # not the secret, not the ignored file
    answers = [(task.kind, task.groundtruth) for task in tasks]
    assert len(answers) == len(set(answers))  # no duplicate answers within a kind
    assert make_tasks(root, IndexConfig(), TaskOptions(count=50, seed=1)) == tasks  # seeded


def test_docstrings_and_trivial_lines_are_not_tasks(geometry_repo: Path) -> None:
    root = geometry_repo
    lines = {
        task.groundtruth for task in make_tasks(root, IndexConfig(), TaskOptions(kinds=("line",), count=100))
    }
    assert "checked = max(width, 0)" in lines and "return math.pi * self.radius ** 2" in lines
    assert not {'"""The area of a rectangle."""', "pass", "# a comment line is never a task"} & lines
    assert "surface = area(width, height)" in lines


def test_api_tasks_call_code_defined_in_another_file(geometry_repo: Path) -> None:
    root = geometry_repo
    api = make_tasks(root, IndexConfig(), TaskOptions(kinds=("api",), count=100))
    assert {task.groundtruth for task in api} == {
        "surface = area(width, height)",
        "edge = perimeter(width, height)",
        "shapes = [Circle(r) for r in radii]",
        "sizes = [shape.size() for shape in shapes]",  # Circle.size, a method of another file
    }  # not `label = ...` (no repository call) nor `return sum(sizes)` (a builtin)
    assert all(task.path == "pkg/report.py" for task in api)


def test_function_tasks_hold_out_the_body_after_the_docstring(geometry_repo: Path) -> None:
    root = geometry_repo
    bodies = {
        task.task_id.split(":")[0].split("/", 2)[2] + ":" + str(task.metadata["line"]): task
        for task in make_tasks(root, IndexConfig(), TaskOptions(kinds=("function",), count=100))
    }
    area_task = next(task for task in bodies.values() if task.groundtruth.startswith("checked"))
    assert (
        area_task.groundtruth
        == "checked = max(width, 0)\n    result = checked * max(height, 0)\n    return result"
    )
    assert area_task.prefix.endswith('"""The area of a rectangle."""\n    ') and not area_task.is_single_line
    # one-statement bodies are too short
    assert not any(task.groundtruth == "return math.pi" for task in bodies.values())


def test_time_split_takes_only_code_added_after_the_commit(geometry_repo: Path) -> None:
    root = geometry_repo

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(root), *args], check=True, capture_output=True, text=True
        ).stdout.strip()

    git("init", "-q")
    git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qam", "x", "--allow-empty")
    git("add", "-A")
    git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "v1")
    cut = git("rev-parse", "HEAD")
    added = "\n\ndef diagonal(width, height):\n    squared = width ** 2 + height ** 2\n    return math.sqrt(squared)\n"
    (root / "pkg" / "geometry.py").write_text((root / "pkg" / "geometry.py").read_text() + added)
    git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qam", "v2")
    tasks = make_tasks(root, IndexConfig(), TaskOptions(kinds=("line", "function"), count=50, since=cut))
    assert {task.groundtruth for task in tasks} == {
        "squared = width ** 2 + height ** 2",
        "return math.sqrt(squared)",
        "squared = width ** 2 + height ** 2\n    return math.sqrt(squared)",
    }
    with pytest.raises(TaskError, match=r"git diff nope\.\.HEAD failed"):
        make_tasks(root, IndexConfig(), TaskOptions(since="nope"))


def test_bad_inputs(tmp_path: Path) -> None:
    with pytest.raises(TaskError, match="not a directory"):
        make_tasks(tmp_path / "missing", IndexConfig(), TaskOptions())
    with pytest.raises(TaskError, match="unknown task kind"):
        make_tasks(tmp_path, IndexConfig(), TaskOptions(kinds=("lines",)))
    with pytest.raises(TaskError, match="no source files"):
        make_tasks(tmp_path, IndexConfig(), TaskOptions())


def test_convention_tasks_use_a_shared_name_the_prompts_file_part_never_mentions(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    root.mkdir()
    (root / "money.py").write_text(
        "def round_cents(value):\n    return int(value + 0.5)\n\n\ndef rare_helper(value):\n    return value\n"
    )
    for name in ("cart", "invoice", "refund"):  # three other files use round_cents, one rare_helper
        used = "round_cents, rare_helper" if name == "cart" else "round_cents"
        (root / f"{name}.py").write_text(
            f"from money import {used}\n\n\ndef {name}_total(items):\n    total = sum(items)\n"
            "    return round_cents(total)\n"
        )
    filler = "".join(f"    step_{i} = {i} * weight\n" for i in range(70))
    (root / "report.py").write_text(
        "import money\n\n\n"
        f"def summary(weight, prices):\n{filler}"
        "    shown = money.round_cents(weight * 1.5)\n"  # 3 other files use it; not in the 60 lines above
        "    kept = money.rare_helper(weight * 2.5)\n"  # only 1 other file uses it
        f"{filler}    return shown + kept\n"
        "\n\ndef near(weight):\n    money.round_cents(weight)\n    return money.round_cents(weight * 3.5)\n"
    )
    tasks = make_tasks(root, IndexConfig(), TaskOptions(kinds=("convention",), count=50))
    # the lines in `near` mention round_cents within the prompt's reach: no tasks
    assert [(task.path, task.groundtruth, task.metadata["names"]) for task in tasks] == [
        ("report.py", "shown = money.round_cents(weight * 1.5)", ["round_cents"])
    ]
