"""Random differentiable programs for the property tests of ``tests/test_properties.py``.

A :class:`Program` is Python source: a function ``program(a0, a1, ...)`` of pytree
arguments that unpacks their leaves and applies 3 to 30 NumPy functions, each
line written with a module placeholder so that the same program runs through
``fgrad.numpy`` (``fnp.tanh(v0)``) or through NumPy's dispatch on tracers
(``np.tanh(v0)``). The source is the single truth: the generator evaluates every
line with NumPy while it draws the program, and the tests ``exec`` the same text.
``repr(program)`` is a runnable script (imports, function, arguments, argnums), so
a shrunk failing example can be pasted into a Python prompt.

The generator sees the values it computes, which keeps every program inside the
domain where finite differences are valid: logarithms and square roots only of
values above :data:`POSITIVE_FLOOR`, divisions only by values of magnitude above
it, ``abs``, ``maximum``, ``max``, ``sort``, ``clip`` and comparison masks only where
every value is at least :data:`KINK_MARGIN` away from the kink or tie, and no
intermediate larger than :data:`VALUE_LIMIT` in magnitude. An operation that
would leave the domain is not added (its draws are spent, which hypothesis
handles like any other choice).

:class:`NetCase` is the same idea for ``fgrad.nn``: a random ``serial`` stack of
``Dense`` layers and activations, and a squared-error loss of its parameters.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st

import fgrad
import fgrad.numpy as fnp
from fgrad import nn
from fgrad.tree import tree_flatten

KINK_MARGIN = 0.05
"""Smallest distance of a value from a kink, tie or jump (the FD step is 1e-3)."""
POSITIVE_FLOOR = 0.2
"""Smallest argument of log and sqrt, smallest magnitude of a divisor."""
VALUE_LIMIT = 40.0
"""Largest magnitude of any intermediate value."""
EXP_ARGUMENT_LIMIT = 3.0
"""Largest magnitude of the argument of exp, expm1, sinh and cosh."""
MAX_SIZE = 48
"""Largest number of elements of any intermediate array."""
MAX_NDIM = 4
"""Largest number of dimensions of any intermediate array."""
DIM_CHOICES = (1, 2, 3, 2, 3, 0)
"""Axis lengths of the inputs, simplest first (so shrinking moves towards length 1)."""

MODULE_TOKEN = "@."
"""Placeholder for the module (``fnp.`` or ``np.``) in the program's source lines."""

NAMESPACE: dict[str, Any] = {"np": np, "fnp": fnp, "fgrad": fgrad, "nn": nn}


def _evaluate(expr: str, env: dict[str, Any]) -> Any:
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return eval(expr.replace(MODULE_TOKEN, "np."), {"np": np, "nn": nn}, env)  # noqa: S307


def _literal(value: np.ndarray) -> str:
    """Source for an array literal that rebuilds ``value`` exactly."""
    if value.dtype == np.bool_:
        body = repr(value.ravel().tolist())
        return f"np.array({body}, dtype=bool).reshape({value.shape!r})"
    if value.ndim == 0:
        return f"np.array({float(value)!r})"
    if value.size == 0:
        return f"np.zeros({value.shape!r})"
    body = repr(value.ravel().tolist())
    if value.ndim == 1:
        return f"np.array({body})"
    return f"np.array({body}).reshape({value.shape!r})"


def _tree_source(tree: Any) -> str:
    if isinstance(tree, dict):
        return "{" + ", ".join(f"{k!r}: {_tree_source(v)}" for k, v in tree.items()) + "}"
    if isinstance(tree, tuple):
        inner = ", ".join(_tree_source(v) for v in tree)
        return f"({inner},)" if len(tree) == 1 else f"({inner})"
    if isinstance(tree, list):
        return "[" + ", ".join(_tree_source(v) for v in tree) + "]"
    return _literal(np.asarray(tree))


def _cast_tree(tree: Any, dtype: Any) -> Any:
    return fgrad.tree.tree_map(lambda leaf: np.asarray(leaf).astype(dtype), tree)


@dataclass
class Case:
    """A differentiable function with its arguments, printable as a runnable script.

    ``fun(*args)`` returns a pytree of float arrays; ``argnums`` names the
    arguments to differentiate. ``source`` defines ``fun``, ``args`` and ``argnums``.
    """

    source: str
    fun: Callable[..., Any]
    args: tuple[Any, ...]
    argnums: tuple[int, ...]
    label: str = "program"

    def __repr__(self) -> str:
        return self.source

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    def with_dtype(self, dtype: Any) -> Case:
        args = tuple(_cast_tree(a, dtype) for a in self.args)
        note = f"\nargs = fgrad.tree.tree_map(lambda a: a.astype(np.{np.dtype(dtype)}), args)\n"
        return Case(self.source + note, self.fun, args, self.argnums, self.label)


def _compile(source: str, name: str) -> Callable[..., Any]:
    namespace = dict(NAMESPACE)
    exec(compile(source, f"<{name}>", "exec"), namespace)  # noqa: S102
    return namespace[name]


_CHECK_SNIPPET = """

def differentiated(*diff):
    full = list(args)
    for n, d in zip(argnums, diff):
        full[n] = d
    return program(*full)


# fgrad.check_grads(differentiated, [args[n] for n in argnums], order=2)
"""

HEADER = "import numpy as np\nimport fgrad\nimport fgrad.numpy as fnp\nfrom fgrad import nn\n\n"


# --- programs ---------------------------------------------------------------------------


@dataclass
class Program:
    """A random program; see the module docstring."""

    args: tuple[Any, ...]
    argnums: tuple[int, ...]
    unpack: list[str]
    lines: list[str]
    output: str
    leaf_names: list[str] = field(default_factory=list)

    def live_lines(self) -> list[str]:
        """The operation lines the output depends on (dead code is not printed or run)."""
        needed = set(re.findall(r"\bv\d+\b", self.output))
        live = []
        for line in reversed(self.lines):
            target, expr = line.split(" = ", 1)
            if target in needed:
                live.append(line)
                needed.update(re.findall(r"\bv\d+\b", expr))
        return live[::-1]

    def source(self, module: str) -> str:
        params = ", ".join(f"a{i}" for i in range(len(self.args)))
        lines = [line.replace(MODULE_TOKEN, module + ".") for line in self.live_lines()]
        body = [*self.unpack, *lines]
        body.append(f"return {self.output}")
        return f"def program({params}):\n" + "".join(f"    {line}\n" for line in body)

    def case(self, module: str = "fnp") -> Case:
        definition = self.source(module)
        args_source = "args = (" + "".join(_tree_source(a) + ", " for a in self.args) + ")"
        script = (
            HEADER
            + definition
            + "\n\n"
            + args_source
            + f"\nargnums = {self.argnums!r}\n"
            + _CHECK_SNIPPET
        )
        fun = _compile(definition, "program")
        return Case(script, fun, self.args, self.argnums, f"program via {module}")

    def __repr__(self) -> str:
        return self.case("fnp").source

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


class _Builder:
    """Draws operations one by one, evaluating each line with NumPy."""

    def __init__(self, draw: Callable[..., Any], rng: np.random.Generator) -> None:
        self.draw = draw
        self.rng = rng
        self.names: list[str] = []
        self.values: dict[str, np.ndarray] = {}
        self.lines: list[str] = []

    def integer(self, lo: int, hi: int) -> int:
        return int(self.draw(st.integers(lo, hi)))

    def choice(self, options: Any) -> Any:
        options = list(options)
        return options[self.integer(0, len(options) - 1)]

    def flag(self) -> bool:
        return bool(self.draw(st.booleans()))

    def pick(self, ok: Callable[[np.ndarray], bool] = lambda v: True) -> str | None:
        """A variable whose value satisfies ``ok``; the most recent first when shrinking."""
        candidates = [n for n in reversed(self.names) if ok(self.values[n])]
        if not candidates:
            return None
        if self.flag():
            return candidates[0]
        return candidates[self.integer(0, len(candidates) - 1)]

    def add_input(self, name: str, value: np.ndarray) -> None:
        self.names.append(name)
        self.values[name] = value

    def add(self, expr: str | None) -> bool:
        if expr is None:
            return False
        try:
            value = np.asarray(_evaluate(expr, self.values))
        except (ValueError, IndexError, TypeError, np.exceptions.AxisError, np.linalg.LinAlgError):
            return False
        if (
            value.dtype != np.float64
            or value.size > MAX_SIZE
            or value.ndim > MAX_NDIM
            or not np.all(np.isfinite(value))
            or (value.size and np.max(np.abs(value)) > VALUE_LIMIT)
        ):
            return False
        name = f"v{len(self.names)}"
        self.lines.append(f"{name} = {expr}")
        self.add_input(name, value)
        return True


def _size(shape: tuple[int, ...]) -> int:
    return math.prod(shape)


def _broadcast(*shapes: tuple[int, ...]) -> tuple[int, ...] | None:
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        return None


def _min_abs(v: np.ndarray) -> float:
    return float(np.min(np.abs(v))) if v.size else math.inf


def _max_abs(v: np.ndarray) -> float:
    return float(np.max(np.abs(v))) if v.size else 0.0


def _min(v: np.ndarray) -> float:
    return float(np.min(v)) if v.size else math.inf


def _axis_source(axis: Any) -> str:
    return repr(axis)


def _draw_axis(b: _Builder, ndim: int, allow_none: bool = True, allow_tuple: bool = True) -> Any:
    kinds = ["int"] if ndim else []
    if allow_none:
        kinds.insert(0, "none")
    if allow_tuple and ndim:
        kinds.append("tuple")
    if not kinds:
        return None
    kind = b.choice(kinds)
    if kind == "none":
        return None
    if kind == "int":
        return b.integer(-ndim, ndim - 1)
    count = b.integer(0, ndim)
    axes = list(b.rng.permutation(ndim)[:count])
    return tuple(int(a) - ndim if b.flag() else int(a) for a in axes)


def _reduced_count(shape: tuple[int, ...], axis: Any) -> int:
    if axis is None:
        return _size(shape)
    axes = (axis,) if isinstance(axis, int) else axis
    return math.prod(shape[a] for a in axes)


def _top_gap(v: np.ndarray, axis: Any, largest: bool) -> float:
    """Smallest gap between the extreme and the runner-up along ``axis`` (inf if unique)."""
    axes = tuple(range(v.ndim)) if axis is None else ((axis,) if isinstance(axis, int) else axis)
    axes = tuple(a % v.ndim for a in axes) if v.ndim else ()
    rest = [a for a in range(v.ndim) if a not in axes]
    moved = np.transpose(v, rest + list(axes)).reshape(
        tuple(v.shape[a] for a in rest) + (-1,) if v.size else (0, 1)
    )
    if moved.shape[-1] < 2 or moved.size == 0:
        return math.inf
    ordered = np.sort(moved, axis=-1)
    gaps = ordered[..., -1] - ordered[..., -2] if largest else ordered[..., 1] - ordered[..., 0]
    return float(np.min(gaps))


def _sorted_gap(v: np.ndarray, axis: Any) -> float:
    flat = v.reshape(-1) if axis is None else np.moveaxis(v, axis, -1)
    if flat.size == 0 or flat.shape[-1] < 2:
        return math.inf
    return float(np.min(np.diff(np.sort(flat, axis=-1), axis=-1)))


# Unary functions, with the condition on their argument that keeps them smooth and bounded.
_ANYWHERE = lambda v: True  # noqa: E731
_UNARY: list[tuple[str, Callable[[np.ndarray], bool]]] = [
    ("@.tanh({})", _ANYWHERE),
    ("@.sin({})", _ANYWHERE),
    ("@.cos({})", _ANYWHERE),
    ("@.arctan({})", _ANYWHERE),
    ("@.square({})", _ANYWHERE),
    ("@.negative({})", _ANYWHERE),
    ("@.arcsinh({})", _ANYWHERE),
    ("-{}", _ANYWHERE),
    ("{} * 1.7", _ANYWHERE),
    ("0.5 - {}", _ANYWHERE),
    ("{} ** 2", _ANYWHERE),
    ("{} ** 3", _ANYWHERE),
    ("{} / 3.0", _ANYWHERE),
    ("@.exp({})", lambda v: _max_abs(v) <= EXP_ARGUMENT_LIMIT),
    ("@.expm1({})", lambda v: _max_abs(v) <= EXP_ARGUMENT_LIMIT),
    ("@.sinh({})", lambda v: _max_abs(v) <= EXP_ARGUMENT_LIMIT),
    ("@.cosh({})", lambda v: _max_abs(v) <= EXP_ARGUMENT_LIMIT),
    ("@.log({})", lambda v: _min(v) >= POSITIVE_FLOOR),
    ("@.sqrt({})", lambda v: _min(v) >= POSITIVE_FLOOR),
    ("@.log1p({})", lambda v: _min(v) >= POSITIVE_FLOOR - 1.0),
    ("{} ** 0.5", lambda v: _min(v) >= POSITIVE_FLOOR),
    ("@.power({}, 1.5)", lambda v: _min(v) >= POSITIVE_FLOOR),
    ("@.reciprocal({})", lambda v: _min_abs(v) >= POSITIVE_FLOOR),
    ("1.0 / {}", lambda v: _min_abs(v) >= POSITIVE_FLOOR),
    ("@.cbrt({})", lambda v: _min_abs(v) >= POSITIVE_FLOOR),
    ("@.abs({})", lambda v: _min_abs(v) >= KINK_MARGIN),
    ("abs({})", lambda v: _min_abs(v) >= KINK_MARGIN),
    ("@.arcsin({})", lambda v: _max_abs(v) <= 0.8),
    ("@.arctanh({})", lambda v: _max_abs(v) <= 0.8),
]


def op_unary(b: _Builder) -> str | None:
    template, ok = b.choice(_UNARY)
    name = b.pick(ok)
    return None if name is None else template.format(name)


def _partner(b: _Builder, first: str, ok: Callable[[np.ndarray, np.ndarray], bool]) -> str | None:
    """A variable broadcasting with ``first`` (within ``MAX_SIZE``), or a Python constant."""
    a = b.values[first]

    def fits(v: np.ndarray) -> bool:
        shape = _broadcast(a.shape, v.shape)
        return shape is not None and _size(shape) <= MAX_SIZE and ok(a, v)

    if b.flag():
        constant = b.choice([0.75, -1.25, 2.0])
        return repr(constant) if ok(a, np.asarray(constant)) else None
    return b.pick(fits)


def _gap_ok(a: np.ndarray, v: np.ndarray) -> bool:
    d = np.abs(a - v)
    return bool(d.size == 0 or np.min(d) >= KINK_MARGIN)


_BINARY: list[tuple[str, Callable[[np.ndarray, np.ndarray], bool]]] = [
    ("@.add({}, {})", lambda a, v: True),
    ("{} + {}", lambda a, v: True),
    ("@.multiply({}, {})", lambda a, v: True),
    ("{} * {}", lambda a, v: True),
    ("@.subtract({}, {})", lambda a, v: True),
    ("{} - {}", lambda a, v: True),
    ("@.divide({}, {})", lambda a, v: _min_abs(v) >= POSITIVE_FLOOR),
    ("{} / {}", lambda a, v: _min_abs(v) >= POSITIVE_FLOOR),
    ("@.maximum({}, {})", _gap_ok),
    ("@.minimum({}, {})", _gap_ok),
    ("@.fmax({}, {})", _gap_ok),
    ("@.logaddexp({}, {})", lambda a, v: True),
    ("@.hypot({}, {})", lambda a, v: _min_abs(a) >= POSITIVE_FLOOR),
    ("@.power({}, {})", lambda a, v: _min(a) >= POSITIVE_FLOOR and _max_abs(v) <= 2.0),
    ("{} ** {}", lambda a, v: _min(a) >= POSITIVE_FLOOR and _max_abs(v) <= 2.0),
]


def op_binary(b: _Builder) -> str | None:
    template, ok = b.choice(_BINARY)
    first = b.pick()
    if first is None:
        return None
    second = _partner(b, first, ok)
    if second is None:
        return None
    if b.flag() and not template.startswith("@.power") and "**" not in template:
        if "/" in template or "divide" in template:
            return None
        return template.format(second, first)
    return template.format(first, second)


_REDUCTIONS = ["sum", "mean", "prod", "max", "min", "amax", "var", "std"]


def op_reduce(b: _Builder) -> str | None:
    kind = b.choice(_REDUCTIONS)
    name = b.pick()
    if name is None:
        return None
    v = b.values[name]
    axis = _draw_axis(b, v.ndim)
    if axis is not None and v.ndim == 0:
        return None
    count = _reduced_count(v.shape, axis)
    if kind in ("mean", "var", "std", "max", "min", "amax") and count == 0:
        return None
    if kind == "prod" and count > 6:
        return None
    if kind in ("max", "amax") and _top_gap(v, axis, largest=True) < KINK_MARGIN:
        return None
    if kind == "min" and _top_gap(v, axis, largest=False) < KINK_MARGIN:
        return None
    if kind == "std":
        if count < 2:
            return None
        variance = np.var(v, axis=axis)
        if _min(np.asarray(variance)) < 0.05:
            return None
    keep = b.flag()
    kwargs = f"axis={_axis_source(axis)}" + (", keepdims=True" if keep else "")
    if kind in ("sum", "mean", "max", "min", "prod") and b.flag():
        return f"{name}.{kind}({kwargs})"
    return f"@.{kind}({name}, {kwargs})"


def op_cumulative(b: _Builder) -> str | None:
    kind = b.choice(["cumsum", "cumprod"])
    name = b.pick(lambda v: v.ndim >= 1)
    if name is None:
        return None
    v = b.values[name]
    axis = _draw_axis(b, v.ndim, allow_tuple=False)
    length = v.size if axis is None else v.shape[axis]
    if kind == "cumprod" and length > 5:
        return None
    return f"@.{kind}({name}, axis={axis!r})"


def _random_shape(b: _Builder, size: int) -> tuple[int, ...]:
    ndim = b.integer(0 if size == 1 else 1, 3)
    if size == 0:
        shape = [b.choice([1, 2, 3]) for _ in range(max(ndim, 1))]
        shape[b.integer(0, len(shape) - 1)] = 0
        return tuple(shape)
    dims = []
    remaining = size
    for _ in range(ndim - 1):
        divisors = [d for d in range(1, remaining + 1) if remaining % d == 0]
        d = b.choice(divisors)
        dims.append(d)
        remaining //= d
    dims.append(remaining)
    if ndim == 0:
        return ()
    order = b.rng.permutation(len(dims))
    return tuple(int(dims[i]) for i in order)


def op_reshape(b: _Builder) -> str | None:
    name = b.pick()
    if name is None:
        return None
    v = b.values[name]
    shape = _random_shape(b, v.size)
    spelled: Any = shape
    if v.size and shape and b.flag():
        spelled = tuple(-1 if i == 0 else d for i, d in enumerate(shape))
    form = b.integer(0, 2)
    if form == 0:
        return f"@.reshape({name}, {spelled!r})"
    if form == 1 and shape:
        return f"{name}.reshape({', '.join(map(str, spelled))})"
    if form == 2 and v.ndim:
        return f"@.ravel({name})"
    return f"{name}.reshape({spelled!r})"


def op_transpose(b: _Builder) -> str | None:
    name = b.pick(lambda v: v.ndim >= 1)
    if name is None:
        return None
    ndim = b.values[name].ndim
    form = b.integer(0, 3)
    if form == 0:
        return f"{name}.T"
    if form == 1 and ndim >= 2:
        return f"@.swapaxes({name}, {b.integer(-ndim, ndim - 1)}, {b.integer(-ndim, ndim - 1)})"
    if form == 2:
        return f"@.moveaxis({name}, {b.integer(-ndim, ndim - 1)}, {b.integer(-ndim, ndim - 1)})"
    perm = tuple(int(p) for p in b.rng.permutation(ndim))
    return f"@.transpose({name}, {perm!r})"


def op_expand_squeeze(b: _Builder) -> str | None:
    if b.flag():
        name = b.pick(lambda v: v.ndim < MAX_NDIM)
        if name is None:
            return None
        ndim = b.values[name].ndim
        return f"@.expand_dims({name}, {b.integer(-ndim - 1, ndim)})"
    name = b.pick(lambda v: 1 in v.shape)
    if name is None:
        return None
    shape = b.values[name].shape
    ones = [i for i, d in enumerate(shape) if d == 1]
    if b.flag():
        return f"@.squeeze({name})"
    return f"@.squeeze({name}, {b.choice(ones) - (len(shape) if b.flag() else 0)})"


def op_broadcast_to(b: _Builder) -> str | None:
    name = b.pick()
    if name is None:
        return None
    shape = list(b.values[name].shape)
    target = [b.choice([2, 1, 3]) if d == 1 else d for d in shape]
    for _ in range(b.integer(0, 2)):
        target.insert(0, b.choice([2, 1, 3, 0]))
    if _size(tuple(target)) > MAX_SIZE or len(target) > MAX_NDIM:
        return None
    return f"@.broadcast_to({name}, {tuple(target)!r})"


def _slice_source(b: _Builder, dim: int) -> str:
    kind = b.integer(0, 4)
    if kind == 0:
        return ":"
    if kind == 1 and dim > 0:
        return str(b.integer(-dim, dim - 1))
    if kind == 2:
        return "None"
    start = b.choice(["", "1", "-1", "0", "2"])
    stop = b.choice(["", "-1", "2", "1"])
    step = b.choice(["", "2", "-1", "-2"])
    return f"{start}:{stop}" + (f":{step}" if step else "")


def op_getitem(b: _Builder) -> str | None:
    name = b.pick()
    if name is None:
        return None
    v = b.values[name]
    kind = b.integer(0, 3)
    if kind == 1 and v.ndim >= 1 and v.shape[0] > 0:
        indices = [int(i) for i in b.rng.integers(-v.shape[0], v.shape[0], b.integer(1, 4))]
        return f"{name}[{indices!r}]"
    if kind == 2 and v.ndim >= 1:
        mask = b.rng.random(v.shape) < 0.6
        return f"{name}[{_literal(mask)}]"
    parts = [_slice_source(b, d) for d in v.shape[: b.integer(0, v.ndim)]]
    if b.flag() and len(parts) < v.ndim:
        parts.append("...")
        if b.flag():
            parts.append(_slice_source(b, v.shape[-1]) if v.ndim else "None")
    if not parts:
        return f"{name}[()]" if v.ndim == 0 else f"{name}[...]"
    return f"{name}[{', '.join(parts)}]"


def op_join(b: _Builder) -> str | None:
    first = b.pick()
    if first is None:
        return None
    a = b.values[first]
    if b.flag():
        second = b.pick(lambda v: v.shape == a.shape)
        assert second is not None
        axis = b.integer(-a.ndim - 1, a.ndim)
        if b.flag():
            return f"@.stack([{first}, {second}], axis={axis})"
        return f"@.stack(({first}, {second}, {first}), {axis})"
    if a.ndim == 0:
        return None
    axis = b.integer(-a.ndim, a.ndim - 1)
    others = [s for k, s in enumerate(a.shape) if k != axis % a.ndim]

    def matches(v: np.ndarray) -> bool:
        return (
            v.ndim == a.ndim and [s for k, s in enumerate(v.shape) if k != axis % a.ndim] == others
        )

    second = b.pick(matches)
    if b.flag():
        return f"@.concatenate([{first}, {second}], axis=None)"
    return f"@.concatenate(({first}, {second}), axis={axis})"


def op_where(b: _Builder) -> str | None:
    first = b.pick()
    if first is None:
        return None
    a = b.values[first]
    second = _partner(b, first, lambda a, v: True)
    if second is None:
        return None
    if b.flag():
        keep = a.shape[len(a.shape) - b.integer(0, a.ndim) :]
        mask = b.rng.random(keep) < 0.5
        cond = _literal(mask)
    else:
        guide = b.pick()
        assert guide is not None
        g = b.values[guide]
        shape = _broadcast(a.shape, g.shape)
        if shape is None or _size(shape) > MAX_SIZE:
            return None
        threshold = round(float(np.median(g)), 2) if g.size else 0.0
        if g.size and _min_abs(g - threshold) < KINK_MARGIN:
            return None
        cond = f"{guide} > {threshold!r}"
    if b.flag():
        return f"@.where({cond}, {first}, {second})"
    return f"@.where({cond}, {second}, {first})"


def op_clip(b: _Builder) -> str | None:
    name = b.pick(lambda v: v.size > 0)
    if name is None:
        return None
    v = b.values[name]
    lo, hi = sorted(round(float(q), 2) for q in np.quantile(v, b.rng.random(2)))
    if _min_abs(v - lo) < KINK_MARGIN or _min_abs(v - hi) < KINK_MARGIN or hi - lo < 0:
        return None
    if b.flag():
        return f"{name}.clip({lo!r}, {hi!r})"
    return f"@.clip({name}, {lo!r}, {None if b.flag() else hi!r})"


def _matmul_shape(s1: tuple[int, ...], s2: tuple[int, ...]) -> tuple[int, ...] | None:
    if not s1 or not s2:
        return None
    if len(s1) == 1 and len(s2) == 1:
        return () if s1 == s2 else None
    k1 = s1[-1]
    k2 = s2[0] if len(s2) == 1 else s2[-2]
    if k1 != k2:
        return None
    batch = _broadcast(s1[:-2], s2[:-2])
    if batch is None:
        return None
    return batch + s1[-2:-1] + s2[-1:] if len(s2) > 1 else batch + s1[-2:-1]


def op_matmul(b: _Builder) -> str | None:
    first = b.pick(lambda v: v.ndim >= 1)
    if first is None:
        return None
    a = b.values[first]

    def fits(v: np.ndarray) -> bool:
        shape = _matmul_shape(a.shape, v.shape)
        return shape is not None and _size(shape) <= MAX_SIZE

    second = b.pick(fits)
    form = b.integer(0, 2)
    if second is None:
        if a.ndim == 1:
            return f"{first} @ {first}"
        other = f"@.swapaxes({first}, -1, -2)"
        shape = _matmul_shape(a.shape, a.shape[:-2] + (a.shape[-1], a.shape[-2]))
        if shape is None or _size(shape) > MAX_SIZE:
            return None
        return f"@.matmul({first}, {other})"
    if form == 0:
        return f"{first} @ {second}"
    if form == 1 and a.ndim <= 2 and b.values[second].ndim <= 2:
        return f"@.dot({first}, {second})"
    return f"@.matmul({first}, {second})"


def op_sort(b: _Builder) -> str | None:
    name = b.pick(lambda v: v.ndim >= 1)
    if name is None:
        return None
    v = b.values[name]
    axis = b.choice([-1, None, 0])
    if _sorted_gap(v, axis) < KINK_MARGIN:
        return None
    return f"@.sort({name}, axis={axis!r})"


def op_rearrange(b: _Builder) -> str | None:
    name = b.pick(lambda v: v.ndim >= 1)
    if name is None:
        return None
    v = b.values[name]
    axis = b.integer(-v.ndim, v.ndim - 1)
    kind = b.integer(0, 5)
    if kind == 0:
        return f"@.flip({name}, {axis})"
    if kind == 1:
        return f"@.roll({name}, {b.integer(-2, 3)}, axis={axis})"
    if kind == 2:
        return f"@.tile({name}, {b.integer(1, 2)})"
    if kind == 3:
        return f"@.repeat({name}, {b.integer(1, 2)}, axis={axis})"
    if kind == 4:
        return f"@.pad({name}, {b.integer(0, 1)})"
    if v.ndim >= 2:
        return f"@.{b.choice(['triu', 'tril'])}({name}, {b.integer(-1, 1)})"
    return None


def op_einsum(b: _Builder) -> str | None:
    first = b.pick(lambda v: 1 <= v.ndim <= 3)
    if first is None:
        return None
    a = b.values[first]
    letters = "ijk"[: a.ndim]
    out = "".join(c for c in letters if b.flag())
    return f"@.einsum('{letters}->{out}', {first})"


def op_special(b: _Builder) -> str | None:
    """``fgrad.nn``'s functions without a NumPy name (the same in both spellings)."""
    name = b.pick()
    if name is None:
        return None
    v = b.values[name]
    kind = b.integer(0, 4)
    if kind == 0:
        return f"nn.sigmoid({name})"
    if kind == 1:
        return f"nn.softplus({name})"
    axis = _draw_axis(b, v.ndim, allow_none=kind == 2)
    if _reduced_count(v.shape, axis) == 0:
        return None
    if kind == 2:
        return f"nn.logsumexp({name}, axis={axis!r}, keepdims={b.flag()})"
    if axis is None:
        return None
    return f"nn.{'softmax' if kind == 3 else 'log_softmax'}({name}, axis={axis!r})"


def _well_conditioned(v: np.ndarray) -> bool:
    if v.ndim < 2 or v.shape[-1] != v.shape[-2] or v.size == 0:
        return False
    return bool(np.all(np.linalg.cond(v) <= 10.0) and np.all(np.abs(np.linalg.det(v)) >= 0.1))


def op_linalg(b: _Builder) -> str | None:
    kind = b.integer(0, 3)
    if kind == 0:
        name = b.pick(lambda v: v.ndim >= 1)
        if name is None:
            return None
        v = b.values[name]
        axis = b.integer(-v.ndim, v.ndim - 1)
        if _min(np.linalg.norm(v, axis=axis)) < KINK_MARGIN or v.shape[axis] == 0:
            return None
        return f"@.linalg.norm({name}, axis={axis})"
    name = b.pick(_well_conditioned)
    if name is None:
        return None
    if kind == 1:
        return f"@.linalg.inv({name})"
    if kind == 2:
        return f"@.linalg.det({name})"
    rhs = b.pick(lambda v: v.shape[-1:] == b.values[name].shape[-1:] and v.ndim == 1)
    return None if rhs is None else f"@.linalg.solve({name}, {rhs})"


OPERATIONS: list[Callable[[_Builder], str | None]] = [
    op_unary,
    op_binary,
    op_reduce,
    op_reshape,
    op_transpose,
    op_getitem,
    op_expand_squeeze,
    op_broadcast_to,
    op_join,
    op_where,
    op_matmul,
    op_clip,
    op_cumulative,
    op_sort,
    op_rearrange,
    op_einsum,
    op_special,
    op_linalg,
]


_INPUT_DOMAINS = {
    "smooth": lambda rng, shape: rng.uniform(-1.5, 1.5, shape),
    "positive": lambda rng, shape: rng.uniform(0.3, 2.0, shape),
    "spread": lambda rng, shape: (
        rng.permutation(_size(shape)).reshape(shape) * 0.3
        - 0.15 * _size(shape)
        + rng.uniform(-0.05, 0.05, shape)
    ),
}


@st.composite
def _leaf_shapes(draw: Any, max_elements: int) -> tuple[int, ...]:
    ndim = draw(st.integers(0, 3))
    shape = tuple(draw(st.sampled_from(DIM_CHOICES)) for _ in range(ndim))
    while _size(shape) > max_elements:
        shape = shape[1:]
    return shape


@st.composite
def _pytree(draw: Any, leaves: list[tuple[int, ...]], max_elements: int, depth: int = 0) -> Any:
    kind = draw(st.sampled_from(["leaf", "tuple", "dict", "list"] if depth < 2 else ["leaf"]))
    if kind == "leaf":
        shape = draw(_leaf_shapes(max_elements))
        leaves.append(shape)
        return len(leaves) - 1
    count = draw(st.integers(1, 2))
    children = [draw(_pytree(leaves, max_elements, depth + 1)) for _ in range(count)]
    if kind == "tuple":
        return tuple(children)
    if kind == "list":
        return children
    return dict(zip(["w", "b"], children))


def _accessors(tree: Any, prefix: str) -> list[tuple[int, str]]:
    if isinstance(tree, int):
        return [(tree, prefix)]
    items = tree.items() if isinstance(tree, dict) else enumerate(tree)
    out = []
    for key, child in items:
        out.extend(_accessors(child, f"{prefix}[{key!r}]"))
    return out


@st.composite
def programs(
    draw: Any, min_ops: int = 3, max_ops: int = 30, max_input_elements: int = 24
) -> Program:
    """A :class:`Program` of ``min_ops`` to ``max_ops`` operations (fewer when some do
    not apply), over 1 to 3 pytree arguments with at most ``max_input_elements``
    elements in all."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    nargs = draw(st.integers(1, 3))
    shapes: list[tuple[int, ...]] = []
    structures = [draw(_pytree(shapes, max_input_elements)) for _ in range(nargs)]
    while sum(_size(s) for s in shapes) > max_input_elements:
        k = int(np.argmax([_size(s) for s in shapes]))
        shapes[k] = shapes[k][1:] if _size(shapes[k]) > 1 else (0,)
    domains = [draw(st.sampled_from(sorted(_INPUT_DOMAINS))) for _ in shapes]
    values = [np.asarray(np.round(_INPUT_DOMAINS[d](rng, s), 4)) for d, s in zip(domains, shapes)]
    for v in values:
        v.setflags(write=False)

    def build(tree: Any) -> Any:
        if isinstance(tree, int):
            return values[tree]
        if isinstance(tree, dict):
            return {k: build(c) for k, c in tree.items()}
        children = [build(c) for c in tree]
        return tuple(children) if isinstance(tree, tuple) else children

    args = tuple(build(s) for s in structures)
    builder = _Builder(draw, rng)
    unpack = []
    for i, structure in enumerate(structures):
        for leaf, accessor in _accessors(structure, f"a{i}"):
            name = f"v{len(builder.names)}"
            unpack.append(f"{name} = {accessor}")
            builder.add_input(name, values[leaf])
    n_ops = draw(st.integers(min_ops, max_ops))
    for _ in range(n_ops):
        operation = draw(st.sampled_from(OPERATIONS))
        builder.add(operation(builder))
    n_out = draw(st.integers(1, 3))
    chosen = [builder.names[-1]] + [
        builder.names[-1 - draw(st.integers(0, len(builder.names) - 1))] for _ in range(n_out - 1)
    ]
    form = draw(st.sampled_from(["leaf", "tuple", "dict", "list"])) if n_out > 1 else "leaf"
    if form == "leaf":
        output = chosen[0]
    elif form == "tuple":
        output = "(" + ", ".join(chosen) + ",)"
    elif form == "list":
        output = "[" + ", ".join(chosen) + "]"
    else:
        output = "{" + ", ".join(f"'o{k}': {c}" for k, c in enumerate(chosen)) + "}"
    argnum_flags = [draw(st.booleans()) for _ in range(nargs)]
    argnums = tuple(i for i, f in enumerate(argnum_flags) if f) or (0,)
    return Program(args, argnums, unpack, builder.lines, output)


# --- fgrad.nn models ----------------------------------------------------------------------

_ACTIVATIONS = [
    "nn.Tanh",
    "nn.Sigmoid",
    "nn.Softplus",
    "nn.Identity",
    "nn.LogSoftmax",
    "nn.Softmax",
    "nn.Relu",
    "nn.LeakyRelu(0.1)",
]
_KINKED = {"nn.Relu", "nn.LeakyRelu(0.1)"}


@st.composite
def net_cases(draw: Any, max_layers: int = 5) -> Case:
    """A squared-error loss of the parameters of a random ``nn.serial`` stack."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    batch = draw(st.sampled_from([2, 1, 3, 0]))
    features = draw(st.integers(1, 3))
    image = draw(st.booleans())
    in_shape: tuple[int, ...] = (batch, features, 2) if image else (batch, features)
    layers = ["nn.Flatten"] if image else []
    width = features * (2 if image else 1)
    for _ in range(draw(st.integers(1, max_layers))):
        if draw(st.booleans()):
            width = draw(st.integers(1, 4))
            layers.append(f"nn.Dense({width})")
        else:
            layers.append(draw(st.sampled_from(_ACTIVATIONS)))
    layers.append(f"nn.Dense({draw(st.integers(1, 3))})")
    x = np.round(rng.uniform(-1.5, 1.5, in_shape), 4)
    init_source = (
        f"init, apply = nn.serial({', '.join(layers)})\n"
        f"_, params = init(fgrad.random.key({seed}), {(-1, *in_shape[1:])!r})\n"
    )
    namespace = dict(NAMESPACE)
    exec(init_source, namespace)  # noqa: S102
    params = namespace["params"]
    for k, layer in enumerate(layers):
        if layer in _KINKED:
            prefix = namespace["nn"].serial(*[eval(s, namespace) for s in layers[:k]])  # noqa: S307
            pre_activation = prefix.apply(params[:k], x) if k else x
            if _min_abs(np.asarray(pre_activation)) < KINK_MARGIN:
                layers[k] = "nn.Identity"
    init_source = (
        f"init, apply = nn.serial({', '.join(layers)})\n"
        f"_, params = init(fgrad.random.key({seed}), {(-1, *in_shape[1:])!r})\n"
    )
    exec(init_source, namespace)  # noqa: S102
    out_shape = np.shape(namespace["apply"](namespace["params"], x))
    target = np.round(rng.uniform(-1.0, 1.0, out_shape), 4)
    definition = (
        "def loss(params, x, target):\n    return fnp.sum((apply(params, x) - target) ** 2)\n"
    )
    exec(definition, namespace)  # noqa: S102
    script = (
        HEADER
        + init_source
        + definition
        + f"\nargs = (params, {_literal(x)}, {_literal(target)})\nargnums = (0,)\n"
    )
    args = (namespace["params"], x, target)
    return Case(script, namespace["loss"], args, (0,), "nn.serial loss")


def leaves_of(tree: Any) -> list[Any]:
    return tree_flatten(tree)[0]
