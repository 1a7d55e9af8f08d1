"""``scipy.linalg``: triangular solves, Cholesky factor and solve, the matrix exponential.

Imported by ``fgrad.scipy`` only (it needs SciPy). ``solve_triangular`` and ``expm`` are
primitives with SciPy's forward; ``cho_factor`` and ``cho_solve`` are compositions of
``fgrad.numpy.linalg.cholesky`` and ``solve_triangular``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg as sl

from fgrad._core import Primitive, Tracer
from fgrad._rules import batching
from fgrad._rules.declare import export
from fgrad._rules.helpers import dtype_of, shape_of
from fgrad._rules.linalg import cholesky
from fgrad._rules.linear import getitem, reshape, transpose
from fgrad._rules.products import matmul, mT
from fgrad._rules.shape import concatenate, expand_dims, moveaxis

_TRANS = {0: 0, 1: 1, 2: 1, "N": 0, "T": 1, "C": 1}
"""SciPy's ``trans`` values; for real matrices ``'C'`` (conjugate transpose) is ``'T'``."""


def _check_square(a: Any, name: str) -> int:
    shape = shape_of(a)
    if len(shape) != 2 or shape[0] != shape[1]:
        raise ValueError(f"fgrad.scipy.linalg.{name}: a must be a square matrix, got shape {shape}")
    return int(shape[0])


# --- solve_triangular ---------------------------------------------------------------------


def _solve_triangular_impl(
    a: Any, b: Any, *, trans: int, lower: bool, unit_diagonal: bool, check_finite: bool
) -> Any:
    """SciPy's solve; ``a`` may carry leading batch axes, which ``b`` then shares (``b`` is
    a stack of vectors when it has one axis fewer than ``a``, else of matrices)."""
    a, b = np.asarray(a), np.asarray(b)
    options = {
        "trans": trans,
        "lower": lower,
        "unit_diagonal": unit_diagonal,
        "check_finite": check_finite,
    }
    if a.ndim == 2:
        return sl.solve_triangular(a, b, **options)
    batch = a.shape[:-2]
    solved = [sl.solve_triangular(a[i], b[i], **options) for i in np.ndindex(*batch)]
    if not solved:
        return np.zeros(b.shape, np.result_type(a, b, np.float32))
    return np.stack(solved).reshape(batch + solved[0].shape)


def _triangle_mask(n: int, lower: bool, unit_diagonal: bool, dtype: Any) -> np.ndarray:
    """1 on the entries ``solve_triangular`` reads, 0 elsewhere."""
    ones = np.ones((n, n), dtype=dtype)
    if lower:
        return np.tril(ones, -1 if unit_diagonal else 0)
    return np.triu(ones, 1 if unit_diagonal else 0)


def _solve_triangular_vjp(
    g: Any, ans: Any, args: tuple[Any, Any], params: dict[str, Any], argnums: Any
) -> list[Any]:
    a, b = args
    solved = _SOLVE_TRIANGULAR(a, g, **{**params, "trans": 1 - params["trans"]})
    cotangents: list[Any] = []
    for k in argnums:
        if k == 1:
            cotangents.append(solved)
            continue
        x, gb = ans, solved
        if len(shape_of(b)) == len(shape_of(a)) - 1:
            x, gb = expand_dims(x, -1), expand_dims(gb, -1)
        outer = matmul(x, mT(gb)) if params["trans"] else matmul(gb, mT(x))
        mask = _triangle_mask(
            shape_of(a)[-1], params["lower"], params["unit_diagonal"], dtype_of(outer)
        )
        cotangents.append(-outer * mask)
    return cotangents


def _batch_solve_triangular(
    prim: Primitive, values: Any, batched: Any, params: Any, size: int
) -> tuple[Any, bool]:
    (a, b), (a_batched, b_batched) = values, batched
    if not a_batched and len(shape_of(a)) == 2:
        # One matrix: the examples of b become extra columns of a single solve.
        vector = len(shape_of(b)) == 2
        columns = transpose(b) if vector else moveaxis(b, 0, 1)
        rows = shape_of(columns)
        x = prim(a, reshape(columns, (rows[0], -1)), **params)
        x = reshape(x, rows)
        return (transpose(x) if vector else moveaxis(x, 1, 0)), True
    a = batching.with_batch(a, a_batched, size)
    b = batching.with_batch(b, b_batched, size)
    return prim(a, b, **params), True


_SOLVE_TRIANGULAR = Primitive(
    "scipy.linalg.solve_triangular",
    _solve_triangular_impl,
    vjp_joint=_solve_triangular_vjp,
    batch=_batch_solve_triangular,
)


@export("linalg.solve_triangular", namespace="scipy.linalg", dispatch=False)
def solve_triangular(
    a: Any,
    b: Any,
    trans: Any = 0,
    lower: bool = False,
    unit_diagonal: bool = False,
    overwrite_b: bool = False,
    check_finite: bool = True,
) -> Any:
    """Differentiable ``scipy.linalg.solve_triangular``: ``x`` with ``op(a) @ x = b``.

    ``a`` is an ``(M, M)`` matrix of which only the ``lower`` (or upper) triangle is read,
    without its diagonal when ``unit_diagonal`` (taken as ones); ``op`` transposes ``a``
    when ``trans`` is 1, ``'T'``, 2 or ``'C'`` (real matrices). ``b`` is ``(M,)`` or
    ``(M, K)``. ``overwrite_b`` is accepted and ignored on traced values.

    Gradient: ``gb = solve_triangular(a, g, trans=not trans)`` for ``b``, and
    ``-gb @ x.T`` (``-x @ gb.T`` when transposed) for ``a``, kept to the triangle read.

    Examples
    --------
    >>> from fgrad.scipy import linalg
    >>> a = np.array([[2.0, 0.0, 0.0], [0.3, 1.5, 0.0], [0.1, -0.4, 1.8]])
    >>> b = np.array([0.3, -1.2, 0.5])
    >>> fgrad.check_grads(lambda a, b: linalg.solve_triangular(a, b, lower=True), (a, b))
    >>> linalg.solve_triangular(a, b, lower=True)
    array([ 0.15 , -0.83 ,  0.085])
    """
    if trans not in _TRANS:
        raise ValueError(
            f"fgrad.scipy.linalg.solve_triangular: trans must be 0, 1, 2, 'N', 'T' or 'C', "
            f"got {trans!r}"
        )
    n = _check_square(a, "solve_triangular")
    b_shape = shape_of(b)
    if len(b_shape) not in (1, 2) or b_shape[0] != n:
        raise ValueError(
            f"fgrad.scipy.linalg.solve_triangular: b must have shape ({n},) or ({n}, K) to "
            f"match a of shape {shape_of(a)}, got {b_shape}"
        )
    if a.__class__ is not Tracer and b.__class__ is not Tracer:
        return sl.solve_triangular(
            a, b, trans, lower, unit_diagonal, overwrite_b, check_finite=check_finite
        )
    return _SOLVE_TRIANGULAR(
        a,
        b,
        trans=_TRANS[trans],
        lower=bool(lower),
        unit_diagonal=bool(unit_diagonal),
        check_finite=bool(check_finite),
    )


# --- cho_factor, cho_solve ----------------------------------------------------------------


@export("linalg.cho_factor", namespace="scipy.linalg", dispatch=False)
def cho_factor(
    a: Any, lower: bool = False, overwrite_a: bool = False, check_finite: bool = True
) -> tuple[Any, bool]:
    """Differentiable ``scipy.linalg.cho_factor``: ``(c, lower)`` for :func:`cho_solve`.

    ``c`` is the Cholesky factor of the symmetric positive definite ``a``: lower
    triangular ``L`` with ``a = L @ L.T`` when ``lower``, else upper triangular
    ``U = L.T`` with ``a = U.T @ U``; it reads that triangle of ``a``. Unlike SciPy's,
    the other triangle of ``c`` is zero (SciPy leaves arbitrary values there).

    Gradient: that of ``fgrad.numpy.linalg.cholesky`` (symmetric: ``a``'s perturbations
    are taken symmetric).

    Examples
    --------
    >>> from fgrad.scipy import linalg
    >>> a = np.array([[4.0, 1.0], [1.0, 3.0]])
    >>> linalg.cho_factor(a)
    (array([[2.       , 0.5      ],
           [0.       , 1.6583124]]), False)
    >>> fgrad.check_grads(lambda m: linalg.cho_factor(m @ m.T, lower=True)[0], (a,))
    """
    _check_square(a, "cho_factor")
    factor = cholesky(a) if lower else mT(cholesky(mT(a)))
    return factor, lower


@export("linalg.cho_solve", namespace="scipy.linalg", dispatch=False)
def cho_solve(
    c_and_lower: tuple[Any, bool], b: Any, overwrite_b: bool = False, check_finite: bool = True
) -> Any:
    """Differentiable ``scipy.linalg.cho_solve``: ``x`` with ``a @ x = b``, given
    ``(c, lower) = cho_factor(a)``.

    Two triangular solves with the triangle of ``c`` that ``lower`` names.

    Gradient: through the two :func:`solve_triangular` calls, with respect to ``c`` (its
    triangle) and ``b``.

    Examples
    --------
    >>> from fgrad.scipy import linalg
    >>> a, b = np.array([[4.0, 1.0], [1.0, 3.0]]), np.array([1.0, 2.0])
    >>> linalg.cho_solve(linalg.cho_factor(a), b)
    array([0.0909..., 0.6363...])
    >>> spd = lambda m: m @ m.T  # cho_factor's gradient takes a's perturbations symmetric
    >>> fgrad.check_grads(lambda m, b: linalg.cho_solve(linalg.cho_factor(spd(m)), b), (a, b))
    """
    c, lower = c_and_lower
    options = {"lower": lower, "check_finite": check_finite}
    if lower:
        inner = solve_triangular(c, b, **options)
        return solve_triangular(c, inner, trans=1, **options)
    inner = solve_triangular(c, b, trans=1, **options)
    return solve_triangular(c, inner, **options)


# --- expm ---------------------------------------------------------------------------------


def _expm_vjp(g: Any, ans: Any, a: Any) -> Any:
    """The Fréchet derivative of ``expm`` at ``a.T`` in the direction ``g``: the upper right
    block of ``expm([[a.T, g], [0, a.T]])``."""
    n = shape_of(a)[-1]
    a_t = mT(a)
    zeros = np.zeros(shape_of(a), dtype=dtype_of(g))
    block = concatenate(
        [concatenate([a_t, g], axis=-1), concatenate([zeros, a_t], axis=-1)], axis=-2
    )
    return getitem(expm(block), (Ellipsis, slice(0, n), slice(n, 2 * n)))


_EXPM = Primitive("scipy.linalg.expm", sl.expm, (_expm_vjp,), batch=batching.leading)


@export("linalg.expm", namespace="scipy.linalg", dispatch=False)
def expm(A: Any) -> Any:
    """Differentiable ``scipy.linalg.expm``: the matrix exponential, over leading axes.

    Gradient: the Fréchet derivative of ``expm`` at ``A.T`` in the direction ``g``, read
    from the upper right block of ``expm([[A.T, g], [0, A.T]])`` (exact, and itself
    differentiable through ``expm``).

    Examples
    --------
    >>> from fgrad.scipy import linalg
    >>> a = np.array([[0.0, 1.0], [-1.0, 0.0]])
    >>> np.allclose(linalg.expm(a), [[np.cos(1), np.sin(1)], [-np.sin(1), np.cos(1)]])
    True
    >>> fgrad.check_grads(linalg.expm, (np.array([[0.3, -1.2], [0.5, 0.7]]),))
    """
    shape = shape_of(A)
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise ValueError(
            f"fgrad.scipy.linalg.expm: A must be a square matrix (or a stack of them), got "
            f"shape {shape}"
        )
    return _EXPM(A)
