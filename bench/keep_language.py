"""Would a language signal help the keep model? Leave-one-repository-out with and without it.

    python bench/keep_language.py FOLDER... [--run housecoder]

The `bench run` folders' suggestions (of several repositories, one of them another language) are scored, each
repository by a model fitted on the others, as `housecoder bench keep` does (scikit-learn, the shipped
signals, the same C), once over the shipped signals and once with an indicator of TypeScript added. Printed: each
repository's held-out log-loss both ways, and over the repositories in the majority language the mean
difference per suggestion (with minus without; below zero: the signal helps) with a bootstrap interval within
each repository. A held-out TypeScript repository cannot tell: the model fitted on the others has never seen
the indicator vary.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from housecoder.benchmarks.keep import Example, examples, within_groups
from housecoder.evaluation.runner import read_records
from housecoder.keep import FEATURES
from housecoder.keep.fit import C
from housecoder.keep.refit import event_loss


def losses(train: list[Example], test: list[Example], language: bool) -> list[float]:
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    names = [name for name in FEATURES if all(name in e.signals for e in train + test)]

    def table(found: list[Example]) -> np.ndarray:
        extra = (lambda e: [float(e.language == "typescript")]) if language else (lambda e: [])
        return np.array([[e.signals[name] for name in names] + extra(e) for e in found])

    scaler = StandardScaler().fit(table(train))
    model = LogisticRegression(C=C, max_iter=2000)
    model.fit(scaler.transform(table(train)), [e.exact for e in train])
    scores = model.predict_proba(scaler.transform(table(test)))[:, 1]
    return [event_loss(float(p), e.exact) for p, e in zip(scores, test, strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--run", default="housecoder")
    args = parser.parse_args()
    found: list[Example] = []
    for folder in args.folders:
        found += examples([r for r in read_records(folder / "results.jsonl")[0] if r.run == args.run])
    differences = {}
    for repo in sorted({e.repo for e in found}):
        train, test = [e for e in found if e.repo != repo], [e for e in found if e.repo == repo]
        without, with_it = losses(train, test, False), losses(train, test, True)
        print(
            f"{repo:<14} {len(test):>4} without {sum(without) / len(test):.4f} with {sum(with_it) / len(test):.4f}"
        )
        if {e.language for e in test} == {"python"}:
            differences[repo] = [b - a for a, b in zip(without, with_it, strict=True)]
    pooled = [value for values in differences.values() for value in values]
    low, high = within_groups(list(differences.values()))
    print(
        f"Python repositories, with minus without: {sum(pooled) / len(pooled):+.4f} "
        f"(95% CI {low:+.4f} to {high:+.4f}) over {len(pooled)} suggestions"
    )


if __name__ == "__main__":
    main()
