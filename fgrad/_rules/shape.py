"""Array manipulation (NumPy's "Array manipulation routines") and shape queries.

Axis moves, joining, splitting, tiling, flipping, padding, diagonals and triangles,
adding and removing elements, filled arrays, and the piecewise constant ``shape``,
``size``, ``ndim``, ``result_type`` and ``*_like``. Only ``concatenate``, ``roll`` and
``pad`` are primitives; everything else is composed from them and the linear
primitives, so its gradient follows from theirs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from fgrad._core import Primitive, Tracer, bind1, bindn, concrete, detach
from fgrad._rules import batching
from fgrad._rules.declare import export, non_differentiable, plain_values
from fgrad._rules.elementwise import where
from fgrad._rules.helpers import dtype_of, ndim_of, normalize_axes, shape_of, strip
from fgrad._rules.linear import (
    SUM,
    TRANSPOSE,
    astype,
    getitem,
    reshape,
    scatter_add,
    spread,
    transpose,
)


def any_traced(values: Sequence[Any]) -> bool:
    """Whether any of ``values`` is a tracer."""
    return any(v.__class__ is Tracer for v in values)


@export("swapaxes")
def swapaxes(a: Any, axis1: int, axis2: int) -> Any:
    """Differentiable ``numpy.swapaxes``.

    Gradient: the cotangent with the same axes swapped back.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda x: fnp.swapaxes(x, 0, 1), (x,))
    """
    nd = ndim_of(a)
    perm = list(range(nd))
    i, j = normalize_axes(axis1, nd, "swapaxes")[0], normalize_axes(axis2, nd, "swapaxes")[0]
    perm[i], perm[j] = perm[j], perm[i]
    return TRANSPOSE(a, axes=tuple(perm))


@export("moveaxis")
def moveaxis(a: Any, source: Any, destination: Any) -> Any:
    """Differentiable ``numpy.moveaxis``.

    Gradient: the cotangent with the axes moved back.

    Examples
    --------
    >>> fgrad.check_grads(lambda x: fnp.moveaxis(x, 0, -1), (np.ones((2, 3, 4)),))
    """
    nd = ndim_of(a)
    src = [normalize_axes(int(s), nd, "moveaxis")[0] for s in np.atleast_1d(source)]
    dst = [normalize_axes(int(d), nd, "moveaxis")[0] for d in np.atleast_1d(destination)]
    if len(src) != len(dst):
        raise ValueError("moveaxis: `source` and `destination` must have the same length")
    order = [n for n in range(nd) if n not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return TRANSPOSE(a, axes=tuple(order))


@export("rollaxis")
def rollaxis(a: Any, axis: int, start: int = 0) -> Any:
    """Differentiable ``numpy.rollaxis``.

    Gradient: the cotangent's axes moved back.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda a: fnp.rollaxis(a, 1), (x,))
    """
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
    return TRANSPOSE(a, axes=tuple(order))


@export("ravel")
def ravel(a: Any, order: str = "C") -> Any:
    """Differentiable ``numpy.ravel`` (C order).

    Gradient: the cotangent reshaped to the input's shape.

    Examples
    --------
    >>> fgrad.check_grads(fnp.ravel, (np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]]),))
    """
    return reshape(a, (-1,), order)


@export("expand_dims")
def expand_dims(a: Any, axis: Any) -> Any:
    """Differentiable ``numpy.expand_dims``.

    Gradient: the cotangent reshaped back.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda x: fnp.expand_dims(x, 1), (x,))
    """
    shape = shape_of(a)
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    nd = len(shape) + len(axes)
    positions = normalize_axes(axes, nd, "expand_dims")
    it = iter(shape)
    return reshape(a, tuple(1 if i in positions else next(it) for i in range(nd)))


@export("squeeze")
def squeeze(a: Any, axis: Any = None) -> Any:
    """Differentiable ``numpy.squeeze``.

    Gradient: the cotangent reshaped back.

    Examples
    --------
    >>> fgrad.check_grads(fnp.squeeze, (np.array([[[0.5], [1.5]]]),))
    """
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


def _concatenate_impl(*arrays: Any, axis: int) -> Any:
    return np.concatenate(arrays, axis=axis)


def _concatenate_vjp(
    g: Any, ans: Any, arrays: tuple[Any, ...], params: dict[str, Any], argnums: Sequence[int]
) -> list[Any]:
    axis = params["axis"]
    bounds = np.cumsum([0] + [shape_of(a)[axis] for a in arrays])
    lead = (slice(None),) * axis
    return [getitem(g, lead + (slice(int(bounds[k]), int(bounds[k + 1])),)) for k in argnums]


_CONCATENATE = Primitive(
    "concatenate",
    _concatenate_impl,
    vjp_joint=_concatenate_vjp,
    batch=lambda prim, values, batched, params, size: (
        prim(
            *(batching.with_batch(v, b, size) for v, b in zip(values, batched)),
            axis=params["axis"] + 1,
        ),
        True,
    ),
)


@export("concatenate")
def concatenate(arrays: Sequence[Any], axis: int | None = 0) -> Any:
    """Differentiable ``numpy.concatenate``.

    Gradient: the cotangent split back.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda a, b: fnp.concatenate([a, b], 1), (x, x))
    """
    arrays = list(arrays)
    if not arrays:
        raise ValueError("concatenate: need at least one array to concatenate")
    if not any_traced(arrays):
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


@export("atleast_1d")
def atleast_1d(*arys: Any) -> Any:
    """Differentiable ``numpy.atleast_1d``.

    Gradient: the cotangent reshaped back.

    Examples
    --------
    >>> fgrad.check_grads(fnp.atleast_1d, (np.array(0.5),))
    """
    out = [_atleast(a, 1) for a in arys]
    return out[0] if len(out) == 1 else out


@export("atleast_2d")
def atleast_2d(*arys: Any) -> Any:
    """Differentiable ``numpy.atleast_2d``.

    Gradient: the cotangent reshaped back.

    Examples
    --------
    >>> fgrad.check_grads(fnp.atleast_2d, (np.array([0.3, -1.2, 0.5]),))
    """
    out = [_atleast(a, 2) for a in arys]
    return out[0] if len(out) == 1 else out


@export("atleast_3d")
def atleast_3d(*arys: Any) -> Any:
    """Differentiable ``numpy.atleast_3d``.

    Gradient: the cotangent reshaped back.

    Examples
    --------
    >>> fgrad.check_grads(fnp.atleast_3d, (np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]]),))
    """
    out = [_atleast(a, 3) for a in arys]
    return out[0] if len(out) == 1 else out


@export("stack")
def stack(arrays: Sequence[Any], axis: int = 0) -> Any:
    """Differentiable ``numpy.stack``.

    Gradient: the cotangent split back.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda a, b: fnp.stack([a, b], 1), (x, x))
    """
    arrays = list(arrays)
    if not any_traced(arrays):
        return np.stack(arrays, axis=axis)
    shapes = {shape_of(a) for a in arrays}
    if len(shapes) != 1:
        raise ValueError(f"stack: all input arrays must have the same shape, got {shapes}")
    shape = shapes.pop()
    ax = normalize_axes(axis, len(shape) + 1, "stack")[0]
    new_shape = shape[:ax] + (1,) + shape[ax:]
    return concatenate([reshape(a, new_shape) for a in arrays], axis=ax)


@export("hstack")
def hstack(tup: Sequence[Any]) -> Any:
    """Differentiable ``numpy.hstack``.

    Gradient: the cotangent split back.

    Examples
    --------
    >>> v = np.array([0.3, -1.2, 0.5])
    >>> fgrad.check_grads(lambda a, b: fnp.hstack([a, b]), (v, v))
    """
    arrays = [_atleast(a, 1) for a in tup]
    return concatenate(arrays, axis=0 if ndim_of(arrays[0]) == 1 else 1)


@export("vstack")
def vstack(tup: Sequence[Any]) -> Any:
    """Differentiable ``numpy.vstack``.

    Gradient: the cotangent split back.

    Examples
    --------
    >>> v = np.array([0.3, -1.2, 0.5])
    >>> fgrad.check_grads(lambda a, b: fnp.vstack([a, b]), (v, v))
    """
    return concatenate([_atleast(a, 2) for a in tup], axis=0)


@export("dstack")
def dstack(tup: Sequence[Any]) -> Any:
    """Differentiable ``numpy.dstack``.

    Gradient: the cotangent split back.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda a, b: fnp.dstack([a, b]), (x, x))
    """
    return concatenate([_atleast(a, 3) for a in tup], axis=2)


@export("column_stack")
def column_stack(tup: Sequence[Any]) -> Any:
    """Differentiable ``numpy.column_stack``.

    Gradient: the cotangent split back.

    Examples
    --------
    >>> v = np.array([0.3, -1.2, 0.5])
    >>> fgrad.check_grads(lambda a, b: fnp.column_stack([a, b]), (v, v))
    """
    cols = [reshape(a, (-1, 1)) if ndim_of(a) < 2 else a for a in tup]
    return concatenate(cols, axis=1)


@export("array_split")
def array_split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list[Any]:
    """Differentiable ``numpy.array_split``.

    Gradient: the pieces' cotangents joined.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda a: fnp.array_split(a, 2, axis=1)[0], (x,))
    """
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


@export("split")
def split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list[Any]:
    """Differentiable ``numpy.split``.

    Gradient: the pieces' cotangents joined.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda a: fnp.split(a, 3, axis=1)[1], (x,))
    """
    if np.ndim(indices_or_sections) == 0:
        n = shape_of(ary)[axis]
        if n % int(indices_or_sections):
            raise ValueError(
                f"split: array of size {n} along axis {axis} does not divide into "
                f"{indices_or_sections} equal sections (use array_split)"
            )
    return array_split(ary, indices_or_sections, axis)


@export("hsplit")
def hsplit(ary: Any, indices_or_sections: Any) -> list[Any]:
    """Differentiable ``numpy.hsplit``.

    Gradient: the pieces' cotangents joined.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda a: fnp.hsplit(a, 3)[2], (x,))
    """
    return split(ary, indices_or_sections, axis=1 if ndim_of(ary) > 1 else 0)


@export("vsplit")
def vsplit(ary: Any, indices_or_sections: Any) -> list[Any]:
    """Differentiable ``numpy.vsplit``.

    Gradient: the pieces' cotangents joined.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda a: fnp.vsplit(a, 2)[1], (x,))
    """
    return split(ary, indices_or_sections, axis=0)


@export("dsplit")
def dsplit(ary: Any, indices_or_sections: Any) -> list[Any]:
    """Differentiable ``numpy.dsplit``.

    Gradient: the pieces' cotangents joined.

    Examples
    --------
    >>> fgrad.check_grads(lambda a: fnp.dsplit(a, 2)[1], (np.ones((1, 2, 4)),))
    """
    if ndim_of(ary) < 3:
        raise ValueError("dsplit only works on arrays of 3 or more dimensions")
    return split(ary, indices_or_sections, axis=2)


@export("tile")
def tile(A: Any, reps: Any) -> Any:
    """Differentiable ``numpy.tile``.

    Gradient: the cotangent summed over the tiles.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda a: fnp.tile(a, (2, 1, 2)), (x,))
    """
    if A.__class__ is not Tracer:
        return np.tile(A, reps)
    reps = (int(reps),) if np.ndim(reps) == 0 else tuple(int(r) for r in reps)
    shape = shape_of(A)
    nd = max(len(shape), len(reps))
    shape = (1,) * (nd - len(shape)) + shape
    reps = (1,) * (nd - len(reps)) + reps
    interleaved = tuple(v for pair in zip((1,) * nd, shape) for v in pair)
    expanded = tuple(v for pair in zip(reps, shape) for v in pair)
    # spread makes a fresh array, laid out like np.tile's (a broadcast view would not be).
    a = spread(reshape(A, interleaved), expanded)
    return reshape(a, tuple(r * s for r, s in zip(reps, shape)))


@export("repeat")
def repeat(a: Any, repeats: Any, axis: int | None = None) -> Any:
    """Differentiable ``numpy.repeat``.

    Gradient: the cotangent summed over the repeats.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda a: fnp.repeat(a, [1, 0, 2], axis=1), (x,))
    """
    if a.__class__ is not Tracer:
        return np.repeat(a, repeats, axis=axis)
    if axis is None:
        a = reshape(a, (-1,))
        axis = 0
    ax = normalize_axes(axis, a.ndim, "repeat")[0]
    index = np.repeat(np.arange(a.shape[ax]), concrete(repeats))
    return getitem(a, (slice(None),) * ax + (index,))


@export("flip")
def flip(m: Any, axis: Any = None) -> Any:
    """Differentiable ``numpy.flip``.

    Gradient: the cotangent flipped back.

    Examples
    --------
    >>> fgrad.check_grads(fnp.flip, (np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]]),))
    """
    nd = ndim_of(m)
    axes = normalize_axes(axis, nd, "flip")
    return getitem(m, tuple(slice(None, None, -1) if i in axes else slice(None) for i in range(nd)))


@export("fliplr")
def fliplr(m: Any) -> Any:
    """Differentiable ``numpy.fliplr``.

    Gradient: the cotangent flipped back.

    Examples
    --------
    >>> fgrad.check_grads(fnp.fliplr, (np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]]),))
    """
    return flip(m, 1)


@export("flipud")
def flipud(m: Any) -> Any:
    """Differentiable ``numpy.flipud``.

    Gradient: the cotangent flipped back.

    Examples
    --------
    >>> fgrad.check_grads(fnp.flipud, (np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]]),))
    """
    return flip(m, 0)


@export("rot90")
def rot90(m: Any, k: int = 1, axes: Any = (0, 1)) -> Any:
    """Differentiable ``numpy.rot90``.

    Gradient: the cotangent rotated back.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda a: fnp.rot90(a, 3), (x,))
    """
    if m.__class__ is not Tracer:
        return np.rot90(m, k, axes)
    axes = tuple(axes)
    if len(axes) != 2:
        raise ValueError("len(axes) must be 2.")
    nd = ndim_of(m)
    if axes[0] == axes[1] or abs(axes[0] - axes[1]) == nd:
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


def _roll_vjp(g: Any, ans: Any, x: Any, shift: tuple[int, ...], axis: tuple[int, ...]) -> Any:
    return _ROLL(g, shift=tuple(-s for s in shift), axis=axis)


def _roll_impl(x: Any, shift: tuple[int, ...], axis: tuple[int, ...]) -> Any:
    return np.roll(x, shift, axis)


_ROLL = Primitive("roll", _roll_impl, (_roll_vjp,), batch=batching.along_axes)


@export("roll")
def roll(a: Any, shift: Any, axis: Any = None) -> Any:
    """Differentiable ``numpy.roll``.

    Gradient: the cotangent rolled back.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda a: fnp.roll(a, 2, axis=1), (x,))
    """
    if a.__class__ is not Tracer:
        return np.roll(a, shift, axis)
    if axis is None:
        return reshape(roll(reshape(a, (-1,)), shift, 0), a.shape)
    shifts = tuple(int(s) for s in np.atleast_1d(shift))
    axes = tuple(int(x) for x in np.atleast_1d(axis))
    shifts, axes = (shifts * len(axes), axes) if len(shifts) == 1 else (shifts, axes)
    return bind1(_ROLL, a, {"shift": shifts, "axis": axes})


_INDEX_MODES = ("edge", "reflect", "symmetric", "wrap")


# NumPy's stubs type ``mode`` as a Literal; here it is any string, checked by NumPy.
_np_pad: Callable[..., Any] = np.pad


def _pad_vjp(g: Any, ans: Any, x: Any, pad_width: Any, constant_values: Any) -> Any:
    index = tuple(slice(lo, lo + n) for (lo, _), n in zip(pad_width, shape_of(x)))
    return getitem(g, index)


def _pad_impl(x: Any, pad_width: Any, constant_values: Any) -> Any:
    return np.pad(x, pad_width, mode="constant", constant_values=constant_values)


_PAD = Primitive(
    "pad",
    _pad_impl,
    (_pad_vjp,),
    batch=lambda prim, values, batched, params, size: (
        prim(values[0], **{**params, "pad_width": ((0, 0), *params["pad_width"])}),
        True,
    ),
)


@export("pad")
def pad(array: Any, pad_width: Any, mode: str = "constant", **kwargs: Any) -> Any:
    """Differentiable ``numpy.pad``.

    Gradient: the cotangent of the original region (modes 'constant', 'edge', 'reflect',
    'symmetric', 'wrap').

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda a: fnp.pad(a, ((1, 0), (2, 1)), mode='reflect'), (x,))
    """
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
        params = {"pad_width": widths, "constant_values": kwargs.get("constant_values", 0)}
        return bind1(_PAD, array, params)
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


@export("diagonal")
def diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """Differentiable ``numpy.diagonal``.

    Gradient: the cotangent placed on the diagonal.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda a: fnp.diagonal(a, 1), (x,))
    """
    if a.__class__ is not Tracer:
        return np.diagonal(a, offset, axis1, axis2)
    nd = a.ndim
    ax1, ax2 = normalize_axes(axis1, nd, "diagonal")[0], normalize_axes(axis2, nd, "diagonal")[0]
    moved = moveaxis(a, (ax1, ax2), (-2, -1))
    rows, cols = moved.shape[-2], moved.shape[-1]
    i = np.arange(max(0, -offset), min(rows, cols - offset))
    return getitem(moved, (Ellipsis, i, i + offset))


@export("diag")
def diag(v: Any, k: int = 0) -> Any:
    """Differentiable ``numpy.diag``.

    Gradient: the cotangent read off (or placed on) the diagonal.

    Examples
    --------
    >>> fgrad.check_grads(lambda v: fnp.diag(v, -1), (np.array([0.3, -1.2, 0.5]),))
    """
    if v.__class__ is not Tracer:
        return np.diag(v, k)
    if v.ndim == 2:
        return diagonal(v, k)
    if v.ndim != 1:
        raise ValueError(f"diag: input must be 1-D or 2-D, got shape {v.shape}")
    n = v.shape[0] + abs(k)
    i = np.arange(v.shape[0])
    rows, cols = (i, i + k) if k >= 0 else (i - k, i)
    return scatter_add(v, (n, n), (rows, cols), False)


@export("trace")
def trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """Differentiable ``numpy.trace``.

    Gradient: the cotangent on the diagonal.

    Examples
    --------
    >>> fgrad.check_grads(fnp.trace, (np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]]),))
    """
    if a.__class__ is not Tracer:
        return np.trace(a, offset, axis1, axis2)
    d = diagonal(a, offset, axis1, axis2)
    return SUM(d, axis=(d.ndim - 1,), keepdims=False)


def _triangle(m: Any, k: int, upper: bool) -> Any:
    mask = (np.triu if upper else np.tril)(np.ones(shape_of(m)[-2:], dtype=bool), k)
    return where(mask, m, 0.0)


@export("triu")
def triu(m: Any, k: int = 0) -> Any:
    """Differentiable ``numpy.triu``.

    Gradient: the cotangent masked to the triangle.

    Examples
    --------
    >>> fgrad.check_grads(fnp.triu, (np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]]),))
    """
    if m.__class__ is not Tracer:
        return np.triu(m, k)
    return _triangle(m, k, True)


@export("tril")
def tril(m: Any, k: int = 0) -> Any:
    """Differentiable ``numpy.tril``.

    Gradient: the cotangent masked to the triangle.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda a: fnp.tril(a, 1), (x,))
    """
    if m.__class__ is not Tracer:
        return np.tril(m, k)
    return _triangle(m, k, False)


@export("append")
def append(arr: Any, values: Any, axis: int | None = None) -> Any:
    """Differentiable ``numpy.append``.

    Gradient: the cotangent split back.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda a, b: fnp.append(a, b, axis=0), (x, x))
    """
    if arr.__class__ is not Tracer and values.__class__ is not Tracer:
        return np.append(arr, values, axis)
    arr = arr if arr.__class__ is Tracer else np.asarray(arr)
    values = values if values.__class__ is Tracer else np.asarray(values)
    if axis is None:
        return concatenate([reshape(arr, (-1,)), reshape(values, (-1,))], axis=0)
    return concatenate([arr, values], axis=axis)


def _labels(shape: tuple[int, ...], start: int = 0) -> np.ndarray:
    return np.arange(start, start + int(np.prod(shape)), dtype=np.intp).reshape(shape)


@export("insert")
def insert(arr: Any, obj: Any, values: Any, axis: int | None = None) -> Any:
    """Differentiable ``numpy.insert``.

    Gradient: the cotangent gathered back from the positions of ``arr``'s elements and of the
    (broadcast) ``values``.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda a, v: fnp.insert(a, [0, 2], v, axis=1), (x, np.array([0.5, 1.5])))
    """
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


@export("delete")
def delete(arr: Any, obj: Any, axis: int | None = None) -> Any:
    """Differentiable ``numpy.delete``.

    Gradient: the cotangent at the kept elements, 0 at the deleted ones.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda a: fnp.delete(a, 1, axis=1), (x,))
    """
    if arr.__class__ is not Tracer:
        return np.delete(arr, strip(obj), axis)
    labels = np.delete(_labels(shape_of(arr)), strip(obj), axis)
    return getitem(reshape(arr, (-1,)), labels)


@export("full")
def full(shape: Any, fill_value: Any, dtype: Any = None, order: str = "C") -> Any:
    """Differentiable ``numpy.full``.

    Gradient: the cotangent summed into ``fill_value``.

    Examples
    --------
    >>> fgrad.check_grads(lambda v: fnp.full((2, 3), v), (np.array(1.5),))
    """
    if fill_value.__class__ is not Tracer:
        return np.full(shape, fill_value, dtype, order)  # type: ignore[call-overload]
    if dtype is not None:
        fill_value = astype(fill_value, dtype)
    shape = (int(shape),) if np.ndim(shape) == 0 else tuple(int(d) for d in shape)
    return spread(fill_value, shape)


_full_like_values = plain_values(np.full_like, "full_like", batching.shape_only)


@export("full_like")
def full_like(
    a: Any,
    fill_value: Any,
    dtype: Any = None,
    order: str = "K",
    subok: bool = True,
    shape: Any = None,
) -> Any:
    """Differentiable ``numpy.full_like``.

    Gradient: the cotangent summed into ``fill_value`` (``a`` gives only the shape and dtype).
    NumPy dispatches ``np.full_like`` on ``a`` alone: with a plain ``a`` and a traced
    ``fill_value``, call ``fnp.full_like``.

    Examples
    --------
    >>> fgrad.check_grads(lambda v: fnp.full_like(np.ones(3), v), (np.array(1.5),))
    """
    out_dtype = dtype_of(a) if dtype is None else np.dtype(dtype)
    if fill_value.__class__ is not Tracer or not np.issubdtype(out_dtype, np.inexact):
        return _full_like_values(a, detach(fill_value), dtype, order, subok, shape)
    return full(shape_of(a) if shape is None else shape, fill_value, out_dtype)


shape = non_differentiable(np.shape, batch=batching.shape_only)
ndim = non_differentiable(np.ndim, batch=batching.shape_only)
size = non_differentiable(np.size, batch=batching.shape_only)
zeros_like = non_differentiable(np.zeros_like, batch=batching.shape_only)
ones_like = non_differentiable(np.ones_like, batch=batching.shape_only)
empty_like = non_differentiable(np.empty_like, batch=batching.shape_only)
result_type = non_differentiable(np.result_type, batch=batching.shape_only)
