"""Reductions and scans: mean, prod, max/min, var/std, cumsum, cumprod, their NaN-ignoring
versions, ptp and median.

``sum`` lives in :mod:`fgrad._rules.structural` because every broadcasting
rule needs it.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

import numpy as np

from fgrad._core import Primitive, Tracer, bind1, concrete, detach, peek
from fgrad._rules._define import (
    document,
    dtype_of,
    no_out,
    non_differentiable,
    normalize_axes,
    plain_values,
    register_function,
    shape_of,
)
from fgrad._rules.elementwise import (
    _mask,
    any_true,
    equal,
    isnan,
    less_equal,
    sqrt,
    where,
)
from fgrad._rules.shape import concatenate, diff, sort
from fgrad._rules.structural import (
    _sum_fn,
    astype,
    broadcast_to,
    getitem,
    reshape,
    spread,
    sum,
    transpose,
)

_add_reduce: Callable[..., Any] = np.add.reduce
_np_quantile: Callable[..., Any] = np.quantile
_np_percentile: Callable[..., Any] = np.percentile
_max_reduce: Callable[..., Any] = np.maximum.reduce
_min_reduce: Callable[..., Any] = np.minimum.reduce


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


def _reduction(name: str, impl: Any, vjp: Any, numpy_fn: Any) -> Any:
    prim = Primitive(name, impl, (vjp,))

    def fn_params(x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
        if x.__class__ is Tracer:
            return bind1(prim, x, {"axis": axis, "keepdims": keepdims})
        return impl(x, axis, keepdims)


    def fn(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
        no_out(name, out)
        if a.__class__ is not Tracer:
            return numpy_fn(a, axis=axis, keepdims=keepdims)
        return bind1(prim, a, {"axis": normalize_axes(axis, a.ndim, name), "keepdims": keepdims})

    fn.__name__ = fn.__qualname__ = name
    register_function(numpy_fn, fn)
    return fn


# --- mean ---------------------------------------------------------------------------


def _mean_impl(x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    if x.__class__ is np.ndarray and (x.dtype == np.float64 or x.dtype == np.float32):
        return _add_reduce(x, axis=axis, keepdims=keepdims) / x.dtype.type(_count(x.shape, axis))
    return np.mean(x, axis=axis, keepdims=keepdims)


def _mean_vjp(g: Any, ans: Any, x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    shape = shape_of(x)
    return spread(_keep(g, x, axis, keepdims) / _count(shape, axis), shape)


_mean = _reduction("mean", _mean_impl, _mean_vjp, np.mean)


def mean(
    a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False
) -> Any:
    if dtype is not None:
        if a.__class__ is not Tracer:
            return np.mean(a, axis=axis, dtype=dtype, keepdims=keepdims)
        a = astype(a, dtype)
    return _mean(a, axis, out, keepdims)


register_function(np.mean, mean)

# --- max / min -----------------------------------------------------------------------


def _extreme_vjp(g: Any, ans: Any, x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    kept = _kept_shape(shape_of(x), axis)
    hit = _mask(equal(detach(x), reshape(detach(ans), kept)), g)
    share = hit / _sum_fn(hit, axis, True)
    return _keep(g, x, axis, keepdims) * share


def _max_impl(x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    return _max_reduce(x, axis=axis, keepdims=keepdims)


def _min_impl(x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    return _min_reduce(x, axis=axis, keepdims=keepdims)


max = _reduction("max", _max_impl, _extreme_vjp, np.max)  # noqa: A001
min = _reduction("min", _min_impl, _extreme_vjp, np.min)  # noqa: A001
amax = max
amin = min
register_function(np.amax, max)
register_function(np.amin, min)

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
    others = _prod_fn(rows, (len(shape_of(rows)) - 1,), False)
    unflat = reshape(others, shape_of(moved))
    return transpose(unflat, tuple(np.argsort(kept_axes + axis)))


def _prod_vjp(g: Any, ans: Any, x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    gk = _keep(g, x, axis, keepdims)
    if not any_true(equal(detach(x), 0)):
        return gk * (_keep(ans, x, axis, keepdims) / x)
    return gk * _others_product(x, axis)


def _prod_impl(x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    return np.prod(x, axis=axis, keepdims=keepdims)


prod = _reduction("prod", _prod_impl, _prod_vjp, np.prod)


def _prod_fn(x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    if x.__class__ is Tracer:
        return prod(x, axis, None, keepdims)
    return _prod_impl(x, axis, keepdims)


# --- var / std / average ----------------------------------------------------------------


def var(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    ddof: float = 0,
    keepdims: bool = False,
) -> Any:
    no_out("var", out)
    if a.__class__ is not Tracer:
        return np.var(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims)
    if dtype is not None:
        a = astype(a, dtype)
    axes = normalize_axes(axis, a.ndim, "var")
    centred = a - mean(a, axes, keepdims=True)
    n = _count(a.shape, axes)
    return _sum_fn(centred * centred, axes, keepdims) / builtins.max(n - ddof, 0)


def std(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    ddof: float = 0,
    keepdims: bool = False,
) -> Any:
    no_out("std", out)
    if a.__class__ is not Tracer:
        return np.std(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims)
    return sqrt(var(a, axis, dtype, ddof=ddof, keepdims=keepdims))


# NumPy's stubs want a Literal ``keepdims``; here it is any bool.
_np_average: Callable[..., Any] = np.average


def average(a: Any, axis: Any = None, weights: Any = None, keepdims: bool = False) -> Any:
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
    return _reverse(_cumsum_fn(_reverse(g, axis), axis), axis)


def _scan(name: str, numpy_fn: Callable[..., Any], vjp: Callable[..., Any]) -> Any:
    """A cumulative primitive along one axis: ``(public function, (x, axis) function)``."""

    def impl(x: Any, axis: int) -> Any:
        return numpy_fn(x, axis=axis)

    prim = Primitive(name, impl, (vjp,))

    def along(x: Any, axis: int) -> Any:
        if x.__class__ is Tracer:
            return bind1(prim, x, {"axis": axis})
        return numpy_fn(x, axis=axis)


    def public(a: Any, axis: int | None = None, dtype: Any = None, out: Any = None) -> Any:
        no_out(name, out)
        if a.__class__ is not Tracer:
            return numpy_fn(a, axis=axis, dtype=dtype)
        if dtype is not None:
            a = astype(a, dtype)
        if axis is None:
            a = reshape(a, (-1,))
            axis = 0
        return along(a, normalize_axes(axis, a.ndim, name)[0])

    public.__name__ = public.__qualname__ = name
    return public, along


cumsum, _cumsum_fn = _scan("cumsum", np.cumsum, _cumsum_vjp)


def _cumprod_vjp(g: Any, ans: Any, x: Any, axis: int) -> Any:
    if not any_true(equal(detach(x), 0)):
        return _reverse(_cumsum_fn(_reverse(g * ans, axis), axis), axis) / x
    n = shape_of(x)[axis]
    xm = transpose(x, _axis_last(len(shape_of(x)), axis))
    gm = transpose(g, _axis_last(len(shape_of(x)), axis))
    lead = shape_of(xm)[:-1]
    one_out = np.eye(n, dtype=bool)
    rows = where(one_out, 1.0, reshape(xm, lead + (1, n)))
    partial = _cumprod_fn(rows, len(lead) + 1)
    upper = np.triu(np.ones((n, n), dtype=dtype_of(g)))
    ct = _sum_fn(partial * upper * reshape(gm, lead + (1, n)), (len(lead) + 1,), False)
    return transpose(ct, tuple(np.argsort(_axis_last(len(shape_of(x)), axis))))


def _axis_last(ndim: int, axis: int) -> tuple[int, ...]:
    return tuple(i for i in range(ndim) if i != axis) + (axis,)


cumprod, _cumprod_fn = _scan("cumprod", np.cumprod, _cumprod_vjp)


# --- ignoring NaNs ----------------------------------------------------------------------

_fmax_reduce: Callable[..., Any] = np.fmax.reduce
_fmin_reduce: Callable[..., Any] = np.fmin.reduce


def _nanmax_impl(x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    return _fmax_reduce(x, axis=axis, keepdims=keepdims)


def _nanmin_impl(x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    return _fmin_reduce(x, axis=axis, keepdims=keepdims)


# A NaN never equals the result, so the shared max/min rule gives it no cotangent.
nanmax = _reduction("nanmax", _nanmax_impl, _extreme_vjp, np.nanmax)
nanmin = _reduction("nanmin", _nanmin_impl, _extreme_vjp, np.nanmin)


def _without_nan(a: Any, fill: float) -> Any:
    """``a`` with its NaNs replaced by ``fill`` (which gets no gradient)."""
    return where(isnan(detach(a)), fill, a)


def _count_valid_impl(x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    dtype = x.dtype if np.issubdtype(x.dtype, np.inexact) else np.dtype(np.float64)
    return np.sum(~np.isnan(x), axis=axis, keepdims=keepdims).astype(dtype)


_count_valid = plain_values(_count_valid_impl, "count_not_nan")


def _nan_filled(name: str, numpy_fn: Callable[..., Any], reduce: Any, fill: float) -> Any:
    """``reduce`` over ``a`` with NaNs replaced by the reduction's identity ``fill``."""

    def fn(
        a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False
    ) -> Any:
        no_out(name, out)
        if a.__class__ is not Tracer:
            return numpy_fn(a, axis=axis, dtype=dtype, keepdims=keepdims)
        if dtype is not None:
            a = astype(a, dtype)
        return reduce(_without_nan(a, fill), axis, keepdims=keepdims)

    fn.__name__ = fn.__qualname__ = name
    return fn


nansum = _nan_filled("nansum", np.nansum, sum, 0.0)
nanprod = _nan_filled("nanprod", np.nanprod, prod, 1.0)


def nanmean(
    a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False
) -> Any:
    no_out("nanmean", out)
    if a.__class__ is not Tracer:
        return np.nanmean(a, axis=axis, dtype=dtype, keepdims=keepdims)
    if dtype is not None:
        a = astype(a, dtype)
    axes = normalize_axes(axis, a.ndim, "nanmean")
    total = _sum_fn(_without_nan(a, 0.0), axes, keepdims)
    return total / _count_valid(a, axis=axes, keepdims=keepdims)


def nanvar(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    ddof: float = 0,
    keepdims: bool = False,
) -> Any:
    no_out("nanvar", out)
    if a.__class__ is not Tracer:
        return np.nanvar(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims)
    if dtype is not None:
        a = astype(a, dtype)
    axes = normalize_axes(axis, a.ndim, "nanvar")
    missing = isnan(detach(a))
    count = _count_valid(a, axis=axes, keepdims=True)
    centred = where(missing, 0.0, a - _sum_fn(where(missing, 0.0, a), axes, True) / count)
    dof = (count if keepdims else _count_valid(a, axis=axes, keepdims=False)) - ddof
    variance = _sum_fn(centred * centred, axes, keepdims) / dof
    return where(less_equal(dof, 0), np.nan, variance)


def nanstd(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    ddof: float = 0,
    keepdims: bool = False,
) -> Any:
    no_out("nanstd", out)
    if a.__class__ is not Tracer:
        return np.nanstd(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims)
    return sqrt(nanvar(a, axis, dtype, ddof=ddof, keepdims=keepdims))


def nancumsum(a: Any, axis: int | None = None, dtype: Any = None, out: Any = None) -> Any:
    no_out("nancumsum", out)
    if a.__class__ is not Tracer:
        return np.nancumsum(a, axis=axis, dtype=dtype)
    return cumsum(_without_nan(a, 0.0), axis, dtype)


def nancumprod(a: Any, axis: int | None = None, dtype: Any = None, out: Any = None) -> Any:
    no_out("nancumprod", out)
    if a.__class__ is not Tracer:
        return np.nancumprod(a, axis=axis, dtype=dtype)
    return cumprod(_without_nan(a, 1.0), axis, dtype)


nanargmax = non_differentiable(np.nanargmax, sample="np.array([[1.5, np.nan], [2.0, 0.25]])")
nanargmin = non_differentiable(np.nanargmin, sample="np.array([[1.5, np.nan], [2.0, 0.25]])")

# --- order statistics ---------------------------------------------------------------------


def ptp(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
    no_out("ptp", out)
    if a.__class__ is not Tracer:
        return np.ptp(a, axis=axis, keepdims=keepdims)
    return max(a, axis, keepdims=keepdims) - min(a, axis, keepdims=keepdims)


_any_nan = plain_values(lambda x: np.any(np.isnan(x), axis=-1), "any_nan")


def median(
    a: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False, keepdims: bool = False
) -> Any:
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


def _lerp(below: Any, above: Any, weight: Any) -> Any:
    """``below + (above - below) * weight``, from the nearer end as ``numpy.quantile`` does."""
    step = above - below
    nearer_above = np.asarray(concrete(weight)) >= 0.5
    return where(nearer_above, above - step * (1 - weight), below + step * weight)


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
    kept = tuple(i for i in builtins.range(len(shape)) if i not in axes)
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
    result = transpose(result, tuple(builtins.range(nl, nl + nq)) + tuple(builtins.range(nl)))
    if keepdims:
        result = reshape(result, levels.shape + _kept_shape(shape, axes))
    dtype = dtype_of(a) if np.issubdtype(dtype_of(a), np.inexact) else np.dtype(np.float64)
    return result if dtype_of(result) == dtype else astype(result, dtype)


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
    no_out("percentile", out)
    if a.__class__ is not Tracer and q.__class__ is not Tracer:
        extra = {} if weights is None else {"weights": weights}
        return _np_percentile(a, q, axis, None, overwrite_input, method, keepdims, **extra)
    if np.any((np.asarray(concrete(q)) < 0) | (np.asarray(concrete(q)) > 100)):
        raise ValueError("Percentiles must be in the range [0, 100]")
    return quantile(a, q / 100, axis, None, overwrite_input, method, keepdims, weights=weights)


# --- histogram ------------------------------------------------------------------------------


def _any_traced(values: Any) -> bool:
    return builtins.any(
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


def histogram_bin_edges(a: Any, bins: Any = 10, range: Any = None, weights: Any = None) -> Any:  # noqa: A002
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


def histogram(
    a: Any,
    bins: Any = 10,
    range: Any = None,  # noqa: A002
    density: Any = None,
    weights: Any = None,
) -> tuple[Any, Any]:
    if not _any_traced((a, bins, range, weights)):
        return np.histogram(a, bins, range, density, weights)
    edges = histogram_bin_edges(a, bins, range, weights)
    plain_a, plain_edges = detach(a), detach(edges)
    if weights.__class__ is Tracer:
        bin_of_element = _bin_index(plain_a, plain_edges)
        in_bin = equal(
            reshape(bin_of_element, (1, -1)), np.arange(shape_of(plain_edges)[0] - 1)[:, None]
        )
        counts = _sum_fn(where(in_bin, reshape(weights, (1, -1)), 0), (1,), False)
    else:
        counts = _histogram_counts(plain_a, plain_edges, None, None, weights)
    if density:
        counts = counts / diff(edges) / sum(counts)
    return counts, edges


_DISPATCH: list[tuple[Callable[..., Any], Callable[..., Any]]] = [
    (np.histogram, histogram),
    (np.quantile, quantile),
    (np.percentile, percentile),
    (np.histogram_bin_edges, histogram_bin_edges),
    (np.var, var),
    (np.std, std),
    (np.average, average),
    (np.cumsum, cumsum),
    (np.cumprod, cumprod),
    (np.nansum, nansum),
    (np.nanprod, nanprod),
    (np.nanmean, nanmean),
    (np.nanvar, nanvar),
    (np.nanstd, nanstd),
    (np.nancumsum, nancumsum),
    (np.nancumprod, nancumprod),
    (np.ptp, ptp),
    (np.median, median),
]
for _np_fn, _fn in _DISPATCH:
    register_function(_np_fn, _fn)

_M = "np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])"
_DOCS: list[tuple[Callable[..., Any], str, str, str]] = [
    (
        mean,
        "Differentiable ``numpy.mean`` (``axis``, ``keepdims``).",
        "the cotangent divided by the count and broadcast back.",
        f"fgrad.check_grads(lambda x: fnp.mean(x, axis=0), ({_M},))",
    ),
    (
        max,
        "Differentiable ``numpy.max`` (also ``amax``).",
        "the cotangent to the maximal elements, split equally among ties.",
        f"fgrad.check_grads(lambda x: fnp.max(x, axis=1), ({_M},))",
    ),
    (
        min,
        "Differentiable ``numpy.min`` (also ``amin``).",
        "the cotangent to the minimal elements, split equally among ties.",
        f"fgrad.check_grads(lambda x: fnp.min(x, axis=0, keepdims=True), ({_M},))",
    ),
    (
        prod,
        "Differentiable ``numpy.prod``.",
        "the cotangent times the product of the other elements (exact when some are 0).",
        f"fgrad.check_grads(lambda x: fnp.prod(x, axis=1), ({_M},))",
    ),
    (
        var,
        "Differentiable ``numpy.var`` (``ddof`` supported).",
        "``2 g (x - mean) / (n - ddof)``, through its composition.",
        f"fgrad.check_grads(lambda x: fnp.var(x, axis=1, ddof=1), ({_M},))",
    ),
    (
        std,
        "Differentiable ``numpy.std`` (``ddof`` supported).",
        "through ``sqrt(var)``; infinite where the spread is 0, as the true derivative.",
        f"fgrad.check_grads(lambda x: fnp.std(x, axis=0), ({_M},))",
    ),
    (
        average,
        "Differentiable ``numpy.average`` with optional (traced) weights.",
        "through ``sum(a * w) / sum(w)``.",
        f"fgrad.check_grads(lambda x, w: fnp.average(x, 1, w), ({_M}, np.array([1.0, 2.0, 0.5])))",
    ),
    (
        cumsum,
        "Differentiable ``numpy.cumsum``.",
        "the reversed cumulative sum of the cotangent.",
        f"fgrad.check_grads(lambda x: fnp.cumsum(x, axis=1), ({_M},))",
    ),
    (
        cumprod,
        "Differentiable ``numpy.cumprod``.",
        "exact also when elements are 0 (quadratic-cost path in that case).",
        f"fgrad.check_grads(lambda x: fnp.cumprod(x, axis=1), ({_M},))",
    ),
]
_N = "np.array([[0.3, np.nan, 0.5], [2.0, 0.7, -0.4]])"
_DOCS += [
    (
        nansum,
        "Differentiable ``numpy.nansum``: NaNs count as 0.",
        "the cotangent broadcast back; 0 at the NaNs.",
        f"fgrad.grad(lambda x: fnp.nansum(3 * x))({_N})\narray([[3., 0., 3.],\n"
        "       [3., 3., 3.]])",
    ),
    (
        nanprod,
        "Differentiable ``numpy.nanprod``: NaNs count as 1.",
        "as ``prod`` over the other elements; 0 at the NaNs.",
        f"fgrad.grad(lambda x: fnp.nanprod(x, axis=1).sum())({_N})\narray([[ 0.5 ,  0.  ,  0.3 ],"
        "\n       [-0.28, -0.8 ,  1.4 ]])",
    ),
    (
        nanmean,
        "Differentiable ``numpy.nanmean``: the mean of the non-NaN elements.",
        "the cotangent divided by the number of non-NaN elements; 0 at the NaNs.",
        f"fgrad.grad(lambda x: fnp.nanmean(x, axis=1).sum())({_N})\narray([[0.5       , 0. "
        "       , 0.5       ],\n       [0.33333333, 0.33333333, 0.33333333]])",
    ),
    (
        nanvar,
        "Differentiable ``numpy.nanvar`` (``ddof`` supported).",
        "``2 g (x - mean) / (count - ddof)`` over the non-NaN elements; 0 at the NaNs.",
        f"fgrad.check_grads(lambda x: fnp.nanvar(x, axis=0), ({_M},))",
    ),
    (
        nanstd,
        "Differentiable ``numpy.nanstd`` (``ddof`` supported).",
        "through ``sqrt(nanvar)``.",
        f"fgrad.check_grads(lambda x: fnp.nanstd(x, axis=1, ddof=1), ({_M},))",
    ),
    (
        nanmax,
        "Differentiable ``numpy.nanmax``: the maximum ignoring NaNs.",
        "the cotangent to the maximal elements, split equally among ties; 0 at the NaNs.",
        f"fgrad.grad(lambda x: fnp.nanmax(x, axis=0).sum())({_N})\narray([[0., 0., 1.],"
        "\n       [1., 1., 0.]])",
    ),
    (
        nanmin,
        "Differentiable ``numpy.nanmin``: the minimum ignoring NaNs.",
        "the cotangent to the minimal elements, split equally among ties; 0 at the NaNs.",
        f"fgrad.check_grads(lambda x: fnp.nanmin(x, axis=1), ({_M},))",
    ),
    (
        nancumsum,
        "Differentiable ``numpy.nancumsum``: NaNs count as 0.",
        "as ``cumsum``; 0 at the NaNs.",
        f"fgrad.check_grads(lambda x: fnp.nancumsum(x, axis=1), ({_M},))",
    ),
    (
        nancumprod,
        "Differentiable ``numpy.nancumprod``: NaNs count as 1.",
        "as ``cumprod``; 0 at the NaNs.",
        f"fgrad.check_grads(lambda x: fnp.nancumprod(x, axis=1), ({_M},))",
    ),
    (
        ptp,
        "Differentiable ``numpy.ptp``: maximum minus minimum.",
        "``g`` to the maximal and ``-g`` to the minimal elements (ties split).",
        f"fgrad.check_grads(lambda x: fnp.ptp(x, axis=1), ({_M},))",
    ),
    (
        median,
        "Differentiable ``numpy.median`` (``axis`` may be a tuple; NaN if a slice has NaNs).",
        "the cotangent to the middle element, or half of it to each of the two middle "
        "elements (through a sort).",
        f"fgrad.check_grads(lambda x: fnp.median(x, axis=1), ({_M},))",
    ),
]
_H = "np.array([-0.7, -0.5, 0.1, 0.5, 1.1, 1.3])"
_DOCS += [
    (
        quantile,
        "Differentiable ``numpy.quantile`` (``method='linear'``; ``axis`` may be a tuple; "
        "NaN if a slice has NaNs).",
        "the cotangent split between the two order statistics around each quantile, "
        "by the interpolation weights (through a sort); to a traced ``q`` the slope "
        "between them.",
        f"fgrad.check_grads(lambda x: fnp.quantile(x, [0.3, 0.9], axis=1), ({_M},))",
    ),
    (
        percentile,
        "Differentiable ``numpy.percentile``: :func:`quantile` of ``q / 100``.",
        "as :func:`quantile`.",
        f"fgrad.check_grads(lambda x: fnp.percentile(x, 40.0), ({_M},))",
    ),
    (
        histogram,
        "Differentiable ``numpy.histogram``: ``(hist, bin_edges)``.",
        "the counts are piecewise constant (plain integers); the bin edges move with "
        "the data's minimum and maximum (``bins`` a number or a rule name, no ``range``), "
        "with a traced ``range`` or with traced explicit ``bins``; traced ``weights`` "
        "get the cotangent of their bin; ``density=True`` differentiates through "
        "``hist / diff(edges) / sum(hist)``.",
        f"fgrad.check_grads(lambda a: fnp.histogram(a, 4, density=True)[0], ({_H},))",
    ),
    (
        histogram_bin_edges,
        "Differentiable ``numpy.histogram_bin_edges``.",
        "as the edges of :func:`histogram`.",
        f"fgrad.check_grads(lambda a: fnp.histogram_bin_edges(a, 4), ({_H},))",
    ),
]
for _fn, _summary, _gradient, _example in _DOCS:
    document(_fn, _summary, _gradient, ">>> " + _example)

__all__ = [
    "amax",
    "histogram",
    "histogram_bin_edges",
    "percentile",
    "quantile",
    "amin",
    "average",
    "cumprod",
    "cumsum",
    "max",
    "mean",
    "median",
    "min",
    "nanargmax",
    "nanargmin",
    "nancumprod",
    "nancumsum",
    "nanmax",
    "nanmean",
    "nanmin",
    "nanprod",
    "nanstd",
    "nansum",
    "nanvar",
    "prod",
    "ptp",
    "std",
    "var",
]
