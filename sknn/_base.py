"""What the drop-in pair shares: its parameters, input checks and network.

:class:`_BaseMLP` is the scikit-learn surface common to
:class:`~sknn.MLPClassifierNN` and :class:`~sknn.MLPRegressorNN`: it
validates their parameters and input, builds the pieces of
:mod:`sknn._core` the pipeline asks for (the network, the optimizer and
schedule; L-BFGS for ``solver='lbfgs'``) and predicts through the kept fitted
network.  How a fit runs is the pipeline shared with the tabular pair
(:mod:`sknn._pipeline`); what depends on the kind of target (labels or
values) lives in :mod:`sknn._targets`.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn import get_config
from sklearn.base import BaseEstimator, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import validate_data

from ._core.activations import ACTIVATIONS
from ._core.array_api import backend_of
from ._core.backend import NUMPY, current, for_arrays
from ._core.network import Network
from ._core.optimizers import OPTIMIZERS, Schedule, make_optimizer
from ._core.solvers import LBFGSSolver
from ._core.threads import blas_limit, forward_macs
from ._device import (
    astype,
    check_namespace,
    check_X,
    fit_backend,
    is_device_array,
    numpy_dtype,
    to_backend,
    to_host,
)
from ._fitdata import NON_FINITE, hidden_sizes
from ._persistence import _Persistent
from ._pipeline import _TrainingPipeline

# the options of ``solver``, ``activation`` and ``learning_rate`` come from
# the core's registries (and so do their docs: see ``_docstrings``)
_STOCHASTIC_SOLVERS = tuple(OPTIMIZERS)
_HIDDEN_ACTIVATIONS = set(ACTIVATIONS)


class _BaseMLP(_TrainingPipeline, _Persistent, BaseEstimator):
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
        "learning_rate": [StrOptions(set(Schedule.KINDS))],
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
        "ema_decay": [None, Interval(Real, 0, 1, closed="left")],
        "callbacks": [None, list, tuple],
        "progress_bar": ["boolean"],
    }

    # ------------------------------------------------------------ checks
    def _hidden_sizes(self):
        return hidden_sizes(self.hidden_layer_sizes)

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
        backend = fit_backend(X)
        if backend is not None:
            return check_X(self, X, backend, reset)
        X = validate_data(
            self,
            X,
            accept_sparse=["csr", "csc"],
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        return self._contiguous(X)

    def _validate_X_y(self, X, y, reset, **check):
        """``(X, y)`` validated together: both on the host, or ``X`` in its
        array-API namespace and ``y`` on the host (see :mod:`sknn._device`)."""
        backend = fit_backend(X)
        if backend is None:
            X, y = validate_data(
                self,
                X,
                y,
                accept_sparse=["csr", "csc"],
                multi_output=True,
                dtype=(np.float64, np.float32),
                reset=reset,
                **check,
            )
            return self._contiguous(X), y
        X = check_X(self, X, backend, reset)
        y = validate_data(self, "no_validation", to_host(y), multi_output=True, **check)
        if y.shape[0] != X.shape[0]:
            raise ValueError(
                "Found input variables with inconsistent numbers of samples: "
                f"[{X.shape[0]}, {y.shape[0]}]"
            )
        return X, y

    @staticmethod
    def _contiguous(X):
        if sp.issparse(X):
            return X.tocsr()
        if is_device_array(X):
            return X  # an array-API array: its library lays it out
        return np.ascontiguousarray(X)

    # ------------------------------------------------------------ the pipeline
    _WEIGHTS = ("coefs_", "intercepts_", "_fitted_net")
    _default_metric = property(
        lambda self: "accuracy" if is_classifier(self) else "R2",
        doc="The metric of ``scoring=None``: what ``score`` computes.",
    )

    def _check_fit_options(self, incremental):
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

    def _prepare(self, X, y, incremental, first_pass):
        X, Y, y = self._validate_input(X, y, incremental, reset=first_pass)
        if not first_pass:  # keep training in the dtype of the fitted weights
            X = astype(X, numpy_dtype(self.coefs_[0]))
            if Y.dtype.kind == "f":  # regression targets; class indicators stay uint8
                Y = Y.astype(numpy_dtype(X), copy=False)
        if first_pass:
            self.n_layers_ = len(self._hidden_sizes()) + 2
        return X, Y, y

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

    def _validation_wanted(self):
        return self.early_stopping and self.solver != "lbfgs"

    def _check_given_validation(self):
        if not self.early_stopping:
            raise ValueError(
                "X_val and y_val are passed to fit while early_stopping is "
                "False. Set early_stopping=True to use them."
            )
        if self.solver == "lbfgs":
            raise ValueError("solver='lbfgs' does not use validation data.")

    def _validation_X(self, X_val, dtype):
        return astype(self._validate_X(X_val, reset=False), dtype)

    def _validation_scoring(self):
        return self.scoring

    def _stochastic_parts(self, net, n_samples):
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
        loop = dict(
            batch_size=self._batch_size(n_samples),
            max_iter=self.max_iter,
            shuffle=self.shuffle,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            alpha=self.alpha,
            max_grad_norm=self.max_grad_norm,
            ema_decay=self.ema_decay,
        )
        return optimizer, schedule, loop

    def _solve(self, run):
        if self.solver != "lbfgs":
            return super()._solve(run)
        # SciPy's L-BFGS-B works on the host; the weights then go to X's device
        net, params, data = run.net, run.params, run.data
        solver = LBFGSSolver(self.alpha, self.max_iter, self.max_fun, self.tol)
        solution = solver.solve(
            net, params, to_host(data.X), data.Y, sample_weight=data.sample_weight
        )
        if not solution.usable:
            raise ValueError(NON_FINITE)
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
            warnings.warn(text, ConvergenceWarning, stacklevel=4)
        self.n_iter_ = solution.n_iter
        self.loss_ = solution.loss
        self._keep_params(net, to_backend(params, run.backend))

    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None,
            sample_weight_val=None):  # fmt: skip
        """Fit the model to data ``X`` and labels or targets ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Class labels (a binary indicator matrix for multilabel targets)
            or regression targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights.
        X_val : {array-like, sparse matrix} of shape (n_val, n_features), \
default=None
            Validation data for early stopping, used instead of the internal
            ``validation_fraction`` split; needs ``early_stopping=True``.
        y_val : array-like of shape (n_val,) or (n_val, n_outputs), default=None
            Labels or targets of ``X_val``.
        sample_weight_val : array-like of shape (n_val,), default=None
            Weights of the validation samples.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(
            X,
            y,
            sample_weight,
            X_val=X_val,
            y_val=y_val,
            sample_weight_val=sample_weight_val,
        )

    def _current_params(self, net, backend):
        """Current ``coefs_``/``intercepts_`` as a flat vector for ``net``
        (an array of ``backend``; None: NumPy)."""
        shapes = [c.shape for c in self.coefs_]
        if shapes != net.coef_shapes or len(self.intercepts_) != len(shapes):
            raise ValueError(
                "The network shape changed since the last fit "
                f"(coefs_ shapes {shapes}, now {net.coef_shapes}); warm_start "
                "and partial_fit need the same hidden_layer_sizes, features "
                "and outputs."
            )
        return self._pack_weights(net, backend)

    def _pack_weights(self, net, backend):
        """``coefs_`` and ``intercepts_`` in one flat vector of ``backend``
        (None: NumPy), whatever namespace they are in now."""
        return net.pack(
            to_backend(self.coefs_, backend),
            to_backend(self.intercepts_, backend),
            NUMPY if backend is None else backend,
        )

    def _keep_params(self, net, params):
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
        # packed in the namespace of the weights (NumPy's, or a device's)
        W = self.coefs_[0]
        return net, self._pack_weights(
            net, backend_of(W) if is_device_array(W) else None
        )

    # ------------------------------------------------------------ predicting
    def _check_namespace(self, X, method):
        check_namespace(self, X, self.coefs_[0], method)

    def _forward(self, X, method="predict"):
        """Output activations of the fitted network for new data ``X``.

        ``X`` is validated as scikit-learn's MLP does at predict time; the
        product runs in the promoted dtype of ``X`` and the weights, as
        scikit-learn's does (float32 weights on float64 data give float64
        outputs).  Outputs that overflow to non-finite values (inputs far
        outside the training range) raise a warning instead of passing
        silently.
        """
        W = self.coefs_[0]
        host = type(X) is np.ndarray and type(W) is np.ndarray  # the common case
        if not host:
            self._check_namespace(X, method)
        X = self._validate_predict_X(X)
        if host:
            dtype = np.result_type(X.dtype, W.dtype)
        else:
            dtype = np.result_type(numpy_dtype(X), numpy_dtype(W))
        if not np.issubdtype(dtype, np.floating):
            dtype = np.float64
        net, params = self._prediction_network(dtype)
        backend = current() if host else for_arrays(X)
        X = X.astype(dtype, copy=False) if host else astype(X, dtype)
        macs = forward_macs(net.coef_shapes, X.shape[0])
        with blas_limit(macs), np.errstate(over="ignore", invalid="ignore"):
            P = net.predict(params, X, backend)
        if not (np.isfinite(P).all() if host else backend.all_finite(P)):
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
        backend = fit_backend(X)
        if backend is not None:
            return check_X(self, X, backend, reset=False)
        return validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)

    def _check_solver(self):
        if self.solver not in _STOCHASTIC_SOLVERS:
            raise AttributeError(
                "partial_fit is only available for stochastic optimizers. "
                f"{self.solver} is not stochastic."
            )
        return True

    # the prediction network is rebuilt on load (its flat vector would store
    # every weight a second time)
    _TRANSIENT = ("_fitted_net",)

    _DEVICE_ARRAYS = ("coefs_", "intercepts_", "_train_state")

    def _rebuild(self):
        coefs = self.__dict__.get("coefs_")
        if coefs and hasattr(self, "out_activation_"):
            net, params = self._prediction_network(numpy_dtype(coefs[0]))
            self._keep_params(net, params)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        tags.array_api_support = True
        return tags
