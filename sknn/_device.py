"""The estimators' side of array-API inputs (CuPy arrays, PyTorch tensors).

With ``sklearn.set_config(array_api_dispatch=True)``, ``fit`` on arrays of
another namespace than NumPy trains on them through the core's array-API
backend (:mod:`sknn._core.array_api`): ``X`` stays where it is and is
validated there, while the labels or targets, the sample weights and the
label encoding are handled on the host (they are small) and the encoded
targets are copied to ``X``'s device.  Predictions come back in ``X``'s
namespace and on its device.  Pickling moves every array of a fitted model
to NumPy (:func:`to_host`).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.sparse as sp
from sklearn import get_config
from sklearn.utils.validation import validate_data

__all__ = [
    "astype",
    "check_X",
    "check_namespace",
    "check_numeric_classes",
    "converted_copy",
    "fit_backend",
    "is_device_array",
    "map_arrays",
    "numpy_dtype",
    "to_backend",
    "to_host",
]


def is_device_array(x):
    """Whether ``x`` is an array of an array-API namespace other than NumPy."""
    if x is None or isinstance(x, (np.ndarray, np.generic)) or sp.issparse(x):
        return False
    # the standalone array-api-compat when installed, else scikit-learn's copy
    from ._core.array_api import array_api_compat

    return array_api_compat.is_array_api_obj(x) and not (
        array_api_compat.is_numpy_array(x)
    )


def fit_backend(X):
    """The array-API backend of ``X`` when it is a non-NumPy array and
    scikit-learn's ``array_api_dispatch`` is on; None otherwise."""
    if not is_device_array(X) or not get_config()["array_api_dispatch"]:
        return None
    from ._core.array_api import backend_of

    return backend_of(X)


def check_X(estimator, X, backend, reset, allow_nan=False):
    """``X`` validated in its own namespace as a 2-D float array."""
    xp = backend.xp
    return validate_data(
        estimator,
        X,
        reset=reset,
        dtype=(xp.float64, xp.float32),
        ensure_all_finite="allow-nan" if allow_nan else True,
    )


def check_numeric_classes(classes):
    """Array-API fits predict labels in X's namespace: numeric ones only."""
    if classes is not None and classes.dtype.kind not in "biuf":
        raise ValueError(
            "Training on array-API inputs needs numeric class labels: predict "
            f"returns labels in X's namespace, which cannot hold {classes.dtype} "
            "labels. Encode the labels as integers (e.g. with LabelEncoder)."
        )


def check_namespace(estimator, X, fitted, method):
    """Under ``array_api_dispatch``, ``X`` must be in the namespace and on
    the device of the fitted array ``fitted`` (scikit-learn's rule and
    wording)."""
    if not get_config()["array_api_dispatch"]:
        return
    if not (is_device_array(fitted) or is_device_array(X)):
        return
    from ._core.array_api import backend_of

    if is_device_array(fitted) and is_device_array(X):
        was, now = backend_of(fitted), backend_of(X)
        if was is now:
            return
        if was.xp is not now.xp:
            detail = (
                f"Array namespaces used during fit ({was.xp.__name__}) and "
                f"{method} ({now.xp.__name__}) differ."
            )
        else:
            detail = (
                f"Devices used during fit ({was.device}) and {method} "
                f"({now.device}) differ."
            )
    else:
        was = backend_of(fitted).xp.__name__ if is_device_array(fitted) else "numpy"
        now = backend_of(X).xp.__name__ if is_device_array(X) else "numpy"
        detail = (
            f"Array namespaces used during fit ({was}) and {method} ({now}) differ."
        )
    raise ValueError(
        f"Inputs passed to {type(estimator).__name__}.{method}() must use the same "
        f"namespace and the same device as those passed to fit(). {detail} "
        "Move the model to X's namespace and device with "
        "sklearn.utils._array_api.move_estimator_to(model, xp, device)."
    )


def converted_copy(estimator, converter, names):
    """A copy of a fitted ``estimator`` whose attributes ``names`` went
    through ``converter`` array by array (``__sklearn_array_api_convert__``,
    which ``move_estimator_to`` calls)."""
    from sklearn.base import clone

    new = clone(estimator)
    state = {
        k: v for k, v in estimator.__dict__.items() if k not in estimator._TRANSIENT
    }
    for name in names:
        if state.get(name) is not None:
            state[name] = map_arrays(state[name], converter)
    new.__dict__.update(state)
    new._rebuild()
    return new


def numpy_dtype(X):
    """The NumPy dtype of the floating array ``X`` of any namespace."""
    from ._core.backend import for_arrays

    return for_arrays(X).numpy_dtype(X.dtype)


def astype(X, dtype):
    """``X`` in the NumPy dtype ``dtype`` (no copy when it already is)."""
    from ._core.backend import for_arrays

    return for_arrays(X).astype(X, dtype)


def to_host(obj):
    """``obj`` with every array of another namespace replaced by a NumPy copy
    (through lists, tuples, dicts and dataclasses such as the train state)."""
    from ._core.array_api import to_numpy

    return map_arrays(obj, to_numpy)


def to_backend(obj, backend):
    """``obj`` with every array moved to ``backend``'s namespace and device
    (NumPy arrays for a host backend)."""
    if backend is None or backend.host:
        return to_host(obj)
    from ._core.array_api import backend_of, to_numpy

    def move(a):
        if is_device_array(a) and backend_of(a) is backend:  # already there
            return a
        return backend.asarray(to_numpy(a))

    return map_arrays(obj, move)


def map_arrays(obj, fn):
    """``obj`` with ``fn`` applied to every array in it (NumPy's or another
    namespace's), through lists, tuples, dicts and dataclasses."""
    if isinstance(obj, np.ndarray) or is_device_array(obj):
        return fn(obj)
    return _map(obj, lambda value: map_arrays(value, fn))


def _map(obj, fn):
    if isinstance(obj, list):
        return [fn(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(fn(v) for v in obj)
    if isinstance(obj, dict):
        return {k: fn(v) for k, v in obj.items()}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        changes = {
            f.name: fn(getattr(obj, f.name)) for f in dataclasses.fields(obj) if f.init
        }
        return dataclasses.replace(obj, **changes)
    return obj
