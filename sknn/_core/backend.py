"""The element-wise backend of a fit: NumPy's operations or Numba's kernels.

A fit chooses its backend once (:func:`current`, at the start of a solver's
``solve``) and passes it to the training loop, the network's layers and the
optimizer steps; none of them asks again.  A backend offers:

- the fused kernels by name (``bias_forward``, ``backward``, ``output``,
  ``sgd``/``adam``/``rmsprop``): the compiled ones of :mod:`._fused` for
  Numba, none for NumPy, so a caller falls back to its NumPy code;
- the operations that have no portable array-API form, which the layers,
  the network and the loop call instead of NumPy's: ``matmul`` (a product
  into a preallocated buffer, sparse left operands included), ``sum_rows``
  and ``subtract`` (into a buffer), ``multiply`` (likewise), ``einsum``,
  ``scatter_add`` (an unbuffered ``+=`` at repeated indices), ``axpy``
  (``y += a * x`` without a temporary), ``take_rows`` (a gather into a
  preallocated buffer) and ``quiet`` (the floating-point error state).

The element-wise functions themselves (activations, losses, the optimizers'
NumPy rules) are the NumPy backend's reference tables: they run on NumPy
arrays, in place.  A second array library adds its own tables beside them and
its own versions of the operations above.

Both backends give the same bits (the kernels do NumPy's arithmetic in NumPy's
order), except the softmax output's ``exp``/``log``.  An array-API backend for
GPU arrays belongs here too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from . import _fused

__all__ = ["NUMBA", "NUMPY", "Backend", "current"]

_QUIET = {"over": "ignore", "invalid": "ignore", "divide": "ignore"}


@dataclass(frozen=True)
class Backend:
    """A set of element-wise kernels and the NumPy-only operations.

    Attributes
    ----------
    name : str
    bias_forward, backward, output : dict
        Fused kernels by activation (or loss) name; empty for NumPy.
    steps : dict
        Fused optimizer steps by rule name; empty for NumPy.
    parametric : dict
        Fused parametric activations by base (``_fused.PARAMETRIC``).
    """

    name: str
    bias_forward: dict = field(default_factory=dict)
    backward: dict = field(default_factory=dict)
    output: dict = field(default_factory=dict)
    steps: dict = field(default_factory=dict)
    parametric: dict = field(default_factory=dict)

    @property
    def compiled(self):
        """Whether this backend runs compiled kernels."""
        return bool(self.steps)

    def axpy(self, a, x, y, buf):
        """``y += a * x`` in place, with ``buf`` as scratch; returns ``y``.

        ``y += a * x`` written with NumPy operators allocates the temporary
        ``a * x`` on every call; for parameter-sized vectors that is a large
        allocation per minibatch, so the product goes into ``buf`` (its
        leading ``n`` entries) instead.  (BLAS's own axpy would avoid the
        buffer, but SciPy links a second BLAS library whose thread pool then
        competes with NumPy's for the cores.)  The compiled backend does it in
        one pass and does not touch ``buf``.
        """
        if self.compiled:
            _fused.axpy(y.dtype.type(a), x, y)
            return y
        tmp = buf[: x.shape[0]]
        np.multiply(x, a, out=tmp)
        y += tmp
        return y

    @staticmethod
    def matmul(A, B, out):
        """``A @ B`` written into ``out``; ``A`` may be a sparse matrix."""
        if type(A) is np.ndarray or not sp.issparse(A):  # the type test is cheap
            return np.matmul(A, B, out=out)
        out[...] = A @ B
        return out

    @staticmethod
    def matmul_t(A, B, out):
        """``A.T @ B`` written into ``out``; ``A`` may be a sparse matrix."""
        if type(A) is np.ndarray or not sp.issparse(A):
            return np.matmul(A.T, B, out=out)
        out[...] = A.T @ B
        return out

    @staticmethod
    def sum_rows(A, out):
        """The column sums of ``A`` (a sum over its rows) written into ``out``."""
        return np.add.reduce(A, axis=0, out=out)

    @staticmethod
    def multiply(a, b, out):
        """``a * b`` written into ``out``."""
        return np.multiply(a, b, out=out)

    @staticmethod
    def subtract(a, b, out):
        """``a - b`` written into ``out``."""
        return np.subtract(a, b, out=out)

    @staticmethod
    def einsum(spec, *operands, out=None):
        """``numpy.einsum`` (into ``out`` when given)."""
        return np.einsum(spec, *operands, out=out)

    @staticmethod
    def scatter_add(target, idx, values):
        """``target[idx[i]] += values[i]`` for every ``i``, repeats included."""
        np.add.at(target, idx, values)
        return target

    @staticmethod
    def take_rows(A, idx, out):
        """``A[idx]`` written into ``out`` (``idx`` holds valid indices).

        ``mode="clip"`` never clips here (the indices come from a
        permutation); unlike the default ``mode="raise"`` it lets NumPy write
        straight into ``out`` instead of through a temporary.
        """
        return np.take(A, idx, axis=0, out=out, mode="clip")

    @staticmethod
    def quiet():
        """Ignore floating-point errors: the loops test finiteness themselves."""
        return np.errstate(**_QUIET)


NUMPY = Backend("numpy")
"""NumPy's operations only."""

NUMBA = Backend(
    "numba",
    bias_forward=_fused.BIAS_FORWARD,
    backward=_fused.BACKWARD,
    output=_fused.OUTPUT,
    steps={"sgd": _fused.sgd, "adam": _fused.adam, "rmsprop": _fused.rmsprop},
    parametric=_fused.PARAMETRIC,
)
"""Numba's compiled kernels (:mod:`._fused`), where they exist."""


def current():
    """The backend to choose now: Numba's when its kernels are enabled
    (Numba installed, ``SKNN_DISABLE_NUMBA`` unset, see ``_fused.use``)."""
    return NUMBA if _fused.enabled() else NUMPY
