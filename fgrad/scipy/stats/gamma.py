"""Differentiable ``scipy.stats.gamma`` (declared in ``fgrad/_rules/scipy_stats.py``)."""

from typing import Any as _Any

from fgrad._rules import scipy_stats as _rules  # noqa: F401  (declares the functions)
from fgrad.scipy import _namespace

globals().update(_namespace.exports("scipy.stats.gamma"))

__all__ = sorted(_namespace.exports("scipy.stats.gamma"))


def __getattr__(name: str) -> _Any:
    raise AttributeError(_namespace.missing("scipy.stats.gamma", name))
