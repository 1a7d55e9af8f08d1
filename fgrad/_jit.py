"""``fgrad.jit``: trace once, replay many times, never silently wrong.

``jit(fun)`` runs ``fun`` once per *signature* (the pytree structure of the
arguments; for each array leaf its container type -- ``np.ndarray`` or the
NumPy scalar type such as ``np.float64`` --, dtype and shape; and the values
of the other leaves) under a recording trace. Every primitive evaluated on the
arguments' data -- in ``fun`` itself and in the forward and backward passes of
any ``grad``/``vjp`` inside it -- becomes one line of a generated Python
function of plain NumPy calls, which later calls replay without creating
tracers. Arrays are freed as soon as they are dead. Calls with the signature
of the previous call are recognised by generated code that checks the
arguments' containers, dict keys and leaves and hands the leaves to the
program, which builds the output pytree itself (no flattening per call; other
pytree node types take the generic path). A program is generated and compiled
on its first replay, so the traced call pays only for tracing; programs longer
than a few thousand lines are interpreted until their second replay, then
compiled.

Replays are bit-identical to the traced eager computation, on any CPU. The
guarantee, by construction: a replay calls the same implementations, in the
same order, with the same constants (the very objects tracing used; for
Python numbers and NumPy scalars, immutable, possibly an equal one of the same
class and bits), and hands every implementation operands of exactly the
container type (``np.ndarray``, a 0-d one included, versus a NumPy scalar),
dtype and shape that tracing handed it (the float64 scalar path below is the
one exception, with its own argument). The inputs match because the container type, dtype
and shape are part of the signature; every later value matches because a
NumPy function's result type, dtype and shape follow from those of its
operands (NumPy 2, NEP 50: no value-based casting; NumPy 1.26 may still pick
the dtype of a mixed scalar-array operation by the scalar's value), except for
data-dependent shapes, which are guarded (below). This matters because NumPy may compute the same
operation on a 0-d array and on a NumPy scalar with different code (a SIMD
ufunc loop versus scalar math), which can differ in the last bit; so a call
with ``np.float64`` arguments never replays a recording made with 0-d arrays.
(A few ``fgrad.numpy`` functions -- ``dot`` of N-D arrays, some
``linalg.norm`` orders, ``linalg.cond`` -- take a different plain-NumPy path
when nothing is traced, which can differ from the traced path in the last
bit.)

The recording is optimised before it is replayed, and each step keeps that
guarantee:

* *Dead code*: an instruction is dropped only when no output, no guard, no
  result of value-dependent shape and no effectful instruction
  (:func:`debug_print`, :func:`recorded` draws such as ``fgrad.random``)
  depends on it. Effectful instructions always replay, used or not.
* *Common subexpressions*: two instructions become one only when they call the
  same implementation object on the same operands (the same earlier results,
  or constants of the same class, dtype and bits: Python numbers, NumPy
  scalars and 0-d arrays by value, so ``0.0`` is not ``-0.0`` and ``1`` is not
  ``1.0``; other constants by identity) with parameters equal in type and
  value. Implementations are deterministic, so the value is the one eager code
  computed twice. Effectful and guarded instructions are never merged, and an
  output merged with an earlier output is copied, so that every output is its
  own array as in eager code.
* *Operators*: an implementation that is one of Python's operators
  (``operator.mul``) is written as the operator (``a * b``): the same call.
* *Float64 scalars*: ``+``, ``-`` and ``*`` whose operands tracing saw as
  float64 scalars (``np.float64``, Python ``float``, 0-d float64 arrays, or
  integer constants up to 2**53, which convert exactly) and whose result was an
  ``np.float64`` or ``float`` are computed on Python floats. IEEE 754 makes
  these operations correctly rounded, so NumPy's scalar math, its ufunc loops
  (SIMD or not) and Python's float give the same bits on every platform NumPy
  supports (binary64 arithmetic, never x87 extended precision; each operation
  rounds on its own, nothing is fused). A value leaves the Python floats as
  the ``np.float64`` eager code had (an exact conversion), except into a
  one-input ufunc (``np.tanh``), which converts a Python float to the same
  float64 and runs the same loop on it. ``/`` and ``**`` stay NumPy's (Python
  raises where NumPy returns ``inf``). When ``np.geterr()`` asks for anything
  but ``"ignore"`` or ``"warn"``, such a replay runs the program without this
  path, so ``np.errstate(over="raise")`` raises as eagerly; under ``"warn"``
  (NumPy's default) the values are the same but the ``RuntimeWarning`` NumPy
  gives for an overflowing or invalid scalar operation is not repeated.

Nothing else is rewritten. There is no constant folding to do: an operation
on constants alone runs once while tracing and its result becomes a constant
of the recording, so every recorded instruction depends on an argument. There
are no ``out=`` buffers and no algebra (``2 * (0.005 * x)`` is not
``0.01 * x`` in floating point).

Python may read a traced value (``if loss > 0:``, ``float(x)``, a mask built
from it). Each such read becomes a *guard*: the replay recomputes that value
and compares it, bit for bit and with its container type, dtype and shape,
with what tracing saw. The result of an operation whose shape depends on
values (boolean-mask indexing, ``nonzero``) gets a guard on its container
type, dtype and shape. If a guard fails, the
call is traced again and the new program is kept as another *variant* of the
signature; past ``max_variants`` variants the signature runs eagerly. Every
replay therefore returns exactly what the eager call would have returned.

Like ``jax.jit`` the function must be pure: side effects (printing, appending
to lists, drawing from NumPy's global random state) happen only while
tracing (:func:`debug_print` prints on every call), and arrays it closes over
(globals, enclosing variables) are constants of the recording: pass an array
as an argument if it changes between calls.

Arrays and Python ``int``/``float``/``complex`` numbers among the arguments are
*dynamic*: a replay takes their new values. A Python number stays what it is
in eager code, a weakly typed number (NumPy 2, NEP 50): ``lr * w`` keeps the
dtype of ``w``, and arithmetic between Python numbers (``1 - b1 ** t``) is
recorded as Python arithmetic, so replays are bit-identical to eager calls.
Booleans, ``None``, strings and other hashable leaves are *static* (part of the
signature), as are the arguments named by ``static_argnums`` and
``static_argnames``. ``fgrad.random`` functions called on a traced key are
recorded, so a fresh key per call replays. A function that keeps tracing
again warns once (:class:`JitRetraceWarning`), naming what changes.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import inspect
import keyword
import operator
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np

from fgrad._core import (
    PARENTS,
    PRIMITIVE,
    RESULT,
    Primitive,
    Trace,
    Tracer,
    bindn,
    close_trace,
    detach,
    fun_name,
    new_trace,
    user_site,
)
from fgrad._rules.batching import each_example
from fgrad.tree import (
    PyTreeDef,
    _lookup,
    keystr,
    tree_flatten,
    tree_flatten_with_path,
    tree_unflatten,
)

__all__ = ["JitRetraceWarning", "JitStats", "Jitted", "debug_print", "jit", "recorded"]

_STATIC_TYPES = (bool, int, float, complex, str, bytes, type(None))
_DYNAMIC_NUMBERS = (int, float, complex)
"""Python number classes (exactly these, not subclasses such as ``bool``) traced as dynamic."""

_PYTHON_OPERATORS: dict[str, Callable[..., Any]] = {
    "add": operator.add,
    "subtract": operator.sub,
    "multiply": operator.mul,
    "divide": operator.truediv,
    "power": operator.pow,
    "mod": operator.mod,
    "floor_divide": operator.floordiv,
    "negative": operator.neg,
    "positive": operator.pos,
    "absolute": operator.abs,
    "less": operator.lt,
    "less_equal": operator.le,
    "greater": operator.gt,
    "greater_equal": operator.ge,
    "equal": operator.eq,
    "not_equal": operator.ne,
}
"""The primitives behind Python's operators, by name, and what the operator does to two
Python numbers: a traced Python number meeting only Python numbers computes this instead
(``1 - b1 ** t`` is a Python float in eager code, not a NumPy scalar)."""

_PYTHON_OPERATOR_PRIMITIVES = {
    name: Primitive(f"python {name}", op) for name, op in _PYTHON_OPERATORS.items()
}

_RETRACE_WARN_AFTER = 5
"""A function that has traced this many times, in more than half of its calls, warns."""


class JitRetraceWarning(UserWarning):
    """A jitted function keeps tracing again instead of replaying (warned once per function)."""


class _GuardFailed(Exception):
    """A value read during tracing differs on replay."""


class _Untraceable(Exception):
    """The function closes over a value traced by an enclosing transform."""


class JitStats:
    """Counters of a jitted function, for seeing what the cache does.

    Attributes
    ----------
    traces : int
        Calls that traced the function (a new signature or a failed guard).
    replays : int
        Calls answered by replaying a recorded program.
    guard_failures : int
        Replays abandoned because a value read by Python changed.
    eager_calls : int
        Calls run eagerly: past ``max_variants``, under an enclosing transform,
        or when the function closes over a traced value.
    variants : int
        Programs currently cached, over all signatures.
    """

    __slots__ = ("traces", "replays", "guard_failures", "eager_calls", "variants")

    def __init__(
        self,
        traces: int = 0,
        replays: int = 0,
        guard_failures: int = 0,
        eager_calls: int = 0,
        variants: int = 0,
    ) -> None:
        self.traces = traces
        self.replays = replays
        self.guard_failures = guard_failures
        self.eager_calls = eager_calls
        self.variants = variants

    def _counts(self) -> tuple[int, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __repr__(self) -> str:
        counts = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"JitStats({counts})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not JitStats:
            return NotImplemented
        return self._counts() == other._counts()

    __hash__ = None  # type: ignore[assignment]  # mutable, as the dataclass it replaces


def _nbytes(value: Any) -> int:
    if isinstance(value, (tuple, list)):
        return sum(_nbytes(v) for v in value)
    return int(getattr(value, "nbytes", 0))


def _kind(value: Any) -> Any:
    """Container type, dtype and shape of a value (of each item, for tuples and lists)."""
    if isinstance(value, (tuple, list)):
        return (value.__class__, tuple(_kind(v) for v in value))
    return (value.__class__, getattr(value, "dtype", None), np.shape(value))


def _same(value: Any, expected: np.ndarray, expected_class: type) -> bool:
    """``value`` is of class ``expected_class`` and equals ``expected`` bit for bit."""
    if value.__class__ is not expected_class:
        return False
    actual = np.asarray(value)
    return (
        actual.shape == expected.shape
        and actual.dtype == expected.dtype
        and actual.tobytes() == expected.tobytes()
    )


class _NoFastPath(Exception):
    """A pytree holds a node type the generated argument unpacking and result packing omit."""


class _NoKey(Exception):
    """An instruction's parameters have no exact hashable key, so it is never merged."""


_NO_MATCH = object()
"""What a generated ``enter`` returns when the arguments do not have its signature."""


def _owned(value: Any) -> Any:
    """A replay output the caller may keep and modify: constants and views are copied."""
    if isinstance(value, np.ndarray) and not value.flags.writeable:
        return value.copy()
    return value


def _fresh(value: Any) -> Any:
    """A copy of an array output that common-subexpression elimination made share its object
    with an earlier output (eager code returns two objects)."""
    if isinstance(value, np.ndarray):
        return value.copy()
    return value


_FREE_BYTES = 65536
"""Values at least this large are released right after their last use; smaller ones live
until the replay returns (releasing costs more than it saves)."""

_FREE_SMALL_ARRAYS = True
"""Compiled replays also release smaller arrays right after their last use (a local variable
set to ``None``): NumPy then reuses the memory while it is still in cache (W1, W4: 1-10%
faster by the minimum of interleaved timings; W4 unchanged within noise)."""

_CODEGEN_LIMIT = 3000
"""Programs up to this many lines are compiled to Python on their first replay; longer ones
are interpreted until they are hot (CPython's compiler needs 5-20 microseconds per line)."""

_HOT_REPLAYS = 2
"""A program interpreted because it is long is compiled to Python on this replay: a
function called twice is called again (a training loop), and the one-off compile then
costs less than interpreting every later replay (0: never)."""

_COMPILE_LIMIT = 250_000
"""Programs longer than this are always interpreted (compiling them would take seconds)."""

# Opcodes of a recorded program: each line is a tuple whose first item is one of these.
OP_FREE = 0
"""``(OP_FREE, slots, small_slots)``: release the values in ``slots`` (dead from here on);
compiled replays also release the arrays in ``small_slots``."""
OP_CALL1 = 1
"""``(OP_CALL1, impl, out, a)``: ``v[out] = impl(v[a])``."""
OP_CALL2 = 2
"""``(OP_CALL2, impl, out, a, b)``: ``v[out] = impl(v[a], v[b])``."""
OP_GUARD_VALUE = 3
"""``(OP_GUARD_VALUE, slot, expected, expected_class)``: ``v[slot]`` is of class
``expected_class`` and equals the array ``expected`` bit for bit, else the replay is abandoned."""
OP_GUARD_SHAPE = 4
"""``(OP_GUARD_SHAPE, slot, kind)``: ``_kind(v[slot])`` (container type, dtype and shape) is
``kind``, else the replay is abandoned. Follows every primitive whose shape depends on values."""
OP_CALLN = 9
"""``(OP_CALLN, impl, out, slots, params)``: ``v[out] = impl(*v[slots], **params)``."""

_INLINE_BINARY: dict[Any, str] = {
    operator.add: "+",
    operator.sub: "-",
    operator.mul: "*",
    operator.truediv: "/",
    operator.floordiv: "//",
    operator.mod: "%",
    operator.pow: "**",
    operator.matmul: "@",
    operator.lt: "<",
    operator.le: "<=",
    operator.gt: ">",
    operator.ge: ">=",
    operator.eq: "==",
    operator.ne: "!=",
}
"""Implementations that are Python's operators, written as the operator in compiled replays
(``a * b`` is ``operator.mul(a, b)``, the same call of ``__mul__``, without a function call)."""
_INLINE_UNARY: dict[Any, str] = {operator.neg: "-", operator.pos: "+", operator.invert: "~"}

_EFFECTFUL_IMPLS: set[Any] = set()
"""Implementations recorded for their effect or their draw (:func:`debug_print`,
:func:`recorded`): always replayed, even when no output needs them, and never merged."""

_MERGEABLE_SCALARS = (float, int, bool, complex, str, bytes)


def _effectful(impl: Any) -> bool:
    """``impl`` is recorded for its effect or its draw (an unhashable one counts as such)."""
    try:
        return impl in _EFFECTFUL_IMPLS
    except TypeError:
        return True


def _mark_effectful(impl: Any) -> None:
    with contextlib.suppress(TypeError):  # unhashable: _effectful() already says so
        _EFFECTFUL_IMPLS.add(impl)


def _constant_key(value: Any) -> Any:
    """Equal keys for interchangeable constants: Python numbers and NumPy scalars (immutable)
    by class and bits; anything else, arrays included, by identity."""
    cls = value.__class__
    if cls is float:
        return (float, value.hex())
    if cls is complex:
        return (complex, value.real.hex(), value.imag.hex())
    if cls in _MERGEABLE_SCALARS:
        return (cls, value)
    if isinstance(value, np.generic) and not value.dtype.hasobject:
        return (cls, value.dtype, value.tobytes())
    return ("object", id(value))


def _param_key(value: Any) -> Any:
    """An exact key of a parameter value: equal only for values no implementation can tell
    apart (``1``, ``1.0`` and ``True`` differ; so do ``0.0`` and ``-0.0``)."""
    cls = value.__class__
    if cls is tuple:
        return (tuple, *[_param_key(v) for v in value])
    if cls is float or cls is complex or cls in _MERGEABLE_SCALARS or value is None:
        return _constant_key(value)
    if isinstance(value, (np.dtype, type)):
        return (cls, value)
    if cls is slice:
        return (slice, _param_key(value.start), _param_key(value.stop), _param_key(value.step))
    if isinstance(value, np.generic) and not value.dtype.hasobject:
        return (cls, value.dtype, value.tobytes())
    raise _NoKey


class _Recording(NamedTuple):
    """A recorded program after dead-code and common-subexpression elimination.

    ``ops`` address values by slot: tape slots below ``n_tape`` (inputs and results),
    constants at ``n_tape`` and above (their values in ``template``).
    """

    ops: list[tuple[Any, ...]]
    template: list[Any]
    n_tape: int
    input_slots: list[int]
    output_slots: list[int]
    alias_copies: list[int]
    names: dict[int, str]
    call_slots: list[int]
    classes: dict[int, type]
    merged: int
    describe: str

    @property
    def listing(self) -> str:
        """The program, one line per instruction or guard (the source of an interpreted one)."""
        lines = []
        for op in self.ops:
            opcode = op[0]
            if opcode == OP_FREE:
                continue
            if opcode == OP_GUARD_SHAPE:
                lines.append(f"guard type, dtype and shape of v[{op[1]}]")
            elif opcode == OP_GUARD_VALUE:
                lines.append(f"guard v[{op[1]}]")
            else:
                operand_slots = op[3] if opcode == OP_CALLN else op[3:]
                operand_list = ", ".join(f"v[{s}]" for s in operand_slots)
                lines.append(f"v[{op[2]}] = {self.names[op[2]]}({operand_list})")
        return "\n".join(lines) + "\n"


def _record(
    trace: Trace,
    input_slots: list[int],
    out_leaves: list[Any],
    guards: dict[int, tuple[np.ndarray, type]],
) -> _Recording:
    """The tape of ``trace`` as a program computing ``out_leaves`` from the inputs.

    Dead-code elimination keeps what an output, a guard, a varying-shape result (whose shape
    Python may have read) or an effectful instruction needs. Common-subexpression elimination
    replays one instruction for identical calls (the same implementation, the same operand
    slots or interchangeable constants, equal parameters), except effectful and guarded ones.
    """
    tape = trace.tape
    n_tape = len(tape)
    template: list[Any] = [None] * n_tape
    constant_slots: dict[Any, int] = {}

    def constant_slot(value: Any) -> int:
        key = _constant_key(value)
        slot = constant_slots.get(key)
        if slot is None:
            template.append(value)
            slot = constant_slots[key] = len(template) - 1
        return slot

    original_outputs = []
    for leaf in out_leaves:
        if leaf.__class__ is Tracer:
            if leaf._trace is not trace:
                raise _Untraceable
            original_outputs.append(leaf._idx)
        else:
            if isinstance(leaf, np.ndarray):
                leaf = leaf.copy()
                leaf.flags.writeable = False
            template.append(leaf)
            original_outputs.append(len(template) - 1)
    needed: set[int] = set(guards) | set(original_outputs)
    order = []
    kept: dict[Primitive, bool] = {}  # never dropped nor merged: effectful or varying shape
    for i in range(n_tape - 1, -1, -1):
        entry = tape[i]
        if entry is None:
            continue
        prim = entry[PRIMITIVE]
        always = kept.get(prim)
        if always is None:
            always = kept[prim] = prim.varying_shape or _effectful(prim.impl)
        if i not in needed and not always:
            continue
        order.append(i)
        needed.update(entry[PARENTS])
    order.reverse()

    representative: dict[int, int] = {}
    seen: dict[Any, int] = {}
    body: list[tuple[Any, ...]] = []
    names: dict[int, str] = {}
    for i in order:
        prim, parents, argnums, args, params, _ = tape[i]
        srcs = []
        for k, value in enumerate(args):
            if k in argnums:
                parent = parents[argnums.index(k)]
                srcs.append(representative.get(parent, parent))
            elif value.__class__ is Tracer:
                raise _Untraceable
            else:
                srcs.append(constant_slot(value))
        if not kept[prim] and i not in guards:
            try:
                key: Any = (
                    prim.impl,
                    tuple(srcs),
                    tuple(sorted((name, _param_key(p)) for name, p in params.items()))
                    if params
                    else (),
                )
                earlier = seen.get(key)
            except (_NoKey, TypeError):  # no exact key, or an unhashable implementation
                pass
            else:
                if earlier is not None:
                    representative[i] = earlier
                    continue
                seen[key] = i
        names[i] = prim.name
        if params or len(srcs) > 2:
            body.append((OP_CALLN, prim.impl, i, tuple(srcs), params))
        elif len(srcs) == 2:
            body.append((OP_CALL2, prim.impl, i, *srcs))
        else:
            body.append((OP_CALL1, prim.impl, i, *srcs))
        if prim.varying_shape:
            body.append((OP_GUARD_SHAPE, i, _kind(tape[i][RESULT])))
        if i in guards:
            body.append((OP_GUARD_VALUE, i, *guards[i]))

    output_slots = [representative.get(s, s) for s in original_outputs]
    alias_copies = []
    first_original: dict[int, int] = {}
    for k, (slot, original) in enumerate(zip(output_slots, original_outputs)):
        if first_original.setdefault(slot, original) != original:
            alias_copies.append(k)

    last_use: dict[int, int] = {}
    for position, op in enumerate(body):
        if op[0] == OP_CALLN:
            for s in op[3]:
                last_use[s] = position
        elif op[0] in (OP_CALL1, OP_CALL2):
            for s in op[3:]:
                last_use[s] = position
    keep = set(output_slots) | set(guards) | set(input_slots)
    frees: dict[int, list[int]] = collections.defaultdict(list)
    small_frees: dict[int, list[int]] = collections.defaultdict(list)
    for slot, position in last_use.items():
        if slot < n_tape and slot not in keep:
            value = tape[slot][RESULT]
            if _nbytes(value) >= _FREE_BYTES:
                frees[position].append(slot)
            elif value.__class__ is np.ndarray and _FREE_SMALL_ARRAYS:
                small_frees[position].append(slot)

    ops: list[tuple[Any, ...]] = [
        (OP_GUARD_VALUE, s, *guards[s]) for s in input_slots if s in guards
    ]
    for position, op in enumerate(body):
        ops.append(op)
        if position in frees or position in small_frees:
            ops.append((OP_FREE, tuple(frees[position]), tuple(small_frees[position])))
    call_slots = [op[2] for op in body if op[0] in (OP_CALL1, OP_CALL2, OP_CALLN)]
    return _Recording(
        ops,
        template,
        n_tape,
        list(input_slots),
        output_slots,
        alias_copies,
        names,
        call_slots,
        {i: _scalar_kind(tape[i][RESULT]) for i in order}
        | {s: _scalar_kind(template[s]) for s in range(n_tape, len(template))},
        len(representative),
        trace.describe(),
    )


def _interpret(
    program: list[tuple[Any, ...]],
    template: list[Any],
    input_slots: list[int],
    output_slots: list[int],
    inputs: Sequence[Any],
) -> list[Any]:
    v = template.copy()
    for s, x in zip(input_slots, inputs):
        v[s] = x
    # Local names: the loop below compares every line's opcode with them.
    call1, call2, free, guard_value, guard_shape = (
        OP_CALL1,
        OP_CALL2,
        OP_FREE,
        OP_GUARD_VALUE,
        OP_GUARD_SHAPE,
    )
    for op in program:
        opcode = op[0]
        if opcode == call2:
            v[op[2]] = op[1](v[op[3]], v[op[4]])
        elif opcode == call1:
            v[op[2]] = op[1](v[op[3]])
        elif opcode == free:
            for s in op[1]:
                v[s] = None
        elif opcode == guard_value:
            if not _same(v[op[1]], op[2], op[3]):
                raise _GuardFailed(op[1])
        elif opcode == guard_shape:
            if _kind(v[op[1]]) != op[2]:
                raise _GuardFailed(op[1])
        else:
            v[op[2]] = op[1](*[v[s] for s in op[3]], **op[4])
    return [v[s] for s in output_slots]


def _pack_expression(out: Any, names: list[str], env: dict[str, Any]) -> str:
    """Python source building the pytree ``out`` from the output leaves ``names``: literals
    of tuples, lists, dicts (keys in flattening order, as ``tree_unflatten`` makes them) and
    ``None``. Raises ``_NoFastPath`` for other node types."""
    leaves = iter(names)

    def build(value: Any) -> str:
        cls = value.__class__
        if cls is tuple or cls is list:
            items = [build(item) for item in value]
            if cls is list:
                return f"[{', '.join(items)}]"
            return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
        if cls is dict:
            parts = []
            for key in sorted(value):
                key_name = f"_k{len(env)}"
                env[key_name] = key
                parts.append(f"{key_name}: {build(value[key])}")
            return "{" + ", ".join(parts) + "}"
        if value is None:
            return "None"
        if cls is not Tracer and _lookup(cls) is not None:
            raise _NoFastPath
        return next(leaves)

    expression = build(out)
    if next(leaves, None) is not None:
        raise _NoFastPath
    return expression


def _unpack_source(
    args: tuple[Any, ...], kwargs: dict[str, Any], leaves: list[Any], env: dict[str, Any]
) -> str:
    """``def enter(args, kwargs)``: checks that the arguments have the signature of the
    traced ones (containers, dict keys, each leaf's class, dtype and shape, static values) and
    calls ``replay`` with the dynamic leaves, else returns ``_NO_MATCH``; raises
    ``_NoFastPath`` for pytrees with node types other than tuples, lists, dicts and ``None``
    or static leaves other than bools, strings and bytes."""
    lines = ["def enter(args, kwargs):", "    try:"]
    dynamic: list[str] = []
    position = 0

    def check(condition: str) -> None:
        lines.append(f"        if {condition}: return _NO_MATCH")

    def new_name(prefix: str, value: Any = None) -> str:
        name = f"_{prefix}{len(env)}"
        env[name] = value
        return name

    def walk(value: Any, expr: str) -> None:
        nonlocal position
        cls = value.__class__
        if cls is tuple or cls is list or cls is dict:
            if expr not in ("args", "kwargs"):
                local = f"t{len(lines)}"
                lines.append(f"        {local} = {expr}")
                expr = local
            check(f"{expr}.__class__ is not {cls.__name__} or len({expr}) != {len(value)}")
            if cls is dict:
                for key in sorted(value):
                    walk(value[key], f"{expr}[{new_name('k', key)}]")
            else:
                for k, item in enumerate(value):
                    walk(item, f"{expr}[{k}]")
            return
        if value is None:
            check(f"{expr} is not None")
            return
        if _lookup(cls) is not None or position >= len(leaves) or leaves[position] is not value:
            raise _NoFastPath
        position += 1
        local = f"a{len(lines)}"
        if cls is np.ndarray or isinstance(value, np.generic):
            lines.append(f"        {local} = {expr}")
            kind = new_name("c", cls)
            dtype = new_name("d", value.dtype)
            shape = (
                ""
                if cls is not np.ndarray
                else f" or {local}.shape != {new_name('s', value.shape)}"
            )
            check(
                f"{local}.__class__ is not {kind}{shape} or "
                f"({local}.dtype is not {dtype} and {local}.dtype != {dtype})"
            )
            dynamic.append(local)
        elif cls in _DYNAMIC_NUMBERS:
            lines.append(f"        {local} = {expr}")
            check(f"{local}.__class__ is not {cls.__name__}")
            dynamic.append(local)
        elif cls is bool:
            check(f"{expr} is not {value!r}")
        elif cls is str or cls is bytes:
            check(f"{expr}.__class__ is not {cls.__name__} or {expr} != {new_name('k', value)}")
        else:
            raise _NoFastPath

    walk(args, "args")
    walk(kwargs, "kwargs")
    if position != len(leaves):
        raise _NoFastPath
    lines.append("    except KeyError:")
    lines.append("        return _NO_MATCH")
    lines.append(f"    return replay({', '.join(dynamic)})")
    return "\n".join(lines) + "\n"


_SCALAR_OPERATORS: dict[Any, str] = {operator.add: "+", operator.sub: "-", operator.mul: "*"}
"""Operators a compiled replay evaluates on Python floats when tracing saw only ``float64``
scalars (``np.float64`` or Python ``float``) as operands and result: one IEEE 754 double
operation, correctly rounded, whichever of NumPy's scalar math or Python's float computes it
(so the same bits), in a fifth of the time. (Not ``/`` or ``**``: Python raises where NumPy
returns ``inf``.)"""

_ZERO_D_FLOAT64 = "0-d float64 array"
_FLOAT_KINDS = (np.float64, float, _ZERO_D_FLOAT64)
_EXACT_INT = 2**53
"""Python ints up to this size convert to ``float64`` exactly (as NumPy converts them)."""


def _scalar_kind(value: Any) -> Any:
    """The class of a traced value, or ``_ZERO_D_FLOAT64`` for a 0-d ``float64`` array."""
    cls = value.__class__
    if cls is np.ndarray and value.ndim == 0 and value.dtype == np.float64:
        return _ZERO_D_FLOAT64
    return cls


_QUIET_ERRORS = frozenset({"ignore", "warn"})


def _errors_are_quiet() -> bool:
    """NumPy's floating-point error handling neither raises, calls, logs nor prints now (the
    scalar path computes with Python floats, which only NumPy's ``warn`` would notice)."""
    return _QUIET_ERRORS.issuperset(np.geterr().values())


def _takes_a_python_float(impl: Any) -> bool:
    """``impl`` is a one-input, one-output ufunc: a Python float operand gives the same
    ``float64`` loop, on the same bits, and the same ``np.float64`` result as an ``np.float64``."""
    return isinstance(impl, np.ufunc) and impl.nin == 1 and impl.nout == 1


def _generate(
    rec: _Recording, pack: str, env: dict[str, Any], scalar_path: bool = True
) -> tuple[str, bool]:
    """``def replay(*dynamic leaves)``: the program as straight-line Python, one local variable
    per value, returning the output pytree (``pack``, over the names ``o0``, ``o1``...).

    With ``scalar_path``, runs of ``+``, ``-`` and ``*`` on ``float64`` scalars are computed
    on Python floats (locals ``w<slot>``) and converted to ``np.float64`` only where a value
    leaves the run (another implementation, a guard, an output). Also returns whether any
    instruction took that path.
    """
    classes = rec.classes

    def is_float(slot: int) -> bool:
        if slot >= rec.n_tape:
            value = rec.template[slot]
            if value.__class__ is int:
                return -_EXACT_INT <= value <= _EXACT_INT
        return classes.get(slot) in _FLOAT_KINDS

    def name(slot: int) -> str:
        if slot < rec.n_tape:
            return f"v{slot}"
        constant = f"c{slot}"
        env[constant] = rec.template[slot]
        return constant

    impl_names: dict[int, str] = {}

    def impl_name(impl: Any) -> str:
        found = impl_names.get(id(impl))
        if found is None:
            found = impl_names[id(impl)] = f"f{len(impl_names)}"
            env[found] = impl
        return found

    lines = [f"def replay({', '.join(f'v{s}' for s in rec.input_slots)}):"]
    as_float: dict[int, str] = {}  # slot -> a Python float expression of its value
    pending: set[int] = set()  # slots computed on Python floats, object not made yet

    def float_operand(slot: int) -> str:
        found = as_float.get(slot)
        if found is None:
            if slot >= rec.n_tape:
                value = rec.template[slot]
                found = f"c{slot}f"
                env[found] = float(value)
            elif classes.get(slot) is float:
                found = f"v{slot}"
            else:
                found = f"w{slot}"
                lines.append(f"    {found} = _float(v{slot})")
            as_float[slot] = found
        return found

    def operand(slot: int) -> str:
        if slot in pending:
            pending.discard(slot)
            make = "" if classes[slot] is float else "_f64"
            lines.append(f"    v{slot} = {make}(w{slot})")
        return name(slot)

    used_scalar_path = False
    for op in rec.ops:
        opcode = op[0]
        if opcode == OP_FREE:
            lines.append(f"    {' = '.join(f'v{s}' for s in op[1] + op[2])} = None")
        elif opcode == OP_GUARD_VALUE:
            s = op[1]
            env[f"g{s}"], env[f"k{s}"] = op[2], op[3]
            lines.append(f"    if not _same({operand(s)}, g{s}, k{s}): raise _GuardFailed({s})")
        elif opcode == OP_GUARD_SHAPE:
            s = op[1]
            env[f"s{s}"] = op[2]
            lines.append(f"    if _kind({operand(s)}) != s{s}: raise _GuardFailed({s})")
        else:
            impl, out = op[1], op[2]
            comment = f"  # {rec.names[out]}"
            if opcode == OP_CALLN:
                params = op[4]
                if all(k.isidentifier() and not keyword.iskeyword(k) for k in params):
                    keywords = []
                    for k, value in params.items():
                        env[f"p{out}_{k}"] = value
                        keywords.append(f"{k}=p{out}_{k}")
                else:
                    env[f"p{out}"] = params
                    keywords = [f"**p{out}"]
                call = ", ".join([operand(s) for s in op[3]] + keywords)
                lines.append(f"    v{out} = {impl_name(impl)}({call}){comment}")
                continue
            try:
                symbol = (_INLINE_BINARY if opcode == OP_CALL2 else _INLINE_UNARY).get(impl)
                scalar = _SCALAR_OPERATORS.get(impl) if opcode == OP_CALL2 else None
            except TypeError:
                symbol = scalar = None
            if (
                scalar_path
                and scalar is not None
                and classes.get(out) in (np.float64, float)
                and is_float(op[3])
                and is_float(op[4])
            ):
                left, right = float_operand(op[3]), float_operand(op[4])
                lines.append(f"    w{out} = {left} {scalar} {right}{comment}")
                as_float[out] = f"w{out}"
                pending.add(out)
                used_scalar_path = True
                continue
            if (
                scalar_path
                and opcode == OP_CALL1
                and op[3] in pending
                and classes[op[3]] is np.float64
                and _takes_a_python_float(impl)
            ):
                operands = [as_float[op[3]]]
            else:
                operands = [operand(s) for s in op[3:]]
            if symbol is None:
                lines.append(f"    v{out} = {impl_name(impl)}({', '.join(operands)}){comment}")
            elif opcode == OP_CALL2:
                lines.append(f"    v{out} = {operands[0]} {symbol} {operands[1]}{comment}")
            else:
                lines.append(f"    v{out} = {symbol}{operands[0]}{comment}")
    outputs = [operand(slot) for slot in rec.output_slots]
    for k, output in enumerate(outputs):
        lines.append(f"    o{k} = {output}")
    lines.append(f"    return {pack}")
    if used_scalar_path:
        inputs = ", ".join(f"v{s}" for s in rec.input_slots)
        lines.insert(1, f"    if not _errors_are_quiet(): return _plain_replay({inputs})")
    return "\n".join(lines) + "\n", used_scalar_path


class _Program:
    """One recorded variant: its source and the functions replaying it.

    ``run(dynamic leaves)`` and ``enter(args, kwargs)`` return the output pytree;
    ``enter`` returns ``_NO_MATCH`` when the arguments do not have the traced signature.
    """

    __slots__ = ("_code", "replay", "enter", "guard_sites", "_rec", "_pack", "_env", "_pending")

    def __init__(
        self,
        rec: _Recording,
        out: Any,
        out_tree: PyTreeDef,
        copy_outputs: list[int],
        guard_sites: dict[int, str],
        arguments: tuple[tuple[Any, ...], dict[str, Any], list[Any]] | None,
    ):
        self.guard_sites = guard_sites
        self._rec = rec
        env: dict[str, Any] = {
            "_same": _same,
            "_kind": _kind,
            "_GuardFailed": _GuardFailed,
            "_NO_MATCH": _NO_MATCH,
            "_owned": _owned,
            "_fresh": _fresh,
            "_unflatten": tree_unflatten,
            "_out_tree": out_tree,
            "_float": float,
            "_f64": np.float64,
            "_errors_are_quiet": _errors_are_quiet,
        }
        wrapped = [f"o{k}" for k in range(len(rec.output_slots))]
        for k in copy_outputs:
            wrapped[k] = f"_owned(o{k})"
        for k in rec.alias_copies:
            wrapped[k] = f"_fresh({wrapped[k]})"
        try:
            pack = _pack_expression(out, wrapped, env)
        except _NoFastPath:
            pack = f"_unflatten(_out_tree, [{', '.join(wrapped)}])"
        self._pack = pack
        self._env = env
        enter_source = ""
        if arguments is not None:
            with contextlib.suppress(_NoFastPath):
                enter_source = _unpack_source(*arguments, env)
        self._code = ""
        self._pending: str | None = None
        if len(rec.ops) > _CODEGEN_LIMIT:
            self.replay = self._interpreted()
            if enter_source:
                env["replay"] = self.replay
                exec(compile(enter_source, f"<fgrad.jit {rec.describe}>", "exec"), env)
            self.enter = env.get("enter", _no_fast_path)
        else:
            self._pending = enter_source
            self.replay = self._compile_then_replay
            self.enter = self._compile_then_enter if enter_source else _no_fast_path

    def _compile_pending(self) -> None:
        """Generate and compile the replay: on the first replay, not when tracing (the traced
        call returns the traced values, and a function called once never pays for it)."""
        enter_source, self._pending = self._pending, None
        if enter_source is None:
            return
        try:
            self._compile_replay(enter_source)
        except (SyntaxError, RecursionError, MemoryError):  # too large for CPython
            self.replay = self._env["replay"] = self._interpreter()
            self.enter = _no_fast_path
            return
        self.enter = self._env.get("enter", _no_fast_path)

    def _compile_then_replay(self, *inputs: Any) -> Any:
        self._compile_pending()
        return self.replay(*inputs)

    def _compile_then_enter(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        self._compile_pending()
        return self.enter(args, kwargs)

    def _compile_replay(self, extra: str = "") -> None:
        rec, env = self._rec, self._env
        code, used_scalar_path = _generate(rec, self._pack, env)
        if used_scalar_path:
            env["_plain_replay"] = self._interpreter()
        exec(compile(code + extra, f"<fgrad.jit {rec.describe}>", "exec"), env)
        self._code = code
        self.replay = env["replay"]

    def _interpreter(self) -> Callable[..., Any]:
        """The program interpreted: NumPy's implementations on every instruction."""
        rec = self._rec
        pack_env = dict(self._env)
        exec(
            compile(
                f"def pack({', '.join(f'o{k}' for k in range(len(rec.output_slots)))}):\n"
                f"    return {self._pack}\n",
                "<fgrad.jit pack>",
                "exec",
            ),
            pack_env,
        )
        pack = pack_env["pack"]

        def interpret(*inputs: Any) -> Any:
            return pack(
                *_interpret(rec.ops, rec.template, rec.input_slots, rec.output_slots, inputs)
            )

        return interpret

    def _interpreted(self) -> Callable[..., Any]:
        """The interpreter, replaced by the compiled program on the ``_HOT_REPLAYS``-th replay."""
        interpret = self._interpreter()
        replays_left = [_HOT_REPLAYS]

        def replay(*inputs: Any) -> Any:
            replays_left[0] -= 1
            if replays_left[0] == 0 and _HOT_REPLAYS > 0 and len(self._rec.ops) <= _COMPILE_LIMIT:
                try:
                    self._compile_replay()
                except (SyntaxError, RecursionError, MemoryError):
                    self.replay = self._env["replay"] = interpret  # too large for CPython
                return self.replay(*inputs)
            return interpret(*inputs)

        return replay

    @property
    def source(self) -> str:
        """The compiled replay's Python source, or the listing of an interpreted program."""
        self._compile_pending()
        return self._code or self._rec.listing

    def run(self, inputs: list[Any]) -> Any:
        return self.replay(*inputs)


def _is_dynamic(leaf: Any) -> bool:
    """A leaf traced as an input: an array, a NumPy scalar or a Python number."""
    return isinstance(leaf, (np.ndarray, np.generic)) or leaf.__class__ in _DYNAMIC_NUMBERS


def _no_fast_path(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return _NO_MATCH


def _describe_leaf(leaf: Any) -> str:
    """What the signature keeps of one argument leaf, for the retrace warning."""
    if isinstance(leaf, np.ndarray):
        return f"{leaf.dtype} array of shape {leaf.shape}"
    if isinstance(leaf, np.generic):
        return f"NumPy scalar {type(leaf).__name__}"
    if leaf.__class__ in _DYNAMIC_NUMBERS:
        return f"Python {type(leaf).__name__}"
    return f"static value {leaf!r}"


def _open_weak_trace(fun: Any, jit_trace: Trace) -> Trace:
    """A trace above ``jit_trace`` whose tracers stand for the Python numbers among the inputs.

    It records nothing itself: every primitive reaching one of its tracers is evaluated by
    ``compute`` one level down, on ``jit_trace``. Operators between Python numbers only are
    evaluated as Python evaluates them (a Python number again, so still weakly typed), other
    operations as usual, which hands NumPy the Python number itself.
    """
    weak = new_trace("jit", fun)
    weak.live = False
    weak.replay_later(lambda tracer: None)

    def compute(prim: Primitive, args: Sequence[Any], params: dict[str, Any]) -> Any:
        values = [a._value if a.__class__ is Tracer and a._trace is weak else a for a in args]
        python_op = _PYTHON_OPERATOR_PRIMITIVES.get(prim.name)
        if python_op is not None and not params:
            for a in args:
                if not (
                    (a.__class__ is Tracer and a._trace is weak)
                    or a.__class__ in _DYNAMIC_NUMBERS
                    or a.__class__ is bool
                ):
                    break
            else:
                return Tracer(python_op(*values), weak, 0)
        return prim(*values, **params)

    weak.compute = compute
    return weak


def _unweak(leaf: Any, weak: Trace | None) -> Any:
    if weak is not None and leaf.__class__ is Tracer and leaf._trace is weak:
        return leaf._value
    return leaf


class Jitted:
    """A function compiled by :func:`jit`; call it like the original.

    Attributes
    ----------
    stats : JitStats
        What the cache has done so far.
    """

    def __init__(
        self,
        fun: Callable[..., Any],
        max_variants: int,
        max_signatures: int,
        static_argnums: int | Iterable[int] = (),
        static_argnames: str | Iterable[str] = (),
    ) -> None:
        if max_variants < 1:
            raise ValueError(f"jit: max_variants must be at least 1, got {max_variants}")
        self.fun = fun
        self.max_variants = max_variants
        self.max_signatures = max_signatures
        self.stats = JitStats()
        self._cache: collections.OrderedDict[Any, list[_Program]] = collections.OrderedDict()
        # The programs of the signature of the last call that replayed or traced (the last
        # key of ``_cache``), tried first through their generated argument checks.
        self._fast: list[_Program] | None = None
        self._parameter_names = _parameter_names(fun)
        self._static_argnums, self._static_argnames = _static_arguments(
            fun_name(fun), self._parameter_names, static_argnums, static_argnames
        )
        self._static = bool(self._static_argnums or self._static_argnames)
        self._last_traced: tuple[PyTreeDef, list[tuple[str, str]]] | None = None
        self._changes: collections.Counter[str] = collections.Counter()
        self._last_detail: dict[str, str] = {}
        self._warned = False
        functools.update_wrapper(self, fun)

    def sources(self) -> list[str]:
        """The generated replay source of every cached variant."""
        return [p.source for programs in self._cache.values() for p in programs]

    def clear_cache(self) -> None:
        """Forget every recorded program."""
        self._cache.clear()
        self._fast = None
        self.stats.variants = 0

    def _split_static(
        self, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[tuple[Any, ...], dict[str, Any], tuple[tuple[int | str, Any], ...]]:
        """``args`` and ``kwargs`` with the static arguments taken out (``None`` in their place)."""
        statics: list[tuple[int | str, Any]] = []
        positional = list(args)
        for i in self._static_argnums:
            k = i if i >= 0 else len(args) + i
            if 0 <= k < len(args):
                statics.append((k, args[k]))
                positional[k] = None
        if kwargs:
            kwargs = dict(kwargs)
            for name in self._static_argnames:
                if name in kwargs:
                    statics.append((name, kwargs[name]))
                    kwargs[name] = None
        for where, value in statics:
            try:
                hash(value)
            except TypeError:
                raise TypeError(
                    f"jit({fun_name(self.fun)}): static argument {self._argument_name(where)} "
                    f"is a {type(value).__name__}, which is not hashable; a static argument "
                    "must be hashable (one trace per value): pass a tuple instead of a list, "
                    "or make the argument dynamic"
                ) from None
        return tuple(positional), kwargs, tuple(statics)

    def _argument_name(self, where: int | str) -> str:
        if isinstance(where, str):
            return repr(where)
        names = self._parameter_names
        if names is not None and where < len(names):
            return f"{where} ({names[where]!r})"
        return str(where)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        fast = self._fast
        failed_at = None
        if fast is not None:
            for program in fast:
                try:
                    result = program.enter(args, kwargs)
                except _GuardFailed as failure:
                    self.stats.guard_failures += 1
                    failed_at = program.guard_sites.get(failure.args[0], "an unknown line")
                    continue
                if result is _NO_MATCH:
                    break
                self.stats.replays += 1
                return result
        return self._call(args, kwargs, fast if failed_at is not None else None, failed_at)

    def _call(
        self,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        tried: list[_Program] | None,
        failed_at: str | None,
    ) -> Any:
        """A call the generated argument checks did not answer: the signature found by
        flattening the arguments; ``tried`` are programs whose guards already failed."""
        self._fast = None
        statics: tuple[tuple[int | str, Any], ...] = ()
        if self._static:
            args, kwargs, statics = self._split_static(args, kwargs)
        leaves, treedef = tree_flatten((args, kwargs))
        signature: list[Any] = [treedef, statics] if statics else [treedef]
        dynamic: list[Any] = []
        for leaf in leaves:
            cls = leaf.__class__
            if cls is np.ndarray:
                signature.append(leaf.shape)
                signature.append(leaf.dtype)
                dynamic.append(leaf)
            elif isinstance(leaf, np.generic):
                signature.append(cls)  # in place of the shape (): a scalar is not a 0-d array
                signature.append(leaf.dtype)
                dynamic.append(leaf)
            elif cls is float or cls is int or cls is complex:
                signature.append(cls)
                dynamic.append(leaf)
            elif cls is Tracer:
                self.stats.eager_calls += 1
                return _call(self.fun, args, kwargs, statics)
            elif isinstance(leaf, np.ndarray):
                raise TypeError(
                    f"jit: arguments of type {type(leaf).__name__} (an ndarray subclass) are not "
                    "supported; pass np.asarray(x)"
                )
            elif isinstance(leaf, float):
                signature.append((float, leaf.hex()))
            elif isinstance(leaf, _STATIC_TYPES):
                signature.append((type(leaf), leaf))
            else:
                try:
                    hash(leaf)
                except TypeError:
                    raise TypeError(
                        f"jit: argument leaf of type {type(leaf).__name__} is neither an array "
                        "nor hashable, so it can be neither traced nor used as a static value"
                    ) from None
                signature.append((type(leaf), leaf))
        key = tuple(signature)
        programs = self._cache.get(key)
        if programs is None:
            programs = []
            self._cache[key] = programs
            while len(self._cache) > self.max_signatures:
                _, dropped = self._cache.popitem(last=False)
                self.stats.variants -= len(dropped)
        else:
            self._cache.move_to_end(key)
        if programs is not tried:
            for program in programs:
                try:
                    result = program.run(dynamic)
                except _GuardFailed as failure:
                    self.stats.guard_failures += 1
                    failed_at = program.guard_sites.get(failure.args[0], "an unknown line")
                    continue
                self.stats.replays += 1
                if not self._static:
                    self._fast = programs
                return result
        if len(programs) >= self.max_variants:
            self.stats.eager_calls += 1
            self._note_change((f"the value read at {failed_at}", ""), 4, running_eagerly=True)
            return _call(self.fun, args, kwargs, statics)
        if failed_at is not None:
            change: tuple[str, str] | None = (f"the value read at {failed_at}", "")
        else:
            change = self._signature_change(args, kwargs, statics, treedef)
        return self._trace(args, kwargs, leaves, treedef, statics, programs, change)

    def _signature_change(
        self,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        statics: tuple[tuple[int | str, Any], ...],
        treedef: PyTreeDef,
    ) -> tuple[str, str] | None:
        """What differs from the previous traced call's signature (``None`` on the first):
        the argument, and how."""
        pairs, _ = tree_flatten_with_path((args, kwargs))
        described = [(self._path_name(path), _describe_leaf(leaf)) for path, leaf in pairs]
        described += [
            (f"static argument {self._argument_name(where)}", repr(value))
            for where, value in statics
        ]
        last = self._last_traced
        self._last_traced = (treedef, described)
        if last is None:
            return None
        if last[0] != treedef or len(last[1]) != len(described):
            return "the pytree structure of the arguments", ""
        for (name, before), (_, now) in zip(last[1], described):
            if before != now:
                return name, f"{before}, then {now}"
        return "a signature dropped from the cache (raise max_signatures)", ""

    def _path_name(self, path: tuple[Any, ...]) -> str:
        if not path:
            return "an argument"
        if getattr(path[0], "idx", None) == 0 and len(path) > 1:
            position = getattr(path[1], "idx", None)
            name = self._argument_name(position) if isinstance(position, int) else keystr(path[1:2])
            rest = keystr(path[2:])
            return f"argument {name}{' at ' + rest if rest else ''}"
        return f"keyword argument {keystr(path[1:])}"

    def _note_change(
        self, change: tuple[str, str] | None, stacklevel: int, running_eagerly: bool = False
    ) -> None:
        """Count what made this call trace (or run eagerly); warn once if it keeps happening."""
        if change is not None:
            self._changes[change[0]] += 1
            self._last_detail[change[0]] = change[1]
        if self._warned:
            return
        stats = self.stats
        calls = stats.traces + stats.replays + stats.eager_calls
        if not running_eagerly and not (
            stats.traces >= _RETRACE_WARN_AFTER and 2 * stats.traces > calls
        ):
            return
        self._warned = True
        changes = []
        for subject, n in self._changes.most_common(3):
            detail = self._last_detail[subject]
            changes.append(f"{subject} ({n}x{', last: ' + detail if detail else ''})")
        what = "; ".join(changes)
        code = getattr(inspect.unwrap(self.fun), "__code__", None)
        where = f" (defined at {code.co_filename}:{code.co_firstlineno})" if code else ""
        eager = (
            f" It now runs eagerly: more than max_variants={self.max_variants} variants."
            if running_eagerly
            else ""
        )
        warnings.warn(
            f"jit({fun_name(self.fun)}){where} traced {stats.traces} times in {calls} calls "
            f"instead of replaying.{eager} What changed: {what}. Pass values that change from "
            "call to call as array or Python number arguments (not read by Python code: "
            "float(x), if x > 0, shapes), and mark arguments that select code as "
            "static_argnums/static_argnames. (Warned once per function.)",
            JitRetraceWarning,
            stacklevel=stacklevel,
        )

    def _trace(
        self,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        leaves: list[Any],
        treedef: PyTreeDef,
        statics: tuple[tuple[int | str, Any], ...],
        programs: list[_Program],
        change: tuple[str, str] | None,
    ) -> Any:
        self.stats.traces += 1
        self._note_change(change, 5)
        trace = new_trace("jit", self.fun)
        guards: dict[int, tuple[np.ndarray, type]] = {}
        guard_sites: dict[int, str] = {}

        def on_read(tracer: Tracer) -> None:
            if tracer._idx not in guards:
                value = tracer._value
                guards[tracer._idx] = (np.array(value, copy=True), value.__class__)
                guard_sites[tracer._idx] = user_site()

        trace.replay_later(on_read)
        weak = None
        input_slots = []
        traced_leaves = []
        for leaf in leaves:
            cls = leaf.__class__
            if isinstance(leaf, (np.ndarray, np.generic)) or cls in _DYNAMIC_NUMBERS:
                tracer = trace.new_input(leaf)
                input_slots.append(tracer._idx)
                if cls in _DYNAMIC_NUMBERS:
                    if weak is None:
                        weak = _open_weak_trace(self.fun, trace)
                    tracer = Tracer(tracer, weak, 0)
                traced_leaves.append(tracer)
            else:
                traced_leaves.append(leaf)
        try:
            traced_args, traced_kwargs = tree_unflatten(treedef, traced_leaves)
            out = _call(self.fun, traced_args, traced_kwargs, statics)
        finally:
            if weak is not None:
                close_trace(weak)
            close_trace(trace)
        out_leaves, out_tree = tree_flatten(out)
        out_leaves = [_unweak(leaf, weak) for leaf in out_leaves]
        rec: _Recording | None
        try:
            rec = _record(trace, input_slots, out_leaves, guards)
        except _Untraceable:
            rec = None
        else:
            rec.classes.update(
                (slot, _scalar_kind(leaf))
                for slot, leaf in zip(input_slots, (x for x in leaves if _is_dynamic(x)))
            )
        trace.tape = []
        result = [
            leaf._value if leaf.__class__ is Tracer and leaf._trace is trace else leaf
            for leaf in out_leaves
        ]
        if rec is not None:
            copy_outputs = [
                k
                for k, (leaf, value) in enumerate(zip(out_leaves, result))
                if isinstance(value, np.ndarray)
                and (leaf.__class__ is not Tracer or not value.flags.writeable)
            ]
            arguments = None if self._static else (args, kwargs, leaves)
            programs.insert(0, _Program(rec, out, out_tree, copy_outputs, guard_sites, arguments))
            self.stats.variants += 1
            if not self._static:
                self._fast = programs
        else:
            self.stats.eager_calls += 1
        return tree_unflatten(out_tree, result)


def _call(
    fun: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    statics: tuple[tuple[int | str, Any], ...],
) -> Any:
    """``fun(*args, **kwargs)`` with the static arguments put back in their places."""
    if statics:
        positional = list(args)
        kwargs = dict(kwargs)
        for where, value in statics:
            if isinstance(where, str):
                kwargs[where] = value
            else:
                positional[where] = value
        args = tuple(positional)
    return fun(*args, **kwargs)


def _parameter_names(fun: Callable[..., Any]) -> list[str] | None:
    """The names of ``fun``'s positional parameters, or ``None`` without a signature."""
    try:
        parameters = inspect.signature(fun).parameters.values()
    except (TypeError, ValueError):
        return None
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p.name for p in parameters if p.kind in kinds]


def _static_arguments(
    name: str,
    parameter_names: list[str] | None,
    static_argnums: int | Iterable[int],
    static_argnames: str | Iterable[str],
) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """Both lists completed with each other through the parameter names, as ``jax.jit`` does."""
    nums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
    names = (static_argnames,) if isinstance(static_argnames, str) else tuple(static_argnames)
    for i in nums:
        if isinstance(i, bool) or not isinstance(i, int):
            raise TypeError(f"jit({name}): static_argnums must be ints, got {i!r}")
    for n in names:
        if not isinstance(n, str):
            raise TypeError(f"jit({name}): static_argnames must be strings, got {n!r}")
    if parameter_names is not None:
        for i in nums:
            if 0 <= i < len(parameter_names) and parameter_names[i] not in names:
                names += (parameter_names[i],)
        for n in names:
            if n in parameter_names and parameter_names.index(n) not in nums:
                nums += (parameter_names.index(n),)
    return nums, names


def jit(
    fun: Callable[..., Any] | None = None,
    *,
    static_argnums: int | Sequence[int] = (),
    static_argnames: str | Sequence[str] = (),
    max_variants: int = 8,
    max_signatures: int = 32,
) -> Any:
    """Compile ``fun`` by tracing it once per signature and replaying the recording.

    Parameters
    ----------
    fun : callable
        A pure function of pytrees of arrays (and static Python values). It
        may contain ``grad``, ``value_and_grad``, ``vjp``... and Python
        control flow on traced values.
    static_argnums : int or sequence of int
        Positions of arguments that are static: part of the signature (one
        trace per value; they must be hashable) instead of traced. Use it for
        arguments that select code or give shapes (flags, sizes, layer counts).
    static_argnames : str or sequence of str
        The same by parameter name (positional or keyword).
    max_variants : int
        Programs kept per signature; each failed guard adds one. Beyond it the
        signature runs eagerly (see ``Jitted.stats``).
    max_signatures : int
        Signatures kept, least recently used dropped first.

    Returns
    -------
    Jitted
        Callable like ``fun``, returning bit-identical results.

    Warns
    -----
    JitRetraceWarning
        Once per function, when it traces in most of its calls (at least 5
        traces) or runs eagerly past ``max_variants``, naming the argument or
        the line reading a value that keeps changing.

    Examples
    --------
    >>> @fgrad.jit
    ... def step(w, x, lr):
    ...     loss, g = fgrad.value_and_grad(lambda w: fnp.sum(fnp.tanh(x @ w) ** 2))(w)
    ...     return loss, w - lr * g
    >>> x = np.ones((3, 2))
    >>> loss, w = step(np.zeros(2), x, 0.1)
    >>> loss, w = step(w, x, 0.05)
    >>> step.stats.traces, step.stats.replays
    (1, 1)
    >>> @fgrad.jit
    ... def relu_sum(x):
    ...     return x.sum() if x.sum() > 0 else -x.sum()
    >>> float(relu_sum(np.ones(2))), float(relu_sum(-np.ones(2)))
    (2.0, 2.0)
    >>> relu_sum.stats.guard_failures, relu_sum.stats.variants
    (1, 2)
    >>> scale = fgrad.jit(lambda x, double: 2 * x if double else x, static_argnames="double")
    >>> scale(np.ones(2), double=True), scale(np.ones(2), double=False)
    (array([2., 2.]), array([1., 1.]))
    """
    if fun is None:
        return functools.partial(
            jit,
            static_argnums=static_argnums,
            static_argnames=static_argnames,
            max_variants=max_variants,
            max_signatures=max_signatures,
        )
    return Jitted(fun, max_variants, max_signatures, static_argnums, static_argnames)


def _print_impl(*values: Any, fmt: str, names: tuple[str, ...]) -> None:
    positional = len(values) - len(names)
    print(fmt.format(*values[:positional], **dict(zip(names, values[positional:]))))


_DEBUG_PRINT = Primitive("debug_print", _print_impl)
_mark_effectful(_print_impl)


def debug_print(fmt: str, *args: Any, **kwargs: Any) -> None:
    """Print ``fmt.format(*args, **kwargs)`` now, and on every replay under :func:`jit`.

    Like ``jax.debug.print``: inside a jitted function an ordinary ``print``
    runs only while tracing, while ``debug_print`` is recorded as an
    instruction of the program and prints the values of each call.
    Differentiation levels are dropped (it prints values, not tracers).

    Parameters
    ----------
    fmt : str
        A :meth:`str.format` string.
    *args, **kwargs
        The values to format: arrays, traced or not, and Python values.

    Examples
    --------
    >>> @fgrad.jit
    ... def double(x):
    ...     fgrad.debug_print("x = {}, sum = {s:.1f}", x, s=x.sum())
    ...     return 2 * x
    >>> _ = double(np.array([1.0, 2.0]))
    x = [1. 2.], sum = 3.0
    >>> _ = double(np.array([3.0, 4.0]))
    x = [3. 4.], sum = 7.0
    """
    if not isinstance(fmt, str):
        raise TypeError(f"debug_print: fmt must be a format string, got {type(fmt).__name__}")
    names = tuple(kwargs)
    values = [detach(v) for v in (*args, *kwargs.values())]
    if any(v.__class__ is Tracer for v in values):
        bindn(_DEBUG_PRINT, values, {"fmt": fmt, "names": names})
    else:
        _print_impl(*values, fmt=fmt, names=names)


def recorded(
    impl: Callable[..., Any], name: str, *, once_per_example: bool = False
) -> Callable[..., Any]:
    """``impl`` of plain values, recorded as one instruction when an argument is traced.

    For functions with no gradient whose results must be recomputed on every
    :func:`jit` replay instead of read once (``fgrad.random``'s sampling: a
    fresh key per call replays). Differentiation levels of the arguments are
    dropped; keyword arguments are fixed parameters of the instruction.

    Under :func:`vmap` the function runs once per example and the results are
    stacked. That is a fallback, warned about once, unless ``once_per_example``
    says the loop is the computation itself (``fgrad.random``: each example's
    key seeds its own bit generator).

    Examples
    --------
    >>> twice = recorded(lambda x: 2 * x, "twice")
    >>> f = fgrad.jit(lambda x: twice(x) + 1)
    >>> f(np.ones(2)), f(np.zeros(2)), f.stats.replays
    (array([3., 3.]), array([1., 1.]), 1)
    """
    prim = Primitive(name, impl, batch=each_example if once_per_example else None)
    _mark_effectful(impl)

    def call(*args: Any, **params: Any) -> Any:
        values = [detach(a) for a in args]
        for v in values:
            if v.__class__ is Tracer:
                return bindn(prim, values, params)
        return impl(*values, **params)

    call.__name__ = call.__qualname__ = name
    return call
