"""First-order optimizers with explicit state, and learning-rate schedules.

An optimizer is a small immutable object holding its hyper-parameters with
two methods::

    state = opt.init(params, backend)   # dict of arrays and counters
    opt.step(params, grad, state, lr)   # updates params and state in place
    opt.step(params, grad, state, lr, l2=L2Gradient(...))

The learning rate is passed to every step by the caller, so schedules live
outside the optimizers (:class:`Schedule`) and an optimizer never decides when
training stops.  Each update is a handful of vectorised in-place operations on
the flat parameter vector.  SGD and RMSprop keep one scratch buffer in their
state; Adam needs none because it reuses the gradient's memory once the
moments are updated (its ``step`` overwrites ``grad``).

With the Numba backend (:mod:`.backend`) each ``step`` instead runs one
compiled loop over the vector (``_fused``) that performs the same operations
in the same order, so both paths give identical parameters.

A step can also add the L2 penalty's gradient to ``grad`` first
(:class:`L2Gradient`).  The training loop leaves that term out of the
backward pass and hands it to the step, where the compiled kernels add it as
they read the gradient, instead of spending a separate pass over the vector.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .backend import current

__all__ = [
    "OPTIMIZERS",
    "SGD",
    "Adam",
    "AdamW",
    "L2Gradient",
    "Optimizer",
    "RMSprop",
    "SHAPES",
    "Schedule",
    "make_optimizer",
]


@dataclass(frozen=True)
class L2Gradient:
    """The L2 penalty's gradient ``coef * params[:n]``, for a step to add.

    Attributes
    ----------
    coef : float
        ``alpha / S`` of the batch (see ``Network.l2_coef``).
    n : int
        Number of leading entries of the parameter vector penalised (the
        weights).
    buf : ndarray of shape (n,) or larger
        Scratch space for the NumPy path.
    """

    coef: float
    n: int
    buf: np.ndarray

    def add_to(self, params, grad, backend=None):
        """``grad[:n] += coef * params[:n]`` in place."""
        backend = current() if backend is None else backend
        backend.axpy(self.coef, params[: self.n], grad[: self.n], self.buf)


def _kernel_l2(l2, dtype):
    """``(n_l2, coef)`` arguments of a compiled kernel for ``l2`` (or None)."""
    if l2 is None:
        return 0, dtype.type(0.0)
    return l2.n, dtype.type(l2.coef)


class Optimizer:
    """Base of every update rule: it owns the L2 term and the kernel dispatch.

    :meth:`step` is the only place where an :class:`L2Gradient` is applied:
    on the NumPy path it is added to ``grad`` before the rule runs; on the
    compiled path its ``(n, coef)`` are the last two arguments of the rule's
    kernel, which adds the term as it reads the gradient (or, where
    :meth:`_kernel_folds_l2` says the kernel must not, it is added first as
    on the NumPy path).  A subclass writes its rule once per path and never
    sees the L2 term:

    - ``init(params, backend)``: the state (arrays and counters, allocated
      by the backend: NumPy's, or the input's array namespace);
    - ``_rule(params, grad, state, lr, backend)``: the update, ``grad``
      holding the L2 gradient already, written with in-place operators and
      the backend's ``multiply``/``divide``/``sqrt`` into buffers, so it runs
      on every backend without a compiled step;
    - ``kernel``: the name of its compiled step in ``backend.steps`` (None:
      NumPy only), and ``_kernel_args(params, state, lr)``: the kernel's
      arguments between ``grad`` and the L2 pair;
    - ``from_params(**estimator_params)``: the optimizer an estimator's
      hyper-parameters describe (the registry :data:`OPTIMIZERS` maps solver
      names to these classes).
    """

    def step(self, params, grad, state, lr, l2=None, backend=None):
        """One in-place update of ``params`` and ``state``.

        ``l2`` (an :class:`L2Gradient` or None) is the penalty's gradient,
        read from ``params`` before the update.  ``grad`` may be clobbered.
        ``backend`` is the fit's element-wise backend (None:
        :func:`~.backend.current`).
        """
        backend = current() if backend is None else backend
        kernel = backend.steps.get(self.kernel)
        if kernel is None:
            if l2 is not None:
                l2.add_to(params, grad, backend)
            self._rule(params, grad, state, lr, backend)
            return
        if l2 is not None and not self._kernel_folds_l2():
            l2.add_to(params, grad, backend)
            l2 = None
        args = self._kernel_args(params, state, lr)
        n_l2, coef = _kernel_l2(l2, params.dtype)
        kernel(params, grad, *args, n_l2, coef)

    kernel = None
    """Name of the rule's compiled step in ``Backend.steps`` (None: none)."""

    summary = ""
    """One line for the estimators' ``solver`` docs (a subclass sets it)."""

    def _kernel_folds_l2(self):
        """Whether the kernel may add the L2 term itself (it reads ``params``
        as the kernel finds them)."""
        return True


@dataclass(frozen=True)
class SGD(Optimizer):
    """Stochastic gradient descent with (Nesterov) momentum.

    With velocity ``v``, momentum ``mu`` and learning rate ``lr``::

        v <- mu * v - lr * g
        params <- params + v                    (classical momentum)
        params <- params + mu * v - lr * g      (Nesterov momentum)

    the formulation scikit-learn's MLP uses.  ``grad`` is left unchanged.
    """

    summary = (
        "minibatch SGD with (Nesterov) momentum (``momentum``, ``nesterovs_momentum``)"
    )

    momentum: float = 0.9
    nesterov: bool = True

    @classmethod
    def from_params(cls, *, momentum=0.9, nesterovs_momentum=True, **_):
        return cls(momentum, nesterovs_momentum)

    def init(self, params, backend=None):
        """State: zero velocity and a scratch buffer."""
        backend = current() if backend is None else backend
        return {
            "velocity": backend.zeros_like(params),
            "buf": backend.empty_like(params),
        }

    kernel = "sgd"

    def _kernel_args(self, params, state, lr):
        dt = params.dtype.type
        return (
            state["velocity"],
            dt(lr),
            dt(self.momentum),
            self.nesterov,
        )

    def _rule(self, params, grad, state, lr, backend):
        v, buf = state["velocity"], state["buf"]
        backend.multiply(grad, lr, buf)  # lr * g, used twice with Nesterov
        v *= self.momentum
        v -= buf
        if self.nesterov:
            params -= buf
            backend.multiply(v, self.momentum, buf)
            params += buf
        else:
            params += v


@dataclass(frozen=True)
class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015).

    With step count ``t`` (starting at 1)::

        m <- b1 * m + (1 - b1) * g
        v <- b2 * v + (1 - b2) * g**2
        params <- params - lr_t * m / (sqrt(v) + eps),
        lr_t = lr * sqrt(1 - b2**t) / (1 - b1**t)

    (bias correction folded into the step size, as scikit-learn does).

    The state keeps the moments rescaled, ``M = m / (1 - b1)`` and
    ``V = v / (1 - b2)``, which turns both moment updates into
    ``M <- b1 * M + g`` and ``V <- b2 * V + g**2`` (one pass fewer each); the
    constants move into the step size and epsilon.  :meth:`moments` returns
    ``m`` and ``v``.  ``step`` uses ``grad`` as scratch space: it is
    overwritten.
    """

    summary = "Adam (``beta_1``, ``beta_2``, ``epsilon``)"

    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-8

    @classmethod
    def from_params(cls, *, beta_1=0.9, beta_2=0.999, epsilon=1e-8, **_):
        return cls(beta_1, beta_2, epsilon)

    def init(self, params, backend=None):
        """State: zero (rescaled) moments and step count 0."""
        backend = current() if backend is None else backend
        return {
            "M": backend.zeros_like(params),
            "V": backend.zeros_like(params),
            "t": 0,
        }

    def moments(self, state):
        """The first and second moment estimates ``(m, v)`` (new arrays)."""
        return (1.0 - self.beta_1) * state["M"], (1.0 - self.beta_2) * state["V"]

    def _decay(self, params, lr):
        """``(n_decay, decay)``: scale ``params[:n_decay]`` by ``decay`` first
        (no decay in plain Adam)."""
        return 0, 1.0

    def _advance(self, state, lr):
        """Count the step; return ``(step size, epsilon)`` of the rescaled
        update."""
        state["t"] += 1
        t = state["t"]
        root = math.sqrt(1.0 - self.beta_2)
        lr_t = lr * math.sqrt(1.0 - self.beta_2**t) / (1.0 - self.beta_1**t)
        return lr_t * (1.0 - self.beta_1) / root, self.epsilon / root

    def _kernel_folds_l2(self):
        # with decay the kernel's L2 term would read the decayed weights
        return not self._decay_active()

    def _decay_active(self):
        return False

    kernel = "adam"

    def _kernel_args(self, params, state, lr):
        dt = params.dtype.type
        n_decay, decay = self._decay(params, lr)
        step, eps = self._advance(state, lr)
        args = (state["M"], state["V"], dt(self.beta_1), dt(self.beta_2))
        return (*args, dt(eps), dt(step), n_decay, dt(decay))

    def _rule(self, params, grad, state, lr, backend):
        n_decay, decay = self._decay(params, lr)
        step, eps = self._advance(state, lr)
        M, V = state["M"], state["V"]
        if n_decay:
            params[:n_decay] *= decay
        M *= self.beta_1
        M += grad
        backend.multiply(grad, grad, grad)
        V *= self.beta_2
        V += grad
        denom = grad  # no longer needed: reuse its memory
        backend.sqrt(V, denom)
        denom += eps
        backend.divide(M, denom, denom)
        denom *= step
        params -= denom


@dataclass(frozen=True)
class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019).

    Before the Adam update the weights (the first ``n_decay`` entries of the
    parameter vector: biases are not decayed) shrink by ``lr * weight_decay``::

        W <- W * (1 - lr * weight_decay)

    An L2 term is read from the weights before the decay.
    """

    summary = (
        "Adam with decoupled weight decay of the weights (``weight_decay``; "
        "biases are not decayed)"
    )

    weight_decay: float = 0.01
    n_decay: int | None = None

    @classmethod
    def from_params(
        cls, *, beta_1=0.9, beta_2=0.999, epsilon=1e-8, weight_decay=0.01,
        n_decay=None, **_,
    ):  # fmt: skip
        return cls(beta_1, beta_2, epsilon, weight_decay, n_decay)

    def _decay_active(self):
        return bool(self.weight_decay)

    def _decay(self, params, lr):
        n_decay = 0
        if self.weight_decay:
            n_decay = params.shape[0] if self.n_decay is None else self.n_decay
        return n_decay, 1.0 - lr * self.weight_decay


@dataclass(frozen=True)
class RMSprop(Optimizer):
    """RMSprop (Tieleman & Hinton, 2012)::

    s <- rho * s + (1 - rho) * g**2
    params <- params - lr * g / (sqrt(s) + eps)

    ``grad`` is left unchanged.
    """

    summary = "RMSprop (``rho``, ``epsilon``)"

    rho: float = 0.9
    epsilon: float = 1e-8

    @classmethod
    def from_params(cls, *, rho=0.9, epsilon=1e-8, **_):
        return cls(rho, epsilon)

    def init(self, params, backend=None):
        """State: zero running mean of squared gradients, a scratch buffer."""
        backend = current() if backend is None else backend
        return {"s": backend.zeros_like(params), "buf": backend.empty_like(params)}

    kernel = "rmsprop"

    def _kernel_args(self, params, state, lr):
        dt = params.dtype.type
        return (
            state["s"],
            dt(lr),
            dt(self.rho),
            dt(1.0 - self.rho),
            dt(self.epsilon),
        )

    def _rule(self, params, grad, state, lr, backend):
        s, buf = state["s"], state["buf"]
        backend.multiply(grad, grad, buf)
        buf *= 1.0 - self.rho
        s *= self.rho
        s += buf
        backend.sqrt(s, buf)
        buf += self.epsilon
        backend.divide(grad, buf, buf)
        buf *= lr
        params -= buf


OPTIMIZERS = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop}
"""Stochastic solvers by name: the estimators' ``solver`` options (besides
'lbfgs') come from this registry."""


def make_optimizer(solver, **params):
    """Build the optimizer named ``solver`` from estimator parameters.

    ``params`` are estimator hyper-parameters (``momentum``,
    ``nesterovs_momentum``, ``beta_1``, ``beta_2``, ``epsilon``,
    ``weight_decay``, ``rho``) plus ``n_decay``; each optimizer takes the
    ones it uses.
    """
    if solver not in OPTIMIZERS:
        raise ValueError(f"Unknown stochastic solver {solver!r}.")
    return OPTIMIZERS[solver].from_params(**params)


@dataclass
class Schedule:
    """Learning rate as a function of training progress.

    Parameters
    ----------
    kind : {'constant', 'invscaling', 'adaptive', 'cosine'}
        - 'constant': always ``lr_init``.
        - 'invscaling': after each epoch, ``lr_init / (t + 1) ** power_t``
          with ``t`` the number of samples seen so far.
        - 'adaptive': ``lr_init`` until training stalls; each stall divides
          the rate by 5 (see :meth:`on_plateau`).
        - 'cosine': after epoch ``e`` of ``max_iter``,
          ``0.5 * lr_init * (1 + cos(pi * e / max_iter))``.
    lr_init : float
    power_t : float
    max_iter : int

    Attributes
    ----------
    lr : float
        The current learning rate.
    """

    kind: str
    lr_init: float
    power_t: float = 0.5
    max_iter: int = 200
    lr: float | None = None

    MIN_ADAPTIVE_LR = 1e-6

    KINDS = {
        "constant": "keeps ``learning_rate_init``",
        "invscaling": "divides ``learning_rate_init`` by ``(t + 1) ** power_t`` "
        "after each epoch, ``t`` being the samples seen (sgd only, as in "
        "scikit-learn)",
        "adaptive": "divides the rate by 5 whenever ``n_iter_no_change`` epochs "
        "fail to improve by ``tol`` instead of stopping, and stops once the "
        "rate is at most 1e-6",
        "cosine": "anneals the rate to zero along a half cosine over "
        "``max_iter`` epochs",
        "coslog4": "runs four cosine cycles of growing length, "
        "``0.5 (1 - cos(2 pi log2(1 + 15 t)))`` times ``learning_rate_init`` at "
        "the middle ``t`` of each epoch as a fraction of ``max_iter`` (RealMLP)",
        "flat_cos": "keeps ``learning_rate_init`` for the first half of "
        "``max_iter`` epochs, then anneals it to zero along a half cosine",
    }
    """The schedules by name, with the line the estimators' docs show: the
    estimators' ``learning_rate`` options come from this registry."""

    def __post_init__(self):
        if self.lr is None:
            self.lr = float(self.lr_init)
            if self.kind in SHAPES:
                self.lr *= SHAPES[self.kind](0.5 / self.max_iter)

    def epoch_end(self, epoch, t):
        """Update the rate after ``epoch`` epochs and ``t`` samples."""
        if self.kind == "invscaling":
            self.lr = float(self.lr_init) / (t + 1) ** self.power_t
        elif self.kind == "cosine":
            frac = min(epoch / self.max_iter, 1.0)
            self.lr = 0.5 * float(self.lr_init) * (1.0 + math.cos(math.pi * frac))
        elif self.kind in SHAPES:  # the value at the middle of the next epoch
            frac = min((epoch + 0.5) / self.max_iter, 1.0)
            self.lr = float(self.lr_init) * SHAPES[self.kind](frac)
        return self.lr

    def on_plateau(self):
        """React to a stall; return True if training should go on.

        Only the 'adaptive' schedule continues: it divides the rate by 5, until
        the rate is already at or below 1e-6.
        """
        if self.kind != "adaptive" or self.lr <= self.MIN_ADAPTIVE_LR:
            return False
        self.lr /= 5.0
        return True


def _coslog4(t):
    """Four cosine cycles ending at ``t`` = 1/15, 3/15, 7/15 and 1."""
    return 0.5 * (1.0 - math.cos(2.0 * math.pi * math.log2(1.0 + 15.0 * t)))


def _flat_cos(t):
    """1 up to ``t = 1/2``, then a half cosine down to 0 at ``t = 1``."""
    if t < 0.5:
        return 1.0
    return 0.5 * (1.0 + math.cos(math.pi * (t - 0.5) / 0.5))


SHAPES = {"coslog4": _coslog4, "flat_cos": _flat_cos}
"""Schedule shapes ``f(t)`` on ``t`` in [0, 1], the fraction of training done:
the learning rate (``Schedule``) and the tabular models' dropout follow them."""
