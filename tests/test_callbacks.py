"""The loop's epoch-end callbacks, one at a time."""

import numpy as np
import pytest

from sknn._core.callbacks import (
    Improvement,
    Plateau,
    ProgressBar,
    StopReason,
    UserCallbacks,
    VerboseLines,
    epoch_end_callbacks,
)
from sknn._core.optimizers import Schedule
from sknn._core.training import LoopConfig, TrainState


def _state(validating=False, kind="constant"):
    return TrainState(
        opt_state={}, schedule=Schedule(kind, 1e-3), validating=validating
    )


def _record(epoch, loss, score=None):
    return {
        "epoch": epoch,
        "train_loss": loss,
        "val_score": score,
        "val_loss": None,
        "learning_rate": 1e-3,
        "seconds": 0.0,
    }


def test_improvement_on_the_training_loss():
    state, hook = _state(), Improvement(tol=0.1)
    counts = []
    for epoch, loss in enumerate([1.0, 0.95, 0.8, 0.85, 0.75], start=1):
        assert hook.on_epoch_end(_record(epoch, loss), state, None) is None
        counts.append(state.no_improvement_count)
    # an improvement must beat the best by tol: only 0.8 does (0.95 > 1.0 - 0.1
    # and 0.75 > 0.8 - 0.1 count as epochs without improvement)
    assert counts == [0, 1, 0, 1, 2]
    assert state.best_loss == 0.75
    assert state.best_params is None


def test_improvement_on_the_validation_score_keeps_the_best_parameters():
    state, hook = _state(validating=True), Improvement(tol=0.0)
    for epoch, score in enumerate([0.2, 0.5, 0.4], start=1):
        params = np.full(3, float(epoch))
        hook.on_epoch_end(_record(epoch, 1.0, score), state, params)
    np.testing.assert_array_equal(state.best_params, np.full(3, 2.0))
    assert state.best_validation_score == 0.5
    assert state.no_improvement_count == 1


@pytest.mark.parametrize("kind, stops", [("constant", True), ("adaptive", False)])
def test_plateau_stops_or_lowers_the_rate(kind, stops):
    state = _state(kind=kind)
    hook = Plateau(tol=1e-4, n_iter_no_change=2)
    state.no_improvement_count = 2
    assert hook.on_epoch_end(_record(3, 1.0), state, None) is None
    state.no_improvement_count = 3
    result = hook.on_epoch_end(_record(4, 1.0), state, None)
    if stops:
        assert result.reason is StopReason.CONVERGED
        assert "did not improve more than tol=0.000100 for 2" in result.message
    else:
        assert result is None
        assert state.schedule.lr == pytest.approx(2e-4)
        assert state.no_improvement_count == 0


def test_user_callbacks_all_see_the_epoch_and_any_true_stops():
    seen = []
    hook = UserCallbacks([lambda r: seen.append("a"), lambda r: True, seen.append])
    result = hook.on_epoch_end(_record(1, 1.0), _state(), None)
    assert result.reason is StopReason.CALLBACK
    assert seen[0] == "a" and seen[1]["epoch"] == 1


def test_the_order_of_a_fits_callbacks():
    config = LoopConfig(8, 5, verbose=True, progress_bar=True)
    hooks = epoch_end_callbacks(config, 5, [print])
    assert [type(h) for h in hooks] == [
        Improvement,
        VerboseLines,
        ProgressBar,
        UserCallbacks,
        Plateau,
    ]
    quiet = epoch_end_callbacks(LoopConfig(8, 5), 5)
    assert [type(h) for h in quiet] == [Improvement, UserCallbacks, Plateau]
    # only the reporters see a diverged epoch
    assert [h.reports_divergence for h in hooks] == [False, True, True, False, False]
