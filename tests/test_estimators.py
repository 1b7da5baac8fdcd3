"""Drop-in parity of MLPClassifierNN / MLPRegressorNN with scikit-learn's MLPs.

Every test here checks behaviour that scikit-learn's ``MLPClassifier`` and
``MLPRegressor`` already have: constructor signature, fitted attributes,
accuracy on small problems, accepted inputs, the usual scikit-learn
workflows (pipelines, grid search, pickling), ``warm_start``,
``partial_fit``, early stopping, reproducibility, dropout and parameter
validation.  Data sets are small and ``max_iter`` low so the module runs in a
few seconds.
"""

import inspect
import io
import pickle

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from _common import coefs_equal as _coefs_equal
from _common import scaled_regression
from _common import small_classifier as _small_clf
from _common import small_regressor as _small_reg
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.datasets import (
    load_digits,
    make_classification,
    make_multilabel_classification,
    make_regression,
)
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from sknn import MLPClassifierNN, MLPRegressorNN

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

PAIRS = [(MLPClassifierNN, MLPClassifier), (MLPRegressorNN, MLPRegressor)]


# --------------------------------------------------------------------- data
@pytest.fixture(scope="module")
def digits():
    """A scaled 500-sample digits subset (all ten classes)."""
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X[:500])
    return X, y[:500]


@pytest.fixture(scope="module")
def regression():
    """A small scaled regression problem."""
    return scaled_regression()


def _fitted_attrs(est):
    return {k for k in vars(est) if k.endswith("_") and not k.startswith("_")}


# --------------------------------------------------------- constructor API
@pytest.mark.parametrize("ours, theirs", PAIRS)
def test_signature_is_superset_of_sklearn(ours, theirs):
    sk = list(inspect.signature(theirs).parameters.values())
    mine = list(inspect.signature(ours).parameters.values())
    assert len(mine) > len(sk)
    for p_sk, p_mine in zip(sk, mine):
        # same name, in the same position, with the same default and kind
        assert p_mine.name == p_sk.name
        assert p_mine.kind == p_sk.kind, p_sk.name
        assert p_mine.default == p_sk.default, p_sk.name
        assert type(p_mine.default) is type(p_sk.default), p_sk.name
    sk_names = {p.name for p in sk}
    for p in mine[len(sk) :]:
        assert p.name not in sk_names
        assert p.kind == inspect.Parameter.KEYWORD_ONLY, p.name


@pytest.mark.parametrize("ours, theirs", PAIRS)
def test_get_params_set_params_clone(ours, theirs):
    sk_params = theirs().get_params()
    params = ours().get_params()
    assert set(sk_params) <= set(params)
    for name, value in sk_params.items():
        assert params[name] == value, name

    est = ours(hidden_layer_sizes=(7, 3), alpha=0.5, dropout=0.25, max_grad_norm=2.0)
    assert est.set_params(alpha=0.1, max_iter=3) is est
    assert est.get_params()["alpha"] == 0.1
    assert est.get_params()["max_iter"] == 3
    cloned = clone(est)
    assert cloned is not est
    assert cloned.get_params() == est.get_params()
    with pytest.raises(ValueError, match="Invalid parameter"):
        est.set_params(not_a_parameter=1)


def test_is_classifier_is_regressor():
    assert is_classifier(MLPClassifierNN())
    assert not is_regressor(MLPClassifierNN())
    assert is_regressor(MLPRegressorNN())
    assert not is_classifier(MLPRegressorNN())


# ----------------------------------------------------- fitted attributes
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("ours, theirs", PAIRS)
def test_fitted_attributes_superset_of_sklearn(
    ours, theirs, solver, early_stopping, digits
):
    X, y = digits
    X, y = X[:200], y[:200]
    if ours is MLPRegressorNN:
        y = y.astype(float)
    params = dict(
        hidden_layer_sizes=(8,),
        max_iter=5,
        random_state=0,
        solver=solver,
        early_stopping=early_stopping,
    )
    sk = theirs(**params).fit(X, y)
    mine = ours(**params).fit(X, y)
    missing = _fitted_attrs(sk) - _fitted_attrs(mine)
    assert not missing, f"missing fitted attributes: {sorted(missing)}"
    for name in _fitted_attrs(sk):
        assert type(getattr(mine, name)) is type(getattr(sk, name)) or (
            np.isscalar(getattr(sk, name)) and np.isscalar(getattr(mine, name))
        ), name


@pytest.mark.parametrize("hidden", [(16,), (12, 6)])
def test_fitted_attribute_values_classifier(digits, hidden):
    X, y = digits
    X, y = X[:300], y[:300]
    est = _small_clf(hidden_layer_sizes=hidden, max_iter=7).fit(X, y)
    n_samples, n_features = X.shape
    assert est.n_layers_ == len(hidden) + 2
    assert est.n_outputs_ == 10
    assert est.out_activation_ == "softmax"
    assert_array_equal(est.classes_, np.arange(10))
    units = [n_features, *hidden, 10]
    assert [c.shape for c in est.coefs_] == list(zip(units[:-1], units[1:]))
    assert [b.shape for b in est.intercepts_] == [(u,) for u in units[1:]]
    assert est.n_features_in_ == n_features
    assert est.n_iter_ == 7
    assert est.t_ == n_samples * est.n_iter_
    assert len(est.loss_curve_) == est.n_iter_
    assert est.loss_ == est.loss_curve_[-1]
    assert est.best_loss_ == min(est.loss_curve_)
    assert est.validation_scores_ is None
    assert est.best_validation_score_ is None
    assert np.all(np.isfinite(est.loss_curve_))


def test_fitted_attribute_values_regressor(regression):
    X, y = regression
    est = _small_reg(max_iter=6).fit(X, y)
    assert est.n_layers_ == 3
    assert est.n_outputs_ == 1
    assert est.out_activation_ == "identity"
    assert [c.shape for c in est.coefs_] == [(X.shape[1], 16), (16, 1)]
    assert est.n_iter_ == 6
    assert est.t_ == X.shape[0] * 6
    assert len(est.loss_curve_) == 6
    assert est.best_loss_ == min(est.loss_curve_)
    assert est.validation_scores_ is None
    assert est.best_validation_score_ is None
    assert not hasattr(est, "classes_")


def test_fitted_attributes_early_stopping(digits):
    X, y = digits
    X, y = X[:300], y[:300]
    est = _small_clf(early_stopping=True, max_iter=8).fit(X, y)
    assert est.best_loss_ is None
    assert len(est.validation_scores_) == est.n_iter_ == len(est.loss_curve_)
    assert est.best_validation_score_ == max(est.validation_scores_)
    # t_ counts the training samples only (the validation split excluded)
    n_train = X.shape[0] - int(np.ceil(0.1 * X.shape[0]))
    assert est.t_ == n_train * est.n_iter_


def test_fitted_attributes_lbfgs(digits):
    X, y = digits
    X, y = X[:200], y[:200]
    est = _small_clf(solver="lbfgs", max_iter=15).fit(X, y)
    assert 0 < est.n_iter_ <= 15
    assert np.isfinite(est.loss_)
    assert est.n_layers_ == 3
    assert est.out_activation_ == "softmax"


def _targets(kind):
    rng = np.random.RandomState(0)
    X = rng.randn(60, 4)
    if kind == "multiclass":
        return X, np.arange(60) % 3
    if kind == "binary":
        return X, np.arange(60) % 2
    if kind == "multilabel":
        return X, (rng.rand(60, 3) > 0.5).astype(int)
    if kind == "regression":
        return X, X @ rng.randn(4)
    if kind == "poisson":
        return X, rng.poisson(np.exp(0.3 * X[:, 0])).astype(float)
    if kind == "multioutput":
        return X, X @ rng.randn(4, 2)
    raise ValueError(kind)


@pytest.mark.parametrize(
    "kind, ours, theirs, params, out_activation, n_outputs",
    [
        ("multiclass", MLPClassifierNN, MLPClassifier, {}, "softmax", 3),
        ("binary", MLPClassifierNN, MLPClassifier, {}, "logistic", 1),
        ("multilabel", MLPClassifierNN, MLPClassifier, {}, "logistic", 3),
        ("regression", MLPRegressorNN, MLPRegressor, {}, "identity", 1),
        ("poisson", MLPRegressorNN, MLPRegressor, {"loss": "poisson"}, "exp", 1),
        ("multioutput", MLPRegressorNN, MLPRegressor, {}, "identity", 2),
    ],
)
def test_out_activation_and_n_outputs(
    kind, ours, theirs, params, out_activation, n_outputs
):
    X, y = _targets(kind)
    settings = dict(hidden_layer_sizes=(5,), max_iter=3, random_state=0, **params)
    mine = ours(**settings).fit(X, y)
    sk = theirs(**settings).fit(X, y)
    assert mine.out_activation_ == sk.out_activation_ == out_activation
    assert mine.n_outputs_ == sk.n_outputs_ == n_outputs


# ----------------------------------------------------- results vs sklearn
def _test_scores(theirs, ours, settings, X_tr, y_tr, X_te, y_te, seeds=(0, 1)):
    """Test-set ``score`` of scikit-learn's and our estimator, one per seed."""
    scores_theirs, scores_ours = [], []
    for seed in seeds:
        for cls, scores in ((theirs, scores_theirs), (ours, scores_ours)):
            model = cls(random_state=seed, **settings).fit(X_tr, y_tr)
            scores.append(model.score(X_te, y_te))
    return scores_theirs, scores_ours


def test_classifier_accuracy_close_to_sklearn():
    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(
        X[:900], y[:900], test_size=0.3, random_state=0, stratify=y[:900]
    )
    scaler = StandardScaler().fit(X_tr)
    X_tr, X_te = scaler.transform(X_tr), scaler.transform(X_te)
    settings = dict(
        hidden_layer_sizes=(32,), max_iter=40, learning_rate_init=0.005, alpha=1e-3
    )
    acc_sk, acc_mine = _test_scores(
        MLPClassifier, MLPClassifierNN, settings, X_tr, y_tr, X_te, y_te
    )
    assert np.mean(acc_sk) > 0.9
    assert abs(np.mean(acc_mine) - np.mean(acc_sk)) < 0.03, (acc_mine, acc_sk)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_regressor_r2_close_to_sklearn(solver):
    X, y = make_regression(
        n_samples=300, n_features=6, n_informative=6, noise=10.0, random_state=1
    )
    y = np.sin(X[:, 0]) * 50 + y  # a little non-linearity
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, random_state=0)
    scaler = StandardScaler().fit(X_tr)
    X_tr, X_te = scaler.transform(X_tr), scaler.transform(X_te)
    mu, sd = y_tr.mean(), y_tr.std()
    y_tr = (y_tr - mu) / sd
    y_te = (y_te - mu) / sd
    settings = dict(
        hidden_layer_sizes=(16,),
        solver=solver,
        max_iter=50,
        learning_rate_init=0.01,
    )
    r2_sk, r2_mine = _test_scores(
        MLPRegressor, MLPRegressorNN, settings, X_tr, y_tr, X_te, y_te
    )
    assert np.mean(r2_sk) > 0.8
    assert abs(np.mean(r2_mine) - np.mean(r2_sk)) < 0.05, (r2_mine, r2_sk)


@pytest.mark.parametrize("ours, theirs", PAIRS)
def test_lbfgs_loss_is_sklearns_objective(ours, theirs, regression):
    """``loss_`` of an lbfgs fit is the objective sklearn defines, penalty included.

    The fitted weights differ from sklearn's (other random numbers), so the
    objective is recomputed from ``coefs_`` with the formula scikit-learn
    uses: mean loss + alpha / (2 n) * sum of squared weights.
    """
    X, y = regression
    if ours is MLPClassifierNN:
        y = (y > 0).astype(int) + (y > 1).astype(int)
    alpha = 0.3
    settings = dict(hidden_layer_sizes=(6,), solver="lbfgs", max_iter=30, alpha=alpha)

    def objective(est):
        A = X
        for W, b in zip(est.coefs_[:-1], est.intercepts_[:-1]):
            A = np.maximum(A @ W + b, 0)
        Z = A @ est.coefs_[-1] + est.intercepts_[-1]
        if is_classifier(est):
            Z = Z - Z.max(axis=1, keepdims=True)
            logp = Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))
            data = -np.mean(logp[np.arange(len(y)), y])
        else:
            data = 0.5 * np.mean((Z.ravel() - y) ** 2)
        penalty = alpha / (2 * len(y)) * sum((W**2).sum() for W in est.coefs_)
        return data + penalty

    for est in (theirs(random_state=0, **settings), ours(random_state=0, **settings)):
        est.fit(X, y)
        assert est.loss_ == pytest.approx(objective(est), rel=1e-6), type(est)


# ------------------------------------------------------------- input types
@pytest.mark.parametrize("ours, theirs", PAIRS)
def test_float32_is_preserved(ours, theirs, digits):
    X, y = digits
    X32 = X[:200].astype(np.float32)
    y = y[:200]
    est = ours(hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(X32, y)
    assert all(c.dtype == np.float32 for c in est.coefs_ + est.intercepts_)
    if is_classifier(est):
        assert est.predict_proba(X32).dtype == np.float32
        assert est.predict_log_proba(X32).dtype == np.float32
    else:
        assert est.predict(X32).dtype == np.float32
    X64 = X[:200]
    est64 = ours(hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(X64, y)
    assert all(c.dtype == np.float64 for c in est64.coefs_)


@pytest.mark.parametrize("ours, theirs", PAIRS)
@pytest.mark.parametrize("fit_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("predict_dtype", [np.float32, np.float64])
def test_output_dtype_matches_sklearn(ours, theirs, fit_dtype, predict_dtype, digits):
    """Predictions have the dtype scikit-learn gives for the same fit/predict."""
    X, y = digits
    X, y = X[:100], y[:100]
    settings = dict(hidden_layer_sizes=(4,), max_iter=2, random_state=0)
    mine = ours(**settings).fit(X.astype(fit_dtype), y)
    sk = theirs(**settings).fit(X.astype(fit_dtype), y)
    Xp = X.astype(predict_dtype)
    method = "predict_proba" if is_classifier(mine) else "predict"
    assert getattr(mine, method)(Xp).dtype == getattr(sk, method)(Xp).dtype


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("make", [_small_clf, _small_reg])
def test_sparse_input_matches_dense(fmt, make, digits):
    X, y = digits
    X, y = np.abs(X[:200]), y[:200]
    X[X < 1.0] = 0.0  # mostly zeros
    Xs = sp.csr_matrix(X) if fmt == "csr" else sp.csc_matrix(X)
    if make is _small_reg:
        y = y.astype(float)
    dense = make(max_iter=4).fit(X, y)
    sparse = make(max_iter=4).fit(Xs, y)
    for a, b in zip(dense.coefs_, sparse.coefs_):
        assert_allclose(a, b, rtol=1e-7, atol=1e-10)
    assert_allclose(dense.predict(X), sparse.predict(Xs), rtol=1e-7, atol=1e-10)
    # a model fitted on dense input predicts sparse input (and vice versa)
    assert_allclose(dense.predict(Xs), dense.predict(X), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("ours, theirs", PAIRS)
def test_pandas_dataframe_feature_names(ours, theirs, digits):
    pd = pytest.importorskip("pandas")
    X, y = digits
    X, y = X[:150, :6], y[:150]
    cols = [f"feat_{i}" for i in range(X.shape[1])]
    df = pd.DataFrame(X, columns=cols)
    settings = dict(hidden_layer_sizes=(4,), max_iter=2, random_state=0)
    est = ours(**settings).fit(df, pd.Series(y))
    sk = theirs(**settings).fit(df, pd.Series(y))
    assert_array_equal(est.feature_names_in_, np.array(cols, dtype=object))

    renamed = df.rename(columns={"feat_0": "other"})
    with pytest.raises(ValueError, match="feature names should match"):
        sk.predict(renamed)
    with pytest.raises(ValueError, match="feature names should match"):
        est.predict(renamed)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        sk.predict(X)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        pred_numpy = est.predict(X)
    assert_allclose(est.predict(df), pred_numpy)
    # a numpy fit sets no feature names
    assert not hasattr(ours(**settings).fit(X, y), "feature_names_in_")


def test_list_input():
    X, y = _targets("multiclass")
    est = _small_clf(max_iter=3).fit(X.tolist(), y.tolist())
    assert est.predict(X.tolist()).shape == (60,)
    assert_allclose(est.predict_proba(X.tolist()), est.predict_proba(X))
    X, y = _targets("regression")
    reg = _small_reg(max_iter=3).fit(X.tolist(), y.tolist())
    assert reg.predict(X.tolist()).shape == (60,)


@pytest.mark.parametrize(
    "labels",
    [
        np.array(["cat", "dog", "mouse"]),
        np.array(["α", "日本", "ß"]),
        np.array([-5, 3, 100]),
        np.array(["a", "b", "c"], dtype=object),
    ],
    ids=["str", "unicode", "int", "object"],
)
def test_label_types(labels, digits):
    X, _ = digits
    X = X[:90]
    y = labels[np.arange(90) % 3]
    est = _small_clf(max_iter=30, learning_rate_init=0.01).fit(X, y)
    assert_array_equal(est.classes_, np.unique(labels))
    pred = est.predict(X)
    assert pred.shape == (90,)
    assert set(pred) <= set(labels)
    assert pred.dtype == est.classes_.dtype
    assert est.score(X, y) > 0.5


def test_binary_classification(digits):
    X, y = digits
    X, y = X[:200], np.where(y[:200] < 5, "low", "high")
    est = _small_clf(max_iter=20).fit(X, y)
    assert est.n_outputs_ == 1
    assert est.out_activation_ == "logistic"
    proba = est.predict_proba(X)
    assert proba.shape == (200, 2)
    assert_allclose(proba.sum(axis=1), 1.0)
    assert_array_equal(est.classes_, ["high", "low"])
    # predict is the argmax of predict_proba, mapped to classes_
    assert_array_equal(est.predict(X), est.classes_[proba.argmax(axis=1)])
    assert_allclose(est.predict_log_proba(X), np.log(proba))


def test_multiclass_proba(digits):
    X, y = digits
    est = _small_clf(max_iter=10).fit(X[:300], y[:300])
    proba = est.predict_proba(X[300:])
    assert proba.shape == (200, 10)
    assert np.all((proba >= 0) & (proba <= 1))
    assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert_array_equal(est.predict(X[300:]), proba.argmax(axis=1))
    assert_allclose(est.predict_log_proba(X[300:]), np.log(proba), rtol=1e-12)


def test_multilabel_indicator():
    X, Y = make_multilabel_classification(
        n_samples=120, n_features=8, n_classes=4, random_state=0
    )
    est = _small_clf(max_iter=30, learning_rate_init=0.01).fit(X, Y)
    sk = MLPClassifier(
        hidden_layer_sizes=(16,), max_iter=30, learning_rate_init=0.01, random_state=0
    ).fit(X, Y)
    pred = est.predict(X)
    assert pred.shape == Y.shape == sk.predict(X).shape
    assert set(np.unique(pred)) <= {0, 1}
    proba = est.predict_proba(X)
    assert proba.shape == (120, 4)
    assert np.all((proba >= 0) & (proba <= 1))
    assert_array_equal(pred, (proba > 0.5).astype(int))
    assert_array_equal(est.classes_, sk.classes_)
    assert est.score(X, Y) == accuracy_score(Y, pred)


def test_multioutput_regression():
    X, Y = make_regression(
        n_samples=120, n_features=5, n_targets=3, noise=1.0, random_state=0
    )
    Y = Y / Y.std(axis=0)
    est = _small_reg(max_iter=40, learning_rate_init=0.01).fit(X, Y)
    pred = est.predict(X)
    assert pred.shape == (120, 3)
    assert est.n_outputs_ == 3
    assert est.score(X, Y) == pytest.approx(r2_score(Y, pred))


@pytest.mark.parametrize("ours, theirs", PAIRS)
def test_column_vector_y_warns(ours, theirs, digits):
    X, y = digits
    X, y = X[:80], y[:80].reshape(-1, 1)
    if ours is MLPRegressorNN:
        y = y.astype(float)
    settings = dict(hidden_layer_sizes=(4,), max_iter=2, random_state=0)
    with pytest.warns(DataConversionWarning):
        theirs(**settings).fit(X, y)
    with pytest.warns(DataConversionWarning):
        est = ours(**settings).fit(X, y)
    assert est.predict(X).shape == (80,)


# ------------------------------------------------------- sklearn workflows
def test_pipeline_and_cross_val_score():
    X, y = load_digits(return_X_y=True)
    X, y = X[:300], y[:300]  # unscaled: the pipeline scales
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("mlp", _small_clf(max_iter=30, learning_rate_init=0.01)),
        ]
    ).fit(X, y)
    assert pipe.score(X, y) > 0.9
    assert pipe.predict_proba(X).shape == (300, 10)
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,)
    assert np.all(scores > 0.7)

    Xr, yr = make_regression(n_samples=150, n_features=4, random_state=0)
    reg = Pipeline(
        [("scale", StandardScaler()), ("mlp", _small_reg(solver="lbfgs", max_iter=50))]
    )
    assert cross_val_score(reg, Xr, yr / yr.std(), cv=3).mean() > 0.5


def test_grid_search(digits):
    X, y = digits
    X, y = X[:240], y[:240]
    grid = GridSearchCV(
        _small_clf(max_iter=8),
        {
            "alpha": [1e-4, 1e-1],
            "hidden_layer_sizes": [(8,), (16,)],
            "dropout": [0.0, 0.2],
        },
        cv=2,
    ).fit(X, y)
    assert len(grid.cv_results_["params"]) == 8
    assert np.all(np.isfinite(grid.cv_results_["mean_test_score"]))
    assert set(grid.best_params_) == {"alpha", "hidden_layer_sizes", "dropout"}
    best = grid.best_estimator_
    assert best.get_params()["alpha"] == grid.best_params_["alpha"]
    assert best.coefs_[0].shape[1] == best.hidden_layer_sizes[0]
    assert grid.predict(X).shape == (240,)


@pytest.mark.parametrize("make", [_small_clf, _small_reg])
def test_clone_of_fitted_is_unfitted(make, digits):
    X, y = digits
    est = make(max_iter=2).fit(X[:100], y[:100])
    cloned = clone(est)
    assert not hasattr(cloned, "coefs_")
    assert cloned.get_params() == est.get_params()


@pytest.mark.parametrize("make", [_small_clf, _small_reg])
@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_pickle_and_joblib_round_trip(make, dump, digits):
    X, y = digits
    X, y = X[:150], y[:150]
    est = make(max_iter=4, early_stopping=True).fit(X, y)
    if dump == "pickle":
        restored = pickle.loads(pickle.dumps(est))
    else:
        buf = io.BytesIO()
        joblib.dump(est, buf)
        buf.seek(0)
        restored = joblib.load(buf)
    assert type(restored) is type(est)
    assert_array_equal(restored.predict(X), est.predict(X))
    if is_classifier(est):
        assert_array_equal(restored.predict_proba(X), est.predict_proba(X))
    assert _coefs_equal(restored, est)
    assert restored.validation_scores_ == est.validation_scores_
    assert restored.get_params() == est.get_params()


# ------------------------------------------------ warm_start / partial_fit
@pytest.mark.parametrize("make", [_small_clf, _small_reg])
def test_warm_start_continues_training(make, digits):
    X, y = digits
    X, y = X[:300], y[:300]
    if make is _small_reg:
        y = (y - y.mean()) / y.std()
    est = make(max_iter=5, warm_start=True).fit(X, y)
    first_curve = list(est.loss_curve_)
    coefs_after_first = [c.copy() for c in est.coefs_]
    est.fit(X, y)
    second_epochs = est.loss_curve_[len(first_curve) :]
    assert len(second_epochs) == 5
    assert est.n_iter_ == 5
    assert second_epochs[0] < first_curve[0]
    assert second_epochs[0] < first_curve[-1] * 1.05
    assert any(not np.array_equal(a, b) for a, b in zip(coefs_after_first, est.coefs_))

    # without warm_start, a second fit starts afresh: same weights as a new fit
    cold = make(max_iter=5).fit(X, y)
    cold_first = [c.copy() for c in cold.coefs_]
    cold.fit(X, y)
    assert all(np.array_equal(a, b) for a, b in zip(cold_first, cold.coefs_))
    assert len(cold.loss_curve_) == 5


def test_warm_start_lbfgs_starts_from_previous_solution(digits):
    X, y = digits
    X, y = X[:200], y[:200]
    est = _small_clf(solver="lbfgs", max_iter=10, warm_start=True).fit(X, y)
    loss_first = est.loss_
    est.fit(X, y)
    assert est.loss_ < loss_first


@pytest.mark.parametrize("make", [_small_clf, _small_reg])
def test_partial_fit_continues_training(make, digits):
    X, y = digits
    X, y = X[:300], y[:300]
    kwargs = {"classes": np.arange(10)} if make is _small_clf else {}
    if make is _small_reg:
        y = (y - y.mean()) / y.std()
    est = make(learning_rate_init=0.01)
    est.partial_fit(X, y, **kwargs)
    loss_one = est.loss_
    assert est.n_iter_ == 1
    for _ in range(6):
        est.partial_fit(X, y)
    assert est.loss_ < loss_one
    assert len(est.loss_curve_) == 7
    assert est.t_ == 7 * X.shape[0]


def test_partial_fit_classifier_needs_classes_on_first_call(digits):
    X, y = digits
    with pytest.raises(ValueError, match="classes"):
        _small_clf().partial_fit(X[:50], y[:50])
    with pytest.raises(ValueError, match="classes"):
        MLPClassifier().partial_fit(X[:50], y[:50])
    # later calls may omit classes, even when a batch lacks some of them
    est = _small_clf().partial_fit(X[:50], y[:50], classes=np.arange(10))
    est.partial_fit(X[50:60], np.zeros(10, dtype=int))
    assert_array_equal(est.classes_, np.arange(10))


@pytest.mark.parametrize("make", [_small_clf, _small_reg])
def test_partial_fit_unavailable_for_lbfgs(make, digits):
    X, y = digits
    est = make(solver="lbfgs")
    assert not hasattr(est, "partial_fit")
    with pytest.raises(AttributeError, match="partial_fit"):
        est.partial_fit(X[:50], y[:50])
    # becomes available after switching to a stochastic solver
    assert hasattr(est.set_params(solver="sgd"), "partial_fit")


@pytest.mark.parametrize("ours, theirs", PAIRS)
def test_partial_fit_with_early_stopping_raises(ours, theirs, digits):
    X, y = digits
    kwargs = {"classes": np.arange(10)} if ours is MLPClassifierNN else {}
    with pytest.raises(ValueError, match="early_stopping"):
        theirs(early_stopping=True).partial_fit(X[:50], y[:50], **kwargs)
    with pytest.raises(ValueError, match="early_stopping"):
        ours(early_stopping=True).partial_fit(X[:50], y[:50], **kwargs)


@pytest.mark.parametrize("make", [_small_clf, _small_reg])
def test_warm_start_with_changed_architecture_raises(make, digits):
    """sknn refuses (scikit-learn silently keeps training the old shape)."""
    X, y = digits
    X, y = X[:100], y[:100]
    model = make(hidden_layer_sizes=(8,), max_iter=2, warm_start=True).fit(X, y)
    model.set_params(hidden_layer_sizes=(9,))
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        model.fit(X, y)


def test_partial_fit_unseen_class_raises(digits):
    X, y = digits
    for est in (MLPClassifier(), _small_clf()):
        est.partial_fit(X[:50], y[:50] % 3, classes=[0, 1, 2])
        with pytest.raises(ValueError, match="classes not in"):
            est.partial_fit(X[50:60], np.full(10, 7))
        with pytest.raises(ValueError, match="classes"):
            est.partial_fit(X[50:60], y[50:60] % 3, classes=[0, 1, 2, 3])


# ------------------------------------------------------------ early stopping
def _recording_scorer(records):
    """A scorer(est, X, y) that records the weights it is called with."""

    def scorer(est, X, y):
        score = est.score(X, y)
        records.append(
            {
                "coefs": [c.copy() for c in est.coefs_ + est.intercepts_],
                "score": score,
                "y": np.asarray(y).copy(),
            }
        )
        return score

    return scorer


@pytest.mark.parametrize("make", [_small_clf, _small_reg])
def test_early_stopping_restores_best_epoch_weights(make, digits):
    X, y = digits
    X, y = X[:300], y[:300]
    if make is _small_reg:
        y = (y - y.mean()) / y.std()
    records = []
    est = make(
        early_stopping=True,
        max_iter=40,
        n_iter_no_change=4,
        learning_rate_init=0.05,
        scoring=_recording_scorer(records),
    ).fit(X, y)
    assert len(records) == est.n_iter_ == len(est.validation_scores_)
    assert_allclose(est.validation_scores_, [r["score"] for r in records])
    best = int(np.argmax(est.validation_scores_))
    assert est.best_validation_score_ == est.validation_scores_[best]
    # the run went on past the best epoch, yet the best weights were kept
    assert best < est.n_iter_ - 1
    for got, want in zip(est.coefs_ + est.intercepts_, records[best]["coefs"]):
        assert_array_equal(got, want)
    # ... and not those of the last epoch
    assert any(
        not np.array_equal(got, last)
        for got, last in zip(est.coefs_ + est.intercepts_, records[-1]["coefs"])
    )


@pytest.mark.parametrize("make", [_small_clf, _small_reg])
def test_early_stopping_best_score_equals_score_on_validation_set(make, digits):
    X, y = digits
    if make is _small_reg:
        y = (y - y.mean()) / y.std()
    X_tr, y_tr, X_val, y_val = X[:300], y[:300], X[300:400], y[300:400]
    est = make(
        early_stopping=True, max_iter=30, n_iter_no_change=3, learning_rate_init=0.05
    ).fit(X_tr, y_tr, X_val=X_val, y_val=y_val)
    assert est.best_validation_score_ == max(est.validation_scores_)
    assert est.score(X_val, y_val) == pytest.approx(
        est.best_validation_score_, rel=1e-12, abs=1e-12
    )


@pytest.mark.parametrize(
    "weights", [[0.85, 0.15], [0.8, 0.15, 0.05]], ids=["binary", "multiclass"]
)
@pytest.mark.parametrize("seed", [0, 1])
def test_early_stopping_split_is_stratified(weights, seed):
    """The internal validation split keeps the class proportions (documented)."""
    n_classes = len(weights)
    X, y = make_classification(
        n_samples=200,
        n_features=6,
        n_informative=4,
        n_classes=n_classes,
        weights=weights,
        random_state=seed,
    )
    counts = np.bincount(y)
    records = []
    _small_clf(
        early_stopping=True,
        validation_fraction=0.2,
        max_iter=1,
        random_state=seed,
        scoring=_recording_scorer(records),
    ).fit(X, y)
    y_val = records[0]["y"]
    assert len(y_val) == 40
    assert set(y_val) == set(range(n_classes))
    # a stratified split rounds each class's share: off by less than one
    expected = counts * 40 / 200
    assert np.all(np.abs(np.bincount(y_val, minlength=n_classes) - expected) < 1)


def test_early_stopping_stops_before_max_iter(digits):
    X, y = digits
    est = _small_clf(
        early_stopping=True, max_iter=200, n_iter_no_change=2, learning_rate_init=0.1
    ).fit(X[:300], y[:300])
    assert est.n_iter_ < 200


# ------------------------------------------------------------ reproducibility
REPRO_CASES = [
    {"solver": "sgd"},
    {"solver": "adam"},
    {"solver": "adamw"},
    {"solver": "rmsprop"},
    {"solver": "lbfgs"},
    {"solver": "adam", "dropout": 0.3},
    {"solver": "sgd", "dropout": (0.2, 0.1), "hidden_layer_sizes": (12, 8)},
    {"solver": "adam", "early_stopping": True},
    {"solver": "rmsprop", "early_stopping": True, "dropout": 0.2},
]


@pytest.mark.parametrize("params", REPRO_CASES, ids=str)
@pytest.mark.parametrize("make", [_small_clf, _small_reg])
def test_same_seed_gives_bitwise_identical_fits(make, params, digits):
    X, y = digits
    X, y = X[:200], y[:200]
    a = make(max_iter=5, random_state=42, **params).fit(X, y)
    b = make(max_iter=5, random_state=42, **params).fit(X, y)
    assert _coefs_equal(a, b)
    if params["solver"] != "lbfgs":
        assert a.loss_curve_ == b.loss_curve_
        assert a.validation_scores_ == b.validation_scores_
    c = make(max_iter=5, random_state=43, **params).fit(X, y)
    assert not _coefs_equal(a, c)


def test_random_state_instance_and_none(digits):
    X, y = digits
    X, y = X[:100], y[:100]
    a = _small_clf(random_state=np.random.RandomState(0), max_iter=2).fit(X, y)
    b = _small_clf(random_state=np.random.RandomState(0), max_iter=2).fit(X, y)
    assert _coefs_equal(a, b)
    c = _small_clf(random_state=None, max_iter=2).fit(X, y)
    d = _small_clf(random_state=None, max_iter=2).fit(X, y)
    assert not _coefs_equal(c, d)


# ------------------------------------------------------------------- dropout
def _manual_forward(est, X):
    """Output of the network from coefs_/intercepts_, relu hidden layers."""
    A = X
    for W, b in zip(est.coefs_[:-1], est.intercepts_[:-1]):
        A = np.maximum(A @ W + b, 0.0)
    Z = A @ est.coefs_[-1] + est.intercepts_[-1]
    if est.out_activation_ == "softmax":
        E = np.exp(Z - Z.max(axis=1, keepdims=True))
        return E / E.sum(axis=1, keepdims=True)
    if est.out_activation_ == "logistic":
        return 1.0 / (1.0 + np.exp(-Z))
    return Z


@pytest.mark.parametrize("dropout", [0.3, (0.5, 0.1)])
def test_dropout_changes_training_not_prediction(dropout, digits):
    X, y = digits
    X, y = X[:300], y[:300]
    hidden = (16, 8)
    plain = _small_clf(hidden_layer_sizes=hidden, max_iter=8).fit(X, y)
    dropped = _small_clf(hidden_layer_sizes=hidden, max_iter=8, dropout=dropout).fit(
        X, y
    )
    assert not _coefs_equal(plain, dropped)
    # deterministic predictions, a plain forward pass without any dropping
    p1 = dropped.predict_proba(X)
    p2 = dropped.predict_proba(X)
    assert_array_equal(p1, p2)
    assert_array_equal(dropped.predict(X), dropped.predict(X))
    assert_allclose(p1, _manual_forward(dropped, X), rtol=1e-10, atol=1e-12)
    assert dropped.score(X, y) == dropped.score(X, y)


def test_dropout_regressor_forward_pass(regression):
    X, y = regression
    est = _small_reg(max_iter=8, dropout=0.2).fit(X, y)
    assert_allclose(
        est.predict(X), _manual_forward(est, X).ravel(), rtol=1e-10, atol=1e-12
    )


def test_per_layer_dropout_only_affects_chosen_layers(digits):
    """A rate of zero for a layer is the same as no dropout on that layer."""
    X, y = digits
    X, y = X[:200], y[:200]
    hidden = (10, 6)
    zero_seq = _small_clf(hidden_layer_sizes=hidden, dropout=(0.0, 0.0), max_iter=4)
    zero = _small_clf(hidden_layer_sizes=hidden, dropout=0.0, max_iter=4)
    assert _coefs_equal(zero_seq.fit(X, y), zero.fit(X, y))
    first = _small_clf(hidden_layer_sizes=hidden, dropout=(0.4, 0.0), max_iter=4)
    second = _small_clf(hidden_layer_sizes=hidden, dropout=(0.0, 0.4), max_iter=4)
    first.fit(X, y)
    second.fit(X, y)
    assert not _coefs_equal(first, zero)
    assert not _coefs_equal(second, zero)
    assert not _coefs_equal(first, second)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"hidden_layer_sizes": (8, 4), "dropout": (0.1,)}, "dropout"),
        ({"hidden_layer_sizes": (8,), "dropout": (0.1, 0.2)}, "dropout"),
        ({"hidden_layer_sizes": (8, 4), "dropout": (0.1, 1.0)}, "dropout"),
        ({"hidden_layer_sizes": (8, 4), "dropout": (-0.1, 0.2)}, "dropout"),
        ({"hidden_layer_sizes": (8,), "dropout": 0.2, "solver": "lbfgs"}, "lbfgs"),
    ],
)
@pytest.mark.parametrize("make", [_small_clf, _small_reg])
def test_invalid_dropout_raises_value_error(make, params, match, digits):
    X, y = digits
    with pytest.raises(ValueError, match=match):
        make(**params).fit(X[:50], y[:50])


@pytest.mark.parametrize("rate", [1.0, -0.1, 1.5])
def test_scalar_dropout_out_of_range_raises_value_error(rate, digits):
    X, y = digits
    # InvalidParameterError is a ValueError
    with pytest.raises(ValueError, match="dropout"):
        _small_clf(dropout=rate).fit(X[:50], y[:50])


# ------------------------------------------------------------------- verbose
@pytest.mark.parametrize("verbose", [True, 1, 2, 10])
def test_verbose_prints_iterations(verbose, capsys, digits):
    # any true verbose prints scikit-learn's lines, for fit and partial_fit
    X, y = digits
    _small_clf(max_iter=3, verbose=verbose).fit(X[:100], y[:100])
    out = capsys.readouterr().out
    assert [ln.split(",")[0] for ln in out.splitlines()] == [
        "Iteration 1",
        "Iteration 2",
        "Iteration 3",
    ]
    clf = _small_clf(verbose=verbose)
    clf.partial_fit(X[:100], y[:100], classes=np.unique(y))
    assert capsys.readouterr().out.startswith("Iteration 1, loss = ")
    _small_clf(max_iter=3, verbose=False).fit(X[:100], y[:100])
    assert capsys.readouterr().out == ""


def test_verbose_lbfgs_prints_nothing(capsys, digits):
    # as scikit-learn 1.9's MLP with SciPy >= 1.15
    X, y = digits
    _small_clf(solver="lbfgs", max_iter=3, verbose=True).fit(X[:100], y[:100])
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_verbose_early_stopping_prints_validation_score(capsys, digits):
    X, y = digits
    _small_clf(early_stopping=True, max_iter=2, verbose=True).fit(X[:100], y[:100])
    out = capsys.readouterr().out
    assert "Iteration 2" in out
    assert "Validation score" in out


# --------------------------------------------------------- parameter checks
BAD_PARAMS = [
    ("alpha", -1),
    ("solver", "foo"),
    ("activation", "bar"),
    ("learning_rate", "x"),
    ("learning_rate_init", 0.0),
    ("max_iter", 0),
    ("batch_size", 0),
    ("momentum", 1.5),
    ("beta_1", 1.0),
    ("validation_fraction", 1.0),
    ("n_iter_no_change", 0),
    ("tol", -1.0),
    ("max_fun", 0),
    ("hidden_layer_sizes", "16"),
    ("dropout", 1.5),
    ("dropout", "x"),
    ("max_grad_norm", 0),
    ("max_grad_norm", -1.0),
    ("ema_decay", 1.0),
    ("ema_decay", -0.5),
    ("weight_decay", -0.1),
    ("rho", 1.0),
    ("scoring", 3),
    ("callbacks", "notalist"),
]


@pytest.mark.parametrize("name, value", BAD_PARAMS)
@pytest.mark.parametrize("make", [_small_clf, _small_reg])
def test_invalid_parameter_error(make, name, value, digits):
    X, y = digits
    est = make(**{name: value})
    with pytest.raises(InvalidParameterError, match=rf"'{name}' parameter"):
        est.fit(X[:30], y[:30])


@pytest.mark.parametrize(
    "make, name, value",
    [
        (_small_clf, "class_weight", "x"),
        (_small_clf, "class_weight", 3),
        (_small_reg, "loss", "bad"),
        (_small_reg, "loss", "huber"),
    ],
)
def test_invalid_estimator_specific_parameter(make, name, value, digits):
    X, y = digits
    with pytest.raises(InvalidParameterError, match=rf"'{name}' parameter"):
        make(**{name: value}).fit(X[:30], y[:30])


@pytest.mark.parametrize("make", [_small_clf, _small_reg])
def test_invalid_parameter_in_partial_fit(make, digits):
    X, y = digits
    kwargs = {"classes": np.arange(10)} if make is _small_clf else {}
    with pytest.raises(InvalidParameterError, match="'alpha' parameter"):
        make(alpha=-1.0).partial_fit(X[:30], y[:30], **kwargs)


def test_hidden_layer_sizes_must_be_positive(digits):
    X, y = digits
    for bad in [(0,), (8, -1)]:
        with pytest.raises(ValueError, match="hidden_layer_sizes"):
            _small_clf(hidden_layer_sizes=bad).fit(X[:30], y[:30])
        with pytest.raises(ValueError, match="hidden_layer_sizes"):
            MLPClassifier(hidden_layer_sizes=bad).fit(X[:30], y[:30])


def test_not_fitted_raises(digits):
    from sklearn.exceptions import NotFittedError

    X, _ = digits
    for est in (_small_clf(), _small_reg()):
        with pytest.raises(NotFittedError, match="not fitted yet"):
            est.predict(X[:5])


def test_predict_with_wrong_number_of_features(digits):
    X, y = digits
    est = _small_clf(max_iter=2).fit(X[:50], y[:50])
    with pytest.raises(ValueError, match="features"):
        est.predict(X[:5, :10])


def test_convergence_warning_at_max_iter(digits):
    X, y = digits
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        _small_clf(max_iter=2).fit(X[:100], y[:100])
