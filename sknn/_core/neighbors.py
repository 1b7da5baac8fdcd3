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

Everything here is dense NumPy over whole blocks of rows: an evaluation of
the loss and its gradient costs two products of ``n_queries * n_candidates
* n_features`` multiply-adds, ``n_queries * n_candidates`` exponentials and
a few passes over that matrix.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

__all__ = ["fit_metric", "metric_loss", "neighbor_average"]

_KINDS = ("labels", "values")
_MAX_LOG_WEIGHT = float(np.log(1e4))
_MIN_LOG_WEIGHT = -12.0
_TINY = 1e-12


def _softmax_of_distances(Zq, Zc, exclude):
    """``P[i, j]``, the softmax over ``j`` of ``-|Zq[i] - Zc[j]|^2``, with
    ``exclude[i]`` (a candidate index, or -1) left out of row ``i``."""
    D = (Zq * Zq).sum(axis=1)[:, None] + (Zc * Zc).sum(axis=1)[None, :]
    D -= 2.0 * (Zq @ Zc.T)
    np.maximum(D, 0.0, out=D)  # rounding below zero for equal rows
    rows = np.flatnonzero(exclude >= 0)
    D[rows, exclude[rows]] = np.inf
    D *= -1.0
    D -= D.max(axis=1, keepdims=True)
    np.exp(D, out=D)
    D /= D.sum(axis=1, keepdims=True)
    return D


def metric_loss(log_weights, Xq, Yq, Xc, Yc, exclude, kind):
    """Leave-one-out loss of the neighbour average and its gradient.

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

    Returns
    -------
    loss : float
    grad : ndarray of shape (n_features,)
        The gradient with respect to ``log_weights``.
    """
    w = np.exp(log_weights)
    root = np.sqrt(w)
    P = _softmax_of_distances(Xq * root, Xc * root, exclude)
    n = Xq.shape[0]
    if kind == "labels":
        same = Yq @ Yc.T
        mass = (P * same).sum(axis=1) + _TINY
        loss = -np.log(mass).mean()
        # d loss / d logit_ij, with logit_ij = -D_ij
        G = -(P * same / mass[:, None] - P) / n
    elif kind == "values":
        avg = P @ Yc
        resid = avg - Yq
        loss = float((resid * resid).sum() / resid.size)
        # d avg_i / d logit_ij = P_ij (Yc_j - avg_i)
        scale = 2.0 / resid.size
        G = P * (scale * (resid @ Yc.T - (resid * avg).sum(axis=1)[:, None]))
    else:
        raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}.")
    G = -G  # d loss / d D
    # d D_ij / d w_f = (Xq_if - Xc_jf)^2
    grad_w = (Xq * Xq).T @ G.sum(axis=1) + (Xc * Xc).T @ G.sum(axis=0)
    grad_w -= 2.0 * np.einsum("if,if->f", Xq, G @ Xc)
    return float(loss), grad_w * w


def fit_metric(X, Y, kind, rng, n_queries=1000, max_iter=40):
    """Learn the diagonal metric's scales on the rows ``X`` with targets ``Y``.

    ``n_queries`` rows drawn with ``rng`` (all rows when fewer) are scored
    against every row, their own left out, and ``metric_loss`` is minimised
    by L-BFGS-B from ``w = 4 / n_features`` (a squared distance of about 8
    between two rows of unit-variance columns), each ``log w`` kept within
    ``[-12, log 1e4]``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Columns of comparable scale (unit variance, say).
    Y : ndarray of shape (n_samples, k)
        One-hot labels (``kind='labels'``) or standardised values.
    kind : {'labels', 'values'}
    rng : numpy.random.Generator
    n_queries : int, default=1000
    max_iter : int, default=40

    Returns
    -------
    weights : ndarray of shape (n_features,)
    """
    n, d = X.shape
    if d == 0 or n < 2:
        return np.ones(d)
    queries = np.sort(rng.permutation(n)[: min(n, n_queries)])
    Xq, Yq = X[queries], Y[queries]

    def objective(theta):
        return metric_loss(theta, Xq, Yq, X, Y, queries, kind)

    start = np.full(d, np.log(4.0 / d))
    result = minimize(
        objective,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=[(_MIN_LOG_WEIGHT, _MAX_LOG_WEIGHT)] * d,
        options={"maxiter": max_iter},
    )
    return np.exp(result.x)


def neighbor_average(Xc, Yc, weights, Xq, exclude=None, block=2048):
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
    block : int, default=2048
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
    out = np.empty((Xq.shape[0], Yc.shape[1]))
    for start in range(0, Xq.shape[0], block):
        stop = min(start + block, Xq.shape[0])
        own = (
            np.full(stop - start, -1, dtype=np.intp)
            if exclude is None
            else np.asarray(exclude[start:stop], dtype=np.intp)
        )
        P = _softmax_of_distances(Xq[start:stop] * root, Zc, own)
        out[start:stop] = P @ Yc
    return out
