"""Benchmark records made by hand for the evaluation tests: only the fields a test sets differ."""

from __future__ import annotations

from housecoder.evaluation.runner import Record


def make_record(
    run: str,
    task: str,
    exact: bool,
    *,
    similarity: float | None = None,
    seconds: float = 1.0,
    model_seconds: float | None = None,
    kind: str = "line",
    prompt_tokens: int = 100,
    stopped_by: str = "eos",
) -> Record:
    """A record of `task` under `run`; edit similarity 1.0 when exact and 0.5 when not, unless given."""
    similarity = (1.0 if exact else 0.5) if similarity is None else similarity
    return Record(
        run=run,
        task_id=task,
        kind=kind,
        prediction="p",
        groundtruth="g",
        single_line=True,
        exact=exact,
        edit_similarity=similarity,
        identifier_exact=exact,
        identifier_f1=similarity,
        seconds=seconds,
        model_seconds=seconds if model_seconds is None else model_seconds,
        prompt_tokens=prompt_tokens,
        new_tokens=3,
        snippets=0,
        stopped_by=stopped_by,
    )
