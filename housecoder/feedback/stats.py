"""`housecoder stats`: acceptance, accepted and retained characters, and latency, overall and split.

Acceptance counts a partial accept as an accept. Retained characters are those of the accepted text still at
its place at the last check that found the place (Copilot's "accepted and retained characters"). Latency is
that of the suggestions shown (from request to answer). Splits: language, kind (single line or block), with
or without repository context, with or without an adapter, prompt layout, keep-probability (in fifths: how
well it foretells acceptance).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from housecoder.feedback.store import Check, FeedbackStore, Suggestion
from housecoder.numeric import Bin, expected_error, percentile, reliability

NO_ACCEPTS = "no accept events: your editor does not report acceptance"
SPLITS: dict[str, Callable[[Suggestion], str]] = {
    "language": lambda s: s.language or "other",
    "kind": lambda s: s.kind,
    "context": lambda s: "repository context" if s.context else "in-file",
    "adapter": lambda s: "adapter" if s.adapter else "base model",
    "layout": lambda s: s.layout,
    "p_keep": lambda s: keep_bucket(s.p_keep),
}
KEEP_BUCKETS = 5  # p_keep in fifths


def keep_bucket(p_keep: float | None) -> str:
    """The p_keep bucket a suggestion was shown in ("0.2-0.4"), "not scored" without one."""
    if p_keep is None:
        return "not scored"
    low = min(int(p_keep * KEEP_BUCKETS), KEEP_BUCKETS - 1) / KEEP_BUCKETS
    return f"{low:.1f}-{low + 1 / KEEP_BUCKETS:.1f}"


def retained_chars(suggestion: Suggestion, checks: Sequence[Check]) -> int | None:
    """Characters of the accepted text still in place at the latest check that found the place (0 when the
    latest check found it gone); None before any check."""
    if not checks:
        return None
    latest = checks[-1]
    return min(latest.kept_chars, len(suggestion.accepted_text)) if latest.found else 0


@dataclass(frozen=True)
class Figures:
    """One group of suggestions."""

    name: str
    shown: int
    accepted: int  # partial accepts included
    acceptance: float | None  # accepted / shown
    accepted_chars: int
    retained_chars: int  # at the latest check of each accepted suggestion that had one
    checked: int  # accepted suggestions with a retention check
    p50_ms: float | None
    p95_ms: float | None

    @classmethod
    def of(cls, name: str, suggestions: Sequence[Suggestion], checks: dict[str, list[Check]]) -> Figures:
        taken = [s for s in suggestions if s.outcome in ("accepted", "partial")]
        retained = [retained_chars(s, checks.get(s.id, [])) for s in taken]
        latencies = [s.latency_ms for s in suggestions]
        return cls(
            name=name,
            shown=len(suggestions),
            accepted=len(taken),
            acceptance=len(taken) / len(suggestions) if suggestions else None,
            accepted_chars=sum(len(s.accepted_text) for s in taken),
            retained_chars=sum(r for r in retained if r is not None),
            checked=sum(r is not None for r in retained),
            p50_ms=percentile(latencies, 50),
            p95_ms=percentile(latencies, 95),
        )


@dataclass(frozen=True)
class Stats:
    since: float
    total: Figures
    rejected: int
    splits: dict[str, list[Figures]] = field(default_factory=dict)
    days: list[Figures] = field(default_factory=list)  # one per day with suggestions, oldest first
    notice: str = ""
    # p_keep against the fates of the decided suggestions that had one (`fates`): the reliability diagram
    reliability: list[Bin] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarize(suggestions: Sequence[Suggestion], checks: dict[str, list[Check]], since: float) -> Stats:
    total = Figures.of("all", suggestions, checks)
    splits = {}
    for split, key in SPLITS.items():
        groups: dict[str, list[Suggestion]] = {}
        for suggestion in suggestions:
            groups.setdefault(key(suggestion), []).append(suggestion)
        splits[split] = [Figures.of(name, group, checks) for name, group in sorted(groups.items())]
    by_day: dict[str, list[Suggestion]] = {}
    for suggestion in suggestions:
        by_day.setdefault(_day(suggestion.shown_at), []).append(suggestion)
    days = [Figures.of(day, group, checks) for day, group in sorted(by_day.items())]
    notice = NO_ACCEPTS if suggestions and total.accepted == 0 else ""
    rejected = sum(s.outcome == "rejected" for s in suggestions)
    scored = [(s.p_keep, kept) for s, kept in fates(suggestions, checks) if s.p_keep is not None]
    bins = reliability([p for p, _ in scored], [kept for _, kept in scored])
    return Stats(since, total, rejected, splits, days, notice, bins)


def today(store: FeedbackStore) -> dict[str, Any]:
    """Today's suggestions shown and accepted, and the acceptance rate (None when nothing was shown)."""
    start = datetime.datetime.combine(datetime.date.today(), datetime.time()).timestamp()
    shown, accepted = store.counts(since=start) if store.path.is_file() else (0, 0)
    return {"shown": shown, "accepted": accepted, "rate": round(accepted / shown, 4) if shown else None}


def _day(timestamp: float) -> str:
    return datetime.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def render(stats: Stats) -> list[str]:
    """A plain-text report: the totals, then a table per split."""
    total = stats.total
    lines = [
        f"{total.shown} suggestions shown, {total.accepted} accepted ({_pct(total.acceptance)}), {stats.rejected} rejected",
        f"accepted characters {total.accepted_chars}, retained {total.retained_chars} "
        f"(of the {total.checked} accepted suggestions checked)",
        f"latency of suggestions shown: p50 {_ms(total.p50_ms)} ms, p95 {_ms(total.p95_ms)} ms",
    ]
    if stats.notice:
        lines.append(stats.notice)
    if stats.reliability:
        decided = sum(b.n for b in stats.reliability)
        lines.append(
            f"keep-probability against what was kept: calibration error {expected_error(stats.reliability):.3f} "
            f"over {decided} decided suggestions"
        )
    header = f"{'':<22} {'shown':>6} {'accepted':>9} {'rate':>7} {'acc chars':>10} {'retained':>9} {'p50 ms':>7} {'p95 ms':>7}"
    for split, groups in stats.splits.items():
        lines += ["", f"by {split}", header]
        for g in groups:
            lines.append(
                f"{g.name[:22]:<22} {g.shown:>6} {g.accepted:>9} {_pct(g.acceptance):>7} {g.accepted_chars:>10} "
                f"{g.retained_chars:>9} {_ms(g.p50_ms):>7} {_ms(g.p95_ms):>7}"
            )
    return lines


def write_chart(stats: Stats, path: Path) -> None:
    """A PNG: suggestions shown per day (bars) and the day's acceptance rate (line); beside it the reliability
    diagram (share kept against p_keep). Needs matplotlib."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (shown_axis, keep_axis) = plt.subplots(1, 2, figsize=(11, 3.8), dpi=120)
    days = [day.name for day in stats.days]
    shown_axis.bar(days, [day.shown for day in stats.days], color="#c8d6e5", label="shown")
    shown_axis.set_ylabel("suggestions shown")
    rate_axis = shown_axis.twinx()
    rate_axis.plot(
        days, [100 * (day.acceptance or 0.0) for day in stats.days], "o-", color="#10ac84", label="accepted"
    )
    rate_axis.set_ylabel("accepted %")
    rate_axis.set_ylim(0, 100)
    shown_axis.tick_params(axis="x", labelrotation=45)
    shown_axis.set_title("housecoder suggestions per day")
    keep_axis.plot([0, 1], [0, 1], color="grey", linewidth=0.8)
    bins = stats.reliability
    keep_axis.plot([b.predicted for b in bins], [b.observed for b in bins], "o-", color="#2e86de")
    for b in bins:
        keep_axis.annotate(
            str(b.n), (b.predicted, b.observed), fontsize=7, xytext=(3, 3), textcoords="offset points"
        )
    keep_axis.set_xlim(0, 1)
    keep_axis.set_ylim(0, 1)
    keep_axis.set_xlabel("p_keep (mean in bin; the label: suggestions)")
    keep_axis.set_ylabel("share kept")
    keep_axis.set_title(
        f"calibration error {expected_error(bins):.3f}" if bins else "no decided suggestion with a p_keep yet"
    )
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)


def fates(suggestions: Sequence[Suggestion], checks: dict[str, list[Check]]) -> list[tuple[Suggestion, bool]]:
    """Every decided suggestion with its fate, in the order shown: kept when accepted and at least half of
    what was taken is still in place at the latest check; not kept when rejected or rewritten. Accepted ones
    not checked yet are left out (their fate is unknown), and so are those still shown."""
    found = []
    for suggestion in suggestions:
        if suggestion.outcome == "shown":
            continue
        if suggestion.outcome == "rejected":
            found.append((suggestion, False))
            continue
        retained = retained_chars(suggestion, checks.get(suggestion.id, []))
        if retained is not None:
            found.append((suggestion, 2 * retained >= len(suggestion.accepted_text) > 0))
    return found


def keep_events(
    suggestions: Sequence[Suggestion], checks: dict[str, list[Check]], model: str | None = None
) -> tuple[list[dict[str, float]], list[bool]]:
    """The signals and fate (`fates`) of every decided suggestion that has signals, in the order shown; with a
    `model`, only those that code model wrote (and those recorded before stores said which)."""
    found = [
        (s.signals, kept)
        for s, kept in fates(suggestions, checks)
        if s.signals is not None and (model is None or s.model in (None, model))
    ]
    return [signals for signals, _ in found], [kept for _, kept in found]
