"""Published benchmarks as tasks: HumanEval-FIM single-line and CrossCodeEval (the data in ../shared/data).

HumanEval-FIM (Qwen's parquet: name, language py/js/java, prompt, suffix,
canonical_solution) has no repository: its tasks get bare file-level FIM
prompts, as the published evaluation uses, and exact match compares the first
non-blank generated line. The parquet strips the line breaks around the missing
line (most prompts end in the middle of the line before it, most suffixes start
with the line after it, with no break between), which as an editor buffer puts
the cursor mid-line with the next line glued to it; the line-aware trigger and
post-processing then misjudge it. The tasks restore the breaks where they are
missing, so the buffer is the real file with the cursor at the start of the
emptied line, and the ground truth (its indentation included) is that line.

CrossCodeEval (`*.inputs.jsonl`: prompt, right_context, groundtruth, metadata,
crossfile_context {text, list}) ships its repositories' retrieved context but
not the repositories: its tasks carry that context (`context`, `context_text`)
and no `repo`.
"""

from __future__ import annotations

import json
from pathlib import Path

from housecoder.evaluation.tasks import ProvidedSnippet, Task, TaskError

HUMANEVAL_LANGUAGES = {"py": ("python", "py"), "js": ("javascript", "js"), "java": ("java", "java")}
CCEVAL_LANGUAGES = {"python": "python", "java": "java", "typescript": "typescript", "csharp": "c_sharp"}


def humaneval_tasks(parquet: Path, languages: tuple[str, ...] = ("python",)) -> list[Task]:
    """HumanEval-FIM single-line tasks of `languages` (python, javascript, java), in file order."""
    import pyarrow.parquet as pq

    if not parquet.is_file():
        raise TaskError(f"{parquet}: no such parquet file")
    try:
        rows = pq.read_table(
            parquet, columns=["name", "language", "prompt", "suffix", "canonical_solution"]
        ).to_pylist()
    except Exception as err:  # pyarrow raises several types for bad files and missing columns
        raise TaskError(f"{parquet}: not a HumanEval-FIM parquet file ({err})") from err
    tasks = []
    for row in rows:
        language, extension = HUMANEVAL_LANGUAGES.get(row["language"], (row["language"], row["language"]))
        if language not in languages:
            continue
        name = row["name"].removeprefix("humaneval-").replace(".json", "")
        tasks.append(
            Task(
                task_id=f"humaneval-{language}/{name}",
                path=f"{name.split('-')[0]}.{extension}",
                prefix=own_line_before(row["prompt"]),
                suffix=own_line_after(row["suffix"]),
                groundtruth=row["canonical_solution"],
                language=language,
                kind="humaneval-fim",
                single_line=True,
            )
        )
    return tasks


def own_line_before(prompt: str) -> str:
    """The prompt, ending with a line break (so the missing line starts a line)."""
    return prompt if not prompt or prompt.endswith("\n") else prompt + "\n"


def own_line_after(suffix: str) -> str:
    """The suffix, starting with a line break (so the missing line ends its line)."""
    return suffix if not suffix or suffix.startswith("\n") else "\n" + suffix


def cceval_tasks(inputs: Path) -> list[Task]:
    """CrossCodeEval tasks from one `<language>.inputs.jsonl`, with the benchmark's retrieved context."""
    if not inputs.is_file():
        raise TaskError(f"{inputs}: no such file")
    language = CCEVAL_LANGUAGES.get(inputs.name.split(".")[0])
    tasks = []
    for number, line in enumerate(inputs.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            meta = row["metadata"]
            crossfile = row.get("crossfile_context") or {}
            context = tuple(
                ProvidedSnippet(item["filename"], item["retrieved_chunk"], float(item.get("score", 0.0)))
                for item in crossfile.get("list") or ()
            )
            tasks.append(
                Task(
                    task_id=meta["task_id"],
                    path=meta["file"],
                    prefix=row["prompt"],
                    suffix=row["right_context"],
                    groundtruth=row["groundtruth"],
                    language=language,
                    kind="cceval",
                    single_line=True,
                    context=context,
                    context_text=crossfile.get("text") or "",
                    metadata={
                        "repository": meta.get("repository"),
                        "line": meta.get("groundtruth_start_lineno"),
                    },
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as err:
            raise TaskError(f"{inputs}:{number}: not a CrossCodeEval input row ({err})") from err
    return tasks
