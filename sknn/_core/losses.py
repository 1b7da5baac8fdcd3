"""Loss functions paired with their output activations.

Each :class:`Loss` couples a loss with the output activation of its link:

===================  =========  ==============================================
loss                 output     per-sample loss ``l(y, p)``
===================  =========  ==============================================
``log_loss``         softmax    ``-sum_j y_j log p_j``
``binary_log_loss``  logistic   ``-sum_j y_j log p_j + (1 - y_j) log(1 - p_j)``
``squared_error``    identity   ``0.5 * sum_j (p_j - y_j)**2``
``poisson``          exp        ``sum_j y_j log(y_j / p_j) - y_j + p_j``
``absolute_error``   identity   ``sum_j |p_j - y_j|``
``quantile``         identity   ``sum_j max(a (y_j - p_j), (a - 1) (y_j - p_j))``
``gamma``            exp        ``sum_j log(p_j / y_j) + y_j / p_j - 1``
===================  =========  ==============================================

For the first four, the canonical link pairs, the gradient of the loss with
respect to the output layer's pre-activation ``Z`` (where ``p = act(Z)``) is
the same simple expression::

    dL/dZ = p - y

because the derivative of the link cancels the derivative of the loss:
softmax with the categorical cross-entropy, the sigmoid with the binary
cross-entropy, the identity with half the squared error and ``exp`` with half
the Poisson deviance all have this property.  The network therefore never
differentiates the output activation; it computes ``P - Y`` and, with sample
weights ``s``, scales row ``i`` by ``s_i``.

The other three are not canonical pairs, so each writes its own output delta
``dL/dZ`` (:attr:`Loss.delta`), still simple:

- ``absolute_error``: ``sign(p - y)``, a subgradient (0 where ``p = y``);
- ``quantile`` (the pinball loss of the quantile ``a``, ``alpha``):
  ``1 - a`` where ``p > y``, ``-a`` where ``p < y`` (``0.5 - a`` at a tie,
  so that ``a = 0.5`` is half the absolute error, delta included);
- ``gamma`` (half the gamma deviance with the log link, ``p = exp(Z)``):
  ``d/dZ [Z + y exp(-Z)] = 1 - y / p``, with the ratio capped at ``1 / eps``
  (the loss continues linearly in ``Z`` there), so that it stays finite
  where ``p`` underflows.

A loss with parameters (``quantile``'s ``alpha``) is one registry entry with
default values (:attr:`Loss.params`); :meth:`Loss.bind` gives the loss with
other values, whose name records them (``'quantile(alpha=0.9)'``).  The
registries (:class:`LossTable`) resolve such a name, so the name alone finds
the same loss in every backend's table.

The value reported is the sample-weighted mean of the per-sample losses,
``sum_i s_i l(y_i, p_i) / sum_i s_i`` (plain mean without weights), which is
exactly the objective whose gradient the network computes.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np
from scipy.special import xlogy

__all__ = ["LOSSES", "Loss", "LossTable", "weighted_mean"]


def weighted_mean(values, sample_weight=None):
    """Mean of per-sample ``values`` weighted by ``sample_weight``.

    Parameters
    ----------
    values : ndarray of shape (n_samples,)
        Per-sample losses.
    sample_weight : ndarray of shape (n_samples,) or None
        Non-negative weights; None means equal weights.

    Returns
    -------
    float
        ``sum(s * values) / sum(s)``.
    """
    if sample_weight is None:
        return float(np.add.reduce(values)) / values.shape[0]
    return float(values @ sample_weight / sample_weight.sum())


@functools.cache
def _eps(dtype):
    """Machine epsilon of ``dtype`` (cached: ``finfo`` is slow to call)."""
    return np.finfo(dtype).eps


def _log_clipped(P, lower=True):
    """``log(clip(P, eps, 1 - eps))`` (or of ``1 - P`` when ``lower`` is False).

    Clipping at machine epsilon keeps the log finite for probabilities that
    rounded to exactly 0 or 1.
    """
    eps = _eps(P.dtype)
    Q = P if lower else 1.0 - P
    out = np.maximum(Q, eps)
    np.minimum(out, 1.0 - eps, out=out)
    return np.log(out, out=out)


def _log_loss(Y, P):
    """Per-sample categorical cross-entropy ``-sum_j y_j log p_j``.

    ``Y`` holds (soft) label indicators, so ``xlogy(y, p) = y log p`` here:
    the clipped ``p`` is never zero.
    """
    return -np.add.reduce(Y * _log_clipped(P), axis=1)


def _binary_log_loss(Y, P):
    """Per-sample binary cross-entropy summed over the outputs."""
    T = Y * _log_clipped(P)
    T += (1.0 - Y) * _log_clipped(P, lower=False)
    return -np.add.reduce(T, axis=1)


def _squared_error(Y, P):
    """Per-sample half squared error summed over the outputs."""
    R = P - Y
    return 0.5 * np.einsum("ij,ij->i", R, R)


def _poisson(Y, P):
    """Per-sample half Poisson deviance ``y log(y / p) - y + p`` over outputs.

    A zero target contributes ``p`` whatever ``p`` is: its ratio is taken as 1
    instead of computing ``0 / p``, which is NaN once ``p`` underflows to 0.
    """
    ratio = np.divide(Y, P, out=np.ones(np.shape(P), dtype=P.dtype), where=Y != 0)
    return np.sum(xlogy(Y, ratio) - Y + P, axis=1)


def _absolute_error(Y, P):
    """Per-sample absolute error ``sum_j |p_j - y_j|``."""
    return np.add.reduce(np.abs(P - Y), axis=1)


def _absolute_error_delta(Y, P, D):
    """``D = sign(P - Y)``, the subgradient of ``|p - y|`` (0 at a tie)."""
    np.subtract(P, Y, out=D)
    return np.sign(D, out=D)


def _quantile(Y, P, alpha):
    """Per-sample pinball loss of the quantile ``alpha``.

    With ``r = y - p``: ``alpha * r`` where ``r >= 0``, ``(alpha - 1) * r``
    where ``r < 0``, which is ``max(alpha r, (alpha - 1) r)``.
    """
    R = Y - P
    return np.add.reduce(np.maximum(alpha * R, (alpha - 1.0) * R), axis=1)


def _quantile_delta(Y, P, D, alpha):
    """``D = 0.5 sign(P - Y) + 0.5 - alpha``: ``1 - alpha`` above the target,
    ``-alpha`` below it, ``0.5 - alpha`` at a tie."""
    np.subtract(P, Y, out=D)
    np.sign(D, out=D)
    D *= 0.5
    D += 0.5 - alpha
    return D


def _gamma_cap(dtype):
    """The largest ratio ``y / p`` the gamma loss follows exactly:
    ``1 / eps`` (``p`` some 15 orders of magnitude below ``y`` in float64)."""
    return 1.0 / _eps(dtype)


def _gamma(Y, P):
    """Per-sample half gamma deviance ``log(p / y) + y / p - 1`` over outputs.

    Written as ``r - log(r) - 1`` with ``r = y / p``: zero at ``p = y`` and
    positive elsewhere (``y > 0``).  Beyond the ratio ``c`` of
    :func:`_gamma_cap` the loss continues along its tangent in ``Z = log p``,
    ``c - log(c) - 1 + (c - 1) (log(r) - log(c))``, whose slope is the capped
    delta's: finite wherever ``p > 0``, and the gradient stays finite even
    where ``exp`` underflows to 0 (an unscaled start far from the targets).
    Both pieces are one expression with ``rc = min(r, c)``.
    """
    with np.errstate(divide="ignore"):
        R = Y / P
    Rc = np.minimum(R, _gamma_cap(P.dtype))
    log_rc = np.log(Rc)
    T = np.log(R)
    T -= log_rc  # log(r / rc): 0 below the cap
    T *= _gamma_cap(P.dtype) - 1.0
    T += Rc
    T -= log_rc
    T -= 1.0
    return np.add.reduce(T, axis=1)


def _gamma_delta(Y, P, D):
    """``D = 1 - min(Y / P, c)``: the gradient of ``Z + y exp(-Z)`` for
    ``P = exp(Z)``, capped as in :func:`_gamma`."""
    with np.errstate(divide="ignore"):
        np.divide(Y, P, out=D)
    np.minimum(D, _gamma_cap(D.dtype), out=D)
    return np.subtract(1.0, D, out=D)


@dataclass(frozen=True)
class Loss:
    """A loss with its output activation.

    Attributes
    ----------
    name : str
        Registry key; for a loss bound to other parameter values, the key
        with the values, ``'quantile(alpha=0.9)'``.
    out_activation : str
        Name of the output activation in ``OUTPUT_ACTIVATIONS``; for the
        canonical links it makes ``dL/dZ = P - Y``.
    per_sample : callable
        ``per_sample(Y, P, **params) -> ndarray of shape (n_samples,)``.
    delta : callable or None
        ``delta(Y, P, D, **params) -> D``: writes the output delta ``dL/dZ``
        (unweighted) into ``D`` and returns it.  None for the canonical pairs,
        whose delta is ``P - Y``.
    params : tuple of (str, float)
        The loss's parameters and their values, in order (the registry entry
        holds the defaults).
    """

    name: str
    out_activation: str
    per_sample: Callable
    delta: Callable | None = None
    params: tuple = ()

    @property
    def family(self):
        """The registry key: ``name`` without parameter values."""
        return self.name.split("(", 1)[0]

    def bind(self, **params):
        """This loss with some parameters set to other values.

        Parameters
        ----------
        **params : float
            Values of parameters of :attr:`params`.

        Returns
        -------
        Loss
            The same loss, named ``'family(name=value, ...)'``.

        Examples
        --------
        >>> from sknn._core.losses import LOSSES
        >>> LOSSES["quantile"].bind(alpha=0.9).name
        'quantile(alpha=0.9)'
        """
        values = dict(self.params)
        unknown = sorted(set(params) - set(values))
        if unknown:
            raise TypeError(f"loss {self.family!r} has no parameter {unknown[0]!r}")
        for key, value in params.items():
            value = float(value)
            if not math.isfinite(value):
                raise ValueError(f"{key} of loss {self.family!r} must be finite")
            values[key] = value
        bound = tuple(values.items())
        text = ", ".join(f"{key}={value!r}" for key, value in bound)
        return replace(self, name=f"{self.family}({text})", params=bound)

    def value(self, Y, P, sample_weight=None):
        """Sample-weighted mean loss.

        Parameters
        ----------
        Y : ndarray of shape (n_samples, n_outputs)
            Targets (binarised labels for classification).
        P : ndarray of shape (n_samples, n_outputs)
            Output activations.
        sample_weight : ndarray of shape (n_samples,) or None
            Sample weights.

        Returns
        -------
        float
        """
        return weighted_mean(self.sample_losses(Y, P), sample_weight)

    def sample_losses(self, Y, P):
        """Per-sample losses ``per_sample(Y, P, **params)``, shape (n_samples,)."""
        return self.per_sample(Y, P, **dict(self.params))

    def delta_into(self, Y, P, D, backend):
        """The unweighted output delta ``dL/dZ`` written into ``D``.

        Parameters
        ----------
        Y, P : arrays of shape (n_samples, n_outputs)
            Targets and output activations.
        D : array of shape (n_samples, n_outputs)
            Overwritten.
        backend : Backend
            Whose ``subtract`` writes ``P - Y`` for the canonical pairs.

        Returns
        -------
        D
        """
        if self.delta is None:
            return backend.subtract(P, Y, D)
        return self.delta(Y, P, D, **dict(self.params))


_PARAMETERISED = re.compile(r"(\w+)\((.*)\)")


class LossTable(dict):
    """Losses by registry key that also resolve a bound loss's name.

    ``table['quantile(alpha=0.9)']`` is ``table['quantile'].bind(alpha=0.9)``;
    the keys (what ``sorted``, ``in`` and the error messages list) stay the
    registry's.
    """

    def __missing__(self, key):
        match = _PARAMETERISED.fullmatch(key) if isinstance(key, str) else None
        if match is None or match.group(1) not in self:
            raise KeyError(key)
        try:
            params = {}
            for item in match.group(2).split(","):
                name, value = item.split("=")
                params[name.strip()] = float(value)
            return self[match.group(1)].bind(**params)
        except (TypeError, ValueError):
            raise KeyError(key) from None

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default


LOSSES = LossTable(
    {
        "log_loss": Loss("log_loss", "softmax", _log_loss),
        "binary_log_loss": Loss("binary_log_loss", "logistic", _binary_log_loss),
        "squared_error": Loss("squared_error", "identity", _squared_error),
        "poisson": Loss("poisson", "exp", _poisson),
        "absolute_error": Loss(
            "absolute_error", "identity", _absolute_error, _absolute_error_delta
        ),
        "quantile": Loss(
            "quantile", "identity", _quantile, _quantile_delta, (("alpha", 0.5),)
        ),
        "gamma": Loss("gamma", "exp", _gamma, _gamma_delta),
    }
)
"""Losses by name."""
