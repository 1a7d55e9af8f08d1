"""Primitives that move, sum or pick elements: the building blocks of every VJP.

``sum`` and ``broadcast_to`` are each other's VJP, as are ``getitem`` and
``scatter_add``; ``reshape`` and ``transpose`` are their own kind. Every other
rule reduces a broadcast cotangent with :func:`unbroadcast`, defined here.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

import numpy as np

from fgrad._core import Primitive, Tracer, bind1, bindn, concrete, detach
from fgrad._rules._define import (
    document,
    dtype_of,
    ndim_of,
    no_out,
    normalize_axes,
    plain_values,
    register_function,
    shape_of,
)

_add_reduce: Callable[..., Any] = np.add.reduce

# --- sum -------------------------------------------------------------------------


def _sum_impl(x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    return _add_reduce(x, axis=axis, keepdims=keepdims)


def _sum_vjp(g: Any, ans: Any, x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    shape = shape_of(x)
    if not keepdims:
        g = reshape(g, tuple(1 if i in axis else d for i, d in enumerate(shape)))
    return spread(g, shape)


_SUM = Primitive("sum", _sum_impl, (_sum_vjp,))


def sum(  # noqa: A001
    a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False
) -> Any:
    no_out("sum", out)
    if a.__class__ is not Tracer:
        return np.sum(a, axis=axis, dtype=dtype, keepdims=keepdims)
    if dtype is not None:
        a = astype(a, dtype)
    params = {"axis": normalize_axes(axis, a.ndim, "sum"), "keepdims": keepdims}
    return bind1(_SUM, a, params)


def _sum_fn(x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    if x.__class__ is Tracer:
        return bind1(_SUM, x, {"axis": axis, "keepdims": keepdims})
    return _sum_impl(x, axis, keepdims)



# --- broadcast_to ------------------------------------------------------------------


def unbroadcast(g: Any, shape: tuple[int, ...]) -> Any:
    """Sum the cotangent ``g`` of a broadcast result back to ``shape``."""
    g_shape = shape_of(g)
    if g_shape == shape:
        return g
    lead = len(g_shape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, d in enumerate(shape) if d == 1 and g_shape[lead + i] != 1
    )
    if axes:
        g = _sum_fn(g, axes, False)
    if shape_of(g) != shape:
        g = reshape(g, shape)
    return g


def _broadcast_to_vjp(g: Any, ans: Any, x: Any, shape: tuple[int, ...]) -> Any:
    return unbroadcast(g, shape_of(x))


_BROADCAST_TO = Primitive("broadcast_to", np.broadcast_to, (_broadcast_to_vjp,))


def broadcast_to(array: Any, shape: Any) -> Any:
    shape = (int(shape),) if np.ndim(shape) == 0 else tuple(int(s) for s in shape)
    if array.__class__ is not Tracer:
        return np.broadcast_to(array, shape)
    if array.shape == shape:
        return array
    return bind1(_BROADCAST_TO, array, {"shape": shape})




def _spread_impl(x: Any, shape: tuple[int, ...]) -> Any:
    if x.__class__ is Tracer:
        return spread(x, shape)
    out = np.empty(shape, dtype=np.result_type(x))
    out[...] = x
    return out


# A fresh array also when traced: a broadcast view would reach later rules (matmul) with other
# strides than the eager fresh array, and NumPy may round those differently (jit != eager).
_SPREAD = Primitive("broadcast_to", _spread_impl, (_broadcast_to_vjp,))


def spread(x: Any, shape: tuple[int, ...]) -> Any:
    """``x`` broadcast to ``shape`` inside VJP rules: a fresh array, traced or not."""
    if x.__class__ is Tracer:
        if x.shape == shape:
            return x
        return bind1(_SPREAD, x, {"shape": shape})
    return _spread_impl(x, shape)


# --- reshape, transpose ---------------------------------------------------------------


def _reshape_vjp(g: Any, ans: Any, x: Any, shape: tuple[int, ...]) -> Any:
    return reshape(g, shape_of(x))


def _reshape_impl(x: Any, shape: tuple[int, ...]) -> Any:
    return x.reshape(shape) if x.__class__ is np.ndarray else np.reshape(x, shape)


_RESHAPE = Primitive("reshape", _reshape_impl, (_reshape_vjp,))


def reshape(a: Any, shape: Any, order: str = "C") -> Any:
    if order != "C":
        raise ValueError(f"fgrad.numpy.reshape supports order='C' only, got order={order!r}")
    if a.__class__ is not Tracer:
        return np.reshape(a, shape)
    if np.ndim(shape) == 0:
        shape = (int(shape),)
    shape = tuple(int(s) for s in shape)
    if -1 in shape:
        shape = np.empty(a.shape, dtype=np.bool_).reshape(shape).shape
    if shape == a.shape:
        return a
    return bind1(_RESHAPE, a, {"shape": shape})


def _reshape_fn(a: Any, shape: tuple[int, ...]) -> Any:
    if a.__class__ is Tracer:
        return bind1(_RESHAPE, a, {"shape": shape})
    return _reshape_impl(a, shape)




def _transpose_vjp(g: Any, ans: Any, x: Any, axes: tuple[int, ...]) -> Any:
    return _transpose_fn(g, tuple(np.argsort(axes)))


def _transpose_impl(x: Any, axes: tuple[int, ...]) -> Any:
    return x.transpose(axes) if x.__class__ is np.ndarray else np.transpose(x, axes)


_TRANSPOSE = Primitive("transpose", _transpose_impl, (_transpose_vjp,))


def _transpose_fn(a: Any, axes: tuple[int, ...]) -> Any:
    if a.__class__ is Tracer:
        return bind1(_TRANSPOSE, a, {"axes": axes})
    if a.__class__ is np.ndarray:
        return a.transpose(axes)
    return np.transpose(a, axes)




def _one_axis(axis: Any, ndim: int, fn_name: str) -> int:
    return normalize_axes(int(axis), ndim, fn_name)[0]


def transpose(a: Any, axes: Any = None) -> Any:
    nd = ndim_of(a)
    if axes is None:
        axes = tuple(range(nd - 1, -1, -1))
    else:
        axes = tuple(_one_axis(ax, nd, "transpose") for ax in axes)
        if sorted(axes) != list(range(nd)):
            raise ValueError(f"transpose: axes {axes} are not a permutation of {nd} axes")
    return _transpose_fn(a, axes)


def swapaxes(a: Any, axis1: int, axis2: int) -> Any:
    nd = ndim_of(a)
    perm = list(range(nd))
    i, j = normalize_axes(axis1, nd, "swapaxes")[0], normalize_axes(axis2, nd, "swapaxes")[0]
    perm[i], perm[j] = perm[j], perm[i]
    return _transpose_fn(a, tuple(perm))


def moveaxis(a: Any, source: Any, destination: Any) -> Any:
    nd = ndim_of(a)
    src = [_one_axis(s, nd, "moveaxis") for s in np.atleast_1d(source)]
    dst = [_one_axis(d, nd, "moveaxis") for d in np.atleast_1d(destination)]
    if len(src) != len(dst):
        raise ValueError("moveaxis: `source` and `destination` must have the same length")
    order = [n for n in range(nd) if n not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return _transpose_fn(a, tuple(order))


def ravel(a: Any, order: str = "C") -> Any:
    return reshape(a, (-1,), order)


def expand_dims(a: Any, axis: Any) -> Any:
    shape = shape_of(a)
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    nd = len(shape) + len(axes)
    positions = normalize_axes(axes, nd, "expand_dims")
    it = iter(shape)
    return reshape(a, tuple(1 if i in positions else next(it) for i in range(nd)))


def squeeze(a: Any, axis: Any = None) -> Any:
    shape = shape_of(a)
    if axis is None:
        return reshape(a, tuple(d for d in shape if d != 1))
    axes = normalize_axes(axis, len(shape), "squeeze")
    for ax in axes:
        if shape[ax] != 1:
            raise ValueError(
                f"squeeze: cannot select axis {ax} of size {shape[ax]}; only axes of size 1"
            )
    return reshape(a, tuple(d for i, d in enumerate(shape) if i not in axes))


# --- astype -----------------------------------------------------------------------


def _astype_vjp(g: Any, ans: Any, x: Any, dtype: Any) -> Any:
    return astype(g, dtype_of(x))


def _astype_impl(x: Any, dtype: Any) -> Any:
    return np.asarray(x).astype(dtype)


_ASTYPE = Primitive("astype", _astype_impl, (_astype_vjp,))
_astype_plain = plain_values(_astype_impl, "astype")


def astype(x: Any, dtype: Any) -> Any:
    dtype = np.dtype(dtype)
    if x.__class__ is not Tracer:
        return _astype_impl(x, dtype)
    if x.dtype == dtype:
        return x
    if not np.issubdtype(dtype, np.inexact):
        return _astype_plain(detach(x), dtype)
    return bind1(_ASTYPE, x, {"dtype": dtype})



# --- indexing -------------------------------------------------------------------------


def _is_basic_index(index: Any) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return builtins.all(
        isinstance(p, (int, np.integer, slice)) or p is None or p is Ellipsis for p in parts
    )


def _scatter_add_impl(g: Any, shape: tuple[int, ...], index: Any, basic: bool) -> Any:
    out = np.zeros(shape, dtype=np.result_type(g))
    if basic:
        out[index] = g
    else:
        np.add.at(out, index, g)
    return out


def _scatter_add_vjp(ct: Any, ans: Any, g: Any, shape: Any, index: Any, basic: bool) -> Any:
    return _getitem_fn(ct, index, basic)


_SCATTER_ADD = Primitive("scatter_add", _scatter_add_impl, (_scatter_add_vjp,))


def scatter_add(values: Any, shape: tuple[int, ...], index: Any, basic: bool = False) -> Any:
    """Zeros of ``shape`` with ``values`` added at ``index`` (repeats accumulate)."""
    if values.__class__ is Tracer:
        return bind1(_SCATTER_ADD, values, {"shape": shape, "index": index, "basic": basic})
    return _scatter_add_impl(values, shape, index, basic)




def _getitem_vjp(g: Any, ans: Any, x: Any, index: Any, basic: bool) -> Any:
    return scatter_add(g, shape_of(x), index, basic)


def _getitem_impl(x: Any, index: Any, basic: bool) -> Any:
    return x[index]


_GETITEM = Primitive("getitem", _getitem_impl, (_getitem_vjp,))


def _getitem_fn(x: Any, index: Any, basic: bool) -> Any:
    if x.__class__ is Tracer:
        return bind1(_GETITEM, x, {"index": index, "basic": basic})
    return x[index]




def _plain_index(index: Any) -> Any:
    """The index without differentiation tracers; a replaying trace's tracers stay."""
    if index.__class__ is Tracer:
        return detach(index)
    if isinstance(index, tuple):
        return tuple(_plain_index(i) for i in index)
    if isinstance(index, list):
        return np.asarray([concrete(i) for i in index])
    return index


def _rebuild_index(template: tuple[Any, ...], arrays: tuple[Any, ...]) -> Any:
    parts = tuple(arrays[v] if is_array else v for is_array, v in template)
    return parts if len(parts) != 1 or template[0][0] is None else parts[0]


def _gather_impl(x: Any, *arrays: Any, template: tuple[Any, ...]) -> Any:
    return x[_rebuild_index(template, arrays)]


def _gather_vjp(
    g: Any, ans: Any, args: tuple[Any, ...], params: dict[str, Any], argnums: Any
) -> list[Any]:
    x, arrays = args[0], args[1:]
    return [
        _scatter_fn(g, *arrays, shape=shape_of(x), **params) if k == 0 else None for k in argnums
    ]


def _scatter_impl(g: Any, *arrays: Any, shape: tuple[int, ...], template: tuple[Any, ...]) -> Any:
    out = np.zeros(shape, dtype=np.result_type(g))
    np.add.at(out, _rebuild_index(template, arrays), g)
    return out


def _scatter_vjp(
    ct: Any, ans: Any, args: tuple[Any, ...], params: dict[str, Any], argnums: Any
) -> list[Any]:
    arrays = args[1:]
    template = params["template"]
    return [_gather_fn(ct, *arrays, template=template) if k == 0 else None for k in argnums]


_GATHER = Primitive("gather", _gather_impl, vjp_joint=_gather_vjp)
_SCATTER = Primitive("scatter_add", _scatter_impl, vjp_joint=_scatter_vjp)


def _gather_fn(x: Any, *arrays: Any, template: tuple[Any, ...]) -> Any:
    return bindn(_GATHER, (x, *arrays), {"template": template})


def _scatter_fn(g: Any, *arrays: Any, shape: tuple[int, ...], template: tuple[Any, ...]) -> Any:
    return bindn(_SCATTER, (g, *arrays), {"shape": shape, "template": template})


_GATHER.varying_shape = True


def getitem(x: Any, index: Any) -> Any:
    """``x[index]`` for any NumPy index; the VJP scatter-adds into zeros.

    Index arrays computed under ``fgrad.jit`` are recorded as arguments (a
    gather), so replays use the current indices.
    """
    index = _plain_index(index)
    parts = index if isinstance(index, tuple) else (index,)
    if builtins.any(p.__class__ is Tracer for p in parts):
        arrays: list[Any] = []
        template: list[tuple[bool, Any]] = []
        for p in parts:
            if p.__class__ is Tracer:
                template.append((True, len(arrays)))
                arrays.append(p)
            else:
                template.append((False, p))
        return _gather_fn(x, *arrays, template=tuple(template))
    return _getitem_fn(x, index, _is_basic_index(index))


def take(a: Any, indices: Any, axis: int | None = None) -> Any:
    indices = detach(indices)
    if indices.__class__ is not Tracer:
        indices = np.asarray(indices)
    if axis is None:
        return getitem(ravel(a), indices)
    ax = normalize_axes(axis, ndim_of(a), "take")[0]
    return getitem(a, (slice(None),) * ax + (indices,))


def take_along_axis(arr: Any, indices: Any, axis: int | None) -> Any:
    indices = detach(indices)
    if indices.__class__ is not Tracer:
        indices = np.asarray(indices)
    if axis is None:
        return getitem(ravel(arr), ravel(indices))
    nd = ndim_of(arr)
    ax = normalize_axes(axis, nd, "take_along_axis")[0]
    index_shape = shape_of(indices)
    if len(index_shape) != nd:
        raise ValueError(
            f"take_along_axis: indices has {len(index_shape)} dimensions, array has {nd}"
        )
    grids = np.ogrid[tuple(slice(n) for n in index_shape)]
    full = tuple(indices if i == ax else grids[i] for i in range(nd))
    return getitem(arr, full)


_DISPATCH: list[tuple[Callable[..., Any], Callable[..., Any]]] = [
    (np.sum, sum),
    (np.broadcast_to, broadcast_to),
    (np.reshape, reshape),
    (np.transpose, transpose),
    (np.swapaxes, swapaxes),
    (np.moveaxis, moveaxis),
    (np.ravel, ravel),
    (np.expand_dims, expand_dims),
    (np.squeeze, squeeze),
    (np.take, take),
    (np.take_along_axis, take_along_axis),
]
for _np_fn, _fn in _DISPATCH:
    register_function(_np_fn, _fn)

_SAMPLE_2x3 = "np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])"
document(
    sum,
    "Differentiable ``numpy.sum`` (``axis``, ``dtype``, ``keepdims``).",
    "the output cotangent broadcast back over the summed axes.",
    f">>> fgrad.check_grads(lambda x: fnp.sum(x, axis=1), ({_SAMPLE_2x3},))\n"
    f">>> fgrad.grad(fnp.sum)(np.ones(3))\narray([1., 1., 1.])",
)
document(
    broadcast_to,
    "Differentiable ``numpy.broadcast_to``.",
    "the cotangent summed over the broadcast axes.",
    ">>> fgrad.check_grads(lambda x: fnp.broadcast_to(x, (4, 3)), (np.array([1.0, 2.0, 3.0]),))",
)
document(
    reshape,
    "Differentiable ``numpy.reshape`` (C order; one dimension may be -1).",
    "the cotangent reshaped back.",
    f">>> fgrad.check_grads(lambda x: fnp.reshape(x, (3, 2)), ({_SAMPLE_2x3},))",
)
document(
    transpose,
    "Differentiable ``numpy.transpose``.",
    "the cotangent transposed by the inverse permutation.",
    f">>> fgrad.check_grads(fnp.transpose, ({_SAMPLE_2x3},))",
)
document(
    swapaxes,
    "Differentiable ``numpy.swapaxes``.",
    "the cotangent with the same axes swapped back.",
    f">>> fgrad.check_grads(lambda x: fnp.swapaxes(x, 0, 1), ({_SAMPLE_2x3},))",
)
document(
    moveaxis,
    "Differentiable ``numpy.moveaxis``.",
    "the cotangent with the axes moved back.",
    ">>> fgrad.check_grads(lambda x: fnp.moveaxis(x, 0, -1), (np.ones((2, 3, 4)),))",
)
document(
    ravel,
    "Differentiable ``numpy.ravel`` (C order).",
    "the cotangent reshaped to the input's shape.",
    f">>> fgrad.check_grads(fnp.ravel, ({_SAMPLE_2x3},))",
)
document(
    expand_dims,
    "Differentiable ``numpy.expand_dims``.",
    "the cotangent reshaped back.",
    f">>> fgrad.check_grads(lambda x: fnp.expand_dims(x, 1), ({_SAMPLE_2x3},))",
)
document(
    squeeze,
    "Differentiable ``numpy.squeeze``.",
    "the cotangent reshaped back.",
    ">>> fgrad.check_grads(fnp.squeeze, (np.array([[[0.5], [1.5]]]),))",
)
document(
    astype,
    "``x`` converted to ``dtype``; differentiable between floating dtypes.",
    "the cotangent converted back to the input's dtype; a cast to an integer or bool "
    "dtype returns a plain array (no gradient).",
    ">>> fgrad.grad(lambda x: fnp.sum(fnp.astype(x, np.float32)))(np.ones(2))\narray([1., 1.])",
)
document(
    scatter_add,
    "Zeros of ``shape`` with ``values`` added at ``index`` (repeated indices accumulate).",
    "the cotangent read back at ``index``.",
    ">>> fnp.scatter_add(np.array([1.0, 2.0, 3.0]), (2,), np.array([0, 1, 0]))\narray([4., 2.])",
)
document(
    getitem,
    "``x[index]`` for basic, integer-array and boolean-mask indices.",
    "the cotangent scatter-added into zeros of ``x``'s shape (repeats accumulate).",
    f">>> fgrad.check_grads(lambda x: x[[0, 1, 1], [2, 0, 0]], ({_SAMPLE_2x3},))",
)
document(
    take,
    "Differentiable ``numpy.take``.",
    "the cotangent scatter-added at the taken indices.",
    f">>> fgrad.check_grads(lambda x: fnp.take(x, [2, 0, 2], axis=1), ({_SAMPLE_2x3},))",
)
document(
    take_along_axis,
    "Differentiable ``numpy.take_along_axis``.",
    "the cotangent scatter-added at the taken indices.",
    f">>> fgrad.check_grads(lambda x: fnp.take_along_axis(x, np.array([[1], [0]]), 1), "
    f"({_SAMPLE_2x3},))",
)

__all__ = [
    "astype",
    "broadcast_to",
    "expand_dims",
    "getitem",
    "moveaxis",
    "ravel",
    "reshape",
    "scatter_add",
    "squeeze",
    "sum",
    "swapaxes",
    "take",
    "take_along_axis",
    "transpose",
    "unbroadcast",
]
