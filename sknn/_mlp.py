"""The drop-in pair: scikit-learn's MLP parameters and defaults, and sknn's.

:class:`MLPClassifierNN` and :class:`MLPRegressorNN` take every parameter of
scikit-learn's ``MLPClassifier`` / ``MLPRegressor`` with the same default,
plus sknn's additions whose defaults change nothing.  Everything else is in
:mod:`sknn._base` (shared) and :mod:`sknn._targets` (labels or values).
"""

from __future__ import annotations

from numbers import Real

from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if

from ._base import _BaseMLP
from ._docstrings import fill
from ._fitdata import log_link
from ._targets import _ClassifierTargets, _RegressorTargets

__all__ = ["MLPClassifierNN", "MLPRegressorNN"]


@fill
class MLPClassifierNN(ClassifierMixin, _ClassifierTargets, _BaseMLP):
    """Multi-layer perceptron classifier, a drop-in superset of scikit-learn's.

    It minimises the log-loss (softmax output for multiclass targets, logistic
    outputs for binary and multilabel targets) with L-BFGS or minibatch
    stochastic solvers.  Every parameter of scikit-learn's ``MLPClassifier``
    is accepted with the same default and meaning; the parameters after
    ``max_fun`` are sknn additions whose defaults change nothing.

    Parameters
    ----------
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        Number of units of each hidden layer.
    activation : {{activation_options}}, default='relu'
        {{activation_doc}}
    solver : {{solver_options}}, default='adam'
        {{solver_doc}}
    alpha : float, default=0.0001
        Strength of the L2 penalty, divided by the (weighted) batch size when
        added to the loss.
    batch_size : int or 'auto', default='auto'
        Minibatch size of stochastic solvers; 'auto' is
        ``min(200, n_samples)``.  Unused by 'lbfgs'.
    learning_rate : {{learning_rate_options}}, default='constant'
        {{learning_rate_doc}}
    learning_rate_init : float, default=0.001
        Initial learning rate of stochastic solvers.
    power_t : float, default=0.5
        Exponent of 'invscaling'.
    max_iter : int, default=200
        Maximum number of epochs (stochastic solvers) or iterations (lbfgs).
    shuffle : bool, default=True
        Shuffle the samples before each epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialisation, the shuffling, the dropout masks and
        the early-stopping split.  An int gives bitwise-reproducible fits.
    tol : float, default=1e-4
        Minimum improvement of the training loss (or of the validation score
        with early stopping) that counts as progress.
    verbose : bool or int, default=False
        Any true value prints scikit-learn's progress messages to stdout:
        ``Iteration N, loss = ...`` after every epoch (plus the validation
        score with early stopping) and the reason training stopped.  L-BFGS
        prints nothing, as in scikit-learn with SciPy >= 1.15.  See
        ``progress_bar`` for a progress bar.
    warm_start : bool, default=False
        Continue from the previous solution when ``fit`` is called again.
    momentum : float, default=0.9
        Momentum of 'sgd'.
    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum with 'sgd'.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified)
        or use ``X_val``/``y_val`` given to ``fit``, stop when the validation
        score has not improved by ``tol`` for ``n_iter_no_change`` epochs and
        keep the weights of the best validation epoch.
    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping.
    beta_1 : float, default=0.9
        Decay rate of Adam's first-moment estimate.
    beta_2 : float, default=0.999
        Decay rate of Adam's second-moment estimate.
    epsilon : float, default=1e-8
        Numerical-stability term of Adam and RMSprop.
    n_iter_no_change : int, default=10
        Epochs without improvement by ``tol`` tolerated before stopping.
    max_fun : int, default=15000
        Maximum number of loss evaluations of 'lbfgs'.
    dropout : float or array-like of shape (n_layers - 2,), default=0.0
        Inverted-dropout rate of every hidden layer, or one per hidden layer,
        in ``[0, 1)``.  Applied during training only; predictions never drop
        units.  Needs a stochastic solver.
    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes, multiplied into ``sample_weight``.  'balanced'
        uses ``n_samples / (n_classes * count(class))``, computed on the data
        of each ``fit`` or ``partial_fit`` call.  Not for multilabel targets.
    scoring : str, callable or None, default=None
        Validation metric for early stopping: None is the estimator's
        ``score`` (accuracy), 'loss' the validation log-loss, otherwise any
        scikit-learn scorer name or ``scorer(estimator, X, y)`` callable.
        Higher is better.
    weight_decay : float, default=0.01
        Decoupled weight decay of 'adamw' (weights only, not biases).
    rho : float, default=0.9
        Decay rate of RMSprop's mean of squared gradients.
    max_grad_norm : float or None, default=None
        Rescale each minibatch gradient whose Euclidean norm exceeds this.
    ema_decay : float in [0, 1) or None, default=None
        Keep an exponential moving average of the weights over the
        minibatch steps of a stochastic fit, ``d * average + (1 - d) *
        weights`` with ``d = min(ema_decay, (1 + t) / (10 + t))`` at step
        ``t`` of the call; early stopping scores the average, and the fit
        ends on it.  Each ``fit`` or ``partial_fit`` call starts the average
        from its starting weights.  None (the default, as scikit-learn)
        keeps the raw weights.
    callbacks : list of callable or None, default=None
        Each is called after every epoch with that epoch's record, a dict with
        keys ``epoch``, ``train_loss``, ``val_score``, ``val_loss``,
        ``learning_rate`` and ``seconds``; a callback returning True stops
        training (weights and attributes stay consistent).
    progress_bar : bool, default=False
        Show the progress of a stochastic fit on stderr: epoch, training
        loss, validation score and the estimated time left.  A terminal or a
        Jupyter notebook gets a tqdm bar (``tqdm.auto``) when tqdm is
        installed; any other stream (a log file, CI output) gets a plain line
        every tenth of ``max_iter`` epochs instead of redrawn lines.

    Attributes
    ----------
    classes_ : ndarray or list of ndarray of shape (n_classes,)
        Class labels.
    loss_ : float
        Loss of the last epoch (stochastic solvers) or the final objective
        (lbfgs), L2 penalty included.
    best_loss_ : float or None
        Lowest training loss; None with early stopping.
    loss_curve_ : list of float
        Training loss of each epoch (stochastic solvers).
    validation_scores_ : list of float or None
        Validation score of each epoch with early stopping.
    best_validation_score_ : float or None
        Best validation score with early stopping.
    t_ : int
        Training samples seen by the solver.
    coefs_ : list of ndarray
        ``coefs_[i]`` of shape ``(units[i], units[i + 1])``.
    intercepts_ : list of ndarray
        ``intercepts_[i]`` of shape ``(units[i + 1],)``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names, when ``X`` had string column names.
    n_iter_ : int
        Epochs (or L-BFGS iterations) run by the last call.
    n_layers_ : int
        Number of layers, input and output included.
    n_outputs_ : int
        Number of output units.
    out_activation_ : str
        'softmax' or 'logistic'.
    history_ : list of dict
        The per-epoch records passed to ``callbacks`` (stochastic solvers).
        An epoch that diverged (with early stopping) ends the list with NaN
        losses and score; callbacks are not called for it.

    See Also
    --------
    MLPRegressorNN : The regressor.
    sklearn.neural_network.MLPClassifier : The estimator this one extends.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sknn import MLPClassifierNN
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifierNN(solver="lbfgs", max_iter=500, random_state=0)
    >>> clf.fit(X, y).score(X, y) > 0.9
    True
    """

    _parameter_constraints: dict = {
        **_BaseMLP._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        dropout=0.0,
        class_weight=None,
        scoring=None,
        weight_decay=0.01,
        rho=0.9,
        max_grad_norm=None,
        ema_decay=None,
        callbacks=None,
        progress_bar=False,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dropout = dropout
        self.class_weight = class_weight
        self.scoring = scoring
        self.weight_decay = weight_decay
        self.rho = rho
        self.max_grad_norm = max_grad_norm
        self.ema_decay = ema_decay
        self.callbacks = callbacks
        self.progress_bar = progress_bar

    @available_if(lambda est: est._check_solver())
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Run one epoch over ``X``, ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            Labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights.
        classes : array-like of shape (n_classes,), default=None
            All the classes; required on the first call (unless ``y`` is a
            multilabel indicator matrix) and ignored afterwards unless it
            differs, which is an error.

        Returns
        -------
        self : MLPClassifierNN
        """
        self._partial_fit_classes(y, classes)
        return self._fit(X, y, sample_weight, incremental=True)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


@fill
class MLPRegressorNN(RegressorMixin, _RegressorTargets, _BaseMLP):
    """Multi-layer perceptron regressor, a drop-in superset of scikit-learn's.

    It minimises half the squared error (identity output) or half the Poisson
    deviance (exponential output) with L-BFGS or minibatch stochastic
    solvers, as scikit-learn's, or one of ``HistGradientBoostingRegressor``'s
    other losses.  Every parameter of scikit-learn's ``MLPRegressor`` is
    accepted with the same default and meaning; the parameters after
    ``max_fun`` and the losses after 'poisson' are sknn additions whose
    defaults change nothing.

    Parameters
    ----------
    loss : {'squared_error', 'poisson', 'absolute_error', 'gamma', \
'quantile'}, default='squared_error'
        'squared_error' is half the squared error summed over outputs and
        averaged over samples; 'poisson' is half the Poisson deviance with a
        log link (``exp`` output), for non-negative targets.  sknn adds, under
        ``HistGradientBoostingRegressor``'s names: 'absolute_error' (trained
        by its subgradient), 'gamma' (half the gamma deviance with a log
        link, for positive targets) and 'quantile' (the pinball loss of the
        quantile ``quantile``).  The targets are used as given (no scaling);
        these three start from the loss's best constant output (the output
        bias is the median, the log of the mean, or the quantile).
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        Number of units of each hidden layer.
    activation : {{activation_options}}, default='relu'
        {{activation_doc}}
    solver : {{solver_options}}, default='adam'
        {{solver_doc}}
    alpha : float, default=0.0001
        Strength of the L2 penalty, divided by the (weighted) batch size.
    batch_size : int or 'auto', default='auto'
        Minibatch size; 'auto' is ``min(200, n_samples)``.
    learning_rate : {{learning_rate_options}}, default='constant'
        {{learning_rate_doc}}
    learning_rate_init : float, default=0.001
        Initial learning rate of stochastic solvers.
    power_t : float, default=0.5
        Exponent of 'invscaling'.
    max_iter : int, default=200
        Maximum number of epochs or L-BFGS iterations.
    shuffle : bool, default=True
        Shuffle the samples before each epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling, dropout and the validation split.
    tol : float, default=1e-4
        Minimum improvement that counts as progress.
    verbose : bool or int, default=False
        Any true value prints scikit-learn's progress messages to stdout:
        ``Iteration N, loss = ...`` after every epoch (plus the validation
        score with early stopping) and the reason training stopped.  L-BFGS
        prints nothing, as in scikit-learn with SciPy >= 1.15.  See
        ``progress_bar`` for a progress bar.
    warm_start : bool, default=False
        Continue from the previous solution.
    momentum : float, default=0.9
        Momentum of 'sgd'.
    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum with 'sgd'.
    early_stopping : bool, default=False
        Stop on a held-out validation score (R^2 by default, see ``scoring``)
        and keep the best validation epoch's weights.
    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping.
    beta_1 : float, default=0.9
        Decay rate of Adam's first-moment estimate.
    beta_2 : float, default=0.999
        Decay rate of Adam's second-moment estimate.
    epsilon : float, default=1e-8
        Numerical-stability term of Adam and RMSprop.
    n_iter_no_change : int, default=10
        Epochs without improvement tolerated before stopping.
    max_fun : int, default=15000
        Maximum number of loss evaluations of 'lbfgs'.
    dropout : float or array-like of shape (n_layers - 2,), default=0.0
        Inverted-dropout rate(s) of the hidden layers, training only.
    scoring : str, callable or None, default=None
        Early-stopping metric: None is R^2, 'loss' the validation loss, or a
        scikit-learn scorer name or callable (higher is better).
    weight_decay : float, default=0.01
        Decoupled weight decay of 'adamw'.
    rho : float, default=0.9
        Decay rate of RMSprop.
    max_grad_norm : float or None, default=None
        Global gradient-norm clipping threshold.
    ema_decay : float in [0, 1) or None, default=None
        Exponential moving average of the weights over the minibatch steps,
        scored by early stopping and kept at the end of the fit; see
        :class:`MLPClassifierNN`.  None keeps the raw weights.
    callbacks : list of callable or None, default=None
        Called after every epoch with its record; True stops training.
    progress_bar : bool, default=False
        Show the fit's progress on stderr (see :class:`MLPClassifierNN`).
    quantile : float, default=None
        The quantile that ``loss='quantile'`` estimates, in (0, 1); ignored
        by the other losses.

    Attributes
    ----------
    loss_ : float
        Loss of the last epoch or the final L-BFGS objective.
    best_loss_ : float or None
        Lowest training loss; None with early stopping.
    loss_curve_ : list of float
        Training loss of each epoch.
    validation_scores_ : list of float or None
        Validation score of each epoch with early stopping.
    best_validation_score_ : float or None
        Best validation score with early stopping.
    t_ : int
        Training samples seen by the solver.
    coefs_ : list of ndarray
        Weight matrices.
    intercepts_ : list of ndarray
        Bias vectors.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names, when ``X`` had string column names.
    n_iter_ : int
        Epochs or L-BFGS iterations run by the last call.
    n_layers_ : int
        Number of layers.
    n_outputs_ : int
        Number of outputs.
    out_activation_ : str
        'identity', or 'exp' for 'poisson' and 'gamma'.
    history_ : list of dict
        Per-epoch records (stochastic solvers); a diverged epoch has NaN
        losses and score.

    See Also
    --------
    MLPClassifierNN : The classifier.
    sklearn.neural_network.MLPRegressor : The estimator this one extends.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sknn import MLPRegressorNN
    >>> X, y = load_diabetes(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> reg = MLPRegressorNN(solver="lbfgs", max_iter=2000, random_state=0)
    >>> reg.fit(X, y).score(X, y) > 0.5
    True
    """

    _parameter_constraints: dict = {
        **_BaseMLP._parameter_constraints,
        "loss": [
            StrOptions(
                {"squared_error", "poisson", "absolute_error", "gamma", "quantile"}
            )
        ],
        "quantile": [Interval(Real, 0, 1, closed="both"), None],
    }

    def __init__(
        self,
        loss="squared_error",
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        dropout=0.0,
        scoring=None,
        weight_decay=0.01,
        rho=0.9,
        max_grad_norm=None,
        ema_decay=None,
        callbacks=None,
        progress_bar=False,
        quantile=None,
    ):
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dropout = dropout
        self.scoring = scoring
        self.weight_decay = weight_decay
        self.rho = rho
        self.max_grad_norm = max_grad_norm
        self.ema_decay = ema_decay
        self.callbacks = callbacks
        self.progress_bar = progress_bar
        self.quantile = quantile

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # the log-link losses need y >= 0 ('poisson') or y > 0 ('gamma')
        tags.target_tags.positive_only = log_link(self.loss)
        return tags

    @available_if(lambda est: est._check_solver())
    def partial_fit(self, X, y, sample_weight=None):
        """Run one epoch over ``X``, ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights.

        Returns
        -------
        self : MLPRegressorNN
        """
        return self._fit(X, y, sample_weight, incremental=True)
