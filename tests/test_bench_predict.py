"""Smoke test of benchmarks/bench_predict.py (prediction latency).

The script runs in its ``--quick`` mode, in-process; only the report's shape
is checked, never the timings.
"""

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_predict.py"

# --quick: a small and a "big" network, one row and a 100-row batch each
EXPECTED_ROWS = set()
for _network in ("small 64-100", "big 256-256-256"):
    for _rows in ("1 row", "100 rows"):
        EXPECTED_ROWS |= {
            ("classifier predict", f"{_network}-10", _rows),
            ("classifier predict_proba", f"{_network}-10", _rows),
            ("regressor predict", f"{_network}-1", _rows),
        }


@pytest.fixture(scope="module")
def bench():
    if not SCRIPT.is_file():  # pragma: no cover - an sdist without benchmarks/
        pytest.skip(f"{SCRIPT} not found")
    spec = importlib.util.spec_from_file_location("_bench_predict", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _table(report):
    """Header cells and body rows (lists of cells) of the Markdown table."""
    lines = [line for line in report.splitlines() if line.startswith("|")]
    cells = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]
    assert set(cells[1]) <= {"---", "---:"}
    return cells[0], cells[2:]


def test_quick_run_reports_every_case(bench, capsys, tmp_path):
    markdown = tmp_path / "predict.md"
    args = ["--quick", "--repeats", "1", "--markdown", str(markdown)]
    assert bench.main(args) == 0
    out = capsys.readouterr().out
    assert markdown.read_text() == out

    assert "prediction latency" in out
    assert "scikit-learn" in out and "BLAS:" in out
    assert "OPENBLAS_CORETYPE" in out and "OPENBLAS_L2_SIZE" in out

    header, rows = _table(out)
    assert header == [
        "case",
        "network",
        "rows",
        "calls/round",
        "sklearn µs",
        "sknn µs",
        "ratio (sklearn/sknn)",
    ]
    assert {tuple(row[:3]) for row in rows} == EXPECTED_ROWS
    assert len(rows) == len(EXPECTED_ROWS)
    for row in rows:
        calls = int(row[3])
        sklearn_us, sknn_us, ratio = (float(cell) for cell in row[4:])
        assert calls >= 1
        assert sklearn_us > 0 and sknn_us > 0
        # the ratio is computed from the unrounded times
        assert ratio == pytest.approx(sklearn_us / sknn_us, rel=0.05, abs=0.01)


def test_openblas_variables_text(bench):
    lib = bench.benchlib  # the benchmarks' shared helpers
    unset = lib.openblas_variables_text({})
    assert unset == "OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset"
    text = lib.openblas_variables_text({"OPENBLAS_CORETYPE": "Haswell"})
    assert text.startswith("set: OPENBLAS_CORETYPE=Haswell")
    assert "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE" in text


def test_load_line_warns_on_a_busy_machine(bench, monkeypatch):
    lib = bench.benchlib
    monkeypatch.setattr(lib.os, "cpu_count", lambda: 2)
    assert "WARNING" not in lib.load_line(0.5, 1.0)
    assert "WARNING" in lib.load_line(0.5, 3.5)
    assert lib.load_line(None, None) == "CPUs: 2; load average unavailable"
