"""Reliability: bad input, numerical faults, interruption, reproducibility,
concurrency and persistence of :class:`MLPClassifierNN` and
:class:`MLPRegressorNN`.

Error messages are matched on the key phrase scikit-learn uses for the same
input (``test_bad_input_matches_sklearn`` runs scikit-learn's own MLP on each
case and checks that it uses that phrase too).
"""

import copy
import pickle
import re
import warnings
from concurrent.futures import ThreadPoolExecutor

import joblib
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from _common import RECORD_KEYS
from sklearn.base import ClassifierMixin
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.utils._param_validation import InvalidParameterError

import sknn
import sknn._base
from sknn import MLPClassifierNN, MLPRegressorNN

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

STOCHASTIC = ["sgd", "adam", "adamw", "rmsprop"]
SOLVERS = [*STOCHASTIC, "lbfgs"]
TINY = {"hidden_layer_sizes": (3,), "max_iter": 5, "random_state": 0}


def _data(n=40, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y_clf = np.arange(n) % 2
    y_reg = X @ np.arange(1.0, d + 1) + 0.1 * rng.normal(size=n)
    return X, y_clf, y_reg


X, Y_CLF, Y_REG = _data()


def _with(arr, index, value):
    out = np.array(arr, dtype=float)
    out[index] = value
    return out


def _fitted(cls, **params):
    y = Y_CLF if issubclass(cls, ClassifierMixin) else Y_REG
    return cls(**{**TINY, **params}).fit(X, y)


def _partial_then(first, second, cls):
    est = cls(solver="sgd", **TINY)
    est.partial_fit(*first[:2], **first[2])
    return est.partial_fit(*second[:2], **second[2])


# --------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------
# name -> (call(classifier_cls, regressor_cls), exception, key phrase,
#          scikit-learn's MLP raises the same phrase)
BAD_INPUT = {
    "nan_X_fit": (
        lambda C, R: C(**TINY).fit(_with(X, (2, 1), np.nan), Y_CLF),
        ValueError,
        "Input X contains NaN",
        True,
    ),
    "inf_X_fit": (
        lambda C, R: C(**TINY).fit(_with(X, (2, 1), np.inf), Y_CLF),
        ValueError,
        "Input X contains infinity",
        True,
    ),
    "neg_inf_X_fit_regressor": (
        lambda C, R: R(**TINY).fit(_with(X, (0, 0), -np.inf), Y_REG),
        ValueError,
        "Input X contains infinity",
        True,
    ),
    "nan_X_predict": (
        lambda C, R: _fitted(C).predict(_with(X, (5, 2), np.nan)),
        ValueError,
        "Input X contains NaN",
        True,
    ),
    "inf_X_predict_proba": (
        lambda C, R: _fitted(C).predict_proba(_with(X, (5, 2), np.inf)),
        ValueError,
        "Input X contains infinity",
        True,
    ),
    "nan_X_predict_regressor": (
        lambda C, R: _fitted(R).predict(_with(X, (0, 0), np.nan)),
        ValueError,
        "Input X contains NaN",
        True,
    ),
    "nan_y_regressor": (
        lambda C, R: R(**TINY).fit(X, _with(Y_REG, 3, np.nan)),
        ValueError,
        "Input y contains NaN",
        True,
    ),
    "inf_y_regressor": (
        lambda C, R: R(**TINY).fit(X, _with(Y_REG, 3, np.inf)),
        ValueError,
        "Input y contains infinity",
        True,
    ),
    "nan_y_classifier": (
        lambda C, R: C(**TINY).fit(X, _with(Y_CLF, 3, np.nan)),
        ValueError,
        "Input y contains NaN",
        True,
    ),
    "nan_sample_weight": (
        lambda C, R: C(**TINY).fit(
            X, Y_CLF, sample_weight=_with(np.ones(40), 4, np.nan)
        ),
        ValueError,
        "Input sample_weight contains NaN",
        True,
    ),
    "inf_sample_weight": (
        lambda C, R: R(**TINY).fit(
            X, Y_REG, sample_weight=_with(np.ones(40), 4, np.inf)
        ),
        ValueError,
        "Input sample_weight contains infinity",
        True,
    ),
    "empty_X": (
        lambda C, R: C(**TINY).fit(np.empty((0, 3)), np.empty(0)),
        ValueError,
        r"Found array with 0 sample\(s\)",
        True,
    ),
    "empty_X_regressor": (
        lambda C, R: R(**TINY).fit(np.empty((0, 3)), np.empty(0)),
        ValueError,
        r"Found array with 0 sample\(s\)",
        True,
    ),
    "no_features": (
        lambda C, R: C(**TINY).fit(np.empty((40, 0)), Y_CLF),
        ValueError,
        r"0 feature\(s\)",
        True,
    ),
    "1d_X_fit": (
        lambda C, R: C(**TINY).fit(X[:, 0], Y_CLF),
        ValueError,
        "Expected 2D array, got 1D array instead",
        True,
    ),
    "1d_X_predict": (
        lambda C, R: _fitted(R).predict(X[:, 0]),
        ValueError,
        "Expected 2D array, got 1D array instead",
        True,
    ),
    "string_X_fit": (
        lambda C, R: C(**TINY).fit(np.array([["a", "b", "c"]] * 40), Y_CLF),
        ValueError,
        "could not convert string to float",
        True,
    ),
    "object_X_fit": (
        lambda C, R: R(**TINY).fit(
            np.array([[1.0, "x", 2.0]] * 40, dtype=object), Y_REG
        ),
        ValueError,
        "could not convert string to float",
        True,
    ),
    "string_X_predict": (
        lambda C, R: _fitted(C).predict(np.array([["a", "b", "c"]] * 4)),
        ValueError,
        # scikit-learn's predict words it differently from its fit
        "not compatible with arrays of bytes/strings",
        True,
    ),
    "complex_X": (
        lambda C, R: C(**TINY).fit(X + 1j, Y_CLF),
        ValueError,
        "Complex data not supported",
        True,
    ),
    "3d_X_fit": (
        lambda C, R: C(**TINY).fit(X.reshape(40, 3, 1), Y_CLF),
        ValueError,
        "Found array with dim 3",
        True,
    ),
    "nan_sparse_X_fit": (
        lambda C, R: C(**TINY).fit(sp.csr_matrix(_with(X, (1, 1), np.nan)), Y_CLF),
        ValueError,
        "Input X contains NaN",
        True,
    ),
    "pandas_NA_X_fit": (
        lambda C, R: R(**TINY).fit(
            pd.DataFrame(X).astype("Float64").mask(pd.DataFrame(X) > 1.5), Y_REG
        ),
        ValueError,
        "Input X contains NaN",
        True,
    ),
    "string_sample_weight": (
        lambda C, R: C(**TINY).fit(X, Y_CLF, sample_weight=["a"] * 40),
        ValueError,
        "could not convert string to float",
        True,
    ),
    "mixed_type_labels": (
        lambda C, R: C(**TINY).fit(X, np.array([1, "a"] * 20, dtype=object)),
        ValueError,
        "Unknown label type",
        False,  # scikit-learn fails with a TypeError from sorting
    ),
    "wrong_n_features_predict": (
        lambda C, R: _fitted(C).predict(X[:, :2]),
        ValueError,
        "X has 2 features, but .* is expecting 3 features as input",
        True,
    ),
    "wrong_n_features_predict_proba": (
        lambda C, R: _fitted(C).predict_proba(np.hstack([X, X])),
        ValueError,
        "X has 6 features, but .* is expecting 3 features as input",
        True,
    ),
    "wrong_n_features_regressor": (
        lambda C, R: _fitted(R).predict(X[:, :1]),
        ValueError,
        "X has 1 features, but .* is expecting 3 features as input",
        True,
    ),
    "X_y_length_mismatch": (
        lambda C, R: C(**TINY).fit(X, Y_CLF[:39]),
        ValueError,
        "inconsistent numbers of samples",
        True,
    ),
    "sample_weight_wrong_length": (
        lambda C, R: C(**TINY).fit(X, Y_CLF, sample_weight=np.ones(39)),
        ValueError,
        r"sample_weight.shape == \(39,\), expected \(40,\)!",
        True,
    ),
    "sample_weight_2d": (
        lambda C, R: R(**TINY).fit(X, Y_REG, sample_weight=np.ones((40, 1))),
        ValueError,
        "must be 1D array or scalar",
        True,
    ),
    "negative_sample_weight": (
        lambda C, R: C(**TINY).fit(X, Y_CLF, sample_weight=_with(np.ones(40), 7, -1.0)),
        ValueError,
        "Negative values in data passed to `sample_weight`",
        False,  # scikit-learn's MLP silently accepts them
    ),
    "negative_sample_weight_regressor": (
        lambda C, R: R(**TINY).fit(X, Y_REG, sample_weight=-np.ones(40)),
        ValueError,
        "Negative values in data passed to `sample_weight`",
        False,
    ),
    "continuous_y_classifier": (
        lambda C, R: C(**TINY).fit(X, Y_REG),
        ValueError,
        "Unknown label type",
        True,
    ),
    "string_y_regressor": (
        lambda C, R: R(**TINY).fit(X, np.array(["a"] * 40)),
        ValueError,
        "could not convert string to float",
        False,  # scikit-learn fails later with a numpy UFuncTypeError
    ),
    "partial_fit_without_classes": (
        lambda C, R: C(solver="sgd", **TINY).partial_fit(X, Y_CLF),
        ValueError,
        "classes must be passed on the first call to partial_fit",
        True,
    ),
    "partial_fit_unseen_classes": (
        lambda C, R: _partial_then(
            (X, Y_CLF, {"classes": [0, 1]}), (X, np.arange(40) % 4, {}), C
        ),
        ValueError,
        "`y` has classes not in `self.classes_`",
        True,
    ),
    "partial_fit_changed_classes_argument": (
        lambda C, R: _partial_then(
            (X, Y_CLF, {"classes": [0, 1]}), (X, Y_CLF, {"classes": [0, 1, 2]}), C
        ),
        ValueError,
        "is not the same as on last call to partial_fit",
        True,
    ),
    "partial_fit_changed_n_features": (
        lambda C, R: _partial_then(
            (X, Y_CLF, {"classes": [0, 1]}), (X[:, :2], Y_CLF, {}), C
        ),
        ValueError,
        "X has 2 features, but .* is expecting 3 features as input",
        True,
    ),
    "partial_fit_changed_n_features_regressor": (
        lambda C, R: _partial_then((X, Y_REG, {}), (np.hstack([X, X]), Y_REG, {}), R),
        ValueError,
        "X has 6 features, but .* is expecting 3 features as input",
        True,
    ),
    "poisson_negative_targets": (
        lambda C, R: R(loss="poisson", **TINY).fit(X, Y_REG),
        ValueError,
        "negative",
        False,  # scikit-learn does not check
    ),
    "validation_set_too_small_regressor": (
        lambda C, R: R(early_stopping=True, validation_fraction=0.01, **TINY).fit(
            X[:10], Y_REG[:10]
        ),
        ValueError,
        "The validation set is too small",
        True,
    ),
    "validation_set_too_small_single_class": (
        lambda C, R: C(early_stopping=True, validation_fraction=0.01, **TINY).fit(
            X[:10], np.zeros(10)
        ),
        ValueError,
        "The validation set is too small",
        True,
    ),
    # With two or more classes the stratified split fails first; scikit-learn
    # reports it in train_test_split's words, so does sknn.
    "validation_set_too_small_classifier": (
        lambda C, R: C(early_stopping=True, validation_fraction=0.01, **TINY).fit(
            X[:10], Y_CLF[:10]
        ),
        ValueError,
        "The validation set is too small|should be greater or equal to the number "
        "of classes",
        True,
    ),
    "predict_before_fit": (
        lambda C, R: C(**TINY).predict(X),
        NotFittedError,
        "is not fitted yet",
        True,
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_clear_error(case):
    call, exc, phrase, _ = BAD_INPUT[case]
    with pytest.raises(exc, match=phrase):
        call(MLPClassifierNN, MLPRegressorNN)


@pytest.mark.parametrize("case", [k for k, v in BAD_INPUT.items() if v[3]])
def test_bad_input_matches_sklearn(case):
    """scikit-learn's own MLP uses the phrase sknn is held to."""
    call, exc, phrase, _ = BAD_INPUT[case]
    with pytest.raises(exc, match=phrase):
        call(MLPClassifier, MLPRegressor)


def test_error_names_the_estimator():
    with pytest.raises(ValueError, match="MLPClassifierNN does not accept missing"):
        MLPClassifierNN(**TINY).fit(_with(X, (0, 0), np.nan), Y_CLF)
    with pytest.raises(ValueError, match="MLPRegressorNN is expecting 3 features"):
        _fitted(MLPRegressorNN).predict(X[:, :2])


def test_all_zero_sample_weight():
    with pytest.raises(ValueError, match="sample_weight"):
        MLPRegressorNN(**TINY).fit(X, Y_REG, sample_weight=np.zeros(40))


# (param, bad value, exception types, is a constraint violation)
INVALID_PARAMS = [
    ("hidden_layer_sizes", -1, InvalidParameterError),
    ("hidden_layer_sizes", "3", InvalidParameterError),
    ("hidden_layer_sizes", (0,), ValueError),
    ("hidden_layer_sizes", (3, -2), ValueError),
    ("hidden_layer_sizes", (2.5,), ValueError),
    ("activation", "softmax", InvalidParameterError),
    ("solver", "newton", InvalidParameterError),
    ("alpha", -0.1, InvalidParameterError),
    ("batch_size", 0, InvalidParameterError),
    ("batch_size", "big", InvalidParameterError),
    ("learning_rate", "warmup", InvalidParameterError),
    ("learning_rate_init", 0.0, InvalidParameterError),
    ("learning_rate_init", -1e-3, InvalidParameterError),
    ("power_t", -1.0, InvalidParameterError),
    ("max_iter", 0, InvalidParameterError),
    ("max_iter", 2.5, InvalidParameterError),
    ("shuffle", "yes", InvalidParameterError),
    ("random_state", "seed", InvalidParameterError),
    ("tol", -1.0, InvalidParameterError),
    ("verbose", "loud", InvalidParameterError),
    ("warm_start", 2, InvalidParameterError),
    ("momentum", 1.5, InvalidParameterError),
    ("nesterovs_momentum", "no", InvalidParameterError),
    ("early_stopping", "no", InvalidParameterError),
    ("validation_fraction", 1.0, InvalidParameterError),
    ("beta_1", 1.0, InvalidParameterError),
    ("beta_2", -0.1, InvalidParameterError),
    ("epsilon", 0.0, InvalidParameterError),
    ("n_iter_no_change", 0, InvalidParameterError),
    ("max_fun", 0, InvalidParameterError),
    ("dropout", 1.0, InvalidParameterError),
    ("dropout", -0.1, InvalidParameterError),
    ("dropout", [0.1, 0.2], ValueError),  # two rates for one hidden layer
    ("dropout", [1.5], ValueError),
    ("scoring", 12, InvalidParameterError),
    ("weight_decay", -1.0, InvalidParameterError),
    ("rho", 1.0, InvalidParameterError),
    ("max_grad_norm", 0.0, InvalidParameterError),
    ("callbacks", "print", InvalidParameterError),
    ("callbacks", [1], TypeError),
    ("progress_bar", "yes", InvalidParameterError),
]


@pytest.mark.parametrize("cls", [MLPClassifierNN, MLPRegressorNN])
@pytest.mark.parametrize(("param", "value", "exc"), INVALID_PARAMS)
def test_invalid_parameter_named(cls, param, value, exc):
    est = cls(**{**TINY, param: value})
    y = Y_CLF if cls is MLPClassifierNN else Y_REG
    with pytest.raises(exc, match=param) as info:
        est.fit(X, y)
    if exc is InvalidParameterError:
        assert isinstance(info.value, ValueError)
        assert f"The '{param}' parameter of {cls.__name__}" in str(info.value)


@pytest.mark.parametrize(
    ("cls", "param", "value", "exc"),
    [
        (MLPClassifierNN, "class_weight", "uniform", InvalidParameterError),
        (MLPClassifierNN, "class_weight", {7: 1.0}, ValueError),
        (MLPClassifierNN, "class_weight", {0: -1.0}, ValueError),
        (MLPRegressorNN, "loss", "huber", InvalidParameterError),
    ],
)
def test_invalid_estimator_specific_parameter(cls, param, value, exc):
    y = Y_CLF if cls is MLPClassifierNN else Y_REG
    with pytest.raises(exc, match=param):
        cls(**{**TINY, param: value}).fit(X, y)


def test_dropout_needs_stochastic_solver():
    with pytest.raises(ValueError, match="dropout"):
        MLPClassifierNN(solver="lbfgs", dropout=0.5, **TINY).fit(X, Y_CLF)


def test_invalid_scoring_name():
    est = MLPClassifierNN(early_stopping=True, scoring="not_a_metric", **TINY)
    with pytest.raises(ValueError, match="scoring"):
        est.fit(X, Y_CLF)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_single_class_matches_sklearn(solver):
    y = np.array(["only"] * 40)
    ours = MLPClassifierNN(solver=solver, **TINY).fit(X, y)
    theirs = MLPClassifier(solver=solver, **TINY).fit(X, y)
    assert list(ours.classes_) == list(theirs.classes_) == ["only"]
    assert ours.predict_proba(X).shape == theirs.predict_proba(X).shape == (40, 2)
    np.testing.assert_allclose(ours.predict_proba(X).sum(axis=1), 1.0)
    assert (ours.predict(X) == "only").all()


def test_non_integral_float_labels_rejected_like_sklearn():
    y = np.where(Y_CLF == 1, 1.5, 2.5)
    with pytest.raises(ValueError, match="Unknown label type"):
        MLPClassifier(**TINY).fit(X, y)
    with pytest.raises(ValueError, match="Unknown label type"):
        MLPClassifierNN(**TINY).fit(X, y)


# --------------------------------------------------------------------------
# numerical faults
# --------------------------------------------------------------------------
def _targets(kind):
    if kind == "binary":
        return (X[:, 0] > 0).astype(int)
    if kind == "multiclass":
        return np.argmax(X, axis=1)
    return (X > 0).astype(int)  # multilabel indicator


@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel"])
@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "gelu", "elu"])
def test_probabilities_finite_for_huge_inputs(kind, activation):
    clf = MLPClassifierNN(
        hidden_layer_sizes=(4,), activation=activation, max_iter=20, random_state=0
    ).fit(X, _targets(kind))
    X_huge = X * 1e150
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no overflow chatter
        P = clf.predict_proba(X_huge)
        logP = clf.predict_log_proba(X_huge)
        labels = clf.predict(X_huge)
    n_cols = 3 if kind != "binary" else 2
    assert P.shape == (len(X), n_cols)
    assert np.isfinite(P).all()
    assert ((P >= 0) & (P <= 1)).all()
    if kind != "multilabel":  # multilabel outputs are independent probabilities
        np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)
    assert not np.isnan(logP).any()
    assert not (logP == np.inf).any()
    assert (logP <= 0).all()
    assert labels.shape == ((len(X),) if kind != "multilabel" else (len(X), 3))


def test_probabilities_finite_for_huge_float32_inputs():
    X32 = X.astype(np.float32)
    clf = MLPClassifierNN(hidden_layer_sizes=(4,), max_iter=20, random_state=0)
    clf.fit(X32, np.argmax(X, axis=1))
    P = clf.predict_proba(X32 * np.float32(1e30))
    assert np.isfinite(P).all()
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-5)
    assert not np.isnan(clf.predict_log_proba(X32 * np.float32(1e30))).any()


NON_FINITE = (
    "Solver produced non-finite parameter weights. The input data may contain "
    "large values and need to be preprocessed."
)


def _diverging_fit(est, X_fit, y_fit, **fit_kw):
    """Fit expecting scikit-learn's divergence error; return the warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match=f"^{re.escape(NON_FINITE)}$"):
            est.fit(X_fit, y_fit, **fit_kw)
    return caught


@pytest.mark.parametrize("momentum", [0.9, 0.0])
def test_diverging_sgd_raises_quietly_and_leaves_no_model(momentum):
    reg = MLPRegressorNN(
        hidden_layer_sizes=(4,),
        solver="sgd",
        learning_rate_init=1e4,
        momentum=momentum,
        max_iter=20,
        random_state=0,
    )
    caught = _diverging_fit(reg, X * 1e6, Y_REG * 1e6)
    # no overflow RuntimeWarnings on the way, no other warning either
    assert caught == [], [str(w.message) for w in caught]
    # a first fit that diverged hands back no weights at all
    assert not hasattr(reg, "coefs_")
    with pytest.raises(NotFittedError, match="not fitted yet"):
        reg.predict(X)


@pytest.mark.parametrize("scale", [1e20, 1e50, 1e150])
def test_diverging_classifier_fit_raises(scale):
    """Badly scaled input: the fit raises instead of returning NaN outputs."""
    y = np.argmax(X, axis=1)
    clf = MLPClassifierNN(
        hidden_layer_sizes=(4,), solver="sgd", max_iter=20, random_state=0
    )
    caught = _diverging_fit(clf, X * scale, y)
    assert not any(issubclass(w.category, RuntimeWarning) for w in caught)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        clf.predict(X)


def test_diverging_fit_with_early_stopping_keeps_the_best_epoch():
    # scikit-learn's diverging case (identity network, sgd at rate 1 on
    # iris): with early stopping the fit ends without an error
    X_iris, y_iris = load_iris(return_X_y=True)
    reg = MLPRegressorNN(
        activation="identity",
        solver="sgd",
        learning_rate_init=1.0,
        max_iter=20,
        early_stopping=True,
        random_state=0,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reg.fit(X_iris, y_iris, X_val=X_iris[::3], y_val=y_iris[::3])
    messages = [str(w.message) for w in caught]
    assert len(caught) == 1 and "diverged" in messages[0], messages
    assert issubclass(caught[0].category, ConvergenceWarning)
    assert np.isnan(reg.validation_scores_[-1])
    assert np.isnan(reg.loss_curve_[-1])
    assert np.isfinite(reg.loss_curve_[:-1]).all()
    assert reg.n_iter_ == len(reg.validation_scores_) == len(reg.loss_curve_)
    # the weights handed back are those of the best validation epoch (an epoch
    # before the divergence may score NaN too, when its predictions overflow)
    best = reg.best_validation_score_
    assert np.isfinite(best) and best == np.nanmax(reg.validation_scores_)
    assert reg.score(X_iris[::3], y_iris[::3]) == pytest.approx(best, rel=1e-12)
    assert np.isfinite(reg.predict(X_iris)).all()


def test_diverging_partial_fit_raises_and_keeps_the_previous_weights():
    reg = MLPRegressorNN(
        hidden_layer_sizes=(4,), solver="sgd", learning_rate_init=1e-2, random_state=0
    )
    reg.partial_fit(X, Y_REG)
    reg.set_params(learning_rate_init=1e4)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match="non-finite parameter weights"):
            for _ in range(8):
                # calls that blow the weights up but stay finite succeed
                before = [a.copy() for a in reg.coefs_ + reg.intercepts_]
                pred = reg.predict(X)
                reg.partial_fit(X * 1e6, Y_REG * 1e6)
    assert not any(issubclass(w.category, RuntimeWarning) for w in caught)
    # the call that diverged left the weights of the call before it
    for a, b in zip(reg.coefs_ + reg.intercepts_, before):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(reg.predict(X), pred)


def test_lbfgs_on_overflowing_data_raises():
    reg = MLPRegressorNN(hidden_layer_sizes=(3,), solver="lbfgs", max_iter=20)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match=f"^{re.escape(NON_FINITE)}$"):
            reg.fit(X * 1e100, Y_REG * 1e100)
    assert not any(issubclass(w.category, RuntimeWarning) for w in caught)


# --------------------------------------------------------------------------
# interruption and callbacks
# --------------------------------------------------------------------------
def _interrupt_at(epoch):
    def callback(record):
        if record["epoch"] == epoch:
            raise KeyboardInterrupt

    return callback


@pytest.mark.parametrize("cls", [MLPClassifierNN, MLPRegressorNN])
@pytest.mark.parametrize("early_stopping", [False, True])
def test_keyboard_interrupt_in_callback(cls, early_stopping):
    y = Y_CLF if cls is MLPClassifierNN else Y_REG
    est = cls(
        hidden_layer_sizes=(4,),
        max_iter=50,
        random_state=0,
        early_stopping=early_stopping,
        validation_fraction=0.25,
        callbacks=[_interrupt_at(3)],
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, y)  # returns normally
    messages = [str(w.message) for w in caught]
    assert "Training interrupted by user." in messages
    assert not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    assert est.n_iter_ == 3
    assert len(est.loss_curve_) == 3
    assert len(est.history_) == 3
    for a in est.coefs_ + est.intercepts_:
        assert np.isfinite(a).all()
    assert est.predict(X).shape == (len(X),)
    est.score(X, y)


def test_keyboard_interrupt_in_partial_fit():
    clf = MLPClassifierNN(hidden_layer_sizes=(3,), random_state=0)
    clf.partial_fit(X, Y_CLF, classes=[0, 1])
    clf.set_params(callbacks=[_interrupt_at(1)])  # partial_fit runs one epoch
    with pytest.warns(UserWarning, match="Training interrupted by user."):
        clf.partial_fit(X, Y_CLF)
    assert clf.n_iter_ == 1
    assert np.isfinite(clf.predict_proba(X)).all()


@pytest.mark.parametrize("cls", [MLPClassifierNN, MLPRegressorNN])
@pytest.mark.parametrize("solver", STOCHASTIC)
def test_callback_returning_true_stops_cleanly(cls, solver):
    y = Y_CLF if cls is MLPClassifierNN else Y_REG
    seen = []

    def stop_at_3(record):
        seen.append(record["epoch"])
        return record["epoch"] == 3

    est = cls(
        hidden_layer_sizes=(3,),
        solver=solver,
        max_iter=4,
        random_state=0,
        callbacks=[stop_at_3],
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, y)
    # a clean stop: no max_iter ConvergenceWarning, no interruption warning
    assert [str(w.message) for w in caught] == []
    assert seen == [1, 2, 3]
    assert est.n_iter_ == 3
    assert len(est.loss_curve_) == 3
    assert [r["epoch"] for r in est.history_] == [1, 2, 3]
    for a in est.coefs_ + est.intercepts_:
        assert np.isfinite(a).all()


def test_callback_records_are_complete():
    records = []
    MLPRegressorNN(
        hidden_layer_sizes=(3,),
        max_iter=3,
        random_state=0,
        callbacks=[records.append],
    ).fit(X, Y_REG)
    assert [r["epoch"] for r in records] == [1, 2, 3]
    for r in records:
        assert RECORD_KEYS <= set(r)
        assert np.isfinite(r["train_loss"])


# --------------------------------------------------------------------------
# reproducibility and non-mutation
# --------------------------------------------------------------------------
def _arrays(est):
    return est.coefs_ + est.intercepts_


def _assert_bitwise_equal(a, b):
    assert len(_arrays(a)) == len(_arrays(b))
    for u, v in zip(_arrays(a), _arrays(b)):
        assert u.dtype == v.dtype
        assert np.array_equal(u, v)


REPRO_CASES = [(s, {}) for s in SOLVERS]
REPRO_CASES += [(s, {"dropout": 0.3}) for s in STOCHASTIC]
REPRO_CASES += [(s, {"early_stopping": True}) for s in STOCHASTIC]
REPRO_CASES += [("adam", {"dropout": 0.3, "early_stopping": True, "shuffle": True})]
REPRO_CASES += [("sgd", {"learning_rate": "cosine", "batch_size": 7})]


@pytest.mark.parametrize("cls", [MLPClassifierNN, MLPRegressorNN])
@pytest.mark.parametrize(("solver", "extra"), REPRO_CASES)
def test_same_random_state_bitwise_identical(cls, solver, extra):
    y = Y_CLF if cls is MLPClassifierNN else Y_REG
    params = {
        "hidden_layer_sizes": (4,),
        "solver": solver,
        "max_iter": 8,
        "batch_size": 10,
        "random_state": 42,
        **extra,
    }
    a = cls(**params).fit(X, y)
    b = cls(**params).fit(X, y)
    _assert_bitwise_equal(a, b)
    assert a.n_iter_ == b.n_iter_
    assert np.array_equal(a.predict(X), b.predict(X))
    if solver != "lbfgs":
        assert np.array_equal(a.loss_curve_, b.loss_curve_)
    # a different seed really changes something (the seed is used)
    c = cls(**{**params, "random_state": 43}).fit(X, y)
    assert not all(np.array_equal(u, v) for u, v in zip(_arrays(a), _arrays(c)))


def test_random_state_instance_reproducible():
    a = MLPClassifierNN(hidden_layer_sizes=(3,), max_iter=5, dropout=0.3)
    a.set_params(random_state=np.random.RandomState(7)).fit(X, Y_CLF)
    b = clone_params(a).set_params(random_state=np.random.RandomState(7))
    b.fit(X, Y_CLF)
    _assert_bitwise_equal(a, b)


def clone_params(est):
    return type(est)(**est.get_params())


def test_refit_is_reproducible():
    clf = MLPClassifierNN(hidden_layer_sizes=(3,), max_iter=5, random_state=0)
    first = [a.copy() for a in _arrays(clf.fit(X, Y_CLF))]
    second = _arrays(clf.fit(X, Y_CLF))
    for u, v in zip(first, second):
        assert np.array_equal(u, v)


def _frozen(obj):
    if sp.issparse(obj):
        return obj.copy()
    return copy.deepcopy(obj)


def _assert_unchanged(before, after):
    if sp.issparse(before):
        assert after.format == before.format
        assert after.dtype == before.dtype
        assert np.array_equal(after.data, before.data)
        assert np.array_equal(after.indices, before.indices)
        assert np.array_equal(after.indptr, before.indptr)
    elif isinstance(before, (pd.DataFrame, pd.Series)):
        pd.testing.assert_frame_equal(
            before.to_frame() if isinstance(before, pd.Series) else before,
            after.to_frame() if isinstance(after, pd.Series) else after,
        )
    else:
        assert after.dtype == before.dtype
        assert after.flags.writeable == before.flags.writeable
        assert np.array_equal(after, before)


def _input_variant(kind):
    Xv = X.copy()
    if kind == "float32":
        return Xv.astype(np.float32)
    if kind == "sparse":
        Xv[np.abs(Xv) < 0.5] = 0.0
        return sp.csr_matrix(Xv)
    if kind == "sparse_csc":
        Xv[np.abs(Xv) < 0.5] = 0.0
        return sp.csc_matrix(Xv)
    if kind == "dataframe":
        return pd.DataFrame(Xv, columns=["a", "b", "c"])
    if kind == "fortran":
        return np.asfortranarray(Xv)
    return Xv


@pytest.mark.parametrize(
    "x_kind", ["float64", "float32", "sparse", "sparse_csc", "dataframe", "fortran"]
)
@pytest.mark.parametrize(
    ("cls", "extra"),
    [
        (MLPClassifierNN, {}),
        (MLPClassifierNN, {"class_weight": "balanced"}),
        (MLPClassifierNN, {"class_weight": {0: 2.0}, "early_stopping": True}),
        (MLPClassifierNN, {"solver": "lbfgs", "class_weight": "balanced"}),
        (MLPRegressorNN, {}),
        (MLPRegressorNN, {"early_stopping": True, "dropout": 0.2}),
        (MLPRegressorNN, {"solver": "lbfgs"}),
    ],
)
def test_fit_does_not_mutate_inputs(x_kind, cls, extra):
    Xv = _input_variant(x_kind)
    y = (Y_CLF if cls is MLPClassifierNN else Y_REG).copy()
    if x_kind == "dataframe":
        y = pd.Series(y)
    sw = np.linspace(0.5, 2.0, len(y))
    saved = (_frozen(Xv), _frozen(y), sw.copy())
    est = cls(**{**TINY, "validation_fraction": 0.25, **extra})
    est.fit(Xv, y, sample_weight=sw)
    est.predict(Xv)
    if cls is MLPClassifierNN:
        est.predict_proba(Xv)
    _assert_unchanged(saved[0], Xv)
    _assert_unchanged(saved[1], y)
    _assert_unchanged(saved[2], sw)


@pytest.mark.parametrize("cls", [MLPClassifierNN, MLPRegressorNN])
def test_partial_fit_does_not_mutate_inputs(cls):
    y = (Y_CLF if cls is MLPClassifierNN else Y_REG).copy()
    X32 = X.astype(np.float32)
    sw = np.linspace(0.5, 2.0, len(y)).astype(np.float32)
    saved = (X32.copy(), y.copy(), sw.copy())
    est = cls(hidden_layer_sizes=(3,), solver="sgd", random_state=0)
    kw = {"classes": [0, 1]} if cls is MLPClassifierNN else {}
    for _ in range(3):
        est.partial_fit(X32, y, sample_weight=sw, **kw)
    for before, after in zip(saved, (X32, y, sw)):
        _assert_unchanged(before, after)


def test_validation_data_not_mutated():
    Xt, yt = X[:30].copy(), Y_CLF[:30].copy()
    Xv, yv, swv = X[30:].copy(), Y_CLF[30:].copy(), np.ones(10)
    saved = [a.copy() for a in (Xt, yt, Xv, yv, swv)]
    MLPClassifierNN(early_stopping=True, class_weight="balanced", **TINY).fit(
        Xt, yt, X_val=Xv, y_val=yv, sample_weight_val=swv
    )
    for before, after in zip(saved, (Xt, yt, Xv, yv, swv)):
        _assert_unchanged(before, after)


# --------------------------------------------------------------------------
# concurrency and persistence
# --------------------------------------------------------------------------
def _big_data(n=300):
    rng = np.random.default_rng(1)
    Xb = rng.normal(size=(n, 5))
    return Xb, np.argmax(Xb[:, :3], axis=1), Xb @ np.arange(1.0, 6.0)


@pytest.fixture(scope="module")
def fitted_pair():
    Xb, yc, yr = _big_data()
    clf = MLPClassifierNN(hidden_layer_sizes=(4,), max_iter=20, random_state=0)
    reg = MLPRegressorNN(hidden_layer_sizes=(4,), max_iter=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return Xb, clf.fit(Xb, yc), reg.fit(Xb, yr)


@pytest.mark.parametrize("method", ["clf.predict", "clf.predict_proba", "reg.predict"])
def test_threaded_predictions_match_sequential(fitted_pair, method):
    Xb, clf, reg = fitted_pair
    owner, name = method.split(".")
    func = getattr(clf if owner == "clf" else reg, name)
    slices = [Xb[i * 5 : i * 5 + 10 + i] for i in range(50)]
    sequential = [func(s) for s in slices]
    with ThreadPoolExecutor(max_workers=8) as pool:
        threaded = list(pool.map(func, slices))
    assert len(threaded) == 50
    for s, t in zip(sequential, threaded):
        assert np.array_equal(s, t)


def test_threaded_fits_on_separate_estimators_are_reproducible():
    def fit_one(seed):
        est = MLPClassifierNN(hidden_layer_sizes=(3,), max_iter=5, random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return est.fit(X, Y_CLF)

    seeds = [0, 1, 2, 3] * 2
    with ThreadPoolExecutor(max_workers=8) as pool:
        threaded = list(pool.map(fit_one, seeds))
    for seed, est in zip(seeds, threaded):
        _assert_bitwise_equal(est, fit_one(seed))


def _assert_same_predictions(a, b, Xb):
    assert np.array_equal(a.predict(Xb), b.predict(Xb))
    if hasattr(a, "predict_proba"):
        assert np.array_equal(a.predict_proba(Xb), b.predict_proba(Xb))
    _assert_bitwise_equal(a, b)


@pytest.mark.parametrize("which", ["clf", "reg"])
def test_pickle_round_trip(fitted_pair, which):
    Xb, clf, reg = fitted_pair
    est = clf if which == "clf" else reg
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # same version: nothing to warn about
        loaded = pickle.loads(pickle.dumps(est))
    _assert_same_predictions(est, loaded, Xb)
    assert loaded.__getstate__()["_sknn_version"] == sknn.__version__


@pytest.mark.parametrize("which", ["clf", "reg"])
def test_joblib_round_trip(fitted_pair, which, tmp_path):
    Xb, clf, reg = fitted_pair
    est = clf if which == "clf" else reg
    path = tmp_path / "model.joblib"
    joblib.dump(est, path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = joblib.load(path)
    _assert_same_predictions(est, loaded, Xb)
    assert loaded.__getstate__()["_sknn_version"] == sknn.__version__


def test_pickled_payload_records_version(fitted_pair):
    _, clf, _ = fitted_pair
    state = clf.__reduce_ex__(pickle.HIGHEST_PROTOCOL)[2]
    assert state["_sknn_version"] == sknn.__version__
    assert state["_sknn_version"] == sknn._persistence.__version__
    # the estimator itself is not changed by pickling
    assert "_sknn_version" not in clf.__dict__


def test_unfitted_pickle_round_trip():
    est = MLPRegressorNN(hidden_layer_sizes=(3,), dropout=0.2, callbacks=None)
    loaded = pickle.loads(pickle.dumps(est))
    assert loaded.get_params() == est.get_params()
    assert loaded.__getstate__()["_sknn_version"] == sknn.__version__


class _StatePayload:
    """Pickles as an instance of ``cls`` restored from ``state``.

    Unpickling calls ``object.__new__(cls)`` and then the real
    ``cls.__setstate__(state)``, as for a pickled estimator.  ``state`` is
    copied so the estimator it came from is not touched.
    """

    def __init__(self, cls, state):
        self.cls, self.state = cls, dict(state)

    def __reduce__(self):
        return object.__new__, (self.cls,), self.state


@pytest.mark.parametrize("which", ["clf", "reg"])
def test_unpickling_other_version_warns(fitted_pair, which):
    Xb, clf, reg = fitted_pair
    est = clf if which == "clf" else reg
    state = dict(est.__getstate__())
    assert state["_sknn_version"] == sknn.__version__
    state["_sknn_version"] = "0.0.1"
    payload = pickle.dumps(_StatePayload(type(est), state))
    with pytest.warns(UserWarning) as record:
        loaded = pickle.loads(payload)
    texts = [str(w.message) for w in record]
    assert any("0.0.1" in t and sknn.__version__ in t for t in texts), texts
    assert type(loaded) is type(est)
    assert np.array_equal(loaded.predict(Xb), est.predict(Xb))


def test_unpickling_payload_from_other_version_warns(fitted_pair, monkeypatch):
    """A payload written while sknn reported another version."""
    Xb, clf, _ = fitted_pair
    monkeypatch.setattr(sknn._persistence, "__version__", "9.9.9")
    payload = pickle.dumps(clf)
    monkeypatch.undo()
    with pytest.warns(UserWarning, match=r"9\.9\.9") as record:
        loaded = pickle.loads(payload)
    assert any(sknn.__version__ in str(w.message) for w in record)
    assert np.array_equal(loaded.predict_proba(Xb), clf.predict_proba(Xb))


def test_unpickling_without_version_key_is_silent(fitted_pair):
    """Payloads that predate the version key load without a version warning."""
    Xb, _, reg = fitted_pair
    state = dict(reg.__getstate__())
    del state["_sknn_version"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        loaded = pickle.loads(pickle.dumps(_StatePayload(type(reg), state)))
    assert np.array_equal(loaded.predict(Xb), reg.predict(Xb))


def test_round_trip_then_keep_training(fitted_pair):
    Xb, _, reg = fitted_pair
    loaded = pickle.loads(pickle.dumps(reg))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        loaded.partial_fit(Xb, Xb @ np.arange(1.0, 6.0))
    assert np.isfinite(loaded.predict(Xb)).all()
    # the original was not touched by training the copy
    assert not all(np.array_equal(u, v) for u, v in zip(_arrays(loaded), _arrays(reg)))


@pytest.mark.parametrize("Est", [MLPClassifierNN, MLPRegressorNN])
def test_predict_warns_when_outputs_overflow(Est):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    y = (X[:, 0] > 0).astype(int)
    est = Est(hidden_layer_sizes=(4, 4), max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est.predict(X)  # ordinary inputs: no warning
    for W in est.coefs_:
        W *= 1e200  # weights that overflow every layer
    with pytest.warns(RuntimeWarning, match="not finite"):
        est.predict(X)
