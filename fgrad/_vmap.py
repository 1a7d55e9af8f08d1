"""``vmap``: a function of one example applied to a batch, one batched call per primitive.

``vmap(fun)`` opens a trace that computes instead of recording: each tracer of it holds
the batched value of an intermediate (batch axis first, kept in the trace's ``tape``) and,
as its own ``_value``, one example of it, from which shapes and dtypes are read. Each
primitive called on such tracers runs its batching rule (``Primitive.batch``, declared
with the primitive in ``fgrad/_rules``), or, lacking one, once per example with a
one-time warning. ``vmap`` nests with itself and with every other transform in both
orders, since rules are written with differentiable operations.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from fgrad._core import Primitive, Trace, Tracer, close_trace, fun_name, new_trace, peek, user_site
from fgrad._rules.batching import BatchingFallbackWarning, exemplar, one_by_one
from fgrad.tree import tree_flatten, tree_leaves, tree_structure, tree_unflatten

__all__ = ["BatchingFallbackWarning", "vmap"]


def _wrap(trace: Trace, value: Any) -> Tracer:
    idx = len(trace.tape)
    trace.tape.append(value)
    return Tracer(exemplar(value), trace, idx)


class _BatchedValueRead(TypeError):
    """Python read the value of a batched array; ``vmap`` then runs the function per example."""


_READS_WARNED: set[Any] = set()


def _refuse_read(trace: Trace) -> Callable[[Tracer], None]:
    def on_read(tracer: Tracer) -> None:
        raise _BatchedValueRead(user_site())

    return on_read


def _per_example(
    fun: Callable[..., Any],
    args: tuple[Any, ...],
    in_axes: list[Any],
    out_axes: Any,
    size: int,
    name: str,
    site: str,
) -> Any:
    """``fun`` called once per example, outputs stacked: the answer a Python loop gives."""
    code = getattr(fun, "__code__", fun)
    if code not in _READS_WARNED:
        _READS_WARNED.add(code)
        warnings.warn(
            f"{name}: Python reads the value of a batched array at {site} (bool, float, an "
            "if on a comparison, or a shape that depends on values), and each example may "
            f"take its own branch, so the function runs once per example: a Python loop over "
            f"{size} examples instead of one batched call. Use fgrad.numpy.where to keep it "
            "batched. (Warned once per function.)",
            BatchingFallbackWarning,
            stacklevel=3,
        )
    leaves, treedef = tree_flatten(args)
    outs = []
    for i in range(size):
        example = [
            leaf if axis is None else np.take(leaf, i, axis=axis)
            for leaf, axis in zip(leaves, in_axes)
        ]
        outs.append(fun(*tree_unflatten(treedef, example)))
    out_leaves = [tree_flatten(o)[0] for o in outs]
    out_tree = tree_structure(outs[0])
    spec = _axes_per_leaf(out_axes, outs[0], "the output")
    stacked = [
        column[0] if axis is None else np.stack(column, axis=axis)
        for column, axis in zip(zip(*out_leaves), spec)
    ]
    return tree_unflatten(out_tree, stacked)


def _open(fun: Any, size: int) -> Trace:
    trace = new_trace("vmap", fun)
    trace.live = False
    trace.replay_later(_refuse_read(trace))

    def compute(prim: Primitive, args: Sequence[Any], params: dict[str, Any]) -> Any:
        values, batched = [], []
        for a in args:
            mine = a.__class__ is Tracer and a._trace is trace
            values.append(trace.tape[a._idx] if mine else a)
            batched.append(mine)
        rule = prim.batch or one_by_one
        out, out_batched = rule(prim, values, batched, params, size)
        return _wrap(trace, out) if out_batched else out

    trace.compute = compute
    return trace


def _axes_per_leaf(axes: Any, tree: Any, what: str) -> list[Any]:
    """One axis (an int or None) per leaf of ``tree``, from ``axes``, a prefix of it."""
    if axes is None or isinstance(axes, int):
        return [axes] * len(tree_leaves(tree))
    prefix = tree_structure(axes, is_leaf=lambda v: v is None)
    subtrees = prefix.flatten_up_to(tree, name=what)
    spec = tree_leaves(axes, is_leaf=lambda v: v is None)
    return [a for a, sub in zip(spec, subtrees) for _ in tree_leaves(sub)]


def _check_axis(axis: Any, ndim: int, what: str, transform: str) -> int:
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"{transform}: the axis of {what} must be an int or None, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(
            f"{transform}: {what} has {ndim} dimension(s), so it has no axis {axis} to map over"
        )
    return int(axis) % ndim


def vmap(
    fun: Callable[..., Any],
    in_axes: int | None | Sequence[Any] = 0,
    out_axes: Any = 0,
    axis_size: int | None = None,
) -> Callable[..., Any]:
    """Vectorise ``fun`` over an axis of its arguments, like ``jax.vmap``.

    ``vmap(fun)(xs)`` equals stacking ``fun(x)`` over the examples ``x`` of ``xs`` along
    axis 0, computed by one batched call per primitive instead of a Python loop.

    Parameters
    ----------
    fun : callable
        A function of pytrees of arrays, written for one example.
    in_axes : int, None or tuple
        The axis mapped over in each argument: one for all, or a tuple with one entry per
        positional argument, each an int, None (not mapped: shared by all examples) or a
        pytree prefix of that argument. Negative axes count from the end.
    out_axes : int, None or pytree prefix of the output
        Where the batch axis goes in each output; None for an output that does not vary.
    axis_size : int, optional
        The batch size, needed only when no argument is mapped.

    Returns
    -------
    callable
        The batched function.

    Examples
    --------
    >>> w = np.array([1.0, 2.0])
    >>> xs = np.array([[1.0, 1.0], [0.5, -1.0], [2.0, 0.0]])
    >>> loss = lambda w, x: fnp.sum(fnp.tanh(w * x) ** 2)
    >>> per_example = fgrad.vmap(fgrad.grad(loss), in_axes=(None, 0))(w, xs)
    >>> per_example.shape
    (3, 2)
    >>> np.allclose(per_example[1], fgrad.grad(loss)(w, xs[1]))
    True
    """
    name = f"vmap({fun_name(fun)})"
    if not callable(fun):
        raise TypeError(f"vmap: expected a function, got {type(fun).__name__}")

    @functools.wraps(fun)
    def batched_fun(*args: Any) -> Any:
        if isinstance(in_axes, (tuple, list)) and len(in_axes) != len(args):
            raise ValueError(
                f"{name}: in_axes has {len(in_axes)} entries but the function was called with "
                f"{len(args)} positional arguments. Give one axis (or None) per argument."
            )
        leaves, treedef = tree_flatten(args)
        if isinstance(in_axes, (tuple, list)):
            axes = [
                a
                for k, arg in enumerate(args)
                for a in _axes_per_leaf(in_axes[k], arg, f"argument {k}")
            ]
        else:
            axes = _axes_per_leaf(in_axes, args, "args")
        paths = [f"argument {k}" for k, arg in enumerate(args) for _ in tree_leaves(arg)]
        size, size_from = axis_size, f"axis_size={axis_size}"
        moved: list[Any] = []
        for leaf, axis, path in zip(leaves, axes, paths):
            if axis is None:
                moved.append(leaf)
                continue
            shape = np.shape(peek(leaf))
            axis = _check_axis(axis, len(shape), f"{path} (shape {shape})", name)
            here = f"{path} (shape {shape}, axis {axis})"
            if size is None:
                size, size_from = shape[axis], here
            elif shape[axis] != size:
                raise ValueError(
                    f"{name}: inconsistent batch sizes: {size_from} gives {size}, {here} gives "
                    f"{shape[axis]}. Map over axes of one length, or pass None for an argument "
                    "shared by all examples."
                )
            axes[len(moved)] = axis
            moved.append(leaf if axis == 0 else np.moveaxis(leaf, axis, 0))
        if size is None:
            raise ValueError(
                f"{name}: no argument is mapped (every in_axes entry is None), so the batch "
                "size is unknown. Pass axis_size=."
            )
        trace = _open(fun, size)
        try:
            return _run(trace, fun, treedef, moved, axes, out_axes, size, name)
        except _BatchedValueRead as read:
            return _per_example(fun, args, axes, out_axes, size, name, str(read))
        finally:
            close_trace(trace)

    return batched_fun


def _run(
    trace: Trace,
    fun: Callable[..., Any],
    treedef: Any,
    moved: list[Any],
    axes: list[Any],
    out_axes: Any,
    size: int,
    name: str,
) -> Any:
    inputs = [leaf if axis is None else _wrap(trace, leaf) for leaf, axis in zip(moved, axes)]
    out = fun(*tree_unflatten(treedef, inputs))
    out_leaves, out_tree = tree_flatten(out)
    out_spec = _axes_per_leaf(out_axes, out, "the output")
    results = [_unbatch(trace, leaf, axis, size, name) for leaf, axis in zip(out_leaves, out_spec)]
    return tree_unflatten(out_tree, results)


def _unbatch(trace: Trace, leaf: Any, axis: Any, size: int, name: str) -> Any:
    mine = leaf.__class__ is Tracer and leaf._trace is trace
    if axis is None:
        if mine:
            raise ValueError(
                f"{name}: out_axes is None for an output that varies over the batch. Give it "
                "an axis, or return only what is shared by all examples there."
            )
        return leaf
    value = trace.tape[leaf._idx] if mine else np.broadcast_to(leaf, (size, *np.shape(peek(leaf))))
    ndim = len(np.shape(peek(value)))
    axis = _check_axis(axis, ndim, "an output", name)
    return value if axis == 0 else np.moveaxis(value, 0, axis)
