"""Accuracy and fit time on real tables: sknn's tabular MLPs against the rest.

3-fold cross-validation over the datasets of ``tabular_data.py`` (binary: ROC
AUC, multiclass: accuracy, regression: R2), for:

- ``tabular``: ``TabularMLPClassifier`` / ``TabularMLPRegressor`` on the raw
  DataFrame (defaults, or ``--set name=value`` overrides);
- ``tabular_te``: the same behind scikit-learn's ``TargetEncoder``, whose
  cross-fitted target encodings of every categorical column of
  :data:`TE_MIN_LEVELS` levels or more are added beside the columns (a
  measurement of target-aware encodings, not a package feature);
- ``sknn_mlp`` and ``sklearn_mlp``: ``MLPClassifierNN`` / ``MLPRegressorNN``
  and scikit-learn's ``MLPClassifier`` / ``MLPRegressor`` with their defaults,
  behind the usual pipeline (median imputation + standard scaling of numeric
  and bool columns, most-frequent imputation + one-hot encoding of
  categorical ones, standardised regression targets);
- ``hgb``: ``HistGradientBoostingClassifier`` / ``Regressor`` defaults with
  ``categorical_features="from_dtype"`` (a categorical column of more than
  255 levels, which it refuses, as integer codes);
- ``lightgbm`` and ``catboost``: their defaults on the DataFrame as it is
  (their own categorical and missing-value handling), on every core, when
  they are installed (benchmark-only peers, never dependencies);
- ``realmlp``: pytabkit's ``RealMLP_TD_Classifier`` / ``Regressor`` when
  pytabkit is installed (a benchmark-only extra; it needs torch), one thread.

The summary gives each model's mean score and the tabular model's wins, and
the per-table best of the gradient-boosting columns (``hgb``, ``lightgbm``,
``catboost``) with the tabular model's mean and worst gap to it.

``--seed N`` moves every fold's ``random_state`` by ``N`` (the same splits,
other initialisations, dropout masks and validation splits), to repeat a run
on other random streams.

``--grouped`` runs the datasets that name groups of rows (``groups`` in
``tabular_data``: the four résumés sent to one job ad of
``openintro/resume``) with each group kept within one fold, so that a model
is scored on units it never saw, not on the other rows of units it trained on.

``--ablation`` fits the tabular model with each building block switched off
in turn (see :data:`ABLATIONS`) and prints the mean score change over the
datasets.  ``--quick`` is a smoke run (three small datasets, 300 rows, few
epochs).  Run it with OpenBLAS's own kernel selection::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/tabular.py

``--large`` runs the tables of ``tabular_data.LARGE`` (20,000 rows or more,
kept whole) on one 80/20 split: rows, fit seconds and score of the tabular
pair with its defaults ("after") and with the old fixed budget, 40 epochs at
batch 256, all run ("before", left out with ``--skip-before``), of
HistGradientBoosting, and of LightGBM when it is installed (a benchmark-only
peer, never a dependency).  ``--rows-scaling`` fits one wide mixed table
(stevedata/TV16: numeric, categorical and missing values, rows drawn with
replacement up to 10k, 100k and 1M) in a fresh process per fit and prints fit
seconds and the process's peak memory against rows.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path
from statistics import median

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib
import tabular_data

METRICS = {"binary": "roc_auc", "multiclass": "accuracy", "regression": "r2"}
ABLATIONS = {
    "no feature scale": dict(feature_scale=False),
    "no periodic embedding": dict(numerical_embedding=None),
    "no parametric activation": dict(parametric_activation=False),
    "standard parametrization": dict(
        parametrization="standard", learning_rate_init=2e-3
    ),
    "no label smoothing": dict(label_smoothing=0.0),
    "coslog4 schedule at 0.04": dict(learning_rate="coslog4", learning_rate_init=0.04),
    "beta_2=0.999": dict(beta_2=0.999),
    "no dropout": dict(dropout=0.0),
    "constant dropout": dict(dropout_schedule="constant"),
    "no best-epoch selection": dict(select_best=False),
    "one-hot for all categories": dict(max_onehot=10_000),
    "n_ensemble=4 on one network": dict(n_ensemble=4, n_cv=1),
    "no cross-fitting (n_cv=1)": dict(n_cv=1),
    "piecewise embedding": dict(numerical_embedding="piecewise"),
    "no early stop (n_iter_no_change=None)": dict(n_iter_no_change=None),
    "neither (n_cv=1 and n_iter_no_change=None)": dict(n_cv=1, n_iter_no_change=None),
}
"""Each building block switched off (or an alternative), as parameters."""
_CLASSIFIER_ONLY = {"label_smoothing"}
TE_MIN_LEVELS = 9
"""``tabular_te`` target-encodes the categorical columns of this many levels
or more (a missing value counting as a level): those above ``max_onehot=8``,
which the tabular model embeds."""


class TargetEncodings(TransformerMixin, BaseEstimator):
    """Add scikit-learn's ``TargetEncoder`` outputs of the many-level
    categorical columns beside all columns.

    ``fit_transform`` gives the training rows out-of-fold encodings (the
    encoder's own 5-fold cross-fitting, shuffled with seed 0), ``transform``
    the encodings of the whole fit.  Regression targets are encoded as
    continuous, class labels as binary or multiclass (one column per class).
    """

    def __init__(self, task="regression", min_levels=TE_MIN_LEVELS):
        self.task = task
        self.min_levels = min_levels

    def _levels(self, X):
        # as strings, a missing value a level of its own
        return X[self.columns_].astype(object).where(X[self.columns_].notna(), "NA")

    def _join(self, X, Z):
        names = [f"te_{i}" for i in range(Z.shape[1])]
        return pd.concat([X, pd.DataFrame(Z, index=X.index, columns=names)], axis=1)

    def fit(self, X, y):
        self.fit_transform(X, y)
        return self

    def fit_transform(self, X, y):
        from sklearn.model_selection import KFold, StratifiedKFold
        from sklearn.preprocessing import TargetEncoder

        from sknn._tabular_encode import _from_dtype

        # the columns the tabular model itself reads as categorical
        self.columns_ = [
            c
            for c, categorical in zip(X.columns, _from_dtype(X))
            if categorical and X[c].nunique(dropna=False) >= self.min_levels
        ]
        if not self.columns_:
            return X
        regression = self.task == "regression"
        cv = (KFold if regression else StratifiedKFold)(5, shuffle=True, random_state=0)
        self.encoder_ = TargetEncoder(
            target_type="continuous" if regression else "auto", cv=cv
        )
        return self._join(X, self.encoder_.fit_transform(self._levels(X), y))

    def transform(self, X):
        if not self.columns_:
            return X
        return self._join(X, self.encoder_.transform(self._levels(X)))


def _as_float(X):
    """Numeric and bool columns as floats (SimpleImputer refuses bools)."""
    return X.astype(float)


def _pipeline(estimator):
    """Impute, scale and one-hot encode a DataFrame in front of ``estimator``."""
    from sklearn.compose import make_column_selector, make_column_transformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    numeric = make_pipeline(
        FunctionTransformer(_as_float, feature_names_out="one-to-one"),
        SimpleImputer(strategy="median"),
        StandardScaler(),
    )
    categorical = make_pipeline(
        SimpleImputer(strategy="most_frequent"),
        OneHotEncoder(handle_unknown="ignore", sparse_output=False),
    )
    pre = make_column_transformer(
        (numeric, make_column_selector(dtype_include=["number", "bool"])),
        (categorical, make_column_selector(dtype_include="category")),
    )
    return make_pipeline(pre, estimator)


def _wide_categories_as_codes(X):
    """Categorical columns of more than 255 levels as their integer codes
    (missing: NaN): HistGradientBoosting takes at most 255 categories."""
    wide = [
        c for c in X.columns if hasattr(X[c], "cat") and len(X[c].cat.categories) > 255
    ]
    if not wide:
        return X
    codes = {c: X[c].cat.codes.replace(-1, np.nan).astype(float) for c in wide}
    return X.assign(**codes)


def _pipeline_codes(model):
    """``model`` behind :func:`_wide_categories_as_codes`."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    return make_pipeline(FunctionTransformer(_wide_categories_as_codes), model)


def _standardised(regressor):
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.preprocessing import StandardScaler

    return TransformedTargetRegressor(regressor, transformer=StandardScaler())


def _realmlp(task, seed):
    """pytabkit's RealMLP-TD, or None when pytabkit is not installed.

    RealMLP refuses missing numeric values, so they are imputed with the
    median and flagged (its categorical columns pass through as they are).
    """
    try:
        from pytabkit import RealMLP_TD_Classifier, RealMLP_TD_Regressor
    except ImportError:
        return None
    from sklearn.compose import make_column_selector, make_column_transformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline

    cls = RealMLP_TD_Regressor if task == "regression" else RealMLP_TD_Classifier
    impute = make_column_transformer(
        (
            SimpleImputer(strategy="median", add_indicator=True),
            make_column_selector(dtype_include=["number", "bool"]),
        ),
        ("passthrough", make_column_selector(dtype_include="category")),
        verbose_feature_names_out=False,
    ).set_output(transform="pandas")
    model = cls(random_state=seed, n_threads=1, device="cpu", verbosity=0)
    return make_pipeline(impute, model)


class _CatBoost:
    """CatBoost's defaults with the DataFrame's category columns as its
    categorical features (missing categories as their own level)."""

    def __init__(self, task, seed):
        import catboost

        cls = (
            catboost.CatBoostRegressor
            if task == "regression"
            else catboost.CatBoostClassifier
        )
        self.model = cls(
            random_seed=seed, verbose=0, thread_count=-1, allow_writing_files=False
        )

    @staticmethod
    def _frame(X):
        X = X.copy()
        cats = [c for c in X.columns if isinstance(X[c].dtype, pd.CategoricalDtype)]
        for c in cats:  # strings, a missing value as a level of its own
            X[c] = X[c].astype(object).where(X[c].notna(), "missing").map(str)
        return X, cats

    def fit(self, X, y):
        X, cats = self._frame(X)
        self.model.fit(X, y, cat_features=cats)
        return self

    def predict(self, X):
        return np.ravel(self.model.predict(self._frame(X)[0]))

    def predict_proba(self, X):
        return self.model.predict_proba(self._frame(X)[0])


def _catboost(task, seed):
    """CatBoost's default model, or None when CatBoost is not installed."""
    try:
        return _CatBoost(task, seed)
    except ImportError:
        return None


def make_model(name, task, seed, overrides, quick):
    """A fresh estimator for one fold (None: not available here)."""
    from sklearn.ensemble import (
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
    )
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    import sknn

    regression = task == "regression"
    if name == "tabular_te":
        from sklearn.pipeline import make_pipeline

        model = make_model("tabular", task, seed, overrides, quick)
        return make_pipeline(TargetEncodings(task), model)
    if name == "tabular":
        cls = sknn.TabularMLPRegressor if regression else sknn.TabularMLPClassifier
        params = dict(overrides)
        if regression:
            params = {k: v for k, v in params.items() if k not in _CLASSIFIER_ONLY}
        if quick:
            params.setdefault("max_iter", 10)
        return cls(random_state=seed, **params)
    if name in ("sknn_mlp", "sklearn_mlp"):
        if name == "sknn_mlp":
            cls = sknn.MLPRegressorNN if regression else sknn.MLPClassifierNN
        else:
            cls = MLPRegressor if regression else MLPClassifier
        mlp = cls(random_state=seed, max_iter=10 if quick else 200)
        model = _pipeline(mlp)
        return _standardised(model) if regression else model
    if name == "hgb":
        cls = (
            HistGradientBoostingRegressor
            if regression
            else HistGradientBoostingClassifier
        )
        model = cls(categorical_features="from_dtype", random_state=seed)
        return _pipeline_codes(model)
    if name == "realmlp":
        return _realmlp(task, seed)
    if name == "lightgbm":
        return _lightgbm(task, seed)
    if name == "catboost":
        return _catboost(task, seed)
    raise ValueError(f"unknown model {name!r}")


def _score(model, task, X, y):
    from sklearn.metrics import accuracy_score, r2_score, roc_auc_score

    if task == "binary":
        P = model.predict_proba(X)
        return roc_auc_score(y, P[:, 1])
    if task == "multiclass":
        return accuracy_score(y, model.predict(X))
    return r2_score(y, model.predict(X))


def _folds(task, X, y, groups=None):
    """Three shuffled folds, stratified for classification; with ``groups``
    each group's rows fall in one fold."""
    from sklearn.model_selection import (
        GroupKFold,
        KFold,
        StratifiedGroupKFold,
        StratifiedKFold,
    )

    if groups is None:
        kind = KFold if task == "regression" else StratifiedKFold
    else:
        kind = GroupKFold if task == "regression" else StratifiedGroupKFold
    cv = kind(n_splits=3, shuffle=True, random_state=0)
    return list(cv.split(X, y, groups))


def run_dataset(ds, models, overrides, quick, max_rows=None, seed=0, grouped=False):
    """``{model: (mean score, [fit seconds per fold])}`` for one dataset;
    fold ``k``'s models get ``random_state=seed + k``; ``grouped`` keeps the
    rows of each of the dataset's groups within one fold."""
    X, y, groups = ds.load_with_groups()
    if grouped and groups is None:
        raise ValueError(f"{ds.name} names no groups of rows")
    groups = groups if grouped else None
    cap = 300 if quick else max_rows
    if cap is not None and len(X) > cap:  # a fixed subsample
        keep = np.sort(np.random.default_rng(0).permutation(len(X))[:cap])
        X, y = X.iloc[keep], y.iloc[keep]
        groups = None if groups is None else groups[keep]
    out = {}
    folds = _folds(ds.task, X, y, groups)
    for name, params in models:
        if ds.task == "regression" and params and set(params) <= _CLASSIFIER_ONLY:
            continue  # a classifier-only variant
        scores, seconds = [], []
        for k, (tr, te) in enumerate(folds):
            kind = "tabular" if name in ABLATIONS else name
            model = make_model(kind, ds.task, seed + k, {**overrides, **params}, quick)
            if model is None:
                break
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                start = time.perf_counter()
                model.fit(X.iloc[tr], y.iloc[tr])
                seconds.append(time.perf_counter() - start)
                scores.append(_score(model, ds.task, X.iloc[te], y.iloc[te]))
        if scores:
            out[name] = (float(np.mean(scores)), seconds)
    return out


def _parse_value(text):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    if text in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[text]
    if text.startswith("("):
        return tuple(int(v) for v in text.strip("()").split(",") if v.strip())
    return text


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--datasets", default=None, help="comma-separated dataset names (default: all)"
    )
    parser.add_argument(
        "--models",
        default="tabular,sknn_mlp,sklearn_mlp,hgb,lightgbm,catboost,realmlp",
        help="comma-separated models",
    )
    parser.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE",
        help="override a parameter of the tabular model (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--seed", type=int, default=0,
        help="move every fold's random_state by this (other random streams)",
    )  # fmt: skip
    parser.add_argument(
        "--grouped", action="store_true",
        help="the datasets with groups of rows, each group within one fold",
    )  # fmt: skip
    parser.add_argument("--ablation", action="store_true", help="ablation table")
    parser.add_argument(
        "--variants", default=None,
        help="comma-separated ABLATIONS names for --ablation (default: all)",
    )  # fmt: skip
    parser.add_argument(
        "--scaling", default=None, metavar="DATASET",
        help="fit time against rows and n_ensemble on one dataset",
    )  # fmt: skip
    parser.add_argument(
        "--large", action="store_true",
        help="the large tables (20,000 rows or more), one split each",
    )  # fmt: skip
    parser.add_argument(
        "--rows-scaling", action="store_true",
        help="fit time and peak memory against rows (10k, 100k, 1M)",
    )  # fmt: skip
    parser.add_argument(
        "--large-models", default=",".join(LARGE_MODELS),
        help="models of --large and --rows-scaling",
    )  # fmt: skip
    parser.add_argument(
        "--skip-before", action="store_true",
        help="--large without the old-budget fits",
    )  # fmt: skip
    parser.add_argument("--scaling-child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="smoke run")
    parser.add_argument(
        "--max-rows", type=benchlib.positive_int, default=None,
        help="cap every dataset at this many rows (a fixed subsample)",
    )  # fmt: skip
    parser.add_argument("--markdown", type=Path, default=None, metavar="FILE")
    return parser.parse_args(argv)


def _datasets(args):
    names = list(tabular_data.DATASETS)
    if args.grouped:
        names = [n for n in names if tabular_data.DATASETS[n].groups is not None]
    if args.quick and args.datasets is None:
        by_task = {}
        for name in names:
            by_task.setdefault(tabular_data.DATASETS[name].task, name)
        names = list(by_task.values())
    elif args.datasets:
        names = args.datasets.split(",")
    return [tabular_data.DATASETS[n] for n in names]


def _fmt_time(seconds):
    return f"{median(seconds):.2f}"


def comparison_table(results, models):
    """Per-dataset scores and median fold fit times, then the summary."""
    head = ["dataset", "task", *[f"{m}" for m in models], *[f"{m} s" for m in models]]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for ds, res in results:
        cells = [ds.name, METRICS[ds.task]]
        cells += [f"{res[m][0]:.4f}" if m in res else "" for m in models]
        cells += [_fmt_time(res[m][1]) if m in res else "" for m in models]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines += summary(results, models)
    return "\n".join(lines)


def summary(results, models):
    """Mean score, wins of ``tabular`` and median fit-time ratios."""
    out = [
        "| model | mean score | tabular wins | median fold fit s "
        "| tabular / model fit time | total fit s | tabular / model total |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for m in models:
        rows = [res for _, res in results if m in res and "tabular" in res]
        if not rows:
            continue
        mean = np.mean([r[m][0] for r in rows])
        wins = sum(r["tabular"][0] > r[m][0] for r in rows)
        fold = median(s for r in rows for s in r[m][1])
        ratio = median(median(r["tabular"][1]) / median(r[m][1]) for r in rows)
        total = sum(sum(r[m][1]) for r in rows)
        total_ratio = sum(sum(r["tabular"][1]) for r in rows) / total
        win_cell = "" if m == "tabular" else f"{wins}/{len(rows)}"
        out.append(
            f"| {m} | {mean:.4f} | {win_cell} | {fold:.2f} | {ratio:.2f} "
            f"| {total:.1f} | {total_ratio:.2f} |"
        )
    boosters = [m for m in GRADIENT_BOOSTING if m in models]
    rows = [r for _, r in results if "tabular" in r and any(m in r for m in boosters)]
    if rows:
        best = [max(r[m][0] for m in boosters if m in r) for r in rows]
        gaps = [r["tabular"][0] - b for r, b in zip(rows, best)]
        wins = sum(g > 0 for g in gaps)
        out.append(
            f"| best of {'/'.join(boosters)} per table | {np.mean(best):.4f} | "
            f"{wins}/{len(rows)} | | | | |"
        )
        out.append("")
        out.append(
            f"tabular minus the per-table best gradient boosting: mean "
            f"{np.mean(gaps):+.4f}, worst {min(gaps):+.4f}."
        )
    return out


GRADIENT_BOOSTING = ("hgb", "lightgbm", "catboost")
"""The gradient-boosting columns whose per-table best ``summary`` reports."""


def ablation_table(results, base="tabular"):
    """Mean score change of each ablation against the default, over datasets."""
    out = ["| variant | mean change | datasets better | median fit-time ratio |",
           "| --- | ---: | ---: | ---: |"]  # fmt: skip
    for variant in ABLATIONS:
        rows = [res for _, res in results if variant in res and base in res]
        if not rows:
            continue
        deltas = [r[variant][0] - r[base][0] for r in rows]
        better = sum(d > 0 for d in deltas)
        ratio = median(median(r[variant][1]) / median(r[base][1]) for r in rows)
        out.append(
            f"| {variant} | {np.mean(deltas):+.4f} | {better}/{len(rows)} | "
            f"{ratio:.2f} |"
        )
    return "\n".join(out)


SCALING_ROWS = (750, 1500, 3000, 6000)
SCALING_ENSEMBLE = (1, 2, 4, 8)


def scaling_table(name, overrides, repeats=2, quick=False):
    """Fit time of the tabular model against rows and ``n_ensemble``.

    One dataset, fixed subsamples of growing size (``n_ensemble=1``), then
    the ensemble sizes at 3,000 rows; the best of ``repeats`` fits each, with
    HistGradientBoosting's on the same rows for reference.
    """
    ds = tabular_data.DATASETS[name]
    X, y = ds.load()
    order = np.random.default_rng(0).permutation(len(X))
    rows, ensemble, mid = SCALING_ROWS, SCALING_ENSEMBLE, 3000
    if quick:
        rows, ensemble, mid, repeats = (100, 200), (1, 2), 200, 1
    cases = [(n, 1) for n in rows if n <= len(X)]
    cases += [(min(mid, len(X)), k) for k in ensemble if k > 1]
    lines = [
        "| rows | n_ensemble | tabular fit s | hgb fit s | ratio |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for n, k in cases:
        keep = np.sort(order[:n])
        Xn, yn = X.iloc[keep], y.iloc[keep]
        times = {}
        for model_name in ("tabular", "hgb"):
            params = {**overrides, "n_ensemble": k} if model_name == "tabular" else {}
            best = np.inf
            for _ in range(repeats):
                model = make_model(model_name, ds.task, 0, params, quick)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    start = time.perf_counter()
                    model.fit(Xn, yn)
                    best = min(best, time.perf_counter() - start)
            times[model_name] = best
        t, h = times["tabular"], times["hgb"]
        lines.append(f"| {n} | {k} | {t:.2f} | {h:.2f} | {t / h:.1f} |")
        benchlib.log(lines[-1])
    return "\n".join(lines)


def _lightgbm(task, seed):
    """LightGBM's default model, or None when LightGBM is not installed."""
    try:
        import lightgbm
    except ImportError:
        return None
    cls = lightgbm.LGBMRegressor if task == "regression" else lightgbm.LGBMClassifier
    return cls(random_state=seed, verbose=-1)


LARGE_MODELS = ("before", "tabular", "hgb", "lightgbm")
# the defaults before the size rules: 40 epochs at batch 256, all run, of
# the (256, 256) network with dropout and without target means
OLD_BUDGET = dict(
    max_iter=40,
    batch_size=256,
    n_iter_no_change=None,
    hidden_layer_sizes=(256, 256),
    dropout=0.15,
    target_encoding=False,
)


def _large_model(name, task, seed, quick):
    if name == "lightgbm":
        return _lightgbm(task, seed)
    params = {}
    if name == "before":
        name, params = "tabular", dict(OLD_BUDGET)
    if quick and name == "tabular":
        params["max_iter"] = 2
    return make_model(name, task, seed, params, False)


def products_floor(model, n_rows):
    """Seconds of the matrix products alone of ``model``'s fit: the fitted
    tabular network's dense layers over its epochs (``n_iter_``) and batch
    size (``batch_size_``) on the ``n_rows`` rows it trained on, in float32,
    timed by :func:`roofline.gemm_epoch_seconds` (no activations, dropout,
    embeddings, optimizer step or validation)."""
    import roofline

    from sknn._core.layers import Dense

    shapes = [(la.n_in, la.n_out) for la in model._net.layers if isinstance(la, Dense)]
    hidden = [n_out for _, n_out in shapes[:-1]]
    epoch = roofline.gemm_epoch_seconds(
        n_rows, shapes[0][0], shapes[-1][1], hidden, model.batch_size_, np.float32
    )
    return epoch * model.n_iter_


def large_tables(names, models, quick=False):
    """One 80/20 split per table of ``tabular_data.LARGE``: per model, the
    fit seconds and the held-out score; for the tabular model also the
    seconds of its matrix products alone (:func:`products_floor`)."""
    from sklearn.model_selection import train_test_split

    lines = [
        "| table | task | train rows | "
        + " | ".join(f"{m} s | {m} score" for m in models)
        + " | tabular / hgb time | products floor s | floor / hgb time"
        + " | tabular - before score |",
        "| --- | --- | ---: |" + " ---: | ---: |" * len(models) + " ---: |" * 4,
    ]
    for name in names:
        ds = tabular_data.LARGE[name]
        X, y = ds.load()
        if quick:
            X, y = X.iloc[:2000], y.iloc[:2000]
        stratify = None if ds.task == "regression" else y
        Xtr, Xte, ytr, yte = train_test_split(
            X, y, test_size=0.2, random_state=0, stratify=stratify
        )
        res, floor = {}, np.nan
        for model_name in models:
            model = _large_model(model_name, ds.task, 0, quick)
            if model is None:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                start = time.perf_counter()
                model.fit(Xtr, ytr)
                seconds = time.perf_counter() - start
                res[model_name] = (seconds, _score(model, ds.task, Xte, yte))
            if model_name == "tabular":
                n_fit = len(Xtr) - round(len(Xtr) * model.validation_fraction)
                floor = products_floor(model, n_fit)
            benchlib.log(f"{name} {model_name}: {res[model_name][1]:.4f} "
                         f"in {seconds:.1f} s")  # fmt: skip
        cells = [name, METRICS[ds.task], str(len(Xtr))]
        for m in models:
            cells += [f"{res[m][0]:.1f}", f"{res[m][1]:.4f}"] if m in res else ["", ""]
        hgb = res["hgb"][0] if "hgb" in res else np.nan
        ratio, floor_ratio = res["tabular"][0] / hgb, floor / hgb
        # blank without the old budget's fit (--skip-before)
        change = (
            f"{res['tabular'][1] - res['before'][1]:+.4f}" if "before" in res else ""
        )
        cells += [f"{ratio:.1f}", f"{floor:.1f}", f"{floor_ratio:.1f}", change]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


SCALING_TABLE = "stevedata/TV16"
ROWS_SCALING = (10_000, 100_000, 1_000_000)


def _scaled_rows(n, seed=0):
    """``n`` rows of :data:`SCALING_TABLE` drawn with replacement, and the
    held-out rows of a fixed 80/20 split to score on."""
    ds = tabular_data.LARGE[SCALING_TABLE]
    X, y = ds.load()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(X))
    test, train = order[: len(X) // 5], order[len(X) // 5 :]
    rows = rng.choice(train, n, replace=True)
    return (X.iloc[rows], y.iloc[rows]), (X.iloc[test], y.iloc[test]), ds.task


def _scaling_child(model_name, n, quick):
    """One fit, run in a fresh process (``--scaling-child``): prints the
    seconds, score and peak memory before and after the fit (MiB of
    resident memory, ``ru_maxrss``) as one JSON line."""
    import json
    import resource

    (X, y), (Xte, yte), task = _scaled_rows(n)
    extra = {}
    if model_name == "tabular":  # the table encoder alone, fit and transform
        from sknn._tabular_encode import TableEncoder

        start = time.perf_counter()
        TableEncoder().fit(X).transform(X, np.float32)
        extra["encode"] = time.perf_counter() - start
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    model = _large_model(model_name, task, 0, quick)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        model.fit(X, y)
        seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if hasattr(model, "max_iter_"):
        extra.update(epochs=model.max_iter_, batch=model.batch_size_)
    score = _score(model, task, Xte, yte)
    print(json.dumps([seconds, score, before, peak, extra]))


def rows_scaling(models, quick=False):
    """Fit seconds and peak memory against rows on :data:`SCALING_TABLE`,
    each fit in a fresh interpreter running this script."""
    import json
    import subprocess

    sizes = (1000, 4000) if quick else ROWS_SCALING
    lines = [
        "| rows | model | epochs x batch | fit s | encoder s (per column) | score "
        "| peak MiB before fit | peak MiB |",
        "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    n_columns = len(tabular_data.LARGE[SCALING_TABLE].load()[0].columns)
    for n in sizes:
        for model_name in models:
            if model_name == "lightgbm" and _lightgbm("binary", 0) is None:
                continue
            command = [sys.executable, __file__, "--scaling-child",
                       f"{model_name}:{n}:{int(quick)}"]  # fmt: skip
            run = subprocess.run(command, capture_output=True, text=True, check=True)
            seconds, score, before, peak, extra = json.loads(
                run.stdout.strip().splitlines()[-1]
            )
            budget = f"{extra['epochs']} x {extra['batch']}" if extra else ""
            encode = extra.get("encode")
            encode = (
                "" if encode is None else f"{encode:.2f} ({encode / n_columns:.3f})"
            )
            lines.append(
                f"| {n} | {model_name} | {budget} | {seconds:.1f} | {encode} "
                f"| {score:.4f} | {before:.0f} | {peak:.0f} |"
            )
            benchlib.log(lines[-1])
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    if args.scaling_child:  # one fit of rows_scaling, in its own process
        model_name, n, quick = args.scaling_child.split(":")
        benchlib.import_sknn()
        _scaling_child(model_name, int(n), bool(int(quick)))
        return 0
    benchlib.import_sknn()
    import sklearn.ensemble  # noqa: F401  (loads the BLAS the line reports)

    overrides = {}
    for item in args.set:
        key, _, value = item.partition("=")
        overrides[key] = _parse_value(value)
    if args.ablation:
        names = args.variants.split(",") if args.variants else list(ABLATIONS)
        unknown = sorted(set(names) - set(ABLATIONS))
        if unknown:
            raise SystemExit(f"unknown variants {unknown}; known: {list(ABLATIONS)}")
        models = [("tabular", {})] + [(n, ABLATIONS[n]) for n in names]
    else:
        models = [(m, {}) for m in args.models.split(",")]
    cap = f"rows capped at {args.max_rows}" if args.max_rows else "all rows"
    folds = "; folds grouped" if args.grouped else ""
    extra = f"overrides: {overrides or 'none'}; {cap}; seed {args.seed}{folds}"
    env = benchlib.environment_line(extra)
    benchlib.log(env)
    before = benchlib.load_average()
    if args.large or args.rows_scaling:
        models = [m for m in args.large_models.split(",") if m]
        if args.large:
            names = (
                args.datasets.split(",") if args.datasets else list(tabular_data.LARGE)
            )
            if args.skip_before:
                models = [m for m in models if m != "before"]
            table = large_tables(names, models, args.quick)
            title = "Tabular MLP on large tables (one 80/20 split)"
            legend = (
                "before: the old fixed budget (40 epochs at batch 256, all run, "
                "(256, 256) with dropout 0.15, no target means); tabular: the "
                "defaults (every 'auto' size rule, n_iter_no_change=15). Scores: ROC "
                "AUC (binary), R2 (regression); fit times in seconds, one fit each."
            )
        else:
            table = rows_scaling([m for m in models if m != "before"], args.quick)
            title = f"Fit time and peak memory against rows ({SCALING_TABLE})"
            legend = (
                "Rows drawn with replacement from the table's training part, "
                "scored on its held-out 20%; one fit per fresh process; peak "
                "memory is the process's maximum resident set (data included)."
            )
        benchlib.report(
            title, env, before, benchlib.load_average(), table, legend, args.markdown
        )
        return 0
    if args.scaling:
        table = scaling_table(args.scaling, overrides, quick=args.quick)
        benchlib.report(
            f"Tabular MLP fit time against rows and n_ensemble ({args.scaling})",
            env,
            before,
            benchlib.load_average(),
            table,
            "Best of two fits each; ratio = tabular / HistGradientBoosting.",
            args.markdown,
        )
        return 0
    results = []
    for ds in _datasets(args):
        res = run_dataset(
            ds, models, overrides, args.quick, args.max_rows, args.seed, args.grouped
        )
        results.append((ds, res))
        benchlib.log(
            ds.name + ": " + ", ".join(f"{m} {v[0]:.4f}" for m, v in res.items())
        )
    after = benchlib.load_average()
    names = [m for m, _ in models]
    if args.ablation:
        table = ablation_table(results)
        title = "Tabular MLP ablation (3-fold CV)"
    else:
        names = [m for m in names if any(m in res for _, res in results)]
        table = comparison_table(results, names)
        title = (
            "Tabular MLPs against scikit-learn's MLP and gradient boosting (3-fold CV)"
        )
    if args.quick:
        title += " [--quick]"
    benchlib.report(
        title,
        env,
        before,
        after,
        table,
        "Scores: ROC AUC (binary), accuracy (multiclass), R2 (regression); "
        "fit times: median seconds per fold.",
        args.markdown,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
