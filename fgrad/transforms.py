"""Function transforms: ``grad``, ``value_and_grad``, ``vjp``, ``jvp``, ``linearize``,
``jacobian``, ``jacfwd``, ``hessian``, ``stop_gradient`` and ``custom_vjp``.

Every transform opens one trace (see :mod:`fgrad._core`), wraps the leaves of
the differentiated arguments as tracers, runs the user's function once, and
walks the tape backwards. Forward mode (``jvp``, ``jacfwd``) is the transpose
of reverse mode: the VJP is linear in its cotangent, so differentiating it
again with respect to that cotangent yields Jacobian-vector products for every
primitive that has a VJP.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

import numpy as np

from fgrad._core import (
    Primitive,
    Residuals,
    Trace,
    Tracer,
    backward_pass,
    bindn,
    close_trace,
    detach,
    fun_name,
    new_trace,
    peek,
    user_site,
    value_dtype,
)
from fgrad._rules.linear import AS_ARRAY, astype, real_part, reshape
from fgrad._rules.shape import concatenate, stack
from fgrad.tree import (
    GetAttrKey,
    PyTreeDef,
    keystr,
    tree_flatten,
    tree_flatten_with_path,
    tree_map,
    tree_structure,
    tree_unflatten,
)

__all__ = [
    "custom_vjp",
    "float0",
    "grad",
    "hessian",
    "jacfwd",
    "jacobian",
    "jacrev",
    "jvp",
    "linearize",
    "stop_gradient",
    "value_and_grad",
    "vjp",
]

F = TypeVar("F", bound=Callable[..., Any])


_fun_name = fun_name

float0 = np.dtype([("float0", np.void, 0)])
"""The dtype of the gradient of an integer or boolean input (``grad(..., allow_int=True)``).

As in JAX (``jax.dtypes.float0``): a zero-byte structured dtype, so such a gradient holds no
numbers and cannot be mistaken for a real zero gradient (adding it to an array raises).
"""


def _located(exc: Exception) -> Exception:
    """Mark an error whose message already names the function, so primitives keep it as is."""
    exc._fgrad_located = True  # type: ignore[attr-defined]
    return exc


def _label(transform: str, fun: Any) -> str:
    return f"{transform}({fun_name(fun)})"


def _check_callable(fun: Any, transform: str) -> None:
    if not callable(fun):
        raise TypeError(
            f"{transform} expects a function to transform, got {type(fun).__name__} {fun!r:.60}. "
            f"Pass the function itself, e.g. fgrad.{transform}(loss)(params)."
        )


def _normalize_argnums(
    argnums: int | Sequence[int], nargs: int, fun: Any, transform: str
) -> tuple[int, ...]:
    if isinstance(argnums, int) and argnums.__class__ is not bool and 0 <= argnums < nargs:
        return (argnums,)
    label = _label(transform, fun)
    nums = (argnums,) if isinstance(argnums, (int, np.integer)) else tuple(argnums)
    if not nums:
        raise ValueError(
            f"{label}: argnums is empty, so there is nothing to differentiate. "
            "Name at least one positional argument, e.g. argnums=0."
        )
    out = []
    for n in nums:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"{label}: argnums must be ints, got {n!r}. Pass e.g. argnums=(0, 1).")
        if not -nargs <= n < nargs:
            raise ValueError(
                f"{label}: argnums={argnums!r} is out of range: the function was called with "
                f"{nargs} positional argument{'s' if nargs != 1 else ''} (at {user_site()}). "
                "Use argument positions from 0 to the number of positional arguments - 1 "
                "(keyword arguments cannot be differentiated)."
            )
        out.append(int(n) % nargs)
    if len(set(out)) != len(out):
        raise ValueError(
            f"{label}: argnums={argnums!r} names the same argument twice. List each argument once."
        )
    return tuple(out)


def _leaf_dtype(leaf: Any) -> np.dtype[Any] | None:
    """The dtype of an argument leaf, or ``None`` when it is not array-like at all."""
    value = peek(leaf)
    if isinstance(value, bool):
        return np.dtype(np.bool_)
    if isinstance(value, int):
        return np.dtype(np.int64)
    if isinstance(value, (str, bytes)):
        return None
    try:
        return value_dtype(value)
    except (TypeError, ValueError):
        return None


def _static_hint(path: Any) -> str:
    field = next((k.name for k in reversed(path) if isinstance(k, GetAttrKey)), None)
    if field is None:
        return ""
    return (
        f", or, if it is a dataclass field, mark it static: "
        f"fgrad.tree.register_dataclass(cls, static=({field!r},))"
    )


def _bad_leaf(
    arg: Any,
    argnum: int,
    index: int,
    dtype: np.dtype[Any] | None,
    label: str,
    holomorphic: bool = False,
) -> TypeError:
    path, leaf = tree_flatten_with_path(arg)[0][index]
    where = f"argument {argnum}{keystr(path)}"
    site = user_site()
    if dtype is None:
        return TypeError(
            f"{label}: {where} is a {type(leaf).__name__} ({leaf!r:.40}), not an array "
            f"(at {site}). Only floating-point and complex arrays can be differentiated: keep "
            f"it out of the differentiated arguments (pass it as another argument or close "
            f"over it){_static_hint(path)}."
        )
    if holomorphic and dtype.kind == "f":
        return TypeError(
            f"{label}: {where} has dtype {dtype}, but holomorphic=True requires complex inputs "
            f"(at {site}), as in JAX. Pass complex arrays (e.g. x.astype(complex)), or drop "
            "holomorphic=True to differentiate with respect to real inputs."
        )
    allow_int = (
        ", pass allow_int=True to get float0 gradients for integer inputs"
        if dtype.kind in "biu" and label.startswith(("grad(", "value_and_grad("))
        else ""
    )
    return TypeError(
        f"{label}: {where} has dtype {dtype}, but only floating-point inputs have gradients "
        f"(at {site}). Pass floats (e.g. x.astype(float) or 1.0 instead of 1){allow_int}, or "
        f"leave this argument out of argnums{_static_hint(path)}."
    )


class _Boxed:
    """The traced leaves of the differentiated arguments of one call."""

    __slots__ = ("treedefs", "tracers", "dtypes", "shapes")

    def __init__(self) -> None:
        self.treedefs: list[PyTreeDef] = []
        self.tracers: list[list[Tracer | None]] = []
        self.dtypes: list[list[np.dtype[Any]]] = []
        self.shapes: list[list[tuple[int, ...]]] = []


def _box_arguments(
    trace: Trace,
    args: tuple[Any, ...],
    argnums: tuple[int, ...],
    allow_int: bool = False,
    holomorphic: bool = False,
) -> tuple[list[Any], _Boxed]:
    """Wrap the leaves of ``args[argnums]`` as inputs of ``trace``.

    Floating-point and complex leaves are traced (only complex ones with ``holomorphic``).
    With ``allow_int``, integer and boolean leaves stay plain (no tracer: ``None`` in
    ``tracers``) and get ``float0`` gradients.
    """
    boxed = _Boxed()
    new_args = list(args)
    for argnum in argnums:
        leaves, treedef = tree_flatten(args[argnum])
        tracers: list[Tracer | None] = []
        dtypes = []
        shapes = []
        new_leaves: list[Any] = []
        for i, leaf in enumerate(leaves):
            if allow_int:
                found = _leaf_dtype(leaf)
                if found is not None and found.kind in "biu":
                    tracers.append(None)
                    dtypes.append(float0)
                    shapes.append(np.shape(peek(leaf)))
                    new_leaves.append(leaf)
                    continue
            if leaf.__class__ is np.ndarray:
                dtype = leaf.dtype
                shape = leaf.shape
            else:
                found = _leaf_dtype(leaf)
                if found is None or found.kind not in "fc":
                    raise _bad_leaf(args[argnum], argnum, i, found, trace.label())
                dtype = found
                if leaf.__class__ is not Tracer:
                    leaf = np.asarray(leaf, dtype=dtype)
                elif peek(leaf).__class__ is not np.ndarray:
                    leaf = AS_ARRAY(leaf)  # as eagerly: NumPy computes on scalars with other code
                shape = np.shape(peek(leaf))
            if dtype.kind != "f" and dtype.kind != "c" or (holomorphic and dtype.kind != "c"):
                raise _bad_leaf(args[argnum], argnum, i, dtype, trace.label(), holomorphic)
            tracer = trace.new_input(leaf)
            tracers.append(tracer)
            dtypes.append(dtype)
            shapes.append(shape)
            new_leaves.append(tracer)
        boxed.treedefs.append(treedef)
        boxed.tracers.append(tracers)
        boxed.dtypes.append(dtypes)
        boxed.shapes.append(shapes)
        new_args[argnum] = tree_unflatten(treedef, new_leaves)
    return new_args, boxed


def _unbox(x: Any, trace: Trace) -> Any:
    """``x`` with this trace's tracers replaced by their values."""
    if x.__class__ is Tracer and x._trace is trace:
        return x._value
    return x


def _unbox_tree(tree: Any, trace: Trace) -> Any:
    return tree_map(lambda x: _unbox(x, trace), tree)


def _finish(ct: Any, dtype: np.dtype[Any], shape: tuple[int, ...]) -> Any:
    """A cotangent as the gradient of a leaf: its shape, dtype, and an owned array."""
    if (
        ct.__class__ is np.ndarray
        and ct.dtype is dtype
        and ct.shape == shape
        and ct.flags.writeable
    ):
        return ct
    if ct is None:
        return np.zeros(shape, dtype=dtype)
    if ct.__class__ is Tracer:
        if ct.dtype != dtype:
            if ct.dtype.kind == "c" and dtype.kind != "c":
                ct = real_part(ct)
            ct = astype(ct, dtype)
        if ct.shape != shape:
            ct = reshape(ct, shape)
        if peek(ct).__class__ is not np.ndarray:
            ct = AS_ARRAY(ct)  # eagerly too a gradient is an array, never a NumPy scalar
        return ct
    if dtype.kind != "c" and np.iscomplexobj(ct):
        ct = np.real(ct)
    if ct.__class__ is not np.ndarray or ct.dtype != dtype or not ct.flags.writeable:
        ct = np.array(ct, dtype=dtype)
    if ct.shape != shape:
        ct = ct.reshape(shape)
    return ct


def _gradients(cts: list[Any], boxed: _Boxed) -> list[Any]:
    out = []
    for treedef, tracers, dtypes, shapes in zip(
        boxed.treedefs, boxed.tracers, boxed.dtypes, boxed.shapes
    ):
        leaves = [
            _finish(cts[t._idx] if t is not None and t._idx < len(cts) else None, d, s)
            for t, d, s in zip(tracers, dtypes, shapes)
        ]
        out.append(tree_unflatten(treedef, leaves))
    return out


def _scalar_output(out: Any, trace: Trace, holomorphic: bool = False) -> tuple[Any, int]:
    """The output's value and tape slot (-1 when it does not depend on the inputs)."""
    traced = out.__class__ is Tracer and out._trace is trace
    value = out._value if traced else out
    if traced and not holomorphic:
        kind = value.__class__
        if (
            kind is np.float64
            or kind is np.float32
            or (kind is np.ndarray and value.shape == () and value.dtype.kind == "f")
        ):
            return value, out._idx
    shape = np.shape(peek(value)) if not isinstance(value, (tuple, list, dict)) else None
    if shape != ():
        what = f"an array of shape {shape}" if shape is not None else f"a {type(value).__name__}"
        raise TypeError(
            f"{trace.label()}: the function must return a scalar, but it returned {what}. "
            "Reduce it to a scalar (e.g. fgrad.numpy.sum or mean), or use fgrad.vjp / "
            "fgrad.jacobian for non-scalar outputs."
        )
    dtype = _leaf_dtype(value)
    if holomorphic or (dtype is not None and dtype.kind == "c"):
        _check_output_kind(dtype, holomorphic, trace.label(), "", "vjp")
    elif dtype is None or dtype.kind != "f":
        raise TypeError(
            f"{trace.label()}: the function must return a real floating-point scalar, but it "
            f"returned dtype {dtype if dtype is not None else type(value).__name__}. "
            "Compute the result in floating point (e.g. multiply by 1.0 or use x.astype(float))."
        )
    return value, (out._idx if traced else -1)


def _check_output_kind(
    dtype: np.dtype[Any] | None, holomorphic: bool, label: str, where: str, other: str
) -> None:
    """JAX's rules for the output of a reverse-mode derivative: real, or complex if holomorphic.

    ``where`` names the output leaf (empty for a single output); ``other`` is the
    transform that handles what this one refuses (``"vjp"``).
    """
    what = f"dtype {dtype}" if dtype is not None else "a value that is not an array"
    leaf = f" leaf {where}" if where else ""
    if holomorphic and (dtype is None or dtype.kind != "c"):
        raise TypeError(
            f"{label}: with holomorphic=True the function must return complex values, but "
            f"its output{leaf} has {what}, as in JAX. Drop holomorphic=True for a real-valued "
            "function."
        )
    if not holomorphic and dtype is not None and dtype.kind == "c":
        raise TypeError(
            f"{label}: the function returned a complex value (output{leaf} of dtype {dtype}), "
            "but reverse-mode derivatives are taken of real-valued functions, as in JAX. For "
            "a holomorphic function pass holomorphic=True (the result is then the complex "
            "derivative f'(z)); for a real loss reduce the output to a real value (e.g. "
            f"fgrad.numpy.abs(out) ** 2 or fgrad.numpy.real(out)); for a non-holomorphic "
            f"function with complex outputs use fgrad.{other} directly."
        )


def _split_aux(out: Any, trace: Trace) -> tuple[Any, Any]:
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise TypeError(
            f"{trace.label()}: with has_aux=True the function must return a pair "
            f"(value, aux), but it returned a {type(out).__name__}. Return (value, aux), or "
            "drop has_aux."
        )
    return out[0], out[1]


def value_and_grad(
    fun: Callable[..., Any],
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
    allow_int: bool = False,
    holomorphic: bool = False,
) -> Callable[..., Any]:
    """Make a function that returns ``fun``'s value and its gradient.

    Parameters
    ----------
    fun : callable
        Returns a real scalar (or ``(scalar, aux)`` with ``has_aux``).
    argnums : int or tuple of ints
        Which positional arguments to differentiate. Each may be any pytree
        of floating-point arrays; its gradient has the same structure,
        shapes and dtypes.
    has_aux : bool
        ``fun`` returns ``(value, aux)``; ``aux`` is passed through untraced.
    allow_int : bool
        Accept integer and boolean leaves in the differentiated arguments (as
        JAX does). They are passed to ``fun`` untraced, and their gradient is
        ``numpy.zeros(shape, fgrad.float0)``: an array of the leaf's shape whose
        zero-byte dtype :data:`float0` says "no gradient" (an optimizer adding
        it to an array fails loudly instead of silently adding zeros).
    holomorphic : bool
        ``fun`` is holomorphic: its inputs and output must be complex, and the
        gradient is the complex derivative ``f'(z)`` (as in JAX). Without it the
        output must be real; a complex input ``z = x + iy`` then gets
        ``df/dx - i df/dy`` (JAX's convention, see ``docs/complex.md``).

    Returns
    -------
    callable
        ``(*args) -> (value, grads)`` or ``((value, aux), grads)``; ``grads``
        is a tuple when ``argnums`` is a tuple.

    Examples
    --------
    >>> def loss(params, x):
    ...     return fnp.sum((params["w"] * x + params["b"]) ** 2)
    >>> value, grads = fgrad.value_and_grad(loss)({"w": 2.0, "b": 1.0}, np.array([1.0, 2.0]))
    >>> float(value), float(grads["w"]), float(grads["b"])
    (34.0, 26.0, 16.0)
    >>> value, derivative = fgrad.value_and_grad(lambda z: z**3, holomorphic=True)(1j)
    >>> complex(value), derivative
    ((-0-1j), array(-3.+0.j))
    """
    return _value_and_grad(fun, argnums, has_aux, "value_and_grad", allow_int, holomorphic)


def _value_and_grad(
    fun: Callable[..., Any],
    argnums: int | Sequence[int],
    has_aux: bool,
    transform: str,
    allow_int: bool = False,
    holomorphic: bool = False,
) -> Callable[..., Any]:
    _check_callable(fun, transform)
    single = isinstance(argnums, (int, np.integer))

    def value_and_grad_fun(*args: Any, **kwargs: Any) -> Any:
        nums = _normalize_argnums(argnums, len(args), fun, transform)
        trace = new_trace(transform, fun)
        try:
            new_args, boxed = _box_arguments(trace, args, nums, allow_int, holomorphic)
            out = fun(*new_args, **kwargs)
            if has_aux:
                out, aux = _split_aux(out, trace)
            value, out_idx = _scalar_output(out, trace, holomorphic)
            if out_idx >= 0:
                seed = np.array(1, dtype=value_dtype(peek(value)))
                cts = backward_pass(trace.tape, [(out_idx, seed)], True, trace.sites)
            else:
                cts = []
            grads = _gradients(cts, boxed)
            result = value if not has_aux else (value, _unbox_tree(aux, trace))
        finally:
            close_trace(trace)
            trace.tape = []
        return result, (grads[0] if single else tuple(grads))

    functools.update_wrapper(value_and_grad_fun, fun)
    return value_and_grad_fun


def grad(
    fun: Callable[..., Any],
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
    allow_int: bool = False,
    holomorphic: bool = False,
) -> Callable[..., Any]:
    """Make a function that returns the gradient of scalar-valued ``fun``.

    Parameters are as for :func:`value_and_grad`. With ``has_aux`` the result
    is ``(grads, aux)``. With ``allow_int``, integer and boolean inputs get
    gradients of dtype :data:`float0` (zero bytes per element) and their shape.
    Complex inputs follow JAX's convention: for a real-valued ``fun`` of
    ``z = x + iy`` the gradient is ``df/dx - i df/dy`` (conjugate it for a
    descent direction); with ``holomorphic=True`` it is ``f'(z)``.

    Examples
    --------
    >>> fgrad.grad(lambda x: fnp.sum(fnp.tanh(x)))(np.array([0.0, 1.0]))
    array([1.        , 0.41997434])
    >>> fgrad.grad(fgrad.grad(fnp.sin))(0.5)  # -sin(0.5)
    array(-0.47942554)
    >>> dx, dn = fgrad.grad(lambda x, n: x * n, argnums=(0, 1), allow_int=True)(2.0, 3)
    >>> dx, dn.shape, dn.dtype == fgrad.float0
    (array(3.), (), True)
    >>> fgrad.grad(lambda z: fnp.abs(z) ** 2)(3 + 4j)
    array(6.-8.j)
    >>> fgrad.grad(lambda z: z**3, holomorphic=True)(1 + 1j)  # 3 z**2
    array(0.+6.j)
    """
    vg = _value_and_grad(fun, argnums, has_aux, "grad", allow_int, holomorphic)

    def grad_fun(*args: Any, **kwargs: Any) -> Any:
        value, grads = vg(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads

    functools.update_wrapper(grad_fun, fun)
    return grad_fun


def _output_slots(out: Any, trace: Trace) -> tuple[list[Any], PyTreeDef, list[int]]:
    leaves, treedef = tree_flatten(out)
    values = []
    slots = []
    for leaf in leaves:
        traced = leaf.__class__ is Tracer and leaf._trace is trace
        values.append(leaf._value if traced else leaf)
        slots.append(leaf._idx if traced else -1)
    return values, treedef, slots


def _cotangent_leaf(ct: Any, shape: tuple[int, ...], dtype: np.dtype[Any], where: str) -> Any:
    """A cotangent leaf as an array of the output leaf's shape and dtype."""
    if ct.__class__ is Tracer:
        got_shape = np.shape(peek(ct))
    else:
        try:
            value = np.asarray(ct)
        except Exception:
            value = np.asarray(ct, dtype=object)
        if value.dtype.kind not in "biufc" or (
            dtype.kind != "O" and not np.can_cast(value.dtype, dtype, "same_kind")
        ):
            kind = "an array" if dtype.kind == "c" else "a real array"
            raise TypeError(
                f"{where} has dtype {value.dtype}, but the output leaf has dtype {dtype}. "
                f"Pass {kind} (or Python number) of shape {shape}."
            )
        got_shape = value.shape
        ct = value.astype(dtype, copy=False) if dtype.kind in "fc" else value
    if got_shape != shape:
        raise ValueError(
            f"{where} has shape {got_shape}, but the output leaf has shape {shape}. "
            "Pass a cotangent shaped like the output (e.g. numpy.ones_like(out))."
        )
    return ct


_LEAF = tree_structure(0)


def vjp(fun: Callable[..., Any], *primals: Any, has_aux: bool = False) -> Any:
    """Evaluate ``fun(*primals)`` and return a function that pulls cotangents back.

    Parameters
    ----------
    fun : callable
        Any function of pytrees of float arrays returning a pytree of arrays.
    *primals
        The point of linearisation; every one is differentiated.
    has_aux : bool
        ``fun`` returns ``(out, aux)``; the result is then ``(out, vjp_fn, aux)``.

    Returns
    -------
    (out, vjp_fn)
        ``vjp_fn(cotangent)`` takes a cotangent shaped like ``out`` (arrays,
        or Python numbers for scalar outputs; converted to the output's
        dtype) and returns a tuple with one gradient per primal. It may be
        called many times.

    Examples
    --------
    >>> out, pullback = fgrad.vjp(lambda x: x * x, np.array([1.0, 2.0]))
    >>> pullback(np.array([1.0, 10.0]))
    (array([ 2., 40.]),)
    >>> fgrad.vjp(lambda x: x + 1.8, 0.7)[1](1.0)
    (array(1.),)

    Complex values follow JAX's convention (``docs/complex.md``): the pullback is the
    transpose of the derivative, without conjugation, so for ``z * z`` it multiplies
    the cotangent by ``2 z``:

    >>> fgrad.vjp(lambda z: z * z, 1 + 2j)[1](1j)
    (array(-4.+2.j),)
    """
    return _vjp(fun, primals, has_aux, "vjp", fun)


def _vjp(
    fun: Callable[..., Any],
    primals: Sequence[Any],
    has_aux: bool,
    transform: str,
    named: Any,
    holomorphic: bool = False,
) -> Any:
    """:func:`vjp`, with errors reported as ``transform(named)``.

    ``holomorphic`` requires complex inputs (``jacrev``'s check).
    """
    _check_callable(fun, transform)
    trace = new_trace(transform, named)
    label = trace.label()
    try:
        new_args, boxed = _box_arguments(
            trace, tuple(primals), tuple(range(len(primals))), holomorphic=holomorphic
        )
        out = fun(*new_args)
        if has_aux:
            out, aux = _split_aux(out, trace)
            aux = _unbox_tree(aux, trace)
        values, out_tree, slots = _output_slots(out, trace)
    finally:
        close_trace(trace)
    tape = trace.tape
    sites = trace.sites
    trace.tape = []
    out_shapes = [np.shape(peek(v)) for v in values]
    out_dtypes = [_leaf_dtype(v) or np.dtype(object) for v in values]

    out_is_leaf = out_tree == _LEAF

    def vjp_fn(cotangent: Any) -> tuple[Any, ...]:
        ct_paths: list[tuple[Any, Any]]
        if out_is_leaf:
            ct_paths, ct_tree = [((), cotangent)], out_tree
        else:
            ct_paths, ct_tree = tree_flatten_with_path(cotangent)
        if ct_tree != out_tree:
            raise ValueError(
                f"{label}: the cotangent passed to vjp_fn has structure {ct_tree}, but the "
                f"output has structure {out_tree}. Pass a cotangent with the output's structure."
            )
        seeds = []
        for (path, ct), slot, shape, dtype in zip(ct_paths, slots, out_shapes, out_dtypes):
            where = f"{label}: the cotangent{' leaf ' + keystr(path) if path else ''}"
            ct = _cotangent_leaf(ct, shape, dtype, where)
            if slot >= 0:
                seeds.append((slot, ct))
        cts = backward_pass(tape, seeds, False, sites) if seeds else []
        return tuple(_gradients(cts, boxed))

    out_value = tree_unflatten(out_tree, values)
    return (out_value, vjp_fn, aux) if has_aux else (out_value, vjp_fn)


def _linearized(
    fun: Callable[..., Any],
    primals: Sequence[Any],
    transform: str,
    named: Any,
    has_aux: bool = False,
) -> tuple[Any, Callable[[Sequence[Any]], Any], Any]:
    """``(out, push, aux)`` where ``push(tangents)`` is the JVP, via transposing the VJP.

    ``fun`` runs once; ``push`` sweeps the recorded transposed pullback, never ``fun``.
    ``aux`` is ``None`` without ``has_aux``.
    """
    if has_aux:
        out, pullback, aux = _vjp(fun, primals, True, transform, named)
    else:
        out, pullback = _vjp(fun, primals, False, transform, named)
        aux = None
    zero_cotangent = tree_map(lambda v: np.zeros(np.shape(peek(v)), value_dtype(peek(v))), out)
    _, push_back_of_pullback = _vjp(pullback, (zero_cotangent,), False, transform, named)

    def push(tangents: Sequence[Any]) -> Any:
        return push_back_of_pullback(tuple(tangents))[0]

    return out, push, aux


def _check_tangents(label: str, primals: tuple[Any, ...], tangents: tuple[Any, ...]) -> None:
    """Refuse tangents whose count, structure or leaf shapes differ from the primals'."""
    if len(primals) != len(tangents):
        raise ValueError(
            f"{label}: {len(primals)} primals but {len(tangents)} tangents. "
            "Pass one tangent per primal."
        )
    for i, (p, t) in enumerate(zip(primals, tangents)):
        if tree_structure(p) != tree_structure(t):
            try:
                tree_map(lambda *_: None, p, t)
            except ValueError as e:
                raise ValueError(f"{label}: tangent {i} does not match primal {i}: {e}") from None
            raise ValueError(
                f"{label}: tangent {i} has structure {tree_structure(t)}, "
                f"primal {i} has {tree_structure(p)}"
            )
        for (path, pl), tl in zip(tree_flatten_with_path(p)[0], tree_flatten(t)[0]):
            if np.shape(peek(pl)) != np.shape(peek(tl)):
                raise ValueError(
                    f"{label}: tangent {i}{keystr(path)} has shape {np.shape(peek(tl))}, "
                    f"but the primal has shape {np.shape(peek(pl))}. Tangents must match the "
                    "primals' shapes."
                )
            tangent_dtype, primal_dtype = _leaf_dtype(tl), _leaf_dtype(pl)
            if (
                tangent_dtype is not None
                and tangent_dtype.kind == "c"
                and (primal_dtype is None or primal_dtype.kind != "c")
            ):
                raise TypeError(
                    f"{label}: tangent {i}{keystr(path)} has dtype {tangent_dtype}, but the "
                    f"primal has dtype {primal_dtype}: a real input moves along real "
                    "directions only. Pass a real tangent, or make the primal complex."
                )


def jvp(
    fun: Callable[..., Any],
    primals: Sequence[Any],
    tangents: Sequence[Any],
    has_aux: bool = False,
) -> Any:
    """Forward-mode derivative: ``(fun(*primals), J @ tangents)``.

    Parameters
    ----------
    fun : callable
    primals, tangents : sequences of pytrees
        The point and the direction; ``tangents[i]`` matches ``primals[i]``
        in structure, shapes and dtypes.
    has_aux : bool
        ``fun`` returns ``(out, aux)``; the result is then
        ``(out, tangent_out, aux)``, with ``aux`` untraced.

    Examples
    --------
    >>> fgrad.jvp(fnp.sin, (np.array([0.0, 1.0]),), (np.array([1.0, 2.0]),))
    (array([0.        , 0.84147098]), array([1.        , 1.08060461]))
    >>> out, tangent, aux = fgrad.jvp(lambda x: (x * x, "note"), (3.0,), (1.0,), has_aux=True)
    >>> tangent, aux
    (array(6.), 'note')

    Complex primals take complex tangents; the result is the R-linear derivative
    applied to them (``conj`` is not holomorphic, so ``i`` maps to ``-i``):

    >>> fgrad.jvp(fnp.conj, (1 + 2j,), (1j,))[1]
    array(0.-1.j)
    """
    return _jvp(fun, primals, tangents, "jvp", fun, has_aux)


def _jvp(
    fun: Callable[..., Any],
    primals: Sequence[Any],
    tangents: Sequence[Any],
    transform: str,
    named: Any,
    has_aux: bool = False,
) -> Any:
    _check_callable(fun, transform)
    primals = tuple(primals)
    tangents = tuple(tangents)
    _check_tangents(_label(transform, named), primals, tangents)
    out, push, aux = _linearized(fun, primals, transform, named, has_aux)
    return (out, push(tangents), aux) if has_aux else (out, push(tangents))


def linearize(fun: Callable[..., Any], *primals: Any, has_aux: bool = False) -> Any:
    """Evaluate ``fun(*primals)`` once and return its JVP at that point as a function.

    ``f_jvp(*tangents)`` is ``J @ tangents`` for the Jacobian ``J`` of ``fun``
    at ``primals``. ``fun`` is not run again: the forward pass is recorded
    once, its reverse sweep is recorded once on a zero cotangent, and each
    call of ``f_jvp`` sweeps that second recording backwards (forward mode is
    the transposed reverse mode, as in :func:`jvp`). ``f_jvp`` is linear and
    may be called any number of times; it holds the recordings until it is
    dropped.

    Parameters
    ----------
    fun : callable
        A function of pytrees of float arrays returning a pytree of arrays.
    *primals
        The point of linearisation.
    has_aux : bool
        ``fun`` returns ``(out, aux)``; the result is then ``(out, f_jvp, aux)``.

    Returns
    -------
    (out, f_jvp)
        ``f_jvp(*tangents)`` takes one tangent per primal (same structure and
        shapes) and returns a tangent shaped like ``out``.

    Examples
    --------
    >>> out, f_jvp = fgrad.linearize(fnp.sin, np.array([0.0, 1.0]))
    >>> f_jvp(np.array([1.0, 2.0]))
    array([1.        , 1.08060461])
    >>> f_jvp(np.array([0.0, 1.0]))
    array([0.        , 0.54030231])
    """
    _check_callable(fun, "linearize")
    primals_tuple = tuple(primals)
    out, push, aux = _linearized(fun, primals_tuple, "linearize", fun, has_aux)
    label = _label("linearize", fun)

    def f_jvp(*tangents: Any) -> Any:
        _check_tangents(f"{label}'s f_jvp", primals_tuple, tangents)
        return push(tangents)

    return (out, f_jvp, aux) if has_aux else (out, f_jvp)


def _unit_vectors(leaves: Sequence[Any]) -> Any:
    """Yield ``(leaf index, flat position, basis pytree leaves)`` for every input element."""
    shapes = [np.shape(peek(v)) for v in leaves]
    dtypes = [value_dtype(peek(v)) for v in leaves]
    for i, shape in enumerate(shapes):
        for pos in range(int(np.prod(shape, dtype=np.int64))):
            basis = [np.zeros(s, d) for s, d in zip(shapes, dtypes)]
            basis[i].reshape(-1)[pos] = 1
            yield i, basis


def _stack_columns(
    columns: list[Any], lead_shape: tuple[int, ...], tail_shape: tuple[int, ...], axis_first: bool
) -> Any:
    shape = lead_shape + tail_shape if axis_first else tail_shape + lead_shape
    if not columns:
        return np.zeros(shape)
    return reshape(stack(columns, axis=0 if axis_first else -1), shape)


def _diff_args(
    fun: Callable[..., Any], args: tuple[Any, ...], nums: tuple[int, ...]
) -> Callable[..., Any]:
    def partial_fun(*diff: Any) -> Any:
        full = list(args)
        for n, d in zip(nums, diff):
            full[n] = d
        return fun(*full)

    functools.update_wrapper(partial_fun, fun)
    return partial_fun


def jacobian(
    fun: Callable[..., Any],
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
    holomorphic: bool = False,
) -> Callable[..., Any]:
    """Jacobian by reverse mode: one VJP per output element.

    The result for an output of shape ``S_out`` and an input leaf of shape
    ``S_in`` has shape ``S_out + S_in``; for pytrees, the output structure
    holds the input structure (as in JAX). ``argnums`` as in :func:`grad`.
    With ``has_aux``, ``fun`` returns ``(out, aux)`` and the result is
    ``(jacobian, aux)``. As ``jax.jacrev``: outputs must be real (complex
    inputs then get rows ``df/dx - i df/dy``), unless ``holomorphic=True``,
    which requires complex inputs and outputs and gives ``df_i/dz_j``.

    Examples
    --------
    >>> fgrad.jacobian(lambda x: x ** 2)(np.array([1.0, 3.0]))
    array([[2., 0.],
           [0., 6.]])
    >>> fgrad.jacrev(lambda x: (x ** 2, "squares"), has_aux=True)(np.array([1.0, 3.0]))[1]
    'squares'
    >>> fgrad.jacobian(lambda z: z ** 2, holomorphic=True)(np.array([1j, 2.0 + 0j]))
    array([[0.+2.j, 0.+0.j],
           [0.+0.j, 4.+0.j]])
    """
    return _jacobian(fun, argnums, "jacobian", has_aux, holomorphic)


def _check_input_kinds(
    diff: Sequence[Any], nums: tuple[int, ...], label: str, holomorphic: bool
) -> None:
    """``jacfwd``'s inputs as in JAX: real, or complex with ``holomorphic``."""
    for argnum, arg in zip(nums, diff):
        for index, (path, leaf) in enumerate(tree_flatten_with_path(arg)[0]):
            dtype = _leaf_dtype(leaf)
            if dtype is None:
                continue
            if holomorphic and dtype.kind == "f":
                raise _bad_leaf(arg, argnum, index, dtype, label, holomorphic)
            if not holomorphic and dtype.kind == "c":
                raise TypeError(
                    f"{label}: argument {argnum}{keystr(path)} has dtype {dtype}, but "
                    f"forward-mode Jacobians take real inputs (at {user_site()}), as in JAX: "
                    "a complex input moves in two real directions. Pass holomorphic=True for "
                    "a holomorphic function (the result is then f'(z)), use fgrad.jacrev for "
                    "a real-valued function, or fgrad.jvp with complex tangents."
                )


def _check_output_kinds(out: Any, label: str, holomorphic: bool, forward: bool) -> None:
    """A Jacobian's outputs as in JAX: complex with ``holomorphic``; real for reverse mode."""
    for path, leaf in tree_flatten_with_path(out)[0]:
        dtype = _leaf_dtype(leaf)
        if holomorphic or not forward:
            _check_output_kind(dtype, holomorphic, label, keystr(path), "vjp")


def _jacobian(
    fun: Callable[..., Any],
    argnums: int | Sequence[int],
    transform: str,
    has_aux: bool = False,
    holomorphic: bool = False,
) -> Callable[..., Any]:
    _check_callable(fun, transform)
    single = isinstance(argnums, (int, np.integer))

    def jacobian_fun(*args: Any) -> Any:
        nums = _normalize_argnums(argnums, len(args), fun, transform)
        diff = [args[n] for n in nums]
        partial_fun = _diff_args(fun, args, nums)
        if has_aux:
            out, pullback, aux = _vjp(partial_fun, diff, True, transform, fun, holomorphic)
        else:
            out, pullback = _vjp(partial_fun, diff, False, transform, fun, holomorphic)
        _check_output_kinds(out, _label(transform, fun), holomorphic, forward=False)
        out_leaves, out_tree = tree_flatten(out)
        in_flat = [tree_flatten(d) for d in diff]
        rows: dict[tuple[int, int, int], list[Any]] = {}
        for o, basis in _unit_vectors(out_leaves):
            grads = pullback(tree_unflatten(out_tree, basis))
            for a, g in enumerate(grads):
                for k, leaf in enumerate(tree_flatten(g)[0]):
                    rows.setdefault((o, a, k), []).append(leaf)
        per_out = []
        for o, out_leaf in enumerate(out_leaves):
            out_shape = np.shape(peek(out_leaf))
            per_arg = []
            for a, (leaves, treedef) in enumerate(in_flat):
                blocks = [
                    _stack_columns(rows.get((o, a, k), []), out_shape, np.shape(peek(leaf)), True)
                    for k, leaf in enumerate(leaves)
                ]
                per_arg.append(tree_unflatten(treedef, blocks))
            per_out.append(per_arg[0] if single else tuple(per_arg))
        jac = tree_unflatten(out_tree, per_out)
        return (jac, aux) if has_aux else jac

    functools.update_wrapper(jacobian_fun, fun)
    return jacobian_fun


jacrev = jacobian


def jacfwd(
    fun: Callable[..., Any],
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
    holomorphic: bool = False,
) -> Callable[..., Any]:
    """Jacobian by forward mode: one JVP per input element.

    Same layout as :func:`jacobian`; cheaper when inputs are fewer than outputs.
    With ``has_aux``, ``fun`` returns ``(out, aux)`` and the result is
    ``(jacobian, aux)``. As ``jax.jacfwd``: inputs must be real (outputs may
    be complex), unless ``holomorphic=True``, which requires complex inputs
    and outputs and gives ``df_i/dz_j``.

    Examples
    --------
    >>> fgrad.jacfwd(lambda x: fnp.stack([x[0] * x[1], fnp.sin(x[0])]))(np.array([0.0, 2.0]))
    array([[2., 0.],
           [1., 0.]])
    >>> jac, aux = fgrad.jacfwd(lambda x: (3.0 * x, {"n": 2}), has_aux=True)(np.ones(2))
    >>> jac[0], aux
    (array([3., 0.]), {'n': 2})
    >>> fgrad.jacfwd(fnp.exp, holomorphic=True)(np.array(1j))
    array(0.54030231+0.84147098j)
    """
    return _jacfwd(fun, argnums, "jacfwd", has_aux, holomorphic)


def _jacfwd(
    fun: Callable[..., Any],
    argnums: int | Sequence[int],
    transform: str,
    has_aux: bool = False,
    holomorphic: bool = False,
) -> Callable[..., Any]:
    _check_callable(fun, transform)
    single = isinstance(argnums, (int, np.integer))

    def jacfwd_fun(*args: Any) -> Any:
        nums = _normalize_argnums(argnums, len(args), fun, transform)
        diff = [args[n] for n in nums]
        _check_input_kinds(diff, nums, _label(transform, fun), holomorphic)
        out, push, aux = _linearized(_diff_args(fun, args, nums), diff, transform, fun, has_aux)
        _check_output_kinds(out, _label(transform, fun), holomorphic, forward=True)
        out_leaves, out_tree = tree_flatten(out)
        in_flat = [tree_flatten(d) for d in diff]
        all_in_leaves = [leaf for leaves, _ in in_flat for leaf in leaves]
        owner = [(a, k) for a, (leaves, _) in enumerate(in_flat) for k in range(len(leaves))]
        columns: dict[tuple[int, int, int], list[Any]] = {}
        for i, basis in _unit_vectors(all_in_leaves):
            tangents = []
            start = 0
            for leaves, treedef in in_flat:
                tangents.append(tree_unflatten(treedef, basis[start : start + len(leaves)]))
                start += len(leaves)
            out_tangent = tree_flatten(push(tangents))[0]
            a, k = owner[i]
            for o, col in enumerate(out_tangent):
                columns.setdefault((o, a, k), []).append(col)
        per_out = []
        for o, out_leaf in enumerate(out_leaves):
            out_shape = np.shape(peek(out_leaf))
            per_arg = []
            for a, (leaves, treedef) in enumerate(in_flat):
                blocks = [
                    _stack_columns(
                        columns.get((o, a, k), []), np.shape(peek(leaf)), out_shape, False
                    )
                    for k, leaf in enumerate(leaves)
                ]
                per_arg.append(tree_unflatten(treedef, blocks))
            per_out.append(per_arg[0] if single else tuple(per_arg))
        jac = tree_unflatten(out_tree, per_out)
        return (jac, aux) if has_aux else jac

    functools.update_wrapper(jacfwd_fun, fun)
    return jacfwd_fun


def hessian(
    fun: Callable[..., Any],
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
    holomorphic: bool = False,
) -> Callable[..., Any]:
    """Hessian of scalar-valued ``fun``: ``jacfwd(jacobian(fun))``.

    For an input of shape ``S`` the result has shape ``S + S``. With
    ``has_aux``, ``fun`` returns ``(value, aux)`` and the result is
    ``(hessian, aux)``. With ``holomorphic=True`` (complex inputs and output)
    it is the matrix of complex second derivatives, as ``jax.hessian``.

    Examples
    --------
    >>> fgrad.hessian(lambda x: x[0] ** 2 * x[1])(np.array([1.0, 3.0]))
    array([[6., 2.],
           [2., 0.]])
    >>> fgrad.hessian(lambda x: (x ** 3, "aux"), has_aux=True)(2.0)
    (array(12.), 'aux')
    >>> fgrad.hessian(lambda z: z ** 3, holomorphic=True)(1j)  # 6 z
    array(0.+6.j)
    """
    inner = _jacobian(fun, argnums, "hessian", has_aux, holomorphic)
    return _jacfwd(inner, argnums, "hessian", has_aux, holomorphic)


def stop_gradient(x: Any) -> Any:
    """``x`` (any pytree) with every tracer replaced by its plain value.

    No gradient flows through the result, at any level of differentiation.

    Examples
    --------
    >>> fgrad.grad(lambda x: x * fgrad.stop_gradient(x))(3.0)
    array(3.)
    """
    return tree_map(detach, x)


def _differentiating(leaf: Any) -> Trace | None:
    """The first trace that differentiates ``leaf`` (not ``jit`` or ``vmap``), if any."""
    while leaf.__class__ is Tracer:
        if not leaf._trace.replays:
            return leaf._trace
        leaf = leaf._value
    return None


def _static_positions(positions: int | Sequence[int], transform: str, fun: Any) -> tuple[int, ...]:
    label = _label(transform, fun)
    nums = (positions,) if isinstance(positions, (int, np.integer)) else tuple(positions)
    for n in nums:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise TypeError(
                f"{label}: nondiff_argnums must be non-negative ints, got {positions!r}. "
                "Pass positions of positional arguments, e.g. nondiff_argnums=(0,)."
            )
    if len(set(nums)) != len(nums):
        raise ValueError(
            f"{label}: nondiff_argnums={positions!r} names the same argument twice. "
            "List each argument once."
        )
    return tuple(sorted(int(n) for n in nums))


def _check_nondiff(args: tuple[Any, ...], nondiff: tuple[int, ...], label: str) -> None:
    """Refuse a ``nondiff_argnums`` argument that is missing or differentiated."""
    if nondiff and nondiff[-1] >= len(args):
        raise TypeError(
            f"{label}: nondiff_argnums={nondiff!r} names argument {nondiff[-1]}, but the "
            f"function was called with {len(args)} positional argument"
            f"{'s' if len(args) != 1 else ''} (at {user_site()}). Pass every argument "
            "positionally, or fix nondiff_argnums."
        )
    for i in nondiff:
        for path, leaf in tree_flatten_with_path(args[i])[0]:
            trace = _differentiating(leaf)
            if trace is not None:
                raise TypeError(
                    f"{label}: argument {i}{keystr(path)} is in nondiff_argnums, but it is "
                    f"traced by {trace.label()} (at {user_site()}), whose gradient through it "
                    "would be lost. Pass it as a differentiable argument instead (a custom "
                    "rule may give it a None cotangent), or pass a plain value "
                    "(fgrad.stop_gradient)."
                )


class _Layout:
    """The structure, shapes and dtypes of a custom primitive's output.

    A primitive returns one array, so a pytree output travels packed: its leaves raveled,
    cast to their common dtype and concatenated; :func:`_unpack` rebuilds the pytree from
    the packed array (or from a cotangent of it) with differentiable operations. A single
    array output travels as is.
    """

    __slots__ = ("treedef", "shapes", "dtypes", "packed_dtype", "packed")

    def __init__(
        self, treedef: PyTreeDef, shapes: list[tuple[int, ...]], dtypes: list[np.dtype[Any]]
    ) -> None:
        self.treedef = treedef
        self.shapes = shapes
        self.dtypes = dtypes
        self.packed = treedef != _LEAF
        self.packed_dtype = np.result_type(*dtypes) if self.packed else None


def _pack(out: Any, label: str, what: str) -> tuple[Any, _Layout]:
    """``out`` as one array for a primitive to return, and how to unpack it."""
    paths_leaves, treedef = tree_flatten_with_path(out)
    if not paths_leaves:
        raise _located(
            TypeError(
                f"{label}: {what} returned {out!r:.60}, which holds no array (at "
                f"{user_site()}). Return at least one floating-point array."
            )
        )
    shapes = []
    dtypes = []
    for path, leaf in paths_leaves:
        dtype = _leaf_dtype(leaf)
        if treedef != _LEAF and (dtype is None or dtype.kind != "f"):
            what_leaf = f"dtype {dtype}" if dtype is not None else type(leaf).__name__
            raise _located(
                TypeError(
                    f"{label}: {what} returned an output pytree whose leaf {keystr(path)} is "
                    f"{what_leaf} (at {user_site()}); every output leaf of a custom rule must "
                    "be a floating-point array. Compute integer or non-array results in a "
                    "separate function."
                )
            )
        shapes.append(np.shape(peek(leaf)))
        dtypes.append(dtype if dtype is not None else np.dtype(object))
    layout = _Layout(treedef, shapes, dtypes)
    if not layout.packed:
        return out, layout
    pieces = [reshape(astype(leaf, layout.packed_dtype), (-1,)) for _, leaf in paths_leaves]
    return concatenate(pieces), layout


def _unpack(flat: Any, layout: _Layout) -> Any:
    """The output pytree (or its cotangent) from the packed array ``flat``."""
    if not layout.packed:
        return flat
    pieces = []
    start = 0
    for shape, dtype in zip(layout.shapes, layout.dtypes):
        size = int(np.prod(shape, dtype=np.int64))
        piece = reshape(flat[start : start + size], shape)
        if dtype != layout.packed_dtype:
            piece = astype(piece, dtype)
        pieces.append(piece)
        start += size
    return tree_unflatten(layout.treedef, pieces)


class _CustomRule(Primitive):
    """A ``custom_vjp`` primitive: recorded by the innermost trace only.

    On tracers of enclosing traces it runs ``fwd`` on them instead of recording itself,
    so the enclosing transforms differentiate through ``fwd`` and ``bwd`` (and the
    residuals stay traced for them), which is what makes higher orders right.
    """

    __slots__ = ()

    def __call__(self, *args: Any, **params: Any) -> Any:
        return self.impl(*args, **params)


class custom_vjp:  # noqa: N801
    """Give a function a hand-written VJP, as a new primitive.

    Decorate ``fun``, then call ``fun.defvjp(fwd, bwd)``: ``fwd(*args)``
    returns ``(out, residuals)`` and ``bwd(*nondiff_args, residuals, g)``
    returns a tuple with one cotangent per differentiable positional argument
    (a pytree like the argument, or ``None`` for no gradient). ``out`` is an
    array or a pytree of floating-point arrays; ``g`` has its structure. The
    rule is used for the outermost differentiation; ``bwd`` (and ``fwd``, for
    enclosing transforms) should be written with ``fgrad.numpy`` so that
    higher-order derivatives flow through them.

    Parameters
    ----------
    fun : callable
        The function, called as is when nothing is traced.
    nondiff_argnums : int or sequence of ints
        Positions of arguments that are not differentiated (as in JAX): ``fwd``
        receives them in place, ``bwd`` first, and returns no cotangent for
        them. They must not be traced by a differentiating transform (a
        ``TypeError`` says so); ``jit``'s tracers are fine.

    Examples
    --------
    >>> @fgrad.custom_vjp
    ... def clipped_identity(x):
    ...     return x
    >>> def fwd(x):
    ...     return x, None
    >>> def bwd(res, g):
    ...     return (fnp.clip(g, -1.0, 1.0),)
    >>> clipped_identity.defvjp(fwd, bwd)
    >>> fgrad.grad(lambda x: 5.0 * clipped_identity(x))(2.0)
    array(1.)

    With a static argument and a pytree output:

    >>> import functools
    >>> @functools.partial(fgrad.custom_vjp, nondiff_argnums=(0,))
    ... def scale_both(k, x):
    ...     return {"a": k * x, "b": x}
    >>> scale_both.defvjp(lambda k, x: (scale_both(k, x), None),
    ...                   lambda k, res, g: (k * g["a"] + g["b"],))
    >>> fgrad.grad(lambda x: fnp.sum(scale_both(3.0, x)["a"]))(np.ones(2))
    array([3., 3.])
    """

    def __init__(self, fun: Callable[..., Any], nondiff_argnums: int | Sequence[int] = ()) -> None:
        _check_callable(fun, "custom_vjp")
        self.fun = fun
        self.nondiff_argnums = _static_positions(nondiff_argnums, "custom_vjp", fun)
        self.fwd: Callable[..., Any] | None = None
        self.bwd: Callable[..., Any] | None = None
        self._prim = _CustomRule(f"custom_vjp({_fun_name(fun)})", self._run, vjp_joint=self._vjp)
        functools.update_wrapper(self, fun)

    def defvjp(self, fwd: Callable[..., Any], bwd: Callable[..., Any]) -> None:
        """Set the forward function (returning residuals) and the backward rule."""
        self.fwd = fwd
        self.bwd = bwd

    def __call__(self, *args: Any) -> Any:
        label = f"custom_vjp({_fun_name(self.fun)})"
        if self.fwd is None:
            raise TypeError(
                f"{label}: the function has no VJP yet. Call "
                f"{_fun_name(self.fun)}.defvjp(fwd, bwd) before using it."
            )
        leaves, treedef = tree_flatten(args)
        if not any(leaf.__class__ is Tracer for leaf in leaves):
            return self.fun(*args)
        _check_nondiff(args, self.nondiff_argnums, label)
        params: dict[str, Any] = {
            "treedef": treedef,
            "nargs": len(args),
            "residuals": Residuals(),
            "layout": Residuals(),
        }
        return _unpack(bindn(self._prim, leaves, params), params["layout"].value)

    def _run(
        self,
        *leaves: Any,
        treedef: PyTreeDef,
        nargs: int,
        residuals: Residuals,
        layout: Residuals,
    ) -> Any:
        label = f"custom_vjp({_fun_name(self.fun)})"
        result = cast(Callable[..., Any], self.fwd)(*tree_unflatten(treedef, list(leaves)))
        if not (isinstance(result, tuple) and len(result) == 2):
            raise _located(
                TypeError(
                    f"{label}: fwd must return a pair "
                    f"(out, residuals), but it returned a {type(result).__name__} "
                    f"(at {user_site()}). Return (out, residuals) from fwd."
                )
            )
        out, res = result
        packed, out_layout = _pack(out, label, "fwd")
        residuals.store(res)
        layout.store(out_layout)
        return packed

    def _vjp(
        self,
        g: Any,
        ans: Any,
        leaves: tuple[Any, ...],
        params: dict[str, Any],
        argnums: Sequence[int],
    ) -> list[Any]:
        treedef: PyTreeDef = params["treedef"]
        nargs: int = params["nargs"]
        label = f"custom_vjp({_fun_name(self.fun)})"
        args = tree_unflatten(treedef, list(leaves))
        nondiff = self.nondiff_argnums
        static = [args[i] for i in nondiff]
        g_tree = _unpack(g, params["layout"].value)
        cts = cast(Callable[..., Any], self.bwd)(*static, params["residuals"].value, g_tree)
        expected = nargs - len(nondiff)
        if not isinstance(cts, tuple) or len(cts) != expected:
            which = (
                f"differentiable positional argument ({expected}; the {len(nondiff)} in "
                "nondiff_argnums get none)"
                if nondiff
                else f"positional argument ({nargs})"
            )
            raise TypeError(
                f"{label}: bwd must return a tuple with one cotangent per {which}, but it "
                f"returned {cts!r:.80}. Return a tuple, e.g. (g * 2.0,) for one argument."
            )
        diff_cts = iter(cts)
        flat: list[Any] = []
        for i, arg in enumerate(args):
            arg_leaves = tree_flatten(arg)[0]
            ct = None if i in nondiff else next(diff_cts)
            if ct is None:
                flat.extend([None] * len(arg_leaves))
                continue
            ct_leaves, ct_tree = tree_flatten(ct)
            if ct_tree != tree_structure(arg):
                raise TypeError(
                    f"{label}: bwd returned a cotangent for "
                    f"argument {i} with structure {ct_tree}, but the argument has "
                    f"{tree_structure(arg)}. Return cotangents shaped like the arguments."
                )
            flat.extend(ct_leaves)
        return [flat[k] for k in argnums]
