"""One BLAS thread policy for training (every solver) and prediction.

Small matrix products get slower with more BLAS threads: starting and
synchronising the threads costs more than the product, and idle OpenBLAS
threads spin on the cores the rest of the work needs.  So every place that
runs products (the stochastic loop, L-BFGS, ``predict``) sizes NumPy's BLAS
pool from the work of one call of its products (:func:`forward_macs`): one
thread per :data:`MACS_PER_BLAS_THREAD` multiply-adds, at least one, at most
what BLAS is allowed now (a user's ``threadpoolctl.threadpool_limits`` is
respected), and holds any other BLAS library (SciPy's) at one thread.

A pool is process-wide, so :func:`blas_limit` is reentrant and thread-safe:
the first caller to enter resizes the pools, the last to leave restores them,
and callers in between run with them as they are.  The thread count only
changes speed, never results (OpenBLAS may also ignore a count set from a
thread other than the one that set it last).
"""

from __future__ import annotations

import contextlib
import os
import threading

import numpy as np
from threadpoolctl import ThreadpoolController

__all__ = ["MACS_PER_BLAS_THREAD", "blas_limit", "blas_threads", "forward_macs"]

MACS_PER_BLAS_THREAD = 2_000_000
"""Multiply-adds per call that keep one more BLAS thread busy."""

WEIGHT_READ_ROWS = 4
"""Rows of work that reading the weights counts for in :func:`forward_macs`.

A product reads its whole weight matrix however few rows it has, so a pass of
one row through a wide network is memory-bound and runs faster on more
threads: on two cores, one row through 1024-1024-1024-10 takes 425 us on two
BLAS threads and 665 us on one, while 256 rows through 64-100-10 take 12%
longer on two.  Counting the weights four extra times gives the first two
threads and the second one.
"""

SMALL_MACS = MACS_PER_BLAS_THREAD // 32
"""Work below which :func:`blas_limit` leaves the pool alone.

BLAS libraries run products this small on one thread by themselves, and
resizing the pool (a few library calls each way) would cost more than the
products.
"""

_BLAS = []
_LOCK = threading.Lock()
_STATE = {"depth": 0, "saved": None}


def _blas_libs():
    """The process's BLAS controllers as (NumPy's, the others), found once.

    Scanning the loaded libraries allocates a few hundred KiB of Python
    objects; doing it once per process keeps that out of every fit and
    prediction.  NumPy's wheels bundle their own OpenBLAS, SciPy's another:
    NumPy's runs sknn's products, SciPy's L-BFGS-B's vector work.  When no
    library can be told to be NumPy's (one shared BLAS, the usual case
    outside wheels), all of them count as NumPy's.
    """
    if not _BLAS:
        libs = ThreadpoolController().select(user_api="blas").lib_controllers
        home = os.path.dirname(os.path.dirname(np.__file__))
        numpy_dirs = tuple(
            os.path.join(home, name) + os.sep for name in ("numpy", "numpy.libs")
        )
        ours = [lib for lib in libs if str(lib.filepath).startswith(numpy_dirs)]
        if not ours or len(libs) == 1:
            ours = libs
        _BLAS.append((ours, [lib for lib in libs if lib not in ours]))
    return _BLAS[0]


def forward_macs(coef_shapes, n_rows):
    """Work of one forward pass of ``n_rows`` rows, in multiply-adds.

    ``n_rows`` multiply-adds per weight, plus :data:`WEIGHT_READ_ROWS` for
    reading it.
    """
    n_weights = sum(int(a) * int(b) for a, b in coef_shapes)
    return (int(n_rows) + WEIGHT_READ_ROWS) * n_weights


def blas_threads(macs):
    """BLAS threads worth using for products totalling ``macs`` multiply-adds.

    Returns
    -------
    wanted : int
    allowed : int
        The current thread limit of NumPy's BLAS.
    """
    allowed = max((lib.num_threads for lib in _blas_libs()[0]), default=1)
    wanted = int(min(allowed, max(1, macs // MACS_PER_BLAS_THREAD)))
    return wanted, allowed


@contextlib.contextmanager
def blas_limit(macs):
    """Run the body with the BLAS pools sized for ``macs`` multiply-adds.

    NumPy's BLAS gets :func:`blas_threads` threads; every other BLAS library
    is held at one thread meanwhile: two OpenBLAS pools that both spin
    threads on two cores slow L-BFGS-B down 1.4x to 3x (on digits, 0.28 s
    with both at two threads, 0.11 s with SciPy's at one).
    """
    ours, others = _blas_libs()
    with _LOCK:
        if _STATE["depth"] == 0 and macs >= SMALL_MACS:
            wanted, allowed = blas_threads(macs)
            changes = [(lib, wanted) for lib in ours if wanted < allowed]
            changes += [(lib, 1) for lib in others if lib.num_threads > 1]
            if changes:
                _STATE["saved"] = [(lib, lib.num_threads) for lib, _ in changes]
                for lib, n in changes:
                    lib.set_num_threads(n)
        _STATE["depth"] += 1
    try:
        yield
    finally:
        with _LOCK:
            _STATE["depth"] -= 1
            if _STATE["depth"] == 0 and _STATE["saved"] is not None:
                for lib, n in _STATE["saved"]:
                    lib.set_num_threads(n)
                _STATE["saved"] = None
