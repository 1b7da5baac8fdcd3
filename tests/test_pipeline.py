"""The training pipeline both pairs share: every service exists in both.

Each test is parametrized over the four estimators (or the two classifiers)
so that a service added to one pair and not the other fails here.
"""

from __future__ import annotations

import io
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from _common import RECORD_KEYS
from sklearn.base import clone, is_classifier
from sklearn.exceptions import ConvergenceWarning

from sknn import (
    MLPClassifierNN,
    MLPRegressorNN,
    TabularMLPClassifier,
    TabularMLPRegressor,
    TrainingCurveDisplay,
)
from sknn._fitdata import NON_FINITE, class_weight_vector, split_rows


def _data(n=160, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.normal(size=n),
            "c": rng.choice(["u", "v", "w"], size=n),
        }
    )
    signal = X["a"] + 0.5 * X["b"] + (X["c"] == "u")
    return X, signal.to_numpy()


def _numeric(X):
    return pd.get_dummies(X, dtype=float).to_numpy()


ESTIMATORS = {
    "MLPClassifierNN": lambda **kw: MLPClassifierNN(
        hidden_layer_sizes=(8,), random_state=0, **kw
    ),
    "MLPRegressorNN": lambda **kw: MLPRegressorNN(
        hidden_layer_sizes=(8,), random_state=0, **kw
    ),
    # the services on one network (cross-fitting: tests/test_tabular_cv.py)
    "TabularMLPClassifier": lambda **kw: TabularMLPClassifier(
        hidden_layer_sizes=(8,), random_state=0, **{"n_cv": 1, **kw}
    ),
    "TabularMLPRegressor": lambda **kw: TabularMLPRegressor(
        hidden_layer_sizes=(8,), random_state=0, **{"n_cv": 1, **kw}
    ),
}
CLASSIFIERS = ["MLPClassifierNN", "TabularMLPClassifier"]


def _make(name, validate, **kw):
    """An estimator of ``name`` that validates (or not) on a held-out split."""
    kw.setdefault("max_iter", 6)
    if name.startswith("MLP"):
        kw.setdefault("early_stopping", validate)
        if validate:
            kw.setdefault("n_iter_no_change", 100)
    else:
        kw.setdefault("select_best", validate)
    return ESTIMATORS[name](**kw)


def _fit_data(name, n=160, seed=0):
    X, signal = _data(n, seed)
    y = signal > np.median(signal) if "Classifier" in name else signal
    return (_numeric(X) if name.startswith("MLP") else X), y


def _fit(est, X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **kw)


# ------------------------------------------------------------ fitted attributes
@pytest.mark.parametrize("validate", [True, False])
@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_the_same_fitted_attributes_in_both_pairs(name, validate):
    X, y = _fit_data(name)
    est = _fit(_make(name, validate), X, y)
    assert est.n_iter_ == len(est.loss_curve_) == len(est.history_) == 6
    assert est.loss_ == est.loss_curve_[-1]
    n_val = int(np.ceil(est.validation_fraction * 160)) if validate else 0
    assert est.t_ == 6 * (160 - n_val)
    assert [r["epoch"] for r in est.history_] == [1, 2, 3, 4, 5, 6]
    assert all(set(r) == RECORD_KEYS for r in est.history_)
    assert [r["train_loss"] for r in est.history_] == est.loss_curve_
    if validate:
        scores = est.validation_scores_
        assert len(scores) == 6
        assert est.best_validation_score_ == max(scores)
        assert est.best_epoch_ == int(np.argmax(scores)) + 1
        assert est.best_loss_ is None
        assert [r["val_score"] for r in est.history_] == scores
    else:
        assert est.validation_scores_ is None
        assert est.best_validation_score_ is None
        assert est.best_loss_ == min(est.loss_curve_)
        assert est.best_epoch_ == 6
        assert all(r["val_score"] is None for r in est.history_)


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_given_validation_data_and_weights(name):
    X, y = _fit_data(name)
    Xv, yv = _fit_data(name, n=60, seed=1)
    swv = np.linspace(0.5, 2.0, 60)
    est = _fit(_make(name, True), X, y, X_val=Xv, y_val=yv, sample_weight_val=swv)
    assert est.t_ == 6 * 160  # every training row trains
    unweighted = _fit(clone(est), X, y, X_val=Xv, y_val=yv)
    assert est.validation_scores_ != unweighted.validation_scores_
    with pytest.raises(ValueError, match="y_val was not provided"):
        _fit(clone(est), X, y, X_val=Xv)
    with pytest.raises(ValueError, match="X_val was not provided"):
        _fit(clone(est), X, y, y_val=yv)
    with pytest.raises(ValueError, match="without X_val"):
        _fit(clone(est), X, y, sample_weight_val=swv)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        _fit(clone(est), X, y, X_val=Xv, y_val=yv[:-1])


# ------------------------------------------------------------ callbacks
@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_callbacks_see_every_epoch_and_stop_training(name):
    X, y = _fit_data(name)
    seen = []

    def stop_at_three(record):
        seen.append(dict(record))
        return record["epoch"] == 3

    est = _fit(_make(name, True, callbacks=[stop_at_three]), X, y)
    assert [r["epoch"] for r in seen] == [1, 2, 3]
    assert all(set(r) == RECORD_KEYS for r in seen)
    assert all(r["val_score"] is not None for r in seen)
    assert est.n_iter_ == 3 == len(est.loss_curve_)
    with pytest.raises(TypeError, match="list of callables"):
        _fit(_make(name, True, callbacks=["nope"]), X, y)


# ------------------------------------------------------------ progress and verbose
@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_progress_bar_writes_plain_lines_to_a_stream(name, capsys):
    X, y = _fit_data(name)
    _fit(_make(name, True, progress_bar=True), X, y)
    err = capsys.readouterr().err.splitlines()
    lines = [line for line in err if line.startswith("epoch ")]
    assert [line.split()[1] for line in lines] == [f"{e}/6" for e in range(1, 7)]
    assert all("loss=" in line and "val_" in line for line in lines)


VERBOSE_LINE = {
    # scikit-learn's wording where scikit-learn has one
    ("MLPClassifierNN", None): "Validation score: 0.",
    ("MLPRegressorNN", None): "Validation score: ",
    # a negated loss prints as the loss, with its natural sign
    ("MLPClassifierNN", "loss"): "Validation log-loss: 0.",
    ("MLPRegressorNN", "loss"): "Validation squared error: ",
    ("MLPClassifierNN", "neg_log_loss"): "Validation log loss: 0.",
    ("MLPRegressorNN", "neg_mean_absolute_error"): "Validation mean absolute error: ",
    ("TabularMLPClassifier", None): "Validation log-loss: 0.",
    ("TabularMLPRegressor", None): "Validation squared error: ",
}


@pytest.mark.parametrize("name, scoring", sorted(VERBOSE_LINE, key=str))
def test_verbose_names_the_validation_metric(name, scoring, capsys):
    X, y = _fit_data(name)
    kw = {} if scoring is None else {"scoring": scoring}
    _fit(_make(name, True, verbose=True, **kw), X, y)
    out = capsys.readouterr().out.splitlines()
    assert sum(line.startswith("Iteration ") for line in out) == 6
    lines = [line for line in out if line.startswith("Validation ")]
    assert len(lines) == 6
    assert all(line.startswith(VERBOSE_LINE[name, scoring]) for line in lines)
    assert not any(": -" in line for line in lines if "score" not in line)


# ------------------------------------------------------------ display
@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_the_display_reads_both_pairs_the_same_way(name):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    X, y = _fit_data(name)
    est = _fit(_make(name, True), X, y)
    disp = TrainingCurveDisplay.from_estimator(est)
    assert disp.best_epoch == est.best_epoch_
    np.testing.assert_allclose(disp.loss_curve, est.loss_curve_)
    np.testing.assert_allclose(
        disp.validation_loss, [r["val_loss"] for r in est.history_], rtol=1e-6
    )
    if name.startswith("Tabular"):
        assert disp.metric_name is None  # the score is the negated loss
    else:
        assert disp.metric_name == ("accuracy" if is_classifier(est) else "R2")
    matplotlib.pyplot.close("all")


# ------------------------------------------------------------ warm start
@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_warm_start_continues_from_the_fitted_weights(name):
    X, y = _fit_data(name)
    est = _fit(_make(name, False, warm_start=True), X, y)
    first = list(est.loss_curve_)
    _fit(est, X, y)
    assert est.loss_curve_[:6] == first and len(est.loss_curve_) == 12
    assert est.loss_curve_[6] < first[0]  # it did not start over
    cold = _fit(_make(name, False), X, y)
    _fit(cold, X, y)
    assert cold.loss_curve_ == first  # without warm_start a fit starts over


def test_warm_start_keeps_the_tabular_encoder_and_target_scaling():
    X, y = _fit_data("TabularMLPRegressor")
    reg = _fit(_make("TabularMLPRegressor", False, warm_start=True), X, y)
    encoder, mean = reg._encoder, reg._y_mean
    _fit(reg, X.iloc[:80], y[:80] + 100.0)
    assert reg._encoder is encoder and reg._y_mean is mean


# ------------------------------------------------------------ partial_fit
@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_partial_fit_runs_one_epoch_per_call(name):
    X, y = _fit_data(name)
    est = _make(name, False)
    kw = {"classes": np.unique(y)} if "Classifier" in name else {}
    for _ in range(3):
        est.partial_fit(X, y, **kw)
    assert est.n_iter_ == 1
    assert len(est.loss_curve_) == 3
    assert est.loss_curve_[2] < est.loss_curve_[0]
    assert est.validation_scores_ is None
    assert est.t_ == 3 * 160


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_partial_fit_follows_scikit_learns_classes_rule(name):
    X, y = _fit_data(name)
    est = _make(name, False)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        est.partial_fit(X, y)
    est.partial_fit(X[:40], y[:40], classes=[False, True])
    np.testing.assert_array_equal(est.classes_, [False, True])
    with pytest.raises(ValueError, match="is not the same as on last call"):
        est.partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="classes not in"):
        est.partial_fit(X[:3], np.array([2, 2, 2]))


def test_tabular_partial_fit_fits_the_encoder_once():
    X, y = _fit_data("TabularMLPClassifier")
    clf = _make("TabularMLPClassifier", False)
    clf.partial_fit(X.iloc[:80], y[:80], classes=[False, True])
    encoder = clf._encoder
    before = encoder.transform(X.iloc[:5])
    # a category first seen later goes to the unknown slot: no error, the
    # known columns encode as before
    later = X.iloc[80:].copy()
    later.loc[later.index[:10], "c"] = "never seen"
    clf.partial_fit(later, y[80:])
    assert clf._encoder is encoder
    np.testing.assert_array_equal(encoder.transform(X.iloc[:5]), before)
    unseen = encoder.transform(later.iloc[:1])
    seen = encoder.transform(X.iloc[80:81])
    assert not np.array_equal(unseen, seen)
    assert np.isfinite(clf.predict_proba(later)).all()
    # other columns on a later call are an error
    with pytest.raises(ValueError, match="feature names"):
        clf.partial_fit(X.rename(columns={"a": "z"}), y)
    with pytest.raises(ValueError, match="missing"):
        clf.partial_fit(X[["a", "b"]], y)


def test_tabular_regressor_partial_fit_keeps_the_first_target_scaling():
    X, y = _fit_data("TabularMLPRegressor")
    reg = _make("TabularMLPRegressor", False)
    reg.partial_fit(X.iloc[:80], y[:80])
    mean, scale = reg._y_mean.copy(), reg._y_scale.copy()
    reg.partial_fit(X.iloc[80:], y[80:] * 10)
    np.testing.assert_array_equal(reg._y_mean, mean)
    np.testing.assert_array_equal(reg._y_scale, scale)
    with pytest.raises(ValueError, match="output"):
        reg.partial_fit(X, np.c_[y, y])


# ------------------------------------------------------------ class weights
@pytest.mark.parametrize("name", CLASSIFIERS)
@pytest.mark.parametrize(
    "class_weight, match",
    [
        ({False: -0.5, True: 1.0}, "finite and >= 0"),
        ({False: np.inf}, "finite and >= 0"),
        ({False: 1.0, 5: 2.0}, r"labels \[5\] that are not in the classes"),
    ],
)
def test_invalid_class_weights_are_refused_by_both_pairs(name, class_weight, match):
    # the tabular classifier used to train with a negative loss on the first
    # and to ignore the unknown label of the last
    X, y = _fit_data(name)
    with pytest.raises(ValueError, match=match):
        _fit(_make(name, False, class_weight=class_weight), X, y)


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_balanced_class_weights_weigh_validation_rows_as_training_rows(name):
    X, y = _fit_data(name)
    y = y.copy()
    y[:100] = True  # imbalanced: 100 + some True
    Xv, yv = X[:20], np.r_[[True] * 10, [False] * 10]
    est = _make(name, True, class_weight="balanced")
    weights = class_weight_vector("balanced", np.array([False, True]), y)
    swv = weights[yv.astype(int)]
    balanced = _fit(est, X, y, X_val=Xv, y_val=yv)
    explicit = _fit(_make(name, True), X, y, X_val=Xv, y_val=yv)
    explicit_w = _fit(
        _make(name, True, class_weight={False: weights[0], True: weights[1]}),
        X,
        y,
        X_val=Xv,
        y_val=yv,
        sample_weight_val=np.ones(20),
    )
    np.testing.assert_allclose(
        balanced.validation_scores_, explicit_w.validation_scores_
    )
    assert balanced.validation_scores_ != explicit.validation_scores_
    assert swv[0] < swv[-1]  # the rare class weighs more


def test_class_weight_vector():
    classes = np.array([0, 1, 2])
    y = np.array([0, 0, 0, 1])
    np.testing.assert_allclose(
        class_weight_vector("balanced", classes, y), [4 / 6, 4 / 2, 1.0]
    )
    np.testing.assert_allclose(class_weight_vector({1: 3}, classes, y), [1, 3, 1])


# ------------------------------------------------------------ split
def test_split_rows_stratifies_where_it_can():
    labels = np.repeat([0, 1, 2], [50, 30, 20])
    _, val = split_rows(100, 0.2, 0, labels)
    assert np.bincount(labels[val]).tolist() == [10, 6, 4]
    lonely = np.r_[labels[:-1], 3]  # a class of one member: at random
    train, val = split_rows(100, 0.2, 0, lonely)
    assert len(val) == 20 and len(np.intersect1d(train, val)) == 0
    with pytest.raises(ValueError, match="least populated class"):
        split_rows(100, 0.2, 0, lonely, always_stratify=True)


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_zero_weight_validation_rows_are_an_error(name):
    X, y = _fit_data(name)
    Xv, yv = _fit_data(name, n=20, seed=1)
    sw = np.ones(20)
    sw[0] = 0.0
    est = _make(name, True)
    with pytest.raises(ValueError, match="all zero|non-zero weight"):
        _fit(est, X, y, X_val=Xv, y_val=yv, sample_weight_val=np.zeros(20))
    _fit(est, X, y, X_val=Xv, y_val=yv, sample_weight_val=sw)


# ------------------------------------------------------------ divergence
@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_a_diverging_call_keeps_the_weights_from_before(name):
    X, y = _fit_data(name)
    est = _fit(_make(name, False, warm_start=True), X, y)
    before = est.predict(X)
    est.set_params(learning_rate_init=1e300)
    if name.startswith("MLP"):
        est.set_params(solver="sgd")
    with pytest.raises(ValueError, match="non-finite parameter weights"):
        _fit(est, X, y)
    np.testing.assert_array_equal(est.predict(X), before)
    fresh = _make(name, False, learning_rate_init=1e300)
    if name.startswith("MLP"):
        fresh.set_params(solver="sgd")
    with pytest.raises(ValueError, match=f"^{re.escape(NON_FINITE)}$"):
        _fit(fresh, X, y)
    assert not fresh.__sklearn_is_fitted__()


def test_verbose_writes_to_stdout_only():
    X, y = _fit_data("TabularMLPClassifier")
    buf = io.StringIO()
    from contextlib import redirect_stdout

    with redirect_stdout(buf):
        _fit(_make("TabularMLPClassifier", True, verbose=True, max_iter=2), X, y)
    assert buf.getvalue().count("Validation log-loss") == 2


def test_a_scorer_never_sees_the_estimator_change_mid_fit():
    X, y = _fit_data("MLPClassifierNN")
    est = _make("MLPClassifierNN", True, scoring="accuracy")
    weights = []

    def watch(record):
        weights.append(est.__dict__.get("coefs_"))

    est.set_params(callbacks=[watch])
    _fit(est, X, y)
    assert weights == [None] * 6  # a first fit has no coefs_ until it ends
    assert len(est.validation_scores_) == 6
    assert all(0.0 <= s <= 1.0 for s in est.validation_scores_)


@pytest.mark.parametrize("name", ["TabularMLPClassifier", "TabularMLPRegressor"])
def test_partial_fit_after_a_validating_fit(name):
    # the tabular pair validates by default; partial_fit then trains on all
    # rows and keeps its epoch, tracking the training loss
    X, y = _fit_data(name)
    est = _fit(_make(name, True), X, y)
    est.partial_fit(X, y)
    assert len(est.loss_curve_) == 7 and est.n_iter_ == 1
    assert est.validation_scores_ is None and est.best_validation_score_ is None
    assert est.best_loss_ == est.loss_curve_[-1]  # the first loss tracked
    assert est.best_epoch_ == 7
