"""Tests of sknn._core.losses: values, weighting and the canonical-link gradient."""

import math

import numpy as np
import pytest

from sknn._core.activations import OUTPUT_ACTIVATIONS
from sknn._core.losses import LOSSES, weighted_mean

LOSS_NAMES = ["log_loss", "binary_log_loss", "squared_error", "poisson"]
CANONICAL = {
    "log_loss": "softmax",
    "binary_log_loss": "logistic",
    "squared_error": "identity",
    "poisson": "exp",
}


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
        out[i] = s
    return out


def _problem(name, n=7, k=3, seed=0):
    """Targets Y suitable for the loss and pre-activations Z."""
    rng = np.random.default_rng(seed)
    Z = rng.uniform(-2, 2, (n, k))
    if name == "log_loss":
        Y = np.eye(k)[rng.integers(0, k, n)]
    elif name == "binary_log_loss":
        Y = rng.integers(0, 2, (n, k)).astype(float)
    elif name == "squared_error":
        Y = rng.standard_normal((n, k))
    else:
        Y = rng.poisson(2.0, (n, k)).astype(float)
        Y[0, 0] = 0.0  # a zero count exercises the 0 * log 0 convention
    return Y, Z


def _P(name, Z):
    return OUTPUT_ACTIVATIONS[CANONICAL[name]].forward(Z.copy())


def test_registry_pairs():
    assert set(LOSSES) == set(LOSS_NAMES)
    for name, loss in LOSSES.items():
        assert loss.name == name
        assert loss.out_activation == CANONICAL[name]


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_per_sample_and_value_match_reference(name):
    Y, Z = _problem(name)
    P = _P(name, Z)
    ref = _ref_per_sample(name, Y, P)
    loss = LOSSES[name]
    per = loss.per_sample(Y, P)
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


@pytest.mark.parametrize("name", ["squared_error", "poisson"])
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
def test_canonical_link_gradient(name, weighted):
    """d loss.value(Y, act(Z)) / dZ == s_i (P - Y) / sum(s) for canonical pairs."""
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
    expected = P - Y
    if w is None:
        expected /= n
    else:
        expected *= w[:, None] / w.sum()
    np.testing.assert_allclose(G, expected, rtol=1e-5, atol=1e-8)


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
