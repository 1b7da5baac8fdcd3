"""Tests of sknn._core.losses: values, weighting, the output deltas (the
canonical-link ``P - Y`` and the others' own) and parameterised losses."""

import math

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from sknn._core.activations import OUTPUT_ACTIVATIONS
from sknn._core.backend import NUMPY
from sknn._core.losses import LOSSES, Loss, LossTable, weighted_mean
from sknn._core.network import Network
from sknn._core.registry import lookup

OUTPUT = {
    "log_loss": "softmax",
    "binary_log_loss": "logistic",
    "squared_error": "identity",
    "poisson": "exp",
    "absolute_error": "identity",
    "quantile": "identity",
    "gamma": "exp",
}
CANONICAL = {"log_loss", "binary_log_loss", "squared_error", "poisson"}
# every registry entry, and the pinball loss bound to other quantiles
LOSS_NAMES = sorted(LOSSES) + ["quantile(alpha=0.9)", "quantile(alpha=0.2)"]
REGRESSION = [
    name for name in LOSS_NAMES if OUTPUT[name.split("(")[0]] in ("identity", "exp")
]


def _family(name):
    return name.split("(")[0]


def _alpha(name):
    return LOSSES[name].params[0][1] if _family(name) == "quantile" else None


def _ref_per_sample(name, Y, P):
    """Per-sample losses written with plain Python loops."""
    n, k = Y.shape
    out = np.zeros(n)
    for i in range(n):
        s = 0.0
        for j in range(k):
            y, p = float(Y[i, j]), float(P[i, j])
            if name == "log_loss":
                s -= y * math.log(p) if y else 0.0
            elif name == "binary_log_loss":
                s -= (y * math.log(p) if y else 0.0) + (
                    (1 - y) * math.log(1 - p) if y != 1 else 0.0
                )
            elif name == "squared_error":
                s += 0.5 * (p - y) ** 2
            elif name == "poisson":
                s += (y * math.log(y / p) if y else 0.0) - y + p
            elif name == "absolute_error":
                s += abs(p - y)
            elif _family(name) == "quantile":
                a = _alpha(name)
                s += a * (y - p) if y >= p else (1 - a) * (p - y)
            elif name == "gamma":
                s += math.log(p / y) + y / p - 1
        out[i] = s
    return out


def _ref_delta(name, Y, P):
    """dL/dZ of one sample's loss, written from the formulas."""
    family = _family(name)
    if name in CANONICAL:
        return P - Y
    if family == "absolute_error":
        return np.sign(P - Y)
    if family == "quantile":
        return np.where(P > Y, 1 - _alpha(name), -_alpha(name))
    assert family == "gamma"
    return 1 - Y / P


def _problem(name, n=7, k=3, seed=0):
    """Targets Y suitable for the loss and pre-activations Z."""
    rng = np.random.default_rng(seed)
    Z = rng.uniform(-2, 2, (n, k))
    if name == "log_loss":
        Y = np.eye(k)[rng.integers(0, k, n)]
    elif name == "binary_log_loss":
        Y = rng.integers(0, 2, (n, k)).astype(float)
    elif OUTPUT[_family(name)] == "identity":
        Y = rng.standard_normal((n, k))
    elif name == "gamma":
        Y = rng.gamma(2.0, 1.0, (n, k))
    else:
        Y = rng.poisson(2.0, (n, k)).astype(float)
        Y[0, 0] = 0.0  # a zero count exercises the 0 * log 0 convention
    return Y, Z


def _P(name, Z):
    return OUTPUT_ACTIVATIONS[OUTPUT[_family(name)]].forward(Z.copy())


def test_registry_pairs():
    assert set(LOSSES) == set(OUTPUT)
    for name, loss in LOSSES.items():
        assert loss.name == name
        assert loss.family == name
        assert loss.out_activation == OUTPUT[name]
        # the canonical pairs' delta is P - Y; every other loss writes its own
        assert (loss.delta is None) == (name in CANONICAL)


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_per_sample_and_value_match_reference(name):
    Y, Z = _problem(name)
    P = _P(name, Z)
    ref = _ref_per_sample(name, Y, P)
    loss = LOSSES[name]
    per = loss.sample_losses(Y, P)
    assert per.shape == (Y.shape[0],)
    np.testing.assert_allclose(per, ref, rtol=1e-12, atol=1e-14)
    value = loss.value(Y, P)
    assert isinstance(value, float)
    np.testing.assert_allclose(value, ref.mean(), rtol=1e-12)


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_inputs_not_modified(name):
    Y, Z = _problem(name)
    P = _P(name, Z)
    Y0, P0 = Y.copy(), P.copy()
    LOSSES[name].value(Y, P, np.ones(len(Y)))
    np.testing.assert_array_equal(Y, Y0)
    np.testing.assert_array_equal(P, P0)


@pytest.mark.parametrize("name", REGRESSION)
def test_perfect_prediction_of_regression_losses_is_zero(name):
    rng = np.random.default_rng(1)
    Y = rng.uniform(0.5, 3.0, (5, 2))
    np.testing.assert_allclose(LOSSES[name].value(Y, Y.copy()), 0.0, atol=1e-14)


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_sample_weight_is_weighted_mean(name):
    Y, Z = _problem(name, n=9, seed=2)
    P = _P(name, Z)
    rng = np.random.default_rng(3)
    w = rng.uniform(0.1, 3.0, len(Y))
    ref = _ref_per_sample(name, Y, P)
    expected = np.sum(w * ref) / np.sum(w)
    np.testing.assert_allclose(LOSSES[name].value(Y, P, w), expected, rtol=1e-12)
    # uniform weights of any scale give the plain mean
    for c in (1.0, 0.25, 7.0):
        np.testing.assert_allclose(
            LOSSES[name].value(Y, P, np.full(len(Y), c)), ref.mean(), rtol=1e-12
        )
    # weights that are not all equal really change the value
    assert not np.isclose(LOSSES[name].value(Y, P, w), ref.mean(), rtol=1e-9)


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_weight_two_equals_duplicated_rows(name):
    Y, Z = _problem(name, n=6, seed=4)
    P = _P(name, Z)
    w = np.ones(len(Y))
    dup = [1, 4]
    w[dup] = 2.0
    Yd = np.vstack([Y, Y[dup]])
    Pd = np.vstack([P, P[dup]])
    np.testing.assert_allclose(
        LOSSES[name].value(Y, P, w), LOSSES[name].value(Yd, Pd), rtol=1e-12
    )


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_zero_weight_drops_rows(name):
    Y, Z = _problem(name, n=6, seed=5)
    P = _P(name, Z)
    w = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 1.0])
    keep = w > 0
    np.testing.assert_allclose(
        LOSSES[name].value(Y, P, w), LOSSES[name].value(Y[keep], P[keep]), rtol=1e-12
    )


def test_weighted_mean():
    v = np.array([1.0, 2.0, 4.0])
    assert weighted_mean(v) == pytest.approx(7.0 / 3.0)
    assert weighted_mean(v, np.array([1.0, 0.0, 3.0])) == pytest.approx(13.0 / 4.0)
    assert isinstance(weighted_mean(v, np.ones(3)), float)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("name", LOSS_NAMES)
def test_output_delta_is_the_gradient(name, weighted):
    """d loss.value(Y, act(Z)) / dZ == s_i delta_i / sum(s): ``P - Y`` for the
    canonical pairs, the loss's own delta for the others."""
    Y, Z = _problem(name, n=5, k=3, seed=6)
    n = len(Y)
    w = np.random.default_rng(7).uniform(0.2, 2.0, n) if weighted else None
    loss = LOSSES[name]

    def f(Zv):
        return loss.value(Y, _P(name, Zv), w)

    h = 1e-6
    G = np.empty_like(Z)
    for idx in np.ndindex(*Z.shape):
        Zp, Zm = Z.copy(), Z.copy()
        Zp[idx] += h
        Zm[idx] -= h
        G[idx] = (f(Zp) - f(Zm)) / (2 * h)
    P = _P(name, Z)
    D = loss.delta_into(Y, P, np.full_like(P, np.nan), NUMPY)
    np.testing.assert_allclose(D, _ref_delta(name, Y, P), rtol=1e-12)
    expected = D
    if w is None:
        expected /= n
    else:
        expected *= w[:, None] / w.sum()
    np.testing.assert_allclose(G, expected, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", LOSS_NAMES)
def test_delta_keeps_the_dtype_and_inputs(name, dtype):
    Y, Z = _problem(name, seed=9)
    Y, P = Y.astype(dtype), _P(name, Z).astype(dtype)
    Y0, P0 = Y.copy(), P.copy()
    D = np.empty_like(P)
    assert LOSSES[name].delta_into(Y, P, D, NUMPY) is D
    assert D.dtype == dtype
    np.testing.assert_array_equal(Y, Y0)
    np.testing.assert_array_equal(P, P0)
    np.testing.assert_allclose(D, _ref_delta(name, Y, P), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("name", REGRESSION)
def test_network_gradient_finite_differences(name, weighted):
    """``Network.loss_grad`` of a two-layer MLP against central differences
    of its own objective, for every regression loss."""
    rng = np.random.default_rng(10)
    net = Network([4, 5, 2], "tanh", name)
    params = net.init_params(rng)
    X = rng.normal(size=(7, 4))
    Y, _ = _problem(name, n=7, k=2, seed=11)
    sw = rng.uniform(0.3, 2.0, 7) if weighted else None
    grad, scratch = np.empty_like(params), np.empty_like(params)
    value = net.loss_grad(params, X, Y, grad, sample_weight=sw, alpha=0.1)
    P = net.predict(params, X)
    penalty = 0.1 * net.l2_penalty(params) / (7 if sw is None else sw.sum())
    assert value == pytest.approx(LOSSES[name].value(Y, P, sw) + penalty)

    def objective(p):
        return net.loss_grad(p, X, Y, scratch, sample_weight=sw, alpha=0.1)

    h, numeric = 1e-6, np.empty_like(params)
    for i in range(params.shape[0]):
        step = np.zeros_like(params)
        step[i] = h
        numeric[i] = (objective(params + step) - objective(params - step)) / (2 * h)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ["log_loss", "binary_log_loss"])
def test_log_losses_finite_with_exact_zero_and_one(name, dtype):
    Y = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=dtype)
    # confidently wrong and confidently right, with exact 0 and 1
    P = np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]], dtype=dtype)
    per = LOSSES[name].per_sample(Y, P)
    assert np.isfinite(per).all()
    # the wrong row is penalised heavily, the right one hardly at all
    assert per[0] > 10.0
    assert per[1] < 1e-5
    assert np.isfinite(LOSSES[name].value(Y, P))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", LOSS_NAMES)
def test_float32_inputs(name, dtype):
    Y, Z = _problem(name, seed=8)
    P = _P(name, Z)
    v64 = LOSSES[name].value(Y, P)
    v = LOSSES[name].value(Y.astype(dtype), P.astype(dtype))
    assert isinstance(v, float)
    np.testing.assert_allclose(v, v64, rtol=1e-5)


def test_poisson_zero_targets():
    Y = np.zeros((3, 2))
    P = np.array([[0.5, 1.0], [2.0, 3.0], [1e-3, 4.0]])
    np.testing.assert_allclose(LOSSES["poisson"].per_sample(Y, P), P.sum(axis=1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_poisson_zero_target_with_underflowed_prediction_is_finite(dtype):
    # exp(-1000) underflows to 0: a zero target still contributes p = 0, not
    # the NaN of 0 / 0; a positive target against p = 0 is infinitely bad
    Y = np.array([[0.0, 0.0], [1.0, 0.0]], dtype=dtype)
    P = np.exp(np.array([[-1000.0, 0.0], [-1000.0, 0.0]], dtype=dtype))
    with np.errstate(divide="ignore"):  # 1 / 0, as inside the training loop
        values = LOSSES["poisson"].per_sample(Y, P)
    np.testing.assert_array_equal(values, [1.0, np.inf])


# ------------------------------------------------------------------ new losses
def test_pinball_at_the_median_is_half_the_absolute_error():
    Y, Z = _problem("absolute_error", seed=12)
    P = _P("absolute_error", Z)
    median = LOSSES["quantile"]
    assert dict(median.params) == {"alpha": 0.5}
    np.testing.assert_allclose(
        median.per_sample(Y, P, alpha=0.5),
        0.5 * LOSSES["absolute_error"].per_sample(Y, P),
        rtol=1e-14,
    )
    D = median.delta_into(Y, P, np.empty_like(P), NUMPY)
    half = 0.5 * LOSSES["absolute_error"].delta_into(Y, P, np.empty_like(P), NUMPY)
    np.testing.assert_array_equal(D, half)


def test_a_tie_has_a_zero_absolute_subgradient():
    Y = np.array([[1.0, 2.0]])
    P = np.array([[1.0, 3.0]])
    D = LOSSES["absolute_error"].delta_into(Y, P, np.empty_like(P), NUMPY)
    np.testing.assert_array_equal(D, [[0.0, 1.0]])
    Dq = LOSSES["quantile(alpha=0.9)"].delta_into(Y, P, np.empty_like(P), NUMPY)
    np.testing.assert_allclose(Dq, [[0.5 - 0.9, 1 - 0.9]])


@pytest.mark.parametrize("alpha", [0.1, 0.5, 0.9])
def test_the_pinball_loss_is_lowest_at_the_quantile(alpha):
    y = np.random.default_rng(13).normal(size=(4001, 1))
    loss = LOSSES["quantile"].bind(alpha=alpha)
    grid = np.linspace(-2.5, 2.5, 501)
    values = [loss.value(y, np.full_like(y, c)) for c in grid]
    best = grid[int(np.argmin(values))]
    assert best == pytest.approx(np.quantile(y, alpha), abs=0.02)


def test_gamma_is_scale_free_and_poisson_scales():
    # why the log-link targets may be divided by a positive scale
    Y, Z = _problem("gamma", seed=14)
    P = _P("gamma", Z)
    c = 7.5
    gamma, poisson = LOSSES["gamma"], LOSSES["poisson"]
    assert gamma.value(Y / c, P / c) == pytest.approx(gamma.value(Y, P), rel=1e-12)
    assert poisson.value(Y / c, P / c) == pytest.approx(
        poisson.value(Y, P) / c, rel=1e-12
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gamma_far_below_its_target_follows_the_tangent(dtype):
    # an unscaled start can put p = exp(Z) 15 orders of magnitude below y, or
    # underflow it to 0: the loss continues linearly in Z and the delta stays
    # finite at the slope there, 1 - 1/eps
    gamma = LOSSES["gamma"]
    cap = 1.0 / np.finfo(dtype).eps
    y = 2.0
    z_cap = math.log(y / cap)  # where the ratio y / p reaches the cap
    Z = np.array([[z_cap + 1.0], [z_cap - 3.0], [z_cap - 8.0]])
    Y = np.full_like(Z, y, dtype=dtype)
    P = np.exp(Z).astype(dtype)
    D = gamma.delta_into(Y, P, np.empty_like(P), NUMPY)
    assert D.dtype == dtype
    assert D[0, 0] == pytest.approx(1.0 - y / P[0, 0], rel=1e-6)  # exact above
    np.testing.assert_allclose(D[1:, 0], 1.0 - cap, rtol=1e-6)
    values = gamma.sample_losses(Y, P)
    at_cap = cap - math.log(cap) - 1.0
    np.testing.assert_allclose(
        values[1:], at_cap + (cap - 1.0) * np.array([3.0, 8.0]), rtol=1e-4
    )
    # p underflowed to 0: an infinite loss (a line search backs off), a finite
    # delta
    zero = np.zeros((1, 1), dtype)
    with np.errstate(all="raise"):
        D0 = gamma.delta_into(np.full_like(zero, y), zero, np.empty_like(zero), NUMPY)
        assert gamma.sample_losses(np.full_like(zero, y), zero)[0] == np.inf
    assert D0[0, 0] == pytest.approx(1.0 - cap)


def test_bind_names_the_values_and_the_table_resolves_the_name():
    bound = LOSSES["quantile"].bind(alpha=0.9)
    assert bound.name == "quantile(alpha=0.9)"
    assert bound.family == "quantile"
    assert bound.params == (("alpha", 0.9),)
    assert LOSSES["quantile(alpha=0.9)"] == bound
    assert LOSSES[bound.name].value(np.ones((2, 1)), np.zeros((2, 1))) == 0.9
    # numpy floats bind as Python floats, so the name reads the same
    assert LOSSES["quantile"].bind(alpha=np.float32(0.25)).name == (
        "quantile(alpha=0.25)"
    )
    # the keys stay the registry's: a bound name is resolved, not added
    assert "quantile(alpha=0.9)" not in LOSSES
    assert set(LOSSES) == set(OUTPUT)
    assert LOSSES.get("quantile(alpha=0.3)").params == (("alpha", 0.3),)


@pytest.mark.parametrize(
    "key",
    ["nope", "nope(alpha=0.5)", "gamma(alpha=0.5)", "quantile(beta=0.5)",
     "quantile(alpha=x)", "quantile(alpha=nan)", "quantile(0.5)"],
)  # fmt: skip
def test_a_malformed_bound_name_is_unknown(key):
    with pytest.raises(KeyError):
        LOSSES[key]
    assert LOSSES.get(key) is None
    with pytest.raises(InvalidParameterError, match="The 'loss' parameter of Net"):
        lookup(LOSSES, key, "loss", "Network")


def test_bind_rejects_an_unknown_parameter():
    with pytest.raises(TypeError, match="no parameter 'beta'"):
        LOSSES["quantile"].bind(beta=0.5)
    with pytest.raises(TypeError, match="no parameter 'alpha'"):
        LOSSES["gamma"].bind(alpha=0.5)


@pytest.mark.parametrize("as_name", [False, True])
def test_network_trains_a_bound_loss(as_name):
    bound = LOSSES["quantile"].bind(alpha=0.8)
    net = Network([3, 4, 1], "relu", bound.name if as_name else bound)
    assert net.loss == bound
    assert net.out_activation.name == "identity"
    rng = np.random.default_rng(15)
    params = net.init_params(rng)
    X, Y = rng.normal(size=(6, 3)), rng.normal(size=(6, 1))
    grad = np.empty_like(params)
    value = net.loss_grad(params, X, Y, grad)
    assert value == pytest.approx(bound.value(Y, net.predict(params, X)))


def test_a_loss_table_is_a_dict_of_losses():
    table = LossTable({"odd": Loss("odd", "identity", LOSSES["gamma"].per_sample)})
    assert isinstance(LOSSES, LossTable) and isinstance(table, dict)
    assert list(table) == ["odd"]
    with pytest.raises(KeyError):
        table["odd(alpha=1.0)"]  # a loss without that parameter


def _namespaces():
    """NumPy itself, and ``array_api_strict`` where installed."""
    params = [pytest.param(np, id="numpy")]
    try:
        import array_api_strict
    except ImportError:  # pragma: no cover - a test extra
        return params
    return params + [pytest.param(array_api_strict, id="array_api_strict")]


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("name", LOSS_NAMES)
@pytest.mark.parametrize("xp", _namespaces())
def test_the_array_api_table_writes_each_loss_as_numpy(xp, name, weighted):
    """Value and delta of the array-API table's entry (bound names included)
    equal NumPy's on targets suited to the loss."""
    import array_api_compat

    from sknn._core import array_api

    Y, Z = _problem(name, n=8, seed=16)
    P = _P(name, Z)
    sw = np.random.default_rng(17).uniform(0.5, 2, 8) if weighted else None
    ns = array_api_compat.array_namespace(xp.asarray(P))
    table = array_api._losses(ns)[name]
    assert table.name == LOSSES[name].name
    assert table.params == LOSSES[name].params
    weights = None if sw is None else xp.asarray(sw)
    got = table.value(xp.asarray(Y), xp.asarray(P), weights)
    assert got == pytest.approx(LOSSES[name].value(Y, P, sw), rel=1e-12)
    D = xp.asarray(np.full_like(P, np.nan))
    D = table.delta_into(xp.asarray(Y), xp.asarray(P), D, array_api.backend_of(D))
    expected = LOSSES[name].delta_into(Y, P, np.empty_like(P), NUMPY)
    np.testing.assert_allclose(array_api.to_numpy(D), expected, rtol=1e-12)
