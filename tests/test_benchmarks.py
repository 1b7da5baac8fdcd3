"""Smoke tests of the developer benchmark scripts under benchmarks/."""

import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest

from sknn._core import _fused, training
from sknn._core.network import Network

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name):
    path = BENCHMARKS / f"{name}.py"
    if not path.is_file():  # pragma: no cover - an sdist without benchmarks/
        pytest.skip(f"{path} not found")
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_batch_breakdown_prints_every_piece(capsys):
    breakdown = _load("batch_breakdown")
    breakdown.main(["--workloads", "small", "--dtypes", "float32", "--blocks", "1"])
    out = capsys.readouterr().out
    assert "small float32" in out
    rows = {}
    for line in out.splitlines():
        m = re.match(r"\s+(\S.*?)\s+(\d+\.\d+)\s+(\d+\.\d+)\s*(\d+%)?$", line)
        if m:
            rows[m.group(1)] = (float(m.group(2)), float(m.group(3)), m.group(4))
    expected = {
        "products",
        "products + step",
        "sknn epoch / batches",
        "gather",
        "forward + backward",
        "gradient norm",
        "L2 penalty",
        "Adam step",
    }
    if _fused.enabled():  # the floor runs sknn's compiled kernels
        expected.add("arithmetic floor")
    assert set(rows) == expected
    for name, (fastest, median, share) in rows.items():
        assert 0 < fastest <= median, name
        assert (share is not None) == (name in breakdown.SHARE_ROWS), name


def test_arithmetic_floor_computes_the_gradient():
    """The floor does the backward pass's arithmetic: its gradient is the
    network's own (a floor that skipped work would be a wrong bound)."""
    breakdown = _load("batch_breakdown")
    if not _fused.enabled():
        pytest.skip("the floor needs the compiled kernels")
    rng = np.random.default_rng(0)
    net = Network([5, 7, 6, 3], "relu", "log_loss")
    params = net.init_params(rng)
    X = rng.standard_normal((8, 5))
    Y = np.eye(3, dtype=np.uint8)[rng.integers(0, 3, 8)]
    batches = training._Batches(X, Y, None, 8)
    grad = np.full_like(params, np.nan)
    seen = []

    def gather():
        return next(batches(None))

    floor = breakdown.arithmetic_floor(
        net, params, grad, gather, lambda: seen.append(grad.copy())
    )
    floor()
    expected = np.empty_like(params)
    net.loss_grad(params, X, Y, expected)
    np.testing.assert_allclose(seen[0], expected, rtol=1e-12, atol=1e-15)
