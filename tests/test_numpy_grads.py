"""Gradient checks for every differentiable function of ``fgrad.numpy``.

Each case runs ``fgrad.check_grads`` to second order in reverse and forward
mode (float64, default tolerance), after checking that the traced forward
value equals the plain NumPy one. Inputs are kept at least 1e-2 away from
kinks, jumps, ties and singularities (the finite-difference step is 1e-3).
``test_every_function_is_covered`` keeps the list complete.
"""

from __future__ import annotations

import math
import operator
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import fgrad
import fgrad.nn
import fgrad.numpy as fnp
from fgrad._core import concrete
from fgrad._rules.declare import DECLARATIONS
from fgrad.tree import tree_flatten

_rng = np.random.default_rng(20240611)

# --- inputs ---------------------------------------------------------------------------


def smooth(*shape: int) -> np.ndarray:
    """Anywhere in [-1.5, 1.5], for functions smooth everywhere."""
    return _rng.uniform(-1.5, 1.5, shape)


def away(*shape: int, lo: float = 0.3, hi: float = 1.5) -> np.ndarray:
    """Magnitude in [lo, hi], random sign: away from the kink or pole at 0."""
    return _rng.choice([-1.0, 1.0], shape) * _rng.uniform(lo, hi, shape)


def pos(*shape: int, lo: float = 0.3, hi: float = 2.0) -> np.ndarray:
    return _rng.uniform(lo, hi, shape)


def distinct(*shape: int, gap: float = 0.2) -> np.ndarray:
    """Values whose pairwise differences all exceed ``gap / 2`` (no ties)."""
    n = math.prod(shape)
    grid = _rng.permutation(n) * gap - gap * (n - 1) / 2
    return (grid + _rng.uniform(-gap / 4, gap / 4, n)).reshape(shape)


def distinct_pair(s1: tuple[int, ...], s2: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Two arrays with no value of one within 0.1 of a value of the other."""
    n1 = math.prod(s1)
    both = distinct(n1 + math.prod(s2))
    return both[:n1].reshape(s1), both[n1:].reshape(s2)


def distinct_magnitudes(*shape: int) -> np.ndarray:
    """Nonzero values with distinct absolute values (for abs-max / norm ord=inf)."""
    n = math.prod(shape)
    mags = 0.3 + 0.25 * _rng.permutation(n) + _rng.uniform(-0.05, 0.05, n)
    return (_rng.choice([-1.0, 1.0], n) * mags).reshape(shape)


def away_from(points: tuple[float, ...], *shape: int, margin: float = 0.05) -> np.ndarray:
    """Values in [-1.5, 1.5] farther than ``margin`` from each of ``points`` (clip bounds)."""
    out = _rng.uniform(-1.5, 1.5, shape)
    while True:
        near = np.any(np.abs(out[..., None] - np.asarray(points)) <= margin, axis=-1)
        if not near.any():
            return out
        out[near] = _rng.uniform(-1.5, 1.5, int(near.sum()))


def distinct_sums(*shape: int) -> np.ndarray:
    """Matrices (last two axes) with nonzero entries whose absolute row sums differ, and
    whose absolute column sums differ, by more than 0.1: no ties for the norms ord=1, inf."""
    n = shape[-1]
    base = np.array([[0.5, -1.0, 2.0], [-0.3, 0.8, -1.5], [0.4, -0.6, 1.1]])[:n, :n]
    if n == 2:
        base = np.array([[0.5, -1.4], [-0.3, 0.6]])
    batch = _rng.uniform(0.6, 1.0, shape[:-2] + (1, 1)) * np.ones(shape)
    return base * batch + _rng.uniform(-0.02, 0.02, shape)


def well_conditioned(*shape: int) -> np.ndarray:
    """A (batch of) square matrices with a dominant diagonal."""
    n = shape[-1]
    return _rng.uniform(-0.5, 0.5, shape) + 2.0 * np.eye(n)


def spd(*shape: int) -> np.ndarray:
    m = _rng.uniform(-1.0, 1.0, shape)
    return m @ np.swapaxes(m, -1, -2) + shape[-1] * np.eye(shape[-1])


# --- case registry ------------------------------------------------------------------

CASES: list[Any] = []
COVERED: set[str] = set()
OPERATORS = {"getitem"}
"""Cases of Python's operators on tracers that no ``fgrad.numpy`` function is named after."""


def case(name: str, variant: str, fun: Callable[..., Any], *args: Any) -> None:
    """Register ``fun(*args)``, a use of the ``fgrad.numpy`` function ``name``."""
    COVERED.add(name)
    CASES.append(pytest.param(fun, args, id=f"{name}-{variant}"))


SHAPES = {"scalar": (), "vec": (3,), "mat": (2, 3)}

# Unary elementwise functions and the domain their inputs are drawn from.
UNARY: dict[str, Callable[..., np.ndarray]] = {
    "negative": smooth,
    "positive": smooth,
    "square": smooth,
    "exp": smooth,
    "exp2": smooth,
    "expm1": smooth,
    "sin": smooth,
    "cos": smooth,
    "arctan": smooth,
    "sinh": smooth,
    "cosh": smooth,
    "tanh": smooth,
    "arcsinh": smooth,
    "deg2rad": smooth,
    "rad2deg": smooth,
    "sinc": smooth,
    "reciprocal": away,
    "cbrt": away,
    "absolute": away,
    "sqrt": pos,
    "log": pos,
    "log2": pos,
    "log10": pos,
    "log1p": pos,
    "arcsin": lambda *s: _rng.uniform(-0.8, 0.8, s),
    "arccos": lambda *s: _rng.uniform(-0.8, 0.8, s),
    "arctanh": lambda *s: _rng.uniform(-0.8, 0.8, s),
    "tan": lambda *s: _rng.uniform(-1.2, 1.2, s),
    "arccosh": lambda *s: _rng.uniform(1.2, 3.0, s),
}
for _name, _draw in UNARY.items():
    for _variant, _shape in SHAPES.items():
        case(_name, _variant, getattr(fnp, _name), _draw(*_shape))

for _alias, _draw in [("abs", away), ("fabs", away), ("radians", smooth), ("degrees", smooth)]:
    case(_alias, "vec", getattr(fnp, _alias), _draw(3))

# sinc is smooth at 0; its VJP switches to a series there, checked to second order.
case("sinc", "zeros", fnp.sinc, np.array([0.0, 0.005, -0.004, 0.7]))
case("sinc", "scalar_zero", fnp.sinc, np.array(0.0))

# Binary broadcasting functions: shape pairs and input domains.
PAIRS = {
    "scalar": ((), ()),
    "vec": ((3,), (3,)),
    "3x1_by_4": ((3, 1), (4,)),
    "scalar_by_2x3": ((), (2, 3)),
    "2x1x3_by_4x1": ((2, 1, 3), (4, 1)),
}


def _pair(draw_x: Callable[..., np.ndarray], draw_y: Callable[..., np.ndarray]) -> Any:
    return lambda s1, s2: (draw_x(*s1), draw_y(*s2))


def _mod_divisors(*shape: int) -> np.ndarray:
    # |x| <= 1.5 and |y| >= 2 keep x / y in (-0.75, 0.75) and away from 0: no jumps.
    return away(*shape, lo=2.0, hi=3.0)


BINARY: dict[str, Any] = {
    "add": _pair(smooth, smooth),
    "subtract": _pair(smooth, smooth),
    "multiply": _pair(smooth, smooth),
    "divide": _pair(smooth, away),
    "power": _pair(pos, smooth),
    "mod": _pair(away, _mod_divisors),
    "logaddexp": _pair(smooth, smooth),
    "logaddexp2": _pair(smooth, smooth),
    "arctan2": _pair(away, away),
    "hypot": _pair(away, away),
    "maximum": distinct_pair,
    "minimum": distinct_pair,
    "fmax": distinct_pair,
    "fmin": distinct_pair,
}
for _name, _draw in BINARY.items():
    for _variant, (_s1, _s2) in PAIRS.items():
        case(_name, _variant, getattr(fnp, _name), *_draw(_s1, _s2))

case("true_divide", "3x1_by_4", fnp.true_divide, smooth(3, 1), away(4))
case("remainder", "3x1_by_4", fnp.remainder, away(3, 1), _mod_divisors(4))

# Operators with one constant operand (Python scalars, arrays), incl. reflected ones.
_V3 = np.array([0.4, -1.1, 0.8])
case("add", "python_scalar", lambda x: 2.5 + x, smooth(3))
case("subtract", "rsub_array", lambda x: _V3 - x, smooth(2, 3))
case("multiply", "python_scalar", lambda x: x * 3.0, smooth(2, 3))
case("divide", "rtruediv", lambda x: 1.0 / x, away(3))
case("divide", "by_scalar", lambda x: x / 3.0, smooth(3))
case("power", "int_exponent", lambda x: x**3, smooth(2, 3))
case("power", "negative_exponent", lambda x: x**-2, away(3))
case("power", "zero_exponent", lambda x: x**0, smooth(3))
case("power", "half_exponent", lambda x: x**0.5, pos(3))
case("power", "rpow", lambda y: 2.0**y, smooth(2, 3))
case("power", "zero_in_exponent", fnp.power, pos(3), np.array([0.0, 1.3, -0.7]))
case("mod", "operator", lambda x: x % 2.5, away(3))
case("maximum", "python_scalar", lambda x: fnp.maximum(x, 0.0), away(2, 3))
case("negative", "operator", lambda x: -x, smooth(3))
case("absolute", "operator", lambda x: abs(x), away(3))

# where and clip.
_COND = np.array([[True, False, True], [False, False, True]])
case("where", "broadcast", lambda x, y: fnp.where(_COND, x, y), smooth(3), smooth(2, 1))
case("where", "scalar_branches", lambda x, y: fnp.where(_COND, x, y), smooth(), smooth())
case("where", "constant_y", lambda x: fnp.where(x > 0, x, 0.0), away(2, 3))
case("where", "constant_x", lambda y: fnp.where(_COND[0], 1.5, y), smooth(2, 3))
case("clip", "scalar_bounds", lambda x: fnp.clip(x, -0.5, 0.5), away_from((-0.5, 0.5), 2, 3))
case("clip", "min_only", lambda x: fnp.clip(x, 0.0, None), away_from((0.0,), 4))
case("clip", "max_only", lambda x: fnp.clip(x, None, 0.0), away_from((0.0,), 4))
case(
    "clip",
    "traced_bounds",
    fnp.clip,
    np.array([-1.0, 0.2, 1.4, 0.6]),
    np.array([-0.5, -0.5, 0.3, 0.3]),
    np.array(1.0),
)
case("clip", "keywords", lambda x: fnp.clip(x, min=-0.5, max=0.5), away_from((-0.5, 0.5), 4))
case("clip", "method", lambda x: x.clip(-0.5, 0.5), away_from((-0.5, 0.5), 4))

# --- reductions -------------------------------------------------------------------------

AXES = {"all": None, "axis0": 0, "axis-1": -1, "tuple": (0, 2)}


def _reduction_input(axis: Any, draw: Callable[..., np.ndarray]) -> np.ndarray:
    return draw(2, 3, 2) if isinstance(axis, tuple) else draw(2, 3)


REDUCTIONS: dict[str, Callable[..., np.ndarray]] = {
    "sum": smooth,
    "mean": smooth,
    "prod": away,
    "max": distinct,
    "min": distinct,
    "var": smooth,
    "std": smooth,
}
for _name, _draw in REDUCTIONS.items():
    for _variant, _axis in AXES.items():
        for _keep in (False, True):
            _fn = getattr(fnp, _name)
            case(
                _name,
                f"{_variant}{'-keepdims' if _keep else ''}",
                lambda x, f=_fn, a=_axis, k=_keep: f(x, axis=a, keepdims=k),
                _reduction_input(_axis, _draw),
            )
    if _name != "std":  # the std of one number is 0, where sqrt has no derivative
        case(_name, "scalar", getattr(fnp, _name), _draw())

case("amax", "axis-1", lambda x: fnp.amax(x, axis=-1), distinct(2, 3))
case("amin", "axis0-keepdims", lambda x: fnp.amin(x, axis=0, keepdims=True), distinct(2, 3))
case("sum", "method", lambda x: x.sum(axis=1), smooth(2, 3))
case("mean", "method", lambda x: x.mean(), smooth(2, 3))
case("max", "method", lambda x: x.max(axis=0), distinct(2, 3))
case("var", "ddof1", lambda x: fnp.var(x, axis=1, ddof=1), smooth(2, 3))
case("std", "ddof1-tuple", lambda x: fnp.std(x, axis=(0, 1), ddof=1), smooth(2, 3))
case("average", "unweighted", lambda x: fnp.average(x, axis=0), smooth(2, 3))
case("average", "full_weights", fnp.average, smooth(2, 3), None, pos(2, 3))
case("average", "1d_weights", lambda x, w: fnp.average(x, axis=-1, weights=w), smooth(2, 3), pos(3))

# prod is a polynomial, smooth at zeros: the rule claims exactness there.
_ZEROS = np.array([[0.0, 1.3, -0.7], [0.0, 0.0, 1.1]])
case("prod", "zeros-axis-1", lambda x: fnp.prod(x, axis=-1), _ZEROS)
case("prod", "zeros-all", fnp.prod, np.array([1.2, 0.0, -0.8, 1.5]))
case("prod", "two_zeros-all", fnp.prod, np.array([1.2, 0.0, -0.8, 0.0]))
case("prod", "zeros-axis0-keepdims", lambda x: fnp.prod(x, axis=0, keepdims=True), _ZEROS)
case("prod", "zeros-tuple", lambda x: fnp.prod(x, axis=(0, 2)), np.array(_ZEROS).reshape(2, 3, 1))

for _name in ("cumsum", "cumprod"):
    _fn = getattr(fnp, _name)
    case(_name, "vec", _fn, away(4))
    case(_name, "flat", _fn, away(2, 3))
    case(_name, "axis0", lambda x, f=_fn: f(x, axis=0), away(2, 3))
    case(_name, "axis-1", lambda x, f=_fn: f(x, axis=-1), away(2, 3))
case("cumprod", "zeros-vec", fnp.cumprod, np.array([1.3, 0.0, -0.8, 0.0, 1.1]))
case("cumprod", "zeros-axis-1", lambda x: fnp.cumprod(x, axis=-1), _ZEROS)
case("cumprod", "zeros-axis0", lambda x: fnp.cumprod(x, axis=0), _ZEROS.T)

# --- shapes ---------------------------------------------------------------------------

case("reshape", "2x3_to_3x2", lambda x: fnp.reshape(x, (3, 2)), smooth(2, 3))
case("reshape", "minus_one", lambda x: fnp.reshape(x, -1), smooth(2, 3))
case("reshape", "infer_axis", lambda x: fnp.reshape(x, (2, -1)), smooth(6))
case("reshape", "scalar_to_1x1", lambda x: fnp.reshape(x, (1, 1)), smooth())
case("reshape", "method_varargs", lambda x: x.reshape(3, 2), smooth(2, 3))
case("transpose", "default", fnp.transpose, smooth(2, 3))
case("transpose", "axes", lambda x: fnp.transpose(x, (1, 0, 2)), smooth(2, 3, 2))
case("transpose", "negative_axes", lambda x: fnp.transpose(x, (-1, 0, 1)), smooth(2, 3, 2))
case("transpose", "T", lambda x: x.T, smooth(2, 3))
case("swapaxes", "negative", lambda x: fnp.swapaxes(x, 0, -1), smooth(2, 3, 2))
case("moveaxis", "single", lambda x: fnp.moveaxis(x, 0, -1), smooth(2, 3, 2))
case("moveaxis", "lists", lambda x: fnp.moveaxis(x, [0, 1], [-1, -3]), smooth(2, 3, 2))
case("ravel", "mat", fnp.ravel, smooth(2, 3))
case("expand_dims", "negative", lambda x: fnp.expand_dims(x, -1), smooth(2, 3))
case("expand_dims", "tuple", lambda x: fnp.expand_dims(x, (0, 2)), smooth(3))
case("squeeze", "all", fnp.squeeze, smooth(1, 3, 1))
case("squeeze", "axis-1", lambda x: fnp.squeeze(x, -1), smooth(1, 3, 1))
case("squeeze", "tuple", lambda x: fnp.squeeze(x, (0, 2)), smooth(1, 3, 1))
case("broadcast_to", "vec", lambda x: fnp.broadcast_to(x, (2, 3)), smooth(3))
case("broadcast_to", "scalar", lambda x: fnp.broadcast_to(x, (2, 2)), smooth())
case("broadcast_to", "inner_one", lambda x: fnp.broadcast_to(x, (2, 3, 2)), smooth(3, 1))

case("concatenate", "axis0", lambda a, b: fnp.concatenate([a, b]), smooth(2, 3), smooth(1, 3))
case(
    "concatenate",
    "axis-1",
    lambda a, b, c: fnp.concatenate((a, b, c), axis=-1),
    smooth(2, 1),
    smooth(2, 3),
    smooth(2, 2),
)
case("concatenate", "flat", lambda a, b: fnp.concatenate([a, b], None), smooth(2, 2), smooth(3))
case("concatenate", "constant", lambda a: fnp.concatenate([a, _V3]), smooth(2))
case("stack", "axis0", lambda a, b: fnp.stack([a, b]), smooth(3), smooth(3))
case("stack", "axis-1", lambda a, b: fnp.stack([a, b], axis=-1), smooth(2, 3), smooth(2, 3))
case("stack", "scalars", lambda a, b: fnp.stack([a, b]), smooth(), smooth())
case("hstack", "vec", lambda a, b: fnp.hstack([a, b]), smooth(3), smooth(2))
case("hstack", "mat", lambda a, b: fnp.hstack([a, b]), smooth(2, 1), smooth(2, 3))
case("hstack", "scalar_and_vec", lambda a, b: fnp.hstack([a, b]), smooth(), smooth(2))
case("vstack", "vec", lambda a, b: fnp.vstack([a, b]), smooth(3), smooth(3))
case("vstack", "mat_and_vec", lambda a, b: fnp.vstack([a, b]), smooth(2, 3), smooth(3))
case("dstack", "mat", lambda a, b: fnp.dstack([a, b]), smooth(2, 3), smooth(2, 3))
case("dstack", "vec", lambda a, b: fnp.dstack([a, b]), smooth(3), smooth(3))
case("column_stack", "vec_and_mat", lambda a, b: fnp.column_stack([a, b]), smooth(3), smooth(3, 2))
case("atleast_1d", "scalar", fnp.atleast_1d, smooth())
case("atleast_2d", "vec", fnp.atleast_2d, smooth(3))
case("atleast_3d", "scalar", fnp.atleast_3d, smooth())
case("atleast_3d", "vec", fnp.atleast_3d, smooth(3))
case("atleast_3d", "mat", fnp.atleast_3d, smooth(2, 3))
case("atleast_1d", "several", lambda a, b: fnp.atleast_1d(a, b), smooth(), smooth(2))

case("split", "sections", lambda x: fnp.split(x, 3), smooth(6))
case("split", "indices-axis1", lambda x: fnp.split(x, [1, 3], axis=1), smooth(2, 4))
case("split", "negative_index", lambda x: fnp.split(x, [-1], axis=-1), smooth(2, 4))
case("split", "decreasing_indices", lambda x: fnp.split(x, [3, 1]), smooth(5))
case("split", "sections-axis-1", lambda x: fnp.split(x, 2, axis=-1), smooth(2, 4))
case("array_split", "uneven", lambda x: fnp.array_split(x, 3), smooth(5))
case("array_split", "axis-1", lambda x: fnp.array_split(x, 2, axis=-1), smooth(2, 3))
case("hsplit", "mat", lambda x: fnp.hsplit(x, 2), smooth(2, 4))
case("hsplit", "vec", lambda x: fnp.hsplit(x, [1]), smooth(3))
case("vsplit", "indices", lambda x: fnp.vsplit(x, [1]), smooth(3, 2))

case("tile", "int", lambda x: fnp.tile(x, 2), smooth(3))
case("tile", "reps_longer", lambda x: fnp.tile(x, (2, 1, 2)), smooth(2, 3))
case("tile", "reps_shorter", lambda x: fnp.tile(x, (2,)), smooth(2, 3))
case("tile", "scalar", lambda x: fnp.tile(x, (2, 2)), smooth())
case("repeat", "int", lambda x: fnp.repeat(x, 2), smooth(3))
case("repeat", "int-flat", lambda x: fnp.repeat(x, 2), smooth(2, 2))
case("repeat", "array-axis1", lambda x: fnp.repeat(x, [1, 0, 2], axis=1), smooth(2, 3))
case("repeat", "array-axis0", lambda x: fnp.repeat(x, np.array([2, 1]), axis=0), smooth(2, 3))
case("repeat", "int-axis-1", lambda x: fnp.repeat(x, 3, axis=-1), smooth(2, 2))
case("repeat", "method", lambda x: x.repeat(2, axis=0), smooth(2, 2))
case("flip", "all", fnp.flip, smooth(2, 3))
case("flip", "axis-1", lambda x: fnp.flip(x, -1), smooth(2, 3))
case("flip", "tuple", lambda x: fnp.flip(x, (0, 2)), smooth(2, 2, 2))
case("fliplr", "mat", fnp.fliplr, smooth(2, 3))
case("flipud", "mat", fnp.flipud, smooth(2, 3))
case("roll", "int", lambda x: fnp.roll(x, 2), smooth(5))
case("roll", "negative", lambda x: fnp.roll(x, -1, axis=-1), smooth(2, 3))
case("roll", "flat", lambda x: fnp.roll(x, 4), smooth(2, 3))
case("roll", "tuple_shifts", lambda x: fnp.roll(x, (1, -2), axis=(0, 1)), smooth(2, 3))
case("roll", "same_axis_twice", lambda x: fnp.roll(x, (1, 1), axis=(1, 1)), smooth(2, 3))
case("roll", "one_shift_two_axes", lambda x: fnp.roll(x, 1, axis=(0, 1)), smooth(2, 3))

case("pad", "constant-int", lambda x: fnp.pad(x, 1), smooth(2, 2))
case(
    "pad",
    "constant-value",
    lambda x: fnp.pad(x, ((1, 0), (2, 1)), constant_values=0.5),
    smooth(2, 3),
)
for _mode in ("edge", "reflect", "symmetric", "wrap"):
    case("pad", _mode, lambda x, m=_mode: fnp.pad(x, ((1, 2), (2, 0)), mode=m), smooth(2, 3))
case("pad", "vec-tuple", lambda x: fnp.pad(x, (1, 2), mode="reflect"), smooth(3))

case("diagonal", "square", fnp.diagonal, smooth(3, 3))
case("diagonal", "offset1", lambda x: fnp.diagonal(x, 1), smooth(3, 4))
case("diagonal", "offset-1", lambda x: fnp.diagonal(x, -1), smooth(3, 3))
case("diagonal", "batched", lambda x: fnp.diagonal(x, 0, 1, 2), smooth(2, 2, 2))
case("diagonal", "negative_axes", lambda x: fnp.diagonal(x, 0, -1, 0), smooth(2, 3))
case("diagonal", "method", lambda x: x.diagonal(), smooth(3, 3))
case("diag", "vec", fnp.diag, smooth(3))
case("diag", "vec-k1", lambda v: fnp.diag(v, 1), smooth(3))
case("diag", "vec-k-2", lambda v: fnp.diag(v, -2), smooth(2))
case("diag", "mat", fnp.diag, smooth(3, 3))
case("diag", "mat-k1", lambda m: fnp.diag(m, 1), smooth(2, 3))
case("trace", "square", fnp.trace, smooth(3, 3))
case("trace", "offset-1", lambda x: fnp.trace(x, -1), smooth(3, 3))
case("trace", "batched", lambda x: fnp.trace(x, 0, 1, 2), smooth(2, 2, 2))
case("triu", "default", fnp.triu, smooth(3, 3))
case("triu", "k1", lambda x: fnp.triu(x, 1), smooth(3, 4))
case("tril", "k-1", lambda x: fnp.tril(x, -1), smooth(3, 3))
case("tril", "batched", fnp.tril, smooth(2, 2, 2))

case("sort", "vec", fnp.sort, distinct(5))
case("sort", "axis0", lambda x: fnp.sort(x, axis=0), distinct(3, 2))
case("sort", "flat", lambda x: fnp.sort(x, axis=None), distinct(2, 3))
case("take", "axis1_repeats", lambda x: fnp.take(x, [2, 0, 2], axis=1), smooth(2, 3))
case("take", "flat", lambda x: fnp.take(x, np.array([[5, 0], [5, 1]])), smooth(2, 3))
case("take", "axis-2", lambda x: fnp.take(x, [1, 1], axis=-2), smooth(2, 3))
case(
    "take_along_axis",
    "axis1",
    lambda x: fnp.take_along_axis(x, np.array([[1, 1, 0], [2, 0, 0]]), axis=1),
    smooth(2, 3),
)
case(
    "take_along_axis",
    "axis0",
    lambda x: fnp.take_along_axis(x, np.array([[1, 0, 1]]), axis=0),
    smooth(2, 3),
)
case("astype", "longdouble", lambda x: fnp.astype(x, np.longdouble) * x, smooth(2, 3))
case("astype", "same_dtype", lambda x: fnp.astype(x, np.float64), smooth(3))
case("array", "stack_tracers", lambda x: fnp.array([x, 2 * x]), smooth(3))
case("array", "nested_scalars", lambda x: fnp.array([[x[0], 1.0], [x[2], x[1]]]), smooth(3))
case("array", "ndmin", lambda x: fnp.array(x, ndmin=3), smooth(3))
case("asarray", "tracer", lambda x: fnp.asarray(x) * x, smooth(3))
case("asarray", "list", lambda x: fnp.asarray([x, x * x]), smooth(2))

# --- indexing -----------------------------------------------------------------------

_MASK = np.array([[True, False, True, True], [False, False, False, True], [True] * 4])
INDICES: dict[str, Any] = {
    "int": 1,
    "negative_int": -1,
    "two_ints": (1, -2),
    "step_slice": slice(None, None, 2),
    "negative_steps": (slice(None, None, -1), slice(1, None, 2)),
    "newaxis": None,
    "ellipsis_newaxis": (Ellipsis, None),
    "ellipsis_int": (Ellipsis, 1),
    "slice_newaxis_step": (slice(None), None, slice(None, None, -2)),
    "int_array_repeats": [0, 0, 2],
    "negative_int_array": np.array([-1, -1, 0]),
    "two_int_arrays": ([0, 2, 0], [1, 1, 3]),
    "2d_int_array": np.array([[0, 1], [1, 1]]),
    "bool_mask": _MASK,
    "bool_rows": np.array([True, False, True]),
    "bool_cols": (slice(None), np.array([False, True, True, False])),
    "array_and_slice": ([0, 0], slice(1, 3)),
    "slice_and_array": (slice(1, None), [3, 3, 0]),
    "ellipsis_array": (Ellipsis, [1, 1]),
    "newaxis_array_ellipsis": (None, [0, 0], Ellipsis),
}
for _variant, _index in INDICES.items():
    case("getitem", _variant, lambda x, i=_index: x[i], smooth(3, 4))

case("getitem", "scalar_empty_tuple", lambda x: x[()], smooth())
case("getitem", "scalar_newaxis", lambda x: x[None], smooth())
case("getitem", "adjacent_arrays", lambda x: x[:, [0, 2], [1, 1]], smooth(2, 3, 2))
case("getitem", "separated_arrays", lambda x: x[[1, 0, 1], :, [0, 0, 1]], smooth(2, 3, 2))
case("getitem", "operator", lambda x: operator.getitem(x, (slice(None), [0, 0])), smooth(2, 3))
case("getitem", "iteration", lambda x: fnp.stack([r * k for k, r in enumerate(x)]), smooth(3, 2))
case(
    "scatter_add",
    "repeats",
    lambda v: fnp.scatter_add(v, (4,), np.array([0, 2, 0])),
    smooth(3),
)
case(
    "scatter_add",
    "2d",
    lambda v: fnp.scatter_add(v, (2, 3), (np.array([0, 1, 1]), np.array([2, 2, 0]))),
    smooth(3),
)

# --- products and linear algebra ----------------------------------------------------------

MATMUL_SHAPES = {
    "vec_vec": ((3,), (3,)),
    "vec_mat": ((3,), (3, 2)),
    "mat_vec": ((2, 3), (3,)),
    "mat_mat": ((2, 3), (3, 2)),
    "batch_mat": ((2, 2, 3), (3, 2)),
    "vec_batch": ((3,), (2, 3, 2)),
    "batch_vec": ((2, 2, 3), (3,)),
    "broadcast_batches": ((2, 1, 2, 2), (3, 2, 2)),
}
for _variant, (_s1, _s2) in MATMUL_SHAPES.items():
    case("matmul", _variant, fnp.matmul, smooth(*_s1), smooth(*_s2))
_W = np.array([[0.5, -1.0], [1.5, 0.3], [-0.2, 0.8]])
case("matmul", "operator", lambda x: x @ _W, smooth(2, 3))
case("matmul", "ndarray_on_left", lambda x: _W @ x, smooth(2, 4))

DOT_SHAPES = {
    "scalar_vec": ((), (3,)),
    "vec_vec": ((3,), (3,)),
    "mat_vec": ((2, 3), (3,)),
    "mat_mat": ((2, 3), (3, 2)),
    "batch_mat": ((2, 2, 3), (3, 2)),
    "mat_batch": ((2, 3), (2, 3, 2)),
    "vec_batch": ((3,), (2, 3, 2)),
    "batch_batch": ((2, 1, 2), (2, 2, 3)),
}
for _variant, (_s1, _s2) in DOT_SHAPES.items():
    case("dot", _variant, fnp.dot, smooth(*_s1), smooth(*_s2))
case("dot", "method", lambda a, b: a.dot(b), smooth(2, 3), smooth(3))

TENSORDOT = {
    "axes0": (0, (2,), (3,)),
    "axes1": (1, (2, 3), (3, 2)),
    "axes2": (2, (2, 3), (2, 3)),
    "pairs": (([1], [0]), (2, 3), (3, 2)),
    "unsorted_pairs": (([0, 1], [1, 0]), (2, 3, 2), (3, 2, 2)),
    "negative_axes": (([-1], [-2]), (2, 3), (2, 3, 2)),
}
for _variant, (_axes, _s1, _s2) in TENSORDOT.items():
    case(
        "tensordot",
        _variant,
        lambda a, b, ax=_axes: fnp.tensordot(a, b, ax),
        smooth(*_s1),
        smooth(*_s2),
    )
case("inner", "vec", fnp.inner, smooth(3), smooth(3))
case("inner", "mat", fnp.inner, smooth(2, 3), smooth(2, 3))
case("inner", "scalar", fnp.inner, smooth(), smooth(2))
case("outer", "vec", fnp.outer, smooth(3), smooth(2))
case("outer", "flattens", fnp.outer, smooth(2, 2), smooth(2))
case("vdot", "mat", fnp.vdot, smooth(2, 3), smooth(2, 3))
# Fixed values: a case drawing from _rng would shift the data of every later case.
case(
    "vdot",
    "other_shapes",
    fnp.vdot,
    np.linspace(-1.2, 1.4, 6).reshape(2, 3),
    np.linspace(0.9, -1.3, 6).reshape(3, 2),
)
case("kron", "vec", fnp.kron, smooth(2), smooth(3))
case("kron", "mat", fnp.kron, smooth(2, 2), smooth(2, 3))
case("kron", "vec_mat", fnp.kron, smooth(2), smooth(2, 2))

EINSUM = {
    "matmul": ("ij,jk->ik", (2, 3), (3, 2)),
    "dot": ("i,i->", (3,), (3,)),
    "transpose": ("ij->ji", (2, 3)),
    "sum_all": ("ij->", (2, 3)),
    "sum_axis": ("ij->j", (2, 3)),
    "outer": ("i,j->ij", (2,), (3,)),
    "batched": ("bij,bjk->bik", (2, 2, 3), (2, 3, 2)),
    "ellipsis_broadcast": ("...ij,...jk->...ik", (2, 1, 2, 2), (3, 2, 2)),
    "ellipsis_widths": ("...ij,jk->...ik", (2, 2, 3), (3, 2)),
    "implicit": ("ij,jk", (2, 3), (3, 2)),
    "implicit_scalar": ("ba,ab", (2, 3), (3, 2)),
    "implicit_ellipsis": ("...j,j", (2, 3), (3,)),
    "three_operands": ("ij,jk,kl->il", (2, 2), (2, 3), (3, 2)),
    "size1_broadcast": ("ij,ij->ij", (3, 1), (3, 2)),
    "size1_ellipsis": ("...i,...i->...", (2, 1, 3), (2, 3)),
    "repeated_trace": ("ii->", (3, 3)),
    "repeated_implicit_trace": ("ii", (3, 3)),
    "repeated_diagonal": ("ii->i", (3, 3)),
    "repeated_batched_diagonal": ("bii->b", (2, 3, 3)),
    "repeated_three_times": ("iii->i", (2, 2, 2)),
    "repeated_with_product": ("iij,jk->ik", (2, 2, 3), (3, 2)),
    "repeated_ellipsis": ("...ii->...i", (2, 3, 3)),
}
for _variant, (_spec, *_shapes) in EINSUM.items():
    case(
        "einsum",
        _variant,
        lambda *ops, s=_spec: fnp.einsum(s, *ops),
        *[smooth(*s) for s in _shapes],
    )
case("einsum", "constant_operand", lambda a: fnp.einsum("ij,jk->ik", a, _W), smooth(2, 3))
case(
    "einsum",
    "interleaved",
    lambda a, b: fnp.einsum(a, [0, 1], b, [1, Ellipsis], [0, Ellipsis]),
    smooth(2, 3),
    smooth(3, 2, 2),
)
case("einsum", "interleaved_implicit", lambda a: fnp.einsum(a, [1, 1]), smooth(3, 3))
case(
    "einsum",
    "optimize",
    lambda a, b, c: fnp.einsum("ij,jk,kl->il", a, b, c, optimize=True),
    smooth(2, 3),
    smooth(3, 4),
    smooth(4, 2),
)

_VEC_ORDS = {"none": None, "2": 2, "1": 1, "inf": np.inf, "-inf": -np.inf, "3": 3, "-1.5": -1.5}
for _variant, _ord in _VEC_ORDS.items():
    case(
        "norm",
        f"vec-ord{_variant}",
        lambda x, o=_ord: fnp.linalg.norm(x, o),
        distinct_magnitudes(4),
    )
_MAT_ORDS = {"none": None, "fro": "fro", "1": 1, "-1": -1, "inf": np.inf, "-inf": -np.inf}
for _variant, _ord in _MAT_ORDS.items():
    case("norm", f"mat-ord{_variant}", lambda x, o=_ord: fnp.linalg.norm(x, o), distinct_sums(3, 3))
case("norm", "scalar", fnp.linalg.norm, away())
case("norm", "flat_3d", fnp.linalg.norm, smooth(2, 3, 2))
case("norm", "axis0", lambda x: fnp.linalg.norm(x, axis=0), away(2, 3))
case("norm", "axis-1-ord1", lambda x: fnp.linalg.norm(x, 1, axis=-1), away(2, 3))
case("norm", "axis-1-ord3-keepdims", lambda x: fnp.linalg.norm(x, 3, -1, True), away(2, 3))
case("norm", "mat-axes10-ord1", lambda x: fnp.linalg.norm(x, 1, (1, 0)), distinct_sums(3, 3))
case(
    "norm",
    "mat-inf-keepdims",
    lambda x: fnp.linalg.norm(x, np.inf, keepdims=True),
    distinct_sums(3, 3),
)
case("norm", "batched-fro", lambda x: fnp.linalg.norm(x, axis=(-2, -1)), smooth(2, 2, 2))
case("norm", "batched-ord-1", lambda x: fnp.linalg.norm(x, -1, (1, 2)), distinct_sums(2, 2, 2))
case(
    "norm", "batched-ord-inf", lambda x: fnp.linalg.norm(x, -np.inf, (2, 1)), distinct_sums(2, 3, 3)
)
case("inv", "mat", fnp.linalg.inv, well_conditioned(3, 3))
case("inv", "batched", fnp.linalg.inv, well_conditioned(2, 2, 2))
case("det", "mat", fnp.linalg.det, well_conditioned(3, 3))
case("det", "batched", fnp.linalg.det, well_conditioned(2, 2, 2))
case("slogdet", "positive", lambda a: fnp.linalg.slogdet(a)[1], well_conditioned(3, 3))
case(
    "slogdet",
    "negative_det",
    lambda a: fnp.linalg.slogdet(a)[1],
    well_conditioned(3, 3)[[1, 0, 2]],
)
case("slogdet", "batched", lambda a: fnp.linalg.slogdet(a).logabsdet, well_conditioned(2, 2, 2))
SOLVE = {
    "vec_b": ((3, 3), (3,)),
    "mat_b": ((3, 3), (3, 2)),
    "batched": ((2, 3, 3), (2, 3, 2)),
    "batched_a_vec_b": ((2, 3, 3), (3,)),
    "batched_a_mat_b": ((2, 2, 2), (2, 3)),
    "batched_b": ((3, 3), (2, 3, 1)),
}
for _variant, (_sa, _sb) in SOLVE.items():
    case("solve", _variant, fnp.linalg.solve, well_conditioned(*_sa), smooth(*_sb))
# cholesky reads one triangle only, so feed it a symmetric function of the argument.
case("cholesky", "gram", lambda m: fnp.linalg.cholesky(m @ m.T + 3 * np.eye(3)), smooth(3, 3))
case("cholesky", "symmetrized", lambda a: fnp.linalg.cholesky(0.5 * (a + a.T)), spd(3, 3))
case(
    "cholesky",
    "batched",
    lambda a: fnp.linalg.cholesky(0.5 * (a + fnp.swapaxes(a, -1, -2))),
    spd(2, 2, 2),
)

# --- special functions (fgrad.nn) -----------------------------------------------

SPECIAL: dict[str, Callable[..., np.ndarray]] = {
    "sigmoid": smooth,
    "softplus": smooth,
    "relu": away,
}
for _name, _draw in SPECIAL.items():
    for _variant, _shape in SHAPES.items():
        case(_name, _variant, getattr(fgrad.nn, _name), _draw(*_shape))
case("sigmoid", "large", fgrad.nn.sigmoid, np.array([-30.0, -8.0, 8.0, 30.0]))
case("softplus", "large", fgrad.nn.softplus, np.array([-30.0, -8.0, 8.0, 30.0]))
for _variant, _axis in AXES.items():
    for _keep in (False, True):
        case(
            "logsumexp",
            f"{_variant}{'-keepdims' if _keep else ''}",
            lambda x, a=_axis, k=_keep: fgrad.nn.logsumexp(x, axis=a, keepdims=k),
            _reduction_input(_axis, smooth),
        )
case("logsumexp", "scalar", fgrad.nn.logsumexp, smooth())
case(
    "logsumexp",
    "large",
    lambda x: fgrad.nn.logsumexp(x, axis=-1),
    np.array([[1000.0, 1001.5, 999.2], [-800.0, -799.0, -801.3]]),
)
for _name in ("softmax", "log_softmax"):
    _fn = getattr(fgrad.nn, _name)
    case(_name, "vec", _fn, smooth(3))
    case(_name, "axis-1", _fn, smooth(2, 3))
    case(_name, "axis0", lambda x, f=_fn: f(x, axis=0), smooth(2, 3))
    case(_name, "tuple", lambda x, f=_fn: f(x, axis=(0, 2)), smooth(2, 2, 2))


# --- beyond autograd's yardstick: differences, NaN-aware reductions, interpolation ----------


def with_nans(draw: Callable[..., np.ndarray], *shape: int) -> np.ndarray:
    """``draw(*shape)`` with NaN where the sum of the indices is 1 modulo 3: about a third of
    the elements, and no slice along any axis (of length 2 or more) all NaN."""
    out = draw(*shape)
    out[np.indices(shape).sum(axis=0) % 3 == 1] = np.nan
    return out


def separated(*shape: int, values: tuple[float, ...] = (2.5, 1.5, 0.8)) -> np.ndarray:
    """Matrices with singular values near ``values``: the finite-difference error of
    singular-value derivatives grows like ``(h / gap)**4``, so the gaps are kept large."""
    m, n = shape[-2:]
    k = min(m, n)
    u, _ = np.linalg.qr(_rng.standard_normal(shape[:-2] + (m, m)))
    v, _ = np.linalg.qr(_rng.standard_normal(shape[:-2] + (n, n)))
    s = np.asarray(values[:k]) + _rng.uniform(-0.05, 0.05, shape[:-2] + (k,))
    return (u[..., :k] * s[..., None, :]) @ np.swapaxes(v[..., :k], -1, -2)


def symmetric(*shape: int, spread: tuple[float, ...] = (-1.0, 0.5, 2.0)) -> np.ndarray:
    """Symmetric matrices with eigenvalues near ``spread`` (gaps of at least ~1)."""
    n = shape[-1]
    q, _ = np.linalg.qr(_rng.standard_normal(shape))
    w = np.asarray(spread[:n]) + _rng.uniform(-0.1, 0.1, shape[:-1])
    return (q * w[..., None, :]) @ np.swapaxes(q, -1, -2)


def _fix_sign(vectors: Any, along: Any) -> Any:
    """Eigen- or singular vectors made unique: ``along`` (one row) made positive."""
    return vectors * fnp.sign(along)


_NAN_AXES = {"all": None, "axis0": 0, "axis-1-keepdims": -1, "tuple": (0, 2)}
NAN_REDUCTIONS: dict[str, Callable[..., np.ndarray]] = {
    "nansum": smooth,
    "nanmean": smooth,
    "nanprod": away,
    "nanmax": distinct,
    "nanmin": distinct,
    "nanvar": smooth,
    "nanstd": smooth,
}
for _name, _draw in NAN_REDUCTIONS.items():
    for _variant, _axis in _NAN_AXES.items():
        _fn = getattr(fnp, _name)
        _keep = _variant.endswith("keepdims")
        case(
            _name,
            _variant,
            lambda x, f=_fn, a=_axis, k=_keep: f(x, axis=a, keepdims=k),
            with_nans(_draw, *((2, 3, 2) if isinstance(_axis, tuple) else (3, 3))),
        )
    case(_name, "no_nans", lambda x, f=_fn: f(x, axis=1), _draw(2, 3))
case("nansum", "scalar", fnp.nansum, smooth())
case("nanvar", "ddof1", lambda x: fnp.nanvar(x, axis=0, ddof=1), with_nans(smooth, 3, 2))
case("nanstd", "ddof1", lambda x: fnp.nanstd(x, axis=1, ddof=1), with_nans(smooth, 2, 4))
case("nanmean", "dtype", lambda x: fnp.nanmean(x, dtype=np.float64), with_nans(smooth, 2, 3))
for _name, _draw in (("nancumsum", smooth), ("nancumprod", away)):
    _fn = getattr(fnp, _name)
    case(_name, "flat", _fn, with_nans(_draw, 2, 3))
    case(_name, "axis0", lambda x, f=_fn: f(x, axis=0), with_nans(_draw, 3, 2))
    case(_name, "axis-1", lambda x, f=_fn: f(x, axis=-1), with_nans(_draw, 2, 3))
case("ptp", "all", fnp.ptp, distinct(2, 3))
case("ptp", "axis-1-keepdims", lambda x: fnp.ptp(x, axis=-1, keepdims=True), distinct(2, 3))
case("median", "odd", fnp.median, distinct(5))
case("median", "even", fnp.median, distinct(2, 3))
case("median", "axis0-even", lambda x: fnp.median(x, axis=0), distinct(4, 3))
case("median", "axis-1-keepdims", lambda x: fnp.median(x, -1, keepdims=True), distinct(2, 3))
case("median", "tuple", lambda x: fnp.median(x, axis=(0, 2)), distinct(3, 2, 3))


def with_nans(x: np.ndarray, *flat_positions: int) -> np.ndarray:
    """``x`` with NaN at the given flat positions."""
    x = x.copy()
    x.flat[list(flat_positions)] = np.nan
    return x


case("nanmedian", "odd", fnp.nanmedian, with_nans(distinct(6), 2))
case("nanmedian", "even", fnp.nanmedian, with_nans(distinct(2, 3), 4, 5))
case("nanmedian", "no_nan_axis0", lambda x: fnp.nanmedian(x, axis=0), distinct(4, 3))
case("nanmedian", "axis1", lambda x: fnp.nanmedian(x, axis=1), with_nans(distinct(3, 4), 1, 6, 7))
case(
    "nanmedian",
    "tuple_keepdims",
    lambda x: fnp.nanmedian(x, axis=(0, 2), keepdims=True),
    with_nans(distinct(3, 2, 3), 0, 7),
)

_NONFINITE = np.array([0.7, np.nan, -1.2, np.inf, 0.4, -np.inf])
# Replacing infinities by finfo.max would swamp the finite differences of a projection.
case("nan_to_num", "nonfinite", lambda x: fnp.nan_to_num(x, posinf=3.0, neginf=-3.0), _NONFINITE)
case("nan_to_num", "finite_mat", fnp.nan_to_num, smooth(2, 3))
case("nan_to_num", "scalar", fnp.nan_to_num, smooth())
case(
    "nan_to_num",
    "traced_replacements",
    lambda x, n, p: fnp.nan_to_num(x, nan=n, posinf=p, neginf=-2.0),
    _NONFINITE,
    smooth(),
    smooth(),
)
for _name in ("real", "conjugate", "conj", "copy"):
    _fn = getattr(fnp, _name)
    case(_name, "vec", lambda x, f=_fn: f(x) * x, smooth(3))
    case(_name, "scalar", _fn, smooth())
# Complex inputs of these (and of every other function) are in tests/test_complex.py.
case("imag", "real", lambda x: fnp.imag(x) + x, smooth(3))
case("angle", "real", lambda x: fnp.angle(x) * x, away(3))
_C1, _C2 = _COND, np.array([True, True, False])
case(
    "select", "two_conditions", lambda a, b: fnp.select([_C1, _C2], [a, b]), smooth(2, 3), smooth(3)
)
case(
    "select",
    "traced_default",
    lambda a, d: fnp.select([_C1], [a], default=d),
    smooth(2, 3),
    smooth(2, 1),
)
case(
    "select",
    "conditions_from_values",
    lambda x: fnp.select([x < 0, x > 1], [x**2, -x], x),
    away(2, 3),
)

case("diff", "vec", fnp.diff, smooth(4))
case("diff", "axis0", lambda x: fnp.diff(x, axis=0), smooth(3, 2))
case("diff", "n2-axis-1", lambda x: fnp.diff(x, 2), smooth(2, 4))
case("diff", "n0", lambda x: fnp.diff(x, 0), smooth(3))
case("diff", "n_too_large", lambda x: fnp.diff(x, 4), smooth(3))
case("diff", "prepend_scalar", lambda x: fnp.diff(x, prepend=0.5, axis=0), smooth(2, 3))
case("diff", "append_array", lambda x: fnp.diff(x, append=np.ones((2, 1))), smooth(2, 3))
case(
    "diff",
    "traced_prepend_append",
    lambda x, p, a: fnp.diff(x, 2, prepend=p, append=a),
    smooth(4),
    smooth(),
    smooth(2),
)
case("ediff1d", "flat", fnp.ediff1d, smooth(2, 3))
case("ediff1d", "ends", lambda x: fnp.ediff1d(x, to_end=[1.0, 2.0], to_begin=-1.0), smooth(3))
case(
    "ediff1d",
    "traced_ends",
    lambda x, e: fnp.ediff1d(x, to_end=e, to_begin=e),
    smooth(3),
    smooth(2),
)

case("cross", "vec", fnp.cross, smooth(3), smooth(3))
case("cross", "broadcast", fnp.cross, smooth(2, 3), smooth(3))
case(
    "cross",
    "axes",
    lambda a, b: fnp.cross(a, b, axisa=0, axisb=1, axisc=0),
    smooth(3, 2),
    smooth(2, 3),
)
case("cross", "axis", lambda a, b: fnp.cross(a, b, axis=0), smooth(3, 2), smooth(3, 1))
case("append", "flat", fnp.append, smooth(2, 2), smooth(3))
case("append", "axis0", lambda a, b: fnp.append(a, b, axis=0), smooth(2, 3), smooth(1, 3))
case("append", "constant_values", lambda a: fnp.append(a, [1.0, 2.0]), smooth(2))
case(
    "insert", "scalar_obj-axis1", lambda a, v: fnp.insert(a, 1, v, axis=1), smooth(2, 3), smooth(2)
)
case("insert", "list_obj-flat", lambda a, v: fnp.insert(a, [0, 2, 2], v), smooth(2, 2), smooth(3))
case(
    "insert",
    "broadcast_value",
    lambda a, v: fnp.insert(a, [1, 3], v, axis=0),
    smooth(3, 2),
    smooth(),
)
case("insert", "constant_values", lambda a: fnp.insert(a, slice(0, 2), [5.0, 6.0]), smooth(3))
case("delete", "int-axis1", lambda a: fnp.delete(a, 1, axis=1), smooth(2, 3))
case("delete", "list-flat", lambda a: fnp.delete(a, [0, 4]), smooth(2, 3))
case("delete", "slice-axis0", lambda a: fnp.delete(a, slice(None, None, 2), axis=0), smooth(3, 2))
for _k in (1, 2, 3, -1, 4):
    case("rot90", f"k{_k}", lambda m, k=_k: fnp.rot90(m, k), smooth(2, 3))
case("rot90", "axes12", lambda m: fnp.rot90(m, 1, axes=(1, 2)), smooth(2, 3, 2))
case("rot90", "negative_axes", lambda m: fnp.rot90(m, 3, axes=(-1, 0)), smooth(2, 3, 2))
case("rollaxis", "to_front", lambda a: fnp.rollaxis(a, 2), smooth(2, 3, 2))
case("rollaxis", "start", lambda a: fnp.rollaxis(a, 0, 3), smooth(2, 3, 2))
case("rollaxis", "negative", lambda a: fnp.rollaxis(a, -1, 1), smooth(2, 3, 2))
case("dsplit", "sections", lambda a: fnp.dsplit(a, 2), smooth(1, 2, 4))
case("partition", "vec", lambda a: fnp.partition(a, 2), distinct(5))
case("partition", "axis0", lambda a: fnp.partition(a, (0, 2), axis=0), distinct(3, 2))
case("partition", "flat", lambda a: fnp.partition(a, 3, axis=None), distinct(2, 3))

case("trapezoid", "vec", fnp.trapezoid, smooth(4))
case("trapezoid", "dx", lambda y: fnp.trapezoid(y, dx=0.3, axis=0), smooth(3, 2))
case(
    "trapezoid",
    "traced_x",
    fnp.trapezoid,
    smooth(2, 3),
    np.array([0.0, 0.4, 1.1]) + smooth(3) * 0.1,
)
case(
    "trapezoid",
    "traced_2d_x",
    lambda y, x: fnp.trapezoid(y, x, axis=0),
    smooth(3, 2),
    np.array([[0.0], [0.6], [1.0]]) + smooth(3, 2) * 0.1,
)
case("trapezoid", "traced_dx", lambda y, d: fnp.trapezoid(y, dx=d), smooth(2, 3), pos())
_COORDS = np.array([0.0, 0.3, 0.9, 1.2])
case("gradient", "vec", fnp.gradient, smooth(4))
case("gradient", "mat_all_axes", fnp.gradient, smooth(3, 4))
case("gradient", "spacing", lambda f: fnp.gradient(f, 0.5, axis=-1), smooth(2, 4))
case("gradient", "coordinates", lambda f: fnp.gradient(f, _COORDS, axis=1), smooth(2, 4))
case("gradient", "edge_order2", lambda f: fnp.gradient(f, axis=0, edge_order=2), smooth(4, 2))
case(
    "gradient",
    "edge_order2_coordinates",
    lambda f: fnp.gradient(f, _COORDS, edge_order=2),
    smooth(4),
)
case("gradient", "per_axis_spacings", lambda f: fnp.gradient(f, 2.0, _COORDS[:3]), smooth(2, 3))
case(
    "gradient",
    "traced_coordinates",
    lambda f, x: fnp.gradient(f, x),
    smooth(4),
    _COORDS + 0.05 * smooth(4),
)
case("gradient", "traced_spacing", lambda f, h: fnp.gradient(f, h, edge_order=2), smooth(4), pos())
_XP, _FP = np.array([-1.0, 0.0, 0.5, 1.5]), np.array([0.3, -0.7, 1.1, 0.2])
_X_INSIDE = np.array([[-0.8, 0.2, 1.3], [0.4, -0.3, 0.9]])
case("interp", "x", lambda x: fnp.interp(x, _XP, _FP), _X_INSIDE)
case("interp", "fp", lambda fp: fnp.interp(_X_INSIDE, _XP, fp), smooth(4))
case("interp", "all", fnp.interp, _X_INSIDE[0], _XP + 0.02 * smooth(4), smooth(4))
case(
    "interp",
    "outside_traced_bounds",
    lambda x, lo, hi: fnp.interp(x, _XP, _FP, left=lo, right=hi),
    np.array([-1.5, 0.2, 2.0]),
    smooth(),
    smooth(),
)
case(
    "interp",
    "outside_default_bounds",
    lambda fp: fnp.interp(np.array([-2.0, 2.0]), _XP, fp),
    smooth(4),
)
case("interp", "scalar_x", lambda x: fnp.interp(x, _XP, _FP), np.array(0.7))
case("interp", "at_knots", lambda fp: fnp.interp(_XP, _XP, fp), smooth(4))
case("interp", "one_point", lambda x, fp: fnp.interp(x, [0.5], fp), np.array([0.2, 0.9]), smooth(1))
case("full", "scalar", lambda v: fnp.full((2, 3), v), smooth())
case("full", "row", lambda v: fnp.full((2, 3), v, dtype=np.float64), smooth(3))
case("full_like", "scalar", lambda v: fnp.full_like(np.ones((2, 2)), v), smooth())
case("full_like", "shape", lambda v: fnp.full_like(np.ones(3), v, shape=(2, 3)), smooth())

# --- symmetric eigendecomposition, SVD and other linear algebra ------------------------------

case("eigh", "eigenvalues", lambda a: fnp.linalg.eigh(a).eigenvalues, symmetric(3, 3))
case(
    "eigh",
    "eigenvectors",
    lambda a: (lambda w, v: _fix_sign(v, v[..., :1, :]))(*fnp.linalg.eigh(a)),
    symmetric(3, 3),
)
case(
    "eigh",
    "reads_lower_triangle",
    lambda a: (lambda w, v: (w, _fix_sign(v, v[..., :1, :])))(*fnp.linalg.eigh(a)),
    symmetric(3, 3) + np.triu(smooth(3, 3), 1),
)
case(
    "eigh",
    "upper",
    lambda a: (lambda w, v: (w, _fix_sign(v, v[..., -1:, :])))(*fnp.linalg.eigh(a, "U")),
    symmetric(3, 3) + np.tril(smooth(3, 3), -1),
)
case(
    "eigh",
    "batched",
    lambda a: (lambda w, v: (w, _fix_sign(v, v[..., :1, :])))(*fnp.linalg.eigh(a)),
    symmetric(2, 2, 2),
)
case(
    "eigh",
    "matrix_function",
    lambda a: (lambda w, v: (v * fnp.sin(w)[..., None, :]) @ fnp.swapaxes(v, -1, -2))(
        *fnp.linalg.eigh(0.5 * (a + a.T))
    ),
    smooth(3, 3),
)
case("eigvalsh", "mat", fnp.linalg.eigvalsh, symmetric(3, 3) + np.triu(smooth(3, 3), 1))
case("eigvalsh", "upper-batched", lambda a: fnp.linalg.eigvalsh(a, "U"), symmetric(2, 3, 3))
# Real matrices: complex conjugate eigenvalues, or all real ones (NumPy then returns floats).
case(
    "eigvals",
    "complex-pair",
    lambda a: fnp.real(fnp.linalg.eigvals(a) * np.array([1.0 + 2.0j, 0.5 - 1.0j])),
    np.array([[0.2, -2.0], [1.0, 0.5]]),
)
case("eigvals", "batched", fnp.linalg.eigvals, np.diag([2.0, -0.5, 1.0]) + 0.3 * smooth(2, 3, 3))
case(
    "eig",
    "real-eigenvalues",
    lambda a: fnp.linalg.eig(a).eigenvalues,
    np.diag([2.0, -0.5, 1.0]) + np.triu(smooth(3, 3), 1) + 0.1 * np.tril(smooth(3, 3), -1),
)


def _svd_fixed(a: Any, hermitian: bool = False) -> Any:
    u, s, vh = fnp.linalg.svd(a, full_matrices=False, hermitian=hermitian)
    sign = fnp.sign(u[..., :1, :])
    return u * sign, s, vh * fnp.swapaxes(sign, -1, -2)


SVD_SHAPES = {"tall": (3, 2), "wide": (2, 3), "square": (3, 3), "batched": (2, 3, 2)}
for _variant, _shape in SVD_SHAPES.items():
    case(
        "svd",
        f"values-{_variant}",
        lambda a: fnp.linalg.svd(a, compute_uv=False),
        separated(*_shape),
    )
    case("svd", f"vectors-{_variant}", _svd_fixed, separated(*_shape))
case("svd", "full_matrices_square", lambda a: fnp.linalg.svd(a)[1], smooth(2, 2))
case(
    "svd",
    "hermitian",
    lambda a: _svd_fixed(a, hermitian=True),
    symmetric(3, 3) + np.triu(smooth(3, 3), 1),
)
# The top singular value of a rank-one matrix is smooth (the zero one is not).
case("svd", "rank_one_top", lambda a: fnp.linalg.svdvals(a)[0], np.outer(smooth(3), smooth(2)))
case("svdvals", "mat", fnp.linalg.svdvals, separated(2, 3))
case("svdvals", "batched", fnp.linalg.svdvals, separated(2, 2, 3))
for _variant, _shape in SVD_SHAPES.items():
    case(
        "pinv",
        _variant,
        fnp.linalg.pinv,
        separated(*_shape),
    )
case("pinv", "rank_deficient", lambda b, c: fnp.linalg.pinv(b @ c), smooth(3, 1), smooth(1, 3))
case(
    "pinv",
    "hermitian",
    lambda a: fnp.linalg.pinv(a, hermitian=True),
    symmetric(3, 3) + np.triu(smooth(3, 3), 1),
)
case("pinv", "rcond", lambda a: fnp.linalg.pinv(a, rcond=1e-10), smooth(3, 2))
for _n in (0, 1, 2, 3, 5, 6, -1, -3):
    case(
        "matrix_power",
        f"n{_n}",
        lambda a, n=_n: fnp.linalg.matrix_power(a, n),
        well_conditioned(2, 2) / 2,
    )
case(
    "matrix_power",
    "batched",
    lambda a: fnp.linalg.matrix_power(a, 4),
    well_conditioned(2, 3, 3) / 2,
)
case(
    "multi_dot",
    "three",
    lambda a, b, c: fnp.linalg.multi_dot([a, b, c]),
    smooth(2, 3),
    smooth(3, 4),
    smooth(4, 2),
)
case(
    "multi_dot",
    "four_1d_ends",
    lambda a, b, c, d: fnp.linalg.multi_dot([a, b, c, d]),
    smooth(3),
    smooth(3, 4),
    smooth(4, 2),
    smooth(2),
)
case("multi_dot", "two", lambda a, b: fnp.linalg.multi_dot([a, b]), smooth(2, 3), smooth(3))
case(
    "multi_dot",
    "1d_first",
    lambda a, b, c: fnp.linalg.multi_dot([a, b, c]),
    smooth(2),
    smooth(2, 3),
    smooth(3, 3),
)
for _variant, _p in {"none": None, "2": 2, "-2": -2, "fro": "fro", "1": 1, "inf": np.inf}.items():
    case("cond", _variant, lambda a, p=_p: fnp.linalg.cond(a, p), separated(3, 3))
case("cond", "batched", fnp.linalg.cond, separated(2, 2, 2))
for _variant, _ord in {"2": 2, "-2": -2, "nuc": "nuc"}.items():
    case("norm", f"mat-ord{_variant}", lambda x, o=_ord: fnp.linalg.norm(x, o), smooth(3, 2))
case(
    "norm",
    "batched-nuc-keepdims",
    lambda x: fnp.linalg.norm(x, "nuc", (0, 2), True),
    smooth(2, 3, 2),
)
case("norm", "axes10-ord2", lambda x: fnp.linalg.norm(x, 2, (1, 0)), smooth(2, 3))
case("matrix_norm", "fro", fnp.linalg.matrix_norm, smooth(2, 3))
case(
    "matrix_norm",
    "nuc-keepdims",
    lambda x: fnp.linalg.matrix_norm(x, ord="nuc", keepdims=True),
    smooth(2, 2, 3),
)
case("matrix_norm", "2", lambda x: fnp.linalg.matrix_norm(x, ord=2), smooth(2, 3, 3))
case("vector_norm", "all", fnp.linalg.vector_norm, smooth(2, 3))
case(
    "vector_norm",
    "tuple-keepdims",
    lambda x: fnp.linalg.vector_norm(x, axis=(0, 2), keepdims=True),
    smooth(2, 3, 2),
)
case("vector_norm", "ord1-axis", lambda x: fnp.linalg.vector_norm(x, axis=-1, ord=1), away(2, 3))
case("vecdot", "broadcast", fnp.linalg.vecdot, smooth(2, 3), smooth(3))
case("vecdot", "axis0", lambda a, b: fnp.linalg.vecdot(a, b, axis=0), smooth(3, 2), smooth(3, 1))
case("matrix_transpose", "batched", fnp.linalg.matrix_transpose, smooth(2, 3, 2))
case("matrix_transpose", "top_level", lambda x: fnp.matrix_transpose(x) @ x, smooth(2, 3))
case("outer", "linalg", fnp.linalg.outer, smooth(3), smooth(2))
case("cross", "linalg", lambda a, b: fnp.linalg.cross(a, b, axis=0), smooth(3, 2), smooth(3, 2))
case("diagonal", "linalg", lambda x: fnp.linalg.diagonal(x, offset=-1), smooth(2, 3, 3))
case("trace", "linalg", fnp.linalg.trace, smooth(2, 3, 3))
case("matmul", "linalg", fnp.linalg.matmul, smooth(2, 2, 3), smooth(3, 2))
case("tensordot", "linalg", lambda a, b: fnp.linalg.tensordot(a, b, 1), smooth(2, 3), smooth(3, 2))

# --- functions whose values move with the inputs (fgrad issue 7): registered last, so that
# their random inputs do not shift those of the cases above -------------------------------------

# heaviside: the value at x1 == 0 is x2; in x1 the step is piecewise constant.
_STEPS = np.array([[-1.0, 0.0, 2.0], [0.0, 0.5, -3.0]])
case("heaviside", "x2", lambda h: fnp.heaviside(_STEPS, h), smooth(3))
case("heaviside", "both", lambda x, h: fnp.heaviside(x, h), away(2, 3), smooth(1))
# unique: a gather from the first occurrences; duplicates built from the same elements stay tied.
case("unique", "distinct", fnp.unique, distinct(2, 3))
case("unique", "duplicates", lambda x: fnp.unique(fnp.concatenate([x, x[::2]])), distinct(5))
case(
    "unique",
    "all_outputs",
    lambda x: fnp.unique(fnp.concatenate([x, x[:2]]), True, True, True)[0],
    distinct(4),
)
case("unique", "axis0", lambda x: fnp.unique(fnp.concatenate([x, x[1:]]), axis=0), distinct(3, 2))
# histogram: uniform edges between min and max, 0.1 bin widths away from every element.
_HIST = np.array([-0.7, -0.5, 0.1, 0.5, 1.1, 1.3])
case("histogram", "edges", lambda x: fnp.histogram(x, 4)[1], _HIST)
case("histogram", "density", lambda x: fnp.histogram(x, 4, density=True), _HIST)
case("histogram", "rule_name", lambda x: fnp.histogram(x, "sturges", density=True), _HIST)
case("histogram", "weights", lambda w: fnp.histogram(_HIST, 3, weights=w), pos(6))
case(
    "histogram",
    "weights_density",
    lambda x, w: fnp.histogram(x, 4, weights=w, density=True),
    _HIST,
    pos(6),
)
case(
    "histogram", "range", lambda r: fnp.histogram(_HIST, 3, (r[0], r[1]))[1], np.array([-1.0, 2.0])
)
case("histogram", "bins", lambda b: fnp.histogram(_HIST, b, density=True), np.array([-1, 0, 2.0]))
# NumPy 2's unique_*: the values (first field) are a gather; duplicates stay tied.
if hasattr(fnp, "unique_values"):  # NumPy >= 2.0
    case(
        "unique_values",
        "duplicates",
        lambda x: fnp.unique_values(fnp.concatenate([x, x[1:]])),
        distinct(5),
    )
    case(
        "unique_counts",
        "duplicates",
        lambda x: fnp.unique_counts(fnp.concatenate([x, x[1:]]))[0],
        distinct(5),
    )
    case(
        "unique_inverse",
        "duplicates",
        lambda x: fnp.unique_inverse(fnp.concatenate([x, x[:2]]))[0],
        distinct(4),
    )
    case(
        "unique_all",
        "duplicates",
        lambda x: fnp.unique_all(fnp.concatenate([x, x[::2]])).values,
        distinct(4),
    )
case("extract", "mask", lambda x: fnp.extract(_COND, x), smooth(2, 3))
case("compress", "axis1", lambda x: fnp.compress([True, False, True], x, axis=1), smooth(2, 3))
case("compress", "flat_short", lambda x: fnp.compress([False, True, True], x), smooth(2, 3))
case(
    "choose",
    "broadcast",
    lambda x, y: fnp.choose(np.array([[0, 1, 1], [1, 0, 2]]), [x, y, 0.5]),
    smooth(2, 3),
    smooth(3),
)
case(
    "choose", "wrap", lambda x: fnp.choose(np.array([3, -1, 0]), [x, 2 * x], mode="wrap"), smooth(3)
)
# quantile / percentile: q * (n - 1) at least 0.1 from an integer; values without ties.
case("quantile", "scalar", lambda x: fnp.quantile(x, 0.3), distinct(2, 3))
case("quantile", "levels_axis", lambda x: fnp.quantile(x, [0.1, 0.55, 1.0], axis=0), distinct(5, 2))
case(
    "quantile",
    "keepdims_tuple",
    lambda x: fnp.quantile(x, 0.7, axis=(0, 2), keepdims=True),
    distinct(2, 3, 2),
)
case("quantile", "traced_q", lambda q: fnp.quantile(_HIST, q), np.array([0.33, 0.52]))
case("percentile", "axis1", lambda x: fnp.percentile(x, 35.0, axis=1), distinct(2, 4))
case("percentile", "traced_q", lambda q: fnp.percentile(_HIST, q), np.array([33.0, 52.0]))
case("histogram_bin_edges", "data", lambda x: fnp.histogram_bin_edges(x, 3), _HIST * 2)
case(
    "histogram_bin_edges",
    "range",
    lambda r: fnp.histogram_bin_edges(_HIST, 2, (r[0], 2.0)),
    np.array([-1.0]),
)

# --- functional indexed updates: x.at[index].<op>(values) (fgrad.numpy.at) -------------------

_AT_REPEATS = np.array([0, 2, 0, 3])
"""Element 0 is updated twice: the updates accumulate in order (``set``: the last one wins)."""
for _op in ("set", "add", "subtract", "multiply", "divide", "power"):
    case("at", f"{_op}-repeats", lambda x, v, op=_op: getattr(fnp.at(x)[_AT_REPEATS], op)(v),
         pos(5), pos(4, lo=0.5, hi=1.5))  # fmt: skip
for _op in ("min", "max"):
    _x_at, _v_at = distinct_pair((5,), (4,))
    case("at", f"{_op}-repeats", lambda x, v, op=_op: getattr(fnp.at(x)[_AT_REPEATS], op)(v),
         _x_at, _v_at)  # fmt: skip
case("at", "set-plain-array", lambda v: fnp.at(np.arange(6.0))[1:4].set(v), smooth(3))
case("at", "add-plain-values", lambda x: fnp.at(x)[[1, 1, 0]].add(np.array([[1.0], [2.0], [3.0]])),
     smooth(2, 2))  # fmt: skip
case("at", "set-mixed-index-broadcast", lambda x, v: fnp.at(x)[1:, [0, 2]].set(v),
     smooth(3, 4), smooth(2))  # fmt: skip
case("at", "multiply-mask", lambda x, v: fnp.at(x)[np.array([True, False, True])].multiply(v),
     smooth(3), smooth())  # fmt: skip
case("at", "get", lambda x: fnp.at(x)[::2, 1].get() * 2.0, smooth(3, 2))
case("at", "chained", lambda x, v: fnp.at(fnp.at(x)[0].set(v[0]))[-1].add(v[1] * x[0]),
     smooth(3), smooth(2))  # fmt: skip

# --- array-likes of traced values: lists and tuples wherever NumPy takes an array ----------------

case("mean", "list_of_tracers", lambda x: fnp.mean([x[0], x[1] * x[2], 1.0]), smooth(3))
case("var", "list_of_tracers", lambda x: fnp.var([x[0], x[1], 2.0]), smooth(3))
case("std", "tuple_of_tracers", lambda x: fnp.std((x[0], x[1], 2.0), ddof=1), smooth(3))
case("norm", "list_of_tracers", lambda x: fnp.linalg.norm([x[0], x[1]]), away(2))
case("append", "list_of_tracers", lambda x: fnp.append([x[0], 1.0], x), smooth(3))
case("concatenate", "nested_list", lambda x: fnp.concatenate([[x[0], 1.0], x]), smooth(3))
case("exp", "list_of_tracers", lambda x: fnp.exp([x[0], x[1]]), smooth(2))
case("dot", "list_of_tracers", lambda x: fnp.dot([x[0], x[1]], x), smooth(2))
case("where", "lists", lambda x: fnp.where([True, False], [x[0], x[1]], 0.5), smooth(2))
case("percentile", "list_q", lambda x: fnp.percentile(x, [30.0, 70.0]), distinct(5))
case("array", "numpy_dispatch", lambda x: np.mean(fnp.array([x[0], x[1]])), smooth(2))
case("stack", "nested_lists", lambda x: fnp.stack([[x[0], 1.0, x[1]], x], axis=1), smooth(3))
case("hstack", "tuple_of_lists", lambda x: np.hstack(([x[0]], x)), smooth(3))

# --- r_, c_ and ranges with traced ends -------------------------------------------------------

case("r_", "arrays_scalars_slices", lambda x: fnp.r_[x, 0.5, 1:3, x[:2] * 2.0], smooth(3))
case("r_", "traced_slice", lambda x: fnp.r_[x[0] : x[1] : 4j, x[2]], smooth(3))
case("r_", "directive", lambda x: fnp.r_["0,2", x, x * x], smooth(3))
case("r_", "directive_trans1d", lambda x: fnp.r_["-1,2,0", x, x], smooth(3))
case("c_", "columns", lambda x, y: fnp.c_[x, y, np.ones(3)], smooth(3), smooth(3, 2))
case("linspace", "scalar_ends", lambda a, b: fnp.linspace(a, b, 5), smooth(), smooth())
case("linspace", "array_ends_axis", lambda a, b: fnp.linspace(a, b, 4, endpoint=False, axis=1),
     smooth(2), smooth(2))  # fmt: skip
case("linspace", "retstep", lambda a, b: fnp.linspace(a, b, 3, retstep=True), smooth(), smooth())
case("linspace", "one_sample", lambda a, b: fnp.linspace(a, b, 1), smooth(), smooth())
case("linspace", "numpy_dispatch", lambda a: np.linspace(a, 2.0, 4), smooth(3))
case("logspace", "base", lambda a, b, c: fnp.logspace(a, b, 4, base=c), smooth(), smooth(), pos())
case("logspace", "axis", lambda a: fnp.logspace(a, 1.0, 3, axis=-1), smooth(2))
case("geomspace", "positive", lambda a, b: fnp.geomspace(a, b, 5), pos(), pos())
# An array start with a scalar stop of another shape trips NumPy 1.26's own geomspace.
case("geomspace", "negative_axis", lambda a: fnp.geomspace(-a, -(a + 2.0), 3, axis=1), pos(2))

# numpy.fft: every transform is linear; real inputs here, complex ones in tests/test_complex.py.
case("fft", "vec", fnp.fft.fft, smooth(4))
case("fft", "padded", lambda x: fnp.fft.fft(x, n=6), smooth(4))
case(
    "fft",
    "truncated_axis0_ortho",
    lambda x: fnp.fft.fft(x, n=2, axis=0, norm="ortho"),
    smooth(3, 2),
)
case("ifft", "vec", fnp.fft.ifft, smooth(5))
case("ifft", "forward", lambda x: fnp.fft.ifft(x, n=3, norm="forward"), smooth(2, 4))
case("rfft", "even", fnp.fft.rfft, smooth(4))
case("rfft", "odd_axis0", lambda x: fnp.fft.rfft(x, axis=0), smooth(5, 2))
case("rfft", "padded_ortho", lambda x: fnp.fft.rfft(x, n=7, norm="ortho"), smooth(4))
case("irfft", "real_input", fnp.fft.irfft, smooth(3))
case("irfft", "odd_n", lambda x: fnp.fft.irfft(x, n=5), smooth(2, 3))
case("irfft", "truncated", lambda x: fnp.fft.irfft(x, n=4, norm="forward"), smooth(5))
case("fft2", "mat", fnp.fft.fft2, smooth(3, 4))
case("ifft2", "s", lambda x: fnp.fft.ifft2(x, s=(2, 5)), smooth(3, 4))
case("rfft2", "batched", fnp.fft.rfft2, smooth(2, 3, 4))
case("irfft2", "s", lambda x: fnp.fft.irfft2(x, s=(3, 4)), smooth(3, 3))
case("fftn", "all_axes", fnp.fft.fftn, smooth(2, 3, 2))
case("ifftn", "axes", lambda x: fnp.fft.ifftn(x, axes=(0, 2), norm="ortho"), smooth(2, 3, 2))
case("rfftn", "s", lambda x: fnp.fft.rfftn(x, s=(3, 4)), smooth(2, 5))
case("irfftn", "all_axes", fnp.fft.irfftn, smooth(2, 3))
case("fftshift", "vec", fnp.fft.fftshift, smooth(5))
case("fftshift", "axes", lambda x: fnp.fft.fftshift(x, axes=1), smooth(2, 4))
case("ifftshift", "mat", fnp.fft.ifftshift, smooth(3, 4))
case("fft", "numpy_dispatch", lambda x: np.fft.fft(x), smooth(4))

# --- the tests --------------------------------------------------------------------------


def _leaves(tree: Any) -> list[np.ndarray]:
    return [np.asarray(concrete(leaf)) for leaf in tree_flatten(tree)[0]]


def _bitwise_equal(a: Any, b: Any) -> None:
    la, lb = _leaves(a), _leaves(b)
    assert len(la) == len(lb)
    for x, y in zip(la, lb):
        assert x.dtype == y.dtype
        np.testing.assert_array_equal(x, y, strict=True)


def _normal_like(rng: np.random.Generator, x: Any) -> np.ndarray:
    """Standard normal numbers shaped like ``x``; complex ones for a complex ``x``."""
    shape = np.shape(x)
    if np.iscomplexobj(x):
        return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    return rng.standard_normal(shape)


@pytest.mark.parametrize(("fun", "args"), CASES)
def test_jit_replays_gradients_bit_identical_to_eager(
    fun: Callable[..., Any], args: tuple[Any, ...]
) -> None:
    check_jit_replays(fun, args)


def check_jit_replays(fun: Callable[..., Any], args: tuple[Any, ...]) -> None:
    """The case through ``fgrad.jit``: first- and second-order derivatives, bit for bit."""
    rng = np.random.default_rng(7)
    out = fun(*args)
    cotangent = fgrad.tree.tree_map(lambda o: _normal_like(rng, o), out)
    tangents = fgrad.tree.tree_map(lambda a: _normal_like(rng, a), args)

    def derivatives(*xs: Any) -> Any:
        first = fgrad.vjp(fun, *xs)[1](cotangent)
        second = fgrad.jvp(lambda *ys: fgrad.vjp(fun, *ys)[1](cotangent), xs, tangents)[1]
        return first, second

    jitted = fgrad.jit(derivatives)
    # A 0-d array times a float is a NumPy scalar: another jit signature, since NumPy may
    # compute on scalars with other code than on 0-d arrays. Keeping each argument's kind
    # (array or NumPy scalar) makes the nudged call replay the first call's recording.
    nudged = fgrad.tree.tree_map(
        lambda a: np.array(a * (1 + 1e-3)) if isinstance(a, np.ndarray) else a * (1 + 1e-3), args
    )
    scalar_points = []
    if all(np.ndim(a) == 0 for a in fgrad.tree.tree_leaves(args)):
        scalar_points = [
            fgrad.tree.tree_map(lambda a: np.asarray(a)[()], p) for p in (args, nudged)
        ]
    for point in [args, nudged, args, *scalar_points]:
        _bitwise_equal(jitted(*point), derivatives(*point))
    assert jitted.stats.replays + jitted.stats.guard_failures >= 2 + len(scalar_points) // 2


@pytest.mark.parametrize(("fun", "args"), CASES)
def test_grads(fun: Callable[..., Any], args: tuple[Any, ...]) -> None:
    check_values_and_grads(fun, args)


def check_values_and_grads(fun: Callable[..., Any], args: tuple[Any, ...]) -> None:
    """The traced value equals NumPy's; ``check_grads`` to order 2 in both modes."""
    traced, _ = fgrad.vjp(fun, *args)
    plain = fun(*args)
    traced_leaves, plain_leaves = _leaves(traced), _leaves(plain)
    assert len(traced_leaves) == len(plain_leaves)
    for t, p in zip(traced_leaves, plain_leaves):
        assert t.shape == p.shape
        # Traced compositions (var, tile, norm...) may round differently from NumPy's own.
        np.testing.assert_allclose(t, p, rtol=1e-12, atol=1e-14)
    fgrad.check_grads(fun, args, order=2, modes=("rev", "fwd"))


# Each exported function declares its class where it is defined (fgrad/_rules/declare.py);
# piecewise constant ones are checked by tests/test_piecewise_constant.py.
def test_every_function_is_covered() -> None:
    names_of: dict[int, set[str]] = {}
    for namespace, entries in DECLARATIONS.items():
        if namespace.startswith("scipy.") or namespace == "lax":
            continue  # fgrad.scipy's and fgrad.lax's: tests/test_scipy.py, tests/test_lax.py
        for short, entry in entries.items():
            if entry.differentiability == "differentiable":
                names_of.setdefault(id(entry.fn), set()).add(short)
    differentiable = set().union(*names_of.values())
    # An alias (``trapz`` where NumPy has it) is covered by the cases of its function.
    assert {n for names in names_of.values() if not names & COVERED for n in names} == set()
    assert COVERED - differentiable == OPERATORS


# --- ties: finite differences are invalid there, so compare with hand-computed values ------


@pytest.mark.parametrize(
    ("fun", "x", "expected"),
    [
        pytest.param(
            lambda x: fnp.sum(fnp.max(x, axis=1)),
            [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]],
            [[0.0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]],
            id="max-axis1",
        ),
        pytest.param(fnp.max, [[1.0, 3.0], [3.0, 0.0]], [[0.0, 0.5], [0.5, 0.0]], id="max-all"),
        pytest.param(
            lambda x: fnp.sum(fnp.max(x, axis=0, keepdims=True) * np.array([[1.0, 10.0]])),
            [[4.0, -1.0], [4.0, -1.0], [0.0, -1.0]],
            [[0.5, 10 / 3], [0.5, 10 / 3], [0.0, 10 / 3]],
            id="max-axis0-keepdims",
        ),
        pytest.param(
            lambda x: fnp.sum(fnp.min(x, axis=-1)),
            [[1.0, 1.0, 3.0], [0.5, 2.0, 2.0]],
            [[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]],
            id="min-axis-1",
        ),
        pytest.param(
            lambda x: fnp.amin(x), [2.0, -1.0, -1.0, -1.0], [0.0, 1 / 3, 1 / 3, 1 / 3], id="amin"
        ),
        pytest.param(
            lambda x: fnp.sum(fnp.maximum(x, np.array([1.0, 0.0, 3.0]))),
            [1.0, 2.0, 3.0],
            [0.5, 1.0, 0.5],
            id="maximum-constant",
        ),
        pytest.param(
            lambda x: fnp.sum(fnp.minimum(x, 2.0)), [2.0, 1.0, 3.0], [0.5, 1.0, 0.0], id="minimum"
        ),
        pytest.param(
            lambda x: fnp.sum(fnp.fmax(x, x[::-1])),
            [1.0, 5.0, 1.0],
            [1.0, 1.0, 1.0],
            id="fmax-self",
        ),
        pytest.param(
            lambda x: fnp.sum(fgrad.nn.relu(x)), [-1.0, 0.0, 2.0], [0.0, 0.0, 1.0], id="relu-at-0"
        ),
    ],
)
def test_ties_split_the_gradient(fun: Any, x: Any, expected: Any) -> None:
    np.testing.assert_allclose(fgrad.grad(fun)(np.array(x)), expected, rtol=1e-15)


def test_tie_gradient_of_both_arguments_of_maximum() -> None:
    x, y = np.array([1.0, 2.0, 3.0]), np.array([[1.0, 0.0, 3.0], [1.0, 2.0, 4.0]])
    dx, dy = fgrad.grad(lambda a, b: fnp.sum(fnp.maximum(a, b)), argnums=(0, 1))(x, y)
    np.testing.assert_allclose(dx, [1.0, 1.5, 0.5], rtol=1e-15)
    np.testing.assert_allclose(dy, [[0.5, 0.0, 0.5], [0.5, 0.5, 1.0]], rtol=1e-15)
    dx, dy = fgrad.grad(lambda a, b: fnp.sum(fnp.fmin(a, b)), argnums=(0, 1))(x, y)
    np.testing.assert_allclose(dx, [1.0, 0.5, 1.5], rtol=1e-15)
    np.testing.assert_allclose(dy, [[0.5, 1.0, 0.5], [0.5, 0.5, 0.0]], rtol=1e-15)


def test_tie_forward_mode_and_second_order() -> None:
    x = np.array([3.0, 1.0, 3.0])
    _, tangent = fgrad.jvp(fnp.max, (x,), (np.array([1.0, 5.0, 0.0]),))
    np.testing.assert_allclose(tangent, 0.5, rtol=1e-15)
    # The VJP is piecewise linear: its own derivative vanishes, also at the tie.
    np.testing.assert_allclose(fgrad.hessian(fnp.max)(x), np.zeros((3, 3)), atol=0)


def test_prod_and_cumprod_are_exact_at_zeros() -> None:
    x = np.array([2.0, 0.0, 3.0, 0.0])
    np.testing.assert_array_equal(fgrad.grad(fnp.prod)(x), [0.0, 0.0, 0.0, 0.0])
    x = np.array([2.0, 0.0, 3.0, 5.0])
    np.testing.assert_array_equal(fgrad.grad(fnp.prod)(x), [0.0, 30.0, 0.0, 0.0])
    np.testing.assert_array_equal(
        fgrad.hessian(fnp.prod)(x)[1], [30.0 / 2, 0.0, 30.0 / 3, 30.0 / 5]
    )
    np.testing.assert_array_equal(
        fgrad.jacobian(fnp.cumprod)(np.array([2.0, 0.0, 3.0])),
        [[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 6.0, 0.0]],
    )


# --- non-finite values, NaN slices and repeated eigenvalues: exact values, not differences ---


def test_nan_to_num_default_replacements() -> None:
    x = np.array([0.5, np.nan, np.inf, -np.inf, -2.0])
    w = np.array([1.0, 2.0, 1e-300, 1e-300, 3.0])
    value, grad = fgrad.value_and_grad(lambda t: fnp.sum(fnp.nan_to_num(t) * w))(x)
    assert value == np.sum(np.nan_to_num(x) * w)
    np.testing.assert_array_equal(grad, [1.0, 0.0, 0.0, 0.0, 3.0])
    x32 = x.astype(np.float32)
    out = fgrad.vjp(fnp.nan_to_num, x32)[0]
    np.testing.assert_array_equal(out, np.nan_to_num(x32), strict=True)


@pytest.mark.parametrize("name", ["nanmax", "nanmin", "nanmean", "nanvar", "median"])
def test_nan_reductions_of_all_nan_slices_match_numpy(name: str) -> None:
    x = np.array([[np.nan, np.nan], [1.0, 2.0]])
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = getattr(np, name)(x, axis=1)
        out, pullback = fgrad.vjp(lambda t: getattr(fnp, name)(t, axis=1), x)
        grad = pullback(np.array([0.0, 1.0]))[0]
    np.testing.assert_array_equal(out, expected)
    assert np.all(np.isfinite(grad[1]))


def test_nanmedian_shares_the_gradient_among_ties_and_gives_none_to_all_nan_slices() -> None:
    x = np.array([[1.0, 2.0, 2.0, 3.0], [2.0, np.nan, 2.0, 5.0], [np.nan, np.nan, np.nan, np.nan]])
    with pytest.warns(RuntimeWarning, match="All-NaN slice"):
        out, pullback = fgrad.vjp(lambda t: fnp.nanmedian(t, axis=1), x)
    np.testing.assert_array_equal(out, [2.0, 2.0, np.nan])
    (grad,) = pullback(np.array([1.0, 10.0, 100.0]))
    np.testing.assert_array_equal(
        grad, [[0.0, 0.5, 0.5, 0.0], [5.0, 0.0, 5.0, 0.0], [0.0, 0.0, 0.0, 0.0]]
    )


def test_median_of_a_slice_with_nan_is_nan_with_zero_gradient() -> None:
    x = np.array([[0.5, np.nan, 2.0], [1.0, 3.0, 2.0]])
    out, pullback = fgrad.vjp(lambda t: fnp.median(t, axis=1), x)
    np.testing.assert_array_equal(out, np.median(x, axis=1))
    np.testing.assert_array_equal(pullback(np.ones(2))[0], [[0, 0, 0], [0, 0, 1]])


_DEGENERATE = np.array([[1.5, 0.5, 0.0], [0.5, 1.5, 0.0], [0.0, 0.0, 1.0]])  # eigenvalues 1, 1, 2


def test_eigenvalue_gradients_are_exact_at_repeated_eigenvalues() -> None:
    # sum(w**2) = |a|_F**2 for symmetric a, read from the lower triangle: its gradient is
    # 2 a on the diagonal, 4 a below it and 0 above.
    expected = 2 * np.tril(_DEGENERATE) + 2 * np.tril(_DEGENERATE, -1)
    for values in (fnp.linalg.eigvalsh, lambda a: fnp.linalg.eigh(a).eigenvalues):
        grad = fgrad.grad(lambda a, f=values: fnp.sum(f(a) ** 2))(_DEGENERATE)
        np.testing.assert_allclose(grad, expected, rtol=1e-14, atol=1e-14)
    grad = fgrad.grad(lambda a: fnp.sum(fnp.linalg.svdvals(a)))(np.eye(3))
    np.testing.assert_allclose(grad, np.eye(3), rtol=1e-14, atol=1e-14)


def test_eigenspace_projector_is_differentiable_at_repeated_eigenvalues() -> None:
    """The projector on the eigenspace of the double eigenvalue is smooth there, although
    its basis is arbitrary; the rule gives its first derivative (F = 0 within the
    eigenspace). Second derivatives would differentiate the arbitrary basis itself: the
    rule does not claim them at exactly repeated eigenvalues."""

    def projector(a: Any) -> Any:
        v = fnp.linalg.eigh(0.5 * (a + a.T)).eigenvectors[:, :2]
        return v @ v.T

    fgrad.check_grads(projector, (_DEGENERATE,), order=1)
