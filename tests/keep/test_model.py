"""The keep model: scoring, its JSON, the shipped default, fitting, and falling back from a bad file."""

from __future__ import annotations

import logging
import random
from pathlib import Path

import pytest
from feedback_fixture import SURE, UNSURE

from housecoder.keep.fit import fit
from housecoder.keep.model import DEFAULT, KeepModel, default_model, load_model
from housecoder.keep.signals import FEATURES


def test_probability_and_json_round_trip() -> None:
    model = KeepModel(("mean_logprob",), (-1.0,), (0.5,), (2.0,), -0.5)
    assert model.p_keep({"mean_logprob": -1.0}) == pytest.approx(1 / (1 + 2.718281828**0.5))
    assert model.p_keep({"mean_logprob": 0.0}) > model.p_keep({"mean_logprob": -2.0})
    assert 0.0 <= model.p_keep({"mean_logprob": -1e6}) < 1e-6  # no overflow at the far ends
    assert KeepModel.from_json(model.to_json()) == model


def test_shape_errors() -> None:
    with pytest.raises(ValueError, match="unknown feature"):
        KeepModel(("nonsense",), (0.0,), (1.0,), (1.0,), 0.0)
    with pytest.raises(ValueError, match="differ"):
        KeepModel(("mean_logprob",), (0.0,), (1.0,), (1.0,), 0.0, low=(1.0,), high=(0.0,))
    with pytest.raises(ValueError, match="differ"):
        KeepModel(("mean_logprob",), (0.0, 1.0), (1.0,), (1.0,), 0.0)


def test_the_shipped_default_scores_every_signal() -> None:
    model = default_model()
    assert model == KeepModel.from_json(DEFAULT.read_text())
    assert set(model.features) <= set(FEATURES) and model.features
    sure = {name: 0.0 for name in FEATURES} | SURE
    unsure = sure | UNSURE
    assert model.p_keep(sure) > model.p_keep(unsure)


def test_a_built_in_code_model_of_its_own_gets_its_own_shipped_model_and_any_other_the_default(
    tmp_path: Path,
) -> None:
    from housecoder.keep.model import BY_MODEL, shipped
    from housecoder.models.catalog import BUILTIN

    assert shipped() and set(shipped()) <= set(BUILTIN)  # named after the built-in model whose data it fitted
    for name, path in shipped().items():
        assert default_model(name) == KeepModel.from_json(path.read_text()) != default_model()
        assert load_model(tmp_path / "none.json", name) == default_model(name)
        sure = {feature: 0.0 for feature in FEATURES} | SURE
        assert default_model(name).p_keep(sure) > default_model(name).p_keep(sure | UNSURE)
    # a path or hub id, even one that walks out of the folder, is not a shipped file's name
    for other in ("/models/qwen2.5-coder-0.5b-instruct.gguf", "Qwen/Qwen2.5-Coder-7B", "../default", ""):
        assert default_model(other) == default_model()
    assert (BY_MODEL / "../default.json").resolve() == DEFAULT.resolve()


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        '{"features": ["mean_logprob"]}',
        '{"features": ["x"], "mean": [0], "scale": [1], "coef": [1], "intercept": 0}',
        "[]",
    ],
)
def test_a_bad_file_falls_back_to_the_default_with_one_line(
    tmp_path: Path, content: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "keep.json"
    path.write_text(content)
    with caplog.at_level(logging.WARNING, logger="housecoder.keep.model"):
        assert load_model(path) == default_model()
    assert len(caplog.records) == 1 and "shipped default" in caplog.records[0].getMessage()


def test_a_missing_file_is_the_default_quietly(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert load_model(tmp_path / "none.json") == default_model()
    assert not caplog.records


def test_fit_learns_which_way_confidence_points() -> None:
    rng = random.Random(0)
    rows, kept = [], []
    for _ in range(300):
        mean = -rng.random() * 3
        rows.append({name: rng.random() for name in FEATURES} | {"mean_logprob": mean})
        kept.append(rng.random() < 1 / (1 + 2.718281828 ** (-(3 * mean + 3))))
    model = fit(rows, kept)
    assert dict(zip(model.features, model.coef, strict=True))["mean_logprob"] > 0.5
    assert model.about["examples"] == 300
    with pytest.raises(ValueError, match="both"):
        fit(rows[:5], [True] * 5)


def test_the_ceiling_bounds_every_ending_of_a_suggestion_being_written() -> None:
    rng = random.Random(1)
    rows = []
    for _ in range(200):
        scores = [-rng.expovariate(1.0) for _ in range(rng.randint(1, 12))]
        rows.append(
            {name: float(rng.random() < 0.5) for name in FEATURES}
            | {
                "sum_logprob": sum(scores),
                "mean_logprob": sum(scores) / len(scores),
                "min_logprob": min(scores),
                "first_logprob": scores[0],
                "first_margin": rng.random() * 5,
                "log_tokens": len(scores) ** 0.5,
                "log_chars": rng.random() * 4,
            }
        )
    model = fit(rows, [row["mean_logprob"] > -1.0 for row in rows])
    assert model.low and KeepModel.from_json(model.to_json()) == model
    known = {name: 1.0 for name in ("multi_line", "mid_line", "context")} | {
        name: 0.0 for name in ("empty_line", "after_opener", "mid_word", "adapter")
    }
    for row in rows[:50]:
        written = [row["first_logprob"], -3.0]
        final = (
            row
            | known
            | {
                "first_logprob": written[0],
                "sum_logprob": min(row["sum_logprob"], sum(written)),
                "min_logprob": min(row["min_logprob"], -3.0),
            }
        )
        assert model.ceiling(known, written, row["first_margin"]) >= model.p_keep(final) - 1e-9
    assert model.ceiling(known, [], None) == 1.0  # nothing scored yet
    # signals past their fitting range count as its end: a longer text, a lower sum than ever seen
    ranged = KeepModel(
        ("log_tokens", "min_logprob"),
        (1.0, -2.0),
        (1.0, 1.0),
        (2.0, -1.0),
        0.0,
        low=(0.0, -5.0),
        high=(2.0, 0.0),
    )
    ceiling = ranged.ceiling(known, [-0.5, -0.5], 1.0)
    for tokens, lowest in ((5.0, -0.5), (9.0, -19.0), (0.5, -7.0)):
        assert ceiling >= ranged.p_keep({"log_tokens": tokens, "min_logprob": lowest}) - 1e-9
    assert ranged.p_keep({"log_tokens": 9.0, "min_logprob": -19.0}) == ranged.p_keep(
        {"log_tokens": 2.0, "min_logprob": -5.0}
    )
    ranged = KeepModel(("mean_logprob",), (-1.0,), (1.0,), (3.0,), 0.0)
    assert ranged.ceiling(known, [-9.0], 0.0) == 1.0  # no ranges: never given up
