"""Complex numbers, under JAX's conventions (``docs/complex.md``).

The registry cases run the checks of ``tests/test_numpy_grads.py`` on complex inputs (and
on real inputs flowing through complex intermediates): traced values equal NumPy's,
``check_grads`` agrees to order 2 in both modes (real and imaginary parts perturbed
separately), and ``jit`` replays the derivatives bit for bit. Then values pinned by
hand against JAX's convention, and the errors of the transforms.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from test_numpy_grads import (
    away,
    check_jit_replays,
    check_values_and_grads,
    pos,
    smooth,
    well_conditioned,
)

import fgrad
import fgrad.numpy as fnp

EXACT = 1e-15
"""Relative tolerance of hand-computed values: a few roundings."""

# --- inputs: complex numbers away from branch cuts, poles and kinks -------------------------


def csmooth(*shape: int) -> np.ndarray:
    """Real and imaginary parts anywhere in [-1.5, 1.5]."""
    return smooth(*shape) + 1j * smooth(*shape)


def caway(*shape: int) -> np.ndarray:
    """Both parts of magnitude in [0.3, 1.5]: away from 0 and from both axes."""
    return away(*shape) + 1j * away(*shape)


def cright(*shape: int) -> np.ndarray:
    """Positive real part: away from the cut of log and sqrt on the negative real axis."""
    return pos(*shape) + 1j * smooth(*shape)


def cunit(*shape: int) -> np.ndarray:
    """Small, off the real axis: away from the cuts of arcsin, arccos, arctanh (|x| > 1 on
    the real axis), arctan, arcsinh (|y| > 1 on the imaginary axis) and arccosh (x < 1)."""
    return 0.6 * smooth(*shape) + 1j * away(*shape, lo=0.2, hi=0.6)


def cmatrix(*shape: int) -> np.ndarray:
    """Well-conditioned complex matrices."""
    return well_conditioned(*shape) + 0.5j * smooth(*shape)


def hermitian(*shape: int, spread: tuple[float, ...] = (-1.0, 0.5, 2.0)) -> np.ndarray:
    """Hermitian matrices with eigenvalues near ``spread`` (distinct)."""
    n = shape[-1]
    q, _ = np.linalg.qr(csmooth(*shape))
    return (q * np.asarray(spread[:n])) @ np.conj(np.swapaxes(q, -1, -2))


# --- the registry --------------------------------------------------------------------------

CASES: list[Any] = []


def case(name: str, variant: str, fun: Callable[..., Any], *args: Any) -> None:
    CASES.append(pytest.param(fun, args, id=f"{name}-{variant}"))


UNARY: dict[str, Callable[..., np.ndarray]] = {
    "negative": csmooth,
    "positive": csmooth,
    "square": csmooth,
    "exp": csmooth,
    "exp2": csmooth,
    "expm1": csmooth,
    "sin": csmooth,
    "cos": csmooth,
    "tan": cunit,
    "sinh": csmooth,
    "cosh": csmooth,
    "tanh": cunit,
    "reciprocal": caway,
    "sqrt": cright,
    "log": cright,
    "log2": cright,
    "log10": cright,
    "log1p": cright,
    "arcsin": cunit,
    "arccos": cunit,
    "arctan": cunit,
    "arcsinh": cunit,
    "arccosh": cunit,
    "arctanh": cunit,
    # not holomorphic: explicit rules
    "absolute": caway,
    "angle": caway,
    "real": csmooth,
    "imag": csmooth,
    "conjugate": csmooth,
    "conj": csmooth,
}
for _name, _draw in UNARY.items():
    _fn = getattr(fnp, _name)
    case(_name, "vec", _fn, _draw(3))
    case(_name, "scalar", _fn, _draw())
case("absolute", "squared", lambda z: fnp.abs(z) ** 2, csmooth(3))
case("absolute", "operator", lambda z: abs(z) * z, caway(2, 2))
case("angle", "deg", lambda z: fnp.angle(z, deg=True), caway(3))
case("real", "method", lambda z: z.real * z.imag + z.conj(), csmooth(3))

for _name in ("add", "subtract", "multiply", "divide"):
    _fn = getattr(fnp, _name)
    case(_name, "broadcast", _fn, csmooth(2, 1), caway(3))
    case(_name, "real-and-complex", _fn, smooth(2, 3), caway(3))
    case(_name, "complex-and-real", _fn, caway(3), away(2, 3))
case("power", "complex", fnp.power, cright(3), csmooth(3))
case("power", "integer", lambda z: z**3, csmooth(3))
case("power", "real-exponent", lambda z, p: z**p, cright(3), smooth(3))
case("multiply", "real-through-complex", lambda x: fnp.exp(1j * x) * (1 + x), smooth(3))
case("real", "real-through-complex", lambda x: fnp.real(fnp.exp(1j * x) * x**2), smooth(3))
case("absolute", "real-through-complex", lambda x: fnp.abs(x + 2j * x**2), away(3))
case("astype", "real-to-complex", lambda x: fnp.astype(x, np.complex128) * 1j, smooth(3))

case("matmul", "mat", fnp.matmul, csmooth(2, 3), csmooth(3, 2))
case("matmul", "real-and-complex", fnp.matmul, smooth(2, 3), csmooth(3))
case("dot", "mat", fnp.dot, csmooth(3), csmooth(3, 2))
case("einsum", "contract", lambda a, b: fnp.einsum("ij,kj->ik", a, b), csmooth(2, 3), csmooth(2, 3))
case("einsum", "trace", lambda a: fnp.einsum("ii->", a), csmooth(3, 3))
case("inner", "vec", fnp.inner, csmooth(3), csmooth(2, 3))
case("outer", "vec", fnp.outer, csmooth(3), smooth(2))
case(
    "tensordot", "axes", lambda a, b: fnp.tensordot(a, b, ([0], [1])), csmooth(2, 3), csmooth(3, 2)
)
case("vdot", "mat", fnp.vdot, csmooth(2, 2), csmooth(2, 2))
case("vdot", "real-and-complex", fnp.vdot, smooth(3), csmooth(3))
case("kron", "vec", fnp.kron, csmooth(2), csmooth(2))

case("sum", "axis", lambda z: fnp.sum(z, axis=0), csmooth(2, 3))
case("mean", "all", fnp.mean, csmooth(2, 3))
case("prod", "axis", lambda z: fnp.prod(z, axis=1), caway(2, 3))
case("cumsum", "axis", lambda z: fnp.cumsum(z, axis=1), csmooth(2, 3))
case("cumprod", "flat", fnp.cumprod, caway(2, 2))
case("var", "all", fnp.var, csmooth(2, 3))
case("var", "axis-ddof", lambda z: fnp.var(z, axis=1, ddof=1), csmooth(2, 3))
case("std", "axis", lambda z: fnp.std(z, axis=0), caway(3, 2))

case("inv", "mat", fnp.linalg.inv, cmatrix(3, 3))
case("inv", "batched", fnp.linalg.inv, cmatrix(2, 2, 2))
case("solve", "vec", fnp.linalg.solve, cmatrix(3, 3), csmooth(3))
case("solve", "real-matrix", fnp.linalg.solve, well_conditioned(3, 3), csmooth(3, 2))
case("det", "mat", fnp.linalg.det, cmatrix(3, 3))
case("slogdet", "logabsdet", lambda a: fnp.linalg.slogdet(a).logabsdet, cmatrix(3, 3))
case("slogdet", "sign", lambda a: fnp.linalg.slogdet(a).sign, cmatrix(3, 3))
case("norm", "default", fnp.linalg.norm, csmooth(2, 3))
case("norm", "vector-axis", lambda z: fnp.linalg.norm(z, axis=1), csmooth(2, 3))
case("norm", "vector-3", lambda z: fnp.linalg.norm(z, 3, axis=0), caway(2, 3))
case("norm", "matrix-1", lambda z: fnp.linalg.norm(z, 1), cmatrix(3, 3))
case("eigvalsh", "hermitian", fnp.linalg.eigvalsh, hermitian(3, 3))
case("eigvalsh", "upper", lambda a: fnp.linalg.eigvalsh(a, "U"), hermitian(3, 3))
case(
    "eigh",
    "vector-magnitudes",
    lambda a: fnp.abs(fnp.linalg.eigh(a).eigenvectors),
    hermitian(3, 3),
)
case(
    "eigh",
    "projector",
    lambda a: (lambda w, v: (v * fnp.exp(w)) @ fnp.conj(v).T)(*fnp.linalg.eigh(a)),
    hermitian(3, 3),
)
case("fft", "complex", fnp.fft.fft, csmooth(4))
case("ifft", "complex_padded", lambda z: fnp.fft.ifft(z, n=5), csmooth(2, 3))
case("irfft", "complex_even", fnp.fft.irfft, csmooth(3))
case("irfft", "complex_odd_ortho", lambda z: fnp.fft.irfft(z, n=5, norm="ortho"), csmooth(3))
case("fftn", "complex", fnp.fft.fftn, csmooth(2, 3))
case("irfft2", "complex", lambda z: fnp.fft.irfft2(z, s=(2, 4)), csmooth(2, 3))
case("irfftn", "complex_forward", lambda z: fnp.fft.irfftn(z, norm="forward"), csmooth(3, 2))


def _rank_one_parts(a: Any) -> Any:
    """Phase-invariant functions of the singular vectors: the rank-one terms ``s_i u_i vh_i``."""
    u, s, vh = fnp.linalg.svd(a, full_matrices=False)
    return fnp.stack([s[i] * u[:, i : i + 1] @ vh[i : i + 1] for i in range(s.shape[0])])


case(
    "cholesky",
    "hermitian",
    lambda a: fnp.linalg.cholesky(a @ fnp.conj(fnp.swapaxes(a, -1, -2)) + 2.0 * np.eye(3)),
    csmooth(3, 3),
)
case("svd", "values", lambda a: fnp.linalg.svd(a, compute_uv=False), cmatrix(3, 3))
case("svd", "rank_one_tall", _rank_one_parts, csmooth(3, 2))
case("svd", "rank_one_wide", _rank_one_parts, csmooth(2, 3))
case("svdvals", "complex", fnp.linalg.svdvals, csmooth(2, 3))
case("norm", "nuc", lambda a: fnp.linalg.norm(a, "nuc"), csmooth(3, 2))
case("norm", "two", lambda a: fnp.linalg.norm(a, 2), cmatrix(2, 2))
case("eigvals", "complex", fnp.linalg.eigvals, np.diag([2.0, -0.5j, 1.0]) + 0.3 * csmooth(3, 3))
case("eigvals", "real-complex-pair", fnp.linalg.eigvals, np.array([[0.2, -2.0], [1.0, 0.5]]))
case(
    "eig",
    "eigenvalues",
    lambda a: fnp.linalg.eig(a).eigenvalues,
    np.diag([2.0, -0.5, 1.0]) + 0.3 * smooth(3, 3),  # eigenvalues kept apart
)


@pytest.mark.parametrize(("fun", "args"), CASES)
def test_complex_values_and_gradients(fun: Callable[..., Any], args: tuple[Any, ...]) -> None:
    check_values_and_grads(fun, args)


@pytest.mark.parametrize(("fun", "args"), CASES)
def test_complex_jit_replays_bit_identical(fun: Callable[..., Any], args: tuple[Any, ...]) -> None:
    check_jit_replays(fun, args)


# --- values pinned against JAX's convention --------------------------------------------------


def test_gradient_of_a_real_function_is_d_dx_minus_i_d_dy() -> None:
    grad = fgrad.grad(lambda z: fnp.abs(z) ** 2)(3 + 4j)
    np.testing.assert_allclose(grad, 6 - 8j, rtol=EXACT)
    assert grad.dtype == np.complex128
    # real(z**2) = x**2 - y**2: 2x - i(-2y) at 1 + 2j
    assert fgrad.grad(lambda z: fnp.real(z**2))(1 + 2j) == 2 + 4j
    # imag(z)**2 = y**2: -i 2y
    assert fgrad.grad(lambda z: fnp.imag(z) ** 2)(1 + 2j) == -4j
    # angle = arctan2(y, x): -y/r**2 - i x/r**2
    np.testing.assert_allclose(fgrad.grad(fnp.angle)(1 + 1j), -0.5 - 0.5j, rtol=EXACT)


def test_holomorphic_gradients_are_complex_derivatives() -> None:
    z = np.array(0.7 - 1.3j)
    assert fgrad.grad(lambda z: z**3, holomorphic=True)(z) == 3 * z**2
    np.testing.assert_allclose(fgrad.grad(fnp.sin, holomorphic=True)(z), np.cos(z), rtol=EXACT)
    value, grad = fgrad.value_and_grad(fnp.exp, holomorphic=True)(z)
    np.testing.assert_allclose([value, grad], [np.exp(z)] * 2, rtol=EXACT)
    # JAX: the holomorphic gradient is the gradient of the real part
    np.testing.assert_allclose(fgrad.grad(lambda z: fnp.real(fnp.sin(z)))(z), np.cos(z), rtol=EXACT)
    np.testing.assert_allclose(
        fgrad.grad(fgrad.grad(lambda z: z**3, holomorphic=True), holomorphic=True)(z),
        6 * z,
        rtol=EXACT,
    )


def test_holomorphic_jacobians_and_hessian() -> None:
    z = np.array([1j, 2.0 - 0.5j])
    for jac in (fgrad.jacobian, fgrad.jacrev, fgrad.jacfwd):
        np.testing.assert_allclose(jac(lambda z: z**2, holomorphic=True)(z), np.diag(2 * z))
    hess = fgrad.hessian(lambda z: fnp.sum(z**3), holomorphic=True)(z)
    np.testing.assert_allclose(hess, np.diag(6 * z), rtol=EXACT)


def test_jvp_and_linearize_take_complex_tangents() -> None:
    z, t = np.array(1.0 + 2.0j), np.array(0.5 - 1.0j)
    out, tangent = fgrad.jvp(lambda z: z * z, (z,), (t,))
    assert out == z * z and tangent == 2 * z * t
    _, tangent = fgrad.jvp(fnp.conj, (z,), (t,))  # not holomorphic: conj(t)
    assert tangent == np.conj(t)
    _, tangent = fgrad.jvp(lambda z: fnp.abs(z) ** 2, (z,), (t,))  # 2 Re(conj(z) t)
    assert tangent == 2 * np.real(np.conj(z) * t)
    _, f_jvp = fgrad.linearize(fnp.exp, z)
    np.testing.assert_allclose(f_jvp(t), np.exp(z) * t, rtol=EXACT)


def test_vjp_transposes_without_conjugating() -> None:
    z, ct = np.array(1.0 + 2.0j), np.array(1j)
    assert fgrad.vjp(lambda z: z * z, z)[1](ct) == (2 * z * ct,)
    assert fgrad.vjp(fnp.conj, z)[1](ct) == (np.conj(ct),)
    # a real cotangent of a complex output is accepted as complex
    assert fgrad.vjp(lambda z: 3j * z, z)[1](1.0) == (3j,)


def test_a_real_input_through_complex_values_gets_a_real_gradient() -> None:
    x = np.array([0.3, -1.2])
    grad = fgrad.grad(lambda x: fnp.sum(fnp.real(fnp.exp(1j * x))))(x)
    assert grad.dtype == np.float64
    np.testing.assert_allclose(grad, -np.sin(x), rtol=EXACT)
    # the cotangent of exp(1j x) for real x: Re(ct * 1j exp(1j x))
    ct = np.array([1.0 + 2.0j, -0.5j])
    (pulled,) = fgrad.vjp(lambda x: fnp.exp(1j * x), x)[1](ct)
    assert pulled.dtype == np.float64
    np.testing.assert_allclose(pulled, np.real(ct * 1j * np.exp(1j * x)), rtol=EXACT)
    _, tangent = fgrad.jvp(lambda x: fnp.exp(1j * x), (x,), (np.ones(2),))
    np.testing.assert_allclose(tangent, 1j * np.exp(1j * x), rtol=EXACT)


def test_eigenvalue_gradient_of_a_real_matrix_is_real() -> None:
    a = np.array([[0.0, -2.0], [1.0, 0.5]])  # eigenvalues 0.25 +- 1.39j
    grad = fgrad.grad(lambda a: fnp.imag(fnp.linalg.eigvals(a)[0]))(a)
    assert grad.dtype == np.float64
    step = 1e-6
    for i, j in np.ndindex(2, 2):
        bump = np.zeros((2, 2))
        bump[i, j] = step
        numeric = (np.linalg.eigvals(a + bump)[0] - np.linalg.eigvals(a - bump)[0]).imag
        np.testing.assert_allclose(grad[i, j], numeric / (2 * step), rtol=1e-8)


def test_complex_through_jit() -> None:
    def loss(z: Any, x: Any) -> Any:
        return fnp.sum(fnp.abs(fnp.exp(z) * x) ** 2)

    jitted = fgrad.jit(fgrad.grad(loss, argnums=(0, 1)))
    z, x = np.array([0.3 + 1j, -0.5j]), np.array([1.5, -0.7])
    for scale in (1.0, 1.1, 0.9):
        expected = fgrad.grad(loss, argnums=(0, 1))(z * scale, x)
        got = jitted(z * scale, x)
        for e, g in zip(expected, got):
            assert e.dtype == g.dtype
            np.testing.assert_array_equal(e, g, strict=True)
    assert jitted.stats.replays >= 2


# --- errors --------------------------------------------------------------------------------


def test_grad_of_a_complex_output_needs_holomorphic() -> None:
    expected = (
        r"^grad\(.*square\): the function returned a complex value \(output of dtype complex128\), "
        r"but reverse-mode derivatives are taken of real-valued functions, as in JAX\. For a "
        r"holomorphic function pass holomorphic=True"
    )

    def square(z: Any) -> Any:
        return z * z

    with pytest.raises(TypeError, match=expected):
        fgrad.grad(square)(1j)
    with pytest.raises(TypeError, match=r"^jacobian\(.*<lambda>\): .*output leaf \[0\] of dtype"):
        fgrad.jacobian(lambda z: [square(z)])(np.ones(2, complex))
    with pytest.raises(TypeError, match=r"^jacobian\(.*<lambda>\): .*output of dtype complex128"):
        fgrad.jacrev(lambda x: square(x * 1j))(np.ones(2))  # a real input, a complex output


def test_holomorphic_needs_complex_inputs_and_outputs() -> None:
    with pytest.raises(
        TypeError,
        match=r"^grad\(.*<lambda>\): argument 0 has dtype float64, but holomorphic=True requires "
        rf"complex inputs \(at {re.escape(__file__)}:\d+\), as in JAX",
    ):
        fgrad.grad(lambda z: z * 1j, holomorphic=True)(2.0)
    with pytest.raises(TypeError, match=r"argument 0\['b'\] has dtype float64, but holomorphic"):
        fgrad.jacfwd(lambda p: p["a"] * p["b"], holomorphic=True)({"a": 1j, "b": 2.0})
    with pytest.raises(
        TypeError, match=r"^grad\(.*<lambda>\): with holomorphic=True the function must return "
    ):
        fgrad.grad(lambda z: fnp.abs(z), holomorphic=True)(1j)


def test_forward_jacobians_of_complex_inputs_need_holomorphic() -> None:
    with pytest.raises(
        TypeError,
        match=r"^jacfwd\(exp\): argument 0 has dtype complex128, but forward-mode Jacobians "
        r"take real inputs",
    ):
        fgrad.jacfwd(fnp.exp)(np.array([1j]))
    with pytest.raises(TypeError, match=r"^hessian\(.*<lambda>\): argument 0 has dtype complex128"):
        fgrad.hessian(lambda z: fnp.abs(z) ** 2)(1j)


def test_a_complex_tangent_or_cotangent_of_a_real_value_is_refused() -> None:
    with pytest.raises(
        TypeError, match=r"^jvp\(sin\): tangent 0 has dtype complex128, but the primal has dtype"
    ):
        fgrad.jvp(fnp.sin, (1.0,), (1j,))
    with pytest.raises(TypeError, match=r"cotangent has dtype complex128, but the output leaf"):
        fgrad.vjp(fnp.sin, 1.0)[1](1j)


def test_rules_without_complex_support_refuse_complex_matrices() -> None:
    hermitian_svd = lambda a: fnp.linalg.svd(a, hermitian=True).S  # noqa: E731
    for fun in (hermitian_svd, fnp.linalg.pinv):
        with pytest.raises(TypeError, match="has no gradient rule for complex matrices yet"):
            fgrad.grad(lambda a, f=fun: fnp.sum(fnp.abs(f(a))))(cmatrix(2, 2))


def test_eigenvectors_of_eig_have_no_derivative() -> None:
    with pytest.raises(NotImplementedError, match="only the eigenvalues are differentiable"):
        fgrad.grad(lambda a: fnp.abs(fnp.linalg.eig(a).eigenvectors[0, 0]))(np.eye(2) + 0.1)


def test_jit_of_a_derivative_at_numpy_scalars_replays_what_eager_computes() -> None:
    # Eager differentiation turns a NumPy scalar argument into a 0-d array; NumPy divides
    # complex scalars with other code than arrays (last bits differ), so jit must convert too.
    z = np.complex128(0.41437085444588656 + 0.45545923378692865j)
    g = np.complex128(0.3 - 1.1j)

    def derivative(z: Any) -> Any:
        return fgrad.vjp(fnp.arctan, z)[1](g)[0]

    jitted = fgrad.jit(derivative)
    for point in (z, z * (1 + 1e-3), z * (1 - 2e-3)):
        got, want = jitted(point), derivative(point)
        assert type(got) is type(want)
        np.testing.assert_array_equal(got, want, strict=True)
    assert jitted.stats.replays == 2
