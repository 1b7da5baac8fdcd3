"""Invariants over the core's registries: every optimizer and activation.

A new entry in ``OPTIMIZERS`` or ``ACTIVATIONS`` is covered here without
editing this file: the L2 penalty acts, fits are bitwise reproducible, and the
NumPy and Numba paths agree.
"""

import inspect
from dataclasses import dataclass

import numpy as np
import pytest
from sklearn.datasets import load_diabetes

from sknn import MLPClassifierNN, MLPRegressorNN
from sknn._core import _fused
from sknn._core.activations import ACTIVATIONS, Activation
from sknn._core.optimizers import OPTIMIZERS, L2Gradient, Optimizer, Schedule
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
