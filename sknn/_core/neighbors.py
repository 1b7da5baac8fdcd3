"""Soft nearest neighbours under a learned diagonal metric.

A row's neighbour average is the softmax-weighted mean of the candidates'
targets, with weights ``exp(-d(x, c))`` for the squared weighted distance
``d(x, c) = sum_f w_f (x_f - c_f)^2`` (Goldberger et al. 2004,
"Neighbourhood Components Analysis", with a diagonal metric).  The scales
``w`` are learned by minimising the leave-one-out loss of that average over
the training rows: the log loss of the probability mass on each row's own
class (``kind='labels'``, one-hot targets), or the squared error of the
averaged targets (``kind='values'``).  A feature whose differences do not
predict the target is scaled down, and one that separates units sharing an
outcome is scaled up, so the metric finds which columns to match on.

Everything here is dense NumPy over blocks of queries against every
candidate: an evaluation of the loss and its gradient costs two products of
``n_queries * n_candidates * n_features`` multiply-adds,
``n_queries * n_candidates`` exponentials and a few passes over each block,
which stays in cache (blocks of 256 queries).  The rows of the loss's
gradient in the squared distances sum to zero (each row's softmax sums to
one), so only its column sums and its product with the candidates enter the
gradient in the scales.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from .threads import blas_limit

__all__ = [
    "NeighborBlend",
    "choose_blend",
    "fit_metric",
    "metric_loss",
    "neighbor_average",
    "temper",
]

_KINDS = ("labels", "values")
_MAX_LOG_WEIGHT = float(np.log(1e4))
_MIN_LOG_WEIGHT = -12.0
_TINY = 1e-12
_FLOOR = -40.0  # the logits' floor below each row's largest
# the blend's grids: the network's temperature and the neighbours' weight
TEMPERATURES = np.exp(np.linspace(-1.5, 1.5, 31))
BLEND_WEIGHTS = np.linspace(0.0, 1.0, 21)


def _block_weights(Zq2, Zc, norms, own):
    """The unnormalised softmax weights of a block of queries over every
    candidate: ``exp`` of the logits ``-|zq - zc|^2`` up to a per-row
    constant (``2 zq.zc - |zc|^2``), each row shifted to a maximum of 0, with
    ``own[i]`` (a candidate index, or -1) weighing 0.

    The logits are floored at -40: a candidate farther than that weighs
    ``exp(-40)`` (4e-18) of the nearest, which moves nothing in float32, and
    the products of the weights stay above the smallest normal float32
    (subnormal arithmetic is many times slower)."""
    L = Zq2 @ Zc.T
    L -= norms
    rows = np.flatnonzero(own >= 0)
    L[rows, own[rows]] = -np.inf
    L -= L.max(axis=1, keepdims=True)
    np.maximum(L, _FLOOR, out=L)
    np.exp(L, out=L)
    L[rows, own[rows]] = 0.0
    return L


def metric_loss(log_weights, Xq, Yq, Xc, Yc, exclude, kind, block=256):
    """Leave-one-out loss of the neighbour average and its gradient.

    Computed in blocks of ``block`` queries, in the floating dtype of ``Xc``
    (float32 halves the cost; the loss and gradient are summed in float64).

    Parameters
    ----------
    log_weights : ndarray of shape (n_features,)
        ``log w``, the metric's log scales.
    Xq, Yq : ndarray of shape (n_queries, n_features), (n_queries, k)
        The rows scored and their targets.
    Xc, Yc : ndarray of shape (n_candidates, n_features), (n_candidates, k)
        The rows averaged over and their targets.
    exclude : ndarray of int of shape (n_queries,)
        Each query's own index among the candidates, or -1.
    kind : {'labels', 'values'}
        ``'labels'``: one-hot targets, mean negative log of the mass on the
        query's class; ``'values'``: mean squared error of the average over
        rows and target columns.
    block : int, default=256
        Queries per block (memory ``block * n_candidates`` floats, small
        enough to stay in cache for a few thousand candidates).

    Returns
    -------
    loss : float
    grad : ndarray of shape (n_features,)
        The gradient with respect to ``log_weights``.
    """
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}.")
    dtype = Xc.dtype
    w = np.exp(log_weights)
    root = np.sqrt(w).astype(dtype)
    Zc = Xc * root
    norms = (Zc * Zc).sum(axis=1)  # the logits' candidate term
    Yc = Yc.astype(dtype, copy=False)
    n, k = Yq.shape
    total = 0.0
    col_sums = np.zeros(Xc.shape[0])
    cross = np.zeros(Xc.shape[1])  # sum_i Xq_if (G @ Xc)_if
    for start in range(0, n, block):
        stop = min(start + block, n)
        Xb = Xq[start:stop].astype(dtype, copy=False)
        Yb = Yq[start:stop]
        E = _block_weights(2.0 * (Xb * root), Zc, norms, exclude[start:stop])
        s = E.sum(axis=1).astype(np.float64)
        avg = (E @ Yc) / s[:, None]  # the neighbour averages, float64
        if kind == "labels":
            mass = (avg * Yb).sum(axis=1) + _TINY
            total -= np.log(mass).sum()  # the rows' losses, summed
            # dloss/dD_ij = P_ij (Yb_i . Yc_j - m_i) / (mass_i n), m_i the
            # mass without _TINY: the rows sum to zero even where a query
            # has no same-class candidate near (m_i about 0, a flat loss)
            coef = Yb / (mass * s * n)[:, None]
            offset = (mass - _TINY) / (mass * s * n)
        else:
            resid = avg - Yb
            total += (resid * resid).sum()
            # dloss/dD_ij = -2 P_ij resid_i . (Yc_j - avg_i) / (n k)
            coef = resid * (-2.0 / (n * k * s))[:, None]
            offset = (coef * avg).sum(axis=1)
        M = coef.astype(dtype) @ Yc.T
        M -= offset.astype(dtype)[:, None]
        M *= E  # G, the loss's gradient in the squared distances
        col_sums += M.sum(axis=0)
        cross += np.einsum("if,if->f", Xb, M @ Xc, dtype=np.float64)
    loss = total / n if kind == "labels" else total / (n * k)
    # dD_ij/dw_f = (Xq_if - Xc_jf)^2; the rows of G sum to zero, so the
    # queries' squared term drops out
    grad_w = (Xc * Xc).T.astype(np.float64) @ col_sums - 2.0 * cross
    return float(loss), grad_w * w


def fit_metric(X, Y, kind, rng, n_queries=1000, max_iter=8):
    """Learn the diagonal metric's scales on the rows ``X`` with targets ``Y``.

    ``n_queries`` rows drawn with ``rng`` (all rows when fewer) are scored
    against every row, their own left out, and ``metric_loss`` is minimised
    by L-BFGS-B from ``w = 4 / n_features`` (a squared distance of about 8
    between two rows of unit-variance columns), each ``log w`` kept within
    ``[-12, log 1e4]``.  The rows are cast to float32 for the fit (the loss
    and gradient agree with float64's to about 1e-5, at half the cost), and
    the few steps stop it early: the leave-one-out loss keeps falling with
    more steps, but on held-out rows the neighbour average after 8 steps is
    as good as or better than after 12, 20 or 40 on most tables measured
    (docs/tabular.md, "Neighbours under a learned metric").

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Columns of comparable scale (unit variance, say).
    Y : ndarray of shape (n_samples, k)
        One-hot labels (``kind='labels'``) or standardised values.
    kind : {'labels', 'values'}
    rng : numpy.random.Generator
    n_queries : int, default=1000
    max_iter : int, default=8

    Returns
    -------
    weights : ndarray of shape (n_features,)
    """
    n, d = X.shape
    if d == 0 or n < 2:
        return np.ones(d)
    queries = np.sort(rng.permutation(n)[: min(n, n_queries)])
    X = np.asarray(X, dtype=np.float32)
    Xq, Yq = X[queries], Y[queries]

    def objective(theta):
        return metric_loss(theta, Xq, Yq, X, Y, queries, kind)

    start = np.full(d, np.log(4.0 / d))
    # NumPy's BLAS sized for one evaluation's products, SciPy's (L-BFGS-B's)
    # at one thread: two pools spinning on two cores slow both down
    with blas_limit(2 * Xq.shape[0] * n * d):
        result = minimize(
            objective,
            start,
            jac=True,
            method="L-BFGS-B",
            bounds=[(_MIN_LOG_WEIGHT, _MAX_LOG_WEIGHT)] * d,
            options={"maxiter": max_iter},
        )
    return np.exp(result.x)


def neighbor_average(Xc, Yc, weights, Xq, exclude=None, block=256):
    """The softmax-weighted neighbour average of ``Yc`` for each row of ``Xq``.

    Parameters
    ----------
    Xc, Yc : ndarray of shape (n_candidates, n_features), (n_candidates, k)
    weights : ndarray of shape (n_features,)
        The metric's scales (:func:`fit_metric`).
    Xq : ndarray of shape (n_queries, n_features)
    exclude : ndarray of int of shape (n_queries,) or None
        Each query's own index among the candidates (or -1), left out of its
        average: leave-one-out averages of the candidates themselves.
    block : int, default=256
        Queries per block (memory ``block * n_candidates`` floats).

    Returns
    -------
    ndarray of shape (n_queries, k)
    """
    if exclude is not None and Xc.shape[0] < 2:
        raise ValueError(
            f"Leave-one-out averages need at least 2 candidates, got {Xc.shape[0]}."
        )
    root = np.sqrt(weights)
    Zc = Xc * root
    norms = (Zc * Zc).sum(axis=1)
    out = np.empty((Xq.shape[0], Yc.shape[1]))
    for start in range(0, Xq.shape[0], block):
        stop = min(start + block, Xq.shape[0])
        own = (
            np.full(stop - start, -1, dtype=np.intp)
            if exclude is None
            else np.asarray(exclude[start:stop], dtype=np.intp)
        )
        E = _block_weights(2.0 * (Xq[start:stop] * root), Zc, norms, own)
        out[start:stop] = (E @ Yc) / E.sum(axis=1, keepdims=True)
    return out


def temper(P, temperature):
    """Probabilities ``P`` (rows summing to one) at ``temperature``: the
    softmax of ``log P / temperature``."""
    L = np.log(np.clip(P, _TINY, None)) / temperature
    L -= L.max(axis=1, keepdims=True)
    np.exp(L, out=L)
    return L / L.sum(axis=1, keepdims=True)


def _blend_loss(B, Y, sample_weight, kind):
    """Mean (weighted) log loss of probabilities ``B`` against one-hot ``Y``,
    or squared error summed over the target columns."""
    if kind == "labels":
        rows = -np.log(np.clip((B * Y).sum(axis=1), _TINY, None))
    else:
        rows = ((B - Y) ** 2).sum(axis=1)
    return float(np.average(rows, weights=sample_weight))


def choose_blend(P, K, Y, kind, sample_weight=None):
    """The temperature and weight of ``(1 - a) * temper(P, T) + a * K``
    that minimise the loss against ``Y`` on held-out rows.

    The temperature (classification only; 1 for values) is chosen first, on
    the model's outputs alone, from ``TEMPERATURES``; then ``a`` from
    ``BLEND_WEIGHTS`` (0 to 1 by 0.05), the first of the lowest losses.

    Parameters
    ----------
    P : ndarray of shape (n_rows, k)
        The model's held-out outputs: probabilities or standardised values.
    K : ndarray of shape (n_rows, k)
        The same rows' neighbour averages from a metric and candidates that
        did not include them.
    Y : ndarray of shape (n_rows, k)
        One-hot labels (``kind='labels'``) or the standardised values.
    kind : {'labels', 'values'}
    sample_weight : ndarray of shape (n_rows,) or None

    Returns
    -------
    temperature : float
    weight : float
    """
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}.")
    if sample_weight is not None and not np.sum(sample_weight) > 0:
        sample_weight = None  # rows that all weigh zero: count them alike
    temperature = 1.0
    if kind == "labels":
        losses = [
            _blend_loss(temper(P, t), Y, sample_weight, kind) for t in TEMPERATURES
        ]
        temperature = float(TEMPERATURES[int(np.argmin(losses))])
        P = temper(P, temperature)
    losses = [
        _blend_loss((1 - a) * P + a * K, Y, sample_weight, kind) for a in BLEND_WEIGHTS
    ]
    return temperature, float(BLEND_WEIGHTS[int(np.argmin(losses))])


class NeighborBlend:
    """A model's outputs blended with soft neighbour averages.

    ``(1 - weight) * temper(P, temperature) + weight * K`` for probabilities
    (``kind='labels'``), ``(1 - weight) * P + weight * K`` for values, where
    ``K`` averages the candidates' ``targets`` under the metric ``scales``
    (:func:`neighbor_average`).

    Parameters
    ----------
    candidates : ndarray of shape (n_candidates, n_features)
        The candidates' distance columns.
    targets : ndarray of shape (n_candidates, k)
        Their one-hot labels or standardised values.
    scales : ndarray of shape (n_features,)
        The metric's scales.
    temperature, weight : float
        From :func:`choose_blend`.
    kind : {'labels', 'values'}
    """

    def __init__(self, candidates, targets, scales, temperature, weight, kind):
        self.candidates = np.asarray(candidates, dtype=np.float64)
        self.targets = np.asarray(targets, dtype=np.float64)
        self.scales = np.asarray(scales, dtype=np.float64)
        self.temperature = float(temperature)
        self.weight = float(weight)
        self.kind = kind

    def average(self, X):
        """The neighbour averages of the rows ``X`` (distance columns)."""
        return neighbor_average(self.candidates, self.targets, self.scales, X)

    def __call__(self, P, X):
        """The blend of the outputs ``P`` of the rows ``X``, in P's dtype."""
        out = np.asarray(P, dtype=np.float64)
        if self.kind == "labels":
            out = temper(out, self.temperature)
        if self.weight > 0:
            out = (1.0 - self.weight) * out + self.weight * self.average(X)
        return out.astype(P.dtype, copy=False)
