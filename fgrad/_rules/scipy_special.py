"""``scipy.special``: error functions, gamma functions, logistic functions, log-sum-exp.

Imported by ``fgrad.scipy`` only (it needs SciPy), never by ``import fgrad``. Each
elementwise function is a primitive whose forward is SciPy's ufunc and whose VJP is
written with differentiable operations, so every order of derivative follows:
``gammaln' = digamma``, ``digamma' = polygamma(1, .)``, ``polygamma(n, .)' =
polygamma(n + 1, .)``, and the inverse functions (``erfinv``, ``ndtri``) differentiate
their own result. ``logsumexp``, ``softmax`` and ``log_softmax`` reuse the primitives of
``fgrad.nn`` (``fgrad/_rules/special.py``) with SciPy's signatures.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.special as sc

from fgrad._compat import weak_python_scalar_vjps, weak_python_scalars
from fgrad._core import NO_PARAMS, Primitive, Tracer, bind1, detach
from fgrad._rules import batching
from fgrad._rules import special as nn_special
from fgrad._rules.declare import document, export
from fgrad._rules.elementwise import (
    absolute,
    equal,
    exp,
    isfinite,
    log,
    log1p,
    logical_and,
    sign,
    where,
)
from fgrad._rules.helpers import dtype_of, ndim_of, normalize_axes, shape_of
from fgrad._rules.linear import SUM, broadcast_to, reshape, unbroadcast
from fgrad._rules.reductions import max as reduce_max

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI_OVER_TWO = math.sqrt(math.pi) / 2.0
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_SQRT_2PI = math.sqrt(2.0 * math.pi)

_IMPORT = ">>> from fgrad.scipy import special\n"


def _declare(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    fn.__name__ = fn.__qualname__ = name
    fn.__module__ = __name__
    return export(f"special.{name}", namespace="scipy.special", dispatch=False)(fn)


def _unary(
    name: str,
    vjp: Callable[..., Any],
    gradient: str,
    sample: str = "np.array([0.3, -1.2])",
) -> Callable[[Any], Any]:
    """Define and export ``scipy.special.<name>`` as an elementwise primitive."""
    impl = getattr(sc, name)
    prim = Primitive(f"scipy.special.{name}", impl, (vjp,), batch=batching.elementwise)

    def fn(x: Any) -> Any:
        if x.__class__ is Tracer:
            return bind1(prim, x, NO_PARAMS)
        return impl(x)

    fn.primitive = prim  # type: ignore[attr-defined]
    document(
        fn,
        f"Differentiable ``scipy.special.{name}``, elementwise.",
        gradient,
        f"{_IMPORT}>>> fgrad.check_grads(special.{name}, ({sample},))",
    )
    return _declare(fn, name)


def _binary(
    name: str,
    vjp_x: Callable[..., Any],
    vjp_y: Callable[..., Any],
    gradient: str,
    sample: str,
) -> Callable[[Any, Any], Any]:
    """Define and export the broadcasting two-argument ``scipy.special.<name>``."""
    impl = weak_python_scalars(getattr(sc, name))
    prim = Primitive(
        f"scipy.special.{name}",
        impl,
        weak_python_scalar_vjps((vjp_x, vjp_y)),
        batch=batching.elementwise,
    )

    def fn(x: Any, y: Any) -> Any:
        return prim(x, y)

    fn.primitive = prim  # type: ignore[attr-defined]
    document(
        fn,
        f"Differentiable ``scipy.special.{name}`` with full broadcasting.",
        gradient,
        f"{_IMPORT}>>> fgrad.check_grads(special.{name}, ({sample},))",
    )
    return _declare(fn, name)


# --- error functions and the normal distribution function -------------------------------

erf = _unary(
    "erf",
    lambda g, ans, x: g * (_TWO_OVER_SQRT_PI * exp(-(x * x))),
    "``g * 2 / sqrt(pi) * exp(-x**2)``.",
)
erfc = _unary(
    "erfc",
    lambda g, ans, x: g * (-_TWO_OVER_SQRT_PI * exp(-(x * x))),
    "``-g * 2 / sqrt(pi) * exp(-x**2)``.",
)
erfinv = _unary(
    "erfinv",
    lambda g, ans, x: g * (_SQRT_PI_OVER_TWO * exp(ans * ans)),
    "``g * sqrt(pi) / 2 * exp(erfinv(x)**2)``, written with the result, whose own "
    "derivative gives the second one.",
    sample="np.array([0.3, -0.85])",
)
ndtr = _unary(
    "ndtr",
    lambda g, ans, x: g * exp(-0.5 * (x * x) - _LOG_SQRT_2PI),
    "``g * exp(-x**2 / 2) / sqrt(2 pi)``, the standard normal density.",
)
log_ndtr = _unary(
    "log_ndtr",
    lambda g, ans, x: g * exp(-0.5 * (x * x) - _LOG_SQRT_2PI - ans),
    "``g * pdf(x) / ndtr(x)``, computed as ``exp(log pdf(x) - log_ndtr(x))`` so that it "
    "stays finite far in the left tail.",
    sample="np.array([0.3, -1.2, -9.0])",
)
ndtri = _unary(
    "ndtri",
    lambda g, ans, x: g * (_SQRT_2PI * exp(0.5 * (ans * ans))),
    "``g * sqrt(2 pi) * exp(ndtri(x)**2 / 2)``, written with the result.",
    sample="np.array([0.3, 0.85])",
)

# --- logistic functions -----------------------------------------------------------------

expit = _unary(
    "expit",
    lambda g, ans, x: g * (ans - ans * ans),
    "``g * expit(x) * (1 - expit(x))``.",
)
logit = _unary(
    "logit",
    lambda g, ans, x: g / (x - x * x),
    "``g / (x * (1 - x))``.",
    sample="np.array([0.3, 0.85])",
)

# --- gamma functions --------------------------------------------------------------------


def _polygamma_vjp_x(g: Any, ans: Any, n: Any, x: Any) -> Any:
    return unbroadcast(g * polygamma(n + 1, x), shape_of(x))


_POLYGAMMA = Primitive(
    "scipy.special.polygamma",
    sc.polygamma,
    (None, _polygamma_vjp_x),
    batch=batching.elementwise,
)


def polygamma(n: Any, x: Any) -> Any:
    """Differentiable ``scipy.special.polygamma``: the ``n``-th derivative of ``digamma``.

    ``n`` (non-negative integers, broadcast against ``x``) carries no gradient.

    Gradient: ``g * polygamma(n + 1, x)``.

    Examples
    --------
    >>> from fgrad.scipy import special
    >>> fgrad.check_grads(lambda x: special.polygamma(2, x), (np.array([0.7, 2.5]),))
    """
    if dtype_of(n).kind not in "iub":
        raise TypeError(
            f"fgrad.scipy.special.polygamma: n must be integers, got dtype {dtype_of(n)} "
            "(n is the order of the derivative of digamma; it carries no gradient)"
        )
    return _POLYGAMMA(detach(n), x)


_declare(polygamma, "polygamma")

digamma = _unary(
    "digamma",
    lambda g, ans, x: g * polygamma(1, x),
    "``g * polygamma(1, x)``.",
    sample="np.array([0.7, 2.5])",
)
gammaln = _unary(
    "gammaln",
    lambda g, ans, x: g * digamma(x),
    "``g * digamma(x)``.",
    sample="np.array([0.7, 2.5])",
)


def _betaln_vjp(g: Any, ans: Any, a: Any, b: Any, first: bool) -> Any:
    own = a if first else b
    return unbroadcast(g * (digamma(own) - digamma(a + b)), shape_of(own))


betaln = _binary(
    "betaln",
    lambda g, ans, a, b: _betaln_vjp(g, ans, a, b, True),
    lambda g, ans, a, b: _betaln_vjp(g, ans, a, b, False),
    "``g * (digamma(a) - digamma(a + b))`` and ``g * (digamma(b) - digamma(a + b))``.",
    "np.array([[0.7], [2.5]]), np.array([1.5, 0.4])",
)

# --- x log y --------------------------------------------------------------------------


def _xlogy_vjp_y(g: Any, ans: Any, x: Any, y: Any) -> Any:
    both_zero = logical_and(equal(detach(x), 0), equal(detach(y), 0))
    return unbroadcast(g * x / where(both_zero, 1.0, y), shape_of(y))


xlogy = _binary(
    "xlogy",
    lambda g, ans, x, y: unbroadcast(g * log(y), shape_of(x)),
    _xlogy_vjp_y,
    "``g * log(y)`` and ``g * x / y``; the latter is 0 where ``x == 0`` (also at "
    "``y == 0``, where ``xlogy`` is 0 along ``x == 0``).",
    "np.array([[0.7], [-1.5]]), np.array([1.5, 0.4])",
)


def _xlog1py_vjp_y(g: Any, ans: Any, x: Any, y: Any) -> Any:
    both_zero = logical_and(equal(detach(x), 0), equal(detach(y), -1))
    return unbroadcast(g * x / where(both_zero, 1.0, y + 1), shape_of(y))


xlog1py = _binary(
    "xlog1py",
    lambda g, ans, x, y: unbroadcast(g * log1p(y), shape_of(x)),
    _xlog1py_vjp_y,
    "``g * log1p(y)`` and ``g * x / (1 + y)``; the latter is 0 where ``x == 0``.",
    "np.array([[0.7], [-1.5]]), np.array([1.5, -0.4])",
)

# --- log-sum-exp and softmax ------------------------------------------------------------


def _traced(*values: Any) -> bool:
    return any(v.__class__ is Tracer for v in values)


@export("special.logsumexp", namespace="scipy.special", dispatch=False)
def logsumexp(
    a: Any,
    axis: Any = None,
    b: Any = None,
    keepdims: bool = False,
    return_sign: bool = False,
) -> Any:
    """Differentiable ``scipy.special.logsumexp``: ``log(sum(b * exp(a), axis))``.

    As in SciPy, ``b`` (weights broadcast against ``a``, possibly negative) is optional,
    and ``return_sign=True`` returns ``(log(abs(s)), sign(s))`` of the weighted sum ``s``
    (the sign carries no gradient); without it a negative sum gives NaN. The maximum
    over ``axis`` is subtracted before exponentiating.

    Gradient: ``g * b * exp(a - logsumexp)`` for ``a`` and ``g * exp(a - logsumexp)`` for
    ``b`` (``sign`` times these with ``return_sign``), through the composition.

    Examples
    --------
    >>> from fgrad.scipy import special
    >>> a, b = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]]), np.array([1.0, -0.5, 2.0])
    >>> fgrad.check_grads(lambda a, b: special.logsumexp(a, axis=1, b=b), (a, b))
    >>> a, b = np.array([1.0, 2.0]), np.array([1.0, -2.0])
    >>> value, sign = special.logsumexp(a, b=b, return_sign=True)
    >>> float(value), float(sign)
    (2.4898..., -1.0)
    """
    if not _traced(a, b):
        return sc.logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=return_sign)
    shape = shape_of(a) if b is None else np.broadcast_shapes(shape_of(a), shape_of(b))
    axes = normalize_axes(axis, len(shape), "scipy.special.logsumexp")
    if b is None and not return_sign:
        return nn_special.logsumexp(a, axes, keepdims)
    if shape_of(a) != shape:
        a = broadcast_to(a, shape)
    peak = reduce_max(detach(a), axis=axes, keepdims=True)
    peak = where(isfinite(peak), peak, 0.0)
    shifted = exp(a - peak)
    total = SUM(shifted if b is None else b * shifted, axis=axes, keepdims=True)
    out = (log(absolute(total)) if return_sign else log(total)) + peak
    signs = sign(detach(total))
    if not keepdims:
        kept = tuple(d for i, d in enumerate(shape) if i not in axes)
        out, signs = reshape(out, kept), reshape(signs, kept)
    return (out, signs) if return_sign else out


@export("special.softmax", namespace="scipy.special", dispatch=False)
def softmax(x: Any, axis: Any = None) -> Any:
    """Differentiable ``scipy.special.softmax``: ``exp(x) / sum(exp(x), axis)``.

    SciPy's default ``axis=None`` normalises over all elements (``fgrad.nn.softmax``
    defaults to the last axis).

    Gradient: ``s * (g - sum(g * s, axis))``.

    Examples
    --------
    >>> from fgrad.scipy import special
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda x: special.softmax(x, axis=1), (x,))
    """
    if x.__class__ is not Tracer:
        return sc.softmax(x, axis=axis)
    return nn_special.softmax(x, axis=normalize_axes(axis, ndim_of(x), "scipy.special.softmax"))


@export("special.log_softmax", namespace="scipy.special", dispatch=False)
def log_softmax(x: Any, axis: Any = None) -> Any:
    """Differentiable ``scipy.special.log_softmax``: ``x - logsumexp(x, axis)``.

    SciPy's default ``axis=None`` normalises over all elements.

    Gradient: ``g - softmax(x) * sum(g, axis)``, through the composition.

    Examples
    --------
    >>> from fgrad.scipy import special
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda x: special.log_softmax(x, axis=0), (x,))
    """
    if x.__class__ is not Tracer:
        return sc.log_softmax(x, axis=axis)
    axes = normalize_axes(axis, ndim_of(x), "scipy.special.log_softmax")
    return x - nn_special.logsumexp(x, axes, keepdims=True)
