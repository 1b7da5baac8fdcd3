"""Soft nearest neighbours under a learned diagonal metric (sknn._core.neighbors)."""

import numpy as np
import pytest

from sknn._core.neighbors import fit_metric, metric_loss, neighbor_average


def _problem(kind, n=40, d=4, k=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    if kind == "labels":
        Y = np.eye(k)[rng.integers(0, k, n)]
    else:
        Y = rng.normal(size=(n, 2))
    return rng, X, Y


@pytest.mark.parametrize("kind", ["labels", "values"])
@pytest.mark.parametrize("self_excluded", [True, False])
def test_gradient_matches_finite_differences(kind, self_excluded):
    rng, X, Y = _problem(kind)
    queries = np.arange(0, 40, 3)
    exclude = queries if self_excluded else np.full(queries.size, -1)
    theta = rng.normal(-1.0, 0.5, X.shape[1])
    loss, grad = metric_loss(theta, X[queries], Y[queries], X, Y, exclude, kind)
    eps = 1e-6
    numeric = np.empty_like(theta)
    for f in range(theta.size):
        step = np.zeros_like(theta)
        step[f] = eps
        up = metric_loss(theta + step, X[queries], Y[queries], X, Y, exclude, kind)[0]
        down = metric_loss(theta - step, X[queries], Y[queries], X, Y, exclude, kind)[0]
        numeric[f] = (up - down) / (2 * eps)
    assert np.isfinite(loss)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("kind", ["labels", "values"])
def test_blocks_and_float32_give_the_same_loss(kind):
    """The loss is summed over blocks of queries: any block size gives the
    same loss and gradient; float32 rows agree with float64's closely."""
    rng, X, Y = _problem(kind, n=50)
    queries = np.arange(0, 50, 2)
    theta = rng.normal(-1.0, 0.5, X.shape[1])
    args = (X[queries], Y[queries], X, Y, queries, kind)
    whole = metric_loss(theta, *args, block=1000)
    for block in (1, 7, 25):
        loss, grad = metric_loss(theta, *args, block=block)
        np.testing.assert_allclose(loss, whole[0], rtol=1e-12)
        np.testing.assert_allclose(grad, whole[1], rtol=1e-10, atol=1e-14)
    X32 = X.astype(np.float32)
    loss, grad = metric_loss(theta, X32[queries], Y[queries], X32, Y, queries, kind)
    np.testing.assert_allclose(loss, whole[0], rtol=1e-5)
    np.testing.assert_allclose(grad, whole[1], rtol=1e-3, atol=1e-6)


@pytest.mark.parametrize("case", ["singleton class", "large scales"])
def test_labels_gradient_where_a_query_has_no_class_mass(case):
    """A query whose class has no candidate near it (a class seen once, or
    scales so large that every same-class candidate weighs about 0) has a
    flat loss: its gradient is still the loss's own."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(40, 4))
    labels = rng.integers(0, 2, 40)
    theta = rng.normal(-1.0, 0.5, 4)
    if case == "singleton class":
        labels[7] = 2
    else:
        theta = np.full(4, 5.0) + rng.normal(0, 0.3, 4)
    Y = np.eye(3)[labels]
    queries = np.arange(40)
    args = (X[queries], Y[queries], X, Y, queries, "labels")
    loss, grad = metric_loss(theta, *args)
    eps = 1e-6
    numeric = np.empty_like(theta)
    for f in range(theta.size):
        step = np.zeros_like(theta)
        step[f] = eps
        up = metric_loss(theta + step, *args)[0]
        down = metric_loss(theta - step, *args)[0]
        numeric[f] = (up - down) / (2 * eps)
    # at large scales the logits' floor (-40) makes the loss kinked where a
    # candidate crosses it, so finite differences agree to a few percent
    # there (the gradient before this case was handled had the wrong signs)
    rtol = 1e-4 if case == "singleton class" else 5e-2
    np.testing.assert_allclose(grad, numeric, rtol=rtol, atol=1e-8)


def test_average_leaves_each_row_out():
    rng, X, Y = _problem("values", n=30)
    w = np.full(X.shape[1], 0.5)
    loo = neighbor_average(X, Y, w, X, exclude=np.arange(30), block=7)
    # a row's own target does not enter its leave-one-out average
    Y2 = Y.copy()
    Y2[4] += 100.0
    loo2 = neighbor_average(X, Y2, w, X, exclude=np.arange(30), block=7)
    np.testing.assert_array_equal(loo2[4], loo[4])
    assert np.abs(loo2[np.arange(30) != 4] - loo[np.arange(30) != 4]).max() > 0
    # by hand: softmax of minus the weighted squared distances
    D = (((X[:, None, :] - X[None, :, :]) ** 2) * w).sum(axis=2)
    np.fill_diagonal(D, np.inf)
    P = np.exp(-(D - D.min(axis=1, keepdims=True)))
    P /= P.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(loo, P @ Y, rtol=1e-10, atol=1e-12)


def test_zero_weights_average_all_candidates():
    _, X, Y = _problem("values", n=12)
    out = neighbor_average(X, Y, np.zeros(X.shape[1]), X[:3])
    np.testing.assert_allclose(out, np.broadcast_to(Y.mean(axis=0), (3, 2)))


@pytest.mark.parametrize("kind", ["labels", "values"])
def test_metric_finds_the_column_that_predicts(kind):
    """Rows share their outcome with the rows of their group, named by column
    0 alone; columns 1-5 are noise of the same spread: the learned metric
    weights column 0 above every noise column, and its leave-one-out average
    beats the unweighted one."""
    rng = np.random.default_rng(1)
    groups = rng.integers(0, 60, 600)
    outcome = rng.normal(size=60)
    X = np.column_stack([groups / 60.0 * 3.0, rng.normal(size=(600, 5))])
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    y = outcome[groups] + 0.1 * rng.normal(size=600)
    Y = (
        np.eye(2)[(y > 0).astype(int)]
        if kind == "labels"
        else ((y - y.mean()) / y.std())[:, None]
    )
    w = fit_metric(X, Y, kind, np.random.default_rng(0), n_queries=300)
    assert w[0] > 10 * w[1:].max()
    own = np.arange(600)
    learned = neighbor_average(X, Y, w, X, exclude=own)
    plain = neighbor_average(X, Y, np.full(6, 4.0 / 6), X, exclude=own)
    assert ((learned - Y) ** 2).mean() < 0.5 * ((plain - Y) ** 2).mean()


def test_fit_metric_degenerate_inputs():
    rng = np.random.default_rng(0)
    assert fit_metric(np.zeros((5, 0)), np.zeros((5, 1)), "values", rng).shape == (0,)
    np.testing.assert_array_equal(
        fit_metric(np.ones((1, 3)), np.ones((1, 1)), "values", rng), np.ones(3)
    )


def test_leave_one_out_needs_two_candidates():
    with pytest.raises(ValueError, match="at least 2 candidates, got 1"):
        neighbor_average(
            np.ones((1, 2)),
            np.ones((1, 1)),
            np.ones(2),
            np.ones((1, 2)),
            exclude=np.zeros(1, dtype=int),
        )


def test_unknown_kind():
    _, X, Y = _problem("values")
    with pytest.raises(ValueError, match="kind must be one of"):
        metric_loss(np.zeros(4), X, Y, X, Y, np.full(40, -1), "median")
