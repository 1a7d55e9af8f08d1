"""Unmodified NumPy code on traced arrays: dispatch, refusals and ndarray-like tracers.

A NumPy ufunc or function called on a tracer is routed to its ``fgrad.numpy``
rule (``__array_ufunc__``/``__array_function__``), a function without a rule
raises ``TypeError``, functions without a gradient return plain NumPy values,
and anything that would silently drop a gradient (conversion to an ndarray,
in-place writes) raises.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import fgrad
import fgrad.numpy as fnp
from fgrad._rules.declare import DECLARATIONS

X = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
W = np.array([[0.5, -1.0], [1.5, 0.3], [-0.2, 0.8]])
V = np.array([1.0, -2.0])


# --- NumPy calls differentiate like their fgrad.numpy counterparts ------------------------

DISPATCH: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "tanh": (lambda t: np.sum(np.tanh(t)), lambda t: fnp.sum(fnp.tanh(t))),
    "sum_axis0": (
        lambda t: np.sum(np.sum(t, axis=0) ** 2),
        lambda t: fnp.sum(fnp.sum(t, axis=0) ** 2),
    ),
    "dot": (lambda t: np.sum(np.dot(V, t) ** 2), lambda t: fnp.sum(fnp.dot(V, t) ** 2)),
    "matmul_tracer_left": (
        lambda t: np.sum(np.sin(t @ W)),
        lambda t: fnp.sum(fnp.sin(fnp.matmul(t, W))),
    ),
    "matmul_ndarray_left": (
        lambda t: np.sum(np.sin(W.T @ t.T)),
        lambda t: fnp.sum(fnp.sin(fnp.matmul(W.T, fnp.transpose(t)))),
    ),
    "numpy_scalar_left": (
        lambda t: np.sum(np.float64(2.0) * t * t),
        lambda t: fnp.sum(fnp.multiply(2.0, t * t)),
    ),
    "concatenate": (
        lambda t: np.sum(np.cos(np.concatenate([t, W.T], axis=0))),
        lambda t: fnp.sum(fnp.cos(fnp.concatenate([t, W.T], axis=0))),
    ),
    "linalg_norm": (lambda t: np.linalg.norm(t), lambda t: fnp.linalg.norm(t)),
    "where": (
        lambda t: np.sum(np.where(t > 0, t, 0) ** 2),
        lambda t: fnp.sum(fnp.where(t > 0, t, 0) ** 2),
    ),
    "mean": (lambda t: np.mean(np.exp(t)), lambda t: fnp.mean(fnp.exp(t))),
    "exp_method_sum": (lambda t: np.exp(t).sum(), lambda t: fnp.sum(fnp.exp(t))),
    "max_axis": (lambda t: np.max(t, axis=1).sum(), lambda t: fnp.sum(fnp.max(t, axis=1))),
    "clip_keywords": (
        lambda t: np.clip(t, min=-0.45, max=0.45).sum(),
        lambda t: fnp.sum(fnp.clip(t, -0.45, 0.45)),
    ),
    "einsum": (
        lambda t: np.einsum("ij,jk->", t, W),
        lambda t: fnp.einsum("ij,jk->", t, W),
    ),
    "reshape_transpose": (
        lambda t: np.sum(np.transpose(np.reshape(t, (3, 2))) * np.arange(6.0).reshape(2, 3)),
        lambda t: fnp.sum(fnp.transpose(fnp.reshape(t, (3, 2))) * np.arange(6.0).reshape(2, 3)),
    ),
}


@pytest.mark.parametrize(("numpy_fun", "fgrad_fun"), DISPATCH.values(), ids=DISPATCH.keys())
def test_numpy_calls_differentiate_like_fgrad_numpy(numpy_fun: Any, fgrad_fun: Any) -> None:
    value, grad = fgrad.value_and_grad(numpy_fun)(X)
    expected_value, expected_grad = fgrad.value_and_grad(fgrad_fun)(X)
    np.testing.assert_allclose(value, expected_value, rtol=1e-15)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-15)
    fgrad.check_grads(numpy_fun, (X,), order=2)


# --- NumPy functions without a rule refuse --------------------------------------------------

NO_RULE: dict[str, tuple[Callable[[Any], Any], str]] = {
    "hfft": (lambda t: np.fft.hfft(t), "numpy.fft.hfft"),
    "add_reduce": (lambda t: np.add.reduce(t), "numpy.add.reduce"),
    "multiply_outer": (lambda t: np.multiply.outer(t, t), "numpy.multiply.outer"),
    "convolve": (lambda t: np.convolve(t[0], t[1]), "numpy.convolve"),
    "correlate": (lambda t: np.correlate(t[0], t[1]), "numpy.correlate"),
}


@pytest.mark.parametrize(("fun", "name"), NO_RULE.values(), ids=NO_RULE.keys())
def test_numpy_function_without_rule_raises(fun: Any, name: str) -> None:
    with pytest.raises(TypeError, match="custom_vjp") as info:
        fgrad.grad(lambda t: fnp.sum(fun(t)))(X)
    message = str(info.value)
    assert name in message
    assert "fgrad.numpy" in message


def test_invalid_matrix_norm_order_raises() -> None:
    with pytest.raises(ValueError, match="Invalid norm order"):
        fgrad.grad(lambda t: np.linalg.norm(t, 3))(X)


def test_svd_of_non_square_needs_thin_matrices() -> None:
    with pytest.raises(TypeError, match="full_matrices=False"):
        fgrad.grad(lambda t: np.sum(np.linalg.svd(t)[0]))(X)
    with pytest.raises(TypeError, match="full_matrices=False"):
        fgrad.grad(lambda t: np.sum(np.linalg.svd(t, compute_uv=True)[1]))(X)
    expected = fgrad.grad(lambda t: fnp.sum(fnp.linalg.svdvals(t)))(X)
    singular_values = fgrad.grad(lambda t: np.sum(np.linalg.svd(t, compute_uv=False)))
    np.testing.assert_allclose(singular_values(X.T), expected.T, rtol=1e-15)


@pytest.mark.parametrize(
    "fun",
    [
        pytest.param(fnp.real, id="real"),
        pytest.param(fnp.conj, id="conj"),
        pytest.param(fnp.imag, id="imag"),
    ],
)
def test_complex_parts_of_complex_tracers_differentiate(fun: Any) -> None:
    grad = fgrad.grad(lambda t: fnp.sum(fnp.real(fun(fnp.astype(t, np.complex128) * 1j))))(X)
    expected = {fnp.real: 0.0, fnp.conj: 0.0, fnp.imag: 1.0}[fun]
    np.testing.assert_array_equal(grad, np.full_like(X, expected), strict=True)


# NumPy functions given rules beyond HIPS autograd's set: ``np.*`` on a tracer ``t`` (2x3)
# equals the ``fgrad.numpy`` call, in value and gradient. Their derivatives are checked in
# test_numpy_grads.
_S = np.array([[2.0, 0.5], [0.5, 1.0]])


def _sym(t: Any) -> Any:
    return t[:, :2] @ t[:, :2].T + _S


REGISTERED: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "nan_to_num": (lambda t: np.nan_to_num(t / t), lambda t: fnp.nan_to_num(t / t)),
    "real": (lambda t: np.real(t) * t, lambda t: fnp.real(t) * t),
    "conj_ufunc": (lambda t: np.conj(t) * t, lambda t: fnp.conj(t) * t),
    "conjugate_method_free": (lambda t: np.conjugate(t) ** 2, lambda t: t**2),
    "copy": (lambda t: np.copy(t) * t, lambda t: t * t),
    "select": (
        lambda t: np.select([t > 0.4, t < 0], [t, t**2], 1.0),
        lambda t: fnp.select([t > 0.4, t < 0], [t, t**2], 1.0),
    ),
    "diff": (lambda t: np.diff(t, axis=0, append=t[:1]), lambda t: fnp.diff(t, 1, 0, append=t[:1])),
    "ediff1d": (lambda t: np.ediff1d(t, to_end=t[0]), lambda t: fnp.ediff1d(t, to_end=t[0])),
    "cross": (lambda t: np.cross(t[0], t[1]), lambda t: fnp.cross(t[0], t[1])),
    "append": (lambda t: np.append(t, t[0]), lambda t: fnp.append(t, t[0])),
    "insert": (lambda t: np.insert(t, 1, t[0], axis=0), lambda t: fnp.insert(t, 1, t[0], axis=0)),
    "delete": (lambda t: np.delete(t, [0, 2], axis=1), lambda t: fnp.delete(t, [0, 2], axis=1)),
    "rot90": (lambda t: np.rot90(t) @ t, lambda t: fnp.rot90(t) @ t),
    "rollaxis": (lambda t: np.rollaxis(t, 1), lambda t: fnp.rollaxis(t, 1)),
    "dsplit": (
        lambda t: np.dsplit(t.reshape(1, 2, 3), [1])[1],
        lambda t: fnp.dsplit(fnp.reshape(t, (1, 2, 3)), [1])[1],
    ),
    "partition": (lambda t: np.partition(t, 1) * X, lambda t: fnp.partition(t, 1) * X),
    "trapezoid": (lambda t: np.trapezoid(t, t[0]), lambda t: fnp.trapezoid(t, t[0])),
    "gradient": (lambda t: np.gradient(t, axis=1), lambda t: fnp.gradient(t, axis=1)),
    "interp": (
        lambda t: np.interp(t, [-2.0, 0.0, 3.0], [1.0, -1.0, 2.0]),
        lambda t: fnp.interp(t, np.array([-2.0, 0.0, 3.0]), np.array([1.0, -1.0, 2.0])),
    ),
    "full_like": (lambda t: np.full_like(t, t[0, 0]), lambda t: fnp.full(X.shape, t[0, 0])),
    "nansum": (lambda t: np.nansum(t / t[0]), lambda t: fnp.nansum(t / t[0])),
    "nanmean": (lambda t: np.nanmean(t, axis=0), lambda t: fnp.nanmean(t, axis=0)),
    "nanprod": (lambda t: np.nanprod(t, axis=1), lambda t: fnp.nanprod(t, axis=1)),
    "nanmax": (lambda t: np.nanmax(t, axis=1), lambda t: fnp.nanmax(t, axis=1)),
    "nanmin": (lambda t: np.nanmin(t), lambda t: fnp.nanmin(t)),
    "nanvar": (lambda t: np.nanvar(t, ddof=1), lambda t: fnp.nanvar(t, ddof=1)),
    "nanstd": (lambda t: np.nanstd(t, axis=1), lambda t: fnp.nanstd(t, axis=1)),
    "nancumsum": (lambda t: np.nancumsum(t), lambda t: fnp.nancumsum(t)),
    "nancumprod": (lambda t: np.nancumprod(t, axis=1), lambda t: fnp.nancumprod(t, axis=1)),
    "ptp": (lambda t: np.ptp(t, axis=0), lambda t: fnp.ptp(t, axis=0)),
    "median": (lambda t: np.median(t, axis=1), lambda t: fnp.median(t, axis=1)),
    "eigh": (
        lambda t: np.linalg.eigh(_sym(t)).eigenvalues,
        lambda t: fnp.linalg.eigh(_sym(t)).eigenvalues,
    ),
    "eigvalsh": (lambda t: np.linalg.eigvalsh(_sym(t)), lambda t: fnp.linalg.eigvalsh(_sym(t))),
    "svd": (
        lambda t: np.linalg.svd(t, full_matrices=False).S,
        lambda t: fnp.linalg.svdvals(t),
    ),
    "svdvals": (lambda t: np.linalg.svdvals(t), lambda t: fnp.linalg.svdvals(t)),
    "pinv": (lambda t: np.linalg.pinv(t), lambda t: fnp.linalg.pinv(t)),
    "matrix_power": (
        lambda t: np.linalg.matrix_power(_sym(t), 3),
        lambda t: fnp.linalg.matrix_power(_sym(t), 3),
    ),
    "multi_dot": (
        lambda t: np.linalg.multi_dot([t[0], t.T, t]),
        lambda t: fnp.linalg.multi_dot([t[0], t.T, t]),
    ),
    "cond": (lambda t: np.linalg.cond(t), lambda t: fnp.linalg.cond(t)),
    "norm_nuc": (lambda t: np.linalg.norm(t, "nuc"), lambda t: fnp.linalg.norm(t, "nuc")),
    "norm_2": (lambda t: np.linalg.norm(t, 2), lambda t: fnp.linalg.norm(t, 2)),
    "matrix_transpose": (lambda t: np.matrix_transpose(t) @ t, lambda t: t.T @ t),
    "linalg_matrix_transpose": (lambda t: np.linalg.matrix_transpose(t) @ t, lambda t: t.T @ t),
    "vector_norm": (
        lambda t: np.linalg.vector_norm(t, axis=0, ord=3),
        lambda t: fnp.linalg.vector_norm(t, axis=0, ord=3),
    ),
    "matrix_norm": (
        lambda t: np.linalg.matrix_norm(t, ord="nuc"),
        lambda t: fnp.linalg.norm(t, "nuc"),
    ),
    "vecdot": (lambda t: np.linalg.vecdot(t, t[0]), lambda t: fnp.linalg.vecdot(t, t[0])),
    "linalg_outer": (lambda t: np.linalg.outer(t[0], t[1]), lambda t: fnp.outer(t[0], t[1])),
    "linalg_cross": (lambda t: np.linalg.cross(t[0], t[1]), lambda t: fnp.cross(t[0], t[1])),
    "linalg_diagonal": (lambda t: np.linalg.diagonal(t), lambda t: fnp.diagonal(t)),
    "linalg_trace": (lambda t: np.linalg.trace(t), lambda t: fnp.trace(t)),
    "linalg_matmul": (lambda t: np.linalg.matmul(t, t.T), lambda t: t @ t.T),
    "linalg_tensordot": (
        lambda t: np.linalg.tensordot(t, t, axes=2),
        lambda t: fnp.tensordot(t, t, 2),
    ),
}


@pytest.mark.parametrize(("numpy_fun", "fgrad_fun"), REGISTERED.values(), ids=REGISTERED.keys())
def test_numpy_calls_of_added_rules(numpy_fun: Any, fgrad_fun: Any) -> None:
    cotangent = np.random.default_rng(3).standard_normal(np.shape(numpy_fun(X)))

    def loss(f: Any) -> Any:
        return lambda t: fnp.sum(fnp.nan_to_num(f(t)) * cotangent)

    value, grad = fgrad.value_and_grad(loss(numpy_fun))(X)
    expected_value, expected_grad = fgrad.value_and_grad(loss(fgrad_fun))(X)
    np.testing.assert_allclose(value, expected_value, rtol=1e-15)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-15)


# --- functions without a gradient return plain NumPy values ---------------------------------

PASS_THROUGH: dict[str, Callable[[Any], Any]] = {
    "argmax": np.argmax,
    "argmin_axis": lambda t: np.argmin(t, axis=1),
    "argsort": np.argsort,
    "greater": lambda t: t > 0,
    "less_equal_ufunc": lambda t: np.less_equal(t, 0.5),
    "equal": lambda t: t == t,
    "floor": np.floor,
    "ceil": np.ceil,
    "round": np.round,
    "round_method": lambda t: t.round(1),
    "sign": np.sign,
    "shape": np.shape,
    "ndim": np.ndim,
    "size": np.size,
    "zeros_like": np.zeros_like,
    "ones_like": np.ones_like,
    "full_like": lambda t: np.full_like(t, 7.0),
    "isnan": np.isnan,
    "isfinite": np.isfinite,
    "nonzero": lambda t: np.nonzero(t > 0),
    "count_nonzero": lambda t: np.count_nonzero(t > 0),
    "allclose": lambda t: np.allclose(t, 0.0),
    "searchsorted": lambda t: np.searchsorted(np.sort(X[0]), t[0]),
}


def _has_tracer(obj: Any) -> bool:
    if isinstance(obj, fgrad.Tracer):
        return True
    if isinstance(obj, (tuple, list)):
        return any(_has_tracer(o) for o in obj)
    return False


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, tuple):
        return isinstance(b, tuple) and len(a) == len(b) and all(map(_equal, a, b))
    if isinstance(a, np.dtype):
        return a == b
    return type(a) is type(b) and bool(np.array_equal(a, b))


@pytest.mark.parametrize("fun", PASS_THROUGH.values(), ids=PASS_THROUGH.keys())
def test_non_differentiable_functions_return_plain_values(fun: Any) -> None:
    seen = []

    def f(t: Any) -> Any:
        seen.append(fun(t))
        return fnp.sum(t * t)

    np.testing.assert_allclose(fgrad.grad(f)(X), 2 * X)
    (result,) = seen
    assert not _has_tracer(result)
    assert _equal(result, fun(X))


# NumPy 2.5 deprecates numpy.fix; rounding toward zero is numpy.trunc.
NUMPY_REFERENCE: dict[str, Callable[..., Any]] = {"fix": np.trunc}

# Every function of fgrad.numpy without a gradient, and how to call it on a tracer ``t``
# (``f`` is the fgrad.numpy function or, for the expected value, NumPy's).
NON_DIFFERENTIABLE: dict[str, Callable[[Any, Any], Any]] = {
    "all": lambda f, t: f(t > 0, axis=0),
    "allclose": lambda f, t: f(t, 0.5),
    "any": lambda f, t: f(t > 0),
    "argmax": lambda f, t: f(t, axis=1),
    "argmin": lambda f, t: f(t),
    "argsort": lambda f, t: f(t, axis=0),
    "around": lambda f, t: f(t, 1),
    "array_equal": lambda f, t: f(t, t),
    "bitwise_and": lambda f, t: f(t > 0, t < 1),
    "bitwise_or": lambda f, t: f(t > 0, t < -1),
    "bitwise_xor": lambda f, t: f(t > 0, t < 1),
    "invert": lambda f, t: f(t > 0),
    "ceil": lambda f, t: f(t),
    "count_nonzero": lambda f, t: f(t > 0),
    "digitize": lambda f, t: f(t, np.array([0.0, 1.0])),
    "empty_like": lambda f, t: f(t).shape,
    "equal": lambda f, t: f(t, 0.5),
    "fix": lambda f, t: f(t),
    "flatnonzero": lambda f, t: f(t > 0),
    "floor": lambda f, t: f(t),
    "floor_divide": lambda f, t: f(t, 0.3),
    "argpartition": lambda f, t: f(t, 1, axis=1),
    "nanargmax": lambda f, t: f(t, axis=0),
    "nanargmin": lambda f, t: f(t),
    "greater": lambda f, t: f(t, 0.5),
    "greater_equal": lambda f, t: f(0.5, t),
    "isclose": lambda f, t: f(t, 0.5),
    "iscomplexobj": lambda f, t: f(t),
    "isfinite": lambda f, t: f(t),
    "isinf": lambda f, t: f(t),
    "isnan": lambda f, t: f(t),
    "less": lambda f, t: f(t, 0.5),
    "less_equal": lambda f, t: f(t, 0.5),
    "logical_and": lambda f, t: f(t > 0, t < 1),
    "logical_not": lambda f, t: f(t > 0),
    "logical_or": lambda f, t: f(t > 0, t < -1),
    "logical_xor": lambda f, t: f(t > 0, t < 1),
    "ndim": lambda f, t: f(t),
    "nonzero": lambda f, t: f(t > 0),
    "not_equal": lambda f, t: f(t, 0.5),
    "ones_like": lambda f, t: f(t),
    "result_type": lambda f, t: f(t, np.float32),
    "rint": lambda f, t: f(t),
    "round": lambda f, t: f(t, 1),
    "searchsorted": lambda f, t: f(np.array([-1.0, 0.0, 1.0]), t),
    "shape": lambda f, t: f(t),
    "sign": lambda f, t: f(t),
    "signbit": lambda f, t: f(t),
    "size": lambda f, t: f(t),
    "trunc": lambda f, t: f(t),
    "zeros_like": lambda f, t: f(t),
    "lexsort": lambda f, t: f(t),
    "argwhere": lambda f, t: f(t > 0),
    "isneginf": lambda f, t: f(t),
    "isposinf": lambda f, t: f(t),
    "isreal": lambda f, t: f(t),
    "iscomplex": lambda f, t: f(t),
    "isrealobj": lambda f, t: f(t),
}


def _classed_piecewise_constant(namespace: str) -> set[str]:
    return {
        short
        for short, entry in DECLARATIONS[namespace].items()
        if entry.differentiability == "piecewise_constant"
    }


def test_non_differentiable_list_is_complete() -> None:
    assert _classed_piecewise_constant("numpy") == set(NON_DIFFERENTIABLE)
    assert _classed_piecewise_constant("numpy.linalg") == {"matrix_rank"}


def test_matrix_rank_untraces() -> None:
    seen = []

    def f(t: Any) -> Any:
        seen.append((fnp.linalg.matrix_rank(t), np.linalg.matrix_rank(t @ t.T)))
        return fnp.sum(t)

    fgrad.grad(f)(X)
    assert seen == [(2, 2)]
    assert not _has_tracer(seen[0])


@pytest.mark.parametrize(
    ("name", "call"), NON_DIFFERENTIABLE.items(), ids=NON_DIFFERENTIABLE.keys()
)
def test_fgrad_numpy_non_differentiable_functions_untrace(name: str, call: Any) -> None:
    seen = []

    def f(t: Any) -> Any:
        seen.append(call(getattr(fnp, name), t))
        return fnp.sum(t)

    np.testing.assert_array_equal(fgrad.grad(f)(X), np.ones_like(X))
    (result,) = seen
    assert not _has_tracer(result)
    assert _equal(result, call(NUMPY_REFERENCE.get(name, getattr(np, name)), X))


# --- refusals of gradient-dropping operations --------------------------------------------


def _inside_grad(action: Callable[[Any], Any]) -> None:
    def f(t: Any) -> Any:
        action(t)
        return fnp.sum(t)

    fgrad.grad(f)(X)


@pytest.mark.parametrize(
    "action",
    [
        pytest.param(np.asarray, id="asarray"),
        pytest.param(np.array, id="array"),
        pytest.param(lambda t: np.asarray(t, dtype=np.float64), id="asarray_dtype"),
    ],
)
def test_conversion_to_ndarray_raises(action: Any) -> None:
    with pytest.raises(TypeError, match="stop_gradient"):
        _inside_grad(action)


def _assign_all(t: Any) -> None:
    a = np.zeros((2, 3))
    a[...] = t


def _assign_row(t: Any) -> None:
    a = np.zeros((2, 3))
    a[0] = t[1]


def _assign_element(t: Any) -> None:
    a = np.zeros(3)
    a[0] = t[0, 0]


@pytest.mark.parametrize(
    "action",
    [
        pytest.param(_assign_all, id="ellipsis"),
        pytest.param(_assign_row, id="row"),
        # NumPy re-raises the TypeError of Tracer.__float__ as a ValueError, chained.
        pytest.param(_assign_element, id="element"),
    ],
)
def test_assignment_of_tracer_into_ndarray_raises(action: Any) -> None:
    with pytest.raises((TypeError, ValueError)) as info:
        _inside_grad(action)
    error = info.value if isinstance(info.value, TypeError) else info.value.__cause__
    assert isinstance(error, TypeError)
    assert "gradient" in str(error)


@pytest.mark.parametrize(
    "action",
    [
        pytest.param(lambda t: t.__setitem__(0, 1.0), id="int"),
        pytest.param(lambda t: t.__setitem__((Ellipsis, 1), 1.0), id="ellipsis"),
        pytest.param(lambda t: t.__setitem__(t > 0, 0.0), id="mask"),
    ],
)
def test_assignment_into_tracer_raises(action: Any) -> None:
    with pytest.raises(TypeError, match="not differentiable"):
        _inside_grad(action)


@pytest.mark.parametrize(
    "action",
    [
        pytest.param(lambda t: np.add(np.zeros((2, 3)), t, out=np.zeros((2, 3))), id="ufunc"),
        pytest.param(lambda t: np.exp(t, out=np.zeros((2, 3))), id="unary_ufunc"),
        pytest.param(lambda t: np.sum(t, axis=0, out=np.zeros(3)), id="sum"),
        pytest.param(lambda t: np.dot(t, W, out=np.zeros((2, 2))), id="dot"),
        pytest.param(lambda t: np.clip(t, 0.0, 1.0, out=np.zeros((2, 3))), id="clip"),
    ],
)
def test_out_argument_raises(action: Any) -> None:
    with pytest.raises(TypeError, match="out="):
        _inside_grad(action)


def test_out_argument_into_the_input_raises() -> None:
    def f(t: Any) -> Any:
        a = np.ones((2, 3))
        np.add(a, t, out=a)
        return fnp.sum(t)

    with pytest.raises(TypeError, match="in-place"):
        fgrad.grad(f)(X)


# --- tracers behave like ndarrays -----------------------------------------------------------


def test_tracer_attributes() -> None:
    def f(t: Any) -> Any:
        assert t.shape == (2, 3)
        assert t.ndim == 2
        assert t.dtype == np.float64
        assert t.size == 6
        assert len(t) == 2
        assert t.T.shape == (3, 2)
        assert t.transpose().shape == (3, 2)
        assert t.transpose(1, 0).shape == (3, 2)
        assert t.transpose((1, 0)).shape == (3, 2)
        return fnp.sum(t)

    fgrad.grad(f)(X)


METHODS: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "T": (lambda t: (t.T @ V).sum(), lambda t: fnp.sum(fnp.matmul(fnp.transpose(t), V))),
    "iteration": (
        lambda t: sum(k * row.sum() for k, row in enumerate(t, 1)),
        lambda t: fnp.sum(t * np.array([[1.0], [2.0]])),
    ),
    "sum": (lambda t: (t.sum(axis=0) ** 2).sum(), lambda t: fnp.sum(fnp.sum(t, axis=0) ** 2)),
    "mean": (lambda t: t.mean() ** 2, lambda t: fnp.mean(t) ** 2),
    "reshape_varargs": (
        lambda t: (t.reshape(3, 2) @ V).sum(),
        lambda t: fnp.sum(fnp.matmul(fnp.reshape(t, (3, 2)), V)),
    ),
    "reshape_tuple": (
        lambda t: (t.reshape((3, 2)) @ V).sum(),
        lambda t: fnp.sum(fnp.matmul(fnp.reshape(t, (3, 2)), V)),
    ),
    "reshape_numpy_int": (
        lambda t: (t.reshape(np.int64(6)) ** 2).sum(),
        lambda t: fnp.sum(fnp.reshape(t, (6,)) ** 2),
    ),
    "transpose": (
        lambda t: (t.transpose() @ V).sum(),
        lambda t: fnp.sum(fnp.matmul(fnp.transpose(t), V)),
    ),
    "dot": (lambda t: (t.dot(W) ** 2).sum(), lambda t: fnp.sum(fnp.dot(t, W) ** 2)),
    "max": (lambda t: t.max() + t.max(axis=0).sum(), lambda t: fnp.max(t) + fnp.sum(fnp.max(t, 0))),
    "astype": (
        lambda t: (t.astype(np.float32) * t).astype(np.float64).sum(),
        lambda t: fnp.sum(fnp.astype(fnp.astype(t, np.float32) * t, np.float64)),
    ),
    "clip": (
        lambda t: (t.clip(-0.5, 0.5) * t).sum(),
        lambda t: fnp.sum(fnp.clip(t, -0.5, 0.5) * t),
    ),
    "clip_keywords": (lambda t: t.clip(max=0.5).sum(), lambda t: fnp.sum(fnp.clip(t, None, 0.5))),
    "complex_parts": (
        lambda t: (t.conj() * t.real + t.imag + t.conjugate()).sum(),
        lambda t: fnp.sum(t * t + t),
    ),
}


@pytest.mark.parametrize(("method_fun", "fgrad_fun"), METHODS.values(), ids=METHODS.keys())
def test_tracer_methods_differentiate(method_fun: Any, fgrad_fun: Any) -> None:
    value, grad = fgrad.value_and_grad(method_fun)(X)
    expected_value, expected_grad = fgrad.value_and_grad(fgrad_fun)(X)
    np.testing.assert_allclose(value, expected_value, rtol=1e-6)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-15)
    assert grad.dtype == np.float64


def test_len_of_0d_tracer_raises() -> None:
    with pytest.raises(TypeError, match="0-d"):
        fgrad.grad(lambda t: len(t) * t)(1.0)


# --- functional indexed updates: x.at[index] ------------------------------------------------


def test_at_on_a_tracer_is_the_function_form_and_leaves_the_input_unchanged() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0])
    seen = []

    def f(t: Any) -> Any:
        updated = t.at[[0, 2, 0]].add(np.array([1.0, 2.0, 3.0]))
        seen.append(fgrad.values.concrete(t).copy())
        return fnp.sum(updated * t.at[1:3].set(0.0) + t.at[3].get())

    grad = fgrad.grad(f)(x)
    np.testing.assert_array_equal(seen[0], x)
    # d/dx_i of sum((x + u) * x_with_zeros) + 4 * x[3]: 2 x_i + u_i off the zeros, 0 + 0 on them
    np.testing.assert_array_equal(grad, [2 * 1.0 + 4.0, 0.0 + 0.0, 0.0 + 0.0, 2 * 4.0 + 4.0])
    np.testing.assert_array_equal(fnp.at(x)[[0, 2, 0]].add(np.array([1.0, 2.0, 3.0])),
                                  [5.0, 2.0, 5.0, 4.0])  # fmt: skip
    assert "IndexUpdateRef" in repr(fnp.at(x)[0]) and "IndexUpdateHelper" in repr(fnp.at(x))


def test_at_set_with_repeated_indices_keeps_the_last_update_and_its_gradient_only() -> None:
    values = np.array([1.0, 2.0, 3.0])

    def f(v: Any) -> Any:
        return fnp.sum(fnp.at(np.zeros(2))[[0, 1, 0]].set(v) * np.array([10.0, 100.0]))

    np.testing.assert_array_equal(fnp.at(np.zeros(2))[[0, 1, 0]].set(values), [3.0, 2.0])
    np.testing.assert_array_equal(fgrad.grad(f)(values), [0.0, 100.0, 10.0])


def test_at_refuses_values_that_do_not_fit_the_index() -> None:
    with pytest.raises(ValueError, match=r"values of shape \(3,\) cannot be broadcast to the "
                       r"shape \(2,\) of x\[index\] \(x has shape \(4,\)\)"):  # fmt: skip
        fgrad.grad(lambda x: fnp.sum(x.at[:2].set(x[:3])))(np.ones(4))


def test_at_under_jit_replays_with_new_values_and_retraces_on_new_indices() -> None:
    def f(x: Any, i: Any) -> Any:
        return fgrad.grad(lambda x: fnp.sum(x.at[i].multiply(x[0]) ** 2))(x)

    jitted = fgrad.jit(f)
    x = np.array([1.0, 2.0, 3.0])
    for point, index in [(x, np.array([1, 1])), (2 * x, np.array([1, 1])), (x, np.array([2]))]:
        np.testing.assert_array_equal(jitted(point, index), f(point, index))


# --- array-likes of traced values -------------------------------------------------------------


def test_lists_of_tracers_become_arrays_only_where_numpy_takes_an_array() -> None:
    from fgrad._rules.array_likes import _ROLES

    def f(t: Any) -> Any:
        a = fnp.mean([t[0], t[1]])
        b = fnp.concatenate([[t[0], 1.0], t])
        c = fnp.pad(t, [(1, 2)])
        return a + fnp.sum(b) + fnp.sum(c)

    np.testing.assert_array_equal(fgrad.grad(f)(np.array([1.0, 2.0])), [3.5, 2.5])
    mean, concatenate, pad = (
        DECLARATIONS["numpy"][n].numpy_fns[0] for n in ("mean", "concatenate", "pad")
    )
    assert _ROLES[mean, 0] == "array"
    assert _ROLES[concatenate, 0] == "sequence"
    assert _ROLES[pad, 1] == "other"


def test_elementwise_functions_take_lists_and_tuples_of_tracers() -> None:
    def f(t: Any) -> Any:
        return fnp.sum(fnp.tanh([t[0], 2.0 * t[1]])) + fnp.sum(fnp.exp((t[1], 1.0)))

    t = np.array([0.3, -0.4])
    expected = [1 - np.tanh(0.3) ** 2, 2 * (1 - np.tanh(-0.8) ** 2) + np.exp(-0.4)]
    np.testing.assert_allclose(fgrad.grad(f)(t), expected, rtol=1e-15)
    np.testing.assert_array_equal(fnp.tanh([0.3, -0.4]), np.tanh([0.3, -0.4]))
    assert fnp.exp is DECLARATIONS["numpy"]["exp"].fn  # no wrapper: it converts lists itself


def test_plain_numpy_on_a_list_of_tracers_has_no_hook_and_raises() -> None:
    # NumPy dispatches on the arguments, not on the elements of a list: np.mean([t, t]) and
    # np.array([t, t]) convert the tracers themselves. fgrad.numpy's functions take them.
    for call in (lambda t: np.mean([t[0], t[1]]), lambda t: np.array([t[0], t[1]])):
        with pytest.raises(TypeError, match="converted to a plain NumPy array"):
            fgrad.grad(call)(np.ones(2))
    assert fgrad.grad(lambda t: np.mean(fnp.array([t[0], t[1]])))(np.ones(2)).tolist() == [0.5, 0.5]


def test_probing_numpy_for_array_arguments_computes_nothing() -> None:
    from fgrad._rules.array_likes import _learn_roles

    _overrides = getattr(np, "_core", None) or np.core  # NumPy 2 renamed np.core
    _overrides = _overrides.overrides

    calls = []

    @_overrides.array_function_dispatch(lambda a, b: (a,))
    def counted(a: Any, b: Any) -> Any:
        calls.append(1)
        return a

    _learn_roles(counted, ([1.0, 2.0], [3.0]), {})
    _learn_roles(np.concatenate, ([[1.0], [2.0]],), {"axis": (0,)})
    assert calls == []
    from fgrad._rules.array_likes import _ROLES

    assert (_ROLES[counted, 0], _ROLES[counted, 1]) == ("array", "other")
    assert (_ROLES[np.concatenate, 0], _ROLES[np.concatenate, "axis"]) == ("sequence", "other")


# --- casts to integers and bools, complex tests ------------------------------------------------


@pytest.mark.parametrize("dtype", [int, np.int32, bool])
def test_casts_to_integers_and_bools_are_plain_values(dtype: Any) -> None:
    x = np.array([1.5, -2.5, 0.0])

    casts = []

    def f(t: Any) -> Any:
        casts.extend([t.astype(dtype), fnp.astype(t, dtype), fnp.asarray(t, dtype=dtype)])
        return fnp.sum(t * t.astype(dtype))

    np.testing.assert_array_equal(fgrad.grad(f)(x), x.astype(dtype).astype(float))
    for cast in casts:
        assert type(cast) is np.ndarray and cast.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(cast, x.astype(dtype))
    np.testing.assert_array_equal(fgrad.jit(fgrad.grad(f))(x), fgrad.grad(f)(x))
    np.testing.assert_array_equal(
        fgrad.vmap(fgrad.grad(f))(np.stack([x, 2 * x])),
        [fgrad.grad(f)(x), fgrad.grad(f)(2 * x)],
    )


def test_complex_tests_are_plain_values_on_tracers() -> None:
    seen = []

    def f(t: Any) -> Any:
        seen.extend([fnp.iscomplex(t), fnp.isreal(t), fnp.iscomplexobj(t), fnp.isrealobj(t),
                     np.iscomplexobj(t), np.isrealobj(t)])  # fmt: skip
        return fnp.sum(t)

    fgrad.grad(f)(np.ones(2))
    assert [np.asarray(s).tolist() for s in seen] == [
        [False, False],
        [True, True],
        False,
        True,
        False,
        True,
    ]
