"""sknn's additions beyond scikit-learn's MLPs.

Class weights, explicit validation data (with metadata routing), the
early-stopping ``scoring``, the extra solvers, schedules and activations,
gradient clipping, per-epoch callbacks and ``history_``, ``verbose=2``,
the handling of diverging fits (the displays: test_display.py).
"""

import io
import math
import sys
import types
import warnings

import numpy as np
import pytest
import sklearn
from _common import RECORD_KEYS, moving_average, record_steps, scaled_regression
from _common import coefs_equal as _coefs_equal
from _common import small_classifier as _clf
from _common import small_regressor as _reg
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import (
    load_digits,
    make_classification,
    make_multilabel_classification,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    log_loss,
    make_scorer,
    mean_squared_error,
    r2_score,
    recall_score,
)
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_sample_weight

from sknn import MLPRegressorNN
from sknn._core.optimizers import Adam

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


# --------------------------------------------------------------------- data
@pytest.fixture(scope="module")
def digits():
    """Scaled digits: 800 training, 200 validation and 400 test samples."""
    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, train_size=1000, test_size=400, stratify=y, random_state=0
    )
    scaler = StandardScaler().fit(X_tr)
    X_tr, X_te = scaler.transform(X_tr), scaler.transform(X_te)
    return X_tr[:800], y_tr[:800], X_tr[800:], y_tr[800:], X_te, y_te


@pytest.fixture(scope="module")
def imbalanced():
    """A 90/10 binary problem split into training and test halves."""
    X, y = make_classification(
        n_samples=600,
        n_features=10,
        n_informative=4,
        weights=[0.9, 0.1],
        class_sep=0.7,
        flip_y=0.0,
        random_state=0,
    )
    return train_test_split(X, y, stratify=y, random_state=0)


@pytest.fixture(scope="module")
def regression():
    X, y = scaled_regression()
    return X[:200], y[:200], X[200:], y[200:]


def _weights_of(y, class_weight):
    return np.array([class_weight.get(label, 1.0) for label in y], dtype=float)


# ------------------------------------------------------------- class_weight
@pytest.mark.parametrize("seed", [0, 1])
def test_balanced_class_weight_helps_minority_class(seed, imbalanced):
    X_tr, X_te, y_tr, y_te = imbalanced
    results = {}
    for cw in (None, "balanced"):
        est = _clf(
            class_weight=cw, max_iter=60, learning_rate_init=0.01, random_state=seed
        ).fit(X_tr, y_tr)
        pred = est.predict(X_te)
        results[cw] = (recall_score(y_te, pred), balanced_accuracy_score(y_te, pred))
    assert results["balanced"][0] > results[None][0] + 0.1
    assert results["balanced"][1] > results[None][1] + 0.05


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_class_weight_dict_equals_sample_weight(solver, digits):
    X, y = digits[0][:300], digits[1][:300]
    cw = {0: 3.0, 4: 0.5, 7: 2.0}
    a = _clf(solver=solver, class_weight=cw, max_iter=8).fit(X, y)
    b = _clf(solver=solver, max_iter=8).fit(X, y, sample_weight=_weights_of(y, cw))
    assert _coefs_equal(a, b)
    assert a.loss_ == b.loss_


def test_class_weight_dict_with_string_labels():
    X, y = make_classification(
        n_samples=150, n_classes=3, n_informative=4, random_state=0
    )
    labels = np.array(["red", "green", "blue"])[y]
    cw = {"red": 2.0, "blue": 0.25}
    a = _clf(class_weight=cw, max_iter=5).fit(X, labels)
    b = _clf(max_iter=5).fit(X, labels, sample_weight=_weights_of(labels, cw))
    assert _coefs_equal(a, b)


def test_balanced_class_weight_equals_balanced_sample_weight(imbalanced):
    X_tr, _, y_tr, _ = imbalanced
    a = _clf(class_weight="balanced", max_iter=5).fit(X_tr, y_tr)
    sw = compute_sample_weight("balanced", y_tr)
    b = _clf(max_iter=5).fit(X_tr, y_tr, sample_weight=sw)
    for ca, cb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert_allclose(ca, cb, rtol=1e-10, atol=1e-12)


def test_class_weight_multiplies_sample_weight(digits):
    X, y = digits[0][:300], digits[1][:300]
    cw = {1: 4.0, 2: 0.5}
    sw = np.random.RandomState(0).uniform(0.5, 2.0, size=len(y))
    a = _clf(class_weight=cw, max_iter=5).fit(X, y, sample_weight=sw)
    b = _clf(max_iter=5).fit(X, y, sample_weight=sw * _weights_of(y, cw))
    assert _coefs_equal(a, b)
    # and both differ from the class weights alone
    c = _clf(class_weight=cw, max_iter=5).fit(X, y)
    assert not _coefs_equal(a, c)


def test_class_weight_in_partial_fit(digits):
    X, y = digits[0][:300], digits[1][:300]
    classes = np.arange(10)
    cw = {3: 5.0, 8: 0.2}
    a = _clf(class_weight=cw)
    b = _clf()
    for start in (0, 100, 200):
        Xb, yb = X[start : start + 100], y[start : start + 100]
        a.partial_fit(Xb, yb, classes=classes)
        b.partial_fit(Xb, yb, classes=classes, sample_weight=_weights_of(yb, cw))
    assert _coefs_equal(a, b)

    # 'balanced' is computed on the data of each call
    c = _clf(class_weight="balanced").partial_fit(X, y, classes=classes)
    d = _clf().partial_fit(
        X, y, classes=classes, sample_weight=compute_sample_weight("balanced", y)
    )
    for cc, cd in zip(c.coefs_, d.coefs_):
        assert_allclose(cc, cd, rtol=1e-10, atol=1e-12)


def test_class_weight_unknown_label_raises(digits):
    X, y = digits[0][:100], digits[1][:100]
    with pytest.raises(ValueError, match="class_weight"):
        _clf(class_weight={0: 1.0, 42: 2.0}).fit(X, y)
    with pytest.raises(ValueError, match="class_weight"):
        _clf(class_weight={"a": 2.0}).fit(X, y)


@pytest.mark.parametrize("cw", ["balanced", {0: 2.0}])
def test_class_weight_multilabel_raises(cw):
    X, Y = make_multilabel_classification(n_samples=50, n_classes=3, random_state=0)
    with pytest.raises(ValueError, match="class_weight"):
        _clf(class_weight=cw).fit(X, Y)
    # without class weights the same data is fine
    _clf(max_iter=2).fit(X, Y)


def test_class_weight_applied_to_explicit_validation_set(imbalanced):
    X_tr, X_val, y_tr, y_val = imbalanced
    cw = {0: 1.0, 1: 9.0}
    est = _clf(
        class_weight=cw, early_stopping=True, max_iter=15, learning_rate_init=0.01
    ).fit(X_tr, y_tr, X_val=X_val, y_val=y_val)
    pred = est.predict(X_val)
    weighted = accuracy_score(y_val, pred, sample_weight=_weights_of(y_val, cw))
    assert est.best_validation_score_ == pytest.approx(weighted, rel=1e-12)
    assert weighted != pytest.approx(accuracy_score(y_val, pred), rel=1e-6)


def test_class_weight_applied_to_internal_validation_split(imbalanced):
    """The internal early-stopping split scores with the class weights."""
    X_tr, _, y_tr, _ = imbalanced
    cw = {0: 1.0, 1: 7.0}
    calls = []

    def scorer(est, X, y, sample_weight=None):
        pred = est.predict(X)
        calls.append((np.asarray(y).copy(), sample_weight, pred))
        return accuracy_score(y, pred, sample_weight=sample_weight)

    est = _clf(class_weight=cw, early_stopping=True, max_iter=4, scoring=scorer).fit(
        X_tr, y_tr
    )
    assert len(calls) == est.n_iter_
    for (y_val, sw_val, pred), score in zip(calls, est.validation_scores_):
        assert sw_val is not None
        assert_allclose(sw_val, _weights_of(y_val, cw))
        assert score == accuracy_score(y_val, pred, sample_weight=sw_val)

    # the same with the default scorer: validation_scores_ are weighted accuracies
    default = _clf(class_weight=cw, early_stopping=True, max_iter=4).fit(X_tr, y_tr)
    # same seed: same split and the same weights as the run above
    assert_allclose(default.validation_scores_, est.validation_scores_)


# --------------------------------------------------------- validation data
def _with_validation(kind, digits, regression, n_train):
    """``(X, y, X_val, y_val, make)`` for a classifier (the first ``n_train``
    digits) or a regressor, ``make`` building a small estimator of that kind."""
    if kind == "classifier":
        X, y, X_val, y_val = digits[:4]
        return X[:n_train], y[:n_train], X_val, y_val, _clf
    return (*regression, _reg)


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_explicit_validation_data_is_used(kind, digits, regression):
    X, y, X_val, y_val, make = _with_validation(kind, digits, regression, 400)
    est = make(
        early_stopping=True, max_iter=30, n_iter_no_change=3, learning_rate_init=0.02
    ).fit(X, y, X_val=X_val, y_val=y_val)
    # all of X is trained on: nothing is held out
    assert est.t_ == X.shape[0] * est.n_iter_
    assert est.best_validation_score_ == max(est.validation_scores_)
    assert est.score(X_val, y_val) == pytest.approx(
        est.best_validation_score_, rel=1e-12, abs=1e-12
    )
    assert [r["val_score"] for r in est.history_] == est.validation_scores_


def test_explicit_validation_data_differs_from_internal_split(digits):
    X, y, X_val, y_val = digits[0][:300], digits[1][:300], digits[2], digits[3]
    own = _clf(early_stopping=True, max_iter=3).fit(X, y, X_val=X_val, y_val=y_val)
    internal = _clf(early_stopping=True, max_iter=3).fit(X, y)
    assert own.validation_scores_ != internal.validation_scores_
    assert own.t_ != internal.t_


@pytest.mark.parametrize("make", [_clf, _reg])
def test_validation_data_errors(make, digits):
    X, y, X_val, y_val = digits[0][:100], digits[1][:100], digits[2], digits[3]
    es = make(early_stopping=True, max_iter=2)
    with pytest.raises(ValueError, match="y_val"):
        es.fit(X, y, X_val=X_val)
    with pytest.raises(ValueError, match="X_val"):
        es.fit(X, y, y_val=y_val)
    with pytest.raises(ValueError, match="early_stopping"):
        make(max_iter=2).fit(X, y, X_val=X_val, y_val=y_val)
    with pytest.raises(ValueError, match="sample_weight_val"):
        es.fit(X, y, sample_weight_val=np.ones(len(y_val)))
    with pytest.raises(ValueError, match="features"):
        es.fit(X, y, X_val=X_val[:, :10], y_val=y_val)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        es.fit(X, y, X_val=X_val, y_val=y_val[:-3])


def test_validation_labels_must_be_known(digits):
    X, y, X_val, y_val = digits[0][:100], digits[1][:100], digits[2], digits[3]
    with pytest.raises(ValueError, match="classes not in"):
        _clf(early_stopping=True).fit(X, y, X_val=X_val, y_val=y_val + 100)


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_sample_weight_val_changes_scores(kind, digits, regression):
    X, y, X_val, y_val, make = _with_validation(kind, digits, regression, 300)
    sw_val = np.random.RandomState(0).uniform(0.0, 3.0, size=len(y_val))
    params = dict(early_stopping=True, max_iter=6, learning_rate_init=0.02)
    plain = make(**params).fit(X, y, X_val=X_val, y_val=y_val)
    weighted = make(**params).fit(
        X, y, X_val=X_val, y_val=y_val, sample_weight_val=sw_val
    )
    assert plain.validation_scores_ != weighted.validation_scores_
    assert weighted.score(X_val, y_val, sample_weight=sw_val) == pytest.approx(
        weighted.best_validation_score_, rel=1e-12, abs=1e-12
    )


def test_metadata_routing_validation_data_through_pipeline(digits):
    X, y, X_val, y_val = digits[0][:300], digits[1][:300], digits[2], digits[3]
    # raw (unscaled) inputs: the pipeline must transform X_val as well
    X_raw, X_val_raw = X * 4.0 + 8.0, X_val * 4.0 + 8.0
    params = dict(early_stopping=True, max_iter=8, learning_rate_init=0.02)
    with sklearn.config_context(enable_metadata_routing=True):
        est = _clf(**params).set_fit_request(X_val=True, y_val=True)
        pipe = Pipeline(
            [("scale", StandardScaler()), ("mlp", est)], transform_input=["X_val"]
        )
        pipe.fit(X_raw, y, X_val=X_val_raw, y_val=y_val)
        mlp = pipe[-1]
        assert mlp.t_ == X.shape[0] * mlp.n_iter_  # nothing held out
        assert pipe.score(X_val_raw, y_val) == pytest.approx(
            mlp.best_validation_score_, rel=1e-12
        )

        # a pipeline of the estimator alone routes the data unchanged
        alone = Pipeline(
            [("mlp", _clf(**params).set_fit_request(X_val=True, y_val=True))]
        )
        alone.fit(X, y, X_val=X_val, y_val=y_val)
        direct = _clf(**params).fit(X, y, X_val=X_val, y_val=y_val)
        assert alone[-1].validation_scores_ == direct.validation_scores_
        assert _coefs_equal(alone[-1], direct)

        # without a request the pipeline refuses the metadata
        unrequested = Pipeline([("mlp", _clf(**params))])
        with pytest.raises(ValueError, match="X_val"):
            unrequested.fit(X, y, X_val=X_val, y_val=y_val)


# ------------------------------------------------------------------ scoring
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_scoring_loss(kind, digits, regression):
    X, y, X_val, y_val, make = _with_validation(kind, digits, regression, 300)
    est = make(
        early_stopping=True, scoring="loss", max_iter=12, learning_rate_init=0.02
    ).fit(X, y, X_val=X_val, y_val=y_val)
    assert all(s < 0 for s in est.validation_scores_)
    for record in est.history_:
        assert record["val_loss"] == -record["val_score"]
    if kind == "classifier":
        manual = log_loss(y_val, est.predict_proba(X_val), labels=est.classes_)
    else:
        manual = 0.5 * mean_squared_error(y_val, est.predict(X_val))
    assert -est.best_validation_score_ == pytest.approx(manual, rel=1e-9)


def test_val_loss_recorded_with_default_scoring(digits):
    X, y, X_val, y_val = digits[0][:300], digits[1][:300], digits[2], digits[3]
    est = _clf(early_stopping=True, max_iter=8, learning_rate_init=0.02).fit(
        X, y, X_val=X_val, y_val=y_val
    )
    best = int(np.argmax(est.validation_scores_))
    record = est.history_[best]
    assert record["val_score"] == est.best_validation_score_
    manual = log_loss(y_val, est.predict_proba(X_val), labels=est.classes_)
    assert record["val_loss"] == pytest.approx(manual, rel=1e-9)


@pytest.mark.parametrize(
    "make, scoring, metric",
    [
        (_clf, "balanced_accuracy", balanced_accuracy_score),
        (
            _clf,
            "neg_log_loss",
            lambda y, est, X: -log_loss(y, est.predict_proba(X), labels=est.classes_),
        ),
        (_reg, "neg_mean_squared_error", lambda y, p: -mean_squared_error(y, p)),
        (_reg, "r2", r2_score),
    ],
    ids=["balanced_accuracy", "neg_log_loss", "neg_mse", "r2"],
)
def test_scoring_by_name(make, scoring, metric, digits, regression):
    if make is _clf:
        X, y, X_val, y_val = digits[0][:300], digits[1][:300], digits[2], digits[3]
    else:
        X, y, X_val, y_val = regression
    est = make(
        early_stopping=True, scoring=scoring, max_iter=10, learning_rate_init=0.02
    ).fit(X, y, X_val=X_val, y_val=y_val)
    if scoring == "neg_log_loss":
        manual = metric(y_val, est, X_val)
    else:
        manual = metric(y_val, est.predict(X_val))
    assert est.best_validation_score_ == pytest.approx(manual, rel=1e-9, abs=1e-12)
    assert est.best_validation_score_ == max(est.validation_scores_)


def test_scoring_callable(digits):
    X, y, X_val, y_val = digits[0][:300], digits[1][:300], digits[2], digits[3]

    def top_two_digits(est, X, y):
        return float(
            np.mean(est.predict(X)[np.isin(y, [0, 1])] == y[np.isin(y, [0, 1])])
        )

    est = _clf(
        early_stopping=True, scoring=top_two_digits, max_iter=8, learning_rate_init=0.02
    ).fit(X, y, X_val=X_val, y_val=y_val)
    assert est.best_validation_score_ == top_two_digits(est, X_val, y_val)
    # make_scorer objects work too
    est2 = _clf(
        early_stopping=True,
        scoring=make_scorer(recall_score, average="macro"),
        max_iter=4,
    ).fit(X, y, X_val=X_val, y_val=y_val)
    assert est2.best_validation_score_ == pytest.approx(
        recall_score(y_val, est2.predict(X_val), average="macro")
    )


@pytest.mark.parametrize("make", [_clf, _reg])
def test_invalid_scoring_name_raises(make, digits):
    X, y = digits[0][:100], digits[1][:100]
    with pytest.raises(ValueError, match="Got 'not_a_scorer' instead"):
        make(early_stopping=True, scoring="not_a_scorer").fit(X, y)


# ------------------------------------------------------- solvers, schedules
@pytest.mark.parametrize(
    "solver, lr", [("adamw", 0.01), ("rmsprop", 0.003)], ids=["adamw", "rmsprop"]
)
def test_new_solvers_train_well(solver, lr, digits):
    X, y, _, _, X_te, y_te = digits
    est = _clf(
        hidden_layer_sizes=(32,), solver=solver, learning_rate_init=lr, max_iter=20
    ).fit(X, y)
    assert est.score(X_te, y_te) > 0.9
    assert est.loss_curve_[-1] < est.loss_curve_[0] / 5


def test_adamw_weight_decay_shrinks_weights(digits):
    X, y = digits[0][:400], digits[1][:400]
    norms = {}
    for wd in (0.0, 0.5):
        est = _clf(
            solver="adamw", weight_decay=wd, learning_rate_init=0.01, max_iter=15
        ).fit(X, y)
        norms[wd] = sum(float(np.sum(c**2)) for c in est.coefs_)
    assert norms[0.5] < 0.9 * norms[0.0]


def test_adamw_without_weight_decay_is_adam(digits):
    X, y = digits[0][:200], digits[1][:200]
    a = _clf(solver="adamw", weight_decay=0.0, max_iter=4).fit(X, y)
    b = _clf(solver="adam", max_iter=4).fit(X, y)
    assert _coefs_equal(a, b)


def test_adamw_decays_weights_not_biases(digits):
    """One AdamW step is the Adam step plus ``-lr * weight_decay * W``.

    The gradient is taken before the decay, so with a single minibatch the
    biases match Adam's exactly and the weights are linear in weight_decay.
    """
    X, y = digits[0][:100], digits[1][:100]
    lr = 0.05
    fits = {
        wd: _clf(
            solver="adamw",
            weight_decay=wd,
            learning_rate_init=lr,
            max_iter=1,
            batch_size=100,
        ).fit(X, y)
        for wd in (0.0, 1.0, 2.0)
    }
    adam = _clf(solver="adam", learning_rate_init=lr, max_iter=1, batch_size=100)
    adam.fit(X, y)
    for wd in (1.0, 2.0):
        for b, b_adam in zip(fits[wd].intercepts_, adam.intercepts_):
            assert_array_equal(b, b_adam)
        assert not _coefs_equal(fits[wd], adam)
    for c0, c1, c2 in zip(fits[0.0].coefs_, fits[1.0].coefs_, fits[2.0].coefs_):
        assert_allclose(c2 - c0, 2.0 * (c1 - c0), rtol=1e-9, atol=1e-12)
        assert np.abs(c1 - c0).max() > 0


@pytest.mark.parametrize("solver", ["sgd", "adam", "rmsprop"])
def test_cosine_schedule_follows_half_cosine(solver, digits):
    X, y = digits[0][:200], digits[1][:200]
    lr0, max_iter = 0.01, 12
    est = _clf(
        solver=solver,
        learning_rate="cosine",
        learning_rate_init=lr0,
        max_iter=max_iter,
        n_iter_no_change=1000,
    ).fit(X, y)
    assert est.n_iter_ == max_iter
    rates = np.array([r["learning_rate"] for r in est.history_])
    epochs = np.arange(max_iter)  # epochs completed before each epoch
    expected = 0.5 * lr0 * (1.0 + np.cos(np.pi * epochs / max_iter))
    assert_allclose(rates, expected, rtol=1e-12)
    assert rates[0] == lr0
    assert np.all(np.diff(rates) < 0)
    assert rates[-1] < 0.02 * lr0


def test_adaptive_schedule_with_adam_lowers_rate_instead_of_stopping(digits):
    X, y = digits[0][:200], digits[1][:200]
    lr0 = 1e-3
    # a huge tol: no epoch ever counts as an improvement after the first
    params = dict(
        solver="adam",
        learning_rate_init=lr0,
        tol=1e3,
        n_iter_no_change=2,
        max_iter=40,
    )
    constant = _clf(learning_rate="constant", **params).fit(X, y)
    assert constant.n_iter_ == 4  # stops at the first stall

    adaptive = _clf(learning_rate="adaptive", **params).fit(X, y)
    rates = np.array([r["learning_rate"] for r in adaptive.history_])
    assert adaptive.n_iter_ > 4
    assert rates[0] == lr0
    distinct = np.unique(rates)[::-1]
    assert len(distinct) >= 3
    assert_allclose(distinct[:-1] / distinct[1:], 5.0, rtol=1e-12)
    # the first drop comes after the first stall, at the end of epoch 4
    assert_array_equal(rates[:4], lr0)
    assert rates[4] == pytest.approx(lr0 / 5)
    # ... and training ends once the rate is at most 1e-6, before max_iter
    assert adaptive.n_iter_ < 40
    assert rates.min() <= 1e-6


def test_invscaling_with_sgd_follows_formula(digits):
    X, y = digits[0][:150], digits[1][:150]
    lr0, power_t, n = 0.05, 0.4, 150
    est = _clf(
        solver="sgd",
        learning_rate="invscaling",
        learning_rate_init=lr0,
        power_t=power_t,
        max_iter=6,
        n_iter_no_change=1000,
    ).fit(X, y)
    rates = np.array([r["learning_rate"] for r in est.history_])
    t_before = n * np.arange(6)  # samples seen before each epoch
    expected = np.where(t_before == 0, lr0, lr0 / (t_before + 1.0) ** power_t)
    assert_allclose(rates, expected, rtol=1e-12)


def test_invscaling_with_adam_is_constant_as_in_sklearn(digits):
    X, y = digits[0][:150], digits[1][:150]
    est = _clf(solver="adam", learning_rate="invscaling", max_iter=4).fit(X, y)
    assert {r["learning_rate"] for r in est.history_} == {0.001}


# --------------------------------------------------------------- activations
def _act(name, Z):
    if name == "leaky_relu":
        return np.where(Z > 0, Z, 0.01 * Z)
    if name == "elu":
        return np.where(Z > 0, Z, np.expm1(np.minimum(Z, 0)))
    if name == "gelu":
        return 0.5 * Z * (1 + np.tanh(math.sqrt(2 / math.pi) * (Z + 0.044715 * Z**3)))
    raise ValueError(name)


@pytest.mark.parametrize("activation", ["leaky_relu", "elu", "gelu"])
def test_new_activations(activation, digits):
    X, y, _, _, X_te, y_te = digits
    est = _clf(
        hidden_layer_sizes=(32,),
        activation=activation,
        learning_rate_init=0.01,
        max_iter=15,
    ).fit(X, y)
    assert est.score(X_te, y_te) > 0.9
    # predict_proba is the documented forward pass
    A = X_te
    for W, b in zip(est.coefs_[:-1], est.intercepts_[:-1]):
        A = _act(activation, A @ W + b)
    Z = A @ est.coefs_[-1] + est.intercepts_[-1]
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    assert_allclose(est.predict_proba(X_te), P, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("activation", ["leaky_relu", "elu", "gelu"])
def test_new_activations_regression_lbfgs(activation, regression):
    X, y, X_te, y_te = regression
    est = _reg(activation=activation, solver="lbfgs", max_iter=60).fit(X, y)
    assert est.score(X_te, y_te) > 0.8


# -------------------------------------------------------- gradient clipping
def test_max_grad_norm_changes_training(digits):
    X, y = digits[0][:200], digits[1][:200]
    free = _clf(max_iter=3).fit(X, y)
    clipped = _clf(max_iter=3, max_grad_norm=1e-3).fit(X, y)
    loose = _clf(max_iter=3, max_grad_norm=1e12).fit(X, y)
    assert not _coefs_equal(free, clipped)
    assert _coefs_equal(free, loose)  # a threshold never reached changes nothing


def test_max_grad_norm_bounds_sgd_steps(digits):
    """SGD without momentum moves the parameters by at most lr * max_grad_norm."""
    X, y = digits[0][:100], digits[1][:100]
    steps = {}
    for max_norm in (None, 0.01):
        est = _clf(
            solver="sgd", momentum=0.0, max_iter=1, batch_size=100, warm_start=True
        ).fit(X, y)
        before = np.concatenate([c.ravel() for c in est.coefs_ + est.intercepts_])
        # a warm-started fit restarts the schedule at the new learning rate
        est.set_params(learning_rate_init=1.0, max_grad_norm=max_norm)
        est.fit(X, y)  # one epoch of a single minibatch: one step
        after = np.concatenate([c.ravel() for c in est.coefs_ + est.intercepts_])
        steps[max_norm] = np.linalg.norm(after - before)
    assert steps[None] > 0.05
    assert steps[0.01] == pytest.approx(0.01, rel=1e-6)


def test_max_grad_norm_keeps_diverging_training_finite():
    X, y = load_digits(return_X_y=True)
    X, y = X[:300] * 1e3, y[:300].astype(float)  # badly scaled on purpose
    params = dict(
        solver="sgd", learning_rate_init=1e3, max_iter=30, n_iter_no_change=1000
    )
    with pytest.raises(ValueError, match="non-finite parameter weights"):
        _reg(**params).fit(X, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clipped = _reg(max_grad_norm=1.0, **params).fit(X, y)
    assert not [w for w in caught if "diverged" in str(w.message)]
    assert clipped.n_iter_ == 30
    assert np.all(np.isfinite(clipped.loss_curve_))
    assert all(np.isfinite(c).all() for c in clipped.coefs_ + clipped.intercepts_)
    assert np.all(np.isfinite(clipped.predict(X)))


def test_max_grad_norm_tames_large_learning_rate():
    X, y = load_digits(return_X_y=True)
    X, y = X[:300], y[:300].astype(float)  # unscaled
    params = dict(
        solver="sgd", learning_rate_init=0.1, max_iter=30, n_iter_no_change=1000
    )
    free = _reg(**params).fit(X, y)
    clipped = _reg(max_grad_norm=1.0, **params).fit(X, y)
    assert free.loss_ > 1e6
    assert clipped.loss_ < 20.0
    assert clipped.score(X, y) > 0.0


# ---------------------------------------------------------------- callbacks
def test_callbacks_receive_records_and_history(digits):
    X, y = digits[0][:200], digits[1][:200]
    seen_a, seen_b = [], []
    est = _clf(
        max_iter=5, early_stopping=True, callbacks=[seen_a.append, seen_b.append]
    ).fit(X, y)
    assert len(seen_a) == len(seen_b) == est.n_iter_ == 5
    assert est.history_ == seen_a
    for i, record in enumerate(est.history_, start=1):
        assert isinstance(record, dict)
        assert set(record) == RECORD_KEYS
        assert record["epoch"] == i
        assert record["seconds"] >= 0.0
        assert record["learning_rate"] == 0.001
        assert isinstance(record["val_loss"], float)
    assert [r["train_loss"] for r in est.history_] == est.loss_curve_
    assert [r["val_score"] for r in est.history_] == est.validation_scores_


def test_history_without_validation(digits):
    X, y = digits[0][:200], digits[1][:200]
    est = _reg(max_iter=4).fit(X, y.astype(float))
    assert len(est.history_) == 4
    for record in est.history_:
        assert set(record) == RECORD_KEYS
        assert record["val_score"] is None
        assert record["val_loss"] is None
    # each fit starts a new history
    est.fit(X, y.astype(float))
    assert len(est.history_) == 4


def test_callback_stops_training_without_max_iter_warning(digits):
    X, y = digits[0][:200], digits[1][:200]
    calls = []

    def stop_at_three(record):
        calls.append(record["epoch"])
        return record["epoch"] == 3

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = _clf(max_iter=50, callbacks=[stop_at_three]).fit(X, y)
    assert est.n_iter_ == 3
    assert calls == [1, 2, 3]
    assert len(est.loss_curve_) == len(est.history_) == 3
    assert not [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    # stopping with early stopping still restores the best weights
    est = _clf(
        max_iter=50, early_stopping=True, callbacks=[lambda r: r["epoch"] == 4]
    ).fit(X, y)
    assert est.n_iter_ == 4
    assert est.best_validation_score_ == max(est.validation_scores_)


def test_all_callbacks_called_even_if_one_stops(digits):
    X, y = digits[0][:100], digits[1][:100]
    second = []
    est = _clf(max_iter=10, callbacks=[lambda r: True, second.append]).fit(X, y)
    assert est.n_iter_ == 1
    assert len(second) == 1


def test_callback_object_with_state(digits):
    X, y = digits[0][:100], digits[1][:100]

    class Best:
        def __init__(self):
            self.best = np.inf

        def __call__(self, record):
            self.best = min(self.best, record["train_loss"])

    best = Best()
    est = _clf(max_iter=5, callbacks=[best]).fit(X, y)
    assert best.best == min(est.loss_curve_)


@pytest.mark.parametrize("callbacks", [[1], [print, "x"], (None,)])
def test_non_callable_callback_raises_type_error(callbacks, digits):
    X, y = digits[0][:50], digits[1][:50]
    with pytest.raises(TypeError, match="callable"):
        _clf(callbacks=callbacks).fit(X, y)


def test_callbacks_work_with_partial_fit(digits):
    X, y = digits[0][:100], digits[1][:100]
    seen = []
    est = _clf(callbacks=[seen.append])
    est.partial_fit(X, y, classes=np.arange(10))
    est.partial_fit(X, y)
    assert len(seen) == 2


# ------------------------------------------------------------- progress bar
def test_verbose_2_prints_sklearn_lines_not_a_bar(capsys, digits):
    X, y = digits[0][:100], digits[1][:100]
    _clf(max_iter=3, verbose=2).fit(X, y)
    captured = capsys.readouterr()
    assert captured.out.count("Iteration ") == 3
    assert captured.err == ""


def test_progress_bar_plain_lines_without_a_terminal(capsys, digits):
    # capsys's stderr is no terminal: plain lines, no carriage returns
    X, y = digits[0][:100], digits[1][:100]
    _clf(max_iter=20, progress_bar=True, early_stopping=True).fit(X, y)
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert [ln.split()[:2] for ln in lines][:2] == [
        ["epoch", "2/20"],
        ["epoch", "4/20"],
    ]
    assert all("val_score=" in ln and "eta=" in ln for ln in lines)
    assert "\r" not in captured.err


class _FakeBar:
    def __init__(self, events, total, unit, file):
        self.events = events
        events.append(("init", total, unit))
        self.n = 0

    def update(self, k):
        self.n += k
        self.events.append(("update", self.n))

    def set_postfix(self, fields, refresh=True):
        self.events.append(("postfix", sorted(fields)))

    def close(self):
        self.events.append(("close",))


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_uses_tqdm_in_a_terminal(monkeypatch, digits):
    events = []
    fake = types.ModuleType("tqdm.auto")
    fake.tqdm = lambda **kw: _FakeBar(events, **kw)
    monkeypatch.setitem(sys.modules, "tqdm", types.ModuleType("tqdm"))
    monkeypatch.setitem(sys.modules, "tqdm.auto", fake)
    monkeypatch.setattr(sys, "stderr", _Terminal())
    X, y = digits[0][:100], digits[1][:100]
    _clf(max_iter=3, progress_bar=True, early_stopping=True).fit(X, y)
    assert events[0] == ("init", 3, "epoch")
    assert [e[1] for e in events if e[0] == "update"] == [1, 2, 3]
    assert ("postfix", ["loss", "val_score"]) in events
    assert events[-1] == ("close",)
    assert sys.stderr.getvalue() == ""


def test_progress_bar_in_a_terminal_without_tqdm(monkeypatch, digits):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    monkeypatch.setattr(sys, "stderr", _Terminal())
    X, y = digits[0][:100], digits[1][:100]
    _clf(max_iter=3, progress_bar=True).fit(X, y)
    lines = sys.stderr.getvalue().splitlines()
    assert [ln.split()[1] for ln in lines] == ["1/3", "2/3", "3/3"]


def test_scorer_without_sample_weight_argument_with_class_weight(imbalanced):
    X, _, y, _ = imbalanced
    calls = []

    def scorer(est, X_val, y_val):  # takes no sample_weight
        calls.append(len(y_val))
        return float(np.mean(est.predict(X_val) == y_val))

    est = _clf(early_stopping=True, class_weight="balanced", scoring=scorer)
    est.fit(X, y)
    assert len(calls) == est.n_iter_
    assert est.best_validation_score_ == max(est.validation_scores_)


# ---------------------------------------------------------------- divergence
@pytest.mark.parametrize(
    "make, dtype", [(_clf, np.float32), (_reg, np.float64)], ids=["clf32", "reg64"]
)
def test_diverging_fit_raises_as_sklearn(make, dtype):
    X, y = load_digits(return_X_y=True)
    X = (X[:300] * 1e3).astype(dtype)
    y = y[:300]
    est = make(solver="sgd", learning_rate_init=1e3, max_iter=30, n_iter_no_change=1000)
    with pytest.raises(ValueError, match="non-finite parameter weights"):
        est.fit(X, y)
    assert not hasattr(est, "coefs_")


def test_diverging_classifier_float64_warns(digits):
    """Weights blow up (finite): training ends at max_iter with a warning."""
    X, y = load_digits(return_X_y=True)
    with pytest.warns(ConvergenceWarning):
        est = _clf(
            solver="sgd", learning_rate_init=1e3, max_iter=20, n_iter_no_change=1000
        ).fit(X[:300] * 1e3, y[:300])
    assert all(np.isfinite(c).all() for c in est.coefs_ + est.intercepts_)


def test_ema_decay_keeps_the_best_epochs_moving_average(monkeypatch):
    """With early stopping the kept weights are the moving average at the end
    of the best epoch, over the raw steps of the fit without it."""
    X, y = scaled_regression()
    params = dict(
        hidden_layer_sizes=(16,),
        early_stopping=True,
        max_iter=12,
        batch_size=50,
        random_state=0,
    )
    steps = record_steps(monkeypatch, Adam)
    raw = MLPRegressorNN(**params).fit(X, y)
    avg = MLPRegressorNN(**params, ema_decay=0.9).fit(X, y)
    (_, raw_steps), (_, avg_steps) = steps
    # the average does not change the raw training
    assert len(raw_steps) == len(avg_steps)
    for a, b in zip(raw_steps, avg_steps):
        assert_array_equal(a, b)
    per_epoch = math.ceil(270 / 50)  # 10% of 300 rows held out
    assert len(avg_steps) == 1 + per_epoch * avg.n_iter_
    kept = avg._fitted_net[1]
    expected = moving_average(avg_steps[: 1 + per_epoch * avg.best_epoch_], 0.9)
    assert_allclose(kept, expected, rtol=1e-10, atol=1e-12)
    assert not np.allclose(kept, avg_steps[per_epoch * avg.best_epoch_])
    # its validation score is the average's
    assert avg.best_validation_score_ == pytest.approx(
        avg.validation_scores_[avg.best_epoch_ - 1]
    )
    assert avg.validation_scores_ != raw.validation_scores_


def test_ema_decay_ends_a_fit_without_validation_on_the_average(monkeypatch):
    X, y = scaled_regression()
    steps = record_steps(monkeypatch, Adam)
    est = _reg(ema_decay=0.5, batch_size=64).fit(X, y)
    (_, trajectory) = steps[0]
    first_end = est._fitted_net[1].copy()
    assert_allclose(first_end, moving_average(trajectory, 0.5), rtol=1e-10, atol=1e-12)
    # a second call (warm start) averages from its own starting weights
    est.set_params(warm_start=True, max_iter=3).fit(X, y)
    (_, second) = steps[1]
    assert_array_equal(second[0], first_end)
    assert_allclose(
        est._fitted_net[1], moving_average(second, 0.5), rtol=1e-10, atol=1e-12
    )
