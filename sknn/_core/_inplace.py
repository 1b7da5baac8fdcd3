"""In-place vector updates with a caller-owned scratch buffer.

``y += a * x`` written with NumPy operators allocates the temporary ``a * x``
on every call; for parameter-sized vectors that is a large allocation per
minibatch.  :func:`axpy` writes the product into a preallocated buffer
instead.  (BLAS's own axpy would avoid the buffer, but SciPy links a second
BLAS library whose thread pool then competes with NumPy's for the cores.)
With Numba installed the update is one compiled pass and the buffer is not
touched.
"""

from __future__ import annotations

import numpy as np

from . import _fused

__all__ = ["axpy"]


def axpy(a, x, y, buf):
    """``y += a * x`` in place, using ``buf`` as scratch; returns ``y``.

    Parameters
    ----------
    a : float
    x : ndarray of shape (n,)
    y : ndarray of shape (n,)
        Updated in place.
    buf : ndarray of shape (n,) or larger
        Scratch space (its leading ``n`` entries are overwritten).
    """
    if _fused.enabled():
        _fused.axpy(y.dtype.type(a), x, y)
        return y
    tmp = buf[: x.shape[0]]
    np.multiply(x, a, out=tmp)
    y += tmp
    return y
