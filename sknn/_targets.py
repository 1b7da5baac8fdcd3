"""What depends on the kind of target: class labels or regression values.

Mixins of :class:`sknn._base._BaseMLP`: input validation of ``y``, its
encoding for the network (label indicators or float columns), class weights,
decoding the network's outputs into predictions, and the predict methods.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.metrics import accuracy_score, r2_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ._core.array_api import backend_of
from ._device import numpy_dtype, to_host
from ._fitdata import (
    best_constant,
    check_known_classes,
    check_loss_targets,
    check_partial_fit_classes,
    class_weight_vector,
    log_link,
    regression_loss,
)

_SCIKIT_LEARN_LOSSES = ("squared_error", "poisson")
_POISSON_Y = (
    "Some value(s) of y are negative which is not allowed for Poisson regression."
)


class _ClassifierTargets:
    """Labels: binary, multiclass (softmax) or multilabel (logistic) outputs."""

    def _loss_name(self):
        return "log_loss" if self.out_activation_ == "softmax" else "binary_log_loss"

    def _validate_input(self, X, y, incremental, reset):
        X, y = self._validate_X_y(X, y, reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer().fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            self._check_known_classes(y, same=self.warm_start and not incremental)
        if reset or not hasattr(self, "out_activation_"):
            multiclass = self._label_binarizer.y_type_ == "multiclass"
            self.out_activation_ = "softmax" if multiclass else "logistic"
        Y = self._encode(y)
        return X, Y, y

    def _check_known_classes(self, y, same=False, name="y"):
        if type_of_target(y).startswith("multilabel"):
            if y.shape[1] != len(self.classes_):
                raise ValueError(
                    f"{name} has {y.shape[1]} labels, the model was fitted with "
                    f"{len(self.classes_)}."
                )
            return
        check_known_classes(self.classes_, y, same, name)

    def _encode(self, y):
        """Label indicators as ``uint8``: one column per class, or one column
        (the positive class) for binary targets, as ``LabelBinarizer`` does.

        ``uint8`` keeps the target matrix eight times smaller than floats;
        the network casts it batch by batch.
        """
        if self._label_binarizer.y_type_.startswith("multilabel"):
            Y = y.toarray() if sp.issparse(y) else np.asarray(y)
            return np.ascontiguousarray(Y != 0, dtype=np.uint8)
        index = np.searchsorted(self.classes_, y)
        if len(self.classes_) <= 2:
            return (index == 1).astype(np.uint8).reshape(-1, 1)
        Y = np.zeros((len(index), len(self.classes_)), dtype=np.uint8)
        Y[np.arange(len(index)), index] = 1
        return Y

    def _encode_val(self, y_val):
        y_val = np.asarray(y_val) if not sp.issparse(y_val) else y_val
        if y_val.ndim == 2 and y_val.shape[1] == 1:
            y_val = column_or_1d(y_val, warn=True)
        self._check_known_classes(y_val, name="y_val")
        return self._encode(y_val), y_val

    def _class_weights(self, y, fit_y, dtype):
        """Per-sample weights of ``class_weight`` for the labels ``y``."""
        if self.class_weight is None:
            return None
        if self._label_binarizer.y_type_.startswith("multilabel"):
            raise ValueError("class_weight is not supported for multilabel targets.")
        weights = class_weight_vector(self.class_weight, self.classes_, fit_y)
        return weights[np.searchsorted(self.classes_, y)].astype(dtype)

    def _stratify(self, Y, y):
        """Binary targets: always stratified, on the indicator column, as
        scikit-learn does (so the same data raise the same errors);
        multiclass targets, which scikit-learn never stratifies, where every
        class can be; multilabel targets at random."""
        y_type = self._label_binarizer.y_type_
        if y_type == "binary":
            return Y.astype(bool), True
        if y_type == "multiclass":
            return y, False
        return None, False

    def _score_output(self, P, y, sample_weight):
        return accuracy_score(y, self._decode(P), sample_weight=sample_weight)

    def _decode(self, P):
        """Labels from output activations, as ``LabelBinarizer`` decodes them.

        The class of highest probability (the first on ties) for multiclass
        targets; the positive class where its probability exceeds 0.5 for
        binary ones; the indicator matrix for multilabel targets.  Written out
        for the first two because the binarizer's checks cost about 40 us a
        call, a third of a one-row prediction.
        """
        if not isinstance(P, np.ndarray):
            return self._decode_device(P)
        if self._label_binarizer.y_type_.startswith("multilabel"):
            return self._label_binarizer.inverse_transform(P)
        classes = self.classes_
        if self.n_outputs_ > 1:
            return classes.take(np.argmax(P, axis=1))
        if len(classes) == 1:
            return np.repeat(classes[0], P.shape[0])
        return classes.take((P[:, 0] > 0.5).view(np.uint8))

    def _decode_device(self, P):
        """:meth:`_decode` in the namespace and on the device of ``P``."""
        backend = backend_of(P)
        xp = backend.xp
        if self._label_binarizer.y_type_.startswith("multilabel"):
            return xp.astype(P > 0.5, backend.dtype(self.classes_.dtype))
        classes = backend.asarray(self.classes_)
        if self.n_outputs_ > 1:
            return xp.take(classes, xp.argmax(P, axis=1), axis=0)
        index = xp.astype(P[:, 0] > 0.5, xp.int64)
        if len(self.classes_) == 1:
            index = xp.zeros_like(index)
        return xp.take(classes, index, axis=0)

    def _partial_fit_classes(self, y, classes):
        """Set up (first call) or check (later calls) the classes of
        ``partial_fit`` (labels of array-API inputs are read on the host)."""
        y, classes = to_host(y), to_host(classes)
        first_call = not hasattr(self, "classes_")
        multilabel = type_of_target(y).startswith("multilabel")
        if not first_call or not multilabel:
            check_partial_fit_classes(self.__dict__.get("classes_"), classes)
        if first_call:
            self._label_binarizer = LabelBinarizer()
            if multilabel:
                # the indicator matrix's columns are the labels; ``classes``
                # names them and must have one entry per column
                self._label_binarizer.fit(y)
                n_labels = len(self._label_binarizer.classes_)
                if classes is not None and len(np.unique(classes)) != n_labels:
                    raise ValueError(
                        f"classes has {len(np.unique(classes))} labels but y is a "
                        f"multilabel indicator matrix with {n_labels} columns."
                    )
            else:
                self._label_binarizer.fit(np.asarray(classes))
            self.classes_ = (
                self._label_binarizer.classes_
                if classes is None
                else np.unique(np.asarray(classes))
            )

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        check_is_fitted(self)
        return self._decode(self._forward(X))

    def predict_proba(self, X):
        """Class probabilities, columns ordered as ``classes_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        return self._proba(X, "predict_proba")

    def _proba(self, X, method):
        """Class probabilities; ``method`` names the public caller in errors."""
        check_is_fitted(self)
        P = self._forward(X, method)
        if self.n_outputs_ == 1:
            p = P[:, 0]
            if not isinstance(P, np.ndarray):
                return backend_of(P).xp.stack([1.0 - p, p], axis=1)
            return np.column_stack([1.0 - p, p])
        return P

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        return log_probabilities(self._proba(X, "predict_log_proba"))


def log_probabilities(P):
    """``log(P)`` of a fresh probability array, in its namespace (in place on
    NumPy arrays); a probability of 0 gives -inf, silently."""
    # NumPy-backed namespaces such as array_api_strict would warn on log(0)
    with np.errstate(divide="ignore"):
        if not isinstance(P, np.ndarray):
            return backend_of(P).xp.log(P)
        return np.log(P, out=P)


class _RegressorTargets:
    """Regression values: identity outputs, or exp outputs for the log-link
    losses ('poisson', 'gamma')."""

    def _loss_name(self):
        return regression_loss(self.loss, self.quantile)

    def _check_fit_options(self, incremental):
        super()._check_fit_options(incremental)
        regression_loss(self.loss, self.quantile)  # HistGradientBoosting's errors

    def _check_y(self, y):
        y = np.asarray(y)
        check_loss_targets(self.loss, y, _POISSON_Y)
        return y

    def _data_init(self, net, params, data, rng):
        """The added losses start from their best constant output (the
        output bias), as HistGradientBoosting's baseline does: their targets
        are not scaled, and an absolute or pinball loss's bounded gradient
        would take many steps to move the output there.  scikit-learn's own
        losses keep its initialisation."""
        if self.loss in _SCIKIT_LEARN_LOSSES:
            return
        sw = data.sample_weight
        constant = best_constant(net.loss, to_host(data.Y), to_host(sw))
        _, intercepts = net.unpack(params)
        intercepts[-1][...] = constant

    def _validate_input(self, X, y, incremental, reset):
        X, y = self._validate_X_y(X, y, reset, y_numeric=True)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        y = self._check_y(y)
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        if reset:
            self.out_activation_ = "exp" if log_link(self.loss) else "identity"
        return X, np.ascontiguousarray(Y, dtype=numpy_dtype(X)), y

    def _encode_val(self, y_val):
        y_val = np.asarray(y_val, dtype=float)
        if y_val.ndim == 2 and y_val.shape[1] == 1:
            y_val = column_or_1d(y_val, warn=True)
        if not np.isfinite(y_val).all():
            raise ValueError("Input y_val contains NaN or infinity.")
        y_val = self._check_y(y_val)
        Yv = y_val.reshape(-1, 1) if y_val.ndim == 1 else y_val
        if Yv.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y_val has {Yv.shape[1]} outputs, y has {self.n_outputs_}."
            )
        return Yv, y_val

    def _class_weights(self, y, fit_y, dtype):
        return None

    def _stratify(self, Y, y):
        return None, False

    def _score_output(self, P, y, sample_weight):
        return r2_score(y, self._outputs(P), sample_weight=sample_weight)

    @staticmethod
    def _outputs(P):
        """Predictions from the output matrix: one column is a 1-D vector."""
        if P.shape[1] != 1:
            return P
        if isinstance(P, np.ndarray):
            return P.ravel()
        return backend_of(P).xp.reshape(P, (-1,))

    def predict(self, X):
        """Predict targets.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        check_is_fitted(self)
        return self._outputs(self._forward(X))
