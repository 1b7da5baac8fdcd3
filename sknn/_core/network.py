"""A network: a sequence of layers over one flat parameter vector.

The network owns the parameter vector (and the gradient vector, which mirrors
it) and gives each layer views of its slices.  Decayed parameters come first,
in layer order, then the others, so the L2 penalty and weight decay act on one
leading slice ``params[:n_coefs]``.  For scikit-learn's MLP (dense layers,
each with a weight matrix ``W_i`` of shape ``(units[i], units[i + 1])`` and a
bias ``b_i``) that is::

    [ W_0.ravel(), W_1.ravel(), ..., W_{L-1}.ravel(), b_0, b_1, ..., b_{L-1} ]

Each ``W_i`` is a row-major reshaped slice, a contiguous view that matrix
products write into directly.

The layers are :mod:`.layers` objects; the last one is a linear
:class:`~.layers.Dense` whose output activation and loss the network applies
together (for the canonical link pairs the output delta is ``P - Y``; the
other losses write theirs, see :mod:`.losses`).  Training
(:meth:`Network.loss_grad`) runs the layers over preallocated per-batch
buffers (a :class:`Workspace`); evaluation (:meth:`Network.predict`)
allocates its own arrays and drops nothing, so it can run from many threads
at once.
"""

from __future__ import annotations

import numpy as np

from .activations import ACTIVATIONS, OUTPUT_ACTIVATIONS
from .backend import NUMPY, current
from .layers import Dense, Dropout
from .losses import LOSSES, Loss, _eps
from .registry import lookup

__all__ = ["Network", "Workspace"]


class Network:
    """scikit-learn's MLP as layers: dense + activation blocks with dropout.

    Parameters
    ----------
    layer_units : sequence of int
        ``[n_features, *hidden_layer_sizes, n_outputs]``.
    activation : str
        Hidden activation, a key of ``ACTIVATIONS``.
    loss : str or Loss
        A key of ``LOSSES`` (or a bound loss's name,
        ``'quantile(alpha=0.9)'``), or a :class:`~.losses.Loss`; fixes the
        output activation.
    dtype : numpy dtype
        Floating dtype of parameters and buffers.
    dropout : sequence of float or None
        One dropout rate per hidden layer (``len(layer_units) - 2``); None or
        all zeros disables dropout.

    Attributes
    ----------
    layers : list of Layer
    n_coefs : int
        Number of decayed parameters (the leading slice of the vector).
    n_params : int
        Length of the flat parameter vector.
    coef_shapes : list of tuple
        Shapes of the dense layers' weight matrices.

    See Also
    --------
    Network.from_layers : A network of any layers.
    """

    def __init__(self, layer_units, activation, loss, dtype=np.float64, dropout=None):
        hidden = lookup(ACTIVATIONS, activation, "activation", "Network")
        units = [int(u) for u in layer_units]
        n_hidden = len(units) - 2
        if dropout is None:
            dropout = [0.0] * n_hidden
        dropout = [float(r) for r in dropout]
        if len(dropout) != n_hidden:
            raise ValueError(
                f"dropout needs one rate per hidden layer ({n_hidden}), "
                f"got {len(dropout)}."
            )
        # scikit-learn's Glorot factor follows the hidden activation, for the
        # output layer too
        factor = 2.0 if activation == "logistic" else 6.0
        layers, slots = [], []
        for width, rate in zip(units[1:-1], dropout):
            layers.append(Dense(width, activation, factor))
            # a rate of 0 is no layer at all (a mask slot that stays None)
            slots.append(Dropout(rate) if rate > 0 else None)
            if rate > 0:
                layers.append(slots[-1])
        layers.append(Dense(units[-1], None, factor))
        self._setup(units[0], layers, loss, dtype, slots)
        self.dropout = dropout
        self.activation = hidden

    @classmethod
    def from_layers(cls, n_features, layers, loss, dtype=np.float64):
        """A network of any :mod:`.layers` objects.

        Parameters
        ----------
        n_features : int
        layers : list of Layer
            The last one must be a linear ``Dense`` (``activation=None``): the
            loss applies the output activation.
        loss : str or Loss
            A key of ``LOSSES``, a bound loss's name or a
            :class:`~.losses.Loss` (a parameterised one: ``LOSSES['quantile']
            .bind(alpha=0.9)``).
        dtype : numpy dtype
        """
        net = cls.__new__(cls)
        layers = list(layers)
        slots = [layer for layer in layers if isinstance(layer, Dropout)]
        net._setup(int(n_features), layers, loss, dtype, slots)
        net.activation = None
        return net

    def _setup(self, n_features, layers, loss, dtype, mask_slots):
        head = layers[-1]
        if not isinstance(head, Dense) or head.activation is not None:
            raise ValueError("a network ends with a linear Dense layer")
        self.layers = layers
        if isinstance(loss, Loss):
            self.loss = loss
        else:
            self.loss = lookup(LOSSES, loss, "loss", "Network")
        self.out_activation = lookup(
            OUTPUT_ACTIVATIONS, self.loss.out_activation, "out_activation", "Loss"
        )
        self.dtype = np.dtype(dtype)
        width = n_features
        # rows multiply by a layer's ``expansion`` (an ensemble's members):
        # ``_row_factor[k]`` is the multiple of the batch that layer k sees
        self._row_factor = []
        factor = 1
        for layer in layers:
            width = layer.build(width, self.dtype)
            self._row_factor.append(factor)
            factor *= getattr(layer, "expansion", 1)
        self.members = factor
        self._dense = [layer for layer in layers if isinstance(layer, Dense)]
        # one mask per slot: for scikit-learn's MLP, one per hidden layer
        # (None where its rate is 0 and no Dropout layer exists)
        self._mask_slots = mask_slots
        factor = {id(layer): f for layer, f in zip(layers, self._row_factor)}
        self._mask_factors = [1 if d is None else factor[id(d)] for d in mask_slots]
        self.layer_units = [n_features] + [d.n_out for d in self._dense]
        self.n_layers = len(self.layer_units)
        self.coef_shapes = [(d.n_in, d.n_out) for d in self._dense]
        self.dropout = [0.0 if d is None else d.rate for d in mask_slots]
        # one slice of the flat vector per parameter, decayed ones first
        specs = [[spec for spec in layer.params()] for layer in layers]
        self._slices = [[None] * len(s) for s in specs]
        start = 0
        for decayed in (True, False):
            for k, layer_specs in enumerate(specs):
                for j, spec in enumerate(layer_specs):
                    if spec.decay is decayed:
                        self._slices[k][j] = (slice(start, start + spec.size), spec)
                        start += spec.size
            if decayed:
                self.n_coefs = start
        self.n_params = start
        self._eps = self.dtype.type(_eps(self.dtype))

    # ------------------------------------------------------------ parameters
    def layer_views(self, flat):
        """Per layer, the views of its parameters in ``flat`` (its order)."""
        if isinstance(flat, np.ndarray):
            return [
                [flat[s].reshape(spec.shape) for s, spec in sl] for sl in self._slices
            ]
        from .array_api import namespace_of  # an array-API vector: no methods

        reshape = namespace_of(flat).reshape
        return [[reshape(flat[s], spec.shape) for s, spec in sl] for sl in self._slices]

    def unpack(self, flat):
        """The dense layers' weight and bias views into a flat vector.

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
        views = self.layer_views(flat)
        dense = [v for layer, v in zip(self.layers, views) if isinstance(layer, Dense)]
        return [v[0] for v in dense], [v[1] for v in dense]

    def pack(self, coefs, intercepts, backend=NUMPY):
        """Flat vector (a new array of ``backend``) from the dense layers'
        weights and biases."""
        if any(
            layer.params() and not isinstance(layer, Dense) for layer in self.layers
        ):
            raise ValueError("pack needs a network whose parameters are all dense")
        flat = backend.empty(self.n_params, self.dtype)
        W, b = self.unpack(flat)
        for dst, src in zip(W + b, list(coefs) + list(intercepts)):
            dst[...] = src
        return flat

    def init_params(self, rng):
        """Initial parameters: each layer's, in layer order, drawn from ``rng``.

        scikit-learn's dense layers draw each weight and bias of layer ``i``
        from ``U(-r, r)`` with ``r = sqrt(f / (fan_in + fan_out))``, ``f = 2``
        for the logistic activation and ``f = 6`` otherwise (Glorot & Bengio,
        2010).

        Parameters
        ----------
        rng : numpy.random.Generator

        Returns
        -------
        ndarray of shape (n_params,)
        """
        flat = np.empty(self.n_params, dtype=self.dtype)
        for views, slices in zip(self.layer_views(flat), self._slices):
            for view, (_, spec) in zip(views, slices):
                view[...] = spec.init(rng, spec.shape)
        return flat

    def l2_penalty(self, params):
        """``0.5 * sum of squared decayed parameters`` (the dense weights)."""
        w = params[: self.n_coefs]
        return 0.5 * float(w @ w)

    @staticmethod
    def batch_weight(n, sample_weight, backend=NUMPY):
        """``S``, the weight of a batch of ``n`` rows: their sample weights'
        sum, or ``n`` without weights."""
        return float(n) if sample_weight is None else backend.total(sample_weight)

    def l2_coef(self, alpha, n, sample_weight=None, backend=NUMPY):
        """``alpha / S``: the L2 gradient of a batch is ``l2_coef * W``.

        Zero when the batch weighs nothing (its whole gradient is zero).
        """
        S = self.batch_weight(n, sample_weight, backend)
        return alpha / S if S > 0 else 0.0

    # ------------------------------------------------------------ evaluation
    def predict(self, params, X, backend=None):
        """Output activations for ``X`` without dropout, in fresh arrays.

        Parameters
        ----------
        params : ndarray of shape (n_params,)
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        backend : Backend or None
            The element-wise backend (None: :func:`~.backend.current`).

        Returns
        -------
        ndarray of shape (n_samples, n_outputs)
        """
        backend = current() if backend is None else backend
        A = X
        for layer, P in zip(self.layers, self.layer_views(params)):
            A = layer.predict(A, P, backend)
        out = backend.outputs[self.out_activation.name].forward(A)
        if self.members > 1:  # the mean of the members' outputs
            out = backend.reshape(out, (self.members, X.shape[0], -1))
            out = backend.xp.mean(out, axis=0)
        return out

    def data_init(self, params, X, rng):
        """Data-dependent initialisation of ``params``, in place.

        ``X`` (a sample of the training rows) runs through the layers in
        evaluation mode; each layer with a ``data_init(A, P, rng)`` method
        first sets its parameters from the input it receives.
        """
        A = X
        for layer, P in zip(self.layers, self.layer_views(params)):
            hook = getattr(layer, "data_init", None)
            if hook is not None:
                hook(A, P, rng)
            A = layer.predict(A, P, current())

    # ------------------------------------------------------------ training
    def workspace(self, capacity, backend=NUMPY):
        """Buffers for batches of up to ``capacity`` rows (``backend``'s
        arrays)."""
        return Workspace(self, capacity, backend)

    def draw_masks(self, rng, n_rows, backend=NUMPY, scale=1.0):
        """Inverted-dropout masks for a batch, drawn from ``rng`` (the
        backend's ``mask_source``), every layer's rate times ``scale`` (a
        dropout schedule's factor for the epoch, at most 1).

        Returns
        -------
        list of (ndarray or None)
            One ``(n_rows, units)`` mask per dropout layer (for scikit-learn's
            MLP, per hidden layer); None where the rate is zero.
        """
        return [
            None if d is None else d.draw(rng, n_rows * f, backend, scale)
            for d, f in zip(self._mask_slots, self._mask_factors)
        ]

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
        backend=None,
    ):
        """Objective and its gradient on one batch, by backpropagation.

        The objective is ::

            L = sum_i s_i l(y_i, p_i) / S  +  alpha / (2 S) * ||W||^2

        with ``S = sum_i s_i`` (``n_samples`` without weights), the L2 penalty
        scaled as in scikit-learn (``W``: the decayed parameters).

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
        backend : Backend or None
            The element-wise backend (None: :func:`~.backend.current`).

        Returns
        -------
        float or None
            The objective ``L``.
        """
        backend = current() if backend is None else backend
        n = X.shape[0]
        S = self.batch_weight(n, sample_weight, backend)
        if S <= 0:  # a batch whose samples all weigh zero contributes nothing
            grad[...] = 0
            return 0.0 if compute_loss else None
        if workspace is None or workspace.capacity < n:
            workspace = self.workspace(n, backend)
        ws = workspace
        P, G = ws.views(params, grad)
        bufs = ws.buffers
        if ws.mask_bufs:
            if masks is None:
                masks = [None] * len(ws.mask_bufs)
            for buf, M in zip(ws.mask_bufs, masks):
                if buf is not None:
                    buf.mask = M

        # forward: every layer but the head, then the head's product
        last = len(self.layers) - 1
        rows = self._row_factor
        A = X
        for k in range(last):
            A = self.layers[k].forward(A, P[k], bufs[k], n * rows[k], backend)
        head = self.layers[last]
        Wh, bh = P[last]
        gbh = G[last][1]
        Z = head.linear(A, Wh, bufs[last], n * rows[last], backend)
        # the data term averages over all members' rows (weight k S); the L2
        # term keeps the batch's own weight S
        S_out = S
        if self.members > 1:  # every member's rows against the same targets
            Y, sample_weight = ws.tile(n, Y, sample_weight, backend)
            S_out = S * self.members

        # output delta: dL/dZ of the head is s_i (P - Y) / S for the canonical
        # links (s_i times the loss's own delta for the others); scaling here
        # makes every later gradient final
        loss = None
        D = ws.delta[: n * self.members, :]
        fused_out = backend.output.get(self.loss.name)
        if fused_out is not None:
            sw = ws.no_weights if sample_weight is None else sample_weight
            inv_S = self.dtype.type(1.0 / S_out)
            total = fused_out(Z, bh, Y, sw, inv_S, D, gbh, self._eps)
            if compute_loss:
                loss = total / S_out
        else:
            Z += bh
            Pout = backend.outputs[self.out_activation.name].forward(Z)
            if compute_loss:
                loss = ws.loss.value(Y, Pout, sample_weight)
            ws.loss.delta_into(Y, Pout, D, backend)
            if sample_weight is None:
                D *= 1.0 / S_out
            else:
                D *= (sample_weight * (1.0 / S_out))[:, None]

        # backward, the head first; the first layer needs no input gradient
        dA = head.backward(
            D,
            P[last],
            G[last],
            bufs[last],
            n * rows[last],
            last > 0,
            backend,
            fused_out is not None,
        )
        for k in range(last - 1, -1, -1):
            dA = self.layers[k].backward(
                dA, P[k], G[k], bufs[k], n * rows[k], k > 0, backend
            )

        if alpha:
            if l2_grad:
                w, gw = params[: self.n_coefs], grad[: self.n_coefs]
                backend.axpy(alpha / S, w, gw, ws.coef_buf)
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
    backend : Backend
        Whose arrays the buffers are.

    Attributes
    ----------
    buffers : list
        Each layer's own buffers (``layer.workspace(capacity, k > 0)``: the
        first layer needs no input gradient).
    delta : ndarray of shape (capacity, n_outputs)
        The output delta.
    loss : Loss
        The network's loss as the backend writes it (the network's own on
        NumPy's arrays, the backend's table entry of its name otherwise).
    """

    def __init__(self, net, capacity, backend=NUMPY):
        self.net = net
        self.capacity = int(capacity)
        self._bound = None
        self.loss = net.loss if backend.host else backend.losses[net.loss.name]
        empty = backend.empty
        self.coef_buf = empty(net.n_coefs, net.dtype)
        self.no_weights = empty(0, net.dtype)  # "unit weights" for kernels
        # a layer allocates NumPy buffers unless given a device backend (so
        # layers written for the NumPy protocol keep working unchanged)
        device = () if backend.host else (backend,)
        self.buffers = [
            layer.workspace(capacity * f, k > 0, *device)
            for k, (layer, f) in enumerate(zip(net.layers, net._row_factor))
        ]
        index = {id(layer): k for k, layer in enumerate(net.layers)}
        # the buffers the dropout masks go to, one per mask slot
        self.mask_bufs = [
            None if d is None else self.buffers[index[id(d)]] for d in net._mask_slots
        ]
        if not any(buf is not None for buf in self.mask_bufs):
            self.mask_bufs = []
        k = net.members
        self.delta = empty((capacity * k, net.layer_units[-1]), net.dtype)
        self._tiled = None
        if k > 1:
            self._tiled = (
                empty((capacity * k, net.layer_units[-1]), net.dtype),
                empty(capacity * k, net.dtype),
            )

    def tile(self, n, Y, sample_weight, backend=NUMPY):
        """``(Y, weights)`` of a batch of ``n`` rows, repeated for the ``k``
        members (views of preallocated buffers)."""
        reshape = backend.reshape
        k = self.net.members
        Yt = reshape(self._tiled[0][: k * n, :], (k, n, -1))
        Yt[...] = Y
        sw = None
        if sample_weight is not None:
            sw = self._tiled[1][: k * n]
            reshape(sw, (k, n))[...] = sample_weight
        return reshape(Yt, (k * n, -1)), sw

    def views(self, params, grad):
        """Per-layer views of ``params`` and ``grad``, cached for reuse.

        Training passes the same two arrays on every batch, so the views are
        made once instead of once per batch.
        """
        bound = self._bound
        if bound is None or bound[0] is not params or bound[1] is not grad:
            views = (self.net.layer_views(params), self.net.layer_views(grad))
            bound = self._bound = (params, grad, views)
        return bound[2]
