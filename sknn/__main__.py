"""Demo: ``python -m sknn``.

Trains sknn's ``MLPClassifierNN`` and scikit-learn's ``MLPClassifier`` with
identical settings on scikit-learn's bundled digits data set (no network
needed), then prints test accuracy, fit time and the speed ratio, followed by
one sknn model trained with dropout.

The fits are timed twice, in interleaved rounds: with the BLAS library's
default number of threads, and with BLAS limited to one thread. The two ratios
differ because scikit-learn's small-batch matrix products get slower with
several threads, while sknn chooses its BLAS thread count from the work per
batch. ``--threads N`` pins the thread count instead (one measurement).

Run ``python -m sknn --quick`` for a shorter run (fewer epochs).
"""

import argparse
import contextlib
import platform
import sys
import time
import warnings

__all__ = ["main"]

# Ratios within this factor of each other are read as equal (timing noise).
NOISE = 1.15

_REASON = (
    "scikit-learn's small-batch matrix products get slower with several BLAS "
    "threads (starting and syncing the threads costs more than the product), "
    "while sknn picks its BLAS thread count from the work per batch; the "
    "one-thread ratio compares the arithmetic alone"
)


def _why_line(default_ratio, one_ratio):
    """One line on why the default-thread and one-thread ratios differ."""
    if default_ratio > NOISE * one_ratio:
        return f"why the ratios differ: {_REASON}"
    if one_ratio > NOISE * default_ratio:
        return (
            "the default-thread ratio is the lower one on this run (timing noise, "
            f"or threads helped scikit-learn); where it is higher, {_REASON}"
        )
    return (
        "the ratios are close on this run: extra BLAS threads cost scikit-learn "
        f"little here; where they differ, {_REASON}"
    )


def _timed_fit(make_model, X, y):
    """Fit a fresh ``make_model()`` on ``X, y``; return (model, seconds)."""
    from sklearn.exceptions import ConvergenceWarning

    model = make_model()
    with warnings.catch_warnings():
        # Hitting max_iter is expected in a short demo; the table reports the
        # number of epochs actually run instead.
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X, y)
        seconds = time.perf_counter() - start
    return model, seconds


def _warm_up(factories, settings, X, y):
    """Fit every factory for one epoch under every thread setting, untimed.

    First-call costs (lazy imports, BLAS thread start-up, memory allocation,
    Numba's compilation) should not count for anyone.
    """
    for make_limit in settings.values():
        with make_limit():
            for make_model in factories.values():
                warm = make_model().set_params(max_iter=1)
                _timed_fit(lambda warm=warm: warm, X[:200], y[:200])


def _compare(factories, settings, X, y, repeat):
    """Fit every factory under every thread setting; keep each one's fastest.

    Each of the ``repeat`` rounds runs every setting in turn and, inside it,
    fits every factory once, so that a change in machine load affects all
    models and settings alike. The fits are identical (fixed
    ``random_state``), so repeating only filters timing noise.

    Parameters
    ----------
    factories : dict
        Model name -> function returning a new, unfitted estimator.
    settings : dict
        Setting name -> function returning a context manager (the thread
        limit the fits run under).
    X, y : ndarray
        Training data.
    repeat : int
        Number of rounds.

    Returns
    -------
    best : dict
        ``{(model name, setting name): (fitted model, fastest seconds)}``.
    """
    best = {}
    for _ in range(max(1, repeat)):
        for setting, make_limit in settings.items():
            with make_limit():
                for name, make_model in factories.items():
                    model, seconds = _timed_fit(make_model, X, y)
                    key = (name, setting)
                    if key not in best or seconds < best[key][1]:
                        best[key] = (model, seconds)
    return best


def _blas_threads():
    """The largest thread count among the loaded BLAS libraries (1 if none)."""
    from threadpoolctl import threadpool_info

    return max(
        (
            info["num_threads"]
            for info in threadpool_info()
            if info["user_api"] == "blas"
        ),
        default=1,
    )


def _numba_kernels():
    """sknn's Numba-compiled kernels (an empty list without Numba)."""
    from sknn._core import _fused

    if not _fused.AVAILABLE:
        return []
    kernels = {}
    for value in vars(_fused).values():
        for item in value.values() if isinstance(value, dict) else (value,):
            if hasattr(item, "signatures") and hasattr(item, "stats"):
                kernels[id(item)] = item
    return list(kernels.values())


def _numba_counts():
    """(machine-code versions, compiled, loaded from disk cache), summed over
    sknn's kernels in this process so far."""
    versions = compiled = loaded = 0
    for kernel in _numba_kernels():
        versions += len(kernel.signatures)
        compiled += sum(kernel.stats.cache_misses.values())
        loaded += sum(kernel.stats.cache_hits.values())
    return versions, compiled, loaded


def _kernels_line(used_numba, before, warmed, after):
    """Say which element-wise code sknn ran and where Numba compiled, if it did.

    Parameters
    ----------
    used_numba : bool
        Whether the compiled kernels were switched on during the fits.
    before, warmed, after : tuple of int
        :func:`_numba_counts` before the warm-up, after it and after the
        timed fits.
    """
    from sknn._core import _fused

    if not used_numba or after[0] == 0:
        if not _fused.AVAILABLE:
            why = "Numba is not installed"
        elif not used_numba:
            why = "Numba disabled"
        else:
            why = "no Numba kernel was called"
        return f"sknn element-wise work: the NumPy path ran ({why})"
    import numba

    text = f"sknn element-wise work: Numba {numba.__version__} kernels ran; "
    compiled = warmed[1] - before[1]
    loaded = warmed[2] - before[2]
    if compiled:
        text += (
            f"Numba compilation ({compiled} kernel version(s), one-off) happened "
            "in the untimed warm-up fits, not in the fit times"
        )
    elif loaded:
        text += (
            "loaded from Numba's disk cache in the untimed warm-up fits "
            "(no Numba compilation needed)"
        )
    else:
        text += "already compiled earlier in this process (no Numba compilation)"
    late = after[1] - warmed[1]
    if late:
        text += f"; {late} more compiled during timed fits (included in the times)"
    return text


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def _parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m sknn",
        description=(
            "Compare sknn.MLPClassifierNN with sklearn.neural_network."
            "MLPClassifier on the bundled digits data set: test accuracy and fit "
            "time, timed with the default BLAS threads and with BLAS limited to "
            "one thread."
        ),
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="train for a few epochs only (a smoke test, a few seconds)",
    )
    parser.add_argument(
        "--max-iter",
        type=_positive_int,
        default=None,
        help="number of epochs (default: 200, or 20 with --quick)",
    )
    parser.add_argument(
        "--repeat",
        type=_positive_int,
        default=None,
        help=(
            "timing rounds; each fits every model once per thread setting and "
            "the fastest fit is reported (default: 3, or 2 with --quick)"
        ),
    )
    parser.add_argument(
        "--threads",
        type=_positive_int,
        default=None,
        help=(
            "pin BLAS/OpenMP threads for all fits and report one ratio (default: "
            "time twice, with the libraries' default BLAS threads and with BLAS "
            "limited to one thread, and report both ratios)"
        ),
    )
    parser.add_argument(
        "--random-state",
        type=int,
        default=0,
        help="seed for the split and both models (default: 0)",
    )
    return parser.parse_args(argv)


def _verdict(ratio):
    if ratio >= 1:
        return f"sknn fits {ratio:.2f}x faster"
    return f"sknn fits {1 / ratio:.2f}x slower"


def main(argv=None):
    """Run the demo; ``argv`` defaults to ``sys.argv[1:]``. Returns 0."""
    args = _parse_args(argv)
    max_iter = (
        args.max_iter if args.max_iter is not None else (20 if args.quick else 200)
    )
    repeat = args.repeat if args.repeat is not None else (2 if args.quick else 3)
    seed = args.random_state

    import numpy as np
    import sklearn
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    import sknn
    from sknn import MLPClassifierNN
    from sknn._core import _fused

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=seed, stratify=y
    )
    scaler = StandardScaler().fit(X_train)
    X_train = scaler.transform(X_train)
    X_test = scaler.transform(X_test)

    settings = dict(hidden_layer_sizes=(100,), max_iter=max_iter, random_state=seed)

    # Thread settings to time under: {name: (table column, ratio label, context)}
    default_threads = _blas_threads()
    if args.threads is not None:
        plural = "s" if args.threads > 1 else ""
        timing = (
            f"BLAS/OpenMP threads pinned to {args.threads} by --threads, so one "
            "measurement and one ratio"
        )
        thread_settings = {
            "pinned": (
                f"fit (s), {args.threads} thread{plural}",
                f"{args.threads} thread{plural} (pinned)",
                lambda: threadpool_limits(limits=args.threads),
            )
        }
    elif default_threads == 1:
        timing = (
            "BLAS runs one thread by default here, so the default and the "
            "one-thread measurements coincide"
        )
        thread_settings = {
            "default": ("fit (s)", "1 BLAS thread", contextlib.nullcontext)
        }
    else:
        timing = (
            f"each round fits every model with the default BLAS threads "
            f"({default_threads}), then with BLAS limited to 1 thread"
        )
        thread_settings = {
            "default": (
                "fit (s), default",
                f"default BLAS threads ({default_threads})",
                contextlib.nullcontext,
            ),
            "one": (
                "fit (s), 1 thread",
                "BLAS limited to 1 thread",
                lambda: threadpool_limits(limits=1, user_api="blas"),
            ),
        }

    print(
        f"sknn {sknn.__version__} vs scikit-learn {sklearn.__version__} "
        f"(Python {platform.python_version()}, NumPy {np.__version__})"
    )
    print(
        f"digits: {X.shape[0]} samples, {X.shape[1]} features, "
        f"{len(np.unique(y))} classes; train/test = {len(y_train)}/{len(y_test)}"
    )
    settings_text = ", ".join(f"{key}={value!r}" for key, value in settings.items())
    print(f"settings: {settings_text}; all other parameters at their defaults")
    print(f"timing: fastest of {repeat} round(s); {timing}")

    sk_name, nn_name = "scikit-learn MLPClassifier", "sknn MLPClassifierNN"
    do_name = "sknn MLPClassifierNN dropout=0.2"
    factories = {
        sk_name: lambda: MLPClassifier(**settings),
        nn_name: lambda: MLPClassifierNN(**settings),
        do_name: lambda: MLPClassifierNN(**settings, dropout=0.2),
    }
    limits = {name: make_limit for name, (_, _, make_limit) in thread_settings.items()}
    used_numba = _fused.enabled()
    before = _numba_counts()
    _warm_up(factories, limits, X_train, y_train)
    warmed = _numba_counts()
    results = _compare(factories, limits, X_train, y_train, repeat)
    after = _numba_counts()
    print(_kernels_line(used_numba, before, warmed, after))
    print()

    first = next(iter(thread_settings))
    models = {name: results[name, first][0] for name in factories}
    predictions = {name: model.predict(X_test) for name, model in models.items()}
    accuracy = {
        name: float((pred == y_test).mean()) for name, pred in predictions.items()
    }

    columns = [column for column, _, _ in thread_settings.values()]
    header = f"{'model':<34}{'test accuracy':>15}"
    header += "".join(f"{column:>20}" for column in columns) + f"{'epochs':>8}"
    print(header)
    print("-" * len(header))
    for name, model in models.items():
        times = "".join(
            f"{results[name, setting][1]:>20.3f}" for setting in thread_settings
        )
        print(f"{name:<34}{accuracy[name]:>15.4f}{times}{model.n_iter_:>8d}")
    print()

    agreement = float((predictions[sk_name] == predictions[nn_name]).mean())
    print(f"test predictions identical between scikit-learn and sknn: {agreement:.1%}")
    print("speed ratio (scikit-learn fit time / sknn fit time; > 1: sknn faster):")
    ratios = []
    for setting, (_, label, _) in thread_settings.items():
        sk_time, nn_time = results[sk_name, setting][1], results[nn_name, setting][1]
        ratios.append(sk_time / nn_time if nn_time > 0 else float("inf"))
        print(f"  {label + ':':<28}{ratios[-1]:>7.2f}  ({_verdict(ratios[-1])})")
    if len(ratios) == 2:
        print(_why_line(*ratios))
    gain = accuracy[do_name] - accuracy[nn_name]
    print(
        f"dropout=0.2: test accuracy {accuracy[do_name]:.4f} "
        f"({gain:+.4f} vs sknn without dropout)"
    )
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
