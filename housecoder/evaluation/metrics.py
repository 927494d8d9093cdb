"""Completion-quality metrics as the code-completion papers define them (pure).

- exact match: the normalised prediction equals the normalised ground truth.
  Single-line tasks compare the first non-blank line, stripped (HumanEval-FIM
  single-line as Qwen2.5-Coder reports it; CrossCodeEval's line completion);
  multi-line tasks compare all lines with trailing spaces and blank lines removed.
- edit similarity: rapidfuzz's `fuzz.ratio` (normalised Indel similarity, as
  CrossCodeEval and RepoCoder report it), scaled to 0..1.
- identifier exact match and F1: the identifiers (keywords dropped) of the
  prediction against those of the ground truth, as CrossCodeEval does;
  F1 counts identifiers as a multiset.
- bootstrap 95% intervals over tasks, and paired comparisons of two runs on the
  same tasks (which tasks flipped, and the interval of the difference).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from housecoder.context.identifiers import IDENTIFIER
from housecoder.numeric import percentile

# Language keywords only (builtins such as len or print are identifiers here, unlike in retrieval).
_KEYWORDS = frozenset(
    """
    and as assert async await break case catch class const continue def default del delete do elif else
    enum except export extends false final finally for from function global if implements import in
    instanceof interface is lambda let new nonlocal not null or package pass private protected public
    raise return static super switch this throw throws true try typeof var void while with yield None True
    False
    """.split()
)


def normalise(text: str, *, single_line: bool) -> str:
    """The text that exact match compares."""
    if single_line:
        return next((line.strip() for line in text.split("\n") if line.strip()), "")
    return "\n".join(line.rstrip() for line in text.strip("\n").split("\n") if line.strip())


def exact_match(prediction: str, truth: str, *, single_line: bool) -> bool:
    return normalise(prediction, single_line=single_line) == normalise(truth, single_line=single_line)


def edit_similarity(prediction: str, truth: str, *, single_line: bool) -> float:
    """fuzz.ratio / 100 of the normalised texts: 1 - Indel distance / (len a + len b); two empty texts are 1."""
    from rapidfuzz import fuzz

    a, b = normalise(prediction, single_line=single_line), normalise(truth, single_line=single_line)
    if not a and not b:
        return 1.0
    return float(fuzz.ratio(a, b)) / 100


def identifiers(text: str) -> list[str]:
    """Identifiers in order of appearance, keywords dropped (string contents are not told apart)."""
    return [word for word in IDENTIFIER.findall(text) if word not in _KEYWORDS]


def identifier_match(prediction: str, truth: str, *, single_line: bool) -> tuple[bool, float]:
    """(identifier exact match, identifier F1). No identifiers on either side: (True, 1.0)."""
    predicted = identifiers(normalise(prediction, single_line=single_line))
    wanted = identifiers(normalise(truth, single_line=single_line))
    if not predicted and not wanted:
        return True, 1.0
    common = sum((Counter(predicted) & Counter(wanted)).values())
    if common == 0:
        return False, 0.0
    precision, recall = common / len(predicted), common / len(wanted)
    return predicted == wanted, 2 * precision * recall / (precision + recall)


@dataclass(frozen=True)
class Scores:
    exact: bool
    edit_similarity: float
    identifier_exact: bool
    identifier_f1: float


def score(prediction: str, truth: str, *, single_line: bool) -> Scores:
    id_exact, id_f1 = identifier_match(prediction, truth, single_line=single_line)
    return Scores(
        exact_match(prediction, truth, single_line=single_line),
        edit_similarity(prediction, truth, single_line=single_line),
        id_exact,
        id_f1,
    )


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def bootstrap_interval(
    values: Sequence[float],
    *,
    samples: int = 1000,
    seed: int = 0,
    statistic: Callable[[Sequence[float]], float] = mean,
) -> tuple[float, float]:
    """The 95% percentile-bootstrap interval of `statistic` (the mean unless given) of `values` (resampling
    tasks with replacement)."""
    if not values:
        return 0.0, 0.0
    rng = random.Random(seed)
    n = len(values)
    found = sorted(statistic([values[rng.randrange(n)] for _ in range(n)]) for _ in range(samples))
    return percentile(found, 2.5) or 0.0, percentile(found, 97.5) or 0.0


@dataclass(frozen=True)
class Paired:
    """Run B against run A on the same tasks: B's gains, B's losses, and the interval of mean(B) - mean(A)."""

    gained: list[str]  # task ids right in B, wrong in A
    lost: list[str]  # right in A, wrong in B
    difference: float
    interval: tuple[float, float]


def paired(
    task_ids: Sequence[str], a: Sequence[bool], b: Sequence[bool], *, samples: int = 1000, seed: int = 0
) -> Paired:
    """Paired comparison of two exact-match columns over the same tasks (paired bootstrap of the difference)."""
    if not (len(task_ids) == len(a) == len(b)):
        raise ValueError("paired runs must cover the same tasks")
    gained = [task for task, x, y in zip(task_ids, a, b, strict=True) if y and not x]
    lost = [task for task, x, y in zip(task_ids, a, b, strict=True) if x and not y]
    difference, interval = paired_difference(
        [float(x) for x in a], [float(y) for y in b], samples=samples, seed=seed
    )
    return Paired(gained, lost, difference, interval)


def paired_difference(
    a: Sequence[float], b: Sequence[float], *, samples: int = 1000, seed: int = 0
) -> tuple[float, tuple[float, float]]:
    """mean(b - a) over the same tasks and its paired-bootstrap 95% interval (e.g. of edit similarity, whose
    per-task differences are much less noisy than exact match's flips)."""
    if len(a) != len(b):
        raise ValueError("paired runs must cover the same tasks")
    deltas = [y - x for x, y in zip(a, b, strict=True)]
    return mean(deltas), bootstrap_interval(deltas, samples=samples, seed=seed)
