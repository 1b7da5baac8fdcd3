"""Helpers shared by several test modules (imported as ``_common``)."""

import numpy as np
from sklearn.datasets import make_regression
from sklearn.preprocessing import StandardScaler

from sknn import MLPClassifierNN, MLPRegressorNN

RECORD_KEYS = {
    "epoch",
    "train_loss",
    "val_score",
    "val_loss",
    "learning_rate",
    "seconds",
}
"""Keys of every per-epoch record (``history_`` entries, callback argument)."""


def small_classifier(**params):
    """A fast MLPClassifierNN: 16 hidden units, 10 epochs, seed 0."""
    params = {"hidden_layer_sizes": (16,), "max_iter": 10, "random_state": 0, **params}
    return MLPClassifierNN(**params)


def small_regressor(**params):
    """A fast MLPRegressorNN: 16 hidden units, 10 epochs, seed 0."""
    params = {"hidden_layer_sizes": (16,), "max_iter": 10, "random_state": 0, **params}
    return MLPRegressorNN(**params)


def coefs_equal(a, b):
    """Whether two fitted networks have identical layers, weights and biases."""
    return len(a.coefs_) == len(b.coefs_) and all(
        np.array_equal(x, y)
        for x, y in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_)
    )


def scaled_regression():
    """300 x 8 regression problem, standard-scaled features and target."""
    X, y = make_regression(
        n_samples=300, n_features=8, n_informative=6, noise=5.0, random_state=0
    )
    X = StandardScaler().fit_transform(X)
    y = (y - y.mean()) / y.std()
    return X, y


def record_steps(monkeypatch, optimizer_cls):
    """Record the weights an ``optimizer_cls`` fit goes through.

    Returns a list that receives a copy of the parameters before the first
    step of each call, then after every step: ``[start, after step 1, ...]``
    (one list per ``fit`` call; a new call appends a new list).
    """
    runs = []
    original = optimizer_cls.step

    def step(self, params, grad, state, lr, l2=None, backend=None):
        if not runs or runs[-1][0] is not state:
            runs.append((state, [np.array(params, copy=True)]))
        original(self, params, grad, state, lr, l2=l2, backend=backend)
        runs[-1][1].append(np.array(params, copy=True))

    monkeypatch.setattr(optimizer_cls, "step", step)
    return runs


def moving_averages(trajectory, decay):
    """The weights' moving average after each step of ``trajectory``
    (``[start, after step 1, ...]``), as the ``ema_decay`` docs define it,
    in float64."""
    average, out = trajectory[0].astype(np.float64), []
    for t, params in enumerate(trajectory[1:]):
        d = min(decay, (1 + t) / (10 + t))
        average = d * average + (1.0 - d) * params
        out.append(average)
    return out


def moving_average(trajectory, decay):
    """The moving average after the last step of ``trajectory``."""
    return moving_averages(trajectory, decay)[-1]
