"""Property-based tests (hypothesis) of :class:`MLPClassifierNN` and
:class:`MLPRegressorNN`.

Valid input (any shape, dtype, label type, number of classes and parameter
values within their documented ranges) never crashes and gives well-formed
predictions; invalid input always gives a clear error.
"""

import os
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.utils._param_validation import InvalidParameterError

from sknn import MLPClassifierNN, MLPRegressorNN

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    # batch_size larger than the sample count is clipped with a UserWarning
    pytest.mark.filterwarnings("ignore:Got `batch_size`:UserWarning"),
]

SETTINGS = settings(
    max_examples=30,
    # CI runs a fixed set of examples, so a run passes or fails for a reason
    # in the code; elsewhere each run explores new ones
    derandomize=bool(os.environ.get("CI")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

ACTIVATIONS = ["identity", "logistic", "tanh", "relu", "leaky_relu", "elu", "gelu"]
STOCHASTIC = ["sgd", "adam", "adamw", "rmsprop"]
SCHEDULES = ["constant", "invscaling", "adaptive", "cosine"]

LABEL_SETS = {
    "int": [3, -1, 7, 0],
    "str": ["cat", "dog", "eel", "ant"],
    "bool": [True, False],
    "float": [0.0, 1.0, -2.0, 5.0],  # integral floats are class labels
}


# --------------------------------------------------------------------------
# strategies
# --------------------------------------------------------------------------
@st.composite
def features(draw, min_samples=2, max_samples=40):
    n_samples = draw(st.integers(min_samples, max_samples))
    n_features = draw(st.integers(1, 6))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    X = draw(
        arrays(
            dtype,
            (n_samples, n_features),
            elements=st.floats(-5, 5, allow_nan=False, width=32),
        )
    )
    return X


@st.composite
def mlp_params(draw):
    solver = draw(st.sampled_from([*STOCHASTIC, "lbfgs"]))
    params = {
        "hidden_layer_sizes": draw(st.sampled_from([(3,), (4,)])),
        "activation": draw(st.sampled_from(ACTIVATIONS)),
        "solver": solver,
        "alpha": draw(st.floats(0.0, 1.0)),
        "batch_size": draw(st.one_of(st.just("auto"), st.integers(1, 50))),
        "learning_rate": draw(st.sampled_from(SCHEDULES)),
        "learning_rate_init": draw(st.floats(1e-4, 1e-2)),
        "max_iter": draw(st.integers(1, 6)),
        "shuffle": draw(st.booleans()),
        "random_state": draw(st.integers(0, 2**16)),
    }
    if solver != "lbfgs":
        params["dropout"] = draw(st.sampled_from([0.0, 0.1, 0.3, 0.5]))
        params["max_grad_norm"] = draw(st.sampled_from([None, 1.0]))
    if solver == "sgd":
        params["momentum"] = draw(st.floats(0.0, 0.9))
        params["nesterovs_momentum"] = draw(st.booleans())
    return params


@st.composite
def classification_problem(draw):
    X = draw(features())
    n_samples = X.shape[0]
    kind = draw(st.sampled_from(sorted(LABEL_SETS)))
    labels = LABEL_SETS[kind]
    n_classes = draw(st.integers(1, min(len(labels), n_samples)))
    codes = draw(
        st.lists(st.integers(0, n_classes - 1), min_size=n_samples, max_size=n_samples)
    )
    codes[:n_classes] = range(n_classes)  # every class occurs at least once
    codes = draw(st.permutations(codes))
    y = np.array([labels[c] for c in codes])
    return X, y, n_classes


def _fit_quietly(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # must not matter either
        return est.fit(*args, **kwargs)


# --------------------------------------------------------------------------
# valid input
# --------------------------------------------------------------------------
@SETTINGS
@given(problem=classification_problem(), params=mlp_params())
def test_classifier_valid_input(problem, params):
    X, y, n_classes = problem
    clf = MLPClassifierNN(**params).fit(X, y)

    assert list(clf.classes_) == sorted(set(y.tolist()))
    assert len(clf.classes_) == n_classes
    pred = clf.predict(X)
    assert pred.shape == (X.shape[0],)
    assert set(pred.tolist()) <= set(clf.classes_.tolist())
    assert pred.dtype == y.dtype or pred.dtype.kind == y.dtype.kind

    proba = clf.predict_proba(X)
    # a single class is fitted as a binary problem, as scikit-learn does
    assert proba.shape == (X.shape[0], max(n_classes, 2))
    assert np.isfinite(proba).all()
    assert ((proba >= 0) & (proba <= 1)).all()
    tol = 1e-4 if X.dtype == np.float32 else 1e-10
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=tol)
    if n_classes >= 2:
        # predict is the most probable class
        best = proba[np.arange(len(pred)), np.searchsorted(clf.classes_, pred)]
        assert (best >= proba.max(axis=1) - tol).all()
    else:
        assert (pred == clf.classes_[0]).all()

    log_proba = clf.predict_log_proba(X)
    assert not np.isnan(log_proba).any()
    assert (log_proba <= 0).all()

    for a in clf.coefs_ + clf.intercepts_:
        assert a.dtype == X.dtype
        assert np.isfinite(a).all()


@SETTINGS
@given(
    X=features(min_samples=2),
    n_labels=st.integers(2, 4),
    params=mlp_params(),
    data=st.data(),
)
def test_multilabel_valid_input(X, n_labels, params, data):
    Y = data.draw(arrays(np.int64, (X.shape[0], n_labels), elements=st.integers(0, 1)))
    clf = MLPClassifierNN(**params).fit(X, Y)
    pred = clf.predict(X)
    assert pred.shape == Y.shape
    assert set(np.unique(pred).tolist()) <= {0, 1}
    proba = clf.predict_proba(X)
    assert proba.shape == Y.shape
    assert np.isfinite(proba).all()
    assert ((proba >= 0) & (proba <= 1)).all()


@SETTINGS
@given(
    X=features(),
    n_outputs=st.integers(1, 3),
    loss=st.sampled_from(["squared_error", "poisson"]),
    params=mlp_params(),
    data=st.data(),
)
def test_regressor_valid_input(X, n_outputs, loss, params, data):
    shape = (X.shape[0],) if n_outputs == 1 else (X.shape[0], n_outputs)
    low = 0.0 if loss == "poisson" else -5.0
    y = data.draw(arrays(np.float64, shape, elements=st.floats(low, 5.0)))
    reg = MLPRegressorNN(loss=loss, **params)
    try:
        reg.fit(X, y)
    except ValueError as exc:
        # Poisson's exp output can overflow for real within a few epochs
        # (inputs of -5 to 5 at rates up to 1e-2); that is scikit-learn's
        # divergence error, and it leaves no model behind
        assert loss == "poisson", exc
        assert str(exc).startswith("Solver produced non-finite parameter weights")
        assert not hasattr(reg, "coefs_")
        return
    pred = reg.predict(X)
    assert pred.shape == shape
    assert np.isfinite(pred).all()
    if loss == "poisson":
        assert (pred >= 0).all()
    assert reg.n_outputs_ == n_outputs
    assert reg.n_features_in_ == X.shape[1]


@SETTINGS
@given(
    X=features(min_samples=4),
    params=mlp_params().filter(lambda p: p["solver"] != "lbfgs"),
    n_calls=st.integers(1, 3),
)
def test_partial_fit_valid_input(X, params, n_calls):
    y = np.arange(X.shape[0]) % 3
    clf = MLPClassifierNN(**params)
    for _ in range(n_calls):
        clf.partial_fit(X, y, classes=[0, 1, 2, 3])
    assert list(clf.classes_) == [0, 1, 2, 3]
    proba = clf.predict_proba(X)
    assert proba.shape == (X.shape[0], 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-4)
    assert set(clf.predict(X).tolist()) <= {0, 1, 2, 3}


@SETTINGS
@given(
    X=features(min_samples=2),
    params=mlp_params(),
    # zero, or at least 1e-6: the L2 penalty is divided by each batch's weight
    # sum (as in scikit-learn), so a batch weighing 1e-45 alone gets a penalty
    # gradient beyond float32's range, a real divergence of that arithmetic
    weights=st.lists(
        st.one_of(st.just(0.0), st.floats(1e-6, 10.0)), min_size=40, max_size=40
    ),
)
def test_sample_weight_valid_input(X, params, weights):
    sw = np.array(weights[: X.shape[0]])
    sw[0] = 1.0  # at least one positive weight
    y = X[:, 0].astype(np.float64)
    reg = MLPRegressorNN(**params).fit(X, y, sample_weight=sw)
    assert np.isfinite(reg.predict(X)).all()


# --------------------------------------------------------------------------
# invalid input
# --------------------------------------------------------------------------
_text = st.text(min_size=1, max_size=8)
INVALID_VALUES = {
    "hidden_layer_sizes": st.one_of(
        st.integers(max_value=0),
        st.lists(st.integers(-5, 0), min_size=1, max_size=3).map(tuple),
    ),
    "activation": _text.filter(lambda s: s not in ACTIVATIONS),
    "solver": _text.filter(lambda s: s not in [*STOCHASTIC, "lbfgs"]),
    "alpha": st.floats(max_value=-1e-9, allow_infinity=False),
    "batch_size": st.one_of(
        st.integers(max_value=0), _text.filter(lambda s: s != "auto")
    ),
    "learning_rate": _text.filter(lambda s: s not in SCHEDULES),
    "learning_rate_init": st.floats(max_value=0.0, allow_infinity=False),
    "power_t": st.floats(max_value=-1e-9, allow_infinity=False),
    "max_iter": st.integers(max_value=0),
    "shuffle": st.one_of(_text, st.integers(2, 10)),
    "tol": st.floats(max_value=-1e-9, allow_infinity=False),
    "momentum": st.one_of(st.floats(1.001, 1e6), st.floats(-1e6, -0.001)),
    "validation_fraction": st.one_of(st.floats(1.0, 1e6), st.floats(-1e6, -0.001)),
    "beta_1": st.one_of(st.floats(1.0, 1e6), st.floats(-1e6, -0.001)),
    "beta_2": st.one_of(st.floats(1.0, 1e6), st.floats(-1e6, -0.001)),
    "epsilon": st.floats(max_value=0.0, allow_infinity=False),
    "n_iter_no_change": st.integers(max_value=0),
    "max_fun": st.integers(max_value=0),
    "dropout": st.one_of(st.floats(1.0, 1e6), st.floats(-1e6, -0.001)),
    "weight_decay": st.floats(max_value=-1e-9, allow_infinity=False),
    "rho": st.one_of(st.floats(1.0, 1e6), st.floats(-1e6, -0.001)),
    "max_grad_norm": st.floats(max_value=0.0, allow_infinity=False),
    "callbacks": st.one_of(_text, st.integers()),
}


@SETTINGS
@given(
    data=st.data(),
    param=st.sampled_from(sorted(INVALID_VALUES)),
    cls=st.sampled_from([MLPClassifierNN, MLPRegressorNN]),
)
def test_invalid_parameter_named(data, param, cls):
    value = data.draw(INVALID_VALUES[param], label=param)
    X = np.random.default_rng(0).normal(size=(12, 2))
    y = np.arange(12) % 2
    est = cls(hidden_layer_sizes=(3,), max_iter=2, random_state=0)
    est.set_params(**{param: value})
    with pytest.raises((InvalidParameterError, ValueError, TypeError), match=param):
        est.fit(X, y)


@st.composite
def corrupted_problem(draw):
    X = draw(features(min_samples=3)).astype(np.float64)
    where = draw(st.sampled_from(["X_fit", "X_predict", "y", "sample_weight"]))
    value = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    n, d = X.shape
    i, j = draw(st.integers(0, n - 1)), draw(st.integers(0, d - 1))
    return X, where, value, (i, j)


@SETTINGS
@given(
    problem=corrupted_problem(),
    cls=st.sampled_from([MLPClassifierNN, MLPRegressorNN]),
    params=mlp_params(),
)
def test_non_finite_input_rejected(problem, cls, params):
    X, where, value, (i, j) = problem
    n = X.shape[0]
    y = (np.arange(n) % 2).astype(np.float64)
    sw = np.ones(n)
    X_bad = X.copy()
    X_bad[i, j] = value
    y_bad = y.copy()
    y_bad[i] = value
    sw_bad = sw.copy()
    sw_bad[i] = value
    name = (
        "y" if where == "y" else ("sample_weight" if where == "sample_weight" else "X")
    )
    phrase = f"Input {name} contains " + ("NaN" if np.isnan(value) else "infinity")
    est = cls(**params)
    with pytest.raises(ValueError, match=phrase):
        if where == "X_fit":
            est.fit(X_bad, y)
        elif where == "y":
            est.fit(X, y_bad)
        elif where == "sample_weight":
            est.fit(X, y, sample_weight=sw_bad)
        else:
            _fit_quietly(est, X, y)
            est.predict(X_bad)


@SETTINGS
@given(X=features(min_samples=3), data=st.data())
def test_wrong_n_features_rejected(X, data):
    clf = MLPClassifierNN(hidden_layer_sizes=(3,), max_iter=2, random_state=0)
    clf.fit(X, np.arange(X.shape[0]) % 2)
    d = data.draw(st.integers(1, 8).filter(lambda k: k != X.shape[1]))
    with pytest.raises(ValueError, match=f"X has {d} features"):
        clf.predict(np.zeros((2, d), dtype=X.dtype))
