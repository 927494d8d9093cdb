"""The keep-probability model: logistic regression over standardised `signals`, stored as JSON.

The coefficients that ship were fitted on benchmark tasks (`housecoder bench keep`): `default.json` on the
default code model's suggestions, and `models/<code model>.json` for a built-in code model whose scores mean
something else (the smaller model is right less often at the same log-probabilities); a workspace may hold its
own refit. Scoring needs no library: a dot product and a logistic function, so serving
stays free of scikit-learn (fitting uses it). A file that is missing, unreadable or of another shape falls
back to the shipped default with one log line.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from housecoder.errors import first_line
from housecoder.keep.signals import FEATURES, MARGIN_CAP, floored

log = logging.getLogger(__name__)
DEFAULT = Path(__file__).with_name("default.json")
BY_MODEL = Path(__file__).with_name("models")  # <code model name>.json: that model's own shipped coefficients


@dataclass(frozen=True)
class KeepModel:
    """p_keep = logistic(intercept + Σ coef·(x − mean)/scale) over `features` (a subset of `FEATURES`).
    `about` says what it was fitted on and how it scored."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    about: dict[str, Any] = field(default_factory=dict)
    # each feature's range in the fitting data; empty: unknown (the generation is then never given up early)
    low: tuple[float, ...] = ()
    high: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        sizes = {len(self.features), len(self.mean), len(self.scale), len(self.coef)}
        sizes |= {len(self.features)} if not self.low and not self.high else {len(self.low), len(self.high)}
        unknown = set(self.features) - set(FEATURES)
        inverted = any(low > high for low, high in zip(self.low, self.high, strict=False))
        if len(sizes) != 1 or unknown or inverted or any(scale <= 0 for scale in self.scale):
            raise ValueError(
                f"unknown feature {sorted(unknown)[0]}"
                if unknown
                else "features, coefficients and ranges differ"
            )

    def p_keep(self, values: dict[str, float]) -> float:
        """The probability that the suggestion with these signals is kept (each signal held to its fitting
        range where the model knows it: no extrapolation past what it was fitted on)."""
        return _logistic(self.logit(values))

    def logit(self, values: dict[str, float]) -> float:
        """`p_keep` before the logistic function: the log-odds of a keep."""
        return self.intercept + sum(
            coef * (self._held(index, values[name]) - mean) / scale
            for index, (name, mean, scale, coef) in enumerate(
                zip(self.features, self.mean, self.scale, self.coef, strict=True)
            )
        )

    def _held(self, index: int, value: float) -> float:
        return min(self.high[index], max(self.low[index], value)) if self.low else value

    def ceiling(
        self, known: dict[str, float], logprobs: Sequence[float], first_margin: float | None
    ) -> float:
        """The highest p_keep a suggestion still being written can reach: its place (`known`, the `PLACE`
        signals) and first token are fixed, its sum and lowest log-probability can only fall (to the bottom of
        their range), and every other signal may end anywhere in its fitting range (where `p_keep` holds it).
        1.0 where the ranges are unknown or nothing is scored."""
        if not self.low or not logprobs:
            return 1.0
        scores = floored(logprobs)
        now = known | {
            "first_logprob": scores[0],
            "first_margin": min(MARGIN_CAP, first_margin or 0.0),
        }
        falling = {"sum_logprob": sum(scores), "min_logprob": min(scores)}
        z = self.intercept
        for index, (name, mean, scale, coef, low, high) in enumerate(
            zip(self.features, self.mean, self.scale, self.coef, self.low, self.high, strict=True)
        ):
            ends: tuple[float, ...]
            if name in now:
                ends = (self._held(index, now[name]),)
            elif name in falling:
                ends = (low, self._held(index, falling[name]))
            else:
                ends = (low, high)
            z += max(coef * (end - mean) / scale for end in ends)
        return _logistic(z)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str) -> KeepModel:
        data = json.loads(text)
        return cls(
            features=tuple(str(name) for name in data["features"]),
            mean=tuple(float(value) for value in data["mean"]),
            scale=tuple(float(value) for value in data["scale"]),
            coef=tuple(float(value) for value in data["coef"]),
            intercept=float(data["intercept"]),
            about=dict(data.get("about") or {}),
            low=tuple(float(value) for value in data.get("low") or ()),
            high=tuple(float(value) for value in data.get("high") or ()),
        )


def _logistic(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def load_model(path: Path | None = None, code_model: str | None = None) -> KeepModel:
    """The model at `path` (a workspace's refit), or the one shipped for `code_model` where `path` is None,
    missing or not a model (said in one log line)."""
    if path is not None:
        try:
            return KeepModel.from_json(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError) as err:
            log.warning("keep model %s unusable (%s): the shipped default is used", path, first_line(err))
    return default_model(code_model)


@cache
def default_model(code_model: str | None = None) -> KeepModel:
    """The shipped model for `code_model` (a `models.code_model` setting): its own where one ships, else the
    default code model's. Read once."""
    path = shipped().get(code_model or "", DEFAULT)
    return KeepModel.from_json(path.read_text(encoding="utf-8"))


@cache
def shipped() -> dict[str, Path]:
    """The code models with coefficients of their own, by name."""
    return {path.stem: path for path in BY_MODEL.glob("*.json")}
