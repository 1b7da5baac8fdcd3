"""The tabular pair's neighbour blend (``neighbors``): the distance columns,
the blend's choice and its place in a fit (sknn._tabular_neighbors,
sknn._core.neighbors)."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import r2_score, roc_auc_score

import sknn._tabular_base as tabular_base
from sknn import TabularMLPClassifier, TabularMLPRegressor
from sknn._core.backend import for_arrays
from sknn._core.neighbors import NeighborBlend, choose_blend, temper
from sknn._tabular_encode import TableEncoder
from sknn._tabular_neighbors import DistanceColumns

FAST = dict(max_iter=8, random_state=0)


def _grouped_table(n=600, n_groups=60, seed=0, regression=False):
    """Rows of ``n_groups`` units, each named only by the combination of
    three categorical columns (``a``, ``b``, ``c``) and two numeric ones;
    the outcome is the unit's, and two noise columns hide it from a plain
    distance."""
    rng = np.random.default_rng(seed)
    units = rng.integers(0, n_groups, n)
    a, b, c = (rng.integers(0, 5, n_groups) for _ in range(3))
    u, v = rng.normal(size=(2, n_groups))
    effect = rng.normal(size=n_groups)
    X = pd.DataFrame(
        {
            "a": pd.Categorical(a[units]),
            "b": pd.Categorical(b[units]),
            "c": pd.Categorical(c[units]),
            "u": u[units],
            "v": v[units],
            "noise1": rng.normal(size=n),
            "noise2": rng.normal(size=n),
        }
    )
    value = effect[units] + 0.3 * rng.normal(size=n)
    y = value if regression else (value > 0).astype(int)
    return X, pd.Series(y)


# ------------------------------------------------------------------ columns
def test_distance_columns_layout():
    rng = np.random.default_rng(0)
    n = 300
    X = pd.DataFrame(
        {
            "x": np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n)),
            "few": pd.Categorical(rng.choice(["p", "q"], n)),
            "many": pd.Categorical(rng.integers(0, 100, n)),
        }
    )
    y = rng.normal(size=(n, 1))
    enc = TableEncoder(max_onehot=8)
    Z = enc.fit_transform(X, y, np.random.default_rng(0))
    assert enc.n_target_means_ == 1  # the target means are no distance column
    columns = DistanceColumns(enc).fit(Z)
    # x, its missing flag, two one-hot columns, the 64 most frequent codes
    assert columns.n_columns == 1 + 1 + 2 + 64
    A = columns.transform(Z)
    assert A.shape == (n, 68)
    np.testing.assert_allclose(A.std(axis=0), 1.0)
    codes = Z[:, -1]
    values, counts = np.unique(codes, return_counts=True)
    kept = set(columns.codes_[0])
    assert min(counts[np.isin(values, list(kept))]) >= max(
        counts[~np.isin(values, list(kept))]
    )
    # a row's indicator columns mark its code when kept, none otherwise
    indicators = A[:, 4:] > 0
    for i in range(n):
        assert indicators[i].sum() == (codes[i] in kept)


def test_distance_columns_constant_column_keeps_scale_one():
    X = pd.DataFrame({"x": np.ones(20), "z": np.arange(20.0)})
    enc = TableEncoder()
    Z = enc.fit_transform(X)
    columns = DistanceColumns(enc).fit(Z)
    assert columns.scale_[0] == 1.0
    assert np.isfinite(columns.transform(Z)).all()


# ------------------------------------------------------------------ choice
def test_choose_blend_weight_follows_the_neighbours_worth():
    rng = np.random.default_rng(0)
    n = 400
    labels = rng.integers(0, 2, n)
    Y = np.eye(2)[labels]
    P = np.full((n, 2), 0.5)  # an uninformed model
    truth = 0.9 * Y + 0.05
    _, a = choose_blend(P, truth, Y, "labels")
    assert a > 0.5
    noise = np.eye(2)[rng.integers(0, 2, n)] * 0.9 + 0.05
    _, a = choose_blend(P, noise, Y, "labels")
    assert a == 0.0
    # weights: rows where the neighbours are wrong weigh nothing
    K = np.where((np.arange(n) < 200)[:, None], truth, 1.0 - truth)
    sw = (np.arange(n) < 200).astype(float)
    assert choose_blend(P, K, Y, "labels")[1] == 0.0
    assert choose_blend(P, K, Y, "labels", sample_weight=sw)[1] > 0.5


def test_choose_blend_temperature_cools_an_overconfident_model():
    rng = np.random.default_rng(1)
    n = 500
    labels = rng.integers(0, 2, n)
    Y = np.eye(2)[labels]
    right = rng.random(n) < 0.7  # right 70% of the time, at 99% confidence
    guess = np.where(right, labels, 1 - labels)
    P = np.eye(2)[guess] * 0.98 + 0.01
    temperature, _ = choose_blend(P, np.full((n, 2), 0.5), Y, "labels")
    assert temperature > 2.0


def test_choose_blend_values_have_no_temperature():
    rng = np.random.default_rng(2)
    Y = rng.normal(size=(200, 2))
    temperature, a = choose_blend(np.zeros_like(Y), Y + 0.1, Y, "values")
    assert temperature == 1.0 and a == 1.0


def test_choose_blend_unknown_kind():
    with pytest.raises(ValueError, match="kind must be one of"):
        choose_blend(np.zeros((2, 1)), np.zeros((2, 1)), np.zeros((2, 1)), "ranks")


def test_temper_keeps_the_order_and_sums_to_one():
    P = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    for t in (0.5, 1.0, 3.0):
        Q = temper(P, t)
        np.testing.assert_allclose(Q.sum(axis=1), 1.0)
        np.testing.assert_array_equal(Q.argmax(axis=1), P.argmax(axis=1))
    np.testing.assert_allclose(temper(P, 1.0), P)


def test_neighbor_blend_ends():
    rng = np.random.default_rng(3)
    C = rng.normal(size=(30, 3))
    T = np.eye(2)[rng.integers(0, 2, 30)]
    P = np.array([[0.8, 0.2], [0.3, 0.7]], dtype=np.float32)
    Xq = rng.normal(size=(2, 3))
    off = NeighborBlend(C, T, np.ones(3), 2.0, 0.0, "labels")
    out = off(P, Xq)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, temper(P.astype(float), 2.0), rtol=1e-6)
    full = NeighborBlend(C, T, np.ones(3), 1.0, 1.0, "labels")
    np.testing.assert_allclose(full(P, Xq), full.average(Xq), rtol=1e-6)


# ------------------------------------------------------------------ fits
def test_blend_recalls_units_the_network_misses():
    X, y = _grouped_table()
    train, test = np.arange(450), np.arange(450, 600)
    scores = {}
    for neighbors in (False, "auto"):
        clf = TabularMLPClassifier(neighbors=neighbors, **FAST)
        clf.fit(X.iloc[train], y.iloc[train])
        scores[neighbors] = roc_auc_score(
            y.iloc[test], clf.predict_proba(X.iloc[test])[:, 1]
        )
        if neighbors is False:
            assert clf.neighbor_weight_ is None and clf.neighbor_temperature_ is None
            plain = clf._params
        else:
            assert clf.n_cv_ == 5 and clf.neighbor_weight_ > 0.2
            # the blend changes no weight of the networks
            np.testing.assert_array_equal(clf._params, plain)
    assert scores["auto"] > scores[False] + 0.05


def test_blend_on_one_network_uses_the_validation_split():
    X, y = _grouped_table(regression=True)
    train, test = np.arange(450), np.arange(450, 600)
    reg = TabularMLPRegressor(n_cv=1, **FAST).fit(X.iloc[train], y.iloc[train])
    assert reg.neighbor_weight_ > 0.2 and reg.neighbor_temperature_ is None
    # every row of the fit is a candidate, the validation rows included
    assert reg._neighbor_blend.candidates.shape[0] == 450
    plain = TabularMLPRegressor(n_cv=1, neighbors=False, **FAST)
    plain.fit(X.iloc[train], y.iloc[train])
    assert r2_score(y.iloc[test], reg.predict(X.iloc[test])) > r2_score(
        y.iloc[test], plain.predict(X.iloc[test])
    )


def test_blend_with_given_validation_rows():
    X, y = _grouped_table()
    clf = TabularMLPClassifier(**FAST)
    clf.fit(X.iloc[:400], y.iloc[:400], X_val=X.iloc[400:500], y_val=y.iloc[400:500])
    assert clf.n_cv_ == 1 and clf.neighbor_weight_ is not None
    # the given validation rows choose the blend but are no candidates
    assert clf._neighbor_blend.candidates.shape[0] == 400


@pytest.mark.parametrize(
    "params", [{"select_best": False, "n_cv": 1}, {"neighbors": False}]
)
def test_no_blend_without_held_out_rows_or_when_off(params):
    X, y = _grouped_table(n=200)
    clf = TabularMLPClassifier(**{**FAST, **params}).fit(X, y)
    assert clf.neighbor_weight_ is None
    assert clf.__dict__["_neighbor_blend"] is None


def test_auto_blends_up_to_a_size(monkeypatch):
    X, y = _grouped_table(n=200)
    monkeypatch.setattr(tabular_base, "NEIGHBOR_ROWS", 100)
    assert TabularMLPClassifier(**FAST).fit(X, y).neighbor_weight_ is None
    forced = TabularMLPClassifier(neighbors=True, **FAST).fit(X, y)
    assert forced.neighbor_weight_ is not None


def test_partial_fit_drops_the_blend():
    X, y = _grouped_table(n=300)
    clf = TabularMLPClassifier(n_cv=1, **FAST).fit(X, y)
    assert clf.neighbor_weight_ is not None
    clf.partial_fit(X, y)
    assert clf.neighbor_weight_ is None
    # predictions are the network's own again
    Z = clf._encode(X)
    net = clf._network_outputs(clf._net, clf._params, Z, for_arrays(Z))
    np.testing.assert_allclose(clf.predict_proba(X), net)


def test_blend_survives_pickling():
    X, y = _grouped_table(n=300)
    clf = TabularMLPClassifier(**FAST).fit(X, y)
    back = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))


def test_blend_leaves_the_input_alone():
    X, y = _grouped_table(n=300)
    before = X.copy()
    clf = TabularMLPClassifier(**FAST).fit(X, y)
    clf.predict_proba(X)
    pd.testing.assert_frame_equal(X, before)


def test_numpy_bools_switch_the_blend():
    X, y = _grouped_table(n=200)
    off = TabularMLPClassifier(neighbors=np.False_, **FAST).fit(X, y)
    assert off.neighbor_weight_ is None
    assert (
        TabularMLPClassifier(neighbors=np.True_, **FAST).fit(X, y).neighbor_weight_
        is not None
    )
    with pytest.raises(ValueError, match="only loss='squared_error'"):
        TabularMLPRegressor(loss="poisson", neighbors=np.True_, **FAST).fit(
            X, np.abs(y) + 1.0
        )


def test_a_given_random_state_object_trains_as_without_the_blend():
    """The blend's queries come from a child of the fit's own seed: a
    RandomState is not drawn from again, so a second fit with the same
    object trains the same networks with and without the blend."""
    X, y = _grouped_table(n=200)
    params = {}
    for neighbors in (False, "auto"):
        state = np.random.RandomState(0)
        est = TabularMLPClassifier(neighbors=neighbors, max_iter=8, random_state=state)
        est.fit(X, y)
        params[neighbors] = est.fit(X, y)._params
    np.testing.assert_array_equal(params["auto"], params[False])


def test_rows_weighing_zero_are_no_neighbours():
    X, y = _grouped_table(n=300)
    sw = np.ones(300)
    sw[:100] = 0.0
    clf = TabularMLPClassifier(**FAST).fit(X, y, sample_weight=sw)
    assert clf._neighbor_blend.candidates.shape[0] == 200
    # the candidates are the other rows, as the fit encoded them
    kept = clf._neighbor_columns.transform(clf._encode(X.iloc[100:]))
    np.testing.assert_allclose(clf._neighbor_blend.candidates, kept)
