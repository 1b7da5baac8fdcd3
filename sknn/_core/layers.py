"""Layers: one protocol for every piece of a :class:`~.network.Network`.

A layer declares its parameters and computes its forward and backward passes;
the network owns the flat parameter and gradient vectors and hands each layer
views of its slices.  The protocol (see :class:`Layer`)::

    n_out = layer.build(n_in, dtype)        # once, when the network is made
    layer.params()                          # [ParamSpec(name, shape, decay, init)]
    buf = layer.workspace(capacity, need_input_grad, backend)  # buffers (or None)
    A = layer.forward(A, P, buf, n, backend)  # training; P: views of its params
    dA = layer.backward(dA, P, G, buf, n, need_input_grad, backend)
    A = layer.predict(A, P, backend)          # evaluation: fresh arrays, no state

``P`` and ``G`` are lists of views, in the order of ``params()``, into the
parameter and gradient vectors; ``backward`` writes the gradients of its
parameters into ``G`` and returns the gradient with respect to its input
(None when ``need_input_grad`` is False: nothing upstream needs it).
``backend`` is the fit's :class:`~.backend.Backend`: a layer takes its fused
kernels from it (and falls back to NumPy where it offers none); a layer
without kernels ignores it.  A layer never knows which optimizer or solver
trains it.  Non-trainable state, if any, is set in ``build``.

:class:`Dense` (a matrix product, a bias and an activation, with the fused
bias+activation and derivative+bias-gradient kernels) and :class:`Dropout`
make up the scikit-learn MLP; the network's last layer is a linear
:class:`Dense` whose output activation and loss the network applies together
(the canonical-link delta, see :mod:`.losses`).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Callable

import numpy as np
import scipy.sparse as sp

from .activations import ACTIVATIONS, LEAKY_RELU_SLOPE
from .backend import NUMPY
from .registry import lookup

__all__ = [
    "Constant",
    "Dense",
    "Dropout",
    "Layer",
    "Normal",
    "ParamSpec",
    "RandomSigns",
    "Uniform",
    "glorot_uniform",
    "predict_matmul",
]


@dataclass(frozen=True)
class ParamSpec:
    """One parameter array of a layer.

    Attributes
    ----------
    name : str
    shape : tuple of int
    decay : bool
        Whether the L2 penalty and weight decay apply (the network stores all
        decayed parameters first, as one leading slice of the vector).
    init : callable
        ``init(rng, shape) -> ndarray``: its initial value, drawn from the
        fit's ``numpy.random.Generator``.
    """

    name: str
    shape: tuple
    decay: bool
    init: Callable

    @property
    def size(self):
        return int(np.prod(self.shape, dtype=np.int64))


# initialisers: ``init(rng, shape) -> ndarray``; classes, so networks pickle
@dataclass(frozen=True)
class Uniform:
    """Draws ``U(low, high)``."""

    low: float
    high: float

    def __call__(self, rng, shape):
        return rng.uniform(self.low, self.high, shape)


@dataclass(frozen=True)
class Normal:
    """Draws ``N(0, std^2)``."""

    std: float = 1.0

    def __call__(self, rng, shape):
        return rng.normal(0.0, self.std, shape)


@dataclass(frozen=True)
class Constant:
    """Fills with ``value`` (draws nothing)."""

    value: float

    def __call__(self, rng, shape):
        return np.full(shape, float(self.value))


@dataclass(frozen=True)
class RandomSigns:
    """Draws -1 or 1 with equal probability."""

    def __call__(self, rng, shape):
        return rng.choice(np.array([-1.0, 1.0]), size=shape)


def glorot_uniform(bound):
    """Initialiser drawing ``U(-bound, bound)``."""
    return Uniform(-bound, bound)


PREDICT_BLOCK = 1 << 18
"""Float64 values per operand block of :func:`predict_matmul`: blocks of
about 2 MiB stay in cache between their conversion and their product (on
8192 rows, 256 -> 256: 36 ms in blocks of 1024 rows, 41 ms in one)."""


def predict_matmul(A, W, backend=NUMPY):
    """``A @ W`` for evaluation: a row's result does not depend on the rows
    around it, whichever BLAS kernel runs.

    A BLAS ``gemm`` sums a row's ``K`` products in an order that depends on
    where the row falls in the kernel's tiles (OpenBLAS's Haswell ``sgemm``,
    20 rows by 12 by 16: rows 6..11 get another order than rows 0..5 and
    12..19), so in float32 a row's result moves by an ulp when the batch is
    reordered or cut differently.  Narrower floats are therefore multiplied
    in float64 and rounded back: a float32 product is exact in float64, and
    two orders of the float64 sum differ by about ``K * 2**-53`` relative,
    far below float32's rounding step, so the rounded results agree (a
    float64 network keeps its own product, whose order changes stay at
    ``1e-16``).  The rows go through in blocks (:data:`PREDICT_BLOCK`), so
    the float64 copies stay small.

    ``A`` is ``(..., n, K)`` (a stack of matrices, or a sparse matrix) and
    ``W`` ``(..., K, N)``; array-API arrays (``backend.host`` False) take
    their namespace's product unchanged.  Training's forward and backward
    passes keep their own products (``Backend.matmul``); the evaluation
    passes inside a fit (a validation set's outputs, a data-dependent
    initialisation) run the layers' ``predict`` and so use this one.
    """
    if not backend.host:
        return A @ W
    sparse = sp.issparse(A)
    dtype = np.result_type(A.dtype, W.dtype)
    if dtype.kind != "f" or dtype.itemsize >= 8:
        Z = A @ W
        return np.asarray(Z) if sparse else Z
    if sparse:
        A = A.tocsr()  # row blocks
    W64 = W.astype(np.float64)
    *stack, n, k = A.shape
    out = np.empty((*stack, n, W.shape[-1]), dtype)
    width = max(k, W.shape[-1]) * int(np.prod(stack, dtype=np.int64))
    step = max(64, PREDICT_BLOCK // max(width, 1))
    for start in range(0, n, step):
        rows = slice(start, min(start + step, n))
        block = A[rows] if sparse else A[..., rows, :]
        Z = block.astype(np.float64) @ W64
        out[..., rows, :] = np.asarray(Z) if sparse else Z
    return out


class Layer:
    """Base of the layer protocol (see the module docstring)."""

    def build(self, n_in, dtype):
        """Fix the input width and dtype; return the output width."""
        raise NotImplementedError

    def params(self):
        """The layer's parameters, as :class:`ParamSpec` (none by default)."""
        return []

    def workspace(self, capacity, need_input_grad, backend=NUMPY):
        """Buffers for batches of up to ``capacity`` rows (None by default),
        allocated by ``backend``.

        ``need_input_grad`` is False for the network's first layer, whose
        backward pass never computes an input gradient.
        """
        return None

    def forward(self, A, P, buf, n, backend):
        raise NotImplementedError

    def backward(self, dA, P, G, buf, n, need_input_grad, backend):
        raise NotImplementedError

    def predict(self, A, P, backend):
        raise NotImplementedError


class Dense(Layer):
    """``A @ W + b`` followed by an activation (none for the linear head).

    Parameters
    ----------
    units : int
        Output width.
    activation : str or None
        A key of ``ACTIVATIONS``; None for the network's linear last layer.
    init_factor : float
        Glorot's factor ``f`` of the bound ``sqrt(f / (fan_in + fan_out))``
        of both ``W`` and ``b`` (scikit-learn: 2 for logistic networks, else 6).
    """

    def __init__(self, units, activation=None, init_factor=6.0):
        self.units = int(units)
        self.activation = lookup(
            ACTIVATIONS, activation, "activation", "Dense", allow_none=True
        )
        self.init_factor = float(init_factor)

    def build(self, n_in, dtype):
        self.n_in, self.n_out = int(n_in), self.units
        self.dtype = np.dtype(dtype)
        self._name = None if self.activation is None else self.activation.name
        self._one = self.dtype.type(1.0)
        self._slope = self.dtype.type(LEAKY_RELU_SLOPE)
        return self.n_out

    def params(self):
        bound = np.sqrt(self.init_factor / (self.n_in + self.n_out))
        init = glorot_uniform(bound)
        return [
            ParamSpec("W", (self.n_in, self.n_out), True, init),
            ParamSpec("b", (self.n_out,), False, init),
        ]

    def workspace(self, capacity, need_input_grad, backend=NUMPY):
        empty = backend.empty
        dt = self.dtype
        dX = empty((capacity, self.n_in), dt) if need_input_grad else None
        return SimpleNamespace(
            Z=empty((capacity, self.n_out), dt),
            dX=dX,
            A_in=None,
            A_out=None,
            Z_kept=None,
        )

    def linear(self, A, W, buf, n, backend):
        """``Z = A @ W`` into the workspace (``A`` may be sparse)."""
        Z = backend.matmul(A, W, buf.Z[:n, :])
        buf.A_in = A
        return Z

    def forward(self, A, P, buf, n, backend):
        W, b = P
        Z = self.linear(A, W, buf, n, backend)
        act = self.activation
        if act is None:  # a linear layer inside the network
            Z += b
            buf.A_out = Z
            return Z
        buf.Z_kept = Z if act.needs_input else None
        fwd = backend.bias_forward.get(self._name)
        if fwd is not None:
            fwd(Z, b, self._slope)
            A_out = Z
        else:
            Z += b
            # in place for NumPy, except for activations keeping Z
            A_out = backend.activations[self._name].forward(Z)
        buf.A_out = A_out
        return A_out

    def backward(self, dA, P, G, buf, n, need_input_grad, backend, bias_done=False):
        """``dA`` (the gradient of the output) becomes ``dZ`` in place; then
        the weight and bias gradients and, if needed, ``dZ @ W.T``.

        For the linear head ``dA`` is already ``dZ``; ``bias_done`` says the
        bias gradient is filled (by the fused output kernel).
        """
        W, _ = P
        gW, gb = G
        if self.activation is not None:
            bwd = backend.backward.get(self._name)
            if bwd is not None:
                bwd(buf.A_out, dA, gb, self._one, self._slope)
                bias_done = True
            else:
                backend.activations[self._name].backward(buf.A_out, dA, buf.Z_kept)
        D = dA
        backend.matmul_t(buf.A_in, D, gW)
        if not bias_done:
            backend.sum_rows(D, gb)
        if not need_input_grad:
            return None
        return backend.matmul(D, W.T, buf.dX[:n, :])

    def predict(self, A, P, backend):
        W, b = P
        Z = predict_matmul(A, W, backend)
        if self.activation is None:
            Z += b
            return Z
        fwd = backend.bias_forward.get(self._name)
        if fwd is not None:
            fwd(Z, b, self._slope)
            return Z
        Z += b
        return backend.activations[self._name].forward(Z)


class Dropout(Layer):
    """Inverted dropout: training multiplies by a mask, evaluation does not.

    The mask of a batch is drawn by :meth:`draw` (the network draws every
    layer's mask before the forward pass) and set as ``buf.mask``; entries are
    ``1 / (1 - rate)`` with probability ``1 - rate`` and 0 otherwise, so the
    expected output equals the input.  A rate of 0 passes everything through.
    """

    def __init__(self, rate):
        self.rate = float(rate)

    def build(self, n_in, dtype):
        self.n_in = self.n_out = int(n_in)
        self.dtype = np.dtype(dtype)
        return self.n_out

    def workspace(self, capacity, need_input_grad, backend=NUMPY):
        dropped = None
        if self.rate > 0:
            dropped = backend.empty((capacity, self.n_in), self.dtype)
        return SimpleNamespace(dropped=dropped, mask=None)

    def draw(self, rng, n_rows, backend=NUMPY, scale=1.0):
        """The mask of a batch of ``n_rows`` rows at the rate ``rate *
        scale`` (None when that is 0), drawn from ``rng`` (the backend's
        ``mask_source``)."""
        rate = self.rate * scale
        if rate == 0.0:
            return None
        return backend.draw_mask(rng, (n_rows, self.n_in), rate, self.dtype)

    def forward(self, A, P, buf, n, backend):
        M = buf.mask
        if M is None:
            return A
        return backend.multiply(A, M, buf.dropped[:n, :])

    def backward(self, dA, P, G, buf, n, need_input_grad, backend):
        if buf.mask is not None:
            dA *= buf.mask
        return dA

    def predict(self, A, P, backend):
        return A
