"""Loss functions paired with their canonical output activations.

Each :class:`Loss` couples a loss with the output activation that is its
canonical link:

===================  =========  =============================================
loss                 output     per-sample loss ``l(y, p)``
===================  =========  =============================================
``log_loss``         softmax    ``-sum_j y_j log p_j``
``binary_log_loss``  logistic   ``-sum_j y_j log p_j + (1 - y_j) log(1 - p_j)``
``squared_error``    identity   ``0.5 * sum_j (p_j - y_j)**2``
``poisson``          exp        ``sum_j y_j log(y_j / p_j) - y_j + p_j``
===================  =========  =============================================

For every pair the gradient of the loss with respect to the output layer's
pre-activation ``Z`` (where ``p = act(Z)``) is the same simple expression::

    dL/dZ = p - y

because the derivative of the link cancels the derivative of the loss:
softmax with the categorical cross-entropy, the sigmoid with the binary
cross-entropy, the identity with half the squared error and ``exp`` with half
the Poisson deviance all have this property.  The network therefore never
differentiates the output activation; it computes ``P - Y`` and, with sample
weights ``s``, scales row ``i`` by ``s_i``.

The value reported is the sample-weighted mean of the per-sample losses,
``sum_i s_i l(y_i, p_i) / sum_i s_i`` (plain mean without weights), which is
exactly the objective whose gradient the network computes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.special import xlogy

__all__ = ["LOSSES", "Loss", "weighted_mean"]


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


@dataclass(frozen=True)
class Loss:
    """A loss with its canonical output activation.

    Attributes
    ----------
    name : str
        Registry key.
    out_activation : str
        Name of the output activation in ``OUTPUT_ACTIVATIONS`` whose
        canonical link makes ``dL/dZ = P - Y``.
    per_sample : callable
        ``per_sample(Y, P) -> ndarray of shape (n_samples,)``.
    """

    name: str
    out_activation: str
    per_sample: Callable

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
        return weighted_mean(self.per_sample(Y, P), sample_weight)


LOSSES = {
    "log_loss": Loss("log_loss", "softmax", _log_loss),
    "binary_log_loss": Loss("binary_log_loss", "logistic", _binary_log_loss),
    "squared_error": Loss("squared_error", "identity", _squared_error),
    "poisson": Loss("poisson", "exp", _poisson),
}
"""Losses by name."""
