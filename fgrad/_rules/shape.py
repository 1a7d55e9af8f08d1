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

from fgrad._core import Primitive, Tracer, bind1, bindn, concrete, detach
from fgrad._rules._define import (
    document,
    ndim_of,
    non_differentiable,
    normalize_axes,
    register_function,
    shape_of,
)
from fgrad._rules.elementwise import where
from fgrad._rules.structural import (
    _sum_fn,
    broadcast_to,
    getitem,
    moveaxis,
    reshape,
    take_along_axis,
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


_CONCATENATE.fn = _concatenate_fn


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
    a = broadcast_to(reshape(A, interleaved), expanded)
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


_ROLL.fn = _roll_fn


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


_PAD.fn = _pad_fn


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


argmax = non_differentiable(np.argmax)
argmin = non_differentiable(np.argmin)
argsort = non_differentiable(np.argsort)
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
full_like = non_differentiable(np.full_like, sample="np.array([1.0, 2.0]), 7.0")
allclose = non_differentiable(np.allclose, sample="np.array([1.0, 2.0]), 1.0")
isclose = non_differentiable(np.isclose, sample="np.array([1.0, 2.0]), 1.0")
array_equal = non_differentiable(np.array_equal, sample="np.array([1.0, 2.0]), 1.0")
unique = non_differentiable(np.unique)
histogram = non_differentiable(np.histogram, sample="np.array([1.0, 2.0, 2.5])")
digitize = non_differentiable(np.digitize, sample="np.array([0.2, 1.4]), np.array([0.0, 1.0])")
result_type = non_differentiable(np.result_type)
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
]
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
]
for _fn, _what, _gradient, _example in _DOCS:
    document(
        _fn, f"Differentiable ``numpy.{_what}``.", _gradient, f">>> fgrad.check_grads({_example})"
    )

__all__ = [
    "all",
    "allclose",
    "any",
    "argmax",
    "argmin",
    "argsort",
    "array_equal",
    "array_split",
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "column_stack",
    "concatenate",
    "count_nonzero",
    "diag",
    "diagonal",
    "digitize",
    "dstack",
    "empty_like",
    "flatnonzero",
    "flip",
    "fliplr",
    "flipud",
    "full_like",
    "histogram",
    "hsplit",
    "hstack",
    "isclose",
    "iscomplexobj",
    "ndim",
    "nonzero",
    "ones_like",
    "pad",
    "repeat",
    "result_type",
    "roll",
    "searchsorted",
    "shape",
    "size",
    "sort",
    "split",
    "stack",
    "tile",
    "trace",
    "tril",
    "triu",
    "unique",
    "vsplit",
    "vstack",
    "zeros_like",
]
