"""Differentiable NumPy: ``import fgrad.numpy as fnp``.

Every function mirrors NumPy's name and signature. On plain arrays it calls
NumPy directly; on traced arrays it records a primitive whose gradient rule is
in ``fgrad._rules``. Functions with no gradient (``argmax``, comparisons,
``floor``...) return plain NumPy values. Array creation functions and
constants are NumPy's own. The names are those declared for this namespace in
the rule modules (``fgrad._rules.declare.DECLARATIONS``), plus ``linalg`` and ``fft``.

Examples
--------
>>> import numpy as np
>>> import fgrad
>>> import fgrad.numpy as fnp
>>> fgrad.grad(lambda w: fnp.sum(fnp.tanh(w @ np.ones(2))))(np.zeros((1, 2)))
array([[1., 1.]])
"""

from typing import Any as _Any

from fgrad._rules import declare as _declare
from fgrad.numpy import fft, linalg

globals().update(_declare.exports("numpy"))

__all__ = sorted([*_declare.exports("numpy"), "fft", "linalg"])


def __getattr__(name: str) -> _Any:
    raise AttributeError(_declare.missing("numpy", name))
