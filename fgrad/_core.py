"""The tracing core: traces, tracers, primitives and the reverse sweep.

A *trace* is opened by each transform call (``grad``, ``vjp``, ...). While the
user's function runs, every differentiable argument is wrapped in a
:class:`Tracer` that points at one slot of the trace's *tape*. Calling a
primitive on a tracer evaluates the primitive on the wrapped value and appends
one tape entry (a tuple laid out as :data:`TAPE_ENTRY_FIELDS`). The tape is
therefore in execution order, and the reverse sweep (:func:`backward_pass`) is a
single loop over it from the end.

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

import dis
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from fgrad import config as _config

__all__ = [
    "PARENTS",
    "Primitive",
    "RESULT",
    "Residuals",
    "TAPE_ENTRY_FIELDS",
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
    "fun_name",
    "set_real_part",
    "peek",
    "new_trace",
    "user_site",
    "value_dtype",
]

NO_PARAMS: dict[str, Any] = {}

TAPE_ENTRY_FIELDS = ("primitive", "parents", "argnums", "args", "params", "result")
"""Layout of a tape entry, a plain tuple (a named tuple would make recording 3x slower).

``primitive``: the :class:`Primitive`; ``parents``: the tape slots of the traced arguments;
``argnums``: their positions among the arguments; ``args``: every argument's value, one
level down; ``params``: the keyword parameters; ``result``: the value computed. An input
slot holds ``None``. Read fields through the index constants below, or unpack the whole
entry in this order (the reverse sweep does).
"""
PRIMITIVE, PARENTS, ARGNUMS, ARGS, PARAMS, RESULT = range(len(TAPE_ENTRY_FIELDS))


class UnexpectedTracerError(TypeError):
    """A tracer was used after the transform that created it returned."""


class _TraceDepth(threading.local):
    depth = 0


_depth = _TraceDepth()

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_NUMPY_DIR = os.path.dirname(os.path.abspath(np.__file__)) + os.sep


def user_site() -> str:
    """``file:line`` of the innermost caller outside fgrad and NumPy: the user's line.

    Used by error messages only (it walks the stack).

    Examples
    --------
    >>> user_site().startswith("<doctest")
    True
    """
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not (filename.startswith(_PACKAGE_DIR) or filename.startswith(_NUMPY_DIR)):
            return f"{filename}:{frame.f_lineno}"
        frame = frame.f_back  # type: ignore[assignment]
    return "<unknown location>"


def fun_name(fun: Any) -> str:
    """The name error messages use for a user's function.

    Examples
    --------
    >>> def loss(x):
    ...     return x
    >>> fun_name(loss), fun_name(lambda x: x)
    ('loss', '<lambda>')
    """
    return getattr(fun, "__qualname__", None) or getattr(fun, "__name__", None) or repr(fun)


class Trace:
    """One transform's recording: its nesting level and its tape.

    ``live`` is True while the trace records primitives onto its tape. It is False once
    the transform returned (a tracer used then has leaked), and for a trace that computes
    instead of recording: ``compute(prim, args, params)`` is then set (``fgrad.vmap``
    evaluates each primitive batched, keeping each tracer's batched value in ``tape``).
    """

    __slots__ = (
        "level", "tape", "live", "transform", "fun", "replays", "on_read", "sites", "compute",
    )  # fmt: skip

    def __init__(self, level: int, transform: str, fun: Any) -> None:
        self.level = level
        self.tape: list[Any] = []
        self.live = True
        self.compute: Callable[[Primitive, Sequence[Any], dict[str, Any]], Any] | None = None
        self.transform = transform
        self.fun = fun
        self.replays = False
        """True for a trace that is replayed later (``fgrad.jit``), False for differentiation."""
        self.on_read: Callable[[Tracer], None] | None = None
        self.sites: dict[int, str] | None = None

    def replay_later(self, on_read: Callable[[Tracer], None]) -> None:
        """Mark this trace as a recording to replay; ``on_read`` hears every value read.

        Python code may branch on a value it reads (see :func:`concrete`), so a replay is
        valid only while those values are unchanged: ``on_read`` lets the replaying
        transform guard them. Differentiation traces never replay, and see no reads.
        """
        self.replays = True
        self.on_read = on_read

    def label(self) -> str:
        """``transform(function name)``, the prefix of error messages."""
        return f"{self.transform}({fun_name(self.fun)})"

    def describe(self) -> str:
        fun = self.fun
        while getattr(fun, "__wrapped__", None) is not None:
            fun = fun.__wrapped__
        code = getattr(fun, "__code__", None)
        where = f" defined at {code.co_filename}:{code.co_firstlineno}" if code else ""
        return f"{self.label()}{where}"

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
    trace.compute = None
    _depth.depth -= 1


# --- element stores: NumPy converts a traced scalar with float()/int()/complex() -----------

_getframe = sys._getframe
_STORE_OPCODES = frozenset(dis.opmap[n] for n in ("STORE_SUBSCR", "STORE_SLICE") if n in dis.opmap)
_CALL_NAMES = ("CALL", "CALL_KW", "PRECALL", "CALL_FUNCTION", "CALL_FUNCTION_KW")
_CALL_OPCODES = frozenset(
    dis.opmap[n] for n in (*_CALL_NAMES, "CALL_FUNCTION_EX", "CALL_METHOD") if n in dis.opmap
)
_JUMP_OPCODES = frozenset(dis.hasjrel) | frozenset(dis.hasjabs)
_NO_STACK_NAMES = frozenset({"PUSH_NULL", "NOP", "EXTENDED_ARG", "CACHE"})
# C functions and methods that store their argument into an array element by converting it:
# ``ndarray.fill``, ``numpy.fromiter``, ``operator.setitem``, the stdlib ``array.array``.
STORING_CALLEES = frozenset(
    {"fill", "fromiter", "itemset", "setitem", "__setitem__", "array", "append", "extend"}
    | {"insert", "fromlist", "setfield"}
)
# What each instruction that converted a tracer stores into (None: nothing), by
# ``id(code) + offset`` (unique while the code object lives: on Python >= 3.11 its instructions
# are inside it); the code object is kept with the answer, so that a colliding or reused key is
# recognised and classified again.
_instruction_kinds: dict[int, tuple[Any, str | None]] = {}
_INSTRUCTIONS_KEPT = 4096


def _stack_effect(instruction: dis.Instruction) -> int:
    arg = instruction.arg if instruction.opcode >= dis.HAVE_ARGUMENT else None
    return dis.stack_effect(instruction.opcode, arg)


def _callee_name(code: Any, offset: int) -> str | None:
    """The name the callable of the call instruction at ``offset`` was loaded by.

    Walks back over the call's arguments by stack effect (straight-line code only) to the
    instruction that loaded the callable (``LOAD_ATTR fill``, ``LOAD_GLOBAL float``...).
    ``None`` when the arguments contain jumps or the callable is not a loaded name.
    """
    instructions = list(dis.get_instructions(code))
    pos = next((i for i, ins in enumerate(instructions) if ins.offset == offset), None)
    if pos is None:
        return None
    first, last = pos, pos
    while first > 0 and instructions[first - 1].opname in ("PRECALL", "KW_NAMES"):
        first -= 1
    while last + 1 < len(instructions) and instructions[last].opname == "PRECALL":
        last += 1
    consumed = 1 - sum(_stack_effect(ins) for ins in instructions[first : last + 1])
    below = 1 if sys.version_info < (3, 11) and instructions[last].opname != "CALL_METHOD" else 2
    arguments = consumed - below
    depth, i = 0, first
    while depth < arguments:
        i -= 1
        if i < 0:
            return None
        ins = instructions[i]
        if ins.is_jump_target or ins.opcode in _JUMP_OPCODES:
            return None
        depth += _stack_effect(ins)
    if depth != arguments:
        return None
    i -= 1
    while i >= 0 and instructions[i].opname in _NO_STACK_NAMES:
        i -= 1
    name = instructions[i].argval if i >= 0 else None
    return name if isinstance(name, str) else None


def _differentiating_trace(x: Any) -> Trace | None:
    while x.__class__ is Tracer:
        if not x._trace.replays:
            return x._trace
        x = x._value
    return None


def _store_kind(code: Any, offset: int, key: int) -> tuple[Any, str | None]:
    """Classify the instruction at ``offset`` of ``code`` once, and remember it under ``key``.

    ``"an element (a[i] = value)"`` for a subscript store, ``"name()"`` for a call of a
    storing C function (``a.fill(x)``, ``np.fromiter``), ``None`` for anything else
    (``float(x)``, ``'%f' % x``, ``math.exp(x)``...).
    """
    opcode = code.co_code[offset]
    into = None
    if opcode in _STORE_OPCODES:
        into = "an element (a[i] = value)"
    elif opcode in _CALL_OPCODES:
        try:
            name = _callee_name(code, offset)
        except (ValueError, TypeError):
            name = None
        if name in STORING_CALLEES:
            into = f"{name}()"
    if len(_instruction_kinds) >= _INSTRUCTIONS_KEPT:
        _instruction_kinds.clear()
    known = _instruction_kinds[key] = (code, into)
    return known


def _refuse_store(x: Tracer, frame: Any, conversion: str) -> None:
    """Raise if ``frame`` is storing ``x`` through ``conversion`` on a differentiating trace.

    A store is the instruction ``a[i] = x`` (NumPy converts ``x`` to fill the element) or a
    call of a storing C function; see :func:`_store_kind`.
    """
    code = frame.f_code
    key = id(code) + frame.f_lasti
    known = _instruction_kinds.get(key)
    if known is None or known[0] is not code:
        known = _store_kind(code, frame.f_lasti, key)
    into = known[1]
    if into is None:
        return
    trace = _differentiating_trace(x)
    if trace is None:
        return
    raise TypeError(
        f"{trace.label()}: a traced value was stored into a plain NumPy array or buffer "
        f"through {into} (at {user_site()}). That converts it with {conversion}(), which "
        "would silently drop its gradient. Build the array from traced values instead: "
        "collect them in a list and call fgrad.numpy.stack (or fgrad.numpy.array), join "
        "pieces with fgrad.numpy.concatenate, or replace an element with "
        "fgrad.numpy.where(mask, value, a) or a + fgrad.numpy.scatter_add(value - a[i], "
        "a.shape, i). To store only the number, "
        f"store {conversion}(value) or fgrad.stop_gradient(value) explicitly."
    )


def _not_a_scalar(x: Tracer, conversion: str, error: Exception) -> Exception:
    """``error`` reworded: ``conversion()`` of a traced array that is not a single number."""
    hint = (
        "reduce it first (x.any(), x.all(), fgrad.numpy.sum...) or index one element"
        if conversion == "bool"
        else "index one element or reduce it to a scalar first"
    )
    return type(error)(
        f"{x._trace.label()}: {conversion}() of a traced array of shape {x.shape} "
        f"(at {user_site()}): only an array holding one number converts; {hint}. "
        f"NumPy says: {error}"
    )


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
        return value_dtype(peek(self))

    def __len__(self) -> int:
        shape = self.shape
        if not shape:
            raise TypeError("len() of a 0-d traced array")
        return shape[0]

    def __bool__(self) -> bool:
        value = concrete(self)
        try:
            return bool(value)
        except ValueError as error:
            raise _not_a_scalar(self, "bool", error) from error

    def __float__(self) -> float:
        _refuse_store(self, _getframe(1), "float")
        value = concrete(self)
        try:
            return float(value)
        except TypeError as error:
            raise _not_a_scalar(self, "float", error) from error

    def __int__(self) -> int:
        _refuse_store(self, _getframe(1), "int")
        value = concrete(self)
        try:
            return int(value)
        except TypeError as error:
            raise _not_a_scalar(self, "int", error) from error

    def __index__(self) -> int:
        return int(np.asarray(concrete(self)).__index__())

    def __complex__(self) -> complex:
        _refuse_store(self, _getframe(1), "complex")
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

    Examples
    --------
    >>> fgrad.grad(lambda x: x * concrete(x))(3.0)
    array(3.)
    """
    while x.__class__ is Tracer:
        trace = x._trace
        if trace.replays:
            trace.on_read(x)  # type: ignore[misc]
        x = x._value
    return x


def peek(x: Any) -> Any:
    """The plain value under all tracer levels, for reading its shape or dtype only.

    Examples
    --------
    >>> fgrad.grad(lambda x: (x * peek(x).size).sum())(np.ones(3))
    array([3., 3., 3.])
    """
    while x.__class__ is Tracer:
        x = x._value
    return x


def value_dtype(value: Any) -> np.dtype[Any]:
    """The dtype of a plain value: an array's or NumPy scalar's own, else ``np.result_type``'s.

    ``np.result_type`` takes about a microsecond even for an array; this reads the attribute.

    Examples
    --------
    >>> value_dtype(np.ones(2, np.float32)), value_dtype(2.0), value_dtype(np.int8(1))
    (dtype('float32'), dtype('float64'), dtype('int8'))
    """
    if value.__class__ is np.ndarray or isinstance(value, np.generic):
        return value.dtype
    return np.result_type(value)


def detach(x: Any) -> Any:
    """``x`` without its differentiation levels; a replaying trace's tracer is kept."""
    while x.__class__ is Tracer and not x._trace.replays:
        x = x._value
    return x


class Primitive:
    """An operation the tracer records as one tape entry; calling it records it.

    ``prim(*args, **params)`` evaluates ``impl`` directly when no argument is a
    :class:`Tracer`, and otherwise records one tape entry on the highest trace among
    the arguments (through :func:`bind1`, :func:`bind2` or :func:`bindn`). ``params``
    are keyword-only, already normalised values (tuples of axes, not ``None``).

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
    varying_shape : bool
        The result's shape depends on argument values, not only on their shapes
        (``nonzero``, boolean masks): ``fgrad.jit`` then guards the shape on replay.
    batch : callable, optional
        The batching rule for ``fgrad.vmap``: ``batch(prim, values, batched, params, size)``
        evaluates the primitive on arguments of which those flagged in ``batched`` carry an
        extra leading axis of length ``size``, and returns ``(result, result_is_batched)``.
        Without one, ``vmap`` evaluates the primitive once per example (and warns).

    Examples
    --------
    >>> cube = Primitive("cube", lambda x: x**3, (lambda g, ans, x: 3 * g * x**2,))
    >>> cube(2.0), fgrad.grad(cube)(2.0)
    (8.0, array(12.))
    """

    __slots__ = ("name", "impl", "vjps", "vjp_joint", "varying_shape", "batch", "_real_kept")

    def __init__(
        self,
        name: str,
        impl: Callable[..., Any],
        vjps: Sequence[Callable[..., Any] | None] = (),
        vjp_joint: Callable[..., Any] | None = None,
        varying_shape: bool = False,
        batch: Callable[..., tuple[Any, bool]] | None = None,
    ) -> None:
        self.name = name
        self.impl = impl
        self.vjps = tuple(vjps)
        self.vjp_joint = vjp_joint
        self.varying_shape = varying_shape
        self.batch = batch
        self._real_kept: Primitive | None = None

    def keeping_real_cotangents(self) -> Primitive:
        """This primitive, recorded where a real traced argument produced a complex result.

        Its VJPs are this primitive's, followed by the real part for every real argument
        whose cotangent came out complex: the cotangent of a real value is real (JAX's
        convention: the transpose of the real-to-complex conversion takes the real part).
        Made once per primitive.
        """
        found = self._real_kept
        if found is None:
            found = Primitive(
                self.name,
                self.impl,
                vjp_joint=_real_argument_cotangents(self),
                varying_shape=self.varying_shape,
                batch=self.batch,
            )
            self._real_kept = found
        return found

    def __call__(self, *args: Any, **params: Any) -> Any:
        n = len(args)
        if n == 1:
            x = args[0]
            if x.__class__ is Tracer:
                return bind1(self, x, params or NO_PARAMS)
            return self.impl(x, **params)
        if n == 2:
            x, y = args
            if x.__class__ is Tracer or y.__class__ is Tracer:
                return bind2(self, x, y, params or NO_PARAMS)
            return self.impl(x, y, **params)
        for a in args:
            if a.__class__ is Tracer:
                return bindn(self, args, params)
        return self.impl(*args, **params)

    def __repr__(self) -> str:
        return f"Primitive({self.name!r})"


_real_part: list[Callable[[Any], Any]] = [np.real]


def set_real_part(real_part: Callable[[Any], Any]) -> None:
    """Install the differentiable real part (``fgrad._rules.linear`` does, at import)."""
    _real_part[0] = real_part


def _real_argument_cotangents(prim: Primitive) -> Callable[..., list[Any]]:
    def vjp_joint(
        g: Any, ans: Any, args: Sequence[Any], params: dict[str, Any], argnums: Sequence[int]
    ) -> list[Any]:
        if prim.vjp_joint is not None:
            cts = list(prim.vjp_joint(g, ans, args, params, argnums))
        else:
            cts = []
            for k in argnums:
                vjp = prim.vjps[k]
                cts.append(None if vjp is None else vjp(g, ans, *args, **params))
        for i, k in enumerate(argnums):
            ct = cts[i]
            if ct is not None and _is_complex(ct) and not _is_complex(args[k]):
                cts[i] = _real_part[0](ct)
        return cts

    return vjp_joint


class Residuals:
    """The values a forward pass saves for its VJP, beyond the arguments and the result.

    The protocol, for a primitive whose VJP needs intermediate values (``custom_vjp``'s
    ``fwd``): the caller puts a fresh ``Residuals`` in the call's params; ``impl``
    stores into it with :meth:`store`; the VJP, which receives the same params, reads
    :attr:`value`. One holder per call, never shared between calls. A ``fgrad.jit``
    replay runs ``impl`` again with the recorded params, so each replay stores its own
    residuals before its VJP reads them.

    Examples
    --------
    >>> box = Residuals()
    >>> box.store((1.0, 2.0))
    >>> box.value
    (1.0, 2.0)
    """

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value: Any = None

    def store(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "Residuals()"


def _leaked(trace: Trace, prim: Primitive) -> UnexpectedTracerError:
    return UnexpectedTracerError(
        f"'{prim.name}' received a tracer created by {trace.describe()} after that "
        f"transform returned (at {user_site()}). Tracers are only valid while the transformed "
        "function runs: return results instead of storing them in globals, attributes or "
        "closures (apply fgrad.stop_gradient to keep a plain value)."
    )


def _not_recording(
    trace: Trace, prim: Primitive, args: Sequence[Any], params: dict[str, Any]
) -> Any:
    """``prim`` on a trace that does not record: computed by it (``vmap``), or a leak."""
    if trace.compute is not None:
        return trace.compute(prim, args, params)
    raise _leaked(trace, prim)


def _mark_located(exc: Exception) -> Exception:
    """Flag an error whose message already says where it happened (see ``_locate_failure``)."""
    exc._fgrad_located = True  # type: ignore[attr-defined]
    return exc


def _describe_operand(value: Any) -> str:
    value = peek(value)
    try:
        return f"{np.shape(value)} {np.result_type(value)}"
    except (TypeError, ValueError):
        return type(value).__name__


def _locate_failure(exc: Exception, prim: Primitive, trace: Trace, operands: Sequence[Any]) -> None:
    """Raise ``exc`` again, same type, naming the transform, operation, operands and user line.

    Called only after the primitive's implementation raised; returns (so the
    caller re-raises ``exc`` unchanged) when ``exc`` already carries this
    information or cannot be rebuilt with a new message.
    """
    if getattr(exc, "_fgrad_located", False) or isinstance(exc, UnexpectedTracerError):
        return
    shapes = " and ".join(_describe_operand(v) for v in operands)
    noun = "operand" if len(operands) == 1 else "operands"
    message = (
        f"{trace.label()}: '{prim.name}' failed on {noun} of shape and dtype {shapes} "
        f"(at {user_site()}): {str(exc).strip().rstrip('.')}. Check the shapes and dtypes of "
        "the arrays passed to it."
    )
    try:
        located = type(exc)(message)
    except Exception:
        return
    raise _mark_located(located) from exc


def _is_complex(value: Any) -> bool:
    plain = peek(value)
    if plain.__class__ is np.ndarray:
        return bool(plain.dtype.kind == "c")
    return isinstance(plain, (complex, np.complexfloating))


def _recorded_primitive(
    prim: Primitive, trace: Trace, value: Any, args: Sequence[Any], argnums: Sequence[int]
) -> Primitive:
    """The primitive to record for a result that is not a float64 array (the slow path).

    A complex result computed from a real traced argument is recorded as
    :meth:`Primitive.keeping_real_cotangents`: a real value's cotangent stays real (the real
    part of the complex one, as JAX's transpose of a real-to-complex conversion gives).
    """
    if trace.replays or not _is_complex(value):
        return prim
    for k in argnums:
        if not _is_complex(args[k]):
            return prim.keeping_real_cotangents()
    return prim


def _debug_check(prim: Primitive, value: Any, where: str, site: str | None) -> None:
    """Raise ``FloatingPointError`` if ``value`` holds a NaN (or an inf, with ``debug_infs``)."""
    value = peek(value)
    if not np.issubdtype(np.result_type(value), np.inexact):
        return
    bad = None
    if _config.debug_nans and np.isnan(value).any():
        bad, switch = "NaN", "debug_nans"
    elif _config.debug_infs and np.isinf(value).any():
        bad, switch = "inf", "debug_infs"
    if bad is None:
        return
    at = f" (the operation was called at {site})" if site else ""
    message = (
        f"{bad} produced by the {where} of '{prim.name}'{at} "
        f"(fgrad.config.{switch} is on). Look at the inputs of '{prim.name}' on that line: "
        "e.g. log or sqrt of values <= 0, division by zero, or an overflow."
    )
    raise _mark_located(FloatingPointError(message))


def _record_site(prim: Primitive, trace: Trace, value: Any) -> None:
    """``debug_nans`` / ``debug_infs``: check a forward result and remember the user's line."""
    site = user_site()
    if trace.sites is None:
        trace.sites = {}
    trace.sites[len(trace.tape)] = site
    _debug_check(prim, value, "forward pass", site)


def bind1(prim: Primitive, x: Tracer, params: dict[str, Any]) -> Any:
    """Record ``prim(x, **params)`` for a tracer ``x``."""
    trace = x._trace
    if not trace.live:
        return _not_recording(trace, prim, (x,), params)
    v = x._value
    try:
        ans = prim(v, **params) if v.__class__ is Tracer else prim.impl(v, **params)
    except Exception as exc:
        _locate_failure(exc, prim, trace, (v,))
        raise
    kind = ans.__class__
    if kind is _NDARRAY:
        if ans.dtype is not _FLOAT64_DTYPE:
            prim = _recorded_primitive(prim, trace, ans, (v,), _FIRST)
    elif kind is not _FLOAT64:
        prim = _recorded_primitive(prim, trace, ans, (v,), _FIRST)
    if _config.checking:
        _record_site(prim, trace, ans)
    tape = trace.tape
    idx = len(tape)
    tape.append((prim, (x._idx,), _FIRST, (v,), params, ans))
    return Tracer(ans, trace, idx)


def bind2(prim: Primitive, x: Any, y: Any, params: dict[str, Any]) -> Any:
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
        return _not_recording(trace, prim, (x, y), params)
    try:
        if xv.__class__ is Tracer or yv.__class__ is Tracer:
            ans = prim(xv, yv, **params)
        else:
            ans = prim.impl(xv, yv, **params)
    except Exception as exc:
        _locate_failure(exc, prim, trace, (xv, yv))
        raise
    kind = ans.__class__
    if kind is _NDARRAY:
        if ans.dtype is not _FLOAT64_DTYPE:
            prim = _recorded_primitive(prim, trace, ans, (xv, yv), argnums)
    elif kind is not _FLOAT64:
        prim = _recorded_primitive(prim, trace, ans, (xv, yv), argnums)
    if _config.checking:
        _record_site(prim, trace, ans)
    tape = trace.tape
    idx = len(tape)
    tape.append((prim, parents, argnums, (xv, yv), params, ans))
    return Tracer(ans, trace, idx)


_FIRST = (0,)
_SECOND = (1,)
_BOTH = (0, 1)
_NDARRAY = np.ndarray
_FLOAT64 = np.float64
_FLOAT64_DTYPE = np.dtype(np.float64)


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
        return _not_recording(trace, prim, args, params)
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
    try:
        ans = prim(*values, **params) if nested else prim.impl(*values, **params)
    except Exception as exc:
        _locate_failure(exc, prim, trace, values)
        raise
    kind = ans.__class__
    if kind is _NDARRAY:
        if ans.dtype is not _FLOAT64_DTYPE:
            prim = _recorded_primitive(prim, trace, ans, values, argnums)
    elif kind is not _FLOAT64:
        prim = _recorded_primitive(prim, trace, ans, values, argnums)
    if _config.checking:
        _record_site(prim, trace, ans)
    tape = trace.tape
    idx = len(tape)
    tape.append((prim, tuple(parents), tuple(argnums), tuple(values), params, ans))
    return Tracer(ans, trace, idx)


def backward_pass(
    tape: list[Any],
    seeds: Sequence[tuple[int, Any]],
    free: bool,
    sites: dict[int, str] | None = None,
) -> list[Any]:
    """Propagate output cotangents ``seeds`` (pairs of tape slot and cotangent) backwards.

    Returns the list of cotangents by slot; only input slots (tape entries
    that are ``None``) keep theirs, every other slot is cleared as the sweep
    passes it. With ``free`` the tape entries are released as well, so saved
    values die as early as possible. ``sites`` (the trace's user lines by
    slot, kept under ``debug_nans``) lets a NaN found in a VJP name the line
    of the operation.
    """
    top = max(slot for slot, _ in seeds)
    cts: list[Any] = [None] * (top + 1)
    for slot, seed in seeds:
        old = cts[slot]
        cts[slot] = seed if old is None else old + seed
    check_nans = _config.checking
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
                    _debug_check(prim, c, "VJP", sites.get(i) if sites else None)
                old = cts[p]
                cts[p] = c if old is None else old + c
                continue
            for p, k in zip(parents, argnums):
                c = vjps[k](g, ans, *args, **params) if params else vjps[k](g, ans, *args)
                if c is None:
                    continue
                if check_nans:
                    _debug_check(prim, c, "VJP", sites.get(i) if sites else None)
                old = cts[p]
                cts[p] = c if old is None else old + c
        else:
            contributions = prim.vjp_joint(g, ans, args, params, argnums)
            for p, c in zip(parents, contributions):
                if c is None:
                    continue
                if check_nans:
                    _debug_check(prim, c, "VJP", sites.get(i) if sites else None)
                old = cts[p]
                cts[p] = c if old is None else old + c
    return cts
