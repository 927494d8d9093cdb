"""RepoEval-style tasks from any repository: lines, API calls and function bodies, held out one at a time.

Kinds (after RepoEval / RepoCoder):
- `line`: a statement line whose previous line is not blank; the cursor sits after
  its indentation, the ground truth is the rest of the line.
- `api`: such a line that calls a function, method or class defined in another
  file of the repository (the case retrieval is for).
- `function`: the body of a function (Python; brace languages' methods), 2 to
  `max_body_lines` lines, after the signature and docstring; multi-line.
- `convention`: such a line that uses a name defined in the repository which
  `convention_files` or more other files use, but which the lines of its own file
  that the default prompt holds (`CONVENTION_WINDOW`: lines before, lines after)
  never mention: nothing in the prompt's file part tells the model the name, so
  only retrieved snippets or a fine-tuned adapter can (issue 50's conventions slice;
  the names are in the task's metadata, so a report can tell which prompts held them).

Trivial answers (`pass`, `else:`, `}`, `return`, comments, very short lines) and
duplicate answers are dropped; at most `max_per_file` tasks per file and kind;
a fixed seed picks them. With `since` (a commit) only code added after that
commit qualifies, so the model cannot have seen the answer in training. Files
come through the indexer's rules (ignores, secrets, generated code).
"""

from __future__ import annotations

import random
import re
import subprocess
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from housecoder.config import IndexConfig
from housecoder.evaluation.tasks import Task, TaskError
from housecoder.syntax.spans import FUNCTION_NODES, LineRules, body_span, line_offsets, line_spans

KINDS = ("line", "api", "function", "convention")
# the lines before and after the cursor line that the default prompt's file part holds (512 prefix tokens,
# 192 suffix tokens: about 8 and 10 tokens a line)
CONVENTION_WINDOW = (60, 20)
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


@dataclass(frozen=True)
class TaskOptions:
    kinds: tuple[str, ...] = ("line", "api", "function")
    count: int = 150  # per kind
    seed: int = 0
    since: str | None = None
    max_per_file: int = 0  # 0: enough for `count` from half the files, at least 8
    min_chars: int = 6
    max_line_chars: int = 160
    max_body_lines: int = 15
    convention_files: int = 3  # other files that use a `convention` task's name


@dataclass(frozen=True)
class _Candidate:
    kind: str
    path: str
    language: str
    line: int  # 1-based first line of the answer
    start: int  # character offsets of the answer in the file
    end: int
    names: tuple[str, ...] = ()  # a `convention` task's names


def line_candidates(
    path: str, language: str, text: str, tree: Any | None, options: TaskOptions, allowed: set[int] | None
) -> list[_Candidate]:
    rules = LineRules(options.min_chars, options.max_line_chars)
    return [
        _Candidate("line", path, language, span.row + 1, span.start, span.end)
        for span in line_spans(text, tree, rules, allowed)
    ]


def _calls_by_line(symbols: Iterable[Any], defined_in: dict[str, set[str]], path: str) -> set[int]:
    """Lines of `path` that call a name defined in another file (`defined_in`: name -> defining files)."""
    return {
        symbol.start_line
        for symbol in symbols
        if symbol.role == "reference"
        and symbol.kind == "call"
        and defined_in.get(symbol.name, set()) - {path}
    }


def _repository_names_by_line(symbols: Iterable[Any], defined_in: dict[str, set[str]]) -> dict[int, set[str]]:
    """The names defined in the repository that each line of a file uses."""
    by_line: dict[int, set[str]] = defaultdict(set)
    for symbol in symbols:
        if symbol.role == "reference" and defined_in.get(symbol.name):
            by_line[symbol.start_line].add(symbol.name)
    return by_line


def _conventions(
    candidate: _Candidate, text: str, names: Iterable[str], used_in: dict[str, set[str]], min_files: int
) -> tuple[str, ...]:
    """Those of `names` (the repository's names `candidate`'s line uses) that `min_files` other files use and
    that the lines around it the prompt holds (`CONVENTION_WINDOW`) never mention."""
    shared = [name for name in names if len(used_in[name] - {candidate.path}) >= min_files]
    if not shared:
        return ()
    before, after = CONVENTION_WINDOW
    start = max(0, text.rfind("\n", 0, candidate.start))
    for _ in range(before):
        start = max(0, text.rfind("\n", 0, start))
    end = candidate.end
    for _ in range(after):
        found = text.find("\n", end + 1)
        end = len(text) if found < 0 else found
    outside = text[start : candidate.start] + text[candidate.end : end]
    return tuple(sorted(name for name in shared if not re.search(rf"\b{re.escape(name)}\b", outside)))


def function_candidates(
    path: str, language: str, text: str, tree: Any, options: TaskOptions, allowed: set[int] | None
) -> list[_Candidate]:
    lines = text.split("\n")
    offsets = line_offsets(text)
    found = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        stack.extend(reversed(node.named_children))
        if node.type not in FUNCTION_NODES:
            continue
        span = body_span(node)
        if span is None:
            continue
        first, last = span
        body_lines = [line for line in lines[first : last + 1] if line.strip()]
        if not 2 <= len(body_lines) <= options.max_body_lines:
            continue
        if allowed is not None and not any(row + 1 in allowed for row in range(first, last + 1)):
            continue
        indent = len(lines[first]) - len(lines[first].lstrip())
        found.append(
            _Candidate(
                "function",
                path,
                language,
                first + 1,
                offsets[first] + indent,
                offsets[last] + len(lines[last].rstrip()),
            )
        )
    return found


def added_lines(root: Path, since: str) -> dict[str, set[int]]:
    """path -> 1-based line numbers added or changed after commit `since` (HEAD's version of each file)."""
    try:
        result = subprocess.run(
            [
                "git",
                "-C",
                str(root),
                "diff",
                "--relative",
                "--unified=0",
                "--no-color",
                "--no-renames",
                since,
                "HEAD",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as err:
        raise TaskError(f"cannot run git: {err}") from err
    if result.returncode != 0:
        raise TaskError(
            f"{root}: git diff {since}..HEAD failed: {result.stderr.strip().splitlines()[-1:] or ['not a git repository']}"
        )
    changed: dict[str, set[int]] = defaultdict(set)
    current: str | None = None
    for line in result.stdout.splitlines():
        if line.startswith("+++ "):
            current = line[6:] if line.startswith("+++ b/") else None
        elif current is not None and (hunk := _HUNK.match(line)):
            start, count = int(hunk.group(1)), int(hunk.group(2) or "1")
            changed[current].update(range(start, start + count))
    return dict(changed)


def make_tasks(root: Path, config: IndexConfig, options: TaskOptions) -> list[Task]:
    """Tasks of `options.kinds` from the repository at `root` (absolute `repo` in each task)."""
    from housecoder.indexer.sources import source_files
    from housecoder.syntax.parsing import parse_tree
    from housecoder.syntax.symbols import defined_and_used, extract_symbols

    if not root.is_dir():
        raise TaskError(f"{root}: not a directory")
    unknown = set(options.kinds) - set(KINDS)
    if unknown:
        raise TaskError(f"unknown task kind(s) {', '.join(sorted(unknown))}; choose from {', '.join(KINDS)}")
    changed = added_lines(root, options.since) if options.since else None
    files = list(source_files(root, config))
    if not files:
        raise TaskError(f"{root}: no source files the indexer accepts")
    texts = {file.path: file.text for file in files}
    trees = {file.path: parse_tree(file.language, file.text.encode("utf-8")) for file in files}
    symbols = {
        file.path: extract_symbols(file.path, file.language, trees[file.path]) if trees[file.path] else []
        for file in files
    }
    defined_in, used_in = defined_and_used(symbols)

    candidates: dict[str, list[_Candidate]] = {kind: [] for kind in options.kinds}
    for file in files:
        allowed = None if changed is None else changed.get(file.path, set())
        if allowed is not None and not allowed:
            continue
        lines = line_candidates(file.path, file.language, file.text, trees[file.path], options, allowed)
        if "line" in candidates:
            candidates["line"] += lines
        if "api" in candidates:
            calls = _calls_by_line(symbols[file.path], defined_in, file.path)
            candidates["api"] += [
                _Candidate("api", c.path, c.language, c.line, c.start, c.end)
                for c in lines
                if c.line in calls
            ]
        if "convention" in candidates:
            repository_names = _repository_names_by_line(symbols[file.path], defined_in)
            for c in lines:
                names = _conventions(
                    c, file.text, repository_names.get(c.line, ()), used_in, options.convention_files
                )
                if names:
                    candidates["convention"].append(
                        _Candidate("convention", c.path, c.language, c.line, c.start, c.end, names)
                    )
        if "function" in candidates and trees[file.path] is not None:
            candidates["function"] += function_candidates(
                file.path, file.language, file.text, trees[file.path], options, allowed
            )

    tasks: list[Task] = []
    for kind in options.kinds:
        files_with = len({candidate.path for candidate in candidates[kind]})
        per_file = options.max_per_file or max(8, -(-2 * options.count // max(files_with, 1)))
        for candidate in pick(candidates[kind], texts, options.count, per_file, options.seed):
            text = texts[candidate.path]
            tasks.append(
                Task(
                    task_id=f"{root.name}/{kind}/{candidate.path}:{candidate.line}",
                    path=candidate.path,
                    prefix=text[: candidate.start],
                    suffix=text[candidate.end :],
                    groundtruth=text[candidate.start : candidate.end],
                    language=candidate.language,
                    repo=str(root.resolve()),
                    kind=kind,
                    single_line=kind != "function",
                    metadata={"line": candidate.line, "since": options.since}
                    | ({"names": list(candidate.names)} if candidate.names else {}),
                )
            )
    return tasks


def pick(
    candidates: list[_Candidate], texts: dict[str, str], count: int, max_per_file: int, seed: int
) -> list[_Candidate]:
    """Up to `count` candidates drawn with `seed`: distinct answers (ignoring spaces), at most
    `max_per_file` per file; in path and line order."""
    order = list(candidates)
    random.Random(seed).shuffle(order)
    per_file: dict[str, int] = defaultdict(int)
    answers: set[str] = set()
    picked: list[_Candidate] = []
    for candidate in order:
        if len(picked) == count:
            break
        answer = " ".join(texts[candidate.path][candidate.start : candidate.end].split())
        if per_file[candidate.path] >= max_per_file or answer in answers:
            continue
        picked.append(candidate)
        per_file[candidate.path] += 1
        answers.add(answer)
    return sorted(picked, key=lambda c: (c.path, c.line))
