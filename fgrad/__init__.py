"""fgrad: functional reverse-mode automatic differentiation on plain NumPy.

Pure functions over parameter pytrees are differentiated by transforms:

>>> import numpy as np
>>> import fgrad
>>> import fgrad.numpy as fnp
>>> def loss(w, x, y):
...     return fnp.mean((fnp.tanh(x @ w) - y) ** 2)
>>> x, y = np.ones((4, 3)), np.zeros(4)
>>> value, dw = fgrad.value_and_grad(loss)(np.full(3, 0.1), x, y)
>>> dw.shape
(3,)

The examples in fgrad's docstrings assume these three imports (``np``, ``fgrad``, ``fnp``),
as NumPy's assume ``np``.
"""

import importlib
from typing import Any

from fgrad import _rules as _rules  # attaches the array interface to Tracer
from fgrad import config, tree
from fgrad._core import Tracer, UnexpectedTracerError
from fgrad._custom import checkpoint, custom_jvp, remat
from fgrad._jit import JitRetraceWarning, JitStats, Jitted, debug_print, jit
from fgrad._vmap import BatchingFallbackWarning, vmap
from fgrad.checking import GradientCheckError, check_grads
from fgrad.transforms import (
    custom_vjp,
    float0,
    grad,
    hessian,
    jacfwd,
    jacobian,
    jacrev,
    jvp,
    linearize,
    stop_gradient,
    value_and_grad,
    vjp,
)

__version__ = "0.1.0"

_SUBMODULES = (
    "checkpoints",
    "datasets",
    "flatten_util",
    "graph",
    "lax",
    "losses",
    "nn",
    "optim",
    "plot",
    "random",
)


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"fgrad.{name}")
    raise AttributeError(f"module 'fgrad' has no attribute {name!r}")


__all__ = [
    "BatchingFallbackWarning",
    "GradientCheckError",
    "JitRetraceWarning",
    "JitStats",
    "Jitted",
    "Tracer",
    "UnexpectedTracerError",
    "check_grads",
    "checkpoint",
    "config",
    "custom_jvp",
    "custom_vjp",
    "debug_print",
    "float0",
    "grad",
    "hessian",
    "jacfwd",
    "jacobian",
    "jacrev",
    "jit",
    "jvp",
    "linearize",
    "remat",
    "stop_gradient",
    "tree",
    "value_and_grad",
    "vjp",
    "vmap",
]
