"""Convolutions and windowed reductions: ``fgrad.lax.conv_general_dilated`` and ``reduce_window``.

Both are compositions of three primitives and the existing linear ones:

* ``windows`` (im2col): the sliding windows of an array along some axes, a strided view
  made by ``numpy.lib.stride_tricks.sliding_window_view`` (no copy, no loop);
* ``fold`` (col2im), its transpose: windows added back into an array, one vectorised add
  per window offset (a loop over the kernel's offsets, never over pixels);
* ``window_max``: the maximum of each window; its VJP sends each output's cotangent to the
  first maximum of its window (the order of ``numpy.argmax`` over the window: the first in
  row-major order over the window's offsets; JAX's ``select_and_scatter_add`` with ``>=``
  also keeps the first), through ``where`` and ``fold``.

A convolution pads (``pad``), dilates its input by inserting zeros (``scatter_add``), takes
the windows and multiplies them by the kernel in one ``matmul`` (one per feature group,
batched). Its VJPs are those of the pieces: the kernel's gradient is a ``matmul`` of the
windows with the cotangent, the input's is the cotangent times the kernel folded back
(col2im). Every VJP is written with primitives, so derivatives of any order, ``jit`` and
``vmap`` (the batch folds into the leading axes of the windows and of the matrix product)
come from the pieces.

Internally a convolution works on channels-last arrays, ``(N, *spatial, C)`` inputs and
``(*spatial, I, O)`` kernels (``NHWC``/``HWIO``, the layout of ``stax.Conv``); other layouts
are transposed to it and back, as ``dimension_numbers`` says.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from fgrad._core import Primitive, Tracer
from fgrad._rules import batching
from fgrad._rules.declare import DECLARATIONS, export, plain_values
from fgrad._rules.elementwise import add, maximum, minimum, negative, where
from fgrad._rules.helpers import dtype_of, shape_of
from fgrad._rules.linear import getitem, reshape, scatter_add, transpose
from fgrad._rules.linear import sum as sum_
from fgrad._rules.products import matmul
from fgrad._rules.shape import pad

__all__ = [
    "ConvDimensionNumbers",
    "conv",
    "conv_general_dilated",
    "conv_general_shape_tuple",
    "padtype_to_pads",
    "reduce_window",
    "reduce_window_shape_tuple",
]

Pairs = tuple[tuple[int, int], ...]


# --- the windows (im2col) and fold (col2im) primitives -------------------------------------


def _effective(window: Sequence[int], dilation: Sequence[int]) -> tuple[int, ...]:
    return tuple((w - 1) * d + 1 for w, d in zip(window, dilation))


def _out_size(n: int, window: int, stride: int, dilation: int) -> int:
    return (n - ((window - 1) * dilation + 1)) // stride + 1


def _windows_impl(
    x: Any,
    axes: tuple[int, ...],
    window: tuple[int, ...],
    strides: tuple[int, ...],
    dilation: tuple[int, ...],
) -> Any:
    x = np.asarray(x)
    view = sliding_window_view(x, _effective(window, dilation), axis=axes)
    index = [slice(None)] * view.ndim
    for a, s in zip(axes, strides):
        index[a] = slice(None, None, s)
    for k, d in enumerate(dilation):
        index[x.ndim + k] = slice(None, None, d)
    return view[tuple(index)]


def _offset_index(
    offset: Sequence[int],
    ndim: int,
    axes: Sequence[int],
    sizes: Sequence[int],
    strides: Sequence[int],
    dilation: Sequence[int],
) -> tuple[slice, ...]:
    """The slice of an array that window offset ``offset`` reads, for every output."""
    index = [slice(None)] * ndim
    for a, k, n, s, d in zip(axes, offset, sizes, strides, dilation):
        index[a] = slice(k * d, k * d + (n - 1) * s + 1, s)
    return tuple(index)


def _fold_impl(
    p: Any,
    shape: tuple[int, ...],
    axes: tuple[int, ...],
    window: tuple[int, ...],
    strides: tuple[int, ...],
    dilation: tuple[int, ...],
) -> Any:
    p = np.asarray(p)
    out = np.zeros(shape, dtype=p.dtype)
    sizes = [p.shape[a] for a in axes]
    for offset in np.ndindex(*window):
        tap: tuple[Any, ...] = (Ellipsis, *offset)
        out[_offset_index(offset, len(shape), axes, sizes, strides, dilation)] += p[tap]
    return out


def _windows_vjp(g: Any, ans: Any, x: Any, **params: Any) -> Any:
    return _FOLD(g, shape=shape_of(x), **params)


def _fold_vjp(ct: Any, ans: Any, p: Any, shape: tuple[int, ...], **params: Any) -> Any:
    return _WINDOWS(ct, **params)


def _shifted(params: dict[str, Any]) -> dict[str, Any]:
    return {**params, "axes": tuple(a + 1 for a in params["axes"])}


def _batch_windowed(prim: Primitive, values: Any, batched: Any, params: Any, size: int) -> Any:
    x = batching.with_batch(values[0], batched[0], size)
    return prim(x, *values[1:], **_shifted(params)), True


def _batch_fold(prim: Primitive, values: Any, batched: Any, params: Any, size: int) -> Any:
    p = batching.with_batch(values[0], batched[0], size)
    shifted = _shifted(params)
    return prim(p, **{**shifted, "shape": (size, *params["shape"])}), True


_WINDOWS = Primitive("windows", _windows_impl, (_windows_vjp,), batch=_batch_windowed)
_FOLD = Primitive("fold", _fold_impl, (_fold_vjp,), batch=_batch_fold)


# --- window_max ------------------------------------------------------------------------------


def _window_max_impl(
    x: Any,
    axes: tuple[int, ...],
    window: tuple[int, ...],
    strides: tuple[int, ...],
    dilation: tuple[int, ...],
) -> Any:
    x = np.asarray(x)
    sizes = [_out_size(x.shape[a], w, s, d) for a, w, s, d in zip(axes, window, strides, dilation)]
    offsets = list(np.ndindex(*window))
    out = np.array(x[_offset_index(offsets[0], x.ndim, axes, sizes, strides, dilation)])
    for offset in offsets[1:]:
        np.maximum(out, x[_offset_index(offset, x.ndim, axes, sizes, strides, dilation)], out=out)
    return out


def _first_max_mask_impl(
    x: Any,
    axes: tuple[int, ...],
    window: tuple[int, ...],
    strides: tuple[int, ...],
    dilation: tuple[int, ...],
) -> Any:
    """Boolean ``(*outputs, *window)``: True at the first maximum of each window (a NaN wins)."""
    x = np.asarray(x)
    sizes = [_out_size(x.shape[a], w, s, d) for a, w, s, d in zip(axes, window, strides, dilation)]
    offsets = list(np.ndindex(*window))
    best = x[_offset_index(offsets[0], x.ndim, axes, sizes, strides, dilation)]
    winner = np.zeros(best.shape, dtype=np.intp)
    for k, offset in enumerate(offsets[1:], start=1):
        candidate = x[_offset_index(offset, x.ndim, axes, sizes, strides, dilation)]
        better = (candidate > best) | (np.isnan(candidate) & ~np.isnan(best))
        winner[better] = k
        best = np.where(better, candidate, best)
    mask = winner[..., None] == np.arange(len(offsets))
    return mask.reshape(*winner.shape, *window)


_first_max_mask = plain_values(_first_max_mask_impl, "window_first_max", _batch_windowed)


def _window_max_vjp(g: Any, ans: Any, x: Any, **params: Any) -> Any:
    mask = _first_max_mask(x, **params)
    expanded = reshape(g, (*shape_of(g), *(1,) * len(params["window"])))
    return _FOLD(where(mask, expanded, 0), shape=shape_of(x), **params)


_WINDOW_MAX = Primitive("window_max", _window_max_impl, (_window_max_vjp,), batch=_batch_windowed)


# --- argument checks -------------------------------------------------------------------------


def _ints(
    value: Any, n: int, name: str, fn: str, *, default: int = 1, minimum: int = 1
) -> tuple[int, ...]:
    if value is None:
        return (default,) * n
    try:
        values = tuple(operator.index(v) for v in value)
    except TypeError:
        raise TypeError(f"{fn}: {name} must be a sequence of {n} ints, got {value!r}") from None
    if len(values) != n or any(v < minimum for v in values):
        raise ValueError(f"{fn}: {name} must be {n} ints >= {minimum}, got {value!r}")
    return values


def padtype_to_pads(
    in_shape: Sequence[int],
    window_shape: Sequence[int],
    window_strides: Sequence[int],
    padding: str,
) -> list[tuple[int, int]]:
    """The ``(low, high)`` pads of ``'SAME'``, ``'SAME_LOWER'`` or ``'VALID'`` (as ``jax.lax``).

    ``'SAME'`` pads so that the output has ``ceil(in / stride)`` entries, the odd entry on
    the high side; ``'SAME_LOWER'`` puts it on the low side; ``'VALID'`` pads nothing.

    Examples
    --------
    >>> fgrad.lax.padtype_to_pads((8, 7), (3, 2), (1, 2), "SAME")
    [(1, 1), (0, 1)]
    """
    kind = padding.upper() if isinstance(padding, str) else padding
    if kind == "VALID":
        return [(0, 0)] * len(in_shape)
    if kind not in ("SAME", "SAME_LOWER"):
        raise ValueError(
            f"padding must be 'SAME', 'SAME_LOWER', 'VALID' or a sequence of (low, high) "
            f"pairs, got {padding!r}"
        )
    pads = []
    for n, w, s in zip(in_shape, window_shape, window_strides):
        total = max((-(-n // s) - 1) * s + w - n, 0)
        small, large = total // 2, total - total // 2
        pads.append((small, large) if kind == "SAME" else (large, small))
    return pads


def _pairs(padding: Any, n: int, fn: str) -> Pairs:
    try:
        pairs = tuple((operator.index(lo), operator.index(hi)) for lo, hi in padding)
    except (TypeError, ValueError):
        raise TypeError(
            f"{fn}: padding must be 'SAME', 'SAME_LOWER', 'VALID' or a sequence of {n} "
            f"(low, high) int pairs, got {padding!r}"
        ) from None
    if len(pairs) != n:
        raise ValueError(f"{fn}: padding needs {n} (low, high) pairs, got {len(pairs)}")
    return pairs


def _resolve_padding(
    padding: Any,
    in_shape: Sequence[int],
    window: Sequence[int],
    strides: Sequence[int],
    fn: str,
) -> Pairs:
    if isinstance(padding, str):
        try:
            return tuple(padtype_to_pads(in_shape, window, strides, padding))
        except ValueError as error:
            raise ValueError(f"{fn}: {error}") from None
    return _pairs(padding, len(in_shape), fn)


def _pad_or_crop(x: Any, pairs: Pairs, value: Any) -> Any:
    """``x`` padded with ``value`` by the positive pads and cropped by the negative ones."""
    shape = shape_of(x)
    if any(lo < 0 or hi < 0 for lo, hi in pairs):
        crop = tuple(slice(max(-lo, 0), n - max(-hi, 0)) for (lo, hi), n in zip(pairs, shape))
        x = getitem(x, crop)
    widths = tuple((max(lo, 0), max(hi, 0)) for lo, hi in pairs)
    if any(lo or hi for lo, hi in widths):
        x = pad(x, widths, constant_values=value)
    return x


def _dilate(x: Any, dilation: Sequence[int], axes: Sequence[int]) -> Any:
    """``x`` with ``dilation - 1`` zeros inserted between neighbours along ``axes``."""
    if all(d == 1 for d in dilation):
        return x
    shape = list(shape_of(x))
    index = [slice(None)] * len(shape)
    for a, d in zip(axes, dilation):
        shape[a] = (shape[a] - 1) * d + 1 if shape[a] else 0
        index[a] = slice(None, None, d)
    return scatter_add(x, tuple(shape), tuple(index), basic=True)


# --- dimension numbers -----------------------------------------------------------------------


class ConvDimensionNumbers(NamedTuple):
    """Where the batch, feature and spatial dimensions of a convolution's arrays are.

    Each field lists axes: ``lhs_spec`` (batch, feature, *spatial) of the input,
    ``rhs_spec`` (out feature, in feature, *spatial) of the kernel, ``out_spec`` (batch,
    feature, *spatial) of the output; the ``i``-th spatial axes of the three correspond.
    As ``jax.lax.ConvDimensionNumbers``.

    Examples
    --------
    >>> fgrad.lax.ConvDimensionNumbers((0, 3, 1, 2), (3, 2, 0, 1), (0, 3, 1, 2)).lhs_spec
    (0, 3, 1, 2)
    """

    lhs_spec: tuple[int, ...]
    rhs_spec: tuple[int, ...]
    out_spec: tuple[int, ...]


def _from_strings(specs: Sequence[str], ndim: int, fn: str) -> ConvDimensionNumbers:
    if len(specs) != 3 or not all(isinstance(s, str) for s in specs):
        raise TypeError(
            f"{fn}: dimension_numbers must be None, three strings such as "
            f"('NHWC', 'HWIO', 'NHWC') or a ConvDimensionNumbers, got {specs!r}"
        )
    lhs, rhs, out = specs
    for spec, pair, what in ((lhs, "NC", "input"), (rhs, "OI", "kernel"), (out, "NC", "output")):
        if len(spec) != ndim or len(set(spec)) != ndim or not set(pair) <= set(spec):
            raise ValueError(
                f"{fn}: the {what} spec {spec!r} must name each of the {ndim} axes once and "
                f"contain {pair[0]!r} and {pair[1]!r}"
            )
    spatial = [c for c in rhs if c not in "OI"]
    for spec, pair in ((lhs, "NC"), (out, "NC")):
        if sorted(c for c in spec if c not in pair) != sorted(spatial):
            raise ValueError(
                f"{fn}: the spatial axes of {spec!r} and of the kernel spec {rhs!r} differ"
            )

    def perm(spec: str, pair: str) -> tuple[int, ...]:
        return (spec.index(pair[0]), spec.index(pair[1]), *(spec.index(c) for c in spatial))

    return ConvDimensionNumbers(perm(lhs, "NC"), perm(rhs, "OI"), perm(out, "NC"))


def _dimension_numbers(dimension_numbers: Any, ndim: int, fn: str) -> ConvDimensionNumbers:
    if dimension_numbers is None:
        return ConvDimensionNumbers(*(tuple(range(ndim)),) * 3)
    if isinstance(dimension_numbers, ConvDimensionNumbers) or (
        isinstance(dimension_numbers, tuple)
        and len(dimension_numbers) == 3
        and all(isinstance(s, tuple) for s in dimension_numbers)
    ):
        specs = ConvDimensionNumbers(*(tuple(int(a) for a in s) for s in dimension_numbers))
        for spec in specs:
            if sorted(spec) != list(range(ndim)):
                raise ValueError(f"{fn}: {spec} is not a permutation of {ndim} axes")
        return specs
    return _from_strings(dimension_numbers, ndim, fn)


class _ConvGeometry(NamedTuple):
    specs: ConvDimensionNumbers
    strides: tuple[int, ...]
    pads: Pairs
    lhs_dilation: tuple[int, ...]
    rhs_dilation: tuple[int, ...]
    groups: int
    out_shape: tuple[int, ...]
    """In the output's layout."""


def _conv_geometry(
    lhs_shape: Sequence[int],
    rhs_shape: Sequence[int],
    window_strides: Any,
    padding: Any,
    lhs_dilation: Any,
    rhs_dilation: Any,
    dimension_numbers: Any,
    feature_group_count: int,
    fn: str,
) -> _ConvGeometry:
    ndim = len(lhs_shape)
    if ndim < 3 or len(rhs_shape) != ndim:
        raise ValueError(
            f"{fn}: the input and the kernel must have the same number of dimensions, at least "
            f"3 (batch, feature, one spatial axis or more); got shapes {tuple(lhs_shape)} and "
            f"{tuple(rhs_shape)}"
        )
    nd = ndim - 2
    specs = _dimension_numbers(dimension_numbers, ndim, fn)
    strides = _ints(window_strides, nd, "window_strides", fn)
    lhs_dil = _ints(lhs_dilation, nd, "lhs_dilation", fn)
    rhs_dil = _ints(rhs_dilation, nd, "rhs_dilation", fn)
    groups = operator.index(feature_group_count)
    n, c = lhs_shape[specs.lhs_spec[0]], lhs_shape[specs.lhs_spec[1]]
    o, i = rhs_shape[specs.rhs_spec[0]], rhs_shape[specs.rhs_spec[1]]
    if groups < 1 or c % groups or o % groups or c != i * groups:
        raise ValueError(
            f"{fn}: the input has {c} features and the kernel takes {i} in {groups} group(s) "
            f"and gives {o}; needs input features == kernel in-features * feature_group_count "
            f"and out-features divisible by feature_group_count"
        )
    spatial_in = [lhs_shape[a] for a in specs.lhs_spec[2:]]
    kernel = [rhs_shape[a] for a in specs.rhs_spec[2:]]
    pads = _resolve_padding(padding, spatial_in, _effective(kernel, rhs_dil), strides, fn)
    out_spatial = []
    for j, (size, k, s, dl, dr, (lo, hi)) in enumerate(
        zip(spatial_in, kernel, strides, lhs_dil, rhs_dil, pads)
    ):
        padded = ((size - 1) * dl + 1 if size else 0) + lo + hi
        span = (k - 1) * dr + 1
        if padded < span:
            raise ValueError(
                f"{fn}: spatial axis {j} of the input has {size} entries, {padded} after "
                f"dilation by {dl} and padding by {(lo, hi)}, fewer than the kernel's span "
                f"{span} ({k} taps, dilation {dr})"
            )
        out_spatial.append((padded - span) // s + 1)
    out_shape = [0] * ndim
    for axis, size in zip(specs.out_spec, (n, o, *out_spatial)):
        out_shape[axis] = size
    return _ConvGeometry(specs, strides, pads, lhs_dil, rhs_dil, groups, tuple(out_shape))


def conv_general_shape_tuple(
    lhs_shape: Sequence[int],
    rhs_shape: Sequence[int],
    window_strides: Sequence[int],
    padding: Any,
    dimension_numbers: Any = None,
) -> tuple[int, ...]:
    """The output shape of :func:`conv_general_dilated` for these shapes (as ``jax.lax``).

    Examples
    --------
    >>> fgrad.lax.conv_general_shape_tuple(
    ...     (5, 8, 8, 1), (3, 3, 1, 16), (1, 1), "SAME", ("NHWC", "HWIO", "NHWC"))
    (5, 8, 8, 16)
    """
    return _conv_geometry(
        lhs_shape, rhs_shape, window_strides, padding, None, None, dimension_numbers, 1,
        "conv_general_shape_tuple",
    ).out_shape  # fmt: skip


def _to_array(x: Any, fn: str, name: str) -> Any:
    if x.__class__ is Tracer:
        return x
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{fn}: {name} must be a real numeric array, got dtype {arr.dtype}")
    return arr


@export("conv_general_dilated", namespace="lax", dispatch=False)
def conv_general_dilated(
    lhs: Any,
    rhs: Any,
    window_strides: Sequence[int] | None,
    padding: Any,
    lhs_dilation: Sequence[int] | None = None,
    rhs_dilation: Sequence[int] | None = None,
    dimension_numbers: Any = None,
    feature_group_count: int = 1,
    batch_group_count: int = 1,
    precision: Any = None,
    preferred_element_type: Any = None,
) -> Any:
    """N-D convolution (cross-correlation, as in deep learning), with JAX's signature.

    Parameters
    ----------
    lhs : array
        Input, ``(N, C, *spatial)`` by default (see ``dimension_numbers``).
    rhs : array
        Kernel, ``(O, I, *spatial)`` by default, with ``I = C / feature_group_count``.
    window_strides : sequence of int or None
        Step between windows along each spatial axis.
    padding : 'SAME', 'SAME_LOWER', 'VALID' or sequence of (low, high)
        Zeros added around each spatial axis of the (dilated) input; negative pads crop.
        ``'SAME'`` gives ``ceil(size / stride)`` outputs (the odd pad at the high end).
    lhs_dilation : sequence of int, optional
        Zeros inserted between input entries (``d - 1`` of them): a transposed convolution.
    rhs_dilation : sequence of int, optional
        Spacing of the kernel's taps (atrous convolution).
    dimension_numbers : None, three strings or ConvDimensionNumbers
        The layouts, as in ``jax.lax``: ``None`` means ``('NCHW', 'OIHW', 'NCHW')``;
        ``stax.Conv`` and :func:`fgrad.nn.Conv` use ``('NHWC', 'HWIO', 'NHWC')``, the layout
        computed in (others are transposed to it and back).
    feature_group_count : int, default 1
        Split the features into groups convolved separately (depthwise: ``= C``).
    batch_group_count, precision, preferred_element_type
        Accepted for JAX's signature: ``batch_group_count`` must be 1, the others ``None``.

    Returns
    -------
    array
        ``(N, O, *out_spatial)`` by default, out spatial size
        ``(padded - (k - 1) * rhs_dilation - 1) // stride + 1``.

    Gradient: the kernel's is a matrix product of the input's windows (im2col) with the
    cotangent; the input's is the cotangent times the kernel, folded back onto the input
    (col2im, one add per kernel offset). Both are written with primitives: any order.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> w = np.ones((2, 2, 1, 1))
    >>> y = fgrad.lax.conv_general_dilated(x, w, (1, 1), "VALID",
    ...                                    dimension_numbers=("NHWC", "HWIO", "NHWC"))
    >>> y[0, :, :, 0]
    array([[10., 14., 18.],
           [26., 30., 34.],
           [42., 46., 50.]])
    >>> fgrad.check_grads(lambda x, w: fgrad.lax.conv_general_dilated(
    ...     x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")), (x / 16, w))
    """
    fn = "conv_general_dilated"
    if operator.index(batch_group_count) != 1:
        raise NotImplementedError(f"{fn}: batch_group_count must be 1, got {batch_group_count}")
    if preferred_element_type is not None:
        raise NotImplementedError(f"{fn}: preferred_element_type must be None")
    lhs, rhs = _to_array(lhs, fn, "lhs"), _to_array(rhs, fn, "rhs")
    geometry = _conv_geometry(
        shape_of(lhs), shape_of(rhs), window_strides, padding, lhs_dilation, rhs_dilation,
        dimension_numbers, feature_group_count, fn,
    )  # fmt: skip
    specs, groups = geometry.specs, geometry.groups
    ndim = len(specs.lhs_spec)
    nd = ndim - 2
    spatial = tuple(range(1, nd + 1))

    x_perm = (specs.lhs_spec[0], *specs.lhs_spec[2:], specs.lhs_spec[1])
    x = lhs if x_perm == tuple(range(ndim)) else transpose(lhs, x_perm)
    x = _dilate(x, geometry.lhs_dilation, spatial)
    x = _pad_or_crop(x, ((0, 0), *geometry.pads, (0, 0)), 0)
    # (*kernel, I, O) flattened to (I * prod(kernel), O): the order of the windows' trailing axes
    w_perm = (specs.rhs_spec[1], *specs.rhs_spec[2:], specs.rhs_spec[0])
    w = rhs if w_perm == tuple(range(ndim)) else transpose(rhs, w_perm)
    i_feat, *kernel, o_feat = shape_of(w)

    out_spatial = tuple(geometry.out_shape[a] for a in specs.out_spec[2:])
    n = shape_of(x)[0]
    rows = n * math.prod(out_spatial)
    patches = _WINDOWS(
        x, axes=spatial, window=tuple(kernel), strides=geometry.strides,
        dilation=geometry.rhs_dilation,
    )  # fmt: skip
    taps = math.prod(kernel)
    if groups == 1:
        cols = reshape(patches, (rows, i_feat * taps))
        out = matmul(cols, reshape(w, (i_feat * taps, o_feat)))
    else:
        o_group = o_feat // groups
        cols = transpose(reshape(patches, (rows, groups, i_feat * taps)), (1, 0, 2))
        w_grouped = reshape(w, (i_feat, *kernel, groups, o_group))
        w_grouped = transpose(w_grouped, (nd + 1, *range(nd + 1), nd + 2))
        out = matmul(cols, reshape(w_grouped, (groups, i_feat * taps, o_group)))
        out = transpose(out, (1, 0, 2))
    out = reshape(out, (n, *out_spatial, o_feat))
    out_perm = [0] * ndim
    for position, axis in zip(specs.out_spec, (0, nd + 1, *spatial)):
        out_perm[position] = axis
    return out if out_perm == list(range(ndim)) else transpose(out, tuple(out_perm))


@export("conv", namespace="lax", dispatch=False)
def conv(lhs: Any, rhs: Any, window_strides: Sequence[int], padding: Any) -> Any:
    """``jax.lax.conv``: ``(N, C, *spatial)`` inputs, ``(O, C, *spatial)`` kernels.

    :func:`conv_general_dilated` with the default layouts and no dilation.

    Gradient: as :func:`conv_general_dilated`.

    Examples
    --------
    >>> x, w = np.ones((1, 1, 3)), np.array([[[1.0, -1.0]]])
    >>> fgrad.lax.conv(x, w, (1,), "VALID")
    array([[[0., 0.]]])
    """
    return conv_general_dilated(lhs, rhs, window_strides, padding)


# --- reduce_window ---------------------------------------------------------------------------


def _computation(computation: Any) -> str:
    kinds = {
        add: "add", np.add: "add", operator.add: "add",
        maximum: "max", np.maximum: "max",
        minimum: "min", np.minimum: "min",
    }  # fmt: skip
    for name, kind in (("add", "add"), ("maximum", "max"), ("minimum", "min")):
        kinds[DECLARATIONS["numpy"][name].fn] = kind
    try:
        return kinds[computation]
    except (KeyError, TypeError):
        raise TypeError(
            "reduce_window: computation must be fgrad.lax.add, fgrad.lax.max or fgrad.lax.min "
            f"(or NumPy's add, maximum, minimum), got {computation!r}"
        ) from None


def _init_scalar(init_value: Any, dtype: np.dtype[Any]) -> Any:
    if init_value.__class__ is Tracer or np.ndim(init_value) != 0:
        raise TypeError(
            f"reduce_window: init_value must be a plain scalar (such as 0.0 or -np.inf), got "
            f"{init_value!r:.60}"
        )
    value = np.asarray(init_value)[()]
    if dtype.kind in "iub" and np.isinf(value):
        info = np.iinfo(dtype) if dtype.kind != "b" else None
        return (info.min if value < 0 else info.max) if info else bool(value > 0)
    return value


def reduce_window_shape_tuple(
    operand_shape: Sequence[int],
    window_dimensions: Sequence[int],
    window_strides: Sequence[int] | None,
    padding: Any,
    window_dilation: Sequence[int] | None = None,
) -> tuple[int, ...]:
    """The output shape of :func:`reduce_window`.

    Examples
    --------
    >>> fgrad.lax.reduce_window_shape_tuple((5, 8, 8, 3), (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
    (5, 4, 4, 3)
    """
    fn = "reduce_window"
    ndim = len(operand_shape)
    window = _ints(window_dimensions, ndim, "window_dimensions", fn)
    strides = _ints(window_strides, ndim, "window_strides", fn)
    dilation = _ints(window_dilation, ndim, "window_dilation", fn)
    pads = _resolve_padding(padding, operand_shape, _effective(window, dilation), strides, fn)
    out = []
    for axis, (n, w, s, d, (lo, hi)) in enumerate(
        zip(operand_shape, window, strides, dilation, pads)
    ):
        padded = n + lo + hi
        if padded < (w - 1) * d + 1:
            raise ValueError(
                f"{fn}: the window of {w} (dilation {d}) is larger than axis {axis} of size "
                f"{n} padded by {(lo, hi)}"
            )
        out.append(_out_size(padded, w, s, d))
    return tuple(out)


@export("reduce_window", namespace="lax", dispatch=False)
def reduce_window(
    operand: Any,
    init_value: Any,
    computation: Any,
    window_dimensions: Sequence[int],
    window_strides: Sequence[int] | None,
    padding: Any,
    base_dilation: Sequence[int] | None = None,
    window_dilation: Sequence[int] | None = None,
) -> Any:
    """Sum, maximum or minimum over sliding windows (pooling), with JAX's signature.

    Parameters
    ----------
    operand : array
        Any number of dimensions; ``window_dimensions`` has one entry per axis (1 for the
        axes not pooled, e.g. ``(1, 2, 2, 1)`` for ``NHWC`` images).
    init_value : scalar
        The padding value and the start of each reduction: ``0`` for ``add``,
        ``-np.inf`` for ``max``, ``np.inf`` for ``min`` (other values are combined with
        every window's result).
    computation : fgrad.lax.add, fgrad.lax.max or fgrad.lax.min
        Also NumPy's ``add``, ``maximum``, ``minimum``.
    window_dimensions, window_strides : sequence of int
        Window size and step along each axis (``None`` strides: 1).
    padding : 'SAME', 'SAME_LOWER', 'VALID' or sequence of (low, high)
        Padding with ``init_value``, as in :func:`conv_general_dilated`.
    base_dilation : None
        Must be ``None`` or ones (dilating the operand is not supported).
    window_dilation : sequence of int, optional
        Spacing of the window's taps.

    Gradient: ``add`` spreads each cotangent over its window (folded back, overlapping
    windows accumulate); ``max``/``min`` send it to the first extreme entry of the window
    in row-major order (as JAX, whose ``select_and_scatter_add`` keeps the first), the
    whole cotangent to one entry even on ties.

    Examples
    --------
    >>> x = np.array([[1.0, 3.0, 2.0, 0.0], [4.0, 0.5, 1.0, 5.0]])
    >>> fgrad.lax.reduce_window(x, -np.inf, fgrad.lax.max, (2, 2), (2, 2), "VALID")
    array([[4., 5.]])
    >>> fgrad.grad(lambda x: fnp.sum(fgrad.lax.reduce_window(
    ...     x, -np.inf, fgrad.lax.max, (2, 2), (2, 2), "VALID")))(x)
    array([[0., 0., 0., 0.],
           [1., 0., 0., 1.]])
    """
    fn = "reduce_window"
    kind = _computation(computation)
    operand = _to_array(operand, fn, "operand")
    shape = shape_of(operand)
    ndim = len(shape)
    if base_dilation is not None and any(
        d != 1 for d in _ints(base_dilation, ndim, "base_dilation", fn)
    ):
        raise NotImplementedError(f"{fn}: base_dilation is not supported (got {base_dilation})")
    window = _ints(window_dimensions, ndim, "window_dimensions", fn)
    strides = _ints(window_strides, ndim, "window_strides", fn)
    dilation = _ints(window_dilation, ndim, "window_dilation", fn)
    reduce_window_shape_tuple(shape, window, strides, padding, dilation)
    init = _init_scalar(init_value, dtype_of(operand))
    pads = _resolve_padding(padding, shape, _effective(window, dilation), strides, fn)
    x = negative(operand) if kind == "min" else operand
    x = _pad_or_crop(x, pads, -init if kind == "min" else init)
    axes = tuple(a for a in range(ndim) if (window[a], strides[a], dilation[a]) != (1, 1, 1))
    params = {
        "axes": axes,
        "window": tuple(window[a] for a in axes),
        "strides": tuple(strides[a] for a in axes),
        "dilation": tuple(dilation[a] for a in axes),
    }
    if not axes:
        out = x
    elif kind == "add":
        out = sum_(_WINDOWS(x, **params), axis=tuple(range(ndim, ndim + len(axes))))
    else:
        out = _WINDOW_MAX(x, **params)
    if kind == "min":
        out = negative(out)
    if kind == "add" and init != 0:
        out = add(out, init)
    elif kind == "max" and init != _identity_max(dtype_of(operand)):
        out = maximum(out, init)
    elif kind == "min" and init != -_identity_max(dtype_of(operand)):
        out = minimum(out, init)
    return out


def _identity_max(dtype: np.dtype[Any]) -> Any:
    if dtype.kind in "iu":
        return np.iinfo(dtype).min
    return -np.inf
