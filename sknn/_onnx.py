"""ONNX export of sknn's estimators through skl2onnx.

:func:`register_onnx_converters` tells skl2onnx how to convert
``MLPClassifierNN`` and ``MLPRegressorNN``, so ``skl2onnx.to_onnx(model)``
works for them and for any Pipeline that contains them.  Users need not call
it: skl2onnx finds converters in its own registry, keyed by the estimator's
class, and discovers no plug-ins, so ``import sknn`` registers them at once
when skl2onnx is already imported, and otherwise leaves a finder on
``sys.meta_path`` that registers them right after ``import skl2onnx`` has run
(:func:`register_when_skl2onnx_loads`).  sknn itself never imports skl2onnx:
it takes seconds to import and is an optional extra.  (skl2onnx's other route,
``onnx_converter``-style methods on the estimator, would bypass its
classifier parser, which declares the label and probability outputs and the
ZipMap option.)  The graph is the
network itself: ``MatMul`` and ``Add`` per layer, every hidden activation
(identity, logistic, tanh, relu, leaky_relu, elu and GELU's tanh
approximation) and every output (softmax, logistic for binary and multilabel
targets, identity, and the Poisson loss's clipped ``exp``).  The tabular
pair's encoder and layers are in :mod:`sknn._onnx_tabular`, the helpers both
use in :mod:`sknn._onnx_common`; :func:`register_onnx_converters` registers
both pairs.  skl2onnx and onnx are the optional ``onnx`` extra.
"""

from __future__ import annotations

import importlib.abc
import sys
import warnings

import numpy as np

from . import _onnx_tabular as tabular
from ._core.activations import _GELU_C, _GELU_K, LEAKY_RELU_SLOPE, _max_exponent
from ._onnx_common import classifier_outputs, const, labels, node

__all__ = ["register_onnx_converters", "register_when_skl2onnx_loads"]


def _gelu(scope, container, x):
    """``0.5 x (1 + tanh(c (x + k x^3)))``."""
    cube = node(scope, container, "Mul", [x, x], "sq")
    cube = node(scope, container, "Mul", [cube, x], "cube")
    k = const(scope, container, _GELU_K, "gelu_k")
    inner = node(scope, container, "Mul", [cube, k], "kx3")
    inner = node(scope, container, "Add", [x, inner], "inner")
    c = const(scope, container, _GELU_C, "gelu_c")
    inner = node(scope, container, "Mul", [inner, c], "u")
    t = node(scope, container, "Tanh", [inner], "t")
    one = const(scope, container, 1.0, "one")
    t = node(scope, container, "Add", [t, one], "t1")
    half = const(scope, container, 0.5, "half")
    t = node(scope, container, "Mul", [t, half], "t2")
    return node(scope, container, "Mul", [t, x], "gelu")


def _op(op, name, **attrs):
    """The emitter of an activation that is one ONNX operator."""

    def emit(scope, container, x):
        return node(scope, container, op, [x], name, **attrs)

    return emit


_HIDDEN = {
    "identity": lambda scope, container, x: x,
    "logistic": _op("Sigmoid", "sigmoid"),
    "tanh": _op("Tanh", "tanh"),
    "relu": _op("Relu", "relu"),
    "leaky_relu": _op("LeakyRelu", "leaky", alpha=LEAKY_RELU_SLOPE),
    "elu": _op("Elu", "elu", alpha=1.0),
    "gelu": _gelu,
}
"""The ONNX form of each hidden activation of ``ACTIVATIONS``, by name:
``emit(scope, container, x) -> y`` (the names of the tensors)."""


def _hidden(scope, container, name, x):
    emit = _HIDDEN.get(name)
    if emit is None:
        raise NotImplementedError(f"no ONNX form for activation {name!r}")
    return emit(scope, container, x)


def _network(scope, operator, container):
    """The last layer's pre-activation ``Z``, from the operator's input."""
    model = operator.raw_operator
    x = operator.inputs[0].full_name
    last = len(model.coefs_) - 1
    for i, (W, b) in enumerate(zip(model.coefs_, model.intercepts_)):
        w = const(scope, container, W, f"coef{i}")
        bias = const(scope, container, b, f"intercept{i}")
        x = node(scope, container, "MatMul", [x, w], f"mm{i}")
        x = node(scope, container, "Add", [x, bias], f"z{i}")
        if i < last:
            x = _hidden(scope, container, model.activation, x)
    return x


def _convert_classifier(scope, operator, container):
    model = operator.raw_operator
    z = _network(scope, operator, container)
    label, proba = operator.outputs[0].full_name, operator.outputs[1].full_name
    classes = np.asarray(model.classes_)
    if model.out_activation_ == "softmax":
        container.add_node("Softmax", [z], [proba], axis=1, name="softmax")
    elif len(classes) == 2 and model.n_outputs_ == 1:  # binary: one logit
        p = node(scope, container, "Sigmoid", [z], "p1")
        one = const(scope, container, 1.0, "one")
        q = node(scope, container, "Sub", [one, p], "p0")
        container.add_node("Concat", [q, p], [proba], axis=1, name="concat")
    else:  # multilabel: one logistic output per label
        container.add_node("Sigmoid", [z], [proba], name="sigmoid_out")
        half = const(scope, container, 0.5, "half")
        above = node(scope, container, "Greater", [proba, half], "above")
        container.add_node("Cast", [above], [label], to=7, name="cast")  # int64
        return
    index = node(scope, container, "ArgMax", [proba], "argmax", axis=1, keepdims=0)
    labels(scope, container, classes, index, label)


def _convert_regressor(scope, operator, container):
    model = operator.raw_operator
    z = _network(scope, operator, container)
    out = operator.outputs[0].full_name
    if model.out_activation_ == "exp":  # sknn clips before exp, so do we
        top = const(scope, container, _max_exponent(np.float32), "max_exp")
        z = node(scope, container, "Min", [z, top], "clip")
        container.add_node("Exp", [z], [out], name="exp")
    elif model.out_activation_ == "identity":
        container.add_node("Identity", [z], [out], name="identity")
    else:  # a new regression loss needs its output activation here
        raise NotImplementedError(
            f"no ONNX form for output activation {model.out_activation_!r}"
        )


def _regressor_shape(operator):
    from skl2onnx.common.data_types import FloatTensorType

    n = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = FloatTensorType([n, operator.raw_operator.n_outputs_])


def _classifier_shape(operator):
    model = operator.raw_operator
    classes = np.asarray(model.classes_)
    width = model.n_outputs_ if model.out_activation_ == "logistic" else len(classes)
    if len(classes) == 2 and model.n_outputs_ == 1:
        width = 2
    multilabel = model.out_activation_ == "logistic" and width != 2
    classifier_outputs(operator, width, multilabel)


def register_onnx_converters():
    """Register sknn's estimators with skl2onnx.

    After this call ``skl2onnx.to_onnx`` converts ``MLPClassifierNN``,
    ``MLPRegressorNN``, ``TabularMLPClassifier`` and ``TabularMLPRegressor``,
    alone or inside a Pipeline.  ``import sknn`` arranges for it to run as
    soon as skl2onnx is imported, so an explicit call is only needed where
    that was switched off (another finder loaded skl2onnx, say); calling it
    again is harmless.  Classifiers output the label and the
    probabilities (a ZipMap of them unless ``options={"zipmap": False}``).

    A tabular model reads one float tensor of all columns, or one ``(n, 1)``
    tensor per DataFrame column as ``to_onnx(model, X)`` declares for a
    DataFrame (string tensors for categorical columns, where the empty string
    is a missing value; skl2onnx cannot declare pandas' ``category`` dtype, so
    convert such columns to ``str`` or pass ``initial_types``).

    Raises
    ------
    ImportError
        Without skl2onnx (``pip install "sknn[onnx]"``).
    """
    from skl2onnx import update_registered_converter

    from ._mlp import MLPClassifierNN, MLPRegressorNN
    from ._tabular import TabularMLPClassifier, TabularMLPRegressor

    classifier_options = {"zipmap": [True, False, "columns"], "nocl": [True, False]}
    update_registered_converter(
        MLPClassifierNN,
        "SknnMLPClassifier",
        _classifier_shape,
        _convert_classifier,
        options=classifier_options,
    )
    update_registered_converter(
        MLPRegressorNN, "SknnMLPRegressor", _regressor_shape, _convert_regressor
    )
    update_registered_converter(
        TabularMLPClassifier,
        "SknnTabularMLPClassifier",
        tabular.classifier_shape,
        tabular.convert_classifier,
        options=classifier_options,
    )
    update_registered_converter(
        TabularMLPRegressor,
        "SknnTabularMLPRegressor",
        tabular.regressor_shape,
        tabular.convert_regressor,
    )


_SKL2ONNX = "skl2onnx"


def _register_after_import():
    """Register the converters once skl2onnx has loaded; a failure warns
    instead of breaking the user's ``import skl2onnx``."""
    try:
        register_onnx_converters()
    except Exception as exc:  # an skl2onnx release with another API, say
        warnings.warn(
            f"sknn could not register its ONNX converters with skl2onnx ({exc!r}); "
            "skl2onnx.to_onnx will not convert sknn estimators. Call "
            "sknn.register_onnx_converters() to see the full error.",
            RuntimeWarning,
            stacklevel=2,
        )


class _RegisteringLoader(importlib.abc.Loader):
    """skl2onnx's own loader, plus the registration after its ``exec_module``.

    The module gets its own loader back before it runs, so that nothing of
    this wrapper stays visible in ``skl2onnx.__loader__`` or ``__spec__``.
    """

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        _register_after_import()


class _Skl2onnxFinder(importlib.abc.MetaPathFinder):
    """A ``sys.meta_path`` entry that only watches for ``import skl2onnx``.

    Every other name is left to the next finders at once (``None``).  For
    skl2onnx it asks the other finders for the spec, wraps its loader in
    :class:`_RegisteringLoader` and leaves ``sys.meta_path``: it acts once.
    """

    _searching = False  # set while the other finders are asked

    def find_spec(self, fullname, path=None, target=None):
        if fullname != _SKL2ONNX or self._searching:
            return None
        self._searching = True  # a finder that asks sys.meta_path in turn
        try:
            for finder in list(sys.meta_path):
                find = getattr(finder, "find_spec", None)
                if finder is self or find is None:
                    continue
                spec = find(fullname, path, target)
                if spec is not None:
                    break
            else:
                return None  # not installed: the import fails as it would anyway
        finally:
            self._searching = False
        _remove_finder()
        if spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec  # a loader of the old protocol: left alone
        spec.loader = _RegisteringLoader(spec.loader)
        return spec


def _remove_finder():
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _Skl2onnxFinder)]


def register_when_skl2onnx_loads():
    """Make ``skl2onnx.to_onnx`` convert sknn's estimators without a call to
    :func:`register_onnx_converters` (``import sknn`` calls this).

    When skl2onnx is already imported the converters are registered now;
    otherwise a finder on ``sys.meta_path`` registers them right after the
    first ``import skl2onnx`` (or of any of its submodules) has run.  Neither
    imports skl2onnx.  Calling it again installs no second finder.
    """
    if _SKL2ONNX in sys.modules:
        _register_after_import()
    elif not any(isinstance(f, _Skl2onnxFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Skl2onnxFinder())


register_when_skl2onnx_loads()
