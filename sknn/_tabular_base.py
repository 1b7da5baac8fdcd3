"""What the tabular classifier and regressor share: parameters, encoding,
the network's layers, the one training call and prediction (see
:mod:`sknn._tabular`)."""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._core.array_api import backend_of
from ._core.backend import for_arrays
from ._core.blocks import BASE_ACTIVATIONS, ParametricActivation, ScaledDense
from ._core.embeddings import CategoricalEmbedding, FeatureScale, PeriodicEmbedding
from ._core.ensemble import EnsembleExpand, MemberHead
from ._core.layers import Dense, Dropout
from ._core.network import Network
from ._core.optimizers import SHAPES, AdamW, Schedule
from ._core.solvers import StochasticSolver
from ._core.threads import blas_limit, forward_macs
from ._core.training import LoopConfig
from ._device import (
    check_namespace,
    check_numeric_classes,
    check_X,
    fit_backend,
    is_device_array,
    to_backend,
    to_host,
)
from ._persistence import _Persistent
from ._tabular_encode import TableEncoder, _is_dataframe
from ._validation import _check_weights, _hidden_sizes, _make_rng

__all__ = ["_TabularBase"]

_PREDICT_CHUNK = 8192
_INIT_ROWS = 2048
_FEATURE_SCALE_LR = 6.0
_BIAS_LR = 0.1
_MIN_VALIDATION = 10  # fewer held-out rows than this: keep the last epoch


class _TabularBase(_Persistent, BaseEstimator):
    """What the tabular classifier and regressor share: encoding, the network,
    the one training call and prediction."""

    # rebuilt from the encoder and the flat parameters on load
    _TRANSIENT = ("_net", "_dropouts")
    # fitted on array-API inputs, these live in X's namespace and device
    _DEVICE_ARRAYS = ("_params", "is_categorical_", "_y_mean", "_y_scale", "_y_fit")

    def _rebuild(self):
        if "_params" in self.__dict__:
            self._net = self._network(self._n_outputs)

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(set(BASE_ACTIVATIONS))],
        "parametric_activation": ["boolean"],
        "feature_scale": ["boolean"],
        "numerical_embedding": [StrOptions({"periodic"}), None],
        "n_frequencies": [Interval(Integral, 1, None, closed="left")],
        "embedding_dim": [Interval(Integral, 1, None, closed="left")],
        "categorical_features": ["array-like", StrOptions({"from_dtype"}), None],
        "max_onehot": [Interval(Integral, 0, None, closed="left")],
        "categorical_embedding_dim": [Interval(Integral, 1, None, closed="left")],
        "parametrization": [StrOptions({"ntp", "standard"})],
        "n_ensemble": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "dropout_schedule": [StrOptions({"constant", *SHAPES})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "learning_rate": [StrOptions(set(Schedule.KINDS) - {"adaptive"})],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "select_best": ["boolean"],
        "dtype": [StrOptions({"float32", "float64"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = True
        tags.input_tags.categorical = True
        tags.array_api_support = True
        return tags

    # ------------------------------------------------------------ input
    def _check_X(self, X, reset):
        backend = fit_backend(X)
        if backend is not None:  # a numeric array of another namespace
            return check_X(self, X, backend, reset, allow_nan=True)
        if _is_dataframe(X):
            validate_data(self, X, skip_check_array=True, reset=reset)
            if X.shape[0] < 1:
                raise ValueError(
                    f"Found array with 0 sample(s) (shape={X.shape}) while a "
                    "minimum of 1 is required."
                )
            if X.shape[1] < 1:
                raise ValueError(
                    f"Found array with 0 feature(s) (shape={X.shape}) while a "
                    "minimum of 1 is required."
                )
            return X
        return validate_data(
            self,
            X,
            reset=reset,
            accept_sparse=["csr", "csc"],
            dtype="numeric",
            ensure_all_finite="allow-nan",
        )

    def _encode(self, X):
        """The encoded matrix, on the host (array-API inputs are copied)."""
        Z = self._encoder.transform(to_host(X), self._dtype())
        if not np.isfinite(Z).all():  # finite float64 overflowing float32
            raise ValueError(
                f"Input X contains a value too large for dtype('{self.dtype}')."
            )
        return Z

    def _dtype(self):
        return np.dtype(self.dtype)

    # ------------------------------------------------------------ network
    def _layers(self, n_outputs):
        enc, ntp = self._encoder, self.parametrization == "ntp"
        layers = []
        if enc.cardinalities_:
            layers.append(
                CategoricalEmbedding(enc.cardinalities_, self.categorical_embedding_dim)
            )
        if self.feature_scale:
            layers.append(FeatureScale(_FEATURE_SCALE_LR))
        if self.numerical_embedding == "periodic" and enc.n_numeric_ > 0:
            layers.append(
                PeriodicEmbedding(
                    enc.n_numeric_, self.n_frequencies, self.embedding_dim
                )
            )
        k = self.n_ensemble
        if k > 1:
            layers.append(EnsembleExpand(k))
        self._dropouts = []
        for width in _hidden_sizes(self.hidden_layer_sizes, allow_empty=False):
            layers.append(ScaledDense(width, _BIAS_LR) if ntp else Dense(width))
            layers.append(
                ParametricActivation(self.activation, self.parametric_activation)
            )
            if self.dropout > 0:
                self._dropouts.append(Dropout(self.dropout))
                layers.append(self._dropouts[-1])
        if k > 1:
            layers.append(MemberHead(k, n_outputs))
        else:
            layers.append(ScaledDense(n_outputs) if ntp else Dense(n_outputs))
        return layers

    def _network(self, n_outputs):
        """The network of this estimator's parameters for the fitted encoder."""
        return Network.from_layers(
            self._encoder.n_output_,
            self._layers(n_outputs),
            self._loss,
            dtype=self._dtype(),
        )

    def _dropout_callback(self):
        """Set the dropout rate of the next epoch from ``dropout_schedule``."""
        if not self._dropouts or self.dropout_schedule == "constant":
            return []
        shape, max_iter = SHAPES[self.dropout_schedule], self.max_iter

        def schedule(record):
            frac = min((record["epoch"] + 0.5) / max_iter, 1.0)
            for layer in self._dropouts:
                layer.rate = self.dropout * shape(frac)
            return False

        return [schedule]

    def _split(self, X, Y, sw, y_strat, val, rng):
        """``(X, Y, sw, Xv, Yv, swv)``: the training and validation rows."""
        if val is not None:
            return self._check_val_weights((X, Y, sw, *val))
        n_val = math.ceil(self.validation_fraction * X.shape[0])
        if not self.select_best or n_val < _MIN_VALIDATION:
            return X, Y, sw, None, None, None
        idx = np.arange(X.shape[0])
        seed = int(rng.integers(np.iinfo(np.int32).max))
        stratify = y_strat
        if stratify is not None:
            _, counts = np.unique(stratify, return_counts=True)
            n_train = X.shape[0] - n_val
            if counts.min() < 2 or min(n_val, n_train) < counts.size:
                stratify = None  # too few rows per class on one side
        tr, va = train_test_split(
            idx, test_size=n_val, random_state=seed, stratify=stratify
        )
        tr, va = np.sort(tr), np.sort(va)
        if sw is None:
            return X[tr], Y[tr], None, X[va], Y[va], None
        return self._check_val_weights((X[tr], Y[tr], sw[tr], X[va], Y[va], sw[va]))

    @staticmethod
    def _check_val_weights(split):
        swv = split[5]
        if swv is not None and not swv.sum() > 0:
            raise ValueError(
                "The validation rows' weights (sample_weight times class_weight) "
                "are all zero, so no epoch can be chosen on them. Give some "
                "validation rows a positive weight, or set select_best=False."
            )
        return split

    def _fit(self, X, y, sample_weight, X_val, y_val):
        self._validate_params()
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        backend = fit_backend(X)
        if backend is not None:  # targets and weights are encoded on the host
            y, sample_weight, y_val = to_host(y), to_host(sample_weight), to_host(y_val)
        # validated where it is; the table is encoded from one host copy
        X = to_host(self._check_X(X, reset=True))
        y = self._check_y(y, X.shape[0])
        self._encoder = TableEncoder(self.categorical_features, self.max_onehot)
        self._encoder.fit(X)
        self.is_categorical_ = self._encoder.is_categorical_
        dtype = self._dtype()
        Z = self._encode(X)
        sw = _check_weights(sample_weight, Z.shape[0], dtype)
        Y, y_strat, sw = self._targets(y, sw)
        if backend is not None:
            check_numeric_classes(self.__dict__.get("classes_"))
        val = None
        if X_val is not None or y_val is not None:
            if X_val is None or y_val is None:
                raise ValueError("X_val and y_val must be given together.")
            if not self.select_best:
                raise ValueError(
                    "X_val and y_val choose the best epoch, but select_best=False "
                    "keeps the last one. Set select_best=True to use them, or "
                    "leave them out."
                )
            Zv = self._encode(self._check_X(X_val, reset=False))
            val = self._val_targets(Zv, self._check_y(y_val, Zv.shape[0]))
        rng = _make_rng(self.random_state)
        Z, Y, sw, Zv, Yv, swv = self._split(Z, Y, sw, y_strat, val, rng)

        self._n_outputs = Y.shape[1]
        net = self._network(self._n_outputs)
        params = net.init_params(rng)
        if self.parametrization == "ntp":
            rows = rng.permutation(Z.shape[0])[:_INIT_ROWS]
            net.data_init(params, Z[rows], rng)
        if backend is not None:  # the encoded rows and the weights go to X's device
            Z, Y, sw, Zv, Yv, swv, params = (
                None if a is None else backend.asarray(a)
                for a in (Z, Y, sw, Zv, Yv, swv, params)
            )
        batch = min(self.batch_size, Z.shape[0])
        config = LoopConfig(
            batch_size=batch,
            max_iter=self.max_iter,
            tol=0.0,
            n_iter_no_change=np.inf,
            verbose=bool(self.verbose),
        )
        optimizer = AdamW(
            self.beta_1, self.beta_2, 1e-8, self.weight_decay, net.n_coefs
        )
        schedule = Schedule(
            self.learning_rate, self.learning_rate_init, max_iter=self.max_iter
        )
        validate = None
        if Zv is not None:
            val_loss = self._val_loss(net, Yv, swv)

            def validate(p):
                loss = val_loss(p, Zv)
                return -loss, loss

        solver = StochasticSolver(
            optimizer, schedule, config, validate, self._dropout_callback()
        )
        solution = solver.solve(net, params, Z, Y, rng, sample_weight=sw)
        for layer in self._dropouts:  # fitted models record the base rate
            layer.rate = self.dropout
        if not solution.usable:
            raise ValueError(
                "Solver produced non-finite parameter weights. Lower "
                "learning_rate_init or check the input for extreme values."
            )
        state = solution.state
        self._net, self._params = net, params
        if backend is not None:  # the fitted arrays in X's namespace too
            for name in self._DEVICE_ARRAYS:
                if name in self.__dict__:
                    setattr(self, name, to_backend(self.__dict__[name], backend))
        self.n_iter_ = solution.n_iter
        self.loss_curve_ = list(state.loss_curve)
        if Zv is not None:
            self.validation_scores_ = list(state.validation_scores)
            scores = np.asarray(self.validation_scores_, dtype=float)
            self.best_epoch_ = int(np.nanargmax(scores)) + 1
            self.best_validation_score_ = float(scores[self.best_epoch_ - 1])
        else:
            self.validation_scores_ = None
            self.best_epoch_ = self.n_iter_
            self.best_validation_score_ = None
        return self

    def _val_loss(self, net, Yv, swv):
        """``loss(params, X)``: the (weighted) validation loss, without label
        smoothing."""

        def loss(params, X):
            backend = for_arrays(X)
            P = self._forward(X, net, params)
            return backend.losses[net.loss.name].value(Yv, P, swv)

        return loss

    def _forward(self, Z, net=None, params=None):
        """The network's outputs for encoded rows, in chunks."""
        net = self._net if net is None else net
        params = self._params if params is None else params
        backend, n = for_arrays(Z), Z.shape[0]
        macs = forward_macs(
            net.coef_shapes, min(Z.shape[0], _PREDICT_CHUNK) * net.members
        )
        with blas_limit(macs):
            parts = [
                net.predict(params, Z[i : min(i + _PREDICT_CHUNK, n), :], backend)
                for i in range(0, n, _PREDICT_CHUNK)
            ]
        return parts[0] if len(parts) == 1 else backend.concat(parts, axis=0)

    def _raw_predict(self, X, method="predict"):
        check_is_fitted(self, "_net")
        check_namespace(self, X, self._params, method)
        X = self._check_X(X, reset=False)
        Z = self._encode(X)
        if is_device_array(self._params):  # encoded on the host, then moved
            Z = backend_of(self._params).asarray(Z)
        return self._forward(Z)
