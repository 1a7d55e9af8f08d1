"""Batching rules for ``fgrad.vmap``, shared by the rule modules.

A primitive declares its rule beside its VJPs (``Primitive(..., batch=rule)``). A rule is
called as ``rule(prim, values, batched, params, size)``: ``values`` are the primitive's
arguments, those flagged in ``batched`` with an extra leading batch axis of length
``size``; it returns ``(result, result_is_batched)``, the batch axis of a batched result
leading. Rules are written with NumPy functions and primitives, which dispatch to fgrad's
rules when a value is itself traced (``vmap`` inside ``grad``), so batched code stays
differentiable.
"""

from __future__ import annotations

import string
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from fgrad._core import Primitive, Tracer, peek, user_site

Flags = Sequence[bool]
Params = dict[str, Any]


def _shape(v: Any) -> tuple[int, ...]:
    while v.__class__ is Tracer:
        v = v._value
    return v.shape if v.__class__ is np.ndarray else np.shape(v)


def with_batch(v: Any, batched: bool, size: int) -> Any:
    """``v`` with its batch axis: broadcast along a new leading axis if it has none."""
    if batched:
        return v
    return np.broadcast_to(v, (size, *_shape(v)))


def pad_after_batch(v: Any, rank: int) -> Any:
    """A batched ``v`` with ones inserted after the batch axis up to ``rank`` example axes."""
    shape = _shape(v)
    missing = rank - (len(shape) - 1)
    return np.reshape(v, shape[:1] + (1,) * missing + shape[1:]) if missing > 0 else v


def elementwise(
    prim: Primitive,
    values: Sequence[Any],
    batched: Sequence[bool],
    params: dict[str, Any],
    size: int,
) -> tuple[Any, bool]:
    """Broadcasting functions: batched arguments are aligned on the widest example rank."""
    rank = max(len(_shape(v)) - b for v, b in zip(values, batched))
    aligned = [pad_after_batch(v, rank) if b else v for v, b in zip(values, batched)]
    return prim(*aligned, **params), True


def _after_batch(axis: int) -> int:
    return axis + 1 if axis >= 0 else axis


def along_axes(
    prim: Primitive,
    values: Sequence[Any],
    batched: Sequence[bool],
    params: dict[str, Any],
    size: int,
) -> tuple[Any, bool]:
    """One array and an ``axis`` param (an int or a tuple): axes counted from the start move
    up by one, those counted from the end stay."""
    axis = params["axis"]
    moved = tuple(_after_batch(a) for a in axis) if isinstance(axis, tuple) else _after_batch(axis)
    x = with_batch(values[0], batched[0], size)
    return prim(x, *values[1:], **{**params, "axis": moved}), True


def leading(
    prim: Primitive,
    values: Sequence[Any],
    batched: Sequence[bool],
    params: dict[str, Any],
    size: int,
) -> tuple[Any, bool]:
    """Functions that map over leading axes already (NumPy's stacked ``linalg``)."""
    return prim(*(with_batch(v, b, size) for v, b in zip(values, batched)), **params), True


def shape_only(
    prim: Primitive, values: Sequence[Any], batched: Flags, params: Params, size: int
) -> tuple[Any, bool]:
    """Functions of shapes and dtypes only (``shape``, ``*_like``): one example answers for all."""
    return prim(*(exemplar(v) if b else v for v, b in zip(values, batched)), **params), False


def einsum_spec(
    prim: Primitive,
    values: Sequence[Any],
    batched: Sequence[bool],
    params: dict[str, Any],
    size: int,
) -> tuple[Any, bool]:
    """``einsum``-like primitives with an explicit ``spec``: a fresh letter for the batch."""
    spec = params["spec"]
    letter = next(c for c in string.ascii_letters if c not in spec)
    inputs, output = spec.split("->")
    subs = [letter + s if b else s for s, b in zip(inputs.split(","), batched)]
    return prim(*values, **{**params, "spec": ",".join(subs) + "->" + letter + output}), True


def matmul(
    prim: Primitive,
    values: Sequence[Any],
    batched: Sequence[bool],
    params: dict[str, Any],
    size: int,
) -> tuple[Any, bool]:
    """``matmul``: vectors become one-row/one-column matrices, stacks align after the batch.

    A batch against a shared vector or matrix is one matrix product (batched vectors stacked
    as the rows of a matrix), not a stack of small products of one row each.
    """
    (a, b), (a_batched, b_batched) = values, batched
    a_rank, b_rank = len(_shape(a)) - a_batched, len(_shape(b)) - b_batched
    if not b_batched and b_rank <= 2:
        return prim(a, b, **params), True
    if not a_batched and a_rank <= 2:
        if b_rank >= 2:
            return prim(a, b, **params), True
        return prim(b, a if a_rank == 1 else np.swapaxes(a, 0, 1), **params), True
    if not a_batched:
        a = np.expand_dims(a, 0)
    if not b_batched:
        b = np.expand_dims(b, 0)
    if a_rank == 1:
        a = np.expand_dims(a, -2)
    if b_rank == 1:
        b = np.expand_dims(b, -1)
    rank = max(len(_shape(a)), len(_shape(b))) - 1
    out = prim(pad_after_batch(a, rank), pad_after_batch(b, rank), **params)
    if b_rank == 1:
        out = np.squeeze(out, -1)
    if a_rank == 1:
        out = np.squeeze(out, -1 if b_rank == 1 else -2)
    return out, True


class BatchingFallbackWarning(UserWarning):
    """A primitive without a batching rule ran once per example under ``vmap``."""


_FALLBACKS_WARNED: set[str] = set()


def exemplar(value: Any) -> Any:
    """One example of a batched value, for reading its shape and dtype."""
    if isinstance(value, tuple):
        return tuple(exemplar(v) for v in value)
    plain = peek(value)
    if not isinstance(plain, np.ndarray):
        plain = np.asarray(plain)
    return plain[0] if plain.shape[0] else np.zeros(plain.shape[1:], plain.dtype)


def one_by_one(
    prim: Primitive, values: Sequence[Any], batched: Flags, params: Params, size: int
) -> tuple[Any, bool]:
    """The fallback: ``prim`` once per example, results stacked (warns once per primitive)."""
    if prim.name not in _FALLBACKS_WARNED:
        _FALLBACKS_WARNED.add(prim.name)
        warnings.warn(
            f"vmap: '{prim.name}' has no batching rule, so it runs once per example (a Python "
            f"loop over {size}), first at {user_site()}. Results are right but slower than a "
            "batched call. (Warned once per primitive.)",
            BatchingFallbackWarning,
            stacklevel=2,
        )
    return each_example(prim, values, batched, params, size)


def each_example(
    prim: Primitive, values: Sequence[Any], batched: Flags, params: Params, size: int
) -> tuple[Any, bool]:
    """``prim`` once per example, results stacked: the rule of primitives for which a loop is
    the batched computation itself, such as ``fgrad.random``'s draws (each example's key
    seeds its own NumPy bit generator, which takes one key). No warning: nothing faster
    exists to fall back from."""
    if size == 0:
        one = prim(*(exemplar(v) if b else v for v, b in zip(values, batched)), **params)
        parts = one if isinstance(one, tuple) else (one,)
        empty = tuple(np.zeros((0, *np.shape(peek(r))), np.result_type(peek(r))) for r in parts)
        return (empty if isinstance(one, tuple) else empty[0]), True
    results = [
        prim(*(v[i] if b else v for v, b in zip(values, batched)), **params) for i in range(size)
    ]
    columns = list(zip(*results)) if isinstance(results[0], tuple) else [results]
    shapes = [sorted({np.shape(peek(r)) for r in column}) for column in columns]
    if any(len(s) > 1 for s in shapes):
        raise ValueError(
            f"vmap: '{prim.name}' gives results of different shapes for different examples "
            f"({', '.join(map(str, shapes[0] if len(shapes) == 1 else shapes))}), which no batched "
            "array can hold. Compute it outside vmap, or pad to a common shape."
        )
    stacked = tuple(np.stack(column) for column in columns)
    return (stacked if isinstance(results[0], tuple) else stacked[0]), True
