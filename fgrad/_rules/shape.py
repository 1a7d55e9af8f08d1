"""Joining, splitting, tiling, padding and triangular/diagonal selections.

Only ``concatenate``, ``roll`` and ``pad`` are primitives here; everything
else is composed from them and the structural primitives, so its gradient
follows from theirs.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from fgrad import _compat
from fgrad._core import Primitive, Tracer, bind1, bindn, concrete, detach
from fgrad._rules._define import (
    document,
    dtype_of,
    ndim_of,
    non_differentiable,
    normalize_axes,
    plain_values,
    register_function,
    shape_of,
    strip,
)
from fgrad._rules.elementwise import equal, greater, less, where
from fgrad._rules.structural import (
    _sum_fn,
    astype,
    broadcast_to,
    getitem,
    moveaxis,
    reshape,
    spread,
    take_along_axis,
    transpose,
)


def _any_traced(arrays: Sequence[Any]) -> bool:
    return builtins.any(a.__class__ is Tracer for a in arrays)


# --- concatenate -------------------------------------------------------------------


def _concatenate_impl(*arrays: Any, axis: int) -> Any:
    return np.concatenate(arrays, axis=axis)


def _concatenate_vjp(
    g: Any, ans: Any, arrays: tuple[Any, ...], params: dict[str, Any], argnums: Sequence[int]
) -> list[Any]:
    axis = params["axis"]
    bounds = np.cumsum([0] + [shape_of(a)[axis] for a in arrays])
    lead = (slice(None),) * axis
    return [getitem(g, lead + (slice(int(bounds[k]), int(bounds[k + 1])),)) for k in argnums]


_CONCATENATE = Primitive("concatenate", _concatenate_impl, vjp_joint=_concatenate_vjp)


def _concatenate_fn(*arrays: Any, axis: int) -> Any:
    return bindn(_CONCATENATE, arrays, {"axis": axis})




def concatenate(arrays: Sequence[Any], axis: int | None = 0) -> Any:
    arrays = list(arrays)
    if not arrays:
        raise ValueError("concatenate: need at least one array to concatenate")
    if not _any_traced(arrays):
        return np.concatenate(arrays, axis=axis)
    if axis is None:
        arrays = [reshape(a, (-1,)) for a in arrays]
        axis = 0
    nd = ndim_of(arrays[0])
    if nd == 0:
        raise ValueError("concatenate: zero-dimensional arrays cannot be concatenated")
    return bindn(_CONCATENATE, arrays, {"axis": normalize_axes(axis, nd, "concatenate")[0]})


def _atleast(a: Any, n: int) -> Any:
    shape = shape_of(a)
    if len(shape) >= n:
        return a
    if n == 1:
        return reshape(a, (1,))
    if n == 2:
        return reshape(a, (1,) * (2 - len(shape)) + shape)
    if len(shape) == 2:
        return reshape(a, shape + (1,))
    return reshape(a, (1,) + shape + (1,) * (2 - len(shape)))


def atleast_1d(*arys: Any) -> Any:
    out = [_atleast(a, 1) for a in arys]
    return out[0] if len(out) == 1 else out


def atleast_2d(*arys: Any) -> Any:
    out = [_atleast(a, 2) for a in arys]
    return out[0] if len(out) == 1 else out


def atleast_3d(*arys: Any) -> Any:
    out = [_atleast(a, 3) for a in arys]
    return out[0] if len(out) == 1 else out


def stack(arrays: Sequence[Any], axis: int = 0) -> Any:
    arrays = list(arrays)
    if not _any_traced(arrays):
        return np.stack(arrays, axis=axis)
    shapes = {shape_of(a) for a in arrays}
    if len(shapes) != 1:
        raise ValueError(f"stack: all input arrays must have the same shape, got {shapes}")
    shape = shapes.pop()
    ax = normalize_axes(axis, len(shape) + 1, "stack")[0]
    new_shape = shape[:ax] + (1,) + shape[ax:]
    return concatenate([reshape(a, new_shape) for a in arrays], axis=ax)


def hstack(tup: Sequence[Any]) -> Any:
    arrays = [_atleast(a, 1) for a in tup]
    return concatenate(arrays, axis=0 if ndim_of(arrays[0]) == 1 else 1)


def vstack(tup: Sequence[Any]) -> Any:
    return concatenate([_atleast(a, 2) for a in tup], axis=0)


def dstack(tup: Sequence[Any]) -> Any:
    return concatenate([_atleast(a, 3) for a in tup], axis=2)


def column_stack(tup: Sequence[Any]) -> Any:
    cols = [reshape(a, (-1, 1)) if ndim_of(a) < 2 else a for a in tup]
    return concatenate(cols, axis=1)


# --- splitting -------------------------------------------------------------------------


def array_split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list[Any]:
    n = shape_of(ary)[axis]
    if np.ndim(indices_or_sections) == 0:
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ValueError("array_split: number of sections must be larger than 0")
        each, extra = divmod(n, sections)
        sizes = [each + 1] * extra + [each] * (sections - extra)
        bounds = np.cumsum([0] + sizes)
    else:
        bounds = np.concatenate([[0], np.asarray(indices_or_sections), [n]])
    ax = normalize_axes(axis, ndim_of(ary), "split")[0]
    lead = (slice(None),) * ax
    # Plain slices between consecutive bounds, exactly as numpy.array_split: negative
    # indices count from the end and a decreasing pair gives an empty piece.
    return [
        getitem(ary, lead + (slice(int(lo), int(hi)),)) for lo, hi in zip(bounds[:-1], bounds[1:])
    ]


def split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list[Any]:
    if np.ndim(indices_or_sections) == 0:
        n = shape_of(ary)[axis]
        if n % int(indices_or_sections):
            raise ValueError(
                f"split: array of size {n} along axis {axis} does not divide into "
                f"{indices_or_sections} equal sections (use array_split)"
            )
    return array_split(ary, indices_or_sections, axis)


def hsplit(ary: Any, indices_or_sections: Any) -> list[Any]:
    return split(ary, indices_or_sections, axis=1 if ndim_of(ary) > 1 else 0)


def vsplit(ary: Any, indices_or_sections: Any) -> list[Any]:
    return split(ary, indices_or_sections, axis=0)


# --- repetition ------------------------------------------------------------------------


def tile(A: Any, reps: Any) -> Any:
    if A.__class__ is not Tracer:
        return np.tile(A, reps)
    reps = (int(reps),) if np.ndim(reps) == 0 else tuple(int(r) for r in reps)
    shape = shape_of(A)
    nd = builtins.max(len(shape), len(reps))
    shape = (1,) * (nd - len(shape)) + shape
    reps = (1,) * (nd - len(reps)) + reps
    interleaved = tuple(v for pair in zip((1,) * nd, shape) for v in pair)
    expanded = tuple(v for pair in zip(reps, shape) for v in pair)
    # spread makes a fresh array, laid out like np.tile's (a broadcast view would not be).
    a = spread(reshape(A, interleaved), expanded)
    return reshape(a, tuple(r * s for r, s in zip(reps, shape)))


def repeat(a: Any, repeats: Any, axis: int | None = None) -> Any:
    if a.__class__ is not Tracer:
        return np.repeat(a, repeats, axis=axis)
    if axis is None:
        a = reshape(a, (-1,))
        axis = 0
    ax = normalize_axes(axis, a.ndim, "repeat")[0]
    index = np.repeat(np.arange(a.shape[ax]), concrete(repeats))
    return getitem(a, (slice(None),) * ax + (index,))


def flip(m: Any, axis: Any = None) -> Any:
    nd = ndim_of(m)
    axes = normalize_axes(axis, nd, "flip")
    return getitem(m, tuple(slice(None, None, -1) if i in axes else slice(None) for i in range(nd)))


def fliplr(m: Any) -> Any:
    return flip(m, 1)


def flipud(m: Any) -> Any:
    return flip(m, 0)


def _roll_vjp(g: Any, ans: Any, x: Any, shift: tuple[int, ...], axis: tuple[int, ...]) -> Any:
    return _roll_fn(g, tuple(-s for s in shift), axis)


def _roll_impl(x: Any, shift: tuple[int, ...], axis: tuple[int, ...]) -> Any:
    return np.roll(x, shift, axis)


_ROLL = Primitive("roll", _roll_impl, (_roll_vjp,))


def _roll_fn(x: Any, shift: tuple[int, ...], axis: tuple[int, ...]) -> Any:
    if x.__class__ is Tracer:
        return bind1(_ROLL, x, {"shift": shift, "axis": axis})
    return np.roll(x, shift, axis)




def roll(a: Any, shift: Any, axis: Any = None) -> Any:
    if a.__class__ is not Tracer:
        return np.roll(a, shift, axis)
    if axis is None:
        return reshape(roll(reshape(a, (-1,)), shift, 0), a.shape)
    shifts = tuple(int(s) for s in np.atleast_1d(shift))
    axes = tuple(int(x) for x in np.atleast_1d(axis))
    shifts, axes = (shifts * len(axes), axes) if len(shifts) == 1 else (shifts, axes)
    return _roll_fn(a, shifts, axes)


# --- pad --------------------------------------------------------------------------------

_INDEX_MODES = ("edge", "reflect", "symmetric", "wrap")
# NumPy's stubs type ``mode`` as a Literal; here it is any string, checked by NumPy.
_np_pad: Callable[..., Any] = np.pad


def _pad_vjp(g: Any, ans: Any, x: Any, pad_width: Any, constant_values: Any) -> Any:
    index = tuple(slice(lo, lo + n) for (lo, _), n in zip(pad_width, shape_of(x)))
    return getitem(g, index)


def _pad_impl(x: Any, pad_width: Any, constant_values: Any) -> Any:
    return np.pad(x, pad_width, mode="constant", constant_values=constant_values)


_PAD = Primitive("pad", _pad_impl, (_pad_vjp,))


def _pad_fn(x: Any, pad_width: Any, constant_values: Any) -> Any:
    if x.__class__ is Tracer:
        return bind1(_PAD, x, {"pad_width": pad_width, "constant_values": constant_values})
    return _pad_impl(x, pad_width, constant_values)




def pad(array: Any, pad_width: Any, mode: str = "constant", **kwargs: Any) -> Any:
    if array.__class__ is not Tracer:
        return _np_pad(array, pad_width, mode=mode, **kwargs)
    shape = array.shape
    widths = tuple(
        tuple(int(w) for w in pair) for pair in np.broadcast_to(pad_width, (len(shape), 2))
    )
    if mode == "constant":
        unknown = set(kwargs) - {"constant_values"}
        if unknown:
            raise TypeError(f"pad: unexpected keyword arguments {sorted(unknown)}")
        return _pad_fn(array, widths, kwargs.get("constant_values", 0))
    if mode in _INDEX_MODES and not kwargs:
        out = array
        for ax, (lo, hi) in enumerate(widths):
            index = _np_pad(np.arange(shape[ax]), (lo, hi), mode=mode)
            out = getitem(out, (slice(None),) * ax + (index,))
        return out
    raise TypeError(
        f"fgrad.numpy.pad has no gradient rule for mode={mode!r} with {sorted(kwargs)}; "
        f"supported: 'constant' and {list(_INDEX_MODES)}"
    )


# --- diagonals and triangles -------------------------------------------------------------


def diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    if a.__class__ is not Tracer:
        return np.diagonal(a, offset, axis1, axis2)
    nd = a.ndim
    ax1, ax2 = normalize_axes(axis1, nd, "diagonal")[0], normalize_axes(axis2, nd, "diagonal")[0]
    moved = moveaxis(a, (ax1, ax2), (-2, -1))
    rows, cols = moved.shape[-2], moved.shape[-1]
    i = np.arange(builtins.max(0, -offset), builtins.min(rows, cols - offset))
    return getitem(moved, (Ellipsis, i, i + offset))


def diag(v: Any, k: int = 0) -> Any:
    if v.__class__ is not Tracer:
        return np.diag(v, k)
    if v.ndim == 2:
        return diagonal(v, k)
    if v.ndim != 1:
        raise ValueError(f"diag: input must be 1-D or 2-D, got shape {v.shape}")
    n = v.shape[0] + builtins.abs(k)
    i = np.arange(v.shape[0])
    rows, cols = (i, i + k) if k >= 0 else (i - k, i)
    from fgrad._rules.structural import scatter_add

    return scatter_add(v, (n, n), (rows, cols), False)


def trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    if a.__class__ is not Tracer:
        return np.trace(a, offset, axis1, axis2)
    d = diagonal(a, offset, axis1, axis2)
    return _sum_fn(d, (d.ndim - 1,), False)


def _triangle(m: Any, k: int, upper: bool) -> Any:
    shape = shape_of(m)
    mask = (
        np.triu(np.ones(shape[-2:], dtype=bool), k)
        if upper
        else np.tril(np.ones(shape[-2:], dtype=bool), k)
    )
    return where(mask, m, 0.0)


def triu(m: Any, k: int = 0) -> Any:
    if m.__class__ is not Tracer:
        return np.triu(m, k)
    return _triangle(m, k, True)


def tril(m: Any, k: int = 0) -> Any:
    if m.__class__ is not Tracer:
        return np.tril(m, k)
    return _triangle(m, k, False)


# --- sorting -----------------------------------------------------------------------------


def sort(a: Any, axis: int | None = -1, kind: Any = None, order: Any = None) -> Any:
    if a.__class__ is not Tracer:
        return np.sort(a, axis=axis, kind=kind, order=order)
    if axis is None:
        a = reshape(a, (-1,))
        axis = -1
    order_idx = argsort(detach(a), axis=axis, kind=kind)
    return take_along_axis(a, order_idx, axis)


# NumPy's stubs want Literal arguments; here they are any value, checked by NumPy.
_np_partition: Callable[..., Any] = np.partition
_np_gradient: Callable[..., Any] = _compat.gradient


def partition(
    a: Any, kth: Any, axis: int | None = -1, kind: str = "introselect", order: Any = None
) -> Any:
    if a.__class__ is not Tracer:
        return _np_partition(a, kth, axis=axis, kind=kind, order=order)
    if axis is None:
        a = reshape(a, (-1,))
        axis = -1
    index = argpartition(detach(a), kth, axis=axis, kind=kind)
    return take_along_axis(a, index, axis)


# --- differences, products of vectors, rotations ------------------------------------------


class _NoValue:
    def __repr__(self) -> str:
        return "<no value>"


_NO_VALUE: Any = _NoValue()


def _take_slice(a: Any, axis: int, start: int | None, stop: int | None) -> Any:
    return getitem(a, (slice(None),) * axis + (slice(start, stop),))


def diff(
    a: Any, n: int = 1, axis: int = -1, prepend: Any = _NO_VALUE, append: Any = _NO_VALUE
) -> Any:
    if not _any_traced([a, prepend, append]):
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


def ediff1d(ary: Any, to_end: Any = None, to_begin: Any = None) -> Any:
    if not _any_traced([ary, to_end, to_begin]):
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


def cross(
    a: Any, b: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis: Any = None
) -> Any:
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


def append(arr: Any, values: Any, axis: int | None = None) -> Any:
    if arr.__class__ is not Tracer and values.__class__ is not Tracer:
        return np.append(arr, values, axis)
    arr = arr if arr.__class__ is Tracer else np.asarray(arr)
    values = values if values.__class__ is Tracer else np.asarray(values)
    if axis is None:
        return concatenate([reshape(arr, (-1,)), reshape(values, (-1,))], axis=0)
    return concatenate([arr, values], axis=axis)


def _labels(shape: tuple[int, ...], start: int = 0) -> np.ndarray:
    return np.arange(start, start + int(np.prod(shape)), dtype=np.intp).reshape(shape)


def insert(arr: Any, obj: Any, values: Any, axis: int | None = None) -> Any:
    if arr.__class__ is not Tracer and values.__class__ is not Tracer:
        return np.insert(arr, strip(obj), values, axis)
    arr = arr if arr.__class__ is Tracer else np.asarray(arr)
    dtype = dtype_of(arr)
    values = astype(values, dtype) if values.__class__ is Tracer else np.asarray(values, dtype)
    # np.insert itself places the elements: run it on integer labels of the elements of
    # ``arr`` and ``values``, then gather those elements in that order.
    size = int(np.prod(shape_of(arr)))
    labels = np.insert(_labels(shape_of(arr)), strip(obj), _labels(shape_of(values), size), axis)
    flat = concatenate([reshape(arr, (-1,)), reshape(values, (-1,))], axis=0)
    return getitem(flat, labels)


def delete(arr: Any, obj: Any, axis: int | None = None) -> Any:
    if arr.__class__ is not Tracer:
        return np.delete(arr, strip(obj), axis)
    labels = np.delete(_labels(shape_of(arr)), strip(obj), axis)
    return getitem(reshape(arr, (-1,)), labels)


def rot90(m: Any, k: int = 1, axes: Any = (0, 1)) -> Any:
    if m.__class__ is not Tracer:
        return np.rot90(m, k, axes)
    axes = tuple(axes)
    if len(axes) != 2:
        raise ValueError("len(axes) must be 2.")
    nd = ndim_of(m)
    if axes[0] == axes[1] or builtins.abs(axes[0] - axes[1]) == nd:
        raise ValueError("Axes must be different.")
    if not (-nd <= axes[0] < nd and -nd <= axes[1] < nd):
        raise ValueError(f"Axes={axes} out of range for array of ndim={nd}.")
    k %= 4
    if k == 0:
        return m
    if k == 2:
        return flip(flip(m, axes[0]), axes[1])
    perm = list(range(nd))
    perm[axes[0]], perm[axes[1]] = perm[axes[1]], perm[axes[0]]
    if k == 1:
        return transpose(flip(m, axes[1]), perm)
    return flip(transpose(m, perm), axes[1])


def rollaxis(a: Any, axis: int, start: int = 0) -> Any:
    if a.__class__ is not Tracer:
        return np.rollaxis(a, axis, start)
    n = ndim_of(a)
    axis = normalize_axes(axis, n, "rollaxis")[0]
    if start < 0:
        start += n
    if not 0 <= start < n + 1:
        raise np.exceptions.AxisError(f"rollaxis: start {start} out of bounds for {n} axes")
    if axis < start:
        start -= 1
    if axis == start:
        return a
    order = [i for i in range(n) if i != axis]
    order.insert(start, axis)
    return transpose(a, order)


def dsplit(ary: Any, indices_or_sections: Any) -> list[Any]:
    if ndim_of(ary) < 3:
        raise ValueError("dsplit only works on arrays of 3 or more dimensions")
    return split(ary, indices_or_sections, axis=2)


# --- integration, numerical derivatives, interpolation ---------------------------------------


def trapezoid(y: Any, x: Any = None, dx: Any = 1.0, axis: int = -1) -> Any:
    if not _any_traced([y, x, dx]):
        return _np_trapezoid(y, x=x, dx=dx, axis=axis)
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
    return _sum_fn(d * pairs / 2.0, (ax,), False)


def _np_trapezoid(*args: Any, **kwargs: Any) -> Any:
    return _compat.trapezoid(*args, **kwargs)


def gradient(f: Any, *varargs: Any, axis: Any = None, edge_order: int = 1) -> Any:
    if not _any_traced([f, *varargs]):
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
    return np.clip(np.searchsorted(xp, x, side="right") - 1, 0, builtins.max(len(xp) - 2, 0))


_interval = plain_values(_interval_index, "interp_interval")


def interp(
    x: Any, xp: Any, fp: Any, left: Any = None, right: Any = None, period: Any = None
) -> Any:
    if not _any_traced([x, xp, fp, left, right]):
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


# --- filled arrays ----------------------------------------------------------------------


def full(shape: Any, fill_value: Any, dtype: Any = None, order: str = "C") -> Any:
    if fill_value.__class__ is not Tracer:
        return np.full(shape, fill_value, dtype, order)  # type: ignore[call-overload]
    if dtype is not None:
        fill_value = astype(fill_value, dtype)
    shape = (int(shape),) if np.ndim(shape) == 0 else tuple(int(d) for d in shape)
    return spread(fill_value, shape)


_full_like_values = plain_values(np.full_like, "full_like")


def full_like(
    a: Any,
    fill_value: Any,
    dtype: Any = None,
    order: str = "K",
    subok: bool = True,
    shape: Any = None,
) -> Any:
    out_dtype = dtype_of(a) if dtype is None else np.dtype(dtype)
    if fill_value.__class__ is not Tracer or not np.issubdtype(out_dtype, np.inexact):
        return _full_like_values(a, detach(fill_value), dtype, order, subok, shape)
    return full(shape_of(a) if shape is None else shape, fill_value, out_dtype)


# --- unique -------------------------------------------------------------------------------


_np_unique: Callable[..., Any] = np.unique


def _unique_part(ar: Any, part: int, axis: Any, equal_nan: bool, options: Any) -> Any:
    return _np_unique(ar, True, True, True, axis, equal_nan=equal_nan, **dict(options))[part]


_unique_plain = plain_values(_unique_part, "unique")


def unique(
    ar: Any,
    return_index: bool = False,
    return_inverse: bool = False,
    return_counts: bool = False,
    axis: int | None = None,
    *,
    equal_nan: bool = True,
    **options: Any,
) -> Any:
    if ar.__class__ is not Tracer:
        return _np_unique(
            ar, return_index, return_inverse, return_counts, axis, equal_nan=equal_nan, **options
        )
    plain = detach(ar)
    settings = {"axis": axis, "equal_nan": equal_nan, "options": tuple(sorted(options.items()))}
    first = _unique_plain(plain, part=1, **settings)
    if axis is None:
        values = getitem(reshape(ar, (-1,)), first)
    else:
        ax = normalize_axes(axis, ndim_of(ar), "unique")[0]
        values = getitem(ar, (slice(None),) * ax + (first,))
    outputs = [values]
    if return_index:
        outputs.append(first)
    if return_inverse:
        outputs.append(_unique_plain(plain, part=2, **settings))
    if return_counts:
        outputs.append(_unique_plain(plain, part=3, **settings))
    return outputs[0] if len(outputs) == 1 else tuple(outputs)


_UNIQUE_FAMILY: dict[str, Callable[..., Any]] = {
    name: getattr(np, name)
    for name in ("unique_values", "unique_counts", "unique_inverse", "unique_all")
    if hasattr(np, name)
}


def _unique_family_part(x: Any, name: str, part: int) -> Any:
    """Output ``part`` of ``numpy.<name>(x)``; part -1: where each value first occurs."""
    result = _UNIQUE_FAMILY[name](x)
    if part >= 0:
        return result[part]
    values = result if name == "unique_values" else result[0]
    flat = np.ravel(x)
    ordered, first = np.unique(flat, return_index=True, equal_nan=False)
    return first[np.minimum(np.searchsorted(ordered, values), len(ordered) - 1)]


_unique_family_plain = plain_values(_unique_family_part, "unique_family")


def _unique_family(name: str) -> Callable[[Any], Any]:
    numpy_fn = _UNIQUE_FAMILY[name]

    def fn(x: Any) -> Any:
        if x.__class__ is not Tracer:
            return numpy_fn(x)
        plain = detach(x)
        values = getitem(reshape(x, (-1,)), _unique_family_plain(plain, name=name, part=-1))
        if name == "unique_values":
            return values
        result_type = type(numpy_fn(np.zeros(1)))
        rest = [
            _unique_family_plain(plain, name=name, part=k)
            for k in builtins.range(1, len(result_type._fields))
        ]
        return result_type(values, *rest)

    fn.__name__ = fn.__qualname__ = name
    register_function(numpy_fn, fn)
    document(
        fn,
        f"Differentiable ``numpy.{name}`` (NumPy 2).",
        "the cotangent of each unique value to its first occurrence (a gather); the "
        "integer outputs are plain arrays.",
        f">>> fgrad.check_grads(lambda x: fnp.{name}(fnp.concatenate([x, x[:1]]))"
        f"{'' if name == 'unique_values' else '[0]'}, (np.array([0.3, -1.2, 0.5]),))",
    )
    return fn


unique_values, unique_counts, unique_inverse, unique_all = (
    _unique_family(name) if name in _UNIQUE_FAMILY else None
    for name in ("unique_values", "unique_counts", "unique_inverse", "unique_all")
)


# --- selections by condition or index -------------------------------------------------------


def extract(condition: Any, arr: Any) -> Any:
    if arr.__class__ is not Tracer:
        return np.extract(detach(condition), arr)
    mask = np.ravel(np.asarray(concrete(condition))) != 0
    flat = reshape(arr, (-1,))
    return getitem(flat, np.flatnonzero(mask[: shape_of(flat)[0]]))


def compress(condition: Any, a: Any, axis: int | None = None, out: Any = None) -> Any:
    if out is not None:
        raise TypeError(
            "fgrad.numpy.compress does not take out=: writing into an existing array is "
            "in-place assignment, which has no gradient. Use the returned array."
        )
    if a.__class__ is not Tracer:
        return np.compress(detach(condition), a, axis)
    kept = np.flatnonzero(np.asarray(concrete(condition)))
    if axis is None:
        return getitem(reshape(a, (-1,)), kept)
    ax = normalize_axes(axis, ndim_of(a), "compress")[0]
    if kept.size and kept[-1] >= shape_of(a)[ax]:
        raise IndexError(
            f"compress: condition selects index {kept[-1]} of axis {ax}, of length "
            f"{shape_of(a)[ax]}"
        )
    return getitem(a, (slice(None),) * ax + (kept,))


def choose(a: Any, choices: Any, out: Any = None, mode: str = "raise") -> Any:
    choices = list(choices)
    if a.__class__ is not Tracer and not _any_traced(choices):
        return np.choose(a, choices, out=out, mode=mode)  # type: ignore[call-overload]
    if out is not None:
        raise TypeError(
            "fgrad.numpy.choose does not take out=: writing into an existing array is "
            "in-place assignment, which has no gradient. Use the returned array."
        )
    index = np.asarray(concrete(a))
    n = len(choices)
    if mode == "wrap":
        index = index % n
    elif mode == "clip":
        index = np.clip(index, 0, n - 1)
    elif np.any((index < 0) | (index >= n)):
        raise ValueError("invalid entry in choice array")
    shape = np.broadcast_shapes(index.shape, *(shape_of(c) for c in choices))
    stacked = stack([broadcast_to(c, shape) for c in choices])
    return take_along_axis(stacked, np.broadcast_to(index, shape)[None], 0)[0]


argmax = non_differentiable(np.argmax)
argmin = non_differentiable(np.argmin)
argsort = non_differentiable(np.argsort)
argpartition = non_differentiable(np.argpartition, sample="np.array([3.0, 1.0, 2.0]), 1")
nonzero = non_differentiable(np.nonzero)
flatnonzero = non_differentiable(np.flatnonzero)
count_nonzero = non_differentiable(np.count_nonzero)
any = non_differentiable(np.any)  # noqa: A001
all = non_differentiable(np.all)  # noqa: A001
searchsorted = non_differentiable(np.searchsorted, sample="np.array([0.5, 1.5, 2.5]), 1.0")
shape = non_differentiable(np.shape)
ndim = non_differentiable(np.ndim)
size = non_differentiable(np.size)
zeros_like = non_differentiable(np.zeros_like)
ones_like = non_differentiable(np.ones_like)
empty_like = non_differentiable(np.empty_like)
allclose = non_differentiable(np.allclose, sample="np.array([1.0, 2.0]), 1.0")
isclose = non_differentiable(np.isclose, sample="np.array([1.0, 2.0]), 1.0")
array_equal = non_differentiable(np.array_equal, sample="np.array([1.0, 2.0]), 1.0")
digitize = non_differentiable(np.digitize, sample="np.array([0.2, 1.4]), np.array([0.0, 1.0])")
result_type = non_differentiable(np.result_type)
lexsort = non_differentiable(np.lexsort, sample="np.array([[1.0, 2.0, 0.5], [0.25, 0.25, 3.0]])")
argwhere = non_differentiable(np.argwhere)
isneginf = non_differentiable(np.isneginf, sample="np.array([-np.inf, 1.0, np.inf])")
isposinf = non_differentiable(np.isposinf, sample="np.array([-np.inf, 1.0, np.inf])")
isreal = non_differentiable(np.isreal)
iscomplex = non_differentiable(np.iscomplex)
isrealobj = non_differentiable(np.isrealobj)
iscomplexobj = non_differentiable(np.iscomplexobj)

_DISPATCH: list[tuple[Callable[..., Any], Callable[..., Any]]] = [
    (np.concatenate, concatenate),
    (np.stack, stack),
    (np.hstack, hstack),
    (np.vstack, vstack),
    (np.dstack, dstack),
    (np.column_stack, column_stack),
    (np.atleast_1d, atleast_1d),
    (np.atleast_2d, atleast_2d),
    (np.atleast_3d, atleast_3d),
    (np.split, split),
    (np.array_split, array_split),
    (np.hsplit, hsplit),
    (np.vsplit, vsplit),
    (np.tile, tile),
    (np.repeat, repeat),
    (np.flip, flip),
    (np.fliplr, fliplr),
    (np.flipud, flipud),
    (np.roll, roll),
    (np.pad, pad),
    (np.diagonal, diagonal),
    (np.diag, diag),
    (np.trace, trace),
    (np.triu, triu),
    (np.tril, tril),
    (np.sort, sort),
    (np.partition, partition),
    (np.diff, diff),
    (np.ediff1d, ediff1d),
    (np.cross, cross),
    (np.append, append),
    (np.insert, insert),
    (np.delete, delete),
    (np.rot90, rot90),
    (np.rollaxis, rollaxis),
    (np.dsplit, dsplit),
    (np.gradient, gradient),
    (np.interp, interp),
    (np.full_like, full_like),
    (np.unique, unique),
    (np.extract, extract),
    (np.compress, compress),
    (np.choose, choose),
]
for _name in ("trapezoid", "trapz"):
    if hasattr(np, _name):
        _DISPATCH.append((getattr(np, _name), trapezoid))
for _np_fn, _fn in _DISPATCH:
    register_function(_np_fn, _fn)

_M = "np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])"
_V = "np.array([0.3, -1.2, 0.5])"
_DOCS: list[tuple[Callable[..., Any], str, str, str]] = [
    (
        concatenate,
        "concatenate",
        "the cotangent split back.",
        f"lambda a, b: fnp.concatenate([a, b], 1), ({_M}, {_M})",
    ),
    (
        stack,
        "stack",
        "the cotangent split back.",
        f"lambda a, b: fnp.stack([a, b], 1), ({_M}, {_M})",
    ),
    (
        hstack,
        "hstack",
        "the cotangent split back.",
        f"lambda a, b: fnp.hstack([a, b]), ({_V}, {_V})",
    ),
    (
        vstack,
        "vstack",
        "the cotangent split back.",
        f"lambda a, b: fnp.vstack([a, b]), ({_V}, {_V})",
    ),
    (
        dstack,
        "dstack",
        "the cotangent split back.",
        f"lambda a, b: fnp.dstack([a, b]), ({_M}, {_M})",
    ),
    (
        column_stack,
        "column_stack",
        "the cotangent split back.",
        f"lambda a, b: fnp.column_stack([a, b]), ({_V}, {_V})",
    ),
    (atleast_1d, "atleast_1d", "the cotangent reshaped back.", "fnp.atleast_1d, (np.array(0.5),)"),
    (atleast_2d, "atleast_2d", "the cotangent reshaped back.", f"fnp.atleast_2d, ({_V},)"),
    (atleast_3d, "atleast_3d", "the cotangent reshaped back.", f"fnp.atleast_3d, ({_M},)"),
    (
        split,
        "split",
        "the pieces' cotangents joined.",
        f"lambda a: fnp.split(a, 3, axis=1)[1], ({_M},)",
    ),
    (
        array_split,
        "array_split",
        "the pieces' cotangents joined.",
        f"lambda a: fnp.array_split(a, 2, axis=1)[0], ({_M},)",
    ),
    (hsplit, "hsplit", "the pieces' cotangents joined.", f"lambda a: fnp.hsplit(a, 3)[2], ({_M},)"),
    (vsplit, "vsplit", "the pieces' cotangents joined.", f"lambda a: fnp.vsplit(a, 2)[1], ({_M},)"),
    (
        tile,
        "tile",
        "the cotangent summed over the tiles.",
        f"lambda a: fnp.tile(a, (2, 1, 2)), ({_M},)",
    ),
    (
        repeat,
        "repeat",
        "the cotangent summed over the repeats.",
        f"lambda a: fnp.repeat(a, [1, 0, 2], axis=1), ({_M},)",
    ),
    (flip, "flip", "the cotangent flipped back.", f"fnp.flip, ({_M},)"),
    (fliplr, "fliplr", "the cotangent flipped back.", f"fnp.fliplr, ({_M},)"),
    (flipud, "flipud", "the cotangent flipped back.", f"fnp.flipud, ({_M},)"),
    (roll, "roll", "the cotangent rolled back.", f"lambda a: fnp.roll(a, 2, axis=1), ({_M},)"),
    (
        pad,
        "pad",
        "the cotangent of the original region (modes 'constant', 'edge', 'reflect', "
        "'symmetric', 'wrap').",
        f"lambda a: fnp.pad(a, ((1, 0), (2, 1)), mode='reflect'), ({_M},)",
    ),
    (
        diagonal,
        "diagonal",
        "the cotangent placed on the diagonal.",
        f"lambda a: fnp.diagonal(a, 1), ({_M},)",
    ),
    (
        diag,
        "diag",
        "the cotangent read off (or placed on) the diagonal.",
        f"lambda v: fnp.diag(v, -1), ({_V},)",
    ),
    (trace, "trace", "the cotangent on the diagonal.", f"fnp.trace, ({_M},)"),
    (triu, "triu", "the cotangent masked to the triangle.", f"fnp.triu, ({_M},)"),
    (tril, "tril", "the cotangent masked to the triangle.", f"lambda a: fnp.tril(a, 1), ({_M},)"),
    (sort, "sort", "the cotangent scattered back to the original positions.", f"fnp.sort, ({_M},)"),
    (
        partition,
        "partition",
        "the cotangent scattered back to the original positions.",
        f"lambda a: fnp.partition(a, 1, axis=1), ({_M},)",
    ),
    (
        diff,
        "diff",
        "through its composition of slices and subtractions (``n``, ``axis``, "
        "``prepend``, ``append``; traced ``prepend``/``append`` get gradients too).",
        f"lambda a: fnp.diff(a, 2, prepend=0.5), ({_M},)",
    ),
    (
        ediff1d,
        "ediff1d",
        "through its composition (also for traced ``to_begin``/``to_end``).",
        f"lambda a: fnp.ediff1d(a, to_begin=[1.0, 2.0]), ({_M},)",
    ),
    (
        cross,
        "cross",
        "through its composition: ``cross(b, g)`` and ``cross(g, a)`` "
        "(3-element vectors; ``axisa``, ``axisb``, ``axisc``, ``axis``).",
        f"fnp.cross, ({_M}, np.array([1.0, -0.5, 2.0]))",
    ),
    (
        append,
        "append",
        "the cotangent split back.",
        f"lambda a, b: fnp.append(a, b, axis=0), ({_M}, {_M})",
    ),
    (
        insert,
        "insert",
        "the cotangent gathered back from the positions of ``arr``'s elements and of the "
        "(broadcast) ``values``.",
        f"lambda a, v: fnp.insert(a, [0, 2], v, axis=1), ({_M}, np.array([0.5, 1.5]))",
    ),
    (
        delete,
        "delete",
        "the cotangent at the kept elements, 0 at the deleted ones.",
        f"lambda a: fnp.delete(a, 1, axis=1), ({_M},)",
    ),
    (rot90, "rot90", "the cotangent rotated back.", f"lambda a: fnp.rot90(a, 3), ({_M},)"),
    (
        rollaxis,
        "rollaxis",
        "the cotangent's axes moved back.",
        f"lambda a: fnp.rollaxis(a, 1), ({_M},)",
    ),
    (
        dsplit,
        "dsplit",
        "the pieces' cotangents joined.",
        "lambda a: fnp.dsplit(a, 2)[1], (np.ones((1, 2, 4)),)",
    ),
    (
        trapezoid,
        "trapezoid",
        "through ``sum(d * (y[1:] + y[:-1]) / 2)``, also with respect to traced "
        "coordinates ``x`` or spacing ``dx``.",
        f"lambda y, x: fnp.trapezoid(y, x), ({_M}, np.array([0.0, 0.5, 1.5]))",
    ),
    (
        gradient,
        "gradient",
        "through its finite-difference formulas (scalar or coordinate spacings, "
        "``axis``, ``edge_order`` 1 or 2; traced spacings get gradients too).",
        f"lambda f: fnp.gradient(f, 0.5, axis=1, edge_order=2), ({_M},)",
    ),
    (
        interp,
        "interp",
        "to ``fp`` the two interpolation weights; to ``x`` the slope of its interval; to "
        "``xp`` through the slope; to traced ``left``/``right`` where they apply (away "
        "from the knots, where the slope jumps; ``period`` is not supported).",
        "fnp.interp, (np.array([0.3, 1.2, 2.5]), np.array([0.0, 1.0, 2.0]), "
        "np.array([1.0, -0.5, 2.0]))",
    ),
    (
        full,
        "full",
        "the cotangent summed into ``fill_value``.",
        "lambda v: fnp.full((2, 3), v), (np.array(1.5),)",
    ),
    (
        full_like,
        "full_like",
        "the cotangent summed into ``fill_value`` (``a`` gives only the shape and dtype). "
        "NumPy dispatches ``np.full_like`` on ``a`` alone: with a plain ``a`` and a traced "
        "``fill_value``, call ``fnp.full_like``.",
        "lambda v: fnp.full_like(np.ones(3), v), (np.array(1.5),)",
    ),
    (
        extract,
        "extract",
        "the cotangent scattered back to the selected elements (the condition is plain).",
        f"lambda a: fnp.extract(np.array([[1, 0, 1], [0, 1, 1]]), a), ({_M},)",
    ),
    (
        compress,
        "compress",
        "the cotangent scattered back to the selected slices (the condition is plain).",
        f"lambda a: fnp.compress([False, True, True], a, axis=1), ({_M},)",
    ),
    (
        choose,
        "choose",
        "the cotangent to the choice picked at each element (``mode`` 'raise', 'wrap', "
        "'clip'; the index array is plain).",
        f"lambda a, b: fnp.choose(np.array([[0, 1, 1], [1, 0, 0]]), [a, b]), ({_M}, {_V})",
    ),
    (
        unique,
        "unique",
        "the cotangent of each unique value to the first occurrence of that value (a "
        "gather); ``return_index``, ``return_inverse`` and ``return_counts`` are plain "
        "integer arrays.",
        f"lambda a: fnp.unique(fnp.concatenate([a, a[:, :1]], axis=1)), ({_M},)",
    ),
]
for _fn, _what, _gradient, _example in _DOCS:
    document(
        _fn, f"Differentiable ``numpy.{_what}``.", _gradient, f">>> fgrad.check_grads({_example})"
    )

__all__ = [
    "all",
    "allclose",
    "any",
    "append",
    "argmax",
    "argmin",
    "argpartition",
    "argsort",
    "argwhere",
    "choose",
    "compress",
    "extract",
    "iscomplex",
    "isneginf",
    "isposinf",
    "isreal",
    "isrealobj",
    "lexsort",
    "array_equal",
    "array_split",
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "column_stack",
    "concatenate",
    "count_nonzero",
    "cross",
    "delete",
    "diag",
    "diagonal",
    "diff",
    "digitize",
    "dsplit",
    "dstack",
    "ediff1d",
    "empty_like",
    "flatnonzero",
    "flip",
    "fliplr",
    "flipud",
    "full",
    "full_like",
    "gradient",
    "hsplit",
    "hstack",
    "insert",
    "interp",
    "isclose",
    "iscomplexobj",
    "ndim",
    "nonzero",
    "ones_like",
    "pad",
    "partition",
    "repeat",
    "result_type",
    "roll",
    "rollaxis",
    "rot90",
    "searchsorted",
    "shape",
    "size",
    "sort",
    "split",
    "stack",
    "tile",
    "trace",
    "trapezoid",
    "tril",
    "triu",
    "unique",
    *(name for name in _UNIQUE_FAMILY),
    "vsplit",
    "vstack",
    "zeros_like",
]
