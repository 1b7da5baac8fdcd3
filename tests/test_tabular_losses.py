"""TabularMLPRegressor's losses: HistGradientBoostingRegressor's names, defaults
and errors, the target scaling of each link, the quantile's coverage, positive
log-link predictions and the best epoch chosen on the loss itself."""

import pickle
import re
import warnings

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from sknn import TabularMLPRegressor
from sknn._core.losses import LOSSES

SMALL = dict(hidden_layer_sizes=(16,), max_iter=30, random_state=0)
# the regressor's losses, each with the settings it needs
LOSS_PARAMS = {
    "squared_error": {},
    "absolute_error": {},
    "poisson": {},
    "gamma": {},
    "quantile": dict(quantile=0.9),
}
LOG_LINK = ("poisson", "gamma")
_STOCHASTIC = (
    "minibatch training on repeated rows draws other batches than on weighted "
    "rows, and the validation split differs: equal in expectation, not in bits"
)


def _reg(loss, **params):
    return TabularMLPRegressor(loss=loss, **{**SMALL, **LOSS_PARAMS[loss], **params})


def _fit(est, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(X, y, **kwargs)


_NEGATIVE_TARGETS = (
    "scikit-learn's multi-output check fits make_regression's targets as they "
    "are, negative ones included, without the positive_only tag's shift"
)
_NOT_THE_MEAN = (
    "the 0.9 quantile is not the conditional mean: its R^2 on the training "
    "rows stays below the check's 0.5 by design"
)
_TRAIN = ("", "(readonly_memmap=True)", "(readonly_memmap=True,X_dtype=float32)")


def _expected_failures(est):
    failed = {
        "check_sample_weight_equivalence_on_dense_data": _STOCHASTIC,
        "check_sample_weight_equivalence_on_sparse_data": _STOCHASTIC,
    }
    if est.loss in LOG_LINK:
        failed["check_regressor_multioutput"] = _NEGATIVE_TARGETS
    if est.loss == "quantile":
        failed.update({f"check_regressors_train{v}": _NOT_THE_MEAN for v in _TRAIN})
    return failed


@parametrize_with_checks(
    [_reg(loss) for loss in LOSS_PARAMS], expected_failed_checks=_expected_failures
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _table(n, seed=0):
    """Four numeric columns and a positive mean ``exp(0.6 x0 - 0.4 x1)``."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    mu = np.exp(0.6 * X[:, 0] - 0.4 * X[:, 1])
    return X, mu, rng


def _targets(loss, n=400, seed=0):
    """``(X, y)`` suited to ``loss``: counts, positive skewed values, or noisy
    real values."""
    X, mu, rng = _table(n, seed)
    if loss == "poisson":
        return X, rng.poisson(mu).astype(np.float64)
    if loss == "gamma":
        return X, rng.gamma(2.0, mu / 2.0)
    return X, X[:, 0] - 0.5 * X[:, 2] + rng.normal(size=n) * (1 + np.abs(X[:, 1]))


# ------------------------------------------------------------------ parameters
def test_defaults_are_histgradientboosting_s():
    ours = TabularMLPRegressor().get_params()
    theirs = HistGradientBoostingRegressor().get_params()
    assert ours["loss"] == theirs["loss"] == "squared_error"
    assert ours["quantile"] is theirs["quantile"] is None
    (options,) = TabularMLPRegressor._parameter_constraints["loss"]
    (hgb_options, _) = HistGradientBoostingRegressor._parameter_constraints["loss"]
    assert options.options == hgb_options.options


def _hgb_error(exc_type, **params):
    """The message of HistGradientBoostingRegressor's error for ``params``."""
    X, y = params.pop("X"), params.pop("y")
    with pytest.raises(exc_type) as info:
        HistGradientBoostingRegressor(max_iter=2, **params).fit(X, y)
    return str(info.value)


X0, Y0 = _targets("squared_error", n=60)
ERRORS = {
    "quantile missing": (TypeError, dict(loss="quantile"), Y0),
    "quantile 0": (ValueError, dict(loss="quantile", quantile=0), Y0),
    "quantile 1": (ValueError, dict(loss="quantile", quantile=1.0), Y0),
    "poisson negative y": (ValueError, dict(loss="poisson"), Y0),
    "poisson zero y": (ValueError, dict(loss="poisson"), 0 * Y0),
    "gamma negative y": (ValueError, dict(loss="gamma"), Y0),
    "gamma zero y": (ValueError, dict(loss="gamma"), np.where(Y0 > 0, 1.0, 0.0)),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_errors_are_histgradientboosting_s(case):
    exc_type, params, y = ERRORS[case]
    message = _hgb_error(exc_type, X=X0, y=y, **params)
    with pytest.raises(exc_type, match=re.escape(message)):
        TabularMLPRegressor(max_iter=1, **params).fit(X0, y)


def _options(message):
    """The ``{...}`` options a parameter error lists, as a set."""
    listed = message.split("{", 1)[1].split("}", 1)[0]
    return {option.strip().strip("'") for option in listed.split(",")}


@pytest.mark.parametrize(
    "params", [dict(loss="quantile", quantile=1.5), dict(quantile=-0.1)]
)
def test_an_invalid_quantile_is_histgradientboosting_s(params):
    message = _hgb_error(InvalidParameterError, X=X0, y=Y0, **params)
    message = message.replace("HistGradientBoostingRegressor", "TabularMLPRegressor")
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        TabularMLPRegressor(**params).fit(X0, Y0)


def test_an_unknown_loss_is_histgradientboosting_s():
    theirs = _hgb_error(InvalidParameterError, X=X0, y=Y0, loss="huber")
    with pytest.raises(InvalidParameterError) as info:
        TabularMLPRegressor(loss="huber").fit(X0, Y0)
    ours = str(info.value)
    # the same start and options (a set: listed in any order); scikit-learn's
    # also takes a loss object
    assert ours.startswith("The 'loss' parameter of TabularMLPRegressor must be ")
    assert ours.endswith(" Got 'huber' instead.")
    assert _options(ours) == _options(theirs)


def test_quantile_is_used_only_by_the_quantile_loss():
    # as in HistGradientBoosting, any valid value passes with another loss
    for quantile in (0.0, 1.0, 0.3):
        _fit(TabularMLPRegressor(quantile=quantile, max_iter=1), X0, Y0)


@pytest.mark.parametrize("loss", ["poisson", "gamma"])
def test_validation_targets_are_checked_too(loss):
    X, y = _targets(loss, n=80)
    bad = -y[:20] if loss == "poisson" else 0 * y[:20]
    message = "non-negative y" if loss == "poisson" else "strictly positive y"
    with pytest.raises(ValueError, match=message):
        _reg(loss, max_iter=1).fit(X[20:], y[20:], X_val=X[:20], y_val=bad)


def test_poisson_later_batches_may_be_all_zero():
    # sum(y) > 0 is needed to scale the targets, on the first pass only
    X, y = _targets("poisson", n=80)
    est = _reg("poisson").partial_fit(X, y)
    est.partial_fit(X[:10], np.zeros(10))
    with pytest.raises(ValueError, match="non-negative y"):
        est.partial_fit(X[:10], -np.ones(10))


def test_a_warm_start_keeps_the_link():
    X, y = _targets("gamma", n=80)
    est = _fit(_reg("gamma", max_iter=2, warm_start=True), X, y)
    _fit(est.set_params(loss="poisson"), X, y)  # the same log link: fine
    with pytest.raises(ValueError, match="needs an identity link"):
        est.set_params(loss="absolute_error").fit(X, y)


# ------------------------------------------------------------------ the losses
@pytest.mark.parametrize("loss", sorted(LOSS_PARAMS))
def test_the_network_trains_the_loss(loss):
    X, y = _targets(loss)
    est = _fit(_reg(loss, max_iter=2), X, y)
    expected = "quantile(alpha=0.9)" if loss == "quantile" else loss
    assert est._net.loss.name == expected
    assert est._net.loss.family == loss
    assert est._net.out_activation.name == ("exp" if loss in LOG_LINK else "identity")
    assert est.loss_curve_[-1] < est.loss_curve_[0]


@pytest.mark.parametrize("loss", sorted(LOSS_PARAMS))
def test_the_target_scaling_of_each_link(loss):
    X, y = _targets(loss)
    est = _fit(_reg(loss, max_iter=1), X, y)
    if loss in LOG_LINK:  # no centring: divided by the mean
        np.testing.assert_array_equal(est._y_mean, [0.0])
        np.testing.assert_allclose(est._y_scale, [y.mean()], rtol=1e-12)
    else:
        np.testing.assert_allclose(est._y_mean, [y.mean()], rtol=1e-12)
        np.testing.assert_allclose(est._y_scale, [y.std()], rtol=1e-12)


@pytest.mark.parametrize("loss", sorted(LOSS_PARAMS))
def test_predictions_scale_with_the_targets(loss):
    # every loss is equivariant under the scaling it trains with: targets
    # times 4 (a power of two, so the scaled targets are the same bits) give
    # predictions times 4
    X, y = _targets(loss)
    est = _reg(loss, max_iter=5, dtype="float64")
    small = _fit(clone(est), X, y).predict(X)
    large = _fit(clone(est), X, 4.0 * y).predict(X)
    np.testing.assert_allclose(large, 4.0 * small, rtol=1e-12)


@pytest.mark.parametrize("loss", LOG_LINK)
def test_log_link_predictions_are_positive(loss):
    X, y = _targets(loss, n=1500)
    est = _fit(_reg(loss, hidden_layer_sizes=(32,), max_iter=20), X[:1000], y[:1000])
    pred = est.predict(X[1000:])
    assert (pred > 0).all()
    # a log link learns the mean: close on average, and ranked as mu is
    _, mu, _ = _table(1500)
    assert pred.mean() == pytest.approx(y[1000:].mean(), rel=0.15)
    assert np.corrcoef(np.log(pred), np.log(mu[1000:]))[0, 1] > 0.8


@pytest.mark.parametrize("quantile", [0.1, 0.9])
def test_quantile_coverage_on_held_out_rows(quantile):
    # noise whose spread depends on x1: the quantile is not the mean plus a
    # constant, so the coverage tests the conditional quantile
    X, y = _targets("quantile", n=3000, seed=1)
    est = TabularMLPRegressor(
        loss="quantile", quantile=quantile, hidden_layer_sizes=(64, 64),
        max_iter=30, random_state=0,
    )  # fmt: skip
    _fit(est, X[:2000], y[:2000])
    coverage = np.mean(y[2000:] <= est.predict(X[2000:]))
    assert abs(coverage - quantile) < 0.05


def test_absolute_error_resists_outliers():
    X, y = _targets("absolute_error", n=1500, seed=2)
    clean = X[:, 0] - 0.5 * X[:, 2]
    dirty = y.copy()
    dirty[::20] += 1000.0  # 5% of gross outliers in the training targets
    fits = {
        loss: _fit(_reg(loss, hidden_layer_sizes=(32,)), X[:1000], dirty[:1000])
        for loss in ("absolute_error", "squared_error")
    }
    errors = {
        loss: np.abs(est.predict(X[1000:]) - clean[1000:]).mean()
        for loss, est in fits.items()
    }
    assert errors["absolute_error"] < 0.5 * errors["squared_error"]


def test_multi_output_poisson():
    X, mu, rng = _table(400)
    Y = np.column_stack([rng.poisson(mu), rng.poisson(2 * mu)]).astype(float)
    est = _fit(_reg("poisson"), X, Y)
    assert est.predict(X).shape == (400, 2)
    np.testing.assert_allclose(est._y_scale, Y.mean(axis=0), rtol=1e-12)
    assert (est.predict(X) > 0).all()


# ------------------------------------------------------------------ best epoch
@pytest.mark.parametrize("loss", sorted(LOSS_PARAMS))
def test_the_best_epoch_is_chosen_on_the_loss(loss):
    X, y = _targets(loss, n=600, seed=3)
    # the network's own predictions (squared_error's would blend neighbours)
    est = _reg(loss, max_iter=8, dtype="float64", neighbors=False)
    _fit(est, X[:400], y[:400], X_val=X[400:], y_val=y[400:])
    # the kept epoch has the highest validation score ...
    assert est.best_epoch_ == int(np.argmax(est.validation_scores_)) + 1
    assert est.best_validation_score_ == max(est.validation_scores_)
    # ... which is the negated loss of the kept model on the scaled rows
    core = LOSSES[est._net.loss.name]
    scale, mean = est._y_scale, est._y_mean
    Y_val = ((y[400:, None] - mean) / scale).astype(np.float64)
    P_val = (est.predict(X[400:])[:, None] - mean) / scale
    assert -est.best_validation_score_ == pytest.approx(
        core.value(Y_val, P_val), rel=1e-9
    )
    assert est.history_[est.best_epoch_ - 1]["val_loss"] == pytest.approx(
        core.value(Y_val, P_val), rel=1e-9
    )
    if loss != "squared_error":  # not the squared error under another name
        squared = LOSSES["squared_error"].value(Y_val, P_val)
        assert core.value(Y_val, P_val) != pytest.approx(squared, rel=1e-6)


@pytest.mark.parametrize(
    "loss, label",
    [
        ("squared_error", "squared error"),
        ("absolute_error", "absolute error"),
        ("poisson", "poisson"),
        ("gamma", "gamma"),
        ("quantile", "quantile(alpha=0.9)"),
    ],
)
def test_verbose_names_the_loss(loss, label, capsys):
    X, y = _targets(loss, n=100)
    _fit(_reg(loss, max_iter=2, verbose=True), X, y)
    out = capsys.readouterr().out
    assert re.search(rf"Validation {re.escape(label)}: \d", out), out


# ------------------------------------------------------------------ persistence
@pytest.mark.parametrize("loss", sorted(LOSS_PARAMS))
def test_pickle_keeps_the_loss(loss):
    X, y = _targets(loss, n=100)
    est = _fit(_reg(loss, max_iter=2), X, y)
    loaded = pickle.loads(pickle.dumps(est))
    assert loaded._net.loss == est._net.loss
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))


# ------------------------------------------------------------------ array API
EXACT = dict(
    max_iter=3, dropout=0.0, parametrization="standard", dtype="float64",
    random_state=0, hidden_layer_sizes=(16,),
)  # fmt: skip


@pytest.mark.parametrize("loss", sorted(LOSS_PARAMS))
def test_array_api_inputs_equal_the_numpy_path(loss):
    xp = pytest.importorskip("array_api_strict")
    pytest.importorskip("array_api_compat")
    X, y = _targets(loss, n=200)
    est = TabularMLPRegressor(loss=loss, **LOSS_PARAMS[loss], **EXACT)
    val = dict(X_val=X[150:], y_val=y[150:])
    ref = _fit(clone(est), X[:150], y[:150], **val)
    with sklearn.config_context(array_api_dispatch=True):
        dev = _fit(
            clone(est),
            xp.asarray(X[:150]),
            xp.asarray(y[:150]),
            **{k: xp.asarray(v) for k, v in val.items()},
        )
        pred = np.asarray(dev.predict(xp.asarray(X)))
    np.testing.assert_allclose(dev.loss_curve_, ref.loss_curve_, rtol=1e-9)
    np.testing.assert_allclose(dev.validation_scores_, ref.validation_scores_)
    np.testing.assert_allclose(pred, ref.predict(X), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("loss", sorted(LOSS_PARAMS))
def test_numpy_and_numba_paths_agree(loss):
    # the new losses have no compiled kernel: both paths run their NumPy
    # code around the compiled layers, to the same bits
    from sknn._core import _fused

    if not _fused.AVAILABLE:
        pytest.skip("Numba is not installed")
    X, y = _targets(loss, n=200)
    fits = []
    for enabled in (False, True):
        with _fused.use(enabled):
            fits.append(_fit(_reg(loss, max_iter=3, dtype="float64"), X, y))
    np.testing.assert_array_equal(fits[0]._params, fits[1]._params)
    assert fits[0].loss_curve_ == fits[1].loss_curve_


@pytest.mark.parametrize("loss", sorted(set(LOSS_PARAMS) - {"squared_error"}))
def test_neighbors_blend_only_the_squared_error(loss):
    """The neighbour average is a mean: 'auto' leaves the other losses'
    predictions to the network, and True is an error, before any fitting."""
    X, y = _targets(loss, n=300, seed=4)
    est = _fit(_reg(loss), X, y)
    assert est.neighbor_weight_ is None
    forced = _reg(loss, neighbors=True)
    with pytest.raises(ValueError, match="only loss='squared_error' estimates"):
        forced.fit(X, y)
    assert not hasattr(forced, "n_features_in_")
    assert _fit(_reg("squared_error"), X, y).neighbor_weight_ is not None
