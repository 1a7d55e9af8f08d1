"""Products and linear algebra: matmul, dot, tensordot, einsum and ``numpy.linalg``."""

from __future__ import annotations

import builtins
import string
from collections import namedtuple
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from fgrad._core import NO_PARAMS, Primitive, Tracer, bind1, bind2, bindn, concrete
from fgrad._rules._define import (
    document,
    dtype_of,
    ndim_of,
    register_function,
    shape_of,
)
from fgrad._rules.elementwise import absolute, multiply, power, sqrt
from fgrad._rules.reductions import max, min
from fgrad._rules.structural import (
    _sum_fn,
    _transpose_fn,
    broadcast_to,
    expand_dims,
    getitem,
    reshape,
    swapaxes,
    unbroadcast,
)


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


_MATMUL.fn = matmul

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


_TENSORDOT.fn = _tensordot_fn


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


_EINSUM.fn = _einsum_fn


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


_INV.fn = inv


def _det_vjp(g: Any, ans: Any, a: Any) -> Any:
    scale = expand_dims(expand_dims(g * ans, -1), -1)
    return scale * _mT(inv(a))


_DET = Primitive("linalg.det", np.linalg.det, (_det_vjp,))


def det(a: Any) -> Any:
    if a.__class__ is Tracer:
        return bind1(_DET, a, {})
    return np.linalg.det(a)


_DET.fn = det


def _logabsdet_impl(a: Any) -> Any:
    return np.linalg.slogdet(a)[1]


def _logabsdet_vjp(g: Any, ans: Any, a: Any) -> Any:
    return expand_dims(expand_dims(g, -1), -1) * _mT(inv(a))


_LOGABSDET = Primitive("linalg.slogdet", _logabsdet_impl, (_logabsdet_vjp,))


def _logabsdet(a: Any) -> Any:
    if a.__class__ is Tracer:
        return bind1(_LOGABSDET, a, {})
    return _logabsdet_impl(a)


_LOGABSDET.fn = _logabsdet

SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])


def slogdet(a: Any) -> Any:
    if a.__class__ is not Tracer:
        return np.linalg.slogdet(a)
    sign = np.linalg.slogdet(concrete(a))[0]
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


_SOLVE = Primitive("linalg.solve", np.linalg.solve, (_solve_vjp_a, _solve_vjp_b))


def solve(a: Any, b: Any) -> Any:
    if a.__class__ is Tracer or b.__class__ is Tracer:
        return bind2(_SOLVE, a, b, {})
    return np.linalg.solve(a, b)


_SOLVE.fn = solve


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


_CHOLESKY.fn = cholesky


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
        axes = (int(axis) % nd,)
    else:
        axes = tuple(int(a) % nd for a in axis)
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
    else:
        raise TypeError(
            f"fgrad.numpy.linalg.norm has no gradient rule for matrix ord={ord!r} (it needs "
            "singular values); use ord='fro', 1, -1, inf or -inf, or define a custom_vjp"
        )
    if keepdims:
        return out
    return reshape(out, tuple(d for i, d in enumerate(shape_of(out)) if i not in axes))


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
]
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
        "through its composition (vector ords and matrix 'fro', 1, inf).",
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

__all__ = [
    "cholesky",
    "det",
    "dot",
    "einsum",
    "inner",
    "inv",
    "kron",
    "matmul",
    "norm",
    "outer",
    "slogdet",
    "solve",
    "tensordot",
    "vdot",
]
