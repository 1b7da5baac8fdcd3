"""Cross-fitted bagging of the tabular pair (``n_cv``): one network per fold,
each choosing its epoch on its own fold, predictions averaged."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer
from sklearn.utils.estimator_checks import parametrize_with_checks

from sknn import TabularMLPClassifier, TabularMLPRegressor
from sknn._core.backend import NUMPY
from sknn._fitdata import cv_folds
from sknn._tabular_base import cross_fit_members

SMALL = dict(hidden_layer_sizes=(16,), max_iter=6, random_state=0)


def _regression(n=240, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    return X, X[:, 0] - 0.5 * X[:, 1] ** 2 + 0.1 * rng.normal(size=n)


CHECKED = dict(SMALL, max_iter=30)  # as test_tabular.py's checks train


@parametrize_with_checks(
    [TabularMLPClassifier(**CHECKED, n_cv=3), TabularMLPRegressor(**CHECKED, n_cv=3)],
    expected_failed_checks=lambda est: {
        "check_sample_weight_equivalence_on_dense_data": "minibatch training",
        "check_sample_weight_equivalence_on_sparse_data": "minibatch training",
    },
)
def test_sklearn_compatible_when_cross_fitted(estimator, check):
    check(estimator)


# ------------------------------------------------------------------ the folds
@pytest.mark.parametrize("stratify", [None, np.repeat([0, 1, 2], [30, 50, 20])])
def test_folds_partition_the_rows(stratify):
    folds = cv_folds(100, 5, seed=0, stratify=stratify)
    assert len(folds) == 5
    held_out = np.concatenate([val for _, val in folds])
    np.testing.assert_array_equal(np.sort(held_out), np.arange(100))
    for train, val in folds:
        assert np.intersect1d(train, val).size == 0
        assert train.size + val.size == 100
        if stratify is not None:  # every class in proportion in every fold
            np.testing.assert_array_equal(np.bincount(stratify[val]), [6, 10, 4])


def test_folds_are_random_when_a_class_is_too_small():
    labels = np.array([0] * 40 + [1] * 3)  # 3 rows cannot fill 5 folds
    folds = cv_folds(43, 5, seed=0, stratify=labels)
    assert sorted(val.size for _, val in folds) == [8, 8, 9, 9, 9]


# ------------------------------------------------------------------ the members
def test_each_member_trains_and_the_attributes_summarise_them():
    X, y = _regression()
    est = TabularMLPRegressor(**SMALL, n_cv=4).fit(X, y)
    assert est._params.shape[0] == 4
    assert len(est.best_epoch_) == 4 and est.n_iter_ == 6
    assert all(type(e) is int and 1 <= e <= 6 for e in est.best_epoch_)
    assert len(est.loss_curve_) == len(est.validation_scores_) == 6
    assert [r["member"] for r in est.history_] == [
        k for k in range(4) for _ in range(6)
    ]
    assert [r["epoch"] for r in est.history_[:6]] == list(range(1, 7))
    # the members' means, as Python floats
    curves = np.array([r["train_loss"] for r in est.history_]).reshape(4, 6)
    np.testing.assert_allclose(est.loss_curve_, curves.mean(axis=0))
    assert all(type(v) is float for v in est.loss_curve_ + est.validation_scores_)
    # every member trained on three folds of 60 rows each, in batches
    assert est.t_ == 4 * 6 * 180
    # the members differ: other rows, other initial weights
    assert not np.allclose(est._params[0], est._params[1])


def test_predictions_are_the_mean_of_the_members():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    # the members' mean alone (the neighbour blend is tested on its own)
    est = TabularMLPClassifier(**SMALL, n_cv=3, neighbors=False).fit(X, y)
    Z = est._encode(X)
    members = [
        est._network_outputs(est._net, params, Z, NUMPY) for params in est._params
    ]
    P = est.predict_proba(X)
    np.testing.assert_allclose(P, np.mean(members, axis=0), rtol=1e-6)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-6)
    assert est.score(X, y) > 0.9


def test_callbacks_see_each_members_epochs_and_can_stop_one():
    X, y = _regression()
    seen = []

    def stop_the_first_member_early(record):
        seen.append(record["epoch"])
        return len(seen) == 2  # the first member's second epoch

    est = TabularMLPRegressor(**SMALL, n_cv=3, callbacks=[stop_the_first_member_early])
    est.fit(X, y)
    assert seen == [1, 2] + [1, 2, 3, 4, 5, 6] * 2
    assert est.n_iter_ == 6 and len(est.loss_curve_) == 6
    losses = {}
    for r in est.history_:
        losses.setdefault(r["epoch"], []).append(r["train_loss"])
    # each epoch's mean over the members that reached it
    np.testing.assert_allclose(
        est.loss_curve_, [np.mean(losses[e]) for e in range(1, 7)]
    )
    assert [len(losses[e]) for e in range(1, 7)] == [3, 3, 2, 2, 2, 2]


def test_cross_fitting_is_reproducible_and_pickles():
    X, y = _regression()
    a = TabularMLPRegressor(**SMALL, n_cv=3).fit(X, y)
    b = clone(a).fit(X, y)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    c = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(a.predict(X), c.predict(X))


def test_bagging_beats_one_network_of_the_same_seed():
    # averaging five networks that each saw 80% of the rows: a lower error on
    # new rows than one network (mean over three seeds)
    X, y = _regression(600)
    Xt, yt = _regression(2000, seed=1)
    gains = []
    for seed in range(3):
        params = dict(hidden_layer_sizes=(64,), max_iter=20, random_state=seed)
        one = TabularMLPRegressor(**params, n_cv=1).fit(X, y)
        bag = TabularMLPRegressor(**params, n_cv=5).fit(X, y)
        gains.append(bag.score(Xt, yt) - one.score(Xt, yt))
    assert np.mean(gains) > 0


def test_a_table_too_small_for_its_folds_trains_one_network():
    X, y = _regression(n=40)  # 5 folds of 8 rows: fewer than 10 to validate on
    est = TabularMLPRegressor(**SMALL, n_cv=5).fit(X, y)
    assert est._params.ndim == 1
    assert est.validation_scores_ is None  # and too few rows for a split


# ------------------------------------------------------------------ errors
def test_validation_rows_cannot_replace_the_folds():
    X, y = _regression()
    est = TabularMLPRegressor(**SMALL, n_cv=3)
    with pytest.raises(ValueError, match="n_cv=3 cross-fits: each member chooses"):
        est.fit(X, y, X_val=X[:20], y_val=y[:20])


def test_members_need_best_epoch_selection():
    X, y = _regression()
    est = TabularMLPRegressor(**SMALL, n_cv=3, select_best=False)
    with pytest.raises(ValueError, match="select_best=False keeps the last epoch"):
        est.fit(X, y)


def test_partial_fit_is_only_there_for_one_network():
    est = TabularMLPRegressor(**SMALL, n_cv=3)
    assert not hasattr(est, "partial_fit")
    with pytest.raises(AttributeError, match="has no attribute 'partial_fit'") as info:
        est.partial_fit(*_regression())
    assert "only available with n_cv=1 or" in str(info.value.__cause__)
    assert hasattr(est.set_params(n_cv=1), "partial_fit")


def test_a_warm_start_cannot_continue_members():
    X, y = _regression()
    est = TabularMLPRegressor(**SMALL, n_cv=3, warm_start=True).fit(X, y)
    assert est._params.shape[0] == 3  # a first fit: nothing to continue
    with pytest.raises(ValueError, match="warm_start=True continues one network"):
        est.fit(X, y)


def test_partial_fit_after_an_auto_cross_fit_says_so():
    X, y = _regression()  # 240 rows: 'auto' cross-fits five networks
    est = TabularMLPRegressor(**SMALL).fit(X, y)
    assert est.n_cv == "auto" and est.n_cv_ == 5
    with pytest.raises(ValueError, match="fit with n_cv=1 first"):
        est.partial_fit(X, y)
    est = TabularMLPRegressor(**SMALL, n_cv=1).fit(X, y)
    est.partial_fit(X, y)  # one network: continued
    assert est.n_cv_ == 1


def test_a_warm_start_after_cross_fitting_says_so():
    X, y = _regression()
    est = TabularMLPRegressor(**SMALL, n_cv=3).fit(X, y)
    est.set_params(n_cv=1, warm_start=True)
    with pytest.raises(ValueError, match="cross-fitted 3 networks"):
        est.fit(X, y)


# ------------------------------------------------------------------ 'auto'
@pytest.mark.parametrize("rows, members", [(50, 5), (1000, 5), (2000, 5), (2001, 1)])
def test_auto_bags_small_tables_only(rows, members):
    assert cross_fit_members(rows) == members


def test_auto_cross_fits_a_small_table_and_not_a_large_one():
    X, y = _regression(300)
    small = TabularMLPRegressor(**SMALL, n_cv="auto").fit(X, y)
    assert small.n_cv_ == 5 and small._params.shape[0] == 5
    X, y = _regression(2100)
    large = TabularMLPRegressor(**SMALL, n_cv="auto").fit(X, y)
    assert large.n_cv_ == 1 and large._params.ndim == 1


@pytest.mark.parametrize(
    "how", ["X_val", "warm_start", "partial_fit", "tiny", "no_select_best"]
)
def test_auto_trains_one_network_where_members_cannot_serve(how):
    X, y = _regression(300)
    est = TabularMLPRegressor(**SMALL, n_cv="auto")
    if how == "X_val":
        est.fit(X[:200], y[:200], X_val=X[200:], y_val=y[200:])
    elif how == "warm_start":
        est.set_params(warm_start=True).fit(X, y)
        est.fit(X, y)  # and the next fit continues it
    elif how == "partial_fit":
        est.partial_fit(X, y)
    elif how == "no_select_best":
        est.set_params(select_best=False).fit(X, y)
    else:
        est.fit(X[:45], y[:45])  # 5 folds of 9 rows
    assert est.n_cv_ == 1 and est._params.ndim == 1


def test_n_cv_is_validated():
    X, y = _regression()
    with pytest.raises(ValueError, match="The 'n_cv' parameter"):
        TabularMLPRegressor(n_cv=0).fit(X, y)
    with pytest.raises(ValueError, match="The 'n_cv' parameter"):
        TabularMLPRegressor(n_cv="five").fit(X, y)
