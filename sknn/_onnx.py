"""ONNX export of sknn's estimators through skl2onnx.

:func:`register_onnx_converters` tells skl2onnx how to convert
``MLPClassifierNN`` and ``MLPRegressorNN``, so ``skl2onnx.to_onnx(model)``
works for them and for any Pipeline that contains them.  The graph is the
network itself: ``MatMul`` and ``Add`` per layer, every hidden activation
(identity, logistic, tanh, relu, leaky_relu, elu and GELU's tanh
approximation) and every output (softmax, logistic for binary and multilabel
targets, identity, and the Poisson loss's clipped ``exp``).  The tabular
pair's encoder and layers are in :mod:`sknn._onnx_tabular`.  skl2onnx and
onnx are the optional ``onnx`` extra.
"""

from __future__ import annotations

import numpy as np

from ._core.activations import _GELU_C, _GELU_K, LEAKY_RELU_SLOPE, _max_exponent

__all__ = ["register_onnx_converters"]


def _const(scope, container, value, name):
    """An initializer holding ``value`` (float32 unless integer)."""
    from onnx import TensorProto

    value = np.asarray(value)
    kind = TensorProto.INT64 if value.dtype.kind in "iu" else TensorProto.FLOAT
    if kind == TensorProto.FLOAT:
        value = value.astype(np.float32)
    out = scope.get_unique_variable_name(name)
    container.add_initializer(out, kind, list(value.shape), value.ravel().tolist())
    return out


def _node(scope, container, op, inputs, name, **attrs):
    out = scope.get_unique_variable_name(name)
    container.add_node(
        op, inputs, [out], name=scope.get_unique_operator_name(op), **attrs
    )
    return out


def _gelu(scope, container, x):
    """``0.5 x (1 + tanh(c (x + k x^3)))``."""
    cube = _node(scope, container, "Mul", [x, x], "sq")
    cube = _node(scope, container, "Mul", [cube, x], "cube")
    k = _const(scope, container, _GELU_K, "gelu_k")
    inner = _node(scope, container, "Mul", [cube, k], "kx3")
    inner = _node(scope, container, "Add", [x, inner], "inner")
    c = _const(scope, container, _GELU_C, "gelu_c")
    inner = _node(scope, container, "Mul", [inner, c], "u")
    t = _node(scope, container, "Tanh", [inner], "t")
    one = _const(scope, container, 1.0, "one")
    t = _node(scope, container, "Add", [t, one], "t1")
    half = _const(scope, container, 0.5, "half")
    t = _node(scope, container, "Mul", [t, half], "t2")
    return _node(scope, container, "Mul", [t, x], "gelu")


def _hidden(scope, container, name, x):
    if name == "identity":
        return x
    if name == "logistic":
        return _node(scope, container, "Sigmoid", [x], "sigmoid")
    if name == "tanh":
        return _node(scope, container, "Tanh", [x], "tanh")
    if name == "relu":
        return _node(scope, container, "Relu", [x], "relu")
    if name == "leaky_relu":
        return _node(
            scope, container, "LeakyRelu", [x], "leaky", alpha=LEAKY_RELU_SLOPE
        )
    if name == "elu":
        return _node(scope, container, "Elu", [x], "elu", alpha=1.0)
    if name == "gelu":
        return _gelu(scope, container, x)
    raise NotImplementedError(f"no ONNX form for activation {name!r}")


def _network(scope, operator, container):
    """The last layer's pre-activation ``Z``, from the operator's input."""
    model = operator.raw_operator
    x = operator.inputs[0].full_name
    last = len(model.coefs_) - 1
    for i, (W, b) in enumerate(zip(model.coefs_, model.intercepts_)):
        w = _const(scope, container, W, f"coef{i}")
        bias = _const(scope, container, b, f"intercept{i}")
        x = _node(scope, container, "MatMul", [x, w], f"mm{i}")
        x = _node(scope, container, "Add", [x, bias], f"z{i}")
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
        p = _node(scope, container, "Sigmoid", [z], "p1")
        one = _const(scope, container, 1.0, "one")
        q = _node(scope, container, "Sub", [one, p], "p0")
        container.add_node("Concat", [q, p], [proba], axis=1, name="concat")
    else:  # multilabel: one logistic output per label
        container.add_node("Sigmoid", [z], [proba], name="sigmoid_out")
        half = _const(scope, container, 0.5, "half")
        above = _node(scope, container, "Greater", [proba, half], "above")
        container.add_node("Cast", [above], [label], to=7, name="cast")  # int64
        return
    index = _node(scope, container, "ArgMax", [proba], "argmax", axis=1, keepdims=0)
    _labels(scope, container, classes, index, label)


def _labels(scope, container, classes, index, label):
    """``label = classes[index]``, for integer or string classes."""
    if classes.dtype.kind in "iub":
        table = _const(scope, container, classes.astype(np.int64), "classes")
    else:
        from onnx import TensorProto

        table = scope.get_unique_variable_name("classes")
        values = [str(c).encode() for c in classes]
        container.add_initializer(table, TensorProto.STRING, [len(values)], values)
    container.add_node(
        "Gather", [table, index], [label], name=scope.get_unique_operator_name("Gather")
    )


def _convert_regressor(scope, operator, container):
    model = operator.raw_operator
    z = _network(scope, operator, container)
    out = operator.outputs[0].full_name
    if model.out_activation_ == "exp":  # sknn clips before exp, so do we
        top = _const(scope, container, _max_exponent(np.float32), "max_exp")
        z = _node(scope, container, "Min", [z, top], "clip")
        container.add_node("Exp", [z], [out], name="exp")
    else:
        container.add_node("Identity", [z], [out], name="identity")


def _regressor_shape(operator):
    from skl2onnx.common.data_types import FloatTensorType

    n = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = FloatTensorType([n, operator.raw_operator.n_outputs_])


def _classifier_outputs(operator, width, multilabel=False):
    """Type a classifier's outputs: labels (one per row, or ``width`` 0/1
    columns for multilabel targets) and ``width`` probability columns."""
    from skl2onnx.common.data_types import (
        FloatTensorType,
        Int64TensorType,
        StringTensorType,
    )

    n = operator.inputs[0].get_first_dimension()
    classes = np.asarray(operator.raw_operator.classes_)
    if multilabel:
        operator.outputs[0].type = Int64TensorType([n, width])
    elif classes.dtype.kind in "iub":
        operator.outputs[0].type = Int64TensorType([n])
    else:
        operator.outputs[0].type = StringTensorType([n])
    operator.outputs[1].type = FloatTensorType([n, width])


def _classifier_shape(operator):
    model = operator.raw_operator
    classes = np.asarray(model.classes_)
    width = model.n_outputs_ if model.out_activation_ == "logistic" else len(classes)
    if len(classes) == 2 and model.n_outputs_ == 1:
        width = 2
    multilabel = model.out_activation_ == "logistic" and width != 2
    _classifier_outputs(operator, width, multilabel)


def register_onnx_converters():
    """Register sknn's estimators with skl2onnx.

    After this call ``skl2onnx.to_onnx`` converts ``MLPClassifierNN``,
    ``MLPRegressorNN``, ``TabularMLPClassifier`` and ``TabularMLPRegressor``,
    alone or inside a Pipeline.  Classifiers output the label and the
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

    update_registered_converter(
        MLPClassifierNN,
        "SknnMLPClassifier",
        _classifier_shape,
        _convert_classifier,
        options={"zipmap": [True, False, "columns"], "nocl": [True, False]},
    )
    update_registered_converter(
        MLPRegressorNN, "SknnMLPRegressor", _regressor_shape, _convert_regressor
    )
    from ._onnx_tabular import register_tabular

    register_tabular(update_registered_converter)
