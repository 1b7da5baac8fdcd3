"""Smoke tests of the developer benchmark scripts under benchmarks/."""

import importlib.util
import re
from pathlib import Path

import pytest

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
    assert set(rows) == expected
    for name, (fastest, median, share) in rows.items():
        assert 0 < fastest <= median, name
        has_share = name in ("products + step", "sknn epoch / batches")
        assert (share is not None) == has_share, name
