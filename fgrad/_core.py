"""The tracing core: traces, tracers, primitives and the reverse sweep.

A *trace* is opened by each transform call (``grad``, ``vjp``, ...). While the
user's function runs, every differentiable argument is wrapped in a
:class:`Tracer` that points at one slot of the trace's *tape*. Calling a
primitive on a tracer evaluates the primitive on the wrapped value and appends
one tape entry ``(primitive, parent slots, argument numbers, argument values,
params, result)``. The tape is therefore in execution order, and the reverse
sweep (:func:`backward_pass`) is a single loop over it from the end.

Traces nest: a transform opened inside another gets a higher ``level``. A
primitive always records on the highest-level trace among its arguments and
evaluates itself on the unwrapped values, which may themselves be tracers of
lower levels; VJP rules are written with differentiable operations, so the
reverse sweep of an inner trace records onto the outer traces. That is all
higher-order differentiation needs, and it keeps perturbations of different
levels apart.

Nothing here knows any particular primitive: rules live in ``fgrad._rules``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from fgrad import config as _config

__all__ = [
    "Primitive",
    "Trace",
    "Tracer",
    "UnexpectedTracerError",
    "backward_pass",
    "bind1",
    "bind2",
    "bindn",
    "close_trace",
    "concrete",
    "detach",
    "peek",
    "new_trace",
]

NO_PARAMS: dict[str, Any] = {}


class UnexpectedTracerError(TypeError):
    """A tracer was used after the transform that created it returned."""


class _TraceDepth(threading.local):
    depth = 0


_depth = _TraceDepth()


class Trace:
    """One transform's recording: its nesting level and its tape."""

    __slots__ = ("level", "tape", "live", "transform", "fun", "on_read")

    def __init__(self, level: int, transform: str, fun: Any) -> None:
        self.level = level
        self.tape: list[Any] = []
        self.live = True
        self.transform = transform
        self.fun = fun
        self.on_read: Callable[[Tracer], None] | None = None

    def describe(self) -> str:
        fun = self.fun
        name = getattr(fun, "__qualname__", None) or repr(fun)
        code = getattr(fun, "__code__", None)
        where = f" defined at {code.co_filename}:{code.co_firstlineno}" if code else ""
        return f"{self.transform}({name}){where}"

    def new_input(self, value: Any) -> Tracer:
        """Wrap ``value`` as a fresh independent variable of this trace."""
        idx = len(self.tape)
        self.tape.append(None)
        return Tracer(value, self, idx)


def new_trace(transform: str, fun: Any) -> Trace:
    """Open a trace one level above the innermost live one in this thread."""
    _depth.depth += 1
    return Trace(_depth.depth, transform, fun)


def close_trace(trace: Trace) -> None:
    """Mark ``trace`` finished: its tracers may no longer enter primitives."""
    trace.live = False
    _depth.depth -= 1


class Tracer:
    """Stands in for an array while a transform records the computation.

    Holds the value (an array, or a tracer of an enclosing transform), the
    trace it belongs to, and its slot on that trace's tape. Operators, NumPy
    methods and the NumPy dispatch protocols are attached by ``fgrad._rules``.
    """

    __slots__ = ("_value", "_trace", "_idx")
    __array_priority__ = 1000.0

    def __init__(self, value: Any, trace: Trace, idx: int) -> None:
        self._value = value
        self._trace = trace
        self._idx = idx

    @property
    def shape(self) -> tuple[int, ...]:
        value = peek(self)
        return value.shape if value.__class__ is np.ndarray else np.shape(value)

    @property
    def ndim(self) -> int:
        value = peek(self)
        return value.ndim if value.__class__ is np.ndarray else np.ndim(value)

    @property
    def size(self) -> int:
        return int(np.size(peek(self)))

    @property
    def dtype(self) -> np.dtype[Any]:
        return np.result_type(peek(self))

    def __len__(self) -> int:
        shape = self.shape
        if not shape:
            raise TypeError("len() of a 0-d traced array")
        return shape[0]

    def __bool__(self) -> bool:
        return bool(concrete(self))

    def __float__(self) -> float:
        return float(concrete(self))

    def __int__(self) -> int:
        return int(concrete(self))

    def __index__(self) -> int:
        return int(np.asarray(concrete(self)).__index__())

    def __complex__(self) -> complex:
        return complex(concrete(self))

    def __format__(self, spec: str) -> str:
        return format(concrete(self), spec)

    def __repr__(self) -> str:
        return f"Tracer<{self._trace.transform}, level {self._trace.level}>({concrete(self)!r})"

    def __hash__(self) -> int:
        return id(self)

    if TYPE_CHECKING:  # attached at import time by fgrad._rules.tracer_methods

        def __add__(self, other: Any) -> Any: ...

        def __radd__(self, other: Any) -> Any: ...

        def __sub__(self, other: Any) -> Any: ...

        def __rsub__(self, other: Any) -> Any: ...

        def __mul__(self, other: Any) -> Any: ...

        def __rmul__(self, other: Any) -> Any: ...

        def __truediv__(self, other: Any) -> Any: ...

        def __rtruediv__(self, other: Any) -> Any: ...

        def __pow__(self, other: Any) -> Any: ...

        def __rpow__(self, other: Any) -> Any: ...

        def __mod__(self, other: Any) -> Any: ...

        def __rmod__(self, other: Any) -> Any: ...

        def __floordiv__(self, other: Any) -> Any: ...

        def __rfloordiv__(self, other: Any) -> Any: ...

        def __matmul__(self, other: Any) -> Any: ...

        def __rmatmul__(self, other: Any) -> Any: ...

        def __lt__(self, other: Any) -> Any: ...

        def __le__(self, other: Any) -> Any: ...

        def __gt__(self, other: Any) -> Any: ...

        def __ge__(self, other: Any) -> Any: ...

        def __getitem__(self, other: Any) -> Any: ...

        def __neg__(self) -> Any: ...

        def __pos__(self) -> Any: ...

        def __abs__(self) -> Any: ...

        def __eq__(self, other: object) -> Any: ...

        def __ne__(self, other: object) -> Any: ...

        def __setitem__(self, index: Any, value: Any) -> None: ...

        def __iter__(self) -> Iterator[Any]: ...

        @property
        def T(self) -> Any: ...

        @property
        def mT(self) -> Any: ...

        def __getattr__(self, name: str) -> Any: ...


def concrete(x: Any) -> Any:
    """The plain value under any number of tracer levels: a *value read*.

    A trace that replays its recording (``fgrad.jit``) is told of every value
    read, because Python code may branch on it; reading only shapes or dtypes
    should use :func:`peek` instead.
    """
    while x.__class__ is Tracer:
        trace = x._trace
        if trace.on_read is not None:
            trace.on_read(x)
        x = x._value
    return x


def peek(x: Any) -> Any:
    """The plain value under all tracer levels, for reading its shape or dtype only."""
    while x.__class__ is Tracer:
        x = x._value
    return x


def detach(x: Any) -> Any:
    """``x`` without its differentiation levels; a replaying trace's tracer is kept."""
    while x.__class__ is Tracer and x._trace.on_read is None:
        x = x._value
    return x


class Primitive:
    """An operation the tracer records as one tape entry.

    Parameters
    ----------
    name : str
        Name used in error messages (the NumPy name where there is one).
    impl : callable
        ``impl(*args, **params)`` evaluates the primitive on plain arrays.
    vjps : sequence of callables or None
        ``vjps[k](g, ans, *args, **params)`` returns the cotangent of
        argument ``k`` given the output cotangent ``g``; ``None`` at position
        ``k`` means the argument is not differentiable. A rule may return
        ``None`` for a zero cotangent.
    vjp_joint : callable, optional
        ``vjp_joint(g, ans, args, params, argnums)`` returns the cotangents of
        all ``argnums`` at once, for rules that share work between arguments
        or take a variable number of arguments.
    """

    __slots__ = ("name", "impl", "vjps", "vjp_joint", "fn", "varying_shape")

    def __init__(
        self,
        name: str,
        impl: Callable[..., Any],
        vjps: Sequence[Callable[..., Any] | None] = (),
        vjp_joint: Callable[..., Any] | None = None,
    ) -> None:
        self.name = name
        self.impl = impl
        self.vjps = tuple(vjps)
        self.vjp_joint = vjp_joint
        self.fn: Callable[..., Any] = impl
        self.varying_shape = False

    def __repr__(self) -> str:
        return f"Primitive({self.name!r})"


def _leaked(trace: Trace, prim: Primitive) -> UnexpectedTracerError:
    return UnexpectedTracerError(
        f"'{prim.name}' received a tracer created by {trace.describe()} after that "
        "transform returned. Tracers are only valid while the transformed function runs: "
        "return results instead of storing them in globals, attributes or closures "
        "(apply fgrad.stop_gradient to keep a plain value)."
    )


def _nan_check(prim: Primitive, value: Any, where: str) -> None:
    value = peek(value)
    if np.issubdtype(np.result_type(value), np.inexact) and np.isnan(value).any():
        raise FloatingPointError(
            f"NaN produced by the {where} of '{prim.name}' (fgrad.config.debug_nans is on)"
        )


def bind1(prim: Primitive, x: Tracer, params: dict[str, Any]) -> Tracer:
    """Record ``prim(x, **params)`` for a tracer ``x``."""
    trace = x._trace
    if not trace.live:
        raise _leaked(trace, prim)
    v = x._value
    ans = prim.fn(v, **params) if v.__class__ is Tracer else prim.impl(v, **params)
    if _config.debug_nans:
        _nan_check(prim, ans, "forward pass")
    tape = trace.tape
    idx = len(tape)
    tape.append((prim, (x._idx,), _FIRST, (v,), params, ans))
    return Tracer(ans, trace, idx)


def bind2(prim: Primitive, x: Any, y: Any, params: dict[str, Any]) -> Tracer:
    """Record ``prim(x, y, **params)`` where at least one operand is a tracer."""
    if x.__class__ is Tracer:
        trace = x._trace
        xv = x._value
        if y.__class__ is Tracer and y._trace is not trace:
            ty = y._trace
            if ty.level > trace.level:
                trace = ty
                xv = x
                yv = y._value
                parents: tuple[int, ...] = (y._idx,)
                argnums: tuple[int, ...] = _SECOND
            elif ty.level < trace.level:
                yv = y
                parents = (x._idx,)
                argnums = _FIRST
            else:
                raise _leaked(ty if trace.live else trace, prim)
        elif y.__class__ is Tracer:
            yv = y._value
            parents = (x._idx, y._idx)
            argnums = _BOTH
        else:
            yv = y
            parents = (x._idx,)
            argnums = _FIRST
    else:
        trace = y._trace
        xv = x
        yv = y._value
        parents = (y._idx,)
        argnums = _SECOND
    if not trace.live:
        raise _leaked(trace, prim)
    if xv.__class__ is Tracer or yv.__class__ is Tracer:
        ans = prim.fn(xv, yv, **params)
    else:
        ans = prim.impl(xv, yv, **params)
    if _config.debug_nans:
        _nan_check(prim, ans, "forward pass")
    tape = trace.tape
    idx = len(tape)
    tape.append((prim, parents, argnums, (xv, yv), params, ans))
    return Tracer(ans, trace, idx)


_FIRST = (0,)
_SECOND = (1,)
_BOTH = (0, 1)


def bindn(prim: Primitive, args: Sequence[Any], params: dict[str, Any]) -> Any:
    """Record ``prim(*args, **params)``; evaluates directly when nothing is traced."""
    trace = None
    for a in args:
        if a.__class__ is Tracer:
            t = a._trace
            if trace is None or t.level > trace.level:
                trace = t
            elif t is not trace and t.level == trace.level:
                raise _leaked(trace if t.live else t, prim)
    if trace is None:
        return prim.impl(*args, **params)
    if not trace.live:
        raise _leaked(trace, prim)
    values = []
    parents = []
    argnums = []
    nested = False
    for k, a in enumerate(args):
        if a.__class__ is Tracer and a._trace is trace:
            parents.append(a._idx)
            argnums.append(k)
            a = a._value
        if a.__class__ is Tracer:
            nested = True
        values.append(a)
    ans = prim.fn(*values, **params) if nested else prim.impl(*values, **params)
    if _config.debug_nans:
        _nan_check(prim, ans, "forward pass")
    tape = trace.tape
    idx = len(tape)
    tape.append((prim, tuple(parents), tuple(argnums), tuple(values), params, ans))
    return Tracer(ans, trace, idx)


def backward_pass(tape: list[Any], seeds: Sequence[tuple[int, Any]], free: bool) -> list[Any]:
    """Propagate output cotangents ``seeds`` (pairs of tape slot and cotangent) backwards.

    Returns the list of cotangents by slot; only input slots (tape entries
    that are ``None``) keep theirs, every other slot is cleared as the sweep
    passes it. With ``free`` the tape entries are released as well, so saved
    values die as early as possible.
    """
    top = max(slot for slot, _ in seeds)
    cts: list[Any] = [None] * (top + 1)
    for slot, seed in seeds:
        old = cts[slot]
        cts[slot] = seed if old is None else old + seed
    check_nans = _config.debug_nans
    for i in range(top, -1, -1):
        entry = tape[i]
        if entry is None:
            continue
        if free:
            tape[i] = None
        g = cts[i]
        if g is None:
            continue
        cts[i] = None
        prim, parents, argnums, args, params, ans = entry
        if prim.vjp_joint is None:
            vjps = prim.vjps
            if len(parents) == 1:
                p = parents[0]
                vjp = vjps[argnums[0]]
                c = vjp(g, ans, *args, **params) if params else vjp(g, ans, *args)
                if c is None:
                    continue
                if check_nans:
                    _nan_check(prim, c, "VJP")
                old = cts[p]
                cts[p] = c if old is None else old + c
                continue
            for p, k in zip(parents, argnums):
                c = vjps[k](g, ans, *args, **params) if params else vjps[k](g, ans, *args)
                if c is None:
                    continue
                if check_nans:
                    _nan_check(prim, c, "VJP")
                old = cts[p]
                cts[p] = c if old is None else old + c
        else:
            contributions = prim.vjp_joint(g, ans, args, params, argnums)
            for p, c in zip(parents, contributions):
                if c is None:
                    continue
                if check_nans:
                    _nan_check(prim, c, "VJP")
                old = cts[p]
                cts[p] = c if old is None else old + c
    return cts
