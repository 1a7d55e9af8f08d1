"""Array creation: ``array``/``asarray`` of (nested lists of) traced values, and NumPy's own.

NumPy's creation functions, dtypes and constants are re-exported unchanged: they take
shapes and Python values, never traced arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fgrad._core import Tracer
from fgrad._rules.declare import export, reexport_numpy
from fgrad._rules.linear import astype
from fgrad._rules.shape import stack

reexport_numpy(
    "arange", "bool_", "dtype", "e", "empty", "euler_gamma", "eye", "finfo", "float16",
    "float32", "float64", "identity", "iinfo", "inf", "int8", "int16", "int32", "int64",
    "intp", "linspace", "logspace", "meshgrid", "nan", "ndarray", "newaxis", "ones", "pi",
    "tri", "uint8", "zeros",
)  # fmt: skip


def _contains_tracer(obj: Any) -> bool:
    if obj.__class__ is Tracer:
        return True
    if isinstance(obj, (list, tuple)):
        return any(_contains_tracer(o) for o in obj)
    return False


def _build(obj: Any, dtype: Any) -> Any:
    if isinstance(obj, (list, tuple)):
        return stack([_build(o, dtype) for o in obj])
    if obj.__class__ is Tracer:
        return obj if dtype is None else astype(obj, dtype)
    return np.asarray(obj, dtype=dtype)


@export("array", dispatch=False)
def array(object: Any, dtype: Any = None, copy: bool = True, ndmin: int = 0) -> Any:
    """``numpy.array`` that also accepts (nested lists of) traced arrays, stacking them.

    Gradient: the cotangent split back to the stacked elements.

    Examples
    --------
    >>> fgrad.grad(lambda x: fnp.sum(fnp.array([x, 2 * x, [1.0, 1.0]])))(np.ones(2))
    array([3., 3.])
    """
    if not _contains_tracer(object):
        return np.array(object, dtype=dtype, copy=copy, ndmin=ndmin)
    out = _build(object, dtype)
    while out.ndim < ndmin:
        out = out.reshape((1,) + out.shape)
    return out


@export("asarray", dispatch=False)
def asarray(a: Any, dtype: Any = None) -> Any:
    """``numpy.asarray`` that also accepts (nested lists of) traced arrays; a tracer passes through.

    Gradient: as :func:`array`.

    Examples
    --------
    >>> fgrad.grad(lambda x: fnp.sum(fnp.asarray([x, x])))(1.5)
    array(2.)
    """
    if not _contains_tracer(a):
        return np.asarray(a, dtype=dtype)
    return _build(a, dtype)
