"""What the ONNX converters of both estimator pairs share.

Small helpers over skl2onnx's ``scope`` and ``container``: a constant, a
node, the label lookup and the typing of a classifier's outputs.  Both
:mod:`sknn._onnx` (the drop-in pair, and the registration of every
converter) and :mod:`sknn._onnx_tabular` (the tabular pair) import this
module; it imports neither.
"""

from __future__ import annotations

import numpy as np

__all__ = ["classifier_outputs", "const", "labels", "node"]


def const(scope, container, value, name):
    """An initializer holding ``value`` (float32 unless integer)."""
    from onnx import TensorProto

    value = np.asarray(value)
    kind = TensorProto.INT64 if value.dtype.kind in "iu" else TensorProto.FLOAT
    if kind == TensorProto.FLOAT:
        value = value.astype(np.float32)
    out = scope.get_unique_variable_name(name)
    container.add_initializer(out, kind, list(value.shape), value.ravel().tolist())
    return out


def node(scope, container, op, inputs, name, **attrs):
    """A node ``op`` of ``inputs`` with one new output, whose name it returns."""
    out = scope.get_unique_variable_name(name)
    container.add_node(
        op, inputs, [out], name=scope.get_unique_operator_name(op), **attrs
    )
    return out


def labels(scope, container, classes, index, label):
    """``label = classes[index]``, for integer or string classes."""
    if classes.dtype.kind in "iub":
        table = const(scope, container, classes.astype(np.int64), "classes")
    else:
        from onnx import TensorProto

        table = scope.get_unique_variable_name("classes")
        values = [str(c).encode() for c in classes]
        container.add_initializer(table, TensorProto.STRING, [len(values)], values)
    container.add_node(
        "Gather", [table, index], [label], name=scope.get_unique_operator_name("Gather")
    )


def classifier_outputs(operator, width, multilabel=False):
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
