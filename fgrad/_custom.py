"""``custom_jvp`` and ``checkpoint``: primitives whose VJP runs user code again.

Both wrap a user function as one :class:`~fgrad._core.Primitive` (its pytree output packed
into one array, see ``transforms._pack``) whose ``impl`` simply calls the function on plain
arrays, and whose ``vjp_joint`` runs user code on the recorded arguments:

- ``custom_jvp``: the JVP rule, recorded by a fresh ``vjp`` over the tangents and swept
  backwards. The rule's tangent output is linear in the tangents, so that sweep is the
  transposed JVP, ``g -> J^T g`` (what JAX does: linearize the rule, then transpose it).
- ``checkpoint``: the function itself, recorded by a fresh ``vjp`` over the arguments and
  swept backwards at once, so its intermediate values live only during its own VJP.

The primitive binds like any other, so every nesting level records it: the arguments it
sees are one level down, the user code runs on them with differentiable operations, and
the enclosing levels differentiate the JVP rule (second order) or the recomputation.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

import numpy as np

from fgrad._core import (
    Primitive,
    Residuals,
    Tracer,
    backward_pass,
    bindn,
    close_trace,
    fun_name,
    new_trace,
    peek,
    user_site,
)
from fgrad._vmap import vmap
from fgrad.transforms import (
    _LEAF,
    _box_arguments,
    _check_callable,
    _check_nondiff,
    _cotangent_leaf,
    _gradients,
    _Layout,
    _leaf_dtype,
    _located,
    _pack,
    _static_positions,
    _unpack,
    float0,
)
from fgrad.tree import PyTreeDef, keystr, tree_flatten, tree_flatten_with_path, tree_unflatten

__all__ = ["checkpoint", "custom_jvp", "remat"]

F = TypeVar("F", bound=Callable[..., Any])


def _zero_tangent(leaf: Any) -> Any:
    """The tangent of a leaf that is not differentiated: zeros, or ``float0`` zeros."""
    dtype = _leaf_dtype(leaf)
    shape = np.shape(peek(leaf)) if dtype is not None else ()
    if dtype is None or dtype.kind != "f":
        return np.zeros(shape, float0)
    return np.zeros(shape, dtype)


def _pull_back(
    fun_of_leaves: Callable[[list[Any]], Any],
    leaves: Sequence[Any],
    argnums: Sequence[int],
    start: Sequence[Any],
    g: Any,
    transform: str,
    named: Any,
) -> list[Any]:
    """The cotangents of ``leaves[argnums]`` for ``g``, by recording ``fun_of_leaves`` at ``start``.

    ``fun_of_leaves`` receives the whole list of leaves, with those at ``argnums`` replaced
    by tracers of a fresh trace (holding ``start``), and returns one array. The recording is
    swept once, releasing each entry as the sweep passes it (``fgrad.vjp`` keeps its tape
    for more calls; a rule's VJP runs once).
    """
    trace = new_trace(transform, named)
    try:
        traced, boxed = _box_arguments(trace, tuple(start), tuple(range(len(start))))
        full = list(leaves)
        for k, t in zip(argnums, traced):
            full[k] = t
        out = fun_of_leaves(full)
    finally:
        close_trace(trace)
    tape, sites = trace.tape, trace.sites
    trace.tape = []
    if out.__class__ is not Tracer or out._trace is not trace:
        return _gradients([], boxed)
    value = out._value
    where = f"{trace.label()}: the cotangent"
    ct = _cotangent_leaf(g, np.shape(peek(value)), np.result_type(peek(value)), where)
    return _gradients(backward_pass(tape, [(out._idx, ct)], True, sites), boxed)


class custom_jvp:  # noqa: N801
    """Give a function a hand-written JVP rule, as a new primitive.

    Decorate ``fun``, then call ``fun.defjvp(rule)`` (or use ``@fun.defjvp`` on
    the rule): ``rule(*nondiff_args, primals, tangents)`` receives two tuples
    with one entry per differentiable positional argument and returns
    ``(primal_out, tangent_out)``, ``tangent_out`` linear in ``tangents`` and
    shaped like ``fun``'s output (an array or a pytree of float arrays).

    What fgrad computes with it (JAX's semantics, fgrad's way):

    - Forward value: ``fun`` itself, on plain arrays; the rule's ``primal_out``
      is only checked for its structure.
    - Reverse mode (``grad``, ``vjp``): the rule is linearized and transposed,
      as JAX does. The VJP records ``rule`` on the primals and on zero tangents
      (a fresh trace over the tangents) and sweeps that recording backwards,
      so ``bwd(g) = J^T g`` for the ``J`` the rule applies.
    - Forward mode (``jvp``, ``jacfwd``, ``linearize``): fgrad's forward mode is
      the transposed VJP, so it yields the rule's ``tangent_out`` again.
    - Higher orders: the rule runs on the primals of the enclosing levels, which
      differentiate it, so write it with ``fgrad.numpy`` (as in JAX, the rule
      itself is differentiated).

    A tangent of an argument that is not differentiated is zeros of its shape
    and dtype (``float0`` zeros for integer arguments).

    Parameters
    ----------
    fun : callable
        The function, called as is when nothing is traced.
    nondiff_argnums : int or sequence of ints
        Positions of arguments passed to ``rule`` first and never
        differentiated; they must not be traced by a differentiating transform.

    Examples
    --------
    >>> @fgrad.custom_jvp
    ... def log1pexp(x):
    ...     return fnp.log1p(fnp.exp(x))
    >>> @log1pexp.defjvp
    ... def log1pexp_jvp(primals, tangents):
    ...     (x,), (t,) = primals, tangents
    ...     return log1pexp(x), t * (1.0 - 1.0 / (1.0 + fnp.exp(x)))
    >>> fgrad.grad(log1pexp)(100.0)  # exp(100) / (1 + exp(100)) without inf / inf
    array(1.)
    >>> fgrad.grad(fgrad.grad(log1pexp))(0.0)
    array(0.25)
    """

    def __init__(self, fun: Callable[..., Any], nondiff_argnums: int | Sequence[int] = ()) -> None:
        _check_callable(fun, "custom_jvp")
        self.fun = fun
        self.nondiff_argnums = _static_positions(nondiff_argnums, "custom_jvp", fun)
        self.jvp: Callable[..., Any] | None = None
        self._label = f"custom_jvp({fun_name(fun)})"
        self._prim = Primitive(
            self._label, self._impl, vjp_joint=self._transposed_jvp, batch=self._batched
        )
        functools.update_wrapper(self, fun)

    def defjvp(self, jvp: F) -> F:
        """Set the JVP rule ``rule(*nondiff_args, primals, tangents)``; returns it."""
        _check_callable(jvp, "custom_jvp")
        self.jvp = jvp
        return jvp

    def __call__(self, *args: Any) -> Any:
        if self.jvp is None:
            raise TypeError(
                f"{self._label}: the function has no JVP rule yet. Call "
                f"{fun_name(self.fun)}.defjvp(rule) before using it."
            )
        leaves, treedef = tree_flatten(args)
        if not any(leaf.__class__ is Tracer for leaf in leaves):
            return self.fun(*args)
        _check_nondiff(args, self.nondiff_argnums, self._label)
        params: dict[str, Any] = {"treedef": treedef, "layout": Residuals()}
        return _unpack(bindn(self._prim, leaves, params), params["layout"].value)

    def _impl(self, *leaves: Any, treedef: PyTreeDef, layout: Residuals) -> Any:
        out = self.fun(*tree_unflatten(treedef, list(leaves)))
        packed, out_layout = _pack(out, self._label, "the function")
        layout.store(out_layout)
        return packed

    def _transposed_jvp(
        self,
        g: Any,
        ans: Any,
        leaves: tuple[Any, ...],
        params: dict[str, Any],
        argnums: Sequence[int],
    ) -> list[Any]:
        treedef: PyTreeDef = params["treedef"]
        layout: _Layout = params["layout"].value
        args = tree_unflatten(treedef, list(leaves))
        nondiff = self.nondiff_argnums
        static = [args[i] for i in nondiff]
        primals = tuple(a for i, a in enumerate(args) if i not in nondiff)
        rule = cast(Callable[..., Any], self.jvp)
        label = self._label

        def tangent_out(tangent_leaves: list[Any]) -> Any:
            tangent_args = tree_unflatten(treedef, tangent_leaves)
            tangents = tuple(t for i, t in enumerate(tangent_args) if i not in nondiff)
            result = rule(*static, primals, tangents)
            if not (isinstance(result, tuple) and len(result) == 2):
                raise _located(
                    TypeError(
                        f"{label}: the JVP rule must return a pair (primal_out, tangent_out), "
                        f"but it returned a {type(result).__name__} (at {user_site()}). "
                        "Return (primal_out, tangent_out) from the rule."
                    )
                )
            primal_out, tangent = result
            _check_like_output(primal_out, layout, label, "primal_out")
            _check_like_output(tangent, layout, label, "tangent_out")
            return _pack(tangent, label, "the JVP rule")[0]

        zero_tangents = [_zero_tangent(leaf) for leaf in leaves]
        start = [zero_tangents[k] for k in argnums]
        return _pull_back(tangent_out, zero_tangents, argnums, start, g, "custom_jvp", self.fun)

    def _batched(
        self,
        prim: Primitive,
        values: Sequence[Any],
        batched: Sequence[bool],
        params: dict[str, Any],
        size: int,
    ) -> tuple[Any, bool]:
        """The batching rule, as JAX's: a ``custom_jvp`` of ``vmap(fun)`` with rule ``vmap(rule)``.

        Its arguments are the primitive's leaves; leaves of ``nondiff_argnums`` stay
        non-differentiable, and the rule of one example runs on one example's primals and
        tangents under ``vmap``.
        """
        treedef: PyTreeDef = params["treedef"]
        axes = tuple(0 if b else None for b in batched)
        positions = tree_unflatten(treedef, list(range(len(values))))
        nondiff_leaves = (tree_flatten(positions[i])[0] for i in self.nondiff_argnums)
        static_leaves = sorted(k for leaves in nondiff_leaves for k in leaves)
        diff_leaves = [k for k in range(len(values)) if k not in static_leaves]

        def run(*leaves: Any) -> Any:
            return self._impl(*leaves, treedef=treedef, layout=params["layout"])

        def one_example_rule(static: Any, primals: Any, tangents: Any) -> Any:
            full: list[Any] = [None] * len(values)
            tangent_full: list[Any] = [None] * len(values)
            for k, v in zip(static_leaves, static):
                full[k] = v
            for k, p, t in zip(diff_leaves, primals, tangents):
                full[k], tangent_full[k] = p, t
            args = tree_unflatten(treedef, full)
            tangent_args = tree_unflatten(treedef, tangent_full)
            nondiff = self.nondiff_argnums
            rule_primals = tuple(a for i, a in enumerate(args) if i not in nondiff)
            rule_tangents = tuple(t for i, t in enumerate(tangent_args) if i not in nondiff)
            rule = cast(Callable[..., Any], self.jvp)
            out, tangent = rule(*(args[i] for i in nondiff), rule_primals, rule_tangents)
            return (
                _pack(out, self._label, "the JVP rule")[0],
                _pack(tangent, self._label, "the JVP rule")[0],
            )

        static_axes = tuple(axes[k] for k in static_leaves)
        diff_axes = tuple(axes[k] for k in diff_leaves)
        batched_rule = vmap(one_example_rule, in_axes=(static_axes, diff_axes, diff_axes))

        def rule_of_leaves(*args: Any) -> Any:
            *static, primals, tangents = args
            return batched_rule(tuple(static), primals, tangents)

        batched_fun = custom_jvp(vmap(run, in_axes=axes), nondiff_argnums=static_leaves)
        batched_fun.defjvp(rule_of_leaves)
        return batched_fun(*values), True


def _check_like_output(value: Any, layout: _Layout, label: str, what: str) -> None:
    """Refuse a rule's ``primal_out`` or ``tangent_out`` unlike the function's output."""
    paths_leaves, treedef = tree_flatten_with_path(value)
    if treedef != layout.treedef:
        raise _located(
            TypeError(
                f"{label}: the JVP rule returned {what} with structure {treedef}, but the "
                f"function returns {layout.treedef} (at {user_site()}). Return {what} shaped "
                "like the function's output."
            )
        )
    for (path, leaf), shape in zip(paths_leaves, layout.shapes):
        got = np.shape(peek(leaf))
        if got != shape:
            where = f" leaf {keystr(path)}" if treedef != _LEAF else ""
            raise _located(
                ValueError(
                    f"{label}: the JVP rule returned {what}{where} of shape {got}, but the "
                    f"function's output has shape {shape} (at {user_site()}). Return {what} "
                    "shaped like the function's output (broadcast it, e.g. "
                    "t * fgrad.numpy.ones_like(x))."
                )
            )


def checkpoint(fun: F) -> F:
    """Recompute ``fun``'s intermediate values during the backward pass (rematerialization).

    Under a differentiating transform, ``checkpoint(fun)`` is recorded as one operation
    that keeps only its arguments and its output. Its VJP runs ``fun`` again on the saved
    arguments, under a fresh ``vjp``, and sweeps that recording backwards at once. This
    trades one more forward pass of ``fun`` for not holding its intermediate values from
    the forward pass to the backward pass: checkpointing each layer of a deep network
    keeps one activation per layer instead of all of them (``benchmarks/checkpoint_memory.py``
    measures it). Gradients are the same as without ``checkpoint``: the recomputation
    evaluates the same operations on the same arrays.

    ``fun`` takes pytrees (positional and keyword arguments) and returns an array or a
    pytree of float arrays. Non-array arguments (Python numbers, strings) are passed
    through. Every nesting level records it, so ``grad(grad(...))``, ``jvp``, nested
    checkpoints and ``jit`` work. When nothing is traced, ``fun`` is simply called. As
    in JAX, ``fun`` must be pure: side effects happen again during the recomputation.

    Parameters
    ----------
    fun : callable
        The function whose intermediate values should not be stored.

    Returns
    -------
    callable
        A function with ``fun``'s signature and values.

    Examples
    --------
    >>> @fgrad.checkpoint
    ... def layer(w, x):
    ...     return fnp.tanh(x @ w)
    >>> def loss(w, x):
    ...     return fnp.sum(layer(w, layer(w, x)))
    >>> w, x = np.full((2, 2), 0.5), np.ones((1, 2))
    >>> bool(np.array_equal(fgrad.grad(loss)(w, x),
    ...                     fgrad.grad(lambda w, x: fnp.sum(layer.__wrapped__(w,
    ...                                layer.__wrapped__(w, x))))(w, x)))
    True
    """
    _check_callable(fun, "checkpoint")
    label = f"checkpoint({fun_name(fun)})"

    def call(leaves: list[Any], treedef: PyTreeDef) -> Any:
        args, kwargs = tree_unflatten(treedef, leaves)
        return fun(*args, **kwargs)

    def forward(*leaves: Any, treedef: PyTreeDef, layout: Residuals) -> Any:
        packed, out_layout = _pack(call(list(leaves), treedef), label, "the function")
        layout.store(out_layout)
        return packed

    def recomputed_vjp(
        g: Any,
        ans: Any,
        leaves: tuple[Any, ...],
        params: dict[str, Any],
        argnums: Sequence[int],
    ) -> list[Any]:
        treedef: PyTreeDef = params["treedef"]

        def recompute(full: list[Any]) -> Any:
            return _pack(call(full, treedef), label, "the function")[0]

        start = [leaves[k] for k in argnums]
        return _pull_back(recompute, leaves, argnums, start, g, "checkpoint", fun)

    def batched_rule(
        prim: Primitive,
        values: Sequence[Any],
        batched: Sequence[bool],
        params: dict[str, Any],
        size: int,
    ) -> tuple[Any, bool]:
        def run(*leaves: Any) -> Any:
            return forward(*leaves, **params)

        run.__name__ = run.__qualname__ = fun_name(fun)
        axes = tuple(0 if b else None for b in batched)
        return checkpoint(vmap(run, in_axes=axes))(*values), True

    prim = Primitive(label, forward, vjp_joint=recomputed_vjp, batch=batched_rule)

    def checkpointed(*args: Any, **kwargs: Any) -> Any:
        leaves, treedef = tree_flatten((args, kwargs))
        if not any(leaf.__class__ is Tracer for leaf in leaves):
            return fun(*args, **kwargs)
        params: dict[str, Any] = {"treedef": treedef, "layout": Residuals()}
        return _unpack(bindn(prim, leaves, params), params["layout"].value)

    functools.update_wrapper(checkpointed, fun)
    return cast(F, checkpointed)


remat = checkpoint
