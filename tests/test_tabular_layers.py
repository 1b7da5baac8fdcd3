"""Finite-difference checks and invariants of the tabular layers."""

import numpy as np
import pytest

from sknn._core import _fused
from sknn._core.backend import NUMBA, NUMPY
from sknn._core.blocks import BASE_ACTIVATIONS, ParametricActivation, ScaledDense
from sknn._core.embeddings import (
    CategoricalEmbedding,
    FeatureScale,
    PeriodicEmbedding,
    PiecewiseLinearEmbedding,
)
from sknn._core.ensemble import EnsembleExpand, MemberHead
from sknn._core.layers import Dense, Dropout
from sknn._core.network import Network
from sknn._core.optimizers import AdamW, Schedule
from sknn._core.solvers import StochasticSolver
from sknn._core.training import LoopConfig

N_NUM, N_OTHER, CARDS = 3, 2, [4, 6]
N_IN = N_NUM + N_OTHER + len(CARDS)


def _table(n=24, seed=0):
    """Numeric columns, two flag-like columns, then two code columns."""
    rng = np.random.default_rng(seed)
    num = rng.normal(size=(n, N_NUM))
    other = (rng.random((n, N_OTHER)) < 0.4).astype(float)
    codes = np.column_stack([rng.integers(0, c, n) for c in CARDS]).astype(float)
    X = np.hstack([num, other, codes])
    target = num[:, 0] - 0.5 * num[:, 1] ** 2 + codes[:, 0] * 0.3
    return X, target


# bins of unequal widths, a column with fewer bins (padded) and one whose
# single edge leaves only empty bins
EDGES = [[-1.53, -0.31, 0.42, 1.17], [-0.77, 0.13, 1.96], [0.5]]


def _hidden(base="selu", learnable=True):
    return [ScaledDense(7, bias_mult=0.1), ParametricActivation(base, learnable)]


def _inputs():
    return [
        CategoricalEmbedding(CARDS, dim=2),
        FeatureScale(lr_mult=6.0),
        PeriodicEmbedding(N_NUM, n_frequencies=4, dim=2, sigma=0.5),
    ]


NETWORKS = {
    "scale": lambda out: [FeatureScale(6.0), Dense(5, "tanh"), Dense(out)],
    "periodic": lambda out: [
        PeriodicEmbedding(N_NUM, 4, 2, 0.5), Dense(5, "tanh"), Dense(out)
    ],
    "piecewise": lambda out: [
        FeatureScale(6.0), PiecewiseLinearEmbedding(EDGES, 2), Dense(5, "tanh"),
        Dense(out),
    ],
    "categorical": lambda out: [
        CategoricalEmbedding(CARDS, dim=3), Dense(5, "tanh"), Dense(out)
    ],
    "ntp": lambda out: [*_hidden(learnable=False), ScaledDense(out)],
    "full": lambda out: [*_inputs(), *_hidden(), *_hidden("mish"), ScaledDense(out)],
    "ensemble": lambda out: [
        *_inputs(), EnsembleExpand(3), *_hidden(), MemberHead(3, out)
    ],
    "ensemble_dropout": lambda out: [
        EnsembleExpand(2), *_hidden("relu"), Dropout(0.3), MemberHead(2, out)
    ],
}  # fmt: skip
TASKS = {"squared_error": 2, "log_loss": 3, "binary_log_loss": 1}


def _targets(loss, target):
    if loss == "squared_error":
        return np.column_stack([target, np.sin(target)])
    if loss == "log_loss":
        labels = np.digitize(target, np.quantile(target, [1 / 3, 2 / 3]))
        return np.eye(3)[labels] * 0.9 + 0.1 / 3  # label-smoothed targets
    return (target > np.median(target)).astype(float)[:, None]


def _network(name, loss):
    return Network.from_layers(N_IN, NETWORKS[name](TASKS[loss]), loss)


def _perturb(net, params, rng):
    """Move every parameter off its initial value (scales of 1, zero biases)."""
    params += rng.normal(scale=0.1, size=params.shape)
    return params


@pytest.mark.parametrize("loss", sorted(TASKS))
@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_gradient_matches_finite_differences(name, loss, kernels):
    X, target = _table()
    Y = _targets(loss, target)
    net = _network(name, loss)
    rng = np.random.default_rng(1)
    params = _perturb(net, net.init_params(rng), rng)
    sw = rng.uniform(0.5, 2.0, size=X.shape[0])
    masks = net.draw_masks(np.random.default_rng(2), X.shape[0])

    def objective(p, grad):
        return net.loss_grad(p, X, Y, grad, sample_weight=sw, alpha=0.3, masks=masks)

    grad = np.empty_like(params)
    objective(params, grad)
    h = 1e-6
    scratch = np.empty_like(params)
    numeric = np.empty_like(params)
    for i in range(params.size):
        step = np.zeros_like(params)
        step[i] = h
        up = objective(params + step, scratch)
        numeric[i] = (up - objective(params - step, scratch)) / (2 * h)
    np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_predict_equals_the_training_pass_without_dropout(name):
    X, target = _table()
    Y = _targets("squared_error", target)
    net = _network(name, "squared_error")
    params = net.init_params(np.random.default_rng(0))
    grad = np.empty_like(params)
    loss = net.loss_grad(params, X, Y, grad)  # no masks: nothing dropped
    P = net.predict(params, X)
    assert P.shape == Y.shape
    if net.members == 1:  # an ensemble's loss is the mean of its members'
        assert loss == pytest.approx(0.5 * ((P - Y) ** 2).sum(axis=1).mean())


def test_ensemble_predicts_the_mean_of_its_members():
    X, target = _table()
    k = 3
    net = Network.from_layers(
        N_IN, [EnsembleExpand(k), *_hidden(), MemberHead(k, 3)], "log_loss"
    )
    params = net.init_params(np.random.default_rng(0))
    P = net.predict(params, X)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    # member m alone: its scaling, the shared hidden block, its head
    views = net.layer_views(params)
    r, (W, b) = views[0][0], views[-1]
    hidden = net.layers[1:-1]
    members = []
    for m in range(k):
        A = X * r[m]
        for layer, P_layer in zip(hidden, views[1:-1]):
            A = layer.predict(A, P_layer, NUMPY)
        Z = A @ W[m] / np.sqrt(W.shape[1]) + b
        Z = np.exp(Z - Z.max(axis=1, keepdims=True))
        members.append(Z / Z.sum(axis=1, keepdims=True))
    np.testing.assert_allclose(P, np.mean(members, axis=0), rtol=1e-12)


def test_data_init_puts_every_kink_on_a_sample_row():
    X, _ = _table(n=50)
    layers = [ScaledDense(9, bias_mult=0.1), ParametricActivation(), ScaledDense(1)]
    net = Network.from_layers(N_NUM, layers, "squared_error")
    params = net.init_params(np.random.default_rng(0))
    net.data_init(params, X[:, :N_NUM], np.random.default_rng(1))
    layer, (W, b) = net.layers[0], net.layer_views(params)[0]
    Z = layer.predict(X[:, :N_NUM], (W, b), NUMPY)
    # each unit is zero at one of the rows
    assert np.all(np.min(np.abs(Z), axis=0) < 1e-12)


@pytest.mark.parametrize("base", sorted(BASE_ACTIVATIONS))
def test_parametric_activation_starts_as_its_base(base):
    Z = np.linspace(-4, 4, 9)[None, :]
    layer = ParametricActivation(base)
    layer.build(9, np.float64)
    (spec,) = layer.params()
    a = spec.init(None, spec.shape)
    g, _ = BASE_ACTIVATIONS[base]
    np.testing.assert_allclose(layer.predict(Z, [a], NUMPY), g(Z))


def test_unknown_codes_take_the_unknown_slot():
    layer = CategoricalEmbedding([3], dim=2)
    layer.build(2, np.float64)
    E = np.arange(6.0).reshape(3, 2)
    out = layer.predict(np.array([[1.5, 7.0], [2.0, -1.0], [0.0, 2.0]]), [E], NUMPY)
    # codes beyond the table (or negative) read row 0, the unknown slot
    np.testing.assert_array_equal(out[:, 1:], [E[0], E[0], E[2]])
    np.testing.assert_array_equal(out[:, 0], [1.5, 2.0, 0.0])


def test_tabular_network_trains():
    X, target = _table(n=300)
    Y = _targets("squared_error", target)
    net = _network("ensemble", "squared_error")
    params = net.init_params(np.random.default_rng(2))
    net.data_init(params, X, np.random.default_rng(3))
    config = LoopConfig(batch_size=32, max_iter=30, n_iter_no_change=1000)
    solver = StochasticSolver(AdamW(), Schedule("constant", 1e-2), config)
    solution = solver.solve(net, params, X, Y, np.random.default_rng(4))
    assert solution.usable
    curve = solution.state.loss_curve
    assert curve[-1] < 0.3 * curve[0]


@pytest.mark.skipif(not _fused.AVAILABLE, reason="needs numba")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("learnable", [True, False])
@pytest.mark.parametrize("base", sorted(BASE_ACTIVATIONS))
def test_parametric_kernels_agree_with_numpy(base, learnable, dtype):
    X, target = _table(n=40)
    Y = _targets("squared_error", target).astype(dtype)
    act = ParametricActivation(base, learnable)
    layers = [ScaledDense(9, 0.1), act, ScaledDense(2)]
    net = Network.from_layers(N_IN, layers, "squared_error", dtype=dtype)
    rng = np.random.default_rng(0)
    params = _perturb(net, net.init_params(rng), rng).astype(dtype)
    X = X.astype(dtype)
    out = {}
    for backend in (NUMPY, NUMBA):
        grad = np.empty_like(params)
        loss = net.loss_grad(params, X, Y, grad, backend=backend)
        out[backend.name] = (loss, grad)
    rtol = 1e-4 if dtype == np.float32 else 1e-10
    assert out["numba"][0] == pytest.approx(out["numpy"][0], rel=rtol)
    np.testing.assert_allclose(out["numba"][1], out["numpy"][1], rtol=rtol, atol=rtol)


def test_piecewise_basis_is_the_crossed_share_of_each_bin():
    layer = PiecewiseLinearEmbedding([[0.0, 1.0, 3.0], [-1.0, 1.0]], dim=1)
    net = Network.from_layers(2, [layer, Dense(1)], "squared_error")
    params = net.init_params(np.random.default_rng(0))
    X = np.array([[-0.5, 0.0], [0.5, 2.0], [2.0, -3.0], [9.0, 0.5]])
    _, _, H = layer._embed(X, net.layer_views(params)[0], np.empty((4, 4)), NUMPY)
    expected = [
        [[0.0, 0.0], [0.5, 0.0], [1.0, 0.5], [1.0, 1.0]],  # column 0, two bins
        [[0.5, 0.0], [1.0, 0.0], [0.0, 0.0], [0.75, 0.0]],  # column 1, one padded
    ]
    np.testing.assert_allclose(H, expected)


@pytest.mark.parametrize(
    "edges", [[[0.0, 0.0, 1.0]], [[1.0, 0.5]], [[0.0, np.inf]], [[np.nan, 1.0]]]
)
def test_piecewise_edges_must_increase(edges):
    with pytest.raises(ValueError, match="bin edges must be finite and increasing"):
        PiecewiseLinearEmbedding(edges)


def test_piecewise_padded_bins_get_no_gradient():
    X, target = _table()
    net = _network("piecewise", "squared_error")
    params = _perturb(
        net, net.init_params(np.random.default_rng(0)), np.random.default_rng(1)
    )
    grad = np.empty_like(params)
    net.loss_grad(params, X, _targets("squared_error", target), grad)
    gV = net.layer_views(grad)[1][0]  # (3 columns, 3 bins, dim 2)
    assert np.all(gV[1, 2] == 0) and np.all(gV[2] == 0)
    assert np.all(gV[0] != 0) and np.all(gV[1, :2] != 0)
