"""The speed benchmarks' workloads and their GEMM-only roofline.

One training epoch of an MLP does, for every minibatch of ``B`` rows and every
layer of ``a`` inputs and ``b`` outputs, three matrix products: the forward
product ``A @ W`` of shape ``(B, b)``, the weight gradient ``A.T @ D`` of shape
``(a, b)`` and the delta passed to the layer below, ``D @ W.T`` of shape
``(B, a)``, which the first layer does not need.  :func:`gemm_epoch_seconds`
times those products alone, into buffers allocated beforehand: no activation,
loss, optimizer step or row gather.  That is as fast as a backpropagation
written on NumPy's matrix products can go on this machine and this BLAS, so a
trainer's share of it (``roofline % = roofline time / trainer time``) says how
much of its epoch is overhead.

``bench_vs_sklearn.py`` and ``batch_breakdown.py`` read :data:`WORKLOADS` and
time the roofline next to the fits.  On its own, from the repository root::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/roofline.py

prints the machine's practical peak (one large square product) and each
workload's GEMM-only epoch time in both dtypes.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

WORKLOADS = {
    # name: (n_samples, n_features, n_classes, hidden_layer_sizes, batch_size, epochs)
    "tabular": (50_000, 100, 10, (256, 256), 256, 3),
    "wide": (20_000, 784, 10, (512,), 128, 3),
    "small": (1_797, 64, 10, (100,), 32, 20),
}
"""The benchmark workloads; ``small`` is the digits data, the others come from
``make_classification`` (``benchlib.make_data``)."""

DTYPES = {"float64": np.float64, "float32": np.float32}


def layer_shapes(n_features, n_classes, hidden):
    """``[(inputs, outputs), ...]`` of every dense layer, first to last."""
    widths = [n_features, *hidden, n_classes]
    return list(zip(widths[:-1], widths[1:]))


def flops_per_epoch(n_samples, n_features, n_classes, hidden):
    """Floating-point operations of one epoch's matrix products.

    A product of an ``(m, a)`` and an ``(a, b)`` matrix costs ``2 m a b``.
    Each layer does three per row of the epoch (forward, weight gradient,
    delta for the layer below), except the first, which does two.

    Parameters
    ----------
    n_samples, n_features, n_classes : int
    hidden : sequence of int
        The hidden layers' widths.

    Returns
    -------
    flops : int
    """
    total = 0
    for index, (a, b) in enumerate(layer_shapes(n_features, n_classes, hidden)):
        products = 2 if index == 0 else 3
        total += products * 2 * n_samples * a * b
    return total


def batch_products(n_features, n_classes, hidden, batch_size, dtype, seed=0):
    """A function that runs one minibatch's matrix products, and nothing else.

    The weights, activations, deltas and gradients are random arrays of the
    right shapes and ``dtype``, allocated once here; every product writes
    into one of them (``out=``), so a call allocates nothing.

    Returns
    -------
    run : callable
        ``run()`` does the forward products from the first layer to the last,
        then the weight gradients and deltas from the last layer to the first.
    """
    rng = np.random.default_rng(seed)

    def random(*shape):
        return rng.standard_normal(shape).astype(dtype)

    shapes = layer_shapes(n_features, n_classes, hidden)
    weights = [random(a, b) for a, b in shapes]
    widths = [n_features, *hidden, n_classes]
    activations = [random(batch_size, width) for width in widths]
    deltas = [random(batch_size, width) for width in widths]
    gradients = [np.empty_like(W) for W in weights]

    def run():
        for i, W in enumerate(weights):
            np.matmul(activations[i], W, out=activations[i + 1])
        for i in range(len(weights) - 1, -1, -1):
            np.matmul(activations[i].T, deltas[i + 1], out=gradients[i])
            if i > 0:
                np.matmul(deltas[i + 1], weights[i].T, out=deltas[i])

    return run


def gemm_epoch_seconds(
    n_samples, n_features, n_classes, hidden, batch_size, dtype, reps=2
):
    """Seconds of one epoch's matrix products, the fastest of ``reps`` epochs.

    An epoch runs ``n_samples // batch_size`` full batches (at least one);
    the time is scaled to ``n_samples`` rows, so a last, partial batch counts
    for its share.

    Parameters
    ----------
    n_samples, n_features, n_classes : int
    hidden : sequence of int
    batch_size : int
    dtype : numpy dtype
    reps : int, default=2
        Timed epochs; the fastest is returned.

    Returns
    -------
    seconds : float
    """
    run = batch_products(n_features, n_classes, hidden, batch_size, dtype)
    n_batches = max(1, n_samples // batch_size)
    fastest = float("inf")
    for _ in range(max(1, reps)):
        start = time.perf_counter()
        for _ in range(n_batches):
            run()
        fastest = min(fastest, time.perf_counter() - start)
    return fastest * n_samples / (n_batches * batch_size)


def machine_peak(dtype, n=2048, reps=5):
    """GFLOP/s of one ``(n, n) @ (n, n)`` product, the fastest of ``reps``.

    This is the practical arithmetic peak of the loaded BLAS in ``dtype``:
    small-batch products of the workloads stay below it.
    """
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    out = np.empty_like(a)
    np.matmul(a, b, out=out)  # untimed: BLAS start-up
    fastest = float("inf")
    for _ in range(max(1, reps)):
        start = time.perf_counter()
        np.matmul(a, b, out=out)
        fastest = min(fastest, time.perf_counter() - start)
    return 2 * n**3 / fastest / 1e9


def main(argv=None):
    """Print the peak and every workload's GEMM-only epoch; returns 0."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Run it with env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE to time "
        "the kernels OpenBLAS picks for this CPU.",
    )
    parser.add_argument(
        "--workloads",
        default=",".join(WORKLOADS),
        help=f"comma-separated subset of {', '.join(WORKLOADS)} (default: all)",
    )
    parser.add_argument(
        "--reps", type=int, default=2, help="timed epochs, fastest kept (default: 2)"
    )
    args = parser.parse_args(argv)
    names = args.workloads.split(",")
    unknown = sorted(set(names) - set(WORKLOADS))
    if unknown:
        parser.error(f"unknown workload(s): {', '.join(unknown)}")

    coretype = os.environ.get("OPENBLAS_CORETYPE", "(unset)")
    peaks = ", ".join(
        f"{name} {machine_peak(dtype):.0f} GFLOP/s" for name, dtype in DTYPES.items()
    )
    print(f"OPENBLAS_CORETYPE={coretype}; peak of one 2048^3 product: {peaks}")
    for name in names:
        n, d, k, hidden, batch, _ = WORKLOADS[name]
        for dtype_name, dtype in DTYPES.items():
            seconds = gemm_epoch_seconds(n, d, k, hidden, batch, dtype, args.reps)
            gflops = flops_per_epoch(n, d, k, hidden) / seconds / 1e9
            print(
                f"{name:8s} {dtype_name:8s} gemm-only {1e3 * seconds:8.1f} ms/epoch"
                f" {gflops:7.1f} GFLOP/s"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
