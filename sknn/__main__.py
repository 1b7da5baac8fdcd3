"""Demo: ``python -m sknn``.

Trains sknn's ``MLPClassifierNN`` and scikit-learn's ``MLPClassifier`` with
identical settings on scikit-learn's bundled digits data set (no network
needed), then prints test accuracy, fit time and the speed ratio, followed by
one sknn model trained with dropout.

Run ``python -m sknn --quick`` for a shorter run (fewer epochs).
"""

import argparse
import contextlib
import platform
import sys
import time
import warnings

__all__ = ["main"]


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


def _compare(factories, X, y, repeat):
    """Fit every factory ``repeat`` times, interleaved; keep each one's fastest.

    The fits are identical (fixed ``random_state``), so repeating only filters
    timing noise; interleaving spreads load changes over all models alike.
    Returns {name: (model, best seconds)}.
    """
    # Untimed one-epoch warm-up of each model: first-call costs (lazy imports,
    # BLAS thread start-up, memory allocation) should not count for either.
    for make_model in factories.values():
        warm = make_model().set_params(max_iter=1)
        _timed_fit(lambda warm=warm: warm, X[:200], y[:200])

    best = {}
    for _ in range(max(1, repeat)):
        for name, make_model in factories.items():
            model, seconds = _timed_fit(make_model, X, y)
            if name not in best or seconds < best[name][1]:
                best[name] = (model, seconds)
    return best


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
            "MLPClassifier on the bundled digits data set."
        ),
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="train for a few epochs only (a smoke test, a couple of seconds)",
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
            "time each of the two compared fits this many times and report the "
            "fastest (default: 3, or 1 with --quick)"
        ),
    )
    parser.add_argument(
        "--threads",
        type=_positive_int,
        default=None,
        help=(
            "limit BLAS/OpenMP threads for all fits (default: the libraries' own "
            "default); 1 is often fastest on small data or a busy machine"
        ),
    )
    parser.add_argument(
        "--random-state",
        type=int,
        default=0,
        help="seed for the split and both models (default: 0)",
    )
    return parser.parse_args(argv)


def main(argv=None):
    """Run the demo; ``argv`` defaults to ``sys.argv[1:]``. Returns 0."""
    args = _parse_args(argv)
    max_iter = (
        args.max_iter if args.max_iter is not None else (20 if args.quick else 200)
    )
    repeat = args.repeat if args.repeat is not None else (1 if args.quick else 3)
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
    threads = "library default" if args.threads is None else args.threads
    print(f"timing: fastest of {repeat} fit(s) per model; BLAS threads: {threads}")
    print(
        f"sknn element-wise work: {_fused.describe()}; an untimed warm-up fit "
        "absorbs first-call costs, Numba's one-off compilation included"
    )
    print()

    sk_name, nn_name = "scikit-learn MLPClassifier", "sknn MLPClassifierNN"
    do_name = "sknn MLPClassifierNN dropout=0.2"
    limits = (
        threadpool_limits(limits=args.threads)
        if args.threads is not None
        else contextlib.nullcontext()
    )
    with limits:
        results = _compare(
            {
                sk_name: lambda: MLPClassifier(**settings),
                nn_name: lambda: MLPClassifierNN(**settings),
            },
            X_train,
            y_train,
            repeat,
        )
        results.update(
            _compare(
                {do_name: lambda: MLPClassifierNN(**settings, dropout=0.2)},
                X_train,
                y_train,
                1,
            )
        )

    predictions = {name: model.predict(X_test) for name, (model, _) in results.items()}
    accuracy = {
        name: float((pred == y_test).mean()) for name, pred in predictions.items()
    }

    header = f"{'model':<34}{'test accuracy':>15}{'fit time (s)':>15}{'epochs':>9}"
    print(header)
    print("-" * len(header))
    for name, (model, seconds) in results.items():
        print(f"{name:<34}{accuracy[name]:>15.4f}{seconds:>15.3f}{model.n_iter_:>9d}")
    print()

    agreement = float((predictions[sk_name] == predictions[nn_name]).mean())
    print(f"test predictions identical between scikit-learn and sknn: {agreement:.1%}")
    sk_time, nn_time = results[sk_name][1], results[nn_name][1]
    ratio = sk_time / nn_time if nn_time > 0 else float("inf")
    if ratio >= 1:
        verdict = f"sknn fits {ratio:.2f}x faster"
    else:
        verdict = f"sknn fits {1 / ratio:.2f}x slower"
    print(
        f"speed ratio (scikit-learn fit time / sknn fit time): {ratio:.2f} ({verdict})"
    )
    gain = accuracy[do_name] - accuracy[nn_name]
    print(
        f"dropout=0.2: test accuracy {accuracy[do_name]:.4f} "
        f"({gain:+.4f} vs sknn without dropout)"
    )
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
