"""A fully connected network whose parameters live in one flat vector.

Layout of the flat parameter vector (and of the gradient vector, which
mirrors it)::

    [ W_0.ravel(), W_1.ravel(), ..., W_{L-1}.ravel(), b_0, b_1, ..., b_{L-1} ]

``W_i`` has shape ``(units[i], units[i + 1])`` and is stored row-major, so a
reshaped slice of the vector is a contiguous view that matrix products can
write into directly.  All weights come first, so the L2 penalty and weight
decay act on one leading slice ``params[:n_coefs]``.

The training forward/backward pass works in preallocated per-batch buffers
(a :class:`Workspace`); prediction (:meth:`Network.predict`) allocates its own
arrays so that it can run from many threads at once.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from . import _fused
from ._inplace import axpy
from .activations import ACTIVATIONS, LEAKY_RELU_SLOPE, OUTPUT_ACTIVATIONS
from .losses import LOSSES, _eps

__all__ = ["Network", "Workspace"]


class Network:
    """Dense feed-forward network description and its passes.

    Parameters
    ----------
    layer_units : sequence of int
        ``[n_features, *hidden_layer_sizes, n_outputs]``.
    activation : str
        Hidden activation, a key of ``ACTIVATIONS``.
    loss : str
        A key of ``LOSSES``; fixes the output activation.
    dtype : numpy dtype
        Floating dtype of parameters and buffers.
    dropout : sequence of float or None
        One dropout rate per hidden layer (``len(layer_units) - 2``); None or
        all zeros disables dropout.

    Attributes
    ----------
    n_coefs : int
        Number of weights (the leading slice of the parameter vector).
    n_params : int
        Length of the flat parameter vector.
    """

    def __init__(self, layer_units, activation, loss, dtype=np.float64, dropout=None):
        self.layer_units = [int(u) for u in layer_units]
        self.n_layers = len(self.layer_units)
        self.activation = ACTIVATIONS[activation]
        self.loss = LOSSES[loss]
        self.out_activation = OUTPUT_ACTIVATIONS[self.loss.out_activation]
        self.dtype = np.dtype(dtype)
        n_hidden = self.n_layers - 2
        if dropout is None:
            dropout = [0.0] * n_hidden
        self.dropout = [float(r) for r in dropout]
        if len(self.dropout) != n_hidden:
            raise ValueError(
                f"dropout needs one rate per hidden layer ({n_hidden}), "
                f"got {len(self.dropout)}."
            )
        shapes = list(zip(self.layer_units[:-1], self.layer_units[1:]))
        self.coef_shapes = shapes
        self._coef_slices = []
        start = 0
        for fan_in, fan_out in shapes:
            self._coef_slices.append(slice(start, start + fan_in * fan_out))
            start += fan_in * fan_out
        self.n_coefs = start
        self._intercept_slices = []
        for _, fan_out in shapes:
            self._intercept_slices.append(slice(start, start + fan_out))
            start += fan_out
        self.n_params = start
        # fused kernels for this activation and loss (None where NumPy does
        # the work) and the dtype-typed constants they take; whether they run
        # is decided per call, by _fused.enabled()
        self._kernels = (
            _fused.BIAS_FORWARD.get(self.activation.name),
            _fused.BACKWARD.get(self.activation.name),
            _fused.OUTPUT.get(self.loss.name),
        )
        self._one = self.dtype.type(1.0)
        self._slope = self.dtype.type(LEAKY_RELU_SLOPE)
        self._eps = self.dtype.type(_eps(self.dtype))

    # ------------------------------------------------------------ parameters
    def unpack(self, flat):
        """Per-layer weight and bias views into a flat vector.

        Parameters
        ----------
        flat : ndarray of shape (n_params,)

        Returns
        -------
        coefs : list of ndarray
            ``coefs[i]`` of shape ``(units[i], units[i + 1])``, views of
            ``flat``.
        intercepts : list of ndarray
            ``intercepts[i]`` of shape ``(units[i + 1],)``, views of ``flat``.
        """
        coefs = [
            flat[s].reshape(shape)
            for s, shape in zip(self._coef_slices, self.coef_shapes)
        ]
        intercepts = [flat[s] for s in self._intercept_slices]
        return coefs, intercepts

    def pack(self, coefs, intercepts):
        """Flat vector (a new array) from per-layer weights and biases."""
        flat = np.empty(self.n_params, dtype=self.dtype)
        W, b = self.unpack(flat)
        for dst, src in zip(W + b, list(coefs) + list(intercepts)):
            dst[...] = src
        return flat

    def init_params(self, rng):
        """Glorot-uniform initial parameters.

        Each weight and bias of layer ``i`` is drawn from
        ``U(-r, r)`` with ``r = sqrt(f / (fan_in + fan_out))``, ``f = 2`` for
        the logistic activation and ``f = 6`` otherwise (Glorot & Bengio,
        2010), as scikit-learn's MLP does.

        Parameters
        ----------
        rng : numpy.random.Generator

        Returns
        -------
        ndarray of shape (n_params,)
        """
        factor = 2.0 if self.activation.name == "logistic" else 6.0
        flat = np.empty(self.n_params, dtype=self.dtype)
        W, b = self.unpack(flat)
        for i, (fan_in, fan_out) in enumerate(self.coef_shapes):
            bound = np.sqrt(factor / (fan_in + fan_out))
            W[i][...] = rng.uniform(-bound, bound, (fan_in, fan_out))
            b[i][...] = rng.uniform(-bound, bound, fan_out)
        return flat

    def l2_penalty(self, params):
        """``0.5 * sum of squared weights`` (biases excluded)."""
        w = params[: self.n_coefs]
        return 0.5 * float(w @ w)

    @staticmethod
    def batch_weight(n, sample_weight):
        """``S``, the weight of a batch of ``n`` rows: their sample weights'
        sum, or ``n`` without weights."""
        return float(n if sample_weight is None else sample_weight.sum())

    def l2_coef(self, alpha, n, sample_weight=None):
        """``alpha / S``: the L2 gradient of a batch is ``l2_coef * W``.

        Zero when the batch weighs nothing (its whole gradient is zero).
        """
        S = self.batch_weight(n, sample_weight)
        return alpha / S if S > 0 else 0.0

    # ------------------------------------------------------------ prediction
    def predict(self, params, X):
        """Output activations for ``X`` without dropout, in fresh arrays.

        Parameters
        ----------
        params : ndarray of shape (n_params,)
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_outputs)
        """
        W, b = self.unpack(params)
        fused_fwd = self._kernels[0] if _fused.enabled() else None
        A = X
        last = self.n_layers - 2
        for i in range(self.n_layers - 1):
            Z = A @ W[i]
            if sp.issparse(Z):  # pragma: no cover - scipy returns dense here
                Z = Z.toarray()
            Z = np.asarray(Z)
            if i < last and fused_fwd is not None:
                # bias and activation in one pass, bit-identical to NumPy's
                fused_fwd(Z, b[i], self._slope)
                A = Z
                continue
            Z += b[i]
            act = self.out_activation if i == last else self.activation
            A = act.forward(Z)
        return A

    # ------------------------------------------------------------ training
    def workspace(self, capacity):
        """Buffers for batches of up to ``capacity`` rows."""
        return Workspace(self, capacity)

    def draw_masks(self, rng, n_rows):
        """Inverted-dropout masks for a batch, drawn from ``rng``.

        Entry ``(j, k)`` of the mask of hidden layer ``i`` is
        ``1 / (1 - r_i)`` with probability ``1 - r_i`` and 0 otherwise, so the
        expected masked activation equals the unmasked one.

        Returns
        -------
        list of (ndarray or None)
            One ``(n_rows, units)`` mask per hidden layer; None where the rate
            is zero.
        """
        masks = []
        for rate, units in zip(self.dropout, self.layer_units[1:-1]):
            if rate == 0.0:
                masks.append(None)
                continue
            U = rng.random((n_rows, units), dtype=self.dtype)
            keep = U >= rate
            M = U  # reuse the draw's memory for the scaled mask
            M[...] = keep
            M *= 1.0 / (1.0 - rate)
            masks.append(M)
        return masks

    def loss_grad(
        self,
        params,
        X,
        Y,
        grad,
        *,
        sample_weight=None,
        alpha=0.0,
        masks=None,
        workspace=None,
        compute_loss=True,
        l2_grad=True,
    ):
        """Objective and its gradient on one batch, by backpropagation.

        The objective is ::

            L = sum_i s_i l(y_i, p_i) / S  +  alpha / (2 S) * ||W||^2

        with ``S = sum_i s_i`` (``n_samples`` without weights), the L2 penalty
        scaled as in scikit-learn.

        Parameters
        ----------
        params : ndarray of shape (n_params,)
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Y : ndarray of shape (n_samples, n_outputs)
            Targets in the parameters' dtype.
        grad : ndarray of shape (n_params,)
            Overwritten with ``dL/dparams``.
        sample_weight : ndarray of shape (n_samples,) or None
        alpha : float
            L2 penalty strength.
        masks : list of (ndarray or None) or None
            Dropout masks from :meth:`draw_masks` (None: no dropout).
        workspace : Workspace or None
            Preallocated buffers; a new one is made if None or too small.
        compute_loss : bool
            If False, skip the loss value and return None.
        l2_grad : bool
            If False, leave the L2 term ``l2_coef * W`` out of ``grad`` (the
            returned objective still includes the penalty): the training loop
            lets the optimizer step add it (``optimizers.L2Gradient``).

        Returns
        -------
        float or None
            The objective ``L``.
        """
        n = X.shape[0]
        S = self.batch_weight(n, sample_weight)
        if S <= 0:  # a batch whose samples all weigh zero contributes nothing
            grad[...] = 0
            return 0.0 if compute_loss else None
        if workspace is None or workspace.capacity < n:
            workspace = self.workspace(n)
        ws = workspace
        W, b, gW, gb = ws.views(params, grad)
        L = self.n_layers - 1  # number of weight layers
        act = self.activation
        keep_Z = act.needs_input
        sparse = sp.issparse(X)
        # compiled kernels (Numba) fusing bias + activation, derivative + bias
        # gradient, and output + loss + delta; None where NumPy does the work
        fused_fwd = fused_bwd = fused_out = None
        if _fused.enabled():
            fused_fwd, fused_bwd, fused_out = self._kernels

        # forward
        inputs = [X]  # input to layer i (after dropout)
        outs = []  # activation of layer i + 1 (before dropout)
        Zs = []
        for i in range(L):
            Zb = ws.Z[i][:n]
            if i == 0 and sparse:
                Zb[...] = X @ W[0]
            else:
                np.matmul(inputs[i], W[i], out=Zb)
            if i == L - 1:
                if fused_out is not None:
                    break  # output, loss and delta below, in one kernel
                Zb += b[i]
                P = self.out_activation.forward(Zb)
                outs.append(P)
                break
            Zs.append(Zb if keep_Z else None)
            if fused_fwd is not None:
                fused_fwd(Zb, b[i], self._slope)
                A = Zb
            else:
                Zb += b[i]
                A = act.forward(Zb)  # in place, except for activations keeping Z
            outs.append(A)
            M = None if masks is None else masks[i]
            if M is None:
                inputs.append(A)
            else:
                Ad = ws.dropped[i][:n]
                np.multiply(A, M, out=Ad)
                inputs.append(Ad)

        # backward: dL/dZ of the output layer is s_i (P - Y) / S for the
        # canonical links; scaling here makes every later gradient final
        loss = None
        D = ws.D[L - 1][:n]
        bias_done = fused_out is not None  # whether gb[i] is already filled
        if fused_out is not None:
            sw = ws.no_weights if sample_weight is None else sample_weight
            inv_S = self.dtype.type(1.0 / S)
            total = fused_out(Zb, b[L - 1], Y, sw, inv_S, D, gb[L - 1], self._eps)
            if compute_loss:
                loss = total / S
        else:
            if compute_loss:
                loss = self.loss.value(Y, P, sample_weight)
            np.subtract(P, Y, out=D)
            if sample_weight is None:
                D *= 1.0 / S
            else:
                D *= (sample_weight * (1.0 / S))[:, None]
        for i in range(L - 1, -1, -1):
            if i == 0 and sparse:
                gW[0][...] = X.T @ D
            else:
                np.matmul(inputs[i].T, D, out=gW[i])
            if not bias_done:
                np.add.reduce(D, axis=0, out=gb[i])
            if i == 0:
                break
            Dprev = ws.D[i - 1][:n]
            np.matmul(D, W[i].T, out=Dprev)
            M = None if masks is None else masks[i - 1]
            if M is not None:
                Dprev *= M
            bias_done = fused_bwd is not None
            if bias_done:
                fused_bwd(outs[i - 1], Dprev, gb[i - 1], self._one, self._slope)
            else:
                act.backward(outs[i - 1], Dprev, Zs[i - 1])
            D = Dprev

        if alpha:
            if l2_grad:
                w, gw = params[: self.n_coefs], grad[: self.n_coefs]
                axpy(alpha / S, w, gw, ws.coef_buf)
            if compute_loss:
                loss += alpha * self.l2_penalty(params) / S
        return loss


class Workspace:
    """Preallocated per-batch buffers of a :class:`Network`.

    Parameters
    ----------
    net : Network
    capacity : int
        Largest batch the buffers hold; smaller batches use leading-row
        views, which stay C-contiguous.
    """

    def __init__(self, net, capacity):
        self.net = net
        self.capacity = int(capacity)
        self._bound = None
        self.coef_buf = np.empty(net.n_coefs, dtype=net.dtype)
        self.no_weights = np.empty(0, dtype=net.dtype)  # "unit weights" for kernels
        units = net.layer_units[1:]
        dt = net.dtype
        self.Z = [np.empty((capacity, u), dtype=dt) for u in units]
        self.D = [np.empty((capacity, u), dtype=dt) for u in units]
        self.dropped = [
            np.empty((capacity, u), dtype=dt) if rate > 0 else None
            for rate, u in zip(net.dropout, units[:-1])
        ]

    def views(self, params, grad):
        """Per-layer views of ``params`` and ``grad``, cached for reuse.

        Training passes the same two arrays on every batch, so the views are
        made once instead of once per batch.
        """
        bound = self._bound
        if bound is None or bound[0] is not params or bound[1] is not grad:
            W, b = self.net.unpack(params)
            gW, gb = self.net.unpack(grad)
            bound = self._bound = (params, grad, (W, b, gW, gb))
        return bound[2]
