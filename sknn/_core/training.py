"""The training loops: minibatch epochs with early stopping, and L-BFGS.

Call order of a stochastic fit (what :func:`fit_stochastic` does)::

    for each epoch (at most max_iter, exactly one for partial_fit):
        permute the sample order (if shuffle)
        for each minibatch:
            gather the batch into preallocated buffers
            draw dropout masks, backpropagate (loss and flat gradient)
            stop the epoch if the loss or the gradient is not finite
            clip the gradient norm (if max_grad_norm), optimizer step
            (which adds the L2 gradient itself unless clipping needed it),
            update the moving average of the weights (if ema_decay)
        if the epoch diverged: restore the last finite parameters, record
        the epoch with NaN loss and score, and stop
        record the epoch loss; validate (if a validation function is given:
        the averaged weights when ema_decay is set); advance the
        learning-rate schedule
        run the epoch-end callbacks (:mod:`.callbacks`): the bests and the
        no-improvement count, verbose lines, progress bar, the user's
        callbacks, the plateau rule; stop when one of them says so
    with ema_decay, the call ends on the averaged weights (unless it
    diverged)

All that persists across calls (``warm_start``, ``partial_fit``) lives in a
:class:`TrainState`.  The loop knows nothing about scikit-learn: the caller
passes a validation function returning a score to maximise and decides what a
stop means for its users (warnings, attributes).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import scipy.optimize
import scipy.sparse as sp

from .backend import current
from .callbacks import FitResult, StopReason, epoch_end_callbacks
from .optimizers import SHAPES, L2Gradient
from .threads import blas_limit, forward_macs

__all__ = [
    "FitResult",
    "LoopConfig",
    "StopReason",
    "TrainState",
    "WeightAverage",
    "fit_lbfgs",
    "fit_stochastic",
]


@dataclass
class LoopConfig:
    """Settings of :func:`fit_stochastic` that do not change during a fit.

    Attributes
    ----------
    batch_size : int
        Rows per minibatch (already clipped to ``[1, n_samples]``).
    max_iter : int
        Maximum number of epochs in this call.
    shuffle : bool
        Permute the samples before each epoch.
    tol : float
        Minimum improvement of the loss (or validation score) that resets the
        no-improvement count.
    n_iter_no_change : int or float
        Stop (or lower an adaptive rate) after more than this many epochs
        without improvement.
    alpha : float
        L2 penalty strength.
    max_grad_norm : float or None
        Rescale the gradient when its Euclidean norm exceeds this.
    incremental : bool
        Run exactly one epoch (``partial_fit``).
    verbose : bool
        Print scikit-learn's lines: ``Iteration N, loss = ...`` after every
        epoch (and ``Validation score: ...`` when validating), and the
        reason of a stop.
    progress_bar : bool
        Show a :class:`~sknn._core.callbacks.ProgressBar` on stderr.
    score_label, score_sign : str, float
        How the ``verbose`` and progress lines show the validation score:
        ``score_sign * score`` named ``score_label`` (scikit-learn's
        ``Validation score: ...`` by default).
    dropout_schedule : str
        How the dropout rates change over the ``max_iter`` epochs:
        'constant', or a shape of :data:`~.optimizers.SHAPES` that scales
        every rate by its value at the middle of the epoch.
    ema_decay : float or None
        Keep an exponential moving average of the weights over the
        optimizer steps (see :class:`WeightAverage`), validate it and end
        the call on it; None trains the raw weights alone.
    """

    batch_size: int
    max_iter: int
    shuffle: bool = True
    tol: float = 1e-4
    n_iter_no_change: float = 10
    alpha: float = 0.0
    max_grad_norm: float | None = None
    incremental: bool = False
    verbose: bool = False
    progress_bar: bool = False
    score_label: str = "score"
    score_sign: float = 1.0
    dropout_schedule: str = "constant"
    ema_decay: float | None = None

    def dropout_scale(self, epoch):
        """The factor of every dropout rate in ``epoch`` (0-based, counted
        in this call, as the learning-rate schedule counts)."""
        if self.dropout_schedule == "constant":
            return 1.0
        return SHAPES[self.dropout_schedule](min((epoch + 0.5) / self.max_iter, 1.0))


@dataclass
class TrainState:
    """Everything a stochastic fit carries from one call to the next.

    Attributes
    ----------
    opt_state : dict
        The optimizer's state.
    schedule : Schedule
        The learning-rate schedule (holds the current rate).
    n_iter : int
        Epochs run by the current call (each call resets it, so a
        ``partial_fit`` call counts 1, as in scikit-learn).
    t : int
        Training samples processed since the state was made.
    loss_curve : list of float
        Training loss of every epoch.
    validation_scores : list of float or None
        Validation score of every epoch when validating.
    best_loss : float or None
        Lowest training loss (None when validating, as scikit-learn does).
    best_validation_score : float or None
        Highest validation score when validating.
    no_improvement_count : int
    best_params : ndarray or None
        Parameters of the best validation epoch.
    history : list of dict
        One record per epoch: ``epoch``, ``train_loss``, ``val_score``,
        ``val_loss``, ``learning_rate``, ``seconds``.
    """

    opt_state: dict
    schedule: object
    validating: bool = False
    n_iter: int = 0
    t: int = 0
    loss_curve: list = field(default_factory=list)
    validation_scores: list | None = None
    best_loss: float | None = None
    best_validation_score: float | None = None
    no_improvement_count: int = 0
    best_params: np.ndarray | None = None
    history: list = field(default_factory=list)

    def __post_init__(self):
        self.set_validating(self.validating)

    def set_validating(self, validating):
        """Switch between tracking a validation score and the training loss.

        The trackers of the chosen mode start fresh only if they do not
        exist yet, so a warm-started fit keeps its curves and bests.
        """
        self.validating = validating
        if validating:
            if self.validation_scores is None:
                self.validation_scores = []
            if self.best_validation_score is None:
                self.best_validation_score = -np.inf
        elif self.best_loss is None:
            self.best_loss = np.inf


def _norm(grad, sq_norm, backend=None):
    """Euclidean norm of a finite ``grad`` whose square norm is ``sq_norm``
    (``backend``: the fit's, None: :func:`~.backend.current`).

    A large finite gradient (above about 1.8e19 in float32) has a square norm
    that overflows; its norm is then computed from ``grad`` scaled by its
    largest magnitude.
    """
    if math.isfinite(sq_norm):
        return math.sqrt(sq_norm)
    xp = (current() if backend is None else backend).xp
    # a Python float: it holds the dtype's value, and every namespace takes it
    scale = float(xp.max(xp.abs(grad)))
    scaled = grad / scale
    return scale * math.sqrt(float(scaled @ scaled))


def _clip_norm(grad, max_norm, sq_norm=None, backend=None):
    """Rescale ``grad`` in place so its Euclidean norm is at most ``max_norm``.

    ``sq_norm``, the squared norm if already known, saves a pass.  Returns
    the norm before clipping.
    """
    if sq_norm is None:
        sq_norm = float(grad @ grad)
    norm = _norm(grad, sq_norm, backend)
    if norm > max_norm:
        grad *= max_norm / norm
    return norm


class WeightAverage:
    """Exponential moving average of the weights over one call's steps.

    After step ``t`` (counted from 0 in the call) the average becomes
    ``d * average + (1 - d) * params`` with ``d = min(decay, (1 + t) / (10 +
    t))``: the warm-up of TensorFlow's ``ExponentialMovingAverage`` with
    ``num_updates``, so that the starting weights fade within the first
    steps instead of weighing ``decay ** t``.  The average starts from the
    call's starting weights.
    """

    def __init__(self, decay, params, backend):
        self.decay = decay
        self.params = backend.copy(params)
        self.buf = None if backend.compiled else backend.empty_like(params)
        self.steps = 0

    def update(self, params, backend):
        """Fold the weights after one optimizer step into the average."""
        d = min(self.decay, (1 + self.steps) / (10 + self.steps))
        self.steps += 1
        self.params *= d
        backend.axpy(1.0 - d, params, self.params, self.buf)


class _Checkpoint:
    """Copy of parameters known to give a finite loss and gradient."""

    def __init__(self, backend):
        self.params = None
        self.backend = backend

    def save(self, params):
        if self.params is None:
            self.params = self.backend.copy(params)
        else:
            self.params[...] = params

    def restore(self, params):
        """Copy the checkpoint into ``params``; False if there is none."""
        if self.params is None:
            return False
        params[...] = self.params
        return True


def _run_epoch(
    net, params, grad, optimizer, state, config, batches, order, rng, ws, checkpoint,
    average, backend,
):  # fmt: skip
    """One pass over the batches in ``order``; returns (mean loss, diverged).

    Each batch: dropout masks, backpropagation, a finiteness check of the
    loss and the gradient (its square norm, and its entries when that
    overflows), optional clipping, one optimizer step.  The
    parameters evaluated on the epoch's first batch are checkpointed once that
    batch's loss and gradient prove finite; a non-finite loss or gradient ends
    the epoch before any further step, and non-finite weights at the end of
    the epoch count as divergence too (the caller then restores the
    checkpoint).

    Without clipping, the L2 gradient ``(alpha / S) * W`` is not added by the
    backward pass but by the optimizer step (:class:`L2Gradient`): the
    compiled kernels add it while they read the gradient, a pass over the
    vector fewer.  The finiteness check then sees the gradient without that
    term; the loss it checks includes the penalty, so non-finite weights are
    still caught before the step.

    ``average`` (a :class:`WeightAverage` or None) takes in the weights after
    every step.
    """
    use_dropout = any(r > 0 for r in net.dropout)
    dropout_scale = config.dropout_scale(state.n_iter)
    # clipping needs the norm of the whole gradient, L2 term included
    defer_l2 = bool(config.alpha) and config.max_grad_norm is None
    lr = state.schedule.lr
    total = 0.0
    for k, (Xb, Yb, swb) in enumerate(batches(order)):
        m = Xb.shape[0]
        masks = net.draw_masks(rng, m, backend, dropout_scale) if use_dropout else None
        loss = net.loss_grad(
            params,
            Xb,
            Yb,
            grad,
            sample_weight=swb,
            alpha=config.alpha,
            masks=masks,
            workspace=ws,
            l2_grad=not defer_l2,
            backend=backend,
        )
        sq_norm = float(grad @ grad)
        if not math.isfinite(loss) or (
            # a square norm can overflow while every entry is finite
            not math.isfinite(sq_norm) and not backend.all_finite(grad)
        ):
            return total / batches.n, True
        if k == 0:
            checkpoint.save(params)
        total += loss * m
        if config.max_grad_norm is not None:
            _clip_norm(grad, config.max_grad_norm, sq_norm, backend)
        l2 = None
        if defer_l2:
            coef = net.l2_coef(config.alpha, m, swb, backend)
            l2 = L2Gradient(coef, net.n_coefs, ws.coef_buf) if coef else None
        optimizer.step(params, grad, state.opt_state, lr, l2=l2, backend=backend)
        if average is not None:
            average.update(params, backend)
    # a finite gradient times a huge rate can still overflow the weights
    return total / batches.n, not backend.all_finite(params)


class _Batches:
    """Minibatches of (X, Y, sample_weight) gathered into reused buffers."""

    def __init__(self, X, Y, sample_weight, batch_size, backend):
        self.take = backend.take_rows
        self.X, self.Y, self.sw = X, Y, sample_weight
        self.n = X.shape[0]
        self.batch_size = batch_size
        self.sparse = sp.issparse(X)
        empty, dtype = backend.empty, backend.numpy_dtype
        if not self.sparse:
            self.Xbuf = empty((batch_size, X.shape[1]), dtype(X.dtype))
        self.Ybuf = empty((batch_size, Y.shape[1]), dtype(Y.dtype))
        if sample_weight is not None:
            self.swbuf = empty(batch_size, dtype(sample_weight.dtype))

    def __call__(self, order):
        """Yield batches in ``order`` (an index permutation or None)."""
        for start in range(0, self.n, self.batch_size):
            stop = min(start + self.batch_size, self.n)
            if order is None:
                sw = None if self.sw is None else self.sw[start:stop]
                yield self.X[start:stop, :], self.Y[start:stop, :], sw
                continue
            idx = order[start:stop]
            m = stop - start
            # ``idx`` comes from a permutation: every index is valid
            if self.sparse:
                Xb = self.X[idx]
            else:
                Xb = self.take(self.X, idx, self.Xbuf[:m, :])
            Yb = self.take(self.Y, idx, self.Ybuf[:m, :])
            sw = None
            if self.sw is not None:
                sw = self.take(self.sw, idx, self.swbuf[:m])
            yield Xb, Yb, sw


def _end_epoch(state, params, epoch_loss, n, validate, tic):
    """Bookkeeping after an epoch; returns the epoch's record.

    Appends the loss (and validation score) and advances the learning-rate
    schedule; the bests and the stop rules are the callbacks' (see
    :mod:`.callbacks`).
    """
    state.n_iter += 1
    state.t += n
    state.loss_curve.append(epoch_loss)
    lr_used = state.schedule.lr
    score = val_loss = None
    if validate is not None:
        score, val_loss = validate(params)
        state.validation_scores.append(score)
    state.schedule.epoch_end(state.n_iter, state.t)
    return _record(state, lr_used, score, val_loss, tic)


def _end_diverged_epoch(state, n, tic):
    """Record an epoch that diverged: its loss and scores are NaN.

    As in scikit-learn, the epoch counts (``n_iter``, ``t``) and its
    validation score is NaN; the bests, the no-improvement count and the
    schedule are left alone since training ends here.
    """
    state.n_iter += 1
    state.t += n
    state.loss_curve.append(math.nan)
    score = val_loss = None
    if state.validating:
        score = val_loss = math.nan
        state.validation_scores.append(score)
    return _record(state, state.schedule.lr, score, val_loss, tic)


def _record(state, lr_used, score, val_loss, tic):
    record = {
        "epoch": state.n_iter,
        "train_loss": state.loss_curve[-1],
        "val_score": score,
        "val_loss": val_loss,
        "learning_rate": lr_used,
        "seconds": time.perf_counter() - tic,
    }
    state.history.append(record)
    return record


def fit_stochastic(
    net,
    params,
    optimizer,
    X,
    Y,
    state,
    config,
    rng,
    *,
    sample_weight=None,
    validate: Callable | None = None,
    callbacks=(),
    backend=None,
):
    """Train ``params`` in place by minibatch gradient descent.

    Parameters
    ----------
    net : Network
    params : ndarray of shape (n_params,)
        Updated in place.
    optimizer : object with ``step(params, grad, state, lr, l2=None)``
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
        Targets in the parameters' dtype.
    state : TrainState
        Updated in place.
    config : LoopConfig
    rng : numpy.random.Generator
        Source of the permutations and dropout masks.
    sample_weight : ndarray of shape (n_samples,) or None
    validate : callable or None
        ``validate(params) -> (score, loss)``; the score is maximised.  Given
        exactly when ``state.validating``.
    callbacks : sequence of callable
        Each called with the epoch record; a True return stops training.
    backend : Backend or None
        The fit's element-wise backend (None: :func:`~.backend.current`).

    Returns
    -------
    FitResult
        With ``config.ema_decay``, ``params`` end as the weights' moving
        average (a diverged call ends on its last finite raw weights).
    """
    backend = current() if backend is None else backend
    n = X.shape[0]
    batches = _Batches(X, Y, sample_weight, config.batch_size, backend)
    ws = net.workspace(config.batch_size, backend)
    grad = backend.empty_like(params)
    checkpoint = _Checkpoint(backend)
    # the dropout masks' source: the fit's generator, or a device generator
    mask_rng = backend.mask_source(rng) if any(r > 0 for r in net.dropout) else rng
    epochs = 1 if config.incremental else config.max_iter
    hooks = epoch_end_callbacks(config, epochs, callbacks, backend)
    average = None
    if config.ema_decay is not None:
        average = WeightAverage(config.ema_decay, params, backend)
    # what each epoch validates and the bests keep: the average, if any
    judged = params if average is None else average.params
    result = FitResult(StopReason.EPOCH if config.incremental else StopReason.MAX_ITER)
    try:
        macs = forward_macs(net.coef_shapes, config.batch_size)
        with blas_limit(macs), backend.quiet():
            for _ in range(epochs):
                tic = time.perf_counter()
                order = backend.indices(rng.permutation(n)) if config.shuffle else None
                epoch_loss, diverged = _run_epoch(
                    net,
                    params,
                    grad,
                    optimizer,
                    state,
                    config,
                    batches,
                    order,
                    mask_rng,
                    ws,
                    checkpoint,
                    average,
                    backend,
                )
                if diverged:
                    checkpoint.restore(params)
                    record = _end_diverged_epoch(state, n, tic)
                    for hook in hooks:
                        if hook.reports_divergence:
                            hook.on_diverged(record)
                    result = FitResult(
                        StopReason.DIVERGED,
                        f"Training diverged in epoch {state.n_iter}: the loss or its "
                        "gradient became non-finite.",
                    )
                    break
                record = _end_epoch(state, judged, epoch_loss, n, validate, tic)
                stop = None
                for hook in hooks:
                    stop = hook.on_epoch_end(record, state, judged)
                    if stop is not None:
                        break
                if stop is not None:
                    result = stop
                    break
    except KeyboardInterrupt:
        result = FitResult(StopReason.INTERRUPTED, "Training interrupted by user.")
    finally:
        for hook in hooks:
            hook.close()
    if average is not None and result.reason is not StopReason.DIVERGED:
        params[...] = average.params
    return result


def fit_lbfgs(
    net,
    params,
    X,
    Y,
    *,
    sample_weight=None,
    alpha=0.0,
    max_iter=200,
    max_fun=15000,
    tol=1e-4,
    backend=None,
):
    """Minimise the full-batch objective with SciPy's L-BFGS-B.

    Parameters
    ----------
    net : Network
    params : ndarray of shape (n_params,)
        Starting point; overwritten with the solution.
    X, Y, sample_weight, alpha
        As for :meth:`Network.loss_grad`.
    max_iter, max_fun, tol : int, int, float
        L-BFGS-B's ``maxiter``, ``maxfun`` and ``gtol``.
    backend : Backend or None
        The fit's element-wise backend (None: :func:`~.backend.current`).

    The BLAS pool is sized for one full-batch pass (:mod:`.threads`).  Like
    scikit-learn's MLP with SciPy >= 1.15, nothing is printed.

    Returns
    -------
    result : scipy.optimize.OptimizeResult
        ``fun`` is the final objective, ``nit`` the iterations and
        ``status`` 0 on convergence.
    """
    backend = current() if backend is None else backend
    ws = net.workspace(X.shape[0])
    grad = np.empty_like(params)
    work = np.empty_like(params)

    def fun(x):
        work[...] = x
        loss = net.loss_grad(
            work,
            X,
            Y,
            grad,
            sample_weight=sample_weight,
            alpha=alpha,
            workspace=ws,
            backend=backend,
        )
        return loss, grad.astype(np.float64)

    macs = forward_macs(net.coef_shapes, X.shape[0])
    with blas_limit(macs), backend.quiet():
        res = scipy.optimize.minimize(
            fun,
            params.astype(np.float64),
            method="L-BFGS-B",
            jac=True,
            options={"maxfun": max_fun, "maxiter": max_iter, "gtol": tol},
        )
    params[...] = res.x
    return res
