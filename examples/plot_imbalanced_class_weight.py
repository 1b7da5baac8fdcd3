"""
======================================
Class weights for imbalanced classes
======================================

When one class is rare, a classifier trained on the plain log loss can reach a
high accuracy by mostly predicting the majority class. ``class_weight``
reweights the loss per class: ``"balanced"`` gives every class the same total
weight. This example compares balanced accuracy and per-class recall with and
without it.
"""

# %%
# An imbalanced problem
# ---------------------
# Two classes, about 5 % positives, with some label noise.
import os
import sys
import tempfile
import warnings

import matplotlib

# sphinx_gallery_start_ignore
matplotlib.use("Agg")  # render to files, never open a window
# sphinx_gallery_end_ignore
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import (
    ConfusionMatrixDisplay,
    balanced_accuracy_score,
    confusion_matrix,
    recall_score,
)
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknn import MLPClassifierNN

X, y = make_classification(
    n_samples=4000,
    n_features=20,
    n_informative=5,
    n_redundant=5,
    weights=[0.95, 0.05],
    flip_y=0.02,
    class_sep=0.8,
    random_state=0,
)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.5, stratify=y, random_state=0
)
print(f"class counts in the training set: {np.bincount(y_train)}")

# %%
# Without and with class weights
# ------------------------------
# The dict form ``{0: 1.0, 1: 10.0}`` is shown too; ``"balanced"`` computes
# weights ``n_samples / (n_classes * class_count)`` from the training labels.
# Each model sits in a pipeline behind a ``StandardScaler``.
settings = dict(hidden_layer_sizes=(64,), max_iter=100, random_state=0)
models = {
    "class_weight=None": MLPClassifierNN(**settings),
    "class_weight='balanced'": MLPClassifierNN(**settings, class_weight="balanced"),
    "class_weight={0: 1, 1: 10}": MLPClassifierNN(
        **settings, class_weight={0: 1.0, 1: 10.0}
    ),
}

predictions = {}
print(f"{'model':<28}{'accuracy':>10}{'bal. acc.':>11}{'recall 0':>10}{'recall 1':>10}")
for name, clf in models.items():
    with warnings.catch_warnings():
        # a fixed epoch budget is enough for this comparison
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe = make_pipeline(StandardScaler(), clf).fit(X_train, y_train)
    y_pred = predictions[name] = pipe.predict(X_test)
    recall = recall_score(y_test, y_pred, average=None)
    print(
        f"{name:<28}{np.mean(y_pred == y_test):>10.4f}"
        f"{balanced_accuracy_score(y_test, y_pred):>11.4f}"
        f"{recall[0]:>10.4f}{recall[1]:>10.4f}"
    )

# %%
# Plain accuracy is dominated by the common class, so it drops a little with
# class weights; the balanced accuracy and the recall of the rare class rise
# clearly, at the cost of some false alarms on the common class.
#
# Confusion matrices
# ------------------
# Rows are true classes, columns predicted classes. Weighting moves errors
# from the rare class to the common one.
shown = ["class_weight=None", "class_weight='balanced'"]
fig, axes = plt.subplots(1, 2, figsize=(8, 3.6))
for ax, name in zip(axes, shown):
    print(f"{name}:\n{confusion_matrix(y_test, predictions[name])}")
    ConfusionMatrixDisplay.from_predictions(
        y_test, predictions[name], ax=ax, colorbar=False, cmap="Blues"
    )
    ax.set_title(name)
fig.suptitle("MLPClassifierNN on a 95:5 problem, test set")
fig.tight_layout()

# sphinx_gallery_start_ignore
out_dir = os.environ.get("SKNN_EXAMPLES_OUTPUT", tempfile.gettempdir())
path = os.path.join(out_dir, "sknn_imbalanced_class_weight.png")
fig.savefig(path, dpi=100)
if "sphinx_gallery" not in sys.modules:  # a script run, not the docs build
    print(f"figure saved to {path}")
# sphinx_gallery_end_ignore
