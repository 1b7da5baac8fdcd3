"""Training speed of sknn's MLPClassifierNN against scikit-learn's MLPClassifier.

Both estimators are fitted in one process, on the same data, with the same
public parameters: Adam for a fixed number of epochs (``tol=0``, early stopping
off), ``shuffle=True``, ``random_state=0``.  For each workload and dtype the
script reports milliseconds per epoch of each library, their ratio, sknn's
GFLOP/s, the share of the GEMM-only roofline sknn reaches (the matrix products
an epoch needs, timed by ``roofline.py`` beside it in the same rounds),
the final training losses and the peak traced memory of one fit of each.

Each round times the roofline and then both libraries, so a drift in the
machine's speed affects them alike; the fastest round of each is kept.  Run it
with OpenBLAS's own kernel selection::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_vs_sklearn.py

``benchmarks/README.md`` says how to read the table.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import sys
import time
import tracemalloc
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib
import roofline

DEFAULT_REPEATS = {"small": 3}
DEFAULT_REPEATS_LARGE = 2
MIB = 2.0**20


@contextlib.contextmanager
def _quiet():
    """Silence the 'maximum iterations reached' warning a fixed budget gives."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def timed_fit(estimator_cls, params, X, y):
    """``(seconds, fitted model)`` of one ``fit``."""
    model = estimator_cls(**params)
    with _quiet():
        start = time.perf_counter()
        model.fit(X, y)
        seconds = time.perf_counter() - start
    return seconds, model


def peak_fit_mib(estimator_cls, params, X, y):
    """Peak memory traced by ``tracemalloc`` during one (untimed) fit, MiB.

    NumPy reports its allocations to ``tracemalloc``, so this covers arrays and
    Python objects made by ``fit``, not BLAS's internal buffers.
    """
    model = estimator_cls(**params)
    gc.collect()
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        with _quiet():
            model.fit(X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return (peak - baseline) / MIB


def warm_up(estimators, dtypes):
    """One tiny fit per library and dtype: imports, first calls, BLAS threads
    and Numba's compilation are paid before timing."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((64, 8)), np.arange(64) % 3
    params = {"hidden_layer_sizes": (16,), "max_iter": 2, "batch_size": 16}
    for dtype in dtypes:
        for estimator_cls in estimators.values():
            timed_fit(estimator_cls, {**params, "random_state": 0}, X.astype(dtype), y)


@dataclass
class Result:
    """One (workload, dtype) case: best ms per epoch, losses, peak MiB."""

    workload: benchlib.Workload
    dtype: str
    ms: dict
    roofline_ms: float
    flops: int
    loss: dict
    mib: dict

    @property
    def ratio(self):
        """sklearn ms / sknn ms: above 1, sknn is faster."""
        return self.ms["sklearn"] / self.ms["sknn"]

    @property
    def roofline_share(self):
        """Roofline ms / sknn ms: the share of the GEMM-only speed reached."""
        return self.roofline_ms / self.ms["sknn"]

    @property
    def sknn_gflops(self):
        """GFLOP/s of sknn's epoch, counting matrix-product FLOPs only."""
        return self.flops / (self.ms["sknn"] * 1e-3) / 1e9


def run_case(workload, dtype_name, estimators, roofline, X64, y, repeats):
    """Time ``repeats`` interleaved rounds of the roofline and both fits."""
    dtype = benchlib.DTYPES[dtype_name]
    X = np.ascontiguousarray(X64, dtype=dtype)
    params = workload.estimator_params()
    shape, batch = workload.shape, workload.batch_size
    roofline_s = float("inf")
    best = {name: float("inf") for name in estimators}
    models = {}
    for rep in range(repeats):
        # as many roofline epochs as a fit runs, averaged: a window as long as
        # a fit's, so that a short quiet spell cannot favour the roofline
        epochs = [
            roofline.gemm_epoch_seconds(*shape, batch, dtype, reps=1)
            for _ in range(workload.epochs)
        ]
        roofline_s = min(roofline_s, sum(epochs) / len(epochs))
        for name, estimator_cls in estimators.items():
            seconds, model = timed_fit(estimator_cls, params, X, y)
            ms = 1e3 * seconds / model.n_iter_
            best[name] = min(best[name], ms)
            models[name] = model
            benchlib.log(
                f"  {workload.name}/{dtype_name} {name:7s} run {rep + 1}: "
                f"{ms:9.2f} ms/epoch"
            )
    return Result(
        workload=workload,
        dtype=dtype_name,
        ms=best,
        roofline_ms=1e3 * roofline_s,
        flops=roofline.flops_per_epoch(*shape),
        loss={name: float(model.loss_) for name, model in models.items()},
        mib={name: peak_fit_mib(cls, params, X, y) for name, cls in estimators.items()},
    )


def format_table(results):
    """The Markdown table, one row per (workload, dtype)."""
    header = [
        "workload",
        "dtype",
        "sklearn ms/ep",
        "sknn ms/ep",
        "ratio",
        "sknn GFLOP/s",
        "roofline %",
        "loss sklearn",
        "loss sknn",
        "peak MiB sklearn",
        "peak MiB sknn",
    ]
    rows = [
        [
            r.workload.name,
            r.dtype,
            f"{r.ms['sklearn']:.2f}",
            f"{r.ms['sknn']:.2f}",
            f"{r.ratio:.2f}x",
            f"{r.sknn_gflops:.1f}",
            f"{100 * r.roofline_share:.0f}%",
            f"{r.loss['sklearn']:.4f}",
            f"{r.loss['sknn']:.4f}",
            f"{r.mib['sklearn']:.1f}",
            f"{r.mib['sknn']:.1f}",
        ]
        for r in results
    ]
    return benchlib.markdown(header, rows)


def _subset(choices):
    def parse(text):
        items = [item.strip() for item in text.split(",") if item.strip()]
        if not items or any(item not in choices for item in items):
            raise argparse.ArgumentTypeError(
                f"choose a comma-separated subset of {','.join(choices)}"
            )
        return items

    return parse


def parse_args(argv, workload_names):
    """The command line (``argv=None`` reads ``sys.argv``)."""
    parser = argparse.ArgumentParser(
        description="Time sknn.MLPClassifierNN against sklearn's MLPClassifier."
    )
    parser.add_argument(
        "--workloads",
        type=_subset(workload_names),
        default=list(workload_names),
        help=f"comma-separated workloads (default: {','.join(workload_names)})",
    )
    parser.add_argument(
        "--dtypes",
        type=_subset(tuple(benchlib.DTYPES)),
        default=list(benchlib.DTYPES),
        help="comma-separated dtypes (default: float64,float32)",
    )
    parser.add_argument(
        "--repeats",
        type=benchlib.positive_int,
        default=None,
        help=(
            f"rounds, the fastest kept (default: {DEFAULT_REPEATS['small']} for "
            f"small, {DEFAULT_REPEATS_LARGE} otherwise)"
        ),
    )
    parser.add_argument(
        "--threads",
        type=benchlib.positive_int,
        default=None,
        help="limit BLAS/OpenMP threads (threadpoolctl) for everything timed",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: a tenth of the samples"
    )
    parser.add_argument(
        "--markdown", type=Path, default=None, metavar="FILE",
        help="also write the report to FILE",
    )  # fmt: skip
    return parser.parse_args(argv)


def main(argv=None):
    """Run the benchmark; returns the exit status."""
    args = parse_args(argv, tuple(roofline.WORKLOADS))
    from sklearn.neural_network import MLPClassifier

    sknn = benchlib.import_sknn()
    estimators = {"sklearn": MLPClassifier, "sknn": sknn.MLPClassifierNN}
    limit = contextlib.nullcontext()
    if args.threads is not None:  # made once both libraries' BLAS are loaded
        from threadpoolctl import threadpool_limits

        limit = threadpool_limits(limits=args.threads)
    with limit:
        threads = f"thread limit: {args.threads or 'none'}"
        env = benchlib.environment_line(threads)
        benchlib.log(env)
        before = benchlib.load_average()
        warm_up(estimators, [benchlib.DTYPES[name] for name in args.dtypes])
        results = []
        for name in args.workloads:
            workload = benchlib.Workload.from_table(
                name, roofline.WORKLOADS[name], args.quick
            )
            repeats = args.repeats or DEFAULT_REPEATS.get(name, DEFAULT_REPEATS_LARGE)
            X64, y = benchlib.make_data(workload)
            for dtype_name in args.dtypes:
                results.append(
                    run_case(
                        workload, dtype_name, estimators, roofline, X64, y, repeats
                    )
                )
        after = benchlib.load_average()
    title = "sknn vs scikit-learn MLPClassifier (adam, fixed epochs)"
    if args.quick:
        title += " [--quick: 1/10 of the samples]"
    benchlib.report(
        title,
        env,
        before,
        after,
        format_table(results),
        "ratio = sklearn ms/ep / sknn ms/ep (above 1, sknn is faster); "
        "roofline % = the GEMM-only epoch's time / sknn's.",
        args.markdown,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
