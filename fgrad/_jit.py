"""``fgrad.jit``: trace once, replay many times, never silently wrong.

``jit(fun)`` runs ``fun`` once per *signature* (the pytree structure of the
arguments; for each array leaf its container type -- ``np.ndarray`` or the
NumPy scalar type such as ``np.float64`` --, dtype and shape; and the values
of the other leaves) under a recording trace. Every primitive evaluated on the
arguments' data -- in ``fun`` itself and in the forward and backward passes of
any ``grad``/``vjp`` inside it -- becomes one line of a generated Python
function of plain NumPy calls, which later calls replay without creating
tracers. Values that are only needed until a later line are freed as soon as
they are dead.

Replays are bit-identical to the traced eager computation, on any CPU. The
guarantee, by construction: a replay calls the same implementations, in the
same order, with the same constants (the very objects tracing used), and
hands every implementation operands of exactly the container type
(``np.ndarray``, a 0-d one included, versus a NumPy scalar), dtype and shape
that tracing handed it. The inputs match because the container type, dtype
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
import dataclasses
import functools
import inspect
import operator
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

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
from fgrad.tree import PyTreeDef, keystr, tree_flatten, tree_flatten_with_path, tree_unflatten

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


@dataclasses.dataclass
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

    traces: int = 0
    replays: int = 0
    guard_failures: int = 0
    eager_calls: int = 0
    variants: int = 0


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


class _Program:
    """One recorded variant: generated source and the function compiled from it."""

    __slots__ = ("source", "replay", "out_tree", "copy_outputs", "guard_sites")

    def __init__(
        self,
        source: str,
        replay: Callable[..., Any],
        out_tree: PyTreeDef,
        n: int,
        copy_outputs: list[int],
        guard_sites: dict[int, str],
    ):
        self.source = source
        self.replay = replay
        self.out_tree = out_tree
        self.copy_outputs = copy_outputs
        self.guard_sites = guard_sites

    def run(self, inputs: list[Any]) -> Any:
        leaves = self.replay(*inputs)
        for k in self.copy_outputs:
            leaves[k] = _owned(leaves[k])
        return tree_unflatten(self.out_tree, leaves)


def _owned(value: Any) -> Any:
    """A replay output the caller may keep and modify: constants and views are copied."""
    if isinstance(value, np.ndarray) and not value.flags.writeable:
        return value.copy()
    return value


_FREE_BYTES = 65536
"""Values at least this large are released right after their last use; smaller ones live
until the replay returns (releasing costs more than it saves)."""

_CODEGEN_LIMIT = 3000
"""Programs up to this many lines are compiled to Python; longer ones are interpreted
(CPython's compiler needs tens of microseconds per line)."""

# Opcodes of a recorded program: each line is a tuple whose first item is one of these.
OP_FREE = 0
"""``(OP_FREE, slots)``: release the values in ``slots`` (dead from here on)."""
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


def _interpret(
    program: list[tuple[Any, ...]],
    template: list[Any],
    input_slots: list[int],
    output_slots: list[int],
    inputs: list[Any],
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


def _compile(
    trace: Trace,
    input_slots: list[int],
    out_leaves: list[Any],
    guards: dict[int, tuple[np.ndarray, type]],
) -> tuple[str, Callable[..., Any], int]:
    """Turn the recorded tape into a replay function ``(*inputs) -> output leaves``."""
    tape = trace.tape
    n_slots = len(tape)
    template: list[Any] = [None] * n_slots
    output_slots = []
    for leaf in out_leaves:
        if leaf.__class__ is Tracer:
            if leaf._trace is not trace:
                raise _Untraceable
            output_slots.append(leaf._idx)
        else:
            if isinstance(leaf, np.ndarray):
                leaf = leaf.copy()
                leaf.flags.writeable = False
            template.append(leaf)
            output_slots.append(len(template) - 1)
    needed: set[int] = set(guards) | set(output_slots)
    order = []
    for i in range(n_slots - 1, -1, -1):
        entry = tape[i]
        if entry is None or (i not in needed and entry[PRIMITIVE] is not _DEBUG_PRINT):
            continue
        order.append(i)
        needed.update(entry[PARENTS])
    order.reverse()
    last_use: dict[int, int] = {}
    for i in order:
        for p in tape[i][PARENTS]:
            last_use[p] = i
    keep = set(output_slots) | set(guards) | set(input_slots)
    frees: dict[int, list[int]] = collections.defaultdict(list)
    for slot, i in last_use.items():
        if slot not in keep and _nbytes(tape[slot][RESULT]) >= _FREE_BYTES:
            frees[i].append(slot)
    program: list[tuple[Any, ...]] = []
    listing = []
    names: dict[int, str] = {}
    for s in input_slots:
        if s in guards:
            program.append((OP_GUARD_VALUE, s, *guards[s]))
            listing.append(f"guard v[{s}]")
    for i in order:
        prim, parents, argnums, args, params, _ = tape[i]
        srcs = []
        for k, value in enumerate(args):
            if k in argnums:
                srcs.append(parents[argnums.index(k)])
            elif value.__class__ is Tracer:
                raise _Untraceable
            else:
                template.append(value)
                srcs.append(len(template) - 1)
        if params or len(srcs) > 2:
            program.append((OP_CALLN, prim.impl, i, tuple(srcs), params))
        elif len(srcs) == 2:
            program.append((OP_CALL2, prim.impl, i, *srcs))
        else:
            program.append((OP_CALL1, prim.impl, i, *srcs))
        listing.append(f"v[{i}] = {prim.name}({', '.join(f'v[{s}]' for s in srcs)})")
        names[i] = prim.name
        if prim.varying_shape:
            program.append((OP_GUARD_SHAPE, i, _kind(tape[i][RESULT])))
            listing.append(f"guard type, dtype and shape of v[{i}]")
        if i in guards:
            program.append((OP_GUARD_VALUE, i, *guards[i]))
            listing.append(f"guard v[{i}]")
        if frees.get(i):
            program.append((OP_FREE, tuple(frees[i])))
    source = "\n".join(listing) + "\n"
    if len(program) > _CODEGEN_LIMIT:

        def replay(*inputs: Any) -> list[Any]:
            return _interpret(program, template, input_slots, output_slots, list(inputs))

        return source, replay, len(order)
    env: dict[str, Any] = {
        "_same": _same,
        "_kind": _kind,
        "_GuardFailed": _GuardFailed,
        "_t": template,
    }
    lines = ["def replay(*inputs):", "    v = _t.copy()"]
    lines += [f"    v[{s}] = inputs[{k}]" for k, s in enumerate(input_slots)]
    for op in program:
        opcode = op[0]
        if opcode == OP_FREE:
            lines.append(f"    {' = '.join(f'v[{s}]' for s in op[1])} = None")
        elif opcode == OP_GUARD_VALUE:
            s = op[1]
            env[f"g{s}"], env[f"c{s}"] = op[2], op[3]
            lines.append(f"    if not _same(v[{s}], g{s}, c{s}): raise _GuardFailed({s})")
        elif opcode == OP_GUARD_SHAPE:
            env[f"s{op[1]}"] = op[2]
            lines.append(f"    if _kind(v[{op[1]}]) != s{op[1]}: raise _GuardFailed({op[1]})")
        else:
            name = f"f{op[2]}"
            env[name] = op[1]
            if opcode == OP_CALLN:
                env[f"p{op[2]}"] = op[4]
                call = ", ".join([f"v[{s}]" for s in op[3]] + [f"**p{op[2]}"])
            else:
                call = ", ".join(f"v[{s}]" for s in op[3:])
            lines.append(f"    v[{op[2]}] = {name}({call})  # {names[op[2]]}")
    lines.append(f"    return [{', '.join(f'v[{s}]' for s in output_slots)}]")
    code = "\n".join(lines) + "\n"
    exec(compile(code, f"<fgrad.jit {trace.describe()}>", "exec"), env)
    return code, env["replay"], len(order)


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
        failed_at = None
        for program in programs:
            try:
                result = program.run(dynamic)
            except _GuardFailed as failure:
                self.stats.guard_failures += 1
                failed_at = program.guard_sites.get(failure.args[0], "an unknown line")
                continue
            self.stats.replays += 1
            return result
        if len(programs) >= self.max_variants:
            self.stats.eager_calls += 1
            self._note_change((f"the value read at {failed_at}", ""), 3, running_eagerly=True)
            return _call(self.fun, args, kwargs, statics)
        if failed_at is not None:
            change: tuple[str, str] | None = (f"the value read at {failed_at}", "")
        else:
            change = self._signature_change(args, kwargs, statics, treedef)
        return self._trace(leaves, treedef, statics, programs, change)

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
        leaves: list[Any],
        treedef: PyTreeDef,
        statics: tuple[tuple[int | str, Any], ...],
        programs: list[_Program],
        change: tuple[str, str] | None,
    ) -> Any:
        self.stats.traces += 1
        self._note_change(change, 4)
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
            args, kwargs = tree_unflatten(treedef, traced_leaves)
            out = _call(self.fun, args, kwargs, statics)
        finally:
            if weak is not None:
                close_trace(weak)
            close_trace(trace)
        out_leaves, out_tree = tree_flatten(out)
        out_leaves = [_unweak(leaf, weak) for leaf in out_leaves]
        try:
            source, replay, n = _compile(trace, input_slots, out_leaves, guards)
        except _Untraceable:
            source = ""
        trace.tape = []
        result = [
            leaf._value if leaf.__class__ is Tracer and leaf._trace is trace else leaf
            for leaf in out_leaves
        ]
        if source:
            copy_outputs = [
                k
                for k, (leaf, value) in enumerate(zip(out_leaves, result))
                if isinstance(value, np.ndarray)
                and (leaf.__class__ is not Tracer or not value.flags.writeable)
            ]
            programs.insert(0, _Program(source, replay, out_tree, n, copy_outputs, guard_sites))
            self.stats.variants += 1
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

    def call(*args: Any, **params: Any) -> Any:
        values = [detach(a) for a in args]
        for v in values:
            if v.__class__ is Tracer:
                return bindn(prim, values, params)
        return impl(*values, **params)

    call.__name__ = call.__qualname__ = name
    return call
