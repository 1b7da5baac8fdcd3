"""Training-curve plot in scikit-learn's Display style."""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted

__all__ = ["TrainingCurveDisplay"]


class TrainingCurveDisplay:
    """Training loss and validation score of a fitted sknn estimator per epoch.

    Build it with :meth:`from_estimator`; :meth:`plot` draws it (matplotlib is
    needed only for plotting: ``pip install sknn[plot]``).

    Parameters
    ----------
    loss_curve : array-like of shape (n_epochs,)
        Training loss of each epoch.
    validation_scores : array-like of shape (n_epochs,) or None
        Validation score of each epoch, if the model validated.
    estimator_name : str or None
        Name shown in the title.

    Attributes
    ----------
    ax_ : matplotlib Axes
        Axes with the training loss (left y axis).
    ax_score_ : matplotlib Axes or None
        Twin axes with the validation score (right y axis).
    figure_ : matplotlib Figure
    lines_ : list of matplotlib Line2D
        The plotted curves.

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

    def __init__(self, loss_curve, validation_scores=None, estimator_name=None):
        self.loss_curve = loss_curve
        self.validation_scores = validation_scores
        self.estimator_name = estimator_name

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, name=None):
        """Plot the curves recorded by a fitted stochastic-solver estimator.

        Parameters
        ----------
        estimator : MLPClassifierNN or MLPRegressorNN
            Fitted with a stochastic solver (it has ``loss_curve_``).
        ax : matplotlib Axes, default=None
            Where to draw; a new figure is made if None.
        name : str, default=None
            Title; the estimator's class name if None.

        Returns
        -------
        TrainingCurveDisplay
        """
        check_is_fitted(estimator)
        if getattr(estimator, "loss_curve_", None) is None:
            raise ValueError(
                "The estimator has no loss_curve_: fit it with a stochastic solver "
                "(solver='lbfgs' records no per-epoch curve)."
            )
        disp = cls(
            loss_curve=list(estimator.loss_curve_),
            validation_scores=(
                None
                if estimator.validation_scores_ is None
                else list(estimator.validation_scores_)
            ),
            estimator_name=name or type(estimator).__name__,
        )
        return disp.plot(ax=ax)

    def plot(self, ax=None):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None

        Returns
        -------
        self : TrainingCurveDisplay
        """
        try:
            import matplotlib.pyplot as plt
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ImportError(
                "TrainingCurveDisplay needs matplotlib: pip install 'sknn[plot]'."
            ) from exc
        if ax is None:
            _, ax = plt.subplots()
        epochs = np.arange(1, len(self.loss_curve) + 1)
        lines = ax.plot(epochs, self.loss_curve, color="C0", label="training loss")
        ax.set_xlabel("epoch")
        ax.set_ylabel("training loss")
        self.ax_score_ = None
        if self.validation_scores is not None:
            ax2 = ax.twinx()
            lines += ax2.plot(
                np.arange(1, len(self.validation_scores) + 1),
                self.validation_scores,
                color="C1",
                label="validation score",
            )
            ax2.set_ylabel("validation score")
            self.ax_score_ = ax2
        ax.legend(lines, [line.get_label() for line in lines], loc="best")
        if self.estimator_name:
            ax.set_title(self.estimator_name)
        self.ax_ = ax
        self.figure_ = ax.figure
        self.lines_ = lines
        return self
