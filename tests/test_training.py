"""Tests of sknn._core.training: the minibatch loop, its stops, and L-BFGS."""

import math

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse as sp
from _common import RECORD_KEYS, moving_averages

from sknn._core.backend import current
from sknn._core.network import Network
from sknn._core.optimizers import SGD, Adam, AdamW, RMSprop, Schedule
from sknn._core.training import (
    LoopConfig,
    TrainState,
    WeightAverage,
    _clip_norm,
    fit_lbfgs,
    fit_stochastic,
)


def _data(n=64, seed=0, loss="squared_error"):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 3))
    if loss == "squared_error":
        Y = (np.sin(2 * X[:, :1]) + X[:, 1:2] * X[:, 2:3]) + 0.01 * rng.standard_normal(
            (n, 1)
        )
    else:
        labels = (X[:, 0] + X[:, 1] ** 2 > 0.3).astype(int)
        Y = np.eye(2)[labels]
    return X, Y


def _setup(
    optimizer=None,
    *,
    lr=1e-2,
    kind="constant",
    validating=False,
    loss="squared_error",
    dropout=None,
    n=64,
    init_seed=0,
    hidden=(8,),
):
    X, Y = _data(n, loss=loss)
    units = [X.shape[1], *hidden, Y.shape[1]]
    net = Network(units, "tanh", loss, dropout=dropout)
    params = net.init_params(np.random.default_rng(init_seed))
    opt = optimizer if optimizer is not None else Adam()
    state = TrainState(
        opt_state=opt.init(params),
        schedule=Schedule(kind, lr),
        validating=validating,
    )
    return net, params, opt, X, Y, state


def _args(net, params, opt, X, Y, state, cfg, seed=0):
    """Positional arguments of ``fit_stochastic`` with a seeded generator."""
    return net, params, opt, X, Y, state, cfg, np.random.default_rng(seed)


def _scores(seq):
    """A validate function returning a predefined sequence of scores."""
    it = iter(seq)

    def validate(params):
        score = next(it)
        return score, -score

    return validate


# ------------------------------------------------------------ basic behaviour
@pytest.mark.parametrize(
    "opt",
    [Adam(), AdamW(n_decay=5), SGD(0.9, True), RMSprop()],
    ids=["adam", "adamw", "sgd", "rmsprop"],
)
def test_loss_decreases(opt):
    net, params, opt, X, Y, state = _setup(opt, lr=1e-2)
    p0 = params.copy()
    cfg = LoopConfig(batch_size=16, max_iter=40, n_iter_no_change=100)
    res = fit_stochastic(net, params, opt, X, Y, state, cfg, np.random.default_rng(0))
    assert res.reason == "max_iter"
    assert res.message == ""
    assert state.n_iter == 40
    assert state.t == 40 * len(X)
    assert len(state.loss_curve) == 40
    assert state.loss_curve[-1] < 0.5 * state.loss_curve[0]
    # the recorded loss really is the training objective
    final = net.loss_grad(params, X, Y, np.empty_like(params))
    assert final < net.loss_grad(p0, X, Y, np.empty_like(params))
    assert state.best_loss == min(state.loss_curve)
    assert state.best_params is None  # only kept when validating
    assert state.validation_scores is None


def test_epoch_loss_is_objective_before_the_full_batch_step():
    # one full batch, no shuffle, plain SGD: the loop is one gradient step
    net, params, _, X, Y, state = _setup()
    opt = SGD(momentum=0.0, nesterov=False)
    state.opt_state = opt.init(params)
    p0 = params.copy()
    g = np.empty_like(params)
    L0 = net.loss_grad(p0, X, Y, g, alpha=0.05)
    cfg = LoopConfig(batch_size=len(X), max_iter=1, shuffle=False, alpha=0.05)
    fit_stochastic(net, params, opt, X, Y, state, cfg, np.random.default_rng(0))
    assert state.loss_curve[0] == pytest.approx(L0, rel=1e-12)
    np.testing.assert_allclose(params, p0 - 1e-2 * g, rtol=1e-12, atol=1e-15)


def test_minibatches_in_order_without_shuffle():
    net, params, _, X, Y, state = _setup(n=50)
    opt = SGD(momentum=0.0, nesterov=False)
    state.opt_state = opt.init(params)
    expected = params.copy()
    g = np.empty_like(params)
    total = 0.0
    for start in range(0, 50, 16):  # batches of 16, 16, 16, 2
        Xb, Yb = X[start : start + 16], Y[start : start + 16]
        total += net.loss_grad(expected, Xb, Yb, g) * len(Xb)
        expected -= 1e-2 * g
    cfg = LoopConfig(batch_size=16, max_iter=1, shuffle=False)
    fit_stochastic(net, params, opt, X, Y, state, cfg, np.random.default_rng(0))
    np.testing.assert_allclose(params, expected, rtol=1e-12, atol=1e-15)
    assert state.loss_curve[0] == pytest.approx(total / 50, rel=1e-12)


def test_sample_weight_two_equals_duplicated_rows():
    net, p1, _, X, Y, s1 = _setup(n=20)
    opt = SGD(momentum=0.0, nesterov=False)
    s1.opt_state = opt.init(p1)
    p2 = p1.copy()
    s2 = TrainState(opt_state=opt.init(p2), schedule=Schedule("constant", 1e-2))
    w = np.ones(20)
    dup = [2, 7, 11]
    w[dup] = 2.0
    Xd, Yd = np.vstack([X, X[dup]]), np.vstack([Y, Y[dup]])
    rng = np.random.default_rng(0)
    fit_stochastic(
        net, p1, opt, X, Y, s1, LoopConfig(20, 3, shuffle=False), rng, sample_weight=w
    )
    fit_stochastic(net, p2, opt, Xd, Yd, s2, LoopConfig(23, 3, shuffle=False), rng)
    np.testing.assert_allclose(p1, p2, rtol=1e-12, atol=1e-15)


def test_sparse_input_matches_dense():
    net, p1, opt, X, Y, s1 = _setup()
    p2 = p1.copy()
    s2 = TrainState(opt_state=opt.init(p2), schedule=Schedule("constant", 1e-2))
    cfg = LoopConfig(batch_size=10, max_iter=3)
    fit_stochastic(net, p1, opt, X, Y, s1, cfg, np.random.default_rng(5))
    fit_stochastic(net, p2, opt, sp.csr_matrix(X), Y, s2, cfg, np.random.default_rng(5))
    np.testing.assert_allclose(p1, p2, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(s1.loss_curve, s2.loss_curve, rtol=1e-10)


# ------------------------------------------------------------ early stopping
@pytest.mark.parametrize("n_iter_no_change", [1, 2, 4])
def test_best_params_and_convergence_with_validation(n_iter_no_change):
    net, params, opt, X, Y, state = _setup(validating=True)
    peak = 3
    scores = [0.1, 0.2, 0.5] + [0.4, 0.3, 0.45, 0.2, 0.1, 0.05, 0.0] + [0.0] * 20
    snapshots = {}

    def record(rec):
        snapshots[rec["epoch"]] = params.copy()

    cfg = LoopConfig(batch_size=16, max_iter=30, n_iter_no_change=n_iter_no_change)
    res = fit_stochastic(
        *_args(net, params, opt, X, Y, state, cfg),
        validate=_scores(scores),
        callbacks=[record],
    )
    assert res.reason == "converged"
    assert "did not improve" in res.message
    assert "Validation score" in res.message
    assert state.n_iter == peak + n_iter_no_change + 1
    assert state.validation_scores == scores[: state.n_iter]
    assert state.best_validation_score == 0.5
    assert state.best_loss is None
    np.testing.assert_array_equal(state.best_params, snapshots[peak])
    assert not np.array_equal(state.best_params, params)
    assert state.best_params is not params
    assert [r["val_score"] for r in state.history] == scores[: state.n_iter]
    assert [r["val_loss"] for r in state.history] == [
        -s for s in scores[: state.n_iter]
    ]


def test_validate_receives_current_params():
    net, params, opt, X, Y, state = _setup(validating=True)
    seen = []

    def validate(p):
        seen.append(p.copy())
        return -float(np.sum(p**2)), 0.0

    after = []
    cfg = LoopConfig(batch_size=16, max_iter=3, n_iter_no_change=100)
    fit_stochastic(
        *_args(net, params, opt, X, Y, state, cfg),
        validate=validate,
        callbacks=[lambda r: after.append(params.copy())],
    )
    assert len(seen) == 3
    for a, b in zip(seen, after):
        np.testing.assert_array_equal(a, b)


def test_small_improvements_below_tol_count_as_stall():
    net, params, opt, X, Y, state = _setup(validating=True)
    scores = [0.5, 0.50001, 0.50002, 0.50003, 0.50004, 0.9, 0.9]
    snapshots = {}
    cfg = LoopConfig(batch_size=32, max_iter=20, tol=1e-3, n_iter_no_change=2)
    res = fit_stochastic(
        *_args(net, params, opt, X, Y, state, cfg),
        validate=_scores(scores),
        callbacks=[lambda r: snapshots.__setitem__(r["epoch"], params.copy())],
    )
    # epochs 2, 3, 4 improve by less than tol: the count reaches 3 > 2
    assert res.reason == "converged"
    assert state.n_iter == 4
    # the best parameters still follow the highest score
    assert state.best_validation_score == 0.50003
    np.testing.assert_array_equal(state.best_params, snapshots[4])


def test_training_loss_plateau_converges_without_validation():
    net, params, _, X, Y, state = _setup(lr=0.0)
    opt = SGD(0.0, False)
    state.opt_state = opt.init(params)
    cfg = LoopConfig(batch_size=64, max_iter=50, n_iter_no_change=3, shuffle=False)
    res = fit_stochastic(net, params, opt, X, Y, state, cfg, np.random.default_rng(0))
    # lr = 0: the loss never improves after epoch 1
    assert res.reason == "converged"
    assert "Training loss" in res.message
    assert state.n_iter == 1 + 3 + 1


def test_adaptive_schedule_lowers_lr_instead_of_stopping():
    net, params, opt, X, Y, state = _setup(kind="adaptive", lr=1e-2, validating=True)
    scores = [1.0] + [0.5] * 20
    cfg = LoopConfig(batch_size=32, max_iter=10, n_iter_no_change=1)
    res = fit_stochastic(
        *_args(net, params, opt, X, Y, state, cfg),
        validate=_scores(scores),
    )
    assert res.reason == "max_iter"
    assert state.n_iter == 10
    # stalls after epochs 3, 5, 7 and 9 each divide the rate by 5
    lrs = [r["learning_rate"] for r in state.history]
    expected = [1e-2] * 3 + [2e-3] * 2 + [4e-4] * 2 + [8e-5] * 2 + [1.6e-5]
    np.testing.assert_allclose(lrs, expected, rtol=1e-12)
    assert state.schedule.lr == pytest.approx(1e-2 / 5**4)


def test_adaptive_schedule_stops_at_minimum_rate():
    net, params, opt, X, Y, state = _setup(kind="adaptive", lr=1e-6, validating=True)
    cfg = LoopConfig(batch_size=32, max_iter=10, n_iter_no_change=1)
    res = fit_stochastic(
        *_args(net, params, opt, X, Y, state, cfg),
        validate=_scores([1.0] + [0.5] * 20),
    )
    assert res.reason == "converged"
    assert state.n_iter == 3
    assert state.schedule.lr == 1e-6


@pytest.mark.parametrize("kind", ["invscaling", "cosine"])
def test_schedule_advanced_each_epoch(kind):
    net, params, opt, X, Y, state = _setup(kind=kind, lr=0.05)
    state.schedule.max_iter = 5
    state.schedule.power_t = 0.5
    cfg = LoopConfig(batch_size=16, max_iter=5, n_iter_no_change=100)
    fit_stochastic(net, params, opt, X, Y, state, cfg, np.random.default_rng(0))
    lrs = [r["learning_rate"] for r in state.history]
    if kind == "invscaling":
        expected = [0.05] + [0.05 / (64 * e + 1) ** 0.5 for e in range(1, 5)]
        final = 0.05 / (64 * 5 + 1) ** 0.5
    else:
        expected = [0.5 * 0.05 * (1 + math.cos(math.pi * e / 5)) for e in range(5)]
        final = 0.0
    np.testing.assert_allclose(lrs, expected, rtol=1e-12)
    assert state.schedule.lr == pytest.approx(final, abs=1e-15)


# ------------------------------------------------------------ callbacks
def test_callback_records():
    net, params, opt, X, Y, state = _setup(validating=True)
    records = []
    cfg = LoopConfig(batch_size=16, max_iter=4, n_iter_no_change=100)
    fit_stochastic(
        *_args(net, params, opt, X, Y, state, cfg),
        validate=_scores([0.1, 0.2, 0.3, 0.4]),
        callbacks=[records.append],
    )
    assert len(records) == 4
    for i, rec in enumerate(records, start=1):
        assert set(rec) == RECORD_KEYS
        assert rec["epoch"] == i
        assert rec["train_loss"] == state.loss_curve[i - 1]
        assert rec["val_score"] == pytest.approx(0.1 * i)
        assert rec["val_loss"] == pytest.approx(-0.1 * i)
        assert rec["learning_rate"] == 1e-2
        assert rec["seconds"] >= 0.0
    assert state.history == records


def test_callback_records_without_validation():
    net, params, opt, X, Y, state = _setup()
    records = []
    fit_stochastic(
        net,
        params,
        opt,
        X,
        Y,
        state,
        LoopConfig(16, 2),
        np.random.default_rng(0),
        callbacks=[records.append],
    )
    assert [set(r) for r in records] == [RECORD_KEYS] * 2
    assert all(r["val_score"] is None and r["val_loss"] is None for r in records)


def _fit_until_stopped(net, params, opt, X, Y, state, callbacks):
    """Up to 50 epochs that neither converge nor plateau: only ``callbacks``
    (or an interrupt raised by one) can end the fit early."""
    return fit_stochastic(
        net,
        params,
        opt,
        X,
        Y,
        state,
        LoopConfig(16, 50, n_iter_no_change=100),
        np.random.default_rng(0),
        callbacks=callbacks,
    )


def test_callback_returning_true_stops():
    net, params, opt, X, Y, state = _setup()
    calls = {"a": 0, "b": 0}

    def a(rec):
        calls["a"] += 1
        return rec["epoch"] == 2

    def b(rec):  # every callback still runs in the stopping epoch
        calls["b"] += 1
        return None

    res = _fit_until_stopped(net, params, opt, X, Y, state, [a, b])
    assert res.reason == "callback"
    assert res.message
    assert state.n_iter == 2
    assert calls == {"a": 2, "b": 2}


def test_incremental_runs_one_epoch():
    net, params, opt, X, Y, state = _setup()
    cfg = LoopConfig(batch_size=16, max_iter=50, incremental=True)
    res = fit_stochastic(net, params, opt, X, Y, state, cfg, np.random.default_rng(0))
    assert res.reason == "epoch"
    assert state.n_iter == 1
    assert len(state.loss_curve) == 1
    assert state.t == len(X)
    res = fit_stochastic(net, params, opt, X, Y, state, cfg, np.random.default_rng(1))
    assert res.reason == "epoch"
    # a second call runs one more epoch (whether n_iter counts per call or in
    # total is the estimator's business; the samples seen accumulate)
    assert state.n_iter in (1, 2)
    assert len(state.loss_curve) == 2
    assert len(state.history) == 2
    assert state.t == 2 * len(X)


# ------------------------------------------------------------ divergence, interrupt
class _Recording:
    """Wraps an optimizer and keeps a copy of the parameters after each step."""

    def __init__(self, opt):
        self.opt = opt
        self.after = []

    def init(self, params):
        return self.opt.init(params)

    def step(self, params, grad, state, lr, l2=None, backend=None):
        self.opt.step(params, grad, state, lr, l2=l2, backend=backend)
        self.after.append(params.copy())


def _diverge(later, ema_decay=None):
    """Train until divergence; return what the checks need."""
    if later:
        # a rate that is fine at first and then grows without bound
        net, params, _, X, Y, state = _setup(lr=1e-3)
        X = X * 100.0
        opt = _Recording(SGD(0.0, False))
    else:
        net, params, _, X, Y, state = _setup(lr=1e6)
        X = X * 1000.0  # unscaled inputs
        opt = _Recording(SGD(0.9, True))
    state.opt_state = opt.init(params)
    snapshots = [params.copy()]  # params after each completed epoch
    steps_done = [0]

    def record(rec):
        snapshots.append(params.copy())
        steps_done.append(len(opt.after))
        if later:
            state.schedule.lr *= 1e4

    cfg = LoopConfig(
        batch_size=8, max_iter=50, n_iter_no_change=100, ema_decay=ema_decay
    )
    res = fit_stochastic(
        *_args(net, params, opt, X, Y, state, cfg),
        callbacks=[record],
    )
    # finite parameter vectors reached by the steps of the diverging epoch
    finite_steps = [p for p in opt.after[steps_done[-1] :] if np.isfinite(p).all()]
    return res, params, state, snapshots, finite_steps


@pytest.mark.parametrize("later", [False, True], ids=["first_epoch", "later_epoch"])
def test_huge_learning_rate_diverges_with_finite_params(later):
    res, params, state, snapshots, finite_steps = _diverge(later)
    assert res.reason == "diverged"
    assert "diverged" in res.message
    assert np.isfinite(params).all()
    # the diverged epoch is recorded too, with a NaN loss (callbacks are not
    # called for it, so it has no snapshot)
    assert state.n_iter == len(snapshots)
    assert len(state.loss_curve) == len(state.history) == state.n_iter
    assert np.isfinite(state.loss_curve[:-1]).all()
    assert np.isnan(state.loss_curve[-1])
    assert np.isnan(state.history[-1]["train_loss"])
    assert state.history[-1]["val_score"] is None
    if later:
        assert state.n_iter >= 1
        assert not np.array_equal(params, snapshots[0])
    # the weights are either those from before the diverging epoch or those
    # of its last finite update; nothing else
    candidates = [snapshots[-1]] + finite_steps[-1:]
    assert any(np.array_equal(params, c) for c in candidates)


@pytest.mark.parametrize("ema_decay", [None, 0.9])
@pytest.mark.parametrize("later", [False, True], ids=["first_epoch", "later_epoch"])
def test_diverged_params_are_those_before_the_diverging_epoch(later, ema_decay):
    # The contract in the task brief: on divergence the loop restores the
    # parameters from before the diverging epoch (with a moving average too:
    # the average may hold the diverging steps, so it is dropped).
    res, params, state, snapshots, _ = _diverge(later, ema_decay)
    assert res.reason == "diverged"
    np.testing.assert_array_equal(params, snapshots[-1])


def test_step_that_overflows_the_weights_is_caught():
    # finite loss and gradient, but lr * grad overflows: the weights become
    # non-finite in the last (only) step of the epoch.  The loop must not
    # return non-finite weights.
    net, params, _, X, Y, state = _setup(lr=1e308)
    Y = Y * 1000.0  # large residuals: a gradient well above 2
    opt = SGD(0.0, False)
    state.opt_state = opt.init(params)
    p0 = params.copy()
    g = np.empty_like(params)
    assert np.isfinite(net.loss_grad(params, X, Y, g))
    assert np.isfinite(g).all() and np.abs(g).max() > 10  # 1e308 * g overflows
    cfg = LoopConfig(batch_size=len(X), max_iter=1, shuffle=False)
    res = fit_stochastic(net, params, opt, X, Y, state, cfg, np.random.default_rng(0))
    assert np.isfinite(params).all(), res
    assert res.reason == "diverged"
    np.testing.assert_array_equal(params, p0)
    assert state.n_iter == 1 and np.isnan(state.loss_curve[0])


def test_keyboard_interrupt_in_callback():
    net, params, opt, X, Y, state = _setup()

    def interrupt(rec):
        if rec["epoch"] == 2:
            raise KeyboardInterrupt

    res = _fit_until_stopped(net, params, opt, X, Y, state, [interrupt])
    assert res.reason == "interrupted"
    assert res.message
    assert np.isfinite(params).all()
    assert state.n_iter == 2


def test_keyboard_interrupt_in_validate():
    net, params, opt, X, Y, state = _setup(validating=True)

    def validate(p):
        raise KeyboardInterrupt

    res = fit_stochastic(
        net,
        params,
        opt,
        X,
        Y,
        state,
        LoopConfig(16, 5),
        np.random.default_rng(0),
        validate=validate,
    )
    assert res.reason == "interrupted"
    assert np.isfinite(params).all()


# ------------------------------------------------------------ reproducibility
def _run(seed, *, shuffle=True, dropout=None, init_seed=0, epochs=4):
    net, params, opt, X, Y, state = _setup(
        dropout=dropout, init_seed=init_seed, hidden=(8, 6), loss="log_loss"
    )
    assert net.dropout == (dropout or [0.0, 0.0])
    cfg = LoopConfig(
        batch_size=10, max_iter=epochs, shuffle=shuffle, n_iter_no_change=100
    )
    fit_stochastic(net, params, opt, X, Y, state, cfg, np.random.default_rng(seed))
    return params, state


@pytest.mark.parametrize("dropout", [None, [0.3, 0.2]])
def test_same_seed_bitwise_identical(dropout):
    p1, s1 = _run(7, dropout=dropout)
    p2, s2 = _run(7, dropout=dropout)
    p3, s3 = _run(8, dropout=dropout)
    assert np.array_equal(p1, p2)
    assert s1.loss_curve == s2.loss_curve
    assert not np.array_equal(p1, p3)
    assert s1.loss_curve != s3.loss_curve


def test_shuffle_false_is_deterministic_and_ignores_the_seed():
    p1, s1 = _run(1, shuffle=False)
    p2, s2 = _run(2, shuffle=False)
    assert np.array_equal(p1, p2)
    assert s1.loss_curve == s2.loss_curve
    p3, _ = _run(1, shuffle=True)
    assert not np.array_equal(p1, p3)


def test_dropout_changes_training():
    p1, _ = _run(3, dropout=None)
    p2, _ = _run(3, dropout=[0.5, 0.5])
    assert not np.array_equal(p1, p2)


# ------------------------------------------------------------ gradient clipping
def test_clip_norm_scales_large_gradient():
    g = np.array([3.0, 4.0, 0.0, -12.0])  # norm 13
    out = _clip_norm(g, 6.5)
    assert out == pytest.approx(13.0)
    np.testing.assert_allclose(g, [1.5, 2.0, 0.0, -6.0], rtol=1e-15)
    assert np.linalg.norm(g) == pytest.approx(6.5)


@pytest.mark.parametrize("max_norm", [13.0, 20.0])
def test_clip_norm_leaves_small_gradient(max_norm):
    g = np.array([3.0, 4.0, 0.0, -12.0])
    g0 = g.copy()
    assert _clip_norm(g, max_norm) == pytest.approx(13.0)
    np.testing.assert_array_equal(g, g0)


def test_clip_norm_float32_in_place():
    g = np.full(100, 10.0, dtype=np.float32)
    ref = g
    _clip_norm(g, 1.0)
    assert g is ref and g.dtype == np.float32
    assert np.linalg.norm(g.astype(np.float64)) == pytest.approx(1.0, rel=1e-6)


def test_max_grad_norm_in_loop():
    net, params, _, X, Y, state = _setup()
    opt = SGD(0.0, False)
    state.opt_state = opt.init(params)
    p0 = params.copy()
    g = np.empty_like(params)
    net.loss_grad(p0, X, Y, g)
    max_norm = 0.1 * np.linalg.norm(g)
    cfg = LoopConfig(
        batch_size=len(X), max_iter=1, shuffle=False, max_grad_norm=max_norm
    )
    fit_stochastic(net, params, opt, X, Y, state, cfg, np.random.default_rng(0))
    step = p0 - params
    assert np.linalg.norm(step) == pytest.approx(1e-2 * max_norm, rel=1e-10)
    np.testing.assert_allclose(
        step, 1e-2 * g * (max_norm / np.linalg.norm(g)), rtol=1e-9, atol=1e-16
    )
    # a bound larger than the norm changes nothing
    params2 = p0.copy()
    state2 = TrainState(
        opt_state=opt.init(params2), schedule=Schedule("constant", 1e-2)
    )
    cfg2 = LoopConfig(
        batch_size=len(X),
        max_iter=1,
        shuffle=False,
        max_grad_norm=10 * np.linalg.norm(g),
    )
    fit_stochastic(net, params2, opt, X, Y, state2, cfg2, np.random.default_rng(0))
    np.testing.assert_allclose(params2, p0 - 1e-2 * g, rtol=1e-12, atol=1e-15)


@pytest.mark.usefixtures("kernels")
@pytest.mark.parametrize("sample_weight", [False, True])
@pytest.mark.parametrize(
    "opt",
    [Adam(), AdamW(weight_decay=0.1, n_decay=40), SGD(0.9, True), RMSprop()],
    ids=["adam", "adamw", "sgd", "rmsprop"],
)
def test_l2_added_by_the_step_equals_l2_in_the_backward_pass(opt, sample_weight):
    # Without clipping the loop hands the L2 gradient to the optimizer step;
    # with a bound too large to ever clip, the backward pass adds it.  Both
    # must train to the same weights, bit for bit, and the same losses.
    runs = []
    for max_grad_norm in (None, 1e300):
        net, params, _, X, Y, state = _setup(opt, n=50)
        sw = np.linspace(0.5, 2.0, len(X)) if sample_weight else None
        cfg = LoopConfig(
            batch_size=16,
            max_iter=3,
            alpha=0.5,
            max_grad_norm=max_grad_norm,
            n_iter_no_change=10,
        )
        fit_stochastic(*_args(net, params, opt, X, Y, state, cfg), sample_weight=sw)
        runs.append((params, state.loss_curve))
    (deferred, curve1), (in_backward, curve2) = runs
    np.testing.assert_array_equal(deferred, in_backward)
    assert curve1 == curve2
    # and the penalty really acts: without it the weights differ
    net, params, _, X, Y, state = _setup(opt, n=50)
    cfg = LoopConfig(batch_size=16, max_iter=3, n_iter_no_change=10)
    fit_stochastic(*_args(net, params, opt, X, Y, state, cfg))
    assert np.abs(params - deferred)[: net.n_coefs].max() > 1e-6


# ------------------------------------------------------------ verbosity
@pytest.mark.parametrize("verbose", [True, 1, 10])
def test_verbose_prints_sklearn_lines(capsys, verbose):
    net, params, opt, X, Y, state = _setup(validating=True)
    cfg = LoopConfig(16, 3, n_iter_no_change=100, verbose=verbose)
    fit_stochastic(
        *_args(net, params, opt, X, Y, state, cfg),
        validate=_scores([0.1, 0.2, 0.3]),
    )
    out = capsys.readouterr().out
    lines = [ln for ln in out.splitlines() if ln.startswith("Iteration")]
    assert len(lines) == 3
    for i, (line, loss) in enumerate(zip(lines, state.loss_curve), start=1):
        assert line.startswith(f"Iteration {i}, loss = ")
        assert float(line.split("=")[1]) == pytest.approx(loss, abs=1e-8)
    assert out.count("Validation score:") == 3
    assert "\r" not in out


def test_verbose_zero_is_silent(capsys):
    net, params, opt, X, Y, state = _setup()
    fit_stochastic(
        net, params, opt, X, Y, state, LoopConfig(16, 3), np.random.default_rng(0)
    )
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


@pytest.mark.parametrize(
    "kind, last_line",
    [
        ("constant", "Stopping."),
        ("adaptive", "Learning rate too small. Stopping."),
    ],
)
def test_verbose_reports_stop_as_sklearn(capsys, kind, last_line):
    net, params, opt, X, Y, state = _setup(validating=True)
    state.schedule = Schedule(kind, 1e-3)
    fit_stochastic(
        net,
        params,
        opt,
        X,
        Y,
        state,
        LoopConfig(16, 100, n_iter_no_change=1, verbose=True),
        np.random.default_rng(0),
        validate=_scores([0.5] + [0.1] * 99),
    )
    lines = capsys.readouterr().out.splitlines()
    msg = (
        "Validation score did not improve more than tol=0.000100 for 1 "
        "consecutive epochs."
    )
    assert lines[-1] == f"{msg} {last_line}"
    if kind == "adaptive":
        # 1e-3 divided by 5 until at or below 1e-6, then the stop
        rates = [ln for ln in lines if "Setting learning rate to" in ln]
        assert len(rates) == 5
        assert rates[0] == f"{msg} Setting learning rate to 0.000200"


def test_progress_bar_plain_lines_in_a_non_interactive_stream(capsys):
    net, params, opt, X, Y, state = _setup(validating=True)
    fit_stochastic(
        *_args(
            net,
            params,
            opt,
            X,
            Y,
            state,
            LoopConfig(16, 25, n_iter_no_change=100, progress_bar=True),
        ),
        validate=_scores([0.5] * 25),
    )
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    # one line every ceil(25 / 10) = 3 epochs, and the last epoch
    assert [ln.split()[1] for ln in lines] == [
        f"{e}/25" for e in [3, 6, 9, 12, 15, 18, 21, 24, 25]
    ]
    assert all("loss=" in ln and "val_score=0.500000" in ln for ln in lines)
    assert all("eta=" in ln and "elapsed=" in ln for ln in lines)
    assert "\r" not in captured.err


def test_progress_bar_shows_the_last_epoch_of_an_early_stop(capsys):
    net, params, opt, X, Y, state = _setup()
    res = fit_stochastic(
        *_args(
            net,
            params,
            opt,
            X,
            Y,
            state,
            LoopConfig(16, 100, n_iter_no_change=100, progress_bar=True),
        ),
        callbacks=[lambda rec: rec["epoch"] == 13],
    )
    assert res.reason == "callback"
    lines = capsys.readouterr().err.splitlines()
    assert [ln.split()[1] for ln in lines] == [f"{e}/100" for e in (10, 13)]


# ------------------------------------------------------------ L-BFGS
@pytest.mark.parametrize("loss", ["squared_error", "log_loss"])
def test_fit_lbfgs_reduces_objective(loss):
    net, params, _, X, Y, _ = _setup(loss=loss)
    g = np.empty_like(params)
    sw = np.random.default_rng(1).uniform(0.5, 1.5, len(X))
    before = net.loss_grad(params, X, Y, g, sample_weight=sw, alpha=1e-3)
    res = fit_lbfgs(net, params, X, Y, sample_weight=sw, alpha=1e-3, max_iter=30)
    after = net.loss_grad(params, X, Y, g, sample_weight=sw, alpha=1e-3)
    assert isinstance(res, scipy.optimize.OptimizeResult)
    assert after < 0.5 * before
    assert res.nit <= 30
    assert res.fun == pytest.approx(after, rel=1e-10)
    np.testing.assert_array_equal(params, res.x)
    assert np.isfinite(params).all()


def test_fit_lbfgs_respects_max_iter_and_prints_nothing(capsys):
    # scikit-learn's MLP prints nothing from L-BFGS with SciPy >= 1.15
    net, params, _, X, Y, _ = _setup()
    res = fit_lbfgs(net, params, X, Y, max_iter=3, tol=0.0)
    assert res.nit <= 3
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_fit_lbfgs_float32():
    X, Y = _data()
    net = Network([3, 8, 1], "relu", "squared_error", dtype=np.float32)
    params = net.init_params(np.random.default_rng(0))
    g = np.empty_like(params)
    before = net.loss_grad(params, X.astype(np.float32), Y.astype(np.float32), g)
    res = fit_lbfgs(
        net, params, X.astype(np.float32), Y.astype(np.float32), max_iter=20
    )
    assert params.dtype == np.float32
    assert res.fun < before


def test_large_finite_gradient_is_clipped_not_taken_for_divergence():
    # inputs of 1e15 give a finite float32 loss (~1e30) and gradient entries
    # (~1e30) whose square norm overflows: with max_grad_norm each step is
    # clipped to that norm, and training goes on
    net, params, _, X, Y, state = _setup()
    net = Network([3, 4, 1], "identity", "squared_error", dtype=np.float32)
    params = net.init_params(np.random.default_rng(0))
    opt = SGD(0.0, False)
    state.opt_state = opt.init(params)
    X32 = (X * 1e15).astype(np.float32)
    Y32 = Y.astype(np.float32)
    g = np.empty_like(params)
    assert np.isfinite(net.loss_grad(params, X32[:8], Y32[:8], g))
    with np.errstate(over="ignore"):
        assert np.isfinite(g).all() and not np.isfinite(float(g @ g))
    p0 = params.copy()
    cfg = LoopConfig(batch_size=8, max_iter=1, shuffle=False, max_grad_norm=1.0)
    res = fit_stochastic(
        net, params, opt, X32, Y32, state, cfg, np.random.default_rng(0)
    )
    assert res.reason != "diverged"
    # each step moved the weights by exactly the learning rate (clipped norm 1)
    assert np.isfinite(params).all()
    assert np.linalg.norm(params - p0) <= state.schedule.lr * len(X32) / 8 + 1e-6
    assert not np.array_equal(params, p0)


def test_norm_of_a_gradient_whose_square_overflows():
    from sknn._core.training import _clip_norm

    g = np.array([3e30, 4e30], dtype=np.float32)
    with np.errstate(over="ignore"):  # as inside the training loop
        assert _clip_norm(g, 1.0) == pytest.approx(5e30, rel=1e-6)
    np.testing.assert_allclose(g, [0.6, 0.8], rtol=1e-6)


def test_weight_average_follows_its_recurrence():
    rng = np.random.default_rng(0)
    trajectory = [rng.standard_normal(50) for _ in range(30)]
    params = trajectory[0].copy()
    average = WeightAverage(0.9, params, current())
    for p, expected in zip(trajectory[1:], moving_averages(trajectory, 0.9)):
        params[...] = p
        average.update(params, current())
        np.testing.assert_allclose(average.params, expected, rtol=1e-12, atol=1e-15)
    assert average.steps == 29
    # the warm-up: the first step keeps a tenth of the start, then the decay
    # rises to 0.9 at step 80 (never reached here, so d < 0.9 throughout)
    first = WeightAverage(0.9, trajectory[0], current())
    first.update(trajectory[1], current())
    np.testing.assert_allclose(
        first.params, 0.1 * trajectory[0] + 0.9 * trajectory[1], rtol=1e-12
    )
    assert not np.shares_memory(first.params, trajectory[0])


@pytest.mark.usefixtures("kernels")
def test_ema_validates_keeps_and_ends_on_the_average():
    # The raw weights train exactly as without the average; each epoch's
    # validation sees the average after the epoch's last step, the best
    # epoch keeps that average, and the call ends on the last average.
    decay, batch, epochs = 0.8, 16, 5
    runs = {}
    for ema_decay in (None, decay):
        net, params, _, X, Y, state = _setup(validating=True)
        opt = _Recording(Adam())
        state.opt_state = opt.init(params)
        start = params.copy()
        seen = []
        scores = iter([0.1, 0.5, 0.3, 0.2, 0.4])

        def validate(p, seen=seen, scores=scores):
            seen.append(p.copy())
            score = next(scores)
            return score, -score

        cfg = LoopConfig(
            batch_size=batch, max_iter=epochs, shuffle=False, ema_decay=ema_decay
        )
        res = fit_stochastic(
            *_args(net, params, opt, X, Y, state, cfg), validate=validate
        )
        runs[ema_decay] = (start, opt.after, seen, params, state, res)
    start, raw, raw_seen, raw_end, _, _ = runs[None]
    start2, after, seen, end, state, res = runs[decay]
    np.testing.assert_array_equal(start, start2)
    for a, b in zip(raw, after):
        np.testing.assert_array_equal(a, b)
    steps = len(X) // batch
    assert len(after) == steps * epochs
    expected = moving_averages([start, *after], decay)
    epoch_ends = [expected[steps * (k + 1) - 1] for k in range(epochs)]
    for got, want in zip(seen, epoch_ends):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(state.best_params, epoch_ends[1], rtol=1e-12)
    np.testing.assert_allclose(end, epoch_ends[-1], rtol=1e-12, atol=1e-15)
    assert res.reason == "max_iter"
    # without the average the validation saw the raw weights
    np.testing.assert_array_equal(raw_seen[-1], raw_end)
    assert not np.allclose(end, raw_end)


def test_ema_decay_zero_is_the_raw_weights():
    """A decay of 0 averages nothing: bit for bit the fit without it."""
    runs = []
    for ema_decay in (None, 0.0):
        net, params, opt, X, Y, state = _setup(validating=True, dropout=[0.2])
        cfg = LoopConfig(batch_size=10, max_iter=4, ema_decay=ema_decay)
        fit_stochastic(
            *_args(net, params, opt, X, Y, state, cfg), validate=_scores([1, 2, 3, 4])
        )
        runs.append((params, state.loss_curve, state.best_params))
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)
