"""Target means of the embedded categorical columns (``target_encoding``):
the shrunk means, their out-of-fold values for the rows of the fit, the
encoder's layout with them, and the estimators' switch."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError

import sknn._tabular_base as tabular_base
from sknn import TabularMLPClassifier, TabularMLPRegressor
from sknn._tabular_encode import (
    _TARGET_FOLDS,
    TableEncoder,
    _out_of_fold_means,
    _target_means,
)

pd = pytest.importorskip("pandas")

SMALL = dict(hidden_layer_sizes=(16,), max_iter=3, random_state=0)


def _fit(est, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(X, y, **kwargs)


def _ids(n=2_000, levels=200, seed=0, noise=0.5):
    """A numeric column and an id column whose level carries most of the
    target (``levels`` levels, some missing), and the target."""
    rng = np.random.default_rng(seed)
    effect = rng.normal(size=levels)
    level = rng.integers(0, levels, n)
    ids = pd.Series([f"id{i}" for i in level], dtype=object)
    ids[rng.random(n) < 0.03] = None
    frame = pd.DataFrame({"x": rng.normal(size=n), "id": ids})
    y = 2 * effect[level] + 0.3 * frame["x"].to_numpy() + noise * rng.normal(size=n)
    return frame, y


def _shrunk_by_hand(codes, t, n_codes):
    """The shrunk means of one target column, level by level."""
    n, prior = len(t), t.mean()
    levels = np.unique(codes)
    within = sum(((t[codes == c] - t[codes == c].mean()) ** 2).sum() for c in levels)
    s2_within = within / (n - len(levels))
    s2_between = t.var() - s2_within
    m = s2_within / s2_between
    out = np.full(n_codes, prior)
    for c in levels:
        rows = t[codes == c]
        out[c] = (rows.sum() + m * prior) / (len(rows) + m)
    return out


# ------------------------------------------------------------------ the means
def test_the_means_are_shrunk_by_the_empirical_bayes_factor():
    rng = np.random.default_rng(1)
    codes = np.repeat(np.arange(1, 31), 20)  # code 0 (unknown) and 31: no rows
    T = np.column_stack(
        [
            rng.normal(size=32)[codes] + rng.normal(size=600),
            np.tile([-1.0, 1.0], 300) + 0.5,  # every level's mean is 0.5
        ]
    )
    means = _target_means(codes, T, 32)
    assert means.shape == (32, 2)
    np.testing.assert_allclose(means[:, 0], _shrunk_by_hand(codes, T[:, 0], 32))
    np.testing.assert_allclose(means[[0, 31], 0], T[:, 0].mean())
    # no spread between the levels: the estimated between-level variance is
    # negative, and every code gets the prior
    np.testing.assert_allclose(means[:, 1], 0.5)


def test_levels_with_many_rows_keep_their_own_mean():
    codes = np.repeat(np.arange(4), 500)
    T = (codes * 10.0 + np.tile([-1.0, 1.0], 1000))[:, None]
    means = _target_means(codes, T, 4)
    np.testing.assert_allclose(means[:, 0], [0.0, 10.0, 20.0, 30.0], atol=1e-3)


def test_a_constant_target_or_one_row_per_level_gives_the_prior():
    codes = np.arange(50)
    T = np.column_stack([np.full(50, 3.0), np.arange(50.0)])
    means = _target_means(codes, T, 50)
    np.testing.assert_array_equal(means[:, 0], 3.0)
    np.testing.assert_allclose(means[:, 1], 24.5)  # no row left to tell noise
    assert _target_means(codes[:0], T[:0], 5).shape == (5, 2)


def test_no_row_sees_its_own_target():
    rng = np.random.default_rng(2)
    codes = rng.integers(0, 20, 400)
    T = rng.normal(size=(400, 1)) + codes[:, None]
    out = _out_of_fold_means(codes, T, 20, np.random.default_rng(0))
    changed = T.copy()
    changed[7] += 1000.0
    again = _out_of_fold_means(codes, changed, 20, np.random.default_rng(0))
    assert again[7, 0] == out[7, 0]
    # the rows of its level in the other folds see it
    same_level = np.flatnonzero((codes == codes[7]) & (again[:, 0] != out[:, 0]))
    assert same_level.size > 0 and 7 not in same_level


def test_each_fold_is_the_means_of_the_other_folds():
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 10, 103)
    T = rng.normal(size=(103, 2))
    out = _out_of_fold_means(codes, T, 10, np.random.default_rng(5))
    fold = np.empty(103, dtype=int)
    fold[np.random.default_rng(5).permutation(103)] = np.arange(103) % _TARGET_FOLDS
    for f in range(_TARGET_FOLDS):
        rest = fold != f
        expected = _target_means(codes[rest], T[rest], 10)[codes[fold == f]]
        np.testing.assert_allclose(out[fold == f], expected)
    one = _out_of_fold_means(codes[:1], T[:1], 10, np.random.default_rng(5))
    np.testing.assert_allclose(one, T[:1])  # one row: its own


# ------------------------------------------------------------------ the encoder
def test_the_encoder_s_layout_with_target_means():
    frame, y = _ids()
    frame["few"] = pd.Series(np.arange(len(frame)) % 3).astype(str)
    T = np.column_stack([y, -y])
    rng = np.random.default_rng(0)
    before = frame.copy()
    enc = TableEncoder(n_bins=4)
    Z = enc.fit_transform(frame, T, rng)
    pd.testing.assert_frame_equal(frame, before)  # the input is left alone
    plain = TableEncoder(n_bins=4).fit(frame)
    assert enc.n_target_means_ == 2
    assert enc.n_numeric_ == plain.n_numeric_ + 2 == 3
    assert enc.n_output_ == plain.n_output_ + 2
    assert len(enc.bin_edges_) == 3
    Z0 = plain.transform(frame)
    # the numeric column first, the two means next, then the rest as before
    np.testing.assert_array_equal(Z[:, :1], Z0[:, :1])
    np.testing.assert_array_equal(Z[:, 3:], Z0[:, 1:])
    # the rows of the fit: their out-of-fold means, scaled
    codes = enc._coded[0].codes(frame["id"].to_numpy(dtype=object))
    oof = _out_of_fold_means(
        codes, T, enc._coded[0].n_slots + 1, np.random.default_rng(0)
    )
    for j, t in enumerate(enc._target_means):
        np.testing.assert_allclose(Z[:, 1 + j], t.scaling.transform(oof[:, j])[0])
    # later tables: the means of all rows, the prior for an unknown level
    test = frame.iloc[:6].copy()
    test.loc[0, "id"] = "never seen"
    Zt = enc.transform(test)
    full = _target_means(codes, T, enc._coded[0].n_slots + 1)
    for j, t in enumerate(enc._target_means):
        expected = t.scaling.transform(full[codes[:6], j].copy())[0]
        expected[0] = t.scaling.transform(np.array([T[:, j].mean()]))[0][0]
        np.testing.assert_allclose(Zt[:, 1 + j], expected)
    np.testing.assert_array_equal(Zt[:, 3:], plain.transform(test)[:, 1:])


def test_without_embedded_columns_targets_change_nothing():
    frame = pd.DataFrame({"x": np.arange(20.0), "c": list("ab") * 10})
    enc = TableEncoder()
    Z = enc.fit_transform(frame, np.arange(20.0)[:, None], np.random.default_rng(0))
    assert enc.n_target_means_ == 0
    np.testing.assert_array_equal(Z, TableEncoder().fit(frame).transform(frame))


# ------------------------------------------------------------------ estimators
@pytest.mark.parametrize("cls", [TabularMLPClassifier, TabularMLPRegressor])
def test_the_default_is_auto(cls):
    assert cls().get_params()["target_encoding"] == "auto"


@pytest.mark.parametrize("value", ["yes", 1.5, None])
def test_an_invalid_value_is_a_parameter_error(value):
    frame, y = _ids(100)
    with pytest.raises(InvalidParameterError, match="target_encoding"):
        TabularMLPRegressor(target_encoding=value).fit(frame, y)


def test_auto_adds_the_means_from_the_threshold(monkeypatch):
    frame, y = _ids(1_000)
    small = _fit(TabularMLPRegressor(**SMALL), frame, y)
    assert small.target_encoding_ is False
    assert small._encoder.n_target_means_ == 0
    small, large = (values for _, values in tabular_base._ARCHITECTURES)
    monkeypatch.setattr(
        tabular_base, "_ARCHITECTURES", ((1_000, small), (np.inf, large))
    )
    large = _fit(TabularMLPRegressor(**SMALL), frame, y)
    assert large.target_encoding_ is True
    assert large._encoder.n_target_means_ == 1
    below = _fit(TabularMLPRegressor(**SMALL), frame[:999], y[:999])
    assert below.target_encoding_ is False


def test_a_table_without_embedded_columns_reports_none():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    est = _fit(TabularMLPRegressor(target_encoding=True, **SMALL), X, X[:, 0])
    assert est.target_encoding_ is False


@pytest.mark.parametrize("n_classes, columns", [(2, 1), (3, 3)])
def test_one_column_for_two_classes_one_per_class_beyond(n_classes, columns):
    frame, y = _ids(600)
    labels = np.digitize(y, np.quantile(y, np.linspace(0, 1, n_classes + 1)[1:-1]))
    clf = _fit(TabularMLPClassifier(target_encoding=True, **SMALL), frame, labels)
    assert clf._encoder.n_target_means_ == columns
    proba = clf.predict_proba(frame)
    assert proba.shape == (600, n_classes)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(frame)), proba, rtol=1e-5)


def test_the_means_carry_an_id_the_embeddings_have_not_learned_yet():
    # 400 levels of 10 rows each, the level most of the target; three epochs
    # of a small network leave the embeddings near their start, while the
    # means already say what each level is worth
    frame, y = _ids(6_000, levels=400, seed=4)
    train, test = slice(0, 4_000), slice(4_000, None)
    scores = {}
    for te in (False, True):
        est = TabularMLPRegressor(target_encoding=te, **SMALL)
        _fit(est, frame[train], y[train])
        scores[te] = est.score(frame[test], y[test])
    assert scores[True] > 0.7
    assert scores[True] > scores[False] + 0.2


def test_a_continued_fit_keeps_the_first_fit_s_means():
    frame, y = _ids(800)
    est = _fit(
        TabularMLPRegressor(target_encoding=True, warm_start=True, **SMALL), frame, y
    )
    tables = [t.table.copy() for t in est._encoder._target_means]
    _fit(est, frame, -y)  # a warm start: the encoder stays as it is
    assert est.target_encoding_ is True
    for t, table in zip(est._encoder._target_means, tables):
        np.testing.assert_array_equal(t.table, table)
    stream = TabularMLPRegressor(target_encoding=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stream.partial_fit(frame[:400], y[:400])
        first = [t.table.copy() for t in stream._encoder._target_means]
        stream.partial_fit(frame[400:], -y[400:])
    for t, table in zip(stream._encoder._target_means, first):
        np.testing.assert_array_equal(t.table, table)


def test_refits_are_identical_and_pickles_predict_the_same():
    frame, y = _ids(800)
    one = _fit(TabularMLPRegressor(target_encoding=True, **SMALL), frame, y)
    two = _fit(TabularMLPRegressor(target_encoding=True, **SMALL), frame, y)
    np.testing.assert_array_equal(one.predict(frame), two.predict(frame))
    loaded = pickle.loads(pickle.dumps(one))
    assert loaded.target_encoding_ is True
    np.testing.assert_array_equal(loaded.predict(frame), one.predict(frame))


def test_an_encoder_pickled_before_target_means_still_encodes():
    frame, y = _ids(300)
    enc = TableEncoder().fit(frame)
    expected = enc.transform(frame)
    del enc._target_means  # as an older pickle has it
    np.testing.assert_array_equal(enc.transform(frame), expected)


def test_weights_train_the_network_but_not_the_means():
    frame, y = _ids(800)
    weights = np.random.default_rng(0).uniform(0.1, 5.0, 800)
    est = TabularMLPRegressor(target_encoding=True, **SMALL)
    _fit(est, frame, y, sample_weight=weights)
    plain = _fit(TabularMLPRegressor(target_encoding=True, **SMALL), frame, y)
    for a, b in zip(est._encoder._target_means, plain._encoder._target_means):
        np.testing.assert_array_equal(a.table, b.table)
    assert not np.array_equal(est.predict(frame), plain.predict(frame))


def test_an_object_array_with_categorical_indices():
    frame, y = _ids(600)
    X = frame.to_numpy(dtype=object)
    est = TabularMLPRegressor(target_encoding=True, categorical_features=[1], **SMALL)
    _fit(est, X, y)
    from_frame = _fit(TabularMLPRegressor(target_encoding=True, **SMALL), frame, y)
    assert est.target_encoding_ is True
    np.testing.assert_allclose(est.predict(X), from_frame.predict(frame), rtol=1e-5)
