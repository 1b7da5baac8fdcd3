"""The backend of a fit: NumPy's operations, Numba's kernels, or an array API.

A fit chooses its backend once (:func:`for_arrays`, at the start of a
solver's ``solve``) and passes it to the training loop, the network's layers
and the optimizer steps; none of them asks again.  Every backend is a
:class:`~.backend_base.Backend` (what it offers is listed there): ``NUMPY``,
``NUMBA`` (the compiled kernels of :mod:`._fused`), or the array-API backend
of the input's namespace and device (:mod:`.array_api`).

NumPy's and Numba's backends give the same bits (the kernels do NumPy's
arithmetic in NumPy's order), except the softmax output's ``exp``/``log``.
The array-API backend runs the same generic code on the namespace and device
of the input (CuPy, PyTorch, ``array_api_strict``).

One convention for every function of the core that computes: it takes
``backend``, and None means :func:`current` (the host's NumPy or Numba
backend).  Only the solvers look at arrays to choose one (:func:`for_arrays`,
once per ``solve``); functions that only allocate default to ``NUMPY``.

This module is the one place that maps arrays to a backend: it imports
:mod:`.backend_base` and :mod:`.array_api`, and neither imports it.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from . import _fused
from .array_api import backend_of
from .backend_base import Backend

__all__ = ["NUMBA", "NUMPY", "Backend", "current", "for_arrays"]


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
    """The host backend to choose now: Numba's when its kernels are enabled
    (Numba installed, ``SKNN_DISABLE_NUMBA`` unset, see ``_fused.use``)."""
    return NUMBA if _fused.enabled() else NUMPY


def for_arrays(X):
    """The backend for training on ``X``: :func:`current` for NumPy arrays and
    sparse matrices, else the array-API backend of ``X``'s namespace and
    device (:func:`.array_api.backend_of`)."""
    if isinstance(X, np.ndarray) or sp.issparse(X):
        return current()
    return backend_of(X)
