"""Tests of sknn._core.optimizers: closed-form steps, state, convergence, schedules."""

import math

import numpy as np
import pytest

from sknn._core.optimizers import (
    SGD,
    Adam,
    AdamW,
    L2Gradient,
    RMSprop,
    Schedule,
    make_optimizer,
)

# every test runs on both element-wise backends (conftest.kernels)
pytestmark = pytest.mark.usefixtures("kernels")


def _vectors(n=11, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(n), rng.standard_normal(n), rng.standard_normal(n)


# ------------------------------------------------------------ SGD
@pytest.mark.parametrize("momentum", [0.0, 0.5, 0.9])
@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_two_steps_closed_form(momentum, nesterov):
    p0, g1, g2 = _vectors()
    lr1, lr2 = 0.1, 0.03
    opt = SGD(momentum=momentum, nesterov=nesterov)
    params = p0.copy()
    state = opt.init(params)
    np.testing.assert_array_equal(state["velocity"], 0.0)
    v_start = np.random.default_rng(1).standard_normal(p0.size)
    state["velocity"][...] = v_start  # start from a given, non-zero state

    # closed forms, written out element-wise
    v1 = momentum * v_start - lr1 * g1
    if nesterov:
        p1 = p0 + momentum * v1 - lr1 * g1
    else:
        p1 = p0 + v1
    v2 = momentum * v1 - lr2 * g2
    p2 = p1 + momentum * v2 - lr2 * g2 if nesterov else p1 + v2

    g1c = g1.copy()
    ref = params
    opt.step(params, g1, state, lr1)
    assert params is ref
    np.testing.assert_array_equal(g1, g1c)  # gradient left unchanged
    np.testing.assert_allclose(params, p1, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(state["velocity"], v1, rtol=1e-14, atol=1e-15)
    opt.step(params, g2, state, lr2)
    np.testing.assert_allclose(params, p2, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(state["velocity"], v2, rtol=1e-13, atol=1e-15)


def test_sgd_momentum_zero_is_plain_gradient_descent():
    p0, g, _ = _vectors(seed=2)
    for nesterov in (False, True):
        params = p0.copy()
        opt = SGD(momentum=0.0, nesterov=nesterov)
        state = opt.init(params)
        opt.step(params, g, state, 0.25)
        np.testing.assert_allclose(params, p0 - 0.25 * g, rtol=1e-15, atol=1e-16)


def test_sgd_nesterov_differs_from_classical():
    p0, g, _ = _vectors(seed=3)
    out = []
    for nesterov in (False, True):
        params = p0.copy()
        opt = SGD(0.9, nesterov)
        state = opt.init(params)
        opt.step(params, g, state, 0.1)
        out.append(params)
    assert not np.allclose(out[0], out[1])


# ------------------------------------------------------------ Adam / AdamW
def _adam_ref(p, g, m, v, t, lr, b1, b2, eps):
    t = t + 1
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    m_hat = m / (1 - b1**t)
    v_hat = v / (1 - b2**t)
    # bias correction folded into the step: eps is scaled by sqrt(1 - b2**t)
    p = p - lr * m_hat / (np.sqrt(v_hat) + eps / math.sqrt(1 - b2**t))
    return p, m, v, t


@pytest.mark.parametrize("b1, b2, eps", [(0.9, 0.999, 1e-8), (0.5, 0.9, 1e-3)])
def test_adam_two_steps_closed_form(b1, b2, eps):
    p0, g1, g2 = _vectors(seed=4)
    rng = np.random.default_rng(5)
    m0 = rng.standard_normal(p0.size)
    v0 = rng.uniform(0.1, 2.0, p0.size)
    t0 = 3
    opt = Adam(b1, b2, eps)
    params = p0.copy()
    state = opt.init(params)
    assert state["t"] == 0
    np.testing.assert_array_equal(opt.moments(state)[0], 0.0)
    np.testing.assert_array_equal(opt.moments(state)[1], 0.0)
    # the state stores the moments rescaled by 1 / (1 - beta)
    state["M"][...] = m0 / (1 - b1)
    state["V"][...] = v0 / (1 - b2)
    state["t"] = t0

    p1, m1, v1, t1 = _adam_ref(p0, g1, m0, v0, t0, 0.01, b1, b2, eps)
    p2, m2, v2, t2 = _adam_ref(p1, g2, m1, v1, t1, 0.02, b1, b2, eps)

    # Adam may use the gradient as scratch space: hand it copies
    ref = params
    opt.step(params, g1.copy(), state, 0.01)
    assert params is ref
    assert state["t"] == t1 == 4
    np.testing.assert_allclose(opt.moments(state)[0], m1, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(opt.moments(state)[1], v1, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(params, p1, rtol=1e-12, atol=1e-14)
    opt.step(params, g2.copy(), state, 0.02)
    assert state["t"] == t2 == 5
    np.testing.assert_allclose(opt.moments(state)[0], m2, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(opt.moments(state)[1], v2, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(params, p2, rtol=1e-12, atol=1e-14)


def test_adam_first_step_from_zero_state_moves_by_lr():
    # from a zero state the first Adam step is lr * sign(g) (up to eps)
    p0, g, _ = _vectors(seed=6)
    params = p0.copy()
    opt = Adam()
    state = opt.init(params)
    opt.step(params, g.copy(), state, 0.001)
    np.testing.assert_allclose(params, p0 - 0.001 * np.sign(g), rtol=1e-6)
    np.testing.assert_allclose(opt.moments(state)[0], 0.1 * g, rtol=1e-14)
    np.testing.assert_allclose(opt.moments(state)[1], 0.001 * g * g, rtol=1e-12)


@pytest.mark.parametrize("n_decay", [4, 7, None])
def test_adamw_decays_only_weights(n_decay):
    p0, g1, g2 = _vectors(seed=7)
    wd, lr = 0.1, 0.05
    opt = AdamW(0.9, 0.999, 1e-8, weight_decay=wd, n_decay=n_decay)
    params = p0.copy()
    state = opt.init(params)
    k = p0.size if n_decay is None else n_decay

    p_ref, m, v, t = p0.copy(), np.zeros_like(p0), np.zeros_like(p0), 0
    for g in (g1, g2):
        p_ref[:k] *= 1 - lr * wd
        p_ref, m, v, t = _adam_ref(p_ref, g, m, v, t, lr, 0.9, 0.999, 1e-8)
        opt.step(params, g.copy(), state, lr)
        np.testing.assert_allclose(params, p_ref, rtol=1e-12, atol=1e-14)
    assert state["t"] == 2

    # versus plain Adam: only the first n_decay entries differ
    adam_p = p0.copy()
    adam = Adam(0.9, 0.999, 1e-8)
    st = adam.init(adam_p)
    for g in (g1, g2):
        adam.step(adam_p, g.copy(), st, lr)
    np.testing.assert_array_equal(params[k:], adam_p[k:])
    assert not np.any(np.isclose(params[:k], adam_p[:k], rtol=1e-12, atol=0))


def test_adamw_zero_decay_equals_adam():
    p0, g, _ = _vectors(seed=8)
    a, b = p0.copy(), p0.copy()
    opt_w, opt_a = AdamW(weight_decay=0.0, n_decay=5), Adam()
    sw, sa = opt_w.init(a), opt_a.init(b)
    for _ in range(3):
        opt_w.step(a, g.copy(), sw, 0.01)
        opt_a.step(b, g.copy(), sa, 0.01)
    np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------ RMSprop
@pytest.mark.parametrize("rho, eps", [(0.9, 1e-8), (0.5, 1e-2)])
def test_rmsprop_two_steps_closed_form(rho, eps):
    p0, g1, g2 = _vectors(seed=9)
    s0 = np.random.default_rng(10).uniform(0.1, 1.0, p0.size)
    opt = RMSprop(rho, eps)
    params = p0.copy()
    state = opt.init(params)
    np.testing.assert_array_equal(state["s"], 0.0)
    state["s"][...] = s0

    s1 = rho * s0 + (1 - rho) * g1**2
    p1 = p0 - 0.01 * g1 / (np.sqrt(s1) + eps)
    s2 = rho * s1 + (1 - rho) * g2**2
    p2 = p1 - 0.03 * g2 / (np.sqrt(s2) + eps)

    g1c = g1.copy()
    ref = params
    opt.step(params, g1, state, 0.01)
    assert params is ref
    np.testing.assert_array_equal(g1, g1c)
    np.testing.assert_allclose(state["s"], s1, rtol=1e-13)
    np.testing.assert_allclose(params, p1, rtol=1e-13, atol=1e-15)
    opt.step(params, g2, state, 0.03)
    np.testing.assert_allclose(state["s"], s2, rtol=1e-13)
    np.testing.assert_allclose(params, p2, rtol=1e-13, atol=1e-15)


# ------------------------------------------------------------ dtype, purity
OPTIMIZERS = {
    "sgd": SGD(0.9, True),
    "sgd_classical": SGD(0.9, False),
    "sgd_plain": SGD(0.0, False),
    "adam": Adam(),
    "adamw": AdamW(weight_decay=0.01, n_decay=3),
    "rmsprop": RMSprop(),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_step_keeps_float32(name):
    opt = OPTIMIZERS[name]
    p0, g, _ = _vectors(seed=11)
    params = p0.astype(np.float32)
    grad = g.astype(np.float32)
    state = opt.init(params)
    for value in state.values():
        if isinstance(value, np.ndarray):
            assert value.dtype == np.float32
            assert not np.shares_memory(value, params)
    opt.step(params, grad.copy(), state, 0.01)
    assert params.dtype == np.float32
    ref = p0.copy()
    st = opt.init(ref)
    opt.step(ref, g.astype(np.float32).astype(np.float64), st, 0.01)
    np.testing.assert_allclose(params, ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_zero_gradient_and_zero_lr(name):
    opt = OPTIMIZERS[name]
    p0, g, _ = _vectors(seed=12)
    params = p0.copy()
    state = opt.init(params)
    opt.step(params, g.copy(), state, 0.0)
    np.testing.assert_array_equal(params, p0)  # lr = 0: nothing moves
    if name.startswith("sgd") or name == "rmsprop":
        params = p0.copy()
        state = opt.init(params)
        opt.step(params, np.zeros_like(g), state, 0.1)
        np.testing.assert_array_equal(params, p0)


@pytest.mark.parametrize("name", ["sgd", "sgd_classical", "sgd_plain", "rmsprop"])
def test_step_leaves_grad_unchanged(name):
    # Adam and AdamW document that they may overwrite ``grad`` (scratch space);
    # the other optimizers must leave it alone.
    opt = OPTIMIZERS[name]
    p0, g, _ = _vectors(seed=13)
    g0 = g.copy()
    params = p0.copy()
    state = opt.init(params)
    for _ in range(2):
        opt.step(params, g, state, 0.1)
        np.testing.assert_array_equal(g, g0)
    assert not np.array_equal(params, p0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_l2_gradient_equals_adding_it_first(name, dtype):
    # a step given L2Gradient(c, n) is a step on grad + c * params[:n], the
    # term read from the weights before AdamW's decay
    opt = OPTIMIZERS[name]
    p0, g1, g2 = (v.astype(dtype) for v in _vectors(seed=15))
    coef, n = 0.3, 7
    ref, params = p0.copy(), p0.copy()
    st_ref, st = opt.init(ref), opt.init(params)
    for k, g in enumerate((g1, g2)):
        lr = 0.05 * (k + 1)
        full = g.copy()
        full[:n] += dtype(coef) * ref[:n]
        opt.step(ref, full, st_ref, lr)
        l2 = L2Gradient(coef, n, np.empty(n, dtype))
        opt.step(params, g.copy(), st, lr, l2=l2)
        np.testing.assert_array_equal(params, ref)
        for key, value in st_ref.items():
            if isinstance(value, np.ndarray) and key != "buf":
                np.testing.assert_array_equal(st[key], value)
    # the term moves the first n entries only (every step is element-wise)
    plain = p0.copy()
    st_plain = opt.init(plain)
    opt.step(plain, g1.copy(), st_plain, 0.05)
    opt.step(plain, g2.copy(), st_plain, 0.1)
    assert not np.array_equal(plain[:n], params[:n])
    np.testing.assert_array_equal(plain[n:], params[n:])


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_state_arrays_do_not_alias_params_or_grad(name):
    opt = OPTIMIZERS[name]
    p0, g, _ = _vectors(seed=14)
    params = p0.copy()
    state = opt.init(params)
    for value in state.values():
        if isinstance(value, np.ndarray):
            assert not np.shares_memory(value, params)
            assert not np.shares_memory(value, g)


# ------------------------------------------------------------ convergence
CONVERGENCE = [
    ("sgd", SGD(0.9, True), 0.05, 300),
    ("sgd_classical", SGD(0.9, False), 0.05, 300),
    ("sgd_plain", SGD(0.0, False), 0.2, 300),
    ("adam", Adam(), 0.05, 2000),
    ("adamw", AdamW(weight_decay=0.01), 0.05, 2000),
    ("rmsprop", RMSprop(), 0.01, 2000),
]


@pytest.mark.parametrize(
    "name, opt, lr, steps", CONVERGENCE, ids=[c[0] for c in CONVERGENCE]
)
def test_minimises_quadratic(name, opt, lr, steps):
    # f(x) = 0.5 * sum(d_i * x_i**2), minimum 0 at x = 0
    d = np.array([1.0, 2.0, 4.0, 0.5])
    params = np.array([3.0, -2.0, 1.0, -4.0])
    f0 = 0.5 * float(d @ params**2)
    state = opt.init(params)
    grad = np.empty_like(params)
    for _ in range(steps):
        np.multiply(d, params, out=grad)
        opt.step(params, grad, state, lr)
    f = 0.5 * float(d @ params**2)
    assert np.isfinite(params).all()
    assert f < 1e-4 * f0, (name, params, f)
    assert np.abs(params).max() < 0.05


def test_adam_minimises_rosenbrock():
    def grad_f(x, out):
        a, b = x
        out[0] = -2 * (1 - a) - 400 * a * (b - a * a)
        out[1] = 200 * (b - a * a)
        return out

    x = np.array([-1.2, 1.0])
    opt = Adam()
    state = opt.init(x)
    g = np.empty(2)
    for _ in range(5000):
        opt.step(x, grad_f(x, g), state, 0.02)
    f = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
    assert f < 1e-4, (x, f)
    np.testing.assert_allclose(x, [1.0, 1.0], atol=2e-2)


# ------------------------------------------------------------ schedules
def test_schedule_constant():
    s = Schedule("constant", 0.01)
    assert s.lr == 0.01
    for epoch in range(1, 6):
        assert s.epoch_end(epoch, epoch * 100) == 0.01
    assert s.lr == 0.01
    assert s.on_plateau() is False
    assert s.lr == 0.01


@pytest.mark.parametrize("power_t", [0.5, 0.25, 1.0])
def test_schedule_invscaling(power_t):
    s = Schedule("invscaling", 0.1, power_t=power_t)
    assert s.lr == 0.1
    for epoch, t in [(1, 50), (2, 100), (7, 350)]:
        lr = s.epoch_end(epoch, t)
        assert lr == pytest.approx(0.1 / (t + 1) ** power_t, rel=1e-14)
        assert s.lr == lr
    assert s.on_plateau() is False


def test_schedule_cosine():
    s = Schedule("cosine", 0.2, max_iter=10)
    lrs = [s.epoch_end(e, e * 10) for e in range(0, 13)]
    for e, lr in enumerate(lrs):
        frac = min(e / 10, 1.0)
        assert lr == pytest.approx(
            0.5 * 0.2 * (1 + math.cos(math.pi * frac)), abs=1e-15
        )
    assert lrs[0] == pytest.approx(0.2)
    assert lrs[5] == pytest.approx(0.1)
    assert lrs[10] == pytest.approx(0.0, abs=1e-15)
    assert lrs[12] == pytest.approx(0.0, abs=1e-15)  # clamped past max_iter
    assert all(a >= b for a, b in zip(lrs, lrs[1:]))
    assert s.on_plateau() is False


def test_schedule_adaptive_on_plateau():
    s = Schedule("adaptive", 1e-3)
    assert s.epoch_end(3, 300) == 1e-3  # epochs alone do not change it
    lrs = []
    while s.on_plateau():
        lrs.append(s.lr)
    expected = [1e-3 / 5**k for k in range(1, len(lrs) + 1)]
    np.testing.assert_allclose(lrs, expected, rtol=1e-12)
    # it keeps dividing while above 1e-6 and stops once at or below it
    assert lrs[-2] > 1e-6 >= lrs[-1] or (len(lrs) == 1 and lrs[-1] <= 1e-6)
    assert s.lr <= 1e-6
    assert s.on_plateau() is False
    assert s.lr == lrs[-1]  # a refused plateau leaves the rate alone


def test_schedule_adaptive_at_threshold_refuses():
    s = Schedule("adaptive", 1e-6)
    assert s.on_plateau() is False
    assert s.lr == 1e-6
    s = Schedule("adaptive", 2e-6)
    assert s.on_plateau() is True
    assert s.lr == pytest.approx(4e-7)
    assert s.on_plateau() is False


@pytest.mark.parametrize("kind", ["constant", "invscaling", "cosine"])
def test_schedule_non_adaptive_plateau_false(kind):
    s = Schedule(kind, 0.5)
    before = s.lr
    assert s.on_plateau() is False
    assert s.lr == before


def test_schedule_explicit_lr_kept():
    s = Schedule("adaptive", 0.1, lr=0.004)
    assert s.lr == 0.004
    assert s.lr_init == 0.1


# ------------------------------------------------------------ factory
def test_make_optimizer():
    sgd = make_optimizer("sgd", momentum=0.7, nesterovs_momentum=False)
    assert isinstance(sgd, SGD)
    assert (sgd.momentum, sgd.nesterov) == (0.7, False)
    adam = make_optimizer("adam", beta_1=0.8, beta_2=0.99, epsilon=1e-6)
    assert type(adam) is Adam
    assert (adam.beta_1, adam.beta_2, adam.epsilon) == (0.8, 0.99, 1e-6)
    adamw = make_optimizer("adamw", beta_1=0.85, weight_decay=0.3, n_decay=17)
    assert isinstance(adamw, AdamW)
    assert (adamw.beta_1, adamw.weight_decay, adamw.n_decay) == (0.85, 0.3, 17)
    rms = make_optimizer("rmsprop", rho=0.8, epsilon=1e-5)
    assert isinstance(rms, RMSprop)
    assert (rms.rho, rms.epsilon) == (0.8, 1e-5)


@pytest.mark.parametrize("name", ["lbfgs", "SGD", "adagrad", ""])
def test_make_optimizer_unknown(name):
    with pytest.raises(ValueError, match="Unknown stochastic solver"):
        make_optimizer(name)
