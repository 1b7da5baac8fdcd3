"""Prediction through the kept fitted network: results, input checks, caching."""

import copy
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn import config_context
from sklearn.datasets import load_iris
from sklearn.preprocessing import LabelBinarizer

from sknn import MLPClassifierNN, MLPRegressorNN
from sknn._core.network import Network


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return (X - X.mean(0)) / X.std(0), y


def _fit(Est, X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Est(hidden_layer_sizes=(8,), max_iter=20, random_state=0, **params).fit(
            X, y
        )


def _rebuilt(est, X):
    """Outputs of a network built afresh from ``coefs_``/``intercepts_``."""
    units = [est.coefs_[0].shape[0], *[c.shape[1] for c in est.coefs_]]
    net = Network(units, est.activation, est._loss_name(), dtype=np.float64)
    return net.predict(net.pack(est.coefs_, est.intercepts_), X)


# ------------------------------------------------------------------ decoding
@pytest.mark.parametrize(
    "labels", [[0, 1], ["no", "yes"], [-1, 1]], ids=["int", "str", "signed"]
)
def test_binary_decode_matches_label_binarizer(labels):
    clf = _fit(MLPClassifierNN, [[0.0], [1.0]], labels)
    P = np.array([[0.2], [0.5], [0.5000001], [0.9], [np.nan]])
    expected = LabelBinarizer().fit(labels).inverse_transform(P.ravel())
    np.testing.assert_array_equal(clf._decode(P), expected)
    assert clf._decode(P).dtype == expected.dtype


def test_multiclass_decode_matches_label_binarizer():
    labels = np.array(["a", "b", "c"])
    clf = _fit(MLPClassifierNN, [[0.0], [1.0], [2.0]], labels)
    P = np.array([[0.2, 0.5, 0.3], [0.4, 0.4, 0.2], [1 / 3] * 3, [np.nan, 0.5, 0.5]])
    expected = LabelBinarizer().fit(labels).inverse_transform(P)
    np.testing.assert_array_equal(clf._decode(P), expected)


def test_single_class_decode():
    clf = _fit(MLPClassifierNN, [[0.0], [1.0]], [7, 7])
    np.testing.assert_array_equal(clf.predict([[0.0], [3.0]]), [7, 7])


def test_multilabel_decode_is_an_indicator_matrix(iris):
    X, y = iris
    Y = np.column_stack([y == 0, y == 1, y != 1]).astype(int)
    clf = _fit(MLPClassifierNN, X, Y)
    pred = clf.predict(X)
    np.testing.assert_array_equal(pred, (clf.predict_proba(X) > 0.5).astype(int))


# -------------------------------------------------------------- input checks
@pytest.mark.parametrize("Est", [MLPClassifierNN, MLPRegressorNN])
@pytest.mark.parametrize(
    "convert",
    [
        np.asarray,
        lambda X: X.astype(np.float32),
        lambda X: np.asfortranarray(X),
        lambda X: X.tolist(),
        lambda X: np.round(X * 10).astype(np.int64),
        lambda X: X[:, ::-1].copy()[:, ::-1],  # a non-contiguous view
    ],
    ids=["float64", "float32", "fortran", "list", "int", "strided"],
)
def test_every_input_form_predicts_the_same(iris, Est, convert):
    X, y = iris
    est = _fit(Est, X, y)
    Xc = convert(X)
    reference = Est.predict(copy.deepcopy(est), np.asarray(Xc, dtype=np.float64))
    np.testing.assert_allclose(est.predict(Xc), reference, rtol=1e-6)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_input_gets_validate_datas_error(iris, bad):
    X, y = iris
    clf = _fit(MLPClassifierNN, X, y)
    X_bad = X.copy()
    X_bad[3, 1] = bad
    with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
        clf.predict(X_bad)
    with config_context(assume_finite=True):  # the user's promise is kept
        clf.predict(X)


def test_wrong_width_gets_validate_datas_error(iris):
    X, y = iris
    clf = _fit(MLPClassifierNN, X, y)
    with pytest.raises(ValueError, match="X has 3 features, but MLPClassifierNN"):
        clf.predict(np.ascontiguousarray(X[:, :3]))
    with pytest.raises(ValueError, match="Found array with 0 sample"):
        clf.predict(X[:0])


def test_feature_name_checks_still_run(iris):
    X, y = iris
    frame = pd.DataFrame(X, columns=list("abcd"))
    named = _fit(MLPClassifierNN, frame, y)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        named.predict(X)
    plain = _fit(MLPClassifierNN, X, y)
    with pytest.warns(UserWarning, match="fitted without feature names"):
        plain.predict(frame)


# ------------------------------------------------------- the kept network
@pytest.mark.parametrize("Est", [MLPClassifierNN, MLPRegressorNN])
def test_predictions_equal_a_rebuilt_network(iris, Est):
    X, y = iris
    est = _fit(Est, X, y)
    net, params, _, _ = est._fitted_net
    # coefs_ and intercepts_ are views of the kept vector: no copy
    assert all(np.shares_memory(c, params) for c in est.coefs_ + est.intercepts_)
    P = _rebuilt(est, X)
    if Est is MLPClassifierNN:
        np.testing.assert_array_equal(est.predict_proba(X), P)
    else:
        np.testing.assert_array_equal(est.predict(X), P.ravel())


def test_changes_to_the_weights_are_seen(iris):
    X, y = iris
    reg = _fit(MLPRegressorNN, X, y)
    reg.intercepts_[-1][...] += 5.0  # in place
    np.testing.assert_array_equal(reg.predict(X), _rebuilt(reg, X).ravel())
    reg.coefs_[0] = reg.coefs_[0] * 2.0  # a new array
    np.testing.assert_array_equal(reg.predict(X), _rebuilt(reg, X).ravel())
    reg.coefs_ = [c.copy() for c in reg.coefs_]  # a new list
    np.testing.assert_array_equal(reg.predict(X), _rebuilt(reg, X).ravel())


def test_activation_changed_after_fit_is_used(iris):
    # scikit-learn's predict uses the activation parameter as it is now
    X, y = iris
    reg = _fit(MLPRegressorNN, X, y)
    before = reg.predict(X)
    reg.set_params(activation="tanh")
    after = reg.predict(X)
    assert not np.allclose(before, after)
    np.testing.assert_array_equal(after, _rebuilt(reg, X).ravel())


def test_float32_weights_on_float64_data_predict_in_float64(iris):
    X, y = iris
    reg = _fit(MLPRegressorNN, X.astype(np.float32), y)
    assert reg.coefs_[0].dtype == np.float32
    assert reg.predict(X).dtype == np.float64
    assert reg.predict(X.astype(np.float32)).dtype == np.float32


@pytest.mark.parametrize("Est", [MLPClassifierNN, MLPRegressorNN])
def test_pickle_stores_each_weight_once_and_restores_the_network(iris, Est):
    X, y = iris
    est = _fit(Est, X, y)
    assert "_fitted_net" not in est.__getstate__()
    loaded = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    _, params, _, _ = loaded._fitted_net
    assert all(np.shares_memory(c, params) for c in loaded.coefs_)
    clone = copy.deepcopy(est)
    np.testing.assert_array_equal(clone.predict(X), est.predict(X))
    assert not np.shares_memory(clone.coefs_[0], est.coefs_[0])


def test_warm_start_does_not_change_the_previous_fits_arrays(iris):
    X, y = iris
    reg = _fit(MLPRegressorNN, X, y, warm_start=True)
    first = reg.coefs_[0]
    snapshot = first.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg.fit(X, y)
    assert reg.coefs_[0] is not first
    np.testing.assert_array_equal(first, snapshot)


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "tanh"])
def test_predictions_identical_with_and_without_compiled_kernels(iris, activation):
    from sknn._core import _fused

    X, y = iris
    clf = _fit(MLPClassifierNN, X, y, activation=activation)
    outputs = []
    for enabled in [False, True] if _fused.AVAILABLE else [False]:
        with _fused.use(enabled):
            outputs.append(clf.predict_proba(X))
    for P in outputs[1:]:
        np.testing.assert_array_equal(P, outputs[0])
    np.testing.assert_array_equal(outputs[0], _rebuilt(clf, X))
