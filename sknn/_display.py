"""Training-curve plots in scikit-learn's Display style.

:class:`TrainingCurveDisplay` draws one fitted model's curves: the training
loss and, when the model validated, the validation loss on the same axis and
the validation metric (named for what it is) on a second one, with the epoch
whose weights were kept marked.  :class:`TrainingCurveComparisonDisplay`
draws several models' curves on one figure.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._pipeline import _TrainingPipeline, validation_metric

__all__ = ["TrainingCurveComparisonDisplay", "TrainingCurveDisplay"]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError(
            "The training-curve displays need matplotlib: pip install 'sknn[plot]'."
        ) from exc
    return plt


def _final_estimator(estimator):
    """The last step of a Pipeline (recursively), or the estimator itself."""
    while hasattr(estimator, "steps") and hasattr(estimator, "_final_estimator"):
        estimator = estimator[-1]
    return estimator


def _axes(ax):
    """``(ax, made)``: the given Axes, or a new figure's."""
    if ax is not None:
        return ax, False
    _, ax = _pyplot().subplots(figsize=(6.4, 4.4))
    return ax, True


def _finish(display, ax, own_figure):
    """Lay out a figure the display made, and keep ``ax_`` and ``figure_``."""
    if own_figure:
        ax.figure.tight_layout()
    display.ax_ = ax
    display.figure_ = ax.figure


def _plot_losses(ax, loss_curve, validation_loss, color, prefix=""):
    """The training loss (solid) and validation loss (dashed) on ``ax``."""
    lines = ax.plot(
        np.arange(1, len(loss_curve) + 1),
        loss_curve,
        color=color,
        label=f"{prefix}training loss",
    )
    if validation_loss is not None:
        lines += ax.plot(
            np.arange(1, len(validation_loss) + 1),
            validation_loss,
            color=color if prefix else "C1",
            linestyle="--",
            label=f"{prefix}validation loss",
        )
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    return lines


def _mark_kept(ax, best_epoch, color, label=True):
    """Dotted vertical lines at the kept epoch, or at each cross-fitted
    member's (a list); the first line carries the label."""
    if np.ndim(best_epoch) == 0:
        epochs, text = [best_epoch], f"kept epoch ({best_epoch})"
    else:
        epochs = sorted(set(best_epoch))
        text = "kept epochs (members: " + ", ".join(map(str, best_epoch)) + ")"
    return [
        ax.axvline(
            e, color=color, linestyle=":", label=text if label and i == 0 else None
        )
        for i, e in enumerate(epochs)
    ]


def _legend_below(ax, handles, ncol):
    """A legend under the axes, where it covers no curve."""
    ax.legend(
        handles,
        [h.get_label() for h in handles],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.16),
        ncol=ncol,
        frameon=False,
    )


def _curves(estimator):
    """The arrays a display draws, from a fitted sknn estimator."""
    est = _final_estimator(estimator)
    check_is_fitted(est)
    if not isinstance(est, _TrainingPipeline):
        raise ValueError(
            f"{type(est).__name__} has no loss_curve_ of an sknn fit: the "
            "training-curve displays plot sknn estimators fitted with a "
            "stochastic solver."
        )
    if "loss_curve_" not in est.__dict__:  # the drop-in pair's lbfgs
        raise ValueError(
            f"{type(est).__name__} was fitted with solver='lbfgs', which "
            "records no per-epoch curve: use a stochastic solver."
        )
    scores = est.validation_scores_
    out = dict(
        loss_curve=list(est.loss_curve_),
        validation_loss=None,
        validation_metric=None,
        metric_name=None,
        best_epoch=None,
        estimator_name=type(est).__name__,
    )
    if scores is None:
        return out
    scores = np.asarray(scores, dtype=float)
    name, sign = validation_metric(est)
    if name is None:  # the score is the negated validation loss
        out["validation_loss"] = list(-scores)
    else:
        out["validation_metric"] = list(sign * scores)
        out["metric_name"] = name
        out["validation_loss"] = [r["val_loss"] for r in est.history_]
    out["best_epoch"] = est.best_epoch_
    return out


class TrainingCurveDisplay:
    """Training and validation curves of a fitted sknn estimator.

    Build it with :meth:`from_estimator` (a Pipeline is read through its last
    step); :meth:`plot` draws it (matplotlib is needed only for plotting:
    ``pip install sknn[plot]``).

    Parameters
    ----------
    loss_curve : array-like of shape (n_epochs,)
        Training loss of each epoch.
    validation_loss : array-like of shape (n_epochs,) or None
        Validation loss of each epoch, drawn on the loss axis.
    validation_metric : array-like of shape (n_epochs,) or None
        Validation metric of each epoch (higher is better unless the name
        says otherwise), drawn on a second axis.
    metric_name : str or None
        Name of the metric ("accuracy", "R2", a scorer's name).
    best_epoch : int, list of int or None
        The epoch whose weights the model kept (1-based), marked; a list
        marks each cross-fitted member's (``n_cv > 1``).
    estimator_name : str or None
        Name shown in the title.

    Attributes
    ----------
    ax_ : matplotlib Axes
        Axes with the losses.
    ax_score_ : matplotlib Axes or None
        Twin axes with the validation metric.
    figure_ : matplotlib Figure
    lines_ : list of matplotlib Line2D
        The plotted curves (training loss first).
    best_line_ : matplotlib Line2D or None
        The marker of the best epoch.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from sknn import MLPClassifierNN, TrainingCurveDisplay
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = MLPClassifierNN(max_iter=5, early_stopping=True, random_state=0)
    >>> clf = clf.fit(X / 16, y)  # doctest: +SKIP
    >>> disp = TrainingCurveDisplay.from_estimator(clf)  # doctest: +SKIP
    """

    def __init__(
        self,
        loss_curve,
        validation_loss=None,
        validation_metric=None,
        metric_name=None,
        best_epoch=None,
        estimator_name=None,
    ):
        self.loss_curve = loss_curve
        self.validation_loss = validation_loss
        self.validation_metric = validation_metric
        self.metric_name = metric_name
        self.best_epoch = best_epoch
        self.estimator_name = estimator_name

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, name=None):
        """Plot the curves recorded by a fitted estimator.

        Parameters
        ----------
        estimator : sknn estimator or Pipeline ending in one
            Fitted with a stochastic solver (it has ``loss_curve_``).
        ax : matplotlib Axes, default=None
            Where to draw; a new figure is made if None.
        name : str, default=None
            Title; the estimator's class name if None.

        Returns
        -------
        TrainingCurveDisplay
        """
        curves = _curves(estimator)
        if name is not None:
            curves["estimator_name"] = name
        return cls(**curves).plot(ax=ax)

    def plot(self, ax=None):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None

        Returns
        -------
        self : TrainingCurveDisplay
        """
        ax, own_figure = _axes(ax)
        lines = _plot_losses(ax, self.loss_curve, self.validation_loss, "C0")
        self.ax_score_ = None
        if self.validation_metric is not None:
            ax2 = ax.twinx()
            lines += ax2.plot(
                np.arange(1, len(self.validation_metric) + 1),
                self.validation_metric,
                color="C2",
                label=f"validation {self.metric_name}",
            )
            ax2.set_ylabel(f"validation {self.metric_name}")
            self.ax_score_ = ax2
        self.best_line_ = None
        if self.best_epoch is not None:
            marks = _mark_kept(ax, self.best_epoch, color="0.4")
            self.best_line_ = marks[0]
            lines.append(self.best_line_)
        _legend_below(ax, lines, min(len(lines), 3))
        if self.estimator_name:
            ax.set_title(self.estimator_name)
        _finish(self, ax, own_figure)
        self.lines_ = lines
        return self


class TrainingCurveComparisonDisplay:
    """Several fitted models' training curves on one figure.

    Each model gets one color: its training loss solid, its validation loss
    dashed (when it has one), its kept epoch dotted.

    Parameters
    ----------
    curves : dict
        Model name -> the keyword arguments of :class:`TrainingCurveDisplay`
        (``loss_curve``, ``validation_loss``, ``best_epoch``, ...).

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    lines_ : dict
        Model name -> its plotted lines.
    """

    def __init__(self, curves):
        self.curves = curves

    @classmethod
    def from_estimators(cls, estimators, *, ax=None):
        """Plot the curves of several fitted estimators.

        Parameters
        ----------
        estimators : dict or list
            ``{name: estimator}``, or a list of estimators (named by class,
            numbered when names repeat).  Pipelines are read through their
            last step.
        ax : matplotlib Axes, default=None

        Returns
        -------
        TrainingCurveComparisonDisplay
        """
        if not isinstance(estimators, dict):
            estimators = list(estimators)
            names = [type(_final_estimator(e)).__name__ for e in estimators]
            names = [
                f"{n} {names[:i].count(n) + 1}" if names.count(n) > 1 else n
                for i, n in enumerate(names)
            ]
            estimators = dict(zip(names, estimators))
        if not estimators:
            raise ValueError("from_estimators needs at least one estimator.")
        return cls({n: _curves(e) for n, e in estimators.items()}).plot(ax=ax)

    def plot(self, ax=None):
        """Draw every model's curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None

        Returns
        -------
        self : TrainingCurveComparisonDisplay
        """
        ax, own_figure = _axes(ax)
        self.lines_ = {}
        handles = []
        for k, (name, c) in enumerate(self.curves.items()):
            color = f"C{k % 10}"
            lines = _plot_losses(
                ax, c["loss_curve"], c.get("validation_loss"), color, f"{name}: "
            )
            handles += lines
            if c.get("best_epoch") is not None:
                lines += _mark_kept(ax, c["best_epoch"], color=color, label=False)
            self.lines_[name] = lines
        _legend_below(ax, handles, 2)
        _finish(self, ax, own_figure)
        return self
