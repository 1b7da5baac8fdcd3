"""Saving sknn models: skops round trips with sknn's trusted types, and the
tabular pair's pickles (version warning, rebuilt network)."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression

import sknn
from sknn import (
    MLPClassifierNN,
    MLPRegressorNN,
    TabularMLPClassifier,
    TabularMLPRegressor,
)

pd = pytest.importorskip("pandas")


def _table(n=120, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "gap": np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n)),
            "few": pd.Categorical(rng.choice(["a", "b", "c"], n)),
            "many": rng.choice([f"k{i}" for i in range(15)], n).astype(object),
            "flag": rng.random(n) < 0.5,
        }
    )
    return X, X["x"].to_numpy() + (X["few"] == "a")


def _fitted():
    """One fitted model of every kind whose state differs."""
    Xc, yc = make_classification(120, 5, n_informative=3, n_classes=3, random_state=0)
    Xr, yr = make_regression(120, 5, random_state=0)
    X, signal = _table()
    small = dict(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    models = {
        "mlp multiclass adam": (MLPClassifierNN(**small), Xc, yc),
        "mlp binary early stopping": (
            MLPClassifierNN(**small, early_stopping=True),
            Xc,
            yc == 0,
        ),
        "mlp multilabel": (MLPClassifierNN(**small), Xc, np.eye(3)[yc]),
        "mlp regressor lbfgs": (MLPRegressorNN(**small, solver="lbfgs"), Xr, yr),
        "mlp poisson adamw": (
            MLPRegressorNN(**small, loss="poisson", solver="adamw", dropout=0.1),
            Xr,
            np.abs(yr) / 100,
        ),
        "tabular classifier": (
            TabularMLPClassifier(**small, n_ensemble=2),
            X,
            signal > 0,
        ),
        "tabular regressor": (TabularMLPRegressor(**small), X, signal),
        "tabular on an array": (TabularMLPRegressor(**small), Xr, yr),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter reached
        for est, X_, y_ in models.values():
            est.fit(X_, y_)
    return models


MODELS = _fitted()


def _outputs(est, X):
    if hasattr(est, "predict_proba"):
        return est.predict_proba(X)
    return est.predict(X)


def test_trusted_types_are_sknn_types_only():
    trusted = sknn.skops_trusted_types()
    assert trusted == sorted(set(trusted))
    assert all(name.startswith("sknn.") for name in trusted)
    for name in (
        "sknn._mlp.MLPClassifierNN",
        "sknn._tabular.TabularMLPRegressor",
        "sknn._core.network.Network",
        "sknn._core.training.TrainState",
    ):
        assert name in trusted


@pytest.mark.parametrize("name", sorted(MODELS))
def test_skops_round_trip_with_sknn_types(name):
    sio = pytest.importorskip("skops.io")
    est, X, _ = MODELS[name]
    data = sio.dumps(est)
    untrusted = sio.get_untrusted_types(data=data)
    # nothing a user would have to trust beyond sknn's own types
    assert set(untrusted) <= set(sknn.skops_trusted_types())
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException, match="sknn"):
        sio.loads(data)  # skops refuses the sknn types until they are trusted
    loaded = sio.loads(data, trusted=sknn.skops_trusted_types())
    np.testing.assert_array_equal(_outputs(loaded, X), _outputs(est, X))
    assert loaded.get_params() == est.get_params()


@pytest.mark.parametrize("name", ["tabular classifier", "tabular regressor"])
def test_tabular_pickle_rebuilds_the_network_and_records_the_version(name):
    est, X, _ = MODELS[name]
    state = est.__getstate__()
    assert state["_sknn_version"] == sknn.__version__
    assert "_net" not in state and "_dropouts" not in state  # rebuilt on load
    loaded = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(_outputs(loaded, X), _outputs(est, X))
    state["_sknn_version"] = "0.0.1"
    copy = type(est).__new__(type(est))
    with pytest.warns(UserWarning, match="0.0.1"):
        copy.__setstate__(state)
    np.testing.assert_array_equal(_outputs(copy, X), _outputs(est, X))


def test_an_unfitted_tabular_model_pickles():
    est = pickle.loads(pickle.dumps(TabularMLPClassifier(max_iter=3)))
    assert est.get_params()["max_iter"] == 3
