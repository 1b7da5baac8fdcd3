"""The tabular pair's inputs as HistGradientBoosting takes them: NumPy object
arrays with ``categorical_features``, and polars DataFrames encoded exactly as
the equivalent pandas DataFrame."""

import sys
import warnings

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from sknn import TabularMLPClassifier, TabularMLPRegressor
from sknn._tabular_encode import TableEncoder, _object_missing

SMALL = dict(hidden_layer_sizes=(8,), max_iter=3, random_state=0)


def _pandas():
    return pytest.importorskip("pandas")


def _polars():
    return pytest.importorskip("polars")


# ------------------------------------------------------------------ object arrays
def _object_table(n=60, seed=0):
    """Numbers (None and NaN missing), strings (None and NaN missing), and a
    many-level string column."""
    rng = np.random.default_rng(seed)
    X = np.empty((n, 4), dtype=object)
    X[:, 0] = rng.normal(size=n)
    X[:, 1] = rng.choice(["a", "b", "c"], size=n)
    X[:, 2] = rng.integers(0, 5, size=n).astype(float)
    X[:, 3] = rng.choice([f"id{i}" for i in range(12)], size=n)
    X[1, 0], X[2, 0] = None, np.nan
    X[3, 1], X[4, 1] = None, np.nan
    X[5, 3] = None
    y = (X[:, 2].astype(float) + (X[:, 1] == "a") > 2).astype(int)
    return X, y


MASK = [False, True, False, True]


@pytest.mark.parametrize("spec", [[1, 3], MASK], ids=["index", "mask"])
def test_object_arrays_keep_their_categorical_columns(spec):
    X, y = _object_table()
    hgb = HistGradientBoostingClassifier(categorical_features=spec, max_iter=2)
    clf = TabularMLPClassifier(categorical_features=spec, **SMALL).fit(X, y)
    np.testing.assert_array_equal(clf.is_categorical_, hgb.fit(X, y).is_categorical_)
    assert clf.n_features_in_ == 4
    assert not hasattr(clf, "feature_names_in_")
    proba = clf.predict_proba(X)
    assert proba.shape == (len(y), 2) and np.isfinite(proba).all()


def test_object_arrays_encode_as_the_equivalent_dataframe():
    pd = _pandas()
    X, _ = _object_table()
    frame = pd.DataFrame(
        {
            "x": X[:, 0].astype(float),
            "s": pd.Series(X[:, 1], dtype=object),
            "k": X[:, 2].astype(float),
            "id": pd.Series(X[:, 3], dtype=object),
        }
    )
    enc_array = TableEncoder([1, 3], max_onehot=4).fit(X)
    enc_frame = TableEncoder(["s", "id"], max_onehot=4).fit(frame)
    assert enc_array.cardinalities_ == enc_frame.cardinalities_ == [1 + 12 + 1]
    np.testing.assert_array_equal(enc_array.transform(X), enc_frame.transform(frame))


def test_none_and_nan_are_one_missing_value():
    X = np.array(
        [[1.0, "a"], [None, "b"], [np.nan, None], [4.0, np.nan], [5.0, "a"]],
        dtype=object,
    )
    enc = TableEncoder([1]).fit(X)
    # numeric, its missing flag, then one-hot a, b and the missing value
    Z = enc.transform(X)
    np.testing.assert_array_equal(Z[:, 1], [0, 1, 1, 0, 0])
    np.testing.assert_array_equal(
        Z[:, 2:], [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1], [1, 0, 0]]
    )


def test_missing_values_without_pandas(monkeypatch):
    values = np.array(["a", None, np.nan, 1.5, float("nan"), "b"], dtype=object)
    expected = [False, True, True, False, True, False]
    np.testing.assert_array_equal(_object_missing(values), expected)
    monkeypatch.delitem(sys.modules, "pandas", raising=False)
    np.testing.assert_array_equal(_object_missing(values), expected)


def test_categories_compare_as_python_values():
    X = np.array([[1], [1.0], [True], ["1"], [2], [None]], dtype=object)
    enc = TableEncoder([0]).fit(X)
    assert enc._categorical[0].levels in ([1, 2, "1"], [1, "1", 2])
    codes = enc._categorical[0].codes(X[:, 0])
    assert codes[0] == codes[1] == codes[2] != codes[3]
    assert codes[5] == len(enc._categorical[0].levels) + 1  # missing


def test_unseen_categories_in_object_arrays_are_no_error():
    X, y = _object_table()
    clf = TabularMLPClassifier(categorical_features=[1, 3], **SMALL).fit(X, y)
    new = np.array([[0.5, "zzz", 1.0, None], [None, None, 2.0, "id99"]], dtype=object)
    assert np.isfinite(clf.predict_proba(new)).all()


@pytest.mark.parametrize(
    "estimator",
    [
        HistGradientBoostingClassifier(max_iter=2),
        TabularMLPClassifier(**SMALL),
    ],
    ids=["hgb", "sknn"],
)
@pytest.mark.parametrize("spec", ["from_dtype", None])
def test_from_dtype_finds_no_categories_in_arrays(estimator, spec):
    # as HistGradientBoosting: an array has no dtypes per column, so its string
    # columns are numeric columns holding strings
    X, y = _object_table()
    with pytest.raises(ValueError, match="could not convert string to float: '"):
        estimator.set_params(categorical_features=spec).fit(X, y)


def test_from_dtype_on_numeric_object_arrays_is_the_float_encoding():
    X, y = _object_table()
    numeric = X[:, [0, 2]]
    as_float = numeric.astype(float)
    enc = TableEncoder().fit(numeric)
    assert not enc.is_categorical_.any()
    np.testing.assert_array_equal(
        enc.transform(numeric), TableEncoder().fit(as_float).transform(as_float)
    )
    a = TabularMLPRegressor(**SMALL).fit(numeric, y)
    b = TabularMLPRegressor(**SMALL).fit(as_float, y)
    np.testing.assert_array_equal(a.predict(numeric), b.predict(as_float))


@pytest.mark.parametrize(
    "estimator",
    [
        HistGradientBoostingClassifier(max_iter=2),
        TabularMLPClassifier(**SMALL),
    ],
    ids=["hgb", "sknn"],
)
def test_names_on_arrays_are_an_error(estimator):
    X, y = _object_table()
    with pytest.raises(ValueError, match="fitted on data without feature names"):
        estimator.set_params(categorical_features=["s"]).fit(X, y)


@pytest.mark.parametrize(
    "estimator",
    [
        HistGradientBoostingClassifier(max_iter=2),
        TabularMLPClassifier(**SMALL),
    ],
    ids=["hgb", "sknn"],
)
def test_categorical_features_of_mixed_types_are_an_error(estimator):
    X, y = _object_table()
    spec = np.array([1, "s"], dtype=object)
    with pytest.raises(ValueError, match="bool, int or str, got: int, str"):
        estimator.set_params(categorical_features=spec).fit(X, y)


@pytest.mark.parametrize(
    "estimator",
    [
        HistGradientBoostingClassifier(max_iter=2),
        TabularMLPClassifier(**SMALL),
    ],
    ids=["hgb", "sknn"],
)
@pytest.mark.parametrize("spec", [[-1], [4]])
def test_indices_out_of_range_are_an_error(estimator, spec):
    X, y = _object_table()
    with pytest.raises(ValueError, match=r"must be in \[0, n_features - 1\]"):
        estimator.set_params(categorical_features=spec).fit(X, y)


def test_a_string_in_a_numeric_column_is_an_error_in_fit_and_predict():
    X, y = _object_table()
    bad = X.copy()
    bad[7, 0] = "oops"
    with pytest.raises(ValueError, match="could not convert string to float: 'oops'"):
        TabularMLPClassifier(categorical_features=[1, 3], **SMALL).fit(bad, y)
    clf = TabularMLPClassifier(categorical_features=[1, 3], **SMALL).fit(X, y)
    with pytest.raises(ValueError, match="could not convert string to float: 'oops'"):
        clf.predict(bad)


def test_infinity_in_an_object_array_is_an_error():
    X, y = _object_table()
    X[0, 2] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        TabularMLPClassifier(categorical_features=[1, 3], **SMALL).fit(X, y)


def test_object_arrays_are_checked_for_their_feature_count():
    X, y = _object_table()
    clf = TabularMLPClassifier(categorical_features=[1, 3], **SMALL).fit(X, y)
    with pytest.raises(ValueError, match="has 3 features, but"):
        clf.predict(X[:, :3])


def test_string_arrays_and_lists():
    X, y = _object_table()
    text = X.astype(str)  # numeric strings; None and NaN become words
    text[:, 0] = X[:, 0].astype(float).astype(str)
    clf = TabularMLPClassifier(categorical_features=[1, 3], **SMALL).fit(text, y)
    assert np.isfinite(clf.predict_proba(text)).all()
    rows = [[0.5, "a"], [1.5, "b"], [None, "a"], [2.5, None]] * 5
    target = [0, 1, 0, 1] * 5
    clf = TabularMLPClassifier(categorical_features=[1], **SMALL).fit(rows, target)
    np.testing.assert_array_equal(clf.is_categorical_, [False, True])
    assert clf.predict(rows[:4]).shape == (4,)


# ------------------------------------------------------------------ polars
def _columns(n=80, seed=0):
    """Plain Python columns of every kind, with missing values as None (and a
    NaN in the float column)."""
    rng = np.random.default_rng(seed)

    def holes(values, rate=0.15):
        return [None if r < rate else v for v, r in zip(values, rng.random(n))]

    x = holes(rng.normal(size=n).tolist())
    x[0] = float("nan")
    return {
        "x": x,
        "i": holes(rng.integers(0, 50, size=n).tolist()),
        "s": holes(rng.choice([f"s{k}" for k in range(12)], size=n).tolist()),
        "c": holes(rng.choice(["red", "green", "blue"], size=n).tolist()),
        "e": holes(rng.choice(["lo", "mid", "hi"], size=n).tolist()),
        "b": holes((rng.random(n) < 0.5).tolist()),
        "f": (rng.random(n) < 0.3).tolist(),
        "z": rng.uniform(size=n).tolist(),
    }


def _polars_frame(columns):
    pl = _polars()
    return pl.DataFrame(
        {
            "x": pl.Series(columns["x"], dtype=pl.Float64, nan_to_null=False),
            "i": pl.Series(columns["i"], dtype=pl.Int64),
            "s": pl.Series(columns["s"], dtype=pl.String),
            "c": pl.Series(columns["c"], dtype=pl.Categorical),
            "e": pl.Series(columns["e"], dtype=pl.Enum(["lo", "mid", "hi"])),
            "b": pl.Series(columns["b"], dtype=pl.Boolean),
            "f": pl.Series(columns["f"], dtype=pl.Boolean),
            "z": pl.Series(columns["z"], dtype=pl.Float32),
        }
    )


def _pandas_frame(columns, nullable):
    """The pandas DataFrame of the same data: NumPy dtypes (NaN, object
    columns with None) or pandas's nullable dtypes."""
    pd = _pandas()
    if nullable:
        kinds = dict(x="Float64", i="Int64", s="string", b="boolean", f="boolean")
    else:
        kinds = dict(x="float64", i="float64", s=object, b=object, f=bool)
    frame = pd.DataFrame(
        {name: pd.Series(columns[name], dtype=kinds[name]) for name in ("x", "i", "s")}
    )
    if nullable:  # Float64 keeps NaN apart from NA; a NaN is missing in polars
        frame["x"] = frame["x"].fillna(pd.NA)
    frame["c"] = pd.Categorical(columns["c"])
    frame["e"] = pd.Categorical(columns["e"], categories=["lo", "mid", "hi"])
    frame["b"] = pd.Series(columns["b"], dtype=kinds["b"])
    frame["f"] = pd.Series(columns["f"], dtype=kinds["f"])
    frame["z"] = np.asarray(columns["z"], dtype=np.float32)
    return frame


PANDAS_KINDS = ["numpy_dtypes", "nullable_dtypes", "to_pandas"]


def _pandas_of(kind, columns, polars_frame):
    if kind == "to_pandas":
        _pandas()
        return polars_frame.to_pandas()
    return _pandas_frame(columns, nullable=kind == "nullable_dtypes")


@pytest.mark.parametrize("kind", PANDAS_KINDS)
@pytest.mark.parametrize("max_onehot", [8, 0])
def test_polars_encodes_as_the_equivalent_pandas_frame(kind, max_onehot):
    columns = _columns()
    P = _polars_frame(columns)
    D = _pandas_of(kind, columns, P)
    enc_pl = TableEncoder(max_onehot=max_onehot).fit(P)
    enc_pd = TableEncoder(max_onehot=max_onehot).fit(D)
    expected = [False, False, True, True, True, True, True, False]
    np.testing.assert_array_equal(enc_pl.is_categorical_, expected)
    np.testing.assert_array_equal(enc_pd.is_categorical_, expected)
    assert enc_pl.cardinalities_ == enc_pd.cardinalities_
    Z = enc_pl.transform(P)
    np.testing.assert_array_equal(Z, enc_pd.transform(D))
    # each encoder reads the other library's frame alike
    np.testing.assert_array_equal(enc_pl.transform(D), Z)
    np.testing.assert_array_equal(enc_pd.transform(P), Z)
    # nulls in numeric columns: flags; the float column's NaN too
    assert Z[0, enc_pl.n_numeric_] == 1.0
    # and the target means of the embedded columns
    T = np.linspace(-1.0, 2.0, Z.shape[0])[:, None] ** 2
    with_pl = TableEncoder(max_onehot=max_onehot)
    Zp = with_pl.fit_transform(P, T, np.random.default_rng(0))
    Zd = TableEncoder(max_onehot=max_onehot).fit_transform(
        D, T, np.random.default_rng(0)
    )
    assert with_pl.n_target_means_ == len(with_pl.cardinalities_)
    np.testing.assert_array_equal(Zp, Zd)
    np.testing.assert_array_equal(with_pl.transform(D), with_pl.transform(P))


@pytest.mark.parametrize("kind", PANDAS_KINDS)
@pytest.mark.parametrize("Estimator", [TabularMLPClassifier, TabularMLPRegressor])
def test_polars_fits_as_the_equivalent_pandas_frame(kind, Estimator):
    columns = _columns()
    P = _polars_frame(columns)
    D = _pandas_of(kind, columns, P)
    y = np.asarray(columns["z"]) > 0.5
    if Estimator is TabularMLPRegressor:
        y = np.asarray(columns["z"]) * 3.0
    a = Estimator(**SMALL).fit(P, y)
    b = Estimator(**SMALL).fit(D, y)
    np.testing.assert_array_equal(a.feature_names_in_, P.columns)
    np.testing.assert_array_equal(a.feature_names_in_, b.feature_names_in_)
    np.testing.assert_array_equal(a.predict(P), b.predict(D))
    np.testing.assert_array_equal(a.loss_curve_, b.loss_curve_)


def test_polars_categorical_features_by_name_index_or_mask():
    columns = _columns()
    P = _polars_frame(columns)
    n_levels = len({v for v in columns["i"] if v is not None})
    mask = [False, True, True, True, True, True, True, False]  # "i" too
    Z = TableEncoder(max_onehot=0).fit(P).transform(P)
    for spec in (["i", "s", "c", "e", "b", "f"], [1, 2, 3, 4, 5, 6], mask):
        enc = TableEncoder(spec, max_onehot=0).fit(P)
        np.testing.assert_array_equal(enc.is_categorical_, mask)
        # "i" moves from the numeric columns to the code columns
        assert enc.n_numeric_ == 2 and enc.cardinalities_[0] == 1 + n_levels + 1
        np.testing.assert_array_equal(enc.transform(P)[:, -5:], Z[:, -5:])
    with pytest.raises(ValueError, match="not a valid feature name"):
        TableEncoder(["nope"]).fit(P)


def test_a_polars_string_column_taken_as_numeric_is_an_error():
    P = _polars_frame(_columns())
    y = np.arange(P.height) % 2
    with pytest.raises(ValueError, match="could not convert string to float"):
        TabularMLPClassifier(categorical_features=None, **SMALL).fit(P, y)


def test_unseen_polars_categories_and_new_nulls_are_no_error():
    pl = _polars()
    columns = _columns()
    P = _polars_frame(columns)
    clf = TabularMLPClassifier(**SMALL).fit(P, np.asarray(columns["z"]) > 0.5)
    new = P.head(3).with_columns(
        pl.Series("s", ["never", None, "s1"], dtype=pl.String),
        pl.Series("f", [None, True, False], dtype=pl.Boolean),
        pl.Series("z", [None, 0.5, 0.1], dtype=pl.Float32),
    )
    assert np.isfinite(clf.predict_proba(new)).all()


# --------------------------------------------- feature names across libraries
def _fitted_on(X, y):
    clf = TabularMLPClassifier(**SMALL).fit(X, y)
    if _polars_is(X) and not hasattr(clf, "feature_names_in_"):
        pytest.skip("this scikit-learn reads no polars column names")
    return clf


def _polars_is(X):
    return type(X).__module__.split(".")[0] == "polars"


@pytest.mark.parametrize("fit_on", ["polars", "pandas"])
def test_polars_and_pandas_frames_predict_for_each_other(fit_on):
    columns = _columns()
    P = _polars_frame(columns)
    D = _pandas_of("numpy_dtypes", columns, P)
    y = np.asarray(columns["z"]) > 0.5
    clf = _fitted_on(P if fit_on == "polars" else D, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # same names: no feature-name warning
        np.testing.assert_array_equal(clf.predict_proba(P), clf.predict_proba(D))


def test_polars_columns_in_another_order_are_an_error():
    columns = _columns()
    P = _polars_frame(columns)
    clf = _fitted_on(P, np.asarray(columns["z"]) > 0.5)
    with pytest.raises(ValueError, match="feature names should match"):
        clf.predict(P.select(list(reversed(P.columns))))


def test_an_array_after_a_polars_fit_warns():
    columns = _columns()
    P = _polars_frame(columns)
    clf = _fitted_on(P, np.asarray(columns["z"]) > 0.5)
    X = P.to_numpy()  # an object array, nulls as None
    assert X.dtype == object
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        proba = clf.predict_proba(X)
    np.testing.assert_array_equal(proba, clf.predict_proba(P))


def test_a_polars_frame_after_an_array_fit_warns():
    columns = _columns()
    P = _polars_frame(columns)
    y = np.asarray(columns["z"]) > 0.5
    categorical = [False, False, True, True, True, True, True, False]
    clf = TabularMLPClassifier(categorical_features=categorical, **SMALL)
    clf.fit(P.to_numpy(), y)
    assert not hasattr(clf, "feature_names_in_")
    with pytest.warns(UserWarning, match="X has feature names, but"):
        proba = clf.predict_proba(P)
    np.testing.assert_array_equal(proba, clf.predict_proba(P.to_numpy()))
