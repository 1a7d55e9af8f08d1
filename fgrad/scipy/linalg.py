"""Differentiable ``scipy.linalg``: the functions declared in ``fgrad/_rules/scipy_linalg.py``.

See ``fgrad.scipy`` for the list. A SciPy function fgrad lacks raises an
``AttributeError`` that says so.
"""

from typing import Any as _Any

from fgrad._rules import scipy_linalg as _rules  # noqa: F401  (declares the functions)
from fgrad.scipy import _namespace

globals().update(_namespace.exports("scipy.linalg"))

__all__ = sorted(_namespace.exports("scipy.linalg"))


def __getattr__(name: str) -> _Any:
    raise AttributeError(_namespace.missing("scipy.linalg", name))
