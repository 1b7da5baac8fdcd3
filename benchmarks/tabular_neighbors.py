"""Soft nearest neighbours under a learned metric, beside the tabular model.

The measurements behind the tabular pair's ``neighbors='auto'`` (issue 23):
``sknn._core.neighbors`` learns a diagonal metric by neighbourhood
components analysis (the leave-one-out loss of a softmax-weighted neighbour
average) and averages the training targets of each row's neighbours under it.
On ``openintro/resume`` such an average recalls the job ad behind a résumé
from the 13 columns describing it, which the network does not (docs/tabular.md,
"Why resume stays behind").

For every dataset of ``tabular_data.py`` and each fold of ``tabular.py``'s
3-fold cross-validation (fold ``k``'s models get ``random_state=k``), the
script prints one JSON line with the test scores of:

- ``base``: the tabular model with its defaults but ``neighbors=False``
  (the network alone; every variant blends or stacks against it);
- ``knn``: the neighbour average alone (metric learned on the training rows,
  every training row a candidate);
- ``stacked``: the tabular model with the training rows' leave-one-out
  neighbour averages (the test rows': over all training rows) added as
  numeric columns (one per class after the first, or one per regression
  target);
- ``blend_loss``: ``(1 - a) * model + a * neighbours`` (probabilities, or
  standardised predictions), ``a`` on a grid of 0.05 chosen by the log loss
  (squared error) on a held-out fifth of the training rows, with the model
  and the metric refitted on the other four fifths for that choice;
- ``blend_temperature``: the same after a temperature scaling of the model's
  probabilities chosen on that fifth (classification; as ``blend_loss`` for
  regression);
- ``blend_metric``: ``a`` chosen by the benchmark's own score on that fifth;
- ``blend_gated``: ``blend_loss`` where the neighbour average alone has a
  lower loss on that fifth than the model, the model alone elsewhere;
- ``blend_temperature_gated``: ``blend_temperature`` where the neighbour
  average alone has a lower loss on that fifth than the temperature-scaled
  model, the model alone elsewhere;
- ``oof_temperature`` and ``oof_temperature_gated``: as the two above, with
  the temperature, ``a`` and the gate chosen on out-of-fold outputs of every
  training row instead of one fifth: 5 folds of the training rows, each
  fold's network fitted on the other four with the fold as its validation
  rows (``n_cv=1`` with ``X_val``/``y_val``, what a cross-fitted member of
  ``n_cv=5`` does), and each fold's metric on the other four;
- ``oof_significant``: ``oof_temperature`` where the blend lowers the
  out-of-fold loss by more than two standard errors of the rows' paired
  loss differences, the temperature-scaled model alone elsewhere;
- ``oof_metric``: ``a`` chosen by the benchmark's own score out of fold.
- ``shared_oof``: what an estimator can do after one fit of its own: one
  metric on every training row (the one ``knn`` uses), its leave-one-out
  averages of the training rows as the neighbours' out-of-fold outputs, and
  the networks' out-of-fold outputs above; temperature and ``a`` by loss;
- ``shared_held``: the same with the network's outputs on the held-out
  fifth (a network with one validation split) and those rows'
  leave-one-out averages;
- ``shared_oof_significant`` and ``shared_held_significant``: the two above
  where the blend lowers the loss on the rows it was chosen on by more than
  two standard errors of the paired differences, the model alone elsewhere.

``--queries N`` sets the query rows of each metric's fit (default 1,000).

``--cost`` measures instead what ``neighbors='auto'`` costs the estimator as
the rows grow: on the full stevedata/TV16 (44,932 rows), fixed subsamples of
2,000, 5,000 and 10,000 rows (the largest that 'auto' blends), the fit time
with ``neighbors=False`` and ``'auto'`` (best of two fits each) and the time
to predict 10,000 other rows, printed as a markdown table.

The distance columns are each numeric column (robust-scaled, clipped to
[-5, 5], median for missing values, plus a missing flag where it had any) and
a one-hot column for each of a categorical column's 64 most frequent levels,
all standardised.  ``--summary FILE`` reads the lines back and prints the
per-table means and each variant's mean change, with ``by_size``: the
out-of-fold choice on fits that ``n_cv='auto'`` cross-fits (2,000 rows or
fewer), the one held-out fifth above.  Run it as::

    for k in 0 1; do env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
        OPENBLAS_NUM_THREADS=1 python benchmarks/tabular_neighbors.py \\
        --part $k/2 > /tmp/nb$k.jsonl & done; wait
    cat /tmp/nb0.jsonl /tmp/nb1.jsonl > /tmp/nb.jsonl
    python benchmarks/tabular_neighbors.py --summary /tmp/nb.jsonl
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402
import tabular  # noqa: E402
import tabular_data  # noqa: E402

benchlib.import_sknn()
# the estimators' grids and temperature scaling, measured here as they run
from sknn._core.neighbors import BLEND_WEIGHTS as GRID  # noqa: E402
from sknn._core.neighbors import TEMPERATURES  # noqa: E402
from sknn._core.neighbors import temper as _tempered  # noqa: E402

VARIANTS = (
    "base",
    "knn",
    "stacked",
    "blend_loss",
    "blend_temperature",
    "blend_metric",
    "blend_gated",
    "blend_temperature_gated",
    "oof_temperature",
    "oof_temperature_gated",
    "oof_significant",
    "oof_metric",
    "shared_oof",
    "shared_oof_significant",
    "shared_held",
    "shared_held_significant",
)
N_QUERIES = 1000
"""Query rows of each metric's fit (``--queries``)."""
TOP_LEVELS = 64
CLIP = 5.0


def distance_columns(X_train, X_test):
    """The standardised distance columns of the module docstring, fitted on
    ``X_train``: ``(train, test)`` float arrays."""
    train, test = [], []
    for name in X_train.columns:
        a, b = X_train[name], X_test[name]
        if (
            isinstance(a.dtype, pd.CategoricalDtype)
            or not pd.api.types.is_numeric_dtype(a.dtype)
            or pd.api.types.is_bool_dtype(a.dtype)
        ):
            a, b = a.astype(str), b.astype(str)
            for level in a.value_counts().index[:TOP_LEVELS]:
                train.append((a == level).to_numpy(float))
                test.append((b == level).to_numpy(float))
            continue
        u, v = a.to_numpy(float), b.to_numpy(float)
        seen = u[~np.isnan(u)]
        lo, med, hi = np.quantile(seen, [0.25, 0.5, 0.75]) if seen.size else (0, 0, 1)
        scale = (hi - lo) or (seen.std() if seen.size else 0.0) or 1.0
        if np.isnan(u).any():
            train.append(np.isnan(u).astype(float))
            test.append(np.isnan(v).astype(float))
        train.append(np.clip((np.nan_to_num(u, nan=med) - med) / scale, -CLIP, CLIP))
        test.append(np.clip((np.nan_to_num(v, nan=med) - med) / scale, -CLIP, CLIP))
    A, B = np.column_stack(train), np.column_stack(test)
    sd = A.std(axis=0)
    sd[sd == 0] = 1.0
    return A / sd, B / sd


class _Task:
    """Targets, model outputs, losses and scores of one dataset's task."""

    def __init__(self, task, y):
        from sklearn.preprocessing import LabelEncoder

        self.task = task
        self.classif = task != "regression"
        if self.classif:
            encoder = LabelEncoder().fit(y)
            self.classes, self.y = encoder.classes_, encoder.transform(y)
        else:
            self.y = y.to_numpy(float)

    def standardise(self, rows):
        self.mu, self.sd = (0.0, 1.0)
        if not self.classif:
            self.mu, self.sd = self.y[rows].mean(), self.y[rows].std() or 1.0

    def targets(self, rows):
        if self.classif:
            return np.eye(self.y.max() + 1)[self.y[rows]]
        return ((self.y[rows] - self.mu) / self.sd)[:, None]

    def outputs(self, model, X):
        if self.classif:  # columns of every class (a fit may miss some)
            P = np.zeros((len(X), len(self.classes)))
            P[:, np.searchsorted(self.classes, model.classes_)] = model.predict_proba(X)
            return P
        return ((model.predict(X) - self.mu) / self.sd)[:, None]

    def row_losses(self, P, rows):
        if self.classif:
            p = P[np.arange(len(rows)), self.y[rows]]
            return -np.log(np.clip(p, 1e-12, None))
        return (P[:, 0] - (self.y[rows] - self.mu) / self.sd) ** 2

    def loss(self, P, rows):
        return np.mean(self.row_losses(P, rows))

    def score(self, P, rows):
        from sklearn.metrics import accuracy_score, r2_score, roc_auc_score

        if self.task == "binary":
            return roc_auc_score(self.y[rows], P[:, 1])
        if self.task == "multiclass":
            return accuracy_score(self.y[rows], P.argmax(axis=1))
        return r2_score(self.y[rows], P[:, 0] * self.sd + self.mu)


class _TaskRows:
    """``t``'s losses on rows numbered within ``train`` (0 .. len - 1)."""

    def __init__(self, t, train):
        self.t, self.train, self.classif = t, train, t.classif

    def loss(self, P, rows):
        return self.t.loss(P, self.train[rows])

    def row_losses(self, P, rows):
        return self.t.row_losses(P, self.train[rows])

    def score(self, P, rows):
        return self.t.score(P, self.train[rows])


def _neighbours(t, X, train, test, seed, leave_one_out=False):
    """Neighbour averages of the ``test`` rows (and, with ``leave_one_out``,
    of the ``train`` rows) under a metric learned on ``train``."""
    from sknn._core.neighbors import fit_metric, neighbor_average

    A, B = distance_columns(X.iloc[train], X.iloc[test])
    Y = t.targets(train)
    kind = "labels" if t.classif else "values"
    w = fit_metric(A, Y, kind, np.random.default_rng(seed), n_queries=N_QUERIES)
    out = neighbor_average(A, Y, w, B)
    if not leave_one_out:
        return out
    return out, neighbor_average(A, Y, w, A, exclude=np.arange(len(train)))


def _fit(task, seed, X, y, overrides=None, **fit_params):
    """The tabular model without its own neighbour blend (``base`` is the
    network alone, as every blend here is measured against it)."""
    overrides = {"neighbors": False, **(overrides or {})}
    model = tabular.make_model("tabular", task, seed, overrides, False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(X, y, **fit_params)


def _out_of_fold(t, ds, X, y, k, train):
    """Network and neighbour outputs of every training row from a network
    and a metric that did not see it (the module docstring's 5 folds)."""
    from sklearn.model_selection import KFold, StratifiedKFold

    kind = StratifiedKFold if t.classif else KFold
    N = K = None
    for inner, held in kind(5, shuffle=True, random_state=k).split(train, t.y[train]):
        fit_rows, held_rows = train[inner], train[held]
        model = _fit(
            ds.task, k, X.iloc[fit_rows], y.iloc[fit_rows], {"n_cv": 1},
            X_val=X.iloc[held_rows], y_val=y.iloc[held_rows],
        )  # fmt: skip
        n_out = t.outputs(model, X.iloc[held_rows])
        k_out = _neighbours(t, X, fit_rows, held_rows, k)
        if N is None:
            N, K = (np.empty((len(train), n_out.shape[1])) for _ in "NK")
        N[held], K[held] = n_out, k_out
    return N, K


def _blend_weights(t, N, K, rows):
    """``a`` by loss, ``(a, T)`` by loss after temperature, ``a`` by score."""
    by_loss = GRID[np.argmin([t.loss((1 - a) * N + a * K, rows) for a in GRID])]
    temp = 1.0
    if t.classif:
        temp = TEMPERATURES[
            np.argmin([t.loss(_tempered(N, T), rows) for T in TEMPERATURES])
        ]
    M = _tempered(N, temp) if t.classif else N
    by_temp = GRID[np.argmin([t.loss((1 - a) * M + a * K, rows) for a in GRID])]
    by_score = GRID[np.argmax([t.score((1 - a) * N + a * K, rows) for a in GRID])]
    return float(by_loss), (float(by_temp), float(temp)), float(by_score)


def _significant(t, M, K, a, rows):
    """``a`` where ``(1 - a) * M + a * K`` lowers the loss on ``rows`` by more
    than two standard errors of the rows' paired differences, else 0."""
    gain = t.row_losses(M, rows) - t.row_losses((1 - a) * M + a * K, rows)
    return a if gain.mean() > 2.0 * gain.std() / np.sqrt(len(gain)) else 0.0


def fold_scores(ds, X, y, k, train, test):
    """One fold's scores of every variant (and the blends' choices)."""
    t = _Task(ds.task, y)
    t.standardise(train)
    start = time.perf_counter()
    # the blend's choice: model and metric on four fifths, scored on a fifth
    order = np.random.default_rng(k).permutation(train)
    held, inner = order[: len(train) // 5], order[len(train) // 5 :]
    N = N_held = t.outputs(_fit(ds.task, k, X.iloc[inner], y.iloc[inner]), X.iloc[held])
    K = _neighbours(t, X, inner, held, k)
    a_loss, (a_temp, temp), a_score = _blend_weights(t, N, K, held)
    held_loss = {"model": float(t.loss(N, held)), "knn": float(t.loss(K, held))}
    a_gated = a_loss if held_loss["knn"] < held_loss["model"] else 0.0
    held_loss["tempered"] = float(t.loss(_tempered(N, temp) if t.classif else N, held))
    a_tgated = a_temp if held_loss["knn"] < held_loss["tempered"] else 0.0
    N_oof, K_oof = _out_of_fold(t, ds, X, y, k, train)
    rows = np.arange(len(train))
    t_rows = _TaskRows(t, train)
    _, (a_oof, temp_oof), a_oof_score = _blend_weights(t_rows, N_oof, K_oof, rows)
    M_oof = _tempered(N_oof, temp_oof) if t.classif else N_oof
    open_gate = t_rows.loss(K_oof, rows) < t_rows.loss(M_oof, rows)
    a_oof_gated = a_oof if open_gate else 0.0
    a_oof_sig = _significant(t_rows, M_oof, K_oof, a_oof, rows)
    metric_start = time.perf_counter()
    K, loo = _neighbours(t, X, train, test, k, leave_one_out=True)
    metric_seconds = time.perf_counter() - metric_start
    # the estimators' recipe: that one metric's leave-one-out averages
    _, (a_sh, T_sh), _ = _blend_weights(t_rows, N_oof, loo, rows)
    M_sh = _tempered(N_oof, T_sh) if t.classif else N_oof
    a_sh_sig = _significant(t_rows, M_sh, loo, a_sh, rows)
    held_pos = np.searchsorted(train, held)  # ``train`` is sorted
    _, (a_hd, T_hd), _ = _blend_weights(t, N_held, loo[held_pos], held)
    M_hd = _tempered(N_held, T_hd) if t.classif else N_held
    a_hd_sig = _significant(t, M_hd, loo[held_pos], a_hd, held)
    model = _fit(ds.task, k, X.iloc[train], y.iloc[train])
    N = t.outputs(model, X.iloc[test])
    M = _tempered(N, temp) if t.classif else N
    M_oof_test = _tempered(N, temp_oof) if t.classif else N
    # stacked: the neighbour averages as columns
    keep = slice(1, None) if t.classif else slice(None)
    X_train, X_test = X.iloc[train].copy(), X.iloc[test].copy()
    for j, (a, b) in enumerate(zip(loo[:, keep].T, K[:, keep].T)):
        X_train[f"_neighbours{j}"], X_test[f"_neighbours{j}"] = a, b
    S = t.outputs(_fit(ds.task, k, X_train, y.iloc[train]), X_test)
    scores = {
        "base": t.score(N, test),
        "knn": t.score(K, test),
        "stacked": t.score(S, test),
        "blend_loss": t.score((1 - a_loss) * N + a_loss * K, test),
        "blend_temperature": t.score((1 - a_temp) * M + a_temp * K, test),
        "blend_metric": t.score((1 - a_score) * N + a_score * K, test),
        "blend_gated": t.score((1 - a_gated) * N + a_gated * K, test),
        "blend_temperature_gated": t.score((1 - a_tgated) * M + a_tgated * K, test),
        "oof_temperature": t.score((1 - a_oof) * M_oof_test + a_oof * K, test),
        "oof_temperature_gated": t.score(
            (1 - a_oof_gated) * M_oof_test + a_oof_gated * K, test
        ),
        "oof_significant": t.score((1 - a_oof_sig) * M_oof_test + a_oof_sig * K, test),
        "oof_metric": t.score((1 - a_oof_score) * N + a_oof_score * K, test),
    }
    for name, a, T in (
        ("shared_oof", a_sh, T_sh),
        ("shared_oof_significant", a_sh_sig, T_sh),
        ("shared_held", a_hd, T_hd),
        ("shared_held_significant", a_hd_sig, T_hd),
    ):
        M = _tempered(N, T) if t.classif else N
        scores[name] = t.score((1 - a) * M + a * K, test)
    return {
        "name": ds.name,
        "fold": k,
        "rows": len(train),
        "seconds": time.perf_counter() - start,
        "scores": scores,
        "a": {
            "loss": a_loss,
            "temperature": a_temp,
            "T": temp,
            "score": a_score,
            "oof": a_oof,
            "T_oof": float(temp_oof),
            "oof_gate": bool(open_gate),
            "shared_oof": a_sh,
            "T_shared_oof": float(T_sh),
            "shared_held": a_hd,
            "T_shared_held": float(T_hd),
        },  # fmt: skip
        "metric_seconds": metric_seconds,
        "held_out_loss": held_loss,
    }


def run(names):
    """Every fold of ``names``; one JSON line each."""
    for name in names:
        ds = tabular_data.DATASETS[name]
        X, y = ds.load()
        for k, (train, test) in enumerate(tabular._folds(ds.task, X, y)):
            print(json.dumps(fold_scores(ds, X, y, k, train, test)), flush=True)


def _by_size(fit):
    """The score of the blend that fits the tabular pair's own validation:
    out-of-fold outputs where ``n_cv='auto'`` cross-fits (their members'
    folds), the one held-out split elsewhere."""
    from sknn._tabular_base import cross_fit_members

    bagged = cross_fit_members(fit["rows"]) > 1
    return fit["scores"]["oof_temperature" if bagged else "blend_temperature"]


def _by_size_shared(fit, significant=False):
    """:func:`_by_size` for the one-metric recipe (``shared_*``)."""
    from sknn._tabular_base import cross_fit_members

    name = "shared_oof" if cross_fit_members(fit["rows"]) > 1 else "shared_held"
    return fit["scores"][name + ("_significant" if significant else "")]


def summary(lines):
    """Per-table means of every variant (and of ``by_size``, see
    :func:`_by_size`) and each variant's mean change."""
    fits = [json.loads(line) for line in lines if line.strip()]
    for fit in fits:
        fit["scores"]["by_size"] = _by_size(fit)
    # the variants every line has (lines of an older run may lack some)
    present = [v for v in VARIANTS if all(v in f["scores"] for f in fits)]
    variants = (*present, "by_size")
    if "shared_oof" in present:
        for fit in fits:
            fit["scores"]["by_size_shared"] = _by_size_shared(fit)
            fit["scores"]["by_size_shared_significant"] = _by_size_shared(fit, True)
        variants += ("by_size_shared", "by_size_shared_significant")
    by_table = {}
    for fit in fits:
        by_table.setdefault(fit["name"], []).append(fit)
    rows, changes = [], {v: [] for v in variants[1:]}
    for name, folds in by_table.items():
        mean = {v: float(np.mean([f["scores"][v] for f in folds])) for v in variants}
        for v in variants[1:]:
            changes[v].append(mean[v] - mean["base"])
        a = np.mean([f["a"]["oof"] for f in folds])
        cells = [f"{mean[v]:.4f}" for v in variants]
        rows.append([name, str(len(folds)), *cells, f"{a:.2f}"])
    table = benchlib.markdown(["table", "folds", *variants, "mean a (oof)"], rows)
    lines = [table, ""]
    for v in variants[1:]:
        c = np.array(changes[v])
        lines.append(
            f"{v}: mean change {c.mean():+.4f} over {len(c)} tables; "
            f"below base by more than 0.005 on {int((c < -0.005).sum())}, "
            f"worst {c.min():+.4f}, best {c.max():+.4f}"
        )
    return "\n".join(lines)


COST_ROWS = (2000, 5000, 10000)
COST_TEST_ROWS = 10000


def cost_table(rows=COST_ROWS, test_rows=COST_TEST_ROWS, repeats=2):
    """The ``--cost`` table: fit and predict times with and without the
    estimators' neighbour blend against the rows of the fit."""
    name = "stevedata/TV16"
    X, y = tabular_data.LARGE[name].load()
    order = np.random.default_rng(0).permutation(len(X))
    test = order[-test_rows:]
    lines = [
        f"{name}, fixed subsamples; predict: {len(test):,} other rows",
        "",
        "| rows | fit s, neighbors=False | fit s, 'auto' | fit ratio "
        "| predict s, False | predict s, 'auto' | neighbour weight |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for n in rows:
        fit_rows = order[:n]
        fit, predict, weight = {}, {}, None
        for neighbors in (False, "auto"):
            fit[neighbors] = np.inf
            for _ in range(repeats):
                start = time.perf_counter()
                model = _fit("binary", 0, X.iloc[fit_rows], y.iloc[fit_rows],
                             {"neighbors": neighbors})  # fmt: skip
                fit[neighbors] = min(fit[neighbors], time.perf_counter() - start)
            start = time.perf_counter()
            model.predict_proba(X.iloc[test])
            predict[neighbors] = time.perf_counter() - start
            weight = model.neighbor_weight_
        lines.append(
            f"| {n:,} | {fit[False]:.2f} | {fit['auto']:.2f} | "
            f"{fit['auto'] / fit[False]:.2f} | {predict[False]:.2f} | "
            f"{predict['auto']:.2f} | {weight if weight is None else f'{weight:.2f}'} |"
        )
    return "\n".join(lines)


def main(argv=None):
    global N_QUERIES
    import argparse

    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--queries", type=benchlib.positive_int, default=N_QUERIES)
    parser.add_argument("--cost", action="store_true")
    known, rest = parser.parse_known_args(argv)
    N_QUERIES = known.queries
    if known.cost:
        benchlib.import_sknn()
        print(benchlib.environment_line())
        print(cost_table())
        return 0
    return benchlib.sweep_main(__doc__, run, summary, tabular_data.DATASETS, rest)


if __name__ == "__main__":
    sys.exit(main())
