"""Demo: ``python -m sknn``.

Trains sknn's ``MLPClassifierNN`` and scikit-learn's ``MLPClassifier`` with
identical settings on scikit-learn's bundled digits data set (no network
needed), then prints test accuracy, fit time and the speed ratio, followed by
one sknn model trained with dropout.

Run ``python -m sknn --quick`` for a shorter run (fewer epochs).
"""

import argparse
import platform
import sys
import time
import warnings

__all__ = ["main"]


def _fit_and_score(model, X_train, y_train, X_test, y_test):
    """Fit ``model``; return (test accuracy, fit seconds, epochs, predictions)."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        # Hitting max_iter is expected in a short demo; the table reports the
        # number of epochs actually run instead.
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X_train, y_train)
        seconds = time.perf_counter() - start
    predictions = model.predict(X_test)
    accuracy = float((predictions == y_test).mean())
    return accuracy, seconds, int(model.n_iter_), predictions


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
        type=int,
        default=None,
        help="number of epochs (default: 200, or 20 with --quick)",
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
    max_iter = args.max_iter
    if max_iter is None:
        max_iter = 20 if args.quick else 200
    seed = args.random_state

    import numpy as np
    import sklearn
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import StandardScaler

    import sknn
    from sknn import MLPClassifierNN

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=seed, stratify=y
    )
    scaler = StandardScaler().fit(X_train)
    X_train = scaler.transform(X_train)
    X_test = scaler.transform(X_test)

    settings = dict(
        hidden_layer_sizes=(100,),
        max_iter=max_iter,
        random_state=seed,
    )

    print(
        f"sknn {sknn.__version__} vs scikit-learn {sklearn.__version__} "
        f"(Python {platform.python_version()}, NumPy {np.__version__})"
    )
    print(
        f"digits: {X.shape[0]} samples, {X.shape[1]} features, "
        f"{len(np.unique(y))} classes; train/test = "
        f"{len(y_train)}/{len(y_test)}"
    )
    settings_text = ", ".join(f"{key}={value!r}" for key, value in settings.items())
    print(f"settings: {settings_text} (all other parameters at their defaults)")
    print()

    rows = []
    sk_acc, sk_time, sk_epochs, sk_pred = _fit_and_score(
        MLPClassifier(**settings), X_train, y_train, X_test, y_test
    )
    rows.append(("scikit-learn MLPClassifier", sk_acc, sk_time, sk_epochs))

    nn_acc, nn_time, nn_epochs, nn_pred = _fit_and_score(
        MLPClassifierNN(**settings), X_train, y_train, X_test, y_test
    )
    rows.append(("sknn MLPClassifierNN", nn_acc, nn_time, nn_epochs))

    do_acc, do_time, do_epochs, _ = _fit_and_score(
        MLPClassifierNN(**settings, dropout=0.2), X_train, y_train, X_test, y_test
    )
    rows.append(("sknn MLPClassifierNN dropout=0.2", do_acc, do_time, do_epochs))

    header = f"{'model':<34}{'test accuracy':>15}{'fit time (s)':>15}{'epochs':>9}"
    print(header)
    print("-" * len(header))
    for name, accuracy, seconds, epochs in rows:
        print(f"{name:<34}{accuracy:>15.4f}{seconds:>15.3f}{epochs:>9d}")
    print()

    agreement = float((sk_pred == nn_pred).mean())
    print(f"test predictions identical between scikit-learn and sknn: {agreement:.1%}")
    ratio = sk_time / nn_time if nn_time > 0 else float("inf")
    if ratio >= 1:
        verdict = f"sknn fit {ratio:.2f}x faster than scikit-learn"
    else:
        verdict = f"sknn fit {1 / ratio:.2f}x slower than scikit-learn"
    print(
        f"speed ratio (scikit-learn fit time / sknn fit time): {ratio:.2f} -> {verdict}"
    )
    print(
        f"dropout=0.2: test accuracy {do_acc:.4f} "
        f"({do_acc - nn_acc:+.4f} vs sknn without dropout)"
    )
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
