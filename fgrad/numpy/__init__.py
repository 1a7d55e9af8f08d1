"""Differentiable NumPy: ``import fgrad.numpy as fnp``.

Every function mirrors NumPy's name and signature. On plain arrays it calls
NumPy directly; on traced arrays it records a primitive whose gradient rule is
in ``fgrad._rules``. Functions with no gradient (``argmax``, comparisons,
``floor``...) return plain NumPy values. Array creation functions and
constants are NumPy's own.

Examples
--------
>>> import numpy as np
>>> import fgrad
>>> import fgrad.numpy as fnp
>>> fgrad.grad(lambda w: fnp.sum(fnp.tanh(w @ np.ones(2))))(np.zeros((1, 2)))
array([[1., 1.]])
"""

from typing import Any

import numpy as _np
from numpy import (
    arange,
    bool_,
    e,
    empty,
    euler_gamma,
    eye,
    finfo,
    float16,
    float32,
    float64,
    identity,
    iinfo,
    inf,
    int8,
    int16,
    int32,
    int64,
    intp,
    linspace,
    logspace,
    meshgrid,
    nan,
    ndarray,
    newaxis,
    ones,
    pi,
    tri,
    uint8,
    zeros,
)

from fgrad._core import Tracer as _Tracer
from fgrad._rules._define import document as _document
from fgrad._rules.calculus import *  # noqa: F403
from fgrad._rules.calculus import __all__ as _calculus_names
from fgrad._rules.elementwise import *  # noqa: F403
from fgrad._rules.elementwise import __all__ as _elementwise_names
from fgrad._rules.indexing import *  # noqa: F403
from fgrad._rules.indexing import __all__ as _indexing_names
from fgrad._rules.linalg import *  # noqa: F403
from fgrad._rules.linalg import __all__ as _linalg_names
from fgrad._rules.linear import *  # noqa: F403
from fgrad._rules.linear import __all__ as _structural_names
from fgrad._rules.linear import astype as _astype
from fgrad._rules.linear import getitem, scatter_add
from fgrad._rules.logic import *  # noqa: F403
from fgrad._rules.logic import __all__ as _logic_names
from fgrad._rules.products import *  # noqa: F403
from fgrad._rules.products import __all__ as _product_names
from fgrad._rules.reductions import *  # noqa: F403
from fgrad._rules.reductions import __all__ as _reduction_names
from fgrad._rules.shape import *  # noqa: F403
from fgrad._rules.shape import __all__ as _shape_names
from fgrad._rules.shape import stack as _stack
from fgrad._rules.sorting import *  # noqa: F403
from fgrad._rules.sorting import __all__ as _sorting_names
from fgrad.numpy import linalg


def _contains_tracer(obj: Any) -> bool:
    if obj.__class__ is _Tracer:
        return True
    if isinstance(obj, (list, tuple)):
        return any(_contains_tracer(o) for o in obj)
    return False


def _build(obj: Any, dtype: Any) -> Any:
    if isinstance(obj, (list, tuple)):
        return _stack([_build(o, dtype) for o in obj])
    if obj.__class__ is _Tracer:
        return obj if dtype is None else _astype(obj, dtype)
    return _np.asarray(obj, dtype=dtype)


def array(object: Any, dtype: Any = None, copy: bool = True, ndmin: int = 0) -> Any:
    if not _contains_tracer(object):
        return _np.array(object, dtype=dtype, copy=copy, ndmin=ndmin)
    out = _build(object, dtype)
    while out.ndim < ndmin:
        out = out.reshape((1,) + out.shape)
    return out


def asarray(a: Any, dtype: Any = None) -> Any:
    if not _contains_tracer(a):
        return _np.asarray(a, dtype=dtype)
    return _build(a, dtype)


_document(
    array,
    "``numpy.array`` that also accepts (nested lists of) traced arrays, stacking them.",
    "the cotangent split back to the stacked elements.",
    ">>> fgrad.grad(lambda x: fnp.sum(fnp.array([x, 2 * x, [1.0, 1.0]])))(np.ones(2))\n"
    "array([3., 3.])",
)
_document(
    asarray,
    "``numpy.asarray`` that also accepts (nested lists of) traced arrays; a tracer "
    "passes through unchanged.",
    "as :func:`array`.",
    ">>> fgrad.grad(lambda x: fnp.sum(fnp.asarray([x, x])))(1.5)\narray(2.)",
)

dtype = _np.dtype

__all__ = sorted(
    {
        *_elementwise_names,
        *_linalg_names,
        *_product_names,
        *_reduction_names,
        *_shape_names,
        *_structural_names,
        *_indexing_names,
        *_sorting_names,
        *_logic_names,
        *_calculus_names,
        "array",
        "asarray",
        "linalg",
        "arange",
        "bool_",
        "dtype",
        "e",
        "empty",
        "euler_gamma",
        "eye",
        "finfo",
        "float16",
        "float32",
        "float64",
        "identity",
        "iinfo",
        "inf",
        "int8",
        "int16",
        "int32",
        "int64",
        "intp",
        "linspace",
        "logspace",
        "meshgrid",
        "nan",
        "ndarray",
        "newaxis",
        "ones",
        "pi",
        "tri",
        "uint8",
        "zeros",
    }
    - {
        "unbroadcast",
        "scatter_add",
        "getitem",
        "cholesky",
        "det",
        "inv",
        "norm",
        "slogdet",
        "solve",
    }
) + ["scatter_add", "getitem"]

# Until this module is built from declare.DECLARATIONS: names declared only as aliases.
from fgrad._rules.declare import exports as _exports  # noqa: E402

_ALIASES = {k: v for k, v in _exports("numpy").items() if k not in globals()}
globals().update(_ALIASES)
__all__ += sorted(_ALIASES)
