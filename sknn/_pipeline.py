"""The one training pipeline of both estimator pairs.

:class:`_TrainingPipeline` is how every sknn estimator fits: the drop-in pair
(:mod:`sknn._base`) and the tabular pair (:mod:`sknn._tabular_base`) differ in
their parameters, their input handling and their network, not in how a fit
runs.  Call order of :meth:`_TrainingPipeline._fit`::

    check the parameters, the callbacks and the pair's own rules
    first pass or not (warm_start, partial_fit, already fitted)
    labels, weights and validation labels to the host (array-API inputs)
    the pair validates and encodes X and y          (_prepare)
    sample weights times class weights              (_fitdata)
    the network (the pair's), the generator (kept across partial_fit)
    initial weights, or the fitted ones             (the pair's)
    training and validation rows: X_val/y_val, or the held-out split
    the pair's data-dependent initialisation        (_data_init)
    to X's device (array-API inputs)
    one solver call, then the Solution onto the fitted attributes
    the pair's blend, chosen on the held-out rows    (_fit_blend)

A pair whose ``_cross_fit_splits()`` is above 1 (the tabular pair's
``n_cv``) cross-fits instead of splitting: one network per fold, each
initialised, trained and validated as above on its folds, the members'
weights kept together and their attributes summarised (``_fit_members``).

A pair whose ``_blend_wanted()`` is True gets, after training, the network's
outputs on every held-out set (each member's fold, or the validation rows)
beside the rows that network trained on, and learns from them what it blends
with the network's outputs (``_fit_blend``: the tabular pair's neighbours).

The services of a fit are written here once and so exist for both pairs:
``warm_start`` and ``partial_fit``, ``callbacks``, ``progress_bar``,
``verbose`` (naming the validation metric), ``history_``, ``loss_curve_``,
``validation_scores_``, ``best_validation_score_``/``best_loss_``,
``best_epoch_``, the stop warnings, and the rule that a diverging call keeps
the weights from before it.
"""

from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass, replace

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import check_scoring

from ._core.solvers import StochasticSolver, StopReason
from ._core.threads import blas_limit, forward_macs
from ._core.training import LoopConfig
from ._device import (
    check_numeric_classes,
    fit_backend,
    numpy_dtype,
    to_backend,
    to_host,
)
from ._fitdata import (
    NON_FINITE,
    TrainData,
    check_callbacks,
    check_weights,
    cv_folds,
    make_rng,
    split_rows,
    validation_rows,
)

__all__ = ["_TrainingPipeline", "validation_metric"]


def _host_data(data, held_out):
    """The rows, targets and weights of ``data`` on the host (a blend's
    candidates),
    or None without held-out sets (no blend: nothing is copied)."""
    if not held_out:
        return None
    return replace(
        data,
        X=to_host(data.X),
        Y=to_host(data.Y),
        sample_weight=to_host(data.sample_weight),
    )


_PREDICT_CHUNK = 8192
"""Rows per forward pass when scoring or predicting many rows."""

_MEMBER_ATTRIBUTES = (
    "n_iter_",
    "t_",
    "loss_",
    "loss_curve_",
    "history_",
    "best_epoch_",
    "validation_scores_",
    "best_validation_score_",
)
"""What one cross-fitted member's training sets, summarised over members."""


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


def _loss_label(loss_name):
    """How a loss is named in messages: 'log-loss', 'squared error', ..."""
    if loss_name.endswith("log_loss"):
        return "log-loss"
    return loss_name.replace("_", " ")


def validation_metric(estimator):
    """``(name, sign)`` of a fitted sknn estimator's validation score.

    ``sign * validation_scores_`` is the metric's natural value.  ``name`` is
    None when the score is the negated training loss (``scoring='loss'``,
    and always for the tabular pair), whose natural value is the
    validation loss.
    """
    scoring = estimator._validation_scoring()
    if scoring == "loss":
        return None, -1.0
    if scoring is None:
        return estimator._default_metric, 1.0
    if isinstance(scoring, str):
        if scoring.startswith("neg_"):
            return scoring[4:].replace("_", " "), -1.0
        return scoring.replace("_", " "), 1.0
    return getattr(scoring, "__name__", "validation score").replace("_", " "), 1.0


@dataclass
class _Run:
    """One solver call: what :meth:`_TrainingPipeline._solve` trains.

    Attributes
    ----------
    net : Network
    params : ndarray of shape (n_params,)
        Initial or fitted weights, on the host.
    data : TrainData
    rng : numpy.random.Generator
    backend : ArrayAPIBackend or None
        X's array-API backend (None: NumPy), chosen once at the start.
    incremental : bool
        One epoch (``partial_fit``).
    callbacks : list of callable
    previous : dict
        The fitted weights from before the call, put back if it diverges.
    """

    net: object
    params: object
    data: TrainData
    rng: object
    backend: object
    incremental: bool
    callbacks: list
    previous: dict


def _mean_curve(curves):
    """The epoch-by-epoch mean of the curves that reach each epoch (a
    callback may stop a member early), as Python floats."""
    length = max(len(c) for c in curves)
    return [float(np.mean([c[e] for c in curves if len(c) > e])) for e in range(length)]


class _TrainingPipeline:
    """The fit of every sknn estimator (see the module docstring).

    A pair sets the policies below and defines the methods of the
    "the pair's part" section; everything else is shared.
    """

    _WEIGHTS: tuple = ()
    """Attributes holding fitted weights: put back when a call diverges."""
    _min_validation_rows = 2
    """Fewest validation rows of the held-out split."""
    _skip_small_validation = False
    """A split below ``_min_validation_rows``: train without validation
    (True) or raise scikit-learn's error (False)."""
    _warn_max_iter = True
    """Warn when the epoch budget ends a fit (scikit-learn's warning)."""

    # ------------------------------------------------------------ the pair's part
    def _check_fit_options(self, incremental):
        """Raise on parameter combinations the pair does not support."""
        raise NotImplementedError

    def _prepare(self, X, y, incremental, first_pass):
        """``(X, Y, y)``: rows as the network reads them, encoded targets and
        the raw labels or targets; sets what a first pass learns (classes,
        encoders, ``n_features_in_``)."""
        raise NotImplementedError

    def _network(self, n_features, dtype):
        """The network of this fit's parameters."""
        raise NotImplementedError

    def _current_params(self, net, backend):
        """The fitted weights as a new flat vector for ``net`` on ``backend``
        (None: NumPy), or an error when their shapes no longer fit."""
        raise NotImplementedError

    def _keep_params(self, net, params):
        """Keep ``params`` (trained by ``net``) as the fitted weights: a flat
        vector, or one row per member of a cross-fitted fit."""
        raise NotImplementedError

    def _validation_wanted(self):
        """Whether this fit chooses its weights on validation rows."""
        raise NotImplementedError

    def _check_given_validation(self):
        """Raise where ``X_val``/``y_val`` cannot be used with these
        parameters."""
        raise NotImplementedError

    def _validation_X(self, X_val, dtype):
        """``X_val`` validated and encoded as the training rows were."""
        raise NotImplementedError

    def _encode_val(self, y_val):
        """``(Y_val, y_val)``: encoded and checked validation targets."""
        raise NotImplementedError

    def _score_output(self, P, y, sample_weight):
        """The default validation metric of outputs ``P`` for labels ``y``
        (used when ``_validation_scoring()`` is None)."""
        raise NotImplementedError

    def _class_weights(self, y, fit_y, dtype):
        """Per-sample class weights of labels ``y`` (classes weighed from the
        training labels ``fit_y``), or None."""
        raise NotImplementedError

    def _stratify(self, Y, y):
        """``(labels, always)`` the split stratifies on (None: at random)."""
        raise NotImplementedError

    def _stochastic_parts(self, net, n_samples):
        """``(optimizer, schedule, loop)``: the update rule, the learning-rate
        schedule and the pair's :class:`LoopConfig` fields."""
        raise NotImplementedError

    def _validation_scoring(self):
        """The validation score: None (the pair's default metric), 'loss'
        (the negated loss), a scorer name or a callable."""
        raise NotImplementedError

    def _data_init(self, net, params, data, rng):
        """Data-dependent initialisation of a first fit's ``params`` from the
        training rows, a :class:`TrainData` (none by default)."""

    def _cross_fit_splits(self, n_samples, given_validation, continuing):
        """Networks this fit of ``n_samples`` rows cross-fits (1: one network
        and the usual validation, the default), knowing whether ``X_val`` is
        given and whether the fit continues fitted weights."""
        return 1

    def _kept_params(self):
        """The flat weights that :meth:`_keep_params` kept."""
        raise NotImplementedError

    def _blend_wanted(self, n_samples, incremental):
        """Whether this fit of ``n_samples`` rows learns a blend with the
        network's held-out outputs (none by default)."""
        return False

    def _fit_blend(self, data, held_out):
        """Learn the blend from ``data`` (the rows of the fit, host arrays)
        and ``held_out``: ``(rows, X, Y, sample_weight, outputs)`` per held-out
        set, ``rows`` the indices of ``data``'s rows its network trained on
        (empty, with ``data`` None: no held-out rows, no blend).  Called at
        the end of every fit; nothing by default."""

    def _solve(self, run):
        """Train ``run.params`` and set the fitted attributes."""
        self._solve_stochastic(run)

    # ------------------------------------------------------------ the fit
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
        callbacks = check_callbacks(self.callbacks)
        self._check_fit_options(incremental)
        first_pass = not self.__sklearn_is_fitted__() or (
            not self.warm_start and not incremental
        )
        backend = fit_backend(X)
        if backend is not None:  # labels and weights are encoded on the host
            y, sample_weight, y_val, sample_weight_val = map(
                to_host, (y, sample_weight, y_val, sample_weight_val)
            )
        X, Y, y = self._prepare(X, y, incremental, first_pass)
        if backend is not None:
            check_numeric_classes(self.__dict__.get("classes_"))
        dtype = numpy_dtype(X)
        sw = self._sample_weights(sample_weight, y, y, dtype)
        self.n_outputs_ = Y.shape[1]
        net = self._network(X.shape[1], dtype)
        if incremental and "_rng" in self.__dict__:
            rng = self._rng
        else:
            rng = make_rng(self.random_state)
        self._rng = rng

        # what a diverging warm or incremental call puts back before raising
        previous = {} if first_pass else self._fitted_weights()
        if first_pass:
            params = net.init_params(rng)
            self.n_iter_ = 0
            self.t_ = 0
            self._train_state = None
        else:
            params = self._current_params(net, None)
        data = TrainData(X, Y, sw, y)
        del X, Y  # after a split only its rows are held while training
        given = X_val is not None or y_val is not None or sample_weight_val is not None
        n_members = self._cross_fit_splits(
            data.X.shape[0], given, continuing=incremental or not first_pass
        )
        blend = self._blend_wanted(data.X.shape[0], incremental)
        if n_members > 1:
            run = _Run(net, None, data, rng, backend, False, callbacks, previous)
            held_out = self._fit_members(run, n_members, blend)
            self._fit_blend(_host_data(data, held_out), held_out)
            self._to_fit_namespace(backend)
            return self
        full = data
        data = self._validation_split(
            data, X_val, y_val, sample_weight_val, rng, incremental
        )
        if first_pass:
            self._data_init(net, params, data, rng)
        self._solve(
            _Run(net, params, data, rng, backend, incremental, callbacks, previous)
        )
        held_out = []
        if blend and data.validating:
            # the rows the network trained on: the split's, or all of them
            # beside given validation rows (which are then no candidates)
            rows = data.rows if data.rows is not None else np.arange(data.X.shape[0])
            held_out.append(self._held_out(net, data, rows))
            full = data if data.rows is None else full
        self._fit_blend(_host_data(full, held_out), held_out)
        self._to_fit_namespace(backend)
        return self

    def _held_out(self, net, part, rows):
        """``(rows, X, Y, sample_weight, outputs)`` of ``part``'s validation
        rows, on the host, with the weights just kept (see ``_fit_blend``)."""
        from ._core.backend import for_arrays

        # on the host, where the blend is learned, whatever the fit's device
        X, params = to_host(part.X_val), to_host(self._kept_params())
        P = self._network_outputs(net, params, X, for_arrays(X))
        return tuple(
            to_host(a) for a in (rows, X, part.Y_val, part.sample_weight_val, P)
        )

    # ------------------------------------------------------------ cross-fitting
    def _fit_members(self, run, n_members, blend=False):
        """Cross-fitted bagging: one network per fold, trained on the other
        folds, its epoch chosen on its own fold (as a held-out split would
        choose it); the members' weights are kept together and the fitted
        attributes summarise them (:meth:`_summarise_members`).  Returns the
        members' held-out sets (see ``_fit_blend``) when ``blend``, else []."""
        data, rng = run.data, run.rng
        seed = int(rng.integers(np.iinfo(np.int32).max))
        labels, _ = self._stratify(data.Y, data.y)
        members, held_out = [], []
        for train, val in cv_folds(data.X.shape[0], n_members, seed, to_host(labels)):
            part = data.split(train, val)
            part.check_validation_weights()
            params = run.net.init_params(rng)
            self.n_iter_, self.t_, self._train_state = 0, 0, None
            self._data_init(run.net, params, part, rng)
            self._solve(replace(run, params=params, data=part))
            if blend:
                held_out.append(self._held_out(run.net, part, train))
            members.append(
                {
                    "params": to_host(self._kept_params()),
                    **{k: getattr(self, k) for k in _MEMBER_ATTRIBUTES},
                }
            )
        # the members' weights, one row each, on the host
        self._keep_params(run.net, np.stack([m.pop("params") for m in members]))
        self._summarise_members(members)
        return held_out

    def _summarise_members(self, members):
        """The fitted attributes of a cross-fitted fit: per-epoch curves and
        losses averaged over the members (over those still training, when a
        callback stopped some early; ``n_iter_`` is the longest run),
        ``best_epoch_`` one per member, ``history_`` every member's epochs
        (each record naming its member)."""
        self._train_state = None
        self.n_iter_ = max(m["n_iter_"] for m in members)
        self.t_ = sum(m["t_"] for m in members)
        self.loss_ = float(np.mean([m["loss_"] for m in members]))
        self.loss_curve_ = _mean_curve([m["loss_curve_"] for m in members])
        self.history_ = [
            {**record, "member": k}
            for k, m in enumerate(members)
            for record in m["history_"]
        ]
        self.best_epoch_ = [int(m["best_epoch_"]) for m in members]
        self.validation_scores_ = _mean_curve(
            [m["validation_scores_"] for m in members]
        )
        self.best_validation_score_ = float(
            np.mean([m["best_validation_score_"] for m in members])
        )
        self.best_loss_ = None

    def _sample_weights(self, sample_weight, y, fit_y, dtype, name="sample_weight"):
        """The checked ``sample_weight`` of rows labelled ``y`` times their
        class weights (weighed from the training labels ``fit_y``)."""
        sw = check_weights(sample_weight, y.shape[0], dtype, name)
        cw = self._class_weights(y, fit_y, dtype)
        if cw is None:
            return sw
        return cw if sw is None else sw * cw

    def _fitted_weights(self):
        """The attributes holding the fitted weights (see ``_WEIGHTS``)."""
        return {k: self.__dict__[k] for k in self._WEIGHTS if k in self.__dict__}

    def _to_fit_namespace(self, backend):
        """The fitted arrays (``_DEVICE_ARRAYS``) in X's namespace and device."""
        if backend is None:
            return
        for name in self._DEVICE_ARRAYS:
            if name in self.__dict__:
                setattr(self, name, to_backend(self.__dict__[name], backend))

    # ------------------------------------------------------------ validation
    def _validation_split(self, data, X_val, y_val, sw_val, rng, incremental):
        """``data`` with its validation rows: ``X_val``/``y_val`` when given,
        else a held-out split when the fit validates, else none."""
        if X_val is not None or y_val is not None:
            if y_val is None:
                raise ValueError("X_val is provided, but y_val was not provided.")
            if X_val is None:
                raise ValueError("y_val is provided, but X_val was not provided.")
            self._check_given_validation()
            dtype = numpy_dtype(data.X)
            Xv = self._validation_X(X_val, dtype)
            Yv, yv = self._encode_val(y_val)
            if Yv.shape[0] != Xv.shape[0]:
                raise ValueError(
                    "X_val and y_val have inconsistent numbers of samples: "
                    f"[{Xv.shape[0]}, {Yv.shape[0]}]"
                )
            swv = self._sample_weights(sw_val, yv, data.y, dtype, "sample_weight_val")
            data.X_val, data.Y_val, data.sample_weight_val, data.y_val = Xv, Yv, swv, yv
            data.check_validation_weights()
            return data
        if sw_val is not None:
            raise ValueError("sample_weight_val is given without X_val and y_val.")
        if incremental or not self._validation_wanted():
            return data
        n = data.X.shape[0]
        if (
            self._skip_small_validation
            and validation_rows(n, self.validation_fraction) < self._min_validation_rows
        ):
            return data
        seed = int(rng.integers(np.iinfo(np.int32).max))
        labels, always = self._stratify(data.Y, data.y)
        train, val = split_rows(
            n, self.validation_fraction, seed, to_host(labels), always
        )
        if val.shape[0] < self._min_validation_rows:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' "
                "or the size of your dataset."
            )
        data = data.split(train, val)
        data.check_validation_weights()
        return data

    def _validator(self, net, data):
        """``validate(params) -> (score, loss)`` on the validation rows."""
        Xv, Yv, yv, swv = data.X_val, data.Y_val, data.y_val, data.sample_weight_val
        scoring = self._validation_scoring()
        scorer = probe = None
        weighted = True
        if scoring is not None and scoring != "loss":
            scorer = check_scoring(self, scoring=scoring)
            weighted = _accepts_sample_weight(scorer)
            # the scorer predicts through a shallow twin holding the epoch's
            # weights, so the estimator itself is not changed mid-fit
            probe = object.__new__(type(self))
            probe.__dict__.update(self.__dict__)
        from ._core.backend import for_arrays

        backend = for_arrays(Xv)
        loss_value = backend.losses[net.loss.name].value

        def validate(params):
            with np.errstate(all="ignore"):
                P = self._network_outputs(net, params, Xv, backend)
                loss = loss_value(Yv, P, swv)
            if scoring == "loss":
                return -loss, loss
            if scorer is not None:
                probe._keep_params(net, params)
                if swv is None or not weighted:
                    return float(scorer(probe, Xv, yv)), loss
                return float(scorer(probe, Xv, yv, sample_weight=swv)), loss
            if not backend.all_finite(P):
                return np.nan, loss
            return float(self._score_output(P, yv, swv)), loss

        return validate

    @staticmethod
    def _network_outputs(net, params, X, backend):
        """The network's outputs for the rows ``X``, in chunks of
        ``_PREDICT_CHUNK`` rows (bounded memory on large tables)."""
        n = X.shape[0]
        rows = min(n, _PREDICT_CHUNK)
        with blas_limit(forward_macs(net.coef_shapes, rows * net.members)):
            if n <= rows:
                return net.predict(params, X, backend)
            parts = [
                net.predict(params, X[i : min(i + rows, n), :], backend)
                for i in range(0, n, rows)
            ]
        return backend.concat(parts, axis=0)

    # ------------------------------------------------------------ stochastic
    def _solve_stochastic(self, run):
        """Train with a stochastic solver and keep the result; a call that
        diverges puts ``run.previous`` back and raises."""
        net, params, data, backend = run.net, run.params, run.data, run.backend
        if backend is not None:  # the rows, targets and weights go to X's device
            data = data.to_device(backend, numpy_dtype(data.X))
            params = backend.asarray(params)
            if self.__dict__.get("_train_state") is not None:
                self._train_state = to_backend(self._train_state, backend)
        optimizer, schedule, loop = self._stochastic_parts(net, data.X.shape[0])
        label, sign = self._score_label(net)
        config = LoopConfig(
            **loop,
            incremental=run.incremental,
            verbose=bool(self.verbose),
            progress_bar=self.progress_bar,
            score_label=label,
            score_sign=sign,
        )
        validate = self._validator(net, data) if data.validating else None
        solver = StochasticSolver(optimizer, schedule, config, validate, run.callbacks)
        solution = solver.solve(
            net,
            params,
            data.X,
            data.Y,
            run.rng,
            sample_weight=data.sample_weight,
            state=self.__dict__.get("_train_state"),
        )
        if not solution.usable:
            # scikit-learn's contract: without a kept validation epoch a
            # divergence is an error.  Nothing of this call is kept: earlier
            # weights stay, a first fit stays unfitted, and the next call
            # starts a fresh optimizer state.
            self._train_state = None
            for name in self._WEIGHTS:
                self.__dict__.pop(name, None)
            self.__dict__.update(run.previous)
            raise ValueError(NON_FINITE)
        state = self._train_state = solution.state
        self._keep_params(net, params)
        self.n_iter_ = solution.n_iter
        self.t_ = state.t
        self.loss_curve_ = list(state.loss_curve)
        self.loss_ = solution.loss
        self.history_ = list(state.history)
        self.best_epoch_ = len(self.loss_curve_)
        if state.validating:
            self.validation_scores_ = list(state.validation_scores)
            self.best_validation_score_ = state.best_validation_score
            self.best_loss_ = None
            if state.best_params is not None:  # the kept, best epoch
                self.best_epoch_ = int(np.nanargmax(self.validation_scores_)) + 1
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None
            self.best_loss_ = state.best_loss
        self._warn_stop(solution)

    def _score_label(self, net):
        """``(label, sign)`` of the ``verbose`` and progress-bar lines: the
        validation score is shown as ``sign * score`` under ``label``."""
        scoring = self._validation_scoring()
        if scoring is None:
            return "score", 1.0  # scikit-learn's line: "Validation score: ..."
        name, sign = validation_metric(self)
        return (_loss_label(net.loss.name) if name is None else name), sign

    def _warn_stop(self, solution):
        """scikit-learn's warning for how a stochastic fit ended, if any."""
        if solution.reason is StopReason.INTERRUPTED:
            warnings.warn("Training interrupted by user.", stacklevel=4)
        elif solution.reason is StopReason.DIVERGED:
            warnings.warn(
                f"{solution.message} Training stopped and the weights of the best "
                f"validation epoch ({self.best_epoch_}) were kept. Lower "
                "learning_rate_init, scale the inputs or set max_grad_norm.",
                ConvergenceWarning,
                stacklevel=4,
            )
        elif (
            self._warn_max_iter
            and solution.reason is StopReason.MAX_ITER
            and self.n_iter_ == self.max_iter
        ):
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) "
                "reached and the optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=4,
            )

    def __sklearn_is_fitted__(self):
        # fitted once weights exist: a first fit that raised (divergence)
        # leaves some validated attributes but no model
        return bool(self._WEIGHTS) and self._WEIGHTS[0] in self.__dict__
