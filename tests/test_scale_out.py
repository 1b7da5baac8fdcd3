"""Scaling out: searches on a dask cluster (and Ray), training on dask arrays.

Each test skips cleanly when its extra (dask, dask-ml, ray) is missing.
"""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.neural_network import MLPClassifier

from sknn import MLPClassifierNN, TabularMLPClassifier

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.slow,  # local dask clusters and Ray
]


@pytest.fixture(scope="module")
def data():
    return make_classification(1200, 10, n_informative=5, random_state=0)


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the cluster's start-up notices
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        )
        client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def _serial(search, X, y):
    return search.fit(X, y).cv_results_["mean_test_score"]


@pytest.mark.parametrize("Search", [GridSearchCV, RandomizedSearchCV])
def test_search_on_a_dask_cluster_equals_the_serial_search(dask_client, data, Search):
    joblib = pytest.importorskip("joblib")
    X, y = data
    grid = {"hidden_layer_sizes": [(8,), (16,)], "alpha": [1e-4, 1e-2]}
    extra = {"n_iter": 3, "random_state": 0} if Search is RandomizedSearchCV else {}

    def make():
        est = MLPClassifierNN(max_iter=15, random_state=0)
        return Search(est, grid, cv=2, **extra)

    with joblib.parallel_backend("dask"):
        distributed = make().fit(X, y)
    # every candidate ran on the cluster's workers, with the same results
    np.testing.assert_allclose(
        distributed.cv_results_["mean_test_score"], _serial(make(), X, y)
    )
    assert dask_client.run(lambda: 1)  # the workers are alive after the search


def test_tabular_search_on_a_dask_cluster(dask_client, data):
    joblib = pytest.importorskip("joblib")
    X, y = data
    search = GridSearchCV(
        TabularMLPClassifier(hidden_layer_sizes=(16,), max_iter=5, random_state=0),
        {"n_ensemble": [1, 2]},
        cv=2,
    )
    with joblib.parallel_backend("dask"):
        search.fit(X, y)
    assert search.best_score_ > 0.7


def test_incremental_training_on_a_dask_array(dask_client, data):
    da = pytest.importorskip("dask.array")
    wrappers = pytest.importorskip("dask_ml.wrappers")
    X, y = data
    Xd = da.from_array(X, chunks=(300, X.shape[1]))  # four blocks
    yd = da.from_array(y, chunks=300)
    assert Xd.numblocks[0] > 1
    scores = {"MLPClassifierNN": [], "MLPClassifier": []}
    for seed in range(3):
        for cls in (MLPClassifierNN, MLPClassifier):
            inc = wrappers.Incremental(cls(random_state=seed), scoring="accuracy")
            for _ in range(5):  # five passes over the stream, block by block
                inc.partial_fit(Xd, yd, classes=[0, 1])
            scores[cls.__name__].append(inc.score(Xd, yd))
    scores = {name: np.mean(s) for name, s in scores.items()}
    # sknn reaches scikit-learn's accuracy on the same stream (mean of 3 seeds;
    # the two draw other initial weights, and over 10 seeds the per-seed spread
    # of either is 0.012)
    assert scores["MLPClassifierNN"] >= scores["MLPClassifier"] - 0.02
    assert scores["MLPClassifierNN"] > 0.75  # far above the 0.5 of chance


def test_search_on_ray(data):
    ray = pytest.importorskip("ray")
    from ray.util.joblib import register_ray

    joblib = pytest.importorskip("joblib")
    register_ray()
    X, y = data
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        search = GridSearchCV(
            MLPClassifierNN(max_iter=10, random_state=0), {"alpha": [1e-4, 1e-2]}, cv=2
        )
        with joblib.parallel_backend("ray"):
            search.fit(X, y)
        serial = GridSearchCV(
            MLPClassifierNN(max_iter=10, random_state=0), {"alpha": [1e-4, 1e-2]}, cv=2
        ).fit(X, y)
        np.testing.assert_allclose(
            search.cv_results_["mean_test_score"],
            serial.cv_results_["mean_test_score"],
        )
    finally:
        ray.shutdown()
