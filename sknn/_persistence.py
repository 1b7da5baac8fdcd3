"""Saving fitted models: pickle and joblib, and skops without running code.

Every sknn estimator pickles through :class:`_Persistent`: the state records
the sknn version (loading it under another version warns, as scikit-learn
does for its own), and objects that are rebuilt from the rest on load (a
fitted network's buffers and layer objects) are left out.

:func:`skops_trusted_types` lists the sknn types a saved model may contain,
so ``skops.io.load(file, trusted=sknn.skops_trusted_types())`` loads an sknn
model while refusing any other type that is not already trusted by skops
(scikit-learn's and NumPy's are).
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import warnings

from ._version import __version__

__all__ = ["skops_trusted_types"]


class _Persistent:
    """Versioned pickling; ``_TRANSIENT`` attributes are dropped and
    :meth:`_rebuild` restores them after loading."""

    _TRANSIENT: tuple = ()
    # attributes holding arrays in the fit's namespace (NumPy's, or a
    # device's for array-API inputs): pickled as NumPy arrays, and what
    # ``move_estimator_to`` converts
    _DEVICE_ARRAYS: tuple = ()

    def __getstate__(self):
        from ._device import to_host

        # a new dict: on Python >= 3.11 the parent may return self.__dict__
        state = {**super().__getstate__(), "_sknn_version": __version__}
        for name in self._TRANSIENT:
            state.pop(name, None)
        for name in self._DEVICE_ARRAYS:  # a device model pickles as a NumPy one
            if name in state:
                state[name] = to_host(state[name])
        return state

    def __sklearn_array_api_convert__(self, converter):
        """A copy with the ``_DEVICE_ARRAYS`` converted array by array: how
        scikit-learn's ``move_estimator_to`` moves an sknn model."""
        from ._device import converted_copy

        return converted_copy(self, converter, self._DEVICE_ARRAYS)

    def __setstate__(self, state):
        version = state.pop("_sknn_version", None)
        if version is not None and version != __version__:
            warnings.warn(
                f"Trying to unpickle {type(self).__name__} from sknn version "
                f"{version} when using version {__version__}. This might lead to "
                "breaking code or invalid results. Use at your own risk.",
                UserWarning,
                stacklevel=2,
            )
        super().__setstate__(state)
        self._rebuild()

    def _rebuild(self):
        """Recreate the transient attributes (nothing by default)."""


def _defined_in(module):
    """Classes and functions defined in ``module`` (not imported into it)."""
    for _, obj in inspect.getmembers(module):
        if (inspect.isclass(obj) or inspect.isfunction(obj)) and (
            obj.__module__ == module.__name__
        ):
            yield obj


def skops_trusted_types():
    """The sknn types that a saved sknn model may contain, for ``skops.io``.

    Returns
    -------
    list of str
        Sorted ``"module.name"`` strings of the classes and functions
        defined in sknn's modules: its estimators, the core's network,
        layers, initialisers, activations, losses, schedules and training
        state, and the table encoder.  No type from outside sknn is listed.

    Examples
    --------
    >>> import sknn
    >>> "sknn._mlp.MLPClassifierNN" in sknn.skops_trusted_types()
    True
    """
    # the package's folder, not ``import sknn``: sknn's __init__ imports this
    # module, and the walk below imports every module anyway
    root = os.path.dirname(os.path.abspath(__file__))
    names = set()
    for info in pkgutil.walk_packages([root], prefix=f"{__package__}."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for obj in _defined_in(module):
            names.add(f"{obj.__module__}.{obj.__qualname__}")
    return sorted(n for n in names if "<" not in n)
