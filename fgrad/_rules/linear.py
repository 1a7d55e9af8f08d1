"""The linear primitives every VJP is written with, in transpose pairs.

``sum`` and ``broadcast_to`` (with :func:`unbroadcast` and :func:`spread`) are each
other's VJP, as are ``getitem`` and ``scatter_add``, and the gather and scatter of
traced index arrays; ``reshape``, ``transpose`` and ``astype`` are their own kind.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from fgrad._core import (
    NO_PARAMS,
    Primitive,
    Tracer,
    bind1,
    concrete,
    detach,
    set_real_part,
    value_dtype,
)
from fgrad._rules import batching
from fgrad._rules.declare import export, plain_values
from fgrad._rules.helpers import dtype_of, ndim_of, no_out, normalize_axes, shape_of

_add_reduce: Callable[..., Any] = np.add.reduce


def _sum_impl(x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    return _add_reduce(x, axis=axis, keepdims=keepdims)


def _sum_vjp(g: Any, ans: Any, x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    shape = shape_of(x)
    if not keepdims:
        g = reshape(g, tuple(1 if i in axis else d for i, d in enumerate(shape)))
    return spread(g, shape)


SUM = Primitive("sum", _sum_impl, (_sum_vjp,), batch=batching.along_axes)


@export("sum")
def sum(  # noqa: A001
    a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False
) -> Any:
    """Differentiable ``numpy.sum`` (``axis``, ``dtype``, ``keepdims``).

    Gradient: the output cotangent broadcast back over the summed axes.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda x: fnp.sum(x, axis=1), (x,))
    >>> fgrad.grad(fnp.sum)(np.ones(3))
    array([1., 1., 1.])
    """
    no_out("sum", out)
    if a.__class__ is not Tracer:
        return np.sum(a, axis=axis, dtype=dtype, keepdims=keepdims)
    if dtype is not None:
        a = astype(a, dtype)
    params = {"axis": normalize_axes(axis, a.ndim, "sum"), "keepdims": keepdims}
    return bind1(SUM, a, params)


def unbroadcast(g: Any, shape: tuple[int, ...]) -> Any:
    """Sum the cotangent ``g`` of a broadcast result back to ``shape``."""
    try:
        g_shape = g.shape
    except AttributeError:
        g_shape = np.shape(g)
    if g_shape == shape:
        return g
    lead = len(g_shape) - len(shape)
    if lead == 1 and g.__class__ is np.ndarray and g_shape[1:] == shape:
        return _add_reduce(g, axis=0)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, d in enumerate(shape) if d == 1 and g_shape[lead + i] != 1
    )
    if axes:
        if g.__class__ is Tracer:
            g = bind1(SUM, g, {"axis": axes, "keepdims": False})
        else:
            g = _add_reduce(g, axis=axes)
    if shape_of(g) != shape:
        g = reshape(g, shape)
    return g


def _broadcast_to_vjp(g: Any, ans: Any, x: Any, shape: tuple[int, ...]) -> Any:
    return unbroadcast(g, shape_of(x))


def _batch_to_shape(prim: Primitive, values: Any, batched: Any, params: Any, size: int) -> Any:
    shape = params["shape"]
    x = batching.pad_after_batch(values[0], len(shape))
    return prim(x, shape=(size, *shape)), True


_BROADCAST_TO = Primitive(
    "broadcast_to", np.broadcast_to, (_broadcast_to_vjp,), batch=_batch_to_shape
)


@export("broadcast_to")
def broadcast_to(array: Any, shape: Any) -> Any:
    """Differentiable ``numpy.broadcast_to``.

    Gradient: the cotangent summed over the broadcast axes.

    Examples
    --------
    >>> fgrad.check_grads(lambda x: fnp.broadcast_to(x, (4, 3)), (np.array([1.0, 2.0, 3.0]),))
    """
    shape = (int(shape),) if np.ndim(shape) == 0 else tuple(int(s) for s in shape)
    if array.__class__ is not Tracer:
        return np.broadcast_to(array, shape)
    if array.shape == shape:
        return array
    return bind1(_BROADCAST_TO, array, {"shape": shape})


def _spread_impl(x: Any, shape: tuple[int, ...]) -> Any:
    if x.__class__ is Tracer:
        return spread(x, shape)
    out = np.empty(shape, dtype=value_dtype(x))
    out[...] = x
    return out


# A fresh array also when traced: a broadcast view would reach later rules (matmul) with other
# strides than the eager fresh array, and NumPy may round those differently (jit != eager).
_SPREAD = Primitive("broadcast_to", _spread_impl, (_broadcast_to_vjp,), batch=_batch_to_shape)


def spread(x: Any, shape: tuple[int, ...]) -> Any:
    """``x`` broadcast to ``shape`` inside VJP rules: a fresh array, traced or not."""
    if x.__class__ is Tracer:
        if x.shape == shape:
            return x
        return bind1(_SPREAD, x, {"shape": shape})
    return _spread_impl(x, shape)


def _reshape_vjp(g: Any, ans: Any, x: Any, shape: tuple[int, ...]) -> Any:
    return reshape(g, shape_of(x))


def _reshape_impl(x: Any, shape: tuple[int, ...]) -> Any:
    return x.reshape(shape) if x.__class__ is np.ndarray else np.reshape(x, shape)


def _as_array_impl(x: Any) -> Any:
    return np.asarray(x)


AS_ARRAY = Primitive("asarray", _as_array_impl, (lambda g, ans, x: g,), batch=batching.elementwise)
"""A NumPy scalar as a 0-d array (arrays pass unchanged): what differentiating transforms
do to scalar inputs, recorded so that ``jit`` replays compute on the same kind of value."""


_RESHAPE = Primitive(
    "reshape",
    _reshape_impl,
    (_reshape_vjp,),
    batch=lambda prim, values, batched, params, size: (
        prim(values[0], shape=(size, *params["shape"])),
        True,
    ),
)


@export("reshape")
def reshape(a: Any, shape: Any, order: str = "C") -> Any:
    """Differentiable ``numpy.reshape`` (C order; one dimension may be -1).

    Gradient: the cotangent reshaped back.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda x: fnp.reshape(x, (3, 2)), (x,))
    """
    if order != "C":
        raise ValueError(f"fgrad.numpy.reshape supports order='C' only, got order={order!r}")
    if a.__class__ is not Tracer:
        return a.reshape(shape) if a.__class__ is np.ndarray else np.reshape(a, shape)
    if shape.__class__ is not tuple:
        shape = (int(shape),) if np.ndim(shape) == 0 else tuple(int(s) for s in shape)
    elif not all(s.__class__ is int for s in shape):
        shape = tuple(int(s) for s in shape)
    if shape == (-1,):
        shape = (math.prod(a.shape),)
    elif -1 in shape:
        shape = np.empty(a.shape, dtype=np.bool_).reshape(shape).shape
    if shape == a.shape:
        return a
    return bind1(_RESHAPE, a, {"shape": shape})


def _transpose_vjp(g: Any, ans: Any, x: Any, axes: tuple[int, ...]) -> Any:
    inverse = [0] * len(axes)
    for position, axis in enumerate(axes):
        inverse[axis] = position
    return TRANSPOSE(g, axes=tuple(inverse))


def _transpose_impl(x: Any, axes: tuple[int, ...]) -> Any:
    return x.transpose(axes) if x.__class__ is np.ndarray else np.transpose(x, axes)


TRANSPOSE = Primitive(
    "transpose",
    _transpose_impl,
    (_transpose_vjp,),
    batch=lambda prim, values, batched, params, size: (
        prim(values[0], axes=(0, *(a + 1 for a in params["axes"]))),
        True,
    ),
)


@export("transpose")
def transpose(a: Any, axes: Any = None) -> Any:
    """Differentiable ``numpy.transpose``.

    Gradient: the cotangent transposed by the inverse permutation.

    Examples
    --------
    >>> fgrad.check_grads(fnp.transpose, (np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]]),))
    """
    nd = ndim_of(a)
    if axes is None:
        axes = tuple(range(nd - 1, -1, -1))
    else:
        axes = tuple(normalize_axes(int(ax), nd, "transpose")[0] for ax in axes)
        if sorted(axes) != list(range(nd)):
            raise ValueError(f"transpose: axes {axes} are not a permutation of {nd} axes")
    if a.__class__ is Tracer:
        return bind1(TRANSPOSE, a, {"axes": axes})
    return _transpose_impl(a, axes)


def _astype_vjp(g: Any, ans: Any, x: Any, dtype: Any) -> Any:
    source = dtype_of(x)
    if source.kind != "c" and dtype_of(g).kind == "c":
        g = real_part(g)
    return astype(g, source)


def _astype_impl(x: Any, dtype: Any) -> Any:
    return np.asarray(x).astype(dtype)


_ASTYPE = Primitive("astype", _astype_impl, (_astype_vjp,), batch=batching.elementwise)
_astype_plain = plain_values(_astype_impl, "astype", batching.elementwise)


@export("astype")
def astype(x: Any, dtype: Any, *, copy: bool = True) -> Any:
    """``numpy.astype``: ``x`` converted to ``dtype``; differentiable between floating dtypes.

    ``copy`` is accepted for NumPy's signature; a traced array is never written to, so
    sharing its memory is safe.

    Gradient: the cotangent converted back to the input's dtype; a cast to an integer or bool
    dtype returns a plain array (no gradient).

    Examples
    --------
    >>> fgrad.grad(lambda x: fnp.sum(fnp.astype(x, np.float32)))(np.ones(2))
    array([1., 1.])
    """
    dtype = np.dtype(dtype)
    if x.__class__ is not Tracer:
        return _astype_impl(x, dtype)
    if x.dtype == dtype:
        return x
    if not np.issubdtype(dtype, np.inexact):
        return _astype_plain(detach(x), dtype)
    return bind1(_ASTYPE, x, {"dtype": dtype})


def _real_part_vjp(g: Any, ans: Any, x: Any) -> Any:
    return astype(g, dtype_of(x))


_REAL_PART = Primitive("real", np.real, (_real_part_vjp,), batch=batching.elementwise)


def real_part(x: Any) -> Any:
    """The real part of a complex array; the transpose of the real-to-complex ``astype``.

    Gradient (JAX's convention): the real cotangent as a complex one, ``g + 0j``.

    Examples
    --------
    >>> fgrad.grad(lambda z: fnp.sum(real_part(z * z)))(np.array([1 + 2j]))
    array([2.+4.j])
    """
    if x.__class__ is Tracer:
        return bind1(_REAL_PART, x, NO_PARAMS)
    return np.real(x)


set_real_part(real_part)


def _is_basic_index(index: Any) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return builtins.all(
        isinstance(p, (int, np.integer, slice)) or p is None or p is Ellipsis for p in parts
    )


def _scatter_add_impl(g: Any, shape: tuple[int, ...], index: Any, basic: bool) -> Any:
    out = np.zeros(shape, dtype=value_dtype(g))
    if basic:
        out[index] = g
    else:
        np.add.at(out, index, g)
    return out


def _scatter_add_vjp(ct: Any, ans: Any, g: Any, shape: Any, index: Any, basic: bool) -> Any:
    return _GETITEM(ct, index=index, basic=basic)


def _static_batch_index(index: Any, size: int) -> tuple[Any, ...] | None:
    """A static advanced index that indexes every example at once, ``None`` where no prefix
    keeps NumPy's placement of the indexed axes.

    Adjacent advanced parts stay in place, so a full slice in front keeps the batch axis
    first (``x[:, idx]`` is ``X[:, :, idx]``); otherwise ``arange(size)`` goes in front when
    the index starts with an advanced part (see :func:`_with_batch_index`).
    """
    parts = index if isinstance(index, tuple) else (index,)
    ranks = [_advanced_rank(part) for part in parts]
    if -1 in ranks:
        return None
    advanced = [i for i, rank in enumerate(ranks) if rank is not None]
    if advanced and advanced[-1] - advanced[0] + 1 == len(advanced):
        return (slice(None), *parts)
    found = _with_batch_index([], [], tuple((False, part) for part in parts), size)
    if found is None:
        return None
    (batch_index,), _ = found
    return (batch_index, *parts)


def _batch_scatter_add(prim: Primitive, values: Any, batched: Any, params: Any, size: int) -> Any:
    if not params["basic"]:
        index = _static_batch_index(params["index"], size)
        if index is None:
            return batching.one_by_one(prim, values, batched, params, size)
        g = batching.with_batch(values[0], batched[0], size)
        return prim(g, shape=(size, *params["shape"]), index=index, basic=False), True
    shape, index = params["shape"], params["index"]
    index = index if isinstance(index, tuple) else (index,)
    target_rank = np.ndim(np.broadcast_to(0.0, shape)[index])
    g = batching.pad_after_batch(values[0], target_rank)
    return prim(g, shape=(size, *shape), index=(slice(None), *index), basic=True), True


_SCATTER_ADD = Primitive(
    "scatter_add", _scatter_add_impl, (_scatter_add_vjp,), batch=_batch_scatter_add
)


@export("scatter_add")
def scatter_add(values: Any, shape: tuple[int, ...], index: Any, basic: bool = False) -> Any:
    """Zeros of ``shape`` with ``values`` added at ``index`` (repeated indices accumulate).

    Gradient: the cotangent read back at ``index``.

    Examples
    --------
    >>> fnp.scatter_add(np.array([1.0, 2.0, 3.0]), (2,), np.array([0, 1, 0]))
    array([4., 2.])
    """
    if values.__class__ is Tracer:
        return bind1(_SCATTER_ADD, values, {"shape": shape, "index": index, "basic": basic})
    return _scatter_add_impl(values, shape, index, basic)


def _getitem_vjp(g: Any, ans: Any, x: Any, index: Any, basic: bool) -> Any:
    return scatter_add(g, shape_of(x), index, basic)


def _getitem_impl(x: Any, index: Any, basic: bool) -> Any:
    return x[index]


def _batch_getitem(prim: Primitive, values: Any, batched: Any, params: Any, size: int) -> Any:
    index = params["index"] if isinstance(params["index"], tuple) else (params["index"],)
    if not params["basic"]:
        batch_index = _static_batch_index(index, size)
        if batch_index is None:
            return batching.one_by_one(prim, values, batched, params, size)
        return prim(values[0], index=batch_index, basic=False), True
    return prim(values[0], index=(slice(None), *index), basic=True), True


_GETITEM = Primitive("getitem", _getitem_impl, (_getitem_vjp,), batch=_batch_getitem)


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
    return [_SCATTER(g, *arrays, shape=shape_of(x), **params) if k == 0 else None for k in argnums]


def _scatter_impl(g: Any, *arrays: Any, shape: tuple[int, ...], template: tuple[Any, ...]) -> Any:
    out = np.zeros(shape, dtype=value_dtype(g))
    np.add.at(out, _rebuild_index(template, arrays), g)
    return out


def _scatter_vjp(
    ct: Any, ans: Any, args: tuple[Any, ...], params: dict[str, Any], argnums: Any
) -> list[Any]:
    arrays = args[1:]
    template = params["template"]
    return [_GATHER(ct, *arrays, template=template) if k == 0 else None for k in argnums]


def _advanced_rank(part: Any) -> int | None:
    """The rank of a static index part that NumPy treats as an advanced (integer) index,
    ``None`` for a basic one (slice, ``None``, ``Ellipsis``), ``-1`` for one not handled."""
    if isinstance(part, (int, np.integer)) and not isinstance(part, (bool, np.bool_)):
        return 0
    if isinstance(part, np.ndarray):
        return part.ndim if part.dtype.kind in "iu" else -1
    if isinstance(part, slice) or part is None or part is Ellipsis:
        return None
    return -1


def _with_batch_index(
    arrays: Sequence[Any], batched: Sequence[bool], template: tuple[Any, ...], size: int
) -> tuple[list[Any], tuple[Any, ...]] | None:
    """Index arrays and template that index every example at once: ``arange(size)`` first.

    Only where that keeps NumPy's placement of the indexed axes: the index starts with an
    integer index (so the batch index joins the first group of advanced indices), and every
    index array is integer (a boolean mask may select a different count per example).
    ``None`` otherwise.
    """
    ranks = [len(shape_of(a)) - b for a, b in zip(arrays, batched)]
    if not builtins.all(dtype_of(a).kind in "iu" for a in arrays):
        return None
    for position, (is_array, part) in enumerate(template):
        if is_array:
            continue
        rank = _advanced_rank(part)
        if rank == -1 or (position == 0 and rank is None):
            return None
        if rank is not None:
            ranks.append(rank)
    if not template:
        return None
    rank = builtins.max(ranks, default=0)
    padded = [batching.pad_after_batch(a, rank) if b else a for a, b in zip(arrays, batched)]
    batch_index = np.arange(size).reshape((size,) + (1,) * rank)
    shifted = tuple((True, v + 1) if is_array else (False, v) for is_array, v in template)
    return [batch_index, *padded], ((True, 0), *shifted)


def _batch_gather(prim: Primitive, values: Any, batched: Any, params: Any, size: int) -> Any:
    found = _with_batch_index(values[1:], batched[1:], params["template"], size)
    if found is None:
        return batching.one_by_one(prim, values, batched, params, size)
    arrays, template = found
    return prim(batching.with_batch(values[0], batched[0], size), *arrays, template=template), True


def _batch_scatter(prim: Primitive, values: Any, batched: Any, params: Any, size: int) -> Any:
    found = _with_batch_index(values[1:], batched[1:], params["template"], size)
    if found is None:
        return batching.one_by_one(prim, values, batched, params, size)
    arrays, template = found
    g = batching.with_batch(values[0], batched[0], size)
    return prim(g, *arrays, shape=(size, *params["shape"]), template=template), True


_GATHER = Primitive(
    "gather", _gather_impl, vjp_joint=_gather_vjp, varying_shape=True, batch=_batch_gather
)
_SCATTER = Primitive("scatter_add", _scatter_impl, vjp_joint=_scatter_vjp, batch=_batch_scatter)


def getitem(x: Any, index: Any) -> Any:
    """``x[index]`` for basic, integer-array and boolean-mask indices (``Tracer.__getitem__``).

    Index arrays computed under ``fgrad.jit`` are recorded as arguments (a gather), so
    replays use the current indices.

    Gradient: the cotangent scatter-added into zeros of ``x``'s shape (repeats accumulate).

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda x: getitem(x, ([0, 1, 1], [2, 0, 0])), (x,))
    >>> fgrad.grad(lambda x: getitem(x, (0, 1)))(x)
    array([[0., 1., 0.],
           [0., 0., 0.]])
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
        return _GATHER(x, *arrays, template=tuple(template))
    if x.__class__ is Tracer:
        return bind1(_GETITEM, x, {"index": index, "basic": _is_basic_index(index)})
    return x[index]
