"""The data of one fit, checked and split: neutral ground for both pairs.

Everything here is the same rule for the drop-in and the tabular estimators:
seeding, the hidden-layer and callback checks, the regression losses' options
and targets, sample and class weights, the held-out split (stratified where
it can be) and the named record of what a fit trains and validates on
(:class:`TrainData`).  Nothing here reads an estimator: the pipeline
(:mod:`sknn._pipeline`) passes the values in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split
from sklearn.utils import check_scalar
from sklearn.utils.validation import check_array

from ._core.losses import LOSSES
from ._device import is_device_array

__all__ = [
    "NON_FINITE",
    "TrainData",
    "best_constant",
    "check_callbacks",
    "check_known_classes",
    "check_loss_targets",
    "check_partial_fit_classes",
    "check_weights",
    "class_weight_vector",
    "hidden_sizes",
    "log_link",
    "make_rng",
    "regression_loss",
    "split_rows",
    "take_rows",
    "validation_rows",
]

NON_FINITE = (
    "Solver produced non-finite parameter weights. The input data may contain "
    "large values and need to be preprocessed."
)
"""scikit-learn's error when a fit diverges, for both pairs."""


def make_rng(random_state):
    """One ``numpy.random.Generator`` from a scikit-learn ``random_state``."""
    if random_state is None or isinstance(random_state, Integral):
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    raise ValueError(f"random_state={random_state!r} cannot seed a generator.")


def hidden_sizes(value, allow_empty=True):
    """``hidden_layer_sizes`` as a list of positive ints (an int is one layer)."""
    sizes = list(value) if hasattr(value, "__iter__") else [value]
    if (not sizes and not allow_empty) or any(
        not isinstance(s, Integral) or isinstance(s, bool) or s <= 0 for s in sizes
    ):
        raise ValueError(f"hidden_layer_sizes must be positive integers, got {sizes}.")
    return [int(s) for s in sizes]


def check_callbacks(callbacks):
    """``callbacks`` as a list of callables (None: none)."""
    callbacks = list(callbacks or ())
    for cb in callbacks:
        if not callable(cb):
            raise TypeError(f"callbacks must be a list of callables, got {cb!r} in it.")
    return callbacks


def regression_loss(loss, quantile):
    """The core loss that a regressor's ``loss`` and ``quantile`` name.

    ``'quantile'`` is the pinball loss bound to ``alpha=quantile``, checked
    as ``HistGradientBoostingRegressor`` checks it (a real number in (0, 1));
    ``quantile`` is ignored by the other losses.
    """
    if loss != "quantile":
        return loss
    check_scalar(
        quantile,
        "quantile",
        target_type=Real,
        min_val=0,
        max_val=1,
        include_boundaries="neither",
    )
    return LOSSES["quantile"].bind(alpha=quantile).name


def log_link(loss):
    """Whether the regression loss ``loss`` predicts through ``exp`` (a log
    link: 'poisson', 'gamma'), read from the core's registry; False for a
    name it does not hold (the parameter check reports those)."""
    entry = LOSSES.get(loss) if isinstance(loss, str) else None
    return entry is not None and entry.out_activation == "exp"


def check_loss_targets(loss, y, poisson_message):
    """Raise for targets outside a log-link loss's domain: ``y > 0`` for
    'gamma' (``HistGradientBoostingRegressor``'s message), ``y >= 0`` for
    'poisson' (the estimator's own message)."""
    if loss == "gamma" and not (y > 0).all():
        raise ValueError("loss='gamma' requires strictly positive y.")
    if loss == "poisson" and (y < 0).any():
        raise ValueError(poisson_message)


def best_constant(loss, Y, sample_weight=None):
    """The constant output that minimises a regression loss on ``Y``, in the
    output layer's pre-activation (the link's) scale, per column.

    The (weighted) mean for 'squared_error', its log for 'poisson' and
    'gamma', the median for 'absolute_error' and the quantile ``alpha`` for
    'quantile' (the lower one where the weights split evenly), as
    ``HistGradientBoostingRegressor``'s baseline prediction.

    Parameters
    ----------
    loss : Loss
        A core loss of an identity or ``exp`` output.
    Y : ndarray of shape (n_samples, n_outputs)
    sample_weight : ndarray of shape (n_samples,) or None

    Returns
    -------
    ndarray of shape (n_outputs,)
    """
    Y = np.asarray(Y, dtype=np.float64)
    w = np.ones(Y.shape[0]) if sample_weight is None else np.asarray(sample_weight)
    w = w.astype(np.float64)
    family = loss.family
    if family in ("absolute_error", "quantile"):
        alpha = dict(loss.params).get("alpha", 0.5)
        out = np.empty(Y.shape[1])
        for j in range(Y.shape[1]):
            order = np.argsort(Y[:, j], kind="stable")
            total = np.cumsum(w[order])
            at = np.searchsorted(total, alpha * total[-1])
            out[j] = Y[order[min(at, len(order) - 1)], j]
        return out
    mean = (w @ Y) / w.sum()
    return np.log(mean) if loss.out_activation == "exp" else mean


def check_weights(sample_weight, n_samples, dtype, name="sample_weight"):
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


def class_weight_vector(class_weight, classes, y):
    """The weight of each class of ``classes`` (sorted), float64.

    ``class_weight`` is a dict ``{label: weight}`` (labels left out weigh 1)
    or ``'balanced'``: ``n_samples / (n_present * count)`` for each class
    present in the training labels ``y``, 1 for the absent ones.  A label
    that is not a class, or a weight that is negative or not finite, is an
    error.
    """
    if class_weight == "balanced":
        counts = np.array([np.sum(y == c) for c in classes], dtype=float)
        present = counts > 0
        weights = np.ones(len(classes))
        weights[present] = len(y) / (present.sum() * counts[present])
        return weights
    known = set(classes.tolist())
    unknown = [k for k in class_weight if k not in known]
    if unknown:
        raise ValueError(
            f"class_weight has labels {unknown} that are not in the classes "
            f"{classes.tolist()}."
        )
    weights = np.array([float(class_weight.get(c, 1.0)) for c in classes.tolist()])
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise ValueError("class_weight values must be finite and >= 0.")
    return weights


def check_known_classes(known, y, same=False, name="y"):
    """Raise when labels ``y`` have a class outside ``known`` (the fitted
    ``classes_``) or, with ``same``, not exactly those classes (a warm
    start); scikit-learn's wording."""
    classes = np.unique(y)
    if same and set(classes) != set(known):
        raise ValueError(
            "warm_start can only be used where `y` has the same classes as in "
            f"the previous call to fit. Previously got {known}, `y` has {classes}"
        )
    unseen = np.setdiff1d(classes, known)
    if len(unseen):
        raise ValueError(
            f"`{name}` has classes not in `self.classes_`. `self.classes_` has "
            f"{known}. '{name}' has {classes}."
        )


def check_partial_fit_classes(known, classes):
    """scikit-learn's rule for ``partial_fit(..., classes=)``: needed on the
    first call (``known`` None), the same on later calls if given."""
    if known is None:
        if classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
    elif classes is not None and not np.array_equal(np.unique(classes), known):
        raise ValueError(
            f"`classes={np.asarray(classes)!r}` is not the same as on last call "
            f"to partial_fit, was: {known!r}"
        )


def validation_rows(n_samples, fraction):
    """Rows a ``fraction`` split holds out (as ``train_test_split`` counts)."""
    return math.ceil(fraction * n_samples)


def split_rows(n_samples, fraction, seed, stratify=None, always_stratify=False):
    """``(train, validation)`` row indices of a held-out split.

    Rows are stratified on the labels ``stratify`` when every class can be
    (at least two members, and as many rows as classes on each side), and
    split at random otherwise; ``always_stratify`` stratifies whatever the
    counts, raising ``train_test_split``'s error where it cannot (what
    scikit-learn's MLP does for binary targets).
    """
    if stratify is not None and not always_stratify:
        _, counts = np.unique(stratify, return_counts=True)
        n_val = validation_rows(n_samples, fraction)
        if counts.min() < 2 or min(n_val, n_samples - n_val) < counts.size:
            stratify = None
    return train_test_split(
        np.arange(n_samples), test_size=fraction, random_state=seed, stratify=stratify
    )


def cv_folds(n_samples, n_splits, seed, stratify=None):
    """``[(train, validation), ...]``: the row indices of ``n_splits``
    shuffled folds, each fold validating once.

    The folds are stratified on the labels ``stratify`` when every class has
    at least ``n_splits`` rows, and drawn at random otherwise.
    """
    rows = np.arange(n_samples)
    if stratify is not None:
        _, counts = np.unique(stratify, return_counts=True)
        if counts.min() >= n_splits:
            cv = StratifiedKFold(n_splits, shuffle=True, random_state=seed)
            return list(cv.split(rows, stratify))
    return list(KFold(n_splits, shuffle=True, random_state=seed).split(rows))


def take_rows(A, rows):
    """Rows ``rows`` of ``A`` (None stays None), gathered where ``A`` lives:
    a NumPy or sparse copy on the host, an array-API array on its device."""
    if A is None:
        return None
    if is_device_array(A):
        from ._core.array_api import backend_of

        backend = backend_of(A)
        return backend.xp.take(A, backend.indices(rows), axis=0)
    if sp.issparse(A):
        return A[rows].tocsr()
    return np.ascontiguousarray(A[rows])


@dataclass
class TrainData:
    """What one fit trains on and validates on.

    Attributes
    ----------
    X : {ndarray, sparse matrix, array-API array} of shape (n_train, n_in)
        Training rows as the network reads them.
    Y : ndarray of shape (n_train, n_outputs)
        Encoded targets (label indicators or scaled values).
    sample_weight : ndarray of shape (n_train,) or None
        Sample weights times class weights.
    y : ndarray of shape (n_train,) or (n_train, n_outputs)
        The raw labels or targets (for scorers and stratification).
    X_val, Y_val, sample_weight_val, y_val
        The same for the validation rows; all None without validation.
    rows : ndarray of int or None
        After :meth:`split`, the indices of the training rows among the
        rows split; None otherwise.
    """

    X: object
    Y: object
    sample_weight: object = None
    y: object = None
    X_val: object = None
    Y_val: object = None
    sample_weight_val: object = None
    y_val: object = None
    rows: object = None

    @property
    def validating(self):
        """Whether there are validation rows."""
        return self.X_val is not None

    def split(self, train, val):
        """The rows ``train`` for training and ``val`` for validation."""
        return TrainData(
            *(take_rows(a, train) for a in (self.X, self.Y, self.sample_weight)),
            take_rows(self.y, train),
            *(take_rows(a, val) for a in (self.X, self.Y, self.sample_weight)),
            take_rows(self.y, val),
            np.asarray(train),
        )

    def to_device(self, backend, dtype):
        """The arrays on ``backend``'s device: the targets and weights in the
        float ``dtype`` (label indicators included), the raw labels as they
        are, rows already there left as they are."""
        floats = {"Y", "sample_weight", "Y_val", "sample_weight_val"}

        def move(name, a):
            # the raw training labels stay on the host: they served the
            # split and the class weights, which are done
            if a is None or name in ("y", "rows") or is_device_array(a):
                return a
            a = np.ascontiguousarray(a, dtype=dtype if name in floats else None)
            return backend.asarray(a)

        return replace(
            self, **{f.name: move(f.name, getattr(self, f.name)) for f in fields(self)}
        )

    def check_validation_weights(self):
        """Raise if the validation rows all weigh zero: no epoch could be
        chosen on them."""
        swv = self.sample_weight_val
        if swv is not None and not float(swv.sum()) > 0:
            raise ValueError(
                "The validation rows' weights (sample_weight times class_weight) "
                "are all zero, so no epoch can be chosen on them. Give some "
                "validation rows a positive weight."
            )
