"""scikit-learn estimators on top of :mod:`sknn._core`.

This module is only the scikit-learn surface: parameter validation, input
checks, label encoding, the early-stopping split and scores, warnings and the
fitted attributes.  The numerics (network, losses, optimizers, the training
loop) live in :mod:`sknn._core`; an estimator builds those pieces, calls the
loop once and copies the result onto its attributes.
"""

from __future__ import annotations

import inspect
import math
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn import get_config
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, check_scoring, r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import (
    check_array,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from ._core.activations import ACTIVATIONS
from ._core.network import Network
from ._core.optimizers import OPTIMIZERS, Schedule, make_optimizer
from ._core.solvers import LBFGSSolver, StochasticSolver, StopReason
from ._core.threads import blas_limit, forward_macs
from ._core.training import LoopConfig
from ._version import __version__

__all__ = ["MLPClassifierNN", "MLPRegressorNN"]

# the options of ``solver`` and ``activation`` come from the core's registries
_STOCHASTIC_SOLVERS = tuple(OPTIMIZERS)
_HIDDEN_ACTIVATIONS = set(ACTIVATIONS)
_NON_FINITE = (
    "Solver produced non-finite parameter weights. The input data may contain "
    "large values and need to be preprocessed."
)

def _make_rng(random_state):
    """One ``numpy.random.Generator`` from a scikit-learn ``random_state``."""
    if random_state is None or isinstance(random_state, Integral):
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    raise ValueError(f"random_state={random_state!r} cannot seed a generator.")


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


class _BaseMLP(BaseEstimator):
    """Shared machinery of :class:`MLPClassifierNN` and :class:`MLPRegressorNN`."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(_HIDDEN_ACTIVATIONS)],
        "solver": [StrOptions({"lbfgs", *_STOCHASTIC_SOLVERS})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive", "cosine"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left"), "array-like"],
        "scoring": [None, str, callable],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "rho": [Interval(Real, 0, 1, closed="left")],
        "max_grad_norm": [None, Interval(Real, 0, None, closed="neither")],
        "callbacks": [None, list, tuple],
        "progress_bar": ["boolean"],
    }

    # ------------------------------------------------------------ checks
    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        if not hasattr(sizes, "__iter__"):
            sizes = [sizes]
        sizes = list(sizes)
        if any(
            not isinstance(s, Integral) or isinstance(s, bool) or s <= 0 for s in sizes
        ):
            raise ValueError(
                f"hidden_layer_sizes must be positive integers, got {sizes}."
            )
        return [int(s) for s in sizes]

    def _dropout_rates(self, n_hidden):
        rates = self.dropout
        if np.ndim(rates) == 0:
            rates = [float(rates)] * n_hidden
        else:
            rates = [float(r) for r in np.asarray(rates, dtype=float).ravel()]
            if len(rates) != n_hidden:
                raise ValueError(
                    f"dropout must be a float or have one rate per hidden layer "
                    f"({n_hidden}), got {len(rates)} rates."
                )
        if any(not (0.0 <= r < 1.0) for r in rates):
            raise ValueError(f"dropout rates must be in [0, 1), got {rates}.")
        if self.solver == "lbfgs" and any(r > 0 for r in rates):
            raise ValueError(
                "dropout > 0 needs a stochastic solver; solver='lbfgs' minimises a "
                "deterministic objective. Use solver='adam' or set dropout=0."
            )
        return rates

    def _check_callbacks(self):
        callbacks = list(self.callbacks or ())
        for cb in callbacks:
            if not callable(cb):
                raise TypeError(
                    f"callbacks must be a list of callables, got {cb!r} in it."
                )
        return callbacks

    def _batch_size(self, n_samples):
        if self.batch_size == "auto":
            return min(200, n_samples)
        if self.batch_size > n_samples:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than sample size. It is "
                "going to be clipped",
                stacklevel=2,
            )
        return int(np.clip(self.batch_size, 1, n_samples))

    def _validate_X(self, X, reset):
        X = validate_data(
            self,
            X,
            accept_sparse=["csr", "csc"],
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        return self._contiguous(X)

    @staticmethod
    def _contiguous(X):
        if sp.issparse(X):
            return X.tocsr()
        return np.ascontiguousarray(X)

    # ------------------------------------------------------------ fitting
    def _network(self, n_features, dtype):
        hidden = self._hidden_sizes()
        units = [n_features, *hidden, self.n_outputs_]
        return Network(
            units,
            self.activation,
            self._loss_name(),
            dtype=dtype,
            dropout=self._dropout_rates(len(hidden)),
        )

    def _fit(
        self,
        X,
        y,
        sample_weight=None,
        *,
        incremental=False,
        X_val=None,
        y_val=None,
        sample_weight_val=None,
    ):
        self._validate_params()
        callbacks = self._check_callbacks()
        if incremental and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")
        if self.scoring is not None and not self.early_stopping:
            raise ValueError(
                f"scoring={self.scoring!r} is set while early_stopping is False; "
                "scoring is the early-stopping metric. Set early_stopping=True to "
                "use it, or leave scoring=None."
            )
        if self.scoring is not None and self.solver == "lbfgs":
            raise ValueError(
                f"scoring={self.scoring!r} is set with solver='lbfgs', which does "
                "no early stopping. Use a stochastic solver or leave scoring=None."
            )
        first_pass = not hasattr(self, "coefs_") or (
            not self.warm_start and not incremental
        )
        X, Y, y_raw = self._validate_input(X, y, incremental, reset=first_pass)
        if not first_pass:  # keep training in the dtype of the fitted weights
            X = X.astype(self.coefs_[0].dtype, copy=False)
            if Y.dtype.kind == "f":  # regression targets; class indicators stay uint8
                Y = Y.astype(X.dtype, copy=False)
        n_samples, n_features = X.shape
        sw = _check_weights(sample_weight, n_samples, X.dtype)
        sw = self._combine_class_weight(sw, y_raw, X.dtype)
        self.n_outputs_ = Y.shape[1]
        net = self._network(n_features, X.dtype)

        if incremental and hasattr(self, "_rng"):
            rng = self._rng
        else:
            rng = _make_rng(self.random_state)
        self._rng = rng

        # what a diverging warm or incremental call puts back before raising
        previous = {} if first_pass else self._fitted_weights()
        if first_pass:
            params = net.init_params(rng)
            self.n_iter_ = 0
            self.t_ = 0
            self.n_layers_ = net.n_layers
            self.out_activation_ = net.out_activation.name
            self._train_state = None
        else:
            params = self._packed_params(net)

        validation = self._validation_data(
            X, Y, y_raw, sw, X_val, y_val, sample_weight_val, rng
        )
        if validation is not None:
            X, Y, sw = validation[0], validation[1], validation[2]

        if self.solver == "lbfgs":
            self._run_lbfgs(net, params, X, Y, sw)
        else:
            self._run_stochastic(
                net, params, X, Y, sw, rng, validation, incremental, callbacks, previous
            )
        return self

    def _packed_params(self, net):
        """Current ``coefs_``/``intercepts_`` as a flat vector for ``net``."""
        shapes = [c.shape for c in self.coefs_]
        if shapes != net.coef_shapes or len(self.intercepts_) != len(shapes):
            raise ValueError(
                "The network shape changed since the last fit "
                f"(coefs_ shapes {shapes}, now {net.coef_shapes}); warm_start "
                "and partial_fit need the same hidden_layer_sizes, features "
                "and outputs."
            )
        return net.pack(self.coefs_, self.intercepts_)

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
            Xv = Xv.astype(X.dtype, copy=False)
            Yv, yv = self._encode_val(y_val)
            if Yv.shape[0] != Xv.shape[0]:
                raise ValueError(
                    "X_val and y_val have inconsistent numbers of samples: "
                    f"[{Xv.shape[0]}, {Yv.shape[0]}]"
                )
            swv = _check_weights(sw_val, Xv.shape[0], X.dtype, "sample_weight_val")
            swv = self._combine_class_weight(swv, yv, X.dtype)
            return X, Y, sw, Xv, Yv, yv, swv
        if sw_val is not None:
            raise ValueError("sample_weight_val is given without X_val and y_val.")
        if not self.early_stopping or self.solver == "lbfgs":
            return None
        arrays = [X, Y, y_raw] + ([] if sw is None else [sw])
        seed = int(rng.integers(np.iinfo(np.int32).max))
        parts = self._split(arrays, Y, seed)
        Xt, Xv, Yt, Yv, _, yv = parts[:6]
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

        def validate(params):
            with np.errstate(all="ignore"):
                P = net.predict(params, Xv)
                loss = net.loss.value(Yv, P, swv)
            if scoring == "loss":
                return -loss, loss
            if scorer is not None:
                self._set_params_views(net, params)
                if swv is None or not weighted:
                    return float(scorer(self, Xv, yv)), loss
                return float(scorer(self, Xv, yv, sample_weight=swv)), loss
            if not np.isfinite(P).all():
                return np.nan, loss
            return float(self._score_output(P, yv, swv)), loss

        return validate

    def _set_params_views(self, net, params):
        """Expose ``params`` as ``coefs_``/``intercepts_`` views (no copy).

        The flat vector belongs to this fit only (a later fit packs a new one
        from these attributes), so sharing its memory is safe and saves a
        copy of every weight.  ``net`` and ``params`` are kept for
        :meth:`_forward`, which predicts through them while ``coefs_`` and
        ``intercepts_`` are still these views.
        """
        coefs, intercepts = net.unpack(params)
        self.coefs_, self.intercepts_ = list(coefs), list(intercepts)
        self._fitted_net = (net, params, tuple(coefs), tuple(intercepts))

    _WEIGHTS = ("coefs_", "intercepts_", "_fitted_net")

    def _fitted_weights(self):
        """The attributes holding the fitted weights (see ``_WEIGHTS``)."""
        return {k: self.__dict__[k] for k in self._WEIGHTS if k in self.__dict__}

    def _prediction_network(self, dtype):
        """``(net, params)`` computing in ``dtype`` with the current weights.

        The fitted network is reused as long as ``coefs_`` and
        ``intercepts_`` are the views it handed out (changing their values in
        place is seen; assigning new arrays is too, through a fresh network)
        and the dtype and activations are those it was built with.
        """
        fitted = self.__dict__.get("_fitted_net")
        if fitted is not None:
            net, params, coefs, intercepts = fitted
            if (
                net.dtype == dtype
                and net.activation.name == self.activation
                and net.loss.name == self._loss_name()
                and len(coefs) == len(self.coefs_)
                and len(intercepts) == len(self.intercepts_)
                and all(a is b for a, b in zip(coefs, self.coefs_))
                and all(a is b for a, b in zip(intercepts, self.intercepts_))
            ):
                return net, params
        net = Network(
            [self.coefs_[0].shape[0], *[c.shape[1] for c in self.coefs_]],
            self.activation,
            self._loss_name(),
            dtype=dtype,
        )
        return net, net.pack(self.coefs_, self.intercepts_)

    def _run_lbfgs(self, net, params, X, Y, sw):
        solver = LBFGSSolver(self.alpha, self.max_iter, self.max_fun, self.tol)
        solution = solver.solve(net, params, X, Y, sample_weight=sw)
        if not solution.usable:
            raise ValueError(_NON_FINITE)
        if solution.status != 0:
            # scikit-learn's wording: any stop other than convergence (the
            # max_iter or the max_fun budget, a failed line search) warns
            text = (
                f"lbfgs failed to converge after {solution.n_iter} iteration(s) "
                f"(status={solution.status}):\n{solution.message}\n"
            )
            if solution.n_iter == self.max_iter:
                text += (
                    "\nIncrease the number of iterations to improve the "
                    f"convergence (max_iter={self.max_iter})."
                )
            text += (
                "\nYou might also want to scale the data as shown in:\n"
                "    https://scikit-learn.org/stable/modules/preprocessing.html"
            )
            warnings.warn(text, ConvergenceWarning, stacklevel=2)
        self.n_iter_ = solution.n_iter
        self.loss_ = solution.loss
        self._set_params_views(net, params)

    def _stochastic_solver(self, net, n_samples, validation, incremental, callbacks):
        """The :class:`StochasticSolver` of this call's hyper-parameters."""
        optimizer = make_optimizer(
            self.solver,
            momentum=self.momentum,
            nesterovs_momentum=self.nesterovs_momentum,
            beta_1=self.beta_1,
            beta_2=self.beta_2,
            epsilon=self.epsilon,
            weight_decay=self.weight_decay,
            rho=self.rho,
            n_decay=net.n_coefs,
        )
        kind = self.learning_rate
        if kind == "invscaling" and self.solver != "sgd":
            kind = "constant"  # as scikit-learn: invscaling is sgd-only
        schedule = Schedule(kind, self.learning_rate_init, self.power_t, self.max_iter)
        config = LoopConfig(
            batch_size=self._batch_size(n_samples),
            max_iter=self.max_iter,
            shuffle=self.shuffle,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            alpha=self.alpha,
            max_grad_norm=self.max_grad_norm,
            incremental=incremental,
            verbose=bool(self.verbose),
            progress_bar=self.progress_bar,
        )
        validate = None if validation is None else self._validator(net, validation)
        return StochasticSolver(optimizer, schedule, config, validate, callbacks)

    def _run_stochastic(
        self, net, params, X, Y, sw, rng, validation, incremental, callbacks, previous
    ):
        """Train with a stochastic solver.

        ``previous`` holds the weights from before a warm or incremental call
        (empty on a first fit); they are put back if this call diverges.
        """
        solver = self._stochastic_solver(
            net, X.shape[0], validation, incremental, callbacks
        )
        solution = solver.solve(
            net,
            params,
            X,
            Y,
            rng,
            sample_weight=sw,
            state=self.__dict__.get("_train_state"),
        )
        if not solution.usable:
            # scikit-learn's contract: without early stopping (or before any
            # validation epoch was kept) a divergence is an error.  Nothing
            # of this call is kept: earlier weights stay, a first fit stays
            # unfitted, and the next call starts a fresh optimizer state.
            self._train_state = None
            for name in self._WEIGHTS:
                self.__dict__.pop(name, None)
            self.__dict__.update(previous)
            raise ValueError(_NON_FINITE)
        state = self._train_state = solution.state
        self._set_params_views(net, params)
        self.n_iter_ = solution.n_iter
        self.t_ = state.t
        self.loss_curve_ = list(state.loss_curve)
        self.loss_ = solution.loss
        self.history_ = list(state.history)
        if state.validating:
            self.validation_scores_ = list(state.validation_scores)
            self.best_validation_score_ = state.best_validation_score
            self.best_loss_ = None
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None
            self.best_loss_ = state.best_loss
        self._warn_stop(solution)

    def _warn_stop(self, solution):
        """scikit-learn's warning for how a stochastic fit ended, if any."""
        if solution.reason is StopReason.INTERRUPTED:
            warnings.warn("Training interrupted by user.", stacklevel=3)
        elif solution.reason is StopReason.DIVERGED:
            best = int(np.nanargmax(self.validation_scores_)) + 1
            warnings.warn(
                f"{solution.message} Training stopped and the weights of the best "
                f"validation epoch ({best}) were kept. Lower learning_rate_init, "
                "scale the inputs or set max_grad_norm.",
                ConvergenceWarning,
                stacklevel=3,
            )
        elif solution.reason is StopReason.MAX_ITER and self.n_iter_ == self.max_iter:
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) "
                "reached and the optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=3,
            )

    # ------------------------------------------------------------ predicting
    def _forward(self, X):
        """Output activations of the fitted network for new data ``X``.

        ``X`` is validated as scikit-learn's MLP does at predict time; the
        product runs in the promoted dtype of ``X`` and the weights, as
        scikit-learn's does (float32 weights on float64 data give float64
        outputs).  Outputs that overflow to non-finite values (inputs far
        outside the training range) raise a warning instead of passing
        silently.
        """
        X = self._validate_predict_X(X)
        dtype = np.result_type(X.dtype, self.coefs_[0].dtype)
        if not np.issubdtype(dtype, np.floating):
            dtype = np.float64
        net, params = self._prediction_network(dtype)
        X = X.astype(dtype, copy=False)
        macs = forward_macs(net.coef_shapes, X.shape[0])
        with blas_limit(macs), np.errstate(over="ignore", invalid="ignore"):
            P = net.predict(params, X)
        if not np.isfinite(P).all():
            warnings.warn(
                "The network's outputs are not finite for some samples: their "
                "features are too large for the fitted weights. Scale the inputs "
                "(e.g. with StandardScaler) as for training.",
                RuntimeWarning,
                stacklevel=3,
            )
        return P

    def _validate_predict_X(self, X):
        """``X`` checked as ``validate_data(..., reset=False)`` checks it.

        A C-contiguous 2-D float ndarray of the fitted width with finite
        values, for a model fitted without feature names, is what that check
        returns unchanged; it is recognised here in a few microseconds (the
        full check takes about 100 on one row).  Anything else, including
        every input that must raise or warn, goes through ``validate_data``.
        """
        if (
            type(X) is np.ndarray
            and X.ndim == 2
            and X.dtype in (np.float64, np.float32)
            and X.flags.c_contiguous
            and X.shape[0] >= 1
            and X.shape[1] == self.n_features_in_
            and "feature_names_in_" not in self.__dict__
        ):
            config = get_config()
            if not config["array_api_dispatch"] and (
                config["assume_finite"] or np.isfinite(X).all()
            ):
                return X
        return validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)

    def _check_solver(self):
        if self.solver not in _STOCHASTIC_SOLVERS:
            raise AttributeError(
                "partial_fit is only available for stochastic optimizers. "
                f"{self.solver} is not stochastic."
            )
        return True

    def __sklearn_is_fitted__(self):
        # fitted once weights exist: a first fit that raised (divergence)
        # leaves some validated attributes but no model
        return "coefs_" in self.__dict__

    def __getstate__(self):
        # a new dict: on Python >= 3.11 the parent may return self.__dict__;
        # the prediction network is rebuilt on load (its flat vector would
        # store every weight a second time)
        state = {**super().__getstate__(), "_sknn_version": __version__}
        state.pop("_fitted_net", None)
        return state

    def __setstate__(self, state):
        version = state.pop("_sknn_version", None)
        if version is not None and version != __version__:
            warnings.warn(
                f"Trying to unpickle {type(self).__name__} from sknn version "
                f"{version} when using version {__version__}. This might lead to "
                "breaking code or invalid results. Use at your own risk.",
                UserWarning,
                stacklevel=2,
            )
        super().__setstate__(state)
        coefs = self.__dict__.get("coefs_")
        if coefs and hasattr(self, "out_activation_"):
            net, params = self._prediction_network(np.dtype(coefs[0].dtype))
            self._set_params_views(net, params)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        return tags


class MLPClassifierNN(ClassifierMixin, _BaseMLP):
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
    activation : {'identity', 'logistic', 'tanh', 'relu', 'leaky_relu', \
'elu', 'gelu'}, default='relu'
        Hidden-layer activation: ``f(x) = x``, ``1 / (1 + exp(-x))``,
        ``tanh(x)``, ``max(0, x)``, ``max(0.01 x, x)``, ``x if x > 0 else
        exp(x) - 1``, or GELU's tanh approximation
        ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``.
    solver : {'lbfgs', 'sgd', 'adam', 'adamw', 'rmsprop'}, default='adam'
        Weight optimiser: L-BFGS (full batch, quasi-Newton), minibatch SGD
        with momentum, Adam, Adam with decoupled weight decay
        (``weight_decay``) or RMSprop (``rho``).
    alpha : float, default=0.0001
        Strength of the L2 penalty, divided by the (weighted) batch size when
        added to the loss.
    batch_size : int or 'auto', default='auto'
        Minibatch size of stochastic solvers; 'auto' is
        ``min(200, n_samples)``.  Unused by 'lbfgs'.
    learning_rate : {'constant', 'invscaling', 'adaptive', 'cosine'}, \
default='constant'
        Learning-rate schedule of stochastic solvers.  'invscaling' divides
        ``learning_rate_init`` by ``(t + 1) ** power_t`` after each epoch,
        ``t`` being the samples seen (sgd only, as in scikit-learn).
        'adaptive' divides the rate by 5 whenever ``n_iter_no_change``
        epochs fail to improve by ``tol`` instead of stopping, and stops once
        the rate is at most 1e-6 (sgd, adam, adamw, rmsprop).  'cosine'
        anneals the rate to zero along a half cosine over ``max_iter`` epochs.
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
    feature_names_in_ : ndarray of shape (n_features_in_,)
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
        self.callbacks = callbacks
        self.progress_bar = progress_bar

    def _loss_name(self):
        return "log_loss" if self.out_activation_ == "softmax" else "binary_log_loss"

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        X = self._contiguous(X)
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
        classes = np.unique(y)
        if same:
            if set(classes) != set(self.classes_):
                raise ValueError(
                    "warm_start can only be used where `y` has the same classes as "
                    f"in the previous call to fit. Previously got {self.classes_}, "
                    f"`y` has {classes}"
                )
        unseen = np.setdiff1d(classes, self.classes_)
        if len(unseen):
            raise ValueError(
                f"`{name}` has classes not in `self.classes_`. `self.classes_` has "
                f"{self.classes_}. '{name}' has {classes}."
            )

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

    def _combine_class_weight(self, sw, y, dtype):
        """``sample_weight`` times the weight of each sample's class."""
        if self.class_weight is None:
            return sw
        if self._label_binarizer.y_type_.startswith("multilabel"):
            raise ValueError("class_weight is not supported for multilabel targets.")
        classes = self.classes_
        if self.class_weight == "balanced":
            counts = np.array([np.sum(y == c) for c in classes], dtype=float)
            present = counts > 0
            weights = np.ones(len(classes))
            weights[present] = len(y) / (present.sum() * counts[present])
        else:
            unknown = [k for k in self.class_weight if k not in set(classes.tolist())]
            if unknown:
                raise ValueError(
                    f"class_weight has labels {unknown} that are not in the "
                    f"classes {classes.tolist()}."
                )
            weights = np.array(
                [float(self.class_weight.get(c, 1.0)) for c in classes.tolist()]
            )
            if not np.isfinite(weights).all() or (weights < 0).any():
                raise ValueError("class_weight values must be finite and >= 0.")
        per_sample = weights[np.searchsorted(classes, y)].astype(dtype)
        return per_sample if sw is None else sw * per_sample

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
        if self._label_binarizer.y_type_.startswith("multilabel"):
            return self._label_binarizer.inverse_transform(P)
        classes = self.classes_
        if self.n_outputs_ > 1:
            return classes.take(np.argmax(P, axis=1))
        if len(classes) == 1:
            return np.repeat(classes[0], P.shape[0])
        return classes.take((P[:, 0] > 0.5).view(np.uint8))

    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None,
            sample_weight_val=None):  # fmt: skip
        """Fit the model to data ``X`` and labels ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            Labels, or a binary indicator matrix for multilabel targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights.
        X_val : {array-like, sparse matrix} of shape (n_val, n_features), \
default=None
            Validation data for early stopping, used instead of the internal
            ``validation_fraction`` split; needs ``early_stopping=True``.
        y_val : array-like of shape (n_val,) or (n_val, n_classes), default=None
            Labels of ``X_val``.
        sample_weight_val : array-like of shape (n_val,), default=None
            Weights of the validation samples.

        Returns
        -------
        self : MLPClassifierNN
        """
        return self._fit(
            X,
            y,
            sample_weight,
            X_val=X_val,
            y_val=y_val,
            sample_weight_val=sample_weight_val,
        )

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
        first_call = not hasattr(self, "classes_")
        multilabel = type_of_target(y).startswith("multilabel")
        if first_call:
            if classes is None and not multilabel:
                raise ValueError(
                    "classes must be passed on the first call to partial_fit."
                )
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
        elif classes is not None and not np.array_equal(
            np.unique(classes), self.classes_
        ):
            raise ValueError(
                f"`classes={np.asarray(classes)!r}` is not the same as on last call "
                f"to partial_fit, was: {self.classes_!r}"
            )
        return self._fit(X, y, sample_weight, incremental=True)

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
        check_is_fitted(self)
        P = self._forward(X)
        if self.n_outputs_ == 1:
            p = P[:, 0]
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
        P = self.predict_proba(X)
        with np.errstate(divide="ignore"):
            return np.log(P, out=P)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressorNN(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor, a drop-in superset of scikit-learn's.

    It minimises half the squared error (identity output) or half the Poisson
    deviance (exponential output) with L-BFGS or minibatch stochastic
    solvers.  Every parameter of scikit-learn's ``MLPRegressor`` is accepted
    with the same default and meaning; the parameters after ``max_fun`` are
    sknn additions whose defaults change nothing.

    Parameters
    ----------
    loss : {'squared_error', 'poisson'}, default='squared_error'
        'squared_error' is half the squared error summed over outputs and
        averaged over samples; 'poisson' is half the Poisson deviance with a
        log link (``exp`` output), for non-negative targets.
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        Number of units of each hidden layer.
    activation : {'identity', 'logistic', 'tanh', 'relu', 'leaky_relu', \
'elu', 'gelu'}, default='relu'
        Hidden-layer activation (see :class:`MLPClassifierNN`).
    solver : {'lbfgs', 'sgd', 'adam', 'adamw', 'rmsprop'}, default='adam'
        Weight optimiser (see :class:`MLPClassifierNN`).
    alpha : float, default=0.0001
        Strength of the L2 penalty, divided by the (weighted) batch size.
    batch_size : int or 'auto', default='auto'
        Minibatch size; 'auto' is ``min(200, n_samples)``.
    learning_rate : {'constant', 'invscaling', 'adaptive', 'cosine'}, \
default='constant'
        Learning-rate schedule (see :class:`MLPClassifierNN`).
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
    callbacks : list of callable or None, default=None
        Called after every epoch with its record; True stops training.
    progress_bar : bool, default=False
        Show the fit's progress on stderr (see :class:`MLPClassifierNN`).

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
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names, when ``X`` had string column names.
    n_iter_ : int
        Epochs or L-BFGS iterations run by the last call.
    n_layers_ : int
        Number of layers.
    n_outputs_ : int
        Number of outputs.
    out_activation_ : str
        'identity' or 'exp'.
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
        "loss": [StrOptions({"squared_error", "poisson"})],
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
        callbacks=None,
        progress_bar=False,
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
        self.callbacks = callbacks
        self.progress_bar = progress_bar

    def _loss_name(self):
        return self.loss

    def _check_y(self, y):
        y = np.asarray(y)
        if self.loss == "poisson" and (y < 0).any():
            raise ValueError(
                "Some value(s) of y are negative which is not allowed for Poisson "
                "regression."
            )
        return y

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            y_numeric=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        X = self._contiguous(X)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        y = self._check_y(y)
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        if reset:
            self.out_activation_ = "exp" if self.loss == "poisson" else "identity"
        return X, np.ascontiguousarray(Y, dtype=X.dtype), y

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

    def _combine_class_weight(self, sw, y, dtype):
        return sw

    def _score_output(self, P, y, sample_weight):
        pred = P.ravel() if P.shape[1] == 1 else P
        return r2_score(y, pred, sample_weight=sample_weight)

    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None,
            sample_weight_val=None):  # fmt: skip
        """Fit the model to data ``X`` and targets ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights.
        X_val : {array-like, sparse matrix} of shape (n_val, n_features), \
default=None
            Validation data for early stopping (needs ``early_stopping=True``).
        y_val : array-like of shape (n_val,) or (n_val, n_outputs), default=None
            Targets of ``X_val``.
        sample_weight_val : array-like of shape (n_val,), default=None
            Weights of the validation samples.

        Returns
        -------
        self : MLPRegressorNN
        """
        return self._fit(
            X,
            y,
            sample_weight,
            X_val=X_val,
            y_val=y_val,
            sample_weight_val=sample_weight_val,
        )

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
        P = self._forward(X)
        return P.ravel() if P.shape[1] == 1 else P
