"""Invariants over the core's registries: every optimizer and activation.

A new entry in ``OPTIMIZERS`` or ``ACTIVATIONS`` is covered here without
editing this file: the L2 penalty acts, fits are bitwise reproducible, and the
NumPy and Numba paths agree.  An activation (hidden or tabular base) and a
loss must be written in every place that docs/architecture.md lists, and an
unknown name is scikit-learn's ``InvalidParameterError``.
"""

import inspect
import re
from dataclasses import dataclass

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.utils._param_validation import InvalidParameterError

from sknn import (
    MLPClassifierNN,
    MLPRegressorNN,
    TabularMLPClassifier,
    TabularMLPRegressor,
)
from sknn import _onnx as onnx_export
from sknn import _onnx_tabular as onnx_tabular
from sknn._core import _fused, array_api
from sknn._core.activations import ACTIVATIONS, OUTPUT_ACTIVATIONS, Activation
from sknn._core.blocks import BASE_ACTIVATIONS, BASE_PARTS, ParametricActivation
from sknn._core.layers import Dense
from sknn._core.losses import LOSSES, Loss
from sknn._core.network import Network
from sknn._core.optimizers import OPTIMIZERS, L2Gradient, Optimizer, Schedule
from sknn._core.registry import lookup
from sknn._docstrings import SOLVER_SUMMARIES, fill

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return X[:200], (y[:200] - y.mean()) / y.std()


def _weights(est):
    return np.concatenate([a.ravel() for a in est.coefs_ + est.intercepts_])


def _reg(solver="adam", **params):
    return MLPRegressorNN(
        hidden_layer_sizes=(8,),
        solver=solver,
        max_iter=5,
        batch_size=32,
        random_state=0,
        **params,
    )


@pytest.mark.parametrize("solver", sorted(OPTIMIZERS))
def test_every_optimizer_applies_the_l2_penalty(diabetes, kernels, solver):
    # an update rule cannot drop the L2 term: the base class applies it
    X, y = diabetes
    plain = _weights(_reg(solver, alpha=0.0).fit(X, y))
    penalised = _weights(_reg(solver, alpha=10.0).fit(X, y))
    assert not np.array_equal(plain, penalised)
    n_coefs = 10 * 8 + 8 * 1
    # the penalty shrinks the weights
    assert np.linalg.norm(penalised[:n_coefs]) < np.linalg.norm(plain[:n_coefs])


@pytest.mark.parametrize("solver", sorted(OPTIMIZERS))
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_every_solver_and_activation_is_reproducible(diabetes, solver, activation):
    X, y = diabetes
    a = _reg(solver, activation=activation, dropout=0.1).fit(X, y)
    b = _reg(solver, activation=activation, dropout=0.1).fit(X, y)
    np.testing.assert_array_equal(_weights(a), _weights(b))
    assert np.isfinite(a.predict(X)).all()


@pytest.mark.skipif(not _fused.AVAILABLE, reason="Numba is not installed")
@pytest.mark.parametrize("solver", sorted(OPTIMIZERS))
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_numpy_and_numba_paths_agree(diabetes, solver, activation):
    # bit for bit on the regressor (the softmax output's exp/log are the one
    # place the kernels may differ in the last bit)
    X, y = diabetes
    fits = []
    for enabled in (False, True):
        with _fused.use(enabled):
            fits.append(
                _weights(_reg(solver, activation=activation, alpha=1e-3).fit(X, y))
            )
    np.testing.assert_array_equal(fits[0], fits[1])


@pytest.mark.parametrize("solver", sorted(OPTIMIZERS))
def test_every_optimizer_is_an_estimator_solver(solver):
    assert MLPClassifierNN(solver=solver).get_params()["solver"] == solver
    X = np.random.default_rng(0).normal(size=(40, 3))
    MLPClassifierNN(solver=solver, max_iter=2).fit(X, X[:, 0] > 0)


@dataclass(frozen=True)
class _SignDescent(Optimizer):
    """An optimizer written as a user would add one: init and a NumPy rule."""

    def init(self, params, backend=None):
        return {}

    # no ``kernel``: the generic rule runs on every backend
    def _rule(self, params, grad, state, lr, backend):
        params -= lr * np.sign(grad)


def test_a_new_optimizer_gets_the_l2_term_from_the_base_class(kernels):
    rng = np.random.default_rng(0)
    params = rng.normal(size=6)
    grad = rng.normal(size=6) * 1e-3  # the L2 term dominates its sign
    opt = _SignDescent()
    with_l2 = params.copy()
    opt.step(
        with_l2, grad.copy(), opt.init(with_l2), 0.1, l2=L2Gradient(1.0, 3, np.empty(3))
    )
    by_hand = params.copy()
    full = grad.copy()
    full[:3] += params[:3]
    opt.step(by_hand, full, opt.init(by_hand), 0.1)
    np.testing.assert_array_equal(with_l2, by_hand)
    assert not np.array_equal(with_l2[:3], params[:3] - 0.1 * np.sign(grad[:3]))


_REGISTRIES = {
    "activation": ACTIVATIONS,
    "solver": SOLVER_SUMMARIES,
    "learning_rate": Schedule.KINDS,
}


def _param_entry(doc, name):
    """The type line and description of parameter ``name`` in ``doc``."""
    lines = inspect.cleandoc(doc).splitlines()  # as Python 3.13 stores it
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{name} :"))
    end = next(i for i in range(start + 1, len(lines)) if lines[i][:1] != " ")
    return lines[start], " ".join(line.strip() for line in lines[start + 1 : end])


@pytest.mark.parametrize("Est", [MLPClassifierNN, MLPRegressorNN])
@pytest.mark.parametrize("param", sorted(_REGISTRIES))
def test_options_constraints_and_docs_come_from_the_registry(Est, param):
    names = set(_REGISTRIES[param])
    (constraint,) = Est._parameter_constraints[param]
    assert constraint.options == names
    type_line, text = _param_entry(Est.__doc__, param)
    assert "{{" not in Est.__doc__
    listed = type_line.split("{", 1)[1].split("}", 1)[0]
    assert {o.strip().strip("'") for o in listed.split(",")} == names
    for name in names:  # each option is described
        assert f"'{name}' " in text


def test_a_new_registry_entry_is_documented(monkeypatch):
    import sknn._core.activations as acts

    extra = Activation("softsign", lambda Z: Z, lambda A, dA, Z=None: dA, doc="``x``")
    monkeypatch.setitem(acts.ACTIVATIONS, "softsign", extra)

    class Doc:
        """Doc.

        Parameters
        ----------
        activation : {{activation_options}}, default='relu'
            {{activation_doc}}
        """

    doc = fill(Doc).__doc__
    assert "'softsign'}, default='relu'" in doc
    assert "'softsign' is ``x``." in " ".join(doc.split())


# ------------------------------------------------------------------ unknown names
def _unknown(registry, parameter, owner, got="'nope'", none=False):
    """scikit-learn's message for a name missing from ``registry``."""
    options = ", ".join(repr(k) for k in sorted(registry))
    among = f"a str among {{{options}}}" + (" or None" if none else "")
    return re.escape(
        f"The '{parameter}' parameter of {owner} must be {among}. Got {got} instead."
    )


def _odd_loss_network(monkeypatch):
    """A network whose loss names an output activation that does not exist."""
    odd = Loss("odd", "nope", LOSSES["squared_error"].per_sample)
    monkeypatch.setitem(LOSSES, "odd", odd)
    Network([3, 4, 1], "relu", "odd")


_UNKNOWN_NAMES = {
    "Network activation": (
        lambda mp: Network([3, 4, 2], "nope", "log_loss"),
        _unknown(ACTIVATIONS, "activation", "Network"),
    ),
    "Network activation, no hidden layer": (
        lambda mp: Network([3, 2], "nope", "log_loss"),
        _unknown(ACTIVATIONS, "activation", "Network"),
    ),
    "Network loss": (
        lambda mp: Network([3, 4, 2], "relu", "nope"),
        _unknown(LOSSES, "loss", "Network"),
    ),
    "Network.from_layers loss": (
        lambda mp: Network.from_layers(3, [Dense(2)], "nope"),
        _unknown(LOSSES, "loss", "Network"),
    ),
    "Loss out_activation": (
        _odd_loss_network,
        _unknown(OUTPUT_ACTIVATIONS, "out_activation", "Loss"),
    ),
    "Dense activation": (
        lambda mp: Dense(4, activation="nope"),
        _unknown(ACTIVATIONS, "activation", "Dense", none=True),
    ),
    "Dense activation, unhashable": (
        lambda mp: Dense(4, activation=["relu"]),
        _unknown(ACTIVATIONS, "activation", "Dense", got="['relu']", none=True),
    ),
    "ParametricActivation base": (
        lambda mp: ParametricActivation("nope"),
        _unknown(BASE_ACTIVATIONS, "base", "ParametricActivation"),
    ),
}


@pytest.mark.parametrize("case", sorted(_UNKNOWN_NAMES))
def test_an_unknown_name_is_an_invalid_parameter(monkeypatch, case):
    build, message = _UNKNOWN_NAMES[case]
    with pytest.raises(InvalidParameterError, match=message):
        build(monkeypatch)


def test_an_unknown_name_is_no_key_error():
    with pytest.raises(InvalidParameterError, match="parameter of Thing") as info:
        lookup({"a": 1}, "b", "kind", "Thing")
    assert not isinstance(info.value, KeyError)
    assert isinstance(info.value, ValueError)  # what scikit-learn's checks raise


def test_lookup_gives_the_entry_and_none_where_allowed():
    registry = {"b": 2, "a": 1}
    assert lookup(registry, "a", "kind", "Thing") == 1
    assert lookup(registry, None, "kind", "Thing", allow_none=True) is None
    with pytest.raises(
        InvalidParameterError, match=_unknown(registry, "kind", "Thing", got="None")
    ):
        lookup(registry, None, "kind", "Thing")


# ------------------------------------------------------------------ every place
# docs/architecture.md, "Adding an activation", lists where an activation is
# written; each test below fails when one of those places lacks the entry (or
# names one the registry does not have).
def _array_api_tables():
    """The array-API backend's tables, written with NumPy as the namespace."""
    return (
        array_api._activations(np),
        array_api._outputs(np),
        array_api._losses(np),
    )


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_every_activation_is_written_in_every_place(name):
    act = ACTIVATIONS[name]
    assert act.name == name
    assert act.backward is not None
    assert act.doc, "the estimators' docstrings show the formula in `doc`"
    hidden, _, _ = _array_api_tables()
    assert name in hidden, "array_api._activations"
    assert hidden[name].needs_input == act.needs_input
    assert name in onnx_export._HIDDEN, "sknn._onnx._HIDDEN"
    # Numba: every derivative written from the output has its fused kernel
    # (derivative times dA, then the bias gradient); one that reads Z stays
    # on NumPy
    assert (name in _fused.BACKWARD) == (not act.needs_input), "_fused.BACKWARD"


def test_no_place_names_an_activation_the_registry_lacks():
    hidden, outputs, losses = _array_api_tables()
    assert set(hidden) == set(ACTIVATIONS)
    assert set(onnx_export._HIDDEN) == set(ACTIVATIONS)
    assert set(_fused.BIAS_FORWARD) <= set(ACTIVATIONS)
    assert set(_fused.BACKWARD) <= set(ACTIVATIONS)
    assert set(outputs) == set(OUTPUT_ACTIVATIONS)
    assert set(losses) == set(LOSSES)
    assert set(_fused.OUTPUT) <= set(LOSSES)
    assert set(_fused.PARAMETRIC) == set(BASE_ACTIVATIONS)
    assert set(BASE_PARTS) == set(BASE_ACTIVATIONS)
    assert set(onnx_tabular._BASES) == set(BASE_ACTIVATIONS)


@pytest.mark.parametrize("name", sorted(BASE_ACTIVATIONS))
def test_every_base_activation_is_written_in_every_place(name):
    g, dg = BASE_ACTIVATIONS[name]
    assert callable(g) and callable(dg)
    assert name in BASE_PARTS, "blocks.BASE_PARTS (None when there is none)"
    assert name in _fused.PARAMETRIC, "_fused.PARAMETRIC"
    assert name in onnx_tabular._BASES, "sknn._onnx_tabular._BASES"


@pytest.mark.parametrize("Est", [TabularMLPClassifier, TabularMLPRegressor])
def test_the_tabular_docs_list_every_base_activation(Est):
    (constraint,) = Est._parameter_constraints["activation"]
    assert constraint.options == set(BASE_ACTIVATIONS)
    type_line = next(
        line.strip()
        for line in inspect.cleandoc(Est.__doc__).splitlines()
        if line.startswith("activation :")
    )
    listed = type_line.split("{", 1)[1].split("}", 1)[0]
    assert {o.strip().strip("'") for o in listed.split(",")} == set(BASE_ACTIVATIONS)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_every_loss_is_written_in_every_place(name):
    loss = LOSSES[name]
    assert loss.name == name
    assert loss.out_activation in OUTPUT_ACTIVATIONS
    _, outputs, losses = _array_api_tables()
    assert name in losses, "array_api._losses"
    assert losses[name].out_activation == loss.out_activation
    assert loss.out_activation in outputs, "array_api._outputs"


# a loss in every place, continued: the delta, the parameters, bound names,
# the tabular pair's ONNX output and the estimator's options
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_every_loss_is_written_alike_in_every_table(name):
    loss = LOSSES[name]
    _, _, losses = _array_api_tables()
    table = losses[name]
    # a non-canonical loss writes its delta in NumPy and in the namespaces
    assert (table.delta is None) == (loss.delta is None), "array_api._losses delta"
    assert table.params == loss.params, "array_api._losses parameters"
    if loss.params:  # a bound name resolves to the same values in both
        values = {key: 0.25 for key, _ in loss.params}
        bound = loss.bind(**values)
        assert LOSSES[bound.name] == bound
        assert losses[bound.name].params == bound.params
    # the tabular pair's ONNX graphs emit every output activation
    assert loss.out_activation in onnx_tabular._OUTPUTS, "_onnx_tabular._OUTPUTS"


def test_every_output_activation_has_a_tabular_onnx_form():
    assert set(onnx_tabular._OUTPUTS) == set(OUTPUT_ACTIVATIONS)


def test_the_tabular_regressor_offers_the_regression_losses():
    (constraint,) = TabularMLPRegressor._parameter_constraints["loss"]
    assert constraint.options <= set(LOSSES)
    # every loss of an identity or exp output (the regression links) is offered
    regression = {
        name
        for name, loss in LOSSES.items()
        if loss.out_activation in ("identity", "exp")
    }
    assert constraint.options == regression
