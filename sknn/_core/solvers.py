"""Solver objects: one ``solve()`` call trains a network's parameters.

An estimator builds a solver from its hyper-parameters and calls ``solve``
once per ``fit`` or ``partial_fit``; what comes back (:class:`Solution`) is
all it needs to set its fitted attributes and choose its warnings.  The
solvers own what is not scikit-learn's surface but not the inner loop either:

- the life of the training state across calls (a first fit, a warm restart,
  an incremental call);
- the finiteness policy (:attr:`Solution.usable`): a run whose weights went
  non-finite is usable only when a best validation epoch was kept;
- restoring the best validation epoch's weights;
- the element-wise backend (:mod:`.backend`), chosen once per call;
- the BLAS thread policy (:mod:`.threads`, applied inside the loops);
- the stop reason (:class:`~.training.StopReason`).

The epochs themselves are :func:`~.training.fit_stochastic` and
:func:`~.training.fit_lbfgs`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .backend import current, for_arrays
from .training import (
    LoopConfig,
    StopReason,
    TrainState,
    fit_lbfgs,
    fit_stochastic,
)

__all__ = ["LBFGSSolver", "Solution", "StochasticSolver", "StopReason"]


@dataclass
class Solution:
    """How a ``solve()`` call ended.

    Attributes
    ----------
    reason : StopReason
    message : str
        A sentence for the user (may be empty).
    usable : bool
        Whether the parameters hold weights to hand back.  False after a
        divergence with no kept validation epoch: the caller discards the
        call's results.
    n_iter : int
        Epochs (or L-BFGS iterations, at most ``max_iter``) run by the call.
    loss : float
        Last epoch's training loss, or the final L-BFGS objective.
    state : TrainState or None
        The stochastic training state to carry into the next call (None for
        L-BFGS, and when not usable).
    status : int or None
        L-BFGS-B's exit status (0 on convergence); None for stochastic runs.
    """

    reason: StopReason
    message: str
    usable: bool
    n_iter: int
    loss: float
    state: TrainState | None = None
    status: int | None = None


class StochasticSolver:
    """Minibatch training with a stochastic optimizer.

    Call order of :meth:`solve`:

    1. the training state: a new :class:`~.training.TrainState` when none is
       given; for a warm restart (not incremental) a fresh optimizer state and
       schedule, keeping the curves, the bests and the sample count; an
       incremental call continues the optimizer state and schedule; either
       tracks a validation score exactly when ``validate`` is given;
    2. :func:`~.training.fit_stochastic` runs the epochs (BLAS pool sized by
       the batch's work, diverging epochs stopped and recorded);
    3. the finiteness policy: a run that diverged is usable only if a best
       validation epoch was kept;
    4. with validation, the best epoch's weights are copied into ``params``.

    Parameters
    ----------
    optimizer : Optimizer
        Update rule with ``init(params)`` and ``step(...)``.
    schedule : Schedule
        Learning-rate schedule for this call.
    config : LoopConfig
    validate : callable or None
        ``validate(params) -> (score, loss)``; the score is maximised.
    callbacks : sequence of callable
        Called with each epoch's record; a True return stops training.
    """

    def __init__(self, optimizer, schedule, config: LoopConfig, validate=None,
                 callbacks=()):  # fmt: skip
        self.optimizer = optimizer
        self.schedule = schedule
        self.config = config
        self.validate = validate
        self.callbacks = list(callbacks)

    def _state(self, params, state, backend):
        validating = self.validate is not None
        if state is None:
            state = TrainState(
                opt_state=self.optimizer.init(params, backend),
                schedule=self.schedule,
                validating=validating,
            )
        elif not self.config.incremental:
            state.opt_state = self.optimizer.init(params, backend)
            state.schedule = self.schedule
        # an incremental call after a validating fit tracks the training loss
        state.set_validating(validating)
        state.n_iter = 0
        return state

    def solve(self, net, params, X, Y, rng, *, sample_weight=None, state=None):
        """Train ``params`` in place.

        Parameters
        ----------
        net : Network
        params : ndarray of shape (n_params,)
            Starting point, overwritten with the result.
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Y : ndarray of shape (n_samples, n_outputs)
        rng : numpy.random.Generator
            Source of the permutations and dropout masks.
        sample_weight : ndarray of shape (n_samples,) or None
        state : TrainState or None
            The state of an earlier call (warm start, ``partial_fit``).

        Returns
        -------
        Solution
        """
        backend = for_arrays(X)  # chosen once for the whole call
        state = self._state(params, state, backend)
        result = fit_stochastic(
            net,
            params,
            self.optimizer,
            X,
            Y,
            state,
            self.config,
            rng,
            sample_weight=sample_weight,
            validate=self.validate,
            callbacks=self.callbacks,
            backend=backend,
        )
        reason = result.reason
        if not backend.all_finite(params):  # defensive: the loop restores
            reason = StopReason.DIVERGED
        kept_best = state.validating and state.best_params is not None
        loss = state.loss_curve[-1] if state.loss_curve else np.nan
        if reason is StopReason.DIVERGED and not kept_best:
            return Solution(reason, result.message, False, state.n_iter, loss)
        if kept_best:
            params[...] = state.best_params
        return Solution(reason, result.message, True, state.n_iter, loss, state)


class LBFGSSolver:
    """Full-batch L-BFGS-B on the network's objective.

    (:attr:`summary` is the line the estimators' ``solver`` docs show.)

    Call order of :meth:`solve`: :func:`~.training.fit_lbfgs` (BLAS pools
    sized for one full-batch pass), then the stop reason from SciPy's status
    and the finiteness policy (non-finite weights or objective: not usable).

    Parameters
    ----------
    alpha : float
        L2 penalty strength.
    max_iter, max_fun : int
        Iteration and evaluation budgets.
    tol : float
        Gradient tolerance (``gtol``).
    """

    summary = "full-batch L-BFGS, a quasi-Newton method (``max_fun``)"

    def __init__(self, alpha=0.0, max_iter=200, max_fun=15000, tol=1e-4):
        self.alpha = alpha
        self.max_iter = max_iter
        self.max_fun = max_fun
        self.tol = tol

    def solve(self, net, params, X, Y, *, sample_weight=None):
        """Minimise the objective from ``params``, overwritten in place.

        Returns
        -------
        Solution
            ``reason`` is CONVERGED (status 0), MAX_ITER (status 1: the
            iteration or the evaluation budget) or ABNORMAL; ``message`` is
            SciPy's.
        """
        res = fit_lbfgs(
            net,
            params,
            X,
            Y,
            sample_weight=sample_weight,
            alpha=self.alpha,
            max_iter=self.max_iter,
            max_fun=self.max_fun,
            tol=self.tol,
            backend=current(),  # chosen once for the whole call
        )
        message = res.message
        if isinstance(message, bytes):
            message = message.decode("latin1")
        n_iter = min(int(res.nit), self.max_iter)
        usable = bool(np.isfinite(params).all() and np.isfinite(res.fun))
        reasons = {0: StopReason.CONVERGED, 1: StopReason.MAX_ITER}
        reason = reasons.get(res.status, StopReason.ABNORMAL)
        if not usable:
            reason = StopReason.DIVERGED
        return Solution(
            reason, str(message), usable, n_iter, float(res.fun), status=res.status
        )
