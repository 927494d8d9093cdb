"""`bench keep`: the gate's figures, each repository scored by a model fitted on the others."""

from __future__ import annotations

import json
import math
import random
from dataclasses import replace
from pathlib import Path

import pytest
from record_fixture import make_record

from housecoder.benchmarks.keep import evaluate, examples, history, markdown, others_models, point
from housecoder.evaluation.runner import Record
from housecoder.keep import FEATURES, KeepModel


def records(count: int = 240, seed: int = 0) -> list[Record]:
    """Suggestions of three repositories, exactly right mostly where the model was sure."""
    rng = random.Random(seed)
    found = []
    for n in range(count):
        mean = -2.5 * rng.random()
        exact = rng.random() < (0.9 if mean > -0.8 else 0.15)
        signals = {name: rng.random() for name in FEATURES} | {"mean_logprob": mean, "mid_line": 0.0}
        repo = ("alpha", "beta", "gamma.ts")[n % 3]
        path = f"{repo.split('.')[0]}/line/src/m{n}.{'ts' if repo.endswith('.ts') else 'py'}:{n}"
        record = make_record("housecoder", path, exact)
        found.append(
            replace(record, prediction="value" if exact else "valve", groundtruth="value", signals=signals)
        )
    return found


def test_the_gate_shows_fewer_and_better_suggestions() -> None:
    summary, model = evaluate(records(), about={"cpu": "test"})
    chosen, before = summary["chosen"], summary["groups"]["all"]["before"]
    assert summary["about"]["repositories"] == ["alpha", "beta", "gamma"]
    assert set(summary["groups"]) == {"all", "python", "typescript"}
    assert chosen["precision"] > before["precision"] + 0.2 and chosen["shown"] < 1.0
    low, high = chosen["precision_ci"]
    assert low <= chosen["precision"] <= high
    # the chosen threshold has the best expected value on the curve
    assert chosen["value"] == max(p["value"] for p in summary["curve"])
    assert dict(zip(model.features, model.coef, strict=True))["mean_logprob"] > 0
    assert summary["groups"]["all"]["calibration"]["auc"] > 0.75
    text = markdown(summary)
    assert "each repository scored by a model fitted on the others" in text and "| 0.50 |" in text
    assert KeepModel.from_json(model.to_json()) == model
    inside = [
        replace(r, signals=(r.signals or {}) | {"mid_line": 1.0}) if n % 4 == 0 else r
        for n, r in enumerate(records())
    ]
    groups = evaluate(inside, about={})[0]["groups"]
    assert groups["cursor inside the line"]["suggestions"] == 60
    assert groups["cursor at the line's start"]["suggestions"] == 180


def test_the_refit_on_a_simulated_history_beats_the_default_where_a_repository_differs() -> None:
    changed = []
    for record in records(300):
        if record.task_id.startswith("alpha/"):  # here those inside a word are right, whatever the scores
            exact = record.signals is not None and record.signals["mid_word"] > 0.5
            record = replace(record, exact=exact, prediction="value" if exact else "valve")
        changed.append(record)
    found = history(examples(changed), others_models(examples(changed)))
    alpha, beta = found["repositories"]["alpha"], found["repositories"]["beta"]
    assert (alpha["events"], alpha["held_out"]) == (100, 25) and alpha["used"]
    assert alpha["refit_log_loss"] < alpha["default_log_loss"]
    assert beta["default_log_loss"] is not None and found["held_out"] == 75
    low, high = found["difference_ci"]
    assert low <= found["difference"] <= high and found["difference"] < 0
    # fewer events than a refit needs: no figures, and the reason
    few = history(examples(records(90)), others_models(examples(records(90))))
    assert few["difference"] is None and "60 needed" in few["repositories"]["alpha"]["line"]


def test_figures_at_one_threshold() -> None:
    found = examples(records(30))
    scores = [1.0 if example.exact else 0.0 for example in found]
    perfect = point(found, scores, 0.5)
    assert perfect.precision == perfect.recall == 1.0 and perfect.kept_chars == len("value")
    assert point(found, scores, 0.0).kept_chars < perfect.kept_chars
    assert point(found, [0.0] * len(found), 0.5).shown == 0.0


def test_records_without_a_suggestion_or_signals_are_not_gated_and_one_repository_is_refused() -> None:
    kept = records(9)
    kept[0] = replace(kept[0], prediction="  ")
    kept[1] = replace(kept[1], signals=None)
    assert len(examples(kept)) == 7
    with pytest.raises(ValueError, match="at least two repositories"):
        evaluate([r for r in records(30) if r.task_id.startswith("alpha/")], about={})


def test_served_scores_are_those_the_run_used_on_one_repository(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from housecoder.cli import app

    one = [
        replace(r, p_keep=0.9 if r.exact else 0.1) if n % 5 else replace(r, p_keep=None)
        for n, r in enumerate(r for r in records(90) if r.task_id.startswith("alpha/"))
    ]
    summary, model = evaluate(one, about={}, served=True, threshold=0.3)
    assert model is None and summary["about"]["served"]
    assert "60 needed" in summary["history"]["repositories"]["alpha"]["line"]  # the shipped model, 24 events
    assert "the default is the shipped model, which the refit adjusts" in markdown(summary)
    assert summary["about"]["suggestions"] == 24  # those served without a p_keep are left out
    assert (
        summary["threshold"] == 0.3 and summary["chosen"]["precision"] == summary["chosen"]["recall"] == 1.0
    )
    assert "each scored with the p_keep it was served with" in markdown(summary)
    with pytest.raises(ValueError, match="no suggestion was served with a keep-probability"):
        evaluate([replace(r, p_keep=None) for r in one], about={}, served=True)
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "results.jsonl").write_text("".join(json.dumps(r.__dict__) + "\n" for r in one))
    result = CliRunner().invoke(
        app, ["bench", "keep", str(folder), "-o", str(tmp_path / "keep"), "--served", "--threshold", "0.3"]
    )
    assert result.exit_code == 0, result.output
    assert {path.name for path in (tmp_path / "keep").iterdir()} == {"summary.json", "report.md", "chart.png"}
    # another keep model tried on the same suggestions, against the p_keep they were served with
    unsure = KeepModel(("mean_logprob",), (0.0,), (1.0,), (0.0,), 0.0)  # p_keep 0.5 whatever it reads
    tried, _ = evaluate(one, about={"model": "half.json"}, scorer=unsure, threshold=0.3)
    compared = tried["groups"]["all"]["against_served"]
    assert compared["suggestions"] == 24 and compared["served_log_loss"] == pytest.approx(-math.log(0.9))
    assert compared["log_loss"] == pytest.approx(math.log(2)) and compared["difference"] > 0
    assert "each scored by half.json" in markdown(tried) and "the model tried (half.json)" in markdown(tried)
    (tmp_path / "half.json").write_text(unsure.to_json())
    base = ["bench", "keep", str(folder), "-o", str(tmp_path / "tried")]
    result = CliRunner().invoke(app, [*base, "--model", str(tmp_path / "half.json")])
    assert result.exit_code == 0, result.output
    assert "a difference of **+0.588**" in (tmp_path / "tried" / "report.md").read_text()
    both = CliRunner().invoke(app, [*base, "--model", str(tmp_path / "half.json"), "--served"])
    assert both.exit_code != 0 and "not both" in str(both.exception)
    (tmp_path / "bad.json").write_text("{}")
    bad = CliRunner().invoke(app, [*base, "--model", str(tmp_path / "bad.json")])
    assert bad.exit_code != 0 and "not a keep model" in str(bad.exception)


def test_the_command_writes_the_figures_and_the_model(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from housecoder.cli import app

    folder = tmp_path / "run"
    folder.mkdir()
    with (folder / "results.jsonl").open("w") as out:
        for record in records(90):
            out.write(json.dumps(record.__dict__) + "\n")
    result = CliRunner().invoke(app, ["bench", "keep", str(folder), "-o", str(tmp_path / "keep")])
    assert result.exit_code == 0, result.output
    assert {path.name for path in (tmp_path / "keep").iterdir()} == {
        "summary.json",
        "report.md",
        "chart.png",
        "model.json",
    }
    wrong = CliRunner().invoke(
        app, ["bench", "keep", str(folder), "-o", str(tmp_path / "k2"), "--features", "x"]
    )
    assert wrong.exit_code != 0 and "unknown signal 'x'" in str(wrong.exception)
    named = CliRunner().invoke(
        app, ["bench", "keep", str(folder), "-o", str(tmp_path / "k3"), "--code-model", "small"]
    )
    assert named.exit_code == 0, named.output
    about = json.loads((tmp_path / "k3" / "model.json").read_text())["about"]
    assert about["code_model"] == "small"  # the model the runs used, for a model shipped for it
