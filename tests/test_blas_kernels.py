"""Predictions do not depend on the row order, whichever BLAS kernel runs.

OpenBLAS picks its kernels when it loads (``OPENBLAS_CORETYPE`` overrides the
choice), and its kernels sum a row's products in an order that depends on
where the row sits in the batch; a float32 network's evaluation products must
not show it (``layers.predict_matmul``).  Each kernel needs a fresh process,
so scikit-learn's ``check_methods_sample_order_invariance`` runs in a child
whose environment differs from this one only in the OpenBLAS variables.
"""

import os
import subprocess
import sys

import pytest

_CHILD = """
import sys, warnings
import numpy as np
from sklearn.utils.estimator_checks import check_methods_sample_order_invariance
from threadpoolctl import threadpool_info
from sknn import (
    MLPClassifierNN, MLPRegressorNN, TabularMLPClassifier, TabularMLPRegressor,
)

warnings.simplefilter("ignore")
small = dict(hidden_layer_sizes=(16,), max_iter=30, random_state=0)
estimators = [
    TabularMLPClassifier(**small),
    TabularMLPRegressor(**small),
    MLPClassifierNN(**small),
    MLPRegressorNN(**small),
]
failed = []
for est in estimators:
    for seed in range(3):  # the check permutes with NumPy's global generator
        np.random.seed(seed)
        try:
            check_methods_sample_order_invariance(type(est).__name__, est)
        except AssertionError as exc:
            failed.append(f"{type(est).__name__}, permutation seed {seed}: {exc}")
kernels = [i.get("architecture") for i in threadpool_info() if i["user_api"] == "blas"]
print("BLAS kernels:", kernels)
if failed:
    sys.exit("\\n\\n".join(failed))
"""

_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def _has_avx2():
    """Whether this CPU runs OpenBLAS's Haswell kernels (AVX2 and FMA)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line for line in f if line.startswith("flags")), "")
    except OSError:
        return False
    return {"avx2", "fma"} <= set(flags.split())


def _child_env(coretype):
    """This process's environment with only the OpenBLAS variables changed:
    ``coretype`` set, or (None) both variables removed."""
    env = dict(os.environ)
    if coretype is None:
        for name in _VARIABLES:
            env.pop(name, None)
    else:
        env["OPENBLAS_CORETYPE"] = coretype
    return env


_KERNELS = {"Haswell": "Haswell", "native": None}


@pytest.fixture(scope="module")
def children():
    """One child per kernel setting, all started at once (each spends most
    of its time importing): ``{id: Popen}``."""
    started = {
        name: subprocess.Popen(
            [sys.executable, "-c", _CHILD],
            env=_child_env(coretype),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, coretype in _KERNELS.items()
        if coretype != "Haswell" or _has_avx2()
    }
    yield started
    for child in started.values():
        if child.poll() is None:  # a test that timed out: do not leave it
            child.kill()
            child.communicate()


@pytest.mark.parametrize(
    "kernel",
    [
        pytest.param(
            "Haswell",
            marks=pytest.mark.skipif(
                not _has_avx2(), reason="the Haswell kernels need AVX2 and FMA"
            ),
        ),
        "native",
    ],
)
def test_sample_order_invariance_under_blas_kernel(children, kernel):
    child = children[kernel]
    stdout, stderr = child.communicate(timeout=300)
    assert child.returncode == 0, (
        f"OPENBLAS_CORETYPE={_KERNELS[kernel]} (native: unset, as is "
        f"OPENBLAS_L2_SIZE): exit {child.returncode}\n"
        f"stdout:\n{stdout}\nstderr:\n{stderr}"
    )
