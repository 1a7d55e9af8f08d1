"""Products of arrays: matmul, dot, vdot, inner, outer, tensordot, einsum, kron."""

from __future__ import annotations

import builtins
import string
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from fgrad._core import NO_PARAMS, Primitive, Tracer, bind2
from fgrad._rules import batching
from fgrad._rules.declare import export
from fgrad._rules.elementwise import conjugate, multiply
from fgrad._rules.helpers import ndim_of, no_out, shape_of
from fgrad._rules.linear import SUM, TRANSPOSE, broadcast_to, getitem, reshape, unbroadcast
from fgrad._rules.shape import expand_dims, swapaxes


def mT(x: Any) -> Any:
    """``x`` with its last two axes swapped (NumPy's ``x.mT``)."""
    return swapaxes(x, -1, -2)


# --- matmul -------------------------------------------------------------------------


_np_matmul = np.matmul


def _matmul_vjp_a(g: Any, ans: Any, a: Any, b: Any) -> Any:
    if b.__class__ is np.ndarray and g.__class__ is np.ndarray and b.ndim == 2 == g.ndim:
        return _np_matmul(g, b.T)
    an, bn = ndim_of(a), ndim_of(b)
    if an == 2 and bn == 2:
        return matmul(g, b.T if b.__class__ is np.ndarray else TRANSPOSE(b, axes=(1, 0)))
    if bn == 1:
        if an == 1:
            return g * b
        return unbroadcast(expand_dims(g, -1) * b, shape_of(a))
    if an == 1:
        if bn == 2:
            return matmul(b, g)
        return unbroadcast(getitem(matmul(b, expand_dims(g, -1)), (Ellipsis, 0)), shape_of(a))
    return unbroadcast(matmul(g, mT(b)), shape_of(a))


def _matmul_vjp_b(g: Any, ans: Any, a: Any, b: Any) -> Any:
    if a.__class__ is np.ndarray and g.__class__ is np.ndarray and a.ndim == 2 == g.ndim:
        return _np_matmul(a.T, g)
    an, bn = ndim_of(a), ndim_of(b)
    if an == 2 and bn == 2:
        return matmul(a.T if a.__class__ is np.ndarray else TRANSPOSE(a, axes=(1, 0)), g)
    if an == 1:
        if bn == 1:
            return g * a
        return unbroadcast(expand_dims(a, -1) * expand_dims(g, -2), shape_of(b))
    if bn == 1:
        return unbroadcast(getitem(matmul(mT(a), expand_dims(g, -1)), (Ellipsis, 0)), shape_of(b))
    return unbroadcast(matmul(mT(a), g), shape_of(b))


_MATMUL = Primitive("matmul", np.matmul, (_matmul_vjp_a, _matmul_vjp_b), batch=batching.matmul)


@export("matmul")
@export("linalg.matmul")
def matmul(x1: Any, x2: Any) -> Any:
    """Differentiable ``numpy.matmul`` (also ``numpy.linalg.matmul``), batched and for 1-D operands.

    Gradient: ``g @ x2.T`` and ``x1.T @ g``, summed over broadcast batch axes.

    Examples
    --------
    >>> a = np.array([[2.0, 0.5, 0.1], [0.3, 1.5, -0.2]])
    >>> fgrad.check_grads(fnp.matmul, (a, np.array([[0.3, -1.2], [2.0, 0.7], [0.5, -0.4]])))
    >>> fgrad.check_grads(fnp.linalg.matmul, (np.ones((2, 2, 3)), np.array([0.3, -1.2, 0.5])))
    """
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
    a_free = [i for i in range(ndim_of(a)) if i not in a_axes]
    b_free = [i for i in range(ndim_of(b)) if i not in b_axes]
    g_b_dims = tuple(range(len(a_free), len(a_free) + len(b_free)))
    out = _TENSORDOT(g, b, axes=(g_b_dims, tuple(b_free)))
    # ``out`` has a's free axes, then b's contracted axes in ascending order of b's axes;
    # label each with the axis of ``a`` it was paired with.
    paired = [a_axes[b_axes.index(j)] for j in sorted(b_axes)]
    return TRANSPOSE(out, axes=tuple(np.argsort(a_free + paired)))


def _tensordot_vjp_b(g: Any, ans: Any, a: Any, b: Any, axes: Any) -> Any:
    a_axes, b_axes = axes
    a_free = [i for i in range(ndim_of(a)) if i not in a_axes]
    b_free = [i for i in range(ndim_of(b)) if i not in b_axes]
    out = _TENSORDOT(a, g, axes=(tuple(a_free), tuple(range(len(a_free)))))
    # ``out`` has a's contracted axes in ascending order of a's axes, then b's free axes.
    paired = [b_axes[a_axes.index(i)] for i in sorted(a_axes)]
    return TRANSPOSE(out, axes=tuple(np.argsort(paired + b_free)))


def _batch_tensordot(prim: Primitive, values: Any, batched: Any, params: Any, size: int) -> Any:
    (a, b), (a_batched, b_batched) = values, batched
    a_axes, b_axes = params["axes"]
    if a_batched and b_batched:
        return batching.one_by_one(prim, values, batched, params, size)
    if a_batched:
        return prim(a, b, axes=(tuple(i + 1 for i in a_axes), b_axes)), True
    out = prim(a, b, axes=(a_axes, tuple(i + 1 for i in b_axes)))
    return np.moveaxis(out, len(shape_of(a)) - len(a_axes), 0), True


_TENSORDOT = Primitive(
    "tensordot", np.tensordot, (_tensordot_vjp_a, _tensordot_vjp_b), batch=_batch_tensordot
)


@export("tensordot")
@export("linalg.tensordot")
def tensordot(a: Any, b: Any, axes: Any = 2) -> Any:
    """Differentiable ``numpy.tensordot`` (also ``numpy.linalg.tensordot``).

    Gradient: ``tensordot`` of the cotangent with the other operand over its free
    axes, transposed back to the operand's axis order.

    Examples
    --------
    >>> a = np.array([[2.0, 0.5, 0.1], [0.3, 1.5, -0.2], [0.1, 0.4, 1.8]])
    >>> b = np.array([[0.3, -1.2], [2.0, 0.7], [0.5, -0.4]])
    >>> fgrad.check_grads(lambda a, b: fnp.tensordot(a, b, ([0], [0])), (a, b))
    """
    if a.__class__ is not Tracer and b.__class__ is not Tracer:
        return np.tensordot(a, b, axes)
    return _TENSORDOT(a, b, axes=_tensordot_axes(axes, ndim_of(a), ndim_of(b)))


@export("dot")
def dot(a: Any, b: Any, out: Any = None) -> Any:
    """Differentiable ``numpy.dot``.

    Gradient: as :func:`matmul` (:func:`tensordot` for an N-D second operand,
    :func:`multiply` for a scalar).

    Examples
    --------
    >>> b = np.array([[0.3, -1.2], [2.0, 0.7], [0.5, -0.4]])
    >>> fgrad.check_grads(fnp.dot, (np.array([0.3, -1.2, 0.5]), b))
    """
    no_out("dot", out)
    if a.__class__ is not Tracer and b.__class__ is not Tracer:
        return np.dot(a, b)
    an, bn = ndim_of(a), ndim_of(b)
    if an == 0 or bn == 0:
        return multiply(a, b)
    if bn <= 2:
        return matmul(a, b)
    return _TENSORDOT(a, b, axes=((an - 1,), (bn - 2,)))


@export("inner")
def inner(a: Any, b: Any) -> Any:
    """Differentiable ``numpy.inner``: the sum of products over the last axes.

    Gradient: as :func:`tensordot` over the last axes.

    Examples
    --------
    >>> fgrad.check_grads(fnp.inner, (np.array([0.3, -1.2, 0.5]), np.ones((2, 3))))
    """
    if a.__class__ is not Tracer and b.__class__ is not Tracer:
        return np.inner(a, b)
    an, bn = ndim_of(a), ndim_of(b)
    if an == 0 or bn == 0:
        return multiply(a, b)
    return _TENSORDOT(a, b, axes=((an - 1,), (bn - 1,)))


@export("outer")
def outer(a: Any, b: Any) -> Any:
    """Differentiable ``numpy.outer`` (the operands are flattened first).

    Gradient: ``g @ b`` and ``g.T @ a``, reshaped to the operands.

    Examples
    --------
    >>> fgrad.check_grads(fnp.outer, (np.array([0.3, -1.2, 0.5]), np.array([1.0, 2.0])))
    """
    if a.__class__ is not Tracer and b.__class__ is not Tracer:
        return np.outer(a, b)
    return reshape(a, (-1, 1)) * reshape(b, (1, -1))


def _flat(x: Any) -> Any:
    return reshape(x, (-1,))


def _vdot_vjp_a(g: Any, ans: Any, a: Any, b: Any) -> Any:
    a_shape, b_shape = shape_of(a), shape_of(b)
    if a_shape == b_shape:
        return conjugate(g * b)
    return reshape(conjugate(g * _flat(b)), a_shape)


def _vdot_vjp_b(g: Any, ans: Any, a: Any, b: Any) -> Any:
    a_shape, b_shape = shape_of(a), shape_of(b)
    if a_shape == b_shape:
        return g * conjugate(a)
    return reshape(g * conjugate(_flat(a)), b_shape)


def _batch_vdot(prim: Primitive, values: Any, batched: Any, params: Any, size: int) -> Any:
    a, b = (
        reshape(v, (size, -1)) if is_batched else reshape(v, (1, -1))
        for v, is_batched in zip(values, batched)
    )
    return SUM(conjugate(a) * b, axis=(1,), keepdims=False), True


_VDOT = Primitive("vdot", np.vdot, (_vdot_vjp_a, _vdot_vjp_b), batch=_batch_vdot)


@export("vdot")
def vdot(a: Any, b: Any) -> Any:
    """Differentiable ``numpy.vdot``: the dot product of the flattened arrays, ``a`` conjugated.

    Gradient: ``g * b`` and ``g * a``, reshaped to each operand (``conj(g * b)`` and
    ``g * conj(a)`` for complex operands: JAX's transposes of ``sum(conj(a) * b)``).

    Examples
    --------
    >>> fgrad.check_grads(fnp.vdot, (np.array([[0.3, -1.2], [0.5, 2.0]]), np.ones((2, 2))))
    >>> fgrad.check_grads(fnp.vdot, (np.array([1 + 2j, -0.5j]), np.array([0.5 - 1j, 2.0])))
    """
    if a.__class__ is not Tracer and b.__class__ is not Tracer:
        return np.vdot(a, b)
    return bind2(_VDOT, a, b, NO_PARAMS)


@export("kron")
def kron(a: Any, b: Any) -> Any:
    """Differentiable ``numpy.kron``, computed as a broadcast product and a reshape.

    Gradient: through the product and the reshape.

    Examples
    --------
    >>> b = np.array([[0.3, -1.2], [2.0, 0.7], [0.5, -0.4]])
    >>> fgrad.check_grads(fnp.kron, (b, np.array([0.3, -1.2, 0.5])))
    """
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


def _einsum_impl(*operands: Any, spec: str, optimize: Any) -> Any:
    return np.einsum(spec, *operands, optimize=optimize)


def _fresh_letters(spec: str) -> Iterator[str]:
    return (c for c in string.ascii_letters if c not in spec)


def _einsum_vjp(
    g: Any, ans: Any, operands: tuple[Any, ...], params: dict[str, Any], argnums: Sequence[int]
) -> list[Any]:
    spec, optimize = params["spec"], params["optimize"]
    inputs, output = spec.split("->")
    in_subs = inputs.split(",")
    cts = []
    for k in argnums:
        target = in_subs[k]
        op_shape = shape_of(operands[k])
        letter_size = dict(zip(target, op_shape))
        unique = "".join(dict.fromkeys(target))
        others = [s for i, s in enumerate(in_subs) if i != k]
        available = set(output).union(*others)
        reduced = "".join(c for c in unique if c in available)
        other_ops = [op for i, op in enumerate(operands) if i != k]
        ct = _EINSUM(
            g, *other_ops, spec=",".join([output] + others) + "->" + reduced, optimize=optimize
        )
        sizes = dict(zip(reduced, shape_of(ct)))
        widened = tuple(sizes.get(c, 1) for c in unique)
        if widened != shape_of(ct):
            ct = reshape(ct, widened)
        unique_shape = tuple(letter_size[c] for c in unique)
        squash = tuple(i for i, (n, m) in enumerate(zip(unique_shape, widened)) if n < m)
        if squash:
            ct = SUM(ct, axis=squash, keepdims=True)
        if shape_of(ct) != unique_shape:
            ct = broadcast_to(ct, unique_shape)
        if unique != target:
            ct = _onto_diagonals(ct, unique, target, letter_size, spec)
        cts.append(ct)
    return cts


def _onto_diagonals(
    ct: Any, unique: str, target: str, letter_size: dict[str, int], spec: str
) -> Any:
    """``ct`` (indexed by ``unique``) placed on the diagonals of an operand indexed by ``target``.

    A repeated index (``"ii"``) reads a diagonal, so its cotangent is zero off it: each
    repeat gets a fresh letter tied to the first by an identity matrix.
    """
    fresh = _fresh_letters(spec)
    renamed, ties = [], []
    for c in target:
        if c in renamed:
            f = next(fresh)
            renamed.append(f)
            ties.append(c + f)
        else:
            renamed.append(c)
    eyes = [np.eye(letter_size[tie[0]]) for tie in ties]
    return _EINSUM(
        ct, *eyes, spec=",".join([unique, *ties]) + "->" + "".join(renamed), optimize=False
    )


_EINSUM = Primitive("einsum", _einsum_impl, vjp_joint=_einsum_vjp, batch=batching.einsum_spec)


def _subscripts_of_interleaved(args: tuple[Any, ...]) -> tuple[str, list[Any]]:
    """``einsum(op0, sub0, op1, sub1, ..., [out])``'s subscripts string and operands."""

    def letters(sublist: Any) -> str:
        return "".join("..." if i is Ellipsis else string.ascii_letters[i] for i in sublist)

    operands = list(args[0::2])
    subs = [letters(s) for s in args[1::2]]
    if len(args) % 2:
        return ",".join(subs) + "->" + letters(operands.pop()), operands
    return ",".join(subs), operands


@export("einsum")
def einsum(*operands: Any, out: Any = None, optimize: Any = False, **kwargs: Any) -> Any:
    """Differentiable ``numpy.einsum``: subscripts-string and interleaved forms, ``...``
    and repeated indices (``"ii->i"``, a diagonal) included.

    Gradient: an ``einsum`` of the cotangent with the other operands, widened to the
    operand's shape; for an operand with a repeated index, placed on that diagonal (zero
    off it). ``optimize`` is passed to NumPy's evaluation.

    Examples
    --------
    >>> a = np.array([[2.0, 0.5, 0.1], [0.3, 1.5, -0.2], [0.1, 0.4, 1.8]])
    >>> b = np.array([[0.3, -1.2], [2.0, 0.7], [0.5, -0.4]])
    >>> fgrad.check_grads(lambda a, b: fnp.einsum("ij,jk->ik", a, b), (a, b))
    >>> fgrad.grad(lambda a: fnp.einsum("ii->", a))(a)  # the trace
    array([[1., 0., 0.],
           [0., 1., 0.],
           [0., 0., 1.]])
    >>> float(fnp.einsum(a, [0, 1], b, [1, 2], [0, 2]).sum() - (a @ b).sum())
    0.0
    """
    if not builtins.any(op.__class__ is Tracer for op in operands):
        return np.einsum(*operands, out=out, optimize=optimize, **kwargs)
    no_out("einsum", out)
    if kwargs:
        raise TypeError(
            f"fgrad.numpy.einsum on traced arrays takes out= and optimize= only, got "
            f"{sorted(kwargs)}"
        )
    if isinstance(operands[0], str):
        subscripts, arrays = operands[0], list(operands[1:])
    else:
        subscripts, arrays = _subscripts_of_interleaved(operands)
    spec = _explicit_einsum(subscripts, [shape_of(op) for op in arrays])
    return _EINSUM(*arrays, spec=spec, optimize=optimize)
