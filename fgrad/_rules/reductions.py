"""Reductions and scans: mean, prod, max/min, var/std, average, cumsum, cumprod, their
NaN-ignoring versions, ptp, median, nanmedian, quantile/percentile and histogram.

``sum`` is in :mod:`fgrad._rules.linear` because every broadcasting rule needs it.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

import numpy as np

from fgrad._core import Primitive, Tracer, bind1, concrete, detach, peek
from fgrad._rules import batching
from fgrad._rules.calculus import diff
from fgrad._rules.declare import export, non_differentiable, plain_values
from fgrad._rules.elementwise import (
    any_true,
    conjugate,
    equal,
    isnan,
    less_equal,
    mask,
    real,
    sqrt,
    where,
)
from fgrad._rules.helpers import dtype_of, no_out, normalize_axes, shape_of
from fgrad._rules.linear import (
    SUM,
    astype,
    broadcast_to,
    getitem,
    reshape,
    spread,
    sum,
    transpose,
)
from fgrad._rules.shape import concatenate
from fgrad._rules.sorting import sort

_np_quantile: Callable[..., Any] = np.quantile
_np_percentile: Callable[..., Any] = np.percentile
# NumPy's stubs want a Literal ``keepdims``; here it is any bool.
_np_average: Callable[..., Any] = np.average
_add_reduce: Callable[..., Any] = np.add.reduce


def _kept_shape(shape: tuple[int, ...], axis: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if i in axis else d for i, d in enumerate(shape))


def _count(shape: tuple[int, ...], axis: tuple[int, ...]) -> int:
    n = 1
    for i in axis:
        n *= shape[i]
    return n


def _keep(g: Any, x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    """The reduced ``g`` reshaped so that it broadcasts against ``x``."""
    return g if keepdims else reshape(g, _kept_shape(shape_of(x), axis))


# --- mean ---------------------------------------------------------------------------


def _mean_impl(x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    if x.__class__ is np.ndarray and (x.dtype == np.float64 or x.dtype == np.float32):
        return _add_reduce(x, axis=axis, keepdims=keepdims) / x.dtype.type(_count(x.shape, axis))
    return np.mean(x, axis=axis, keepdims=keepdims)


def _mean_vjp(g: Any, ans: Any, x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    shape = shape_of(x)
    return spread(_keep(g, x, axis, keepdims) / _count(shape, axis), shape)


_MEAN = Primitive("mean", _mean_impl, (_mean_vjp,), batch=batching.along_axes)


@export("mean")
def mean(
    a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False
) -> Any:
    """Differentiable ``numpy.mean``.

    Gradient: the cotangent divided by the count and broadcast back.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda x: fnp.mean(x, axis=0), (x,))
    """
    no_out("mean", out)
    if a.__class__ is not Tracer:
        return np.mean(a, axis=axis, dtype=dtype, keepdims=keepdims)
    if dtype is not None:
        a = astype(a, dtype)
    return bind1(_MEAN, a, {"axis": normalize_axes(axis, a.ndim, "mean"), "keepdims": keepdims})


# --- max / min -----------------------------------------------------------------------


def _extreme_vjp(g: Any, ans: Any, x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    """The cotangent of max/min, split equally among ties; a NaN never equals the result."""
    kept = _kept_shape(shape_of(x), axis)
    hit = mask(equal(detach(x), reshape(detach(ans), kept)), g)
    share = hit / SUM(hit, axis=axis, keepdims=True)
    return _keep(g, x, axis, keepdims) * share


_MAX = Primitive("max", np.maximum.reduce, (_extreme_vjp,), batch=batching.along_axes)
_MIN = Primitive("min", np.minimum.reduce, (_extreme_vjp,), batch=batching.along_axes)
_NANMAX = Primitive("nanmax", np.fmax.reduce, (_extreme_vjp,), batch=batching.along_axes)
_NANMIN = Primitive("nanmin", np.fmin.reduce, (_extreme_vjp,), batch=batching.along_axes)


@export("max", aliases=("amax",))
def max(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:  # noqa: A001
    """Differentiable ``numpy.max`` (also ``amax``).

    Gradient: the cotangent to the maximal elements, split equally among ties.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda x: fnp.max(x, axis=1), (x,))
    """
    no_out("max", out)
    if a.__class__ is not Tracer:
        return np.max(a, axis=axis, keepdims=keepdims)
    return bind1(_MAX, a, {"axis": normalize_axes(axis, a.ndim, "max"), "keepdims": keepdims})


@export("min", aliases=("amin",))
def min(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:  # noqa: A001
    """Differentiable ``numpy.min`` (also ``amin``).

    Gradient: the cotangent to the minimal elements, split equally among ties.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda x: fnp.min(x, axis=0, keepdims=True), (x,))
    """
    no_out("min", out)
    if a.__class__ is not Tracer:
        return np.min(a, axis=axis, keepdims=keepdims)
    return bind1(_MIN, a, {"axis": normalize_axes(axis, a.ndim, "min"), "keepdims": keepdims})


@export("nanmax")
def nanmax(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
    """Differentiable ``numpy.nanmax``: the maximum ignoring NaNs.

    Gradient: the cotangent to the maximal elements, split equally among ties; 0 at the NaNs.

    Examples
    --------
    >>> x = np.array([[0.3, np.nan, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.grad(lambda x: fnp.nanmax(x, axis=0).sum())(x)
    array([[0., 0., 1.],
           [1., 1., 0.]])
    """
    no_out("nanmax", out)
    if a.__class__ is not Tracer:
        return np.nanmax(a, axis=axis, keepdims=keepdims)
    axes = normalize_axes(axis, a.ndim, "nanmax")
    return bind1(_NANMAX, a, {"axis": axes, "keepdims": keepdims})


@export("nanmin")
def nanmin(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
    """Differentiable ``numpy.nanmin``: the minimum ignoring NaNs.

    Gradient: the cotangent to the minimal elements, split equally among ties; 0 at the NaNs.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda x: fnp.nanmin(x, axis=1), (x,))
    """
    no_out("nanmin", out)
    if a.__class__ is not Tracer:
        return np.nanmin(a, axis=axis, keepdims=keepdims)
    axes = normalize_axes(axis, a.ndim, "nanmin")
    return bind1(_NANMIN, a, {"axis": axes, "keepdims": keepdims})


# --- prod ----------------------------------------------------------------------------


def _others_product(x: Any, axis: tuple[int, ...]) -> Any:
    """For each element, the product of the other elements along ``axis`` (exact at zeros)."""
    shape = shape_of(x)
    kept_axes = tuple(i for i in range(len(shape)) if i not in axis)
    n = _count(shape, axis)
    moved = transpose(x, kept_axes + axis)
    flat = reshape(moved, tuple(shape[i] for i in kept_axes) + (n,))
    one_out = np.eye(n, dtype=bool)
    rows = where(one_out, 1.0, reshape(flat, shape_of(flat)[:-1] + (1, n)))
    others = _PROD(rows, axis=(len(shape_of(rows)) - 1,), keepdims=False)
    unflat = reshape(others, shape_of(moved))
    return transpose(unflat, tuple(np.argsort(kept_axes + axis)))


def _prod_vjp(g: Any, ans: Any, x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    gk = _keep(g, x, axis, keepdims)
    if not any_true(equal(detach(x), 0)):
        return gk * (_keep(ans, x, axis, keepdims) / x)
    return gk * _others_product(x, axis)


_PROD = Primitive("prod", np.prod, (_prod_vjp,), batch=batching.along_axes)


@export("prod")
def prod(
    a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False
) -> Any:
    """Differentiable ``numpy.prod``.

    Gradient: the cotangent times the product of the other elements (exact when some are 0).

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda x: fnp.prod(x, axis=1), (x,))
    """
    no_out("prod", out)
    if a.__class__ is not Tracer:
        return np.prod(a, axis=axis, dtype=dtype, keepdims=keepdims)
    if dtype is not None:
        a = astype(a, dtype)
    return bind1(_PROD, a, {"axis": normalize_axes(axis, a.ndim, "prod"), "keepdims": keepdims})


# --- var / std / average ----------------------------------------------------------------


@export("var")
def var(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    ddof: float = 0,
    keepdims: bool = False,
) -> Any:
    """Differentiable ``numpy.var`` (``ddof`` supported); real also for complex input.

    Gradient: ``2 g (x - mean) / (n - ddof)``, through its composition; for complex
    input the variance is the mean of ``abs(x - mean)**2`` and the gradient
    ``2 g conj(x - mean) / (n - ddof)`` (JAX's ``d/dx - i d/dy``).

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda x: fnp.var(x, axis=1, ddof=1), (x,))
    >>> fgrad.check_grads(fnp.var, (np.array([1 + 2j, -0.5j, 0.3]),))
    """
    no_out("var", out)
    if a.__class__ is not Tracer:
        return np.var(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims)
    if dtype is not None:
        a = astype(a, dtype)
    axes = normalize_axes(axis, a.ndim, "var")
    centred = a - mean(a, axes, keepdims=True)
    n = _count(a.shape, axes)
    if dtype_of(centred).kind == "c":
        squares = real(centred * conjugate(centred))
    else:
        squares = centred * centred
    return SUM(squares, axis=axes, keepdims=keepdims) / builtins.max(n - ddof, 0)


@export("std")
def std(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    ddof: float = 0,
    keepdims: bool = False,
) -> Any:
    """Differentiable ``numpy.std`` (``ddof`` supported).

    Gradient: through ``sqrt(var)``; infinite where the spread is 0, as the true derivative.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda x: fnp.std(x, axis=0), (x,))
    """
    no_out("std", out)
    if a.__class__ is not Tracer:
        return np.std(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims)
    return sqrt(var(a, axis, dtype, ddof=ddof, keepdims=keepdims))


@export("average")
def average(a: Any, axis: Any = None, weights: Any = None, keepdims: bool = False) -> Any:
    """Differentiable ``numpy.average`` with optional (traced) weights.

    Gradient: through ``sum(a * w) / sum(w)``.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda x, w: fnp.average(x, 1, w), (x, np.array([1.0, 2.0, 0.5])))
    """
    if weights is None:
        return mean(a, axis, keepdims=keepdims)
    if a.__class__ is not Tracer and weights.__class__ is not Tracer:
        return _np_average(a, axis=axis, weights=weights, keepdims=keepdims)
    if shape_of(weights) != shape_of(a):
        if axis is None or len(shape_of(weights)) != 1:
            raise ValueError("average: 1-D weights need an int axis; otherwise match a's shape")
        ax = normalize_axes(axis, len(shape_of(a)), "average")[0]
        weights = reshape(weights, tuple(-1 if i == ax else 1 for i in range(len(shape_of(a)))))
        weights = broadcast_to(weights, shape_of(a))
    return sum(a * weights, axis, keepdims=keepdims) / sum(weights, axis, keepdims=keepdims)


# --- scans -----------------------------------------------------------------------------


def _reverse(x: Any, axis: int) -> Any:
    return getitem(x, (slice(None),) * axis + (slice(None, None, -1),))


def _cumsum_vjp(g: Any, ans: Any, x: Any, axis: int) -> Any:
    return _reverse(_CUMSUM(_reverse(g, axis), axis=axis), axis)


def _axis_last(ndim: int, axis: int) -> tuple[int, ...]:
    return tuple(i for i in range(ndim) if i != axis) + (axis,)


def _cumprod_vjp(g: Any, ans: Any, x: Any, axis: int) -> Any:
    if not any_true(equal(detach(x), 0)):
        return _reverse(_CUMSUM(_reverse(g * ans, axis), axis=axis), axis) / x
    n = shape_of(x)[axis]
    xm = transpose(x, _axis_last(len(shape_of(x)), axis))
    gm = transpose(g, _axis_last(len(shape_of(x)), axis))
    lead = shape_of(xm)[:-1]
    one_out = np.eye(n, dtype=bool)
    rows = where(one_out, 1.0, reshape(xm, lead + (1, n)))
    partial = _CUMPROD(rows, axis=len(lead) + 1)
    upper = np.triu(np.ones((n, n), dtype=dtype_of(g)))
    ct = SUM(partial * upper * reshape(gm, lead + (1, n)), axis=(len(lead) + 1,), keepdims=False)
    return transpose(ct, tuple(np.argsort(_axis_last(len(shape_of(x)), axis))))


_CUMSUM = Primitive("cumsum", np.cumsum, (_cumsum_vjp,), batch=batching.along_axes)
_CUMPROD = Primitive("cumprod", np.cumprod, (_cumprod_vjp,), batch=batching.along_axes)


def _scan(prim: Primitive, a: Tracer, axis: int | None, dtype: Any) -> Any:
    """``prim`` along ``axis`` of the traced ``a`` (flattened when ``axis`` is None)."""
    if dtype is not None:
        a = astype(a, dtype)
    if axis is None:
        a = reshape(a, (-1,))
        axis = 0
    return bind1(prim, a, {"axis": normalize_axes(axis, a.ndim, prim.name)[0]})


@export("cumsum")
def cumsum(a: Any, axis: int | None = None, dtype: Any = None, out: Any = None) -> Any:
    """Differentiable ``numpy.cumsum``.

    Gradient: the reversed cumulative sum of the cotangent.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda x: fnp.cumsum(x, axis=1), (x,))
    """
    no_out("cumsum", out)
    if a.__class__ is not Tracer:
        return np.cumsum(a, axis=axis, dtype=dtype)
    return _scan(_CUMSUM, a, axis, dtype)


@export("cumprod")
def cumprod(a: Any, axis: int | None = None, dtype: Any = None, out: Any = None) -> Any:
    """Differentiable ``numpy.cumprod``.

    Gradient: exact also when elements are 0 (quadratic-cost path in that case).

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda x: fnp.cumprod(x, axis=1), (x,))
    """
    no_out("cumprod", out)
    if a.__class__ is not Tracer:
        return np.cumprod(a, axis=axis, dtype=dtype)
    return _scan(_CUMPROD, a, axis, dtype)


# --- ignoring NaNs ----------------------------------------------------------------------


def _without_nan(a: Any, fill: float) -> Any:
    """``a`` with its NaNs replaced by ``fill`` (which gets no gradient)."""
    return where(isnan(detach(a)), fill, a)


def _count_valid_impl(x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    dtype = x.dtype if np.issubdtype(x.dtype, np.inexact) else np.dtype(np.float64)
    return np.sum(~np.isnan(x), axis=axis, keepdims=keepdims).astype(dtype)


_count_valid = plain_values(_count_valid_impl, "count_not_nan", batching.along_axes)


@export("nansum")
def nansum(
    a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False
) -> Any:
    """Differentiable ``numpy.nansum``: NaNs count as 0.

    Gradient: the cotangent broadcast back; 0 at the NaNs.

    Examples
    --------
    >>> x = np.array([[0.3, np.nan, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.grad(lambda x: fnp.nansum(3 * x))(x)
    array([[3., 0., 3.],
           [3., 3., 3.]])
    """
    no_out("nansum", out)
    if a.__class__ is not Tracer:
        return np.nansum(a, axis=axis, dtype=dtype, keepdims=keepdims)
    return sum(_without_nan(a, 0.0), axis, dtype, keepdims=keepdims)


@export("nanprod")
def nanprod(
    a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False
) -> Any:
    """Differentiable ``numpy.nanprod``: NaNs count as 1.

    Gradient: as ``prod`` over the other elements; 0 at the NaNs.

    Examples
    --------
    >>> x = np.array([[0.3, np.nan, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.grad(lambda x: fnp.nanprod(x, axis=1).sum())(x)
    array([[ 0.5 ,  0.  ,  0.3 ],
           [-0.28, -0.8 ,  1.4 ]])
    """
    no_out("nanprod", out)
    if a.__class__ is not Tracer:
        return np.nanprod(a, axis=axis, dtype=dtype, keepdims=keepdims)
    return prod(_without_nan(a, 1.0), axis, dtype, keepdims=keepdims)


@export("nanmean")
def nanmean(
    a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False
) -> Any:
    """Differentiable ``numpy.nanmean``: the mean of the non-NaN elements.

    Gradient: the cotangent divided by the number of non-NaN elements; 0 at the NaNs.

    Examples
    --------
    >>> x = np.array([[0.3, np.nan, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.grad(lambda x: fnp.nanmean(x, axis=1).sum())(x)
    array([[0.5       , 0.        , 0.5       ],
           [0.33333333, 0.33333333, 0.33333333]])
    """
    no_out("nanmean", out)
    if a.__class__ is not Tracer:
        return np.nanmean(a, axis=axis, dtype=dtype, keepdims=keepdims)
    if dtype is not None:
        a = astype(a, dtype)
    axes = normalize_axes(axis, a.ndim, "nanmean")
    total = SUM(_without_nan(a, 0.0), axis=axes, keepdims=keepdims)
    return total / _count_valid(a, axis=axes, keepdims=keepdims)


@export("nanvar")
def nanvar(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    ddof: float = 0,
    keepdims: bool = False,
) -> Any:
    """Differentiable ``numpy.nanvar`` (``ddof`` supported).

    Gradient: ``2 g (x - mean) / (count - ddof)`` over the non-NaN elements; 0 at the NaNs.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda x: fnp.nanvar(x, axis=0), (x,))
    """
    no_out("nanvar", out)
    if a.__class__ is not Tracer:
        return np.nanvar(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims)
    if dtype is not None:
        a = astype(a, dtype)
    axes = normalize_axes(axis, a.ndim, "nanvar")
    missing = isnan(detach(a))
    count = _count_valid(a, axis=axes, keepdims=True)
    total = SUM(where(missing, 0.0, a), axis=axes, keepdims=True)
    centred = where(missing, 0.0, a - total / count)
    dof = (count if keepdims else _count_valid(a, axis=axes, keepdims=False)) - ddof
    variance = SUM(centred * centred, axis=axes, keepdims=keepdims) / dof
    return where(less_equal(dof, 0), np.nan, variance)


@export("nanstd")
def nanstd(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    ddof: float = 0,
    keepdims: bool = False,
) -> Any:
    """Differentiable ``numpy.nanstd`` (``ddof`` supported).

    Gradient: through ``sqrt(nanvar)``.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda x: fnp.nanstd(x, axis=1, ddof=1), (x,))
    """
    no_out("nanstd", out)
    if a.__class__ is not Tracer:
        return np.nanstd(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims)
    return sqrt(nanvar(a, axis, dtype, ddof=ddof, keepdims=keepdims))


@export("nancumsum")
def nancumsum(a: Any, axis: int | None = None, dtype: Any = None, out: Any = None) -> Any:
    """Differentiable ``numpy.nancumsum``: NaNs count as 0.

    Gradient: as ``cumsum``; 0 at the NaNs.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda x: fnp.nancumsum(x, axis=1), (x,))
    """
    no_out("nancumsum", out)
    if a.__class__ is not Tracer:
        return np.nancumsum(a, axis=axis, dtype=dtype)
    return cumsum(_without_nan(a, 0.0), axis, dtype)


@export("nancumprod")
def nancumprod(a: Any, axis: int | None = None, dtype: Any = None, out: Any = None) -> Any:
    """Differentiable ``numpy.nancumprod``: NaNs count as 1.

    Gradient: as ``cumprod``; 0 at the NaNs.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda x: fnp.nancumprod(x, axis=1), (x,))
    """
    no_out("nancumprod", out)
    if a.__class__ is not Tracer:
        return np.nancumprod(a, axis=axis, dtype=dtype)
    return cumprod(_without_nan(a, 1.0), axis, dtype)


nanargmax = non_differentiable(np.nanargmax, sample="np.array([[1.5, np.nan], [2.0, 0.25]])")
nanargmin = non_differentiable(np.nanargmin, sample="np.array([[1.5, np.nan], [2.0, 0.25]])")

# --- order statistics ---------------------------------------------------------------------


@export("ptp")
def ptp(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
    """Differentiable ``numpy.ptp``: maximum minus minimum.

    Gradient: ``g`` to the maximal and ``-g`` to the minimal elements (ties split).

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda x: fnp.ptp(x, axis=1), (x,))
    """
    no_out("ptp", out)
    if a.__class__ is not Tracer:
        return np.ptp(a, axis=axis, keepdims=keepdims)
    return max(a, axis, keepdims=keepdims) - min(a, axis, keepdims=keepdims)


_any_nan = plain_values(lambda x: np.any(np.isnan(x), axis=-1), "any_nan", batching.leading)


@export("median")
def median(
    a: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False, keepdims: bool = False
) -> Any:
    """Differentiable ``numpy.median`` (``axis`` may be a tuple; NaN if a slice has NaNs).

    Gradient: the cotangent to the middle element, or half of it to each of the two middle
    elements (through a sort).

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda x: fnp.median(x, axis=1), (x,))
    """
    no_out("median", out)
    if a.__class__ is not Tracer:
        return np.median(a, axis=axis, keepdims=keepdims)
    shape = a.shape
    axes = normalize_axes(axis, len(shape), "median")
    kept = tuple(i for i in range(len(shape)) if i not in axes)
    lead = tuple(shape[i] for i in kept)
    rows = reshape(transpose(a, kept + axes), lead + (-1,))
    n = shape_of(rows)[-1]
    ordered = sort(rows, axis=-1)
    if n % 2:
        middle = getitem(ordered, (Ellipsis, n // 2))
    else:
        middle = mean(getitem(ordered, (Ellipsis, slice(n // 2 - 1, n // 2 + 1))), axis=-1)
    middle = where(_any_nan(rows), np.nan, middle)
    return reshape(middle, _kept_shape(shape, axes)) if keepdims else middle


# --- nanmedian ---------------------------------------------------------------------------


def _nanmedian_impl(x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    return np.nanmedian(x, axis=axis, keepdims=keepdims)


def _median_shares_impl(x: Any, axis: tuple[int, ...]) -> Any:
    """Each element's share of its slice's NaN-ignoring median (the shares of a slice sum to 1)."""
    x = np.asarray(x)
    last = tuple(range(x.ndim - len(axis), x.ndim))
    moved = np.moveaxis(x, axis, last)
    rows = moved.reshape(moved.shape[: x.ndim - len(axis)] + (-1,))
    ordered = np.sort(rows, axis=-1)
    count = np.count_nonzero(~np.isnan(rows), axis=-1, keepdims=True)
    shares = np.zeros(rows.shape, dtype=x.dtype)
    for middle in ((count - 1) // 2, count // 2):
        picked = np.take_along_axis(ordered, np.maximum(middle, 0), axis=-1)
        hit = rows == picked
        shares += hit / (2 * np.maximum(np.count_nonzero(hit, axis=-1, keepdims=True), 1))
    return np.moveaxis(shares.reshape(moved.shape), last, axis)


_median_shares = plain_values(_median_shares_impl, "nanmedian_shares", batching.along_axes)


def _nanmedian_vjp(g: Any, ans: Any, x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    return _keep(g, x, axis, keepdims) * _median_shares(x, axis=axis)


_NANMEDIAN = Primitive("nanmedian", _nanmedian_impl, (_nanmedian_vjp,), batch=batching.along_axes)


@export("nanmedian")
def nanmedian(
    a: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False, keepdims: bool = False
) -> Any:
    """Differentiable ``numpy.nanmedian``: the median of each slice's non-NaN values.

    Gradient: ``g`` to the middle non-NaN element of each slice, or half to each of the two
    middle ones for an even count, shared equally among elements tied with it; zero for NaNs
    and for an all-NaN slice (whose median is NaN, with NumPy's warning).

    Examples
    --------
    >>> x = np.array([[3.0, np.nan, 1.0, 2.0], [4.0, 1.0, np.nan, np.nan]])
    >>> fnp.nanmedian(x, axis=1)
    array([2. , 2.5])
    >>> fgrad.grad(lambda x: fnp.sum(fnp.nanmedian(x, axis=1)))(x)
    array([[0. , 0. , 0. , 1. ],
           [0.5, 0.5, 0. , 0. ]])
    """
    no_out("nanmedian", out)
    if a.__class__ is not Tracer:
        return np.nanmedian(a, axis=axis, keepdims=keepdims)
    return _NANMEDIAN(a, axis=normalize_axes(axis, a.ndim, "nanmedian"), keepdims=keepdims)


def _lerp(below: Any, above: Any, weight: Any) -> Any:
    """``below + (above - below) * weight``, from the nearer end as ``numpy.quantile`` does."""
    step = above - below
    nearer_above = np.asarray(concrete(weight)) >= 0.5
    return where(nearer_above, above - step * (1 - weight), below + step * weight)


@export("quantile")
def quantile(
    a: Any,
    q: Any,
    axis: Any = None,
    out: Any = None,
    overwrite_input: bool = False,
    method: str = "linear",
    keepdims: bool = False,
    *,
    weights: Any = None,
) -> Any:
    """Differentiable ``numpy.quantile`` (``method='linear'``; ``axis`` may be a tuple).

    NaN where a slice has NaNs. Other methods and ``weights`` raise ``TypeError`` when
    something is traced.

    Gradient: the cotangent split between the two order statistics around each quantile,
    by the interpolation weights (through a sort); to a traced ``q`` the slope between them.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda x: fnp.quantile(x, [0.3, 0.9], axis=1), (x,))
    """
    no_out("quantile", out)
    if a.__class__ is not Tracer and q.__class__ is not Tracer:
        extra = {} if weights is None else {"weights": weights}
        return _np_quantile(a, q, axis, None, overwrite_input, method, keepdims, **extra)
    if method != "linear" or weights is not None:
        raise TypeError(
            "fgrad.numpy.quantile (and percentile) differentiate method='linear' without "
            f"weights only, got method={method!r}"
            + (" and weights" if weights is not None else "")
            + ". Sort with fgrad.numpy.sort and interpolate between neighbours instead."
        )
    if a.__class__ is not Tracer:
        a = np.asarray(a)
    shape = shape_of(a)
    axes = normalize_axes(axis, len(shape), "quantile")
    kept = tuple(i for i in range(len(shape)) if i not in axes)
    lead = tuple(shape[i] for i in kept)
    rows = reshape(transpose(a, kept + axes), lead + (-1,))
    n = shape_of(rows)[-1]
    levels = np.asarray(concrete(q), dtype=np.float64)
    if np.any((levels < 0) | (levels > 1)) or np.any(np.isnan(levels)):
        raise ValueError("Quantiles must be in the range [0, 1]")
    position = levels * (n - 1)
    below_index = np.floor(position).astype(np.intp)
    above_index = np.minimum(below_index + 1, n - 1)
    ordered = sort(rows, axis=-1)
    below = getitem(ordered, (Ellipsis, below_index))
    above = getitem(ordered, (Ellipsis, above_index))
    weight = (q if q.__class__ is Tracer else levels) * (n - 1) - below_index
    result = _lerp(below, above, weight)
    result = where(reshape(_any_nan(rows), lead + (1,) * levels.ndim), np.nan, result)
    nq, nl = levels.ndim, len(lead)
    result = transpose(result, tuple(range(nl, nl + nq)) + tuple(range(nl)))
    if keepdims:
        result = reshape(result, levels.shape + _kept_shape(shape, axes))
    dtype = dtype_of(a) if np.issubdtype(dtype_of(a), np.inexact) else np.dtype(np.float64)
    return result if dtype_of(result) == dtype else astype(result, dtype)


@export("percentile")
def percentile(
    a: Any,
    q: Any,
    axis: Any = None,
    out: Any = None,
    overwrite_input: bool = False,
    method: str = "linear",
    keepdims: bool = False,
    *,
    weights: Any = None,
) -> Any:
    """Differentiable ``numpy.percentile``: :func:`quantile` of ``q / 100``.

    Gradient: as :func:`quantile`.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda x: fnp.percentile(x, 40.0), (x,))
    """
    no_out("percentile", out)
    if a.__class__ is not Tracer and q.__class__ is not Tracer:
        extra = {} if weights is None else {"weights": weights}
        return _np_percentile(a, q, axis, None, overwrite_input, method, keepdims, **extra)
    if np.any((np.asarray(concrete(q)) < 0) | (np.asarray(concrete(q)) > 100)):
        raise ValueError("Percentiles must be in the range [0, 100]")
    return quantile(a, q / 100, axis, None, overwrite_input, method, keepdims, weights=weights)


# --- histogram ------------------------------------------------------------------------------


def _any_traced(values: Any) -> bool:
    return any(
        v.__class__ is Tracer or (isinstance(v, (tuple, list)) and _any_traced(v)) for v in values
    )


def _bin_index_impl(a: Any, edges: Any) -> Any:
    """Bin of each element of ``a`` as ``numpy.histogram`` assigns it; -1 outside the edges."""
    a = np.ravel(a)
    index = np.searchsorted(edges, a, side="right") - 1
    index[a == edges[-1]] = len(edges) - 2
    index[~((a >= edges[0]) & (a <= edges[-1]))] = -1
    return index


_bin_index = plain_values(_bin_index_impl, "histogram_bin_index")
_bin_edges_plain = plain_values(np.histogram_bin_edges, "histogram_bin_edges")
_histogram_counts = plain_values(lambda *args: np.histogram(*args)[0], "histogram_counts")


def _uniform_edges(first: Any, last: Any, n: int, dtype: Any) -> Any:
    """``numpy.linspace(first, last, n + 1)`` written with differentiable operations."""
    step = (last - first) / n
    inner = first + np.arange(n, dtype=dtype) * step
    return concatenate([reshape(astype(inner, dtype), (-1,)), reshape(astype(last, dtype), (1,))])


@export("histogram_bin_edges")
def histogram_bin_edges(a: Any, bins: Any = 10, range: Any = None, weights: Any = None) -> Any:  # noqa: A002
    """Differentiable ``numpy.histogram_bin_edges``.

    Gradient: as the edges of :func:`histogram`.

    Examples
    --------
    >>> a = np.array([-0.7, -0.5, 0.1, 0.5, 1.1, 1.3])
    >>> fgrad.check_grads(lambda a: fnp.histogram_bin_edges(a, 4), (a,))
    """
    if not _any_traced((a, bins, range, weights)):
        return np.histogram_bin_edges(a, bins, range, weights)
    plain_edges = _bin_edges_plain(a, bins, range, weights)
    if not isinstance(bins, str) and np.ndim(peek(bins)) == 1:
        return bins if bins.__class__ is Tracer else plain_edges
    if range is None:
        if np.size(peek(a)) == 0:
            return plain_edges
        first, last = min(a), max(a)
    else:
        first, last = range
    if first.__class__ is not Tracer and last.__class__ is not Tracer:
        return plain_edges
    if peek(first) == peek(last):
        first, last = first - 0.5, last + 0.5
    return _uniform_edges(first, last, len(peek(plain_edges)) - 1, dtype_of(plain_edges))


@export("histogram")
def histogram(
    a: Any,
    bins: Any = 10,
    range: Any = None,  # noqa: A002
    density: Any = None,
    weights: Any = None,
) -> tuple[Any, Any]:
    """Differentiable ``numpy.histogram``: ``(hist, bin_edges)``.

    Gradient: the counts are piecewise constant (plain integers); the bin edges move with
    the data's minimum and maximum (``bins`` a number or a rule name, no ``range``), with a
    traced ``range`` or with traced explicit ``bins``; traced ``weights`` get the cotangent
    of their bin; ``density=True`` differentiates through ``hist / diff(edges) / sum(hist)``.

    Examples
    --------
    >>> a = np.array([-0.7, -0.5, 0.1, 0.5, 1.1, 1.3])
    >>> fgrad.check_grads(lambda a: fnp.histogram(a, 4, density=True)[0], (a,))
    """
    if not _any_traced((a, bins, range, weights)):
        return np.histogram(a, bins, range, density, weights)
    edges = histogram_bin_edges(a, bins, range, weights)
    plain_a, plain_edges = detach(a), detach(edges)
    if weights.__class__ is Tracer:
        bin_of_element = _bin_index(plain_a, plain_edges)
        in_bin = equal(
            reshape(bin_of_element, (1, -1)), np.arange(shape_of(plain_edges)[0] - 1)[:, None]
        )
        counts = SUM(where(in_bin, reshape(weights, (1, -1)), 0), axis=(1,), keepdims=False)
    else:
        counts = _histogram_counts(plain_a, plain_edges, None, None, weights)
    if density:
        counts = counts / diff(edges) / sum(counts)
    return counts, edges
