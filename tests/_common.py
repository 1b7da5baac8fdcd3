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
