"""Elementwise primitives: each forward NumPy ufunc with its VJPs beside it.

A VJP receives the output cotangent ``g``, the result ``ans`` and the
arguments, and is written with differentiable operations (operators on
tracers and the functions of this package), so it can itself be
differentiated. Binary rules sum the cotangent back to each argument's shape
with :func:`~fgrad._rules.linear.unbroadcast`.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from fgrad import _compat
from fgrad._core import NO_PARAMS, Primitive, Tracer, bind1, bindn, concrete, detach, peek
from fgrad._rules import batching
from fgrad._rules.declare import binary, export, non_differentiable, plain_values, unary
from fgrad._rules.helpers import dtype_of, no_out, shape_of
from fgrad._rules.linear import astype, broadcast_to, real_part, unbroadcast

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


def any_true(condition: Any) -> bool:
    """Whether any element of a boolean array (maybe traced) is true.

    A value read, but of one recorded boolean: under ``fgrad.jit`` the replay
    re-checks this bit rather than the whole array.

    Examples
    --------
    >>> any_true(np.array([False, True])), any_true(np.array([False]))
    (True, False)
    """
    return bool(concrete(_any(condition)))


def mask(condition: Any, like: Any) -> Any:
    """A 0/1 array from a boolean ``condition``, of ``like``'s float dtype (else float64).

    Examples
    --------
    >>> mask(np.array([True, False]), np.float32(1.0))
    array([1., 0.], dtype=float32)
    """
    dtype = dtype_of(like)
    if not np.issubdtype(dtype, np.inexact):
        dtype = np.dtype(np.float64)
    if condition.__class__ is Tracer:
        return astype(condition, dtype)
    return np.asarray(condition, dtype=dtype)


def _is_complex(x: Any) -> bool:
    return dtype_of(x).kind == "c"


# --- arithmetic -----------------------------------------------------------------------

add = binary(
    "add",
    np.add,
    lambda g, ans, x, y: g if g.shape == x.shape else unbroadcast(g, x.shape),
    lambda g, ans, x, y: g if g.shape == y.shape else unbroadcast(g, y.shape),
    "``g`` for both arguments, summed over broadcast axes.",
    traced_impl=operator.add,
)
subtract = binary(
    "subtract",
    np.subtract,
    lambda g, ans, x, y: g if g.shape == x.shape else unbroadcast(g, x.shape),
    lambda g, ans, x, y: unbroadcast(-g, y.shape),
    "``g`` and ``-g``.",
    traced_impl=operator.sub,
)
multiply = binary(
    "multiply",
    np.multiply,
    lambda g, ans, x, y: unbroadcast(g * y, x.shape),
    lambda g, ans, x, y: unbroadcast(g * x, y.shape),
    "``g * y`` and ``g * x``.",
    traced_impl=operator.mul,
)
divide = binary(
    "divide",
    np.divide,
    lambda g, ans, x, y: unbroadcast(g / y, shape_of(x)),
    lambda g, ans, x, y: unbroadcast(-g * ans / y, shape_of(y)),
    "``g / y`` and ``-g * x / y**2``.",
    traced_impl=operator.truediv,
    aliases=("true_divide",),
)


def _power_vjp_x(g: Any, ans: Any, x: Any, y: Any) -> Any:
    if (
        y.__class__ is int
        or y.__class__ is float
        or (y.__class__ is not Tracer and np.ndim(y) == 0)
    ):
        if y == 0:
            return unbroadcast(g * 0.0, shape_of(x))
        if y == 1:
            return unbroadcast(g, shape_of(x))
        if y == 2:
            return unbroadcast(g * (2 * x), shape_of(x))
        # The operator, as the traced path evaluates it: NumPy computes ``x ** 2`` of a
        # complex array by squaring and ``np.power(x, 2)`` otherwise (jit == eager).
        return unbroadcast(g * (y * x ** (y - 1)), shape_of(x))
    # ``y * x**(y - 1)``. Only where x and y are both 0 is this ``0 * inf``; there x**0 is
    # constant in x, so use base 1 (giving 0). Masking on ``y == 0`` alone would also cut
    # the dependence on ``y`` of this derivative (d/dy at y = 0 is 1/x, not 0).
    both_zero = logical_and(equal(detach(x), 0), equal(detach(y), 0))
    base = where(both_zero, 1.0, x) if any_true(both_zero) else x
    return unbroadcast(g * (y * base ** (y - 1)), shape_of(x))


def _power_vjp_y(g: Any, ans: Any, x: Any, y: Any) -> Any:
    x_zero = equal(detach(x), 0)
    base = where(x_zero, 1.0, x) if any_true(x_zero) else x
    # A constant base, maybe a Python number, takes its log in the result's dtype: NumPy's
    # float64 log of it would promote a float32 cotangent.
    log_x = log(base) if x.__class__ is Tracer else np.log(np.asarray(base, dtype=dtype_of(ans)))
    return unbroadcast(g * ans * log_x, shape_of(y))


power = binary(
    "power",
    np.power,
    _power_vjp_x,
    _power_vjp_y,
    "``g * y * x**(y - 1)`` (zero where ``x == y == 0``) and ``g * x**y * log(x)`` "
    "(zero where ``x == 0``; NaN for negative ``x``, where the real power has no "
    "derivative in ``y``).",
    traced_impl=operator.pow,
)


def _mod_vjp_y(g: Any, ans: Any, x: Any, y: Any) -> Any:
    return unbroadcast(-g * floor_divide(detach(x), detach(y)), shape_of(y))


mod = binary(
    "mod",
    np.mod,
    lambda g, ans, x, y: unbroadcast(g, shape_of(x)),
    _mod_vjp_y,
    "``g`` and ``-g * floor(x / y)`` (away from the jumps).",
    aliases=("remainder",),
)
negative = unary("negative", np.negative, lambda g, ans, x: -g, "``-g``.")
positive = unary("positive", np.positive, lambda g, ans, x: g, "``g``.")
reciprocal = unary("reciprocal", np.reciprocal, lambda g, ans, x: -g * ans * ans, "``-g / x**2``.")
square = unary("square", np.square, lambda g, ans, x: g * (2 * x), "``2 * g * x``.")
sqrt = unary(
    "sqrt",
    np.sqrt,
    lambda g, ans, x: g / (ans + ans),
    "``g / (2 * sqrt(x))``.",
    "np.array([0.3, 1.2])",
)
cbrt = unary("cbrt", np.cbrt, lambda g, ans, x: g / (3 * ans * ans), "``g / (3 * cbrt(x)**2)``.")


def _absolute_vjp(g: Any, ans: Any, x: Any) -> Any:
    if not _is_complex(x):
        return g * mask(sign(detach(x)), g)
    at_zero = equal(detach(ans), 0)
    safe = where(at_zero, 1.0, ans) if any_true(at_zero) else ans
    return g * (conjugate(x) / safe)


absolute = unary(
    "absolute",
    np.absolute,
    _absolute_vjp,
    "``g * sign(x)`` (zero at 0); for complex ``x``, ``g * conj(x) / abs(x)`` (zero at 0), "
    "JAX's ``d/dx - i d/dy``.",
    aliases=("abs", "fabs"),
)

# --- exponentials and logarithms ----------------------------------------------------

exp = unary("exp", np.exp, lambda g, ans, x: g * ans, "``g * exp(x)``.")
exp2 = unary("exp2", np.exp2, lambda g, ans, x: g * ans * _LN2, "``g * 2**x * log(2)``.")
expm1 = unary("expm1", np.expm1, lambda g, ans, x: g * (ans + 1), "``g * exp(x)``.")
_POSITIVE = "np.array([0.3, 1.7])"
log = unary("log", np.log, lambda g, ans, x: g / x, "``g / x``.", _POSITIVE)
log2 = unary("log2", np.log2, lambda g, ans, x: g / (x * _LN2), "``g / (x log 2)``.", _POSITIVE)
log10 = unary(
    "log10", np.log10, lambda g, ans, x: g / (x * _LN10), "``g / (x log 10)``.", _POSITIVE
)
log1p = unary("log1p", np.log1p, lambda g, ans, x: g / (x + 1), "``g / (1 + x)``.", _POSITIVE)
logaddexp = binary(
    "logaddexp",
    np.logaddexp,
    lambda g, ans, x, y: unbroadcast(g * exp(x - ans), shape_of(x)),
    lambda g, ans, x, y: unbroadcast(g * exp(y - ans), shape_of(y)),
    "``g * exp(x - ans)`` and ``g * exp(y - ans)``.",
)
logaddexp2 = binary(
    "logaddexp2",
    np.logaddexp2,
    lambda g, ans, x, y: unbroadcast(g * exp2(x - ans), shape_of(x)),
    lambda g, ans, x, y: unbroadcast(g * exp2(y - ans), shape_of(y)),
    "``g * 2**(x - ans)`` and ``g * 2**(y - ans)``.",
)

# --- trigonometric and hyperbolic ---------------------------------------------------

_UNIT = "np.array([0.3, -0.6])"
sin = unary("sin", np.sin, lambda g, ans, x: g * cos(x), "``g * cos(x)``.")
# Annotated: sin and sinh refer to these before they are defined.
cos: Callable[[Any], Any] = unary("cos", np.cos, lambda g, ans, x: -g * sin(x), "``-g * sin(x)``.")
tan = unary("tan", np.tan, lambda g, ans, x: g * (1 + ans * ans), "``g * (1 + tan(x)**2)``.")
arcsin = unary(
    "arcsin", np.arcsin, lambda g, ans, x: g / sqrt(1 - x * x), "``g / sqrt(1 - x**2)``.", _UNIT
)
arccos = unary(
    "arccos", np.arccos, lambda g, ans, x: -g / sqrt(1 - x * x), "``-g / sqrt(1 - x**2)``.", _UNIT
)
arctan = unary("arctan", np.arctan, lambda g, ans, x: g / (1 + x * x), "``g / (1 + x**2)``.")
arctan2 = binary(
    "arctan2",
    np.arctan2,
    lambda g, ans, y, x: unbroadcast(g * x / (x * x + y * y), shape_of(y)),
    lambda g, ans, y, x: unbroadcast(-g * y / (x * x + y * y), shape_of(x)),
    "``g * x / (x**2 + y**2)`` for ``y`` and ``-g * y / (x**2 + y**2)`` for ``x``.",
)
hypot = binary(
    "hypot",
    np.hypot,
    lambda g, ans, x, y: unbroadcast(g * x / ans, shape_of(x)),
    lambda g, ans, x, y: unbroadcast(g * y / ans, shape_of(y)),
    "``g * x / hypot(x, y)`` and ``g * y / hypot(x, y)``.",
)
sinh = unary("sinh", np.sinh, lambda g, ans, x: g * cosh(x), "``g * cosh(x)``.")
cosh: Callable[[Any], Any] = unary(
    "cosh", np.cosh, lambda g, ans, x: g * sinh(x), "``g * sinh(x)``."
)
tanh = unary("tanh", np.tanh, lambda g, ans, x: g * (1 - ans * ans), "``g * (1 - tanh(x)**2)``.")
arcsinh = unary(
    "arcsinh", np.arcsinh, lambda g, ans, x: g / sqrt(x * x + 1), "``g / sqrt(x**2 + 1)``."
)


def _arccosh_vjp(g: Any, ans: Any, x: Any) -> Any:
    if _is_complex(x):  # sqrt(x**2 - 1) has the wrong sign where Re(x) < 0
        return g / (sqrt(x - 1) * sqrt(x + 1))
    return g / sqrt(x * x - 1)


arccosh = unary(
    "arccosh",
    np.arccosh,
    _arccosh_vjp,
    "``g / sqrt(x**2 - 1)`` (``g / (sqrt(x - 1) * sqrt(x + 1))`` for complex ``x``).",
    "np.array([1.3, 2.5])",
)
arctanh = unary(
    "arctanh", np.arctanh, lambda g, ans, x: g / (1 - x * x), "``g / (1 - x**2)``.", _UNIT
)
deg2rad = unary(
    "deg2rad",
    np.deg2rad,
    lambda g, ans, x: g * (math.pi / 180),
    "``g * pi / 180``.",
    aliases=("radians",),
)
rad2deg = unary(
    "rad2deg",
    np.rad2deg,
    lambda g, ans, x: g * (180 / math.pi),
    "``g * 180 / pi``.",
    aliases=("degrees",),
)
sinc = unary(
    "sinc",
    np.sinc,
    lambda g, ans, x: g * _sinc_derivative(x),
    "``g * (cos(pi x) - sinc(x)) / x`` (its Taylor series near 0, so zero at 0 and "
    "exact higher derivatives there).",
    "np.array([0.0, 0.3, -1.2])",
)

# sinc'(x) = sum_k (-1)^k pi^(2k) 2k x^(2k-1) / (2k+1)!, k = 1..4: below |x| = 1e-2 the
# omitted terms are ~1e-18 relative, while the closed form there cancels to ~1e-12.
_SINC_SERIES = tuple(
    (-1) ** k * math.pi ** (2 * k) * 2 * k / math.factorial(2 * k + 1) for k in (1, 2, 3, 4)
)
_SINC_SMALL = 1e-2


def _sinc_derivative(x: Any) -> Any:
    small = less(_plain_abs(detach(x)), _SINC_SMALL)
    any_small = any_true(small)
    safe = where(small, 1.0, x) if any_small else x
    closed = (cos(math.pi * safe) - sinc(safe)) / safe
    if not any_small:
        return closed
    x2 = x * x
    c1, c2, c3, c4 = _SINC_SERIES
    series = x * (c1 + x2 * (c2 + x2 * (c3 + x2 * c4)))
    return where(small, series, closed)


# --- selections -------------------------------------------------------------------------


def _select_vjp(pick_x: bool) -> Any:
    def vjp(g: Any, ans: Any, x: Any, y: Any) -> Any:
        xv, yv, av = detach(x), detach(y), detach(ans)
        mine, other = (xv, yv) if pick_x else (yv, xv)
        share = mask(equal(mine, av), g) / (1 + mask(equal(mine, other), g))
        return unbroadcast(g * share, shape_of(x if pick_x else y))

    return vjp


_TIES = "``g`` to the argument that was selected, split equally on ties."
maximum = binary("maximum", np.maximum, _select_vjp(True), _select_vjp(False), _TIES)
minimum = binary("minimum", np.minimum, _select_vjp(True), _select_vjp(False), _TIES)
fmax = binary("fmax", np.fmax, _select_vjp(True), _select_vjp(False), _TIES + " NaNs ignored.")
fmin = binary("fmin", np.fmin, _select_vjp(True), _select_vjp(False), _TIES + " NaNs ignored.")


def _where_vjp_x(g: Any, ans: Any, condition: Any, x: Any, y: Any) -> Any:
    return unbroadcast(g * mask(condition, g), shape_of(x))


def _where_vjp_y(g: Any, ans: Any, condition: Any, x: Any, y: Any) -> Any:
    return unbroadcast(g * mask(logical_not(condition), g), shape_of(y))


_WHERE = Primitive(
    "where", np.where, (None, _where_vjp_x, _where_vjp_y), batch=batching.elementwise
)


@export("where")
def where(condition: Any, x: Any = None, y: Any = None) -> Any:
    """Differentiable ``numpy.where(condition, x, y)``; ``condition`` carries no gradient.

    Gradient: ``g`` where the condition holds to ``x``, elsewhere to ``y``.

    Examples
    --------
    >>> fgrad.grad(lambda x: fnp.sum(fnp.where(x > 0, x, 2 * x)))(np.array([-1.0, 3.0]))
    array([2., 1.])
    """
    condition = detach(condition)
    if dtype_of(condition) != np.bool_:
        condition = not_equal(condition, 0)
    if x is None and y is None:
        return np.where(concrete(condition))
    if x is None or y is None:
        raise ValueError("where: either both or neither of x and y should be given")
    if condition.__class__ is Tracer or x.__class__ is Tracer or y.__class__ is Tracer:
        return bindn(_WHERE, (condition, x, y), NO_PARAMS)
    return np.where(condition, x, y)


@export("clip")
def clip(
    a: Any,
    a_min: Any = None,
    a_max: Any = None,
    out: Any = None,
    *,
    min: Any = None,  # noqa: A002
    max: Any = None,  # noqa: A002
) -> Any:
    """Differentiable ``numpy.clip``; the bounds may be traced too.

    The bounds may also be given as ``min=``/``max=``, as in NumPy 2.

    Gradient: ``g`` to ``a`` where it lies within the bounds, otherwise to the
    bound that was applied.

    Examples
    --------
    >>> fgrad.grad(lambda x: fnp.sum(fnp.clip(x, -1.0, 1.0)))(np.array([-2.0, 0.5, 3.0]))
    array([0., 1., 0.])
    """
    no_out("clip", out)
    if min is not None:
        if a_min is not None:
            raise TypeError("clip: give the lower bound as a_min or min, not both")
        a_min = min
    if max is not None:
        if a_max is not None:
            raise TypeError("clip: give the upper bound as a_max or max, not both")
        a_max = max
    if a_min is None and a_max is None:
        raise ValueError("clip: at least one of a_min and a_max must be given")
    if not (a.__class__ is Tracer or a_min.__class__ is Tracer or a_max.__class__ is Tracer):
        return np.clip(a, a_min, a_max)
    out = a
    if a_min is not None:
        out = where(less(detach(out), detach(a_min)), a_min, out)
    if a_max is not None:
        out = where(greater(detach(out), detach(a_max)), a_max, out)
    return out


# --- non-finite values, real and complex parts, copies, select ------------------------


@export("nan_to_num")
def nan_to_num(
    x: Any, copy: bool = True, nan: Any = 0.0, posinf: Any = None, neginf: Any = None
) -> Any:
    """Differentiable ``numpy.nan_to_num``: NaN and infinities replaced by finite numbers.

    Gradient: ``g`` where ``x`` is finite, 0 where it was replaced; a traced
    replacement value (``nan``, ``posinf``, ``neginf``) receives the cotangents
    of the elements it replaced.

    Examples
    --------
    >>> f = lambda x: fnp.sum(3 * fnp.nan_to_num(x, posinf=9.0))
    >>> fgrad.grad(f)(np.array([1.5, np.inf, np.nan]))
    array([3., 0., 0.])
    """
    if not any(v.__class__ is Tracer for v in (x, nan, posinf, neginf)):
        return np.nan_to_num(x, copy=copy, nan=nan, posinf=posinf, neginf=neginf)
    dtype = dtype_of(x)
    if not np.issubdtype(dtype, np.inexact):
        dtype = np.dtype(np.float64)
    info = np.finfo(dtype)
    high = info.max if posinf is None else posinf
    low = info.min if neginf is None else neginf
    values = detach(x)
    replacement = where(isnan(values), nan, where(greater(values, 0), high, low))
    return where(isfinite(values), x, replacement)


@export("real")
def real(val: Any) -> Any:
    """Differentiable ``numpy.real``: the real part; the array itself for real input.

    Gradient: ``g`` (as a complex cotangent ``g + 0j`` for complex input).

    Examples
    --------
    >>> fgrad.grad(lambda x: fnp.sum(fnp.real(x) ** 2))(np.array([1.0, -2.0]))
    array([ 2., -4.])
    >>> fgrad.grad(lambda z: fnp.real(z**2))(1 + 2j)  # d/dx - i d/dy of x**2 - y**2
    array(2.+4.j)
    """
    if val.__class__ is not Tracer:
        return np.real(val)
    return real_part(val) if _is_complex(val) else val


def _imag_vjp(g: Any, ans: Any, x: Any) -> Any:
    return g * -1j


_IMAG = Primitive("imag", np.imag, (_imag_vjp,), batch=batching.elementwise)


@export("imag")
def imag(val: Any) -> Any:
    """Differentiable ``numpy.imag``: the imaginary part; zeros for real input.

    Gradient: ``-1j * g`` for complex input (JAX's convention: ``d/dx - i d/dy`` of
    ``y`` is ``-i``); none for real input, whose imaginary part is the constant 0
    (a plain array is returned).

    Examples
    --------
    >>> fgrad.grad(lambda z: fnp.imag(z) ** 2)(1 + 2j)
    array(0.-4.j)
    >>> fgrad.grad(lambda x: fnp.sum(x + fnp.imag(x)))(np.array([1.0, -2.0]))
    array([1., 1.])
    """
    if val.__class__ is not Tracer:
        return np.imag(val)
    if _is_complex(val):
        return bind1(_IMAG, val, NO_PARAMS)
    return np.zeros(shape_of(val), dtype=dtype_of(val))


def _conjugate_vjp(g: Any, ans: Any, x: Any) -> Any:
    return conjugate(g)


_CONJUGATE = Primitive("conjugate", np.conjugate, (_conjugate_vjp,), batch=batching.elementwise)


@export("conjugate", aliases=("conj",))
def conjugate(x: Any) -> Any:
    """Differentiable ``numpy.conjugate`` (also ``conj``): the array itself for real input.

    Gradient: ``conj(g)`` (conjugation is its own transpose).

    Examples
    --------
    >>> fgrad.grad(lambda x: fnp.sum(x * fnp.conj(x)))(np.array([1.0, -2.0]))
    array([ 2., -4.])
    >>> fgrad.vjp(fnp.conj, 1 + 2j)[1](1j)
    (array(0.-1.j),)
    """
    if x.__class__ is not Tracer:
        return np.conjugate(x)
    if _is_complex(x):
        return bind1(_CONJUGATE, x, NO_PARAMS)
    return x


def _angle_vjp(g: Any, ans: Any, z: Any, deg: bool) -> Any:
    scale = -180j / math.pi if deg else -1j
    return g * scale / z


_ANGLE = Primitive(
    "angle", lambda z, deg: np.angle(z, deg=deg), (_angle_vjp,), batch=batching.elementwise
)
_plain_angle = plain_values(np.angle, "angle", batching.elementwise)


@export("angle")
def angle(z: Any, deg: bool = False) -> Any:
    """Differentiable ``numpy.angle``: the argument of complex numbers, in radians (or degrees).

    Gradient: ``-1j * g / z`` (times ``180 / pi`` with ``deg``), JAX's ``d/dx - i d/dy``
    of ``arctan2(y, x)``; NaN at 0. For real input the angle is 0 or pi, piecewise
    constant: a plain array is returned.

    Examples
    --------
    >>> fgrad.grad(fnp.angle)(1 + 1j)
    array(-0.5-0.5j)
    >>> fgrad.check_grads(lambda z: fnp.angle(z, deg=True), (np.array([1 + 2j, -0.5j]),))
    """
    if z.__class__ is not Tracer:
        return np.angle(z, deg=deg)
    if _is_complex(z):
        return bind1(_ANGLE, z, {"deg": bool(deg)})
    return _plain_angle(detach(z), deg=deg)


@export("copy")
def copy(a: Any, order: str = "K", subok: bool = False) -> Any:
    """Differentiable ``numpy.copy``; a traced array is returned as is (tracers are immutable).

    Gradient: ``g``.

    Examples
    --------
    >>> fgrad.grad(lambda x: fnp.sum(fnp.copy(x) * x))(np.array([1.0, -2.0]))
    array([ 2., -4.])
    """
    if a.__class__ is not Tracer:
        return np.copy(a, order=order, subok=subok)  # type: ignore[call-overload]
    return a


@export("select")
def select(condlist: Any, choicelist: Any, default: Any = 0) -> Any:
    """Differentiable ``numpy.select``; the conditions carry no gradient.

    Composed of nested :func:`where` calls, last condition innermost, so the
    first true condition wins as in NumPy.

    Gradient: ``g`` to the choice picked at each element (or to ``default``).

    Examples
    --------
    >>> f = lambda x: fnp.sum(fnp.select([x < 0, x < 1], [-x, 2 * x], x**2))
    >>> fgrad.grad(f)(np.array([-1.0, 0.5, 3.0]))
    array([-1.,  2.,  6.])
    """
    condlist, choicelist = list(condlist), list(choicelist)
    traced = (
        default.__class__ is Tracer
        or any(c.__class__ is Tracer for c in choicelist)
        or any(c.__class__ is Tracer for c in condlist)
    )
    if not traced:
        return np.select(condlist, choicelist, default)
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    if not condlist:
        raise ValueError("select with an empty condition list is not possible")
    for i, cond in enumerate(condlist):
        if dtype_of(cond) != np.bool_:
            raise TypeError(f"invalid entry {i} in condlist: should be boolean ndarray")
    out = default
    for cond, choice in zip(reversed(condlist), reversed(choicelist)):
        out = where(cond, choice, out)
    return out


# --- no gradient ------------------------------------------------------------------

sign: Callable[..., Any] = non_differentiable(np.sign)
floor = non_differentiable(np.floor)
ceil = non_differentiable(np.ceil)
trunc = non_differentiable(np.trunc)
rint = non_differentiable(np.rint)
fix = non_differentiable(_compat.fix, "fix", reference="np.trunc", batch=batching.elementwise)
round = non_differentiable(  # noqa: A001
    np.round, aliases=("around",), batch=batching.elementwise
)
floor_divide = non_differentiable(np.floor_divide, sample="np.array([5.0, -7.0]), 2.0")
greater = non_differentiable(np.greater, sample="np.array([1.0, 2.0]), 1.5")
greater_equal = non_differentiable(np.greater_equal, sample="np.array([1.0, 2.0]), 1.5")
less = non_differentiable(np.less, sample="np.array([1.0, 2.0]), 1.5")
less_equal = non_differentiable(np.less_equal, sample="np.array([1.0, 2.0]), 1.5")
equal = non_differentiable(np.equal, sample="np.array([1.0, 2.0]), 1.0")
not_equal = non_differentiable(np.not_equal, sample="np.array([1.0, 2.0]), 1.0")
logical_and = non_differentiable(np.logical_and, sample="np.array([1.0, 0.0]), 1.0")
logical_or = non_differentiable(np.logical_or, sample="np.array([1.0, 0.0]), 0.0")
logical_xor = non_differentiable(np.logical_xor, sample="np.array([1.0, 0.0]), 1.0")
logical_not = non_differentiable(np.logical_not)
isnan = non_differentiable(np.isnan)
_any = plain_values(np.any, "any")
_plain_abs = plain_values(np.abs, "absolute")
bitwise_and = non_differentiable(np.bitwise_and, sample="np.array([True, False]), True")
bitwise_or = non_differentiable(np.bitwise_or, sample="np.array([True, False]), False")
bitwise_xor = non_differentiable(np.bitwise_xor, sample="np.array([True, False]), True")
invert = non_differentiable(np.invert, sample="np.array([True, False])")
isinf = non_differentiable(np.isinf)
isfinite = non_differentiable(np.isfinite)
signbit = non_differentiable(np.signbit)


@export("heaviside")
def heaviside(x1: Any, x2: Any) -> Any:
    """Differentiable ``numpy.heaviside``: 0 where ``x1 < 0``, ``x2`` where ``x1 == 0``, 1 where
    ``x1 > 0``.

    Gradient: ``g`` to ``x2`` where ``x1 == 0`` (the value there moves with ``x2``); none to
    ``x1``, in which the result is piecewise constant.

    Examples
    --------
    >>> fgrad.grad(lambda h: fnp.sum(fnp.heaviside(np.array([-1.0, 0.0, 0.0, 2.0]), h)))(0.5)
    array(2.)
    """
    if x1.__class__ is not Tracer and x2.__class__ is not Tracer:
        return np.heaviside(x1, x2)
    step = detach(x1)
    dtype = np.result_type(peek(x1), peek(x2))
    out = where(isnan(step), np.nan, where(less(step, 0), 0.0, where(greater(step, 0), 1.0, x2)))
    if shape_of(out) != np.broadcast_shapes(shape_of(x1), shape_of(x2)):
        out = broadcast_to(out, np.broadcast_shapes(shape_of(x1), shape_of(x2)))
    return astype(out, dtype) if dtype_of(out) != dtype else out
