"""float32 in, float32 out: results, cotangents and gradients keep the input's precision.

The gradient a transform returns is cast to the argument's dtype anyway, so the
cotangents are also observed *inside* the computation, with an identity
``custom_vjp`` whose backward rule records the dtype of what reaches it: a rule
that promoted to float64 (say through a NumPy float64 scalar) shows up there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import fgrad
import fgrad.numpy as fnp
from fgrad._core import concrete
from fgrad._rules import special

X32 = np.array([[0.3, -1.2, 0.5], [1.1, 0.7, -0.4]], dtype=np.float32)
W32 = np.array([[0.5, -1.0], [1.5, 0.3], [-0.2, 0.8]], dtype=np.float32)
# float32 carries ~7 significant digits; results computed in float32 agree with the
# float64 computation to a few float32 ulps, amplified a little by the operations.
FLOAT32_RTOL = 1e-5
FLOAT32_ATOL = 1e-6

OPS: dict[str, Callable[[Any], Any]] = {
    "python_scalars": lambda t: 2.0 * t + t / 3.0 - 1.5 + t**2 + 1.0 / t + 2**t + t % 2.0,
    "numpy_float32_scalar": lambda t: np.float32(2.0) * t,
    "sum": lambda t: fnp.sum(t, axis=0),
    "mean": fnp.mean,
    "max": lambda t: fnp.max(t, axis=1),
    "prod": lambda t: fnp.prod(t, axis=-1, keepdims=True),
    "prod_with_zero": lambda t: fnp.prod(t * np.array([1, 0, 1], np.float32), axis=1),
    "var": lambda t: fnp.var(t, axis=0),
    "std": fnp.std,
    "cumsum": lambda t: fnp.cumsum(t, axis=1),
    "cumprod": fnp.cumprod,
    "logsumexp": lambda t: special.logsumexp(t, axis=1),
    "matmul": lambda t: t @ W32,
    "matmul_ndarray_left": lambda t: W32.T @ t.T,
    "dot": lambda t: fnp.dot(t, W32),
    "einsum": lambda t: fnp.einsum("ij,jk", t, W32),
    "tensordot": lambda t: fnp.tensordot(t, W32, 1),
    "norm": fnp.linalg.norm,
    "solve": lambda t: fnp.linalg.solve(t[:, :2], t[:, 2]),
    "det": lambda t: fnp.linalg.det(t[:, 1:]),
    "cholesky": lambda t: fnp.linalg.cholesky(t[:, :2] @ t[:, :2].T + np.eye(2, dtype=np.float32)),
    "sigmoid": special.sigmoid,
    "relu": special.relu,
    "softplus": special.softplus,
    "softmax": special.softmax,
    "log_softmax": lambda t: special.log_softmax(t, axis=0),
    "tanh": fnp.tanh,
    "exp_log": lambda t: fnp.log(fnp.exp(t) + 1.0),
    "sqrt_abs": lambda t: fnp.sqrt(fnp.abs(t)),
    "sinc": fnp.sinc,
    "power_traced_exponent": lambda t: fnp.power(fnp.abs(t), t),
    "where_clip_maximum": lambda t: fnp.where(
        t > 0, fnp.clip(t, -0.45, 0.45), fnp.maximum(t, -1.0)
    ),
    "getitem_pad": lambda t: fnp.pad(t[[0, 0, 1], ::2], 1),
    "nan_to_num": lambda t: fnp.nan_to_num(t / fnp.sign(t + 0.5)),
    "select": lambda t: fnp.select([t > 0.4, t < 0], [t, t**2], 0.5),
    "nansum_nanmean": lambda t: fnp.nansum(t, axis=0) + fnp.nanmean(t, axis=0),
    "nanvar_nanmax": lambda t: fnp.nanvar(t, axis=1) + fnp.nanmax(t, axis=1),
    "median": lambda t: fnp.median(t, axis=1),
    "diff_ediff1d": lambda t: fnp.sum(fnp.diff(t, prepend=np.float32(0.5))) + fnp.ediff1d(t),
    "cross": lambda t: fnp.cross(t[0], t[1]),
    "insert_delete_rot90": lambda t: fnp.rot90(
        fnp.delete(fnp.insert(t, 1, 2.0, axis=1), 0, axis=1)
    ),
    "trapezoid": lambda t: fnp.trapezoid(t, t[0]),
    "gradient": lambda t: fnp.gradient(t, 0.5, axis=1, edge_order=2),
    "eigh": lambda t: fnp.linalg.eigh(t @ t.T + np.eye(2, dtype=np.float32)).eigenvalues,
    "svd": lambda t: fnp.linalg.svd(t, full_matrices=False).S,
    "pinv": fnp.linalg.pinv,
    "matrix_power_multi_dot": lambda t: fnp.linalg.multi_dot(
        [t.T, fnp.linalg.matrix_power(t[:, :2] + np.eye(2, dtype=np.float32), -2), t]
    ),
    "cond_nuclear_norm": lambda t: fnp.linalg.cond(t) + fnp.linalg.norm(t, "nuc"),
}


def _recording_identity(seen: list[np.dtype[Any]]) -> Any:
    @fgrad.custom_vjp
    def identity(x: Any) -> Any:
        return x

    def bwd(_: Any, g: Any) -> tuple[Any]:
        seen.append(np.result_type(concrete(g)))
        return (g,)

    identity.defvjp(lambda x: (x, None), bwd)
    return identity


@pytest.mark.parametrize("op", OPS.values(), ids=OPS.keys())
def test_float32_in_float32_out(op: Callable[[Any], Any]) -> None:
    seen: list[np.dtype[Any]] = []
    identity = _recording_identity(seen)
    assert np.result_type(op(X32)) == np.float32

    out, pullback = fgrad.vjp(lambda t: op(identity(t)), X32)
    assert np.result_type(out) == np.float32
    cotangent = np.linspace(-1.0, 1.0, np.size(out), dtype=np.float32).reshape(np.shape(out))
    (grad,) = pullback(cotangent)
    assert grad.dtype == np.float32
    assert seen == [np.float32]

    out64, pullback64 = fgrad.vjp(op, X32.astype(np.float64))
    np.testing.assert_allclose(out, out64, rtol=FLOAT32_RTOL, atol=FLOAT32_ATOL)
    (grad64,) = pullback64(cotangent.astype(np.float64))
    np.testing.assert_allclose(grad, grad64, rtol=FLOAT32_RTOL, atol=FLOAT32_ATOL)

    # Second order: the cotangents of the derivative stay float32 too.
    seen.clear()

    def squared_gradient(t: Any) -> Any:
        g = fgrad.vjp(lambda s: op(identity(s)), t)[1](cotangent)[0]
        return fnp.sum(g * g)

    value, grad2 = fgrad.value_and_grad(squared_gradient)(X32)
    assert np.result_type(value) == np.float32
    assert grad2.dtype == np.float32
    assert seen and set(seen) == {np.dtype(np.float32)}


def test_float32_gradient_of_scalar_loss() -> None:
    def loss(w: Any, x: Any) -> Any:
        return fnp.mean(special.softplus(x @ w) - 0.5 * (x @ w))

    value, grad = fgrad.value_and_grad(loss)(W32, X32)
    assert np.result_type(value) == np.float32
    assert grad.dtype == np.float32


@pytest.mark.parametrize(
    "reduce",
    [
        pytest.param(lambda t, d: fnp.sum(t, axis=0, dtype=d), id="sum"),
        pytest.param(lambda t, d: fnp.mean(t, dtype=d), id="mean"),
        pytest.param(lambda t, d: fnp.var(t, axis=1, dtype=d), id="var"),
        pytest.param(lambda t, d: fnp.std(t, dtype=d), id="std"),
        pytest.param(lambda t, d: fnp.cumsum(t, dtype=d), id="cumsum"),
        pytest.param(lambda t, d: fnp.cumprod(t, axis=1, dtype=d), id="cumprod"),
    ],
)
def test_reduction_dtype_argument(reduce: Callable[[Any, Any], Any]) -> None:
    expected = reduce(X32, np.float64)
    out, pullback = fgrad.vjp(lambda t: reduce(t, np.float64), X32)
    assert np.result_type(out) == np.float64 == expected.dtype
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    (grad,) = pullback(np.ones(np.shape(out)))
    assert grad.dtype == np.float32
