"""Sorting, searching and ``unique``: values move, indices are piecewise constant.

``sort``, ``partition`` and ``unique`` (and NumPy 2's ``unique_*``) gather their input
at plain indices, so the cotangent goes back to where each value came from; the
index functions (``argsort``, ``argmax``, ``searchsorted``...) return plain arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from fgrad._core import Tracer, detach
from fgrad._rules.declare import document, export, non_differentiable, plain_values
from fgrad._rules.helpers import ndim_of, normalize_axes
from fgrad._rules.indexing import take_along_axis
from fgrad._rules.linear import getitem, reshape

argmax = non_differentiable(np.argmax)
argmin = non_differentiable(np.argmin)
argsort = non_differentiable(np.argsort)
argpartition = non_differentiable(np.argpartition, sample="np.array([3.0, 1.0, 2.0]), 1")
lexsort = non_differentiable(np.lexsort, sample="np.array([[1.0, 2.0, 0.5], [0.25, 0.25, 3.0]])")
searchsorted = non_differentiable(np.searchsorted, sample="np.array([0.5, 1.5, 2.5]), 1.0")
digitize = non_differentiable(np.digitize, sample="np.array([0.2, 1.4]), np.array([0.0, 1.0])")


@export("sort")
def sort(a: Any, axis: int | None = -1, kind: Any = None, order: Any = None) -> Any:
    """Differentiable ``numpy.sort``.

    Gradient: the cotangent scattered back to the original positions.

    Examples
    --------
    >>> fgrad.check_grads(fnp.sort, (np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]]),))
    """
    if a.__class__ is not Tracer:
        return np.sort(a, axis=axis, kind=kind, order=order)
    if axis is None:
        a = reshape(a, (-1,))
        axis = -1
    order_idx = argsort(detach(a), axis=axis, kind=kind)
    return take_along_axis(a, order_idx, axis)


# NumPy's stubs want Literal arguments; here they are any value, checked by NumPy.
_np_partition: Callable[..., Any] = np.partition


@export("partition")
def partition(
    a: Any, kth: Any, axis: int | None = -1, kind: str = "introselect", order: Any = None
) -> Any:
    """Differentiable ``numpy.partition``.

    Gradient: the cotangent scattered back to the original positions.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda a: fnp.partition(a, 1, axis=1), (x,))
    """
    if a.__class__ is not Tracer:
        return _np_partition(a, kth, axis=axis, kind=kind, order=order)
    if axis is None:
        a = reshape(a, (-1,))
        axis = -1
    index = argpartition(detach(a), kth, axis=axis, kind=kind)
    return take_along_axis(a, index, axis)


_np_unique: Callable[..., Any] = np.unique


def _unique_part(ar: Any, part: int, axis: Any, equal_nan: bool, options: Any) -> Any:
    return _np_unique(ar, True, True, True, axis, equal_nan=equal_nan, **dict(options))[part]


_unique_plain = plain_values(_unique_part, "unique")


@export("unique")
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
    """Differentiable ``numpy.unique``.

    Gradient: the cotangent of each unique value to the first occurrence of that value (a
    gather); ``return_index``, ``return_inverse`` and ``return_counts`` are plain integer
    arrays.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda a: fnp.unique(fnp.concatenate([a, a[:, :1]], axis=1)), (x,))
    """
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
            for k in range(1, len(result_type._fields))
        ]
        return result_type(values, *rest)

    fn.__name__ = fn.__qualname__ = name
    document(
        fn,
        f"Differentiable ``numpy.{name}`` (NumPy 2).",
        "the cotangent of each unique value to its first occurrence (a gather); the "
        "integer outputs are plain arrays.",
        f">>> fgrad.check_grads(lambda x: fnp.{name}(fnp.concatenate([x, x[:1]]))"
        f"{'' if name == 'unique_values' else '[0]'}, (np.array([0.3, -1.2, 0.5]),))",
    )
    return export(name)(fn)


unique_values, unique_counts, unique_inverse, unique_all = (
    _unique_family(name) if name in _UNIQUE_FAMILY else None
    for name in ("unique_values", "unique_counts", "unique_inverse", "unique_all")
)
