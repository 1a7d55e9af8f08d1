"""``scipy.stats``: densities and distribution functions of a few distributions.

Imported by ``fgrad.scipy`` only (it needs SciPy). Each function is a composition of the
``scipy.special`` primitives (``fgrad/_rules/scipy_special.py``) and ``fgrad.numpy``'s, so
every float argument (``x``, ``loc``, ``scale``, shape parameters, ``mean``, ``cov``) is
differentiable to any order. Each distribution is its own namespace,
``fgrad.scipy.stats.<distribution>``, declared as ``scipy.stats.<distribution>``. Outside a
distribution's support ``logpdf`` is ``-inf`` with a zero gradient, as in SciPy.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from fgrad._core import detach
from fgrad._rules.declare import export
from fgrad._rules.elementwise import (
    exp,
    greater,
    greater_equal,
    less_equal,
    log,
    log1p,
    logical_and,
    where,
)
from fgrad._rules.helpers import shape_of
from fgrad._rules.linalg import cholesky
from fgrad._rules.linear import SUM, reshape
from fgrad._rules.products import mT
from fgrad._rules.scipy_linalg import solve_triangular
from fgrad._rules.scipy_special import betaln, gammaln, log_ndtr, ndtr, xlog1py, xlogy
from fgrad._rules.shape import expand_dims

F = TypeVar("F", bound=Callable[..., Any])

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_LOG_PI = math.log(math.pi)


def _declare(distribution: str, method: str) -> Callable[[F], F]:
    def declare(fn: F) -> F:
        fn.__name__ = method
        fn.__qualname__ = f"{distribution}.{method}"
        return export(
            f"stats.{distribution}.{method}",
            namespace=f"scipy.stats.{distribution}",
            dispatch=False,
        )(fn)

    return declare


def _standardize(x: Any, loc: Any, scale: Any) -> Any:
    return (x - loc) / scale


# --- norm ---------------------------------------------------------------------------------


@_declare("norm", "logpdf")
def norm_logpdf(x: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """Differentiable ``scipy.stats.norm.logpdf``: ``-z**2 / 2 - log(scale) - log(2 pi) / 2``
    with ``z = (x - loc) / scale``.

    Gradient: through the composition, with respect to ``x``, ``loc`` and ``scale``.

    Examples
    --------
    >>> from fgrad.scipy.stats import norm
    >>> norm.logpdf(np.array([0.0, 1.0]))
    array([-0.9189..., -1.4189...])
    >>> fgrad.check_grads(norm.logpdf, (np.array([0.3, -1.2]), 0.5, 1.5))
    """
    z = _standardize(x, loc, scale)
    return -0.5 * (z * z) - log(scale) - _LOG_SQRT_2PI


@_declare("norm", "pdf")
def norm_pdf(x: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """Differentiable ``scipy.stats.norm.pdf``: ``exp(logpdf(x, loc, scale))``.

    Gradient: through the composition, with respect to ``x``, ``loc`` and ``scale``.

    Examples
    --------
    >>> from fgrad.scipy.stats import norm
    >>> fgrad.check_grads(norm.pdf, (np.array([0.3, -1.2]), 0.5, 1.5))
    """
    return exp(norm_logpdf(x, loc, scale))


@_declare("norm", "cdf")
def norm_cdf(x: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """Differentiable ``scipy.stats.norm.cdf``: ``ndtr((x - loc) / scale)``.

    Gradient: through ``fgrad.scipy.special.ndtr``, whose derivative is the density.

    Examples
    --------
    >>> from fgrad.scipy.stats import norm
    >>> fgrad.check_grads(norm.cdf, (np.array([0.3, -1.2]), 0.5, 1.5))
    """
    return ndtr(_standardize(x, loc, scale))


@_declare("norm", "logcdf")
def norm_logcdf(x: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """Differentiable ``scipy.stats.norm.logcdf``: ``log_ndtr((x - loc) / scale)``, accurate
    far in the left tail.

    Gradient: through ``fgrad.scipy.special.log_ndtr``.

    Examples
    --------
    >>> from fgrad.scipy.stats import norm
    >>> fgrad.check_grads(norm.logcdf, (np.array([0.3, -12.0]), 0.5, 1.5))
    """
    return log_ndtr(_standardize(x, loc, scale))


# --- t ------------------------------------------------------------------------------------


@_declare("t", "logpdf")
def t_logpdf(x: Any, df: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """Differentiable ``scipy.stats.t.logpdf``: Student's t with ``df`` degrees of freedom.

    ``gammaln((df + 1) / 2) - gammaln(df / 2) - log(df pi) / 2
    - (df + 1) / 2 * log1p(z**2 / df) - log(scale)`` with ``z = (x - loc) / scale``.

    Gradient: through the composition, with respect to ``x``, ``df``, ``loc`` and ``scale``
    (``df`` through ``digamma``).

    Examples
    --------
    >>> from fgrad.scipy.stats import t
    >>> fgrad.check_grads(t.logpdf, (np.array([0.3, -1.2]), 3.5, 0.5, 1.5))
    """
    z = _standardize(x, loc, scale)
    half = (df + 1) * 0.5
    return (
        gammaln(half)
        - gammaln(df * 0.5)
        - 0.5 * (log(df) + _LOG_PI)
        - half * log1p(z * z / df)
        - log(scale)
    )


# --- beta, gamma --------------------------------------------------------------------------


def _on_support(
    inside: Any, y: Any, inner: Any, logpdf: Callable[[Any], Any], *positive: Any
) -> Any:
    """``logpdf(y)`` where ``inside`` holds, ``-inf`` elsewhere (with a zero gradient), NaN
    where a parameter that must be ``positive`` is not (SciPy's answers). ``y`` is replaced
    by ``inner`` outside, so that no NaN reaches the gradient."""
    value = where(inside, logpdf(where(inside, y, inner)), -np.inf)
    valid = greater(detach(positive[0]), 0)
    for parameter in positive[1:]:
        valid = logical_and(valid, greater(detach(parameter), 0))
    return where(valid, value, np.nan)


@_declare("beta", "logpdf")
def beta_logpdf(x: Any, a: Any, b: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """Differentiable ``scipy.stats.beta.logpdf``.

    ``xlogy(a - 1, y) + xlog1py(b - 1, -y) - betaln(a, b) - log(scale)`` with
    ``y = (x - loc) / scale`` in ``[0, 1]``, ``-inf`` outside.

    Gradient: through the composition, with respect to ``x``, ``a``, ``b``, ``loc`` and
    ``scale``; zero outside the support.

    Examples
    --------
    >>> from fgrad.scipy.stats import beta
    >>> fgrad.check_grads(beta.logpdf, (np.array([0.3, 0.8]), 2.5, 1.5, 0.1, 1.2))
    >>> beta.logpdf(np.array([0.5, 1.5]), 2.0, 2.0)
    array([0.4054...,     -inf])
    """
    y = _standardize(x, loc, scale)
    plain_y = detach(y)
    inside = logical_and(greater_equal(plain_y, 0), less_equal(plain_y, 1))
    return _on_support(
        inside,
        y,
        0.5,
        lambda y: xlogy(a - 1, y) + xlog1py(b - 1, -y) - betaln(a, b) - log(scale),
        a,
        b,
        scale,
    )


@_declare("gamma", "logpdf")
def gamma_logpdf(x: Any, a: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """Differentiable ``scipy.stats.gamma.logpdf`` with shape ``a``.

    ``xlogy(a - 1, y) - y - gammaln(a) - log(scale)`` with ``y = (x - loc) / scale >= 0``,
    ``-inf`` for ``y < 0``.

    Gradient: through the composition, with respect to ``x``, ``a``, ``loc`` and ``scale``;
    zero outside the support.

    Examples
    --------
    >>> from fgrad.scipy.stats import gamma
    >>> fgrad.check_grads(gamma.logpdf, (np.array([0.3, 2.2]), 2.5, 0.1, 1.2))
    """
    y = _standardize(x, loc, scale)
    inside = greater_equal(detach(y), 0)
    return _on_support(
        inside, y, 1.0, lambda y: xlogy(a - 1, y) - y - gammaln(a) - log(scale), a, scale
    )


# --- multivariate_normal ------------------------------------------------------------------


def _covariance_matrix(cov: Any, dim: int) -> Any:
    ndim = len(shape_of(cov))
    if ndim == 0:
        return cov * np.eye(dim)
    if ndim == 1:
        return expand_dims(cov, -1) * np.eye(dim)
    return cov


@_declare("multivariate_normal", "logpdf")
def multivariate_normal_logpdf(
    x: Any, mean: Any = None, cov: Any = 1, allow_singular: bool = False
) -> Any:
    """Differentiable ``scipy.stats.multivariate_normal.logpdf``.

    ``x`` holds points along its last axis (SciPy's reading: a 1-D ``x`` is one point,
    or many scalar points when the dimension is 1); ``mean`` is a vector (default 0);
    ``cov`` a symmetric positive definite matrix, a vector (its diagonal) or a scalar
    (times the identity). As in SciPy the result's axes of length 1 are squeezed.
    Computed with the Cholesky factor ``L`` of ``cov``: ``-(|L^-1 (x - mean)|**2 +
    2 sum(log(diag(L))) + d log(2 pi)) / 2``.

    Gradient: through the composition, with respect to ``x``, ``mean`` and ``cov`` (a
    symmetric gradient: ``cov``'s perturbations are taken symmetric, as the density
    reads only its lower triangle).

    Examples
    --------
    >>> from fgrad.scipy.stats import multivariate_normal
    >>> cov = np.array([[2.0, 0.3], [0.3, 1.0]])
    >>> x, mean = np.array([[0.3, -1.2], [0.5, 0.7]]), np.array([0.1, -0.2])
    >>> fgrad.check_grads(
    ...     lambda x, m, c: multivariate_normal.logpdf(x, m, c @ c.T), (x, mean, cov)
    ... )
    """
    if allow_singular:
        raise NotImplementedError(
            "fgrad.scipy.stats.multivariate_normal.logpdf: allow_singular=True is not "
            "supported (a singular covariance has no Cholesky factor)"
        )
    cov_shape = shape_of(cov)
    if mean is None:
        dim = cov_shape[0] if cov_shape else 1
        mean = np.zeros(dim)
    mean_shape = shape_of(mean)
    dim = mean_shape[0] if mean_shape else 1
    if len(mean_shape) > 1 or cov_shape not in ((), (dim,), (dim, dim)):
        raise ValueError(
            "fgrad.scipy.stats.multivariate_normal.logpdf: mean must be a vector of length d "
            f"and cov a (d, d) matrix, a (d,) diagonal or a scalar; got mean of shape "
            f"{mean_shape} and cov of shape {cov_shape}"
        )
    x_shape = shape_of(x)
    if len(x_shape) == 0 or (len(x_shape) == 1 and dim == 1):
        x = reshape(x, (*x_shape, 1))
        x_shape = (*x_shape, 1)
    if x_shape[-1] != dim:
        raise ValueError(
            f"fgrad.scipy.stats.multivariate_normal.logpdf: x has points of dimension "
            f"{x_shape[-1]} (its last axis, shape {x_shape}), but mean and cov have "
            f"dimension {dim}"
        )
    factor = cholesky(_covariance_matrix(cov, dim))
    centred = reshape(x - reshape(mean, (dim,)), (-1, dim))
    whitened = solve_triangular(factor, mT(centred), lower=True)
    mahalanobis = SUM(whitened * whitened, axis=(0,), keepdims=False)
    factor_diagonal = SUM(factor * np.eye(dim), axis=(1,), keepdims=False)
    log_det = 2.0 * SUM(log(factor_diagonal), axis=(0,), keepdims=False)
    out = -0.5 * (mahalanobis + log_det + dim * 2.0 * _LOG_SQRT_2PI)
    return reshape(out, tuple(d for d in x_shape[:-1] if d != 1))
