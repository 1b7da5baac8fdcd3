"""A table as it is, turned into the float matrix the tabular networks read.

:class:`TableEncoder` is fitted on the training table and then encodes any
table with the same columns.  The output columns are, left to right:

1. the numeric columns: robust scaling ``(x - median) / IQR`` followed by
   the smooth clipping ``x / sqrt(1 + (x / 3)^2)`` (RealMLP), missing values
   set to 0 (the median); then, when the encoder is fitted with targets, the
   target means of the embedded categorical columns (item 4), one per column
   and target column, scaled the same way (see :func:`_target_means`);
2. one missing-value flag per numeric column that had missing values in fit;
3. one-hot columns of the categorical columns with few levels (a missing
   value seen in fit is a level of its own; an unknown category is all
   zeros);
4. the integer codes of the categorical columns with many levels, for
   learned embeddings: 0 is the unknown slot, ``1..L`` the levels of fit,
   ``L + 1`` the missing value when fit saw one.

Categorical columns are found as in ``HistGradientBoostingClassifier``:
``categorical_features="from_dtype"`` takes a pandas DataFrame's category,
object, string and bool columns and a polars DataFrame's Categorical, Enum,
String, Boolean, Object and all-null columns (on arrays it finds none, as
HistGradientBoosting does); names, indices or a boolean mask choose them
explicitly; None means every column is numeric.

The table may be a pandas or polars DataFrame, a NumPy array (an object array
keeps its categorical columns as they are: strings, numbers, ``None`` or NaN
for missing values), or a sparse matrix.  Every column is read once, as a
whole: a category column through its codes, a numeric one through a sort
(``np.unique``), any other through one C-level pass of a ``dict`` over its
values; nothing loops over the rows in Python.  Categories compare as Python
values do: ``1``, ``1.0`` and ``True`` are one category, ``'1'`` another.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = ["TableEncoder"]

_CLIP = 3.0
_HUGE = 1e300
_NUMERIC_KINDS = "biuf"


# ------------------------------------------------------------------ tables
def _is_pandas(X):
    return hasattr(X, "iloc") and hasattr(X, "dtypes") and hasattr(X, "columns")


def _is_polars(X):
    """Whether ``X`` is a polars DataFrame (without importing polars)."""
    pl = sys.modules.get("polars")
    return pl is not None and isinstance(X, pl.DataFrame)


def _is_dataframe(X):
    """Whether ``X`` is a pandas or polars DataFrame."""
    return _is_pandas(X) or _is_polars(X)


def _categorical_dtype(dtype):
    """Whether a pandas dtype holds categories (category, object, string,
    bool)."""
    import pandas as pd

    return (
        isinstance(dtype, pd.CategoricalDtype)
        or pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
        or pd.api.types.is_bool_dtype(dtype)
    )


def _polars_categorical_dtype(dtype):
    """Whether a polars dtype holds categories: the counterparts of pandas's
    category, string, bool and object dtypes (an all-null column, polars's
    Null, is an object column in pandas)."""
    pl = sys.modules["polars"]
    kinds = (pl.Categorical, pl.Enum, pl.String, pl.Boolean, pl.Object, pl.Null)
    return dtype.base_type() in kinds


def _from_dtype(X):
    """The categorical mask of a DataFrame's columns by their dtypes."""
    if _is_polars(X):
        return np.array([_polars_categorical_dtype(d) for d in X.dtypes], dtype=bool)
    return np.array([_categorical_dtype(d) for d in X.dtypes], dtype=bool)


def _column(X, j):
    """Column ``j`` as the table holds it: a pandas or polars Series, or a
    column of an array."""
    if _is_pandas(X):
        return X.iloc[:, j]
    if _is_polars(X):
        return X.to_series(j)
    return X[:, j]


def _is_polars_series(values):
    pl = sys.modules.get("polars")
    return pl is not None and isinstance(values, pl.Series)


def _object_missing(values):
    """Missing entries of an object array: None, NaN (and pandas's NA, NaT
    when pandas is in use)."""
    if "pandas" in sys.modules:
        return np.asarray(sys.modules["pandas"].isna(values), dtype=bool)
    return np.asarray((values == None) | (values != values), dtype=bool)  # noqa: E711


def _numeric(values):
    """A column as float64, missing values as NaN.

    A string that is no number raises NumPy's ``could not convert string to
    float`` error, the one scikit-learn's ``check_array`` passes on.
    """
    if _is_polars_series(values):
        if values.dtype.is_numeric() or values.dtype == sys.modules["polars"].Boolean:
            return values.cast(sys.modules["polars"].Float64).to_numpy()
        values = values.to_numpy()  # nulls as None
    elif not isinstance(values, np.ndarray):  # a pandas Series
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    if values.dtype.kind == "O":
        missing = _object_missing(values)
        if missing.any():
            values = values.copy()
            values[missing] = np.nan
    return values.astype(np.float64)


def _lookup(table, keys):
    """``table.get(key, 0)`` of every entry of the object array ``keys`` as
    intp, in one C-level pass."""
    if keys.size == 0:
        return np.zeros(0, dtype=np.intp)
    return np.frompyfunc(table.get, 2, 1)(keys, 0).astype(np.intp)


# ------------------------------------------------------------------ categories
# A categorical column is read as a whole, in one of three ways; each says
# where it is missing, which distinct values occur, and the code of every row
# under a table ``{level: code}``.  Categories compare as Python values do.


class _Factorized:
    """Distinct values and, per row, the index of its value (-1: missing):
    pandas category codes, a pandas string column's ``factorize``, a numeric
    array's ``np.unique``."""

    def __init__(self, uniques, inverse):
        # fromiter: one object per value, even when the values are tuples
        self.uniques = np.fromiter(uniques, dtype=object, count=len(uniques))
        self.inverse = np.asarray(inverse, dtype=np.intp)
        self.missing = self.inverse < 0

    @classmethod
    def numeric(cls, values, missing):
        inverse = np.full(values.shape[0], -1, dtype=np.intp)
        present = ~missing
        uniques, inverse[present] = np.unique(values[present], return_inverse=True)
        return cls(uniques.tolist(), inverse)

    def distinct(self):
        present = np.bincount(self.inverse[~self.missing], minlength=len(self.uniques))
        return list(self.uniques[present > 0])

    def codes(self, table, missing_code):
        per_value = np.append(_lookup(table, self.uniques), missing_code)
        return per_value.astype(np.intp)[self.inverse]  # -1 takes the last


class _Objects:
    """An object array: distinct values through a ``dict``, the codes through
    one ``dict.get`` per row (both C-level loops)."""

    def __init__(self, values):
        self.values = np.asarray(values).astype(object, copy=False)
        self.missing = _object_missing(self.values)

    def distinct(self):
        return list(dict.fromkeys(self.values[~self.missing]))

    def codes(self, table, missing_code):
        codes = _lookup(table, self.values)
        codes[self.missing] = missing_code
        return codes


class _PolarsStrings:
    """A polars String, Categorical or Enum column, read by polars itself."""

    def __init__(self, series):
        pl = sys.modules["polars"]
        self.series = series.cast(pl.String)
        self.missing = self.series.is_null().to_numpy()

    def distinct(self):
        return self.series.drop_nulls().unique().to_list()

    def codes(self, table, missing_code):
        pl = sys.modules["polars"]
        strings = {k: v for k, v in table.items() if isinstance(k, str)}
        if strings:
            codes = self.series.replace_strict(
                list(strings), list(strings.values()), default=0, return_dtype=pl.Int64
            )
        else:
            codes = pl.Series(np.zeros(len(self.series), dtype=np.int64))
        codes = codes.to_numpy().astype(np.intp)
        codes[self.missing] = missing_code
        return codes


def _category_column(values):
    """The reading of a categorical column (see above) that fits its type."""
    if _is_polars_series(values):
        pl = sys.modules["polars"]
        if values.dtype.base_type() in (pl.String, pl.Categorical, pl.Enum):
            return _PolarsStrings(values)
        values = values.to_numpy()  # numbers (nulls as NaN), or None in objects
    elif not isinstance(values, np.ndarray):  # a pandas Series
        import pandas as pd

        if isinstance(values.dtype, pd.CategoricalDtype):
            return _Factorized(values.cat.categories.to_numpy(), values.cat.codes)
        if isinstance(values.dtype, pd.StringDtype):  # strings only
            inverse, uniques = values.factorize()
            return _Factorized(uniques, inverse)
        if isinstance(values.dtype, np.dtype) and values.dtype.kind in _NUMERIC_KINDS:
            values = values.to_numpy()
        else:  # object, nullable and other extension dtypes
            values = values.to_numpy(dtype=object, na_value=None)
    if values.dtype.kind in _NUMERIC_KINDS:
        missing = (
            np.isnan(values)
            if values.dtype.kind == "f"
            else np.zeros(values.shape[0], dtype=bool)
        )
        return _Factorized.numeric(values, missing)
    return _Objects(values)


# ------------------------------------------------------------------ columns
@dataclass
class _Numeric:
    index: int
    center: float
    scale: float
    has_missing: bool

    edges: np.ndarray | None = None

    @classmethod
    def fit(cls, index, x, n_bins=None):
        seen = x[~np.isnan(x)]
        if seen.size == 0:
            column = cls(index, 0.0, 1.0, True)
        else:
            lo, med, hi = np.quantile(seen, [0.25, 0.5, 0.75])
            scale = hi - lo
            if not scale > 0:  # a constant core: fall back to the range
                scale = (seen.max() - seen.min()) / 2.0
            if not scale > 0:
                scale = 1.0
            column = cls(index, float(med), float(scale), bool(np.isnan(x).any()))
        if n_bins is not None:
            column.edges = column._quantile_edges(seen, n_bins)
        return column

    def _quantile_edges(self, seen, n_bins):
        """Distinct quantiles of the encoded finite values at ``n_bins + 1``
        equally spaced levels (fewer when values repeat): the bin edges of a
        piecewise-linear embedding."""
        finite = seen[np.isfinite(seen)]
        if finite.size == 0:
            return np.zeros(0)
        z, _ = self.transform(finite.astype(np.float64, copy=True))
        return np.unique(np.quantile(z, np.linspace(0.0, 1.0, n_bins + 1)))

    def transform(self, x):
        if np.isinf(x).any():
            raise ValueError(
                "Input X contains infinity or a value too large for dtype('float64')."
            )
        z = (x - self.center) / self.scale
        np.clip(z, -_HUGE, _HUGE, out=z)  # a finite x whose z overflowed
        z /= np.hypot(1.0, z / _CLIP)  # sqrt(1 + (z / 3)^2) without overflow
        missing = np.isnan(z)
        z[missing] = 0.0
        return z, missing


@dataclass
class _Categorical:
    index: int
    levels: list  # sorted distinct values seen in fit (missing excluded)
    has_missing: bool
    onehot: bool

    @property
    def n_slots(self):
        """Levels, plus the missing value when fit saw one."""
        return len(self.levels) + int(self.has_missing)

    @classmethod
    def fit(cls, index, values, max_onehot):
        column = _category_column(values)
        levels = _sorted_levels(column.distinct())
        has_missing = bool(column.missing.any())
        n_slots = len(levels) + int(has_missing)
        return cls(index, levels, has_missing, n_slots <= max_onehot)

    def codes(self, values):
        """0 for unknown, ``1..L`` for the levels, ``L + 1`` for missing."""
        table = {v: i + 1 for i, v in enumerate(self.levels)}
        missing_code = len(self.levels) + 1 if self.has_missing else 0
        return _category_column(values).codes(table, missing_code)


_TARGET_FOLDS = 5


def _target_means(codes, T, n_codes):
    """Each code's mean of the targets ``T`` (rows by target columns), shrunk
    toward the mean of all rows: ``(sum + m * prior) / (count + m)``.

    ``m`` is the empirical-Bayes ratio of the noise within a level to the
    spread of the levels' true means, ``s2_within / (s2_total - s2_within)``
    per target column, with ``s2_within`` the pooled variance around the
    levels' means (``n - levels`` degrees of freedom); levels seen once are
    thus pulled most of the way to the prior when the levels differ little,
    and codes without rows get the prior.  Returns ``(n_codes, k)`` floats.
    """
    n, k = T.shape
    if n == 0:
        return np.zeros((n_codes, k))
    prior = T.mean(axis=0)
    counts = np.bincount(codes, minlength=n_codes).astype(np.float64)
    seen = counts > 0
    sums = np.empty((n_codes, k))
    for j in range(k):
        sums[:, j] = np.bincount(codes, weights=T[:, j], minlength=n_codes)
    centred = T - prior
    total = np.einsum("ij,ij->j", centred, centred)
    # the pooled squares within levels: total minus the levels' part
    level = sums[seen] - counts[seen, None] * prior
    within = np.maximum(total - (level * level / counts[seen, None]).sum(axis=0), 0.0)
    dof = n - int(seen.sum())
    s2_within = within / dof if dof > 0 else total / max(n, 1)
    s2_between = total / n - s2_within
    # no spread between the levels (or a constant target): the prior alone
    floor = 1e-12 * np.maximum(total / n, np.finfo(np.float64).tiny)
    m = np.where(s2_between > floor, s2_within / np.maximum(s2_between, floor), np.inf)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = (sums + m * prior) / (counts[:, None] + m)
    means[:, ~np.isfinite(m)] = prior[~np.isfinite(m)]
    means[~seen] = prior
    return means


def _out_of_fold_means(codes, T, n_codes, rng):
    """Per row, the shrunk target mean of its code learned without the rows
    of its own fold (``_TARGET_FOLDS`` shuffled folds; with fewer than two
    rows, the row's own): ``(n, k)``."""
    n = codes.shape[0]
    n_folds = min(_TARGET_FOLDS, n)
    if n_folds < 2:
        return _target_means(codes, T, n_codes)[codes]
    fold = np.empty(n, dtype=np.intp)
    fold[rng.permutation(n)] = np.arange(n) % n_folds
    out = np.empty(T.shape)
    for f in range(n_folds):
        inside = fold == f
        rest = ~inside
        out[inside] = _target_means(codes[rest], T[rest], n_codes)[codes[inside]]
    return out


@dataclass
class _TargetMean:
    """One target column's shrunk means by code of one embedded categorical
    column (``table[code]``), output as a numeric column with its own robust
    scaling (fitted on the training rows' out-of-fold means)."""

    source: _Categorical
    target: int
    table: np.ndarray
    scaling: _Numeric


def _sorted_levels(distinct):
    """Distinct values (equal ones merged), sorted (as strings when their
    types do not compare), as Python scalars."""
    values = [v.item() if isinstance(v, np.generic) else v for v in distinct]
    values = list(dict.fromkeys(values))
    try:
        values.sort()
    except TypeError:
        values.sort(key=str)
    return values


class TableEncoder:
    """Encode a table (pandas or polars DataFrame, array or sparse matrix) for a
    tabular network.

    Parameters
    ----------
    categorical_features : 'from_dtype', array-like of str, int or bool, or None
        Which columns are categorical (see the module docstring).
    max_onehot : int
        Categorical columns with at most this many levels (missing included)
        are one-hot encoded; the others get integer codes for embeddings.
    n_bins : int or None, default=None
        Bins of the quantile edges fitted for each numeric column (None: no
        edges).

    Attributes
    ----------
    is_categorical_ : ndarray of bool of shape (n_features,)
    n_numeric_ : int
        Leading numeric output columns (target means included).
    n_target_means_ : int
        Of those, the target means (0 unless :meth:`fit_transform` was given
        targets).
    cardinalities_ : list of int
        Table size of each code column (unknown slot included).
    n_output_ : int
        Width of the encoded matrix.
    bin_edges_ : list of ndarray or None
        With ``n_bins``: per numeric output column, its distinct quantiles at
        ``n_bins + 1`` equally spaced levels, in encoded units (increasing;
        empty for a column without finite values).
    """

    def __init__(self, categorical_features="from_dtype", max_onehot=8, n_bins=None):
        self.categorical_features = categorical_features
        self.max_onehot = max_onehot
        self.n_bins = n_bins

    def _mask(self, X, n_features):
        cf = self.categorical_features
        frame = _is_dataframe(X)
        if cf is None:
            return np.zeros(n_features, dtype=bool)
        if isinstance(cf, str):
            if cf != "from_dtype":
                raise ValueError(
                    "categorical_features must be 'from_dtype', None or an "
                    f"array-like of names, indices or booleans; got {cf!r}."
                )
            if not frame:  # as HistGradientBoosting: arrays have no dtypes
                return np.zeros(n_features, dtype=bool)
            return _from_dtype(X)
        cf = np.asarray(cf)
        if cf.size == 0:
            return np.zeros(n_features, dtype=bool)
        if cf.dtype.kind == "O":
            types = {type(v) for v in cf.ravel()}
            if types != {str}:
                raise ValueError(
                    "categorical_features must be an array-like of bool, int or "
                    f"str, got: {', '.join(sorted(t.__name__ for t in types))}."
                )
        if cf.dtype.kind == "b":
            if cf.shape != (n_features,):
                raise ValueError(
                    "categorical_features set as a boolean mask must have shape "
                    f"(n_features,), got: {cf.shape}"
                )
            return cf.astype(bool)
        mask = np.zeros(n_features, dtype=bool)
        if cf.dtype.kind in "OUS":
            if not frame:
                raise ValueError(
                    "categorical_features should be passed as an array of "
                    "integers or as a boolean mask when the model is fitted on "
                    "data without feature names."
                )
            names = [str(c) for c in X.columns]
            for name in cf:
                if str(name) not in names:
                    raise ValueError(
                        f"categorical_features has an item value '{name}' which "
                        "is not a valid feature name of the training data. "
                        f"Observed feature names: {names}"
                    )
                mask[names.index(str(name))] = True
            return mask
        if cf.dtype.kind not in "iu":
            raise ValueError(
                "categorical_features must be an array-like of bool, int or str, "
                f"got: {cf.dtype.name}."
            )
        cf = cf.ravel()
        if cf.min() < 0 or cf.max() >= n_features:  # as HistGradientBoosting
            bad = cf[(cf < 0) | (cf >= n_features)][0]
            raise ValueError(
                "categorical_features set as integer indices must be in "
                f"[0, n_features - 1], got {bad} for {n_features} features."
            )
        mask[cf] = True
        return mask

    @staticmethod
    def _table(X):
        if sp.issparse(X):
            return X.toarray()
        if _is_dataframe(X):
            return X
        return np.asarray(X)

    def fit(self, X):
        """Learn the columns' kinds, scalings and levels from ``X``."""
        return self._fit(self._table(X))

    def fit_transform(self, X, targets=None, rng=None, dtype=np.float64):
        """Fit on ``X`` and encode it.

        With ``targets`` (an ``(n_samples, k)`` float array, for instance the
        network's encoded targets), each embedded categorical column also
        gets ``k`` numeric columns: its levels' shrunk target means
        (:func:`_target_means`).  The rows of ``X`` get out-of-fold means
        (folds drawn with ``rng``, a NumPy ``Generator``), so that no row sees
        its own target; :meth:`transform` then uses the means of all rows.
        """
        X = self._table(X)
        self._fit(X)
        if targets is None or not self._coded:
            return self.transform(X, dtype)
        T = np.asarray(targets, dtype=np.float64)
        codes = {c.index: c.codes(_column(X, c.index)) for c in self._coded}
        self._target_means = []
        out_of_fold = []
        for c in self._coded:
            n_codes = c.n_slots + 1
            tables = _target_means(codes[c.index], T, n_codes)
            values = _out_of_fold_means(codes[c.index], T, n_codes, rng)
            for j in range(T.shape[1]):
                scaling = _Numeric.fit(c.index, values[:, j], self.n_bins)
                self._target_means.append(_TargetMean(c, j, tables[:, j], scaling))
                out_of_fold.append(values[:, j])
        self._columns_fitted()
        return self._transform(X, dtype, codes, out_of_fold)

    def _fit(self, X):
        n_features = X.shape[1]
        self.is_categorical_ = self._mask(X, n_features)
        self._numeric, self._categorical = [], []
        for j in range(n_features):
            values = _column(X, j)
            if self.is_categorical_[j]:
                self._categorical.append(_Categorical.fit(j, values, self.max_onehot))
            else:
                self._numeric.append(_Numeric.fit(j, _numeric(values), self.n_bins))
        self._flags = [c for c in self._numeric if c.has_missing]
        self._onehot = [c for c in self._categorical if c.onehot]
        self._coded = [c for c in self._categorical if not c.onehot]
        self._target_means = []
        self._columns_fitted()
        return self

    def _columns_fitted(self):
        """The output layout's attributes, from the fitted columns."""
        self.n_target_means_ = len(self._target_means)
        self.n_numeric_ = len(self._numeric) + self.n_target_means_
        self.bin_edges_ = None
        if self.n_bins is not None:
            self.bin_edges_ = [c.edges for c in self._numeric]
            self.bin_edges_ += [t.scaling.edges for t in self._target_means]
        self.cardinalities_ = [c.n_slots + 1 for c in self._coded]
        n_onehot = sum(c.n_slots for c in self._onehot)
        self.n_output_ = (
            self.n_numeric_ + len(self._flags) + n_onehot + len(self._coded)
        )

    def transform(self, X, dtype=np.float64):
        """The encoded matrix of ``X``, of shape ``(n_samples, n_output_)``."""
        X = self._table(X)
        codes = {c.index: c.codes(_column(X, c.index)) for c in self._coded}
        # an encoder pickled before the target means existed has none
        target_means = getattr(self, "_target_means", [])
        means = [t.table[codes[t.source.index]] for t in target_means]
        return self._transform(X, dtype, codes, means)

    def _transform(self, X, dtype, codes, means):
        """Encode ``X`` with the coded columns' ``codes`` (by column index)
        and the raw target means (one array per target mean)."""
        n = X.shape[0]
        out = np.zeros((n, self.n_output_), dtype=dtype)
        col = 0
        missing = {}
        for c in self._numeric:
            z, miss = c.transform(_numeric(_column(X, c.index)))
            out[:, col] = z
            missing[c.index] = miss
            col += 1
        for t, values in zip(getattr(self, "_target_means", []), means):
            out[:, col] = t.scaling.transform(np.array(values, dtype=np.float64))[0]
            col += 1
        for c in self._flags:
            out[:, col] = missing[c.index]
            col += 1
        for c in self._onehot:
            slot = c.codes(_column(X, c.index))
            known = slot > 0
            out[np.flatnonzero(known), col + slot[known] - 1] = 1.0
            col += c.n_slots
        for c in self._coded:
            out[:, col] = codes[c.index]
            col += 1
        return out
