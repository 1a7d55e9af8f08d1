"""Differentiable ``scipy.special``: the functions declared in ``fgrad/_rules/scipy_special.py``.

See ``fgrad.scipy`` for the list. A SciPy function fgrad lacks raises an
``AttributeError`` that says so.
"""

from typing import Any as _Any

from fgrad._rules import scipy_special as _rules  # noqa: F401  (declares the functions)
from fgrad.scipy import _namespace

globals().update(_namespace.exports("scipy.special"))

__all__ = sorted(_namespace.exports("scipy.special"))


def __getattr__(name: str) -> _Any:
    raise AttributeError(_namespace.missing("scipy.special", name))
