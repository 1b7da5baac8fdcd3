"""The array-API backend: training and prediction on the input's own arrays.

:func:`backend_of` gives the backend of an array's namespace and device
(CuPy, PyTorch, ``array_api_strict``, any library ``array_api_compat``
wraps).  The network, the layers, the optimizers and the training loop run
their generic code on it, so a fit on CUDA tensors computes on the GPU; only
the per-epoch permutation (an index vector) and the initial parameters come
from the fit's ``numpy.random.Generator`` and are copied to the device.

The standard has no form for a few things the core needs; each gets one
small helper here, per namespace where the library has a faster form:

- writing into a preallocated buffer (``out=``): ``torch``'s and CuPy's own
  functions take ``out``; elsewhere ``out[...] = value``;
- a row gather into a buffer (``take_rows``): ``index_select(out=)`` in
  PyTorch, ``take(out=)`` in CuPy, ``out[...] = take(...)`` elsewhere;
- ``einsum`` (the tabular layers' contractions): the library's own, else a
  broadcast product summed over the contracted letters; ``scatter_add`` (the
  embeddings' gradient): ``index_add_`` in PyTorch, ``cupyx.scatter_add``,
  else a one-hot matrix product;
- random numbers (dropout masks): a device generator seeded once per fit
  from ``random_state`` (``torch.Generator`` on the tensors' device, CuPy's
  ``default_rng``); a namespace without one gets NumPy's draws copied over.
  Masks are reproducible per namespace, not across namespaces;
- the floating-point error state: the device libraries raise nothing, so
  ``quiet`` is a no-op for them (NumPy's ``errstate`` elsewhere);
- moving to NumPy (:func:`to_numpy`, used when pickling).

The element-wise tables (activations, output activations, losses) are
written here with the namespace's functions; ``tests/test_array_api.py``
checks each entry against NumPy's for every registry key.
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass

import numpy as np

try:  # the standalone package (the array-api extra)
    import array_api_compat

    _VENDORED = False
except ImportError:  # scikit-learn's vendored copy (scikit-learn >= 1.6)
    from sklearn.externals import array_api_compat

    _VENDORED = True

from .activations import _GELU_C, _GELU_K, LEAKY_RELU_SLOPE, Activation, _max_exponent
from .backend_base import Backend
from .losses import Loss, LossTable

__all__ = ["ArrayAPIBackend", "backend_of", "namespace_of", "to_numpy"]


def namespace_of(x):
    """The array-API namespace of ``x`` (``array_api_compat``'s wrapper).

    scikit-learn's vendored copy serves NumPy-backed namespaces
    (``array_api_strict``); its PyTorch wrapper refuses the Python scalars
    sknn's element-wise code passes, so tensors need the standalone package.
    """
    if _VENDORED and array_api_compat.is_torch_array(x):
        raise ImportError(
            "Training on PyTorch tensors needs the array-api-compat package "
            "(scikit-learn's own copy of it cannot run sknn's tensor code): "
            "pip install 'sknn[array-api]'."
        )
    return array_api_compat.array_namespace(x)


def _library(xp):
    """``'torch'``, ``'cupy'`` or ``'generic'``: which helpers ``xp`` gets."""
    if array_api_compat.is_torch_namespace(xp):
        return "torch"
    if array_api_compat.is_cupy_namespace(xp):
        return "cupy"
    return "generic"


def to_numpy(x):
    """A NumPy copy of the array ``x`` (from any device)."""
    if isinstance(x, np.ndarray):
        return x
    module = type(x).__module__.split(".")[0]
    if module == "torch":
        return x.detach().cpu().numpy()
    if module == "cupy":
        return x.get()
    if module == "array_api_strict":  # its other devices refuse __array__
        import array_api_strict

        x = x.to_device(array_api_strict.Device("CPU_DEVICE"))
    return np.asarray(x)


def backend_of(x):
    """The :class:`ArrayAPIBackend` of ``x``'s namespace and device."""
    return _backend(namespace_of(x), array_api_compat.device(x))


@functools.cache
def _backend(xp, device):
    return ArrayAPIBackend(xp, device)


# ------------------------------------------------------------------ tables
def _activations(xp):
    """Hidden activations written with ``xp``: ``forward(Z)`` returns ``A``
    (a new array), ``backward(A, dA, Z)`` scales ``dA`` in place."""

    def logistic(Z):
        return 1.0 / (1.0 + xp.exp(-Z))

    def logistic_b(A, dA, Z=None):
        dA *= A * (1.0 - A)
        return dA

    def tanh_b(A, dA, Z=None):
        dA *= 1.0 - A * A
        return dA

    def relu(Z):
        return xp.maximum(Z, 0.0)

    def relu_b(A, dA, Z=None):
        dA *= xp.astype(A > 0, dA.dtype)
        return dA

    def leaky(Z):
        return xp.maximum(Z, LEAKY_RELU_SLOPE * Z)

    def leaky_b(A, dA, Z=None):
        positive = xp.astype(A > 0, dA.dtype)
        dA *= LEAKY_RELU_SLOPE + (1.0 - LEAKY_RELU_SLOPE) * positive
        return dA

    def elu(Z):
        return xp.maximum(Z, 0.0) + xp.expm1(xp.minimum(Z, 0.0))

    def elu_b(A, dA, Z=None):
        dA *= xp.minimum(A, 0.0) + 1.0
        return dA

    def gelu(Z):
        T = xp.tanh(_GELU_C * (Z + _GELU_K * Z * Z * Z))
        return 0.5 * Z * (1.0 + T)

    def gelu_b(A, dA, Z):
        Z2 = Z * Z
        T = xp.tanh(_GELU_C * Z * (1.0 + _GELU_K * Z2))
        dA *= 0.5 * (1.0 + T) + 0.5 * Z * (1.0 - T * T) * _GELU_C * (
            1.0 + 3.0 * _GELU_K * Z2
        )
        return dA

    def identity(Z):
        return Z

    def identity_b(A, dA, Z=None):
        return dA

    return {
        "identity": Activation("identity", identity, identity_b),
        "logistic": Activation("logistic", logistic, logistic_b),
        "tanh": Activation("tanh", xp.tanh, tanh_b),
        "relu": Activation("relu", relu, relu_b),
        "leaky_relu": Activation("leaky_relu", leaky, leaky_b),
        "elu": Activation("elu", elu, elu_b),
        "gelu": Activation("gelu", gelu, gelu_b, needs_input=True),
    }


def _outputs(xp):
    """Output activations written with ``xp``."""

    def softmax(Z):
        E = xp.exp(Z - xp.max(Z, axis=1, keepdims=True))
        return E / xp.sum(E, axis=1, keepdims=True)

    def exp(Z):
        top = float(_max_exponent(_numpy_dtype(xp, Z.dtype)))
        return xp.exp(xp.minimum(Z, top))

    hidden = _activations(xp)
    return {
        "identity": hidden["identity"],
        "logistic": hidden["logistic"],
        "softmax": Activation("softmax", softmax),
        "exp": Activation("exp", exp),
    }


@dataclass(frozen=True)
class _Loss(Loss):
    """A loss of the array-API tables: :class:`~.losses.Loss` with the sums of
    ``value`` written with ``xp``; its ``delta`` writes ``D[...] = ...``."""

    xp: object = None

    def value(self, Y, P, sample_weight=None):
        """Sample-weighted mean of the per-sample losses, a Python float."""
        xp, values = self.xp, self.sample_losses(Y, P)
        if sample_weight is None:
            return float(xp.sum(values)) / values.shape[0]
        return float(xp.sum(values * sample_weight) / xp.sum(sample_weight))


def _losses(xp):
    """Losses written with ``xp`` (the formulas of :mod:`.losses`), in a
    :class:`~.losses.LossTable`, so that bound names resolve here too."""

    def log_clipped(P):
        eps = float(np.finfo(_numpy_dtype(xp, P.dtype)).eps)
        return xp.log(xp.clip(P, eps, 1.0 - eps))

    def log_loss(Y, P):
        return -xp.sum(Y * log_clipped(P), axis=1)

    def binary(Y, P):
        T = Y * log_clipped(P) + (1.0 - Y) * log_clipped(1.0 - P)
        return -xp.sum(T, axis=1)

    def squared(Y, P):
        R = P - Y
        return 0.5 * xp.sum(R * R, axis=1)

    def poisson(Y, P):
        nonzero = Y != 0
        ratio = xp.where(nonzero, Y / xp.where(nonzero, P, 1.0), 1.0)
        return xp.sum(Y * xp.log(ratio) - Y + P, axis=1)

    def absolute(Y, P):
        return xp.sum(xp.abs(P - Y), axis=1)

    def absolute_delta(Y, P, D):
        D[...] = xp.sign(P - Y)
        return D

    def quantile(Y, P, alpha):
        R = Y - P
        return xp.sum(xp.maximum(alpha * R, (alpha - 1.0) * R), axis=1)

    def quantile_delta(Y, P, D, alpha):
        D[...] = 0.5 * xp.sign(P - Y) + (0.5 - alpha)
        return D

    def gamma(Y, P):  # the capped form of losses._gamma
        cap = 1.0 / xp.finfo(P.dtype).eps
        R = Y / P
        Rc = xp.clip(R, max=cap)
        log_rc = xp.log(Rc)
        return xp.sum((cap - 1.0) * (xp.log(R) - log_rc) + Rc - log_rc - 1.0, axis=1)

    def gamma_delta(Y, P, D):
        cap = 1.0 / xp.finfo(P.dtype).eps
        D[...] = 1.0 - xp.clip(Y / P, max=cap)
        return D

    def entry(name, out, per_sample, delta=None, params=()):
        return _Loss(name, out, per_sample, delta, params, xp=xp)

    return LossTable(
        {
            "log_loss": entry("log_loss", "softmax", log_loss),
            "binary_log_loss": entry("binary_log_loss", "logistic", binary),
            "squared_error": entry("squared_error", "identity", squared),
            "poisson": entry("poisson", "exp", poisson),
            "absolute_error": entry(
                "absolute_error", "identity", absolute, absolute_delta
            ),
            "quantile": entry(
                "quantile", "identity", quantile, quantile_delta, (("alpha", 0.5),)
            ),
            "gamma": entry("gamma", "exp", gamma, gamma_delta),
        }
    )


def _numpy_dtype(xp, dtype):
    """The NumPy dtype of the floating ``xp`` dtype ``dtype``."""
    for name in ("float32", "float64"):
        if dtype == getattr(xp, name):
            return np.dtype(name)
    raise TypeError(f"sknn trains in float32 or float64, not {dtype}.")


# ------------------------------------------------------------------ backend
class ArrayAPIBackend(Backend):
    """The backend of one array namespace on one device.

    Parameters
    ----------
    xp : module
        The namespace (``array_api_compat``'s wrapper of the library).
    device : object
        The device its arrays live on.
    """

    host = False

    def __init__(self, xp, device):
        super().__init__(
            f"array_api:{xp.__name__}",
            activations=_activations(xp),
            outputs=_outputs(xp),
            losses=_losses(xp),
        )
        object.__setattr__(self, "xp", xp)
        object.__setattr__(self, "device", device)
        object.__setattr__(self, "library", _library(xp))
        if self.library == "torch":
            import torch

            object.__setattr__(self, "native", torch)
        elif self.library == "cupy":
            import cupy

            object.__setattr__(self, "native", cupy)

    def __reduce__(self):
        raise TypeError("an array-API backend belongs to one process: not pickled")

    def dtype(self, dtype):
        """The namespace's dtype for the NumPy dtype ``dtype``."""
        return getattr(self.xp, np.dtype(dtype).name)

    def numpy_dtype(self, dtype):
        """The NumPy dtype of the namespace's floating dtype ``dtype``."""
        return _numpy_dtype(self.xp, dtype)

    # products and element-wise operations into buffers
    def matmul(self, A, B, out):
        if self.library != "generic":
            return self.native.matmul(A, B, out=out)
        out[...] = A @ B
        return out

    def matmul_t(self, A, B, out):
        return self.matmul(A.T, B, out)

    def sum_rows(self, A, out):
        if self.library == "torch":
            return self.native.sum(A, dim=0, out=out)
        if self.library == "cupy":
            return self.native.sum(A, axis=0, out=out)
        out[...] = self.xp.sum(A, axis=0)
        return out

    def _binary(self, name, a, b, out):
        if self.library != "generic":
            return getattr(self.native, name)(a, b, out=out)
        out[...] = getattr(self.xp, name)(a, b)
        return out

    def multiply(self, a, b, out):
        return self._binary("multiply", a, b, out)

    def subtract(self, a, b, out):
        return self._binary("subtract", a, b, out)

    def divide(self, a, b, out):
        return self._binary("divide", a, b, out)

    def sqrt(self, a, out):
        if self.library != "generic":
            return self.native.sqrt(a, out=out)
        out[...] = self.xp.sqrt(a)
        return out

    def axpy(self, a, x, y, buf):
        if self.library == "torch":
            return y.add_(x, alpha=a)
        y += a * x
        return y

    def take_rows(self, A, idx, out):
        if self.library == "torch":
            return self.native.index_select(A, 0, idx, out=out)
        if self.library == "cupy":
            return self.native.take(A, idx, axis=0, out=out)
        out[...] = self.xp.take(A, idx, axis=0)
        return out

    def einsum(self, spec, *operands, out=None):
        """``einsum`` of two operands: the library's own (PyTorch, CuPy), or a
        broadcast product summed over the contracted letters."""
        if self.library != "generic":
            result = self.native.einsum(spec, *operands)
        else:
            result = self._einsum(spec, *operands)
        if out is None:
            return result
        out[...] = result
        return out

    def _einsum(self, spec, a, b):
        xp = self.xp
        inputs, output = spec.replace(" ", "").split("->")
        left, right = inputs.split(",")
        letters = sorted(set(left + right), key=(left + right).index)

        def aligned(x, names):  # x's axes in ``letters`` order, 1 where absent
            order = [names.index(c) for c in letters if c in names]
            x = xp.permute_dims(x, tuple(order))
            shape = [x.shape[order.index(names.index(c))] if c in names else 1
                     for c in letters]  # fmt: skip
            return xp.reshape(x, tuple(shape))

        product = aligned(a, left) * aligned(b, right)
        summed = tuple(i for i, c in enumerate(letters) if c not in output)
        result = xp.sum(product, axis=summed) if summed else product
        kept = [c for c in letters if c in output]
        return xp.permute_dims(result, tuple(kept.index(c) for c in output))

    def scatter_add(self, target, idx, values):
        """``target[idx[i]] += values[i]``, repeats included: PyTorch's
        ``index_add_``, CuPy's ``scatter_add``, else a one-hot product."""
        if self.library == "torch":
            return target.index_add_(0, idx, values)
        if self.library == "cupy":
            import cupyx

            cupyx.scatter_add(target, idx, values)
            return target
        xp = self.xp
        rows = xp.arange(target.shape[0], device=self.device)
        onehot = xp.astype(idx[:, None] == rows[None, :], values.dtype)
        target += xp.matmul(xp.permute_dims(onehot, (1, 0)), values)
        return target

    def reshape(self, a, shape):
        return self.xp.reshape(a, tuple(shape))

    def permute(self, a, axes):
        return self.xp.permute_dims(a, tuple(axes))

    def concat(self, arrays, axis=0):
        return self.xp.concat(list(arrays), axis=axis)

    def astype(self, a, dtype):
        return self.xp.astype(a, self.dtype(dtype), copy=False)

    def result_dtype(self, *arrays):
        return self.numpy_dtype(self.xp.result_type(*arrays))

    def zeros(self, shape, dtype):
        return self.xp.zeros(shape, dtype=self.dtype(dtype), device=self.device)

    def quiet(self):
        """The device libraries raise no floating-point errors; a namespace
        computing with NumPy underneath (``array_api_strict``) would warn."""
        if self.library == "generic":
            return np.errstate(over="ignore", invalid="ignore", divide="ignore")
        return contextlib.nullcontext()

    # allocation and conversion
    def empty(self, shape, dtype):
        return self.xp.empty(shape, dtype=self.dtype(dtype), device=self.device)

    def zeros_like(self, a):
        return self.xp.zeros_like(a)

    def empty_like(self, a):
        return self.xp.empty_like(a)

    def copy(self, a):
        return self.xp.asarray(a, copy=True)

    def asarray(self, a):
        return self.xp.asarray(a, device=self.device)

    def indices(self, idx):
        return self.xp.asarray(np.asarray(idx, dtype=np.int64), device=self.device)

    def all_finite(self, a):
        return bool(self.xp.all(self.xp.isfinite(a)))

    def total(self, a):
        return float(self.xp.sum(a))

    # random numbers
    def mask_source(self, rng):
        """A device generator seeded from the fit's ``numpy.random.Generator``."""
        seed = int(rng.integers(2**63 - 1))
        if self.library == "torch":
            gen = self.native.Generator(device=self.device)
            gen.manual_seed(seed)
            return gen
        if self.library == "cupy":
            return self.native.random.default_rng(seed)
        return np.random.default_rng(seed)

    def draw_mask(self, source, shape, rate, dtype):
        dt = self.dtype(dtype)
        if self.library == "torch":
            U = self.native.rand(shape, generator=source, dtype=dt, device=self.device)
        elif self.library == "cupy":
            U = source.random(shape, dtype=np.dtype(dtype))
        else:
            U = self.asarray(source.random(shape, dtype=np.dtype(dtype)))
        keep = self.xp.astype(U >= rate, dt)
        return keep * (1.0 / (1.0 - rate))

    def __repr__(self):
        return f"ArrayAPIBackend({self.xp.__name__}, {self.device!r})"
