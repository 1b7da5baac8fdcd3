"""The early-stopping data: given validation sets, the held-out split, scores.

A mixin of :class:`sknn._base._BaseMLP`: its methods read the estimator's
parameters (``early_stopping``, ``validation_fraction``, ``scoring``) and its
target handling (``_encode_val``, ``_score_output``).
"""

from __future__ import annotations

import inspect
import math
from numbers import Integral, Real

import numpy as np
from sklearn.base import is_classifier
from sklearn.metrics import check_scoring
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_array

from ._core.backend import for_arrays
from ._device import astype, fit_backend, is_device_array, numpy_dtype


def _make_rng(random_state):
    """One ``numpy.random.Generator`` from a scikit-learn ``random_state``."""
    if random_state is None or isinstance(random_state, Integral):
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    raise ValueError(f"random_state={random_state!r} cannot seed a generator.")


def _hidden_sizes(value, allow_empty=True):
    """``hidden_layer_sizes`` as a list of positive ints (an int is one layer)."""
    sizes = list(value) if hasattr(value, "__iter__") else [value]
    if (not sizes and not allow_empty) or any(
        not isinstance(s, Integral) or isinstance(s, bool) or s <= 0 for s in sizes
    ):
        raise ValueError(f"hidden_layer_sizes must be positive integers, got {sizes}.")
    return [int(s) for s in sizes]


def _check_weights(sample_weight, n_samples, dtype, name="sample_weight"):
    """Validated copy of a sample-weight vector (None stays None)."""
    if sample_weight is None:
        return None
    if isinstance(sample_weight, Real):
        return np.full(n_samples, float(sample_weight), dtype=dtype)
    # always a copy: the caller's array is never modified
    sw = check_array(
        sample_weight, ensure_2d=False, dtype=dtype, copy=True, input_name=name
    )
    if sw.ndim != 1:
        raise ValueError(f"{name} must be 1D array or scalar, got shape {sw.shape}.")
    if sw.shape[0] != n_samples:
        raise ValueError(f"{name}.shape == ({sw.shape[0]},), expected ({n_samples},)!")
    if (sw < 0).any():
        raise ValueError(f"Negative values in data passed to `{name}`.")
    if n_samples and not sw.any():
        raise ValueError(f"{name} must contain at least one non-zero weight.")
    return sw


def _accepts_sample_weight(func):
    """Whether ``func`` takes a ``sample_weight`` keyword (or ``**kwargs``)."""
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):  # pragma: no cover - builtins without one
        return True
    return any(
        p.name == "sample_weight" or p.kind is inspect.Parameter.VAR_KEYWORD
        for p in params
    )


class _ValidationMixin:
    """Validation data for early stopping and the score that drives it."""

    def _validation_data(self, X, Y, y_raw, sw, X_val, y_val, sw_val, rng):
        """Training and validation sets: (X, Y, sw, Xv, Yv, yv, swv) or None."""
        if X_val is not None or y_val is not None:
            if y_val is None:
                raise ValueError("X_val is provided, but y_val was not provided.")
            if X_val is None:
                raise ValueError("y_val is provided, but X_val was not provided.")
            if not self.early_stopping:
                raise ValueError(
                    "X_val and y_val are passed to fit while early_stopping is "
                    "False. Set early_stopping=True to use them."
                )
            if self.solver == "lbfgs":
                raise ValueError("solver='lbfgs' does not use validation data.")
            Xv = self._validate_X(X_val, reset=False)
            Xv = astype(Xv, numpy_dtype(X))
            Yv, yv = self._encode_val(y_val)
            if Yv.shape[0] != Xv.shape[0]:
                raise ValueError(
                    "X_val and y_val have inconsistent numbers of samples: "
                    f"[{Xv.shape[0]}, {Yv.shape[0]}]"
                )
            dtype = numpy_dtype(X)
            swv = _check_weights(sw_val, Xv.shape[0], dtype, "sample_weight_val")
            swv = self._combine_class_weight(swv, yv, dtype)
            return X, Y, sw, Xv, Yv, yv, swv
        if sw_val is not None:
            raise ValueError("sample_weight_val is given without X_val and y_val.")
        if not self.early_stopping or self.solver == "lbfgs":
            return None
        # rows of an array-API X are split by index and gathered on its device
        device = is_device_array(X)
        rows = np.arange(X.shape[0]) if device else X
        arrays = [rows, Y, y_raw] + ([] if sw is None else [sw])
        seed = int(rng.integers(np.iinfo(np.int32).max))
        parts = self._split(arrays, Y, seed)
        Xt, Xv, Yt, Yv, _, yv = parts[:6]
        if device:
            backend = fit_backend(X)
            Xt, Xv = (backend.xp.take(X, backend.indices(i), axis=0) for i in (Xt, Xv))
        swt, swv = (parts[6], parts[7]) if sw is not None else (None, None)
        if Xv.shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' "
                "or the size of your dataset."
            )
        return self._contiguous(Xt), Yt, swt, Xv, Yv, yv, swv

    def _split(self, arrays, Y, seed):
        """Train/validation split of ``arrays`` for early stopping.

        Binary targets are stratified exactly as scikit-learn does (on the
        boolean indicator column), so the same data raise the same errors.
        Multiclass targets, which scikit-learn never stratifies, are
        stratified when every class can be (at least two members, enough
        rows on each side) and split at random otherwise.  Regression and
        multilabel targets are split at random, as in scikit-learn.
        """

        def split(stratify):
            return train_test_split(
                *arrays,
                test_size=self.validation_fraction,
                random_state=seed,
                stratify=stratify,
            )

        if not is_classifier(self):
            return split(None)
        y_type = self._label_binarizer.y_type_
        if y_type == "binary":
            return split(Y.astype(bool))
        if y_type == "multiclass":
            y_raw = arrays[2]
            _, counts = np.unique(y_raw, return_counts=True)
            n_val = math.ceil(self.validation_fraction * len(y_raw))
            n_classes = len(counts)
            if counts.min() >= 2 and min(n_val, len(y_raw) - n_val) >= n_classes:
                return split(y_raw)
        return split(None)

    def _validator(self, net, validation):
        """``validate(params) -> (score, loss)`` on the validation set."""
        _, _, _, Xv, Yv, yv, swv = validation
        scoring = self.scoring
        scorer = None
        weighted = True
        if scoring is not None and scoring != "loss":
            scorer = check_scoring(self, scoring=scoring)
            weighted = _accepts_sample_weight(scorer)

        backend = for_arrays(Xv)

        def validate(params):
            with np.errstate(all="ignore"):
                P = net.predict(params, Xv, backend)
                loss = backend.losses[net.loss.name].value(Yv, P, swv)
            if scoring == "loss":
                return -loss, loss
            if scorer is not None:
                self._set_params_views(net, params)
                if swv is None or not weighted:
                    return float(scorer(self, Xv, yv)), loss
                return float(scorer(self, Xv, yv, sample_weight=swv)), loss
            if not backend.all_finite(P):
                return np.nan, loss
            return float(self._score_output(P, yv, swv)), loss

        return validate
