"""What a backend offers, written with NumPy: the :class:`Backend` class.

A backend offers:

- the fused kernels by name (``bias_forward``, ``backward``, ``output``,
  ``sgd``/``adam``/``rmsprop``): the compiled ones of :mod:`._fused` for
  Numba, none otherwise, so a caller falls back to its generic code;
- the element-wise tables: ``activations``, ``outputs`` and ``losses``, by
  name (NumPy's registries here; an array-API backend has its own, written
  with its namespace's functions); ``losses`` is a ``LossTable``, so a bound
  loss's name (``'quantile(alpha=0.9)'``) finds that loss in every backend;
- the operations that have no portable array-API form, which the layers,
  the network, the optimizers and the loop call instead of NumPy's:
  ``matmul`` (a product into a preallocated buffer, sparse left operands
  included), ``sum_rows``, ``subtract``, ``multiply``, ``divide`` and
  ``sqrt`` (into a buffer), ``einsum``, ``scatter_add`` (an unbuffered
  ``+=`` at repeated indices), ``axpy`` (``y += a * x`` without a
  temporary), ``take_rows`` (a gather into a preallocated buffer) and
  ``quiet`` (the floating-point error state);
- allocation and conversion: ``empty``, ``zeros_like``, ``empty_like``,
  ``copy``, ``asarray`` (host values into the backend's arrays),
  ``indices`` (a host index array), ``all_finite``, ``total`` and
  ``draw_mask`` (a dropout mask from the fit's random source).

The methods here are NumPy's (the NumPy and Numba backends are instances of
this class); :class:`.array_api.ArrayAPIBackend` subclasses it for other
namespaces.  Which backend a fit uses is chosen in :mod:`.backend`, which
imports both; this module imports neither.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from . import _fused
from .activations import ACTIVATIONS, OUTPUT_ACTIVATIONS
from .losses import LOSSES

__all__ = ["Backend"]

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
    activations, outputs, losses : dict
        The element-wise tables: hidden and output activations and losses
        by name, for this backend's arrays (``losses``: a ``LossTable``,
        which resolves bound names too).
    """

    name: str
    bias_forward: dict = field(default_factory=dict)
    backward: dict = field(default_factory=dict)
    output: dict = field(default_factory=dict)
    steps: dict = field(default_factory=dict)
    parametric: dict = field(default_factory=dict)
    activations: dict = field(default_factory=lambda: ACTIVATIONS)
    outputs: dict = field(default_factory=lambda: OUTPUT_ACTIVATIONS)
    losses: dict = field(default_factory=lambda: LOSSES)
    host = True
    """Whether the arrays are NumPy's (sparse inputs included)."""
    xp = np
    """The array namespace of the element-wise functions the layers call
    (``cos``, ``exp``, ``where``, ...): NumPy here."""

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
    def divide(a, b, out):
        """``a / b`` written into ``out``."""
        return np.divide(a, b, out=out)

    @staticmethod
    def sqrt(a, out):
        """``sqrt(a)`` written into ``out``."""
        return np.sqrt(a, out=out)

    @staticmethod
    def einsum(spec, *operands, out=None):
        """``numpy.einsum`` (into ``out`` when given)."""
        return np.einsum(spec, *operands, out=out)

    def scatter_add(self, target, idx, values):
        """``target[idx[i]] += values[i]`` for every ``i``, repeats included
        (rows of a 2-D ``target``; the compiled backend adds them in one
        loop, in ``np.add.at``'s order)."""
        if self.compiled and target.ndim == 2 and values.ndim == 2:
            _fused.scatter_add(target, idx, values)
            return target
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

    # shapes: methods on NumPy arrays, functions of an array-API namespace
    @staticmethod
    def reshape(a, shape):
        """``a`` reshaped (a view where the layout allows)."""
        return a.reshape(shape)

    @staticmethod
    def permute(a, axes):
        """``a`` with its axes in the order ``axes`` (a view)."""
        return a.transpose(axes)

    @staticmethod
    def concat(arrays, axis=0):
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def astype(a, dtype):
        """``a`` as the NumPy dtype ``dtype`` (no copy when it already is)."""
        return a.astype(dtype, copy=False)

    @staticmethod
    def result_dtype(*arrays):
        """The NumPy dtype that arithmetic on ``arrays`` gives."""
        return np.result_type(*arrays)

    @staticmethod
    def numpy_dtype(dtype):
        """The NumPy dtype of this backend's dtype ``dtype``."""
        return np.dtype(dtype)

    # allocation and conversion
    @staticmethod
    def empty(shape, dtype):
        """An uninitialised array of NumPy dtype ``dtype``."""
        return np.empty(shape, dtype=dtype)

    @staticmethod
    def zeros(shape, dtype):
        return np.zeros(shape, dtype=dtype)

    @staticmethod
    def zeros_like(a):
        return np.zeros_like(a)

    @staticmethod
    def empty_like(a):
        return np.empty_like(a)

    @staticmethod
    def copy(a):
        return a.copy()

    @staticmethod
    def asarray(a):
        """A NumPy array (or sparse matrix) as this backend's array."""
        return a

    @staticmethod
    def indices(idx):
        """A NumPy index array as this backend's index array."""
        return idx

    @staticmethod
    def all_finite(a):
        return bool(np.isfinite(a).all())

    @staticmethod
    def total(a):
        """``sum(a)`` as a Python float."""
        return float(a.sum())

    @staticmethod
    def draw_mask(rng, shape, rate, dtype):
        """An inverted-dropout mask drawn from the ``numpy.random.Generator``
        ``rng``: 0 with probability ``rate``, else ``1 / (1 - rate)``.

        The draw is 16 random bits per entry (an entry is dropped when they
        fall below ``rate`` in units of ``2**-16``), not a float: half the
        random bits of a float32 uniform, a quarter of a float64 one, and one
        comparison.  ``rate`` is thus rounded to a multiple of ``2**-16``
        (at most ``7.6e-6`` away), and the kept entries are scaled by the
        inverse of the rounded keep probability, so the mask's expectation
        is exactly 1.
        """
        levels = 1 << 16
        dropped = min(round(rate * levels), levels - 1)
        bits = rng.integers(0, levels, size=shape, dtype=np.uint16)
        M = np.empty(shape, dtype)
        np.multiply(bits >= dropped, M.dtype.type(levels / (levels - dropped)), out=M)
        return M

    def mask_source(self, rng):
        """The random source of the dropout masks: the fit's generator."""
        return rng
