"""`housecoder bench keep`: how well the keep-probability tells good suggestions from bad, and the gate it sets.

From `bench run` results (each record holds the suggestion's `signals`), a keep model is fitted with each
repository left out in turn and scores that repository's suggestions (leave-one-repository-out), so every
figure is from a model that never saw the repository. At each threshold it reports the share of
suggestions shown, the share of shown ones that are exactly right (precision) and of exactly right ones still
shown (recall), the same with edit similarity ≥ 0.8, the expected value of showing (+0.75 a kept suggestion,
−0.25 a rejected one: Cursor's rule) and the characters kept per shown suggestion (its common prefix with the
answer); calibration (expected calibration error, log-loss, AUC); bootstrap intervals over tasks. The
threshold with the best expected value is the proposed `completion.min_keep`; the model fitted on every
repository is written beside the figures (`model.json`, the shipped default's source). Where the run served
its suggestions with a p_keep, the scores are compared with it, paired (`--model` tries a given keep model on
the suggestions instead of fitting one).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from operator import attrgetter
from os.path import commonprefix  # of two strings, character by character
from pathlib import Path
from typing import Any

from housecoder.evaluation.runner import Record
from housecoder.keep.fit import fit
from housecoder.keep.model import KeepModel, default_model
from housecoder.keep.refit import event_loss, refit
from housecoder.keep.signals import FEATURES
from housecoder.numeric import expected_error, percentile, reliability

GOOD_SIMILARITY = 0.8
SHOW_GAIN, REJECT_COST = 0.75, 0.25  # Cursor's rule: show when P(keep) >= 0.25
THRESHOLDS = tuple(round(step / 100, 2) for step in range(0, 96, 5))
SAMPLES = 1000


@dataclass(frozen=True)
class Example:
    """One suggestion the model wrote: its signals, its repository and how good it was."""

    task_id: str
    repo: str
    language: str
    signals: dict[str, float]
    exact: bool
    good: bool  # edit similarity >= GOOD_SIMILARITY
    kept_chars: int  # characters a user typing the answer keeps of it: its common prefix with the answer
    served: float | None = None  # the p_keep it was served with (the model the run used)


def examples(records: Sequence[Record]) -> list[Example]:
    """The records with a suggestion to gate (text written and scored by the model)."""
    found = []
    for record in records:
        if record.error or not record.prediction.strip() or not record.signals:
            continue
        path = record.task_id.split(":")[0]
        found.append(
            Example(
                task_id=record.task_id,
                repo=record.task_id.split("/", 1)[0],
                language="typescript" if path.endswith((".ts", ".tsx")) else "python",
                signals=record.signals,
                exact=record.exact,
                good=record.edit_similarity >= GOOD_SIMILARITY,
                kept_chars=len(commonprefix([record.prediction.rstrip(), record.groundtruth.rstrip()])),  # noqa: RUF071
                served=record.p_keep,
            )
        )
    return found


def others_models(found: Sequence[Example], features: Sequence[str] = FEATURES) -> dict[str, KeepModel]:
    """For each repository, the model fitted on the other repositories' examples (exact match) over
    `features`: what a user of that repository starts with."""
    models = {}
    for repo in sorted({example.repo for example in found}):
        train = [example for example in found if example.repo != repo]
        models[repo] = fit(
            [example.signals for example in train], [example.exact for example in train], features=features
        )
    return models


def out_of_repo(found: Sequence[Example], models: dict[str, KeepModel]) -> list[float]:
    """p_keep of each example from its repository's model in `models` (`others_models`)."""
    return [models[example.repo].p_keep(example.signals) for example in found]


@dataclass(frozen=True)
class Point:
    """The gate at one threshold (shares in 0..1)."""

    threshold: float
    shown: float
    precision: float
    recall: float
    precision_good: float
    recall_good: float
    value: float  # expected value per suggestion written
    kept_chars: float  # per shown suggestion


def point(found: Sequence[Example], scores: Sequence[float], threshold: float) -> Point:
    shown = [example for example, p in zip(found, scores, strict=True) if p >= threshold]

    def share(part: Sequence[Any], whole: Sequence[Any]) -> float:
        return len(part) / len(whole) if whole else 0.0

    exact = [example for example in found if example.exact]
    good = [example for example in found if example.good]
    return Point(
        threshold=threshold,
        shown=share(shown, found),
        precision=share([e for e in shown if e.exact], shown),
        recall=share([e for e in shown if e.exact], exact),
        precision_good=share([e for e in shown if e.good], shown),
        recall_good=share([e for e in shown if e.good], good),
        value=sum(SHOW_GAIN if e.exact else -REJECT_COST for e in shown) / len(found) if found else 0.0,
        kept_chars=sum(e.kept_chars for e in shown) / len(shown) if shown else 0.0,
    )


def interval(
    found: Sequence[Example], scores: Sequence[float], figure: Callable[[Point], float], threshold: float
) -> tuple[float, float]:
    """95% bootstrap interval (tasks resampled) of one figure of the gate at `threshold`."""
    rng = random.Random(0)
    pairs = list(zip(found, scores, strict=True))
    values = []
    for _ in range(SAMPLES):
        sample = [pairs[rng.randrange(len(pairs))] for _ in pairs]
        values.append(figure(point([e for e, _ in sample], [p for _, p in sample], threshold)))
    values.sort()
    return percentile(values, 2.5) or 0.0, percentile(values, 97.5) or 0.0


def calibration(scores: Sequence[float], outcomes: Sequence[bool]) -> dict[str, Any]:
    """Expected calibration error (10 equal-width bins), log-loss, AUC and the reliability bins."""
    from sklearn.metrics import log_loss, roc_auc_score

    bins = reliability(scores, outcomes)
    return {
        "ece": expected_error(bins),
        "log_loss": float(log_loss(outcomes, scores, labels=[False, True])),
        "auc": float(roc_auc_score(outcomes, scores)) if len(set(outcomes)) == 2 else math.nan,
        "bins": [asdict(b) for b in bins],
    }


def history(found: Sequence[Example], models: dict[str, KeepModel]) -> dict[str, Any]:
    """The refit on a simulated history: each repository's suggestions, in the order the tasks ran, are one
    user's events (kept where exactly right), refitted as a workspace is (`housecoder.keep.refit`): its model
    in `models` (what that user starts with: `others_models`, or the shipped model) adjusted to the older
    events, against that model on the newest. Per repository: the held-out
    log-loss of both; over all: the mean difference per held-out event (refit minus default), with a
    bootstrap interval that resamples the events within each repository."""
    per_repo: dict[str, Any] = {}
    differences: dict[str, list[float]] = {}
    for repo in sorted({example.repo for example in found}):
        mine = [example for example in found if example.repo == repo]
        outcome = refit(
            [e.signals for e in mine],
            [e.exact for e in mine],
            models[repo],
            about={"repo": repo},
            base=models[repo],
        )
        per_repo[repo] = {
            "events": outcome.events,
            "held_out": outcome.held_out,
            "default_log_loss": outcome.current_loss,
            "refit_log_loss": outcome.refit_loss,
            "used": outcome.model is not None,
            "line": outcome.line(),
        }
        if outcome.refit_losses:
            differences[repo] = [
                refitted - default
                for refitted, default in zip(outcome.refit_losses, outcome.current_losses, strict=True)
            ]
    pooled = [value for values in differences.values() for value in values]
    return {
        "repositories": per_repo,
        "held_out": len(pooled),
        "difference": sum(pooled) / len(pooled) if pooled else None,
        "difference_ci": within_groups(list(differences.values())) if pooled else None,
    }


def against_served(found: Sequence[Example], scores: Sequence[float]) -> dict[str, Any] | None:
    """`scores` against the p_keep each suggestion was served with, over those served with one: the mean
    log-loss of both and the mean difference per suggestion (scores minus served), with a bootstrap interval
    within each repository; None where none was."""
    differences: dict[str, list[float]] = {}
    totals = [0.0, 0.0]
    for example, score in zip(found, scores, strict=True):
        if example.served is None:
            continue
        mine, theirs = event_loss(score, example.exact), event_loss(example.served, example.exact)
        totals[0], totals[1] = totals[0] + mine, totals[1] + theirs
        differences.setdefault(example.repo, []).append(mine - theirs)
    count = sum(len(values) for values in differences.values())
    if not count:
        return None
    return {
        "suggestions": count,
        "log_loss": totals[0] / count,
        "served_log_loss": totals[1] / count,
        "difference": (totals[0] - totals[1]) / count,
        "difference_ci": within_groups(list(differences.values())),
    }


def within_groups(groups: Sequence[Sequence[float]], samples: int = SAMPLES) -> tuple[float, float]:
    """The 95% bootstrap interval of the mean of every value in `groups` (each one's events: a repository's),
    resampling within each group so every group keeps its size."""
    rng = random.Random(0)
    means = []
    for _ in range(samples):
        sample = [values[rng.randrange(len(values))] for values in groups for _ in values]
        means.append(sum(sample) / len(sample))
    low, high = percentile(means, 2.5), percentile(means, 97.5)
    if low is None or high is None:
        raise ValueError("no values to resample")
    return low, high


def evaluate(
    records: Sequence[Record],
    *,
    about: dict[str, Any],
    features: Sequence[str] = FEATURES,
    served: bool = False,
    threshold: float | None = None,
    scorer: KeepModel | None = None,
) -> tuple[dict[str, Any], KeepModel | None]:
    """The figures (summary.json's content) and the model fitted on every repository, over `features`.

    With `served`, each suggestion is scored with the p_keep it was served with (the run's own model: how the
    gate a user has does on these suggestions, an adapter's or a block's, of one repository or more); nothing is
    fitted and no model returned; the simulated history then starts from the model shipped for `about`'s
    `code_model`. With a `scorer` (a keep model to try on these suggestions), each is scored with it and the
    history starts from it. Unless `served`, the scores are compared on log-loss, paired, with the p_keep
    the suggestions were served with (where they were). The figures are at `threshold`, else at the best
    expected value's."""
    found = examples(records)
    repos = sorted({example.repo for example in found})
    models: dict[str, KeepModel]
    if scorer is not None:
        models = dict.fromkeys(repos, scorer)
        scores = [scorer.p_keep(example.signals) for example in found]
    elif served:
        found = [example for example in found if example.served is not None]
        if not found:
            raise ValueError(
                "no suggestion was served with a keep-probability (recorded by another version?)"
            )
        models = {}
        scores = [example.served or 0.0 for example in found]
    elif len(repos) < 2:
        raise ValueError("leave-one-repository-out needs suggestions from at least two repositories")
    else:
        models = others_models(found, features)
        scores = out_of_repo(found, models)
    points = [point(found, scores, step) for step in THRESHOLDS]
    best = max(points, key=lambda figures: (figures.value, figures.threshold))
    if threshold is not None:
        best = point(found, scores, threshold)
    chosen: dict[str, Any] = asdict(best)
    for name in ("precision", "recall", "precision_good", "recall_good", "shown", "kept_chars"):
        chosen[name + "_ci"] = interval(found, scores, attrgetter(name), best.threshold)
    groups = {"all": list(range(len(found)))}
    for language in sorted({example.language for example in found}):
        groups[language] = [i for i, example in enumerate(found) if example.language == language]
    inside = [i for i, example in enumerate(found) if example.signals.get("mid_line")]
    if inside:  # a run with the cursor inside the line (`bench run --cursor word`) among them
        groups["cursor at the line's start"] = sorted(set(range(len(found))) - set(inside))
        groups["cursor inside the line"] = inside
    per_group = {}
    for name, indexes in groups.items():
        part, part_scores = [found[i] for i in indexes], [scores[i] for i in indexes]
        per_group[name] = {
            "suggestions": len(part),
            "before": asdict(point(part, part_scores, 0.0)),
            "gated": asdict(point(part, part_scores, best.threshold)),
            "calibration": calibration(part_scores, [example.exact for example in part]),
        }
        if not served:  # the scores against those the run served, where it served any
            per_group[name]["against_served"] = against_served(part, part_scores)
    summary = {
        "about": about
        | {"repositories": repos, "records": len(records), "suggestions": len(found), "served": served},
        "threshold": best.threshold,
        "chosen": chosen,
        "groups": per_group,
        "curve": [asdict(figures) for figures in points],
    }
    if scorer is not None:
        summary["history"] = history(found, models)
        return summary, None
    if served:  # a user of these repositories starts with the shipped model: the refit adjusts it
        shipped = default_model(about.get("code_model"))
        summary["history"] = history(found, dict.fromkeys(repos, shipped))
        return summary, None
    model = fit(
        [example.signals for example in found],
        [example.exact for example in found],
        features=features,
        about=about | {"repositories": repos, "target": "exact match"},
    )
    summary["history"] = history(found, models)
    summary["coefficients"] = dict(zip(model.features, model.coef, strict=True))
    return summary, model


def markdown(summary: dict[str, Any]) -> str:
    chosen = summary["chosen"]

    def pct(value: float) -> str:
        return f"{100 * value:.1f}"

    def ci(name: str) -> str:
        low, high = chosen[name + "_ci"]
        return f"{pct(chosen[name])} ({pct(low)}–{pct(high)})"

    tried = summary["about"].get("model")
    how = (
        f"each scored by {tried}"
        if tried
        else "each scored with the p_keep it was served with"
        if summary["about"].get("served")
        else "each repository scored by a model fitted on the others"
    )
    lines = [
        f"# Keep-probability gate ({summary['about']['suggestions']} suggestions, "
        f"{', '.join(summary['about']['repositories'])}; {how})",
        "",
        f"Threshold (by expected value, +{SHOW_GAIN} kept, −{REJECT_COST} rejected, unless given): "
        f"**{summary['threshold']:.2f}**",
        "",
        "| figure at the threshold | value % (95% CI) |",
        "| --- | --- |",
        f"| shown | {ci('shown')} |",
        f"| shown and exactly right (precision) | {ci('precision')} |",
        f"| exactly right still shown (recall) | {ci('recall')} |",
        f"| shown with edit similarity ≥ {GOOD_SIMILARITY} | {ci('precision_good')} |",
        f"| edit similarity ≥ {GOOD_SIMILARITY} still shown | {ci('recall_good')} |",
        "",
        "| suggestions | n | precision before → gated | recall | kept chars per shown, before → gated "
        "| ECE | log-loss | AUC |",
        "| --- | ---: | --- | --- | --- | --- | --- | --- |",
    ]
    for name, group in summary["groups"].items():
        before, gated, calibrated = group["before"], group["gated"], group["calibration"]
        lines.append(
            f"| {name} | {group['suggestions']} | {pct(before['precision'])} → {pct(gated['precision'])} | "
            f"{pct(gated['recall'])} | {before['kept_chars']:.1f} → {gated['kept_chars']:.1f} | "
            f"{calibrated['ece']:.3f} | {calibrated['log_loss']:.3f} | {calibrated['auc']:.3f} |"
        )
    compared = summary["groups"]["all"].get("against_served")
    if compared:
        low, high = compared["difference_ci"]
        lines += [
            "",
            f"Against the p_keep they were served with ({compared['suggestions']} suggestions): log-loss "
            f"{compared['log_loss']:.3f} against {compared['served_log_loss']:.3f}, a difference of "
            f"**{compared['difference']:+.3f}** (95% CI {low:+.3f} to {high:+.3f}; below zero: this model "
            "foretells better)",
        ]
    if "history" in summary:
        start = (
            f"the model tried ({tried})"
            if tried
            else "the shipped model"
            if summary["about"].get("served")
            else "the model fitted on the other repositories"
        )
        lines += _history_lines(summary["history"], start)
    lines += [
        "",
        "| threshold | shown | precision | recall | EV per suggestion |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {p['threshold']:.2f} | {pct(p['shown'])} | {pct(p['precision'])} | {pct(p['recall'])} | {p['value']:.3f} |"
        for p in summary["curve"]
    ]
    return "\n".join(lines) + "\n"


def _history_lines(found: dict[str, Any], default: str) -> list[str]:
    lines = [
        "",
        "Refit on a simulated history (a repository's suggestions in task order, kept where exactly right; "
        f"the default is {default}, which the refit adjusts; the newest quarter held out):",
        "",
        "| repository | events | held out | log-loss default | log-loss refit | refit used |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for repo, figures in found["repositories"].items():
        default, refitted = figures["default_log_loss"], figures["refit_log_loss"]
        lines.append(
            f"| {repo} | {figures['events']} | {figures['held_out']} | "
            f"{'-' if default is None else f'{default:.3f}'} | {'-' if refitted is None else f'{refitted:.3f}'} | "
            f"{'yes' if figures['used'] else 'no'} |"
        )
    if found["difference"] is not None:
        low, high = found["difference_ci"]
        lines += [
            "",
            f"Held-out log-loss, refit minus default, mean over {found['held_out']} events: "
            f"**{found['difference']:+.3f}** (95% CI {low:+.3f} to {high:+.3f}; below zero: the refit foretells better)",
        ]
    return lines


def write_chart(summary: dict[str, Any], path: Path) -> None:
    """Precision and recall over thresholds (exact and edit similarity), and the reliability diagram."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curve = summary["curve"]
    thresholds = [p["threshold"] for p in curve]
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2))
    for key, label, style in (
        ("precision", "precision (exact)", "-"),
        ("recall", "recall (exact)", "--"),
        ("precision_good", f"precision (ES ≥ {GOOD_SIMILARITY})", "-"),
        ("recall_good", f"recall (ES ≥ {GOOD_SIMILARITY})", "--"),
        ("shown", "shown", ":"),
    ):
        left.plot(thresholds, [100 * p[key] for p in curve], style, label=label)
    left.axvline(summary["threshold"], color="grey", linewidth=0.8)
    left.set_xlabel("completion.min_keep")
    left.set_ylabel("%")
    left.set_ylim(0, 100)
    left.legend(fontsize=7)
    bins = summary["groups"]["all"]["calibration"]["bins"]
    right.plot([0, 1], [0, 1], color="grey", linewidth=0.8)
    right.plot([b["predicted"] for b in bins], [b["observed"] for b in bins], "o-")
    right.set_xlabel("p_keep (mean in bin)")
    right.set_ylabel("share exactly right")
    right.set_title(f"ECE {summary['groups']['all']['calibration']['ece']:.3f}", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
