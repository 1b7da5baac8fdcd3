"""Fused element-wise kernels, compiled with Numba when it is installed.

NumPy runs every element-wise operation as its own pass over memory and its
own Python call: an Adam step is about ten passes over the parameter vector,
and ``Z += b`` followed by ``max(Z, 0)`` is two passes over a batch's
activations.  The kernels here do the same arithmetic, in the same order, in
one pass each.  They are compiled by Numba (the optional ``fast`` extra,
``pip install "sknn[fast]"``) on first use and cached on disk; without Numba
the callers keep their NumPy code and this module only reports
``enabled() == False``.

Every kernel reproduces the rounding of the NumPy code it replaces: the same
operations on the same dtype in the same order, with no fused multiply-add and
no reassociation, so that training is bit-for-bit identical whichever path
runs.  Scalars are passed already converted to the arrays' dtype, as NumPy
converts a Python float operand of a float32 array, and constants inside the
kernels are built from them (``zero = one - one``): a float64 literal would
promote float32 arithmetic to float64 and round differently.

Set the environment variable ``SKNN_DISABLE_NUMBA=1`` before importing sknn,
or call :func:`set_enabled`, to run the NumPy code even when Numba is
installed.
"""

from __future__ import annotations

import contextlib
import math
import os

try:  # optional dependency
    import numba
except ImportError:  # pragma: no cover - exercised when numba is absent
    numba = None

__all__ = [
    "AVAILABLE",
    "BACKWARD",
    "BIAS_FORWARD",
    "OUTPUT",
    "PARAMETRIC",
    "adam",
    "axpy",
    "describe",
    "enabled",
    "rmsprop",
    "set_enabled",
    "sgd",
    "use",
]

AVAILABLE = numba is not None
"""Whether Numba could be imported."""

_state = {
    "enabled": AVAILABLE
    and os.environ.get("SKNN_DISABLE_NUMBA", "").strip() in ("", "0")
}


def enabled():
    """Whether the compiled kernels are used (Numba present and not disabled)."""
    return _state["enabled"]


def set_enabled(flag):
    """Switch the compiled kernels on or off; returns the previous setting.

    Parameters
    ----------
    flag : bool

    Raises
    ------
    ImportError
        If ``flag`` is True and Numba is not installed.
    """
    flag = bool(flag)
    if flag and not AVAILABLE:
        raise ImportError(
            "The compiled kernels need Numba: pip install numba "
            '(or pip install "sknn[fast]").'
        )
    previous = _state["enabled"]
    _state["enabled"] = flag
    return previous


def describe():
    """One line saying which element-wise kernels run, for reports."""
    if _state["enabled"]:
        return f"Numba {numba.__version__} kernels"
    if AVAILABLE:
        return "NumPy kernels (Numba disabled)"
    return 'NumPy kernels (pip install "sknn[fast]" for compiled ones)'


@contextlib.contextmanager
def use(flag):
    """Context manager running its block with the kernels on or off."""
    previous = set_enabled(flag)
    try:
        yield
    finally:
        _state["enabled"] = previous


def _compile(func):
    """Compile ``func`` lazily with Numba, caching the machine code on disk.

    ``error_model="numpy"`` makes division by zero give inf/nan as NumPy
    does instead of raising; no ``fastmath``, so LLVM may neither contract
    ``a * b + c`` into a fused multiply-add nor reorder sums.
    """
    if numba is None:  # pragma: no cover - exercised when numba is absent
        return func
    options = {"nogil": True, "error_model": "numpy"}
    try:
        return numba.njit(cache=True, **options)(func)
    except RuntimeError:
        # Numba refuses caching when it finds no writable cache directory (a
        # read-only install without a usable home directory): compile in
        # every process instead
        return numba.njit(**options)(func)


# ------------------------------------------------------------------ vectors
@_compile
def axpy(a, x, y):
    """``y += a * x`` in place (``a`` in the dtype of ``x`` and ``y``)."""
    for i in range(x.shape[0]):
        y[i] += a * x[i]


@_compile
def scatter_add(target, idx, values):
    """``target[idx[i], :] += values[i, :]`` for every ``i`` in order, as
    ``np.add.at`` adds them (the same sums in the same order)."""
    for i in range(idx.shape[0]):
        r = idx[i]
        for j in range(values.shape[1]):
            target[r, j] += values[i, j]


# Each optimizer kernel can add the L2 penalty's gradient, ``l2 * params[i]``
# for ``i < n_l2``, to the gradient as it reads it: the same rounding as adding
# it first with :func:`axpy`, one pass over memory fewer.  The update of one
# entry lives in a small function that Numba inlines into two loops (with and
# without the L2 term), so both loops stay branch-free and vectorise.  Both
# loops run over slices from index 0: a loop starting at a runtime index such
# as ``range(n_l2, n)`` keeps Numba's negative-index wraparound check in its
# body and is not vectorised (4x slower for Adam in float64, 7x in float32).


@_compile
def _adam_entry(params, M, V, i, g, beta_1, beta_2, eps, step):
    m = M[i] * beta_1 + g
    v = V[i] * beta_2 + g * g
    M[i] = m
    V[i] = v
    params[i] -= (m / (math.sqrt(v) + eps)) * step


@_compile
def adam(params, grad, M, V, beta_1, beta_2, eps, step, n_decay, decay, n_l2, l2):
    """One Adam step on rescaled moments, with optional decay and L2 term.

    For ``i < n_decay`` first ``params[i] *= decay``; then, for every ``i``,
    with ``g = grad[i] + l2 * params[i]`` for ``i < n_l2`` and ``grad[i]``
    otherwise::

        M <- beta_1 * M + g
        V <- beta_2 * V + g * g
        params <- params - step * M / (sqrt(V) + eps)

    written as ``params - (M / (sqrt(V) + eps)) * step``, the order of
    :meth:`sknn._core.optimizers.Adam.step`.  The L2 term would read the
    decayed weights, so callers pass ``n_l2 = 0`` whenever ``n_decay > 0``.
    ``grad`` is left unchanged.
    """
    for i in range(n_decay):
        params[i] *= decay
    p, g, m, v = params[:n_l2], grad[:n_l2], M[:n_l2], V[:n_l2]
    for i in range(p.shape[0]):
        _adam_entry(p, m, v, i, g[i] + l2 * p[i], beta_1, beta_2, eps, step)
    p, g, m, v = params[n_l2:], grad[n_l2:], M[n_l2:], V[n_l2:]
    for i in range(p.shape[0]):
        _adam_entry(p, m, v, i, g[i], beta_1, beta_2, eps, step)


@_compile
def _sgd_entry(params, velocity, i, g, lr, momentum, nesterov):
    u = g * lr
    v = velocity[i] * momentum - u
    velocity[i] = v
    if nesterov:
        params[i] = (params[i] - u) + v * momentum
    else:
        params[i] += v


@_compile
def sgd(params, grad, velocity, lr, momentum, nesterov, n_l2, l2):
    """One SGD step with (Nesterov) momentum, as ``optimizers.SGD.step``.

    With ``g = grad[i] + l2 * params[i]`` for ``i < n_l2`` (else ``grad[i]``)
    and ``u = lr * g``: ``v <- v * momentum - u``; then ``params += v``, or
    with Nesterov ``params <- (params - u) + v * momentum``.
    """
    p, g, v = params[:n_l2], grad[:n_l2], velocity[:n_l2]
    for i in range(p.shape[0]):
        _sgd_entry(p, v, i, g[i] + l2 * p[i], lr, momentum, nesterov)
    p, g, v = params[n_l2:], grad[n_l2:], velocity[n_l2:]
    for i in range(p.shape[0]):
        _sgd_entry(p, v, i, g[i], lr, momentum, nesterov)


@_compile
def _rmsprop_entry(params, s, i, g, lr, rho, one_minus_rho, eps):
    r = s[i] * rho + (g * g) * one_minus_rho
    s[i] = r
    params[i] -= (g / (math.sqrt(r) + eps)) * lr


@_compile
def rmsprop(params, grad, s, lr, rho, one_minus_rho, eps, n_l2, l2):
    """One RMSprop step, as ``optimizers.RMSprop.step``.

    With ``g = grad[i] + l2 * params[i]`` for ``i < n_l2`` (else ``grad[i]``):
    ``s <- s * rho + (g * g) * (1 - rho)``;
    ``params <- params - (g / (sqrt(s) + eps)) * lr``.
    """
    p, g, r = params[:n_l2], grad[:n_l2], s[:n_l2]
    for i in range(p.shape[0]):
        _rmsprop_entry(p, r, i, g[i] + l2 * p[i], lr, rho, one_minus_rho, eps)
    p, g, r = params[n_l2:], grad[n_l2:], s[n_l2:]
    for i in range(p.shape[0]):
        _rmsprop_entry(p, r, i, g[i], lr, rho, one_minus_rho, eps)


# ------------------------------------------------------------------ layers
@_compile
def _bias_relu(Z, b, slope):
    """``Z <- max(Z + b, 0)`` row by row (NaN stays NaN, as in NumPy)."""
    for i in range(Z.shape[0]):
        for j in range(Z.shape[1]):
            z = Z[i, j] + b[j]
            Z[i, j] = 0.0 if z < 0.0 else z


@_compile
def _bias_leaky_relu(Z, b, slope):
    """``Z <- max(Z + b, slope * (Z + b))`` for ``0 < slope < 1``."""
    for i in range(Z.shape[0]):
        for j in range(Z.shape[1]):
            z = Z[i, j] + b[j]
            Z[i, j] = z * slope if z < 0.0 else z


@_compile
def _backward_identity(A, D, gb, one, slope):
    """``gb <- column sums of D``; ``D`` is already ``dZ``."""
    for j in range(D.shape[1]):
        gb[j] = 0.0
    for i in range(D.shape[0]):
        for j in range(D.shape[1]):
            gb[j] += D[i, j]


@_compile
def _backward_relu(A, D, gb, one, slope):
    """``D <- D * (A > 0)``, then ``gb <- column sums of D``."""
    zero = one - one
    for j in range(D.shape[1]):
        gb[j] = 0.0
    for i in range(D.shape[0]):
        for j in range(D.shape[1]):
            d = D[i, j] * (one if A[i, j] > 0.0 else zero)
            D[i, j] = d
            gb[j] += d


@_compile
def _backward_leaky_relu(A, D, gb, one, slope):
    """``D <- D * (1 if A > 0 else slope)``, then column sums into ``gb``."""
    for j in range(D.shape[1]):
        gb[j] = 0.0
    for i in range(D.shape[0]):
        for j in range(D.shape[1]):
            d = D[i, j] * (one if A[i, j] > 0.0 else slope)
            D[i, j] = d
            gb[j] += d


@_compile
def _backward_logistic(A, D, gb, one, slope):
    """``D <- (D * A) * (1 - A)``, then column sums into ``gb``."""
    for j in range(D.shape[1]):
        gb[j] = 0.0
    for i in range(D.shape[0]):
        for j in range(D.shape[1]):
            a = A[i, j]
            d = (D[i, j] * a) * (one - a)
            D[i, j] = d
            gb[j] += d


@_compile
def _backward_tanh(A, D, gb, one, slope):
    """``D <- D * (1 - A * A)``, then column sums into ``gb``."""
    for j in range(D.shape[1]):
        gb[j] = 0.0
    for i in range(D.shape[0]):
        for j in range(D.shape[1]):
            a = A[i, j]
            d = D[i, j] * (one - a * a)
            D[i, j] = d
            gb[j] += d


@_compile
def _backward_elu(A, D, gb, one, slope):
    """``D <- D * (min(A, 0) + 1)``, then column sums into ``gb``."""
    for j in range(D.shape[1]):
        gb[j] = 0.0
    zero = one - one  # typed like the arrays, so float32 stays float32
    for i in range(D.shape[0]):
        for j in range(D.shape[1]):
            a = A[i, j]
            # min(a, 0) + 1 with NaN staying NaN, as np.minimum does
            d = D[i, j] * ((zero if a > zero else a) + one)
            D[i, j] = d
            gb[j] += d


# ------------------------------------------------------------------ output
@_compile
def _softmax_log_loss(Z, b, Y, sw, inv_S, D, gb, eps):
    """Softmax output, categorical cross-entropy and output delta in one pass.

    Row by row: ``Z <- softmax(Z + b)`` (the row maximum subtracted before
    ``exp``), the per-sample loss ``-sum_j y_j log(clip(p_j, eps, 1 - eps))``,
    the delta ``D = (P - Y) * (s_i / S)`` and its column sums ``gb``.  ``sw``
    holds the sample weights, or is empty for unit weights; ``inv_S`` is
    ``1 / S`` in the arrays' dtype.  Returns the weighted loss sum
    ``sum_i s_i l_i`` accumulated in float64 (the caller divides by ``S``).

    ``exp`` and ``log`` here are LLVM's, not NumPy's, so probabilities and
    the loss can differ from the NumPy path in the last bit.
    """
    n, k = Z.shape
    one = eps / eps  # typed like the arrays, so float32 stays float32
    zero = one - one
    upper = one - eps
    weighted = sw.shape[0] > 0
    total = 0.0
    for j in range(k):
        gb[j] = 0.0
    for i in range(n):
        top = Z[i, 0] + b[0]
        for j in range(k):
            z = Z[i, j] + b[j]
            Z[i, j] = z
            if z > top:
                top = z
        norm = zero
        for j in range(k):
            e = math.exp(Z[i, j] - top)
            Z[i, j] = e
            norm += e
        scale = sw[i] * inv_S if weighted else inv_S
        loss = 0.0
        for j in range(k):
            p = Z[i, j] / norm
            Z[i, j] = p
            y = Y[i, j]
            if y != 0:
                q = eps if p < eps else (upper if p > upper else p)
                loss -= y * math.log(q)
            d = (p - y) * scale
            D[i, j] = d
            gb[j] += d
        total += sw[i] * loss if weighted else loss
    return total


# ------------------------------------------------- parametric activations
# f(z) = (1 - a) z + a g(z) with one ``a`` per column (blocks.py).  NumPy's
# SIMD code evaluates the transcendental part ``E`` first, ten times faster
# than scalar libm calls in a loop; these kernels do the rest in one pass.
# They agree with the NumPy code to rounding, not to the bit: ``ga`` is summed
# row by row.
@_compile
def _param_selu_forward(Z, E, a, out, G, c1, c2, one):
    """``E = exp(min(Z, 0)) - 1`` (``blocks._selu_part``)."""
    zero = one - one
    for i in range(Z.shape[0]):
        for j in range(Z.shape[1]):
            z = Z[i, j]
            g = c1 * z if z > zero else c2 * E[i, j]
            G[i, j] = g
            out[i, j] = (one - a[j]) * z + a[j] * g


@_compile
def _param_selu_backward(Z, G, E, D, a, ga, learn, c1, c2, one):
    zero = one - one
    for i in range(Z.shape[0]):
        for j in range(Z.shape[1]):
            z, g, d = Z[i, j], G[i, j], D[i, j]
            if learn:
                ga[j] += d * (g - z)
            slope = c1 if z > zero else g + c2
            D[i, j] = d * ((one - a[j]) + a[j] * slope)


@_compile
def _param_mish_forward(Z, E, a, out, G, c1, c2, one):
    """``E = exp(min(Z, clip))``; ``tanh(softplus(z)) = n / (n + 2)`` with
    ``n = u (u + 2)`` (see ``blocks``)."""
    two = one + one
    for i in range(Z.shape[0]):
        for j in range(Z.shape[1]):
            z, u = Z[i, j], E[i, j]
            n = u * (u + two)
            g = z * (n / (n + two))
            G[i, j] = g
            out[i, j] = (one - a[j]) * z + a[j] * g


@_compile
def _param_mish_backward(Z, G, E, D, a, ga, learn, c1, c2, one):
    """``E`` as in the forward pass; ``sigma(z) = u / (1 + u)``."""
    two = one + one
    for i in range(Z.shape[0]):
        for j in range(Z.shape[1]):
            z, g, d, u = Z[i, j], G[i, j], D[i, j], E[i, j]
            if learn:
                ga[j] += d * (g - z)
            n = u * (u + two)
            t = n / (n + two)
            slope = t + z * (one - t * t) * (u / (one + u))
            D[i, j] = d * ((one - a[j]) + a[j] * slope)


@_compile
def _param_relu_forward(Z, E, a, out, G, c1, c2, one):
    zero = one - one
    for i in range(Z.shape[0]):
        for j in range(Z.shape[1]):
            z = Z[i, j]
            g = z if z > zero else zero
            G[i, j] = g
            out[i, j] = (one - a[j]) * z + a[j] * g


@_compile
def _param_relu_backward(Z, G, E, D, a, ga, learn, c1, c2, one):
    zero = one - one
    for i in range(Z.shape[0]):
        for j in range(Z.shape[1]):
            z, g, d = Z[i, j], G[i, j], D[i, j]
            if learn:
                ga[j] += d * (g - z)
            slope = one if z > zero else zero
            D[i, j] = d * ((one - a[j]) + a[j] * slope)


PARAMETRIC = {
    "selu": (_param_selu_forward, _param_selu_backward),
    "mish": (_param_mish_forward, _param_mish_backward),
    "relu": (_param_relu_forward, _param_relu_backward),
}
"""Parametric activations by base: ``forward(Z, E, a, out, G, c1, c2, one)``
writes ``g(Z)`` into ``G`` and ``f(Z)`` into ``out``;
``backward(Z, G, E, D, a, ga, learn, c1, c2, one)`` turns ``D`` into
``dZ`` and adds ``sum_i D (g - z)`` into ``ga`` when ``learn``.  ``E`` is the
base's transcendental part (``blocks.BASE_PARTS``), computed in the forward
pass; ``c1, c2`` are SELU's ``lambda`` and ``lambda * alpha``."""

BIAS_FORWARD = {"relu": _bias_relu, "leaky_relu": _bias_leaky_relu}
"""Hidden activations whose bias addition and activation run as one kernel,
``kernel(Z, b, slope)`` (``slope`` is only read by leaky_relu).  The others
(tanh, logistic, elu, gelu) call transcendental functions, which NumPy already
evaluates with SIMD code, and keep NumPy's bit-exact results that way."""

BACKWARD = {
    "identity": _backward_identity,
    "relu": _backward_relu,
    "leaky_relu": _backward_leaky_relu,
    "logistic": _backward_logistic,
    "tanh": _backward_tanh,
    "elu": _backward_elu,
}
"""Hidden activations whose derivative product and bias gradient run as one
kernel, ``kernel(A, D, gb, one, slope)``: ``D`` becomes ``dZ`` in place and ``gb``
its column sums.  GELU's derivative needs the pre-activation and stays on
NumPy."""

OUTPUT = {"log_loss": _softmax_log_loss}
"""Losses whose output activation, loss value, output delta and output bias
gradient run as one kernel,
``kernel(Z, b, Y, sw, inv_S, D, gb, eps) -> weighted loss sum``."""
