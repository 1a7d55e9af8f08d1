"""``numpy.linalg``: inverses, determinants, solves, decompositions and norms."""

from __future__ import annotations

import builtins
import operator
from collections import namedtuple
from collections.abc import Sequence
from typing import Any

import numpy as np

from fgrad import _compat
from fgrad._core import Primitive, Tracer, concrete, detach
from fgrad._rules import batching
from fgrad._rules.calculus import cross
from fgrad._rules.declare import export, non_differentiable, plain_values
from fgrad._rules.elementwise import (
    absolute,
    conjugate,
    equal,
    imag,
    power,
    real,
    sqrt,
    where,
)
from fgrad._rules.helpers import dtype_of, ndim_of, no_out, normalize_axes, shape_of
from fgrad._rules.linear import SUM, TRANSPOSE, astype, getitem, reshape, unbroadcast
from fgrad._rules.products import dot, matmul, mT, outer
from fgrad._rules.reductions import max, min
from fgrad._rules.shape import diagonal, expand_dims, trace

# NumPy's stubs want Literal flags and arrays; here arguments are checked by NumPy.
_np_linalg: Any = np.linalg


def _is_complex(x: Any) -> bool:
    return dtype_of(x).kind == "c"


def _real_matrices_only(a: Any, name: str) -> None:
    """Refuse a complex traced matrix where no complex rule exists (no silent wrong gradient)."""
    if _is_complex(a):
        raise TypeError(
            f"fgrad.numpy.linalg.{name} has no gradient rule for complex matrices yet (got "
            f"dtype {dtype_of(a)}). Complex rules exist for inv, solve, det, slogdet, norm, "
            "eigh, eigvalsh, eig, eigvals, cholesky, svd (not hermitian=True) and svdvals; apply "
            "fgrad.stop_gradient to the input if no gradient must flow through it."
        )


def _abs_squared(x: Any) -> Any:
    """``abs(x)**2``, elementwise: ``x * x``, or ``real(x * conj(x))`` for complex ``x``."""
    return real(x * conjugate(x)) if _is_complex(x) else x * x


def _inv_vjp(g: Any, ans: Any, a: Any) -> Any:
    return -matmul(matmul(mT(ans), g), mT(ans))


_INV = Primitive("linalg.inv", np.linalg.inv, (_inv_vjp,), batch=batching.leading)


@export("linalg.inv")
def inv(a: Any) -> Any:
    """Differentiable ``numpy.linalg.inv``, batched over leading axes.

    Gradient: ``-inv(a).T @ g @ inv(a).T``.

    Examples
    --------
    >>> a = np.array([[2.0, 0.5, 0.1], [0.3, 1.5, -0.2], [0.1, 0.4, 1.8]])
    >>> fgrad.check_grads(fnp.linalg.inv, (a,))
    """
    return _INV(a)


def _det_vjp(g: Any, ans: Any, a: Any) -> Any:
    scale = expand_dims(expand_dims(g * ans, -1), -1)
    return scale * mT(inv(a))


_DET = Primitive("linalg.det", np.linalg.det, (_det_vjp,), batch=batching.leading)


@export("linalg.det")
def det(a: Any) -> Any:
    """Differentiable ``numpy.linalg.det``, batched over leading axes.

    Gradient: ``g * det(a) * inv(a).T``.

    Examples
    --------
    >>> a = np.array([[2.0, 0.5, 0.1], [0.3, 1.5, -0.2], [0.1, 0.4, 1.8]])
    >>> fgrad.check_grads(fnp.linalg.det, (a,))
    """
    return _DET(a)


def _logabsdet_impl(a: Any) -> Any:
    return np.linalg.slogdet(a)[1]


def _logabsdet_vjp(g: Any, ans: Any, a: Any) -> Any:
    return expand_dims(expand_dims(g, -1), -1) * mT(inv(a))


_LOGABSDET = Primitive("linalg.slogdet", _logabsdet_impl, (_logabsdet_vjp,), batch=batching.leading)


def _slogdet_sign_impl(a: Any) -> Any:
    return np.linalg.slogdet(a)[0]


_slogdet_sign = plain_values(_slogdet_sign_impl, "slogdet_sign", batching.leading)


def _complex_sign_vjp(g: Any, ans: Any, a: Any) -> Any:
    # d sign = i Im(tr(a^-1 da)) sign (JAX's slogdet JVP); its transpose is below.
    scale = 1j * imag(g * ans)
    return expand_dims(expand_dims(scale, -1), -1) * mT(inv(a))


_COMPLEX_SIGN = Primitive(
    "linalg.slogdet", _slogdet_sign_impl, (_complex_sign_vjp,), batch=batching.leading
)

SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])


@export("linalg.slogdet")
def slogdet(a: Any) -> Any:
    """Differentiable ``numpy.linalg.slogdet``: ``SlogdetResult(sign, logabsdet)``.

    ``logabsdet`` carries a gradient; ``sign`` does for complex matrices (where it is
    ``det / abs(det)``) and is piecewise constant for real ones.

    Gradient: ``g * inv(a).T`` for ``logabsdet``; ``1j * imag(g * sign) * inv(a).T`` for a
    complex ``sign``.

    Examples
    --------
    >>> a = np.array([[2.0, 0.5, 0.1], [0.3, 1.5, -0.2], [0.1, 0.4, 1.8]])
    >>> fgrad.check_grads(lambda a: fnp.linalg.slogdet(a).logabsdet, (a,))
    """
    if a.__class__ is not Tracer:
        return np.linalg.slogdet(a)
    sign = _COMPLEX_SIGN(a) if _is_complex(a) else _slogdet_sign(detach(a))
    return SlogdetResult(sign, _LOGABSDET(a))


def _solve_transposed(a: Any, b: Any, g: Any) -> Any:
    """``solve(a.T, g)`` for the cotangent ``g`` of ``solve(a, b)``.

    A 1-D ``b`` is a vector even when ``a`` is batched, but then ``g`` has the
    batch axes too, and ``solve`` would read a 2-D-or-more ``g`` as matrices.
    """
    if ndim_of(b) == 1 and ndim_of(g) > 1:
        return getitem(solve(mT(a), expand_dims(g, -1)), (Ellipsis, 0))
    return solve(mT(a), g)


def _solve_vjp_a(g: Any, ans: Any, a: Any, b: Any) -> Any:
    gb = _solve_transposed(a, b, g)
    if ndim_of(b) == 1:
        return -unbroadcast(expand_dims(gb, -1) * expand_dims(ans, -2), shape_of(a))
    return -unbroadcast(matmul(gb, mT(ans)), shape_of(a))


def _solve_vjp_b(g: Any, ans: Any, a: Any, b: Any) -> Any:
    return unbroadcast(_solve_transposed(a, b, g), shape_of(b))


def _batch_solve(prim: Primitive, values: Any, batched: Any, params: Any, size: int) -> Any:
    (a, b), (a_batched, b_batched) = values, batched
    vector = len(shape_of(b)) - b_batched == 1
    a = batching.with_batch(a, a_batched, size)
    b = batching.with_batch(b, b_batched, size)
    if vector:
        b = expand_dims(b, -1)
    rank = builtins.max(len(shape_of(a)), len(shape_of(b))) - 1
    x = prim(batching.pad_after_batch(a, rank), batching.pad_after_batch(b, rank))
    return (x[..., 0] if vector else x), True


_SOLVE = Primitive("linalg.solve", _compat.solve, (_solve_vjp_a, _solve_vjp_b), batch=_batch_solve)


@export("linalg.solve")
def solve(a: Any, b: Any) -> Any:
    """Differentiable ``numpy.linalg.solve``: ``x`` with ``a @ x = b``, batched.

    ``b`` is a vector when 1-D, else a stack of matrices (NumPy 2's rule, also on
    NumPy 1.26).

    Gradient: ``-solve(a.T, g) @ x.T`` and ``solve(a.T, g)``.

    Examples
    --------
    >>> a = np.array([[2.0, 0.5, 0.1], [0.3, 1.5, -0.2], [0.1, 0.4, 1.8]])
    >>> b = np.array([[0.3, -1.2], [2.0, 0.7], [0.5, -0.4]])
    >>> fgrad.check_grads(fnp.linalg.solve, (a, b))
    """
    return _SOLVE(a, b)


def _cholesky_vjp(g: Any, ans: Any, a: Any) -> Any:
    """Murray's rule; for complex matrices its Hermitian form, conjugated in and out to JAX's
    convention (as :func:`_svd_vjp`)."""
    complex_a = _is_complex(a)

    def h(x: Any) -> Any:
        return conjugate(mT(x)) if complex_a else mT(x)

    if complex_a:
        g = conjugate(g)
    n = shape_of(ans)[-1]
    halve_diagonal = np.tril(np.ones((n, n))) / (1.0 + np.eye(n))
    phi = matmul(h(ans), g) * halve_diagonal.astype(np.finfo(dtype_of(g)).dtype)
    inner_solve = h(solve(h(ans), h(phi)))
    s = solve(h(ans), inner_solve)
    out = (s + h(s)) * 0.5
    return conjugate(out) if complex_a else out


_CHOLESKY = Primitive(
    "linalg.cholesky", np.linalg.cholesky, (_cholesky_vjp,), batch=batching.leading
)


@export("linalg.cholesky")
def cholesky(a: Any) -> Any:
    """Differentiable ``numpy.linalg.cholesky``: the lower factor ``L`` of ``a = L @ L.T``.

    Gradient: the symmetric rule of Murray (2016),
    ``sym(L^-T Phi(L.T g) L^-1)`` with ``Phi`` the lower triangle with a halved diagonal.

    Examples
    --------
    >>> a = np.array([[2.0, 0.5, 0.1], [0.3, 1.5, -0.2], [0.1, 0.4, 1.8]])
    >>> fgrad.check_grads(lambda a: fnp.linalg.cholesky(a @ a.T), (a,))
    """
    return _CHOLESKY(a)


@export("linalg.norm")
def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
    """Differentiable ``numpy.linalg.norm``.

    Every vector ``ord``; matrix ``ord`` ``'fro'``, 1, -1, ``inf``, ``-inf``, and 2, -2,
    ``'nuc'`` through the singular values.

    Gradient: through its composition (sums, powers, ``max``/``min`` of absolute values,
    :func:`svdvals`); ``ord=0`` counts nonzeros and carries no gradient.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2], [2.0, 0.7], [0.5, -0.4]])
    >>> fgrad.check_grads(lambda x: fnp.linalg.norm(x, 1, axis=0), (x,))
    >>> fgrad.check_grads(lambda x: fnp.linalg.norm(x, "nuc"), (x,))
    """
    if x.__class__ is not Tracer:
        return np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)
    nd = x.ndim
    if axis is None and ord is None:
        axes = tuple(range(nd))
        return sqrt(SUM(_abs_squared(x), axis=axes, keepdims=keepdims))
    if axis is None:
        axes = tuple(range(nd))
    elif np.ndim(axis) == 0:
        axes = normalize_axes(int(axis), nd, "linalg.norm")
    else:
        axes = tuple(normalize_axes(int(a), nd, "linalg.norm")[0] for a in axis)
    if len(axes) == 1:
        return _vector_norm(x, ord, axes, keepdims)
    if len(axes) == 2:
        return _matrix_norm(x, ord, axes, keepdims)
    raise ValueError(f"linalg.norm: improper number of dimensions to norm ({len(axes)})")


def _vector_norm(x: Any, ord: Any, axes: tuple[int, ...], keepdims: bool) -> Any:
    if ord is None or ord == 2:
        return sqrt(SUM(_abs_squared(x), axis=axes, keepdims=keepdims))
    if ord == np.inf:
        return max(absolute(x), axes, keepdims=keepdims)
    if ord == -np.inf:
        return min(absolute(x), axes, keepdims=keepdims)
    if ord == 0:
        return np.sum(concrete(x) != 0, axis=axes, keepdims=keepdims).astype(dtype_of(x))
    if ord == 1:
        return SUM(absolute(x), axis=axes, keepdims=keepdims)
    return power(SUM(power(absolute(x), ord), axis=axes, keepdims=keepdims), 1.0 / ord)


def _matrix_norm(x: Any, ord: Any, axes: tuple[int, ...], keepdims: bool) -> Any:
    row, col = axes
    if ord is None or ord == "fro":
        return sqrt(SUM(_abs_squared(x), axis=tuple(sorted(axes)), keepdims=keepdims))
    if ord in (1, -1):
        sums = SUM(absolute(x), axis=(row,), keepdims=True)
        pick = max if ord == 1 else min
        out = pick(sums, col, keepdims=True)
    elif ord in (np.inf, -np.inf):
        sums = SUM(absolute(x), axis=(col,), keepdims=True)
        pick = max if ord == np.inf else min
        out = pick(sums, row, keepdims=True)
    elif ord in (2, -2, "nuc"):
        others = tuple(i for i in range(ndim_of(x)) if i not in axes)
        s = svdvals(TRANSPOSE(x, axes=others + axes))
        last = (ndim_of(s) - 1,)
        if ord == "nuc":
            out = SUM(s, axis=last, keepdims=False)
        else:
            out = (max if ord == 2 else min)(s, last, keepdims=False)
        if keepdims:
            out = reshape(out, tuple(1 if i in axes else d for i, d in enumerate(shape_of(x))))
        return out
    else:
        raise ValueError("Invalid norm order for matrices.")
    if keepdims:
        return out
    return reshape(out, tuple(d for i, d in enumerate(shape_of(out)) if i not in axes))


# --- shared helpers of the decompositions ------------------------------------------------


def _diag_embed(v: Any) -> Any:
    """Square matrices with ``v``'s last axis on their diagonal."""
    n = shape_of(v)[-1]
    return expand_dims(v, -2) * np.eye(n, dtype=dtype_of(v))


def _inverse_gaps(w: Any) -> Any:
    """``F[..., i, j] = 1 / (w[j] - w[i])``, and 0 where ``w[j] == w[i]`` (the diagonal).

    Zero rather than infinite for repeated values: a cotangent that does not
    distinguish vectors of a repeated value (e.g. none at all, when only the
    values are used) then gives the exact gradient instead of NaN.
    """
    gaps = expand_dims(w, -2) - expand_dims(w, -1)
    same = equal(detach(gaps), 0)
    return where(same, 0.0, 1.0 / where(same, 1.0, gaps))


def _safe_reciprocal(s: Any) -> Any:
    zero = equal(detach(s), 0)
    return where(zero, 0.0, 1.0 / where(zero, 1.0, s))


def _one_triangle(m: Any, uplo: str) -> Any:
    """The gradient ``m`` (with respect to a symmetric matrix) of a function that reads only
    the ``uplo`` triangle: the diagonal as is, the read triangle gets ``m + m.T``, the
    other one nothing. For a Hermitian matrix the other triangle is the conjugate of the
    read one and the diagonal's imaginary part is ignored (as LAPACK does): the read
    triangle gets ``m + conj(m.T)``, the diagonal ``real(m)``."""
    n = shape_of(m)[-1]
    dtype = dtype_of(m)
    ones = np.ones((n, n), dtype=dtype)
    strict = np.tril(ones, -1) if uplo == "L" else np.triu(ones, 1)
    return real(m) * np.eye(n, dtype=dtype) + (m + conjugate(mT(m))) * strict


def _lower_symmetric(a: Any) -> Any:
    """The symmetric matrix that a function reading the lower triangle of ``a`` sees."""
    n = shape_of(a)[-1]
    dtype = dtype_of(a)
    strict = np.tril(np.ones((n, n), dtype=dtype), -1)
    lower = a * strict
    return lower + mT(lower) + a * np.eye(n, dtype=dtype)


# --- eigh, eigvalsh ---------------------------------------------------------------------


def _eigh_impl(a: Any, UPLO: str) -> Any:
    w, v = _np_linalg.eigh(a, UPLO)
    return np.concatenate([w[..., None, :], v], axis=-2)


def _eigh_parts(packed: Any) -> tuple[Any, Any]:
    return (
        getitem(packed, (Ellipsis, 0, slice(None))),
        getitem(packed, (Ellipsis, slice(1, None), slice(None))),
    )


def _eigh_vjp(g: Any, ans: Any, a: Any, UPLO: str) -> Any:
    w, v = _eigh_parts(ans)
    gw, gv = _eigh_parts(g)
    w, gw = real(w), real(gw)
    vt = mT(v)
    inner = _inverse_gaps(w) * matmul(vt, gv) + _diag_embed(gw)
    return _one_triangle(matmul(matmul(conjugate(v), inner), vt), UPLO)


_EIGH = Primitive("linalg.eigh", _eigh_impl, (_eigh_vjp,), batch=batching.leading)


EighResult = namedtuple("EighResult", ["eigenvalues", "eigenvectors"])


@export("linalg.eigh")
def eigh(a: Any, UPLO: str = "L") -> Any:
    """Differentiable ``numpy.linalg.eigh``: eigenvalues (ascending) and eigenvectors of
    symmetric matrices, as ``EighResult(eigenvalues, eigenvectors)``.

    Like NumPy, only the ``UPLO`` triangle of ``a`` is read, and the gradient is that
    of this function: the read triangle's off-diagonal elements stand for both
    symmetric positions, the other triangle gets 0. Differentiate a symmetric
    function of your matrix (e.g. ``(a + a.T) / 2``) to get the symmetric gradient.

    The decomposition is one primitive whose result stacks the eigenvalues on
    top of the eigenvectors (shape ``(..., n + 1, n)``), sliced apart afterwards:
    one LAPACK call forward, and one rule that sees both cotangents.

    Gradient: ``V (diag(gw) + F * (V.T gV)) V.T`` with ``F[i, j] = 1 / (w[j] - w[i])``
    off the diagonal, folded onto the read triangle; for a complex Hermitian matrix
    ``conj(V) (diag(gw) + F * (V.T gV)) V.T`` (JAX's convention, no conjugate transpose
    of the cotangent), the read triangle getting ``m + conj(m.T)``. Complex eigenvectors
    are defined up to a phase: use functions invariant to it (``abs(v)``, projectors
    ``v @ v.conj().T``). For repeated eigenvalues the
    eigenvectors are not unique and their gradient is undefined: ``F`` is set to 0
    between equal eigenvalues, which gives exact first derivatives of the eigenvalues
    and of functions that do not depend on the choice of basis within an eigenspace
    (projectors), and meaningless ones otherwise; second derivatives at exactly
    repeated eigenvalues are not exact (they differentiate the arbitrary basis).
    Eigenvectors are defined up to sign; use functions invariant to it
    (``v[:, i] * v[0, i]``, projectors) or fix the sign.

    Examples
    --------
    >>> a = np.array([[2.0, 1.0], [1.0, 3.0]])
    >>> def expm(s):  # a matrix function through the eigendecomposition
    ...     w, v = fnp.linalg.eigh((s + s.T) / 2)
    ...     return (v * fnp.exp(w)) @ v.T
    >>> fgrad.check_grads(expm, (a,))
    >>> fgrad.grad(lambda s: fnp.linalg.eigh(s).eigenvalues[1])(a)  # reads the lower triangle
    array([[0.2763932 , 0.        ],
           [0.89442719, 0.7236068 ]])
    """
    if a.__class__ is not Tracer:
        return _np_linalg.eigh(a, UPLO)
    UPLO = UPLO.upper()
    if UPLO not in ("L", "U"):
        raise ValueError("UPLO argument must be 'L' or 'U'")
    _check_matrices(a, "eigh")
    w, v = _eigh_parts(_EIGH(a, UPLO=UPLO))
    return EighResult(real(w) if _is_complex(w) else w, v)


@export("linalg.eigvalsh")
def eigvalsh(a: Any, UPLO: str = "L") -> Any:
    """Differentiable ``numpy.linalg.eigvalsh``: eigenvalues (ascending) of symmetric matrices.

    Computed as ``eigh(a, UPLO).eigenvalues`` (the gradient needs the eigenvectors).

    Gradient: ``V diag(g) V.T`` folded onto the read triangle (see :func:`eigh`); exact
    also for repeated eigenvalues.

    Examples
    --------
    >>> a = np.array([[2.0, 1.0], [0.5, 3.0]])
    >>> fgrad.check_grads(lambda a: fnp.linalg.eigvalsh(a + a.T), (a,))
    >>> fgrad.grad(lambda a: fnp.sum(fnp.linalg.eigvalsh(a)))(np.eye(2))  # the trace
    array([[1., 0.],
           [0., 1.]])
    """
    if a.__class__ is not Tracer:
        return _np_linalg.eigvalsh(a, UPLO)
    return eigh(a, UPLO).eigenvalues


# --- eig, eigvals (non-symmetric) -----------------------------------------------------------


def _eigenvalues_impl(a: Any) -> Any:
    return _np_linalg.eig(a)[0]


def _eigenvectors_impl(a: Any) -> Any:
    return _np_linalg.eig(a)[1]


def _eigenvalues_vjp(g: Any, ans: Any, a: Any) -> Any:
    # dw = diag(V^-1 da V) (JAX's eig JVP); transposed: V^-T diag(g) V^T. Invariant to the
    # scaling of V's columns, so the basis of _EIG_BASIS serves for higher orders.
    v = _EIG_BASIS(a)
    return matmul(mT(inv(v)) * expand_dims(g, -2), mT(v))


def _eig_basis_vjp(g: Any, ans: Any, a: Any) -> Any:
    # dV = V (F * (V^-1 da V)), the eigenvectors scaled so that V^-1 dV has a zero
    # diagonal, F[i, j] = 1 / (w[j] - w[i]); transposed: V^-T (F * (V^T g)) V^T.
    w = _EIGENVALUES(a)
    return matmul(mT(inv(ans)) @ (_inverse_gaps(w) * matmul(mT(ans), g)), mT(ans))


def _eigenvectors_vjp(g: Any, ans: Any, a: Any) -> Any:
    raise NotImplementedError(
        "fgrad.numpy.linalg.eig: the derivative of the eigenvectors of a non-symmetric matrix "
        "is not implemented (as in JAX: NumPy's normalisation of them, unit norm with an "
        "arbitrary phase, has no well-defined derivative); only the eigenvalues are "
        "differentiable. Use fgrad.numpy.linalg.eigvals (or eig(a).eigenvalues), or eigh for "
        "symmetric and Hermitian matrices."
    )


# The result's dtype depends on values (NumPy returns real eigenvalues when all are real):
# ``varying_shape`` makes ``jit`` guard it on replay.
_EIGENVALUES = Primitive(
    "linalg.eigvals",
    _eigenvalues_impl,
    (_eigenvalues_vjp,),
    varying_shape=True,
    batch=batching.leading,
)
_EIG_BASIS = Primitive(
    "linalg.eig", _eigenvectors_impl, (_eig_basis_vjp,), varying_shape=True, batch=batching.leading
)
_EIGENVECTORS = Primitive(
    "linalg.eig",
    _eigenvectors_impl,
    (_eigenvectors_vjp,),
    varying_shape=True,
    batch=batching.leading,
)

EigResult = namedtuple("EigResult", ["eigenvalues", "eigenvectors"])


@export("linalg.eig")
def eig(a: Any) -> Any:
    """``numpy.linalg.eig`` of general square matrices: ``EigResult(eigenvalues, eigenvectors)``.

    Only the eigenvalues are differentiable (as in JAX); a gradient reaching the
    eigenvectors raises ``NotImplementedError``. Real matrices may have complex
    eigenvalues, whose gradients follow JAX's convention (``docs/complex.md``); the
    gradient with respect to a real matrix is real. Like NumPy, the eigenvalues are real
    when all of them are (the dtype depends on the values: ``jit`` guards it).

    Gradient: ``inv(V).T @ diag(g) @ V.T`` for the eigenvalues (distinct eigenvalues
    needed for higher orders).

    Examples
    --------
    >>> rotation = np.array([[0.0, -2.0], [1.0, 0.5]])  # eigenvalues 0.25 +- 1.39j
    >>> grad = fgrad.grad(lambda a: fnp.real(fnp.linalg.eig(a).eigenvalues[0]))(rotation)
    >>> np.allclose(grad, 0.5 * np.eye(2)), grad.dtype
    (True, dtype('float64'))
    """
    if a.__class__ is not Tracer:
        return _np_linalg.eig(a)
    _check_matrices(a, "eig")
    return EigResult(_EIGENVALUES(a), _EIGENVECTORS(a))


@export("linalg.eigvals")
def eigvals(a: Any) -> Any:
    """Differentiable ``numpy.linalg.eigvals`` of general square matrices.

    Computed by LAPACK's ``geev`` with the eigenvectors (the gradient needs them), so
    the values are those of ``numpy.linalg.eig``.

    Gradient: ``inv(V).T @ diag(g) @ V.T`` (see :func:`eig`).

    Examples
    --------
    >>> a = np.array([[0.0, -2.0], [1.0, 0.5]])
    >>> fgrad.check_grads(lambda a: fnp.linalg.eigvals(a), (a,))
    """
    if a.__class__ is not Tracer:
        return _np_linalg.eigvals(a)
    _check_matrices(a, "eigvals")
    return _EIGENVALUES(a)


def _check_matrices(a: Any, name: str, square: bool = True) -> tuple[int, ...]:
    """The shape of ``a``, checked to be (square, with ``square``) matrices as NumPy does."""
    shape = shape_of(a)
    if len(shape) < 2:
        raise np.linalg.LinAlgError(
            f"{len(shape)}-dimensional array given. Array must be at least two-dimensional"
        )
    if square and shape[-1] != shape[-2]:
        raise np.linalg.LinAlgError(f"{name}: last 2 dimensions of the array must be square")
    return shape


# --- svd, svdvals ------------------------------------------------------------------------


def _svd_impl(a: Any, hermitian: bool) -> Any:
    u, s, vt = np.linalg.svd(a, full_matrices=False, hermitian=hermitian)
    batch = a.shape[:-2]
    return np.concatenate([u.reshape(batch + (-1,)), s, vt.reshape(batch + (-1,))], axis=-1)


def _svd_parts(packed: Any, m: int, n: int) -> tuple[Any, Any, Any]:
    k = builtins.min(m, n)
    batch = shape_of(packed)[:-1]
    u = reshape(getitem(packed, (Ellipsis, slice(0, m * k))), batch + (m, k))
    s = getitem(packed, (Ellipsis, slice(m * k, m * k + k)))
    vt = reshape(getitem(packed, (Ellipsis, slice(m * k + k, None))), batch + (k, n))
    return u, s, vt


def _svd_vjp(g: Any, ans: Any, a: Any, hermitian: bool) -> Any:
    """Townsend's rule; for complex matrices its Hermitian form (transposes become conjugate
    transposes, plus the phase term ``diag(U^H gU - gU^H U) / 2S``) taken to JAX's convention
    by conjugating the cotangents going in and the result coming out."""
    m, n = shape_of(a)[-2:]
    k = builtins.min(m, n)
    u, s, vt = _svd_parts(ans, m, n)
    gu, gs, gvt = _svd_parts(g, m, n)
    complex_a = _is_complex(a)
    if complex_a:
        s, gs = real(s), real(gs)
        gu, gvt = conjugate(gu), conjugate(gvt)

    def h(x: Any) -> Any:
        return conjugate(mT(x)) if complex_a else mT(x)

    f = _inverse_gaps(s * s)
    uh_gu = matmul(h(u), gu)
    vh_gv = matmul(vt, h(gvt))
    s_row, s_col = expand_dims(s, -2), expand_dims(s, -1)
    skew_u = uh_gu - h(uh_gu)
    core = f * skew_u * s_row + _diag_embed(gs) + s_col * (f * (vh_gv - h(vh_gv)))
    if complex_a:
        core = core + _diag_embed(diagonal(skew_u, 0, -2, -1) * (0.5 * _safe_reciprocal(s)))
    out = matmul(matmul(u, core), vt)
    if m > k or n > k:
        inv_s = expand_dims(_safe_reciprocal(s), -2)
        if m > k:  # (I - U U^H) gU S^-1 V^H
            out = out + matmul((gu - matmul(u, uh_gu)) * inv_s, vt)
        if n > k:  # U S^-1 gV^H (I - V V^H)
            out = out + matmul(u * inv_s, gvt - matmul(h(vh_gv), vt))
    if complex_a:
        out = conjugate(out)
    return _one_triangle(out, "L") if hermitian else out


_SVD = Primitive("linalg.svd", _svd_impl, (_svd_vjp,), batch=batching.leading)


SVDResult = namedtuple("SVDResult", ["U", "S", "Vh"])


@export("linalg.svd")
def svd(
    a: Any, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False
) -> Any:
    """Differentiable ``numpy.linalg.svd``: ``SVDResult(U, S, Vh)``, or ``S`` alone.

    One primitive computes the thin decomposition, its result packing ``U``,
    ``S`` and ``Vh`` into one array that is sliced apart; ``compute_uv=False``
    uses it too (the gradient of the singular values needs the vectors). With
    ``full_matrices=True`` (NumPy's default) a non-square traced matrix raises
    ``TypeError``: the extra columns are an arbitrary basis with no gradient; pass
    ``full_matrices=False``. ``hermitian=True`` reads the lower triangle only, and
    its gradient is that of this function (see :func:`eigh`).

    Gradient: for ``S`` alone, ``U diag(gS) Vh`` (exact also for repeated singular
    values). For the vectors, the rule of Townsend (2016):
    ``U [F*(U.T gU - gU.T U) S + diag(gS) + S F*(V.T gV - gV.T V)] V.T`` plus the
    terms ``(I - U U.T) gU S^-1 V.T`` and ``U S^-1 gV.T (I - V V.T)`` of rectangular
    matrices, with ``F[i, j] = 1 / (s[j]**2 - s[i]**2)``. It needs distinct nonzero
    singular values (the vectors are not unique otherwise; ``F`` is 0 between equal
    values and ``1/s`` is 0 at zeros, as for :func:`eigh`). Singular vectors are
    defined up to a common sign of ``U[:, i]`` and ``Vh[i]``: use functions invariant
    to it, such as ``U[:, i:i+1] @ Vh[i:i+1]``.

    Examples
    --------
    >>> a = np.array([[2.0, 0.5, 0.1], [0.3, 1.5, -0.2]])
    >>> fgrad.check_grads(lambda a: fnp.linalg.svd(a, compute_uv=False), (a,))
    >>> def top(a):  # the best rank-one approximation
    ...     u, s, vh = fnp.linalg.svd(a, full_matrices=False)
    ...     return s[0] * u[:, :1] @ vh[:1]
    >>> fgrad.check_grads(top, (a,))
    """
    if a.__class__ is not Tracer:
        return _np_linalg.svd(a, full_matrices, compute_uv, hermitian)
    if hermitian:
        _real_matrices_only(a, "svd(hermitian=True)")
    m, n = _check_matrices(a, "svd", square=False)[-2:]
    if compute_uv and full_matrices and m != n:
        raise TypeError(
            "fgrad.numpy.linalg.svd has no gradient rule for full_matrices=True with a "
            f"non-square matrix ({m}x{n}): the extra singular vectors are arbitrary. "
            "Pass full_matrices=False."
        )
    u, s, vt = _svd_parts(_SVD(a, hermitian=bool(hermitian)), m, n)
    if _is_complex(a):
        s = real(s)
    return SVDResult(u, s, vt) if compute_uv else s


@export("linalg.svdvals")
def svdvals(x: Any) -> Any:
    """Differentiable ``numpy.linalg.svdvals``: the singular values, descending.

    Gradient: ``U diag(g) Vh`` (see :func:`svd`).

    Examples
    --------
    >>> fgrad.check_grads(fnp.linalg.svdvals, (np.array([[2.0, 0.5], [0.3, 1.5], [1.0, 0.0]]),))
    """
    if x.__class__ is not Tracer:
        return np.linalg.svd(x, compute_uv=False)
    return svd(x, compute_uv=False)


# --- pinv ----------------------------------------------------------------------------------


def _pinv_impl(a: Any, rcond: Any, hermitian: bool, rtol: Any) -> Any:
    kwargs: dict[str, Any] = {"hermitian": hermitian}
    if rcond is not None:
        kwargs["rcond"] = rcond
    if rtol is not None:
        kwargs["rtol"] = rtol
    return np.linalg.pinv(a, **kwargs)


def _pinv_vjp(g: Any, ans: Any, a: Any, rcond: Any, hermitian: bool, rtol: Any) -> Any:
    # d(A+) = -A+ dA A+ + A+ A+.T dA.T (I - A A+) + (I - A+ A) dA.T A+.T A+ (Golub and
    # Pereyra, 1973), valid where the rank is locally constant.
    if hermitian:
        a = _lower_symmetric(a)
    p, pt, gt = ans, mT(ans), mT(g)
    out = -matmul(matmul(pt, g), pt)
    right = matmul(gt, matmul(p, pt))
    out = out + right - matmul(a, matmul(p, right))
    left = matmul(matmul(pt, p), gt)
    out = out + left - matmul(matmul(left, p), a)
    return _one_triangle(out, "L") if hermitian else out


_PINV = Primitive("linalg.pinv", _pinv_impl, (_pinv_vjp,), batch=batching.leading)


@export("linalg.pinv")
def pinv(a: Any, rcond: Any = None, hermitian: bool = False, *, rtol: Any = None) -> Any:
    """Differentiable ``numpy.linalg.pinv`` (``rcond``/``rtol``, ``hermitian``).

    Gradient: ``-P.T g P.T + (I - a P) g.T P P.T + P.T P g.T (I - P a)`` with
    ``P = pinv(a)``: the derivative where the rank of ``a`` is locally constant
    (any full-rank matrix, or a rank-deficient one moved along matrices of the same
    rank). Where a singular value crosses the cutoff ``pinv`` jumps and has no
    derivative. ``hermitian=True`` reads the lower triangle only (see :func:`eigh`).

    Examples
    --------
    >>> fgrad.check_grads(fnp.linalg.pinv, (np.array([[2.0, 0.5], [0.3, 1.5], [1.0, 0.0]]),))
    """
    if a.__class__ is not Tracer:
        return _pinv_impl(a, rcond, hermitian, rtol)
    _real_matrices_only(a, "pinv")
    _check_matrices(a, "pinv", square=False)
    return _PINV(a, rcond=rcond, hermitian=bool(hermitian), rtol=rtol)


# --- matrix_power, multi_dot, cond, matrix_rank -------------------------------------------


@export("linalg.matrix_power")
def matrix_power(a: Any, n: int) -> Any:
    """Differentiable ``numpy.linalg.matrix_power``: repeated ``matmul`` (``inv`` first
    for negative ``n``), in NumPy's order of products.

    Gradient: through the products (and ``inv``); ``n = 0`` gives the identity, a
    constant.

    Examples
    --------
    >>> a = np.array([[1.0, 0.5], [-0.3, 0.8]])
    >>> fgrad.check_grads(lambda a: fnp.linalg.matrix_power(a, 5), (a,))
    >>> fgrad.check_grads(lambda a: fnp.linalg.matrix_power(a, -2), (a,))
    """
    if a.__class__ is not Tracer:
        return np.linalg.matrix_power(a, n)
    n = operator.index(n)
    _check_matrices(a, "matrix_power")
    if n == 0:
        out = np.empty(shape_of(a), dtype=dtype_of(a))
        out[...] = np.eye(shape_of(a)[-1], dtype=dtype_of(a))
        return out
    if n < 0:
        a = inv(a)
        n = -n
    if n == 1:
        return a
    if n == 2:
        return matmul(a, a)
    if n == 3:
        return matmul(matmul(a, a), a)
    z = result = None
    while n > 0:
        z = a if z is None else matmul(z, z)
        n, bit = divmod(n, 2)
        if bit:
            result = z if result is None else matmul(result, z)
    return result


def _chain_order(dims: Sequence[int]) -> np.ndarray:
    """Where to split each sub-chain of a matrix product for the fewest multiplications
    (the dynamic program of ``numpy.linalg.multi_dot``, with the same tie-breaking)."""
    n = len(dims) - 1
    cost = np.zeros((n, n), dtype=float)
    split = np.empty((n, n), dtype=np.intp)
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i, j] = np.inf
            for k in range(i, j):
                q = cost[i, k] + cost[k + 1, j] + dims[i] * dims[k + 1] * dims[j + 1]
                if q < cost[i, j]:
                    cost[i, j] = q
                    split[i, j] = k
    return split


def _chain_product(arrays: list[Any], split: np.ndarray, i: int, j: int) -> Any:
    if i == j:
        return arrays[i]
    k = int(split[i, j])
    return matmul(_chain_product(arrays, split, i, k), _chain_product(arrays, split, k + 1, j))


@export("linalg.multi_dot")
def multi_dot(arrays: Sequence[Any], *, out: Any = None) -> Any:
    """Differentiable ``numpy.linalg.multi_dot``: a chain of ``dot`` products in the
    cheapest order (the first and last arrays may be 1-D).

    Gradient: through the ``matmul`` products.

    Examples
    --------
    >>> a, b, c = np.ones(3), np.arange(6.0).reshape(3, 2), np.array([[1.0, -1.0], [0.5, 2.0]])
    >>> fgrad.check_grads(lambda a, b, c: fnp.linalg.multi_dot([a, b, c]), (a, b, c))
    """
    arrays = list(arrays)
    if not builtins.any(x.__class__ is Tracer for x in arrays):
        return np.linalg.multi_dot(arrays, out=out)
    no_out("linalg.multi_dot", out)
    n = len(arrays)
    if n < 2:
        raise ValueError("Expecting at least two arrays.")
    if n == 2:
        return dot(arrays[0], arrays[1])
    arrays = [x if x.__class__ is Tracer else np.asarray(x) for x in arrays]
    first_1d, last_1d = ndim_of(arrays[0]) == 1, ndim_of(arrays[-1]) == 1
    if first_1d:
        arrays[0] = reshape(arrays[0], (1, -1))
    if last_1d:
        arrays[-1] = reshape(arrays[-1], (-1, 1))
    for x in arrays:
        if ndim_of(x) != 2:
            raise np.linalg.LinAlgError(
                f"{ndim_of(x)}-dimensional array given. Array must be two-dimensional"
            )
    dims = [shape_of(x)[0] for x in arrays] + [shape_of(arrays[-1])[1]]
    result = _chain_product(arrays, _chain_order(dims), 0, n - 1)
    if first_1d and last_1d:
        return getitem(result, (0, 0))
    if first_1d or last_1d:
        return reshape(result, (-1,))
    return result


@export("linalg.cond")
def cond(x: Any, p: Any = None) -> Any:
    """Differentiable ``numpy.linalg.cond``: ``s_max / s_min`` for ``p`` None or 2
    (``s_min / s_max`` for -2), else ``norm(x, p) * norm(inv(x), p)``.

    Gradient: through the singular values (see :func:`svd`) or ``norm`` and ``inv``.

    Examples
    --------
    >>> a = np.array([[2.0, 0.5], [0.3, 1.5]])
    >>> fgrad.check_grads(fnp.linalg.cond, (a,))
    >>> fgrad.check_grads(lambda a: fnp.linalg.cond(a, "fro"), (a,))
    """
    if x.__class__ is not Tracer:
        return np.linalg.cond(x, p)
    if p is None or p in (2, -2):
        s = svdvals(x)
        hi, lo = getitem(s, (Ellipsis, 0)), getitem(s, (Ellipsis, -1))
        return lo / hi if p == -2 else hi / lo
    _check_matrices(x, "cond")
    return norm(x, p, axis=(-2, -1)) * norm(inv(x), p, axis=(-2, -1))


matrix_rank = non_differentiable(
    np.linalg.matrix_rank,
    "linalg.matrix_rank",
    sample="np.array([[1.0, 2.0], [2.0, 4.0]])",
    batch=batching.leading,
)


# --- NumPy 2's array-API functions of numpy.linalg ---------------------------------------


@export("matrix_transpose")
@export("linalg.matrix_transpose")
def matrix_transpose(x: Any) -> Any:
    """Differentiable ``numpy.matrix_transpose`` and ``numpy.linalg.matrix_transpose``.

    The last two axes swapped.

    Gradient: the cotangent transposed back.

    Examples
    --------
    >>> fgrad.check_grads(fnp.linalg.matrix_transpose, (np.ones((2, 2, 3)),))
    """
    if ndim_of(x) < 2:
        raise ValueError("Input array must be at least 2-dimensional")
    return mT(x)


@export("linalg.vector_norm")
def vector_norm(x: Any, /, *, axis: Any = None, keepdims: bool = False, ord: Any = 2) -> Any:
    """Differentiable ``numpy.linalg.vector_norm`` (any ``axis``, also a tuple).

    Gradient: as :func:`norm` for vectors.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda x: fnp.linalg.vector_norm(x, axis=(0, 1), ord=3), (x,))
    """
    if x.__class__ is not Tracer:
        return _compat.vector_norm(x, axis=axis, keepdims=keepdims, ord=ord)
    shape = shape_of(x)
    axes = tuple(range(len(shape))) if axis is None else normalize_axes(axis, len(shape), "norm")
    kept = tuple(i for i in range(len(shape)) if i not in axes)
    rows = reshape(TRANSPOSE(x, axes=kept + axes), tuple(shape[i] for i in kept) + (-1,))
    out = _vector_norm(rows, ord, (len(kept),), False)
    if keepdims:
        out = reshape(out, tuple(1 if i in axes else d for i, d in enumerate(shape)))
    return out


@export("linalg.matrix_norm")
def matrix_norm(x: Any, /, *, keepdims: bool = False, ord: Any = "fro") -> Any:
    """Differentiable ``numpy.linalg.matrix_norm`` over the last two axes.

    Gradient: as :func:`norm` for matrices.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda x: fnp.linalg.matrix_norm(x, ord="nuc"), (x,))
    """
    return norm(x, ord, axis=(-2, -1), keepdims=keepdims)


@export("linalg.vecdot")
def vecdot(x1: Any, x2: Any, /, *, axis: int = -1) -> Any:
    """Differentiable ``numpy.linalg.vecdot``: the dot product along ``axis``, broadcast.

    Gradient: ``g * x2`` and ``g * x1``, summed over broadcast axes.

    Examples
    --------
    >>> fgrad.check_grads(fnp.linalg.vecdot, (np.ones((2, 3)), np.array([0.5, -1.0, 2.0])))
    """
    if x1.__class__ is not Tracer and x2.__class__ is not Tracer:
        return _compat.vecdot(x1, x2, axis=axis)
    product = x1 * x2
    return SUM(product, axis=normalize_axes(axis, ndim_of(product), "vecdot"), keepdims=False)


@export("linalg.outer")
def linalg_outer(x1: Any, x2: Any, /) -> Any:
    """Differentiable ``numpy.linalg.outer`` (NumPy 2): :func:`outer` of 1-D arrays only.

    Gradient: ``g @ x2`` and ``g.T @ x1``.

    Examples
    --------
    >>> fgrad.check_grads(fnp.linalg.outer, (np.array([0.3, -1.2]), np.array([1.0, 0.5, 2.0])))
    """
    if ndim_of(x1) != 1 or ndim_of(x2) != 1:
        raise ValueError("Input arrays must be one-dimensional")
    return outer(x1, x2)


@export("linalg.cross")
def linalg_cross(x1: Any, x2: Any, /, *, axis: int = -1) -> Any:
    """Differentiable ``numpy.linalg.cross`` (NumPy 2): 3-element vectors along ``axis``.

    Gradient: as :func:`fgrad.numpy.cross`.

    Examples
    --------
    >>> fgrad.check_grads(fnp.linalg.cross, (np.array([0.3, -1.2, 0.5]), np.array([1.0, 0.5, 2.0])))
    """
    return cross(x1, x2, axis=axis)


@export("linalg.diagonal")
def linalg_diagonal(x: Any, /, *, offset: int = 0) -> Any:
    """Differentiable ``numpy.linalg.diagonal`` (NumPy 2): diagonals of the last two axes.

    Gradient: the cotangent placed on the diagonals of the last two axes.

    Examples
    --------
    >>> fgrad.check_grads(lambda x: fnp.linalg.diagonal(x, offset=1), (np.ones((2, 2, 3)),))
    """
    return diagonal(x, offset, -2, -1)


@export("linalg.trace")
def linalg_trace(x: Any, /, *, offset: int = 0, dtype: Any = None) -> Any:
    """Differentiable ``numpy.linalg.trace`` (NumPy 2): traces over the last two axes.

    Gradient: the cotangent on the diagonals of the last two axes.

    Examples
    --------
    >>> fgrad.check_grads(fnp.linalg.trace, (np.ones((2, 3, 3)),))
    """
    if dtype is not None:
        x = astype(x, dtype)
    return trace(x, offset, -2, -1)
