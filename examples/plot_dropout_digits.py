"""
===========================
Dropout on the digits data
===========================

A wide network trained on a few hundred images can memorise its training set,
noise included. Dropout randomly silences hidden units during training, which
acts as a regulariser. This example trains the same
:class:`sknn.MLPClassifierNN` with and without dropout on the digits data,
made harder by appending pure-noise pixels, and compares test accuracy and
test log-loss.
"""

# %%
# Data
# ----
# The 8x8 digit images bundled with scikit-learn, plus 64 extra "pixels" of
# random noise on the same 0-16 scale. A small training set and the useless
# features make overfitting easy.
import os
import sys
import tempfile
import time
import warnings

import matplotlib

# sphinx_gallery_start_ignore
matplotlib.use("Agg")  # render to files, never open a window
# sphinx_gallery_end_ignore
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sknn import MLPClassifierNN

X, y = load_digits(return_X_y=True)
rng = np.random.default_rng(0)
X = np.hstack([X, rng.uniform(0, 16, size=X.shape)])
X_train, X_test, y_train, y_test = train_test_split(
    X, y, train_size=400, stratify=y, random_state=0
)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
print(f"train/test: {X_train.shape} / {X_test.shape}")

# %%
# Train with several dropout rates
# --------------------------------
# Everything but ``dropout`` is fixed. Every model runs the full epoch budget
# (the loss-plateau stop is disabled with ``n_iter_no_change=max_iter``), so
# the comparison is not confounded by different training lengths.
rates = [0.0, 0.2, 0.5]
test_accuracy, test_log_loss = [], []
for rate in rates:
    clf = MLPClassifierNN(
        hidden_layer_sizes=(80, 80),
        dropout=rate,
        max_iter=100,
        n_iter_no_change=100,
        random_state=0,
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        # running all max_iter epochs is intended here
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    test_accuracy.append(clf.score(X_test, y_test))
    test_log_loss.append(log_loss(y_test, clf.predict_proba(X_test)))
    print(
        f"dropout={rate:.1f}: train accuracy {clf.score(X_train, y_train):.4f}, "
        f"test accuracy {test_accuracy[-1]:.4f}, test log-loss "
        f"{test_log_loss[-1]:.4f} ({clf.n_iter_} epochs, {seconds:.1f} s)"
    )

# %%
# Compare
# -------
# All models fit the training set (almost) perfectly; with dropout they generalise
# better: higher test accuracy and lower test log-loss.
fig, (ax_acc, ax_loss) = plt.subplots(1, 2, figsize=(8, 3.5))
ax_acc.plot(rates, test_accuracy, "o-")
ax_acc.set_xlabel("dropout rate")
ax_acc.set_ylabel("test accuracy")
ax_loss.plot(rates, test_log_loss, "s-", color="C1")
ax_loss.set_xlabel("dropout rate")
ax_loss.set_ylabel("test log-loss")
fig.suptitle("MLPClassifierNN(hidden_layer_sizes=(80, 80)) on noisy digits")
fig.tight_layout()

# sphinx_gallery_start_ignore
out_dir = os.environ.get("SKNN_EXAMPLES_OUTPUT", tempfile.gettempdir())
path = os.path.join(out_dir, "sknn_dropout_digits.png")
fig.savefig(path, dpi=100)
if "sphinx_gallery" not in sys.modules:  # a script run, not the docs build
    print(f"figure saved to {path}")
# sphinx_gallery_end_ignore
