"""Former home of the estimators, kept so that pickles made before the split
into :mod:`sknn._base`, :mod:`sknn._targets` and :mod:`sknn._mlp` still load
(pickle records a class by its module path)."""

from ._mlp import MLPClassifierNN, MLPRegressorNN

__all__ = ["MLPClassifierNN", "MLPRegressorNN"]
