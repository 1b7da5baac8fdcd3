"""The tabular pair: an MLP for real tables, with defaults chosen by measurement.

:class:`TabularMLPClassifier` and :class:`TabularMLPRegressor` take a table as
it is (a DataFrame with numeric, categorical and missing values, or an array),
encode it (:mod:`sknn._tabular_encode`), build a network of the core's layers
(:mod:`sknn._core.embeddings`, :mod:`sknn._core.blocks`,
:mod:`sknn._core.ensemble`), train it once with a
:class:`~sknn._core.solvers.StochasticSolver` and keep the epoch of best
validation loss.  Every building block is a parameter, so a search can tune it
and a user can switch it off.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d

from ._core.array_api import backend_of
from ._device import is_device_array
from ._tabular_base import _TabularBase

__all__ = ["TabularMLPClassifier", "TabularMLPRegressor"]


class TabularMLPClassifier(ClassifierMixin, _TabularBase):
    """An MLP classifier for real tables, taking a DataFrame as it is.

    Numeric columns are robust-scaled and smoothly clipped, missing values are
    filled and flagged, and categorical columns are one-hot encoded (few
    levels) or embedded (many levels); unseen categories are no error.  The
    network follows RealMLP (Holzmueller et al., 2024): a learnable scale per
    feature, periodic embeddings of the numeric features, dense layers in the
    NTP parametrization with data-dependent biases, parametric activations,
    scheduled dropout, label smoothing and AdamW with ``beta_2=0.95`` (its
    multi-cycle schedule is ``learning_rate='coslog4'``); the epoch of best
    validation loss is kept.  ``n_ensemble > 1`` trains a TabM-style batch
    ensemble.

    Parameters
    ----------
    hidden_layer_sizes : array-like of int, default=(256, 256)
        Width of each hidden layer.
    activation : {'selu', 'mish', 'relu'}, default='selu'
        Base activation ``g`` of the hidden layers.
    parametric_activation : bool, default=True
        Learn ``a`` per unit in ``(1 - a) z + a g(z)`` (starting at 1);
        False uses ``g`` itself.
    feature_scale : bool, default=True
        A learnable scale per input column (learning rate times 6).
    numerical_embedding : {'periodic'} or None, default='periodic'
        Periodic embeddings ``cos(2 pi (x w + b))`` of each numeric column,
        projected to ``embedding_dim`` values and kept beside the column;
        None passes the columns alone.
    n_frequencies : int, default=16
        Frequencies of each periodic embedding.
    embedding_dim : int, default=3
        Width of each numeric column's embedding.
    categorical_features : 'from_dtype', array-like of str, int or bool, or \
None, default='from_dtype'
        Categorical columns, as in ``HistGradientBoostingClassifier``:
        'from_dtype' takes a DataFrame's category, object, string and bool
        columns; names, indices or a mask choose them; None: all numeric.
    max_onehot : int, default=8
        Categorical columns with at most this many levels (a missing value
        counts as one) are one-hot encoded, the others embedded.
    categorical_embedding_dim : int, default=8
        Width of each learned category vector.
    parametrization : {'ntp', 'standard'}, default='ntp'
        'ntp': weights from N(0, 1) divided by ``sqrt(fan_in)`` in the
        forward pass, biases placed at data points and learned 10 times
        slower; 'standard': Glorot-uniform dense layers (use a learning rate
        near 1e-3 with it).
    n_ensemble : int, default=1
        Members of a batch ensemble sharing the hidden layers, each with its
        own input scaling and output weights; predictions average the members'
        probabilities.  Fit time grows about linearly with it.
    dropout : float, default=0.15
        Dropout rate after each hidden layer.
    dropout_schedule : {'constant', 'coslog4', 'flat_cos'}, default='flat_cos'
        Shape of the dropout rate over the epochs ('flat_cos': constant for
        the first half, then down to 0).
    learning_rate_init : float, default=0.01
        (Peak) learning rate of AdamW.
    learning_rate : {'constant', 'invscaling', 'cosine', 'coslog4', \
'flat_cos'}, default='constant'
        Learning-rate schedule (see ``MLPClassifierNN``).  With 40 epochs
        and best-epoch selection, a constant 0.01 scored above RealMLP's
        'coslog4' at 0.04 on the benchmark (``docs/tabular.md``).  Weight
        decay is multiplied by the rate, so it follows the same schedule.
    beta_1, beta_2 : float, default=0.9, 0.95
        AdamW's moment decay rates.
    weight_decay : float, default=0.0
        AdamW's decoupled weight decay of the weights.
    batch_size : int, default=256
        Minibatch size (clipped to the number of training rows).
    max_iter : int, default=40
        Epochs; training runs them all and keeps the best one.
    validation_fraction : float, default=0.2
        Share of the rows held out (stratified) to choose the best epoch,
        unless ``X_val``/``y_val`` are given to ``fit``.
    select_best : bool, default=True
        Keep the epoch of lowest validation log-loss; False trains on all
        rows and keeps the last epoch.
    label_smoothing : float, default=0.1
        Targets ``(1 - eps) y + eps / n_classes`` in training.
    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes, multiplied into ``sample_weight``.
    dtype : {'float32', 'float64'}, default='float32'
        Precision of the network.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation, the split, shuffling and dropout.
    verbose : bool, default=False
        Print the loss of every epoch.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined when ``X`` has string column names.
    is_categorical_ : ndarray of bool of shape (`n_features_in_`,)
    n_iter_ : int
    loss_curve_ : list of float
    validation_scores_ : list of float or None
        Negated validation log-loss of every epoch.
    best_epoch_ : int
        The epoch whose weights were kept (1-based).
    best_validation_score_ : float or None

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sknn import TabularMLPClassifier
    >>> X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    >>> clf = TabularMLPClassifier(max_iter=20, random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.95
    True
    """

    _parameter_constraints: dict = {
        **_TabularBase._parameter_constraints,
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }
    _loss = "log_loss"

    def __init__(
        self,
        hidden_layer_sizes=(256, 256),
        activation="selu",
        *,
        parametric_activation=True,
        feature_scale=True,
        numerical_embedding="periodic",
        n_frequencies=16,
        embedding_dim=3,
        categorical_features="from_dtype",
        max_onehot=8,
        categorical_embedding_dim=8,
        parametrization="ntp",
        n_ensemble=1,
        dropout=0.15,
        dropout_schedule="flat_cos",
        learning_rate_init=0.01,
        learning_rate="constant",
        beta_1=0.9,
        beta_2=0.95,
        weight_decay=0.0,
        batch_size=256,
        max_iter=40,
        validation_fraction=0.2,
        select_best=True,
        label_smoothing=0.1,
        class_weight=None,
        dtype="float32",
        random_state=None,
        verbose=False,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.parametric_activation = parametric_activation
        self.feature_scale = feature_scale
        self.numerical_embedding = numerical_embedding
        self.n_frequencies = n_frequencies
        self.embedding_dim = embedding_dim
        self.categorical_features = categorical_features
        self.max_onehot = max_onehot
        self.categorical_embedding_dim = categorical_embedding_dim
        self.parametrization = parametrization
        self.n_ensemble = n_ensemble
        self.dropout = dropout
        self.dropout_schedule = dropout_schedule
        self.learning_rate_init = learning_rate_init
        self.learning_rate = learning_rate
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.validation_fraction = validation_fraction
        self.select_best = select_best
        self.label_smoothing = label_smoothing
        self.class_weight = class_weight
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    def _check_y(self, y, n_samples):
        y = column_or_1d(y, warn=True)
        if y.shape[0] != n_samples:
            raise ValueError(
                f"Found input variables with inconsistent numbers of samples: "
                f"[{n_samples}, {y.shape[0]}]"
            )
        check_classification_targets(y)
        return y

    def _targets(self, y, sw):
        self._label_encoder = LabelEncoder().fit(y)
        self.classes_ = self._label_encoder.classes_
        codes = self._label_encoder.transform(y)
        self._y_fit = y
        if self.class_weight is not None:
            cw = self._class_weights(y)
            sw = cw if sw is None else sw * cw
        k = max(len(self.classes_), 2)
        eps = self.label_smoothing
        Y = np.full((codes.shape[0], k), eps / k, dtype=self._dtype())
        Y[np.arange(codes.shape[0]), codes] += 1.0 - eps
        return Y, codes, sw

    def _val_targets(self, Zv, y_val):
        unseen = np.setdiff1d(y_val, self.classes_)
        if unseen.size:
            raise ValueError(f"y_val contains labels not seen in y: {unseen.tolist()}")
        codes = self._label_encoder.transform(y_val)
        Y = np.zeros((codes.shape[0], max(len(self.classes_), 2)), self._dtype())
        Y[np.arange(codes.shape[0]), codes] = 1.0
        swv = None
        if self.class_weight is not None:
            swv = self._class_weights(y_val)
        return Zv, Y, swv

    def _class_weights(self, y):
        """The sample weights of ``class_weight`` for labels ``y``."""
        if self.class_weight == "balanced":
            counts = np.bincount(self._label_encoder.transform(self._y_fit))
            per_class = len(self._y_fit) / (len(self.classes_) * counts)
        else:
            per_class = np.array(
                [self.class_weight.get(c, 1.0) for c in self.classes_], dtype=float
            )
        return per_class[self._label_encoder.transform(y)].astype(self._dtype())

    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None):
        """Fit the model to the table ``X`` and labels ``y``.

        Parameters
        ----------
        X : {DataFrame, array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
        X_val, y_val : validation table and labels, default=None
            Used instead of the internal split to choose the best epoch.

        Returns
        -------
        self : object
        """
        return self._fit(X, y, sample_weight, X_val, y_val)

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


class TabularMLPRegressor(RegressorMixin, _TabularBase):
    """An MLP regressor for real tables, taking a DataFrame as it is.

    The table handling and the network are those of
    :class:`TabularMLPClassifier`; the targets are standardised for training
    and predictions transformed back.  The loss is half the squared error.

    Parameters
    ----------
    hidden_layer_sizes : array-like of int, default=(256, 256)
    activation : {'selu', 'mish', 'relu'}, default='mish'
    parametric_activation, feature_scale, numerical_embedding, n_frequencies, \
embedding_dim, categorical_features, max_onehot, categorical_embedding_dim, \
parametrization, n_ensemble, dropout, dropout_schedule, learning_rate_init, \
learning_rate, beta_1, beta_2, weight_decay, batch_size, max_iter, \
validation_fraction, select_best, dtype, random_state, verbose
        As in :class:`TabularMLPClassifier`; the best epoch is the one of
        lowest validation squared error.

    Attributes
    ----------
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
    is_categorical_ : ndarray of bool of shape (`n_features_in_`,)
    n_outputs_ : int
    n_iter_ : int
    loss_curve_ : list of float
    validation_scores_ : list of float or None
        Negated validation loss (on standardised targets) of every epoch.
    best_epoch_ : int
    best_validation_score_ : float or None

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sknn import TabularMLPRegressor
    >>> X, y = load_diabetes(return_X_y=True, as_frame=True)
    >>> reg = TabularMLPRegressor(max_iter=20, random_state=0).fit(X, y)
    >>> reg.score(X, y) > 0.4
    True
    """

    _loss = "squared_error"

    def __init__(
        self,
        hidden_layer_sizes=(256, 256),
        activation="mish",
        *,
        parametric_activation=True,
        feature_scale=True,
        numerical_embedding="periodic",
        n_frequencies=16,
        embedding_dim=3,
        categorical_features="from_dtype",
        max_onehot=8,
        categorical_embedding_dim=8,
        parametrization="ntp",
        n_ensemble=1,
        dropout=0.15,
        dropout_schedule="flat_cos",
        learning_rate_init=0.01,
        learning_rate="constant",
        beta_1=0.9,
        beta_2=0.95,
        weight_decay=0.0,
        batch_size=256,
        max_iter=40,
        validation_fraction=0.2,
        select_best=True,
        dtype="float32",
        random_state=None,
        verbose=False,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.parametric_activation = parametric_activation
        self.feature_scale = feature_scale
        self.numerical_embedding = numerical_embedding
        self.n_frequencies = n_frequencies
        self.embedding_dim = embedding_dim
        self.categorical_features = categorical_features
        self.max_onehot = max_onehot
        self.categorical_embedding_dim = categorical_embedding_dim
        self.parametrization = parametrization
        self.n_ensemble = n_ensemble
        self.dropout = dropout
        self.dropout_schedule = dropout_schedule
        self.learning_rate_init = learning_rate_init
        self.learning_rate = learning_rate
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.validation_fraction = validation_fraction
        self.select_best = select_best
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    def _check_y(self, y, n_samples):
        y = np.asarray(y, dtype=np.float64)
        if y.ndim == 0 or y.ndim > 2:
            raise ValueError(f"y must be 1D or 2D, got shape {y.shape}.")
        if y.shape[0] != n_samples:
            raise ValueError(
                f"Found input variables with inconsistent numbers of samples: "
                f"[{n_samples}, {y.shape[0]}]"
            )
        if not np.isfinite(y).all():
            raise ValueError("Input y contains NaN or infinity.")
        return y

    def _targets(self, y, sw):
        self._y_1d = y.ndim == 1
        Y = y.reshape(y.shape[0], -1)
        self.n_outputs_ = Y.shape[1]
        self._y_mean = Y.mean(axis=0)
        # the standard deviation of the deviations scaled to at most 1, so
        # that targets near the float64 limit do not overflow it
        dev = Y - self._y_mean
        top = np.abs(dev).max(axis=0)
        top = np.where(top > 0, top, 1.0)
        std = (dev / top).std(axis=0) * top
        self._y_scale = np.where(std > 0, std, 1.0)
        return self._standardise(Y), None, sw

    def _standardise(self, Y):
        return ((Y - self._y_mean) / self._y_scale).astype(self._dtype())

    def _val_targets(self, Zv, y_val):
        if (y_val.ndim == 1) != self._y_1d or (
            y_val.reshape(y_val.shape[0], -1).shape[1] != self.n_outputs_
        ):
            raise ValueError(
                f"y_val has shape {y_val.shape}, but y has {self.n_outputs_} "
                f"output(s) {'as a 1D array' if self._y_1d else 'as columns'}; "
                "they must match."
            )
        return Zv, self._standardise(y_val.reshape(y_val.shape[0], -1)), None

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None):
        """Fit the model to the table ``X`` and targets ``y``.

        Parameters
        ----------
        X : {DataFrame, array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None
        X_val, y_val : validation table and targets, default=None
            Used instead of the internal split to choose the best epoch.

        Returns
        -------
        self : object
        """
        return self._fit(X, y, sample_weight, X_val, y_val)

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
