"""Cross-fitted bagging against one network: the sweep that chose ``n_cv='auto'``.

For every dataset of ``tabular_data.py`` and each fold of ``tabular.py``'s
3-fold cross-validation, this script fits the tabular model as

- ``default``: one network, its epoch chosen on a 20% hold-out (``n_cv=1``);
- ``piecewise``: the same with ``numerical_embedding='piecewise'``;
- ``bag5``: five networks, each trained on four of five inner folds of the
  training part and keeping its best epoch on the fifth, probabilities or
  predictions averaged;
- ``bag5_e16``: ``bag5`` with 16 epochs per member instead of 40.

The members are fitted here through ``fit(..., X_val=, y_val=)`` (each with
its own table encoder, fitted on its training folds), which is what
``n_cv=5`` does inside the estimator with one encoder for all members.  Each
line of output is one dataset as JSON: per variant the mean score over the
folds and the median fit seconds.  ``--summary FILE`` reads such lines back
and prints the mean gain and the total fit time of bagging every table of at
most ``T`` training rows, for several ``T``.  Run it as::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 \\
        python benchmarks/tabular_bagging.py --part 0/2 > part0.jsonl
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402
import tabular  # noqa: E402
import tabular_data  # noqa: E402

# every network runs all its epochs, as when the sweep was measured (before
# the early stop, n_iter_no_change=15, became the default)
_ONE = {"n_cv": 1, "n_iter_no_change": None}
VARIANTS = {
    "default": (1, _ONE),
    "piecewise": (1, {**_ONE, "numerical_embedding": "piecewise"}),
    "bag5": (5, _ONE),
    "bag5_e16": (5, {**_ONE, "max_iter": 16}),
}
"""``name: (members, parameters)``; members above 1 are cross-fitted here."""

THRESHOLDS = (1000, 2000, 3000, 4000)


def fit_members(task, seed, X, y, k, params):
    """``k`` networks, each trained on ``k - 1`` inner folds and validated on
    the last (one network on a hold-out split when ``k`` is 1)."""
    from sklearn.model_selection import KFold, StratifiedKFold

    if k == 1:
        model = tabular.make_model("tabular", task, seed, params, False)
        return [model.fit(X, y)]
    cv = KFold if task == "regression" else StratifiedKFold
    members = []
    folds = cv(n_splits=k, shuffle=True, random_state=seed).split(X, y)
    for j, (tr, va) in enumerate(folds):
        model = tabular.make_model("tabular", task, seed * 10 + j, params, False)
        model.fit(X.iloc[tr], y.iloc[tr], X_val=X.iloc[va], y_val=y.iloc[va])
        members.append(model)
    return members


class _MeanOf:
    """The members' mean as one model: probabilities averaged (labels by
    their argmax), or predictions averaged."""

    def __init__(self, members):
        self.members = members

    def predict_proba(self, X):
        return np.mean([m.predict_proba(X) for m in self.members], axis=0)

    def predict(self, X):
        first = self.members[0]
        if hasattr(first, "classes_"):
            return first.classes_[self.predict_proba(X).argmax(axis=1)]
        return np.mean([m.predict(X) for m in self.members], axis=0)


def score_members(members, task, X, y):
    """The held-out score of the members' mean prediction (``tabular.py``'s
    metric of the task)."""
    return tabular._score(_MeanOf(members), task, X, y)


def run(names):
    for name in names:
        ds = tabular_data.DATASETS[name]
        X, y = ds.load()
        out = {"name": name, "rows": len(X)}
        for variant, (k, params) in VARIANTS.items():
            scores, seconds = [], []
            for seed, (tr, te) in enumerate(tabular._folds(ds.task, X, y)):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    start = time.perf_counter()
                    members = fit_members(
                        ds.task, seed, X.iloc[tr], y.iloc[tr], k, params
                    )
                    seconds.append(time.perf_counter() - start)
                    scores.append(
                        score_members(members, ds.task, X.iloc[te], y.iloc[te])
                    )
            out[variant] = [float(np.mean(scores)), float(np.median(seconds))]
        print(json.dumps(out), flush=True)


def summary(lines):
    """Mean gain and total time of bagging the tables up to each threshold."""
    rows = [json.loads(line) for line in lines if line.strip()]
    base = sum(r["default"][1] for r in rows)
    out = [
        f"{len(rows)} datasets; mean change against one network: "
        + ", ".join(
            f"{v} {np.mean([r[v][0] - r['default'][0] for r in rows]):+.4f}"
            for v in VARIANTS
            if v != "default"
        ),
        "",
        "| bag5 up to (training rows) | tables bagged | mean change | total fit time |",
        "| ---: | ---: | ---: | ---: |",
    ]
    for limit in THRESHOLDS:
        bagged = [r["rows"] * 2 / 3 <= limit for r in rows]
        gain = np.mean(
            [r["bag5"][0] - r["default"][0] if b else 0 for r, b in zip(rows, bagged)]
        )
        total = sum(
            r["bag5"][1] if b else r["default"][1] for r, b in zip(rows, bagged)
        )
        out.append(f"| {limit} | {sum(bagged)} | {gain:+.4f} | {total / base:.2f}x |")
    return "\n".join(out)


def main(argv=None):
    return benchlib.sweep_main(__doc__, run, summary, tabular_data.DATASETS, argv)


if __name__ == "__main__":
    sys.exit(main())
