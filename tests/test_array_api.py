"""sknn on array-API inputs: ``array_api_strict`` arrays and PyTorch CPU
tensors (the ``gpu-test`` extra), with scikit-learn's ``array_api_dispatch``,
for the drop-in pair and for the tabular pair on numeric arrays.  Results
equal the NumPy path's within float tolerance, and every array that comes
back is in the input's namespace.
"""

import os
import pickle
import warnings

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_digits, make_regression
from sklearn.exceptions import ConvergenceWarning

from sknn import (
    MLPClassifierNN,
    MLPRegressorNN,
    TabularMLPClassifier,
    TabularMLPRegressor,
)
from sknn._core.activations import ACTIVATIONS, OUTPUT_ACTIVATIONS
from sknn._core.blocks import BASE_ACTIVATIONS
from sknn._core.losses import LOSSES
from sknn._core.optimizers import OPTIMIZERS

array_api_compat = pytest.importorskip("array_api_compat")

if os.environ.get("SCIPY_ARRAY_API") != "1":  # pragma: no cover - conftest sets it
    pytest.skip("SCIPY_ARRAY_API=1 must be set before SciPy is imported")


def _namespaces():
    """``pytest.param`` per namespace; those not installed are skipped."""
    params = []
    for name in ("array_api_strict", "torch"):
        try:
            module = __import__(name)
        except ImportError:
            params.append(pytest.param(None, id=name, marks=pytest.mark.skip(name)))
        else:
            params.append(pytest.param(module, id=name))
    return params


NAMESPACES = _namespaces()
RTOL = {np.float64: 1e-9, np.float32: 2e-4}


@pytest.fixture(params=NAMESPACES)
def xp(request):
    """An array library, with scikit-learn's array-API dispatch on."""
    with sklearn.config_context(array_api_dispatch=True):
        yield request.param


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X[:400] / 16).astype(np.float64), y[:400]


def _fit(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


def _numpy(a):
    from sknn._core.array_api import to_numpy

    return to_numpy(a)


def _same_namespace(result, like):
    assert array_api_compat.array_namespace(result) is (
        array_api_compat.array_namespace(like)
    )
    assert array_api_compat.device(result) == array_api_compat.device(like)


def _fit_both(est, xp, X, y):
    """``(NumPy fit, array-API fit, X as xp)``; their loss curves agree."""
    ref = _fit(clone(est), X, y)
    Xd = xp.asarray(X)
    dev = _fit(est, Xd, xp.asarray(y))
    np.testing.assert_allclose(dev.loss_curve_, ref.loss_curve_, rtol=1e-9)
    return ref, dev, Xd


def _same_predictions(ref, dev, X, Xd):
    """A classifier's probabilities and labels: equal, in ``Xd``'s namespace."""
    proba = dev.predict_proba(Xd)
    _same_namespace(proba, Xd)
    np.testing.assert_allclose(_numpy(proba), ref.predict_proba(X), atol=1e-10)
    labels = dev.predict(Xd)
    _same_namespace(labels, Xd)
    np.testing.assert_array_equal(_numpy(labels), ref.predict(X))


CLASSIFIER_TARGETS = {
    "multiclass": lambda y: y,
    "binary": lambda y: y % 2,
    "multilabel": lambda y: np.eye(10, dtype=np.int64)[y][:, :3],
}


@pytest.mark.parametrize("target", sorted(CLASSIFIER_TARGETS))
@pytest.mark.parametrize("solver", sorted(OPTIMIZERS))
def test_classifier_equals_the_numpy_path(xp, digits, solver, target):
    X, y = digits
    y = CLASSIFIER_TARGETS[target](y)
    est = MLPClassifierNN((24,), solver=solver, max_iter=4, random_state=0)
    ref, dev, Xd = _fit_both(est, xp, X, y)
    _same_predictions(ref, dev, X, Xd)
    for coef, ref_coef in zip(dev.coefs_, ref.coefs_):
        _same_namespace(coef, Xd)
        np.testing.assert_allclose(_numpy(coef), ref_coef, atol=1e-10)
    assert dev.score(Xd, xp.asarray(y)) == pytest.approx(ref.score(X, y))


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
def test_regressor_equals_the_numpy_path(xp, activation, loss):
    X, y = make_regression(200, 5, n_targets=2, random_state=0)
    y = np.abs(y) / 100 if loss == "poisson" else y / 100
    est = MLPRegressorNN(
        loss=loss, hidden_layer_sizes=(16,), activation=activation, max_iter=4,
        random_state=0,
    )  # fmt: skip
    ref, dev, Xd = _fit_both(est, xp, X, y)
    pred = dev.predict(Xd)
    _same_namespace(pred, Xd)
    np.testing.assert_allclose(_numpy(pred), ref.predict(X), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(xp, digits, dtype):
    X, y = digits
    X = X.astype(dtype)
    ref = _fit(MLPClassifierNN((16,), max_iter=3, random_state=0), X, y)
    Xd = xp.asarray(X)
    dev = _fit(MLPClassifierNN((16,), max_iter=3, random_state=0), Xd, xp.asarray(y))
    assert dev.coefs_[0].dtype == Xd.dtype
    proba = dev.predict_proba(Xd)
    assert proba.dtype == Xd.dtype
    np.testing.assert_allclose(_numpy(proba), ref.predict_proba(X), rtol=RTOL[dtype])


@pytest.mark.parametrize("scoring", [None, "loss", "accuracy"])
def test_early_stopping_on_the_validation_split(xp, digits, scoring):
    X, y = digits
    est = MLPClassifierNN(
        (24,), early_stopping=True, scoring=scoring, max_iter=30,
        n_iter_no_change=3, random_state=0,
    )  # fmt: skip
    ref = _fit(clone(est), X, y)
    dev = _fit(est, xp.asarray(X), xp.asarray(y))
    assert dev.n_iter_ == ref.n_iter_
    np.testing.assert_allclose(dev.validation_scores_, ref.validation_scores_)
    assert dev.best_validation_score_ == pytest.approx(ref.best_validation_score_)
    for coef, ref_coef in zip(dev.coefs_, ref.coefs_):  # the best epoch's
        np.testing.assert_allclose(_numpy(coef), ref_coef, atol=1e-10)


def test_explicit_validation_data_and_weights(xp):
    X, y = make_regression(300, 4, random_state=1)
    y = y / 100
    w = np.linspace(0.5, 2.0, 200)
    args = (X[:200], y[:200])
    val = dict(X_val=X[200:], y_val=y[200:], sample_weight_val=w[:100])
    est = MLPRegressorNN(
        hidden_layer_sizes=(16,), early_stopping=True, max_iter=8, random_state=0
    )
    ref = _fit(clone(est), *args, sample_weight=w, **val)
    dev = _fit(
        est,
        *(xp.asarray(a) for a in args),
        sample_weight=xp.asarray(w),
        **{k: xp.asarray(v) for k, v in val.items()},
    )
    np.testing.assert_allclose(dev.validation_scores_, ref.validation_scores_)
    np.testing.assert_allclose(dev.loss_curve_, ref.loss_curve_)


def test_class_weight(xp, digits):
    X, y = digits
    est = MLPClassifierNN((16,), class_weight="balanced", max_iter=3, random_state=0)
    _fit_both(est, xp, X, y % 3)


def test_partial_fit_and_warm_start(xp, digits):
    X, y = digits
    Xd, yd = xp.asarray(X), xp.asarray(y)
    ref = MLPClassifierNN((16,), random_state=0)
    dev = MLPClassifierNN((16,), random_state=0)
    for _ in range(3):
        ref.partial_fit(X, y, classes=np.arange(10))
        dev.partial_fit(Xd, yd, classes=xp.asarray(np.arange(10)))
    np.testing.assert_allclose(dev.loss_curve_, ref.loss_curve_)
    _same_namespace(dev.coefs_[0], Xd)
    ref.set_params(warm_start=True, max_iter=2)
    dev.set_params(warm_start=True, max_iter=2)
    _fit(ref, X, y)
    _fit(dev, Xd, yd)
    np.testing.assert_allclose(dev.loss_curve_, ref.loss_curve_)
    np.testing.assert_allclose(_numpy(dev.predict_proba(Xd)), ref.predict_proba(X))


def test_dropout_is_reproducible_per_namespace(xp, digits):
    X, y = digits
    Xd, yd = xp.asarray(X), xp.asarray(y)
    est = MLPClassifierNN(
        (32,), dropout=0.2, learning_rate_init=0.01, max_iter=20, random_state=0
    )
    first = _fit(clone(est), Xd, yd)
    again = _fit(clone(est), Xd, yd)
    other_seed = _fit(clone(est).set_params(random_state=1), Xd, yd)
    no_dropout = _fit(clone(est).set_params(dropout=0.0), Xd, yd)
    assert first.loss_curve_ == again.loss_curve_
    assert first.loss_curve_ != other_seed.loss_curve_
    assert first.loss_curve_ != no_dropout.loss_curve_
    assert first.loss_curve_[-1] < 0.7 * first.loss_curve_[0]  # it learns


@pytest.mark.parametrize("rate", [0.1, 0.5])
def test_device_dropout_masks(xp, rate):
    from sknn._core.array_api import backend_of

    backend = backend_of(xp.asarray(np.zeros(1)))
    source = backend.mask_source(np.random.default_rng(0))
    mask = _numpy(backend.draw_mask(source, (400, 250), rate, np.float64))
    assert set(np.unique(mask)) == {0.0, 1.0 / (1.0 - rate)}
    assert abs((mask > 0).mean() - (1.0 - rate)) < 0.01
    assert abs(mask.mean() - 1.0) < 0.02  # inverted dropout keeps the mean


def test_a_diverging_fit_raises_and_keeps_nothing(xp):
    X, y = make_regression(100, 4, random_state=0)
    est = MLPRegressorNN(
        hidden_layer_sizes=(8,), solver="sgd", learning_rate_init=1e6, max_iter=5
    )
    with pytest.raises(ValueError, match="non-finite parameter weights"):
        _fit(est, xp.asarray(X * 1e3), xp.asarray(y * 1e3))
    assert not hasattr(est, "coefs_")


def _move(model, like):
    from sklearn.utils._array_api import move_estimator_to

    xp = array_api_compat.array_namespace(like)
    return move_estimator_to(model, xp, array_api_compat.device(like))


def test_a_pickled_device_model_is_a_numpy_model(xp, digits):
    X, y = digits
    Xd = xp.asarray(X)
    dev = _fit(MLPClassifierNN((16,), max_iter=3, random_state=0), Xd, xp.asarray(y))
    loaded = pickle.loads(pickle.dumps(dev))
    assert all(type(c) is np.ndarray for c in loaded.coefs_ + loaded.intercepts_)
    opt_state = loaded._train_state.opt_state
    assert all(type(v) is np.ndarray for v in opt_state.values() if hasattr(v, "shape"))
    np.testing.assert_allclose(loaded.predict_proba(X), _numpy(dev.predict_proba(Xd)))
    # moved back, it predicts on the device again and keeps training there
    moved = _move(loaded, Xd)
    _same_namespace(moved.coefs_[0], Xd)
    np.testing.assert_allclose(
        _numpy(moved.predict_proba(Xd)), _numpy(dev.predict_proba(Xd))
    )
    moved.partial_fit(Xd, xp.asarray(y))
    dev.partial_fit(Xd, xp.asarray(y))
    np.testing.assert_allclose(moved.loss_curve_, dev.loss_curve_)


@pytest.mark.parametrize("method", ["predict", "predict_proba", "predict_log_proba"])
def test_another_namespace_at_predict_time_is_scikit_learns_error(xp, digits, method):
    X, y = digits
    host = _fit(MLPClassifierNN((16,), max_iter=3, random_state=0), X, y)
    Xd = xp.asarray(X)
    with pytest.raises(ValueError, match=rf"MLPClassifierNN\.{method}\(\) must use"):
        getattr(host, method)(Xd)
    dev = _move(host, Xd)
    result = getattr(dev, method)(Xd)
    _same_namespace(result, Xd)
    np.testing.assert_allclose(_numpy(result), getattr(host, method)(X))
    with pytest.raises(ValueError, match="must use the same namespace"):
        getattr(dev, method)(X)


def test_lbfgs_runs_on_the_host_and_keeps_the_weights_on_the_device(xp, digits):
    X, y = digits
    est = MLPClassifierNN((16,), solver="lbfgs", max_iter=15, random_state=0)
    ref = _fit(clone(est), X, y)
    Xd = xp.asarray(X)
    dev = _fit(est, Xd, xp.asarray(y))
    assert dev.n_iter_ == ref.n_iter_
    _same_namespace(dev.coefs_[0], Xd)
    np.testing.assert_allclose(_numpy(dev.predict_proba(Xd)), ref.predict_proba(X))


def test_string_labels_are_a_clear_error(xp, digits):
    X, y = digits
    labels = np.array(["even", "odd"])[y % 2]
    with pytest.raises(ValueError, match="needs numeric class labels"):
        MLPClassifierNN(max_iter=1).fit(xp.asarray(X), labels)


# -------------------------------------------------------------- tabular pair
@pytest.fixture(scope="module")
def table():
    """Breast-cancer features with missing values, and a regression table with
    an integer-coded categorical column of 30 levels (learned embeddings)."""
    X, y = load_breast_cancer(return_X_y=True)
    X = X.copy()
    X[::7, 3] = np.nan
    rng = np.random.default_rng(0)
    Xr, yr = make_regression(300, 6, n_targets=2, random_state=0)
    Xr[:, 0] = rng.integers(0, 30, 300)
    return X, y, Xr, yr


# no dropout (its masks come from each library's generator) and the standard
# parametrization: the NTP data init puts units exactly at their kink, where
# relu's and selu's derivative follow the last bit of each library's products
EXACT = dict(
    max_iter=4, dropout=0.0, parametrization="standard", dtype="float64",
    random_state=0,
)  # fmt: skip


@pytest.mark.parametrize("activation", sorted(BASE_ACTIVATIONS))
@pytest.mark.parametrize("n_ensemble", [1, 3])
def test_tabular_classifier_equals_the_numpy_path(xp, table, activation, n_ensemble):
    X, y, _, _ = table
    est = TabularMLPClassifier(activation=activation, n_ensemble=n_ensemble, **EXACT)
    ref, dev, Xd = _fit_both(est, xp, X, y)
    _same_predictions(ref, dev, X, Xd)
    assert dev.best_epoch_ == ref.best_epoch_


def test_tabular_piecewise_embedding_equals_the_numpy_path(xp, table):
    X, y, _, _ = table
    est = TabularMLPClassifier(numerical_embedding="piecewise", n_bins=8, **EXACT)
    ref, dev, Xd = _fit_both(est, xp, X, y)
    _same_predictions(ref, dev, X, Xd)
    assert dev.best_epoch_ == ref.best_epoch_


def test_tabular_cross_fitted_members_equal_the_numpy_path(xp, table):
    _, _, X, y = table
    est = TabularMLPRegressor(n_cv=3, **EXACT)
    ref, dev, Xd = _fit_both(est, xp, X, y)
    assert dev.best_epoch_ == ref.best_epoch_
    _same_namespace(dev._params, Xd)
    pred = dev.predict(Xd)
    _same_namespace(pred, Xd)
    np.testing.assert_allclose(_numpy(pred), ref.predict(X), rtol=1e-6, atol=1e-9)


def test_tabular_regressor_with_embeddings_equals_the_numpy_path(xp, table):
    _, _, X, y = table
    est = TabularMLPRegressor(categorical_features=[0], n_ensemble=2, **EXACT)
    ref, dev, Xd = _fit_both(est, xp, X, y)
    assert dev._encoder.cardinalities_ == [31]  # the column has embeddings
    pred = dev.predict(Xd)
    _same_namespace(pred, Xd)
    np.testing.assert_allclose(_numpy(pred), ref.predict(X), rtol=1e-9, atol=1e-9)


def test_tabular_defaults_train_on_device(xp, table):
    X, y, _, _ = table
    Xd, yd = xp.asarray(X), xp.asarray(y)
    first = TabularMLPClassifier(random_state=0).fit(Xd, yd)
    again = TabularMLPClassifier(random_state=0).fit(Xd, yd)
    assert first.loss_curve_ == again.loss_curve_  # reproducible per namespace
    _same_namespace(first._params, Xd)
    assert first.score(Xd, yd) > 0.95


def test_tabular_pickle_and_namespaces(xp, table):
    X, y, _, _ = table
    Xd = xp.asarray(X)
    dev = TabularMLPClassifier(**EXACT).fit(Xd, xp.asarray(y))
    loaded = pickle.loads(pickle.dumps(dev))
    assert type(loaded._params) is np.ndarray
    np.testing.assert_allclose(loaded.predict_proba(X), _numpy(dev.predict_proba(Xd)))
    with pytest.raises(ValueError, match=r"TabularMLPClassifier\.predict\(\) must"):
        loaded.predict(Xd)
    moved = _move(loaded, Xd)
    _same_namespace(moved.predict_proba(Xd), Xd)
    log_proba = moved.predict_log_proba(Xd)
    _same_namespace(log_proba, Xd)
    np.testing.assert_allclose(_numpy(log_proba), loaded.predict_log_proba(X))
    np.testing.assert_array_equal(_numpy(moved.predict(Xd)), _numpy(dev.predict(Xd)))


def test_tabular_validation_data_on_device(xp, table):
    _, _, X, y = table
    est = TabularMLPRegressor(**EXACT)
    val = dict(X_val=X[200:], y_val=y[200:])
    ref = est.fit(X[:200], y[:200], **val).loss_curve_, est.validation_scores_
    dev = clone(est).fit(
        xp.asarray(X[:200]),
        xp.asarray(y[:200]),
        **{k: xp.asarray(v) for k, v in val.items()},
    )
    np.testing.assert_allclose(dev.loss_curve_, ref[0], rtol=1e-9)
    np.testing.assert_allclose(dev.validation_scores_, ref[1], rtol=1e-9)
    assert isinstance(dev.score(xp.asarray(X), xp.asarray(y)), float)


def test_tabular_string_labels_are_a_clear_error(xp, table):
    X, y, _, _ = table
    with pytest.raises(ValueError, match="needs numeric class labels"):
        TabularMLPClassifier(max_iter=1).fit(xp.asarray(X), np.array(["a", "b"])[y])


@pytest.mark.parametrize(
    "estimator",
    [MLPClassifierNN, MLPRegressorNN, TabularMLPClassifier, TabularMLPRegressor],
)
def test_scikit_learns_array_api_checks(estimator):
    """scikit-learn's own array-API estimator checks, for every namespace and
    mixed-input permutation it knows (those not installed skip)."""
    from sklearn.utils.estimator_checks import _yield_array_api_checks

    est = estimator(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    ran = 0
    for check in _yield_array_api_checks(est):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                check(type(est).__name__, est)
        except pytest.skip.Exception:
            continue
        ran += 1
    assert ran >= 2  # array_api_strict at least: same-namespace and mixed inputs


# -------------------------------------------------------------- the tables
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_every_hidden_activation_matches_numpy(xp, name):
    from sknn._core.array_api import backend_of

    rng = np.random.default_rng(0)
    Z = rng.normal(scale=3, size=(7, 5))
    dA = rng.normal(size=(7, 5))
    ref = ACTIVATIONS[name]
    table = backend_of(xp.asarray(Z)).activations[name]
    A = ref.forward(Z.copy())
    A_dev = table.forward(xp.asarray(Z))
    np.testing.assert_allclose(_numpy(A_dev), A, rtol=1e-12, atol=1e-15)
    expected = ref.backward(A, dA.copy(), Z)
    got = table.backward(A_dev, xp.asarray(dA), xp.asarray(Z))
    np.testing.assert_allclose(_numpy(got), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", sorted(OUTPUT_ACTIVATIONS))
def test_every_output_activation_matches_numpy(xp, name):
    from sknn._core.array_api import backend_of

    Z = np.random.default_rng(1).normal(scale=4, size=(6, 4))
    got = backend_of(xp.asarray(Z)).outputs[name].forward(xp.asarray(Z))
    expected = OUTPUT_ACTIVATIONS[name].forward(Z.copy())
    np.testing.assert_allclose(_numpy(got), expected, rtol=1e-12)


@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("weighted", [False, True])
def test_every_loss_matches_numpy(xp, name, weighted):
    from sknn._core.array_api import backend_of

    rng = np.random.default_rng(2)
    P = rng.uniform(0.01, 0.99, size=(9, 3))
    if name == "log_loss":
        P /= P.sum(axis=1, keepdims=True)
    Y = rng.integers(0, 3, size=(9, 3)).astype(float)
    Y[0] = 0.0  # zero targets (the Poisson ratio's special case)
    if name == "gamma":
        Y += 1.0  # its targets are positive
    sw = rng.uniform(0.5, 2, size=9) if weighted else None
    loss = backend_of(xp.asarray(P)).losses[name]
    assert loss.out_activation == LOSSES[name].out_activation
    weights = None if sw is None else xp.asarray(sw)
    got = loss.value(xp.asarray(Y), xp.asarray(P), weights)
    assert got == pytest.approx(LOSSES[name].value(Y, P, sw), rel=1e-12)


@pytest.mark.parametrize(
    "spec, shapes",
    [
        ("pnm,np->pm", [(3, 5, 4), (5, 3)]),
        ("pnm,pm->np", [(3, 5, 4), (3, 4)]),
        ("knd,nd->kd", [(2, 5, 3), (5, 3)]),
        ("knd,kd->nd", [(2, 5, 3), (2, 3)]),
    ],
)
def test_einsum_matches_numpy(xp, spec, shapes):
    from sknn._core.array_api import backend_of

    rng = np.random.default_rng(3)
    a, b = (rng.normal(size=shape) for shape in shapes)
    backend = backend_of(xp.asarray(a))
    got = backend.einsum(spec, xp.asarray(a), xp.asarray(b))
    np.testing.assert_allclose(_numpy(got), np.einsum(spec, a, b), rtol=1e-12)
    if backend.library != "generic":  # the generic form, on this library too
        got = backend._einsum(spec, xp.asarray(a), xp.asarray(b))
        np.testing.assert_allclose(_numpy(got), np.einsum(spec, a, b), rtol=1e-12)


def test_scatter_add_matches_numpy(xp):
    from sknn._core.array_api import backend_of

    rng = np.random.default_rng(4)
    idx = rng.integers(0, 6, size=40)  # repeats
    values = rng.normal(size=(40, 3))
    expected = np.zeros((6, 3))
    np.add.at(expected, idx, values)
    backend = backend_of(xp.asarray(values))
    target = backend.zeros((6, 3), np.float64)
    backend.scatter_add(target, backend.indices(idx), xp.asarray(values))
    np.testing.assert_allclose(_numpy(target), expected, rtol=1e-12)


@pytest.mark.parametrize("Est", [TabularMLPClassifier, TabularMLPRegressor])
def test_tabular_warm_start_and_partial_fit_equal_the_numpy_path(xp, table, Est):
    X, y, Xr, yr = table
    if Est is TabularMLPRegressor:
        X, y = Xr, yr
    first = {"classes": np.unique(y)} if Est is TabularMLPClassifier else {}
    ref, dev = Est(warm_start=True, **EXACT), Est(warm_start=True, **EXACT)
    Xd = xp.asarray(X)
    for est, Xa in ((ref, X), (dev, Xd)):
        est.partial_fit(Xa, y, **first)  # the encoder is fitted here
        est.partial_fit(Xa, y)
        _fit(est, Xa, y)  # a warm start: validating, from the fitted weights
        est.partial_fit(Xa, y)
    assert len(dev.loss_curve_) == 4 + EXACT["max_iter"] - 1
    np.testing.assert_allclose(dev.loss_curve_, ref.loss_curve_, rtol=1e-9)
    out = dev.predict(Xd)
    _same_namespace(out, Xd)
    np.testing.assert_allclose(_numpy(out), ref.predict(X), atol=1e-10)


# ---------------------------------------------- without array-api-compat
# scikit-learn ships its own copy of array-api-compat
# (sklearn.externals.array_api_compat); sknn falls back to it when the
# standalone package (the array-api extra) is missing. The missing package is
# simulated in a fresh interpreter: ``sys.modules["array_api_compat"] = None``
# makes every ``import array_api_compat`` raise ImportError, as if it were not
# installed, before sknn is imported.
WITHOUT_COMPAT = """
import json
import sys
import warnings

sys.modules["array_api_compat"] = None  # as if array-api-compat were missing

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.externals import array_api_compat as vendored

from sknn import MLPClassifierNN, TabularMLPRegressor
from sknn._core import array_api
from sknn._device import is_device_array

xp = __import__(sys.argv[1])
rng = np.random.default_rng(0)
X = rng.normal(size=(120, 5))
y = (X[:, 0] > 0).astype(np.int64)
out = {"uses_vendored": array_api.array_api_compat is vendored}
warnings.simplefilter("ignore", ConvergenceWarning)
for name, est, target in [
    ("drop-in", MLPClassifierNN((8,), max_iter=3, random_state=0), y),
    # dropout masks and data-dependent initialisation differ by namespace
    ("tabular", TabularMLPRegressor(hidden_layer_sizes=(8,), **{exact}), X[:, 1]),
]:
    ref = sklearn.base.clone(est).fit(X, target)
    with sklearn.config_context(array_api_dispatch=True):
        Xd = xp.asarray(X)
        out["device_array"] = is_device_array(Xd)
        dev = est.fit(Xd, xp.asarray(target))
        pred = dev.predict(Xd)
    out[name] = {
        "same_namespace": type(pred).__module__.split(".")[0] == xp.__name__,
        "loss_gap": float(np.max(np.abs(
            np.asarray(dev.loss_curve_) - np.asarray(ref.loss_curve_)))),
        "pred_gap": float(np.max(np.abs(
            array_api.to_numpy(pred).astype(float) - ref.predict(X)))),
    }
print(json.dumps(out))
"""


@pytest.mark.parametrize("namespace", [p.id for p in NAMESPACES])
def test_fit_without_array_api_compat_uses_scikit_learns_copy(namespace):
    import json
    import subprocess
    import sys

    pytest.importorskip(namespace)
    pytest.importorskip("sklearn.externals.array_api_compat")
    env = dict(os.environ, SCIPY_ARRAY_API="1")
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            WITHOUT_COMPAT.replace("{exact}", repr(EXACT)),
            namespace,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    if namespace == "torch":  # the vendored torch wrapper: a clear error
        assert run.returncode != 0
        assert "pip install 'sknn[array-api]'" in run.stderr, run.stderr
        return
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["uses_vendored"] and result["device_array"]
    for pair in ("drop-in", "tabular"):
        assert result[pair]["same_namespace"], result
        assert result[pair]["loss_gap"] < 1e-9, result
        assert result[pair]["pred_gap"] < 1e-9, result


def test_device_array_check_follows_the_resolved_package(monkeypatch):
    """``is_device_array`` asks the package the core resolved (standalone or
    scikit-learn's), not a fresh ``import array_api_compat`` that a missing
    extra would turn into a silent False."""
    xp = pytest.importorskip("array_api_strict")
    import sys

    from sklearn.externals import array_api_compat as vendored

    from sknn import _device
    from sknn._core import array_api

    monkeypatch.setitem(sys.modules, "array_api_compat", None)
    monkeypatch.setattr(array_api, "array_api_compat", vendored)
    assert _device.is_device_array(xp.asarray([1.0, 2.0]))
    assert not _device.is_device_array(np.asarray([1.0, 2.0]))
