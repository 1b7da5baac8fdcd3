"""The solver objects: state across calls, the finiteness policy, best weights."""

import numpy as np
import pytest

from sknn._core.network import Network
from sknn._core.optimizers import SGD, Adam, Schedule
from sknn._core.solvers import LBFGSSolver, StochasticSolver, StopReason
from sknn._core.training import LoopConfig


def _problem(n=64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    Y = (X @ np.array([[1.0], [-2.0], [0.5]])) + 0.1 * rng.normal(size=(n, 1))
    net = Network([3, 8, 1], "tanh", "squared_error")
    return net, net.init_params(np.random.default_rng(seed)), X, Y


def _solver(max_iter=5, lr=1e-2, incremental=False, validate=None, callbacks=()):
    config = LoopConfig(
        batch_size=16, max_iter=max_iter, n_iter_no_change=100, incremental=incremental
    )
    return StochasticSolver(
        Adam(), Schedule("constant", lr), config, validate, callbacks
    )


def test_first_call_makes_a_state_and_trains():
    net, params, X, Y = _problem()
    before = params.copy()
    solution = _solver().solve(net, params, X, Y, np.random.default_rng(0))
    assert solution.usable and solution.reason is StopReason.MAX_ITER
    assert solution.n_iter == 5 == len(solution.state.loss_curve)
    assert solution.loss == solution.state.loss_curve[-1]
    assert solution.state.t == 5 * len(X)
    assert not np.array_equal(params, before)


def test_warm_restart_keeps_curves_and_clock_but_restarts_the_optimizer():
    net, params, X, Y = _problem()
    first = _solver().solve(net, params, X, Y, np.random.default_rng(0))
    old_opt_state = first.state.opt_state
    second = _solver(max_iter=3).solve(
        net, params, X, Y, np.random.default_rng(1), state=first.state
    )
    assert second.state is first.state
    assert second.n_iter == 3
    assert len(second.state.loss_curve) == 8
    assert second.state.t == 8 * len(X)
    assert second.state.opt_state is not old_opt_state


def test_incremental_call_continues_the_optimizer_state():
    net, params, X, Y = _problem()
    solver = _solver(incremental=True)
    first = solver.solve(net, params, X, Y, np.random.default_rng(0))
    opt_state = first.state.opt_state
    second = _solver(incremental=True).solve(
        net, params, X, Y, np.random.default_rng(0), state=first.state
    )
    assert first.reason is StopReason.EPOCH and second.n_iter == 1
    assert second.state.opt_state is opt_state


def _scores(values):
    it = iter(values)
    return lambda params: (next(it), 0.0)


def test_best_validation_weights_are_restored():
    net, params, X, Y = _problem()
    seen = []

    def record(rec):
        seen.append(params.copy())

    solver = _solver(max_iter=4, validate=_scores([0.1, 0.9, 0.3, 0.2]))
    solver.callbacks = [record]
    solution = solver.solve(net, params, X, Y, np.random.default_rng(0))
    assert solution.usable
    np.testing.assert_array_equal(params, seen[1])  # the 0.9 epoch
    assert solution.state.best_validation_score == 0.9


def _diverging(validate=None, later=False):
    net, params, X, Y = _problem()
    lr = 1e-2 if later else 1e300
    config = LoopConfig(batch_size=16, max_iter=6, n_iter_no_change=100)
    callbacks = []
    schedule = Schedule("constant", lr)
    if later:  # fine for two epochs, then a rate that overflows the weights

        def blow_up(record):
            if record["epoch"] == 2:
                schedule.lr = 1e300

        callbacks = [blow_up]
    solver = StochasticSolver(SGD(0.0, False), schedule, config, validate, callbacks)
    return solver.solve(net, params, X * 1e3, Y, np.random.default_rng(0)), params


def test_divergence_without_validation_is_not_usable():
    solution, params = _diverging()
    assert solution.reason is StopReason.DIVERGED
    assert not solution.usable and solution.state is None
    assert np.isfinite(params).all()  # the loop still never leaves NaN weights


def test_divergence_after_a_kept_validation_epoch_is_usable():
    solution, params = _diverging(_scores([0.5, 0.7] + [0.0] * 4), later=True)
    assert solution.reason is StopReason.DIVERGED and solution.usable
    assert np.isnan(solution.state.validation_scores[-1])
    assert solution.state.best_validation_score == 0.7
    np.testing.assert_array_equal(params, solution.state.best_params)


def test_lbfgs_converges_or_reports_its_budget():
    net, params, X, Y = _problem()
    converged = LBFGSSolver(max_iter=5000, tol=1e-3).solve(net, params.copy(), X, Y)
    assert converged.reason is StopReason.CONVERGED and converged.status == 0
    short = LBFGSSolver(max_iter=2, tol=0.0).solve(net, params, X, Y)
    assert short.reason is StopReason.MAX_ITER and short.status == 1
    assert short.n_iter == 2 and short.usable
    assert "ITERATIONS" in short.message
    assert short.loss > converged.loss


def test_lbfgs_non_finite_objective_is_not_usable():
    net, params, X, Y = _problem()
    solution = LBFGSSolver(max_iter=5).solve(net, params, X * 1e300, Y * 1e300)
    assert not solution.usable
    assert solution.reason is StopReason.DIVERGED


@pytest.mark.parametrize("reason", list(StopReason))
def test_stop_reasons_compare_to_their_names(reason):
    assert reason == reason.value and isinstance(reason, str)
