"""Picking elements by index or condition: ``take``, ``choose``, ``compress``...

Every differentiable function here is a ``getitem`` (a gather) of its input, so its
gradient scatter-adds the cotangent back; the index functions (``nonzero``,
``argwhere``, ``flatnonzero``) are piecewise constant.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fgrad._core import Tracer, concrete, detach
from fgrad._rules.declare import export, non_differentiable
from fgrad._rules.helpers import ndim_of, no_out, normalize_axes, shape_of
from fgrad._rules.linear import broadcast_to, getitem, reshape
from fgrad._rules.shape import any_traced, ravel, stack


@export("take")
def take(a: Any, indices: Any, axis: int | None = None) -> Any:
    """Differentiable ``numpy.take``.

    Gradient: the cotangent scatter-added at the taken indices.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda x: fnp.take(x, [2, 0, 2], axis=1), (x,))
    """
    indices = detach(indices)
    if indices.__class__ is not Tracer:
        indices = np.asarray(indices)
    if axis is None:
        return getitem(ravel(a), indices)
    ax = normalize_axes(axis, ndim_of(a), "take")[0]
    return getitem(a, (slice(None),) * ax + (indices,))


@export("take_along_axis")
def take_along_axis(arr: Any, indices: Any, axis: int | None) -> Any:
    """Differentiable ``numpy.take_along_axis``.

    Gradient: the cotangent scatter-added at the taken indices.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda x: fnp.take_along_axis(x, np.array([[1], [0]]), 1), (x,))
    """
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


@export("extract")
def extract(condition: Any, arr: Any) -> Any:
    """Differentiable ``numpy.extract``.

    Gradient: the cotangent scattered back to the selected elements (the condition is plain).

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda a: fnp.extract(np.array([[1, 0, 1], [0, 1, 1]]), a), (x,))
    """
    if arr.__class__ is not Tracer:
        return np.extract(detach(condition), arr)
    mask = np.ravel(np.asarray(concrete(condition))) != 0
    flat = reshape(arr, (-1,))
    return getitem(flat, np.flatnonzero(mask[: shape_of(flat)[0]]))


@export("compress")
def compress(condition: Any, a: Any, axis: int | None = None, out: Any = None) -> Any:
    """Differentiable ``numpy.compress``.

    Gradient: the cotangent scattered back to the selected slices (the condition is plain).

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda a: fnp.compress([False, True, True], a, axis=1), (x,))
    """
    no_out("compress", out)
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


@export("choose")
def choose(a: Any, choices: Any, out: Any = None, mode: str = "raise") -> Any:
    """Differentiable ``numpy.choose``.

    Gradient: the cotangent to the choice picked at each element (``mode`` 'raise', 'wrap',
    'clip'; the index array is plain).

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> v = np.array([0.3, -1.2, 0.5])
    >>> fgrad.check_grads(lambda a, b: fnp.choose(np.array([[0, 1, 1], [1, 0, 0]]), [a, b]), (x, v))
    """
    choices = list(choices)
    if a.__class__ is not Tracer and not any_traced(choices):
        return np.choose(a, choices, out=out, mode=mode)  # type: ignore[call-overload]
    no_out("choose", out)
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


nonzero = non_differentiable(np.nonzero)
flatnonzero = non_differentiable(np.flatnonzero)
argwhere = non_differentiable(np.argwhere)
