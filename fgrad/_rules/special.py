"""Numerically stable compound functions used by neural networks.

These are primitives rather than compositions because a fused rule is both
faster and more accurate: ``sigmoid`` never overflows, ``logsumexp`` and
``softmax`` subtract the maximum, ``softplus`` is ``logaddexp(0, x)``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from fgrad._core import NO_PARAMS, Primitive, Tracer, bind1
from fgrad._rules import batching
from fgrad._rules.declare import export
from fgrad._rules.elementwise import exp, mask
from fgrad._rules.helpers import ndim_of, normalize_axes, shape_of
from fgrad._rules.linear import SUM, reshape

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


_SIGMOID = Primitive(
    "sigmoid",
    _sigmoid_impl,
    (lambda g, ans, x: g * (ans - ans * ans),),
    batch=batching.elementwise,
)


@export("sigmoid", namespace="nn", dispatch=False)
def sigmoid(x: Any) -> Any:
    """Logistic sigmoid ``1 / (1 + exp(-x))``, without overflow for any ``x``.

    Gradient: ``g * s * (1 - s)``.

    Examples
    --------
    >>> fgrad.check_grads(fgrad.nn.sigmoid, (np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]]),))
    """
    if x.__class__ is Tracer:
        return bind1(_SIGMOID, x, NO_PARAMS)
    return _sigmoid_impl(x)


def _relu_vjp(g: Any, ans: Any, x: Any) -> Any:
    return g * mask(np.asarray(ans) > 0 if ans.__class__ is not Tracer else ans > 0, g)


_RELU = Primitive("relu", lambda x: np.maximum(x, 0), (_relu_vjp,), batch=batching.elementwise)


@export("relu", namespace="nn", dispatch=False)
def relu(x: Any) -> Any:
    """Rectified linear unit ``maximum(x, 0)``.

    Gradient: ``g`` where ``x > 0``, else 0 (also at 0).

    Examples
    --------
    >>> fgrad.check_grads(fgrad.nn.relu, (np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]]),))
    """
    if x.__class__ is Tracer:
        return bind1(_RELU, x, NO_PARAMS)
    return np.maximum(x, 0)


_SOFTPLUS = Primitive(
    "softplus",
    lambda x: np.logaddexp(0, x),
    (lambda g, ans, x: g * sigmoid(x),),
    batch=batching.elementwise,
)


@export("softplus", namespace="nn", dispatch=False)
def softplus(x: Any) -> Any:
    """``log(1 + exp(x))`` computed as ``logaddexp(0, x)``.

    Gradient: ``g * sigmoid(x)``.

    Examples
    --------
    >>> fgrad.check_grads(fgrad.nn.softplus, (np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]]),))
    """
    if x.__class__ is Tracer:
        return bind1(_SOFTPLUS, x, NO_PARAMS)
    return np.logaddexp(0, x)


def _logsumexp_impl(x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    x = np.asarray(x)
    peak = np.max(x, axis=axis, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0)
    out = np.log(np.sum(np.exp(x - peak), axis=axis, keepdims=True)) + peak
    return out if keepdims else np.reshape(out, np.delete(x.shape, axis) if axis else x.shape)


def _logsumexp_vjp(g: Any, ans: Any, x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    if not keepdims:
        kept = tuple(1 if i in axis else d for i, d in enumerate(shape_of(x)))
        g = reshape(g, kept)
        ans = reshape(ans, kept)
    return g * exp(x - ans)


_LOGSUMEXP = Primitive("logsumexp", _logsumexp_impl, (_logsumexp_vjp,), batch=batching.along_axes)


@export("logsumexp", namespace="nn", dispatch=False)
def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """``log(sum(exp(x), axis))`` with the maximum subtracted first.

    Gradient: ``g * softmax(x)``.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda x: fgrad.nn.logsumexp(x, axis=1), (x,))
    """
    axes = normalize_axes(axis, ndim_of(x), "logsumexp")
    if x.__class__ is Tracer:
        return bind1(_LOGSUMEXP, x, {"axis": axes, "keepdims": keepdims})
    return _logsumexp_impl(x, axes, keepdims)


def _softmax_impl(x: Any, axis: tuple[int, ...]) -> Any:
    x = np.asarray(x)
    peak = np.max(x, axis=axis, keepdims=True)
    e = np.exp(x - np.where(np.isfinite(peak), peak, 0))
    return e / np.sum(e, axis=axis, keepdims=True)


def _softmax_vjp(g: Any, ans: Any, x: Any, axis: tuple[int, ...]) -> Any:
    weighted = g * ans
    return weighted - ans * SUM(weighted, axis=axis, keepdims=True)


_SOFTMAX = Primitive("softmax", _softmax_impl, (_softmax_vjp,), batch=batching.along_axes)


@export("softmax", namespace="nn", dispatch=False)
def softmax(x: Any, axis: Any = -1) -> Any:
    """``exp(x) / sum(exp(x), axis)`` with the maximum subtracted first.

    Gradient: ``s * (g - sum(g * s, axis))``.

    Examples
    --------
    >>> x = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
    >>> fgrad.check_grads(lambda x: fgrad.nn.softmax(x, axis=0), (x,))
    """
    return _SOFTMAX(x, axis=normalize_axes(axis, ndim_of(x), "softmax"))


@export("log_softmax", namespace="nn", dispatch=False)
def log_softmax(x: Any, axis: Any = -1) -> Any:
    """``x - logsumexp(x, axis)``.

    Gradient: through its composition.

    Examples
    --------
    >>> fgrad.check_grads(fgrad.nn.log_softmax, (np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]]),))
    """
    return x - logsumexp(x, axis, keepdims=True)
