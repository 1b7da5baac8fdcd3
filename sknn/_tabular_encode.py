"""A table as it is, turned into the float matrix the tabular networks read.

:class:`TableEncoder` is fitted on the training table and then encodes any
table with the same columns.  The output columns are, left to right:

1. the numeric columns: robust scaling ``(x - median) / IQR`` followed by
   the smooth clipping ``x / sqrt(1 + (x / 3)^2)`` (RealMLP), missing values
   set to 0 (the median);
2. one missing-value flag per numeric column that had missing values in fit;
3. one-hot columns of the categorical columns with few levels (a missing
   value seen in fit is a level of its own; an unknown category is all
   zeros);
4. the integer codes of the categorical columns with many levels, for
   learned embeddings: 0 is the unknown slot, ``1..L`` the levels of fit,
   ``L + 1`` the missing value when fit saw one.

Categorical columns are found as in ``HistGradientBoostingClassifier``:
``categorical_features="from_dtype"`` takes a DataFrame's category, object,
string and bool columns; names, indices or a boolean mask choose them
explicitly; None means every column is numeric.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = ["TableEncoder"]

_CLIP = 3.0
_HUGE = 1e300


def _is_dataframe(X):
    return hasattr(X, "iloc") and hasattr(X, "dtypes") and hasattr(X, "columns")


def _categorical_dtype(dtype):
    """Whether a pandas dtype holds categories (HistGradientBoosting's rule)."""
    import pandas as pd

    return (
        isinstance(dtype, pd.CategoricalDtype)
        or pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
        or pd.api.types.is_bool_dtype(dtype)
    )


def _column(X, j):
    """Column ``j`` of a DataFrame (a Series) or of an array."""
    return X.iloc[:, j] if _is_dataframe(X) else X[:, j]


def _missing(values):
    """Missing entries of a column (NaN, None, pandas' NA)."""
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":
        return np.isnan(values)
    import pandas as pd

    return np.asarray(pd.isna(values), dtype=bool)


def _numeric(values):
    """A column as float64, missing values as NaN."""
    if isinstance(values, np.ndarray):
        return values.astype(np.float64)
    return values.to_numpy(dtype=np.float64, na_value=np.nan)


@dataclass
class _Numeric:
    index: int
    center: float
    scale: float
    has_missing: bool

    @classmethod
    def fit(cls, index, x):
        seen = x[~np.isnan(x)]
        if seen.size == 0:
            return cls(index, 0.0, 1.0, True)
        lo, med, hi = np.quantile(seen, [0.25, 0.5, 0.75])
        scale = hi - lo
        if not scale > 0:  # a constant core: fall back to the range
            scale = (seen.max() - seen.min()) / 2.0
        if not scale > 0:
            scale = 1.0
        return cls(index, float(med), float(scale), bool(np.isnan(x).any()))

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
        missing = _missing(values)
        seen = np.asarray(values, dtype=object)[~missing]
        levels = _sorted_levels(seen)
        has_missing = bool(missing.any())
        n_slots = len(levels) + int(has_missing)
        return cls(index, levels, has_missing, n_slots <= max_onehot)

    def codes(self, values):
        """0 for unknown, ``1..L`` for the levels, ``L + 1`` for missing."""
        missing = _missing(values)
        obj = np.asarray(values, dtype=object)
        lookup = {_key(v): i + 1 for i, v in enumerate(self.levels)}
        codes = np.fromiter(
            (lookup.get(_key(v), 0) for v in obj), dtype=np.intp, count=obj.shape[0]
        )
        codes[missing] = len(self.levels) + 1 if self.has_missing else 0
        return codes


def _key(value):
    """A hashable key equal for equal categories (1 and 1.0 and True differ
    from '1')."""
    if isinstance(value, (np.generic,)):
        value = value.item()
    return (type(value).__name__ if isinstance(value, str) else "n", value)


def _sorted_levels(seen):
    """Distinct values, sorted (as strings when their types do not compare)."""
    distinct = {}
    for v in seen:
        distinct.setdefault(_key(v), v)
    values = list(distinct.values())
    try:
        values.sort()
    except TypeError:
        values.sort(key=str)
    return [v.item() if isinstance(v, np.generic) else v for v in values]


class TableEncoder:
    """Encode a table (DataFrame, array or sparse matrix) for a tabular network.

    Parameters
    ----------
    categorical_features : 'from_dtype', array-like of str, int or bool, or None
        Which columns are categorical (see the module docstring).
    max_onehot : int
        Categorical columns with at most this many levels (missing included)
        are one-hot encoded; the others get integer codes for embeddings.

    Attributes
    ----------
    is_categorical_ : ndarray of bool of shape (n_features,)
    n_numeric_ : int
        Leading numeric output columns.
    cardinalities_ : list of int
        Table size of each code column (unknown slot included).
    n_output_ : int
        Width of the encoded matrix.
    """

    def __init__(self, categorical_features="from_dtype", max_onehot=8):
        self.categorical_features = categorical_features
        self.max_onehot = max_onehot

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
            if not frame:
                return np.zeros(n_features, dtype=bool)
            return np.array([_categorical_dtype(d) for d in X.dtypes], dtype=bool)
        cf = np.asarray(cf)
        if cf.size == 0:
            return np.zeros(n_features, dtype=bool)
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
        for j in cf:
            if not -n_features <= j < n_features:
                raise ValueError(
                    "categorical_features set as integer indices must be in "
                    f"[0, n_features - 1], got {j} for {n_features} features."
                )
            mask[j] = True
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
        X = self._table(X)
        n_features = X.shape[1]
        self.is_categorical_ = self._mask(X, n_features)
        self._numeric, self._categorical = [], []
        for j in range(n_features):
            values = _column(X, j)
            if self.is_categorical_[j]:
                self._categorical.append(_Categorical.fit(j, values, self.max_onehot))
            else:
                self._numeric.append(_Numeric.fit(j, _numeric(values)))
        self._flags = [c for c in self._numeric if c.has_missing]
        self._onehot = [c for c in self._categorical if c.onehot]
        self._coded = [c for c in self._categorical if not c.onehot]
        self.n_numeric_ = len(self._numeric)
        self.cardinalities_ = [c.n_slots + 1 for c in self._coded]
        n_onehot = sum(c.n_slots for c in self._onehot)
        self.n_output_ = (
            self.n_numeric_ + len(self._flags) + n_onehot + len(self._coded)
        )
        return self

    def transform(self, X, dtype=np.float64):
        """The encoded matrix of ``X``, of shape ``(n_samples, n_output_)``."""
        X = self._table(X)
        n = X.shape[0]
        out = np.zeros((n, self.n_output_), dtype=dtype)
        col = 0
        missing = {}
        for c in self._numeric:
            z, miss = c.transform(_numeric(_column(X, c.index)))
            out[:, col] = z
            missing[c.index] = miss
            col += 1
        for c in self._flags:
            out[:, col] = missing[c.index]
            col += 1
        for c in self._onehot:
            codes = c.codes(_column(X, c.index))
            known = codes > 0
            out[np.flatnonzero(known), col + codes[known] - 1] = 1.0
            col += c.n_slots
        for c in self._coded:
            out[:, col] = c.codes(_column(X, c.index))
            col += 1
        return out
