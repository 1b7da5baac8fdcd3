"""Tests of sknn._core.network: layout, initialisation, forward and backprop."""

import math

import numpy as np
import pytest
import scipy.sparse as sp

from sknn._core.activations import ACTIVATIONS
from sknn._core.backend import NUMPY
from sknn._core.network import Network, Workspace

# every test runs on both element-wise backends (conftest.kernels)
pytestmark = pytest.mark.usefixtures("kernels")

# every registered hidden activation: a new one is covered without edits here
HIDDEN = sorted(ACTIVATIONS)
LOSS_NAMES = ["log_loss", "binary_log_loss", "squared_error", "poisson"]
N_OUT = {"log_loss": 3, "binary_log_loss": 3, "squared_error": 2, "poisson": 2}
UNITS = [4, 5, 3]  # n_features and the two hidden layers; n_outputs appended


# ------------------------------------------------------------ reference model
# Everything below is written independently of sknn: the layout of the flat
# vector, the activations, the output links and the losses.
def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


_C = math.sqrt(2.0 / math.pi)
REF_ACT = {
    "identity": lambda z: z,
    "logistic": _sigmoid,
    "tanh": np.tanh,
    "relu": lambda z: np.where(z > 0, z, 0.0),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
    "elu": lambda z: np.where(z > 0, z, np.exp(np.minimum(z, 0.0)) - 1.0),
    "gelu": lambda z: 0.5 * z * (1.0 + np.tanh(_C * (z + 0.044715 * z**3))),
}


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


REF_OUT = {
    "log_loss": _softmax,
    "binary_log_loss": _sigmoid,
    "squared_error": lambda z: z,
    "poisson": np.exp,
}


def _ref_per_sample(loss, Y, P):
    if loss == "log_loss":
        return -(Y * np.log(P)).sum(axis=1)
    if loss == "binary_log_loss":
        return -(Y * np.log(P) + (1 - Y) * np.log(1 - P)).sum(axis=1)
    if loss == "squared_error":
        return 0.5 * ((P - Y) ** 2).sum(axis=1)
    safe = np.where(Y > 0, Y, 1.0)
    return (np.where(Y > 0, Y * np.log(safe / P), 0.0) - Y + P).sum(axis=1)


def _ref_unpack(units, flat):
    Ws, bs, k = [], [], 0
    for a, b in zip(units[:-1], units[1:]):
        Ws.append(flat[k : k + a * b].reshape(a, b))
        k += a * b
    for b in units[1:]:
        bs.append(flat[k : k + b])
        k += b
    assert k == flat.size
    return Ws, bs


def _ref_forward(units, activation, loss, params, X, masks=None):
    Ws, bs = _ref_unpack(units, np.asarray(params, dtype=np.float64))
    A = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    for i, (W, b) in enumerate(zip(Ws, bs)):
        Z = A @ W + b
        if i == len(Ws) - 1:
            return REF_OUT[loss](Z)
        A = REF_ACT[activation](Z)
        if masks is not None and masks[i] is not None:
            A = A * masks[i]


def _ref_objective(units, activation, loss, params, X, Y, sw, alpha, masks=None):
    P = _ref_forward(units, activation, loss, params, X, masks)
    per = _ref_per_sample(loss, Y, P)
    n_coefs = sum(a * b for a, b in zip(units[:-1], units[1:]))
    w = params[:n_coefs]
    if sw is None:
        S = float(len(Y))
        data = per.sum() / S
    else:
        S = float(sw.sum())
        data = (sw * per).sum() / S
    return data + alpha / (2.0 * S) * float(w @ w)


def _targets(loss, n, k, rng):
    if loss == "log_loss":
        return np.eye(k)[rng.integers(0, k, n)]
    if loss == "binary_log_loss":
        return rng.integers(0, 2, (n, k)).astype(float)
    if loss == "squared_error":
        return rng.standard_normal((n, k))
    return rng.poisson(1.5, (n, k)).astype(float)


def _setup(activation, loss, n=6, seed=0, dropout=None, dtype=np.float64):
    rng = np.random.default_rng(seed)
    units = UNITS + [N_OUT[loss]]
    net = Network(units, activation, loss, dtype=dtype, dropout=dropout)
    params = net.init_params(rng)
    # push the biases away from zero a bit so that pre-activations spread out
    params[net.n_coefs :] += rng.uniform(-0.5, 0.5, net.n_params - net.n_coefs)
    X = rng.uniform(-1.5, 1.5, (n, units[0])).astype(dtype)
    Y = _targets(loss, n, units[-1], rng).astype(dtype)
    sw = rng.uniform(0.3, 2.0, n)
    return net, units, params, X, Y, sw, rng


def _fd_grad(f, params, eps=1e-6):
    g = np.empty_like(params)
    x = params.copy()
    for j in range(params.size):
        old = x[j]
        x[j] = old + eps
        fp = f(x)
        x[j] = old - eps
        fm = f(x)
        x[j] = old
        g[j] = (fp - fm) / (2 * eps)
    return g


def _check_gradient(activation, loss, *, dropout=None, sparse=False, seed=0):
    net, units, params, X, Y, sw, rng = _setup(
        activation, loss, seed=seed, dropout=dropout
    )
    alpha = 0.3
    masks = net.draw_masks(rng, X.shape[0]) if dropout is not None else None
    if dropout is not None:
        assert any(m is not None for m in masks)
    Xin = sp.csr_matrix(X) if sparse else X
    grad = np.full(net.n_params, np.nan)
    value = net.loss_grad(
        params, Xin, Y, grad, sample_weight=sw, alpha=alpha, masks=masks
    )
    ref_value = _ref_objective(units, activation, loss, params, X, Y, sw, alpha, masks)
    np.testing.assert_allclose(value, ref_value, rtol=1e-10)

    def f_ref(p):
        return _ref_objective(units, activation, loss, p, X, Y, sw, alpha, masks)

    scratch = np.empty(net.n_params)

    def f_net(p):
        return net.loss_grad(
            p, Xin, Y, scratch, sample_weight=sw, alpha=alpha, masks=masks
        )

    fd_ref = _fd_grad(f_ref, params)
    fd_net = _fd_grad(f_net, params)
    np.testing.assert_allclose(grad, fd_ref, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(grad, fd_net, rtol=1e-5, atol=1e-7)
    assert np.abs(grad).max() > 1e-3  # a non-trivial gradient was checked


@pytest.mark.parametrize("loss", LOSS_NAMES)
@pytest.mark.parametrize("activation", HIDDEN)
def test_gradient_finite_differences(activation, loss):
    _check_gradient(activation, loss)


@pytest.mark.parametrize("loss", LOSS_NAMES)
@pytest.mark.parametrize("activation", HIDDEN)
def test_gradient_with_fixed_dropout_mask(activation, loss):
    _check_gradient(activation, loss, dropout=[0.3, 0.5], seed=1)


@pytest.mark.parametrize("loss", LOSS_NAMES)
@pytest.mark.parametrize("activation", HIDDEN)
def test_gradient_sparse_input(activation, loss):
    _check_gradient(activation, loss, sparse=True, seed=2)


@pytest.mark.parametrize("hidden", [[4], []], ids=["one_hidden", "no_hidden"])
@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_gradient_shallow_networks(loss, hidden):
    units = [3, *hidden, N_OUT[loss]]
    rng = np.random.default_rng(3)
    net = Network(units, "tanh", loss)
    params = net.init_params(rng)
    X = rng.standard_normal((5, 3))
    Y = _targets(loss, 5, units[-1], rng)
    grad = np.empty(net.n_params)
    net.loss_grad(params, X, Y, grad, alpha=0.1)
    fd = _fd_grad(
        lambda p: _ref_objective(units, "tanh", loss, p, X, Y, None, 0.1), params
    )
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-7)


def test_sparse_equals_dense():
    net, units, params, X, Y, sw, rng = _setup("relu", "log_loss", n=9)
    g1, g2 = np.empty(net.n_params), np.empty(net.n_params)
    l1 = net.loss_grad(params, X, Y, g1, sample_weight=sw, alpha=0.1)
    l2 = net.loss_grad(params, sp.csr_matrix(X), Y, g2, sample_weight=sw, alpha=0.1)
    np.testing.assert_allclose(l1, l2, rtol=1e-12)
    np.testing.assert_allclose(g1, g2, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(
        net.predict(params, sp.csr_matrix(X)), net.predict(params, X), rtol=1e-12
    )


# ------------------------------------------------------------ penalties, weights
def test_alpha_only_penalises_weights():
    net, units, params, X, Y, sw, rng = _setup("tanh", "squared_error")
    g0, g1 = np.empty(net.n_params), np.empty(net.n_params)
    l0 = net.loss_grad(params, X, Y, g0, sample_weight=sw)
    alpha = 0.7
    l1 = net.loss_grad(params, X, Y, g1, sample_weight=sw, alpha=alpha)
    S = sw.sum()
    w = params[: net.n_coefs]
    np.testing.assert_allclose(l1 - l0, alpha * 0.5 * (w @ w) / S, rtol=1e-10)
    diff = g1 - g0
    np.testing.assert_allclose(diff[: net.n_coefs], alpha * w / S, rtol=1e-9)
    np.testing.assert_allclose(diff[net.n_coefs :], 0.0, atol=1e-15)
    assert net.l2_penalty(params) == pytest.approx(0.5 * float(w @ w))


@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_weight_two_equals_duplicated_rows(loss):
    net, units, params, X, Y, _, rng = _setup("elu", loss, n=7)
    w = np.ones(len(X))
    dup = [0, 3, 5]
    w[dup] = 2.0
    Xd, Yd = np.vstack([X, X[dup]]), np.vstack([Y, Y[dup]])
    g1, g2 = np.empty(net.n_params), np.empty(net.n_params)
    l1 = net.loss_grad(params, X, Y, g1, sample_weight=w, alpha=0.2)
    l2 = net.loss_grad(params, Xd, Yd, g2, alpha=0.2)
    np.testing.assert_allclose(l1, l2, rtol=1e-12)
    np.testing.assert_allclose(g1, g2, rtol=1e-10, atol=1e-14)


def test_unit_weights_equal_no_weights():
    net, units, params, X, Y, _, rng = _setup("gelu", "binary_log_loss")
    g1, g2 = np.empty(net.n_params), np.empty(net.n_params)
    l1 = net.loss_grad(params, X, Y, g1, sample_weight=np.ones(len(X)), alpha=0.1)
    l2 = net.loss_grad(params, X, Y, g2, alpha=0.1)
    np.testing.assert_allclose(l1, l2, rtol=1e-13)
    np.testing.assert_allclose(g1, g2, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("alpha", [0.0, 0.5])
def test_zero_total_weight_batch_gives_zero_grad(alpha):
    net, units, params, X, Y, _, rng = _setup("relu", "log_loss")
    grad = np.full(net.n_params, np.nan)
    loss = net.loss_grad(
        params, X, Y, grad, sample_weight=np.zeros(len(X)), alpha=alpha
    )
    assert loss == 0.0
    np.testing.assert_array_equal(grad, 0.0)
    grad[...] = np.nan
    out = net.loss_grad(
        params, X, Y, grad, sample_weight=np.zeros(len(X)), compute_loss=False
    )
    assert out is None
    np.testing.assert_array_equal(grad, 0.0)


def test_compute_loss_false_same_gradient():
    net, units, params, X, Y, sw, rng = _setup("tanh", "poisson")
    g1, g2 = np.empty(net.n_params), np.empty(net.n_params)
    net.loss_grad(params, X, Y, g1, sample_weight=sw, alpha=0.3)
    out = net.loss_grad(
        params, X, Y, g2, sample_weight=sw, alpha=0.3, compute_loss=False
    )
    assert out is None
    np.testing.assert_array_equal(g1, g2)


@pytest.mark.parametrize("weighted", [False, True])
def test_l2_grad_false_leaves_out_only_the_l2_term(weighted):
    net, units, params, X, Y, sw, rng = _setup("tanh", "log_loss")
    sw = sw if weighted else None
    g_full, g_part = np.empty(net.n_params), np.empty(net.n_params)
    l_full = net.loss_grad(params, X, Y, g_full, sample_weight=sw, alpha=0.3)
    l_part = net.loss_grad(
        params, X, Y, g_part, sample_weight=sw, alpha=0.3, l2_grad=False
    )
    assert l_part == l_full  # the penalty stays in the objective
    S = len(X) if sw is None else sw.sum()
    coef = net.l2_coef(0.3, len(X), sw)
    assert coef == pytest.approx(0.3 / S, rel=1e-15)
    n = net.n_coefs
    np.testing.assert_array_equal(g_part[n:], g_full[n:])  # biases
    np.testing.assert_array_equal(g_part[:n] + coef * params[:n], g_full[:n])
    assert np.abs(g_part[:n] - g_full[:n]).max() > 1e-3


def test_l2_coef_and_batch_weight():
    net = Network([3, 2, 1], "relu", "squared_error")
    assert net.batch_weight(5, None) == 5.0
    assert net.batch_weight(3, np.array([0.5, 1.0, 2.0])) == 3.5
    assert net.l2_coef(0.7, 5) == pytest.approx(0.14)
    assert net.l2_coef(0.7, 3, np.array([0.5, 1.0, 2.0])) == pytest.approx(0.2)
    assert net.l2_coef(0.7, 2, np.zeros(2)) == 0.0  # a batch weighing nothing


def test_loss_grad_does_not_modify_inputs():
    net, units, params, X, Y, sw, rng = _setup("gelu", "log_loss", dropout=[0.2, 0.2])
    masks = net.draw_masks(rng, len(X))
    copies = [a.copy() for a in (params, X, Y, sw)]
    mcopies = [m.copy() for m in masks]
    net.loss_grad(
        params, X, Y, np.empty(net.n_params), sample_weight=sw, alpha=0.1, masks=masks
    )
    for a, c in zip((params, X, Y, sw), copies):
        np.testing.assert_array_equal(a, c)
    for m, c in zip(masks, mcopies):
        np.testing.assert_array_equal(m, c)


# ------------------------------------------------------------ layout
def test_layout_weights_first():
    units = [4, 5, 3, 2]
    net = Network(units, "relu", "squared_error")
    n_coefs = 4 * 5 + 5 * 3 + 3 * 2
    assert net.n_coefs == n_coefs
    assert net.n_params == n_coefs + 5 + 3 + 2
    flat = np.arange(net.n_params, dtype=float)
    W, b = net.unpack(flat)
    assert [w.shape for w in W] == [(4, 5), (5, 3), (3, 2)]
    assert [v.shape for v in b] == [(5,), (3,), (2,)]
    np.testing.assert_array_equal(
        np.concatenate([w.ravel() for w in W]), np.arange(n_coefs)
    )
    np.testing.assert_array_equal(np.concatenate(b), np.arange(n_coefs, net.n_params))
    # row-major storage of each weight matrix
    np.testing.assert_array_equal(W[1], np.arange(20, 35).reshape(5, 3))
    rW, rb = _ref_unpack(units, flat)
    for a, c in zip(W + b, rW + rb):
        np.testing.assert_array_equal(a, c)


def test_unpack_returns_views():
    net = Network([3, 4, 2], "tanh", "log_loss")
    flat = np.zeros(net.n_params)
    W, b = net.unpack(flat)
    for v in W + b:
        assert np.shares_memory(v, flat)
        assert v.flags.c_contiguous
    W[0][1, 2] = 5.0
    assert flat[1 * 4 + 2] == 5.0
    b[1][0] = -3.0
    assert flat[net.n_coefs + 4] == -3.0
    W[1][...] = 7.0
    np.testing.assert_array_equal(flat[12:20], 7.0)
    assert np.count_nonzero(flat) == 2 + 8


def test_pack_unpack_round_trip():
    net = Network([3, 6, 4, 2], "relu", "squared_error", dtype=np.float32)
    rng = np.random.default_rng(0)
    flat = rng.standard_normal(net.n_params).astype(np.float32)
    W, b = net.unpack(flat)
    packed = net.pack(W, b)
    assert packed.dtype == np.float32
    assert not np.shares_memory(packed, flat)
    np.testing.assert_array_equal(packed, flat)
    W2 = [rng.standard_normal(s) for s in net.coef_shapes]
    b2 = [rng.standard_normal(s[1]) for s in net.coef_shapes]
    W3, b3 = net.unpack(net.pack(W2, b2))
    for a, c in zip(W3 + b3, W2 + b2):
        np.testing.assert_allclose(a, c, rtol=1e-6)


def test_dropout_rate_count_checked():
    with pytest.raises(ValueError, match="one rate per hidden layer"):
        Network([3, 4, 5, 2], "relu", "log_loss", dropout=[0.5])
    # an unknown name: scikit-learn's InvalidParameterError, a ValueError
    with pytest.raises(ValueError, match="'activation' parameter of Network"):
        Network([3, 4, 2], "swish", "log_loss")
    with pytest.raises(ValueError, match="'loss' parameter of Network"):
        Network([3, 4, 2], "relu", "hinge")


@pytest.mark.parametrize(
    "loss, out",
    [
        ("log_loss", "softmax"),
        ("binary_log_loss", "logistic"),
        ("squared_error", "identity"),
        ("poisson", "exp"),
    ],
)
def test_output_activation_from_loss(loss, out):
    assert Network([2, 3, 2], "relu", loss).out_activation.name == out


# ------------------------------------------------------------ initialisation
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("activation", HIDDEN)
def test_init_params_glorot_bounds(activation, dtype):
    units = [30, 40, 20, 10]
    net = Network(units, activation, "log_loss", dtype=dtype)
    params = net.init_params(np.random.default_rng(0))
    assert params.shape == (net.n_params,)
    assert params.dtype == np.dtype(dtype)
    factor = 2.0 if activation == "logistic" else 6.0
    W, b = net.unpack(params)
    for i, (fi, fo) in enumerate(zip(units[:-1], units[1:])):
        bound = math.sqrt(factor / (fi + fo))
        assert np.abs(W[i]).max() <= bound * (1 + 1e-6)
        assert np.abs(b[i]).max() <= bound * (1 + 1e-6)
        # uniform over the whole interval: the extremes get close to the bound
        assert np.abs(W[i]).max() > 0.9 * bound
        assert W[i].min() < -0.5 * bound and W[i].max() > 0.5 * bound
        # mean of U(-r, r) draws: 0 within 4 standard errors
        assert abs(W[i].mean()) < 4 * bound / math.sqrt(3 * W[i].size)


@pytest.mark.parametrize("activation", ["logistic", "relu"])
def test_init_params_reproducible(activation):
    net = Network([5, 7, 2], activation, "squared_error")
    p1 = net.init_params(np.random.default_rng(42))
    p2 = net.init_params(np.random.default_rng(42))
    p3 = net.init_params(np.random.default_rng(43))
    np.testing.assert_array_equal(p1, p2)
    assert not np.array_equal(p1, p3)
    rng = np.random.default_rng(42)
    first = net.init_params(rng)
    second = net.init_params(rng)  # the generator advances
    assert not np.array_equal(first, second)


# ------------------------------------------------------------ dropout masks
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_draw_masks(dtype):
    net = Network(
        [3, 50, 40, 30, 2], "relu", "log_loss", dtype=dtype, dropout=[0.25, 0.0, 0.5]
    )
    masks = net.draw_masks(np.random.default_rng(0), 400)
    assert masks[1] is None
    for M, rate, units in ((masks[0], 0.25, 50), (masks[2], 0.5, 30)):
        assert M.shape == (400, units)
        assert M.dtype == np.dtype(dtype)
        keep = 1.0 / (1.0 - rate)
        vals = np.unique(M)
        np.testing.assert_allclose(vals, [0.0, keep], rtol=1e-6)
        assert abs((M == 0).mean() - rate) < 0.03
        assert abs(M.mean() - 1.0) < 0.05
    again = net.draw_masks(np.random.default_rng(0), 400)
    np.testing.assert_array_equal(masks[0], again[0])


@pytest.mark.parametrize(
    "rate, dropped, keep",
    [
        (0.15, 9830, 65536 / 55706),  # 1 / (1 - 0.15) to 6e-6
        (0.5, 32768, 2.0),
        (0.9999999, 65535, 65536.0),  # rounds below 1: one level kept
    ],
)
def test_draw_mask_rounds_rate_to_16_bits(rate, dropped, keep):
    # the rate is rounded to a multiple of 2**-16 below 1 and the kept entries
    # scaled by the inverse of the rounded keep probability: expectation 1
    M = NUMPY.draw_mask(np.random.default_rng(1), (2000, 300), rate, np.float64)
    assert set(np.unique(M)) <= {0.0, keep}
    assert abs((M == 0).mean() - dropped / 65536) < 0.005
    if rate < 0.99:
        np.testing.assert_allclose(keep, 1.0 / (1.0 - rate), rtol=1e-5)
    assert all(
        m is None
        for m in Network([3, 4, 2], "relu", "log_loss").draw_masks(
            np.random.default_rng(0), 5
        )
    )


# ------------------------------------------------------------ prediction
@pytest.mark.parametrize("loss", LOSS_NAMES)
@pytest.mark.parametrize("activation", HIDDEN)
def test_predict_matches_reference_and_training_forward(activation, loss):
    net, units, params, X, Y, sw, rng = _setup(
        activation, loss, n=8, dropout=[0.4, 0.4]
    )
    P = net.predict(params, X)
    assert P.shape == (len(X), units[-1])
    np.testing.assert_allclose(
        P, _ref_forward(units, activation, loss, params, X), rtol=1e-12, atol=1e-14
    )
    # the training objective without masks is the loss of the prediction
    grad = np.empty(net.n_params)
    value = net.loss_grad(params, X, Y, grad, sample_weight=sw, alpha=0.2)
    expected = net.loss.value(Y, P, sw) + 0.2 * net.l2_penalty(params) / sw.sum()
    np.testing.assert_allclose(value, expected, rtol=1e-12)


def test_predict_independent_of_workspace_and_pure():
    net, units, params, X, Y, sw, rng = _setup("gelu", "log_loss", n=8)
    X0, p0 = X.copy(), params.copy()
    P1 = net.predict(params, X)
    ws = net.workspace(20)
    X2 = rng.standard_normal((20, units[0]))
    Y2 = _targets("log_loss", 20, units[-1], rng)
    net.loss_grad(params, X2, Y2, np.empty(net.n_params), workspace=ws)
    P2 = net.predict(params, X)
    np.testing.assert_array_equal(P1, P2)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(params, p0)
    # the predictions are fresh arrays, not buffers that a later call reuses
    P3 = net.predict(params, X2[:8])
    np.testing.assert_array_equal(P1, P2)
    assert not np.shares_memory(P1, P3)
    net.loss_grad(params, X, Y, np.empty(net.n_params), workspace=ws)
    np.testing.assert_array_equal(P1, P2)


@pytest.mark.parametrize("activation", ["relu", "gelu", "logistic"])
def test_bigger_workspace_gives_identical_results(activation):
    net, units, params, X, Y, sw, rng = _setup(
        activation, "log_loss", n=7, dropout=[0.3, 0.3]
    )
    masks = net.draw_masks(rng, len(X))
    exact = Workspace(net, len(X))
    big = net.workspace(len(X) + 13)
    assert big.capacity == len(X) + 13
    # dirty the big workspace with an unrelated, larger batch first
    Xo = rng.standard_normal((20, units[0])) * 5
    Yo = _targets("log_loss", 20, units[-1], rng)
    net.loss_grad(
        params,
        Xo,
        Yo,
        np.empty(net.n_params),
        workspace=big,
        masks=net.draw_masks(rng, 20),
    )
    results = []
    for ws in (exact, big, None, exact):
        g = np.empty(net.n_params)
        value = net.loss_grad(
            params, X, Y, g, sample_weight=sw, alpha=0.1, masks=masks, workspace=ws
        )
        results.append((value, g))
    for value, g in results[1:]:
        assert value == results[0][0]
        np.testing.assert_array_equal(g, results[0][1])


def test_too_small_workspace_is_replaced():
    net, units, params, X, Y, sw, rng = _setup("tanh", "squared_error", n=9)
    g1, g2 = np.empty(net.n_params), np.empty(net.n_params)
    l1 = net.loss_grad(params, X, Y, g1, workspace=net.workspace(3))
    l2 = net.loss_grad(params, X, Y, g2)
    assert l1 == l2
    np.testing.assert_array_equal(g1, g2)


# ------------------------------------------------------------ float32
@pytest.mark.parametrize("activation", HIDDEN)
def test_float32_stays_float32(activation):
    loss = "log_loss"
    net64, units, params, X, Y, sw, rng = _setup(activation, loss)
    net32 = Network(units, activation, loss, dtype=np.float32)
    p32 = params.astype(np.float32)
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    ws = net32.workspace(len(X))
    buffers = [
        a
        for v in vars(ws).values()
        for a in (v if isinstance(v, list) else [v])
        if isinstance(a, np.ndarray)
    ]
    assert buffers and all(a.dtype == np.float32 for a in buffers)
    g32 = np.empty(net32.n_params, dtype=np.float32)
    g64 = np.empty(net64.n_params)
    l32 = net32.loss_grad(
        p32, X32, Y32, g32, sample_weight=sw.astype(np.float32), alpha=0.1, workspace=ws
    )
    l64 = net64.loss_grad(params, X, Y, g64, sample_weight=sw, alpha=0.1)
    assert g32.dtype == np.float32
    assert np.isfinite(l32)
    np.testing.assert_allclose(l32, l64, rtol=1e-5)
    np.testing.assert_allclose(g32, g64, rtol=1e-3, atol=1e-5 * np.abs(g64).max())
    assert net32.init_params(np.random.default_rng(0)).dtype == np.float32
    P32 = net32.predict(p32, X32)
    assert P32.dtype == np.float32
    np.testing.assert_allclose(P32, net64.predict(params, X), rtol=1e-4, atol=1e-6)
