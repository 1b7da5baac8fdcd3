"""The tabular pair's neighbour blend: the network's outputs mixed with soft
nearest-neighbour averages of the training targets under a learned metric.

The numerics are :mod:`sknn._core.neighbors`; this module is what the
estimators add around them: the distance columns read from the encoded table
(:class:`DistanceColumns`), and :func:`fit_blend`, which learns a metric on
the rows each held-out set was not part of, averages the held-out rows'
neighbours under it, chooses the blend's temperature and weight on those
rows beside the network's held-out outputs, and keeps every row of the fit
as a candidate for prediction (docs/tabular.md, "Neighbours under a learned
metric").
"""

from __future__ import annotations

import numpy as np

from ._core.neighbors import NeighborBlend, choose_blend, fit_metric, neighbor_average

__all__ = ["NEIGHBOR_ROWS", "DistanceColumns", "fit_blend"]

NEIGHBOR_ROWS = 10_000
"""Rows of the fit up to which ``neighbors='auto'`` blends: every row is a
candidate at prediction, so memory and prediction time grow with the rows."""

_TOP_CODES = 64


class DistanceColumns:
    """The columns a row's distance is measured on, from the encoded table.

    The encoder's numeric columns (robust-scaled and clipped; its target
    means left out: they are the targets), its missing-value flags and
    one-hot columns as they are, and one indicator for each of the 64 most
    frequent codes of each embedded categorical column; each column divided
    by its standard deviation over the fitted rows (constant columns by 1).

    Parameters
    ----------
    encoder : TableEncoder
        The fitted encoder whose output is read.
    """

    def __init__(self, encoder):
        numeric = encoder.n_numeric_ - encoder.n_target_means_
        n_codes = len(encoder.cardinalities_)
        stop = encoder.n_output_ - n_codes
        self.dense_ = np.r_[np.arange(numeric), np.arange(encoder.n_numeric_, stop)]
        self.code_columns_ = np.arange(stop, encoder.n_output_)

    def fit(self, Z):
        """Learn the codes kept and the scales from the encoded rows ``Z``."""
        self.codes_ = []
        for j in self.code_columns_:
            values, counts = np.unique(Z[:, j], return_counts=True)
            order = np.argsort(-counts, kind="stable")[:_TOP_CODES]
            self.codes_.append(values[np.sort(order)])
        sd = self._raw(Z).std(axis=0)
        self.scale_ = np.where(sd > 0, sd, 1.0)
        return self

    @property
    def n_columns(self):
        """Distance columns of a fitted instance."""
        return self.dense_.size + sum(c.size for c in self.codes_)

    def _raw(self, Z):
        parts = [np.asarray(Z[:, self.dense_], dtype=np.float64)]
        for j, codes in zip(self.code_columns_, self.codes_):
            parts.append((Z[:, j][:, None] == codes[None, :]).astype(np.float64))
        return np.concatenate(parts, axis=1)

    def transform(self, Z):
        """The distance columns of the encoded rows ``Z`` (float64)."""
        return self._raw(Z) / self.scale_


def _hard_targets(Y, kind):
    """One-hot labels from (label-smoothed) indicator targets; values as
    they are."""
    Y = np.asarray(Y, dtype=np.float64)
    if kind == "values":
        return Y
    return (Y >= Y.max(axis=1, keepdims=True)).astype(np.float64)


def fit_blend(columns, Z, Y, held_out, kind, rng, sample_weight=None):
    """Fit the neighbour blend of a fit's rows.

    Parameters
    ----------
    columns : DistanceColumns
        Not yet fitted; fitted here on ``Z``.
    Z : ndarray of shape (n_rows, n_encoded)
        The encoded rows of the fit: the candidates at prediction.
    Y : ndarray of shape (n_rows, k)
        Their targets as the network trains on them (label-smoothed
        indicators, or standardised values).
    held_out : list of tuple
        ``(fitted, Z_held, Y_held, sw_held, P_held)`` per held-out set: the
        rows of ``Z`` its network trained on (the candidates and the
        metric's rows for it), the held-out rows (encoded), their targets,
        sample weights (or None) and the network's outputs.
    kind : {'labels', 'values'}
    rng : numpy.random.Generator
        Draws each metric's query rows.
    sample_weight : ndarray of shape (n_rows,) or None
        The rows' weights: a row weighing zero is no candidate and no row of
        any metric (as if it were not in the fit).

    Returns
    -------
    NeighborBlend
        Its metric the geometric mean of the held-out sets' metrics.
    """
    keep = np.ones(Z.shape[0], dtype=bool)
    if sample_weight is not None:
        keep = np.asarray(sample_weight) > 0
    columns.fit(Z[keep])
    A = columns.transform(Z)
    T = _hard_targets(Y, kind)
    log_scales, P, K, Yh, sw = [], [], [], [], []
    for fitted, Z_held, Y_held, sw_held, P_held in held_out:
        fitted = fitted[keep[fitted]]
        scales = fit_metric(A[fitted], T[fitted], kind, rng)
        log_scales.append(np.log(np.maximum(scales, 1e-300)))
        K.append(
            neighbor_average(A[fitted], T[fitted], scales, columns.transform(Z_held))
        )
        P.append(np.asarray(P_held, dtype=np.float64))
        Yh.append(_hard_targets(Y_held, kind))
        sw.append(np.ones(len(Y_held)) if sw_held is None else sw_held)
    weights = None
    if any(entry is not None for *_, entry, _ in held_out):
        weights = np.concatenate(sw)
    temperature, weight = choose_blend(
        np.concatenate(P), np.concatenate(K), np.concatenate(Yh), kind, weights
    )
    scales = np.exp(np.mean(log_scales, axis=0))
    return NeighborBlend(A[keep], T[keep], scales, temperature, weight, kind)
