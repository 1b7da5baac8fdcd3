"""Input layers for tables: a learnable per-feature scale, periodic and
piecewise-linear numerical embeddings, and categorical embeddings.

They follow the layer protocol of :mod:`.layers` and read a table encoded as
one float matrix, whose columns are, left to right: the numeric features,
then any other dense columns (missing-value flags, one-hot levels), then the
integer codes of the categorical columns that get learned embeddings (see
``sknn._tabular_encode``).

A learning-rate multiplier ``c`` is written as a parametrization: the layer
stores ``theta / c`` and uses ``c * stored``, so Adam-type optimizers, whose
step on each entry is about the learning rate whatever the gradient's scale,
move ``theta`` ``c`` times faster.  No optimizer needs to know about it.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from .backend import NUMPY
from .layers import Constant, Layer, Normal, ParamSpec, Uniform, predict_matmul

__all__ = [
    "CategoricalEmbedding",
    "FeatureScale",
    "PeriodicEmbedding",
    "PiecewiseLinearEmbedding",
]

_TWO_PI = 2.0 * np.pi


class FeatureScale(Layer):
    """``A * s``, one learnable scale per column, starting at 1.

    Parameters
    ----------
    lr_mult : float
        Learning-rate multiplier of the scales (RealMLP uses 6: the scales
        act as a fast, learned feature selection).
    """

    def __init__(self, lr_mult=1.0):
        self.lr_mult = float(lr_mult)

    def build(self, n_in, dtype):
        self.n_in = self.n_out = int(n_in)
        self.dtype = np.dtype(dtype)
        return self.n_out

    def params(self):
        return [ParamSpec("s", (self.n_in,), False, Constant(1.0 / self.lr_mult))]

    def workspace(self, capacity, need_input_grad, backend=NUMPY):
        return SimpleNamespace(
            out=backend.empty((capacity, self.n_in), self.dtype), A_in=None
        )

    def _scale(self, P):
        return P[0] * self.lr_mult

    def forward(self, A, P, buf, n, backend):
        buf.A_in = A
        return backend.multiply(A, self._scale(P), buf.out[:n, :])

    def backward(self, dA, P, G, buf, n, need_input_grad, backend):
        (gs,) = G
        backend.sum_rows(dA * buf.A_in, gs)
        gs *= self.lr_mult
        if not need_input_grad:
            return None
        dA *= self._scale(P)
        return dA

    def predict(self, A, P, backend):
        return A * self._scale(P)


class _BasisEmbedding(Layer):
    """Per-feature embeddings of the numeric columns, kept beside them.

    Each of the first ``p`` columns ``x_j`` is expanded into ``m`` basis
    values ``h_j = basis(x_j)`` and mapped to ``dim`` outputs by its own
    linear map, ``e_j = h_j @ V_j + c_j``.  The output is ``[x_1..x_p,
    e_1..e_p, other columns]``: the numeric columns pass through,
    DenseNet-style, so the embedding only adds.  Subclasses define the basis
    (:meth:`_basis`, :meth:`_basis_backward`) and its parameters, which sit
    between ``V`` and ``c`` in :meth:`params`.
    """

    def _setup(self, n_numeric, n_basis, dim):
        self.p = int(n_numeric)
        self.m = int(n_basis)
        self.d = int(dim)

    def build(self, n_in, dtype):
        if not 0 < self.p <= n_in:
            raise ValueError(f"n_numeric={self.p} must be in [1, {n_in}]")
        self.n_in = int(n_in)
        self.n_out = self.n_in + self.p * self.d
        self.dtype = np.dtype(dtype)
        return self.n_out

    def _basis_params(self):
        return []

    def params(self):
        p, m, d = self.p, self.m, self.d
        bound = 1.0 / np.sqrt(m)
        return [
            ParamSpec("V", (p, m, d), True, Uniform(-bound, bound)),
            *self._basis_params(),
            ParamSpec("c", (p, d), False, Constant(0.0)),
        ]

    def workspace(self, capacity, need_input_grad, backend=NUMPY):
        dX = None
        if need_input_grad:
            dX = backend.empty((capacity, self.n_in), self.dtype)
        return SimpleNamespace(
            out=backend.empty((capacity, self.n_out), self.dtype),
            dX=dX,
            H=None,
            U=None,
            X=None,
        )

    def _basis(self, X, P, backend):
        """``(U, H)``: what the backward pass keeps and the basis values
        ``H`` of shape ``(p, n, m)``, from the numeric columns ``X``."""
        raise NotImplementedError

    def _basis_backward(self, dH, X, U, P, G, need_input_grad, backend):
        """Fill the basis parameters' gradients from ``dH = dL/dH`` (which
        may be overwritten) and return ``dL/dX`` of shape ``(n, p)`` (None
        when ``need_input_grad`` is False)."""
        raise NotImplementedError

    def _embed(self, A, P, out, backend, matmul=None):
        """Fill ``out`` (n, n_out) and return ``(X, U, H)``
        (``matmul(H, V, backend)``: the evaluation's product, else
        ``xp.matmul``)."""
        V, c = P[0], P[-1]
        p, d, n = self.p, self.d, A.shape[0]
        xp, reshape, permute = backend.xp, backend.reshape, backend.permute
        X = A[:, :p]
        U, H = self._basis(X, P, backend)
        E = xp.matmul(H, V) if matmul is None else matmul(H, V, backend)  # (p, n, d)
        E += c[:, None, :]
        out[:, :p] = X
        reshape(out[:, p : p + p * d], (n, p, d))[...] = permute(E, (1, 0, 2))
        out[:, p + p * d :] = A[:, p:]
        return X, U, H

    def forward(self, A, P, buf, n, backend):
        out = buf.out[:n, :]
        buf.X, buf.U, buf.H = self._embed(A, P, out, backend)
        return out

    def backward(self, dA, P, G, buf, n, need_input_grad, backend):
        V, gV, gc = P[0], G[0], G[-1]
        p, d = self.p, self.d
        xp, reshape, permute = backend.xp, backend.reshape, backend.permute
        dE = permute(reshape(dA[:, p : p + p * d], (n, p, d)), (1, 0, 2))  # (p, n, d)
        backend.matmul(permute(buf.H, (0, 2, 1)), dE, gV)
        backend.sum_rows(permute(dE, (1, 0, 2)), gc)
        dH = xp.matmul(dE, permute(V, (0, 2, 1)))  # (p, n, m)
        dXp = self._basis_backward(dH, buf.X, buf.U, P, G, need_input_grad, backend)
        if not need_input_grad:
            return None
        dX = buf.dX[:n, :]
        dX[:, :p] = dA[:, :p]
        dX[:, :p] += dXp
        dX[:, p:] = dA[:, p + p * d :]
        return dX

    def predict(self, A, P, backend):
        out = backend.empty((A.shape[0], self.n_out), backend.result_dtype(A, P[0]))
        self._embed(A, P, out, backend, predict_matmul)
        return out


class PeriodicEmbedding(_BasisEmbedding):
    """Periodic embeddings of the numeric columns, kept beside the columns.

    For each of the first ``n_numeric`` columns ``x_j``::

        h_j = cos(2 pi (x_j w_j + b_j))        # m frequencies, m phases
        e_j = h_j @ V_j + c_j                  # dim outputs

    and the output is ``[x_1..x_p, e_1..e_p, other columns]`` (the numeric
    columns pass through, DenseNet-style, so the embedding only adds).
    Frequencies start from ``N(0, sigma^2)`` (Gorishniy et al., 2022), phases
    from ``U(-1/2, 1/2)``.

    Parameters
    ----------
    n_numeric : int
        Number of leading numeric columns to embed.
    n_frequencies : int
        ``m``.
    dim : int
        Width of each feature's embedding.
    sigma : float
        Standard deviation of the initial frequencies.
    """

    def __init__(self, n_numeric, n_frequencies=16, dim=3, sigma=0.1):
        self._setup(n_numeric, n_frequencies, dim)
        self.sigma = float(sigma)

    def _basis_params(self):
        p, m = self.p, self.m
        return [
            ParamSpec("w", (p, m), False, Normal(self.sigma)),
            ParamSpec("b", (p, m), False, Uniform(-0.5, 0.5)),
        ]

    def _basis(self, X, P, backend):
        _, w, b, _ = P
        U = X.T[:, :, None] * w[:, None, :]  # 2 pi (x w + b), (p, n, m)
        U += b[:, None, :]
        U *= _TWO_PI
        return U, backend.xp.cos(U)

    def _basis_backward(self, dH, X, U, P, G, need_input_grad, backend):
        _, w, _, _ = P
        _, gw, gb, _ = G
        dH *= backend.xp.sin(U)
        dH *= -_TWO_PI  # dL/d(x w + b)
        gb[...] = backend.xp.sum(dH, axis=1)
        backend.einsum("pnm,np->pm", dH, X, out=gw)
        if not need_input_grad:
            return None
        return backend.einsum("pnm,pm->np", dH, w)


class PiecewiseLinearEmbedding(_BasisEmbedding):
    """Piecewise-linear embeddings of the numeric columns (Gorishniy et al.,
    2022), kept beside the columns.

    Column ``j`` comes with increasing bin edges ``t_0 < ... < t_T`` (from
    the training data's quantiles).  Its basis value for bin ``k`` is how
    far ``x`` has crossed that bin::

        h_jk = clip((x_j - t_{k-1}) / (t_k - t_{k-1}), 0, 1)
        e_j = h_j @ V_j + c_j                  # dim outputs

    so each output is a learned piecewise-linear function of ``x_j`` with a
    knot at every edge: a step at a threshold costs one bin's slope, which a
    smooth network would have to build from many units.  Values beyond the
    first or last edge get the end bins' constant values (the column itself
    passes through, linearly).  Columns with fewer edges than the widest are
    padded with empty bins, which stay 0 and get no gradient.

    Parameters
    ----------
    edges : sequence of 1-D arrays
        The edges of each of the first ``len(edges)`` columns, increasing;
        fewer than two edges leave a column with empty bins only.
    dim : int
        Width of each feature's embedding.
    """

    def __init__(self, edges, dim=3):
        edges = [np.asarray(e, dtype=np.float64).ravel() for e in edges]
        for e in edges:
            if np.any(np.diff(e) <= 0) or not np.all(np.isfinite(e)):
                raise ValueError("bin edges must be finite and increasing")
        self.edges = edges
        n_bins = max([len(e) - 1 for e in edges] + [1])
        self._setup(len(edges), n_bins, dim)
        lo = np.zeros((self.p, self.m))
        inv = np.zeros((self.p, self.m))
        for j, e in enumerate(edges):
            k = max(len(e) - 1, 0)
            lo[j, :k] = e[:-1]
            inv[j, :k] = 1.0 / np.diff(e)
        self._lo, self._inv = lo, inv

    def build(self, n_in, dtype):
        n_out = super().build(n_in, dtype)
        self._lo_host = self._lo.astype(self.dtype)
        self._inv_host = self._inv.astype(self.dtype)
        return n_out

    def _constants(self, backend):
        if backend.host:
            return self._lo_host, self._inv_host
        return backend.asarray(self._lo_host), backend.asarray(self._inv_host)

    def _basis(self, X, P, backend):
        lo, inv = self._constants(backend)
        xp = backend.xp
        U = X.T[:, :, None] - lo[:, None, :]  # (p, n, m)
        U *= inv[:, None, :]
        return U, xp.minimum(xp.maximum(U, 0.0), 1.0)

    def _basis_backward(self, dH, X, U, P, G, need_input_grad, backend):
        if not need_input_grad:
            return None
        _, inv = self._constants(backend)
        xp = backend.xp
        inside = (U > 0.0) & (U < 1.0)
        dH = xp.where(inside, dH, 0.0)
        return backend.einsum("pnm,pm->np", dH, inv)


class CategoricalEmbedding(Layer):
    """Learned vectors for the categorical columns given as integer codes.

    The last ``len(cardinalities)`` input columns hold codes (as floats):
    column ``k`` takes values in ``0 .. cardinalities[k] - 1``, 0 being the
    "unknown" slot that categories unseen in ``fit`` map to.  Each code is
    replaced by its row of that column's table, so the output is the other
    columns followed by ``dim`` values per categorical column.

    Parameters
    ----------
    cardinalities : sequence of int
        Table sizes, unknown slot included.
    dim : int
        Width of each vector.
    """

    def __init__(self, cardinalities, dim=8):
        self.cards = [int(c) for c in cardinalities]
        self.dim = int(dim)

    def build(self, n_in, dtype):
        self.q = len(self.cards)
        if not 0 < self.q <= n_in:
            raise ValueError(f"{self.q} code columns do not fit in {n_in} inputs")
        self.n_in = int(n_in)
        self.start = self.n_in - self.q
        self.n_out = self.start + self.q * self.dim
        self.dtype = np.dtype(dtype)
        self._cards = np.array(self.cards, dtype=np.intp)
        return self.n_out

    def params(self):
        return [
            ParamSpec(f"E{k}", (card, self.dim), False, Normal(1.0))
            for k, card in enumerate(self.cards)
        ]

    def workspace(self, capacity, need_input_grad, backend=NUMPY):
        dX = None
        if need_input_grad:  # the code columns get no gradient: zero for good
            dX = backend.zeros((capacity, self.n_in), self.dtype)
        return SimpleNamespace(
            out=backend.empty((capacity, self.n_out), self.dtype),
            dX=dX,
            codes=None,
        )

    def _codes(self, A, backend):
        codes = backend.astype(A[:, self.start :], np.intp)
        cards = self._cards if backend.host else backend.asarray(self._cards)
        # out of range: the unknown slot
        return backend.xp.where((codes < 0) | (codes >= cards), 0, codes)

    def _embed(self, A, P, out, backend):
        codes = self._codes(A, backend)
        s, e = self.start, self.dim
        out[:, :s] = A[:, :s]
        for k, E in enumerate(P):
            rows = backend.xp.take(E, codes[:, k], axis=0)
            out[:, s + k * e : s + (k + 1) * e] = rows
        return codes

    def forward(self, A, P, buf, n, backend):
        out = buf.out[:n, :]
        buf.codes = self._embed(A, P, out, backend)
        return out

    def backward(self, dA, P, G, buf, n, need_input_grad, backend):
        s, e = self.start, self.dim
        for k, gE in enumerate(G):
            gE[...] = 0
            backend.scatter_add(gE, buf.codes[:, k], dA[:, s + k * e : s + (k + 1) * e])
        if not need_input_grad:
            return None
        dX = buf.dX[:n, :]
        dX[:, :s] = dA[:, :s]
        return dX

    def predict(self, A, P, backend):
        out = backend.empty((A.shape[0], self.n_out), backend.result_dtype(A, P[0]))
        self._embed(A, P, out, backend)
        return out
