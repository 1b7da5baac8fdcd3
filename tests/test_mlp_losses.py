"""MLPRegressorNN's added losses: 'absolute_error', 'gamma' and 'quantile'
under HistGradientBoostingRegressor's names and errors, beside scikit-learn's
'squared_error' and 'poisson', whose behaviour and messages stay
scikit-learn's."""

import re
import warnings

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.neural_network import MLPRegressor
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from sknn import MLPRegressorNN
from sknn._core.losses import LOSSES

ADDED = {
    "absolute_error": {},
    "gamma": {},
    "quantile": dict(quantile=0.9),
}
_NEGATIVE_TARGETS = (
    "scikit-learn's multi-output check fits make_regression's targets as they "
    "are, negative ones included, without the positive_only tag's shift"
)


def _reg(loss, **params):
    base = dict(hidden_layer_sizes=(16,), max_iter=300, random_state=0)
    return MLPRegressorNN(loss=loss, **{**base, **ADDED[loss], **params})


def _fit(est, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of short fits
        return est.fit(X, y, **kwargs)


def _expected_failures(est):
    if est.loss == "gamma":
        return {"check_regressor_multioutput": _NEGATIVE_TARGETS}
    return {}


# L-BFGS trains on the full batch: weighted rows equal repeated ones exactly
@parametrize_with_checks(
    [_reg(loss, solver="lbfgs") for loss in ADDED],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _data(loss, n=600, seed=0):
    """``(X, y)`` suited to ``loss``: positive skewed values for 'gamma',
    noisy real values with heavy tails otherwise."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    if loss == "gamma":
        return X, rng.gamma(2.0, np.exp(0.5 * X[:, 0] - 0.3 * X[:, 1]) / 2.0)
    noise = rng.standard_t(3, size=n) * (1 + np.abs(X[:, 1]))
    return X, X[:, 0] - 0.5 * X[:, 2] + noise


# ------------------------------------------------------------------ parameters
def test_scikit_learn_s_defaults_and_losses_are_kept():
    ours = MLPRegressorNN().get_params()
    theirs = MLPRegressor().get_params()
    assert ours["loss"] == theirs["loss"] == "squared_error"
    assert ours["quantile"] is None
    (options,) = MLPRegressorNN._parameter_constraints["loss"]
    (sk_options,) = MLPRegressor._parameter_constraints["loss"]
    assert sk_options.options <= options.options
    assert options.options - sk_options.options == set(ADDED)
    # every option is a core loss
    assert options.options <= set(LOSSES)


def _hgb_message(exc_type, X, y, **params):
    with pytest.raises(exc_type) as info:
        HistGradientBoostingRegressor(max_iter=2, **params).fit(X, y)
    return str(info.value)


X0, Y0 = _data("absolute_error", n=60)
ERRORS = {
    "quantile missing": (TypeError, dict(loss="quantile"), Y0),
    "quantile 0": (ValueError, dict(loss="quantile", quantile=0), Y0),
    "quantile 1": (ValueError, dict(loss="quantile", quantile=1.0), Y0),
    "gamma negative y": (ValueError, dict(loss="gamma"), Y0),
    "gamma zero y": (ValueError, dict(loss="gamma"), np.where(Y0 > 0, 1.0, 0.0)),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_added_losses_raise_histgradientboosting_s_errors(case):
    exc_type, params, y = ERRORS[case]
    message = _hgb_message(exc_type, X0, y, **params)
    with pytest.raises(exc_type, match=re.escape(message)):
        MLPRegressorNN(max_iter=1, **params).fit(X0, y)


def test_an_invalid_quantile_is_a_parameter_error():
    with pytest.raises(InvalidParameterError, match="'quantile' parameter"):
        MLPRegressorNN(loss="quantile", quantile=1.5).fit(X0, Y0)


def test_poisson_keeps_its_own_message():
    # scikit-learn's MLPRegressor trains on negative Poisson targets without a
    # word; sknn has raised this error (the trees' wording) from the start
    message = "Some value(s) of y are negative which is not allowed for Poisson"
    with pytest.raises(ValueError, match=re.escape(message)):
        MLPRegressorNN(loss="poisson", max_iter=1).fit(X0, Y0)


def test_quantile_is_ignored_by_the_other_losses():
    a = _fit(MLPRegressorNN(max_iter=3, random_state=0), X0, Y0)
    b = _fit(MLPRegressorNN(max_iter=3, random_state=0, quantile=0.3), X0, Y0)
    np.testing.assert_array_equal(a.predict(X0), b.predict(X0))


@pytest.mark.parametrize(
    "loss, activation", [("absolute_error", "identity"), ("gamma", "exp")]
)
def test_out_activation(loss, activation):
    X, y = _data(loss, n=80)
    assert _fit(_reg(loss, max_iter=2), X, y).out_activation_ == activation


# ------------------------------------------------------------------ the losses
@pytest.mark.parametrize("loss", sorted(ADDED))
def test_loss_is_the_core_loss_of_the_predictions(loss):
    # with no L2 term, L-BFGS's final objective is the loss of predict's output
    X, y = _data(loss, n=200)
    est = _fit(_reg(loss, solver="lbfgs", alpha=0.0, max_iter=50), X, y)
    core = LOSSES["quantile"].bind(alpha=0.9) if loss == "quantile" else LOSSES[loss]
    expected = core.value(y.reshape(-1, 1), est.predict(X).reshape(-1, 1))
    assert est.loss_ == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("quantile", [0.1, 0.5, 0.9])
def test_quantile_coverage_on_held_out_rows(quantile):
    X, y = _data("quantile", n=3000)
    est = _fit(_reg("quantile", quantile=quantile, solver="lbfgs"), X[:2000], y[:2000])
    covered = np.mean(y[2000:] <= est.predict(X[2000:]))
    assert abs(covered - quantile) < 0.05


def test_absolute_error_resists_outliers():
    X, y = _data("absolute_error", n=1000)
    dirty = y.copy()
    dirty[:50] += 500.0  # 5% gross outliers
    clean_rows = slice(50, None)
    fits = {
        "absolute_error": _fit(_reg("absolute_error", solver="lbfgs"), X, dirty),
        "squared_error": _fit(
            MLPRegressorNN(hidden_layer_sizes=(16,), solver="lbfgs", random_state=0),
            X,
            dirty,
        ),
    }
    errors = {
        loss: np.median(np.abs(est.predict(X[clean_rows]) - y[clean_rows]))
        for loss, est in fits.items()
    }
    assert errors["absolute_error"] < 0.5 * errors["squared_error"]


def test_gamma_predictions_are_positive_and_beat_a_constant():
    X, y = _data("gamma", n=1500)
    est = _fit(_reg("gamma", solver="lbfgs"), X[:1000], y[:1000])
    pred = est.predict(X[1000:])
    assert (pred > 0).all()
    constant = np.full_like(pred, y[:1000].mean())
    held = y[1000:].reshape(-1, 1)
    model_dev = LOSSES["gamma"].value(held, pred.reshape(-1, 1))
    constant_dev = LOSSES["gamma"].value(held, constant.reshape(-1, 1))
    assert model_dev < 0.9 * constant_dev


@pytest.mark.parametrize("loss", sorted(ADDED))
def test_every_added_loss_trains_with_every_solver(loss):
    X, y = _data(loss, n=200)
    for solver in ("adam", "sgd", "lbfgs"):
        est = _fit(_reg(loss, solver=solver, max_iter=20), X, y)
        assert np.isfinite(est.predict(X)).all(), solver
