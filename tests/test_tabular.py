"""TabularMLPClassifier / TabularMLPRegressor: tables as they are, switches,
scikit-learn citizenship."""

import math
import pickle
import warnings

import numpy as np
import pytest
from _common import moving_average, record_steps
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.utils.estimator_checks import parametrize_with_checks

from sknn import TabularMLPClassifier, TabularMLPRegressor
from sknn._core.backend import NUMPY
from sknn._core.layers import Dropout
from sknn._core.optimizers import SHAPES, AdamW, Schedule
from sknn._tabular_encode import TableEncoder

pd = pytest.importorskip("pandas")

SMALL = dict(hidden_layer_sizes=(16,), max_iter=30, random_state=0)
_STOCHASTIC = (
    "minibatch training on repeated rows draws other batches than on weighted "
    "rows, and the validation split differs: equal in expectation, not in bits"
)


@parametrize_with_checks(
    [TabularMLPClassifier(**SMALL), TabularMLPRegressor(**SMALL)],
    expected_failed_checks=lambda est: {
        "check_sample_weight_equivalence_on_dense_data": _STOCHASTIC,
        "check_sample_weight_equivalence_on_sparse_data": _STOCHASTIC,
    },
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _frame(n=300, seed=0):
    """Numeric, categorical, object, bool and many-level columns, with NaN."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = rng.exponential(size=n) * 100
    x2[rng.random(n) < 0.1] = np.nan
    color = rng.choice(["red", "green", "blue"], size=n)
    city = rng.choice([f"c{i}" for i in range(20)], size=n).astype(object)
    city[rng.random(n) < 0.05] = None
    flag = rng.random(n) < 0.5
    X = pd.DataFrame(
        {
            "x1": x1,
            "x2": x2,
            "color": pd.Categorical(color),
            "city": city,
            "flag": flag,
        }
    )
    city_effect = {f"c{i}": (i % 5) - 2.0 for i in range(20)}
    signal = (
        x1
        + np.nan_to_num(np.log1p(x2), nan=0.0) * 0.5
        + (color == "red") * 1.5
        + np.array([city_effect.get(c, 0.0) for c in city])
        + flag
    )
    return X, signal


def _labels(signal):
    return np.where(signal > np.median(signal), "yes", "no")


def test_dataframe_with_categories_and_missing_values():
    X, signal = _frame()
    clf = TabularMLPClassifier(max_iter=40, random_state=0).fit(X, _labels(signal))
    np.testing.assert_array_equal(clf.is_categorical_, [False, False, True, True, True])
    np.testing.assert_array_equal(clf.feature_names_in_, X.columns)
    assert clf.score(X, _labels(signal)) > 0.85
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert list(clf.classes_) == ["no", "yes"]


@pytest.mark.parametrize("n_classes", [1, 2, 3])
@pytest.mark.parametrize("n_cv", [1, 3])
def test_predict_log_proba_is_the_log_of_predict_proba(n_classes, n_cv):
    X, signal = _frame()
    y = np.digitize(signal, np.quantile(signal, np.linspace(0, 1, n_classes + 1)[1:-1]))
    clf = TabularMLPClassifier(n_cv=n_cv, **SMALL).fit(X, y)
    assert len(clf.classes_) == n_classes
    proba = clf.predict_proba(X)
    log_proba = clf.predict_log_proba(X)
    assert log_proba.shape == proba.shape and log_proba.dtype == proba.dtype
    np.testing.assert_allclose(log_proba, np.log(proba), rtol=1e-6)
    np.testing.assert_array_equal(clf.predict_proba(X), proba)  # nothing shared


def test_unseen_categories_and_new_missing_values_are_no_error():
    X, signal = _frame()
    clf = TabularMLPClassifier(**SMALL).fit(X, _labels(signal))
    new = X.iloc[:5].copy()
    new["color"] = pd.Categorical(["purple", "red", None, "blue", "green"])
    new["city"] = ["nowhere", None, "c1", "c2", "c3"]
    new.loc[0, "x1"] = np.nan  # fit saw no missing x1
    proba = clf.predict_proba(new)
    assert np.isfinite(proba).all()


def test_the_input_is_not_modified():
    X, signal = _frame()
    X_copy = X.copy()
    y = _labels(signal)
    y_copy = y.copy()
    sw = np.ones(len(y))
    TabularMLPClassifier(**SMALL).fit(X, y, sample_weight=sw)
    pd.testing.assert_frame_equal(X, X_copy)
    np.testing.assert_array_equal(y, y_copy)
    np.testing.assert_array_equal(sw, 1.0)


@pytest.mark.parametrize(
    "spec",
    [["color", "city", "flag"], [2, 3, 4], [False, False, True, True, True]],
)
def test_categorical_features_by_name_index_or_mask(spec):
    X, _ = _frame()
    enc = TableEncoder(spec).fit(X)
    np.testing.assert_array_equal(enc.is_categorical_, [0, 0, 1, 1, 1])


def test_categorical_features_on_arrays():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=50), rng.integers(0, 3, 50)])
    assert not TableEncoder().fit(X).is_categorical_.any()  # from_dtype: numeric
    enc = TableEncoder([1]).fit(X)
    assert enc.is_categorical_.tolist() == [False, True]
    assert enc.n_output_ == 1 + 3  # one numeric column, three levels one-hot


@pytest.mark.parametrize(
    "spec, match",
    [
        (["nope"], "not a valid feature name"),
        ([7], "must be in"),
        ([True, False], "boolean mask must have shape"),
        ("everything", "categorical_features must be"),
        ([0.5], "bool, int or str"),
    ],
)
def test_bad_categorical_features_are_clear_errors(spec, match):
    X, _ = _frame(n=30)
    with pytest.raises(ValueError, match=match):
        TableEncoder(spec).fit(X)


def test_names_need_a_dataframe():
    with pytest.raises(ValueError, match="without feature names"):
        TableEncoder(["a"]).fit(np.zeros((4, 2)))


def test_numeric_columns_are_robust_scaled_and_smoothly_clipped():
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 100.0, np.nan])
    enc = TableEncoder().fit(x[:, None])
    Z = enc.transform(x[:, None])
    q1, med, q3 = np.nanquantile(x, [0.25, 0.5, 0.75])
    z = (x - med) / (q3 - q1)
    expected = z / np.sqrt(1 + (z / 3) ** 2)
    np.testing.assert_allclose(Z[:6, 0], expected[:6])
    assert Z[6, 0] == 0.0  # missing: the median
    np.testing.assert_array_equal(Z[:, 1], [0, 0, 0, 0, 0, 0, 1])  # its flag
    assert np.abs(Z[:, 0]).max() < 3.0  # the clip bounds every value by 3


def test_few_levels_are_one_hot_and_many_are_codes():
    X = pd.DataFrame(
        {
            "few": pd.Categorical(["a", "b", "a", None]),
            "many": pd.Categorical(list("pqrs")),
        }
    )
    enc = TableEncoder(max_onehot=3).fit(X)
    # 'few': a, b and the missing value (3 slots, one-hot); 'many': 4 levels
    assert enc.cardinalities_ == [5]  # unknown + 4 levels
    Z = enc.transform(X)
    np.testing.assert_array_equal(
        Z[:, :3], [[1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 0, 1]]
    )
    np.testing.assert_array_equal(Z[:, 3], [1, 2, 3, 4])
    unseen = enc.transform(pd.DataFrame({"few": ["z"], "many": ["z"]}))
    np.testing.assert_array_equal(unseen, [[0, 0, 0, 0]])


def test_infinite_values_are_an_error():
    X, signal = _frame(n=60)
    X.loc[3, "x1"] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        TabularMLPClassifier(**SMALL).fit(X, _labels(signal))


def test_pickle_and_reproducibility():
    X, signal = _frame()
    y = _labels(signal)
    a = TabularMLPClassifier(**SMALL, n_ensemble=2).fit(X, y)
    b = clone(a).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    c = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(a.predict_proba(X), c.predict_proba(X))


# every building block can be switched off (the ablation's switches)
SWITCHES = {
    "no_feature_scale": dict(feature_scale=False),
    "no_numerical_embedding": dict(numerical_embedding=None),
    "piecewise_embedding": dict(numerical_embedding="piecewise"),
    "no_parametric_activation": dict(parametric_activation=False),
    "standard_parametrization": dict(
        parametrization="standard", learning_rate_init=1e-2
    ),
    "relu": dict(activation="relu"),
    "no_dropout": dict(dropout=0.0),
    "constant_dropout": dict(dropout_schedule="constant"),
    "coslog4_lr": dict(learning_rate="coslog4", learning_rate_init=0.04),
    "beta2_0999": dict(beta_2=0.999),
    "weight_decay": dict(weight_decay=0.1),
    "no_select_best": dict(select_best=False),
    "all_onehot": dict(max_onehot=100),
    "ensemble": dict(n_ensemble=4),
    "float64": dict(dtype="float64"),
    "no_weight_average": dict(ema_decay=None),
}


@pytest.mark.parametrize("task", ["classifier", "regressor"])
@pytest.mark.parametrize("switch", sorted(SWITCHES))
def test_every_switch_trains_and_changes_the_model(switch, task):
    X, signal = _frame(n=200)
    if task == "classifier":
        est, y = TabularMLPClassifier(**SMALL), _labels(signal)
        if switch == "ensemble":
            est.set_params(label_smoothing=0.0)
    else:
        est, y = TabularMLPRegressor(**SMALL), signal
    base = est.fit(X, y)
    switched = clone(est).set_params(**SWITCHES[switch]).fit(X, y)
    out = "predict_proba" if task == "classifier" else "predict"
    P0, P1 = getattr(base, out)(X), getattr(switched, out)(X)
    assert np.isfinite(P1).all()
    if switch == "float64":
        # the same training in another precision: the weights are float64
        # and the predictions differ by rounding (with the weights' moving
        # average, often by less than allclose's 1e-5)
        assert switched._params.dtype == np.float64 != base._params.dtype
        assert not np.array_equal(P0, P1)
    else:
        assert not np.allclose(P0, P1)
    # it trains: the mean score over three seeds (one seed's split and
    # initialisation move a 200-row score by about 0.04)
    scores = [switched.score(X, y)] + [
        clone(switched).set_params(random_state=seed).fit(X, y).score(X, y)
        for seed in (1, 2)
    ]
    assert np.mean(scores) > (0.7 if task == "classifier" else 0.5)


def test_label_smoothing_softens_the_probabilities():
    X, signal = _frame()
    y = _labels(signal)
    # the network's own probabilities: the neighbour blend would temper them
    params = {**SMALL, "max_iter": 100, "neighbors": False}
    sharp = TabularMLPClassifier(**params, label_smoothing=0.0).fit(X, y)
    smooth = TabularMLPClassifier(**params, label_smoothing=0.3).fit(X, y)
    # the smoothed targets' largest probability is 1 - 0.3 + 0.3 / 2 = 0.85
    assert smooth.predict_proba(X).max(axis=1).mean() < 0.85
    assert sharp.predict_proba(X).max(axis=1).mean() > 0.9


def test_validation_data_chooses_the_best_epoch():
    X, signal = _frame()
    y = _labels(signal)
    # the network's own probabilities (no neighbour blend) are scored below
    clf = TabularMLPClassifier(**SMALL, neighbors=False).fit(
        X[:200], y[:200], X_val=X[200:], y_val=y[200:]
    )
    assert len(clf.validation_scores_) == clf.n_iter_ == 30
    assert clf.best_epoch_ == int(np.argmax(clf.validation_scores_)) + 1
    # the kept weights are the best epoch's: its validation log-loss is theirs
    P = np.clip(clf.predict_proba(X[200:]), 1e-7, 1)
    codes = (y[200:] == "yes").astype(int)
    log_loss = -np.mean(np.log(P[np.arange(100), codes]))
    assert log_loss == pytest.approx(-clf.best_validation_score_, rel=1e-4)
    with pytest.raises(ValueError, match="y_val was not provided"):
        TabularMLPClassifier(**SMALL).fit(X, y, X_val=X)
    with pytest.raises(ValueError, match="classes not in"):
        TabularMLPClassifier(**SMALL).fit(X, y, X_val=X[:3], y_val=["a", "b", "c"])


def test_without_best_epoch_selection_every_row_trains():
    X, signal = _frame()
    reg = TabularMLPRegressor(**SMALL, select_best=False).fit(X, signal)
    assert reg.validation_scores_ is None and reg.best_epoch_ == reg.n_iter_


def _last_best(curve, lower_is_better=False):
    """The epoch (1-based) after which the curve never improved."""
    values = -np.asarray(curve) if lower_is_better else np.asarray(curve)
    best, at = -np.inf, 0
    for epoch, value in enumerate(values, 1):
        if value > best:
            best, at = value, epoch
    return at


def _noise_target():
    """The frame with a target of pure noise: the raw weights' validation loss
    soon stalls (the weights' moving average keeps improving it slowly, so the
    tests of the stop rule train without it, ``ema_decay=None``)."""
    X, signal = _frame()
    return X, np.random.default_rng(0).normal(size=len(signal))


@pytest.mark.parametrize("patience", [1, 3])
def test_n_iter_no_change_stops_after_the_validation_loss_stalls(patience):
    X, noise = _noise_target()
    params = dict(SMALL, max_iter=60, n_cv=1, ema_decay=None)
    full = TabularMLPRegressor(**params).fit(X, noise)
    stopped = TabularMLPRegressor(**params, n_iter_no_change=patience).fit(X, noise)
    scores = stopped.validation_scores_
    # it ran until more than `patience` epochs in a row missed the best
    assert stopped.n_iter_ == len(scores) == _last_best(scores) + patience + 1
    assert stopped.n_iter_ < full.n_iter_ == 60 and stopped.max_iter_ == 60
    # the same epochs as the full run up to the stop, and its best one kept
    np.testing.assert_array_equal(scores, full.validation_scores_[: len(scores)])
    assert stopped.best_epoch_ == int(np.argmax(scores)) + 1
    best = full.validation_scores_[: stopped.best_epoch_]
    assert stopped.best_validation_score_ == max(best)


def test_n_iter_no_change_counts_the_training_loss_without_selection():
    X, noise = _noise_target()
    reg = TabularMLPRegressor(
        **dict(SMALL, max_iter=200, n_cv=1, ema_decay=None),
        select_best=False,
        n_iter_no_change=1,
    ).fit(X, noise)
    curve = reg.loss_curve_
    assert reg.n_iter_ == len(curve) < 200
    assert reg.n_iter_ == _last_best(curve, lower_is_better=True) + 2


def test_n_iter_no_change_stops_each_cross_fitted_network_on_its_own():
    X, noise = _noise_target()
    reg = TabularMLPRegressor(
        **dict(SMALL, max_iter=60, ema_decay=None), n_cv=3, n_iter_no_change=2
    ).fit(X, noise)
    runs = [sum(1 for r in reg.history_ if r["member"] == m) for m in range(reg.n_cv_)]
    assert max(runs) == reg.n_iter_ < 60
    for m, run in enumerate(runs):
        losses = [r["val_loss"] for r in reg.history_ if r["member"] == m]
        assert run == _last_best(losses, lower_is_better=True) + 3


@pytest.mark.parametrize("value", [0, -1, 2.5, "auto"])
def test_n_iter_no_change_is_validated(value):
    X, signal = _frame()
    with pytest.raises(ValueError, match="The 'n_iter_no_change' parameter"):
        TabularMLPRegressor(**SMALL, n_iter_no_change=value).fit(X, signal)


def test_ema_decay_ends_on_the_moving_average_of_the_steps(monkeypatch):
    X, signal = _frame()
    steps = record_steps(monkeypatch, AdamW)
    params = dict(SMALL, n_cv=1, select_best=False)
    raw = TabularMLPRegressor(**params, ema_decay=None).fit(X, signal)
    avg = TabularMLPRegressor(**params, ema_decay=0.9).fit(X, signal)
    (_, raw_steps), (_, avg_steps) = steps
    for a, b in zip(raw_steps, avg_steps):  # the raw training is unchanged
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(raw._params, raw_steps[-1])
    expected = moving_average(avg_steps, 0.9)
    np.testing.assert_allclose(avg._params, expected, rtol=1e-4, atol=1e-5)
    assert (
        np.abs(avg._params - raw._params).max()
        > 100 * np.abs(avg._params - expected).max()
    )


def test_ema_decay_keeps_each_members_average_at_its_best_epoch(monkeypatch):
    X, signal = _frame()
    steps = record_steps(monkeypatch, AdamW)
    reg = TabularMLPRegressor(**SMALL, n_cv=3, ema_decay=0.95).fit(X, signal)
    assert len(steps) == reg.n_cv_ == 3
    for member, (_, trajectory) in enumerate(steps):
        epochs = sum(1 for r in reg.history_ if r["member"] == member)
        per_epoch = (len(trajectory) - 1) // epochs
        assert per_epoch * epochs == len(trajectory) - 1
        best = reg.best_epoch_[member]
        expected = moving_average(trajectory[: 1 + per_epoch * best], 0.95)
        np.testing.assert_allclose(reg._params[member], expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("value", [1.0, -0.1, "auto"])
def test_ema_decay_is_validated(value):
    X, signal = _frame()
    with pytest.raises(ValueError, match="The 'ema_decay' parameter"):
        TabularMLPRegressor(**SMALL, ema_decay=value).fit(X, signal)


def test_class_weight_moves_predictions_to_the_heavy_class():
    X, y = make_classification(400, 6, n_informative=3, flip_y=0.3, random_state=0)
    plain = TabularMLPClassifier(**SMALL).fit(X, y).predict(X)
    heavy = TabularMLPClassifier(**SMALL, class_weight={0: 1.0, 1: 20.0})
    assert (heavy.fit(X, y).predict(X) == 1).mean() > (plain == 1).mean() + 0.1


def test_regressor_targets_are_standardised():
    X, y = make_regression(300, 5, noise=5.0, random_state=0)
    a = TabularMLPRegressor(**SMALL).fit(X, y)
    b = TabularMLPRegressor(**SMALL).fit(X, 1000.0 * y + 7.0)
    expected = 1000.0 * a.predict(X) + 7.0
    np.testing.assert_allclose(b.predict(X), expected, rtol=1e-4, atol=1e-2)
    multi = TabularMLPRegressor(**SMALL).fit(X, np.column_stack([y, -y]))
    assert multi.predict(X).shape == (300, 2) and multi.n_outputs_ == 2


def test_a_diverging_fit_raises():
    X, y = make_regression(100, 3, random_state=0)
    with pytest.raises(ValueError, match="non-finite"):
        TabularMLPRegressor(
            **SMALL, learning_rate_init=1e12, learning_rate="constant"
        ).fit(X, y)


def test_schedule_shapes():
    f, g = SHAPES["coslog4"], SHAPES["flat_cos"]
    for end in (1 / 15, 3 / 15, 7 / 15, 1.0):  # the four cycles end at zero
        assert f(end) == pytest.approx(0.0, abs=1e-12)
    assert f((math.sqrt(2) - 1) / 15) == pytest.approx(1.0)
    assert g(0.0) == g(0.49) == 1.0 and g(0.75) == pytest.approx(0.5) and g(1.0) == 0
    s = Schedule("coslog4", 0.1, max_iter=10)
    rates = [s.lr] + [s.epoch_end(e, 0) for e in range(1, 10)]
    np.testing.assert_allclose(rates, [0.1 * f((e + 0.5) / 10) for e in range(10)])


@pytest.mark.parametrize("schedule", ["flat_cos", "coslog4", "constant"])
def test_dropout_follows_its_schedule_and_the_fit_keeps_the_base_rate(
    schedule, monkeypatch
):
    # the loop scales every dropout rate by the schedule's value at the middle
    # of each epoch; the layers themselves keep the base rate
    drawn = []
    draw = Dropout.draw

    def spy(self, rng, n_rows, backend=NUMPY, scale=1.0):
        drawn.append(self.rate * scale)
        return draw(self, rng, n_rows, backend, scale)

    monkeypatch.setattr(Dropout, "draw", spy)
    X, signal = _frame(n=100)  # 80 training rows: one batch per epoch
    clf = TabularMLPClassifier(**SMALL, n_cv=1, dropout=0.2, dropout_schedule=schedule)
    clf.fit(X, _labels(signal))
    shape = SHAPES.get(schedule, lambda frac: 1.0)
    expected = [0.2 * shape((e + 0.5) / 30) for e in range(30)]
    np.testing.assert_allclose(drawn, expected, rtol=1e-12)
    assert [layer.rate for layer in clf._net.layers if isinstance(layer, Dropout)] == [
        0.2
    ]


def test_extreme_values_are_clipped_not_treated_as_missing():
    x = np.concatenate([np.arange(100.0), [1e300, -1e300, 1e308, np.nan]])
    enc = TableEncoder().fit(x[:, None])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow on the way
        Z = enc.transform(x[:, None])
    np.testing.assert_allclose(Z[100:103, 0], [3.0, -3.0, 3.0])
    assert Z[103, 0] == 0.0 and Z[103, 1] == 1.0  # only the NaN is missing
    assert not Z[:103, 1].any()


def test_select_best_false_refuses_validation_data():
    X, signal = _frame(n=80)
    y = _labels(signal)
    with pytest.raises(ValueError, match="select_best=False"):
        TabularMLPClassifier(**SMALL, select_best=False).fit(
            X, y, X_val=X[:20], y_val=y[:20]
        )


def test_validation_targets_must_have_the_outputs_of_y():
    X, y = make_regression(100, 3, n_targets=2, random_state=0)
    with pytest.raises(ValueError, match="y_val has shape"):
        TabularMLPRegressor(**SMALL).fit(X, y, X_val=X[:20], y_val=y[:20, 0])
    with pytest.raises(ValueError, match="y_val has shape"):
        TabularMLPRegressor(**SMALL).fit(X, y[:, 0], X_val=X[:20], y_val=y[:20])


def test_a_large_validation_fraction_still_splits():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(100, 3)), rng.integers(0, 5, 100)
    clf = TabularMLPClassifier(**SMALL, validation_fraction=0.97).fit(X, y)
    assert len(clf.validation_scores_) == clf.n_iter_


def test_huge_targets_give_finite_predictions():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3))
    y = (X[:, 0] + 0.1 * rng.normal(size=100)) * 1e300
    reg = TabularMLPRegressor(**SMALL).fit(X, y)
    P = reg.predict(X)
    assert np.isfinite(P).all()
    assert np.corrcoef(P / 1e300, y / 1e300)[0, 1] > 0.5


def test_all_zero_validation_weights_are_an_error():
    X, signal = _frame(n=100)
    zero = {"no": 0.0, "yes": 0.0}
    with pytest.raises(ValueError, match="all zero"):
        TabularMLPClassifier(**SMALL, class_weight=zero).fit(X, _labels(signal))


def test_piecewise_embedding_knots_sit_at_the_training_quantiles():
    X, signal = _frame()
    est = TabularMLPRegressor(**SMALL, numerical_embedding="piecewise", n_bins=4)
    est.fit(X, signal)
    enc = est._encoder
    assert enc.n_bins == 4 and len(enc.bin_edges_) == enc.n_numeric_
    Z = est._encode(X)
    for j, edges in enumerate(enc.bin_edges_):
        seen = ~X.iloc[:, enc._numeric[j].index].isna().to_numpy()
        column = Z[seen, j]
        expected = np.unique(
            np.quantile(column.astype(np.float64), np.linspace(0, 1, 5))
        )
        np.testing.assert_allclose(edges, expected, rtol=1e-6, atol=1e-6)
    layer = next(
        la for la in est._net.layers if type(la).__name__ == "PiecewiseLinearEmbedding"
    )
    assert layer.m == 4 and layer.p == enc.n_numeric_


def test_piecewise_embedding_needs_the_bins_it_was_fitted_with():
    X, signal = _frame()
    est = TabularMLPRegressor(**SMALL, numerical_embedding="piecewise", warm_start=True)
    est.fit(X, signal)
    est.set_params(n_bins=5)
    with pytest.raises(ValueError, match="fitted for n_bins=16, now n_bins=5"):
        est.fit(X, signal)


@pytest.mark.parametrize(
    "params, name",
    [
        (dict(numerical_embedding="piecewise", n_bins=0), "n_bins"),
        (dict(n_bins=2.5), "n_bins"),
        (dict(numerical_embedding="quantile"), "numerical_embedding"),
    ],
)
def test_embedding_parameters_are_validated(params, name):
    X, signal = _frame()
    with pytest.raises(ValueError, match=f"The '{name}' parameter of TabularMLP"):
        TabularMLPRegressor(**SMALL, **params).fit(X, signal)
