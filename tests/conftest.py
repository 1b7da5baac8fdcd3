"""Shared fixtures."""

import os

# scikit-learn's array-API dispatch (tests/test_array_api.py) needs SciPy's
# array-API mode, which SciPy reads when it is first imported
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import pytest  # noqa: E402

from sknn._core import _fused  # noqa: E402

KERNEL_BACKENDS = ["numpy", "numba"] if _fused.AVAILABLE else ["numpy"]


@pytest.fixture(params=KERNEL_BACKENDS)
def kernels(request):
    """Run the test once with NumPy's element-wise code and, when Numba is
    installed, once more with the compiled kernels of ``sknn._core._fused``."""
    with _fused.use(request.param == "numba"):
        yield request.param
