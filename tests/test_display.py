"""TrainingCurveDisplay and TrainingCurveComparisonDisplay."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknn import (
    MLPClassifierNN,
    MLPRegressorNN,
    TabularMLPClassifier,
    TrainingCurveComparisonDisplay,
    TrainingCurveDisplay,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture
def pyplot():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:200] / 16.0, y[:200]


def _clf(**params):
    small = dict(hidden_layer_sizes=(16,), max_iter=6, random_state=0)
    return MLPClassifierNN(**small, **params)


def _labels(disp):
    return [line.get_label() for line in disp.lines_]


def test_without_validation_only_the_training_loss(pyplot, digits):
    est = _clf().fit(*digits)
    disp = TrainingCurveDisplay.from_estimator(est)
    assert _labels(disp) == ["training loss"]
    assert disp.ax_score_ is None and disp.best_line_ is None
    assert_allclose(disp.lines_[0].get_ydata(), est.loss_curve_)
    assert_array_equal(disp.lines_[0].get_xdata(), np.arange(1, 7))
    assert disp.ax_.get_title() == "MLPClassifierNN"
    assert disp.figure_ is disp.ax_.figure


def test_losses_share_an_axis_and_the_metric_is_named(pyplot, digits):
    est = _clf(early_stopping=True).fit(*digits)
    disp = TrainingCurveDisplay.from_estimator(est)
    assert _labels(disp) == [
        "training loss",
        "validation loss",
        "validation accuracy",
        f"kept epoch ({disp.best_epoch})",
    ]
    train, val, metric, best = disp.lines_
    assert train.axes is val.axes is disp.ax_  # both losses on the loss axis
    assert metric.axes is disp.ax_score_
    assert disp.ax_score_.get_ylabel() == "validation accuracy"
    assert_allclose(val.get_ydata(), [r["val_loss"] for r in est.history_])
    assert_allclose(metric.get_ydata(), est.validation_scores_)
    # the marked epoch is the one whose weights early stopping kept
    assert disp.best_epoch == int(np.argmax(est.validation_scores_)) + 1
    assert_array_equal(best.get_xdata(), [disp.best_epoch] * 2)


def test_a_regressor_shows_r2(pyplot, digits):
    X, y = digits
    est = MLPRegressorNN(hidden_layer_sizes=(8,), max_iter=4, early_stopping=True)
    disp = TrainingCurveDisplay.from_estimator(est.fit(X, y.astype(float)))
    assert disp.metric_name == "R2"


@pytest.mark.parametrize(
    "scoring, name, sign",
    [("balanced_accuracy", "balanced accuracy", 1), ("neg_log_loss", "log loss", -1)],
)
def test_a_scorer_is_named_and_a_negated_loss_is_shown_as_a_loss(
    pyplot, digits, scoring, name, sign
):
    est = _clf(early_stopping=True, scoring=scoring).fit(*digits)
    disp = TrainingCurveDisplay.from_estimator(est)
    assert disp.metric_name == name
    expected = sign * np.asarray(est.validation_scores_)
    assert_allclose(disp.lines_[2].get_ydata(), expected)
    assert "score" not in disp.ax_score_.get_ylabel()


def test_scoring_loss_is_the_validation_loss_alone(pyplot, digits):
    est = _clf(early_stopping=True, scoring="loss").fit(*digits)
    disp = TrainingCurveDisplay.from_estimator(est)
    assert disp.ax_score_ is None  # no metric axis for a loss
    assert_allclose(disp.lines_[1].get_ydata(), -np.asarray(est.validation_scores_))


def test_a_tabular_model_marks_its_best_epoch(pyplot, digits):
    est = TabularMLPClassifier(
        hidden_layer_sizes=(16,), max_iter=6, n_cv=1, random_state=0
    )
    disp = TrainingCurveDisplay.from_estimator(est.fit(*digits))
    assert disp.best_epoch == est.best_epoch_
    assert disp.best_line_.get_label() == f"kept epoch ({est.best_epoch_})"
    assert_allclose(disp.lines_[1].get_ydata(), -np.asarray(est.validation_scores_))


def test_a_cross_fitted_model_marks_each_members_epoch(pyplot, digits):
    est = TabularMLPClassifier(
        hidden_layer_sizes=(16,), max_iter=6, n_cv=3, random_state=0
    ).fit(*digits)
    disp = TrainingCurveDisplay.from_estimator(est)
    epochs = ", ".join(map(str, est.best_epoch_))
    assert disp.best_line_.get_label() == f"kept epochs (members: {epochs})"
    dotted = [line for line in disp.ax_.get_lines() if line.get_linestyle() == ":"]
    assert sorted(line.get_xdata()[0] for line in dotted) == sorted(
        set(est.best_epoch_)
    )
    # the members' mean curves, one value per epoch
    assert_allclose(disp.lines_[1].get_ydata(), -np.asarray(est.validation_scores_))
    assert len(disp.lines_[0].get_ydata()) == est.n_iter_


def test_a_pipeline_is_read_through_its_last_step(pyplot, digits):
    pipe = make_pipeline(StandardScaler(), _clf(early_stopping=True)).fit(*digits)
    disp = TrainingCurveDisplay.from_estimator(pipe, name="scaled")
    assert_allclose(disp.lines_[0].get_ydata(), pipe[-1].loss_curve_)
    assert disp.ax_.get_title() == "scaled"


def test_the_legend_is_below_the_axes(pyplot, digits):
    disp = TrainingCurveDisplay.from_estimator(_clf(early_stopping=True).fit(*digits))
    disp.figure_.canvas.draw()
    legend = disp.ax_.get_legend().get_window_extent()
    axes = disp.ax_.get_window_extent()
    assert legend.y1 <= axes.y0  # under the plotting area: it covers no curve
    fig_box = disp.figure_.bbox
    assert legend.y0 >= fig_box.y0  # tight_layout kept it inside the figure


def test_errors_are_clear(pyplot, digits):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        TrainingCurveDisplay.from_estimator(_clf())
    lbfgs = _clf(solver="lbfgs").fit(*digits)
    with pytest.raises(ValueError, match="solver='lbfgs'"):
        TrainingCurveDisplay.from_estimator(make_pipeline(StandardScaler(), lbfgs))
    scaler = StandardScaler().fit(digits[0])
    with pytest.raises(ValueError, match="no loss_curve_"):
        TrainingCurveDisplay.from_estimator(scaler)


def test_comparison_display(pyplot, digits):
    a = _clf(early_stopping=True).fit(*digits)
    b = _clf(dropout=0.2).fit(*digits)
    disp = TrainingCurveComparisonDisplay.from_estimators({"plain": a, "dropout": b})
    assert list(disp.lines_) == ["plain", "dropout"]
    # a: training loss, validation loss, kept epoch; b: training loss only
    assert len(disp.lines_["plain"]) == 3 and len(disp.lines_["dropout"]) == 1
    colors = {line.get_color() for line in disp.lines_["plain"]}
    assert len(colors) == 1 and colors != {disp.lines_["dropout"][0].get_color()}
    assert_allclose(disp.lines_["dropout"][0].get_ydata(), b.loss_curve_)
    by_list = TrainingCurveComparisonDisplay.from_estimators([a, b])
    assert list(by_list.lines_) == ["MLPClassifierNN 1", "MLPClassifierNN 2"]
    with pytest.raises(ValueError, match="at least one"):
        TrainingCurveComparisonDisplay.from_estimators({})
