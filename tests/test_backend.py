"""The element-wise backend: chosen once per fit and passed down."""

import numpy as np
import pytest

from sknn._core import _fused, solvers
from sknn._core.backend import NUMBA, NUMPY, current
from sknn._core.network import Network
from sknn._core.optimizers import Adam, Schedule
from sknn._core.training import LoopConfig


def test_current_follows_the_kernel_switch():
    with _fused.use(False):
        assert current() is NUMPY
    if _fused.AVAILABLE:
        with _fused.use(True):
            assert current() is NUMBA


def test_numpy_backend_offers_no_kernels():
    assert not NUMPY.compiled
    assert NUMPY.bias_forward == NUMPY.backward == NUMPY.output == NUMPY.steps == {}
    assert NUMBA.compiled and set(NUMBA.steps) == {"sgd", "adam", "rmsprop"}


@pytest.mark.parametrize("be", [NUMPY, NUMBA], ids=["numpy", "numba"])
def test_take_rows_and_axpy(be):
    if be is NUMBA and not _fused.AVAILABLE:
        pytest.skip("Numba is not installed")
    A = np.arange(12.0).reshape(4, 3)
    out = np.empty((2, 3))
    assert be.take_rows(A, np.array([3, 1]), out) is out
    np.testing.assert_array_equal(out, A[[3, 1]])
    y = np.ones(3)
    be.axpy(2.0, np.arange(3.0), y, np.empty(3))
    np.testing.assert_array_equal(y, [1.0, 3.0, 5.0])
    with be.quiet():
        assert np.isinf(np.float64(1e308) * 10)


def test_a_solve_chooses_the_backend_once_and_passes_it_down(monkeypatch):
    chosen = []

    def choose(X):
        chosen.append(NUMPY)
        return NUMPY

    monkeypatch.setattr(solvers, "for_arrays", choose)
    seen = []
    original = Network.loss_grad

    def spy(self, *args, **kwargs):
        seen.append(kwargs.get("backend"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Network, "loss_grad", spy)
    net = Network([3, 4, 1], "relu", "squared_error")
    params = net.init_params(np.random.default_rng(0))
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(32, 3)), rng.normal(size=(32, 1))
    config = LoopConfig(batch_size=8, max_iter=3, n_iter_no_change=100)
    solver = solvers.StochasticSolver(Adam(), Schedule("constant", 1e-2), config)
    solver.solve(net, params, X, Y, rng)
    assert len(chosen) == 1
    assert len(seen) == 12 and all(b is NUMPY for b in seen)  # 3 epochs x 4
