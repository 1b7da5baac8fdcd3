"""What the benchmark scripts share: workloads, data, reporting.

``bench_vs_sklearn.py``, ``bench_predict.py`` and ``batch_breakdown.py`` import
it from this folder.  The workload table and the GEMM-only roofline are in
``roofline.py`` beside it: the benchmarks need nothing outside the repository.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
OPENBLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
DTYPES = {"float64": np.float64, "float32": np.float32}


def import_sknn():
    """Import sknn, from the checkout when it is not installed."""
    try:
        import sknn
    except ImportError:
        sys.path.insert(0, str(REPO_ROOT))
        import sknn
    return sknn


@dataclass(frozen=True)
class Workload:
    """One row of ``roofline.WORKLOADS``.

    Attributes
    ----------
    name : str
    n_samples, n_features, n_classes : int
    hidden : tuple of int
    batch_size, epochs : int
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
        """From ``(n_samples, n_features, n_classes, hidden, batch, epochs)``;
        ``quick`` keeps a tenth of the samples (at least two batches)."""
        n, d, k, hidden, batch, epochs = row
        if quick:
            n = max(n // 10, 2 * batch)
        return cls(name, n, d, k, tuple(hidden), batch, epochs)

    @property
    def shape(self):
        """``(n_samples, n_features, n_classes, hidden)``, the roofline's."""
        return (self.n_samples, self.n_features, self.n_classes, self.hidden)

    def estimator_params(self):
        """Parameters both libraries get: Adam for exactly ``epochs`` epochs
        (``tol=0`` and ``n_iter_no_change > max_iter``)."""
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
    """Standard-scaled float64 features and integer labels for ``workload``.

    ``small`` is scikit-learn's digits data (its first ``n_samples`` rows);
    the others come from ``make_classification`` with a fixed seed.
    """
    from sklearn.datasets import load_digits, make_classification
    from sklearn.preprocessing import StandardScaler

    if workload.name == "small":
        X, y = load_digits(return_X_y=True)
        X, y = X[: workload.n_samples], y[: workload.n_samples]
    else:
        X, y = make_classification(
            n_samples=workload.n_samples,
            n_features=workload.n_features,
            n_informative=min(workload.n_features // 2, 64),
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


def markdown(header, rows):
    """A Markdown table, columns after the first two right-aligned."""
    align = ["---", "---"] + ["---:"] * (len(header) - 2)
    return "\n".join(
        "| " + " | ".join(cells) + " |" for cells in [header, align, *rows]
    )


def positive_int(text):
    """argparse type: an integer of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def load_average():
    """The 1-minute load average, or None where the system has none."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def load_line(before, after):
    """CPUs and load average at the start and end, with a warning when the
    machine was busy with other work (timings then mean little)."""
    n_cpus = os.cpu_count() or 1
    line = f"CPUs: {n_cpus}"
    if before is None or after is None:
        return line + "; load average unavailable"
    line += f"; 1-minute load average {before:.2f} at start, {after:.2f} at end"
    # a benchmark itself keeps up to n_cpus threads busy
    if max(before, after) > 1.5 * n_cpus:
        line += (
            ". WARNING: the machine was busy with other work; the timings are "
            "unreliable. Rerun on an idle machine."
        )
    return line


def openblas_variables_text(environ=None):
    """Whether the OpenBLAS tuning variables are set in ``environ``."""
    environ = os.environ if environ is None else environ
    set_ones = [f"{n}={environ[n]}" for n in OPENBLAS_VARIABLES if n in environ]
    if not set_ones:
        return f"{' and '.join(OPENBLAS_VARIABLES)} unset"
    return (
        f"set: {', '.join(set_ones)} (benchmarks are meant to run with "
        f"env -u {' -u '.join(OPENBLAS_VARIABLES)})"
    )


def environment_line(extra=""):
    """Versions, Numba, the BLAS libraries and the OpenBLAS variables.

    Call it once sknn and scikit-learn are imported (their BLAS loaded).
    """
    import sklearn
    from threadpoolctl import threadpool_info

    sknn_version = getattr(sys.modules.get("sknn"), "__version__", "unknown")
    try:
        import numba
    except ImportError:
        numba_text = "numba not installed"
    else:
        numba_text = f"numba {numba.__version__}"
        disabled = os.environ.get("SKNN_DISABLE_NUMBA", "").strip()
        if disabled not in ("", "0"):
            numba_text += f" (SKNN_DISABLE_NUMBA={disabled})"
    blas = sorted(
        {
            " ".join(
                str(part)
                for part in (
                    info["internal_api"],
                    info.get("version"),
                    info.get("architecture") or "",
                    f"x{info['num_threads']}",
                )
                if part
            )
            for info in threadpool_info()
            if info["user_api"] == "blas"
        }
    )
    line = (
        f"python {platform.python_version()}, numpy {np.__version__}, "
        f"scikit-learn {sklearn.__version__}, sknn {sknn_version}, {numba_text}; "
        f"BLAS: {', '.join(blas) or 'unknown'}; {openblas_variables_text()}"
    )
    return f"{line}; {extra}" if extra else line


def report(title, env, load_before, load_after, table, legend, markdown=None):
    """Print a benchmark's report (and write it to ``markdown`` if given).

    The report is the title, the environment line, the load line, the table
    and a one-line legend, separated by blank lines; it is returned too.
    """
    text = "\n\n".join(
        [f"## {title}", env, load_line(load_before, load_after), table, legend]
    )
    print(text)
    if markdown is not None:
        Path(markdown).write_text(text + "\n")
    return text


def log(message):
    """Progress to stderr (the report goes to stdout)."""
    print(message, file=sys.stderr, flush=True)


def sweep_main(doc, run, summary, names, argv=None):
    """The command line of a sweep that prints one JSON line per dataset or
    fit: ``--datasets`` (default ``names``) and ``--part K/N`` (every N-th
    dataset from the K-th) choose what ``run(names)`` fits, and ``--summary
    FILE`` prints ``summary(lines)`` of such lines instead."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--datasets", default=None, help="comma-separated names")
    parser.add_argument(
        "--part", default="0/1", help="K/N: every N-th dataset from the K-th"
    )
    parser.add_argument("--summary", type=Path, default=None, metavar="FILE")
    args = parser.parse_args(argv)
    if args.summary is not None:
        print(summary(args.summary.read_text().splitlines()))
        return 0
    chosen = args.datasets.split(",") if args.datasets else list(names)
    part, parts = (int(v) for v in args.part.split("/"))
    run(chosen[part::parts])
    return 0
