"""In-place vector updates without temporary arrays.

``y += a * x`` written with NumPy operators allocates ``a * x``; BLAS's axpy
does it in one pass with no allocation.  The optimizers and the L2 gradient
use it on the flat parameter vectors.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg.blas import get_blas_funcs

__all__ = ["axpy"]

_AXPY = {}


def axpy(a, x, y):
    """``y += a * x`` in place; returns ``y``.

    Parameters
    ----------
    a : float
    x : ndarray of shape (n,)
    y : ndarray of shape (n,)
        Updated in place.  BLAS is used for contiguous float32/float64
        vectors of the same dtype, NumPy otherwise.
    """
    if (
        x.dtype == y.dtype
        and y.dtype in (np.float32, np.float64)
        and y.flags.c_contiguous
        and x.flags.c_contiguous
    ):
        fn = _AXPY.get(y.dtype)
        if fn is None:
            fn = _AXPY[y.dtype] = get_blas_funcs("axpy", (y,))
        fn(x, y, a=a)
    else:
        y += a * x
    return y
