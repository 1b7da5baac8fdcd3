"""Epoch times of sknn on GPU arrays against a plain PyTorch training loop.

Run from the repository root on a machine with a CUDA GPU::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/gpu.py

The workload is ``--n-samples`` random rows of ``--features`` columns,
``--hidden`` ReLU layers and ``--classes`` softmax outputs (default
1,000,000 x 784 -> 1024 -> 1024 -> 10), trained by Adam (learning rate 1e-3,
no L2 penalty) on shuffled minibatches of each ``--batch`` size, in each
``--dtype``.  Four trainers:

- ``torch``: ``sknn.MLPClassifierNN`` fitted on PyTorch tensors on the
  device, through scikit-learn's ``array_api_dispatch``;
- ``cupy``: the same on CuPy arrays (needs CuPy);
- ``torch-loop``: a plain PyTorch loop with the same layers, loss and
  optimizer (``nn.Linear``/``nn.ReLU``, ``cross_entropy``,
  ``torch.optim.Adam``), shuffling with ``randperm`` on the device and
  synchronising once per epoch;
- ``host``: ``sknn.MLPClassifierNN`` on NumPy arrays on the CPU.  An epoch
  over all rows would take minutes there, so it trains on the first
  ``--host-samples`` rows and the table scales its time to the full epoch.

Each sknn run fits ``--epochs`` epochs; an epoch's time is read from
``history_`` (its ``seconds``), and the table keeps the fastest epoch after
the first (which pays for kernel compilation and allocation).  The PyTorch
loop runs the same number of epochs and keeps its fastest after the first.
GFLOP/s counts the matrix products of an epoch (forward ``2 n in out`` per
layer, backward ``4 n in out``, less the first layer's input gradient).  The
last column is each trainer's time over the PyTorch loop's at the same batch
size and dtype: the target for sknn on PyTorch at batch 4096 is 1.2 or less.

``--device cpu`` runs the same comparison on CPU tensors (small sizes), which
is how the test suite checks this script on machines without a GPU.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

# scikit-learn's array-API dispatch needs SciPy's array-API mode, read on import
os.environ.setdefault("SCIPY_ARRAY_API", "1")


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

TRAINERS = ("torch", "cupy", "torch-loop", "host")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-samples", type=benchlib.positive_int, default=1_000_000)
    parser.add_argument("--features", type=benchlib.positive_int, default=784)
    parser.add_argument(
        "--hidden", type=benchlib.positive_int, nargs="+", default=[1024, 1024]
    )
    parser.add_argument("--classes", type=benchlib.positive_int, default=10)
    parser.add_argument(
        "--batch", type=benchlib.positive_int, nargs="+", default=[4096, 256]
    )
    parser.add_argument(
        "--dtype", nargs="+", choices=sorted(benchlib.DTYPES),
        default=["float32", "float64"],
    )  # fmt: skip
    parser.add_argument("--epochs", type=benchlib.positive_int, default=3)
    parser.add_argument("--host-samples", type=benchlib.positive_int, default=20_000)
    parser.add_argument("--device", default="cuda", help="torch device (cuda, cpu)")
    parser.add_argument(
        "--trainers", nargs="+", choices=TRAINERS, default=list(TRAINERS)
    )
    parser.add_argument("--markdown", help="also write the report to this file")
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (the first one is a warm-up)")
    return args


def epoch_flops(n, units):
    """Floating-point operations of the matrix products of one epoch."""
    pairs = list(zip(units, units[1:]))
    forward = sum(2 * n * a * b for a, b in pairs)
    weight_grads = forward
    input_grads = sum(2 * n * a * b for a, b in pairs[1:])
    return forward + weight_grads + input_grads


def make_data(args, dtype, torch):
    """``(X, y)`` as torch tensors on ``args.device`` (random, seeded)."""
    gen = torch.Generator(device=args.device).manual_seed(0)
    X = torch.randn(
        args.n_samples, args.features, generator=gen, device=args.device,
        dtype=getattr(torch, dtype),
    )  # fmt: skip
    y = torch.randint(
        0, args.classes, (args.n_samples,), generator=gen, device=args.device
    )
    return X, y


def sknn_model(args, batch, epochs):
    from sknn import MLPClassifierNN

    return MLPClassifierNN(
        hidden_layer_sizes=tuple(args.hidden),
        solver="adam",
        alpha=0.0,
        batch_size=batch,
        learning_rate_init=1e-3,
        max_iter=epochs,
        tol=0.0,
        n_iter_no_change=epochs + 1,
        shuffle=True,
        random_state=0,
    )


def fastest_epoch(history):
    """The fastest epoch after the first, in seconds."""
    return min(record["seconds"] for record in history[1:])


def time_sknn(args, X, y, batch):
    """Fastest epoch (seconds) of sknn fitted on the arrays ``X``, ``y``."""
    import sklearn

    model = sknn_model(args, batch, args.epochs)
    with warnings.catch_warnings(), sklearn.config_context(array_api_dispatch=True):
        warnings.simplefilter("ignore")
        model.fit(X, y)
    return fastest_epoch(model.history_)


def time_host(args, X, y, batch):
    """Fastest epoch of sknn on NumPy, scaled from ``--host-samples`` rows."""
    rows = min(args.host_samples, X.shape[0])
    Xh = X[:rows].cpu().numpy()
    yh = y[:rows].cpu().numpy()
    model = sknn_model(args, min(batch, rows), args.epochs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(Xh, yh)
    return fastest_epoch(model.history_) * X.shape[0] / rows


def time_torch_loop(args, X, y, batch, torch):
    """Fastest epoch of a plain PyTorch loop with the same layers and Adam."""
    units = [args.features, *args.hidden, args.classes]
    torch.manual_seed(0)
    layers = []
    for i, (a, b) in enumerate(zip(units, units[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(units) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers).to(device=X.device, dtype=X.dtype)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    n = X.shape[0]
    times = []
    for _ in range(args.epochs):
        sync(torch, X.device)
        tic = time.perf_counter()
        order = torch.randperm(n, device=X.device)
        for start in range(0, n, batch):
            idx = order[start : start + batch]
            opt.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(model(X[idx]), y[idx])
            loss.backward()
            opt.step()
        sync(torch, X.device)
        times.append(time.perf_counter() - tic)
    return min(times[1:])


def sync(torch, device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def device_line(args, torch):
    if args.device.startswith("cuda") and torch.cuda.is_available():
        props = torch.cuda.get_device_properties(torch.device(args.device))
        return f"device: {props.name}, {props.total_memory / 2**30:.0f} GiB"
    return f"device: {args.device} (PyTorch {torch.__version__})"


def run(args):
    import torch

    benchlib.import_sknn()  # from the checkout when not installed
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("no CUDA device: run with --device cpu for a CPU check")
    try:
        import cupy
    except ImportError:
        cupy = None
    units = [args.features, *args.hidden, args.classes]
    rows, not_run = [], set()
    load_before = benchlib.load_average()
    for dtype in args.dtype:
        X, y = make_data(args, dtype, torch)
        for batch in args.batch:
            times = {}
            for trainer in args.trainers:
                benchlib.log(f"{trainer}, {dtype}, batch {batch}")
                if trainer == "torch":
                    times[trainer] = time_sknn(args, X, y, batch)
                elif trainer == "cupy":
                    if cupy is None or X.device.type != "cuda":
                        not_run.add(
                            "cupy (not installed)" if cupy is None else "cupy (no CUDA)"
                        )
                        continue
                    times[trainer] = time_sknn(
                        args, cupy.from_dlpack(X), cupy.from_dlpack(y), batch
                    )
                elif trainer == "torch-loop":
                    times[trainer] = time_torch_loop(args, X, y, batch, torch)
                else:
                    times[trainer] = time_host(args, X, y, batch)
            flops = epoch_flops(args.n_samples, units)
            reference = times.get("torch-loop")
            for trainer, seconds in times.items():
                ratio = "" if reference is None else f"{seconds / reference:.2f}x"
                rows.append(
                    [
                        trainer,
                        dtype,
                        str(batch),
                        f"{seconds * 1e3:.1f}",
                        f"{flops / seconds / 1e9:.3g}",
                        ratio,
                    ]
                )
        del X, y
    load_after = benchlib.load_average()
    header = ["trainer", "dtype", "batch", "ms/epoch", "GFLOP/s", "/ torch-loop"]
    legend = (
        f"{args.n_samples:,} x {args.features} -> "
        f"{' -> '.join(map(str, args.hidden))} -> {args.classes}, Adam, "
        f"fastest of epochs 2..{args.epochs}; host scaled from "
        f"{min(args.host_samples, args.n_samples):,} rows"
        + (f"; not run: {', '.join(sorted(not_run))}" if not_run else "")
    )
    env = benchlib.environment_line(
        f"torch {torch.__version__}; {device_line(args, torch)}"
    )
    return benchlib.report(
        "sknn on GPU arrays against a PyTorch loop",
        env,
        load_before,
        load_after,
        benchlib.markdown(header, rows),
        legend,
        args.markdown,
    )


def main(argv=None):
    run(parse_args(argv))


if __name__ == "__main__":
    main()
