"""What differs between the NumPy versions fgrad supports (1.26 and 2.x), in one place.

fgrad follows NumPy 2 everywhere: its array-API functions, the shapes ``linalg.solve``
accepts, tuples from ``gradient`` and, in ``fgrad.numpy``'s two-argument functions and
on traced values, NEP 50's rule that a Python number takes the float dtype it meets.
On NumPy 2 every name here is NumPy's own function (or the identity); on NumPy 1.26 it
is a small NumPy-only equivalent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

NUMPY_2 = np.lib.NumpyVersion(np.__version__) >= "2.0.0"

_np: Any = np
_PYTHON_NUMBERS = (int, float)


def _vector_norm_1x(x: Any, /, *, axis: Any = None, keepdims: bool = False, ord: Any = 2) -> Any:
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.inexact):
        x = x.astype(np.float64)
    if axis is None:
        axes = tuple(range(x.ndim))
    else:
        axes = _np.core.numeric.normalize_axis_tuple(axis, x.ndim)
    kept = tuple(i for i in range(x.ndim) if i not in axes)
    rows = np.transpose(x, kept + axes).reshape(tuple(x.shape[i] for i in kept) + (-1,))
    out = np.linalg.norm(rows, ord=ord, axis=-1)
    if keepdims:
        out = np.reshape(out, tuple(1 if i in axes else d for i, d in enumerate(x.shape)))
    return out


def _vecdot_1x(x1: Any, x2: Any, /, *, axis: int = -1) -> Any:
    x1 = np.moveaxis(np.asarray(x1), axis, -1)
    x2 = np.moveaxis(np.asarray(x2), axis, -1)
    return np.matmul(np.conj(x1)[..., None, :], x2[..., :, None])[..., 0, 0]


def _solve_1x(a: Any, b: Any) -> Any:
    a, b = np.asarray(a), np.asarray(b)
    vector = b.ndim == 1
    if vector:
        b = b[:, None]
    # NumPy 1.x reads a ``b`` with one axis fewer than ``a`` as a stack of vectors;
    # leading unit axes make it a stack of matrices, as NumPy 2 reads it.
    b = b.reshape((1,) * (a.ndim - b.ndim) + b.shape)
    x = np.linalg.solve(a, b)
    return x[..., 0] if vector else x


def _gradient_1x(f: Any, *varargs: Any, **kwargs: Any) -> Any:
    out = np.gradient(f, *varargs, **kwargs)
    return tuple(out) if isinstance(out, list) else out


def _weak_python_scalars(op: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def apply(x: Any, y: Any) -> Any:
        if x.__class__ in _PYTHON_NUMBERS:
            dtype = getattr(y, "dtype", None)
            if dtype is not None and dtype.kind in "fc":
                x = dtype.type(x)
        elif y.__class__ in _PYTHON_NUMBERS:
            dtype = getattr(x, "dtype", None)
            if dtype is not None and dtype.kind in "fc":
                y = dtype.type(y)
        return op(x, y)

    apply.__name__ = getattr(op, "__name__", "apply")
    return apply


def weak_python_scalars(op: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """``op`` with NEP 50's promotion of a Python ``int``/``float`` against a float array.

    NumPy 2 gives ``float32_scalar * 0.5`` the dtype float32; NumPy 1.26 gives float64
    when both operands are scalars or 0-d. On NumPy 1.26 the Python number is first
    converted to the other operand's floating dtype; on NumPy 2, ``op`` is returned as is.
    """
    return op if NUMPY_2 else _weak_python_scalars(op)


def _weak_python_scalar_vjp(vjp: Callable[..., Any]) -> Callable[..., Any]:
    def rule(g: Any, ans: Any, x: Any, y: Any, **params: Any) -> Any:
        if x.__class__ in _PYTHON_NUMBERS or y.__class__ in _PYTHON_NUMBERS:
            dtype = getattr(ans, "dtype", None)
            if dtype is not None and dtype.kind in "fc":
                if x.__class__ in _PYTHON_NUMBERS:
                    x = dtype.type(x)
                if y.__class__ in _PYTHON_NUMBERS:
                    y = dtype.type(y)
        return vjp(g, ans, x, y, **params)

    rule.__name__ = getattr(vjp, "__name__", "rule")
    return rule


def weak_python_scalar_vjps(
    vjps: tuple[Callable[..., Any] | None, ...],
) -> tuple[Callable[..., Any] | None, ...]:
    """The VJPs of a binary primitive made with :func:`weak_python_scalars`.

    On NumPy 1.26 a Python number operand is handed to each VJP as a scalar of the
    result's floating dtype, so that the cotangents keep that dtype too.
    """
    if NUMPY_2:
        return vjps
    return tuple(None if vjp is None else _weak_python_scalar_vjp(vjp) for vjp in vjps)


vector_norm: Callable[..., Any] = _np.linalg.vector_norm if NUMPY_2 else _vector_norm_1x
vecdot: Callable[..., Any] = _np.linalg.vecdot if NUMPY_2 else _vecdot_1x
solve: Callable[..., Any] = _np.linalg.solve if NUMPY_2 else _solve_1x
gradient: Callable[..., Any] = np.gradient if NUMPY_2 else _gradient_1x
trapezoid: Callable[..., Any] = _np.trapezoid if NUMPY_2 else _np.trapz


def fix(x: Any, out: Any = None) -> Any:
    """``numpy.fix``, which NumPy 2.5 deprecates: rounding toward zero is ``numpy.trunc``."""
    return np.trunc(x, out=out)
