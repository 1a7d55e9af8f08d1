"""Helpers shared by the rule modules: argument normalisation and array facts.

Everything here has a public name because several rule modules use it; nothing here
records a primitive of its own (the shared primitives, such as ``sum``, live in the
module of their family and are imported from there).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fgrad._core import Tracer, concrete, peek, value_dtype

__all__ = ["dtype_of", "ndim_of", "no_out", "normalize_axes", "shape_of", "strip"]


def strip(x: Any) -> Any:
    """``x`` with every tracer (also inside lists and tuples) replaced by its value."""
    if x.__class__ is Tracer:
        return concrete(x)
    if x.__class__ is list or x.__class__ is tuple:
        return x.__class__(strip(v) for v in x)
    return x


def shape_of(x: Any) -> tuple[int, ...]:
    """The shape of an array, tracer, scalar or nested list."""
    try:
        return x.shape
    except AttributeError:
        return np.shape(x)


def ndim_of(x: Any) -> int:
    """The number of dimensions of ``x`` (see :func:`shape_of`)."""
    return len(shape_of(x))


def dtype_of(x: Any) -> np.dtype[Any]:
    """The dtype NumPy would give ``x``, read without recording a value read."""
    if x.__class__ is list or x.__class__ is tuple:
        return np.asarray(_peek_all(x)).dtype
    return value_dtype(peek(x))


def _peek_all(x: Any) -> Any:
    if x.__class__ is list or x.__class__ is tuple:
        return [_peek_all(v) for v in x]
    return peek(x)


def normalize_axes(axis: Any, ndim: int, fn_name: str) -> tuple[int, ...]:
    """Axis argument as a sorted tuple of non-negative ints (``None``: all axes)."""
    if axis is None:
        return tuple(range(ndim))
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for a in axes:
        a = int(a)
        if not -ndim <= a < ndim:
            raise np.exceptions.AxisError(
                f"{fn_name}: axis {a} is out of bounds for an array of dimension {ndim}"
            )
        out.append(a % ndim if ndim else 0)
    if len(set(out)) != len(out):
        raise ValueError(f"{fn_name}: repeated axis in {axis!r}")
    return tuple(sorted(out))


def no_out(fn_name: str, out: Any) -> None:
    """Refuse ``out=``: writing into an existing array has no gradient."""
    if out is not None:
        raise TypeError(
            f"fgrad.numpy.{fn_name} does not take out=: writing into an existing array is "
            "in-place assignment, which has no gradient. Use the returned array."
        )
