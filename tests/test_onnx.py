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
    # positive targets for the log links (make_regression's are never 0)
    y = np.abs(y) / 100 if loss in ("poisson", "gamma") else y / 100
    reg = MLPRegressorNN(
        loss=loss,
        quantile=0.8 if loss == "quantile" else None,
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


# ----------------------------------------------------------- the first try
# skl2onnx.to_onnx(model, X) converts sknn's estimators without an explicit
# sknn.register_onnx_converters(): import sknn registers them when skl2onnx is
# already imported, or right after skl2onnx's import otherwise. Each case runs
# in a fresh interpreter, where nothing has registered them yet.
FIRST_TRY = """
import sys
import warnings

order = sys.argv[1]
if order == "skl2onnx first":
    import skl2onnx
elif order == "a submodule first":
    from skl2onnx.common.data_types import FloatTensorType

import numpy as np
from sklearn.exceptions import ConvergenceWarning

import sknn
from sknn import MLPClassifierNN, TabularMLPRegressor

if order == "sknn first":
    # sknn leaves skl2onnx alone until someone imports it
    assert "skl2onnx" not in sys.modules

warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter reached
rng = np.random.default_rng(0)
X = rng.normal(size=(60, 4)).astype(np.float32)
clf = MLPClassifierNN((5,), max_iter=3, random_state=0).fit(X, np.arange(60) % 3)
reg = TabularMLPRegressor(hidden_layer_sizes=(8,), max_iter=2, random_state=0)
reg.fit(X, X[:, 0])

import onnxruntime as ort
import skl2onnx

# the registration left skl2onnx's module as it was loaded
assert type(skl2onnx.__loader__).__name__ != "_RegisteringLoader"
assert type(skl2onnx.__spec__.loader).__name__ != "_RegisteringLoader"
assert not any(type(f).__name__ == "_Skl2onnxFinder" for f in sys.meta_path)

for model, options, expected in [
    (clf, {"zipmap": False}, clf.predict_proba(X)),
    (reg, None, reg.predict(X)),
]:
    onx = skl2onnx.to_onnx(model, X[:1], options=options)
    sess = ort.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    got = sess.run(None, {sess.get_inputs()[0].name: X})[-1]
    np.testing.assert_allclose(np.ravel(got), np.ravel(expected), atol=1e-5)
print("converted")
"""


def _fresh_python(code, *args):
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("order", ["sknn first", "skl2onnx first", "a submodule first"])
def test_to_onnx_works_without_registering_first(order):
    run = _fresh_python(FIRST_TRY, order)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().endswith("converted")
    assert "Warning" not in run.stderr, run.stderr


def test_import_sknn_does_not_import_skl2onnx():
    run = _fresh_python(
        "import sys, sknn; print('skl2onnx' in sys.modules, 'onnx' in sys.modules)"
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["False", "False"]


def test_a_failed_registration_warns_and_leaves_skl2onnx_importable():
    code = (
        "import warnings, sknn._onnx as hook\n"
        "def broken():\n"
        "    raise RuntimeError('an incompatible skl2onnx')\n"
        "hook.register_onnx_converters = broken\n"
        "with warnings.catch_warnings(record=True) as seen:\n"
        "    warnings.simplefilter('always')\n"
        "    import skl2onnx\n"
        "print([str(w.message) for w in seen if w.category is RuntimeWarning])\n"
    )
    run = _fresh_python(code)
    assert run.returncode == 0, run.stderr
    assert "an incompatible skl2onnx" in run.stdout
    assert "sknn.register_onnx_converters()" in run.stdout


def test_registering_again_is_harmless():
    code = (
        "import warnings\n"
        "warnings.simplefilter('error')\n"
        "import skl2onnx, sknn\n"
        "sknn.register_onnx_converters()\n"
        "sknn._onnx.register_when_skl2onnx_loads()\n"
        "print('ok')\n"
    )
    run = _fresh_python(code)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "ok"
