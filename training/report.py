"""The training report: did the adapter beat the base model, and by how much (JSON, markdown, loss curve).

`verdict` is the activation rule: on the held-out code the adapter must generate
better (more exact middles, or as many and a higher edit similarity), by default
clearly (the paired bootstrap interval of that gain above zero), with a lower
held-out loss, and lose at most `max_forgetting` exact match on the forgetting
check, and, when the user's own kept and rewritten suggestions are recorded in numbers
(`train.history_min_tasks`), complete the newest of them no worse on either measure. `against_service` then
asks it to beat the adapter already in service, when there is one. The report is written next to the adapter.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from housecoder.models.adapter_meta import HELD_OUT, AdapterMeta
from housecoder.training.results import FORGETTING, HISTORY, Metrics, RunScores, TrainingFigures


def verdict(metrics: Metrics, max_forgetting: float, activation: str = "clear") -> tuple[bool, str]:
    """Whether the adapter beat the base model, and one line saying why (or why not).

    `activation` "clear" asks for evidence: the paired 95% interval of the gain it is better by (exact
    match, or edit similarity at as many exact middles) lies above zero; "ahead" takes the point estimates.
    """
    loss, held = metrics.held_out_loss, metrics.held_out
    if held is None:
        return False, "not activated: no held-out completions were scored"
    before, after = held.before, held.after
    em = f"held-out exact match {100 * before.exact:.1f} -> {100 * after.exact:.1f}%"
    es = f"edit similarity {100 * before.edit_similarity:.1f} -> {100 * after.edit_similarity:.1f}"
    figures = f"{em}, {es}, loss {loss.before:.3f} -> {loss.after:.3f}"
    history = metrics.history  # the user's own code first: an adapter worse there is never switched on
    if history is not None:
        base, mine = history.before, history.after
        figures += (
            f"; your own {mine.tasks} newest kept or rewritten completions: exact {100 * base.exact:.1f} -> "
            f"{100 * mine.exact:.1f}%, edit similarity {100 * base.edit_similarity:.1f} -> "
            f"{100 * mine.edit_similarity:.1f}"
        )
        if mine.exact < base.exact or mine.edit_similarity < base.edit_similarity:
            return False, f"not activated: it completes your own recent code worse ({figures})"
    # Better on one measure and no worse on the other: more exact middles bought with middles further off
    # elsewhere is not a better adapter.
    exact_up, exact_kept = after.exact > before.exact, after.exact >= before.exact
    closer, as_close = (
        after.edit_similarity > before.edit_similarity,
        after.edit_similarity >= before.edit_similarity,
    )
    if exact_up and not as_close:
        return False, f"not activated: more exact middles, but the others further off ({figures})"
    if not ((exact_up and as_close) or (exact_kept and closer)):
        return False, f"not activated: the adapter did not complete held-out code better ({figures})"
    paired = held.overall
    if (
        paired is not None
        and paired.similarity_difference is not None
        and paired.similarity_interval is not None
    ):
        figures += (
            f"; paired over {paired.tasks} middles: exact {_points(paired.difference, paired.interval)}, "
            f"edit similarity {_points(paired.similarity_difference, paired.similarity_interval)}"
        )
    if activation == "clear":
        clear_exact = exact_up and as_close and paired is not None and paired.interval[0] > 0
        clear_similarity = (
            exact_kept
            and closer
            and paired is not None
            and paired.similarity_interval is not None
            and paired.similarity_interval[0] > 0
        )
        if not (clear_exact or clear_similarity):
            return (
                False,
                f"not activated: ahead of the base model, but within the noise of the held-out middles ({figures})",
            )
    if not loss.after < loss.before:
        return False, f"not activated: the held-out loss did not drop ({figures})"
    forgetting = metrics.forgetting
    if forgetting is not None:
        drop = forgetting.before.exact - forgetting.after.exact
        figures += (
            f"; forgetting check {100 * forgetting.before.exact:.1f} -> {100 * forgetting.after.exact:.1f}%"
        )
        if drop > max_forgetting:
            return False, f"not activated: it forgot too much elsewhere ({figures})"
    return True, f"activated: beat the base model ({figures})"


def against_service(
    base_verdict: str, service: RunScores, mine: RunScores, service_run: str
) -> tuple[bool, str]:
    """An adapter that beat the base model must also complete the held-out middles better than the adapter in
    service (`service_run`, completing the same middles): more exact with edit similarity no lower, or as many
    exact and a higher similarity. The point estimates decide: the base rule already asked for evidence."""
    figures = (
        f"{service_run}: exact {_pct(service.exact)} -> {_pct(mine.exact)}%, "
        f"edit similarity {_pct(service.edit_similarity)} -> {_pct(mine.edit_similarity)}"
    )
    better = (mine.exact > service.exact and mine.edit_similarity >= service.edit_similarity) or (
        mine.exact >= service.exact and mine.edit_similarity > service.edit_similarity
    )
    if not better:
        return False, f"not activated: it beat the base model, but not the adapter in service ({figures})"
    return True, f"{base_verdict}; ahead of the adapter in service ({figures})"


def _pct(value: float) -> str:
    return f"{100 * value:.1f}"


def _points(difference: float, interval: Sequence[float]) -> str:
    return f"{100 * difference:+.1f} points (95% CI {100 * interval[0]:+.1f} to {100 * interval[1]:+.1f})"


def markdown(meta: AdapterMeta) -> str:
    metrics = Metrics.from_json(meta.metrics)
    loss = metrics.held_out_loss
    samples = (
        f"samples: {meta.samples.train} training, {meta.samples.held_out} held out"
        if meta.samples is not None
        else "samples not recorded"
    )
    lines = [
        f"# Adapter for {Path(meta.repository).name}",
        "",
        f"- {meta.verdict}",
        f"- base model: {meta.base_model} ({meta.base_fingerprint[:19]}), commit {meta.commit or 'n/a'}",
        f"- {meta.split or 'split not recorded'}; {samples}",
        f"- held-out loss per middle token: {loss.before:.4f} before, {loss.after:.4f} after",
    ]
    training = TrainingFigures.from_json(meta.training)
    if training.to_json():
        lines.append(
            f"- training: {training.step} steps (best at {training.best_step}), "
            f"{training.samples_seen} sequences, {(training.elapsed_s or 0) / 60:.1f} min"
            + (f" (and {training.paused_s / 60:.1f} min paused for typing)" if training.paused_s else "")
            + (f" in {training.precision}" if training.precision else "")
            + (", stopped early" if training.stopped_early else "")
        )
    titles = {
        HELD_OUT: "Held-out code (generated middles)",
        FORGETTING: "Forgetting check (in-file FIM)",
        HISTORY: "Your own recent code (kept and rewritten suggestions)",
    }
    for name, found in metrics.sets():
        lines += [
            "",
            f"## {titles[name]}",
            "",
            "| task kind | run | n | EM % | ES % | id F1 % |",
            "| --- | --- | ---: | ---: | ---: | ---: |",
        ]
        for row in found.by_kind:
            lines.append(
                f"| {row.kind} | {row.run} | {row.tasks} | {_pct(row.exact)} | "
                f"{_pct(row.edit_similarity)} | {_pct(row.identifier_f1)} |"
            )
        for pair in found.paired:
            similarity = ""
            if pair.similarity_difference is not None and pair.similarity_interval is not None:
                similarity = (
                    f"; edit similarity {_points(pair.similarity_difference, pair.similarity_interval)}"
                )
            lines.append(
                f"\nPaired over {pair.tasks} tasks: {len(pair.gained)} gained, {len(pair.lost)} lost, "
                f"{_points(pair.difference, pair.interval)}{similarity}."
            )
    return "\n".join(lines) + "\n"


def write_loss_chart(history: Sequence[dict[str, Any]], before_loss: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 3.5), dpi=120)
    steps = [h["step"] for h in history]
    axis.plot(steps, [h["loss"] for h in history], label="training loss", linewidth=1)
    checks = [h for h in history if h.get("eval_loss") is not None]
    axis.plot(
        [0] + [h["step"] for h in checks],
        [before_loss] + [h["eval_loss"] for h in checks],
        "o-",
        label="held-out loss",
    )
    axis.set_xlabel("optimiser step")
    axis.set_ylabel("loss per middle token")
    axis.legend()
    axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def write_report(folder: Path, meta: AdapterMeta, history: Sequence[dict[str, Any]]) -> None:
    """report.json (everything), report.md, and loss.png when matplotlib is installed and there is a history."""
    (folder / "report.json").write_text(json.dumps({**meta.to_json(), "history": list(history)}, indent=1))
    (folder / "report.md").write_text(markdown(meta))
    if history:
        with contextlib.suppress(ImportError):  # matplotlib comes with the bench extra
            before = Metrics.from_json(meta.metrics).held_out_loss.before
            write_loss_chart(history, before, folder / "loss.png")
