"""Accuracy and fit time on real tables: sknn's tabular MLPs against the rest.

3-fold cross-validation over the datasets of ``tabular_data.py`` (binary: ROC
AUC, multiclass: accuracy, regression: R2), for:

- ``tabular``: ``TabularMLPClassifier`` / ``TabularMLPRegressor`` on the raw
  DataFrame (defaults, or ``--set name=value`` overrides);
- ``sknn_mlp`` and ``sklearn_mlp``: ``MLPClassifierNN`` / ``MLPRegressorNN``
  and scikit-learn's ``MLPClassifier`` / ``MLPRegressor`` with their defaults,
  behind the usual pipeline (median imputation + standard scaling of numeric
  and bool columns, most-frequent imputation + one-hot encoding of
  categorical ones, standardised regression targets);
- ``hgb``: ``HistGradientBoostingClassifier`` / ``Regressor`` defaults with
  ``categorical_features="from_dtype"``;
- ``realmlp``: pytabkit's ``RealMLP_TD_Classifier`` / ``Regressor`` when
  pytabkit is installed (a benchmark-only extra; it needs torch), one thread.

``--ablation`` fits the tabular model with each building block switched off
in turn (see :data:`ABLATIONS`) and prints the mean score change over the
datasets.  ``--quick`` is a smoke run (three small datasets, 300 rows, few
epochs).  Run it with OpenBLAS's own kernel selection::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/tabular.py
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path
from statistics import median

import numpy as np

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
    "n_ensemble=4": dict(n_ensemble=4),
}
"""Each building block switched off (or an alternative), as parameters."""
_CLASSIFIER_ONLY = {"label_smoothing"}


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


def make_model(name, task, seed, overrides, quick):
    """A fresh estimator for one fold (None: not available here)."""
    from sklearn.ensemble import (
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
    )
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    import sknn

    regression = task == "regression"
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
        return cls(categorical_features="from_dtype", random_state=seed)
    if name == "realmlp":
        return _realmlp(task, seed)
    raise ValueError(f"unknown model {name!r}")


def _score(model, task, X, y):
    from sklearn.metrics import accuracy_score, r2_score, roc_auc_score

    if task == "binary":
        P = model.predict_proba(X)
        return roc_auc_score(y, P[:, 1])
    if task == "multiclass":
        return accuracy_score(y, model.predict(X))
    return r2_score(y, model.predict(X))


def _folds(task, X, y):
    from sklearn.model_selection import KFold, StratifiedKFold

    cv = KFold if task == "regression" else StratifiedKFold
    return list(cv(n_splits=3, shuffle=True, random_state=0).split(X, y))


def run_dataset(ds, models, overrides, quick, max_rows=None):
    """``{model: (mean score, [fit seconds per fold])}`` for one dataset."""
    X, y = ds.load()
    cap = 300 if quick else max_rows
    if cap is not None and len(X) > cap:  # a fixed subsample
        keep = np.sort(np.random.default_rng(0).permutation(len(X))[:cap])
        X, y = X.iloc[keep], y.iloc[keep]
    out = {}
    folds = _folds(ds.task, X, y)
    for name, params in models:
        if ds.task == "regression" and params and set(params) <= _CLASSIFIER_ONLY:
            continue  # a classifier-only variant
        scores, seconds = [], []
        for seed, (tr, te) in enumerate(folds):
            kind = "tabular" if name in ABLATIONS else name
            model = make_model(kind, ds.task, seed, {**overrides, **params}, quick)
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
        default="tabular,sknn_mlp,sklearn_mlp,hgb,realmlp",
        help="comma-separated models",
    )
    parser.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE",
        help="override a parameter of the tabular model (repeatable)",
    )  # fmt: skip
    parser.add_argument("--ablation", action="store_true", help="ablation table")
    parser.add_argument(
        "--scaling", default=None, metavar="DATASET",
        help="fit time against rows and n_ensemble on one dataset",
    )  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="smoke run")
    parser.add_argument(
        "--max-rows", type=benchlib.positive_int, default=None,
        help="cap every dataset at this many rows (a fixed subsample)",
    )  # fmt: skip
    parser.add_argument("--markdown", type=Path, default=None, metavar="FILE")
    return parser.parse_args(argv)


def _datasets(args):
    names = list(tabular_data.DATASETS)
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
        "| tabular / model fit time |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for m in models:
        rows = [res for _, res in results if m in res and "tabular" in res]
        if not rows:
            continue
        mean = np.mean([r[m][0] for r in rows])
        wins = sum(r["tabular"][0] > r[m][0] for r in rows)
        fold = median(s for r in rows for s in r[m][1])
        ratio = median(median(r["tabular"][1]) / median(r[m][1]) for r in rows)
        win_cell = "" if m == "tabular" else f"{wins}/{len(rows)}"
        out.append(f"| {m} | {mean:.4f} | {win_cell} | {fold:.2f} | {ratio:.2f} |")
    return out


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


def main(argv=None):
    args = parse_args(argv)
    benchlib.import_sknn()
    import sklearn.ensemble  # noqa: F401  (loads the BLAS the line reports)

    overrides = {}
    for item in args.set:
        key, _, value = item.partition("=")
        overrides[key] = _parse_value(value)
    if args.ablation:
        models = [("tabular", {})] + list(ABLATIONS.items())
    else:
        models = [(m, {}) for m in args.models.split(",")]
    cap = f"rows capped at {args.max_rows}" if args.max_rows else "all rows"
    extra = f"overrides: {overrides or 'none'}; {cap}"
    env = benchlib.environment_line(extra)
    benchlib.log(env)
    before = benchlib.load_average()
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
        res = run_dataset(ds, models, overrides, args.quick, args.max_rows)
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
