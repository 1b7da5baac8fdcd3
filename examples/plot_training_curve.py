"""
=============================
Plotting the training curve
=============================

:class:`sknn.TrainingCurveDisplay` plots a fitted estimator's training loss
per epoch together with its validation score, which makes over- and
under-fitting easy to spot. Needs matplotlib (``pip install ".[plot]"``).
"""

# %%
# Fit a regressor with early stopping
# -----------------------------------
# With ``early_stopping=True`` a validation score (R² here) is recorded every
# epoch next to the training loss.
import os
import sys
import tempfile

import matplotlib

# sphinx_gallery_start_ignore
matplotlib.use("Agg")  # render to files, never open a window
# sphinx_gallery_end_ignore
import matplotlib.pyplot as plt
from sklearn.datasets import load_diabetes
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknn import MLPRegressorNN, TrainingCurveDisplay

X, y = load_diabetes(return_X_y=True)
y = (y - y.mean()) / y.std()
reg = MLPRegressorNN(
    hidden_layer_sizes=(64, 32),
    learning_rate_init=3e-3,
    learning_rate="cosine",
    early_stopping=True,
    n_iter_no_change=20,
    max_iter=300,
    random_state=0,
)
model = make_pipeline(StandardScaler(), reg).fit(X, y)
print(f"{reg.n_iter_} epochs, best validation R^2 {reg.best_validation_score_:.3f}")

# %%
# Plot
# ----
# ``from_estimator`` takes the fitted MLP itself (not the pipeline) and an
# optional matplotlib ``Axes``. The training loss (left axis) keeps falling,
# while the validation R² (right axis) peaks and then declines: the network
# starts to overfit. Early stopping ends training ``n_iter_no_change`` epochs
# after the best validation score and restores the weights of that epoch.
fig, ax = plt.subplots(figsize=(6, 4))
display = TrainingCurveDisplay.from_estimator(reg, ax=ax)
ax.set_title("MLPRegressorNN on diabetes")
fig.tight_layout()
best_epoch = 1 + reg.validation_scores_.index(reg.best_validation_score_)
print(f"best validation epoch: {best_epoch} of {reg.n_iter_}")

# sphinx_gallery_start_ignore
out_dir = os.environ.get("SKNN_EXAMPLES_OUTPUT", tempfile.gettempdir())
path = os.path.join(out_dir, "sknn_training_curve.png")
fig.savefig(path, dpi=100)
if "sphinx_gallery" not in sys.modules:  # a script run, not the docs build
    print(f"figure saved to {path}")
# sphinx_gallery_end_ignore
