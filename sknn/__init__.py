"""sknn: scikit-learn-compatible multi-layer perceptrons on a NumPy core.

``MLPClassifierNN`` and ``MLPRegressorNN`` accept every parameter of
scikit-learn's ``MLPClassifier`` and ``MLPRegressor`` (same defaults, same
fitted attributes) and add dropout, class weights, explicit validation data,
more optimizers and schedules, gradient clipping and per-epoch callbacks.
``TabularMLPClassifier`` and ``TabularMLPRegressor`` take a table as it is
(categorical columns, missing values) with defaults chosen for real tables.
"""

from sknn._display import TrainingCurveComparisonDisplay, TrainingCurveDisplay
from sknn._mlp import MLPClassifierNN, MLPRegressorNN
from sknn._onnx import register_onnx_converters
from sknn._persistence import skops_trusted_types
from sknn._tabular import TabularMLPClassifier, TabularMLPRegressor
from sknn._version import __version__

__all__ = [
    "MLPClassifierNN",
    "MLPRegressorNN",
    "TabularMLPClassifier",
    "TabularMLPRegressor",
    "TrainingCurveComparisonDisplay",
    "TrainingCurveDisplay",
    "__version__",
    "register_onnx_converters",
    "skops_trusted_types",
]
