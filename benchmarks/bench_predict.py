"""Prediction latency of sknn against scikit-learn, measured in one run.

For each network size the script fits scikit-learn's ``MLPClassifier`` and
``MLPRegressor`` and sknn's ``MLPClassifierNN`` and ``MLPRegressorNN`` once,
with identical settings on the same data, then times through their public
methods only:

- ``predict`` and ``predict_proba`` of one row (shape ``(1, n_features)``),
  the latency of serving one request;
- ``predict`` and ``predict_proba`` of a batch of rows (1,000 by default).

The sizes are ``small`` (the digits data: 64 features, ``hidden_layer_sizes=
(100,)``, 10 classes) and ``big`` (synthetic data with 1,024 features,
``hidden_layer_sizes=(1024, 1024)``, 10 classes). The big networks are fitted
for one epoch on a few hundred rows: the values of the weights do not change
how long a prediction takes.

Each timing round calls every case a fixed number of times per library (as
many as fill about ``ROUND_SECONDS``, the same count for both libraries),
alternating which library goes first; the fastest round of ``--repeats`` is
reported, as microseconds per call. Run it with OpenBLAS's own CPU detection::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_predict.py

See ``benchmarks/README.md`` for the options and how to read the table.
"""

from __future__ import annotations

import argparse
import gc
import math
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402

REPO_ROOT = benchlib.REPO_ROOT


# name: (n_features, hidden_layer_sizes, n_classes, fit rows, batch rows);
# n_features 64 and the rows of the small network come from the digits data
NETWORKS = {
    "small": (64, (100,), 10, 1797, 1000),
    "big": (1024, (1024, 1024), 10, 256, 1000),
}
QUICK_NETWORKS = {
    "small": (64, (100,), 10, 400, 100),
    "big": (256, (256, 256), 10, 64, 100),
}

ROUND_SECONDS = 0.05
"""Time one library's calls of one case should take per round (full run)."""
QUICK_ROUND_SECONDS = 0.002
MAX_CALLS = 5000
DEFAULT_REPEATS = 5
QUICK_REPEATS = 2

METHODS = {
    "classifier": ("predict", "predict_proba"),
    "regressor": ("predict",),
}


@dataclass
class Case:
    """One timed call: a method of a fitted estimator of both libraries."""

    network: str
    estimator: str
    method: str
    X: np.ndarray
    sklearn: Callable
    sknn: Callable
    calls: int = 1
    sklearn_seconds: float = math.inf
    sknn_seconds: float = math.inf

    @property
    def rows(self):
        return self.X.shape[0]

    @property
    def ratio(self):
        """``sklearn time / sknn time``: above 1, sknn is faster."""
        return self.sklearn_seconds / self.sknn_seconds


# --------------------------------------------------------------------------
# Estimators and data
# --------------------------------------------------------------------------


def load_estimators():
    """Import both libraries' estimator classes.

    The repository root is added to ``sys.path`` if ``sknn`` is not already
    importable (the script is usually run from a source checkout).

    Returns
    -------
    estimators : dict
        ``{"classifier": (sklearn class, sknn class), "regressor": (...)}``.
    """
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    try:
        from sknn import MLPClassifierNN, MLPRegressorNN
    except ImportError:
        sys.path.insert(0, str(REPO_ROOT))
        from sknn import MLPClassifierNN, MLPRegressorNN
    return {
        "classifier": (MLPClassifier, MLPClassifierNN),
        "regressor": (MLPRegressor, MLPRegressorNN),
    }


def make_data(name, spec, seed=0):
    """Training data and the rows to predict for one network size.

    Parameters
    ----------
    name : str
        ``"small"`` uses the digits data (standard-scaled); any other name
        draws standard normal features.
    spec : tuple
        A row of :data:`NETWORKS`.
    seed : int, default=0

    Returns
    -------
    X_fit : ndarray of shape (fit rows, n_features)
    y_class : ndarray of shape (fit rows,)
        Class labels.
    y_reg : ndarray of shape (fit rows,)
        Regression targets.
    X_batch : ndarray of shape (batch rows, n_features)
    """
    n_features, _, n_classes, fit_rows, batch_rows = spec
    rng = np.random.default_rng(seed)
    if name == "small":
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        X = (X - X.mean(axis=0)) / np.maximum(X.std(axis=0), 1e-12)
        X_fit, y_class = X[:fit_rows], y[:fit_rows]
        y_reg = y_class.astype(np.float64)
        X_batch = X[rng.permutation(len(X))[:batch_rows]]
    else:
        X_fit = rng.standard_normal((fit_rows, n_features))
        y_class = np.arange(fit_rows) % n_classes
        y_reg = rng.standard_normal(fit_rows)
        X_batch = rng.standard_normal((batch_rows, n_features))
    return X_fit, y_class, y_reg, np.ascontiguousarray(X_batch)


def fit_pair(classes, params, X, y):
    """Fit one estimator of each library with the same ``params``.

    Returns
    -------
    fitted : tuple
        ``(sklearn estimator, sknn estimator)``.
    """
    from sklearn.exceptions import ConvergenceWarning

    fitted = []
    with warnings.catch_warnings():
        # a fixed, short epoch budget is intended here
        warnings.simplefilter("ignore", ConvergenceWarning)
        for cls in classes:
            fitted.append(cls(**params).fit(X, y))
    return tuple(fitted)


def network_label(name, spec, n_outputs):
    """E.g. ``"small 64-100-10"``: the layer widths of the fitted network."""
    n_features, hidden, _, _, _ = spec
    widths = [n_features, *hidden, n_outputs]
    return f"{name} {'-'.join(str(width) for width in widths)}"


def build_cases(networks, estimators, log):
    """Fit every estimator and list the calls to time.

    Parameters
    ----------
    networks : dict
        Name -> row of :data:`NETWORKS`.
    estimators : dict
        As returned by :func:`load_estimators`.
    log : callable
        Receives progress messages.

    Returns
    -------
    cases : list of Case
    """
    cases = []
    for name, spec in networks.items():
        X_fit, y_class, y_reg, X_batch = make_data(name, spec)
        hidden = spec[1]
        max_iter = 20 if name == "small" else 1
        params = dict(hidden_layer_sizes=hidden, max_iter=max_iter, random_state=0)
        targets = {"classifier": y_class, "regressor": y_reg}
        for kind, classes in estimators.items():
            start = time.perf_counter()
            sk_model, nn_model = fit_pair(classes, params, X_fit, targets[kind])
            n_outputs = spec[2] if kind == "classifier" else 1
            label = network_label(name, spec, n_outputs)
            log(f"fitted {kind} {label} in {time.perf_counter() - start:.1f} s")
            for X in (X_batch[:1], X_batch):
                for method in METHODS[kind]:
                    cases.append(
                        Case(
                            label,
                            kind,
                            method,
                            X,
                            getattr(sk_model, method),
                            getattr(nn_model, method),
                        )
                    )
    return cases


# --------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------


def time_calls(func, X, calls):
    """Seconds per call of ``func(X)``, averaged over ``calls`` calls."""
    start = time.perf_counter()
    for _ in range(calls):
        func(X)
    return (time.perf_counter() - start) / calls


def calibrate(cases, round_seconds, max_calls=MAX_CALLS):
    """Warm every case up and choose its number of calls per round.

    Both libraries get the same count: enough calls for the slower one to
    take about ``round_seconds``, at least 1 and at most ``max_calls``.
    """
    for case in cases:
        for func in (case.sklearn, case.sknn):
            func(case.X)  # first calls: allocation, BLAS threads, compilation
        slowest = max(time_calls(func, case.X, 3) for func in (case.sklearn, case.sknn))
        case.calls = int(min(max_calls, max(1, round_seconds // max(slowest, 1e-9))))


def run_rounds(cases, repeats):
    """Time every case ``repeats`` times; keep each library's fastest round.

    Rounds go over all cases, so that a change in machine speed hits every
    case; within a case the library that goes first alternates from round to
    round. The garbage collector is off while a round's calls run.
    """
    for round_index in range(repeats):
        for case in cases:
            order = ("sklearn", "sknn") if round_index % 2 == 0 else ("sknn", "sklearn")
            gc_was_enabled = gc.isenabled()
            gc.disable()
            try:
                for library in order:
                    seconds = time_calls(getattr(case, library), case.X, case.calls)
                    attr = f"{library}_seconds"
                    setattr(case, attr, min(getattr(case, attr), seconds))
            finally:
                if gc_was_enabled:
                    gc.enable()


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------


def _row_text(rows):
    return "1 row" if rows == 1 else f"{rows:,} rows"


def format_table(cases):
    """The Markdown table of the results, one line per case."""
    lines = [
        "| case | network | rows | calls/round | sklearn µs | sknn µs "
        "| ratio (sklearn/sknn) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for case in cases:
        lines.append(
            f"| {case.estimator} {case.method} | {case.network} "
            f"| {_row_text(case.rows)} | {case.calls} "
            f"| {case.sklearn_seconds * 1e6:.1f} | {case.sknn_seconds * 1e6:.1f} "
            f"| {case.ratio:.2f} |"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


def parse_args(argv=None):
    """Parse the command line.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments; ``None`` reads ``sys.argv``.

    Returns
    -------
    args : argparse.Namespace
    """
    parser = argparse.ArgumentParser(
        description=(
            "Time predict/predict_proba of sknn against scikit-learn's MLPs, "
            "one row and a batch, on a small and a big network."
        ),
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=(
            "smoke run: 100-row batches, a 256-256-256 'big' network, few calls "
            f"and {QUICK_REPEATS} rounds"
        ),
    )
    parser.add_argument(
        "--repeats",
        type=benchlib.positive_int,
        default=None,
        help=(
            f"timing rounds, fastest kept (default: {DEFAULT_REPEATS}, or "
            f"{QUICK_REPEATS} with --quick)"
        ),
    )
    parser.add_argument(
        "--markdown",
        type=Path,
        default=None,
        metavar="FILE",
        help="also write the report to FILE",
    )
    return parser.parse_args(argv)


def main(argv=None):
    """Run the benchmark from the command line.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments; ``None`` reads ``sys.argv``.

    Returns
    -------
    status : int
        Process exit status (0 on success).
    """
    args = parse_args(argv)
    networks = QUICK_NETWORKS if args.quick else NETWORKS
    repeats = args.repeats or (QUICK_REPEATS if args.quick else DEFAULT_REPEATS)
    round_seconds = QUICK_ROUND_SECONDS if args.quick else ROUND_SECONDS

    estimators = load_estimators()
    env = benchlib.environment_line()
    benchlib.log(env)
    load_before = benchlib.load_average()
    cases = build_cases(networks, estimators, benchlib.log)
    calibrate(cases, round_seconds)
    benchlib.log(f"timing {len(cases)} cases, {repeats} round(s)")
    run_rounds(cases, repeats)
    load_after = benchlib.load_average()

    title = "sknn vs scikit-learn: prediction latency (µs per call, fastest round)"
    if args.quick:
        title += " [--quick: small sizes, few calls]"
    benchlib.report(
        title,
        env,
        load_before,
        load_after,
        format_table(cases),
        "ratio = sklearn µs / sknn µs: above 1, sknn is faster.",
        args.markdown,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
