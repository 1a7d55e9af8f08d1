"""Numerically stable compound functions used by neural networks.

These are primitives rather than compositions because a fused rule is both
faster and more accurate: ``sigmoid`` never overflows, ``logsumexp`` and
``softmax`` subtract the maximum, ``softplus`` is ``logaddexp(0, x)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from fgrad._core import Primitive, Tracer, bind1
from fgrad._rules._define import document, normalize_axes, shape_of
from fgrad._rules.elementwise import _mask, exp
from fgrad._rules.structural import _sum_fn, reshape

_EXP_FLOOR: dict[np.dtype[Any], Any] = {}


def _exp_floor(dtype: np.dtype[Any]) -> Any:
    """The most negative ``x`` whose ``exp(-x)`` is finite in ``dtype``."""
    floor = _EXP_FLOOR.get(dtype)
    if floor is None:
        floor = _EXP_FLOOR[dtype] = dtype.type(math.log(np.finfo(dtype).tiny))
    return floor


def _sigmoid_impl(x: Any) -> Any:
    if x.__class__ is not np.ndarray:
        x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    one = x.dtype.type(1)
    return one / (one + np.exp(-np.maximum(x, _exp_floor(x.dtype))))


def _sigmoid_vjp(g: Any, ans: Any, x: Any) -> Any:
    return g * (ans - ans * ans)


_SIGMOID = Primitive("sigmoid", _sigmoid_impl, (_sigmoid_vjp,))


def sigmoid(x: Any) -> Any:
    if x.__class__ is Tracer:
        return bind1(_SIGMOID, x, {})
    return _sigmoid_impl(x)




def _relu_vjp(g: Any, ans: Any, x: Any) -> Any:
    return g * _mask(np.asarray(ans) > 0 if ans.__class__ is not Tracer else ans > 0, g)


def _relu_impl(x: Any) -> Any:
    return np.maximum(x, 0)


_RELU = Primitive("relu", _relu_impl, (_relu_vjp,))


def relu(x: Any) -> Any:
    if x.__class__ is Tracer:
        return bind1(_RELU, x, {})
    return np.maximum(x, 0)




def softplus(x: Any) -> Any:
    if x.__class__ is Tracer:
        return bind1(_SOFTPLUS, x, {})
    return np.logaddexp(0, x)


_SOFTPLUS = Primitive("softplus", lambda x: np.logaddexp(0, x), (lambda g, ans, x: g * sigmoid(x),))


def _keep_shape(shape: tuple[int, ...], axis: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if i in axis else d for i, d in enumerate(shape))


def _logsumexp_impl(x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    x = np.asarray(x)
    peak = np.max(x, axis=axis, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0)
    out = np.log(np.sum(np.exp(x - peak), axis=axis, keepdims=True)) + peak
    return out if keepdims else np.reshape(out, np.delete(x.shape, axis) if axis else x.shape)


def _logsumexp_vjp(g: Any, ans: Any, x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    kept = _keep_shape(shape_of(x), axis)
    if not keepdims:
        g = reshape(g, kept)
        ans = reshape(ans, kept)
    return g * exp(x - ans)


_LOGSUMEXP = Primitive("logsumexp", _logsumexp_impl, (_logsumexp_vjp,))


def _logsumexp_fn(x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    if x.__class__ is Tracer:
        return bind1(_LOGSUMEXP, x, {"axis": axis, "keepdims": keepdims})
    return _logsumexp_impl(x, axis, keepdims)




def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return _logsumexp_fn(x, normalize_axes(axis, len(shape_of(x)), "logsumexp"), keepdims)


def _softmax_impl(x: Any, axis: tuple[int, ...]) -> Any:
    x = np.asarray(x)
    peak = np.max(x, axis=axis, keepdims=True)
    e = np.exp(x - np.where(np.isfinite(peak), peak, 0))
    return e / np.sum(e, axis=axis, keepdims=True)


def _softmax_vjp(g: Any, ans: Any, x: Any, axis: tuple[int, ...]) -> Any:
    weighted = g * ans
    return weighted - ans * _sum_fn(weighted, axis, True)


_SOFTMAX = Primitive("softmax", _softmax_impl, (_softmax_vjp,))


def _softmax_fn(x: Any, axis: tuple[int, ...]) -> Any:
    if x.__class__ is Tracer:
        return bind1(_SOFTMAX, x, {"axis": axis})
    return _softmax_impl(x, axis)




def softmax(x: Any, axis: Any = -1) -> Any:
    return _softmax_fn(x, normalize_axes(axis, len(shape_of(x)), "softmax"))


def log_softmax(x: Any, axis: Any = -1) -> Any:
    return x - logsumexp(x, axis, keepdims=True)


_X = "np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])"
_DOCS: list[tuple[Callable[..., Any], str, str, str]] = [
    (
        sigmoid,
        "Logistic sigmoid ``1 / (1 + exp(-x))``, without overflow for any ``x``.",
        "``g * s * (1 - s)``.",
        f"fgrad.check_grads(fgrad.nn.sigmoid, ({_X},))",
    ),
    (
        relu,
        "Rectified linear unit ``maximum(x, 0)``.",
        "``g`` where ``x > 0``, else 0 (also at 0).",
        f"fgrad.check_grads(fgrad.nn.relu, ({_X},))",
    ),
    (
        softplus,
        "``log(1 + exp(x))`` computed as ``logaddexp(0, x)``.",
        "``g * sigmoid(x)``.",
        f"fgrad.check_grads(fgrad.nn.softplus, ({_X},))",
    ),
    (
        logsumexp,
        "``log(sum(exp(x), axis))`` with the maximum subtracted first.",
        "``g * softmax(x)``.",
        f"fgrad.check_grads(lambda x: fgrad.nn.logsumexp(x, axis=1), ({_X},))",
    ),
    (
        softmax,
        "``exp(x) / sum(exp(x), axis)`` with the maximum subtracted first.",
        "``s * (g - sum(g * s, axis))``.",
        f"fgrad.check_grads(lambda x: fgrad.nn.softmax(x, axis=0), ({_X},))",
    ),
    (
        log_softmax,
        "``x - logsumexp(x, axis)``.",
        "through its composition.",
        f"fgrad.check_grads(fgrad.nn.log_softmax, ({_X},))",
    ),
]
for _fn, _summary, _gradient, _example in _DOCS:
    document(_fn, _summary, _gradient, ">>> import fgrad.nn\n>>> " + _example)

__all__ = ["log_softmax", "logsumexp", "relu", "sigmoid", "softmax", "softplus"]
