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
tracing, and arrays it closes over (globals, enclosing variables) are
constants of the recording: pass an array as an argument if it changes
between calls. Python scalars among the arguments are static (part of the
signature); pass ``np.float64(x)`` for a scalar that changes from call to call.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from fgrad._core import PARENTS, RESULT, Trace, Tracer, close_trace, new_trace
from fgrad.tree import PyTreeDef, tree_flatten, tree_unflatten

__all__ = ["JitStats", "Jitted", "jit"]

_STATIC_TYPES = (bool, int, float, complex, str, bytes, type(None))


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

    __slots__ = ("source", "replay", "out_tree", "copy_outputs")

    def __init__(
        self,
        source: str,
        replay: Callable[..., Any],
        out_tree: PyTreeDef,
        n: int,
        copy_outputs: list[int],
    ):
        self.source = source
        self.replay = replay
        self.out_tree = out_tree
        self.copy_outputs = copy_outputs

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
        if entry is None or i not in needed:
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


class Jitted:
    """A function compiled by :func:`jit`; call it like the original.

    Attributes
    ----------
    stats : JitStats
        What the cache has done so far.
    """

    def __init__(self, fun: Callable[..., Any], max_variants: int, max_signatures: int) -> None:
        if max_variants < 1:
            raise ValueError(f"jit: max_variants must be at least 1, got {max_variants}")
        self.fun = fun
        self.max_variants = max_variants
        self.max_signatures = max_signatures
        self.stats = JitStats()
        self._cache: collections.OrderedDict[Any, list[_Program]] = collections.OrderedDict()
        functools.update_wrapper(self, fun)

    def sources(self) -> list[str]:
        """The generated replay source of every cached variant."""
        return [p.source for programs in self._cache.values() for p in programs]

    def clear_cache(self) -> None:
        """Forget every recorded program."""
        self._cache.clear()
        self.stats.variants = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        leaves, treedef = tree_flatten((args, kwargs))
        signature: list[Any] = [treedef]
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
            elif cls is Tracer:
                self.stats.eager_calls += 1
                return self.fun(*args, **kwargs)
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
        for program in programs:
            try:
                result = program.run(dynamic)
            except _GuardFailed:
                self.stats.guard_failures += 1
                continue
            self.stats.replays += 1
            return result
        if len(programs) >= self.max_variants:
            self.stats.eager_calls += 1
            return self.fun(*args, **kwargs)
        return self._trace(leaves, treedef, programs)

    def _trace(self, leaves: list[Any], treedef: PyTreeDef, programs: list[_Program]) -> Any:
        self.stats.traces += 1
        trace = new_trace("jit", self.fun)
        guards: dict[int, tuple[np.ndarray, type]] = {}

        def on_read(tracer: Tracer) -> None:
            if tracer._idx not in guards:
                value = tracer._value
                guards[tracer._idx] = (np.array(value, copy=True), value.__class__)

        trace.replay_later(on_read)
        input_slots = []
        traced_leaves = []
        for leaf in leaves:
            if isinstance(leaf, (np.ndarray, np.generic)):
                tracer = trace.new_input(leaf)
                input_slots.append(tracer._idx)
                traced_leaves.append(tracer)
            else:
                traced_leaves.append(leaf)
        try:
            args, kwargs = tree_unflatten(treedef, traced_leaves)
            out = self.fun(*args, **kwargs)
        finally:
            close_trace(trace)
        out_leaves, out_tree = tree_flatten(out)
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
            programs.insert(0, _Program(source, replay, out_tree, n, copy_outputs))
            self.stats.variants += 1
        else:
            self.stats.eager_calls += 1
        return tree_unflatten(out_tree, result)


def jit(
    fun: Callable[..., Any] | None = None,
    *,
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
    max_variants : int
        Programs kept per signature; each failed guard adds one. Beyond it the
        signature runs eagerly (see ``Jitted.stats``).
    max_signatures : int
        Signatures kept, least recently used dropped first.

    Returns
    -------
    Jitted
        Callable like ``fun``, returning bit-identical results.

    Examples
    --------
    >>> @fgrad.jit
    ... def step(w, x):
    ...     loss, g = fgrad.value_and_grad(lambda w: fnp.sum(fnp.tanh(x @ w) ** 2))(w)
    ...     return loss, w - 0.1 * g
    >>> x = np.ones((3, 2))
    >>> loss, w = step(np.zeros(2), x)
    >>> loss, w = step(w, x)
    >>> step.stats.traces, step.stats.replays
    (1, 1)
    >>> @fgrad.jit
    ... def relu_sum(x):
    ...     return x.sum() if x.sum() > 0 else -x.sum()
    >>> float(relu_sum(np.ones(2))), float(relu_sum(-np.ones(2)))
    (2.0, 2.0)
    >>> relu_sum.stats.guard_failures, relu_sum.stats.variants
    (1, 2)
    """
    if fun is None:
        return functools.partial(jit, max_variants=max_variants, max_signatures=max_signatures)
    return Jitted(fun, max_variants, max_signatures)
