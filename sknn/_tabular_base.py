"""What the tabular classifier and regressor share: parameters, the table's
encoding, the network's layers and prediction (see :mod:`sknn._tabular`).
How a fit runs is the pipeline shared with the drop-in pair
(:mod:`sknn._pipeline`)."""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, is_classifier
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._core.array_api import backend_of
from ._core.backend import for_arrays
from ._core.blocks import BASE_ACTIVATIONS, ParametricActivation, ScaledDense
from ._core.embeddings import (
    CategoricalEmbedding,
    FeatureScale,
    PeriodicEmbedding,
    PiecewiseLinearEmbedding,
)
from ._core.ensemble import EnsembleExpand, MemberHead
from ._core.layers import Dense, Dropout
from ._core.network import Network
from ._core.optimizers import SHAPES, AdamW, Schedule
from ._device import check_namespace, check_X, fit_backend, is_device_array, to_host
from ._fitdata import hidden_sizes, make_rng
from ._persistence import _Persistent
from ._pipeline import _TrainingPipeline
from ._tabular_encode import TableEncoder, _is_dataframe
from ._tabular_neighbors import NEIGHBOR_ROWS, DistanceColumns, fit_blend

__all__ = ["_TabularBase"]

_INIT_ROWS = 2048
_FEATURE_SCALE_LR = 6.0
_BIAS_LR = 0.1

# The 'auto' training budget, read from accuracy against the budget on large
# real tables (benchmarks/tabular_budget.py; docs/tabular.md, "Training
# budget"): every table up to _BUDGET_ROWS training rows keeps the full
# _BUDGET_EPOCHS at batch 256; above, the epochs fall as 1 / sqrt(rows), so
# the rows a fit processes grow only as sqrt(rows), down to _BUDGET_MIN_EPOCHS.
_BUDGET_EPOCHS = 40
_BUDGET_ROWS = 8192
_BUDGET_MIN_EPOCHS = 4
# (fewer training rows than this, batch size); the learning rate grows with
# the square root of the batch over _BUDGET_BATCHES[0]'s
_BUDGET_BATCHES = ((40_000, 256), (100_000, 512), (np.inf, 1024))
# From _LARGE_ROWS training rows the epochs are _LARGE_SHARE of the
# 1 / sqrt(rows) curve; from _LARGE_FIT_ROWS rows of the fit (which leave
# _LARGE_ROWS after the default 20% hold-out) the 'auto' hidden layers are
# half as wide, dropout='auto' is off and target_encoding='auto' adds the
# embedded columns' target means (which keep the narrower network's score
# on many-level id columns): movielens 4 times faster for +0.005 of score,
# the other large tables 1.15-1.5 times faster for -0.0002 to +0.0007
# (docs/tabular.md, "Target means and half the width from 50,000 training
# rows").
_LARGE_ROWS = 50_000
_LARGE_SHARE = 0.5
_LARGE_FIT_ROWS = 62_500
# (fewer rows of the fit than this, the 'auto' architecture parameters)
_ARCHITECTURES = (
    (
        _LARGE_FIT_ROWS,
        {"hidden_layer_sizes": (256, 256), "dropout": 0.15, "target_encoding": False},
    ),
    (
        np.inf,
        {"hidden_layer_sizes": (128, 128), "dropout": 0.0, "target_encoding": True},
    ),
)


# Cross-fitted bagging with n_cv='auto': _CV_MEMBERS networks on tables of at
# most _CV_ROWS rows, where a fit is cheap and one validation split is noisy;
# one network above (docs/tabular.md, "Cross-fitted bagging").
_CV_MEMBERS = 5
_CV_ROWS = 2000


def cross_fit_members(n_rows):
    """Networks of the 'auto' cross-fitted bagging for ``n_rows`` rows.

    Parameters
    ----------
    n_rows : int
        Rows of the fit (before any fold or hold-out).

    Returns
    -------
    n_cv : int
        5 up to 2,000 rows, else 1.
    """
    return _CV_MEMBERS if n_rows <= _CV_ROWS else 1


def training_budget(n_rows):
    """``(epochs, batch_size, learning_rate_factor)`` of the 'auto' budget.

    Parameters
    ----------
    n_rows : int
        Training rows of the fit (after the validation hold-out).

    Returns
    -------
    epochs : int
        40 up to 8,192 rows, then ``40 * sqrt(8192 / n_rows)`` rounded
        (``0.5`` times that from 50,000 rows), and at least 4.
    batch_size : int
        256 below 40,000 rows, 512 below 100,000, then 1024.
    learning_rate_factor : float
        ``sqrt(batch_size / 256)``, what the peak learning rate is
        multiplied by with ``batch_size='auto'``.
    """
    scale = math.sqrt(_BUDGET_ROWS / max(n_rows, 1))
    if n_rows >= _LARGE_ROWS:
        scale *= _LARGE_SHARE
    epochs = round(_BUDGET_EPOCHS * min(1.0, scale))
    epochs = max(_BUDGET_MIN_EPOCHS, min(_BUDGET_EPOCHS, epochs))
    batch = next(size for limit, size in _BUDGET_BATCHES if n_rows < limit)
    return epochs, batch, math.sqrt(batch / _BUDGET_BATCHES[0][1])


def auto_architecture(n_rows):
    """The values of the 'auto' architecture parameters for a fit.

    Parameters
    ----------
    n_rows : int
        Rows of the fit (before the validation hold-out).

    Returns
    -------
    dict
        ``hidden_layer_sizes``, ``dropout`` and ``target_encoding``:
        ``(256, 256)``, 0.15 and False below 62,500 rows, then ``(128, 128)``,
        0.0 (no dropout layers) and True.
    """
    return dict(next(values for limit, values in _ARCHITECTURES if n_rows < limit))


class _TabularBase(_TrainingPipeline, _Persistent, BaseEstimator):
    """What the tabular classifier and regressor share: encoding, the network
    and prediction."""

    _WEIGHTS = ("_params", "_net")
    # fewer held-out rows than this: train on all rows and keep the last epoch
    _min_validation_rows = 10
    _skip_small_validation = True
    # training always runs max_iter epochs and keeps the best: no warning
    _warn_max_iter = False
    # rebuilt from the encoder and the flat parameters on load
    _TRANSIENT = ("_net",)
    # fitted on array-API inputs, these live in X's namespace and device
    _DEVICE_ARRAYS = (
        "_params",
        "is_categorical_",
        "_y_mean",
        "_y_scale",
        "_train_state",
    )

    def _rebuild(self):
        if "_params" in self.__dict__:
            self._net = self._network(self._encoder.n_output_, self._dtype())

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "activation": [StrOptions(set(BASE_ACTIVATIONS))],
        "parametric_activation": ["boolean"],
        "feature_scale": ["boolean"],
        "numerical_embedding": [StrOptions({"periodic", "piecewise"}), None],
        "n_frequencies": [Interval(Integral, 1, None, closed="left")],
        "n_bins": [Interval(Integral, 1, None, closed="left")],
        "embedding_dim": [Interval(Integral, 1, None, closed="left")],
        "categorical_features": ["array-like", StrOptions({"from_dtype"}), None],
        "max_onehot": [Interval(Integral, 0, None, closed="left")],
        "categorical_embedding_dim": [Interval(Integral, 1, None, closed="left")],
        "target_encoding": ["boolean", StrOptions({"auto"})],
        "parametrization": [StrOptions({"ntp", "standard"})],
        "n_ensemble": [Interval(Integral, 1, None, closed="left")],
        "n_cv": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "neighbors": ["boolean", StrOptions({"auto"})],
        "dropout": [Interval(Real, 0, 1, closed="left"), StrOptions({"auto"})],
        "dropout_schedule": [StrOptions({"constant", *SHAPES})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "learning_rate": [StrOptions(set(Schedule.KINDS) - {"adaptive"})],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "batch_size": [
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "max_iter": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "select_best": ["boolean"],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), None],
        "ema_decay": [Interval(Real, 0, 1, closed="left"), None],
        "dtype": [StrOptions({"float32", "float64"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "callbacks": [None, list, tuple],
        "progress_bar": ["boolean"],
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
        if not sp.issparse(X):
            if not hasattr(X, "dtype"):  # a list: its values choose the dtype
                X = np.asarray(X)
            if getattr(X.dtype, "kind", "") in ("O", "U", "S"):
                # kept as it is: the encoder reads the categorical columns as
                # they are and the others as numbers (as check_array would,
                # with its error for a string that is no number)
                return validate_data(
                    self, X, reset=reset, dtype=None, ensure_all_finite="allow-nan"
                )
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
        return self._checked_finite(self._encoder.transform(to_host(X), self._dtype()))

    def _checked_finite(self, Z):
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
        if self.numerical_embedding == "piecewise" and enc.n_numeric_ > 0:
            if getattr(enc, "n_bins", None) != self.n_bins:
                raise ValueError(
                    f"The encoder's bins were fitted for n_bins="
                    f"{getattr(enc, 'n_bins', None)}, now n_bins={self.n_bins} "
                    "with numerical_embedding='piecewise'; warm_start and "
                    "partial_fit need the same architecture parameters."
                )
            layers.append(PiecewiseLinearEmbedding(enc.bin_edges_, self.embedding_dim))
        k = self.n_ensemble
        if k > 1:
            layers.append(EnsembleExpand(k))
        for width in self._hidden_widths():
            layers.append(ScaledDense(width, _BIAS_LR) if ntp else Dense(width))
            layers.append(
                ParametricActivation(self.activation, self.parametric_activation)
            )
            if self._dropout_rate() > 0:
                layers.append(Dropout(self._dropout_rate()))
        if k > 1:
            layers.append(MemberHead(k, n_outputs))
        else:
            layers.append(ScaledDense(n_outputs) if ntp else Dense(n_outputs))
        return layers

    def _dropout_rate(self):
        """The dropout rate: the parameter's, or for 'auto' the one the first
        fit chose (``dropout_``)."""
        return self.dropout_ if isinstance(self.dropout, str) else self.dropout

    def _hidden_widths(self):
        """The hidden layers' widths: the parameter's, or for 'auto' those
        the first fit chose (``hidden_layer_sizes_``)."""
        if isinstance(self.hidden_layer_sizes, str):
            return self.hidden_layer_sizes_
        return tuple(hidden_sizes(self.hidden_layer_sizes, allow_empty=False))

    # ------------------------------------------------------------ the pipeline
    def _check_fit_options(self, incremental):
        if self.neighbors != "auto" and self.neighbors and self._neighbor_kind is None:
            raise ValueError(
                "neighbors=True blends the mean of the neighbours' targets, "
                "which only loss='squared_error' estimates, not loss="
                f"{self.loss!r}. Set neighbors='auto' or False."
            )
        if (
            self._explicit_members()
            and self.warm_start
            and self.__sklearn_is_fitted__()
        ):
            raise ValueError(
                f"warm_start=True continues one network, but n_cv={self.n_cv} "
                f"cross-fits {self.n_cv} networks from scratch. Set n_cv=1 or "
                "warm_start=False."
            )

    def _check_one_network(self):
        """``partial_fit`` exists only for one network (``n_cv=1``)."""
        if self._explicit_members():
            raise AttributeError(
                "partial_fit is only available with n_cv=1 or 'auto': it "
                f"continues one network, and n_cv={self.n_cv} cross-fits "
                f"{self.n_cv}."
            )
        return True

    def _explicit_members(self):
        """Whether ``n_cv`` asks for several networks whatever the fit."""
        return self.n_cv != "auto" and self.n_cv > 1

    def _prepare(self, X, y, incremental, first_pass):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        # validated where it is; the table is encoded from one host copy
        X = to_host(self._check_X(X, reset=first_pass))
        y = self._check_y(y, X.shape[0])
        Y = self._targets(y, first_pass, incremental)
        if not first_pass:
            return self._encode(X), Y, y
        auto = auto_architecture(X.shape[0])
        if isinstance(self.hidden_layer_sizes, str):
            self.hidden_layer_sizes_ = auto["hidden_layer_sizes"]
        else:
            self.hidden_layer_sizes_ = self._hidden_widths()
        self.dropout_ = (
            auto["dropout"] if isinstance(self.dropout, str) else float(self.dropout)
        )
        wanted = self.target_encoding
        if wanted == "auto":
            wanted = auto["target_encoding"]
        T = rng = None
        if wanted:
            # binary labels: the second class's column says it all
            T = Y[:, 1:] if is_classifier(self) and Y.shape[1] == 2 else Y
            # the folds' own stream, beside the one the training draws from
            rng = np.random.default_rng(make_rng(self.random_state).integers(2**63))
        n_bins = self.n_bins if self.numerical_embedding == "piecewise" else None
        self._encoder = TableEncoder(self.categorical_features, self.max_onehot, n_bins)
        Z = self._encoder.fit_transform(X, T, rng, self._dtype())
        self.is_categorical_ = self._encoder.is_categorical_
        # False where no column is embedded
        self.target_encoding_ = self._encoder.n_target_means_ > 0
        return self._checked_finite(Z), Y, y

    def _network(self, n_features, dtype):
        """The network of this estimator's parameters for the fitted encoder."""
        return Network.from_layers(
            n_features, self._layers(self.n_outputs_), self._loss, dtype=dtype
        )

    def _data_init(self, net, params, data, rng):
        if self.parametrization == "ntp":
            rows = rng.permutation(data.X.shape[0])[:_INIT_ROWS]
            net.data_init(params, data.X[rows], rng)

    def _current_params(self, net, backend):
        params = to_host(self._params)
        if params.ndim == 2:
            raise ValueError(
                f"The last fit cross-fitted {params.shape[0]} networks (n_cv="
                f"{self.n_cv!r}); warm_start and partial_fit continue one "
                "network: fit with n_cv=1 first, or refit with warm_start=False."
            )
        if params.shape[0] != net.n_params:
            raise ValueError(
                f"The network changed since the last fit ({params.shape[0]} "
                f"parameters, now {net.n_params}); warm_start and partial_fit "
                "need the same architecture parameters."
            )
        return params.astype(net.dtype, copy=True)

    def _keep_params(self, net, params):
        self._net, self._params = net, params

    def _kept_params(self):
        return self._params

    def _cross_fit_splits(self, n_samples, given_validation, continuing):
        members = self.n_cv
        if members == "auto":
            # given validation rows choose the epoch, or none is chosen; a
            # warm start continues one network
            one = given_validation or self.warm_start or not self.select_best
            members = 1 if one else cross_fit_members(n_samples)
        elif members > 1 and given_validation:
            raise ValueError(
                f"X_val and y_val replace the held-out split, but n_cv={members} "
                "cross-fits: each member chooses its epoch on its own fold. Set "
                "n_cv=1 to use them, or leave them out."
            )
        elif members > 1 and not self.select_best:
            raise ValueError(
                f"n_cv={members} chooses each member's epoch on its own fold, but "
                "select_best=False keeps the last epoch. Set select_best=True, "
                "or n_cv=1."
            )
        # folds too small to validate on: one network (as the split would)
        if continuing or n_samples // members < self._min_validation_rows:
            members = 1
        self.n_cv_ = members
        return members

    def _validation_wanted(self):
        return self.select_best

    def _blend_wanted(self, n_samples, incremental):
        if self.neighbors == "auto":  # (a NumPy bool is a bool here too)
            wanted = n_samples <= NEIGHBOR_ROWS
        else:
            wanted = bool(self.neighbors)
        return wanted and not incremental and self._neighbor_kind is not None

    def _fit_blend(self, data, held_out):
        """The neighbour blend (``neighbors``) chosen on the held-out rows,
        every row of the fit a candidate; none without held-out rows."""
        self._neighbor_columns = self._neighbor_blend = None
        self.neighbor_weight_ = self.neighbor_temperature_ = None
        if not held_out:
            return
        kind = self._neighbor_kind
        # the metrics' own stream, a child of the fit's own seed: a
        # RandomState given as random_state is not drawn from again, and the
        # training's stream is untouched
        rng = np.random.default_rng(self._rng.bit_generator.seed_seq.spawn(1)[0])
        columns = DistanceColumns(self._encoder)
        blend = fit_blend(
            columns, data.X, data.Y, held_out, kind, rng, data.sample_weight
        )
        self._neighbor_columns, self._neighbor_blend = columns, blend
        self.neighbor_weight_ = blend.weight
        self.neighbor_temperature_ = blend.temperature if kind == "labels" else None

    def _check_given_validation(self):
        if not self.select_best:
            raise ValueError(
                "X_val and y_val choose the best epoch, but select_best=False "
                "keeps the last one. Set select_best=True to use them, or "
                "leave them out."
            )

    def _validation_X(self, X_val, dtype):
        return self._encode(self._check_X(X_val, reset=False))

    def _validation_scoring(self):
        return "loss"

    def _budget(self, n_samples):
        """``(epochs, batch_size, learning_rate_init)`` of this fit: the
        parameters, or the 'auto' budget of :func:`training_budget` for
        ``n_samples`` training rows."""
        epochs, batch, factor = training_budget(n_samples)
        if self.max_iter != "auto":
            epochs = self.max_iter
        lr = self.learning_rate_init
        if self.batch_size == "auto":
            lr *= factor
        else:
            batch = self.batch_size
        return epochs, min(batch, n_samples), lr

    def _stochastic_parts(self, net, n_samples):
        epochs, batch, lr = self._budget(n_samples)
        self.max_iter_, self.batch_size_ = epochs, batch
        optimizer = AdamW(
            self.beta_1, self.beta_2, 1e-8, self.weight_decay, net.n_coefs
        )
        schedule = Schedule(self.learning_rate, lr, max_iter=epochs)
        loop = dict(
            batch_size=batch,
            max_iter=epochs,
            tol=0.0,
            n_iter_no_change=(
                np.inf if self.n_iter_no_change is None else self.n_iter_no_change
            ),
            dropout_schedule=self.dropout_schedule,
            ema_decay=self.ema_decay,
        )
        return optimizer, schedule, loop

    def _raw_predict(self, X, method="predict"):
        check_is_fitted(self)
        check_namespace(self, X, self._params, method)
        X = self._check_X(X, reset=False)
        Z = host = self._encode(X)
        device = is_device_array(self._params)
        if device:  # encoded on the host, then moved
            Z = backend_of(self._params).asarray(Z)
        backend, params = for_arrays(Z), self._params
        if params.ndim == 1:
            out = self._network_outputs(self._net, params, Z, backend)
        else:
            # cross-fitted members: the mean of their outputs (probabilities,
            # or predictions on the target's scale)
            out = self._network_outputs(self._net, params[0, ...], Z, backend)
            for k in range(1, params.shape[0]):
                out = out + self._network_outputs(self._net, params[k, ...], Z, backend)
            out = out / params.shape[0]
        blend = self.__dict__.get("_neighbor_blend")
        if blend is None:
            return out
        # the neighbours are averaged on the host
        mixed = blend(to_host(out), self._neighbor_columns.transform(host))
        return backend_of(self._params).asarray(mixed) if device else mixed
