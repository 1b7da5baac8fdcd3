"""ONNX export of the tabular pair: the table encoder and the network.

The graph reads either one float tensor of shape ``(n, n_features)`` (a
numeric array, or the output of a preprocessing step in a Pipeline) or one
``(n, 1)`` tensor per DataFrame column, as ``skl2onnx.to_onnx(model, X)``
declares for a DataFrame: float, double, int64 or bool columns, and string
columns for categories.  In a string column the empty string stands for a
missing value.  Then:

- the encoder (:mod:`sknn._tabular_encode`): robust scaling with smooth
  clipping and missing-value flags for the numeric columns, ``LabelEncoder``
  codes for the categorical ones (0 for a category unseen in fit), the
  levels' target means looked up by code and scaled like numeric columns,
  one-hot columns or code columns, concatenated in the encoder's order;
- the network, one emitter per core layer type (:data:`_LAYERS`);
- the output activation of the loss (:data:`_OUTPUTS`: softmax, or ``exp``
  for the log-link regression losses);
- the neighbour blend (``neighbors``) when the fit kept one: the distance
  columns gathered from the encoded row (code columns compared with their
  kept codes), scaled, a softmax over the candidates of
  ``2 zq.zc - |zc|^2`` times their targets, mixed with the tempered
  probabilities (or the predictions);
- the output: probabilities (the mean over an ensemble's members) and the
  label of the largest, or the regression targets scaled back.

:func:`sknn._onnx.register_onnx_converters` registers these converters with
the drop-in pair's.
"""

from __future__ import annotations

import numpy as np

from . import _onnx_common as common
from ._core.activations import _max_exponent
from ._core.blocks import _SELU_A, _SELU_L, ParametricActivation, ScaledDense
from ._core.embeddings import (
    CategoricalEmbedding,
    FeatureScale,
    PeriodicEmbedding,
    PiecewiseLinearEmbedding,
)
from ._core.ensemble import EnsembleExpand, MemberHead
from ._core.layers import Dense, Dropout

__all__ = [
    "classifier_shape",
    "convert_classifier",
    "convert_regressor",
    "regressor_shape",
]


class _Graph:
    """Shorthands for adding nodes and constants to one converter's graph."""

    def __init__(self, scope, container):
        self.scope, self.container = scope, container

    def const(self, value, name="c"):
        return common.const(self.scope, self.container, value, name)

    def node(self, op, inputs, name="t", **attrs):
        return common.node(self.scope, self.container, op, inputs, name, **attrs)

    def ml(self, op, inputs, name, **attrs):
        out = self.scope.get_unique_variable_name(name)
        self.container.add_node(
            op,
            inputs,
            [out],
            op_domain="ai.onnx.ml",
            op_version=2,
            name=self.scope.get_unique_operator_name(op),
            **attrs,
        )
        return out

    def columns(self, x, index):
        """Columns ``index`` (a list of int) of the 2-D tensor ``x``."""
        return self.node("Gather", [x, self.const(np.asarray(index, np.int64))], axis=1)

    def reshape(self, x, shape):
        return self.node("Reshape", [x, self.const(np.asarray(shape, np.int64))])

    def concat(self, parts):
        return parts[0] if len(parts) == 1 else self.node("Concat", parts, axis=1)

    def to_float(self, x):
        return self.node("Cast", [x], "float", to=1)


# ------------------------------------------------------------------ encoder
def _input_columns(g, operator, n_features):
    """``column(j)``: column ``j`` of the input as an ``(n, 1)`` tensor, and
    whether it is a string tensor."""
    from skl2onnx.common.data_types import StringTensorType

    inputs = operator.inputs
    if len(inputs) == n_features:  # one tensor per column

        def column(j):
            var = inputs[j]
            return var.full_name, isinstance(var.type, StringTensorType)

        return column
    if len(inputs) != 1:
        raise RuntimeError(
            f"the ONNX graph has {len(inputs)} inputs for a model of {n_features} "
            "features: give one tensor of all columns or one per column"
        )
    x = inputs[0].full_name

    def column(j):
        return g.columns(x, [j]), False

    return column


def _numeric(g, c, x):
    """Robust scaling and smooth clipping; ``(z, missing)`` of one column."""
    x = g.to_float(x)
    missing = g.node("IsNaN", [x], "missing")
    z = g.node("Sub", [x, g.const(c.center)], "centred")
    z = g.node("Div", [z, g.const(c.scale)], "scaled")
    q = g.node("Div", [z, g.const(3.0)], "q")
    q = g.node("Mul", [q, q], "q2")
    q = g.node("Sqrt", [g.node("Add", [q, g.const(1.0)], "q2p1")], "root")
    z = g.node("Div", [z, q], "clipped")
    return g.node("Where", [missing, g.const(0.0), z], "numeric"), missing


def _codes(g, c, x, is_string):
    """The ``(n, 1)`` int64 codes of one categorical column."""
    n_levels = len(c.levels)
    values = list(range(1, n_levels + 1))
    missing_code = n_levels + 1 if c.has_missing else 0
    if is_string:
        if not all(isinstance(v, str) for v in c.levels):
            raise NotImplementedError(
                f"column {c.index} is a string input but was fitted on "
                "non-string categories"
            )
        keys = [str(v) for v in c.levels]
        if c.has_missing and "" not in keys:
            keys, values = [*keys, ""], [*values, missing_code]
        if not keys:  # only missing values in fit
            keys, values = [""], [missing_code]
        return g.ml(
            "LabelEncoder",
            [x],
            "codes",
            keys_strings=keys,
            values_int64s=values,
            default_int64=0,
        )
    x = g.to_float(x)
    keys = [float(v) for v in c.levels]
    if keys:
        codes = g.ml(
            "LabelEncoder",
            [x],
            "codes",
            keys_floats=keys,
            values_int64s=values,
            default_int64=0,
        )
    else:
        zero = g.node("Mul", [x, g.const(0.0)], "zero")
        codes = g.node("Cast", [zero], "codes", to=7)
    missing = g.node("IsNaN", [x], "missing")
    fill = g.const(np.asarray(missing_code, np.int64))
    return g.node("Where", [missing, fill, codes], "codes_m")


def _encoder(g, operator, encoder):
    """The encoded float matrix, the encoder's columns in its order."""
    column = _input_columns(g, operator, len(encoder.is_categorical_))
    numeric, flags = [], {}
    for c in encoder._numeric:
        z, missing = _numeric(g, c, column(c.index)[0])
        numeric.append(z)
        flags[c.index] = missing
    for t in getattr(encoder, "_target_means", []):
        # the level's mean target, looked up by code, then scaled
        codes = g.reshape(_codes(g, t.source, *column(t.source.index)), [-1, 1])
        means = g.node("Gather", [g.const(t.table), codes], "means", axis=0)
        numeric.append(_numeric(g, t.scaling, means)[0])
    parts = numeric + [g.to_float(flags[c.index]) for c in encoder._flags]
    for c in encoder._onehot:
        codes = _codes(g, c, *column(c.index))
        slots = g.const(np.arange(1, c.n_slots + 1, dtype=np.int64)[None, :])
        parts.append(g.to_float(g.node("Equal", [codes, slots], "onehot")))
    for c in encoder._coded:
        parts.append(g.to_float(_codes(g, c, *column(c.index))))
    return g.concat(parts)


# ------------------------------------------------------------------ layers
def _dense(g, layer, P, x, k):
    W, b = P
    scale = getattr(layer, "scale", 1.0)
    beta = getattr(layer, "_beta", 1.0)
    z = g.node("MatMul", [x, g.const(np.asarray(W, np.float64) * scale)], "mm")
    return g.node("Add", [z, g.const(np.asarray(b, np.float64) * beta)], "z")


def _member_head(g, layer, P, x, k):
    W, b = P
    x = g.reshape(x, [layer.k, -1, layer.n_in])
    z = g.node("MatMul", [x, g.const(np.asarray(W, np.float64) * layer.scale)], "mm")
    z = g.reshape(z, [-1, layer.n_out])
    return g.node("Add", [z, g.const(b)], "z")


def _expand(g, layer, P, x, k):
    (r,) = P
    x = g.reshape(x, [1, -1, layer.n_in])
    x = g.node("Mul", [x, g.const(np.asarray(r)[:, None, :])], "members")
    return g.reshape(x, [-1, layer.n_in])


def _feature_scale(g, layer, P, x, k):
    return g.node("Mul", [x, g.const(np.asarray(P[0], np.float64) * layer.lr_mult)])


def _embedding(g, layer, P, x, num, h):
    """The tail of a basis embedding: ``h`` (n, p, m) mapped by each column's
    ``V`` and ``c``, placed after the numeric columns ``num`` (see
    ``embeddings._BasisEmbedding``)."""
    V, c = P[0], P[-1]
    p, d = layer.p, layer.d
    h = g.node("Transpose", [h], "hT", perm=[1, 0, 2])  # (p, n, m)
    e = g.node("MatMul", [h, g.const(V)], "hv")  # (p, n, d)
    e = g.node("Add", [e, g.const(np.asarray(c)[:, None, :])], "e")
    e = g.reshape(g.node("Transpose", [e], "eT", perm=[1, 0, 2]), [-1, p * d])
    parts = [num, e]
    if layer.n_in > p:
        parts.append(g.columns(x, list(range(p, layer.n_in))))
    return g.concat(parts)


def _periodic(g, layer, P, x, k):
    _, w, b, _ = P
    num = g.columns(x, list(range(layer.p)))
    u = g.node("Mul", [g.reshape(num, [-1, layer.p, 1]), g.const(w)], "xw")  # (n, p, m)
    u = g.node("Add", [u, g.const(b)], "xwb")
    h = g.node("Cos", [g.node("Mul", [u, g.const(2.0 * np.pi)], "phase")], "h")
    return _embedding(g, layer, P, x, num, h)


def _piecewise(g, layer, P, x, k):
    num = g.columns(x, list(range(layer.p)))
    u = g.node("Sub", [g.reshape(num, [-1, layer.p, 1]), g.const(layer._lo)], "x_lo")
    u = g.node("Mul", [u, g.const(layer._inv)], "share")  # (n, p, m)
    h = g.node("Max", [u, g.const(np.zeros(()))], "above")
    h = g.node("Min", [h, g.const(np.ones(()))], "h")
    return _embedding(g, layer, P, x, num, h)


def _categorical(g, layer, P, x, k):
    s, parts = layer.start, []
    if s:
        parts.append(g.columns(x, list(range(s))))
    for j, E in enumerate(P):
        codes = g.node("Cast", [g.reshape(g.columns(x, [s + j]), [-1])], "idx", to=7)
        parts.append(g.node("Gather", [g.const(E), codes], "emb", axis=0))
    return g.concat(parts)


def _mish(g, z):
    """``z tanh(softplus(z))``."""
    t = g.node("Tanh", [g.node("Softplus", [z], "softplus")], "t")
    return g.node("Mul", [z, t], "mish")


_BASES = {
    "relu": lambda g, z: g.node("Relu", [z], "relu"),
    "selu": lambda g, z: g.node("Selu", [z], "selu", alpha=_SELU_A, gamma=_SELU_L),
    "mish": _mish,
}
"""The ONNX form of each base activation ``g`` of ``BASE_ACTIVATIONS``, by
name: ``emit(graph, z) -> g(z)``."""


def _base(g, name, z):
    emit = _BASES.get(name)
    if emit is None:
        raise NotImplementedError(f"no ONNX form for base activation {name!r}")
    return emit(g, z)


def _parametric(g, layer, P, z, k):
    act = _base(g, layer.base, z)
    if not layer.learnable:
        return act
    a = np.asarray(P[0], np.float64) * layer.lr_mult
    lin = g.node("Mul", [z, g.const(1.0 - a)], "lin")
    return g.node("Add", [lin, g.node("Mul", [act, g.const(a)], "mix")], "f")


def _identity(g, layer, P, x, k):
    return x


_LAYERS = {
    MemberHead: _member_head,
    ScaledDense: _dense,
    Dense: _dense,
    EnsembleExpand: _expand,
    FeatureScale: _feature_scale,
    PeriodicEmbedding: _periodic,
    PiecewiseLinearEmbedding: _piecewise,
    CategoricalEmbedding: _categorical,
    ParametricActivation: _parametric,
    Dropout: _identity,
}
"""ONNX emitter of each core layer the tabular networks use, by type (the
most derived first): ``emit(graph, layer, params, x, members) -> y``."""


def _emitter(layer):
    for kind, emit in _LAYERS.items():
        if isinstance(layer, kind):
            return emit
    raise NotImplementedError(f"no ONNX form for layer {type(layer).__name__}")


def _exp(g, z):
    """``exp(min(z, top))``: the core's ``exp`` output clips ``z`` at the
    largest exponent whose ``exp`` is finite (float32's: the graph's)."""
    top = g.const(np.asarray(_max_exponent(np.float32), np.float64))
    return g.node("Exp", [g.node("Min", [z, top], "z_top")], "exp")


_OUTPUTS = {
    "identity": lambda g, z: z,
    "logistic": lambda g, z: g.node("Sigmoid", [z], "logistic"),
    "softmax": lambda g, z: g.node("Softmax", [z], "softmax", axis=1),
    "exp": _exp,
}
"""The ONNX form of each output activation of ``OUTPUT_ACTIVATIONS``, by name:
``emit(graph, z) -> act(z)``."""


def _output(g, name, z):
    emit = _OUTPUTS.get(name)
    if emit is None:
        raise NotImplementedError(f"no ONNX form for output activation {name!r}")
    return emit(g, z)


def _network_output(g, model, x):
    """The output activations, averaged over cross-fitted networks (``n_cv >
    1``: one row of ``_params`` each), blended with the neighbours when the
    fit kept a blend."""
    params = np.asarray(model._params)
    if params.ndim == 1:
        out = _one_network(g, model._net, params, x)
    else:
        out = _one_network(g, model._net, params[0], x)
        for member in params[1:]:
            out = g.node("Add", [out, _one_network(g, model._net, member, x)], "sum")
        out = g.node("Mul", [out, g.const(np.asarray(1.0 / len(params)))], "mean")
    blend = model.__dict__.get("_neighbor_blend")
    if blend is None:
        return out
    return _blend(g, blend, model._neighbor_columns, x, out)


def _blend(g, blend, columns, x, out):
    """:class:`~sknn._core.neighbors.NeighborBlend` of the outputs ``out``,
    the distance columns read from the encoded rows ``x``."""
    parts = []
    if columns.dense_.size:
        parts.append(g.columns(x, columns.dense_.tolist()))
    for j, codes in zip(columns.code_columns_, columns.codes_):
        same = g.node("Equal", [g.columns(x, [int(j)]), g.const(codes[None, :])])
        parts.append(g.to_float(same))
    # the scaled distance columns, doubled: 2 zq
    scale = 2.0 * np.sqrt(blend.scales) / columns.scale_
    zq2 = g.node("Mul", [g.concat(parts), g.const(scale[None, :])], "zq2")
    Zc = blend.candidates * np.sqrt(blend.scales)
    logits = g.node("MatMul", [zq2, g.const(Zc.T)], "cross")
    logits = g.node("Sub", [logits, g.const((Zc * Zc).sum(axis=1)[None, :])], "logits")
    near = g.node("Softmax", [logits], "near", axis=1)
    average = g.node("MatMul", [near, g.const(blend.targets)], "average")
    if blend.kind == "labels":
        floor = g.const(np.asarray(1e-12))
        log_p = g.node("Log", [g.node("Max", [out, floor], "p")], "log_p")
        scaled = g.node("Mul", [log_p, g.const(np.asarray(1.0 / blend.temperature))])
        out = g.node("Softmax", [scaled], "tempered", axis=1)
    if blend.weight == 0:
        return out
    keep = g.node("Mul", [out, g.const(np.asarray(1.0 - blend.weight))], "keep")
    mix = g.node("Mul", [average, g.const(np.asarray(blend.weight))], "mix")
    return g.node("Add", [keep, mix], "blend")


def _one_network(g, net, params, x):
    """One network's output activations, batch-ensemble members averaged."""
    for layer, P in zip(net.layers, net.layer_views(params)):
        x = _emitter(layer)(g, layer, P, x, net.members)
    x = _output(g, net.out_activation.name, x)
    k = net.members
    if k > 1:  # the members' mean, as a product: no opset-dependent ReduceMean
        width = net.layer_units[-1]  # one member's outputs
        stacked = g.reshape(x, [k, -1])
        mean = g.node("MatMul", [g.const(np.full((1, k), 1.0 / k)), stacked], "mean")
        x = g.reshape(mean, [-1, width])
    return x


# ------------------------------------------------------------------ converters
# registered with skl2onnx, beside the drop-in pair's, by
# sknn._onnx.register_onnx_converters
def convert_classifier(scope, operator, container):
    g = _Graph(scope, container)
    model = operator.raw_operator
    proba = _network_output(g, model, _encoder(g, operator, model._encoder))
    label_name, proba_name = (v.full_name for v in operator.outputs[:2])
    classes = np.asarray(model.classes_)
    if len(classes) == 1:  # predict_proba is all ones
        first = g.columns(proba, [0])
        zero = g.node("Sub", [first, first], "zero")
        container.add_node("Add", [zero, g.const(np.ones((1, 1)))], [proba_name])
    else:
        container.add_node("Identity", [proba], [proba_name])
    index = g.node("ArgMax", [proba_name], "argmax", axis=1, keepdims=0)
    common.labels(scope, container, classes, index, label_name)


def convert_regressor(scope, operator, container):
    g = _Graph(scope, container)
    model = operator.raw_operator
    out = _network_output(g, model, _encoder(g, operator, model._encoder))
    out = g.node("Mul", [out, g.const(np.asarray(model._y_scale)[None, :])], "y")
    container.add_node(
        "Add",
        [out, g.const(np.asarray(model._y_mean)[None, :])],
        [operator.outputs[0].full_name],
        name=scope.get_unique_operator_name("Add"),
    )


def classifier_shape(operator):
    common.classifier_outputs(operator, len(operator.raw_operator.classes_))


def regressor_shape(operator):
    from skl2onnx.common.data_types import FloatTensorType

    n = operator.inputs[0].get_first_dimension()
    width = np.asarray(operator.raw_operator._y_mean).shape[0]
    operator.outputs[0].type = FloatTensorType([n, width])
