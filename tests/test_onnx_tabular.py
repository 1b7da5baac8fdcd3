"""ONNX export of the tabular pair: onnxruntime's outputs equal sknn's, from a
DataFrame (one input per column, strings for categories) or one float tensor."""

import warnings

import numpy as np
import pytest
from sklearn.compose import make_column_transformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sknn import TabularMLPClassifier, TabularMLPRegressor
from sknn._core.blocks import BASE_ACTIVATIONS

pd = pytest.importorskip("pandas")
skl2onnx = pytest.importorskip("skl2onnx")
ort = pytest.importorskip("onnxruntime")

from sknn import register_onnx_converters  # noqa: E402
from sknn._onnx_tabular import _LAYERS  # noqa: E402

register_onnx_converters()
ATOL = 2e-5  # float32 arithmetic in onnxruntime and in sknn
SMALL = dict(hidden_layer_sizes=(32, 16), max_iter=4, random_state=0)
# ONNX input types -> the NumPy dtype a feed of that input needs
FEED = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(bool)": np.bool_,
    "tensor(string)": object,
}


def _table(n=240, seed=0):
    """Numeric columns with missing values, a few-level and a many-level
    string column (missing too), an integer and a boolean column."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "size": rng.lognormal(3, 1, n),
            "ratio": np.where(rng.random(n) < 0.15, np.nan, rng.normal(size=n)),
            "color": rng.choice(["red", "green", "blue"], n).astype(object),
            "city": rng.choice([f"city{i}" for i in range(14)], n).astype(object),
            "rooms": rng.integers(1, 7, n),
            "new": rng.random(n) < 0.3,
        }
    )
    frame.loc[rng.random(n) < 0.1, "color"] = None
    frame.loc[rng.random(n) < 0.05, "city"] = None
    score = np.log(frame["size"]) + (frame["color"] == "red") + 0.3 * frame["rooms"]
    return frame, score.to_numpy()


def _for_onnx(frame):
    """The frame as ONNX feeds it: missing strings are the empty string."""
    out = frame.copy()
    for name in out.columns:
        dtype = out[name].dtype
        if pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
            out[name] = out[name].fillna("").astype(object)
    return out


def _session(model, sample, **options):
    onx = skl2onnx.to_onnx(model, sample, options=options or None)
    cpu = ["CPUExecutionProvider"]
    return ort.InferenceSession(onx.SerializeToString(), providers=cpu)


def _run_frame(model, frame, **options):
    onnx_frame = _for_onnx(frame)
    sess = _session(model, onnx_frame[:1], **options)
    feed = {
        i.name: onnx_frame[i.name].to_numpy().astype(FEED[i.type]).reshape(-1, 1)
        for i in sess.get_inputs()
    }
    return sess.run(None, feed)


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(X, y)


def _with_unseen(frame):
    """A test table with categories fit never saw."""
    test = frame.copy()
    test.loc[:4, "city"] = "atlantis"
    test.loc[5:9, "color"] = "purple"
    return test


CLASSIFIERS = {
    "defaults": {},
    "ensemble": dict(n_ensemble=3),
    "standard parametrization": dict(parametrization="standard"),
    "plain activation": dict(parametric_activation=False),
    "no scale, no periodic": dict(feature_scale=False, numerical_embedding=None),
    "piecewise": dict(numerical_embedding="piecewise", n_bins=6),
    "cross-fitted": dict(n_cv=2),
    "all one-hot": dict(max_onehot=32),
    "all embedded": dict(max_onehot=0),
    "float64": dict(dtype="float64"),
    "target means": dict(target_encoding=True),
    "target means, piecewise": dict(
        target_encoding=True, numerical_embedding="piecewise", n_bins=6
    ),
}


@pytest.mark.parametrize("setting", sorted(CLASSIFIERS))
@pytest.mark.parametrize("n_classes", [2, 3])
def test_classifier_from_a_dataframe(setting, n_classes):
    frame, score = _table()
    y = np.digitize(score, np.quantile(score, np.linspace(0, 1, n_classes + 1)[1:-1]))
    clf = _fit(TabularMLPClassifier(**SMALL, **CLASSIFIERS[setting]), frame, y)
    test = _with_unseen(frame)
    label, proba = _run_frame(clf, test, zipmap=False)
    np.testing.assert_allclose(proba, clf.predict_proba(test), atol=ATOL)
    np.testing.assert_array_equal(label, clf.predict(test))


@pytest.mark.parametrize("activation", sorted(BASE_ACTIVATIONS))
@pytest.mark.parametrize("n_ensemble", [1, 2])
def test_regressor_every_activation(activation, n_ensemble):
    frame, score = _table()
    reg = TabularMLPRegressor(**SMALL, activation=activation, n_ensemble=n_ensemble)
    _fit(reg, frame, score)
    test = _with_unseen(frame)
    (pred,) = _run_frame(reg, test)
    expected = reg.predict(test)
    np.testing.assert_allclose(pred.ravel(), expected, rtol=1e-4, atol=1e-4)


def test_string_labels_and_default_zipmap():
    frame, score = _table()
    y = np.where(score > np.median(score), "high", "low")
    clf = _fit(TabularMLPClassifier(**SMALL), frame, y)
    label, proba = _run_frame(clf, frame)
    np.testing.assert_array_equal(label, clf.predict(frame))
    assert [sorted(row) for row in proba[:2]] == [["high", "low"]] * 2
    got = np.array([[row[c] for c in clf.classes_] for row in proba])
    np.testing.assert_allclose(got, clf.predict_proba(frame), atol=ATOL)


@pytest.mark.parametrize("target_encoding", [False, True])
def test_multi_output_regression(target_encoding):
    frame, score = _table()
    Y = np.column_stack([score, -2 * score + 5])
    reg = TabularMLPRegressor(**SMALL, target_encoding=target_encoding)
    _fit(reg, frame, Y)
    assert reg._encoder.n_target_means_ == 2 * target_encoding  # city, 2 outputs
    (pred,) = _run_frame(reg, _with_unseen(frame))
    expected = reg.predict(_with_unseen(frame))
    np.testing.assert_allclose(pred, expected, rtol=1e-4, atol=1e-4)


def test_one_float_tensor_with_categorical_indices():
    """A numeric array: one input of all columns; integer-coded categories
    (with missing values) by index."""
    rng = np.random.default_rng(1)
    X = np.column_stack(
        [rng.normal(size=300), rng.integers(0, 4, 300), rng.integers(0, 20, 300)]
    ).astype(np.float64)
    X[rng.random(300) < 0.1, 1] = np.nan
    X[rng.random(300) < 0.1, 0] = np.nan
    y = (X[:, 2] % 3 == 0).astype(int)
    clf = _fit(TabularMLPClassifier(**SMALL, categorical_features=[1, 2]), X, y)
    test = X.copy()
    test[:5, 2] = 99  # unseen level
    sess = _session(clf, test[:1].astype(np.float32), zipmap=False)
    label, proba = sess.run(None, {sess.get_inputs()[0].name: test.astype(np.float32)})
    np.testing.assert_allclose(proba, clf.predict_proba(test), atol=ATOL)
    np.testing.assert_array_equal(label, clf.predict(test))


def test_inside_a_pipeline():
    frame, score = _table()
    numeric = ["size", "ratio", "rooms"]
    data = frame[numeric + ["color"]].fillna({"ratio": 0.0, "color": "none"})
    pre = make_column_transformer(
        (StandardScaler(), numeric),
        (OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["color"]),
    )
    pipe = _fit(make_pipeline(pre, TabularMLPRegressor(**SMALL)), data, score)
    (pred,) = _run_frame(pipe, data)
    np.testing.assert_allclose(pred.ravel(), pipe.predict(data), rtol=1e-4, atol=1e-4)


def test_single_class_gives_probability_one():
    frame, _ = _table(60)
    clf = _fit(TabularMLPClassifier(**SMALL), frame, np.full(60, 7))
    label, proba = _run_frame(clf, frame, zipmap=False)
    np.testing.assert_array_equal(proba, np.ones((60, 1)))
    np.testing.assert_array_equal(label, np.full(60, 7))


@pytest.mark.parametrize("kind", sorted(_LAYERS, key=lambda k: k.__name__))
def test_every_emitted_layer_is_exercised(kind):
    """Each layer type with an ONNX emitter appears in a model tested above."""
    frame, score = _table(60)
    used = set()
    for extra in [*CLASSIFIERS.values(), dict(dropout=0.1)]:
        reg = _fit(TabularMLPRegressor(**SMALL, **extra), frame, score)
        used.update(type(layer) for layer in reg._net.layers)
    assert kind in used


# the regressor's losses: the exp output of the log links, the identity of
# the others, and the targets scaled back (divided by their mean, or
# standardised)
LOSSES = {
    "squared_error": {},
    "absolute_error": {},
    "poisson": {},
    "gamma": {},
    "quantile": dict(quantile=0.8),
}


def _loss_target(loss, score, seed=0):
    """Targets for ``loss`` from the table's score: counts, positive skewed
    values, or the score itself."""
    rng = np.random.default_rng(seed)
    mu = np.exp((score - score.mean()) / 2)
    if loss == "poisson":
        return rng.poisson(mu).astype(np.float64)
    if loss == "gamma":
        return rng.gamma(2.0, mu / 2)
    return score


@pytest.mark.parametrize("loss", sorted(LOSSES))
@pytest.mark.parametrize("n_ensemble", [1, 2])
def test_regressor_every_loss(loss, n_ensemble):
    frame, score = _table()
    y = _loss_target(loss, score)
    params = dict(**SMALL, **LOSSES[loss], n_ensemble=n_ensemble)
    reg = _fit(TabularMLPRegressor(loss=loss, **params), frame, y)
    test = _with_unseen(frame)
    (pred,) = _run_frame(reg, test)
    expected = reg.predict(test)
    np.testing.assert_allclose(pred.ravel(), expected, rtol=1e-4, atol=1e-4)
    if loss in ("poisson", "gamma"):
        assert (pred > 0).all()


@pytest.mark.parametrize("loss", ["poisson", "gamma"])
def test_multi_output_log_link(loss):
    frame, score = _table()
    Y = np.column_stack([_loss_target(loss, score, 1), _loss_target(loss, score, 2)])
    reg = _fit(TabularMLPRegressor(loss=loss, **SMALL), frame, 3 * Y)
    (pred,) = _run_frame(reg, frame)
    np.testing.assert_allclose(pred, reg.predict(frame), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("weight", [None, 0.0, 0.5, 1.0])
def test_neighbour_blend_in_the_graph(weight):
    """The blend (``neighbors``) is part of the graph: the distance columns,
    the softmax over the candidates, the tempered probabilities and the mix
    (``weight`` set by hand, so every branch of the graph is exercised; None
    keeps the fitted one)."""
    frame, score = _table()
    y = (score > np.median(score)).astype(int)
    clf = _fit(TabularMLPClassifier(**SMALL), frame, y)
    reg = _fit(TabularMLPRegressor(**SMALL), frame, score)
    for model in (clf, reg):
        assert model._neighbor_blend is not None
        if weight is not None:
            model._neighbor_blend.weight = weight
    test = _with_unseen(frame)
    _, proba = _run_frame(clf, test, zipmap=False)
    np.testing.assert_allclose(proba, clf.predict_proba(test), atol=ATOL)
    (pred,) = _run_frame(reg, test)
    np.testing.assert_allclose(pred.ravel(), reg.predict(test), rtol=1e-4, atol=1e-4)
