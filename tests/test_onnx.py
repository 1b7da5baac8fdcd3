"""ONNX export of the drop-in pair: onnxruntime's outputs equal sknn's."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits, make_regression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknn import MLPClassifierNN, MLPRegressorNN
from sknn._core.activations import ACTIVATIONS

skl2onnx = pytest.importorskip("skl2onnx")
ort = pytest.importorskip("onnxruntime")

from sknn import register_onnx_converters  # noqa: E402

register_onnx_converters()
ATOL = 1e-5  # float32 arithmetic in onnxruntime and in sknn


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X[:300] / 16).astype(np.float32), y[:300]


def _run(model, X, **options):
    onx = skl2onnx.to_onnx(model, X[:1], options=options or None)
    cpu = ["CPUExecutionProvider"]
    sess = ort.InferenceSession(onx.SerializeToString(), providers=cpu)
    return sess.run(None, {sess.get_inputs()[0].name: X})


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter reached
        return est.fit(X, y)


TARGETS = {
    "multiclass": lambda y: y,
    "binary": lambda y: y % 2,
    "string labels": lambda y: np.array(["odd", "even"])[y % 2],
    "multilabel": lambda y: np.eye(10, dtype=int)[y][:, :3],
}


@pytest.mark.parametrize("target", sorted(TARGETS))
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_classifier_probabilities_and_labels(digits, activation, target):
    X, y = digits
    y = TARGETS[target](y)
    clf = _fit(MLPClassifierNN((16, 8), activation, max_iter=5, random_state=0), X, y)
    label, proba = _run(clf, X, zipmap=False)
    np.testing.assert_allclose(proba, clf.predict_proba(X), atol=ATOL)
    np.testing.assert_array_equal(label, clf.predict(X))


# every loss the regressor accepts: a new one fails here until the converter
# writes its output activation
REGRESSOR_LOSSES = sorted(MLPRegressorNN._parameter_constraints["loss"][0].options)


@pytest.mark.parametrize("loss", REGRESSOR_LOSSES)
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_regressor_predictions(activation, loss):
    X, y = make_regression(200, 6, n_targets=2, random_state=0)
    X = X.astype(np.float32)
    y = np.abs(y) / 100 if loss == "poisson" else y / 100
    reg = MLPRegressorNN(
        loss=loss,
        hidden_layer_sizes=(16,),
        activation=activation,
        max_iter=5,
        random_state=0,
    )
    _fit(reg, X, y)
    (pred,) = _run(reg, X)
    np.testing.assert_allclose(pred, reg.predict(X), rtol=1e-4, atol=ATOL)


def test_inside_a_pipeline(digits):
    X, y = digits
    clf = MLPClassifierNN(max_iter=5, random_state=0)
    pipe = _fit(make_pipeline(StandardScaler(), clf), X, y)
    label, proba = _run(pipe, X, zipmap=False)
    np.testing.assert_allclose(proba, pipe.predict_proba(X), atol=ATOL)
    np.testing.assert_array_equal(label, pipe.predict(X))
    X_r, y_r = make_regression(100, 4, random_state=0)
    X_r = X_r.astype(np.float32)
    reg = _fit(make_pipeline(StandardScaler(), MLPRegressorNN(max_iter=5)), X_r, y_r)
    (pred,) = _run(reg, X_r)
    np.testing.assert_allclose(pred.ravel(), reg.predict(X_r), rtol=1e-4, atol=1e-3)


def test_default_zipmap_output(digits):
    X, y = digits
    clf = _fit(MLPClassifierNN(max_iter=5, random_state=0), X, y)
    label, proba = _run(clf, X[:5])
    assert isinstance(proba, list) and set(proba[0]) == set(clf.classes_)
    assert proba[0][label[0]] == pytest.approx(clf.predict_proba(X[:1]).max(), abs=ATOL)
