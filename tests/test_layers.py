"""The layer protocol, proved by a layer defined here, outside the package."""

from types import SimpleNamespace

import numpy as np
import pytest

from sknn._core.callbacks import StopReason
from sknn._core.layers import Dense, Dropout, Layer, ParamSpec
from sknn._core.network import Network
from sknn._core.optimizers import Adam, Schedule
from sknn._core.solvers import StochasticSolver
from sknn._core.training import LoopConfig


class FeatureScale(Layer):
    """A learnable per-feature scale ``A * s``, not decayed, starting at 1."""

    def build(self, n_in, dtype):
        self.n_in, self.dtype = n_in, np.dtype(dtype)
        return n_in

    def params(self):
        return [ParamSpec("s", (self.n_in,), False, lambda rng, shape: np.ones(shape))]

    def workspace(self, capacity, need_input_grad):
        return SimpleNamespace(
            out=np.empty((capacity, self.n_in), self.dtype),
            dX=np.empty((capacity, self.n_in), self.dtype),
            A_in=None,
        )

    def forward(self, A, P, buf, n, backend):
        (s,) = P
        buf.A_in = A
        return np.multiply(A, s, out=buf.out[:n])

    def backward(self, dA, P, G, buf, n, need_input_grad, backend):
        (s,), (gs,) = P, G
        np.add.reduce(dA * buf.A_in, axis=0, out=gs)
        if not need_input_grad:
            return None
        return np.multiply(dA, s, out=buf.dX[:n])

    def predict(self, A, P, backend):
        return A * P[0]


def _net(loss="squared_error", dropout=0.0):
    layers = [FeatureScale(), Dense(6, "tanh"), Dropout(dropout), Dense(2)]
    return Network.from_layers(4, layers, loss)


def _data(n=20, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    Y = np.column_stack([X[:, 0] * 2.0 - X[:, 1], np.sin(X[:, 2])])
    return X, Y


def test_layout_puts_decayed_parameters_first():
    net = _net()
    assert net.n_coefs == 4 * 6 + 6 * 2  # the two weight matrices
    assert net.n_params == net.n_coefs + 4 + 6 + 2  # then scale and biases
    params = net.init_params(np.random.default_rng(0))
    views = net.layer_views(params)
    np.testing.assert_array_equal(views[0][0], np.ones(4))  # the scale's init
    assert np.shares_memory(views[0][0], params[net.n_coefs :])
    coefs, intercepts = net.unpack(params)
    assert [c.shape for c in coefs] == [(4, 6), (6, 2)]
    assert [b.shape for b in intercepts] == [(6,), (2,)]
    with pytest.raises(ValueError, match="all dense"):
        net.pack(coefs, intercepts)


@pytest.mark.parametrize("alpha", [0.0, 0.3])
def test_external_layer_passes_the_finite_difference_check(kernels, alpha):
    net = _net()
    X, Y = _data()
    params = net.init_params(np.random.default_rng(1))
    params[net.n_coefs : net.n_coefs + 4] = [0.5, 1.5, -0.7, 1.1]  # a real scale
    grad = np.empty_like(params)
    net.loss_grad(params, X, Y, grad, alpha=alpha)
    h = 1e-6
    numeric = np.empty_like(params)
    scratch = np.empty_like(params)
    for i in range(params.size):
        step = np.zeros_like(params)
        step[i] = h
        up = net.loss_grad(params + step, X, Y, scratch, alpha=alpha)
        down = net.loss_grad(params - step, X, Y, scratch, alpha=alpha)
        numeric[i] = (up - down) / (2 * h)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)
    # the penalty acts on the weights only: the scale's gradient ignores alpha
    plain = np.empty_like(params)
    net.loss_grad(params, X, Y, plain)
    s = slice(net.n_coefs, net.n_coefs + 4)
    np.testing.assert_allclose(grad[s], plain[s], rtol=1e-12)


def test_external_layer_trains_with_a_solver(kernels):
    net = _net(dropout=0.1)
    X, Y = _data(n=200)
    params = net.init_params(np.random.default_rng(2))
    config = LoopConfig(batch_size=32, max_iter=60, n_iter_no_change=1000)
    solver = StochasticSolver(Adam(), Schedule("constant", 1e-2), config)
    solution = solver.solve(net, params, X, Y, np.random.default_rng(3))
    assert solution.usable and solution.reason is StopReason.MAX_ITER
    curve = solution.state.loss_curve
    assert curve[-1] < 0.5 * curve[0]
    scale = net.layer_views(params)[0][0]
    assert not np.allclose(scale, 1.0)  # the scale learned
    # evaluation runs every layer, drops nothing and matches training's pass
    P = net.predict(params, X)
    assert P.shape == (200, 2) and np.isfinite(P).all()


def test_dropout_layers_draw_one_mask_each():
    net = Network.from_layers(
        3, [Dense(5, "relu"), Dropout(0.5), Dense(4, "relu"), Dropout(0.0), Dense(1)],
        "squared_error",
    )  # fmt: skip
    assert net.dropout == [0.5, 0.0]
    masks = net.draw_masks(np.random.default_rng(0), 7)
    assert masks[0].shape == (7, 5) and masks[1] is None
    assert set(np.unique(masks[0])) <= {0.0, 2.0}


def test_a_network_ends_with_a_linear_dense_layer():
    with pytest.raises(ValueError, match="linear Dense"):
        Network.from_layers(3, [Dense(2, "relu")], "squared_error")
    with pytest.raises(ValueError, match="linear Dense"):
        Network.from_layers(3, [Dense(2), FeatureScale()], "squared_error")


def test_the_sklearn_network_is_dense_and_dropout_layers():
    # a dropout rate of 0 adds no layer; its mask slot stays None
    net = Network([3, 5, 4, 2], "relu", "log_loss", dropout=[0.2, 0.0])
    kinds = [(type(lay).__name__, getattr(lay, "units", None)) for lay in net.layers]
    assert kinds == [("Dense", 5), ("Dropout", None), ("Dense", 4), ("Dense", 2)]
    assert net.layers[-1].activation is None
    assert net.dropout == [0.2, 0.0]
    masks = net.draw_masks(np.random.default_rng(0), 3)
    assert masks[0].shape == (3, 5) and masks[1] is None
