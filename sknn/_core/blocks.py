"""Hidden blocks for the tabular networks: NTP-parametrized dense layers and
parametric activations.

``ScaledDense`` computes ``Z = (A @ W) / sqrt(n_in) + beta * b`` with
``W ~ N(0, 1)``: the neural-tangent parametrization (Jacot et al., 2018) that
RealMLP uses, under which one learning rate suits every width.  ``beta`` is
the biases' learning-rate multiplier, written as a parametrization (see
:mod:`.embeddings`).  :meth:`ScaledDense.data_init` places the biases from a
data sample, so each unit's kink starts at a training point.

``ParametricActivation`` mixes a base activation with the identity, one
learnable weight per unit: ``f(z) = (1 - a) z + a g(z)``, ``a`` starting at 1.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np

from .backend import NUMPY
from .layers import Constant, Dense, Layer, Normal, ParamSpec, predict_matmul
from .registry import lookup

__all__ = ["BASE_ACTIVATIONS", "ParametricActivation", "ScaledDense"]

_SELU_L = 1.0507009873554805
_SELU_A = 1.6732632423543772


class ScaledDense(Dense):
    """A linear layer in the NTP parametrization (no activation of its own).

    Parameters
    ----------
    units : int
    bias_mult : float
        ``beta``; the network's last layer keeps 1 (the output kernels add
        its bias as stored).
    """

    def __init__(self, units, bias_mult=1.0):
        super().__init__(units, None)
        self.bias_mult = float(bias_mult)

    def build(self, n_in, dtype):
        n_out = super().build(n_in, dtype)
        # Python floats holding the dtype's values: any array namespace takes them
        self.scale = float(self.dtype.type(1.0 / math.sqrt(self.n_in)))
        self._beta = float(self.dtype.type(self.bias_mult))
        return n_out

    def params(self):
        return [
            ParamSpec("W", (self.n_in, self.n_out), True, Normal(1.0)),
            ParamSpec("b", (self.n_out,), False, Constant(0.0)),
        ]

    def workspace(self, capacity, need_input_grad, backend=NUMPY):
        buf = super().workspace(capacity, need_input_grad, backend)
        buf.Z_kept = None
        return buf

    def linear(self, A, W, buf, n, backend):
        Z = super().linear(A, W, buf, n, backend)
        Z *= self.scale
        return Z

    def forward(self, A, P, buf, n, backend):
        W, b = P
        Z = self.linear(A, W, buf, n, backend)
        Z += b * self._beta
        buf.A_out = Z
        return Z

    def backward(self, dA, P, G, buf, n, need_input_grad, backend, bias_done=False):
        W, _ = P
        gW, gb = G
        backend.matmul_t(buf.A_in, dA, gW)
        gW *= self.scale
        if bias_done:  # the output kernel summed the delta into gb
            gb *= self._beta
        else:
            backend.sum_rows(dA, gb)
            gb *= self._beta
        if not need_input_grad:
            return None
        dX = backend.matmul(dA, W.T, buf.dX[:n, :])
        dX *= self.scale
        return dX

    def predict(self, A, P, backend):
        W, b = P
        Z = predict_matmul(A, W, backend)
        Z *= self.scale
        Z += b * self._beta
        return Z

    def data_init(self, A, P, rng):
        """Set the biases so that unit ``j`` is 0 at a random row of ``A``."""
        W, b = P
        Z = np.asarray(A @ W) * self.scale
        rows = rng.integers(0, Z.shape[0], size=self.n_out)
        b[...] = -Z[rows, np.arange(self.n_out)] / self._beta


# base activations: value g(z) and derivative g'(z) from z and g(z), written
# with the functions of the array namespace ``xp`` (NumPy's by default).
# SELU's negative branch is ``exp(min(z, 0)) - 1``, not ``expm1``: NumPy
# evaluates ``exp`` with SIMD code, three times faster than its scalar
# ``expm1``, and the difference (at most one unit of 1.0's last place,
# absolute) is far below what training can tell apart.
def _selu(Z, xp=np):
    neg = (_SELU_L * _SELU_A) * (xp.exp(xp.minimum(Z, 0.0)) - 1.0)
    return xp.where(Z > 0, _SELU_L * Z, neg)


def _selu_grad(Z, G, xp=np):
    return xp.where(Z > 0, _SELU_L, G + _SELU_L * _SELU_A)


# Mish, g(z) = z tanh(softplus(z)), from one exponential: with u = exp(z),
# tanh(log(1 + u)) = u (u + 2) / (u (u + 2) + 2) and sigma(z) = u / (1 + u);
# exp(min(z, MISH_CLIP)) keeps u finite, and beyond the clip both are 1 in
# float64 (and float32) arithmetic.
MISH_CLIP = 20.0


def _mish_tanh_sigma(U):
    """``tanh(softplus(z))`` and ``sigma(z)`` from ``U = exp(min(z, clip))``."""
    N = U * (U + 2.0)
    return N / (N + 2.0), U / (1.0 + U)


def _mish(Z, xp=np):
    T, _ = _mish_tanh_sigma(xp.exp(xp.minimum(Z, MISH_CLIP)))
    return Z * T


def _mish_grad(Z, G, xp=np):
    T, sig = _mish_tanh_sigma(xp.exp(xp.minimum(Z, MISH_CLIP)))
    return T + Z * (1.0 - T * T) * sig


def _relu(Z, xp=np):
    return xp.maximum(Z, 0.0)


def _relu_grad(Z, G, xp=np):
    positive = Z > 0
    if xp is np:
        return positive.astype(Z.dtype)
    return xp.astype(positive, Z.dtype)


def _selu_part(Z, out):
    np.minimum(Z, 0, out=out)
    np.exp(out, out=out)
    out -= 1
    return out


def _mish_part(Z, out):
    np.minimum(Z, MISH_CLIP, out=out)
    return np.exp(out, out=out)


BASE_PARTS = {"selu": _selu_part, "mish": _mish_part, "relu": None}
"""The transcendental part the compiled kernels read, by base:
``part(Z, out)`` (None: none); the backward kernels reuse it."""

BASE_ACTIVATIONS = {
    "selu": (_selu, _selu_grad),
    "mish": (_mish, _mish_grad),
    "relu": (_relu, _relu_grad),
}
"""Bases ``g`` of :class:`ParametricActivation`: ``(g, g')`` by name."""


class ParametricActivation(Layer):
    """``f(z) = (1 - a) z + a g(z)``, one learnable ``a`` per unit.

    Parameters
    ----------
    base : str
        A key of :data:`BASE_ACTIVATIONS`.
    learnable : bool
        False keeps ``a = 1``: the plain base activation.
    lr_mult : float
        Learning-rate multiplier of ``a``.
    """

    def __init__(self, base="selu", learnable=True, lr_mult=0.1):
        lookup(BASE_ACTIVATIONS, base, "base", "ParametricActivation")
        self.base = base
        self.learnable = bool(learnable)
        self.lr_mult = float(lr_mult)

    def build(self, n_in, dtype):
        self.n_in = self.n_out = int(n_in)
        self.dtype = np.dtype(dtype)
        self._g, self._dg = lookup(
            BASE_ACTIVATIONS, self.base, "base", "ParametricActivation"
        )
        # a fixed a = 1 and a gradient sink for the kernels when not learnable
        self._ones = np.ones(self.n_in, self.dtype)
        self._no_grad = np.empty(self.n_in, self.dtype)
        return self.n_out

    def params(self):
        if not self.learnable:
            return []
        return [ParamSpec("a", (self.n_in,), False, Constant(1.0 / self.lr_mult))]

    def workspace(self, capacity, need_input_grad, backend=NUMPY):
        empty = backend.empty
        shape, dt = (capacity, self.n_in), self.dtype
        return SimpleNamespace(
            Z=None,
            G=None,
            a=None,
            out=empty(shape, dt),
            G_buf=empty(shape, dt),
            E=empty(shape, dt),
        )

    def _mix(self, P):
        if not self.learnable:
            return None
        return P[0] * self.lr_mult

    def _apply(self, Z, G, a, backend):
        if a is None:
            return backend.copy(G)
        return (1.0 - a) * Z + a * G

    def _constants(self):
        dt = self.dtype.type
        return dt(_SELU_L), dt(_SELU_L * _SELU_A), dt(1.0)

    def forward(self, A, P, buf, n, backend):
        a = buf.a = self._mix(P)  # the backward pass reuses it
        kernel = backend.parametric.get(self.base)
        if kernel is not None:
            out, G, E = buf.out[:n], buf.G_buf[:n], buf.E[:n]
            part = BASE_PARTS[self.base]
            if part is not None:
                part(A, E)
            mix = self._ones if a is None else a
            kernel[0](A, E, mix, out, G, *self._constants())
            buf.Z, buf.G = A, G
            return out
        G = backend.astype(self._g(A, backend.xp), self.dtype)
        buf.Z, buf.G = A, G
        return self._apply(A, G, a, backend)

    def backward(self, dA, P, G, buf, n, need_input_grad, backend):
        Z, Gz, a = buf.Z, buf.G, buf.a
        kernel = backend.parametric.get(self.base)
        if kernel is not None:
            ga = self._no_grad if a is None else G[0]
            ga[...] = 0
            mix = self._ones if a is None else a
            E = buf.E[:n]
            kernel[1](Z, Gz, E, dA, mix, ga, a is not None, *self._constants())
            if a is not None:
                ga *= self.lr_mult
            return dA if need_input_grad else None
        if a is not None:
            (ga,) = G
            backend.sum_rows(dA * (Gz - Z), ga)
            ga *= self.lr_mult
        if not need_input_grad:
            return None
        slope = self._dg(Z, Gz, backend.xp)
        if a is not None:
            slope = (1.0 - a) + a * slope
        dA *= slope
        return dA

    def predict(self, A, P, backend):
        kernel = backend.parametric.get(self.base)
        if kernel is not None and A.dtype == self.dtype:
            # the training forward's kernel, into fresh arrays (thread-safe)
            E, G, out = (np.empty_like(A) for _ in range(3))
            part = BASE_PARTS[self.base]
            if part is not None:
                part(A, E)
            a = self._mix(P)
            kernel[0](A, E, self._ones if a is None else a, out, G,
                      *self._constants())  # fmt: skip
            return out
        G = backend.astype(self._g(A, backend.xp), backend.result_dtype(A))
        return self._apply(A, G, self._mix(P), backend)
