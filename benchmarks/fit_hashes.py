"""Bit fingerprints of fitted models, to show that a refactor changes no bits.

Prints one SHA-256 (first 8 hex digits) over the fitted weights and curves
of 16 drop-in fits (every solver, both estimators, early stopping with the
split and with ``X_val``, dropout, class weights, warm start, partial_fit,
float32, sparse input) and one over 13 tabular fits, then each fit's own.
Run it on two commits and compare::

    python benchmarks/fit_hashes.py            # the totals
    python benchmarks/fit_hashes.py --each     # one line per fit

The numbers depend on the BLAS kernel and on Numba being installed: compare
runs made on one machine with the same environment.
"""

from __future__ import annotations

import argparse
import hashlib
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import load_diabetes, load_digits


def _digest(*arrays):
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(np.asarray(a, dtype=np.float64)).tobytes())
    return h.hexdigest()[:8]


def _weights(model):
    if hasattr(model, "coefs_"):
        parts = [*model.coefs_, *model.intercepts_]
    else:
        parts = [model._params]
    curves = [getattr(model, "loss_curve_", None) or [0.0]]
    if getattr(model, "validation_scores_", None):
        curves.append(model.validation_scores_)
    return [*parts, *curves]


def dropin_fits():
    from sknn import MLPClassifierNN, MLPRegressorNN

    X, y = load_digits(return_X_y=True)
    X = X[:600] / 16.0
    y = y[:600]
    Xr, yr = load_diabetes(return_X_y=True)
    yb = (y > 4).astype(int)
    common = dict(hidden_layer_sizes=(24,), max_iter=15, random_state=0)
    cases = [
        ("adam", MLPClassifierNN(**common), X, y),
        ("sgd", MLPClassifierNN(solver="sgd", **common), X, y),
        ("lbfgs", MLPClassifierNN(solver="lbfgs", **common), X, y),
        ("adamw", MLPClassifierNN(solver="adamw", weight_decay=0.01, **common), X, y),
        ("rmsprop", MLPClassifierNN(solver="rmsprop", **common), X, y),
        ("early", MLPClassifierNN(early_stopping=True, **common), X, y),
        ("binary-early", MLPClassifierNN(early_stopping=True, **common), X, yb),
        ("dropout", MLPClassifierNN(dropout=0.2, **common), X, y),
        ("class_weight", MLPClassifierNN(class_weight="balanced", **common), X, yb),
        ("float32", MLPClassifierNN(**common), X.astype(np.float32), y),
        ("sparse", MLPClassifierNN(**common), sp.csr_matrix(X), y),
        ("reg-adam", MLPRegressorNN(**common), Xr, yr),
        ("reg-lbfgs", MLPRegressorNN(solver="lbfgs", **common), Xr, yr),
        ("reg-early", MLPRegressorNN(early_stopping=True, **common), Xr, yr),
    ]
    for name, model, Xa, ya in cases:
        yield name, model.fit(Xa, ya)
    warm = MLPClassifierNN(warm_start=True, **common).fit(X, y)
    yield "warm_start", warm.fit(X, y)
    part = MLPClassifierNN(**common)
    for _ in range(3):
        part.partial_fit(X, y, classes=np.unique(y))
    yield "partial_fit", part


def tabular_fits():
    from sknn import TabularMLPClassifier, TabularMLPRegressor

    X, y = load_digits(return_X_y=True)
    X, y = X[:500], y[:500]
    Xr, yr = load_diabetes(return_X_y=True)
    yb = (y > 4).astype(int)
    small = dict(hidden_layer_sizes=(32, 32), max_iter=6, random_state=0)
    cases = [
        ("default", TabularMLPClassifier(**small), X, y),
        ("binary", TabularMLPClassifier(**small), X, yb),
        ("ensemble", TabularMLPClassifier(n_ensemble=3, **small), X, y),
        ("standard", TabularMLPClassifier(parametrization="standard", **small), X, y),
        ("mish", TabularMLPClassifier(activation="mish", **small), X, y),
        ("relu", TabularMLPClassifier(activation="relu", **small), X, y),
        ("no-embed", TabularMLPClassifier(numerical_embedding=None, **small), X, y),
        ("float64", TabularMLPClassifier(dtype="float64", **small), X, y),
        ("last", TabularMLPClassifier(select_best=False, **small), X, y),
        ("coslog4", TabularMLPClassifier(learning_rate="coslog4", **small), X, y),
        ("balanced", TabularMLPClassifier(class_weight="balanced", **small), X, yb),
        ("reg", TabularMLPRegressor(**small), Xr, yr),
        ("reg-ensemble", TabularMLPRegressor(n_ensemble=2, **small), Xr, yr),
    ]
    for name, model, Xa, ya in cases:
        yield name, model.fit(Xa, ya)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--each", action="store_true", help="one line per fit")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    for title, fits in (("drop-in", dropin_fits), ("tabular", tabular_fits)):
        each, total = [], hashlib.sha256()
        for name, model in fits():
            d = _digest(*_weights(model))
            each.append((name, d))
            total.update(d.encode())
        print(f"{title}: {total.hexdigest()[:8]} over {len(each)} fits")
        if args.each:
            for name, d in each:
                print(f"  {name:14s} {d}")


if __name__ == "__main__":
    main()
