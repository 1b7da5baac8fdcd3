"""Looking a name up in one of the core's registries.

The core keeps its options in string-keyed registries (``ACTIVATIONS``,
``LOSSES``, ``BASE_ACTIVATIONS``, ...).  A name that a user passes in is looked
up with :func:`lookup`, so an unknown one raises scikit-learn's
``InvalidParameterError`` worded as scikit-learn's parameter validation words
it, whether it reached the core through an estimator or directly.
"""

from __future__ import annotations

from sklearn.utils._param_validation import InvalidParameterError

__all__ = ["lookup"]


def lookup(registry, name, parameter, owner, *, allow_none=False):
    """The entry of ``registry`` named ``name``.

    Parameters
    ----------
    registry : dict
        Entries by name.
    name : str or None
        The name to look up.
    parameter : str
        The parameter that ``name`` was passed as, for the message.
    owner : str
        The class or function that took the parameter, for the message.
    allow_none : bool, default=False
        Whether None is a valid value (it then gives None).

    Returns
    -------
    object
        ``registry[name]`` (None for None when ``allow_none``).

    Raises
    ------
    InvalidParameterError
        When ``name`` is not a key of ``registry``: ``The 'activation'
        parameter of Dense must be a str among {'elu', ...}. Got 'nope'
        instead.``

    Examples
    --------
    >>> lookup({"a": 1, "b": 2}, "b", "kind", "Thing")
    2
    >>> lookup({"a": 1, "b": 2}, "c", "kind", "Thing")
    Traceback (most recent call last):
        ...
    sklearn.utils._param_validation.InvalidParameterError: The 'kind' parameter \
of Thing must be a str among {'a', 'b'}. Got 'c' instead.
    """
    if name is None and allow_none:
        return None
    try:
        return registry[name]
    except (KeyError, TypeError):  # TypeError: an unhashable value
        pass
    options = ", ".join(repr(key) for key in sorted(registry))
    expected = f"a str among {{{options}}}" + (" or None" if allow_none else "")
    raise InvalidParameterError(
        f"The {parameter!r} parameter of {owner} must be {expected}. "
        f"Got {name!r} instead."
    ) from None
