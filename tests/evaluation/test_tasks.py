"""Task files: reading, writing, errors; HumanEval-FIM and CrossCodeEval converted to tasks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from housecoder.benchmarks.datasets import cceval_tasks, humaneval_tasks
from housecoder.evaluation.tasks import ProvidedSnippet, Task, TaskError, limit, read_tasks, write_tasks


def test_tasks_round_trip_with_a_relative_repository(tmp_path: Path) -> None:
    repo = tmp_path / "repos" / "demo"
    repo.mkdir(parents=True)
    tasks = [
        Task("a", "m.py", "x = ", "\n", "1", "python", str(repo)),
        Task(
            "b",
            "n.py",
            "def f():\n    ",
            "\n",
            "return 2\n    pass",
            "python",
            None,
            kind="function",
            context=(ProvidedSnippet("o.py", "y = 2", 0.5),),
            context_text="# o.py\n# y = 2\n",
        ),
    ]
    out = tmp_path / "sets" / "tasks.jsonl"
    assert write_tasks(out, tasks, relative_to=out.parent) == 2
    assert json.loads(out.read_text().splitlines()[0])["repo"] == "../repos/demo"  # portable with the file
    back = read_tasks(out)
    assert back == [Task(**{**tasks[0].__dict__, "repo": str(repo.resolve())}), tasks[1]]
    assert back[0].is_single_line and not back[1].is_single_line


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["{not json"], "tasks.jsonl:1: not JSON"),
        (["[1, 2]"], "must be a JSON object"),
        (
            [json.dumps({"task_id": "a", "path": "m.py", "prefix": ""})],
            "missing or not a string: suffix, groundtruth",
        ),
        (
            [json.dumps({"task_id": "a", "path": "m", "prefix": "", "suffix": "", "groundtruth": "x"})] * 2,
            "tasks.jsonl:2: duplicate task_id 'a'",
        ),
        (
            [
                json.dumps(
                    {
                        "task_id": "a",
                        "path": "m",
                        "prefix": "",
                        "suffix": "",
                        "groundtruth": "x",
                        "repo": "nowhere",
                    }
                )
            ],
            "repository 'nowhere' is not a directory",
        ),
        (
            [
                json.dumps(
                    {
                        "task_id": "a",
                        "path": "m",
                        "prefix": "",
                        "suffix": "",
                        "groundtruth": "x",
                        "context": [{"text": "y"}],
                    }
                )
            ],
            "bad context entry",
        ),
        ([""], "no tasks"),
    ],
)
def test_bad_task_files_are_one_line_errors(tmp_path: Path, lines: list[str], message: str) -> None:
    path = tmp_path / "tasks.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(TaskError, match=message):
        read_tasks(path)
    with pytest.raises(TaskError, match="no such task file"):
        read_tasks(tmp_path / "missing.jsonl")


def test_limit_draws_a_seeded_subset_in_file_order() -> None:
    tasks = [Task(str(i), "m.py", "", "", "x") for i in range(10)]
    picked = limit(tasks, 4, seed=7)
    assert len(picked) == 4 and picked == sorted(picked, key=lambda task: int(task.task_id))
    assert (
        limit(tasks, 4, seed=7) == picked and limit(tasks, None, 0) == tasks and limit(tasks, 50, 0) == tasks
    )


def test_humaneval_rows_become_bare_single_line_tasks(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = {
        "name": ["humaneval-HumanEval_1_f.json-L5", "humaneval-HumanEval_2_g.json-L3"],
        "language": ["py", "java"],
        "prompt": ["def f(x):\n    y = x", "class G {"],
        "suffix": ["    return y\n", "}"],
        "canonical_solution": ["    y += 1", "    int g;"],
        "tests": ["", ""],
    }
    path = tmp_path / "fim.parquet"
    pq.write_table(pa.table(rows), path)
    (task,) = humaneval_tasks(path)
    assert (
        task.task_id == "humaneval-python/HumanEval_1_f-L5"
        and task.language == "python"
        and task.repo is None
    )
    # the line breaks the parquet strips around the missing line are put back: the buffer is the real file
    assert (task.prefix, task.suffix, task.groundtruth) == (
        "def f(x):\n    y = x\n",
        "\n    return y\n",
        "    y += 1",
    )
    assert task.is_single_line and task.path == "HumanEval_1_f.py"
    java = humaneval_tasks(path, ("python", "java"))[1]
    assert java.language == "java" and (java.prefix, java.suffix) == ("class G {\n", "\n}")
    (tmp_path / "bad.parquet").write_text("nope")
    with pytest.raises(TaskError, match="not a HumanEval-FIM parquet"):
        humaneval_tasks(tmp_path / "bad.parquet")


def test_cceval_rows_keep_the_benchmarks_context(tmp_path: Path) -> None:
    row = {
        "prompt": "import x\nvalue = ",
        "groundtruth": "x.load(path)",
        "right_context": "\nprint(value)\n",
        "metadata": {
            "task_id": "project_cc_python/1",
            "repository": "owner-repo-abc",
            "file": "pkg/mod.py",
            "groundtruth_start_lineno": 1,
        },
        "crossfile_context": {
            "text": "# from x.py\n# def load(path): ...\n",
            "list": [{"retrieved_chunk": "def load(path): ...", "filename": "x.py", "score": 0.9}],
        },
    }
    path = tmp_path / "python.inputs.jsonl"
    path.write_text(json.dumps(row) + "\n")
    (task,) = cceval_tasks(path)
    assert (task.task_id, task.path, task.language, task.repo) == (
        "project_cc_python/1",
        "pkg/mod.py",
        "python",
        None,
    )
    assert task.context == (ProvidedSnippet("x.py", "def load(path): ...", 0.9),)
    assert task.context_text.startswith("# from x.py") and task.metadata["repository"] == "owner-repo-abc"
    path.write_text('{"prompt": "x"}\n')
    with pytest.raises(TaskError, match=r"python\.inputs\.jsonl:1: not a CrossCodeEval input row"):
        cceval_tasks(path)


def test_the_shipped_data_converts() -> None:
    data = Path(__file__).resolve().parents[2].parent / "shared" / "data"
    if not data.is_dir():
        pytest.skip(f"{data} is not on this machine")
    python = humaneval_tasks(data / "humaneval_fim_qwen" / "train.parquet")
    assert len(python) == 1043 and len({task.task_id for task in python}) == 1043
    assert len(cceval_tasks(data / "cceval_samples" / "python.inputs.jsonl")) == 25


def test_tasks_in_files_an_adapter_trained_on_are_left_out() -> None:
    from housecoder.evaluation.tasks import outside_training

    tasks = [
        Task("a", "m.py", "x = ", "\n", "1", "python", "/r/shop"),
        Task("b", "n.py", "x = ", "\n", "1", "python", "/r/shop"),
        Task("c", "m.py", "x = ", "\n", "1", "python", "/r/other"),
        Task("d", "m.py", "x = ", "\n", "1", "python", None),
    ]
    assert [t.task_id for t in outside_training(tasks, "/home/me/shop", {"m.py"})] == ["b", "c", "d"]
    assert outside_training(tasks, "/r/shop", set()) == tasks


def test_typed_into_puts_the_cursor_inside_the_line_as_typing_does() -> None:
    from housecoder.evaluation.tasks import TaskError, typed_into

    task = Task(
        "t1", "a.py", "def f(values):\n", "\n", "    total = sum_values(values, start=0)\n", language="python"
    )
    word = typed_into(task, "word")
    middle = typed_into(task, "mid-word")
    assert word is not None and middle is not None
    for moved in (word, middle):
        # the same line, split elsewhere
        assert moved.prefix + moved.groundtruth == task.prefix + task.groundtruth
        assert moved.prefix.startswith(task.prefix + "    t") and moved.groundtruth.strip()
    typed_word = word.prefix[len(task.prefix) :]
    assert typed_word[-1] in " .(,=:[" and word.groundtruth[0] not in " .(,=:["
    typed_middle = middle.prefix[len(task.prefix) :]
    assert typed_middle[-1].isalnum() or typed_middle[-1] == "_"
    assert middle.groundtruth[0].isalnum() or middle.groundtruth[0] == "_"
    assert (word.task_id, middle.task_id) == ("t1@word", "t1@mid-word")
    assert typed_into(task, "word") == word  # drawn from the task id: every run gets the same cursor
    assert typed_into(task, "as-is") is task
    assert typed_into(Task("t2", "a.py", "", "", "x\ny\n"), "word") is None  # a block
    assert typed_into(Task("t3", "a.py", "", "", "    pass\n"), "word") is None  # no place to pause in
    with pytest.raises(TaskError):
        typed_into(task, "elsewhere")
