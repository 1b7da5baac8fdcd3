"""Tests of sknn._core._fused: compiled kernels equal the NumPy code, bit for bit."""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from sknn import MLPClassifierNN, MLPRegressorNN
from sknn._core import _fused
from sknn._core.activations import ACTIVATIONS, LEAKY_RELU_SLOPE
from sknn._core.optimizers import SGD, Adam, AdamW, L2Gradient, RMSprop

needs_numba = pytest.mark.skipif(not _fused.AVAILABLE, reason="numba not installed")
DTYPES = [np.float64, np.float32]

OPTIMIZERS = {
    "sgd_nesterov": SGD(0.9, True),
    "sgd_classical": SGD(0.9, False),
    "adam": Adam(),
    "adam_custom": Adam(0.5, 0.9, 1e-3),
    "adamw_weights": AdamW(weight_decay=0.1, n_decay=20),
    "adamw_all": AdamW(weight_decay=0.1, n_decay=None),
    "rmsprop": RMSprop(0.8, 1e-6),
}


def _run_steps(opt, dtype, use_kernels, n=57, steps=4, n_l2=0):
    rng = np.random.default_rng(0)
    params = rng.standard_normal(n).astype(dtype)
    state = opt.init(params)
    with _fused.use(use_kernels):
        for k in range(steps):
            grad = rng.standard_normal(n).astype(dtype)
            grad[k] = 0.0  # exact zeros exercise sqrt(0) + eps
            l2 = None
            if n_l2:
                l2 = L2Gradient(0.07 * (k + 1), n_l2, np.empty(n_l2, dtype))
            opt.step(params, grad, state, 0.01 * (k + 1), l2=l2)
    arrays = {key: v for key, v in state.items() if isinstance(v, np.ndarray)}
    return params, arrays


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("n_l2", [0, 31], ids=["no_l2", "l2"])
def test_optimizer_step_identical_to_numpy(name, dtype, n_l2):
    p_np, s_np = _run_steps(OPTIMIZERS[name], dtype, False, n_l2=n_l2)
    p_jit, s_jit = _run_steps(OPTIMIZERS[name], dtype, True, n_l2=n_l2)
    assert p_jit.dtype == dtype
    np.testing.assert_array_equal(p_jit, p_np)
    assert s_jit.keys() == s_np.keys()
    for key in ("velocity", "M", "V", "s"):
        if key in s_np:
            np.testing.assert_array_equal(s_jit[key], s_np[key])


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
def test_axpy_identical_to_numpy(dtype):
    from sknn._core.backend import current

    rng = np.random.default_rng(1)
    x = rng.standard_normal(101).astype(dtype)
    y0 = rng.standard_normal(101).astype(dtype)
    out = {}
    for flag in (False, True):
        y = y0.copy()
        with _fused.use(flag):
            returned = current().axpy(1e-3 / 7, x, y, np.empty(128, dtype=dtype))
        assert returned is y
        out[flag] = y
    np.testing.assert_array_equal(out[True], out[False])
    assert not np.array_equal(out[True], y0)


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
def test_scatter_add_identical_to_numpy(dtype):
    from sknn._core.backend import current

    rng = np.random.default_rng(3)
    idx = rng.integers(0, 7, 200)  # many repeats
    values = rng.standard_normal((200, 5)).astype(dtype)[:, ::-1]  # a strided view
    target0 = rng.standard_normal((7, 5)).astype(dtype)
    out = {}
    for flag in (False, True):
        target = target0.copy()
        with _fused.use(flag):
            assert current().scatter_add(target, idx, values) is target
        out[flag] = target
    np.testing.assert_array_equal(out[True], out[False])
    expected = target0.astype(np.float64)
    for i, r in enumerate(idx):
        expected[r] += values[i]
    np.testing.assert_allclose(out[True], expected, rtol=1e-5)


def _layer_arrays(dtype, seed=2):
    rng = np.random.default_rng(seed)
    Z = (3 * rng.standard_normal((37, 11))).astype(dtype)
    Z[0, 0] = np.nan  # NaN must stay NaN, as in NumPy
    Z[1, 1] = -np.inf
    Z[2, 2] = np.inf
    b = rng.standard_normal(11).astype(dtype)
    D = rng.standard_normal((37, 11)).astype(dtype)
    return Z, b, D


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(_fused.BIAS_FORWARD))
def test_bias_activation_identical_to_numpy(name, dtype):
    Z, b, _ = _layer_arrays(dtype)
    ref = Z.copy()
    ref += b
    ACTIVATIONS[name].forward(ref)
    got = Z.copy()
    _fused.BIAS_FORWARD[name](got, b, dtype(LEAKY_RELU_SLOPE))
    np.testing.assert_array_equal(got, ref)
    assert np.isnan(got[0, 0])


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(_fused.BACKWARD))
def test_backward_and_bias_gradient_identical_to_numpy(name, dtype):
    rng = np.random.default_rng(3)
    Z = (2 * rng.standard_normal((37, 11))).astype(dtype)
    A = ACTIVATIONS[name].forward(Z)
    D = rng.standard_normal(A.shape).astype(dtype)
    ref = ACTIVATIONS[name].backward(A, D.copy(), None)
    ref_gb = np.add.reduce(ref, axis=0)
    got = D.copy()
    gb = np.full(A.shape[1], np.nan, dtype=dtype)  # must be overwritten
    _fused.BACKWARD[name](A, got, gb, dtype(1.0), dtype(LEAKY_RELU_SLOPE))
    np.testing.assert_array_equal(got, ref)
    np.testing.assert_array_equal(gb, ref_gb)


@needs_numba
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_log_loss_matches_numpy(dtype, weighted):
    from sknn._core.activations import OUTPUT_ACTIVATIONS
    from sknn._core.losses import LOSSES

    rng = np.random.default_rng(4)
    n, k = 29, 6
    Z = (4 * rng.standard_normal((n, k))).astype(dtype)
    Z[0] *= 1e30 if dtype == np.float64 else 1e4  # saturated rows
    Z[1] = 0.0  # a uniform row
    b = rng.standard_normal(k).astype(dtype)
    Y = np.eye(k, dtype=np.uint8)[rng.integers(0, k, n)]
    sw = rng.uniform(0.1, 2.0, n).astype(dtype) if weighted else None
    S = float(n if sw is None else sw.sum())
    P = Z + b
    OUTPUT_ACTIVATIONS["softmax"].forward(P)
    ref_loss = LOSSES["log_loss"].value(Y, P, sw)
    ref_D = (P - Y) * (1.0 / S if sw is None else (sw / S)[:, None])
    got_P = Z.copy()
    D = np.empty_like(Z)
    gb = np.full(k, np.nan, dtype=dtype)
    total = _fused.OUTPUT["log_loss"](
        got_P,
        b,
        Y,
        np.empty(0, dtype) if sw is None else sw,
        dtype(1.0 / S),
        D,
        gb,
        dtype(np.finfo(dtype).eps),
    )
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(got_P, P, rtol=rtol, atol=1e-30)
    np.testing.assert_allclose(total / S, ref_loss, rtol=rtol)
    np.testing.assert_allclose(D, ref_D, rtol=rtol, atol=rtol / n)
    np.testing.assert_allclose(gb, ref_D.sum(axis=0), rtol=rtol, atol=rtol)
    assert np.isfinite(total)


def test_registries_cover_hidden_activations_except_gelu():
    # gelu's derivative needs Z: it is the one activation left to NumPy
    assert set(_fused.BACKWARD) == set(ACTIVATIONS) - {"gelu"}
    assert set(_fused.BIAS_FORWARD) <= set(_fused.BACKWARD)


FITS = {
    "clf_relu_adam_f32": (
        MLPClassifierNN,
        {"hidden_layer_sizes": (20, 15), "alpha": 1e-3},
        np.float32,
    ),
    "clf_tanh_sgd_dropout": (
        MLPClassifierNN,
        {"activation": "tanh", "solver": "sgd", "dropout": 0.2},
        np.float64,
    ),
    "clf_elu_adamw_balanced": (
        MLPClassifierNN,
        {"activation": "elu", "solver": "adamw", "class_weight": "balanced"},
        np.float64,
    ),
    "clf_logistic_rmsprop_early_stopping": (
        MLPClassifierNN,
        {"activation": "logistic", "solver": "rmsprop", "early_stopping": True},
        np.float32,
    ),
    "reg_leaky_relu_adam": (
        MLPRegressorNN,
        {"activation": "leaky_relu", "hidden_layer_sizes": (12, 8)},
        np.float64,
    ),
    "reg_gelu_poisson": (
        MLPRegressorNN,
        {"activation": "gelu", "loss": "poisson"},
        np.float32,
    ),
    "reg_identity_lbfgs": (
        MLPRegressorNN,
        {"activation": "identity", "solver": "lbfgs"},
        np.float64,
    ),
}


def _fit_both(cls, params, dtype, y_kind):
    X, y = load_digits(return_X_y=True)
    X = (X[:300] / 16.0).astype(dtype)
    y = y[:300]
    if y_kind == "regression":
        y = (y % 5).astype(float)
    elif y_kind == "binary":
        y = y % 2
    weights = np.linspace(0.5, 1.5, X.shape[0])
    fitted = []
    for flag in (False, True):
        with _fused.use(flag), warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est = cls(max_iter=8, random_state=0, **params)
            fitted.append(est.fit(X, y, sample_weight=weights))
    return X, fitted


@needs_numba
@pytest.mark.parametrize("name", sorted(FITS))
def test_fit_identical_on_both_backends(name):
    # Everything but the softmax output reproduces NumPy's rounding: whole
    # fits agree bit for bit.
    cls, params, dtype = FITS[name]
    y_kind = "regression" if cls is MLPRegressorNN else "binary"
    X, (ref, got) = _fit_both(cls, params, dtype, y_kind)
    for a, b in zip(ref.coefs_ + ref.intercepts_, got.coefs_ + got.intercepts_):
        np.testing.assert_array_equal(b, a)
    assert got.loss_ == ref.loss_
    assert getattr(got, "loss_curve_", None) == getattr(ref, "loss_curve_", None)
    np.testing.assert_array_equal(got.predict(X), ref.predict(X))


CLASSIFIER_FITS = sorted(n for n, fit in FITS.items() if fit[0] is MLPClassifierNN)


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", CLASSIFIER_FITS)
def test_multiclass_fit_agrees_on_both_backends(name, dtype):
    # The fused softmax calls LLVM's exp and log instead of NumPy's, so the
    # multiclass fits agree to rounding, not bit for bit.
    cls, params, _ = FITS[name]
    X, (ref, got) = _fit_both(cls, params, dtype, "multiclass")
    rtol, atol = (1e-9, 1e-12) if dtype == np.float64 else (1e-3, 1e-5)
    for a, b in zip(ref.coefs_ + ref.intercepts_, got.coefs_ + got.intercepts_):
        np.testing.assert_allclose(b, a, rtol=rtol, atol=atol)
    np.testing.assert_allclose(got.loss_, ref.loss_, rtol=rtol)
    np.testing.assert_array_equal(got.predict(X), ref.predict(X))


@needs_numba
def test_compile_without_cache_location(monkeypatch):
    calls = []

    def fake_njit(**options):
        calls.append(options)
        if options.get("cache"):
            raise RuntimeError("cannot cache function: no locator available")
        return lambda func: ("compiled", func)

    monkeypatch.setattr(_fused.numba, "njit", fake_njit)

    def kernel(x):
        return x

    assert _fused._compile(kernel) == ("compiled", kernel)
    assert [c.get("cache", False) for c in calls] == [True, False]
    assert calls[1]["error_model"] == "numpy"


# ------------------------------------------------------------ switching
def test_use_restores_previous_setting():
    before = _fused.enabled()
    with _fused.use(False):
        assert not _fused.enabled()
    assert _fused.enabled() == before


def test_use_restores_after_error():
    before = _fused.enabled()
    with pytest.raises(RuntimeError, match="inside use"), _fused.use(False):
        raise RuntimeError("inside use")
    assert _fused.enabled() == before


def test_set_enabled_without_numba_raises(monkeypatch):
    monkeypatch.setattr(_fused, "AVAILABLE", False)
    with pytest.raises(ImportError, match="numba"):
        _fused.set_enabled(True)
    with _fused.use(False):  # switching off needs nothing
        assert not _fused.enabled()


def _python(code, **env):
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=True,
    )
    return result.stdout.strip()


@pytest.mark.parametrize("value, expected", [("1", "False"), ("0", None)])
def test_environment_variable(value, expected):
    out = _python(
        "from sknn._core import _fused; print(_fused.enabled())",
        SKNN_DISABLE_NUMBA=value,
    )
    assert out == (expected or str(_fused.AVAILABLE))


def test_fit_without_numba_importable():
    # a blocked import behaves like numba not being installed: the NumPy code
    # runs, and the result is the one the NumPy path gives in this process
    code = (
        "import sys; sys.modules['numba'] = None\n"
        "import numpy as np\n"
        "from sklearn.datasets import load_digits\n"
        "from sknn import MLPClassifierNN\n"
        "from sknn._core import _fused\n"
        "X, y = load_digits(return_X_y=True)\n"
        "m = MLPClassifierNN((16,), max_iter=3, random_state=0).fit(X / 16, y)\n"
        "print(_fused.AVAILABLE, _fused.enabled(), repr(m.loss_))\n"
    )
    available, enabled, loss = _python(code, PYTHONWARNINGS="ignore").split()
    assert (available, enabled) == ("False", "False")
    X, y = load_digits(return_X_y=True)
    with _fused.use(False), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = MLPClassifierNN((16,), max_iter=3, random_state=0).fit(X / 16, y)
    assert float(loss) == ref.loss_
