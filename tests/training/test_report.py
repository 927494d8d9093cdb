"""The activation rule and the report files, on hand-made metrics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from housecoder.models.adapter_meta import AdapterMeta
from housecoder.training.report import against_service, markdown, verdict, write_report
from housecoder.training.results import Metrics, RunScores


def _metrics(
    em: tuple[float, float],
    es: tuple[float, float],
    loss: tuple[float, float],
    forgetting: tuple[float, float] | None = None,
    spread: float = 0.01,
) -> dict[str, Any]:
    """Held-out scores before and after; the paired intervals are each difference +- `spread`."""

    def scores(exact: float, similarity: float) -> dict[str, Any]:
        return {"tasks": 10, "exact": exact, "edit_similarity": similarity, "identifier_f1": 0.5}

    exact, similarity = em[1] - em[0], es[1] - es[0]
    paired = {
        "tasks": 10,
        "gained": [],
        "lost": [],
        "difference": exact,
        "interval": [exact - spread, exact + spread],
        "similarity_difference": similarity,
        "similarity_interval": [similarity - spread, similarity + spread],
    }
    found: dict[str, Any] = {
        "held_out_loss": {"before": loss[0], "after": loss[1]},
        "held-out": {
            "before": scores(em[0], es[0]),
            "after": scores(em[1], es[1]),
            "by_kind": [],
            "paired": [paired],
        },
    }
    if forgetting:
        found["forgetting"] = {
            "before": scores(forgetting[0], 0.9),
            "after": scores(forgetting[1], 0.9),
            "by_kind": [],
            "paired": [],
        }
    return found


@pytest.mark.parametrize(
    ("metrics", "beat", "reason"),
    [
        (
            _metrics((0.3, 0.4), (0.6, 0.7), (1.2, 1.0)),
            True,
            "activated: beat the base model (held-out exact match 30.0 -> 40.0%",
        ),
        (_metrics((0.3, 0.3), (0.6, 0.65), (1.2, 1.0)), True, "activated"),
        (_metrics((0.3, 0.3), (0.6, 0.6), (1.2, 1.0)), False, "did not complete held-out code better"),
        (_metrics((0.4, 0.3), (0.6, 0.9), (1.2, 1.0)), False, "did not complete held-out code better"),
        (_metrics((0.3, 0.4), (0.6, 0.6), (1.2, 1.0)), True, "activated"),
        (
            _metrics((0.3, 0.4), (0.65, 0.6), (1.2, 1.0)),
            False,
            "more exact middles, but the others further off",
        ),
        (
            _metrics((0.281, 0.344), (0.634, 0.621), (1.325, 1.219)),
            False,
            "further off",
        ),  # the long smolagents run
        (_metrics((0.3, 0.3), (0.6, 0.59), (1.2, 1.0)), False, "did not complete held-out code better"),
        (_metrics((0.3, 0.4), (0.6, 0.7), (1.0, 1.0)), False, "the held-out loss did not drop"),
        (_metrics((0.3, 0.4), (0.6, 0.7), (1.2, 1.0), (0.8, 0.76)), True, "forgetting check 80.0 -> 76.0%"),
        (_metrics((0.3, 0.4), (0.6, 0.7), (1.2, 1.0), (0.8, 0.7)), False, "forgot too much elsewhere"),
        # Ahead on the point estimates only: click's lr 1e-4 adapter, 40 middles (exact +0.0, -7.5 to +7.5;
        # similarity +3.1, -2.5 to +10.1).
        (
            _metrics((0.35, 0.35), (0.675, 0.706), (0.839, 0.736), spread=0.056),
            False,
            "within the noise of the held-out middles",
        ),
        (
            _metrics((0.3, 0.4), (0.6, 0.6), (1.2, 1.0), spread=0.11),
            False,
            "exact +10.0 points (95% CI -1.0 to +21.0)",
        ),
        (_metrics((0.3, 0.4), (0.6, 0.59), (1.2, 1.0), spread=0.05), False, "further off"),
        (
            _metrics((0.3, 0.4), (0.6, 0.65), (1.2, 1.0), spread=0.099),
            True,
            "edit similarity +5.0 points (95% CI -4.9 to +14.9)",
        ),
    ],
)
def test_verdict(metrics: dict[str, Any], beat: bool, reason: str) -> None:
    found, why = verdict(Metrics.from_json(metrics), max_forgetting=0.05)
    assert found is beat and reason in why


def test_verdict_ahead_takes_the_point_estimates() -> None:
    noisy = _metrics((0.35, 0.35), (0.675, 0.706), (0.839, 0.736), spread=0.056)
    beat, why = verdict(Metrics.from_json(noisy), 0.05, "ahead")
    assert beat is True and why.startswith("activated: beat the base model")
    worse = _metrics((0.3, 0.3), (0.6, 0.59), (1.2, 1.0))
    assert verdict(Metrics.from_json(worse), 0.05, "ahead")[0] is False


def test_verdict_without_paired_figures_is_not_clear() -> None:
    metrics = _metrics((0.3, 0.4), (0.6, 0.7), (1.2, 1.0))
    metrics["held-out"]["paired"] = []
    typed = Metrics.from_json(metrics)
    assert verdict(typed, 0.05)[0] is False and verdict(typed, 0.05, "ahead")[0] is True


def test_report_files(tmp_path: Path) -> None:
    metrics = _metrics((0.3, 0.4), (0.6, 0.7), (1.2, 1.0), (0.8, 0.8))
    metrics["held-out"]["by_kind"] = [
        {
            "run": "housecoder",
            "kind": "line",
            "tasks": 4,
            "exact": 0.25,
            "exact_ci": [0.0, 0.5],
            "edit_similarity": 0.5,
            "edit_similarity_ci": [0.4, 0.6],
            "identifier_exact": 0.25,
            "identifier_f1": 0.5,
            "p50_s": 1.0,
            "p95_s": 2.0,
            "prompt_tokens": 300.0,
            "errors": 0,
        }
    ]
    metrics["held-out"]["paired"] = [
        {
            "tasks": 10,
            "gained": ["a", "b"],
            "lost": ["c"],
            "difference": 0.1,
            "interval": [-0.1, 0.3],
            "similarity_difference": 0.1,
            "similarity_interval": [0.02, 0.2],
        }
    ]
    beat, why = verdict(Metrics.from_json(metrics), 0.05)
    meta = {
        "format": 1,
        "base_model": "m",
        "base_fingerprint": "sha256:" + "ab" * 32,
        "repository": "/src/shop",
        "commit": None,
        "created": "2026-11-25T09:00:00+00:00",
        "config": {"rank": 16},
        "split": "held out 2 of 9 files by hash",
        "samples": {"train": 40, "held_out": 10},
        "metrics": metrics,
        "beat_base": beat,
        "verdict": why,
        "training": {"step": 5, "best_step": 4, "samples_seen": 40, "elapsed_s": 120, "paused_s": 90},
    }
    typed = AdapterMeta.from_json(meta)
    assert typed.to_json() == json.loads(json.dumps(meta))  # the JSON reads back as written
    history = [{"step": 1, "loss": 1.5, "eval_loss": None}, {"step": 2, "loss": 1.3, "eval_loss": 1.1}]
    write_report(tmp_path, typed, history)
    text = (tmp_path / "report.md").read_text()
    assert text == markdown(typed) and text.startswith("# Adapter for shop\n\n- activated")
    assert "| line | housecoder | 4 | 25.0 | 50.0 | 50.0 |" in text
    assert (
        "Paired over 10 tasks: 2 gained, 1 lost, +10.0 points (95% CI -10.0 to +30.0); edit similarity +10.0 points "
        "(95% CI +2.0 to +20.0)."
    ) in text
    for key in ("similarity_difference", "similarity_interval"):  # a report written before they were measured
        del metrics["held-out"]["paired"][0][key]
    older = AdapterMeta.from_json(meta)
    assert Metrics.from_json(older.metrics).to_json() == metrics
    assert "Paired over 10 tasks: 2 gained, 1 lost, +10.0 points (95% CI -10.0 to +30.0)." in markdown(older)
    assert "5 steps (best at 4), 40 sequences, 2.0 min (and 1.5 min paused for typing)" in text
    assert json.loads((tmp_path / "report.json").read_text())["history"] == history
    written_by_the_registry = {
        key: value for key, value in meta.items() if key not in ("split", "samples", "training")
    }
    assert "- split not recorded; samples not recorded\n" in markdown(
        AdapterMeta.from_json(written_by_the_registry)
    )
    assert (tmp_path / "loss.png").read_bytes().startswith(b"\x89PNG")


def test_an_adapter_worse_on_the_users_own_code_is_refused_first() -> None:
    metrics = _metrics((0.3, 0.4), (0.6, 0.7), (1.2, 1.0))
    own = {"tasks": 10, "exact": 0.5, "edit_similarity": 0.8, "identifier_f1": 0.5}
    metrics["history"] = {
        "before": own,
        "after": own | {"edit_similarity": 0.79},
        "by_kind": [],
        "paired": [],
    }
    beat, why = verdict(Metrics.from_json(metrics), 0.05)
    assert not beat and why.startswith("not activated: it completes your own recent code worse")
    assert "your own 10 newest kept or rewritten completions: exact 50.0 -> 50.0%" in why
    metrics["history"]["after"] = own
    beat, why = verdict(Metrics.from_json(metrics), 0.05)
    assert beat and "your own 10 newest" in why  # no worse there: the held-out rule decides


@pytest.mark.parametrize(
    ("service", "mine", "beat"),
    [
        ((0.40, 0.70), (0.45, 0.70), True),  # more exact, as close
        ((0.40, 0.70), (0.40, 0.72), True),  # as many exact, closer
        ((0.40, 0.70), (0.40, 0.70), False),  # a tie keeps the adapter in service
        ((0.40, 0.70), (0.45, 0.68), False),  # more exact, the rest further off
        ((0.45, 0.70), (0.40, 0.75), False),  # fewer exact
    ],
)
def test_an_adapter_that_beat_the_base_must_also_beat_the_one_in_service(
    service: tuple[float, float], mine: tuple[float, float], beat: bool
) -> None:
    served = RunScores(40, service[0], service[1], 0.5)
    new = RunScores(40, mine[0], mine[1], 0.5)
    ok, why = against_service("activated: beat the base model (figures)", served, new, "20261101-120000")
    assert ok is beat
    if beat:
        assert why.startswith(
            "activated: beat the base model (figures); ahead of the adapter in service (20261101-120000: exact"
        )
    else:
        assert why.startswith(
            "not activated: it beat the base model, but not the adapter in service (20261101-120000: exact"
        )
