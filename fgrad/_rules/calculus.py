"""Differences, numerical derivatives, integration, interpolation and ``cross``.

Each is composed from slices, arithmetic and the linear primitives, so its gradient
follows from theirs, also with respect to traced spacings and coordinates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from fgrad import _compat
from fgrad._core import Tracer, detach
from fgrad._rules.declare import export, plain_values
from fgrad._rules.elementwise import equal, greater, less, where
from fgrad._rules.helpers import dtype_of, ndim_of, normalize_axes, shape_of
from fgrad._rules.linear import SUM, astype, broadcast_to, getitem, reshape
from fgrad._rules.shape import any_traced, concatenate, moveaxis, stack


class _NoValue:
    def __repr__(self) -> str:
        return "<no value>"


_NO_VALUE: Any = _NoValue()


def _take_slice(a: Any, axis: int, start: int | None, stop: int | None) -> Any:
    return getitem(a, (slice(None),) * axis + (slice(start, stop),))


@export("diff")
def diff(
    a: Any, n: int = 1, axis: int = -1, prepend: Any = _NO_VALUE, append: Any = _NO_VALUE
) -> Any:
    """Differentiable ``numpy.diff``.

    Gradient: through its composition of slices and subtractions (``n``, ``axis``, ``prepend``,
    ``append``; traced ``prepend``/``append`` get gradients too).

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda a: fnp.diff(a, 2, prepend=0.5), (x,))
    """
    if not any_traced([a, prepend, append]):
        kwargs = {k: v for k, v in (("prepend", prepend), ("append", append)) if v is not _NO_VALUE}
        return np.diff(a, n, axis, **kwargs)
    if n == 0:
        return a
    if n < 0:
        raise ValueError(f"order must be non-negative but got {n!r}")
    if a.__class__ is not Tracer:
        a = np.asarray(a)
    nd = ndim_of(a)
    if nd == 0:
        raise ValueError("diff requires input that is at least one dimensional")
    ax = normalize_axes(axis, nd, "diff")[0]
    parts = []
    for k, extra in enumerate((prepend, a, append)):
        if extra is _NO_VALUE:
            continue
        if k != 1:
            if extra.__class__ is not Tracer:
                extra = np.asarray(extra)
            if ndim_of(extra) == 0:
                shape = list(shape_of(a))
                shape[ax] = 1
                extra = broadcast_to(extra, tuple(shape))
        parts.append(extra)
    if len(parts) > 1:
        a = concatenate(parts, axis=ax)
    for _ in range(n):
        a = _take_slice(a, ax, 1, None) - _take_slice(a, ax, None, -1)
    return a


@export("ediff1d")
def ediff1d(ary: Any, to_end: Any = None, to_begin: Any = None) -> Any:
    """Differentiable ``numpy.ediff1d``.

    Gradient: through its composition (also for traced ``to_begin``/``to_end``).

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda a: fnp.ediff1d(a, to_begin=[1.0, 2.0]), (x,))
    """
    if not any_traced([ary, to_end, to_begin]):
        return np.ediff1d(ary, to_end, to_begin)
    flat = reshape(ary, (-1,)) if ary.__class__ is Tracer else np.asarray(ary).ravel()
    dtype = dtype_of(flat)
    middle = getitem(flat, (slice(1, None),)) - getitem(flat, (slice(None, -1),))
    parts = []
    for extra in (to_begin, middle, to_end):
        if extra is None:
            continue
        if extra is not middle:
            if extra.__class__ is Tracer:
                extra = reshape(astype(extra, dtype), (-1,))
            else:
                extra = np.asarray(extra, dtype=dtype).ravel()
        parts.append(extra)
    return concatenate(parts) if len(parts) > 1 else middle


@export("trapezoid", aliases=("trapz",) if hasattr(np, "trapz") else ())
def trapezoid(y: Any, x: Any = None, dx: Any = 1.0, axis: int = -1) -> Any:
    """Differentiable ``numpy.trapezoid``.

    Gradient: through ``sum(d * (y[1:] + y[:-1]) / 2)``, also with respect to traced coordinates
    ``x`` or spacing ``dx``.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda y, x: fnp.trapezoid(y, x), (x, np.array([0.0, 0.5, 1.5])))
    """
    if not any_traced([y, x, dx]):
        return _compat.trapezoid(y, x=x, dx=dx, axis=axis)
    y = y if y.__class__ is Tracer else np.asarray(y)
    nd = ndim_of(y)
    ax = normalize_axes(axis, nd, "trapezoid")[0]
    if x is None:
        d = dx
    else:
        x = x if x.__class__ is Tracer else np.asarray(x)
        if ndim_of(x) == 1:
            d = diff(x)
            d = reshape(d, tuple(-1 if i == ax else 1 for i in range(nd)))
        else:
            d = diff(x, axis=ax)
    pairs = _take_slice(y, ax, 1, None) + _take_slice(y, ax, None, -1)
    return SUM(d * pairs / 2.0, axis=(ax,), keepdims=False)


_np_gradient: Callable[..., Any] = _compat.gradient


@export("gradient")
def gradient(f: Any, *varargs: Any, axis: Any = None, edge_order: int = 1) -> Any:
    """Differentiable ``numpy.gradient``.

    Gradient: through its finite-difference formulas (scalar or coordinate spacings, ``axis``,
    ``edge_order`` 1 or 2; traced spacings get gradients too).

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda f: fnp.gradient(f, 0.5, axis=1, edge_order=2), (x,))
    """
    if not any_traced([f, *varargs]):
        return _np_gradient(f, *varargs, axis=axis, edge_order=edge_order)
    f = f if f.__class__ is Tracer else np.asarray(f, dtype=np.float64)
    N = ndim_of(f)
    if axis is None:
        axes = tuple(range(N))
    else:
        axes = tuple(
            normalize_axes(a, N, "gradient")[0]
            for a in (axis if isinstance(axis, (tuple, list)) else (axis,))
        )
        if len(set(axes)) != len(axes):
            raise ValueError("gradient: repeated axis")
    if edge_order > 2:
        raise ValueError("'edge_order' greater than 2 not supported")
    n = len(varargs)
    if n == 0:
        spacings: list[Any] = [1.0] * len(axes)
    elif n == 1 and ndim_of(varargs[0]) == 0:
        spacings = [varargs[0]] * len(axes)
    elif n == len(axes):
        spacings = []
        for ax, distances in zip(axes, varargs):
            if distances.__class__ is not Tracer:
                distances = np.asarray(distances)
                if np.issubdtype(distances.dtype, np.integer):
                    distances = distances.astype(np.float64)
            if ndim_of(distances) == 0:
                spacings.append(distances)
                continue
            if ndim_of(distances) != 1:
                raise ValueError("distances must be either scalars or 1d")
            if shape_of(distances)[0] != shape_of(f)[ax]:
                raise ValueError(
                    "when 1d, distances must match the length of the corresponding dimension"
                )
            step = diff(distances)
            # Constant plain spacings take NumPy's scalar path (same rounding); traced
            # ones keep the general formula, which is equal up to rounding.
            if step.__class__ is not Tracer and (step == step[0]).all():
                step = step[0]
            spacings.append(step)
    else:
        raise TypeError("invalid number of arguments")
    dtype = dtype_of(f)
    outs = []
    for ax, h in zip(axes, spacings):
        if shape_of(f)[ax] < edge_order + 1:
            raise ValueError(
                "Shape of array too small to calculate a numerical gradient, "
                "at least (edge_order + 1) elements are required."
            )
        uniform = ndim_of(h) == 0

        def piece(start: int | None, stop: int | None, ax: int = ax) -> Any:
            return _take_slice(f, ax, start, stop)

        def along(v: Any, ax: int = ax) -> Any:
            return reshape(v, tuple(-1 if i == ax else 1 for i in range(N)))

        if uniform:
            interior = (piece(2, None) - piece(None, -2)) / (2.0 * h)
        else:
            h1, h2 = h[0:-1], h[1:]
            a = -(h2) / (h1 * (h1 + h2))
            b = (h2 - h1) / (h1 * h2)
            c = h1 / (h2 * (h1 + h2))
            interior = (
                along(a) * piece(None, -2) + along(b) * piece(1, -1) + along(c) * piece(2, None)
            )
        if edge_order == 1:
            first = (piece(1, 2) - piece(0, 1)) / (h if uniform else h[0])
            last = (piece(-1, None) - piece(-2, -1)) / (h if uniform else h[-1])
        else:
            if uniform:
                a, b, c = -1.5 / h, 2.0 / h, -0.5 / h
            else:
                h1, h2 = h[0], h[1]
                a = -(2.0 * h1 + h2) / (h1 * (h1 + h2))
                b = (h1 + h2) / (h1 * h2)
                c = -h1 / (h2 * (h1 + h2))
            first = a * piece(0, 1) + b * piece(1, 2) + c * piece(2, 3)
            if uniform:
                a, b, c = 0.5 / h, -2.0 / h, 1.5 / h
            else:
                h1, h2 = h[-2], h[-1]
                a = (h2) / (h1 * (h1 + h2))
                b = -(h2 + h1) / (h1 * h2)
                c = (2.0 * h2 + h1) / (h2 * (h1 + h2))
            last = a * piece(-3, -2) + b * piece(-2, -1) + c * piece(-1, None)
        out = concatenate([first, interior, last], axis=ax)
        if dtype_of(out) != dtype:
            out = astype(out, dtype)
        outs.append(out)
    return outs[0] if len(outs) == 1 else tuple(outs)


def _interval_index(x: Any, xp: Any) -> Any:
    return np.clip(np.searchsorted(xp, x, side="right") - 1, 0, max(len(xp) - 2, 0))


_interval = plain_values(_interval_index, "interp_interval")


@export("interp")
def interp(
    x: Any, xp: Any, fp: Any, left: Any = None, right: Any = None, period: Any = None
) -> Any:
    """Differentiable ``numpy.interp``.

    Gradient: to ``fp`` the two interpolation weights; to ``x`` the slope of its interval; to
    ``xp`` through the slope; to traced ``left``/``right`` where they apply (away from the
    knots, where the slope jumps; ``period`` is not supported).

    Examples
    --------
    >>> x, xp, fp = np.array([0.3, 1.2, 2.5]), np.array([0.0, 1.0, 2.0]), np.array([1.0, -0.5, 2.0])
    >>> fgrad.check_grads(fnp.interp, (x, xp, fp))
    """
    if not any_traced([x, xp, fp, left, right]):
        return np.interp(x, xp, fp, left, right, period)
    if period is not None:
        raise TypeError(
            "fgrad.numpy.interp has no gradient rule for period=; unwrap the coordinates "
            "first (x % period, with xp extended by one period on each side)"
        )
    x, xp, fp = (
        v if v.__class__ is Tracer else np.asarray(v, dtype=np.float64) for v in (x, xp, fp)
    )
    if ndim_of(xp) != 1 or ndim_of(fp) != 1:
        raise ValueError("object too deep for desired array")
    n = shape_of(xp)[0]
    if n == 0:
        raise ValueError("array of sample points is empty")
    if shape_of(fp)[0] != n:
        raise ValueError("fp and xp are not of the same length.")
    xv, xpv = detach(x), detach(xp)
    first_x, last_x = getitem(xpv, 0), getitem(xpv, -1)
    low = getitem(fp, 0) if left is None else left
    high = getitem(fp, -1) if right is None else right
    if n == 1:
        out = where(less(xv, first_x), low, where(greater(xv, first_x), high, getitem(fp, 0)))
    else:
        j = _interval(xv, xpv)
        x0, x1 = getitem(xp, j), getitem(xp, j + 1)
        f0, f1 = getitem(fp, j), getitem(fp, j + 1)
        slope = (f1 - f0) / (x1 - x0)
        inside = where(equal(xv, detach(x0)), f0, slope * (x - x0) + f0)
        inside = where(equal(xv, last_x), getitem(fp, -1), inside)
        out = where(less(xv, first_x), low, where(greater(xv, last_x), high, inside))
    if dtype_of(out) != np.float64:
        out = astype(out, np.float64)
    return out


@export("cross")
def cross(
    a: Any, b: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis: Any = None
) -> Any:
    """Differentiable ``numpy.cross``.

    Gradient: through its composition: ``cross(b, g)`` and ``cross(g, a)`` (3-element vectors;
    ``axisa``, ``axisb``, ``axisc``, ``axis``).

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(fnp.cross, (x, np.array([1.0, -0.5, 2.0])))
    """
    if a.__class__ is not Tracer and b.__class__ is not Tracer:
        return np.cross(a, b, axisa, axisb, axisc, axis)
    if axis is not None:
        axisa = axisb = axisc = axis
    a = moveaxis(a if a.__class__ is Tracer else np.asarray(a), axisa, -1)
    b = moveaxis(b if b.__class__ is Tracer else np.asarray(b), axisb, -1)
    if shape_of(a)[-1] != 3 or shape_of(b)[-1] != 3:
        raise ValueError(
            "fgrad.numpy.cross: incompatible dimensions for cross product; traced arrays "
            "need vectors of 3 elements (2-element vectors are deprecated in NumPy 2)"
        )
    a0, a1, a2 = (getitem(a, (Ellipsis, i)) for i in range(3))
    b0, b1, b2 = (getitem(b, (Ellipsis, i)) for i in range(3))
    c = stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1)
    return moveaxis(c, -1, axisc)
