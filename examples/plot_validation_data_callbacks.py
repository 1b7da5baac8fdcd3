"""
====================================================
Explicit validation data, callbacks and ``history_``
====================================================

scikit-learn's early stopping holds out a random ``validation_fraction`` of the
training data. sknn also accepts a validation set of your own through
``fit(X, y, X_val=..., y_val=...)``, and calls user functions after every
epoch. Here a callback stops training as soon as the validation accuracy
reaches a threshold, the per-epoch records in ``history_`` are printed, and
:class:`sknn.TrainingCurveDisplay` draws them.
"""

# %%
# Data: separate training, validation and test sets
# -------------------------------------------------
import os
import sys
import tempfile

import matplotlib

# sphinx_gallery_start_ignore
matplotlib.use("Agg")  # render to files, never open a window
# sphinx_gallery_end_ignore
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sknn import MLPClassifierNN, TrainingCurveDisplay

X, y = load_digits(return_X_y=True)
X_train, X_rest, y_train, y_rest = train_test_split(
    X, y, test_size=0.4, stratify=y, random_state=0
)
X_val, X_test, y_val, y_test = train_test_split(
    X_rest, y_rest, test_size=0.5, stratify=y_rest, random_state=0
)
scaler = StandardScaler().fit(X_train)
X_train, X_val, X_test = (scaler.transform(a) for a in (X_train, X_val, X_test))
print(f"train/validation/test sizes: {len(y_train)}/{len(y_val)}/{len(y_test)}")

# %%
# Callbacks
# ---------
# A callback receives one dict per epoch with the keys ``epoch``,
# ``train_loss``, ``val_score``, ``val_loss``, ``learning_rate`` and
# ``seconds``. Returning ``True`` stops training. A class with ``__call__``
# can keep state.
THRESHOLD = 0.96


def stop_at_threshold(record):
    """Stop once the validation accuracy reaches THRESHOLD."""
    score = record["val_score"]
    return score is not None and score >= THRESHOLD


class SlowestEpoch:
    """Remember the slowest epoch, never stop training."""

    def __init__(self):
        self.epoch, self.seconds = None, 0.0

    def __call__(self, record):
        if record["seconds"] > self.seconds:
            self.epoch, self.seconds = record["epoch"], record["seconds"]
        return False


slowest = SlowestEpoch()
clf = MLPClassifierNN(
    hidden_layer_sizes=(100,),
    early_stopping=True,
    n_iter_no_change=10,
    max_iter=200,
    callbacks=[stop_at_threshold, slowest],
    random_state=0,
)
clf.fit(X_train, y_train, X_val=X_val, y_val=y_val)

# %%
# What happened
# -------------
# ``history_`` holds the same records the callbacks saw;
# ``validation_scores_`` and ``loss_curve_`` are there as in scikit-learn.
print(f"{'epoch':>5}{'train loss':>12}{'val score':>11}{'val loss':>10}{'lr':>9}")
for record in clf.history_:
    if record["epoch"] % 5 and record is not clf.history_[-1]:
        continue  # every 5th epoch and the last one
    print(
        f"{record['epoch']:>5d}{record['train_loss']:>12.4f}"
        f"{record['val_score']:>11.4f}{record['val_loss']:>10.4f}"
        f"{record['learning_rate']:>9.2g}"
    )

last = clf.history_[-1]
stopped_by_callback = last["val_score"] >= THRESHOLD
reason = "the threshold callback" if stopped_by_callback else "early stopping"
print(f"stopped after {clf.n_iter_} epochs by {reason} (threshold {THRESHOLD})")
print(f"best validation score: {clf.best_validation_score_:.4f}")
print(f"validation_scores_ has {len(clf.validation_scores_)} entries")
print(f"test accuracy: {clf.score(X_test, y_test):.4f}")
print(f"slowest epoch: {slowest.epoch} ({slowest.seconds * 1000:.1f} ms)")

# %%
# ``history_`` converts directly to a table with pandas, if installed:
# ``pandas.DataFrame(clf.history_)``.

# %%
# The curves
# ----------
# The training and validation losses share the left axis; the validation
# accuracy is on the right, with the threshold the callback waited for.
fig, ax = plt.subplots(figsize=(6.5, 4))
display = TrainingCurveDisplay.from_estimator(clf, ax=ax)
display.ax_score_.axhline(THRESHOLD, color="0.5", linestyle=":", linewidth=1)
ax.set_title(f"stopped by a callback at validation accuracy {THRESHOLD}")
fig.tight_layout()

# sphinx_gallery_start_ignore
out_dir = os.environ.get("SKNN_EXAMPLES_OUTPUT", tempfile.gettempdir())
path = os.path.join(out_dir, "sknn_validation_callbacks.png")
fig.savefig(path, dpi=100)
if "sphinx_gallery" not in sys.modules:  # a script run, not the docs build
    print(f"figure saved to {path}")
# sphinx_gallery_end_ignore
