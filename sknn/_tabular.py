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
from sklearn.utils.metaestimators import available_if

from ._device import to_host
from ._fitdata import (
    check_partial_fit_classes,
    log_link,
)
from ._tabular_base import _TabularBase
from ._tabular_targets import _TabularClassifierTargets, _TabularRegressorTargets

__all__ = ["TabularMLPClassifier", "TabularMLPRegressor"]


class TabularMLPClassifier(ClassifierMixin, _TabularClassifierTargets, _TabularBase):
    """An MLP classifier for real tables, taking a DataFrame as it is.

    Numeric columns are robust-scaled and smoothly clipped, missing values are
    filled and flagged, and categorical columns are one-hot encoded (few
    levels) or embedded (many levels); unseen categories are no error.  The
    network follows RealMLP (Holzmueller et al., 2024): a learnable scale per
    feature, periodic embeddings of the numeric features, dense layers in the
    NTP parametrization with data-dependent biases, parametric activations,
    scheduled dropout, label smoothing and AdamW with ``beta_2=0.95`` (its
    multi-cycle schedule is ``learning_rate='coslog4'``); the epoch of best
    validation loss is kept.  Tables of up to 2,000 rows train five
    cross-fitted networks (``n_cv='auto'``), each keeping its best epoch on
    its own fold, and average them.  ``n_ensemble > 1`` trains a TabM-style
    batch ensemble.

    Parameters
    ----------
    hidden_layer_sizes : array-like of int or 'auto', default='auto'
        Width of each hidden layer.  'auto' follows the table's size:
        ``(256, 256)`` below 62,500 rows of the fit, then ``(128, 128)``
        (about 2.3 times faster; ``docs/tabular.md``).  A fit that continues
        (``warm_start``, ``partial_fit``) keeps the widths of the first;
        ``hidden_layer_sizes_`` are the widths used.
    activation : {'selu', 'mish', 'relu'}, default='selu'
        Base activation ``g`` of the hidden layers.
    parametric_activation : bool, default=True
        Learn ``a`` per unit in ``(1 - a) z + a g(z)`` (starting at 1);
        False uses ``g`` itself.
    feature_scale : bool, default=True
        A learnable scale per input column (learning rate times 6).
    numerical_embedding : {'periodic', 'piecewise'} or None, \
default='periodic'
        Embeddings of each numeric column, projected to ``embedding_dim``
        values and kept beside the column: 'periodic', ``cos(2 pi (x w +
        b))`` at learned frequencies; 'piecewise', piecewise-linear
        encodings over the column's training quantiles (a learned
        piecewise-linear function with a knot at every quantile edge, which
        fits step-like effects); None passes the columns alone.
    n_frequencies : int, default=16
        Frequencies of each periodic embedding.
    n_bins : int, default=16
        Quantile bins of each piecewise-linear embedding (fewer where the
        column repeats values).
    embedding_dim : int, default=3
        Width of each numeric column's embedding.
    categorical_features : 'from_dtype', array-like of str, int or bool, or \
None, default='from_dtype'
        Categorical columns, as in ``HistGradientBoostingClassifier``:
        'from_dtype' takes a pandas DataFrame's category, object, string and
        bool columns (a polars DataFrame's string, categorical, enum and
        boolean ones); names, indices or a mask choose them, in a DataFrame
        or a NumPy array (an object array's chosen columns may hold strings);
        None: all numeric.
    max_onehot : int, default=8
        Categorical columns with at most this many levels (a missing value
        counts as one) are one-hot encoded, the others embedded.
    categorical_embedding_dim : int, default=8
        Width of each learned category vector.
    target_encoding : bool or 'auto', default='auto'
        Also give each embedded categorical column (more than
        ``max_onehot`` levels) its levels' mean targets, as numeric columns
        (one per class beyond the first with three classes or more, one with
        two, one per output in regression): the mean of the encoded targets
        over each level's rows, shrunk toward the mean of all rows by an
        empirical-Bayes factor (levels with few rows or little spread keep
        little of their own mean), unweighted.  The rows of the fit get
        out-of-fold means (5 shuffled folds: no row sees its own target);
        later calls and predictions use the means of all rows of the first
        fit (the first ``partial_fit`` block).  'auto': from 62,500 rows of
        the fit, where the narrower 'auto' network needs them (on
        dslabs/movielens, with two id columns of 671 and 9,066 levels, they
        keep its score; ``docs/tabular.md``); ``target_encoding_`` says what
        a fit used.
    parametrization : {'ntp', 'standard'}, default='ntp'
        'ntp': weights from N(0, 1) divided by ``sqrt(fan_in)`` in the
        forward pass, biases placed at data points and learned 10 times
        slower; 'standard': Glorot-uniform dense layers (use a learning rate
        near 1e-3 with it).
    n_ensemble : int, default=1
        Members of a batch ensemble sharing the hidden layers, each with its
        own input scaling and output weights; predictions average the members'
        probabilities.  Fit time grows about linearly with it.
    n_cv : int or 'auto', default='auto'
        Cross-fitted bagging: ``n_cv > 1`` splits the rows into ``n_cv``
        folds and trains one network per fold on the other folds, each
        keeping the epoch of best loss on its own fold (in place of the
        ``validation_fraction`` split); predictions average the members.  Fit
        time grows about linearly with it; a table whose folds would hold
        fewer than 10 rows trains one network.  'auto' cross-fits 5 networks
        on tables of at most 2,000 rows and one above, and one network when
        ``X_val`` is given, with ``warm_start=True`` and in ``partial_fit``;
        an integer above 1 cannot continue a fit (no ``partial_fit``, no
        warm start of a fitted model), and neither can a model that 'auto'
        cross-fitted (fit with ``n_cv=1`` to continue it later).  Callbacks
        and the progress bar see each member's epochs in turn.
    neighbors : bool or 'auto', default='auto'
        Blend the network's outputs with soft nearest-neighbour averages of
        the training targets: ``(1 - a) * p + a * k``, where ``k`` weighs
        each row of the fit by ``exp(-d)`` for a weighted squared distance
        ``d`` whose column weights are learned by neighbourhood components
        analysis, and ``p`` are the network's probabilities at a
        temperature (or its predictions).  The temperature and ``a`` are
        chosen by the loss on held-out rows: each member's fold with
        ``n_cv > 1`` (its neighbours from a metric and candidates without
        that fold), else the validation split or ``X_val``.  Every row of
        the fit with a positive sample weight is a candidate at prediction,
        so memory and prediction time grow with the rows of the fit.  The
        neighbours recall units shared by training and test rows (an
        employer, a household) that a smooth network does not carve out
        (``docs/tabular.md``).  'auto': on up to 10,000 rows of the fit.  A
        fit without held-out rows (``select_best=False``, a table too small
        to split, ``partial_fit``) does not blend; the regressor blends only
        with ``loss='squared_error'`` (the neighbours' average is a mean),
        and True with another loss is an error.
    dropout : float or 'auto', default='auto'
        Dropout rate after each hidden layer.  'auto': 0.15 below 62,500
        rows of the fit, then none (on large tables dropout cost score and
        time; ``docs/tabular.md``); ``dropout_`` is the rate used, and a fit
        that continues keeps the first fit's.
    dropout_schedule : {'constant', 'coslog4', 'flat_cos'}, default='flat_cos'
        Shape of the dropout rate over the epochs ('flat_cos': constant for
        the first half, then down to 0).
    learning_rate_init : float, default=0.01
        (Peak) learning rate of AdamW.
    learning_rate : {'constant', 'invscaling', 'cosine', 'coslog4', \
'flat_cos'}, default='constant'
        Learning-rate schedule (see ``MLPClassifierNN``).  With 40 epochs
        (small tables) and best-epoch selection, a constant 0.01 scored above RealMLP's
        'coslog4' at 0.04 on the benchmark (``docs/tabular.md``).  Weight
        decay is multiplied by the rate, so it follows the same schedule.
    beta_1, beta_2 : float, default=0.9, 0.95
        AdamW's moment decay rates.
    weight_decay : float, default=0.0
        AdamW's decoupled weight decay of the weights.
    batch_size : int or 'auto', default='auto'
        Minibatch size (clipped to the number of training rows).  'auto'
        follows the table's size: 256 below 40,000 training rows, 512 below
        100,000, then 1024, with the learning rate multiplied by
        ``sqrt(batch_size / 256)``.  ``batch_size_`` is the size used.
    max_iter : int or 'auto', default='auto'
        Epochs; training runs them all (unless ``n_iter_no_change`` stops it)
        and keeps the best one.  'auto'
        follows the table's size: 40 up to 8,192 training rows, then
        ``40 * sqrt(8192 / n_rows)`` rounded, 0.5 times that from 50,000
        rows, and at least 4 (18 at 40,000 rows, 6 at 80,000, 5 at 150,000,
        4 at 800,000), measured on large tables to keep their score
        (``docs/tabular.md``).  ``max_iter_`` is the number used.
    validation_fraction : float, default=0.2
        Share of the rows held out (stratified) to choose the best epoch,
        unless ``X_val``/``y_val`` are given to ``fit``.
    select_best : bool, default=True
        Keep the epoch of lowest validation log-loss; False trains on all
        rows and keeps the last epoch.
    n_iter_no_change : int or None, default=15
        Stop a network's training once more than this many epochs in a row
        have not lowered its validation loss (its training loss with
        ``select_best=False``), scikit-learn's MLP count; None runs all
        ``max_iter`` epochs.  Each cross-fitted network stops on its own
        fold's loss; ``n_iter_`` is the longest run.  15 kept the
        benchmark's mean score (+0.0011 against None, on 33 tables) and cut
        its fit time by a tenth (``docs/tabular.md``).
    ema_decay : float in [0, 1) or None, default=0.99
        Each network keeps an exponential moving average of its weights over
        its minibatch steps, ``d * average + (1 - d) * weights`` with ``d =
        min(ema_decay, (1 + t) / (10 + t))`` at step ``t``; the average is
        what each epoch validates, what the best epoch keeps and what the
        fit ends on; each ``fit`` or ``partial_fit`` call starts it from its
        starting weights.  None keeps the raw weights (the earlier default).
        0.99 raised the benchmark's mean score by 0.0013 (33 tables, three
        seeds), by 0.0032 on the tables that train one network, at the same
        fit time (``docs/tabular.md``).
    label_smoothing : float, default=0.1
        Targets ``(1 - eps) y + eps / n_classes`` in training.
    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes, multiplied into ``sample_weight``.
    dtype : {'float32', 'float64'}, default='float32'
        Precision of the network.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation, the split, shuffling and dropout.
    verbose : bool, default=False
        Print the training loss of every epoch, and its validation log-loss
        (``Validation log-loss: 0.52``).
    warm_start : bool, default=False
        A new ``fit`` continues from the fitted model: the table encoder,
        the classes and the weights are kept and ``max_iter`` more epochs
        run (with a fresh optimizer state).
    callbacks : list of callable or None, default=None
        Each is called after every epoch with its record (``epoch``,
        ``train_loss``, ``val_score``, ``val_loss``, ``learning_rate``,
        ``seconds``); a True return stops training.
    progress_bar : bool, default=False
        Show the progress of the fit on stderr: a tqdm bar in a terminal or
        a notebook (``pip install sknn[progress]``), else a line every tenth
        of the epochs.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined when ``X`` has string column names.
    is_categorical_ : ndarray of bool of shape (`n_features_in_`,)
    n_outputs_ : int
        Output units: the number of classes (2 for one or two classes).
    n_iter_ : int
        Epochs run by the last call.
    hidden_layer_sizes_ : tuple of int
        Widths of the hidden layers (``hidden_layer_sizes``, or its 'auto'
        value).
    target_encoding_ : bool
        Whether the fit added target means (``target_encoding``, or its
        'auto' value; False when no column is embedded).
    dropout_ : float
        The dropout rate (``dropout``, or its 'auto' value).
    n_cv_ : int
        Networks the last call trained (``n_cv``, or its 'auto' value).
    neighbor_weight_ : float or None
        The neighbours' weight ``a`` in the blend (``neighbors``); None when
        the last call did not blend.
    neighbor_temperature_ : float or None
        The temperature of the network's probabilities in the blend; None
        when the last call did not blend.
    max_iter_ : int
        Epochs the last call planned (``max_iter``, or its 'auto' value);
        ``partial_fit`` runs one, and schedules read this horizon.
    batch_size_ : int
        Minibatch size of the last call (``batch_size``, or its 'auto'
        value, clipped to the training rows).
    t_ : int
        Training rows processed, over every call (and every member).
    loss_ : float
        Training loss of the last epoch.
    loss_curve_ : list of float
        Training loss of every epoch (label-smoothed log-loss).
    history_ : list of dict
        One record per epoch, as the callbacks receive it.
    validation_scores_ : list of float or None
        Negated validation log-loss of every epoch; None without validation
        rows.
    best_epoch_ : int or list of int
        The epoch whose weights were kept (1-based, along ``loss_curve_``).
    best_validation_score_ : float or None
        The highest validation score (negated log-loss).

        With ``n_cv > 1`` the curves, ``loss_`` and
        ``best_validation_score_`` are the members' means, ``best_epoch_``
        holds each member's epoch and ``history_`` every member's records,
        each with its ``'member'`` index.
    best_loss_ : float or None
        Lowest training loss when there are no validation rows, else None.

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

    def __init__(
        self,
        hidden_layer_sizes="auto",
        activation="selu",
        *,
        parametric_activation=True,
        feature_scale=True,
        numerical_embedding="periodic",
        n_frequencies=16,
        n_bins=16,
        embedding_dim=3,
        categorical_features="from_dtype",
        max_onehot=8,
        categorical_embedding_dim=8,
        target_encoding="auto",
        parametrization="ntp",
        n_ensemble=1,
        n_cv="auto",
        neighbors="auto",
        dropout="auto",
        dropout_schedule="flat_cos",
        learning_rate_init=0.01,
        learning_rate="constant",
        beta_1=0.9,
        beta_2=0.95,
        weight_decay=0.0,
        batch_size="auto",
        max_iter="auto",
        validation_fraction=0.2,
        select_best=True,
        n_iter_no_change=15,
        ema_decay=0.99,
        label_smoothing=0.1,
        class_weight=None,
        dtype="float32",
        random_state=None,
        verbose=False,
        warm_start=False,
        callbacks=None,
        progress_bar=False,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.parametric_activation = parametric_activation
        self.feature_scale = feature_scale
        self.numerical_embedding = numerical_embedding
        self.n_frequencies = n_frequencies
        self.n_bins = n_bins
        self.embedding_dim = embedding_dim
        self.categorical_features = categorical_features
        self.max_onehot = max_onehot
        self.categorical_embedding_dim = categorical_embedding_dim
        self.target_encoding = target_encoding
        self.parametrization = parametrization
        self.n_ensemble = n_ensemble
        self.n_cv = n_cv
        self.neighbors = neighbors
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
        self.n_iter_no_change = n_iter_no_change
        self.ema_decay = ema_decay
        self.label_smoothing = label_smoothing
        self.class_weight = class_weight
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.callbacks = callbacks
        self.progress_bar = progress_bar

    @available_if(lambda est: est._check_one_network())
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Train one epoch on ``X``, ``y``, continuing from the fitted model.

        The first call (on an unfitted model) fits the table encoder on
        ``X`` and needs ``classes``; later calls reuse the encoder (a
        category first seen later goes to the unknown slot; other columns
        are an error).  No rows are held out and the weights after the epoch
        are kept (``select_best`` is for ``fit``).

        Parameters
        ----------
        X : {DataFrame, array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
        classes : array-like of shape (n_classes,), default=None
            Every class of the stream; required on the first call, and an
            error afterwards if it differs.

        Returns
        -------
        self : object
        """
        classes = to_host(classes)  # scikit-learn's rule for classes=
        check_partial_fit_classes(self.__dict__.get("classes_"), classes)
        if "classes_" not in self.__dict__:
            self._label_encoder = LabelEncoder().fit(np.asarray(classes))
            self.classes_ = self._label_encoder.classes_
        return self._fit(X, y, sample_weight, incremental=True)

    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None,
            sample_weight_val=None):  # fmt: skip
        """Fit the model to the table ``X`` and labels ``y``.

        Parameters
        ----------
        X : {DataFrame, array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
        X_val, y_val : validation table and labels, default=None
            Used instead of the internal split to choose the best epoch.
        sample_weight_val : array-like of shape (n_val,), default=None
            Weights of the validation rows.

        Returns
        -------
        self : object
        """
        return self._fit(
            X,
            y,
            sample_weight,
            X_val=X_val,
            y_val=y_val,
            sample_weight_val=sample_weight_val,
        )


class TabularMLPRegressor(RegressorMixin, _TabularRegressorTargets, _TabularBase):
    """An MLP regressor for real tables, taking a DataFrame as it is.

    The table handling and the network are those of
    :class:`TabularMLPClassifier`; the targets are scaled for training and
    predictions transformed back.  The loss is one of
    ``HistGradientBoostingRegressor``'s, under its names.

    Parameters
    ----------
    hidden_layer_sizes : array-like of int or 'auto', default='auto'
    activation : {'selu', 'mish', 'relu'}, default='mish'
    loss : {'squared_error', 'absolute_error', 'gamma', 'poisson', \
'quantile'}, default='squared_error'
        The loss to train and to choose the best epoch with: half the squared
        error, the absolute error, half the gamma deviance, half the Poisson
        deviance, or the pinball loss of the quantile ``quantile``.  'gamma'
        and 'poisson' predict through ``exp`` (a log link; 'gamma' requires
        ``y > 0``, 'poisson' ``y >= 0``) and divide the targets by their mean
        for training; the others standardise them.
    quantile : float, default=None
        The quantile that ``loss='quantile'`` estimates, in (0, 1).
    parametric_activation, feature_scale, numerical_embedding, n_frequencies, \
n_bins, embedding_dim, categorical_features, max_onehot, categorical_embedding_dim, \
target_encoding, parametrization, n_ensemble, n_cv, neighbors, dropout, \
dropout_schedule, learning_rate_init, learning_rate, beta_1, beta_2, weight_decay, \
batch_size, max_iter, validation_fraction, select_best, n_iter_no_change, ema_decay, \
dtype, random_state, verbose, warm_start, callbacks, progress_bar
        As in :class:`TabularMLPClassifier`; the best epoch is the one of
        lowest validation loss (``loss``), which ``verbose`` prints under the
        loss's name; a warm start keeps the target scaling too (so it keeps a
        log link or none).

    Attributes
    ----------
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
    is_categorical_ : ndarray of bool of shape (`n_features_in_`,)
    n_outputs_ : int
    n_iter_, hidden_layer_sizes_, target_encoding_, dropout_, n_cv_, max_iter_, \
batch_size_, t_, loss_, loss_curve_, history_, best_epoch_, best_loss_, \
neighbor_weight_, neighbor_temperature_
        As in :class:`TabularMLPClassifier`; the losses are ``loss`` on the
        scaled targets, and the neighbours blend with the scaled predictions
        (no temperature: ``neighbor_temperature_`` is None).
    validation_scores_ : list of float or None
        Negated validation loss (on scaled targets) of every epoch.
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

    _parameter_constraints: dict = {
        **_TabularBase._parameter_constraints,
        "loss": [
            StrOptions(
                {"squared_error", "absolute_error", "poisson", "gamma", "quantile"}
            )
        ],
        "quantile": [Interval(Real, 0, 1, closed="both"), None],
    }

    def __init__(
        self,
        hidden_layer_sizes="auto",
        activation="mish",
        *,
        loss="squared_error",
        quantile=None,
        parametric_activation=True,
        feature_scale=True,
        numerical_embedding="periodic",
        n_frequencies=16,
        n_bins=16,
        embedding_dim=3,
        categorical_features="from_dtype",
        max_onehot=8,
        categorical_embedding_dim=8,
        target_encoding="auto",
        parametrization="ntp",
        n_ensemble=1,
        n_cv="auto",
        neighbors="auto",
        dropout="auto",
        dropout_schedule="flat_cos",
        learning_rate_init=0.01,
        learning_rate="constant",
        beta_1=0.9,
        beta_2=0.95,
        weight_decay=0.0,
        batch_size="auto",
        max_iter="auto",
        validation_fraction=0.2,
        select_best=True,
        n_iter_no_change=15,
        ema_decay=0.99,
        dtype="float32",
        random_state=None,
        verbose=False,
        warm_start=False,
        callbacks=None,
        progress_bar=False,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.loss = loss
        self.quantile = quantile
        self.parametric_activation = parametric_activation
        self.feature_scale = feature_scale
        self.numerical_embedding = numerical_embedding
        self.n_frequencies = n_frequencies
        self.n_bins = n_bins
        self.embedding_dim = embedding_dim
        self.categorical_features = categorical_features
        self.max_onehot = max_onehot
        self.categorical_embedding_dim = categorical_embedding_dim
        self.target_encoding = target_encoding
        self.parametrization = parametrization
        self.n_ensemble = n_ensemble
        self.n_cv = n_cv
        self.neighbors = neighbors
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
        self.n_iter_no_change = n_iter_no_change
        self.ema_decay = ema_decay
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.callbacks = callbacks
        self.progress_bar = progress_bar

    @available_if(lambda est: est._check_one_network())
    def partial_fit(self, X, y, sample_weight=None):
        """Train one epoch on ``X``, ``y``, continuing from the fitted model.

        The first call (on an unfitted model) fits the table encoder and the
        target scaling on this batch; later calls reuse them (a category
        first seen later goes to the unknown slot; other columns are an
        error).  No rows are held out and the weights after the epoch are
        kept (``select_best`` is for ``fit``).

        Parameters
        ----------
        X : {DataFrame, array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        return self._fit(X, y, sample_weight, incremental=True)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.positive_only = log_link(self.loss)
        return tags

    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None,
            sample_weight_val=None):  # fmt: skip
        """Fit the model to the table ``X`` and targets ``y``.

        Parameters
        ----------
        X : {DataFrame, array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None
        X_val, y_val : validation table and targets, default=None
            Used instead of the internal split to choose the best epoch.
        sample_weight_val : array-like of shape (n_val,), default=None
            Weights of the validation rows.

        Returns
        -------
        self : object
        """
        return self._fit(
            X,
            y,
            sample_weight,
            X_val=X_val,
            y_val=y_val,
            sample_weight_val=sample_weight_val,
        )
