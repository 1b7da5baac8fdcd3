"""Benchmark sknn's MLPClassifierNN against scikit-learn's MLPClassifier.

Both estimators are fitted in one process, on the same data, with the same
settings: Adam, a fixed number of epochs (early stopping and the tolerance
check are switched off), ``shuffle=True`` and ``random_state=0``. For every
workload and dtype the script reports milliseconds per epoch, the speed-up
ratio, the GFLOP/s sknn reaches, how close sknn comes to a GEMM-only roofline
measured in the same run, the final training loss of each library and the
peak memory of one fit of each. With Numba it also times sknn's "arithmetic
floor" (:func:`arithmetic_floor`): epochs of the arithmetic of a batch with
nothing between the calls, and the ratio sknn would reach there.

The workloads and the roofline come from ``../shared/perf/roofline.py``
(relative to the repository root) when that file exists; otherwise a built-in
copy of the workload table and an equivalent GEMM timer are used.

Run ``python benchmarks/bench_vs_sklearn.py --help`` for the options and see
``benchmarks/README.md`` for how to read the table.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib.util
import os
import platform
import sys
import time
import tracemalloc
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
ROOFLINE_PATH = REPO_ROOT.parent / "shared" / "perf" / "roofline.py"

# name: (n_samples, n_features, n_classes, hidden_layer_sizes, batch_size, epochs)
# Used only when ROOFLINE_PATH cannot be loaded; keep in step with that file.
FALLBACK_WORKLOADS = {
    "tabular": (50_000, 100, 10, (256, 256), 256, 3),
    "wide": (20_000, 784, 10, (512,), 128, 3),
    "small": (1_797, 64, 10, (100,), 32, 20),
}

DTYPES = {"float64": np.float64, "float32": np.float32}

# Default number of timed fits per library: small fits are short and noisy.
DEFAULT_REPEATS = {"small": 3}
DEFAULT_REPEATS_LARGE = 2

TARGET_RATIO = 2.0
TARGET_RATIO_BY_WORKLOAD = {"small": 3.0}
TARGET_ROOFLINE = 0.75
ROOFLINE_TARGET_WORKLOADS = ("tabular", "wide")
DEFAULT_LOSS_RTOL = 0.10

MIB = 2.0**20


# --------------------------------------------------------------------------
# Roofline: workload table, FLOP count and GEMM-only epoch time
# --------------------------------------------------------------------------


def _fallback_flops_per_epoch(n, d, k, hidden):
    """Count the matrix-product FLOPs of one training epoch.

    Per layer of shape ``(a, b)``: forward ``2 n a b``, weight gradient
    ``2 n a b`` and input delta ``2 n a b``, except that the first layer
    needs no input delta.

    Parameters
    ----------
    n : int
        Number of training samples.
    d : int
        Number of input features.
    k : int
        Number of output units.
    hidden : tuple of int
        Hidden layer sizes.

    Returns
    -------
    flops : int
        Floating-point operations in one epoch's matrix products.
    """
    widths = [d, *hidden, k]
    per_layer = [2 * n * a * b for a, b in zip(widths[:-1], widths[1:])]
    return 3 * sum(per_layer) - per_layer[0]


def _fallback_gemm_epoch_seconds(n, d, k, hidden, batch, dtype, reps=2):
    """Time only the matrix products of one epoch, with preallocated outputs.

    Parameters
    ----------
    n, d, k : int
        Samples, input features and output units.
    hidden : tuple of int
        Hidden layer sizes.
    batch : int
        Minibatch size.
    dtype : numpy dtype
        Floating-point type of every operand.
    reps : int, default=2
        Number of timed epochs; the fastest is kept.

    Returns
    -------
    seconds : float
        Best time of one epoch, scaled to exactly ``n`` samples.
    """
    widths = [d, *hidden, k]
    rng = np.random.default_rng(0)
    weights = [
        rng.standard_normal((a, b)).astype(dtype)
        for a, b in zip(widths[:-1], widths[1:])
    ]
    acts = [rng.standard_normal((batch, w)).astype(dtype) for w in widths]
    deltas = [rng.standard_normal((batch, w)).astype(dtype) for w in widths]
    grads = [np.empty_like(W) for W in weights]
    n_batches = n // batch
    best = float("inf")
    for _ in range(reps):
        start = time.perf_counter()
        for _ in range(n_batches):
            for i, W in enumerate(weights):
                np.matmul(acts[i], W, out=acts[i + 1])
            for i in reversed(range(len(weights))):
                np.matmul(acts[i].T, deltas[i + 1], out=grads[i])
                if i > 0:
                    np.matmul(deltas[i + 1], weights[i].T, out=deltas[i])
        best = min(best, time.perf_counter() - start)
    return best * n / (n_batches * batch)


def load_roofline(path=ROOFLINE_PATH):
    """Load the shared roofline module, or fall back to the built-in copy.

    Parameters
    ----------
    path : path-like, default=ROOFLINE_PATH
        Location of ``roofline.py``.

    Returns
    -------
    roofline : types.SimpleNamespace
        Attributes ``WORKLOADS``, ``flops_per_epoch``, ``gemm_epoch_seconds``
        and ``source`` (where they came from).
    """
    path = Path(path)
    if path.is_file():
        spec = importlib.util.spec_from_file_location("_shared_roofline", path)
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
            return SimpleNamespace(
                WORKLOADS=module.WORKLOADS,
                flops_per_epoch=module.flops_per_epoch,
                gemm_epoch_seconds=module.gemm_epoch_seconds,
                source=str(path),
            )
        except (AttributeError, ImportError, SyntaxError) as exc:
            print(
                f"could not load {path} ({exc}); using built-in roofline",
                file=sys.stderr,
            )
    return SimpleNamespace(
        WORKLOADS=FALLBACK_WORKLOADS,
        flops_per_epoch=_fallback_flops_per_epoch,
        gemm_epoch_seconds=_fallback_gemm_epoch_seconds,
        source="built-in copy (shared roofline.py not found)",
    )


# --------------------------------------------------------------------------
# Workloads and data
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """One benchmark configuration.

    Attributes
    ----------
    name : str
        Workload name (``"tabular"``, ``"wide"`` or ``"small"``).
    n_samples, n_features, n_classes : int
        Shape of the training problem.
    hidden : tuple of int
        ``hidden_layer_sizes`` of both estimators.
    batch_size : int
        Minibatch size.
    epochs : int
        Number of epochs (``max_iter``).
    """

    name: str
    n_samples: int
    n_features: int
    n_classes: int
    hidden: tuple
    batch_size: int
    epochs: int

    @classmethod
    def from_table(cls, name, row, quick=False):
        """Build a workload from a roofline table row.

        Parameters
        ----------
        name : str
            Workload name.
        row : tuple
            ``(n_samples, n_features, n_classes, hidden, batch_size, epochs)``.
        quick : bool, default=False
            Use a tenth of the samples (at least two minibatches).
        """
        n, d, k, hidden, batch, epochs = row
        if quick:
            n = max(n // 10, 2 * batch)
        return cls(name, n, d, k, tuple(hidden), batch, epochs)

    def estimator_params(self):
        """Return the constructor parameters shared by both estimators.

        Returns
        -------
        params : dict
            Adam for exactly ``epochs`` epochs: ``tol=0`` and
            ``n_iter_no_change > max_iter`` so training never stops early.
        """
        return {
            "hidden_layer_sizes": self.hidden,
            "activation": "relu",
            "solver": "adam",
            "alpha": 1e-4,
            "batch_size": self.batch_size,
            "learning_rate_init": 1e-3,
            "max_iter": self.epochs,
            "tol": 0.0,
            "n_iter_no_change": self.epochs + 1,
            "early_stopping": False,
            "shuffle": True,
            "random_state": 0,
        }


def make_data(workload, seed=0):
    """Build standard-scaled float64 training data for a workload.

    ``small`` uses scikit-learn's digits data set (its first ``n_samples``
    rows); the others use ``make_classification`` with a fixed seed.

    Parameters
    ----------
    workload : Workload
        The configuration to build data for.
    seed : int, default=0
        Seed of the synthetic generator.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), dtype float64
        Standard-scaled features.
    y : ndarray of shape (n_samples,)
        Integer class labels.
    """
    from sklearn.datasets import load_digits, make_classification
    from sklearn.preprocessing import StandardScaler

    if workload.name == "small":
        X, y = load_digits(return_X_y=True)
        X, y = X[: workload.n_samples], y[: workload.n_samples]
    else:
        n_informative = min(workload.n_features // 2, 64)
        X, y = make_classification(
            n_samples=workload.n_samples,
            n_features=workload.n_features,
            n_informative=n_informative,
            n_redundant=min(workload.n_features // 5, 20),
            n_classes=workload.n_classes,
            n_clusters_per_class=2,
            class_sep=1.0,
            flip_y=0.01,
            random_state=seed,
        )
    if X.shape[1] != workload.n_features:
        raise ValueError(f"{workload.name}: expected {workload.n_features} features")
    return StandardScaler().fit_transform(X), y


# --------------------------------------------------------------------------
# Fitting and measuring
# --------------------------------------------------------------------------


def load_estimators():
    """Import both estimator classes.

    The repository root is added to ``sys.path`` if ``sknn`` is not already
    importable (the script is usually run from a source checkout).

    Returns
    -------
    estimators : dict
        ``{"sklearn": MLPClassifier, "sknn": MLPClassifierNN}``.
    """
    from sklearn.neural_network import MLPClassifier

    try:
        from sknn import MLPClassifierNN
    except ImportError:
        sys.path.insert(0, str(REPO_ROOT))
        from sknn import MLPClassifierNN
    return {"sklearn": MLPClassifier, "sknn": MLPClassifierNN}


@contextlib.contextmanager
def _quiet_convergence():
    """Silence the expected 'maximum iterations reached' warnings."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def timed_fit(estimator_cls, params, X, y):
    """Fit once and time it.

    Parameters
    ----------
    estimator_cls : type
        Estimator class to instantiate with ``params``.
    params : dict
        Constructor parameters.
    X : ndarray of shape (n_samples, n_features)
        Training data, already in the dtype under test.
    y : ndarray of shape (n_samples,)
        Class labels.

    Returns
    -------
    seconds : float
        Wall-clock time of ``fit``.
    model : estimator
        The fitted estimator.
    """
    model = estimator_cls(**params)
    with _quiet_convergence():
        start = time.perf_counter()
        model.fit(X, y)
        seconds = time.perf_counter() - start
    return seconds, model


def peak_fit_mib(estimator_cls, params, X, y):
    """Measure the peak traced memory of one fit, above the baseline.

    NumPy reports its array allocations to ``tracemalloc``, so the peak
    covers arrays and Python objects created during ``fit`` (not BLAS
    internal buffers). This fit is not timed: tracing slows allocation.

    Parameters
    ----------
    estimator_cls : type
        Estimator class to instantiate with ``params``.
    params : dict
        Constructor parameters.
    X : ndarray of shape (n_samples, n_features)
        Training data, already in the dtype under test.
    y : ndarray of shape (n_samples,)
        Class labels.

    Returns
    -------
    peak : float
        Peak traced memory during ``fit`` minus the memory traced before it,
        in MiB.
    """
    model = estimator_cls(**params)
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        baseline = tracemalloc.get_traced_memory()[0]
        with _quiet_convergence():
            model.fit(X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return (peak - baseline) / MIB


def warm_up(estimators, dtypes):
    """Fit each estimator once on a tiny problem per dtype.

    Pays import, first-call and BLAS thread start-up costs before timing.

    Parameters
    ----------
    estimators : dict
        Library name -> estimator class.
    dtypes : list of numpy dtype
        Dtypes that will be benchmarked.
    """
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 8))
    y = np.arange(64) % 3
    params = {"hidden_layer_sizes": (16,), "max_iter": 2, "batch_size": 16}
    for dtype in dtypes:
        for estimator_cls in estimators.values():
            timed_fit(estimator_cls, {**params, "random_state": 0}, X.astype(dtype), y)


# --------------------------------------------------------------------------
# Arithmetic floor: sknn's batch arithmetic with nothing between the calls
# --------------------------------------------------------------------------


def arithmetic_floor(net, params, grad, capacity, adam_step):
    """A function doing one batch of sknn's arithmetic and nothing else.

    ``floor(Xb, Yb)`` runs the forward and backward matrix products of the
    batch with sknn's compiled element-wise kernels after them (bias + ReLU,
    softmax + log-loss + output delta, ReLU derivative + bias gradient), the
    L2 penalty and then ``adam_step(m)``, ``m`` the batch's number of rows.
    That is the work of a batch that scikit-learn's MLP also does, in sknn's
    fastest form; left out are the training loop's Python (bookkeeping,
    dispatch) and its gradient-norm check.  The gradient lands in ``grad``.

    Parameters
    ----------
    net : sknn._core.network.Network
        A ReLU network with log-loss; its compiled kernels must be enabled.
    params, grad : ndarray of shape (n_params,)
    capacity : int
        Largest batch.
    adam_step : callable
        Called with the batch's number of rows after the gradient is complete.

    Returns
    -------
    floor : callable
    """
    fwd, bwd, out = net._kernels
    ws = net.workspace(capacity)  # buffers of its own, as large as the loop's
    W, b, gW, gb = ws.views(params, grad)
    L = len(W)

    def floor(Xb, Yb):
        m = Xb.shape[0]
        Z = [z[:m] for z in ws.Z]
        D = [d[:m] for d in ws.D]
        A = [Xb]
        for i in range(L):
            np.matmul(A[i], W[i], out=Z[i])
            if i < L - 1:
                fwd(Z[i], b[i], net._slope)
            A.append(Z[i])
        inv_m = net.dtype.type(1.0 / m)
        out(Z[-1], b[-1], Yb, ws.no_weights, inv_m, D[-1], gb[-1], net._eps)
        for i in range(L - 1, -1, -1):
            np.matmul(A[i].T, D[i], out=gW[i])
            if i:
                np.matmul(D[i], W[i].T, out=D[i - 1])
                bwd(A[i], D[i - 1], gb[i - 1], net._one, net._slope)
        net.l2_penalty(params)
        adam_step(m)

    return floor


class FloorEpochs:
    """Epochs of :func:`arithmetic_floor` over a workload's data.

    Set up like the estimators' fit: the estimator defaults for the
    network's initialisation, Adam's rate and the L2 strength, batches
    gathered from a fresh permutation each epoch by the training loop's own
    gatherer.

    Parameters
    ----------
    workload : Workload
    X : ndarray of shape (n_samples, n_features)
        Training data in the benchmarked dtype.
    y : ndarray of shape (n_samples,)
        Integer class labels ``0 .. n_classes - 1``.
    """

    ALPHA = 1e-4  # scikit-learn's default, as in the estimators' fits
    LEARNING_RATE = 1e-3

    def __init__(self, workload, X, y):
        from sknn._core import training
        from sknn._core.network import Network
        from sknn._core.optimizers import Adam, L2Gradient

        units = [workload.n_features, *workload.hidden, workload.n_classes]
        Y = (y[:, None] == np.arange(workload.n_classes)).astype(np.uint8)
        self.rng = np.random.default_rng(0)
        net = Network(units, "relu", "log_loss", dtype=X.dtype)
        params = net.init_params(self.rng)
        grad = np.empty_like(params)
        opt = Adam()
        opt_state = opt.init(params)
        B = workload.batch_size
        self.batches = training._Batches(X, Y, None, B)
        coef_buf = np.empty(net.n_coefs, dtype=net.dtype)

        def adam_step(m):  # as the loop does it, the L2 term made per batch
            l2 = L2Gradient(net.l2_coef(self.ALPHA, m), net.n_coefs, coef_buf)
            opt.step(params, grad, opt_state, self.LEARNING_RATE, l2=l2)

        self.floor = arithmetic_floor(net, params, grad, B, adam_step)

    @staticmethod
    def available():
        """Whether sknn's compiled kernels, which the floor runs, are enabled."""
        from sknn._core import _fused

        return _fused.enabled()

    def epoch_seconds(self):
        """Run one epoch of floor batches; return its wall-clock seconds."""
        order = self.rng.permutation(self.batches.n)
        floor = self.floor
        tic = time.perf_counter()
        for Xb, Yb, _ in self.batches(order):
            floor(Xb, Yb)
        return time.perf_counter() - tic


@dataclass
class Result:
    """Measurements of one (workload, dtype) case.

    Times are best-of-repeats milliseconds per epoch; ``*_loss`` is the
    fitted ``loss_``; ``*_mib`` is the peak memory of a fit in MiB.
    """

    workload: Workload
    dtype: str
    sklearn_ms: float
    sknn_ms: float
    roofline_ms: float
    flops: int
    sklearn_loss: float
    sknn_loss: float
    sklearn_mib: float
    sknn_mib: float
    sklearn_n_iter: int
    sknn_n_iter: int
    sklearn_coef_dtype: str
    sknn_coef_dtype: str
    loss_noise: float = 0.0
    floor_ms: float | None = None

    @property
    def ratio(self):
        """Speed-up of sknn over scikit-learn (sklearn ms / sknn ms)."""
        return self.sklearn_ms / self.sknn_ms

    @property
    def roofline_fraction(self):
        """Fraction of the GEMM-only speed sknn reaches (roofline ms / sknn ms)."""
        return self.roofline_ms / self.sknn_ms

    @property
    def ratio_bound(self):
        """The ratio sknn would reach at its arithmetic floor (None if not timed)."""
        return None if self.floor_ms is None else self.sklearn_ms / self.floor_ms

    @property
    def floor_fraction(self):
        """Roofline ms / arithmetic-floor ms (None if the floor was not timed)."""
        return None if self.floor_ms is None else self.roofline_ms / self.floor_ms

    @property
    def sknn_gflops(self):
        """GFLOP/s of sknn's epoch, counting only matrix-product FLOPs."""
        return self.flops / (self.sknn_ms * 1e-3) / 1e9

    @property
    def sklearn_gflops(self):
        """GFLOP/s of scikit-learn's epoch, counting only matrix-product FLOPs."""
        return self.flops / (self.sklearn_ms * 1e-3) / 1e9

    @property
    def loss_rel_diff(self):
        """Relative difference of the final losses, ``|sknn - sklearn| / |sklearn|``."""
        return abs(self.sknn_loss - self.sklearn_loss) / max(
            abs(self.sklearn_loss), 1e-12
        )


def run_case(workload, dtype_name, estimators, roofline, X64, y, repeats, log):
    """Measure one workload in one dtype for both libraries.

    Parameters
    ----------
    workload : Workload
        The configuration.
    dtype_name : str
        ``"float64"`` or ``"float32"``.
    estimators : dict
        Library name -> estimator class.
    roofline : types.SimpleNamespace
        As returned by :func:`load_roofline`.
    X64 : ndarray of shape (n_samples, n_features), dtype float64
        Training data; cast to ``dtype_name`` before fitting.
    y : ndarray of shape (n_samples,)
        Class labels.
    repeats : int
        Timed fits per library; the fastest epoch time is kept.
    log : callable
        Receives progress messages.

    Returns
    -------
    result : Result
    """
    dtype = DTYPES[dtype_name]
    X = np.ascontiguousarray(X64, dtype=dtype)
    params = workload.estimator_params()
    w = workload
    shape = (w.n_samples, w.n_features, w.n_classes, w.hidden)

    roofline_s = float("inf")
    floor = FloorEpochs(w, X, y) if FloorEpochs.available() else None
    floor_s = float("inf")
    best_ms = {name: float("inf") for name in estimators}
    models = {}
    # Alternate the roofline and the libraries within each round, so that
    # drifts in machine speed hit all three alike; keep the best of each.
    for rep in range(repeats):
        # as many roofline epochs as a fit runs, averaged: a window as long as
        # a fit's, so that a short quiet spell cannot favour the roofline
        epochs = [
            roofline.gemm_epoch_seconds(*shape, w.batch_size, dtype, reps=1)
            for _ in range(w.epochs)
        ]
        roofline_s = min(roofline_s, sum(epochs) / len(epochs))
        if floor is not None:  # timed the same way
            epochs = [floor.epoch_seconds() for _ in range(w.epochs)]
            floor_s = min(floor_s, sum(epochs) / len(epochs))
        for name, estimator_cls in estimators.items():
            seconds, model = timed_fit(estimator_cls, params, X, y)
            ms = 1e3 * seconds / model.n_iter_
            best_ms[name] = min(best_ms[name], ms)
            models[name] = model
            log(f"  {w.name}/{dtype_name} {name:7s} run {rep + 1}: {ms:9.2f} ms/epoch")
    for name, model in models.items():
        if model.n_iter_ != w.epochs:
            log(f"  warning: {name} ran {model.n_iter_} epochs, expected {w.epochs}")
    mib = {name: peak_fit_mib(cls, params, X, y) for name, cls in estimators.items()}

    sk, nn = models["sklearn"], models["sknn"]
    noise = 0.0
    if abs(sk.loss_ - nn.loss_) > DEFAULT_LOSS_RTOL * abs(sk.loss_):
        noise = seed_noise(estimators, params, X, y)
        log(f"  {w.name}/{dtype_name} seed-to-seed loss spread: {noise:.4g}")
    return Result(
        workload=w,
        dtype=dtype_name,
        sklearn_ms=best_ms["sklearn"],
        sknn_ms=best_ms["sknn"],
        roofline_ms=1e3 * roofline_s,
        flops=roofline.flops_per_epoch(*shape),
        sklearn_loss=float(sk.loss_),
        sknn_loss=float(nn.loss_),
        sklearn_mib=mib["sklearn"],
        sknn_mib=mib["sknn"],
        sklearn_n_iter=int(sk.n_iter_),
        sknn_n_iter=int(nn.n_iter_),
        sklearn_coef_dtype=str(sk.coefs_[0].dtype),
        sknn_coef_dtype=str(nn.coefs_[0].dtype),
        loss_noise=noise,
        floor_ms=None if floor is None else 1e3 * floor_s,
    )


def seed_noise(estimators, params, X, y, seeds=(0, 1, 2)):
    """Spread of the final loss over random seeds, the larger of the two libraries.

    The libraries draw different random numbers, so their final losses can only
    agree up to what changing the seed does to either of them.

    Returns
    -------
    spread : float
        ``max - min`` of ``loss_`` over ``seeds``, maximised over libraries.
    """
    spread = 0.0
    for estimator_cls in estimators.values():
        losses = []
        for seed in seeds:
            _, model = timed_fit(estimator_cls, {**params, "random_state": seed}, X, y)
            losses.append(float(model.loss_))
        spread = max(spread, max(losses) - min(losses))
    return spread


# --------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------


def _markdown(header, rows):
    """Render a Markdown table with right-aligned columns after the first two."""
    align = ["---", "---"] + ["---:"] * (len(header) - 2)
    lines = [header, align, *rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


def format_table(results):
    """Format the main comparison table.

    Parameters
    ----------
    results : list of Result

    Returns
    -------
    table : str
        Markdown table, one row per (workload, dtype).
    """
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
            f"{r.sklearn_ms:.2f}",
            f"{r.sknn_ms:.2f}",
            f"{r.ratio:.2f}x",
            f"{r.sknn_gflops:.1f}",
            f"{100 * r.roofline_fraction:.0f}%",
            f"{r.sklearn_loss:.4f}",
            f"{r.sknn_loss:.4f}",
            f"{r.sklearn_mib:.1f}",
            f"{r.sknn_mib:.1f}",
        ]
        for r in results
    ]
    return _markdown(header, rows)


def format_details(results):
    """Format the supporting numbers: roofline time, sizes, epochs, dtypes.

    Parameters
    ----------
    results : list of Result

    Returns
    -------
    table : str
        Markdown table, one row per (workload, dtype).
    """
    header = [
        "workload",
        "dtype",
        "n x d -> hidden -> k, batch",
        "roofline ms/ep",
        "floor ms/ep",
        "floor roofline %",
        "ratio at floor",
        "GFLOP/epoch",
        "sklearn GFLOP/s",
        "epochs sklearn/sknn",
        "coef dtype sklearn/sknn",
        "loss rel diff",
        "seed spread",
    ]
    rows = []
    for r in results:
        w = r.workload
        rows.append(
            [
                w.name,
                r.dtype,
                f"{w.n_samples} x {w.n_features} -> {w.hidden} -> {w.n_classes}, "
                f"{w.batch_size}",
                f"{r.roofline_ms:.2f}",
                "-" if r.floor_ms is None else f"{r.floor_ms:.2f}",
                "-" if r.floor_ms is None else f"{100 * r.floor_fraction:.0f}%",
                "-" if r.floor_ms is None else f"{r.ratio_bound:.2f}x",
                f"{r.flops / 1e9:.2f}",
                f"{r.sklearn_gflops:.1f}",
                f"{r.sklearn_n_iter}/{r.sknn_n_iter}",
                f"{r.sklearn_coef_dtype}/{r.sknn_coef_dtype}",
                f"{100 * r.loss_rel_diff:.1f}%",
                f"{r.loss_noise:.4g}" if r.loss_noise else "-",
            ]
        )
    return _markdown(header, rows)


def _verdict(ok):
    return "met" if ok else "NOT met"


def check_targets(results, loss_rtol=DEFAULT_LOSS_RTOL):
    """Compare the results with the project's performance targets.

    Parameters
    ----------
    results : list of Result
    loss_rtol : float, default=DEFAULT_LOSS_RTOL
        Largest relative difference of final losses counted as agreement.

    Returns
    -------
    lines : list of str
        One summary line, then one line per target.
    """

    def case(r):
        return f"{r.workload.name}/{r.dtype}"

    def at_floor(r, value):
        return "" if r.floor_ms is None else f" (at the floor {value})"

    ratio_fail = [
        f"{case(r)} {r.ratio:.2f}x{at_floor(r, f'{r.ratio_bound:.2f}x')}"
        for r in results
        if r.ratio < TARGET_RATIO_BY_WORKLOAD.get(r.workload.name, TARGET_RATIO)
    ]
    roof = [r for r in results if r.workload.name in ROOFLINE_TARGET_WORKLOADS]
    roof_fail = [
        f"{case(r)} {100 * r.roofline_fraction:.0f}%"
        f"{at_floor(r, f'{100 * r.floor_fraction:.0f}%')}"
        for r in roof
        if r.roofline_fraction < TARGET_ROOFLINE
    ]
    mem_fail = [
        f"{case(r)} {r.sknn_mib:.2f} > {r.sklearn_mib:.2f} MiB"
        for r in results
        if r.sknn_mib > r.sklearn_mib
    ]
    worst_loss = max(results, key=lambda r: r.loss_rel_diff)
    loss_fail = [
        f"{case(r)} |diff| {abs(r.sknn_loss - r.sklearn_loss):.4g} > seed spread "
        f"{r.loss_noise:.4g}"
        for r in results
        if r.loss_rel_diff > loss_rtol
        and abs(r.sknn_loss - r.sklearn_loss) > r.loss_noise
    ]
    loss_ok = not loss_fail

    checks = [
        (
            f"speed ratio >= {TARGET_RATIO:g}x everywhere (>= "
            f"{TARGET_RATIO_BY_WORKLOAD['small']:g}x on small)",
            not ratio_fail,
            ratio_fail,
        ),
        (
            f"roofline >= {100 * TARGET_ROOFLINE:.0f}% on "
            f"{' and '.join(ROOFLINE_TARGET_WORKLOADS)}",
            not roof_fail if roof else None,
            roof_fail,
        ),
        ("peak memory sknn <= sklearn", not mem_fail, mem_fail),
        (
            f"final loss agreement within {100 * loss_rtol:g}% or within the "
            f"seed-to-seed spread (largest relative difference "
            f"{100 * worst_loss.loss_rel_diff:.1f}% on {case(worst_loss)})",
            loss_ok,
            loss_fail,
        ),
    ]
    decided = [ok for _, ok, _ in checks if ok is not None]
    lines = [f"Targets: {'all met' if all(decided) else 'NOT all met'}."]
    for label, ok, failures in checks:
        if ok is None:
            lines.append(f"- {label}: n/a (workload not run)")
            continue
        detail = f" (failing: {'; '.join(failures)})" if failures else ""
        lines.append(f"- {label}: {_verdict(ok)}{detail}")
    return lines


def environment_line(threads, roofline_source):
    """Describe the software and BLAS set-up of this run.

    Call it after :func:`load_estimators` so that ``sknn`` is imported.

    Parameters
    ----------
    threads : int or None
        The ``--threads`` limit, if any.
    roofline_source : str
        Where the roofline came from.

    Returns
    -------
    line : str
    """
    import sklearn
    from threadpoolctl import threadpool_info

    sknn_version = getattr(sys.modules.get("sknn"), "__version__", "unknown")
    kernels = _kernels_description()
    blas = sorted(
        {
            f"{info['internal_api']} {info.get('version')} x{info['num_threads']}"
            for info in threadpool_info()
            if info["user_api"] == "blas"
        }
    )
    return (
        f"python {platform.python_version()}, numpy {np.__version__}, "
        f"scikit-learn {sklearn.__version__}, sknn {sknn_version} "
        f"({kernels}); BLAS: {', '.join(blas) or 'unknown'}; "
        f"thread limit: {threads if threads else 'none'}; roofline: {roofline_source}"
    )


def _kernels_description():
    """Which element-wise kernels sknn runs: compiled (Numba) or NumPy."""
    try:
        from sknn._core import _fused
    except ImportError:  # an sknn from before the optional kernels
        return "NumPy kernels"
    return _fused.describe()


def _load_average():
    """Return the 1-minute load average, or ``None`` where it is unavailable."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def load_line(before, after):
    """Describe how busy the machine was, warning if it was oversubscribed.

    Other processes competing for the CPUs slow BLAS down badly and make the
    timings meaningless, so the report says so.

    Parameters
    ----------
    before, after : float or None
        1-minute load averages at the start and at the end of the run.

    Returns
    -------
    line : str
    """
    n_cpus = os.cpu_count() or 1
    if before is None or after is None:
        return f"CPUs: {n_cpus}; load average unavailable."
    line = (
        f"CPUs: {n_cpus}; 1-minute load average {before:.2f} at start, "
        f"{after:.2f} at end."
    )
    # The benchmark itself keeps up to n_cpus threads busy.
    if max(before, after) > 1.5 * n_cpus:
        line += (
            " WARNING: the machine was busy with other work; timings (and the"
            " ratios) are unreliable. Rerun on an idle machine."
        )
    return line


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


def _csv(choices):
    """Return an argparse type that parses a comma-separated subset of choices."""

    def parse(text):
        items = [item.strip() for item in text.split(",") if item.strip()]
        unknown = [item for item in items if item not in choices]
        if unknown or not items:
            raise argparse.ArgumentTypeError(
                f"choose a comma-separated subset of {','.join(choices)}"
            )
        return items

    return parse


def parse_args(argv=None, workload_names=tuple(FALLBACK_WORKLOADS)):
    """Parse the command line.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments; ``None`` reads ``sys.argv``.
    workload_names : tuple of str
        Workloads that can be chosen.

    Returns
    -------
    args : argparse.Namespace
    """
    parser = argparse.ArgumentParser(
        description="Time sknn.MLPClassifierNN against sklearn MLPClassifier.",
    )
    parser.add_argument(
        "--workloads",
        type=_csv(tuple(workload_names)),
        default=list(workload_names),
        help=f"comma-separated workloads (default: {','.join(workload_names)})",
    )
    parser.add_argument(
        "--dtypes",
        type=_csv(tuple(DTYPES)),
        default=list(DTYPES),
        help="comma-separated dtypes (default: float64,float32)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help=(
            "timed fits per library, best kept (default: "
            f"{DEFAULT_REPEATS['small']} for small, {DEFAULT_REPEATS_LARGE} otherwise)"
        ),
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="limit BLAS/OpenMP threads (threadpoolctl) for both libraries",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run with a tenth of the samples",
    )
    parser.add_argument(
        "--markdown",
        type=Path,
        default=None,
        metavar="FILE",
        help="also write the tables and the target check to FILE",
    )
    parser.add_argument(
        "--loss-rtol",
        type=float,
        default=DEFAULT_LOSS_RTOL,
        help=(
            "relative final-loss difference still counted as agreement "
            f"(default: {DEFAULT_LOSS_RTOL})"
        ),
    )
    args = parser.parse_args(argv)
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.threads is not None and args.threads < 1:
        parser.error("--threads must be at least 1")
    return args


def _thread_limit(threads):
    """Return a context limiting BLAS/OpenMP threads, or a no-op if ``None``."""
    if threads is None:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=threads)


def _log(message):
    print(message, file=sys.stderr, flush=True)


def run(args, roofline, estimators):
    """Run every requested case and return the results.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed options.
    roofline : types.SimpleNamespace
        As returned by :func:`load_roofline`.
    estimators : dict
        Library name -> estimator class, as from :func:`load_estimators`.

    Returns
    -------
    results : list of Result
    """
    warm_up(estimators, [DTYPES[name] for name in args.dtypes])
    results = []
    for name in args.workloads:
        workload = Workload.from_table(name, roofline.WORKLOADS[name], args.quick)
        repeats = args.repeats or DEFAULT_REPEATS.get(name, DEFAULT_REPEATS_LARGE)
        X64, y = make_data(workload)
        for dtype_name in args.dtypes:
            results.append(
                run_case(
                    workload, dtype_name, estimators, roofline, X64, y, repeats, _log
                )
            )
    return results


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
    roofline = load_roofline()
    args = parse_args(argv, tuple(roofline.WORKLOADS))
    estimators = load_estimators()
    # threadpool_limits acts on the libraries loaded when it is created, so
    # create it only after both estimators (and their BLAS) are imported.
    with _thread_limit(args.threads):
        env = environment_line(args.threads, roofline.source)
        _log(env)
        load_before = _load_average()
        results = run(args, roofline, estimators)
        load_after = _load_average()

    title = "sknn vs scikit-learn MLPClassifier (adam, fixed epochs)"
    if args.quick:
        title += " [--quick: 1/10 of the samples]"
    report = "\n\n".join(
        [
            f"## {title}",
            env,
            load_line(load_before, load_after),
            format_table(results),
            "Details:",
            format_details(results),
            "\n".join(check_targets(results, args.loss_rtol)),
        ]
    )
    print(report)
    if args.markdown is not None:
        args.markdown.write_text(report + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
