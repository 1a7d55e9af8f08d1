"""Gradient checks for every differentiable function of ``fgrad.numpy``.

Each case runs ``fgrad.check_grads`` to second order in reverse and forward
mode (float64, default tolerance), after checking that the traced forward
value equals the plain NumPy one. Inputs are kept at least 1e-2 away from
kinks, jumps, ties and singularities (the finite-difference step is 1e-3).
``test_every_function_is_covered`` keeps the list complete.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import fgrad
import fgrad.numpy as fnp
from fgrad._core import concrete
from fgrad._rules import special
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
case("getitem", "function", lambda x: fnp.getitem(x, (slice(None), [0, 0])), smooth(2, 3))
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
}
for _variant, (_spec, *_shapes) in EINSUM.items():
    case(
        "einsum",
        _variant,
        lambda *ops, s=_spec: fnp.einsum(s, *ops),
        *[smooth(*s) for s in _shapes],
    )
case("einsum", "constant_operand", lambda a: fnp.einsum("ij,jk->ik", a, _W), smooth(2, 3))

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

# --- special functions (fgrad._rules.special) -----------------------------------------------

SPECIAL: dict[str, Callable[..., np.ndarray]] = {
    "sigmoid": smooth,
    "softplus": smooth,
    "relu": away,
}
for _name, _draw in SPECIAL.items():
    for _variant, _shape in SHAPES.items():
        case(_name, _variant, getattr(special, _name), _draw(*_shape))
case("sigmoid", "large", special.sigmoid, np.array([-30.0, -8.0, 8.0, 30.0]))
case("softplus", "large", special.softplus, np.array([-30.0, -8.0, 8.0, 30.0]))
for _variant, _axis in AXES.items():
    for _keep in (False, True):
        case(
            "logsumexp",
            f"{_variant}{'-keepdims' if _keep else ''}",
            lambda x, a=_axis, k=_keep: special.logsumexp(x, axis=a, keepdims=k),
            _reduction_input(_axis, smooth),
        )
case("logsumexp", "scalar", special.logsumexp, smooth())
case("logsumexp", "large", lambda x: special.logsumexp(x, axis=-1), 100 * smooth(2, 3))
for _name in ("softmax", "log_softmax"):
    _fn = getattr(special, _name)
    case(_name, "vec", _fn, smooth(3))
    case(_name, "axis-1", _fn, smooth(2, 3))
    case(_name, "axis0", lambda x, f=_fn: f(x, axis=0), smooth(2, 3))
    case(_name, "tuple", lambda x, f=_fn: f(x, axis=(0, 2)), smooth(2, 2, 2))


# --- the tests --------------------------------------------------------------------------


def _leaves(tree: Any) -> list[np.ndarray]:
    return [np.asarray(concrete(leaf)) for leaf in tree_flatten(tree)[0]]


def _bitwise_equal(a: Any, b: Any) -> None:
    la, lb = _leaves(a), _leaves(b)
    assert len(la) == len(lb)
    for x, y in zip(la, lb):
        assert x.dtype == y.dtype
        np.testing.assert_array_equal(x, y, strict=True)


@pytest.mark.parametrize(("fun", "args"), CASES)
def test_jit_replays_gradients_bit_identical_to_eager(
    fun: Callable[..., Any], args: tuple[Any, ...]
) -> None:
    """The same cases through ``fgrad.jit``: first- and second-order derivatives."""
    rng = np.random.default_rng(7)
    out = fun(*args)
    cotangent = fgrad.tree.tree_map(lambda o: rng.standard_normal(np.shape(o)), out)
    tangents = fgrad.tree.tree_map(lambda a: rng.standard_normal(np.shape(a)), args)

    def derivatives(*xs: Any) -> Any:
        first = fgrad.vjp(fun, *xs)[1](cotangent)
        second = fgrad.jvp(lambda *ys: fgrad.vjp(fun, *ys)[1](cotangent), xs, tangents)[1]
        return first, second

    jitted = fgrad.jit(derivatives)
    nudged = fgrad.tree.tree_map(lambda a: a * (1 + 1e-3), args)
    for point in (args, nudged, args):
        _bitwise_equal(jitted(*point), derivatives(*point))
    assert jitted.stats.replays + jitted.stats.guard_failures >= 2


@pytest.mark.parametrize(("fun", "args"), CASES)
def test_grads(fun: Callable[..., Any], args: tuple[Any, ...]) -> None:
    traced, _ = fgrad.vjp(fun, *args)
    plain = fun(*args)
    traced_leaves, plain_leaves = _leaves(traced), _leaves(plain)
    assert len(traced_leaves) == len(plain_leaves)
    for t, p in zip(traced_leaves, plain_leaves):
        assert t.shape == p.shape
        # Traced compositions (var, tile, norm...) may round differently from NumPy's own.
        np.testing.assert_allclose(t, p, rtol=1e-12, atol=1e-14)
    fgrad.check_grads(fun, args, order=2, modes=("rev", "fwd"))


# Functions without a gradient are marked so in their docstring (non_differentiable in
# fgrad/_rules/_define.py); test_numpy_dispatch checks they return plain NumPy values.
_PLAIN_MARK = "the result is a plain NumPy value"


def test_every_function_is_covered() -> None:
    differentiable = {
        name
        for name in fnp.__all__
        if callable(getattr(fnp, name))
        and getattr(getattr(fnp, name), "__module__", "").startswith("fgrad")
        and _PLAIN_MARK not in (getattr(fnp, name).__doc__ or "")
    }
    differentiable |= set(special.__all__) | set(fnp.linalg.__all__)
    assert differentiable - COVERED == set()
    assert COVERED - differentiable == set()


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
            lambda x: fnp.sum(special.relu(x)), [-1.0, 0.0, 2.0], [0.0, 0.0, 1.0], id="relu-at-0"
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
