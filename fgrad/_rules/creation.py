"""Array creation: ``array``/``asarray`` of (nested lists of) traced values, ranges with
traced ends (``linspace``, ``logspace``, ``geomspace``), ``r_``/``c_``, and NumPy's own.

NumPy's other creation functions, dtypes and constants are re-exported unchanged: they take
shapes and Python values, never traced arrays.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from fgrad._core import Tracer, concrete, peek
from fgrad._rules.array_likes import contains_tracer
from fgrad._rules.declare import export, reexport_numpy
from fgrad._rules.elementwise import (
    add,
    divide,
    equal,
    floor,
    log10,
    multiply,
    power,
    sign,
    subtract,
    where,
)
from fgrad._rules.helpers import dtype_of, ndim_of, shape_of
from fgrad._rules.linear import astype, reshape, transpose
from fgrad._rules.shape import concatenate, expand_dims, moveaxis, stack, swapaxes

reexport_numpy(
    "arange", "bool_", "dtype", "e", "empty", "euler_gamma", "eye", "finfo", "float16",
    "float32", "float64", "identity", "iinfo", "inf", "int8", "int16", "int32", "int64",
    "intp", "meshgrid", "nan", "ndarray", "newaxis", "ones", "pi",
    "tri", "uint8", "zeros",
)  # fmt: skip


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
    if not contains_tracer(object):
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
    if not contains_tracer(a):
        return np.asarray(a, dtype=dtype)
    return _build(a, dtype)


# --- ranges with traced ends ------------------------------------------------------------------


def _traced(*values: Any) -> bool:
    return any(contains_tracer(v) for v in values)


def _as_traced_or_plain(value: Any) -> Any:
    return asarray(value) if contains_tracer(value) else np.asarray(value)


@export("linspace")
def linspace(
    start: Any,
    stop: Any,
    num: int = 50,
    endpoint: bool = True,
    retstep: bool = False,
    dtype: Any = None,
    axis: int = 0,
    **kwargs: Any,
) -> Any:
    """Differentiable ``numpy.linspace``: ``start`` and ``stop`` may be traced (and arrays).

    NumPy's algorithm, step for step: ``start + arange(num) * step`` with the last sample
    set to ``stop`` (``endpoint``); NumPy's fallback for a step that underflows to zero is
    applied per element (NumPy applies it to all elements when any step is zero). An
    integer ``dtype`` floors, as NumPy, and gives a plain array. ``device`` (NumPy 2) is
    accepted as NumPy's.

    Gradient: sample ``i`` moves with ``start`` by ``1 - i / div`` and with ``stop`` by
    ``i / div`` (``div = num - 1``, or ``num`` without the endpoint); ``retstep``'s step by
    ``-1 / div`` and ``1 / div``.

    Examples
    --------
    >>> fgrad.grad(lambda a, b: fnp.sum(fnp.linspace(a, b, 5) ** 2), argnums=(0, 1))(0.0, 1.0)
    (array(1.25), array(3.75))
    """
    if not _traced(start, stop):
        plain: Any = np.linspace
        return plain(start, stop, num, endpoint, retstep, dtype, axis, **kwargs)
    num = operator.index(num)
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    start, stop = _as_traced_or_plain(start), _as_traced_or_plain(stop)
    computed = np.result_type(dtype_of(start), dtype_of(stop), float)
    integer_dtype = dtype is not None and np.issubdtype(dtype, np.integer)
    if dtype_of(start) != computed:
        start = astype(start, computed)
    if dtype_of(stop) != computed:
        stop = astype(stop, computed)
    div = (num - 1) if endpoint else num
    delta = subtract(stop, start)
    ramp = np.arange(0, num, dtype=computed).reshape((-1,) + (1,) * ndim_of(delta))
    if div > 0:
        step = divide(delta, div)
        # NumPy's guard against a step that underflows to 0 (gh-5437), per element here:
        # reading the value would make jit guard it and vmap run once per example.
        y = where(equal(step, 0), multiply(ramp / div, delta), multiply(ramp, step))
    else:
        step = np.nan
        y = multiply(ramp, delta)
    y = add(y, start)
    if endpoint and num > 1:
        last = np.zeros(shape_of(y)[:1] + (1,) * (ndim_of(y) - 1), dtype=bool)
        last[-1] = True
        y = where(last, stop, y)
    if axis != 0:
        y = moveaxis(y, 0, axis)
    if integer_dtype:
        y = floor(y)
    if dtype is not None:
        y = astype(y, dtype)
    return (y, step) if retstep else y


@export("logspace")
def logspace(
    start: Any,
    stop: Any,
    num: int = 50,
    endpoint: bool = True,
    base: Any = 10.0,
    dtype: Any = None,
    axis: int = 0,
) -> Any:
    """Differentiable ``numpy.logspace``: ``base ** linspace(start, stop)``; ``start``,
    ``stop`` and ``base`` may be traced.

    Gradient: through :func:`linspace` and ``power``.

    Examples
    --------
    >>> fgrad.grad(lambda b: fnp.sum(fnp.logspace(0.0, b, 3, base=2.0)))(2.0)
    array(3.4657359)
    """
    if not _traced(start, stop, base):
        return np.logspace(start, stop, num, endpoint, base, dtype, axis)
    y = linspace(start, stop, num, endpoint, axis=axis)
    base = _as_traced_or_plain(base)
    if axis != 0:
        base = expand_dims(base, axis)
    out = power(base, y)
    return out if dtype is None else astype(out, dtype)


@export("geomspace")
def geomspace(
    start: Any, stop: Any, num: int = 50, endpoint: bool = True, dtype: Any = None, axis: int = 0
) -> Any:
    """Differentiable ``numpy.geomspace`` for real ``start`` and ``stop`` (either traced).

    NumPy's algorithm: :func:`logspace` between ``log10(|start|)`` and ``log10(|stop|)``
    with the ends set to ``start`` and ``stop`` exactly, times the sign of ``start``.

    Gradient: through ``log10``, :func:`logspace` and the exact ends.

    Examples
    --------
    >>> fgrad.grad(lambda b: fnp.sum(fnp.geomspace(1.0, b, 3)))(4.0)
    array(1.25)
    """
    if not _traced(start, stop):
        return np.geomspace(start, stop, num, endpoint, dtype, axis)
    start, stop = _as_traced_or_plain(start), _as_traced_or_plain(stop)
    if np.issubdtype(dtype_of(start), np.complexfloating) or np.issubdtype(
        dtype_of(stop), np.complexfloating
    ):
        raise TypeError(
            "fgrad.numpy.geomspace: complex start or stop is not supported on traced values"
        )
    computed = np.result_type(dtype_of(start), dtype_of(stop), float)
    start, stop = astype(start, computed), astype(stop, computed)
    if np.any(peek(start) == 0) or np.any(peek(stop) == 0):  # an input check: no value guard
        raise ValueError("Geometric sequence cannot include zero")
    shape = np.broadcast_shapes(shape_of(start), shape_of(stop))
    out_sign = np.broadcast_to(sign(start), shape)
    start, stop = divide(start, out_sign), divide(stop, out_sign)
    y = logspace(log10(start), log10(stop), num, endpoint, 10.0)
    if num > 0:
        ends = np.zeros((num,) + (1,) * len(shape), dtype=bool)
        ends[0] = True
        y = where(ends, start, y)
        if num > 1 and endpoint:
            ends = np.zeros_like(ends)
            ends[-1] = True
            y = where(ends, stop, y)
    y = multiply(out_sign, y)
    if axis != 0:
        y = moveaxis(y, 0, axis)
    return y if dtype is None else astype(y, dtype)


# --- r_ and c_ --------------------------------------------------------------------------------


class AxisConcatenator:
    """``numpy.r_`` / ``numpy.c_`` that accept traced values: ``fnp.r_[a, 0.0, 1:3, b]``.

    Without traced values the key goes to NumPy's object unchanged. With them, NumPy's rules:
    slices become ``arange`` (a complex step ``n`` * 1j: ``linspace`` with ``n`` samples,
    traced ends allowed), scalars and arrays are raised to ``ndmin`` dimensions (``trans1d``
    places their axes), all are cast to the common dtype and concatenated along ``axis``.
    A first string entry ``"axis"``, ``"axis,ndmin"`` or ``"axis,ndmin,trans1d"`` overrides
    those; the matrix directives ``"r"``/``"c"`` make ``np.matrix`` objects and are refused.

    Gradient: the cotangent split back to the pieces (and through ``linspace`` for slices).
    """

    def __init__(self, numpy_object: Any, axis: int, ndmin: int, trans1d: int) -> None:
        self.numpy_object, self.axis, self.ndmin, self.trans1d = (
            numpy_object,
            axis,
            ndmin,
            trans1d,
        )

    def __repr__(self) -> str:
        return f"fgrad.numpy.{'r_' if self.ndmin == 1 else 'c_'}"

    def __len__(self) -> int:
        return 0

    def _slice(self, item: slice) -> Any:
        start: Any = 0 if item.start is None else item.start
        step: Any = 1 if item.step is None else item.step
        if isinstance(step, (complex, np.complexfloating)):
            return linspace(start, item.stop, num=int(np.abs(step)))
        count = np.arange(concrete(start), concrete(item.stop), concrete(step)).size
        return add(multiply(np.arange(count), step), start) if count else np.arange(0)

    def __getitem__(self, key: Any) -> Any:
        key = key if isinstance(key, tuple) else (key,)
        if not _traced(*key) and not any(
            isinstance(k, slice) and _traced(k.start, k.stop, k.step) for k in key
        ):
            return self.numpy_object[key]
        axis, ndmin, trans1d = self.axis, self.ndmin, self.trans1d
        pieces: list[Any] = []
        kinds: list[Any] = []
        for k, item in enumerate(key):
            if isinstance(item, str):
                if k != 0:
                    raise ValueError("special directives must be the first entry.")
                if item in ("r", "c"):
                    raise TypeError(
                        f"fgrad.numpy.r_/c_: the matrix directive {item!r} builds np.matrix "
                        "objects, which fgrad does not trace; use arrays"
                    )
                try:
                    parts = [int(p) for p in item.split(",")]
                except ValueError as error:
                    raise ValueError(f"unknown special directive {item!r}") from error
                axis, ndmin, trans1d = (parts + [ndmin, trans1d][len(parts) - 1 :])[:3]
                continue
            if isinstance(item, slice):
                piece = self._slice(item)
                if ndmin > 1:
                    piece = reshape(piece, (1,) * (ndmin - 1) + shape_of(piece))
                    if trans1d != -1:
                        piece = swapaxes(piece, -1, trans1d)
                kinds.append(dtype_of(piece))
            elif type(item) in np.ScalarType:
                kinds.append(item)
                piece = np.array(item, ndmin=ndmin)
            else:
                piece = _as_traced_or_plain(item)
                item_ndim = ndim_of(piece)
                if item_ndim < ndmin:
                    piece = reshape(piece, (1,) * (ndmin - item_ndim) + shape_of(piece))
                    if trans1d != -1:
                        k2, k1 = ndmin - item_ndim, trans1d
                        if k1 < 0:
                            k1 += k2 + 1
                        axes = list(range(ndmin))
                        piece = transpose(piece, axes[:k1] + axes[k2:] + axes[k1:k2])
                kinds.append(dtype_of(piece))
            pieces.append(piece)
        if not pieces:
            return np.array([])
        final = np.result_type(*kinds)
        pieces = [p if dtype_of(p) == final else astype(p, final) for p in pieces]
        return concatenate(pieces, axis=axis)


r_ = AxisConcatenator(np.r_, 0, 1, -1)
c_ = AxisConcatenator(np.c_, -1, 2, 0)
export("r_", dispatch=False)(r_)  # type: ignore[type-var]
export("c_", dispatch=False)(c_)  # type: ignore[type-var]
