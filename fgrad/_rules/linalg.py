"""Products and linear algebra: matmul, dot, tensordot, einsum and ``numpy.linalg``."""

from __future__ import annotations

import builtins
import operator
import string
from collections import namedtuple
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from fgrad import _compat
from fgrad._core import NO_PARAMS, Primitive, Tracer, bind1, bind2, bindn, concrete, detach
from fgrad._rules._define import (
    document,
    dtype_of,
    ndim_of,
    non_differentiable,
    normalize_axes,
    plain_values,
    register_function,
    shape_of,
)
from fgrad._rules.elementwise import absolute, equal, multiply, power, sqrt, where
from fgrad._rules.reductions import max, min
from fgrad._rules.structural import (
    _sum_fn,
    _transpose_fn,
    astype,
    broadcast_to,
    expand_dims,
    getitem,
    reshape,
    swapaxes,
    unbroadcast,
)

# NumPy's stubs want Literal flags and arrays; here arguments are checked by NumPy.
_np_linalg: Any = np.linalg


def _mT(x: Any) -> Any:
    return swapaxes(x, -1, -2)


# --- matmul -------------------------------------------------------------------------


def _matmul_vjp_a(g: Any, ans: Any, a: Any, b: Any) -> Any:
    an, bn = ndim_of(a), ndim_of(b)
    if an == 2 and bn == 2:
        return matmul(g, _transpose_fn(b, (1, 0)))
    if bn == 1:
        if an == 1:
            return g * b
        return unbroadcast(expand_dims(g, -1) * b, shape_of(a))
    if an == 1:
        return unbroadcast(getitem(matmul(b, expand_dims(g, -1)), (Ellipsis, 0)), shape_of(a))
    return unbroadcast(matmul(g, _mT(b)), shape_of(a))


def _matmul_vjp_b(g: Any, ans: Any, a: Any, b: Any) -> Any:
    an, bn = ndim_of(a), ndim_of(b)
    if an == 2 and bn == 2:
        return matmul(_transpose_fn(a, (1, 0)), g)
    if an == 1:
        if bn == 1:
            return g * a
        return unbroadcast(expand_dims(a, -1) * expand_dims(g, -2), shape_of(b))
    if bn == 1:
        return unbroadcast(getitem(matmul(_mT(a), expand_dims(g, -1)), (Ellipsis, 0)), shape_of(b))
    return unbroadcast(matmul(_mT(a), g), shape_of(b))


_MATMUL = Primitive("matmul", np.matmul, (_matmul_vjp_a, _matmul_vjp_b))


def matmul(x1: Any, x2: Any) -> Any:
    if x1.__class__ is Tracer or x2.__class__ is Tracer:
        return bind2(_MATMUL, x1, x2, NO_PARAMS)
    return np.matmul(x1, x2)



# --- tensordot ------------------------------------------------------------------------


def _tensordot_axes(axes: Any, a_nd: int, b_nd: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    if np.ndim(axes) == 0:
        n = int(axes)
        return tuple(range(a_nd - n, a_nd)), tuple(range(n))
    a_axes, b_axes = axes
    a_axes = tuple(int(i) % a_nd for i in np.atleast_1d(a_axes))
    b_axes = tuple(int(i) % b_nd for i in np.atleast_1d(b_axes))
    if len(a_axes) != len(b_axes):
        raise ValueError(f"tensordot: axes {axes!r} pair up different numbers of axes")
    return a_axes, b_axes


def _tensordot_vjp_a(g: Any, ans: Any, a: Any, b: Any, axes: Any) -> Any:
    a_axes, b_axes = axes
    a_nd, b_nd = ndim_of(a), ndim_of(b)
    a_free = [i for i in range(a_nd) if i not in a_axes]
    b_free = [i for i in range(b_nd) if i not in b_axes]
    g_b_dims = tuple(range(len(a_free), len(a_free) + len(b_free)))
    out = _tensordot_fn(g, b, (g_b_dims, tuple(b_free)))
    # ``out`` has a's free axes, then b's contracted axes in ascending order of b's axes;
    # label each with the axis of ``a`` it was paired with.
    paired = [a_axes[b_axes.index(j)] for j in sorted(b_axes)]
    return _transpose_fn(out, tuple(np.argsort(a_free + paired)))


def _tensordot_vjp_b(g: Any, ans: Any, a: Any, b: Any, axes: Any) -> Any:
    a_axes, b_axes = axes
    a_nd, b_nd = ndim_of(a), ndim_of(b)
    a_free = [i for i in range(a_nd) if i not in a_axes]
    b_free = [i for i in range(b_nd) if i not in b_axes]
    out = _tensordot_fn(a, g, (tuple(a_free), tuple(range(len(a_free)))))
    # ``out`` has a's contracted axes in ascending order of a's axes, then b's free axes.
    paired = [b_axes[a_axes.index(i)] for i in sorted(a_axes)]
    return _transpose_fn(out, tuple(np.argsort(paired + b_free)))


def _tensordot_impl(a: Any, b: Any, axes: Any) -> Any:
    return np.tensordot(a, b, axes)


_TENSORDOT = Primitive("tensordot", _tensordot_impl, (_tensordot_vjp_a, _tensordot_vjp_b))


def _tensordot_fn(a: Any, b: Any, axes: Any) -> Any:
    if a.__class__ is Tracer or b.__class__ is Tracer:
        return bind2(_TENSORDOT, a, b, {"axes": axes})
    return np.tensordot(a, b, axes)




def tensordot(a: Any, b: Any, axes: Any = 2) -> Any:
    if a.__class__ is not Tracer and b.__class__ is not Tracer:
        return np.tensordot(a, b, axes)
    return _tensordot_fn(a, b, _tensordot_axes(axes, ndim_of(a), ndim_of(b)))


def dot(a: Any, b: Any, out: Any = None) -> Any:
    if out is not None:
        raise TypeError("fgrad.numpy.dot does not take out= (in-place assignment has no gradient)")
    if a.__class__ is not Tracer and b.__class__ is not Tracer:
        return np.dot(a, b)
    an, bn = ndim_of(a), ndim_of(b)
    if an == 0 or bn == 0:
        return multiply(a, b)
    if bn <= 2:
        return matmul(a, b)
    return _tensordot_fn(a, b, ((an - 1,), (bn - 2,)))


def inner(a: Any, b: Any) -> Any:
    if a.__class__ is not Tracer and b.__class__ is not Tracer:
        return np.inner(a, b)
    an, bn = ndim_of(a), ndim_of(b)
    if an == 0 or bn == 0:
        return multiply(a, b)
    return _tensordot_fn(a, b, ((an - 1,), (bn - 1,)))


def outer(a: Any, b: Any) -> Any:
    if a.__class__ is not Tracer and b.__class__ is not Tracer:
        return np.outer(a, b)
    return reshape(a, (-1, 1)) * reshape(b, (1, -1))


def vdot(a: Any, b: Any) -> Any:
    if a.__class__ is not Tracer and b.__class__ is not Tracer:
        return np.vdot(a, b)
    return _sum_fn(reshape(a, (-1,)) * reshape(b, (-1,)), (0,), False)


def kron(a: Any, b: Any) -> Any:
    if a.__class__ is not Tracer and b.__class__ is not Tracer:
        return np.kron(a, b)
    a_shape, b_shape = shape_of(a), shape_of(b)
    nd = builtins.max(len(a_shape), len(b_shape))
    a_shape = (1,) * (nd - len(a_shape)) + a_shape
    b_shape = (1,) * (nd - len(b_shape)) + b_shape
    a_spread = reshape(a, tuple(v for d in a_shape for v in (d, 1)))
    b_spread = reshape(b, tuple(v for d in b_shape for v in (1, d)))
    return reshape(a_spread * b_spread, tuple(p * q for p, q in zip(a_shape, b_shape)))


# --- einsum ---------------------------------------------------------------------------


def _explicit_einsum(subscripts: str, shapes: Sequence[tuple[int, ...]]) -> str:
    spec = subscripts.replace(" ", "")
    inputs, arrow, output = spec.partition("->")
    in_subs = inputs.split(",")
    if len(in_subs) != len(shapes):
        raise ValueError(f"einsum: {subscripts!r} names {len(in_subs)} operands, got {len(shapes)}")
    unused = [c for c in string.ascii_letters if c not in spec]
    widths = [len(shape) - (len(s) - 3) if "..." in s else 0 for s, shape in zip(in_subs, shapes)]
    ell = "".join(unused[: builtins.max(widths, default=0)])
    in_subs = [s.replace("...", ell[len(ell) - w :] if w else "") for s, w in zip(in_subs, widths)]
    if arrow:
        output = output.replace("...", ell)
    else:
        letters = "".join(in_subs)
        output = ell + "".join(
            sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ell)
        )
    return ",".join(in_subs) + "->" + output


def _einsum_impl(*operands: Any, spec: str) -> Any:
    return np.einsum(spec, *operands)


def _einsum_vjp(
    g: Any, ans: Any, operands: tuple[Any, ...], params: dict[str, Any], argnums: Sequence[int]
) -> list[Any]:
    inputs, output = params["spec"].split("->")
    in_subs = inputs.split(",")
    cts = []
    for k in argnums:
        target = in_subs[k]
        if len(set(target)) != len(target):
            raise TypeError(
                f"fgrad.numpy.einsum has no gradient rule for an operand with a repeated "
                f"index ({target!r} in {params['spec']!r}); take fnp.diagonal first"
            )
        others = [s for i, s in enumerate(in_subs) if i != k]
        available = set(output).union(*others)
        reduced = "".join(c for c in target if c in available)
        other_ops = [op for i, op in enumerate(operands) if i != k]
        ct = _einsum_fn(g, *other_ops, spec=",".join([output] + others) + "->" + reduced)
        op_shape = shape_of(operands[k])
        ct_shape = shape_of(ct)
        sizes = dict(zip(reduced, ct_shape))
        widened = tuple(sizes.get(c, 1) for c in target)
        if widened != ct_shape:
            ct = reshape(ct, widened)
        squash = tuple(i for i, (n, m) in enumerate(zip(op_shape, widened)) if n == 1 and m != 1)
        if squash:
            ct = _sum_fn(ct, squash, True)
        if shape_of(ct) != op_shape:
            ct = broadcast_to(ct, op_shape)
        cts.append(ct)
    return cts


_EINSUM = Primitive("einsum", _einsum_impl, vjp_joint=_einsum_vjp)


def _einsum_fn(*operands: Any, spec: str) -> Any:
    return bindn(_EINSUM, operands, {"spec": spec})




def einsum(subscripts: str, *operands: Any, **kwargs: Any) -> Any:
    if not builtins.any(op.__class__ is Tracer for op in operands):
        return np.einsum(subscripts, *operands, **kwargs)
    if not isinstance(subscripts, str):
        raise TypeError("fgrad.numpy.einsum takes the subscripts-string form only")
    if kwargs.get("out") is not None:
        raise TypeError("fgrad.numpy.einsum does not take out= (in-place has no gradient)")
    spec = _explicit_einsum(subscripts, [shape_of(op) for op in operands])
    return bindn(_EINSUM, operands, {"spec": spec})


# --- numpy.linalg --------------------------------------------------------------------------


def _inv_vjp(g: Any, ans: Any, a: Any) -> Any:
    return -matmul(matmul(_mT(ans), g), _mT(ans))


_INV = Primitive("linalg.inv", np.linalg.inv, (_inv_vjp,))


def inv(a: Any) -> Any:
    if a.__class__ is Tracer:
        return bind1(_INV, a, {})
    return np.linalg.inv(a)




def _det_vjp(g: Any, ans: Any, a: Any) -> Any:
    scale = expand_dims(expand_dims(g * ans, -1), -1)
    return scale * _mT(inv(a))


_DET = Primitive("linalg.det", np.linalg.det, (_det_vjp,))


def det(a: Any) -> Any:
    if a.__class__ is Tracer:
        return bind1(_DET, a, {})
    return np.linalg.det(a)




def _logabsdet_impl(a: Any) -> Any:
    return np.linalg.slogdet(a)[1]


def _logabsdet_vjp(g: Any, ans: Any, a: Any) -> Any:
    return expand_dims(expand_dims(g, -1), -1) * _mT(inv(a))


_LOGABSDET = Primitive("linalg.slogdet", _logabsdet_impl, (_logabsdet_vjp,))


def _logabsdet(a: Any) -> Any:
    if a.__class__ is Tracer:
        return bind1(_LOGABSDET, a, {})
    return _logabsdet_impl(a)




def _slogdet_sign_impl(a: Any) -> Any:
    return np.linalg.slogdet(a)[0]


_slogdet_sign = plain_values(_slogdet_sign_impl, "slogdet_sign")

SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])


def slogdet(a: Any) -> Any:
    if a.__class__ is not Tracer:
        return np.linalg.slogdet(a)
    sign = _slogdet_sign(detach(a))
    return SlogdetResult(sign, _logabsdet(a))


def _solve_transposed(a: Any, b: Any, g: Any) -> Any:
    """``solve(a.T, g)`` for the cotangent ``g`` of ``solve(a, b)``.

    A 1-D ``b`` is a vector even when ``a`` is batched, but then ``g`` has the
    batch axes too, and ``solve`` would read a 2-D-or-more ``g`` as matrices.
    """
    if ndim_of(b) == 1 and ndim_of(g) > 1:
        return getitem(solve(_mT(a), expand_dims(g, -1)), (Ellipsis, 0))
    return solve(_mT(a), g)


def _solve_vjp_a(g: Any, ans: Any, a: Any, b: Any) -> Any:
    gb = _solve_transposed(a, b, g)
    if ndim_of(b) == 1:
        return -unbroadcast(expand_dims(gb, -1) * expand_dims(ans, -2), shape_of(a))
    return -unbroadcast(matmul(gb, _mT(ans)), shape_of(a))


def _solve_vjp_b(g: Any, ans: Any, a: Any, b: Any) -> Any:
    return unbroadcast(_solve_transposed(a, b, g), shape_of(b))


_SOLVE = Primitive("linalg.solve", _compat.solve, (_solve_vjp_a, _solve_vjp_b))


def solve(a: Any, b: Any) -> Any:
    if a.__class__ is Tracer or b.__class__ is Tracer:
        return bind2(_SOLVE, a, b, {})
    return _compat.solve(a, b)




def _cholesky_vjp(g: Any, ans: Any, a: Any) -> Any:
    n = shape_of(ans)[-1]
    halve_diagonal = np.tril(np.ones((n, n))) / (1.0 + np.eye(n))
    phi = matmul(_mT(ans), g) * halve_diagonal.astype(dtype_of(g))
    inner_solve = _mT(solve(_mT(ans), _mT(phi)))
    s = solve(_mT(ans), inner_solve)
    return (s + _mT(s)) * 0.5


_CHOLESKY = Primitive("linalg.cholesky", np.linalg.cholesky, (_cholesky_vjp,))


def cholesky(a: Any) -> Any:
    if a.__class__ is Tracer:
        return bind1(_CHOLESKY, a, {})
    return np.linalg.cholesky(a)




def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
    if x.__class__ is not Tracer:
        return np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)
    nd = x.ndim
    if axis is None and ord is None:
        axes = tuple(range(nd))
        return sqrt(_sum_fn(x * x, axes, keepdims))
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
        return sqrt(_sum_fn(x * x, axes, keepdims))
    if ord == np.inf:
        return max(absolute(x), axes, keepdims=keepdims)
    if ord == -np.inf:
        return min(absolute(x), axes, keepdims=keepdims)
    if ord == 0:
        return np.sum(concrete(x) != 0, axis=axes, keepdims=keepdims).astype(dtype_of(x))
    if ord == 1:
        return _sum_fn(absolute(x), axes, keepdims)
    return power(_sum_fn(power(absolute(x), ord), axes, keepdims), 1.0 / ord)


def _axes_last(ndim: int, axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(i for i in range(ndim) if i not in axes) + axes


def _matrix_norm(x: Any, ord: Any, axes: tuple[int, ...], keepdims: bool) -> Any:
    row, col = axes
    if ord is None or ord == "fro":
        return sqrt(_sum_fn(x * x, tuple(sorted(axes)), keepdims))
    if ord in (1, -1):
        sums = _sum_fn(absolute(x), (row,), True)
        pick = max if ord == 1 else min
        out = pick(sums, col, keepdims=True)
    elif ord in (np.inf, -np.inf):
        sums = _sum_fn(absolute(x), (col,), True)
        pick = max if ord == np.inf else min
        out = pick(sums, row, keepdims=True)
    elif ord in (2, -2, "nuc"):
        s = svdvals(_transpose_fn(x, _axes_last(ndim_of(x), axes)))
        last = (ndim_of(s) - 1,)
        if ord == "nuc":
            out = _sum_fn(s, last, False)
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
    other one nothing."""
    n = shape_of(m)[-1]
    dtype = dtype_of(m)
    ones = np.ones((n, n), dtype=dtype)
    strict = np.tril(ones, -1) if uplo == "L" else np.triu(ones, 1)
    return m * np.eye(n, dtype=dtype) + (m + _mT(m)) * strict


def _lower_symmetric(a: Any) -> Any:
    """The symmetric matrix that a function reading the lower triangle of ``a`` sees."""
    n = shape_of(a)[-1]
    dtype = dtype_of(a)
    strict = np.tril(np.ones((n, n), dtype=dtype), -1)
    lower = a * strict
    return lower + _mT(lower) + a * np.eye(n, dtype=dtype)


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
    vt = _mT(v)
    inner = _inverse_gaps(w) * matmul(vt, gv) + _diag_embed(gw)
    return _one_triangle(matmul(matmul(v, inner), vt), UPLO)


_EIGH = Primitive("linalg.eigh", _eigh_impl, (_eigh_vjp,))


def _eigh_fn(a: Any, UPLO: str) -> Any:
    if a.__class__ is Tracer:
        return bind1(_EIGH, a, {"UPLO": UPLO})
    return _eigh_impl(a, UPLO)



EighResult = namedtuple("EighResult", ["eigenvalues", "eigenvectors"])


def _check_uplo(UPLO: str) -> str:
    UPLO = UPLO.upper()
    if UPLO not in ("L", "U"):
        raise ValueError("UPLO argument must be 'L' or 'U'")
    return UPLO


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
    off the diagonal, folded onto the read triangle. For repeated eigenvalues the
    eigenvectors are not unique and their gradient is undefined: ``F`` is set to 0
    between equal eigenvalues, which gives exact first derivatives of the eigenvalues
    and of functions that do not depend on the choice of basis within an eigenspace
    (projectors), and meaningless ones otherwise; second derivatives at exactly
    repeated eigenvalues are not exact (they differentiate the arbitrary basis).
    Eigenvectors are defined up to sign; use functions invariant to it
    (``v[:, i] * v[0, i]``, projectors) or fix the sign.

    Examples
    --------
    >>> import numpy as np
    >>> import fgrad
    >>> import fgrad.numpy as fnp
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
    UPLO = _check_uplo(UPLO)
    _check_square(a, "eigh")
    return EighResult(*_eigh_parts(bind1(_EIGH, a, {"UPLO": UPLO})))


def eigvalsh(a: Any, UPLO: str = "L") -> Any:
    """Differentiable ``numpy.linalg.eigvalsh``: eigenvalues (ascending) of symmetric matrices.

    Computed as ``eigh(a, UPLO).eigenvalues`` (the gradient needs the eigenvectors).

    Gradient: ``V diag(g) V.T`` folded onto the read triangle (see :func:`eigh`); exact
    also for repeated eigenvalues.

    Examples
    --------
    >>> import numpy as np
    >>> import fgrad
    >>> import fgrad.numpy as fnp
    >>> a = np.array([[2.0, 1.0], [0.5, 3.0]])
    >>> fgrad.check_grads(lambda a: fnp.linalg.eigvalsh(a + a.T), (a,))
    >>> fgrad.grad(lambda a: fnp.sum(fnp.linalg.eigvalsh(a)))(np.eye(2))  # the trace
    array([[1., 0.],
           [0., 1.]])
    """
    if a.__class__ is not Tracer:
        return _np_linalg.eigvalsh(a, UPLO)
    return eigh(a, UPLO).eigenvalues


def _check_square(a: Any, name: str) -> None:
    shape = shape_of(a)
    if len(shape) < 2:
        raise np.linalg.LinAlgError(
            f"{len(shape)}-dimensional array given. Array must be at least two-dimensional"
        )
    if shape[-1] != shape[-2]:
        raise np.linalg.LinAlgError(f"{name}: last 2 dimensions of the array must be square")


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
    m, n = shape_of(a)[-2:]
    k = builtins.min(m, n)
    u, s, vt = _svd_parts(ans, m, n)
    gu, gs, gvt = _svd_parts(g, m, n)
    f = _inverse_gaps(s * s)
    ut_gu = matmul(_mT(u), gu)
    vt_gv = matmul(vt, _mT(gvt))
    s_row, s_col = expand_dims(s, -2), expand_dims(s, -1)
    core = f * (ut_gu - _mT(ut_gu)) * s_row + _diag_embed(gs) + s_col * (f * (vt_gv - _mT(vt_gv)))
    out = matmul(matmul(u, core), vt)
    if m > k or n > k:
        inv_s = expand_dims(_safe_reciprocal(s), -2)
        if m > k:  # (I - U U.T) gU S^-1 V.T
            out = out + matmul((gu - matmul(u, ut_gu)) * inv_s, vt)
        if n > k:  # U S^-1 gV.T (I - V V.T)
            out = out + matmul(u * inv_s, gvt - matmul(_mT(vt_gv), vt))
    return _one_triangle(out, "L") if hermitian else out


_SVD = Primitive("linalg.svd", _svd_impl, (_svd_vjp,))


def _svd_fn(a: Any, hermitian: bool) -> Any:
    if a.__class__ is Tracer:
        return bind1(_SVD, a, {"hermitian": hermitian})
    return _svd_impl(a, hermitian)



SVDResult = namedtuple("SVDResult", ["U", "S", "Vh"])


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
    >>> import numpy as np
    >>> import fgrad
    >>> import fgrad.numpy as fnp
    >>> a = np.array([[2.0, 0.5, 0.1], [0.3, 1.5, -0.2]])
    >>> fgrad.check_grads(lambda a: fnp.linalg.svd(a, compute_uv=False), (a,))
    >>> def top(a):  # the best rank-one approximation
    ...     u, s, vh = fnp.linalg.svd(a, full_matrices=False)
    ...     return s[0] * u[:, :1] @ vh[:1]
    >>> fgrad.check_grads(top, (a,))
    """
    if a.__class__ is not Tracer:
        return _np_linalg.svd(a, full_matrices, compute_uv, hermitian)
    shape = shape_of(a)
    if len(shape) < 2:
        raise np.linalg.LinAlgError(
            f"{len(shape)}-dimensional array given. Array must be at least two-dimensional"
        )
    m, n = shape[-2:]
    if compute_uv and full_matrices and m != n:
        raise TypeError(
            "fgrad.numpy.linalg.svd has no gradient rule for full_matrices=True with a "
            f"non-square matrix ({m}x{n}): the extra singular vectors are arbitrary. "
            "Pass full_matrices=False."
        )
    u, s, vt = _svd_parts(bind1(_SVD, a, {"hermitian": bool(hermitian)}), m, n)
    return SVDResult(u, s, vt) if compute_uv else s


def svdvals(x: Any) -> Any:
    """Differentiable ``numpy.linalg.svdvals``: the singular values, descending.

    Gradient: ``U diag(g) Vh`` (see :func:`svd`).

    Examples
    --------
    >>> import numpy as np
    >>> import fgrad
    >>> import fgrad.numpy as fnp
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
    p, pt, gt = ans, _mT(ans), _mT(g)
    out = -matmul(matmul(pt, g), pt)
    right = matmul(gt, matmul(p, pt))
    out = out + right - matmul(a, matmul(p, right))
    left = matmul(matmul(pt, p), gt)
    out = out + left - matmul(matmul(left, p), a)
    return _one_triangle(out, "L") if hermitian else out


_PINV = Primitive("linalg.pinv", _pinv_impl, (_pinv_vjp,))


def _pinv_fn(a: Any, rcond: Any, hermitian: bool, rtol: Any) -> Any:
    if a.__class__ is Tracer:
        return bind1(_PINV, a, {"rcond": rcond, "hermitian": hermitian, "rtol": rtol})
    return _pinv_impl(a, rcond, hermitian, rtol)




def pinv(a: Any, rcond: Any = None, hermitian: bool = False, *, rtol: Any = None) -> Any:
    """Differentiable ``numpy.linalg.pinv`` (``rcond``/``rtol``, ``hermitian``).

    Gradient: ``-P.T g P.T + (I - a P) g.T P P.T + P.T P g.T (I - P a)`` with
    ``P = pinv(a)``: the derivative where the rank of ``a`` is locally constant
    (any full-rank matrix, or a rank-deficient one moved along matrices of the same
    rank). Where a singular value crosses the cutoff ``pinv`` jumps and has no
    derivative. ``hermitian=True`` reads the lower triangle only (see :func:`eigh`).

    Examples
    --------
    >>> import numpy as np
    >>> import fgrad
    >>> import fgrad.numpy as fnp
    >>> fgrad.check_grads(fnp.linalg.pinv, (np.array([[2.0, 0.5], [0.3, 1.5], [1.0, 0.0]]),))
    """
    if a.__class__ is not Tracer:
        return _pinv_impl(a, rcond, hermitian, rtol)
    if ndim_of(a) < 2:
        raise np.linalg.LinAlgError(
            f"{ndim_of(a)}-dimensional array given. Array must be at least two-dimensional"
        )
    return bind1(_PINV, a, {"rcond": rcond, "hermitian": bool(hermitian), "rtol": rtol})


# --- matrix_power, multi_dot, cond, matrix_rank -------------------------------------------


def matrix_power(a: Any, n: int) -> Any:
    """Differentiable ``numpy.linalg.matrix_power``: repeated ``matmul`` (``inv`` first
    for negative ``n``), in NumPy's order of products.

    Gradient: through the products (and ``inv``); ``n = 0`` gives the identity, a
    constant.

    Examples
    --------
    >>> import numpy as np
    >>> import fgrad
    >>> import fgrad.numpy as fnp
    >>> a = np.array([[1.0, 0.5], [-0.3, 0.8]])
    >>> fgrad.check_grads(lambda a: fnp.linalg.matrix_power(a, 5), (a,))
    >>> fgrad.check_grads(lambda a: fnp.linalg.matrix_power(a, -2), (a,))
    """
    if a.__class__ is not Tracer:
        return np.linalg.matrix_power(a, n)
    n = operator.index(n)
    _check_square(a, "matrix_power")
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


def multi_dot(arrays: Sequence[Any], *, out: Any = None) -> Any:
    """Differentiable ``numpy.linalg.multi_dot``: a chain of ``dot`` products in the
    cheapest order (the first and last arrays may be 1-D).

    Gradient: through the ``matmul`` products.

    Examples
    --------
    >>> import numpy as np
    >>> import fgrad
    >>> import fgrad.numpy as fnp
    >>> a, b, c = np.ones(3), np.arange(6.0).reshape(3, 2), np.array([[1.0, -1.0], [0.5, 2.0]])
    >>> fgrad.check_grads(lambda a, b, c: fnp.linalg.multi_dot([a, b, c]), (a, b, c))
    """
    arrays = list(arrays)
    if not builtins.any(x.__class__ is Tracer for x in arrays):
        return np.linalg.multi_dot(arrays, out=out)
    if out is not None:
        raise TypeError(
            "fgrad.numpy.linalg.multi_dot does not take out= (in-place has no gradient)"
        )
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


def cond(x: Any, p: Any = None) -> Any:
    """Differentiable ``numpy.linalg.cond``: ``s_max / s_min`` for ``p`` None or 2
    (``s_min / s_max`` for -2), else ``norm(x, p) * norm(inv(x), p)``.

    Gradient: through the singular values (see :func:`svd`) or ``norm`` and ``inv``.

    Examples
    --------
    >>> import numpy as np
    >>> import fgrad
    >>> import fgrad.numpy as fnp
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
    _check_square(x, "cond")
    return norm(x, p, axis=(-2, -1)) * norm(inv(x), p, axis=(-2, -1))


# --- NumPy 2's array-API functions of numpy.linalg ---------------------------------------


def matrix_transpose(x: Any) -> Any:
    """Differentiable ``numpy.linalg.matrix_transpose``: the last two axes swapped.

    Gradient: the cotangent transposed back.

    Examples
    --------
    >>> import numpy as np
    >>> import fgrad
    >>> import fgrad.numpy as fnp
    >>> fgrad.check_grads(fnp.linalg.matrix_transpose, (np.ones((2, 2, 3)),))
    """
    if ndim_of(x) < 2:
        raise ValueError("Input array must be at least 2-dimensional")
    return swapaxes(x, -1, -2)


def vector_norm(x: Any, /, *, axis: Any = None, keepdims: bool = False, ord: Any = 2) -> Any:
    """Differentiable ``numpy.linalg.vector_norm`` (any ``axis``, also a tuple).

    Gradient: as :func:`norm` for vectors.

    Examples
    --------
    >>> import numpy as np
    >>> import fgrad
    >>> import fgrad.numpy as fnp
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda x: fnp.linalg.vector_norm(x, axis=(0, 1), ord=3), (x,))
    """
    if x.__class__ is not Tracer:
        return _compat.vector_norm(x, axis=axis, keepdims=keepdims, ord=ord)
    shape = shape_of(x)
    axes = tuple(range(len(shape))) if axis is None else normalize_axes(axis, len(shape), "norm")
    kept = tuple(i for i in range(len(shape)) if i not in axes)
    rows = reshape(_transpose_fn(x, kept + axes), tuple(shape[i] for i in kept) + (-1,))
    out = _vector_norm(rows, ord, (len(kept),), False)
    if keepdims:
        out = reshape(out, tuple(1 if i in axes else d for i, d in enumerate(shape)))
    return out


def matrix_norm(x: Any, /, *, keepdims: bool = False, ord: Any = "fro") -> Any:
    """Differentiable ``numpy.linalg.matrix_norm`` over the last two axes.

    Gradient: as :func:`norm` for matrices.

    Examples
    --------
    >>> import numpy as np
    >>> import fgrad
    >>> import fgrad.numpy as fnp
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda x: fnp.linalg.matrix_norm(x, ord="nuc"), (x,))
    """
    return norm(x, ord, axis=(-2, -1), keepdims=keepdims)


def vecdot(x1: Any, x2: Any, /, *, axis: int = -1) -> Any:
    """Differentiable ``numpy.linalg.vecdot``: the dot product along ``axis``, broadcast.

    Gradient: ``g * x2`` and ``g * x1``, summed over broadcast axes.

    Examples
    --------
    >>> import numpy as np
    >>> import fgrad
    >>> import fgrad.numpy as fnp
    >>> fgrad.check_grads(fnp.linalg.vecdot, (np.ones((2, 3)), np.array([0.5, -1.0, 2.0])))
    """
    if x1.__class__ is not Tracer and x2.__class__ is not Tracer:
        return _compat.vecdot(x1, x2, axis=axis)
    product = x1 * x2
    return _sum_fn(product, normalize_axes(axis, ndim_of(product), "vecdot"), False)


def _linalg_outer(x1: Any, x2: Any, /) -> Any:
    if ndim_of(x1) != 1 or ndim_of(x2) != 1:
        raise ValueError("Input arrays must be one-dimensional")
    return outer(x1, x2)


def _linalg_cross(x1: Any, x2: Any, /, *, axis: int = -1) -> Any:
    from fgrad._rules.shape import cross

    return cross(x1, x2, axis=axis)


def _linalg_diagonal(x: Any, /, *, offset: int = 0) -> Any:
    from fgrad._rules.shape import diagonal

    return diagonal(x, offset, -2, -1)


def _linalg_trace(x: Any, /, *, offset: int = 0, dtype: Any = None) -> Any:
    from fgrad._rules.shape import trace

    if dtype is not None:
        x = astype(x, dtype)
    return trace(x, offset, -2, -1)


_DISPATCH: list[tuple[Callable[..., Any], Callable[..., Any]]] = [
    (np.matmul, matmul),
    (np.dot, dot),
    (np.tensordot, tensordot),
    (np.inner, inner),
    (np.outer, outer),
    (np.vdot, vdot),
    (np.kron, kron),
    (np.einsum, einsum),
    (np.linalg.inv, inv),
    (np.linalg.det, det),
    (np.linalg.slogdet, slogdet),
    (np.linalg.solve, solve),
    (np.linalg.cholesky, cholesky),
    (np.linalg.norm, norm),
    (np.linalg.eigh, eigh),
    (np.linalg.eigvalsh, eigvalsh),
    (np.linalg.svd, svd),
    (np.linalg.pinv, pinv),
    (np.linalg.matrix_power, matrix_power),
    (np.linalg.multi_dot, multi_dot),
    (np.linalg.cond, cond),
]
# NumPy 2's array-API additions, where present.
_ARRAY_API: list[tuple[Any, str, Callable[..., Any]]] = [
    (np.linalg, "svdvals", svdvals),
    (np.linalg, "matrix_transpose", matrix_transpose),
    (np, "matrix_transpose", matrix_transpose),
    (np.linalg, "vector_norm", vector_norm),
    (np.linalg, "matrix_norm", matrix_norm),
    (np.linalg, "vecdot", vecdot),
    (np.linalg, "outer", _linalg_outer),
    (np.linalg, "cross", _linalg_cross),
    (np.linalg, "diagonal", _linalg_diagonal),
    (np.linalg, "trace", _linalg_trace),
    (np.linalg, "matmul", matmul),
    (np.linalg, "tensordot", tensordot),
]
for _owner, _name, _fn in _ARRAY_API:
    if hasattr(_owner, _name):
        _DISPATCH.append((getattr(_owner, _name), _fn))
for _np_fn, _fn in _DISPATCH:
    register_function(_np_fn, _fn)

_A = "np.array([[2.0, 0.5, 0.1], [0.3, 1.5, -0.2], [0.1, 0.4, 1.8]])"
_B = "np.array([[0.3, -1.2], [2.0, 0.7], [0.5, -0.4]])"
_V = "np.array([0.3, -1.2, 0.5])"
_DOCS: list[tuple[Callable[..., Any], str, str, str]] = [
    (
        matmul,
        "matmul",
        "``g @ b.T`` and ``a.T @ g``, batched and for 1-D operands.",
        f"fnp.matmul, ({_A}, {_B})",
    ),
    (dot, "dot", "as ``matmul`` (or ``tensordot`` for N-D by N-D).", f"fnp.dot, ({_V}, {_B})"),
    (
        tensordot,
        "tensordot",
        "``tensordot`` of the cotangent with the other operand.",
        f"lambda a, b: fnp.tensordot(a, b, ([0], [0])), ({_A}, {_B})",
    ),
    (inner, "inner", "as ``tensordot`` over the last axes.", f"fnp.inner, ({_V}, {_V})"),
    (outer, "outer", "``g @ b`` and ``g.T @ a``.", f"fnp.outer, ({_V}, {_V})"),
    (vdot, "vdot", "``g * b`` and ``g * a`` (real inputs).", f"fnp.vdot, ({_V}, {_V})"),
    (kron, "kron", "through a broadcast product and reshape.", f"fnp.kron, ({_B}, {_V})"),
    (
        einsum,
        "einsum",
        "an ``einsum`` of the cotangent with the other operands.",
        f"lambda a, b: fnp.einsum('ij,jk->ik', a, b), ({_A}, {_B})",
    ),
    (inv, "linalg.inv", "``-inv(a).T @ g @ inv(a).T``.", f"fnp.linalg.inv, ({_A},)"),
    (det, "linalg.det", "``g * det(a) * inv(a).T``.", f"fnp.linalg.det, ({_A},)"),
    (
        solve,
        "linalg.solve",
        "``-solve(a.T, g) x.T`` and ``solve(a.T, g)``.",
        f"fnp.linalg.solve, ({_A}, {_B})",
    ),
    (
        cholesky,
        "linalg.cholesky",
        "the symmetric rule of Murray (2016).",
        f"lambda a: fnp.linalg.cholesky(a @ a.T), ({_A},)",
    ),
    (
        norm,
        "linalg.norm",
        "through its composition (every vector ord; matrix ords 'fro', 1, -1, inf, -inf, "
        "and 2, -2, 'nuc' through the singular values).",
        f"lambda x: fnp.linalg.norm(x, 1, axis=0), ({_B},)",
    ),
]
for _fn, _what, _gradient, _example in _DOCS:
    document(
        _fn, f"Differentiable ``numpy.{_what}``.", _gradient, f">>> fgrad.check_grads({_example})"
    )
document(
    slogdet,
    "Differentiable ``numpy.linalg.slogdet``: ``(sign, logabsdet)``; only ``logabsdet`` "
    "carries a gradient.",
    "``g * inv(a).T``.",
    f">>> fgrad.check_grads(lambda a: fnp.linalg.slogdet(a)[1], ({_A},))",
)

matrix_rank = non_differentiable(
    np.linalg.matrix_rank, "linalg.matrix_rank", sample="np.array([[1.0, 2.0], [2.0, 4.0]])"
)
matrix_rank.__name__ = matrix_rank.__qualname__ = "matrix_rank"
document(
    matrix_rank,
    "``numpy.linalg.matrix_rank`` on the values of traced arrays; the result is a plain "
    "NumPy value.",
    "none: the rank is piecewise constant, so it is returned untraced.",
    ">>> fnp.linalg.matrix_rank(np.array([[1.0, 2.0], [2.0, 4.0]]))\nnp.int64(1)",
)

_ARRAY_API_DOCS: list[tuple[Callable[..., Any], str, str, str]] = [
    (
        _linalg_outer,
        "outer",
        "``g @ x2`` and ``g.T @ x1`` (1-D inputs).",
        "fnp.linalg.outer, (np.array([0.3, -1.2]), np.array([1.0, 0.5, 2.0]))",
    ),
    (
        _linalg_cross,
        "cross",
        "as :func:`fgrad.numpy.cross` (3-element vectors along ``axis``).",
        "fnp.linalg.cross, (np.array([0.3, -1.2, 0.5]), np.array([1.0, 0.5, 2.0]))",
    ),
    (
        _linalg_diagonal,
        "diagonal",
        "the cotangent placed on the diagonals of the last two axes.",
        "lambda x: fnp.linalg.diagonal(x, offset=1), (np.ones((2, 2, 3)),)",
    ),
    (
        _linalg_trace,
        "trace",
        "the cotangent on the diagonals of the last two axes.",
        "fnp.linalg.trace, (np.ones((2, 3, 3)),)",
    ),
]
for _fn, _what, _gradient, _example in _ARRAY_API_DOCS:
    document(
        _fn,
        f"Differentiable ``numpy.linalg.{_what}`` (NumPy 2), over the last axes.",
        _gradient,
        f">>> fgrad.check_grads({_example})",
    )

LINALG_ONLY = [
    "cond",
    "eigh",
    "eigvalsh",
    "matrix_norm",
    "matrix_power",
    "matrix_rank",
    "matrix_transpose",
    "multi_dot",
    "pinv",
    "svd",
    "svdvals",
    "vecdot",
    "vector_norm",
]
"""Functions of ``fgrad.numpy.linalg`` that ``fgrad.numpy`` itself does not export."""

__all__ = [
    "cholesky",
    "det",
    "dot",
    "einsum",
    "inner",
    "inv",
    "kron",
    "matmul",
    "matrix_transpose",
    "norm",
    "outer",
    "slogdet",
    "solve",
    "tensordot",
    "vdot",
]
