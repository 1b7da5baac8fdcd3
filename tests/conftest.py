"""Shared fixtures."""

import pytest

from sknn._core import _fused

KERNEL_BACKENDS = ["numpy", "numba"] if _fused.AVAILABLE else ["numpy"]


@pytest.fixture(params=KERNEL_BACKENDS)
def kernels(request):
    """Run the test once with NumPy's element-wise code and, when Numba is
    installed, once more with the compiled kernels of ``sknn._core._fused``."""
    with _fused.use(request.param == "numba"):
        yield request.param
