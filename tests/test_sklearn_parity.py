"""Drop-in fidelity on sknn's own terms.

Each test here checks a behaviour that scikit-learn's own ``test_mlp.py``
(run against sknn in ``test_sklearn_mlp_suite.py``) checks through private
attributes or a particular random stream, or a bug that test-suite or a new
user found.  Where scikit-learn's estimator can run the same case, it does, and
the two are compared.
"""

import math
import re
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits, load_iris, make_regression
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import MinMaxScaler

from sknn import MLPClassifierNN, MLPRegressorNN

NON_FINITE = (
    "Solver produced non-finite parameter weights. The input data may contain "
    "large values and need to be preprocessed."
)


@pytest.fixture(scope="module")
def binary_digits():
    X, y = load_digits(n_class=2, return_X_y=True)
    return MinMaxScaler().fit_transform(X[:200]), y[:200]


def _raised(make, *args, **kwargs):
    """The message of the ValueError ``make().fit(*args)`` raises (the
    callers compare it with scikit-learn's whole message)."""
    with pytest.raises(ValueError, match=r"\w") as excinfo:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            make().fit(*args, **kwargs)
    return str(excinfo.value)


# ----------------------------------------------------- multilabel partial_fit
def test_multilabel_partial_fit_with_classes():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 10))
    Y = (rng.random((50, 5)) < 0.4).astype(int)
    clf = MLPClassifierNN(solver="sgd", random_state=0, learning_rate_init=0.2)
    for _ in range(30):
        clf.partial_fit(X, Y, classes=[0, 1, 2, 3, 4])
    assert list(clf.classes_) == [0, 1, 2, 3, 4]
    assert clf.out_activation_ == "logistic"
    assert clf.predict(X).shape == Y.shape
    assert clf.predict_proba(X).shape == Y.shape
    assert clf.score(X, Y) > 0.5
    # the same calls with scikit-learn's estimator give the same attributes
    ref = MLPClassifier(solver="sgd", random_state=0, learning_rate_init=0.2)
    ref.partial_fit(X, Y, classes=[0, 1, 2, 3, 4])
    assert list(ref.classes_) == list(clf.classes_)
    assert ref.n_outputs_ == clf.n_outputs_ == 5


def test_multilabel_partial_fit_classes_must_match_columns():
    X = np.zeros((4, 3))
    Y = np.eye(4, dtype=int)[:, :3]
    with pytest.raises(ValueError, match="classes has 5 labels .* 3 columns"):
        MLPClassifierNN().partial_fit(X, Y, classes=[0, 1, 2, 3, 4])


# ------------------------------------------------------------------- lbfgs
@pytest.mark.parametrize("activation", ["logistic", "tanh", "relu"])
def test_lbfgs_stop_on_max_fun_warns(activation):
    X, y = make_regression(n_samples=200, n_features=10, noise=100.0, random_state=7)
    y = (y - y.mean()) / y.std()
    reg = MLPRegressorNN(
        solver="lbfgs",
        hidden_layer_sizes=50,
        tol=0.0,
        max_iter=150,
        max_fun=10,
        random_state=1,
        activation=activation,
    )
    with pytest.warns(ConvergenceWarning) as record:
        reg.fit(X, y)
    message = str(record[0].message)
    assert message.startswith(f"lbfgs failed to converge after {reg.n_iter_} ")
    assert "(status=1):\nSTOP: TOTAL NO. OF F,G EVALUATIONS EXCEEDS LIMIT" in message
    # the max_iter advice only when max_iter was the limit, as scikit-learn
    assert "Increase the number of iterations" not in message
    assert reg.n_iter_ <= 10


def test_lbfgs_max_iter_warning_text_matches_sklearn():
    X, y = load_iris(return_X_y=True)
    texts = []
    for Est in (MLPClassifier, MLPClassifierNN):
        with pytest.warns(ConvergenceWarning) as record:
            Est(solver="lbfgs", max_iter=5, random_state=0).fit(X, y)
        texts.append(str(record[0].message))
    assert texts[0] == texts[1]


# ----------------------------------------------------------------- verbose
def test_verbose_10_prints_like_sklearn(capsys):
    X, y = [[3, 2], [1, 6]], [1, 0]
    outputs = []
    for Est in (MLPClassifier, MLPClassifierNN):
        clf = Est(solver="sgd", max_iter=2, verbose=10, hidden_layer_sizes=2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)
        clf.partial_fit(X, y)
        outputs.append(capsys.readouterr().out)
    # the same lines, with other numbers
    shape = [re.sub(r"[-\d.]+$", "#", ln) for ln in outputs[1].splitlines()]
    assert shape == [re.sub(r"[-\d.]+$", "#", ln) for ln in outputs[0].splitlines()]
    assert shape == ["Iteration 1, loss = #", "Iteration 2, loss = #"] + [
        "Iteration 1, loss = #"
    ]


def test_verbose_adaptive_stop_line_matches_sklearn(capsys):
    X, y = [[3, 2], [1, 6]], [1, 0]
    last = []
    for Est in (MLPClassifier, MLPClassifierNN):
        Est(
            tol=0.5, max_iter=3000, solver="sgd", learning_rate="adaptive", verbose=1
        ).fit(X, y)
        last.append(capsys.readouterr().out.splitlines()[-1])
    assert last[0] == last[1]
    assert last[1].endswith("Learning rate too small. Stopping.")


# ------------------------------------------------ schedules through history_
def test_adaptive_rate_ends_below_1e_6():
    # scikit-learn's test reads _optimizer.learning_rate; history_ records the
    # rate each epoch used
    clf = MLPClassifierNN(
        tol=0.5, max_iter=3000, solver="sgd", learning_rate="adaptive"
    ).fit([[3, 2], [1, 6]], [1, 0])
    assert clf.max_iter > clf.n_iter_
    rates = [r["learning_rate"] for r in clf.history_]
    assert rates[0] == 1e-3
    assert 1e-6 > rates[-1]
    # each drop divides by 5
    drops = sorted(set(rates), reverse=True)
    np.testing.assert_allclose(drops, [1e-3 / 5**k for k in range(len(drops))])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("learning_rate", ["invscaling", "constant"])
def test_warm_start_keeps_the_invscaling_clock(learning_rate):
    X, y = [[3, 2], [1, 6], [5, 6], [-2, -4]], [1, 1, 1, 0]
    mlp = MLPClassifierNN(
        solver="sgd",
        hidden_layer_sizes=4,
        learning_rate=learning_rate,
        max_iter=1,
        power_t=0.25,
        warm_start=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(3):
            mlp.fit(X, y)
    # each warm fit starts at learning_rate_init; its single epoch then sets
    # the rate from the samples seen by all fits: 4, 8, 12
    assert [r["learning_rate"] for r in mlp.history_] == [1e-3] * 3
    assert mlp.t_ == 12
    if learning_rate == "invscaling":
        sched = MLPClassifierNN(
            solver="sgd", hidden_layer_sizes=4, learning_rate=learning_rate,
            power_t=0.25, max_iter=3, n_iter_no_change=100,
        ).fit(X, y)  # fmt: skip
        # in one fit of three epochs the rates follow the same clock
        expected = [1e-3, 1e-3 / 5**0.25, 1e-3 / 9**0.25]
        np.testing.assert_allclose(
            [r["learning_rate"] for r in sched.history_], expected
        )


# ------------------------------------------------------- n_iter_no_change
def _epochs_without_improvement(loss_curve, tol):
    """The no-improvement count scikit-learn keeps, replayed on a curve."""
    best, count = math.inf, 0
    for loss in loss_curve:
        count = count + 1 if loss > best - tol else 0
        best = min(best, loss)
    return count


@pytest.mark.parametrize("n_iter_no_change", [2, 5, 10, 50, 100])
def test_n_iter_no_change_stops_after_that_many_epochs(binary_digits, n_iter_no_change):
    X, y = binary_digits
    clf = MLPClassifierNN(
        tol=0.01, max_iter=3000, solver="sgd", n_iter_no_change=n_iter_no_change
    ).fit(X[:100], y[:100])
    assert clf.max_iter > clf.n_iter_
    assert _epochs_without_improvement(clf.loss_curve_, 0.01) == n_iter_no_change + 1
    # and not one epoch earlier
    earlier = _epochs_without_improvement(clf.loss_curve_[:-1], 0.01)
    assert earlier == n_iter_no_change


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_n_iter_no_change_inf_runs_to_max_iter(binary_digits):
    X, y = binary_digits
    clf = MLPClassifierNN(
        tol=1e9, max_iter=3000, solver="sgd", n_iter_no_change=np.inf
    ).fit(X[:100], y[:100])
    assert clf.n_iter_ == 3000
    assert _epochs_without_improvement(clf.loss_curve_, 1e9) == clf.n_iter_ - 1


# --------------------------------------------------------- partial_fit labels
def test_partial_fit_learns_a_class_first_seen_later():
    clf = MLPClassifierNN(random_state=0, learning_rate_init=0.05)
    clf.partial_fit([[1], [2], [3]], ["a", "b", "c"], classes=["a", "b", "c", "d"])
    for _ in range(300):
        clf.partial_fit([[1], [2], [3], [4]], ["a", "b", "c", "d"])
    assert list(clf.classes_) == ["a", "b", "c", "d"]
    assert clf.predict([[4]])[0] == "d"
    assert clf.score([[1], [2], [3], [4]], ["a", "b", "c", "d"]) >= 0.75


# ------------------------------------------------------------------ dtypes
@pytest.mark.parametrize("seed", range(5))
def test_float32_and_float64_fits_agree(seed):
    X, y = load_digits(n_class=2, return_X_y=True)
    params = dict(
        alpha=1e-5, hidden_layer_sizes=(5, 3), random_state=seed, max_iter=150, tol=1e-3
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg64 = MLPRegressorNN(**params).fit(X[:300], y[:300])
        reg32 = MLPRegressorNN(**params).fit(X[:300].astype(np.float32), y[:300])
    pred64 = reg64.predict(X[300:])
    pred32 = reg32.predict(X[300:].astype(np.float32))
    assert pred32.dtype == np.float32
    assert reg32.n_iter_ == reg64.n_iter_
    # scikit-learn's rtol, plus an absolute slack for predictions near zero
    np.testing.assert_allclose(pred64, pred32, rtol=5e-4, atol=1e-6)


# -------------------------------------------------------- early-stopping split
def test_binary_single_member_class_raises_sklearns_error():
    X, y = [[1, 2], [2, 3], [3, 4], [4, 5]], [0, 0, 0, 1]
    ours = _raised(lambda: MLPClassifierNN(early_stopping=True), X, y)
    theirs = _raised(lambda: MLPClassifier(early_stopping=True), X, y)
    assert ours == theirs
    assert "Classes with too few members are: ['True']" in ours


def test_multiclass_single_member_class_trains(binary_digits):
    X, _ = binary_digits
    y = np.arange(len(X)) % 3
    y[0] = 3  # one sample of class 3: no stratified split exists
    for Est in (MLPClassifier, MLPClassifierNN):
        clf = Est(early_stopping=True, max_iter=5, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)
        assert len(clf.validation_scores_) == clf.n_iter_


def test_multiclass_validation_fraction_too_small_to_stratify_trains():
    X, y = load_iris(return_X_y=True)
    # 0.01 of 150 rows: 2 validation rows for 3 classes
    for Est in (MLPClassifier, MLPClassifierNN):
        clf = Est(
            early_stopping=True, validation_fraction=0.01, max_iter=5, random_state=0
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)
        assert len(clf.validation_scores_) == clf.n_iter_


def test_multiclass_split_is_stratified_when_possible(monkeypatch):
    import sknn._pipeline

    X, y = load_iris(return_X_y=True)
    seen = []
    split_rows = sknn._pipeline.split_rows

    def spy(*args, **kwargs):
        train, val = split_rows(*args, **kwargs)
        seen.append(val)
        return train, val

    monkeypatch.setattr(sknn._pipeline, "split_rows", spy)
    clf = MLPClassifierNN(
        early_stopping=True, validation_fraction=0.2, max_iter=2, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    counts = np.bincount(y[seen[0]])
    assert counts.tolist() == [10, 10, 10]


# --------------------------------------------------------------- divergence
def test_nonfinite_input_raises_sklearns_error():
    rng = np.random.RandomState(0)
    X = np.finfo(np.float64).max * rng.uniform(size=(10, 2))
    y = rng.standard_normal(size=10)
    assert _raised(MLPRegressorNN, X, y) == NON_FINITE == _raised(MLPRegressor, X, y)


def test_sgd_rate_one_on_make_regression_raises_instead_of_garbage():
    # used to hand back a model with R2 around -1e61
    X, y = make_regression(random_state=0)
    ours = _raised(lambda: MLPRegressorNN(solver="sgd", learning_rate_init=1.0), X, y)
    theirs = _raised(lambda: MLPRegressor(solver="sgd", learning_rate_init=1.0), X, y)
    assert ours == theirs == NON_FINITE


def test_diverging_first_fit_leaves_the_estimator_unfitted():
    X, y = make_regression(random_state=0)
    reg = MLPRegressorNN(solver="sgd", learning_rate_init=1.0)
    _raised(lambda: reg, X, y)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        reg.predict(X)


def test_diverging_warm_start_keeps_the_previous_weights():
    X, y = make_regression(random_state=0)
    X = (X - X.mean(0)) / X.std(0)
    y = (y - y.mean()) / y.std()
    reg = MLPRegressorNN(solver="sgd", max_iter=5, warm_start=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, y)
    pred, curve = reg.predict(X), list(reg.loss_curve_)
    reg.set_params(learning_rate_init=1e6)
    _raised(lambda: reg, X * 1e3, y * 1e3)
    np.testing.assert_array_equal(reg.predict(X), pred)
    assert reg.loss_curve_ == curve


@pytest.mark.parametrize("Est", [MLPRegressor, MLPRegressorNN])
def test_diverging_with_early_stopping_ends_without_error(Est):
    X, y = load_iris(return_X_y=True)
    mlp = Est(
        hidden_layer_sizes=100,
        activation="identity",
        solver="sgd",
        learning_rate_init=1,
        max_iter=20,
        early_stopping=True,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(X, y)
    assert math.isnan(mlp.validation_scores_[-1])
    assert math.isfinite(mlp.best_validation_score_)
    if Est is MLPRegressorNN:
        # sknn stops at the diverged epoch and keeps finite, usable weights
        assert mlp.n_iter_ < 20
        assert np.isfinite(mlp.predict(X)).all()


# --------------------------------------------------------- validation checks
def test_unseen_class_in_y_val_names_y_val(binary_digits):
    X, y = binary_digits
    clf = MLPClassifierNN(early_stopping=True, max_iter=2)
    with pytest.raises(ValueError, match=r"`y_val` has classes not in `self.classes_`"):
        clf.fit(X, y, X_val=X[:5], y_val=[0, 1, 0, 1, 7])


@pytest.mark.parametrize("scoring", ["loss", "accuracy"])
def test_scoring_without_early_stopping_is_an_error(binary_digits, scoring):
    X, y = binary_digits
    with pytest.raises(ValueError, match="early_stopping is False"):
        MLPClassifierNN(scoring=scoring, max_iter=2).fit(X, y)
    with pytest.raises(ValueError, match="solver='lbfgs'"):
        MLPClassifierNN(scoring=scoring, solver="lbfgs", early_stopping=True).fit(X, y)


def test_diverging_in_the_first_epoch_with_early_stopping_raises():
    # no validation epoch was kept, so there are no weights to hand back
    X, y = make_regression(random_state=0)
    reg = MLPRegressorNN(solver="sgd", early_stopping=True, random_state=0)
    assert _raised(lambda: reg, X * 1e200, y) == NON_FINITE
    with pytest.raises(NotFittedError, match="not fitted yet"):
        reg.predict(X)
