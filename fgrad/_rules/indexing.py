"""Picking elements by index or condition: ``take``, ``choose``, ``compress``...

Every differentiable function here is a ``getitem`` (a gather) of its input, so its
gradient scatter-adds the cotangent back; the index functions (``nonzero``,
``argwhere``, ``flatnonzero``) are piecewise constant. ``x.at[index].set(values)`` and the
other functional updates (``fgrad.numpy.at``) work on the flattened array with a gather
and a scatter along the last axis (a transpose pair that batches by riding along).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from fgrad._core import Primitive, Tracer, concrete, detach
from fgrad._rules.declare import export, non_differentiable
from fgrad._rules.elementwise import (
    add,
    divide,
    maximum,
    minimum,
    multiply,
    negative,
    power,
    where,
)
from fgrad._rules.helpers import dtype_of, ndim_of, no_out, normalize_axes, shape_of
from fgrad._rules.linear import astype, broadcast_to, getitem, reshape
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


# --- functional indexed updates: x.at[index].set(values) -----------------------------------


def _take_last_impl(x: Any, positions: np.ndarray) -> Any:
    return x[..., positions]


def _put_last_impl(values: Any, positions: np.ndarray, size: int) -> Any:
    lead = np.shape(values)[: np.ndim(values) - positions.ndim]
    out = np.zeros((*lead, size), dtype=np.result_type(values))
    index: Any = (..., positions)
    np.add.at(out, index, values)
    return out


def _take_last_vjp(g: Any, ans: Any, x: Any, positions: np.ndarray) -> Any:
    return _PUT_LAST(g, positions=positions, size=shape_of(x)[-1])


def _put_last_vjp(g: Any, ans: Any, values: Any, positions: np.ndarray, size: int) -> Any:
    return _TAKE_LAST(g, positions=positions)


def _batch_last(prim: Primitive, values: Any, batched: Any, params: Any, size: int) -> Any:
    # Both act on the last axes only, so a leading batch axis just rides along.
    return prim(values[0], **params), True


_TAKE_LAST = Primitive("take_last", _take_last_impl, (_take_last_vjp,), batch=_batch_last)
_PUT_LAST = Primitive("put_last", _put_last_impl, (_put_last_vjp,), batch=_batch_last)


def _concrete_index(index: Any) -> Any:
    if isinstance(index, tuple):
        return tuple(_concrete_index(i) for i in index)
    if isinstance(index, list):
        return [_concrete_index(i) for i in index]
    return concrete(index) if index.__class__ is Tracer else index


_PLAIN_UPDATES: dict[str, Any] = {
    "add": np.add.at,
    "subtract": np.subtract.at,
    "multiply": np.multiply.at,
    "divide": np.divide.at,
    "power": np.power.at,
    "min": np.minimum.at,
    "max": np.maximum.at,
}
_COMBINE: dict[str, Callable[[Any, Any], Any]] = {
    "multiply": multiply,
    "divide": divide,
    "power": power,
    "min": minimum,
    "max": maximum,
}


def _ranks(inverse: np.ndarray, count: int) -> np.ndarray:
    """For each update, how many earlier updates hit the same element."""
    order = np.argsort(inverse, kind="stable")
    starts = np.searchsorted(inverse[order], np.arange(count))
    ranks = np.empty_like(inverse)
    ranks[order] = np.arange(inverse.size) - starts[inverse[order]]
    return ranks


def _update(x: Any, index: Any, values: Any, op: str) -> Any:
    """``x`` with ``values`` applied at ``index`` by ``op``: a new array, ``x`` untouched."""
    if x.__class__ is not Tracer and values.__class__ is not Tracer:
        out = np.array(x, copy=True)
        if op == "set":
            out[index] = values
        else:
            _PLAIN_UPDATES[op](out, index, values)
        return out
    x = x if x.__class__ is Tracer else np.asarray(x)
    shape, dtype = shape_of(x), dtype_of(x)
    positions = np.arange(int(np.prod(shape)), dtype=np.intp).reshape(shape)[_concrete_index(index)]
    target = positions.shape
    try:
        fits = np.broadcast_shapes(shape_of(values), target) == target
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"x.at[index].{op}(values): values of shape {shape_of(values)} cannot be broadcast "
            f"to the shape {target} of x[index] (x has shape {shape})"
        )
    if values.__class__ is not Tracer:
        values = np.asarray(values)
    if dtype_of(values) != dtype:
        values = astype(values, dtype)
    flat_positions = positions.reshape(-1)
    flat_values = reshape(broadcast_to(values, target), (-1,))
    flat_x = reshape(x, (-1,))
    size = shape_of(flat_x)[0]
    if op in ("add", "subtract"):
        if op == "subtract":
            flat_values = negative(flat_values)
        return reshape(
            add(flat_x, _PUT_LAST(flat_values, positions=flat_positions, size=size)), shape
        )
    if flat_positions.size == 0:
        return x
    hit, inverse = np.unique(flat_positions, return_inverse=True)
    inverse = inverse.reshape(-1)
    if op == "set":
        last = np.zeros(hit.size, dtype=np.intp)
        np.maximum.at(last, inverse, np.arange(inverse.size))
        new = _TAKE_LAST(flat_values, positions=last)
    else:
        new = _TAKE_LAST(flat_x, positions=hit)
        ranks = _ranks(inverse, hit.size)
        for rank in range(int(ranks.max()) + 1):
            updates = np.flatnonzero(ranks == rank)
            if updates.size == hit.size:
                new = _COMBINE[op](
                    new, _TAKE_LAST(flat_values, positions=updates[np.argsort(inverse[updates])])
                )
                continue
            targets = inverse[updates]
            combined = _COMBINE[op](
                _TAKE_LAST(new, positions=targets), _TAKE_LAST(flat_values, positions=updates)
            )
            touched = np.zeros(hit.size, dtype=bool)
            touched[targets] = True
            new = where(touched, _PUT_LAST(combined, positions=targets, size=hit.size), new)
    mask = np.zeros(size, dtype=bool)
    mask[hit] = True
    return reshape(where(mask, _PUT_LAST(new, positions=hit, size=size), flat_x), shape)


class IndexUpdateRef:
    """``x.at[index]``: the functional updates of ``x`` at ``index`` (``set``, ``add``...).

    Each method returns a new array and leaves ``x`` unchanged, as ``jax.numpy``'s ``.at``.
    ``index`` is any NumPy index (integers, slices, integer arrays, boolean masks);
    out-of-bounds indices raise ``IndexError`` as in NumPy (JAX clamps or drops them).
    ``values`` broadcast to the shape of ``x[index]`` and are cast to ``x``'s dtype. Where
    an index repeats an element, ``add``/``subtract``/``multiply``/``divide``/``power``/
    ``min``/``max`` apply every update in order (as ``numpy.add.at`` and friends) and ``set``
    keeps the last one (as ``x[index] = values``).

    Gradient: to ``x`` at the elements not replaced (``set``) or through the combination,
    and to ``values`` from the elements they reach (an update that a later ``set`` of the
    same element overrides gets none).
    """

    __slots__ = ("array", "index")

    def __init__(self, array: Any, index: Any) -> None:
        self.array, self.index = array, index

    def __repr__(self) -> str:
        return f"IndexUpdateRef(shape={shape_of(self.array)}, index={self.index!r})"

    def get(self) -> Any:
        """``x[index]``.

        Examples
        --------
        >>> fnp.at(np.arange(4.0))[1:3].get()
        array([1., 2.])
        """
        return getitem(self.array, self.index)

    def set(self, values: Any) -> Any:
        """A copy of ``x`` with ``x[index] = values``.

        Examples
        --------
        >>> fnp.at(np.zeros(3))[1].set(5.0)
        array([0., 5., 0.])
        >>> fgrad.grad(lambda v: fnp.sum(fnp.at(np.zeros(3))[[0, 2, 0]].set(v) ** 2))(
        ...     np.array([1.0, 2.0, 3.0]))
        array([0., 4., 6.])
        """
        return _update(self.array, self.index, values, "set")

    def add(self, values: Any) -> Any:
        """A copy of ``x`` with ``values`` added at ``index`` (repeated indices accumulate).

        Examples
        --------
        >>> fnp.at(np.zeros(3))[[0, 0, 2]].add(1.0)
        array([2., 0., 1.])
        """
        return _update(self.array, self.index, values, "add")

    def subtract(self, values: Any) -> Any:
        """A copy of ``x`` with ``values`` subtracted at ``index``.

        Examples
        --------
        >>> fnp.at(np.ones(2))[1].subtract(3.0)
        array([ 1., -2.])
        """
        return _update(self.array, self.index, values, "subtract")

    def multiply(self, values: Any) -> Any:
        """A copy of ``x`` with the elements at ``index`` multiplied by ``values``.

        Examples
        --------
        >>> fnp.at(np.full(3, 2.0))[[1, 1]].multiply(3.0)
        array([ 2., 18.,  2.])
        """
        return _update(self.array, self.index, values, "multiply")

    def divide(self, values: Any) -> Any:
        """A copy of ``x`` with the elements at ``index`` divided by ``values``.

        Examples
        --------
        >>> fnp.at(np.full(2, 3.0))[0].divide(2.0)
        array([1.5, 3. ])
        """
        return _update(self.array, self.index, values, "divide")

    def power(self, values: Any) -> Any:
        """A copy of ``x`` with the elements at ``index`` raised to ``values``.

        Examples
        --------
        >>> fnp.at(np.full(2, 3.0))[1].power(2.0)
        array([3., 9.])
        """
        return _update(self.array, self.index, values, "power")

    def min(self, values: Any) -> Any:
        """A copy of ``x`` with ``minimum(x[index], values)`` at ``index``.

        Examples
        --------
        >>> fnp.at(np.array([1.0, 5.0]))[:].min(2.0)
        array([1., 2.])
        """
        return _update(self.array, self.index, values, "min")

    def max(self, values: Any) -> Any:
        """A copy of ``x`` with ``maximum(x[index], values)`` at ``index``.

        Examples
        --------
        >>> fnp.at(np.array([1.0, 5.0]))[:].max(2.0)
        array([2., 5.])
        """
        return _update(self.array, self.index, values, "max")


class IndexUpdateHelper:
    """``x.at``: index it (``x.at[index]``) to get an :class:`IndexUpdateRef`."""

    __slots__ = ("array",)

    def __init__(self, array: Any) -> None:
        self.array = array

    def __getitem__(self, index: Any) -> IndexUpdateRef:
        return IndexUpdateRef(self.array, index)

    def __repr__(self) -> str:
        return f"IndexUpdateHelper(shape={shape_of(self.array)})"


@export("at", dispatch=False)
def at(x: Any) -> IndexUpdateHelper:
    """``x.at`` for any array: ``fgrad.numpy.at(x)[index].set(values)`` and friends.

    A traced array has ``x.at`` itself, as a ``jax.Array`` does; a NumPy array cannot be
    given that attribute, so this function form works on both (an fgrad extension: NumPy
    has no ``at``; ``numpy.add.at`` is the in-place ufunc method). The updates (``set``,
    ``add``, ``subtract``, ``multiply``, ``divide``, ``power``, ``min``, ``max``, ``get``)
    return new arrays: see :class:`IndexUpdateRef`.

    Gradient: to ``x`` and to the update values, to any order (see :class:`IndexUpdateRef`).

    Examples
    --------
    >>> x = np.array([1.0, 2.0, 3.0])
    >>> fnp.at(x)[1].set(10.0), x
    (array([ 1., 10.,  3.]), array([1., 2., 3.]))
    >>> fgrad.grad(lambda x: fnp.sum(x.at[0].multiply(x[2]) ** 2))(x)
    array([18.,  4., 12.])
    """
    return IndexUpdateHelper(x)
