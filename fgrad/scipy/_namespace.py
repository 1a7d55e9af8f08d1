"""The module ``globals`` of an ``fgrad.scipy`` namespace, from the declarations."""

from __future__ import annotations

import importlib
from typing import Any

from fgrad._rules import declare


def exports(namespace: str) -> dict[str, Any]:
    """Name -> function of everything declared for ``namespace`` (``"scipy.special"``)."""
    return declare.exports(namespace)


def missing(namespace: str, name: str) -> str:
    """The message for ``fgrad.<namespace>.<name>`` that does not exist, with a way forward.

    Examples
    --------
    >>> print(missing("scipy.special", "gamma").partition(": ")[2])
    fgrad has no differentiable version of scipy.special.gamma yet. Call SciPy's on plain ...
    """
    message = declare.missing(namespace, name)
    if ": " in message or name.startswith("__"):
        return message
    module_name, _, distribution = namespace.rpartition(".")
    scipy_module: Any
    try:
        scipy_module = importlib.import_module(namespace)
    except ImportError:
        scipy_module = getattr(importlib.import_module(module_name), distribution, None)
    if scipy_module is None or not hasattr(scipy_module, name):
        return message
    return (
        f"{message}: fgrad has no differentiable version of {namespace}.{name} yet. Call "
        "SciPy's on plain values (fgrad.stop_gradient(x)) if no gradient must flow through "
        "it, or write it with fgrad.custom_vjp."
    )
