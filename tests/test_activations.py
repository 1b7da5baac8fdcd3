"""Tests of sknn._core.activations: forward values, derivatives, in-place use."""

import math
import warnings

import numpy as np
import pytest

from sknn._core.activations import ACTIVATIONS, OUTPUT_ACTIVATIONS

# every registered hidden activation: a new one is covered without edits here
HIDDEN = sorted(ACTIVATIONS)
DTYPES = [np.float64, np.float32]
KINKED = {"relu", "leaky_relu"}  # not differentiable at 0


def _ref_sigmoid(z):
    # Written branch-wise so that it does not overflow for large |z|.
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def _ref_gelu(z):
    c = math.sqrt(2.0 / math.pi)
    return 0.5 * z * (1.0 + np.tanh(c * (z + 0.044715 * z**3)))


REFERENCE = {
    "identity": lambda z: z.copy(),
    "logistic": _ref_sigmoid,
    "tanh": lambda z: np.sinh(z) / np.cosh(z),
    "relu": lambda z: np.where(z > 0, z, 0.0),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
    "elu": lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0.0))),
    "gelu": _ref_gelu,
}


def _inputs(name, dtype, seed=0, shape=(9, 6)):
    """Pre-activations in [-4, 4]; at least 0.05 away from 0 for kinked ones."""
    rng = np.random.default_rng(seed)
    Z = rng.uniform(-4.0, 4.0, shape)
    if name in KINKED:
        Z = np.sign(Z) * rng.uniform(0.05, 4.0, shape)
    return Z.astype(dtype)


def _tol(dtype):
    return (
        {"rtol": 1e-12, "atol": 1e-13}
        if dtype == np.float64
        else {
            "rtol": 2e-6,
            "atol": 2e-6,
        }
    )


def test_registry_contents():
    assert {"identity", "logistic", "tanh", "relu"} <= set(ACTIVATIONS)
    assert set(OUTPUT_ACTIVATIONS) == {"identity", "logistic", "softmax", "exp"}
    for name, act in ACTIVATIONS.items():
        assert act.name == name
        assert act.backward is not None
        assert act.needs_input == (name == "gelu")
    for name, act in OUTPUT_ACTIVATIONS.items():
        assert act.name == name


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", HIDDEN)
def test_forward_matches_reference(name, dtype):
    Z = _inputs(name, dtype)
    expected = REFERENCE[name](Z.astype(np.float64))
    A = ACTIVATIONS[name].forward(Z.copy())
    assert A.shape == Z.shape
    np.testing.assert_allclose(A, expected, **_tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", HIDDEN)
def test_forward_in_place_and_dtype(name, dtype):
    Z = _inputs(name, dtype)
    Z0 = Z.copy()
    act = ACTIVATIONS[name]
    A = act.forward(Z)
    assert A.dtype == np.dtype(dtype)
    if act.needs_input:
        # GELU keeps its input for the backward pass: new array, Z untouched.
        assert A is not Z
        assert not np.shares_memory(A, Z)
        np.testing.assert_array_equal(Z, Z0)
    else:
        assert A is Z


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", HIDDEN)
def test_backward_matches_finite_difference(name, dtype):
    act = ACTIVATIONS[name]
    Z64 = _inputs(name, np.float64, seed=1)
    h = 1e-6
    fd = (REFERENCE[name](Z64 + h) - REFERENCE[name](Z64 - h)) / (2 * h)
    # The FD of the package's own forward agrees with the reference too.
    fd_own = (act.forward(Z64 + h) - act.forward(Z64 - h)) / (2 * h)
    np.testing.assert_allclose(fd_own, fd, rtol=1e-7, atol=1e-8)

    rng = np.random.default_rng(2)
    dA = rng.standard_normal(Z64.shape)
    expected = dA * fd

    Z = Z64.astype(dtype)
    Zkeep = Z.copy()
    A = act.forward(Z.copy())
    dA_in = dA.astype(dtype)
    out = act.backward(A, dA_in, Zkeep if act.needs_input else None)
    assert out is dA_in  # in place in dA
    assert out.dtype == np.dtype(dtype)
    if dtype == np.float64:
        np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-8)
    else:
        np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)
    # backward must not modify its other inputs
    np.testing.assert_array_equal(Zkeep, Z64.astype(dtype))


@pytest.mark.parametrize("name", HIDDEN)
def test_backward_leaves_activation_untouched(name):
    act = ACTIVATIONS[name]
    Z = _inputs(name, np.float64, seed=3)
    A = act.forward(Z.copy())
    A0 = A.copy()
    act.backward(A, np.ones_like(A), Z)
    np.testing.assert_array_equal(A, A0)


@pytest.mark.parametrize(
    "name, slope",
    [("relu", 0.0), ("leaky_relu", 0.01), ("identity", 1.0)],
)
def test_piecewise_linear_derivatives_exact(name, slope):
    act = ACTIVATIONS[name]
    Z = np.array([[-3.0, -1e-3, 2e-3, 5.0]])
    A = act.forward(Z.copy())
    d = act.backward(A, np.ones_like(Z), None)
    expected = np.where(Z > 0, 1.0, slope)
    if name == "identity":
        expected = np.ones_like(Z)
    np.testing.assert_array_equal(d, expected)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", HIDDEN)
def test_hidden_forward_stable_for_large_inputs(name, dtype):
    Z = np.array([[-1e4, -50.0, 0.0, 50.0, 1e4]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        A = ACTIVATIONS[name].forward(Z.copy())
        d = ACTIVATIONS[name].backward(A, np.ones_like(A), Z.copy())
    assert np.isfinite(A).all()
    assert np.isfinite(d).all()


# ---------------------------------------------------------------- outputs
@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_reference_and_rows_sum_to_one(dtype):
    rng = np.random.default_rng(4)
    Z = rng.uniform(-5, 5, (8, 4)).astype(dtype)
    Z64 = Z.astype(np.float64)
    expected = np.exp(Z64) / np.exp(Z64).sum(axis=1, keepdims=True)
    Zc = Z.copy()
    P = OUTPUT_ACTIVATIONS["softmax"].forward(Zc)
    assert P is Zc
    assert P.dtype == np.dtype(dtype)
    np.testing.assert_allclose(P, expected, **_tol(dtype))
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-6)
    assert (P > 0).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_stable_for_huge_inputs(dtype):
    scale = 1e150 if dtype == np.float64 else 1e30
    rng = np.random.default_rng(5)
    Z = (rng.standard_normal((6, 5)) * scale).astype(dtype)
    Z[0] = scale  # a row of equal huge values: uniform
    Z[1] = -scale
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        P = OUTPUT_ACTIVATIONS["softmax"].forward(Z.copy())
    assert np.isfinite(P).all()
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(P[0], 0.2, rtol=1e-6)
    np.testing.assert_allclose(P[1], 0.2, rtol=1e-6)
    # rows with distinct huge values are one-hot on their maximum
    for i in range(2, 6):
        expected = np.zeros(5)
        expected[np.argmax(Z[i])] = 1.0
        np.testing.assert_array_equal(P[i], expected)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_shift_invariant_per_row(dtype):
    rng = np.random.default_rng(6)
    Z = rng.uniform(-3, 3, (7, 4)).astype(dtype)
    shift = rng.uniform(-100, 100, (7, 1)).astype(dtype)
    P1 = OUTPUT_ACTIVATIONS["softmax"].forward(Z.copy())
    P2 = OUTPUT_ACTIVATIONS["softmax"].forward(Z + shift)
    tol = 1e-10 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(P1, P2, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", DTYPES)
def test_output_logistic(dtype):
    act = OUTPUT_ACTIVATIONS["logistic"]
    rng = np.random.default_rng(7)
    Z = rng.uniform(-10, 10, (5, 3)).astype(dtype)
    Zc = Z.copy()
    P = act.forward(Zc)
    assert P is Zc and P.dtype == np.dtype(dtype)
    assert ((P > 0) & (P < 1)).all()
    np.testing.assert_allclose(P, _ref_sigmoid(Z.astype(np.float64)), **_tol(dtype))

    big = np.array([[-1e4, 1e4, -800.0, 800.0, 0.0]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Pb = act.forward(big.copy())
    assert np.isfinite(Pb).all()
    assert ((Pb >= 0) & (Pb <= 1)).all()
    np.testing.assert_allclose(Pb, [[0.0, 1.0, 0.0, 1.0, 0.5]], atol=1e-300)


@pytest.mark.parametrize("dtype", DTYPES)
def test_output_identity(dtype):
    Z = np.arange(6, dtype=dtype).reshape(2, 3)
    Zc = Z.copy()
    P = OUTPUT_ACTIVATIONS["identity"].forward(Zc)
    assert P is Zc
    np.testing.assert_array_equal(P, Z)


@pytest.mark.parametrize("dtype", DTYPES)
def test_output_exp_matches_reference(dtype):
    rng = np.random.default_rng(8)
    Z = rng.uniform(-5, 5, (4, 3)).astype(dtype)
    Zc = Z.copy()
    P = OUTPUT_ACTIVATIONS["exp"].forward(Zc)
    assert P is Zc and P.dtype == np.dtype(dtype)
    np.testing.assert_allclose(P, np.exp(Z.astype(np.float64)), **_tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_output_exp_finite_for_huge_inputs(dtype):
    big = 1e300 if dtype == np.float64 else 1e30
    Z = np.array([[1e4, big, 1000.0, -1e4]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning either
        P = OUTPUT_ACTIVATIONS["exp"].forward(Z.copy())
    assert np.isfinite(P).all(), P
    assert P[0, 0] > 1e30  # clipped, not zeroed
    assert P[0, 3] == 0.0
