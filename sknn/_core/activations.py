"""Activation functions and their derivatives, applied in place.

Every activation is an :class:`Activation` with two functions:

``forward(Z)``
    Overwrites the pre-activation ``Z`` with ``A = f(Z)`` and returns it.
``backward(A, dA, Z)``
    Overwrites the upstream gradient ``dA`` (gradient of the loss with respect
    to ``A``) with ``dZ = dA * f'(Z)`` and returns it.

Whenever the derivative can be written from the activation's *output* ``A``
(identity, logistic, tanh, relu, leaky_relu, elu), ``Z`` is not needed and the
network keeps no copy of it; ``Activation.needs_input`` is then False.  GELU's
derivative depends on ``Z`` itself, so the network keeps the pre-activation for
it.  Output activations (softmax, logistic, identity, exp) only need
``forward``: their gradient is folded into the loss (see ``losses.py``).

The functions use only element-wise array operations so that they work on any
array namespace offering ``maximum``, ``tanh``, ``exp`` and the arithmetic
operators.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.special import expit

__all__ = ["ACTIVATIONS", "OUTPUT_ACTIVATIONS", "Activation"]

LEAKY_RELU_SLOPE = 0.01
_GELU_C = math.sqrt(2.0 / math.pi)  # a Python float keeps float32 float32
_GELU_K = 0.044715


@dataclass(frozen=True)
class Activation:
    """An activation function with its in-place forward and backward passes.

    Attributes
    ----------
    name : str
        Registry key.
    forward : callable
        ``forward(Z) -> A``, computed in place in ``Z``.
    backward : callable or None
        ``backward(A, dA, Z) -> dZ``, computed in place in ``dA``.  ``Z`` is
        only read when ``needs_input`` is True.
    needs_input : bool
        Whether ``backward`` reads the pre-activation ``Z``.
    doc : str
        The formula, as the estimators' docstrings show it.
    """

    name: str
    forward: Callable
    backward: Callable | None = None
    needs_input: bool = False
    doc: str = ""


# ---------------------------------------------------------------- identity
def _identity(Z):
    """``A = Z``."""
    return Z


def _identity_backward(A, dA, Z=None):
    """``f'(Z) = 1``: the gradient passes through unchanged."""
    return dA


# ---------------------------------------------------------------- logistic
def _logistic(Z):
    """``A = 1 / (1 + exp(-Z))``, computed without overflow by ``expit``."""
    return expit(Z, out=Z)


def _logistic_backward(A, dA, Z=None):
    """``f'(Z) = A * (1 - A)``."""
    dA *= A
    dA *= 1.0 - A
    return dA


# ---------------------------------------------------------------- tanh
def _tanh(Z):
    """``A = tanh(Z)``."""
    return np.tanh(Z, out=Z)


def _tanh_backward(A, dA, Z=None):
    """``f'(Z) = 1 - A**2``."""
    dA *= 1.0 - A * A
    return dA


# ---------------------------------------------------------------- relu
def _relu(Z):
    """``A = max(Z, 0)``."""
    return np.maximum(Z, 0, out=Z)


def _relu_backward(A, dA, Z=None):
    """``f'(Z) = 1 where A > 0 else 0``."""
    dA *= A > 0
    return dA


# ---------------------------------------------------------------- leaky relu
def _leaky_relu(Z):
    """``A = Z where Z > 0 else slope * Z`` with slope 0.01.

    For slope < 1 this is ``max(Z, slope * Z)``.
    """
    return np.maximum(Z, LEAKY_RELU_SLOPE * Z, out=Z)


def _leaky_relu_backward(A, dA, Z=None):
    """``f'(Z) = 1 where A > 0 else slope`` (``A`` keeps the sign of ``Z``)."""
    dA *= np.where(A > 0, 1.0, LEAKY_RELU_SLOPE).astype(dA.dtype, copy=False)
    return dA


# ---------------------------------------------------------------- elu
def _elu(Z):
    """``A = Z where Z > 0 else exp(Z) - 1`` (ELU with scale 1)."""
    neg = np.minimum(Z, 0)
    np.expm1(neg, out=neg)
    np.maximum(Z, 0, out=Z)
    Z += neg
    return Z


def _elu_backward(A, dA, Z=None):
    """``f'(Z) = 1 where A > 0 else A + 1`` (since ``exp(Z) = A + 1`` there)."""
    dA *= np.minimum(A, 0) + 1.0
    return dA


# ---------------------------------------------------------------- gelu
def _gelu(Z):
    """Tanh approximation of GELU, ``A = Z * Phi(Z)``.

    ``A = 0.5 * Z * (1 + tanh(c * (Z + k * Z**3)))`` with ``c = sqrt(2 / pi)``
    and ``k = 0.044715`` (Hendrycks & Gimpel, 2016).  The input is needed by
    the derivative, so this one does not overwrite its argument: it returns a
    new array and the caller keeps ``Z``.
    """
    T = np.tanh(_GELU_C * (Z + _GELU_K * Z * Z * Z))
    T += 1.0
    T *= Z
    T *= 0.5
    return T


def _gelu_backward(A, dA, Z):
    """Derivative of the tanh-approximated GELU, from the input ``Z``.

    With ``u = c (Z + k Z**3)`` and ``T = tanh(u)``,
    ``f'(Z) = 0.5 (1 + T) + 0.5 Z (1 - T**2) c (1 + 3 k Z**2)``.
    """
    Z2 = Z * Z
    T = np.tanh(_GELU_C * Z * (1.0 + _GELU_K * Z2))
    grad = 0.5 * (1.0 + T) + 0.5 * Z * (1.0 - T * T) * _GELU_C * (
        1.0 + 3.0 * _GELU_K * Z2
    )
    dA *= grad
    return dA


# ---------------------------------------------------------------- outputs
def _softmax(Z):
    """Row-wise ``A_ij = exp(Z_ij - max_j Z) / sum_j exp(Z_ij - max_j Z)``.

    Subtracting the row maximum keeps every exponent <= 0, so nothing
    overflows and every row sums to one.
    """
    Z -= np.maximum.reduce(Z, axis=1, keepdims=True)
    np.exp(Z, out=Z)
    Z /= np.add.reduce(Z, axis=1, keepdims=True)
    return Z


def _exp(Z):
    """``A = exp(Z)``, the inverse of the log link used by the Poisson loss.

    ``Z`` is clipped at the log of the largest finite value of its dtype so the
    result stays finite.
    """
    np.minimum(Z, _max_exponent(Z.dtype), out=Z)
    return np.exp(Z, out=Z)


@functools.cache
def _max_exponent(dtype):
    """Largest ``z`` of ``dtype`` whose ``exp(z)`` is finite.

    ``log(finfo.max)`` rounded to the dtype may land just above the true
    value (it does for float32), so step one representable value down.
    """
    dtype = np.dtype(dtype)
    z = np.log(np.finfo(dtype).max).astype(dtype)
    with np.errstate(over="ignore"):
        while not np.isfinite(np.exp(z)):
            z = np.nextafter(z, dtype.type(-np.inf))
    return z


ACTIVATIONS = {
    "identity": Activation(
        "identity", _identity, _identity_backward, doc="``f(x) = x``"
    ),
    "logistic": Activation(
        "logistic", _logistic, _logistic_backward, doc="``1 / (1 + exp(-x))``"
    ),
    "tanh": Activation("tanh", _tanh, _tanh_backward, doc="``tanh(x)``"),
    "relu": Activation("relu", _relu, _relu_backward, doc="``max(0, x)``"),
    "leaky_relu": Activation(
        "leaky_relu",
        _leaky_relu,
        _leaky_relu_backward,
        doc=f"``max({LEAKY_RELU_SLOPE} x, x)``",
    ),
    "elu": Activation("elu", _elu, _elu_backward, doc="``x if x > 0 else exp(x) - 1``"),
    "gelu": Activation(
        "gelu",
        _gelu,
        _gelu_backward,
        needs_input=True,
        doc="GELU's tanh approximation "
        f"``0.5 x (1 + tanh(sqrt(2/pi) (x + {_GELU_K} x^3)))``",
    ),
}
"""Hidden-layer activations by name."""

OUTPUT_ACTIVATIONS = {
    "identity": Activation("identity", _identity),
    "logistic": Activation("logistic", _logistic),
    "softmax": Activation("softmax", _softmax),
    "exp": Activation("exp", _exp),
}
"""Output activations by name; their gradient is handled by the paired loss."""
