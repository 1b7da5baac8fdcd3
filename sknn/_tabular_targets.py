"""What depends on the kind of target in the tabular pair: labels or values.

Mixins of :class:`sknn._tabular_base._TabularBase` (as :mod:`sknn._targets`
is for the drop-in pair): checking and encoding ``y`` (label-smoothed one-hot
columns, or scaled values), the validation targets, class weights, what the
split stratifies on, the network's loss, and the predict methods.
"""

from __future__ import annotations

import numpy as np
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _assert_all_finite, column_or_1d

from ._core.array_api import backend_of
from ._device import is_device_array, to_host
from ._fitdata import (
    check_known_classes,
    check_loss_targets,
    class_weight_vector,
    log_link,
    regression_loss,
)
from ._targets import log_probabilities

__all__ = ["_TabularClassifierTargets", "_TabularRegressorTargets"]

_POISSON_Y = "loss='poisson' requires non-negative y and sum(y) > 0."


class _TabularClassifierTargets:
    """Labels: a softmax over the classes, trained on smoothed targets."""

    _loss = "log_loss"
    # the neighbour blend's kind: the mass on each class
    _neighbor_kind = "labels"

    def _check_y(self, y, n_samples):
        y = column_or_1d(y, warn=True)
        # NaN or infinite labels are scikit-learn's error, before they reach
        # the label-type check (which would cast them)
        _assert_all_finite(y, input_name="y")
        if n_samples is not None and y.shape[0] != n_samples:
            raise ValueError(
                f"Found input variables with inconsistent numbers of samples: "
                f"[{n_samples}, {y.shape[0]}]"
            )
        check_classification_targets(y)
        return y

    def _targets(self, y, first_pass, incremental):
        """Label-smoothed one-hot targets; a first fit learns the classes,
        later calls check them (scikit-learn's rules)."""
        if "classes_" not in self.__dict__ or (not self.warm_start and not incremental):
            self._label_encoder = LabelEncoder().fit(y)
            self.classes_ = self._label_encoder.classes_
        else:
            same = self.warm_start and not incremental
            check_known_classes(self.classes_, y, same)
        codes = self._label_encoder.transform(y)
        k = max(len(self.classes_), 2)
        eps = self.label_smoothing
        Y = np.full((codes.shape[0], k), eps / k, dtype=self._dtype())
        Y[np.arange(codes.shape[0]), codes] += 1.0 - eps
        return Y

    def _encode_val(self, y_val):
        y_val = self._check_y(y_val, None)
        check_known_classes(self.classes_, y_val, name="y_val")
        codes = self._label_encoder.transform(y_val)
        Y = np.zeros((codes.shape[0], max(len(self.classes_), 2)), self._dtype())
        Y[np.arange(codes.shape[0]), codes] = 1.0
        return Y, y_val

    def _class_weights(self, y, fit_y, dtype):
        if self.class_weight is None:
            return None
        weights = class_weight_vector(self.class_weight, self.classes_, fit_y)
        return weights[self._label_encoder.transform(y)].astype(dtype)

    def _stratify(self, Y, y):
        return y, False

    def predict_proba(self, X):
        """Class probabilities, the mean over the ensemble's members.

        Parameters
        ----------
        X : {DataFrame, array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        return self._proba(X, "predict_proba")

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : {DataFrame, array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        return log_probabilities(self._proba(X, "predict_log_proba"))

    def _proba(self, X, method):
        """Class probabilities; ``method`` names the public caller in errors."""
        P = self._raw_predict(X, method)
        if len(self.classes_) == 1:
            if is_device_array(P):
                return backend_of(P).xp.ones_like(P[:, :1])
            return np.ones((P.shape[0], 1), dtype=P.dtype)
        return P

    def predict(self, X):
        """Class labels of highest probability.

        Parameters
        ----------
        X : {DataFrame, array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        P = self._proba(X, "predict")
        if is_device_array(P):
            backend = backend_of(P)
            classes = backend.asarray(self.classes_)
            return backend.xp.take(classes, backend.xp.argmax(P, axis=1), axis=0)
        return self.classes_[np.argmax(P, axis=1)]


def _column_stat(stat, A):
    """``stat(A, axis=0)`` of columns scaled to at most 1 in absolute value
    and scaled back, so that values near the float64 limit do not overflow
    it (a mean or standard deviation is scale-equivariant)."""
    top = np.abs(A).max(axis=0)
    top = np.where(top > 0, top, 1.0)
    return stat(A / top, axis=0) * top


class _TabularRegressorTargets:
    """Values: scaled for training, transformed back in ``predict``.

    The network trains the loss ``self.loss`` (``quantile``'s pinball loss
    with ``alpha=self.quantile``).  Its targets are standardised (centred,
    divided by the standard deviation) for the identity-link losses, which
    are all scale-equivariant, and divided by their mean for the log-link
    ones (``poisson``, ``gamma``), whose loss keeps its form under a positive
    scale; predictions are transformed back exactly.
    """

    @property
    def _neighbor_kind(self):
        """The neighbour blend's kind: a mean of the scaled targets, which
        the squared error estimates (None: no blend for the other losses)."""
        return "values" if self.loss == "squared_error" else None

    @property
    def _loss(self):
        """The core loss the network trains, from ``loss`` and ``quantile``."""
        return regression_loss(self.loss, self.quantile)

    def _check_fit_options(self, incremental):
        super()._check_fit_options(incremental)
        regression_loss(self.loss, self.quantile)  # HistGradientBoosting's errors

    def _check_y(self, y, n_samples):
        y = np.asarray(y, dtype=np.float64)
        if y.ndim == 0 or y.ndim > 2:
            raise ValueError(f"y must be 1D or 2D, got shape {y.shape}.")
        if n_samples is not None and y.shape[0] != n_samples:
            raise ValueError(
                f"Found input variables with inconsistent numbers of samples: "
                f"[{n_samples}, {y.shape[0]}]"
            )
        if not np.isfinite(y).all():
            raise ValueError("Input y contains NaN or infinity.")
        check_loss_targets(self.loss, y, _POISSON_Y)
        return y

    def _targets(self, y, first_pass, incremental):
        """Scaled targets; a first fit learns the scaling, later calls reuse
        it (and need a loss of the same link)."""
        link = "log" if log_link(self.loss) else "identity"
        if first_pass:
            self._y_1d = y.ndim == 1
            Y = y.reshape(y.shape[0], -1)
            if link == "log":
                if not Y.sum() > 0:
                    raise ValueError(_POISSON_Y)
                mean = _column_stat(np.mean, Y)
                self._y_mean = np.zeros_like(mean)
                self._y_scale = np.where(mean > 0, mean, 1.0)
            else:
                self._y_mean = Y.mean(axis=0)
                std = _column_stat(np.std, Y - self._y_mean)
                self._y_scale = np.where(std > 0, std, 1.0)
            self._y_link = link
        elif link != self.__dict__.get("_y_link", "identity"):
            article = "a" if link == "log" else "an"
            raise ValueError(
                f"loss={self.loss!r} needs {article} {link} link, but the fitted "
                "target scaling is for the other one; warm_start and partial_fit keep "
                "the scaling of the first fit: fit anew to change between "
                "('poisson', 'gamma') and the other losses."
            )
        return self._standardise(y, "y")

    def _standardise(self, y, name):
        """``y`` as the network's scaled 2D targets; its shape must be that of
        the fitted targets."""
        Y = y.reshape(y.shape[0], -1)
        mean = to_host(self._y_mean)
        if (y.ndim == 1) != self._y_1d or Y.shape[1] != mean.shape[0]:
            raise ValueError(
                f"{name} has shape {y.shape}, but the model was fitted with "
                f"{mean.shape[0]} output(s) "
                f"{'as a 1D array' if self._y_1d else 'as columns'}; they must "
                "match."
            )
        return ((Y - mean) / to_host(self._y_scale)).astype(self._dtype())

    def _encode_val(self, y_val):
        y_val = self._check_y(y_val, None)
        return self._standardise(y_val, "y_val"), y_val

    def _class_weights(self, y, fit_y, dtype):
        return None

    def _stratify(self, Y, y):
        return None, False

    def predict(self, X):
        """Predicted targets.

        Parameters
        ----------
        X : {DataFrame, array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        P = self._raw_predict(X)
        if is_device_array(P):  # float64 targets on X's device, as on the host
            backend = backend_of(P)
            P = backend.astype(P, np.float64) * backend.asarray(self._y_scale)
            P += backend.asarray(self._y_mean)
            return backend.reshape(P, (-1,)) if self._y_1d else P
        P = P.astype(np.float64) * self._y_scale + self._y_mean
        return P.ravel() if self._y_1d else P
