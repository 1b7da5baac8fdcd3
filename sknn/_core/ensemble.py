"""An efficient ensemble of ``k`` networks sharing their hidden layers.

After :class:`EnsembleExpand` every batch holds ``k`` copies of its rows, one
per member, each multiplied by that member's own input scaling (TabM-mini,
Gorishniy et al., 2024: a BatchEnsemble adapter on the input only).  The shared
hidden layers then process all ``k * n`` rows in one product, and
:class:`MemberHead` gives each member its own output weights.  The network
trains on the mean of the members' losses and predicts the mean of their
outputs (probabilities for classifiers), see ``Network.members``.

Rows are member-major: rows ``m * n .. (m + 1) * n - 1`` belong to member
``m``.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from .backend import NUMPY
from .layers import (
    Constant,
    Dense,
    Layer,
    Normal,
    ParamSpec,
    RandomSigns,
    predict_matmul,
)

__all__ = ["EnsembleExpand", "MemberHead"]


class EnsembleExpand(Layer):
    """``k`` copies of the batch, copy ``m`` scaled column-wise by ``r_m``.

    Parameters
    ----------
    k : int
        Number of members (the layer's ``expansion``).
    init : {'signs', 'ones'}
        ``r_m`` starts as random signs (members differ from the first step)
        or as ones.
    """

    def __init__(self, k, init="signs"):
        self.k = self.expansion = int(k)
        if init not in ("signs", "ones"):
            raise ValueError(f"unknown init {init!r}")
        self.init = init

    def build(self, n_in, dtype):
        self.n_in = self.n_out = int(n_in)
        self.dtype = np.dtype(dtype)
        return self.n_out

    def params(self):
        init = RandomSigns() if self.init == "signs" else Constant(1.0)
        return [ParamSpec("r", (self.k, self.n_in), False, init)]

    def workspace(self, capacity, need_input_grad, backend=NUMPY):
        out = backend.empty((self.k * capacity, self.n_in), self.dtype)
        return SimpleNamespace(out=out, A_in=None)

    def forward(self, A, P, buf, n, backend):
        (r,) = P
        out = buf.out[: self.k * n, :]
        members = backend.reshape(out, (self.k, n, self.n_in))
        backend.multiply(A[None, ...], r[:, None, :], members)
        buf.A_in = A
        return out

    def backward(self, dA, P, G, buf, n, need_input_grad, backend):
        (r,) = P
        (gr,) = G
        D = backend.reshape(dA, (self.k, n, self.n_in))
        backend.einsum("knd,nd->kd", D, buf.A_in, out=gr)
        if not need_input_grad:
            return None
        return backend.einsum("knd,kd->nd", D, r)

    def predict(self, A, P, backend):
        (r,) = P
        if backend.host:
            A = np.asarray(A)
        out = A[None, ...] * r[:, None, :]
        return backend.reshape(out, (self.k * A.shape[0], self.n_in))


class MemberHead(Dense):
    """The network's last layer with one weight matrix per member.

    ``W`` has shape ``(k, n_in, units)``; the output bias is shared by the
    members (the output kernels add one bias row to every row).

    Parameters
    ----------
    k : int
    units : int
    """

    def __init__(self, k, units):
        super().__init__(units, None)
        self.k = int(k)

    def build(self, n_in, dtype):
        n_out = super().build(n_in, dtype)
        # a Python float holding the dtype's value: any array namespace takes it
        self.scale = float(self.dtype.type(1.0 / np.sqrt(self.n_in)))
        return n_out

    def params(self):
        return [
            ParamSpec(
                "W",
                (self.k, self.n_in, self.n_out),
                True,
                Normal(1.0),
            ),
            ParamSpec("b", (self.n_out,), False, Constant(0.0)),
        ]

    def _members(self, A, backend):
        if backend.host:
            A = np.asarray(A)
        return backend.reshape(A, (self.k, -1, self.n_in))

    def linear(self, A, W, buf, n, backend):
        rows = A.shape[0]
        Z = buf.Z[:rows, :]
        out = backend.reshape(Z, (self.k, -1, self.n_out))
        backend.matmul(self._members(A, backend), W, out)
        Z *= self.scale
        buf.A_in = A
        return Z

    def backward(self, dA, P, G, buf, n, need_input_grad, backend, bias_done=False):
        W, _ = P
        gW, gb = G
        permute = backend.permute
        D = backend.reshape(dA, (self.k, -1, self.n_out))
        backend.matmul(permute(self._members(buf.A_in, backend), (0, 2, 1)), D, gW)
        gW *= self.scale
        if not bias_done:
            backend.sum_rows(dA, gb)
        if not need_input_grad:
            return None
        dX = buf.dX[: dA.shape[0], :]
        out = backend.reshape(dX, (self.k, -1, self.n_in))
        backend.matmul(D, permute(W, (0, 2, 1)), out)
        dX *= self.scale
        return dX

    def predict(self, A, P, backend):
        W, b = P
        Z = predict_matmul(self._members(A, backend), W, backend)
        Z = backend.reshape(Z, (-1, self.n_out))
        Z *= self.scale
        Z += b
        return Z
