"""The estimators' docstrings, completed from the core's registries.

A docstring names a registry's options and their meanings with a token on a
line of its own (or inside a line, for the options set); :func:`fill`
replaces each token with text written from the registry, so adding an
activation, an optimizer or a schedule documents it where its constraint
already comes from.

Tokens: ``{{activation_options}}``, ``{{activation_doc}}``,
``{{solver_options}}``, ``{{solver_doc}}``, ``{{learning_rate_options}}``,
``{{learning_rate_doc}}``.
"""

from __future__ import annotations

import re
import textwrap

from ._core.activations import ACTIVATIONS
from ._core.optimizers import OPTIMIZERS, Schedule
from ._core.solvers import LBFGSSolver

__all__ = ["SOLVER_SUMMARIES", "fill", "options"]

SOLVER_SUMMARIES = {
    "lbfgs": LBFGSSolver.summary,
    **{name: cls.summary for name, cls in OPTIMIZERS.items()},
}
"""Every ``solver`` option with its line: 'lbfgs' and the stochastic ones."""

_KEEP = "\x00"
_LITERAL = re.compile(r"``.+?``")
_WIDTH = 79


def options(names):
    """``{'a', 'b'}``, the numpydoc form of a set of string options."""
    return "{" + ", ".join(repr(n) for n in names) + "}"


def _meanings(intro, pairs):
    """``intro`` then ``'name' meaning`` for each pair, as one paragraph."""
    text = intro + "; ".join(f"'{name}' {meaning}" for name, meaning in pairs) + "."
    # an inline literal stays on one line: its spaces are not break points
    return _LITERAL.sub(lambda m: m.group(0).replace(" ", _KEEP), text)


def _wrap(text, indent):
    """``text`` wrapped to the docstring's width at ``indent``."""
    wrapped = textwrap.fill(
        text,
        width=_WIDTH,
        initial_indent=indent,
        subsequent_indent=indent,
        break_on_hyphens=False,
        break_long_words=False,
    )
    return wrapped.replace(_KEEP, " ")


def _tokens():
    acts = {name: a.doc for name, a in ACTIVATIONS.items()}
    return {
        "activation_options": options(acts),
        "activation_doc": _meanings(
            "Hidden-layer activation: ", ((n, f"is {d}") for n, d in acts.items())
        ),
        "solver_options": options(SOLVER_SUMMARIES),
        "solver_doc": _meanings(
            "Weight optimiser: ",
            ((n, f"is {d}") for n, d in SOLVER_SUMMARIES.items()),
        ),
        "learning_rate_options": options(Schedule.KINDS),
        "learning_rate_doc": _meanings(
            "Learning-rate schedule of the stochastic solvers: ",
            Schedule.KINDS.items(),
        ),
    }


_TOKEN = re.compile(r"^([ ]*)\{\{(\w+_doc)\}\}$|\{\{(\w+_options)\}\}", re.M)


def fill(cls):
    """Class decorator: replace the registry tokens in ``cls.__doc__``.

    A ``*_doc`` token becomes a paragraph wrapped at the token's indentation.
    """
    tokens = _tokens()

    def sub(match):
        indent, paragraph, inline = match.groups()
        if paragraph is not None:
            return _wrap(tokens[paragraph], indent)
        return tokens[inline]

    cls.__doc__ = _TOKEN.sub(sub, cls.__doc__)
    return cls
