"""The loop's policy that is not numerics, run at the end of every epoch.

:func:`~.training.fit_stochastic` computes an epoch, records it, then hands
the record to a list of :class:`EpochEnd` callbacks, in this order
(:func:`epoch_end_callbacks`):

1. :class:`Improvement`: the no-improvement count, the best loss or
   validation score, and a copy of the best validation epoch's parameters;
2. :class:`VerboseLines`: scikit-learn's ``verbose`` lines (the same wording,
   so logs and tests that read them keep working);
3. :class:`ProgressBar`: sknn's ``progress_bar=True``, a tqdm bar in a
   terminal or a notebook and a plain line every few epochs in a stream that
   is neither (a CI log, a file), where carriage-return redraws would pile up;
4. :class:`UserCallbacks`: the ``callbacks`` parameter; any True stops;
5. :class:`Plateau`: after ``n_iter_no_change`` epochs without improvement,
   an adaptive schedule lowers the rate, anything else stops (converged).

A callback may end training by returning a :class:`FitResult`.  An epoch that
diverged reaches only the reporters (2 and 3): training ends there anyway.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from enum import Enum

from .backend import current

__all__ = [
    "EpochEnd",
    "FitResult",
    "Improvement",
    "Plateau",
    "ProgressBar",
    "StopReason",
    "UserCallbacks",
    "VerboseLines",
    "epoch_end_callbacks",
    "print_epoch",
    "print_plateau",
]


class StopReason(str, Enum):
    """Why a training run ended (a ``str``, so it compares to its value)."""

    MAX_ITER = "max_iter"
    """The epoch (or L-BFGS iteration/evaluation) budget ran out."""
    CONVERGED = "converged"
    """No improvement by ``tol`` for ``n_iter_no_change`` epochs (L-BFGS: its
    own convergence test), with no learning rate left to lower."""
    CALLBACK = "callback"
    """A callback returned True."""
    DIVERGED = "diverged"
    """The loss, the gradient or the weights became non-finite."""
    INTERRUPTED = "interrupted"
    """KeyboardInterrupt during training."""
    EPOCH = "epoch"
    """The normal end of an incremental (one-epoch) call."""
    ABNORMAL = "abnormal"
    """L-BFGS stopped for another reason (a failed line search)."""


@dataclass
class FitResult:
    """How a call to :func:`~.training.fit_stochastic` ended.

    Attributes
    ----------
    reason : StopReason
    message : str
        A sentence for the user (empty for MAX_ITER and EPOCH).
    """

    reason: StopReason
    message: str = ""


class EpochEnd:
    """A callback of the training loop.

    ``on_epoch_end(record, state, params)`` runs after every completed epoch
    (``record`` is the epoch's history entry, ``state`` the
    :class:`~.training.TrainState`, ``params`` the current parameters) and
    returns a :class:`FitResult` to stop training, or None.
    ``on_diverged(record)`` runs for a diverged epoch when
    :attr:`reports_divergence` is True; ``close()`` once at the end.
    """

    reports_divergence = False

    def on_epoch_end(self, record, state, params):
        return None

    def on_diverged(self, record):
        pass

    def close(self):
        pass


class Improvement(EpochEnd):
    """Track the bests and the epochs without improvement by ``tol``.

    With validation the score must rise above the best by ``tol``, and the
    parameters of each new best score are copied into ``state.best_params``;
    without it the training loss must fall below the best by ``tol``.  This
    is scikit-learn's rule, count included.
    """

    def __init__(self, tol, backend=None):
        self.tol = tol
        self.backend = current() if backend is None else backend

    def on_epoch_end(self, record, state, params):
        if not state.validating:
            loss = record["train_loss"]
            if loss > state.best_loss - self.tol:
                state.no_improvement_count += 1
            else:
                state.no_improvement_count = 0
            if loss < state.best_loss:
                state.best_loss = loss
            return None
        score = record["val_score"]
        if score < state.best_validation_score + self.tol:
            state.no_improvement_count += 1
        else:
            state.no_improvement_count = 0
        if score > state.best_validation_score:
            state.best_validation_score = score
            if state.best_params is None:
                state.best_params = self.backend.copy(params)
            else:
                state.best_params[...] = params
        return None


class VerboseLines(EpochEnd):
    """scikit-learn's ``verbose`` lines for each epoch, the validation score
    shown as ``sign * score`` under ``label`` (see :func:`print_epoch`)."""

    reports_divergence = True

    def __init__(self, label="score", sign=1.0):
        self.label = label
        self.sign = sign

    def on_epoch_end(self, record, state, params):
        print_epoch(record, self.label, self.sign)

    def on_diverged(self, record):
        print_epoch(record, self.label, self.sign)


class UserCallbacks(EpochEnd):
    """The user's ``callbacks``: each is called with the record; any True
    stops training (all of them still see the epoch)."""

    def __init__(self, callbacks):
        self.callbacks = list(callbacks)

    def on_epoch_end(self, record, state, params):
        if any([bool(callback(record)) for callback in self.callbacks]):
            return FitResult(StopReason.CALLBACK, "A callback stopped training.")
        return None


class Plateau(EpochEnd):
    """React to more than ``n_iter_no_change`` epochs without improvement.

    An adaptive schedule lowers the rate and training goes on; otherwise it
    has converged.  With ``verbose`` the line is scikit-learn's, including its
    "Learning rate too small" when an adaptive rate cannot go lower.
    """

    def __init__(self, tol, n_iter_no_change, verbose=False):
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.verbose = verbose

    def on_epoch_end(self, record, state, params):
        if state.no_improvement_count <= self.n_iter_no_change:
            return None
        what = "Validation score" if state.validating else "Training loss"
        msg = (
            f"{what} did not improve more than tol={self.tol:f} for "
            f"{self.n_iter_no_change} consecutive epochs."
        )
        if state.schedule.on_plateau():
            state.no_improvement_count = 0
            if self.verbose:
                print_plateau(msg, f"Setting learning rate to {state.schedule.lr:f}")
            return None
        if self.verbose:
            too_small = state.schedule.kind == "adaptive"
            print_plateau(
                msg, "Learning rate too small. Stopping." if too_small else "Stopping."
            )
        return FitResult(StopReason.CONVERGED, msg)


def epoch_end_callbacks(config, epochs, callbacks=(), backend=None):
    """The callbacks of a fit with ``config`` (a LoopConfig) on ``backend``
    (None: :func:`~.backend.current`), in their order."""
    hooks = [Improvement(config.tol, backend)]
    if config.verbose:
        hooks.append(VerboseLines(config.score_label, config.score_sign))
    if config.progress_bar:
        hooks.append(ProgressBar(epochs, None, config.score_label, config.score_sign))
    hooks.append(UserCallbacks(callbacks))
    hooks.append(Plateau(config.tol, config.n_iter_no_change, config.verbose))
    return hooks


def print_epoch(record, label="score", sign=1.0):
    """scikit-learn's verbose lines for one epoch record.

    The validation score is printed as ``Validation {label}: {sign * score}``:
    with the defaults, scikit-learn's ``Validation score: ...``; a negated
    loss prints as the loss it is (``Validation log-loss: 0.31``).
    """
    print(f"Iteration {record['epoch']}, loss = {record['train_loss']:.8f}")
    if record["val_score"] is not None:
        print(f"Validation {label}: {sign * record['val_score']:f}")


def print_plateau(message, action):
    """scikit-learn's verbose line when ``n_iter_no_change`` is exceeded.

    ``action`` is what happens next: ``"Stopping."``, ``"Learning rate too
    small. Stopping."`` or ``"Setting learning rate to ..."``.
    """
    print(f"{message} {action}")


def _in_notebook():
    """Whether tqdm.auto would draw a notebook widget (IPython kernel)."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return False
    mro = getattr(tqdm, "__mro__", ())
    return any(cls.__module__ == "tqdm.notebook" for cls in mro)


def _format_seconds(seconds):
    seconds = int(round(seconds))
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{minutes:02d}:{seconds:02d}"


class ProgressBar(EpochEnd):
    """Epoch progress of one fit: epoch, loss, validation score and ETA.

    Parameters
    ----------
    total : int
        Epochs the fit may run (``max_iter``, or 1 for ``partial_fit``).
    stream : file-like, default=sys.stderr
        Where to write.  A terminal or a Jupyter notebook gets a tqdm bar
        (``tqdm.auto``) when tqdm is installed; any other stream gets a plain
        line every ``ceil(total / 10)`` epochs and at the last one.
    label, sign : str, float, default='score', 1.0
        The validation score is shown as ``sign * score``, named
        ``"val_" + label``.
    """

    N_LINES = 10
    reports_divergence = True

    def __init__(self, total, stream=None, label="score", sign=1.0):
        self.total = max(int(total), 1)
        self.label = "val_" + label.replace(" ", "_").replace("-", "_")
        self.sign = sign
        self.stream = sys.stderr if stream is None else stream
        self.every = math.ceil(self.total / self.N_LINES)
        self.start = time.perf_counter()
        self.bar = None
        self.pending = None
        interactive = _in_notebook() or _isatty(self.stream)
        if interactive:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                pass
            else:
                self.bar = tqdm(total=self.total, unit="epoch", file=self.stream)

    def on_epoch_end(self, record, state, params):
        self.update(record)

    def on_diverged(self, record):
        self.update(record)

    def update(self, record):
        """Show the state after the epoch of ``record`` (an epoch record)."""
        done = record["epoch"]
        fields = {"loss": f"{record['train_loss']:.6f}"}
        if record["val_score"] is not None:
            fields[self.label] = f"{self.sign * record['val_score']:.6f}"
        if self.bar is not None:
            self.bar.update(max(done - self.bar.n, 0))
            self.bar.set_postfix(fields, refresh=True)
            return
        self.pending = (done, fields)
        if done % self.every == 0 or done == self.total:
            self._write_line()

    def _write_line(self):
        done, fields = self.pending
        self.pending = None
        elapsed = time.perf_counter() - self.start
        eta = elapsed / done * (self.total - done) if done else 0.0
        text = " ".join(f"{k}={v}" for k, v in fields.items())
        self.stream.write(
            f"epoch {done}/{self.total} {text} elapsed={_format_seconds(elapsed)} "
            f"eta={_format_seconds(eta)}\n"
        )
        self.stream.flush()

    def close(self):
        """End the bar; in plain mode, write the last epoch if not yet shown."""
        if self.bar is not None:
            self.bar.close()
        elif self.pending is not None:
            self._write_line()


def _isatty(stream):
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or not a real file
        return False
