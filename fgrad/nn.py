"""Neural-network building blocks: activations, initializers and layers.

A model is a :class:`Layer`, a pair of pure functions in the style of
``jax.example_libraries.stax``:

* ``init(key, input_shape) -> (output_shape, params)`` draws the parameters
  from a PRNG key. Shapes use ``-1`` for the batch dimension, e.g. ``(-1, 2)``;
  data are row-major ``(batch, features)``. Every parameter leaf is a
  read-only array, so an accidental in-place update raises.
* ``apply(params, x, *, key=None)`` computes the output. ``key`` (or ``rng``,
  as ``stax`` spells it) is only needed by stochastic layers (:func:`Dropout`)
  during training; with no key the model is deterministic.

The layers have ``jax.example_libraries.stax``'s names and semantics: :func:`Dense`,
:func:`Conv`, :func:`Conv1D`, :func:`GeneralConv` (on :func:`fgrad.lax.conv_general_dilated`),
:func:`MaxPool`, :func:`AvgPool`, :func:`SumPool` (on :func:`fgrad.lax.reduce_window`),
:data:`GlobalAvgPool`, :func:`BatchNorm` (batch statistics), :func:`LayerNorm`,
:func:`Embedding`, :func:`Dropout` (whose ``rate`` is the DROP probability, unlike stax's),
:func:`FanOut`, :data:`FanInSum`, :func:`FanInConcat`, the activation layers ``Sigmoid``,
``Tanh``, ``Relu``, ``Softplus``, ``Elu``, ``Selu``, ``Gelu``, ``Silu`` (``Swish``),
``LogSigmoid``, ``Identity``, ``Softmax``, ``LogSoftmax`` (both over the last axis),
:func:`LeakyRelu`, and ``Flatten`` (which keeps the batch dimension and flattens the
rest). :func:`RunningBatchNorm` keeps running statistics as explicit state (a
:class:`StatefulLayer`). Layers combine with :func:`serial` and :func:`parallel`. Any pair
of two functions with these signatures is a layer too and mixes in; a user layer whose
``apply`` takes no ``key``/``rng`` keyword is called without one (a stax-style
``**kwargs`` gets both).

The activation functions are also available as plain functions:
``sigmoid relu softplus logsumexp softmax log_softmax`` (the stable primitives
of :mod:`fgrad._rules.special`), :func:`leaky_relu`, :func:`elu`, :func:`selu`,
:func:`gelu`, :func:`silu` (``swish``), :func:`log_sigmoid`, ``tanh``
(``fgrad.numpy.tanh``), and :func:`one_hot`.

Examples
--------
>>> from fgrad import nn, random
>>> init, apply = nn.serial(nn.Dense(8), nn.Tanh, nn.Dense(1))
>>> out_shape, params = init(random.key(0), (-1, 2))
>>> out_shape
(-1, 1)
>>> x = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
>>> apply(params, x).shape
(3, 1)
>>> grads = fgrad.grad(lambda p: fnp.mean(apply(p, x) ** 2))(params)
>>> [g.shape for g in fgrad.tree.tree_leaves(grads)]
[(2, 8), (8,), (8, 1), (1,)]
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, TypeAlias

import numpy as np
import numpy.typing as npt

import fgrad.numpy as fnp
from fgrad import random
from fgrad._rules.special import log_softmax, logsumexp, relu, sigmoid, softmax, softplus
from fgrad.tree import tree_map
from fgrad.values import Tracer, peek

__all__ = [
    "AvgPool",
    "BatchNorm",
    "Conv",
    "Conv1D",
    "Dense",
    "Dropout",
    "Elu",
    "Embedding",
    "FanInConcat",
    "FanInSum",
    "FanOut",
    "Flatten",
    "Gelu",
    "GeneralConv",
    "GlobalAvgPool",
    "Identity",
    "Layer",
    "LayerNorm",
    "LeakyRelu",
    "LogSigmoid",
    "LogSoftmax",
    "MaxPool",
    "Relu",
    "RunningBatchNorm",
    "Selu",
    "Sigmoid",
    "Silu",
    "Softmax",
    "Softplus",
    "StatefulLayer",
    "SumPool",
    "Swish",
    "Tanh",
    "elu",
    "freeze",
    "gelu",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "leaky_relu",
    "lecun_normal",
    "lecun_uniform",
    "log_sigmoid",
    "log_softmax",
    "logsumexp",
    "normal",
    "one_hot",
    "ones",
    "orthogonal",
    "parallel",
    "relu",
    "selu",
    "serial",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "swish",
    "tanh",
    "uniform",
    "variance_scaling",
    "zeros",
]

Shape: TypeAlias = tuple[int, ...]
InitFn: TypeAlias = Callable[..., npt.NDArray[Any]]
"""An initializer: ``init_fn(key, shape, dtype=np.float64) -> ndarray``."""

tanh = fnp.tanh


# --------------------------------------------------------------------------- activations


def leaky_relu(x: Any, alpha: float = 0.01) -> Any:
    """Leaky rectified linear unit: ``x`` where ``x >= 0``, else ``alpha * x``.

    Parameters
    ----------
    x : array_like
        Input, possibly traced.
    alpha : float, default=0.01
        Slope for negative inputs.

    Returns
    -------
    array
        Same shape and dtype as ``x``. Computed as ``maximum(x, alpha * x)``
        (``minimum`` for ``alpha > 1``), so at ``x == 0`` the derivative is
        the mean of the two slopes, ``(1 + alpha) / 2``.

    Examples
    --------
    >>> from fgrad import nn
    >>> nn.leaky_relu(np.array([-2.0, 0.0, 3.0]), alpha=0.1)
    array([-0.2,  0. ,  3. ])
    >>> fgrad.grad(lambda x: nn.leaky_relu(x, 0.1))(-2.0)
    array(0.1)
    """
    if alpha <= 1:
        return fnp.maximum(x, alpha * x)
    return fnp.minimum(x, alpha * x)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_GELU_TANH_COEFF = math.sqrt(2 / math.pi)


def elu(x: Any, alpha: float = 1.0) -> Any:
    """Exponential linear unit: ``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``.

    The exponential is taken of ``minimum(x, 0)``, so large ``x`` neither overflows nor
    gives a NaN gradient.

    Examples
    --------
    >>> from fgrad import nn
    >>> nn.elu(np.array([-1.0, 2.0]))
    array([-0.63212056,  2.        ])
    >>> fgrad.check_grads(nn.elu, (np.array([-1.0, 0.5, 800.0]),))
    """
    return fnp.where(x > 0, x, alpha * fnp.expm1(fnp.minimum(x, 0)))


def selu(x: Any) -> Any:
    """Scaled ELU with the self-normalising constants (``jax.nn.selu``).

    Examples
    --------
    >>> from fgrad import nn
    >>> nn.selu(np.array([-1.0, 1.0]))
    array([-1.11133074,  1.05070099])
    """
    return _SELU_SCALE * elu(x, _SELU_ALPHA)


def gelu(x: Any, approximate: bool = True) -> Any:
    """Gaussian error linear unit ``x * Phi(x)`` (``jax.nn.gelu``, tanh approximation by default).

    ``approximate=False`` computes ``x * (1 + erf(x / sqrt(2))) / 2`` with
    ``fgrad.scipy.special.erf`` (needs SciPy).

    Examples
    --------
    >>> from fgrad import nn
    >>> nn.gelu(np.array([-1.0, 0.0, 1.0]))
    array([-0.15880801,  0.        ,  0.84119199])
    >>> fgrad.check_grads(nn.gelu, (np.array([-1.0, 0.3, 2.0]),))
    """
    if not approximate:
        from fgrad.scipy.special import erf

        return 0.5 * x * (1 + erf(x / math.sqrt(2)))
    return 0.5 * x * (1 + fnp.tanh(_GELU_TANH_COEFF * (x + 0.044715 * x * x * x)))


def silu(x: Any) -> Any:
    """Sigmoid linear unit ``x * sigmoid(x)`` (also :func:`swish`).

    Examples
    --------
    >>> from fgrad import nn
    >>> nn.silu(np.array([0.0, 1.0]))
    array([0.        , 0.73105858])
    """
    return x * sigmoid(x)


swish = silu


def log_sigmoid(x: Any) -> Any:
    """``log(sigmoid(x)) = -softplus(-x)``, finite for every ``x``.

    Examples
    --------
    >>> from fgrad import nn
    >>> nn.log_sigmoid(np.array([-800.0, 0.0, 800.0]))
    array([-8.00000000e+02, -6.93147181e-01, -0.00000000e+00])
    """
    return -softplus(-x)


def one_hot(x: Any, num_classes: int, *, dtype: npt.DTypeLike = np.float64, axis: int = -1) -> Any:
    """One-hot encoding of integer labels (``jax.nn.one_hot``): a new axis of ``num_classes``.

    Labels outside ``[0, num_classes)`` give a row of zeros. Under ``fgrad.jit`` the
    comparison is recorded, so new labels replay.

    Examples
    --------
    >>> from fgrad import nn
    >>> nn.one_hot(np.array([2, 0, 5]), 3)
    array([[0., 0., 1.],
           [1., 0., 0.],
           [0., 0., 0.]])
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral):
        raise TypeError(f"one_hot: num_classes must be an int, got {num_classes!r}")
    labels = np.asarray(peek(x))
    if labels.dtype.kind not in "iub":
        raise TypeError(f"one_hot: labels must be integers, got dtype {labels.dtype}")
    ndim = labels.ndim + 1
    if not -ndim <= axis < ndim:
        raise ValueError(f"one_hot: axis {axis} is out of range for {ndim}-d one-hot output")
    position = axis % ndim
    classes = np.arange(int(num_classes)).reshape(
        [int(num_classes) if i == position else 1 for i in range(ndim)]
    )
    return fnp.astype(fnp.equal(fnp.expand_dims(x, position), classes), np.dtype(dtype))


# --------------------------------------------------------------------------- initializers


def _check_nonnegative(value: object, name: str, fn: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{fn}: {name} must be a real number, got {value!r}")
    v = float(value)
    if not math.isfinite(v) or v < 0 or (positive and v == 0):
        bound = "> 0" if positive else ">= 0"
        raise ValueError(f"{fn}: {name} must be finite and {bound}, got {value!r}")
    return v


Axes: TypeAlias = int | Sequence[int]


def _axes_of(axes: Any, ndim: int, name: str, fn: str) -> tuple[int, ...]:
    listed: tuple[Any, ...] = (axes,) if isinstance(axes, numbers.Integral) else tuple(axes)
    out = []
    for a in listed:
        if isinstance(a, bool) or not isinstance(a, numbers.Integral) or not -ndim <= int(a) < ndim:
            raise ValueError(f"{fn}: {name}={axes!r} is not an axis of a {ndim}-d shape")
        out.append(int(a) % ndim)
    return tuple(out)


def _fans(
    shape: Sequence[int],
    fn: str,
    in_axis: Axes = -2,
    out_axis: Axes = -1,
    batch_axis: Axes = (),
) -> tuple[float, float]:
    """``(fan_in, fan_out)`` as ``jax.nn.initializers``: the in/out axes' sizes times the
    receptive field (the product of the other axes except the batch axes)."""
    shape = tuple(shape)
    if len(shape) == 0:
        raise ValueError(f"{fn}: cannot compute fan-in/fan-out of a scalar (shape ())")
    if len(shape) == 1:
        return shape[0], shape[0]
    ins = _axes_of(in_axis, len(shape), "in_axis", fn)
    outs = _axes_of(out_axis, len(shape), "out_axis", fn)
    batch = _axes_of(batch_axis, len(shape), "batch_axis", fn)
    in_size = math.prod(shape[a] for a in ins)
    out_size = math.prod(shape[a] for a in outs)
    receptive = math.prod(
        d for a, d in enumerate(shape) if a not in ins and a not in outs and a not in batch
    )
    return in_size * receptive, out_size * receptive


def normal(stddev: float = 1e-2) -> InitFn:
    """Initializer drawing from a normal distribution with mean 0.

    Parameters
    ----------
    stddev : float, default=1e-2
        Standard deviation (finite, >= 0).

    Returns
    -------
    callable
        ``init_fn(key, shape, dtype=np.float64) -> ndarray``.

    Examples
    --------
    >>> from fgrad import nn, random
    >>> w = nn.normal(0.5)(random.key(0), (1000,))
    >>> w.shape, round(float(w.std()), 1)
    ((1000,), 0.5)
    """
    std = _check_nonnegative(stddev, "stddev", "normal")

    def init_fn(key: random.Key, shape: Sequence[int], dtype: npt.DTypeLike = np.float64) -> Any:
        return std * random.normal(key, shape, dtype)

    return init_fn


def uniform(scale: float = 1e-2) -> InitFn:
    """Initializer drawing uniformly from ``[0, scale)``, like ``jax.nn.initializers.uniform``.

    For a range symmetric about zero use :func:`glorot_uniform` or
    :func:`he_uniform`.

    Parameters
    ----------
    scale : float, default=1e-2
        Upper end of the interval (finite, > 0).

    Returns
    -------
    callable
        ``init_fn(key, shape, dtype=np.float64) -> ndarray``.

    Examples
    --------
    >>> from fgrad import nn, random
    >>> w = nn.uniform(0.5)(random.key(0), (1000,))
    >>> bool(w.min() >= 0.0), bool(w.max() < 0.5)
    (True, True)
    """
    hi = _check_nonnegative(scale, "scale", "uniform", positive=True)

    def init_fn(key: random.Key, shape: Sequence[int], dtype: npt.DTypeLike = np.float64) -> Any:
        return random.uniform(key, shape, dtype, 0.0, hi)

    return init_fn


def zeros(key: random.Key, shape: Sequence[int], dtype: npt.DTypeLike = np.float64) -> Any:
    """Initializer returning zeros; the key is ignored.

    Examples
    --------
    >>> from fgrad import nn, random
    >>> nn.zeros(random.key(0), (2,))
    array([0., 0.])
    """
    return np.zeros(tuple(shape), dtype=dtype)


def ones(key: random.Key, shape: Sequence[int], dtype: npt.DTypeLike = np.float64) -> Any:
    """Initializer returning ones; the key is ignored.

    Examples
    --------
    >>> from fgrad import nn, random
    >>> nn.ones(random.key(0), (2,), np.float32)
    array([1., 1.], dtype=float32)
    """
    return np.ones(tuple(shape), dtype=dtype)


_TRUNCATED_STD = 0.87962566103423978
"""Standard deviation of a standard normal truncated to ``[-2, 2]``."""


def _truncated_normal(key: random.Key, shape: Sequence[int], dtype: npt.DTypeLike) -> Any:
    """Standard normal numbers redrawn until they fall in ``[-2, 2]`` (fresh keys by fold_in)."""
    out = np.array(random.normal(key, shape, np.float64))
    outside = np.abs(out) > 2
    attempt = 0
    while outside.any():
        attempt += 1
        redraw = random.normal(random.fold_in(key, attempt), out.shape, np.float64)
        out = np.where(outside, redraw, out)
        outside = np.abs(out) > 2
    return out.astype(dtype)


_MODES = ("fan_in", "fan_out", "fan_avg")
_DISTRIBUTIONS = ("normal", "truncated_normal", "uniform")


def variance_scaling(
    scale: float,
    mode: str,
    distribution: str,
    in_axis: Axes = -2,
    out_axis: Axes = -1,
    batch_axis: Axes = (),
) -> InitFn:
    """Initializer with variance ``scale / fan``, as ``jax.nn.initializers.variance_scaling``.

    Parameters
    ----------
    scale : float
        Variance numerator (> 0): 1 for Glorot and LeCun, 2 for He.
    mode : {'fan_in', 'fan_out', 'fan_avg'}
        Which fan divides ``scale``.
    distribution : {'normal', 'truncated_normal', 'uniform'}
        ``'normal'``: std ``sqrt(scale / fan)``; ``'truncated_normal'``: a normal cut at
        two standard deviations, rescaled to that std; ``'uniform'``: on ``[-l, l)``,
        ``l = sqrt(3 * scale / fan)``.
    in_axis, out_axis : int or sequence of int, default -2, -1
        Axes of the input and output features. The fans are their sizes times the
        receptive field, the product of the other axes (``HWIO`` kernels: ``in_axis=-2``,
        ``out_axis=-1``); a 1-D shape ``(n,)`` has both fans ``n``.
    batch_axis : int or sequence of int, default ()
        Axes left out of the receptive field.

    Returns
    -------
    callable
        ``init_fn(key, shape, dtype=np.float64) -> ndarray``.

    Examples
    --------
    >>> from fgrad import nn, random
    >>> init = nn.variance_scaling(2.0, "fan_in", "normal", in_axis=0, out_axis=1)
    >>> w = init(random.key(0), (400, 300))
    >>> round(float(w.std() ** 2 * 400 / 2), 1)
    1.0
    """
    variance_numerator = _check_nonnegative(scale, "scale", "variance_scaling", positive=True)
    if mode not in _MODES:
        raise ValueError(f"variance_scaling: mode must be one of {_MODES}, got {mode!r}")
    if distribution not in _DISTRIBUTIONS:
        raise ValueError(
            f"variance_scaling: distribution must be one of {_DISTRIBUTIONS}, got {distribution!r}"
        )

    def init_fn(key: random.Key, shape: Sequence[int], dtype: npt.DTypeLike = np.float64) -> Any:
        fan_in, fan_out = _fans(shape, "variance_scaling", in_axis, out_axis, batch_axis)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
        variance = variance_numerator / max(fan, 1)
        if distribution == "normal":
            return math.sqrt(variance) * random.normal(key, shape, dtype)
        if distribution == "truncated_normal":
            std = np.asarray(math.sqrt(variance) / _TRUNCATED_STD, dtype)
            return std * _truncated_normal(key, shape, dtype)
        limit = math.sqrt(3 * variance)
        return random.uniform(key, shape, dtype, -limit, limit)

    init_fn.__qualname__ = init_fn.__name__ = f"variance_scaling_{mode}_{distribution}"
    return init_fn


def _variance_scaling(
    name: str, mode: str, scale: float, distribution: str, axes: tuple[Axes, Axes, Axes]
) -> InitFn:
    init_fn = variance_scaling(scale, mode, distribution, *axes)
    init_fn.__qualname__ = init_fn.__name__ = f"{name}_init"
    return init_fn


def glorot_normal(in_axis: Axes = -2, out_axis: Axes = -1, batch_axis: Axes = ()) -> InitFn:
    """Glorot (Xavier) normal initializer: std ``sqrt(2 / (fan_in + fan_out))``.

    For a shape ``(in, out)`` the fans are ``in`` and ``out``; the other
    dimensions of higher-rank shapes multiply both (a receptive field), and a
    1-D shape ``(n,)`` has both fans equal to ``n``. ``in_axis``, ``out_axis`` and
    ``batch_axis`` say where the features are, as in :func:`variance_scaling`
    (``jax.nn.initializers``' draws from a truncated normal here; fgrad's from a normal:
    ``variance_scaling(1.0, "fan_avg", "truncated_normal")`` is JAX's).

    Examples
    --------
    >>> from fgrad import nn, random
    >>> w = nn.glorot_normal()(random.key(0), (300, 500))
    >>> round(float(w.std() ** 2 * (300 + 500) / 2), 1)
    1.0
    """
    return _variance_scaling(
        "glorot_normal", "fan_avg", 1.0, "normal", (in_axis, out_axis, batch_axis)
    )


def glorot_uniform(in_axis: Axes = -2, out_axis: Axes = -1, batch_axis: Axes = ()) -> InitFn:
    """Glorot (Xavier) uniform initializer on ``[-l, l)``, ``l = sqrt(6 / (fan_in + fan_out))``.

    Fans as in :func:`glorot_normal`.

    Examples
    --------
    >>> from fgrad import nn, random
    >>> w = nn.glorot_uniform()(random.key(0), (4, 2))
    >>> bool(np.abs(w).max() < np.sqrt(6 / 6))
    True
    """
    return _variance_scaling(
        "glorot_uniform", "fan_avg", 1.0, "uniform", (in_axis, out_axis, batch_axis)
    )


def he_normal(in_axis: Axes = -2, out_axis: Axes = -1, batch_axis: Axes = ()) -> InitFn:
    """He (Kaiming) normal initializer for ReLU layers: std ``sqrt(2 / fan_in)``.

    Fans as in :func:`glorot_normal`.

    Examples
    --------
    >>> from fgrad import nn, random
    >>> w = nn.he_normal()(random.key(0), (400, 300))
    >>> round(float(w.std() ** 2 * 400 / 2), 1)
    1.0
    """
    return _variance_scaling("he_normal", "fan_in", 2.0, "normal", (in_axis, out_axis, batch_axis))


def he_uniform(in_axis: Axes = -2, out_axis: Axes = -1, batch_axis: Axes = ()) -> InitFn:
    """He (Kaiming) uniform initializer on ``[-l, l)``, ``l = sqrt(6 / fan_in)``.

    Fans as in :func:`glorot_normal`.

    Examples
    --------
    >>> from fgrad import nn, random
    >>> w = nn.he_uniform()(random.key(0), (6, 3))
    >>> bool(np.abs(w).max() < 1.0)
    True
    """
    return _variance_scaling(
        "he_uniform", "fan_in", 2.0, "uniform", (in_axis, out_axis, batch_axis)
    )


def lecun_normal(in_axis: Axes = -2, out_axis: Axes = -1, batch_axis: Axes = ()) -> InitFn:
    """LeCun normal initializer (for SELU/tanh layers): std ``sqrt(1 / fan_in)``.

    Fans as in :func:`glorot_normal`.

    Examples
    --------
    >>> from fgrad import nn, random
    >>> w = nn.lecun_normal()(random.key(0), (400, 300))
    >>> round(float(w.std() ** 2 * 400), 1)
    1.0
    """
    return _variance_scaling(
        "lecun_normal", "fan_in", 1.0, "normal", (in_axis, out_axis, batch_axis)
    )


def lecun_uniform(in_axis: Axes = -2, out_axis: Axes = -1, batch_axis: Axes = ()) -> InitFn:
    """LeCun uniform initializer on ``[-l, l)``, ``l = sqrt(3 / fan_in)``.

    Fans as in :func:`glorot_normal`.

    Examples
    --------
    >>> from fgrad import nn, random
    >>> w = nn.lecun_uniform()(random.key(0), (3, 2))
    >>> bool(np.abs(w).max() < 1.0)
    True
    """
    return _variance_scaling(
        "lecun_uniform", "fan_in", 1.0, "uniform", (in_axis, out_axis, batch_axis)
    )


def orthogonal(scale: float = 1.0, column_axis: int = -1) -> InitFn:
    """Initializer of (semi-)orthogonal matrices, as ``jax.nn.initializers.orthogonal``.

    The shape is read as a matrix of ``prod(others)`` rows and ``shape[column_axis]``
    columns; its columns (or rows, if there are fewer rows) are orthonormal, times
    ``scale``: the Q factor of a Gaussian matrix with the signs of R's diagonal.

    Examples
    --------
    >>> from fgrad import nn, random
    >>> w = nn.orthogonal()(random.key(0), (5, 3))
    >>> np.allclose(w.T @ w, np.eye(3))
    True
    """
    gain = _check_nonnegative(scale, "scale", "orthogonal")
    if isinstance(column_axis, bool) or not isinstance(column_axis, numbers.Integral):
        raise TypeError(f"orthogonal: column_axis must be an int, got {column_axis!r}")

    def init_fn(key: random.Key, shape: Sequence[int], dtype: npt.DTypeLike = np.float64) -> Any:
        shape = tuple(shape)
        if len(shape) < 2:
            raise ValueError(f"orthogonal: needs a shape of 2 or more dimensions, got {shape}")
        column = _axes_of(column_axis, len(shape), "column_axis", "orthogonal")[0]
        n_cols = shape[column]
        n_rows = math.prod(shape) // max(n_cols, 1)
        matrix_shape = (n_cols, n_rows) if n_rows < n_cols else (n_rows, n_cols)
        q, r = np.linalg.qr(random.normal(key, matrix_shape, np.float64))
        q = q * np.sign(np.diag(r))
        if n_rows < n_cols:
            q = q.T
        rest = tuple(d for a, d in enumerate(shape) if a != column)
        q = np.moveaxis(q.reshape((*rest, n_cols)), -1, column)
        return (gain * q).astype(dtype)

    return init_fn


# --------------------------------------------------------------------------- parameters


def freeze(tree: Any) -> Any:
    """Read-only copies of every leaf of a pytree.

    Each leaf becomes a new NumPy array with ``flags.writeable = False``, so
    ``params[0][0] += 1`` raises instead of silently changing the parameters
    (and everything that shares them). The input is not modified.

    Parameters
    ----------
    tree : pytree
        Arrays or scalars in any nesting of tuples, lists, dicts, ...

    Returns
    -------
    pytree
        Same structure; leaves are read-only ``ndarray`` copies.

    Examples
    --------
    >>> from fgrad import nn
    >>> W = np.zeros(2)
    >>> frozen = nn.freeze({"W": W, "b": 0.5})
    >>> frozen["W"][0] = 1.0
    Traceback (most recent call last):
    ...
    ValueError: assignment destination is read-only
    >>> W.flags.writeable, frozen["b"]
    (True, array(0.5))
    """

    def copy(leaf: Any) -> npt.NDArray[Any]:
        if leaf.__class__ is Tracer:
            raise TypeError(
                "freeze received a traced array; freeze concrete parameters, not values "
                "inside a function being differentiated"
            )
        out = np.array(leaf)
        out.flags.writeable = False
        return out

    return tree_map(copy, tree)


# --------------------------------------------------------------------------- layers


class Layer(NamedTuple):
    """A model: a pair of pure functions ``(init, apply)``.

    Attributes
    ----------
    init : callable
        ``init(key, input_shape) -> (output_shape, params)``. Shapes use ``-1``
        for the batch dimension; params are a pytree of read-only arrays.
    apply : callable
        ``apply(params, x, *, key=None) -> output``. ``key`` is consumed by
        stochastic layers when training; ``None`` means deterministic.

    Examples
    --------
    >>> from fgrad import nn, random
    >>> scale = nn.Layer(lambda key, shape: (shape, np.array(2.0)),
    ...                  lambda params, x, *, key=None: params * x)
    >>> init, apply = nn.serial(nn.Dense(3), scale)
    >>> shape, params = init(random.key(0), (-1, 2))
    >>> shape, apply(params, np.ones((5, 2))).shape
    ((-1, 3), (5, 3))
    """

    init: Callable[..., tuple[Any, Any]]
    apply: Callable[..., Any]


def _check_shape(input_shape: Any, layer: str) -> Shape:
    try:
        shape = tuple(input_shape)
    except TypeError:
        raise TypeError(
            f"{layer}: input_shape must be a tuple of ints such as (-1, 2), got {input_shape!r}"
        ) from None
    for d in shape:
        if isinstance(d, bool) or not isinstance(d, numbers.Integral) or (d < 1 and d != -1):
            raise ValueError(
                f"{layer}: input_shape must contain positive ints or -1 (batch), "
                f"got {input_shape!r}"
            )
    return tuple(int(d) for d in shape)


def _key_of(key: Any, rng: Any, layer: str) -> Any:
    """The PRNG key given as ``key`` or, as ``stax`` spells it, ``rng`` (not both)."""
    if rng is None:
        return key
    if key is not None:
        raise TypeError(f"{layer}: pass the PRNG key as key= or as rng=, not both")
    return rng


def _elementwise(fn: Callable[[Any], Any], name: str) -> Layer:
    def init(key: random.Key, input_shape: Shape) -> tuple[Shape, tuple[()]]:
        return _check_shape(input_shape, name), ()

    def apply(
        params: Any, x: Any, *, key: random.Key | None = None, rng: random.Key | None = None
    ) -> Any:
        return fn(x)

    init.__qualname__ = f"{name}.init"
    apply.__qualname__ = f"{name}.apply"
    return Layer(init, apply)


def _softmax_last(x: Any) -> Any:
    return softmax(x, axis=-1)


def _log_softmax_last(x: Any) -> Any:
    return log_softmax(x, axis=-1)


def _identity(x: Any) -> Any:
    return x


Sigmoid = _elementwise(sigmoid, "Sigmoid")
Tanh = _elementwise(tanh, "Tanh")
Relu = _elementwise(relu, "Relu")
Softplus = _elementwise(softplus, "Softplus")
Identity = _elementwise(_identity, "Identity")
Softmax = _elementwise(_softmax_last, "Softmax")
LogSoftmax = _elementwise(_log_softmax_last, "LogSoftmax")
Elu = _elementwise(elu, "Elu")
Selu = _elementwise(selu, "Selu")
Gelu = _elementwise(gelu, "Gelu")
Silu = _elementwise(silu, "Silu")
Swish = Silu
LogSigmoid = _elementwise(log_sigmoid, "LogSigmoid")


def LeakyRelu(alpha: float = 0.01) -> Layer:  # noqa: N802
    """Layer applying :func:`leaky_relu` with slope ``alpha``; no parameters.

    Examples
    --------
    >>> from fgrad import nn, random
    >>> init, apply = nn.LeakyRelu(0.5)
    >>> shape, params = init(random.key(0), (-1, 2))
    >>> shape, params, apply(params, np.array([[-2.0, 2.0]]))
    ((-1, 2), (), array([[-1.,  2.]]))
    """
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
        raise TypeError(f"LeakyRelu: alpha must be a real number, got {alpha!r}")
    slope = float(alpha)
    return _elementwise(lambda x: leaky_relu(x, slope), "LeakyRelu")


def _flatten_init(key: random.Key, input_shape: Shape) -> tuple[Shape, tuple[()]]:
    shape = _check_shape(input_shape, "Flatten")
    if len(shape) < 1:
        raise ValueError("Flatten: input_shape needs a batch dimension, got ()")
    if -1 in shape[1:]:
        raise ValueError(f"Flatten: only the batch dimension may be -1, got {input_shape!r}")
    return (shape[0], math.prod(shape[1:])), ()


def _flatten_apply(
    params: Any, x: Any, *, key: random.Key | None = None, rng: random.Key | None = None
) -> Any:
    shape = np.shape(peek(x))
    return fnp.reshape(x, (shape[0], math.prod(shape[1:])))


Flatten = Layer(_flatten_init, _flatten_apply)


_GLOROT_NORMAL = glorot_normal()


def Dense(  # noqa: N802
    out_dim: int,
    W_init: InitFn = _GLOROT_NORMAL,  # noqa: N803  (stax's spelling)
    b_init: InitFn = zeros,
    *,
    w_init: InitFn | None = None,
) -> Layer:
    """Fully connected layer ``x @ W + b`` on the last axis.

    Parameters
    ----------
    out_dim : int
        Number of output features.
    W_init : callable, default=glorot_normal()
        Initializer of ``W``, of shape ``(in_dim, out_dim)`` (``stax.Dense``'s name).
    b_init : callable, default=zeros
        Initializer of ``b``, of shape ``(out_dim,)``. (``stax.Dense`` draws it from
        ``normal(1e-2)``; pass ``b_init=nn.normal()`` for that.)
    w_init : callable, optional
        Another spelling of ``W_init`` (keyword only; give one of the two).

    Returns
    -------
    Layer
        Params are the tuple ``(W, b)``, read-only, float64.

    Examples
    --------
    >>> from fgrad import nn, random
    >>> init, apply = nn.Dense(3, b_init=nn.ones)
    >>> out_shape, (W, b) = init(random.key(0), (-1, 2))
    >>> out_shape, W.shape, b
    ((-1, 3), (2, 3), array([1., 1., 1.]))
    >>> np.allclose(apply((W, b), np.zeros((4, 2))), 1.0)
    True
    """
    if isinstance(out_dim, bool) or not isinstance(out_dim, numbers.Integral) or out_dim < 1:
        raise ValueError(f"Dense: out_dim must be a positive int, got {out_dim!r}")
    n_out = int(out_dim)
    if w_init is not None:
        if W_init is not _GLOROT_NORMAL:
            raise TypeError("Dense: give the weight initializer as W_init or w_init, not both")
        W_init = w_init

    def init(key: random.Key, input_shape: Shape) -> tuple[Shape, tuple[Any, Any]]:
        shape = _check_shape(input_shape, "Dense")
        if not shape or shape[-1] == -1:
            raise ValueError(
                f"Dense: the last dimension of input_shape must be the (known) number of input "
                f"features, got {input_shape!r}"
            )
        k_w, k_b = random.split(key)
        params = (W_init(k_w, (shape[-1], n_out)), b_init(k_b, (n_out,)))
        return (*shape[:-1], n_out), freeze(params)

    def apply(
        params: Any, x: Any, *, key: random.Key | None = None, rng: random.Key | None = None
    ) -> Any:
        W, b = params
        return fnp.matmul(x, W) + b

    return Layer(init, apply)


def Dropout(rate: float) -> Layer:  # noqa: N802
    """Inverted dropout: zero each entry with probability ``rate`` while training.

    **``rate`` is the probability of DROPPING an entry** (as in Flax and Keras).
    ``jax.example_libraries.stax.Dropout(rate)`` takes the probability of KEEPING it:
    stax's ``Dropout(0.9)`` is ``fgrad.nn.Dropout(0.1)``.

    With a ``key`` (or ``rng``, stax's name), kept entries are scaled by
    ``1 / (1 - rate)`` so the expected output equals the input; with no key
    (evaluation) the layer is the identity, where stax's raises. The same key always
    drops the same entries.

    Parameters
    ----------
    rate : float
        Drop probability in ``[0, 1)``.

    Examples
    --------
    >>> from fgrad import nn, random
    >>> init, apply = nn.Dropout(0.5)
    >>> shape, params = init(random.key(0), (-1, 4))
    >>> x = np.ones((2, 4))
    >>> apply(params, x) is x
    True
    >>> sorted(set(apply(params, x, key=random.key(1)).ravel().tolist()))
    [0.0, 2.0]
    """
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real):
        raise TypeError(f"Dropout: rate must be a real number, got {rate!r}")
    if not 0.0 <= float(rate) < 1.0:
        raise ValueError(f"Dropout: rate must be in [0, 1), got {rate!r}")
    keep = 1.0 - float(rate)

    def init(key: random.Key, input_shape: Shape) -> tuple[Shape, tuple[()]]:
        return _check_shape(input_shape, "Dropout"), ()

    def apply(
        params: Any, x: Any, *, key: random.Key | None = None, rng: random.Key | None = None
    ) -> Any:
        key = _key_of(key, rng, "Dropout")
        if key is None or keep == 1.0:
            return x
        value = np.asarray(peek(x))
        mask = random.bernoulli(key, keep, value.shape)
        dtype = value.dtype if value.dtype.kind == "f" else np.dtype(np.float64)
        return x * (mask.astype(dtype) / dtype.type(keep))

    return Layer(init, apply)


def _takes_key(apply: Callable[..., Any]) -> str:
    """How ``apply`` takes a PRNG key: ``"key"``, ``"rng"`` (stax), ``"both"`` (``**kwargs``)
    or ``""`` (it takes none)."""
    try:
        parameters = inspect.signature(apply).parameters.values()
    except (TypeError, ValueError):
        return "key"
    names = {p.name for p in parameters if p.kind is not inspect.Parameter.POSITIONAL_ONLY}
    if "key" in names:
        return "key"
    if "rng" in names:
        return "rng"
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return "both"
    return ""


def _as_layers(layers: tuple[Any, ...], combinator: str) -> list[tuple[Any, Any, str]]:
    out = []
    for i, layer in enumerate(layers):
        if not (isinstance(layer, tuple) and len(layer) == 2 and all(map(callable, layer))):
            hint = " (did you forget to call it, e.g. Dense(8)?)" if callable(layer) else ""
            raise TypeError(
                f"{combinator}: argument {i} must be a layer, a pair of functions "
                f"(init, apply), got {layer!r:.80}{hint}"
            )
        init, apply = layer
        out.append((init, apply, _takes_key(apply)))
    return out


def _layer_keys(key: random.Key | None, n: int) -> list[Any]:
    if key is None:
        return [None] * n
    return list(random.split(key, n))


def _call(apply: Callable[..., Any], takes_key: str, p: Any, x: Any, key: Any) -> Any:
    if key is None or not takes_key:
        return apply(p, x)
    if takes_key == "key":
        return apply(p, x, key=key)
    if takes_key == "rng":
        return apply(p, x, rng=key)
    return apply(p, x, key=key, rng=key)


def _check_sequence(value: Any, n: int, what: str) -> None:
    if isinstance(value, tuple | list) and len(value) == n:
        return
    got = type(value).__name__
    if isinstance(value, tuple | list):
        got += f" of length {len(value)}"
    raise ValueError(f"{what} must be a tuple with one entry per layer ({n}), got a {got}")


def serial(*layers: Any) -> Layer:
    """Compose layers in sequence: the output of each is the input of the next.

    Parameters
    ----------
    *layers : Layer or (init, apply) pairs

    Returns
    -------
    Layer
        Params are a tuple with one entry per layer (``()`` for layers
        without parameters). ``init`` gives each layer its own key split from
        ``key``; so does ``apply`` when called with a key (layers whose
        ``apply`` has no ``key`` keyword are called without one).

    Examples
    --------
    >>> from fgrad import nn, random
    >>> init, apply = nn.serial(nn.Dense(4), nn.Relu, nn.Dropout(0.5), nn.Dense(2), nn.Softmax)
    >>> out_shape, params = init(random.key(0), (-1, 3))
    >>> out_shape, len(params), params[1]
    ((-1, 2), 5, ())
    >>> probs = apply(params, np.ones((5, 3)), key=random.key(1))
    >>> probs.shape, np.allclose(probs.sum(axis=1), 1.0)
    ((5, 2), True)
    """
    parts = _as_layers(layers, "serial")
    n = len(parts)

    def init(key: random.Key, input_shape: Any) -> tuple[Any, tuple[Any, ...]]:
        params = []
        shape = input_shape
        for (layer_init, _, _), k in zip(parts, _layer_keys(key, n)):
            shape, p = layer_init(k, shape)
            params.append(p)
        return shape, freeze(tuple(params))

    def apply(
        params: Any, x: Any, *, key: random.Key | None = None, rng: random.Key | None = None
    ) -> Any:
        key = _key_of(key, rng, "serial")
        _check_sequence(params, n, "serial: params")
        for (_, layer_apply, takes_key), p, k in zip(parts, params, _layer_keys(key, n)):
            x = _call(layer_apply, takes_key, p, x, k)
        return x

    return Layer(init, apply)


def parallel(*layers: Any) -> Layer:
    """Apply layers side by side: input ``i`` goes through layer ``i``.

    Parameters
    ----------
    *layers : Layer or (init, apply) pairs

    Returns
    -------
    Layer
        ``init`` takes a tuple of input shapes and returns a tuple of output
        shapes; ``apply`` takes a tuple of inputs and returns a tuple of
        outputs. Params are a tuple with one entry per layer.

    Examples
    --------
    >>> from fgrad import nn, random
    >>> init, apply = nn.parallel(nn.Dense(3), nn.Identity)
    >>> out_shapes, params = init(random.key(0), ((-1, 2), (-1, 5)))
    >>> out_shapes
    ((-1, 3), (-1, 5))
    >>> a, b = apply(params, (np.ones((4, 2)), np.ones((4, 5))))
    >>> a.shape, b.shape
    ((4, 3), (4, 5))
    """
    parts = _as_layers(layers, "parallel")
    n = len(parts)

    def init(key: random.Key, input_shape: Any) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        _check_sequence(input_shape, n, "parallel: input_shape")
        results = [
            layer_init(k, s)
            for (layer_init, _, _), k, s in zip(parts, _layer_keys(key, n), input_shape)
        ]
        return tuple(s for s, _ in results), freeze(tuple(p for _, p in results))

    def apply(
        params: Any, xs: Any, *, key: random.Key | None = None, rng: random.Key | None = None
    ) -> tuple[Any, ...]:
        key = _key_of(key, rng, "parallel")
        _check_sequence(params, n, "parallel: params")
        _check_sequence(xs, n, "parallel: the input")
        return tuple(
            _call(layer_apply, takes_key, p, x, k)
            for (_, layer_apply, takes_key), p, x, k in zip(parts, params, xs, _layer_keys(key, n))
        )

    return Layer(init, apply)


def FanOut(num: int) -> Layer:  # noqa: N802
    """Layer copying its input into a tuple of ``num`` (``stax.FanOut``); no parameters.

    Use with :func:`parallel` and :func:`FanInSum` or :func:`FanInConcat` for branches.

    Examples
    --------
    >>> from fgrad import nn, random
    >>> init, apply = nn.serial(nn.FanOut(2), nn.parallel(nn.Dense(3), nn.Identity),
    ...                         nn.FanInConcat())
    >>> shape, params = init(random.key(0), (-1, 2))
    >>> shape, apply(params, np.ones((4, 2))).shape
    ((-1, 5), (4, 5))
    """
    if isinstance(num, bool) or not isinstance(num, numbers.Integral) or num < 1:
        raise ValueError(f"FanOut: num must be a positive int, got {num!r}")
    copies = int(num)

    def init(key: random.Key, input_shape: Any) -> tuple[tuple[Any, ...], tuple[()]]:
        return (input_shape,) * copies, ()

    def apply(
        params: Any, x: Any, *, key: random.Key | None = None, rng: random.Key | None = None
    ) -> tuple[Any, ...]:
        return (x,) * copies

    return Layer(init, apply)


def _fan_in_shapes(input_shape: Any, layer: str) -> list[Shape]:
    if not isinstance(input_shape, tuple | list) or not input_shape:
        raise ValueError(f"{layer}: input_shape must be a non-empty tuple of input shapes")
    return [_check_shape(s, layer) for s in input_shape]


def _fan_in_sum_init(key: random.Key, input_shape: Any) -> tuple[Shape, tuple[()]]:
    shapes = _fan_in_shapes(input_shape, "FanInSum")
    if any(s != shapes[0] for s in shapes):
        raise ValueError(f"FanInSum: the inputs' shapes differ: {shapes}")
    return shapes[0], ()


def _fan_in_sum_apply(
    params: Any, xs: Any, *, key: random.Key | None = None, rng: random.Key | None = None
) -> Any:
    total = xs[0]
    for x in xs[1:]:
        total = total + x
    return total


FanInSum = Layer(_fan_in_sum_init, _fan_in_sum_apply)
"""Layer adding a tuple of inputs of one shape (``stax.FanInSum``): residual connections."""


def FanInConcat(axis: int = -1) -> Layer:  # noqa: N802
    """Layer concatenating a tuple of inputs along ``axis`` (``stax.FanInConcat``).

    Examples
    --------
    >>> from fgrad import nn, random
    >>> init, apply = nn.FanInConcat(axis=1)
    >>> init(random.key(0), ((-1, 2), (-1, 3)))[0]
    (-1, 5)
    """

    def init(key: random.Key, input_shape: Any) -> tuple[Shape, tuple[()]]:
        shapes = _fan_in_shapes(input_shape, "FanInConcat")
        ndim = len(shapes[0])
        if not -ndim <= axis < ndim or any(len(s) != ndim for s in shapes):
            raise ValueError(f"FanInConcat: axis {axis} does not fit the input shapes {shapes}")
        ax = axis % ndim
        if any(s[:ax] + s[ax + 1 :] != shapes[0][:ax] + shapes[0][ax + 1 :] for s in shapes):
            raise ValueError(f"FanInConcat: shapes {shapes} differ off axis {axis}")
        size = sum(s[ax] for s in shapes)
        return (*shapes[0][:ax], size, *shapes[0][ax + 1 :]), ()

    def apply(
        params: Any, xs: Any, *, key: random.Key | None = None, rng: random.Key | None = None
    ) -> Any:
        return fnp.concatenate(list(xs), axis=axis)

    return Layer(init, apply)


# --------------------------------------------------------------------------- convolution


def _positive_ints(value: Any, layer: str, name: str) -> tuple[int, ...]:
    try:
        values = tuple(value)
    except TypeError:
        raise TypeError(f"{layer}: {name} must be a tuple of ints, got {value!r}") from None
    if not values or any(
        isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1 for v in values
    ):
        raise ValueError(
            f"{layer}: {name} must be a non-empty tuple of positive ints, got {value!r}"
        )
    return tuple(int(v) for v in values)


def _with_batch(shape: Shape, batch_axis: int) -> tuple[Shape, bool]:
    """``shape`` with an unknown (-1) batch size replaced by 1, and whether it was."""
    if shape[batch_axis] != -1:
        return shape, False
    return (*shape[:batch_axis], 1, *shape[batch_axis + 1 :]), True


def GeneralConv(  # noqa: N802
    dimension_numbers: tuple[str, str, str],
    out_chan: int,
    filter_shape: Sequence[int],
    strides: Sequence[int] | None = None,
    padding: Any = "VALID",
    W_init: InitFn | None = None,  # noqa: N803  (stax's spelling)
    b_init: InitFn = normal(1e-6),  # noqa: B008
) -> Layer:
    """Convolution layer with any layout (``stax.GeneralConv``): ``conv(x, W) + b``.

    Parameters
    ----------
    dimension_numbers : (str, str, str)
        Layouts of input, kernel and output, e.g. ``('NHWC', 'HWIO', 'NHWC')`` (see
        :func:`fgrad.lax.conv_general_dilated`).
    out_chan : int
        Number of output features.
    filter_shape : tuple of int
        Kernel size along each spatial axis.
    strides : tuple of int, optional
        Default: ones.
    padding : 'SAME', 'VALID' or sequence of (low, high)
    W_init : callable, optional
        Default: :func:`glorot_normal` with the kernel's ``I``/``O`` axes as fans.
    b_init : callable, default normal(1e-6)
        Bias of shape 1 everywhere but the output's feature axis (as stax).

    Returns
    -------
    Layer
        Params ``(W, b)``.
    """
    from fgrad import lax

    lhs_spec, rhs_spec, out_spec = dimension_numbers
    spatial = _positive_ints(filter_shape, "Conv", "filter_shape")
    if len(rhs_spec) != len(spatial) + 2:
        raise ValueError(
            f"Conv: filter_shape {filter_shape!r} has {len(spatial)} axes, the kernel layout "
            f"{rhs_spec!r} has {len(rhs_spec) - 2} spatial axes"
        )
    if isinstance(out_chan, bool) or not isinstance(out_chan, numbers.Integral) or out_chan < 1:
        raise ValueError(f"Conv: out_chan must be a positive int, got {out_chan!r}")
    window_strides = (
        (1,) * len(spatial) if strides is None else _positive_ints(strides, "Conv", "strides")
    )
    kernel_init = W_init or glorot_normal(rhs_spec.index("I"), rhs_spec.index("O"))

    def init(key: random.Key, input_shape: Shape) -> tuple[Shape, tuple[Any, Any]]:
        shape = _check_shape(input_shape, "Conv")
        if len(shape) != len(lhs_spec):
            raise ValueError(
                f"Conv: input_shape {input_shape!r} does not match the input layout {lhs_spec!r}"
            )
        in_chan = shape[lhs_spec.index("C")]
        if in_chan == -1:
            raise ValueError(f"Conv: the number of input features must be known, got {shape}")
        taps = iter(spatial)
        kernel_shape = tuple(
            int(out_chan) if c == "O" else in_chan if c == "I" else next(taps) for c in rhs_spec
        )
        concrete_shape, unknown_batch = _with_batch(shape, lhs_spec.index("N"))
        out_shape = lax.conv_general_shape_tuple(
            concrete_shape, kernel_shape, window_strides, padding, dimension_numbers
        )
        if unknown_batch:
            batch = out_spec.index("N")
            out_shape = (*out_shape[:batch], -1, *out_shape[batch + 1 :])
        bias_shape = tuple(int(out_chan) if c == "C" else 1 for c in out_spec)
        k_w, k_b = random.split(key)
        return out_shape, freeze((kernel_init(k_w, kernel_shape), b_init(k_b, bias_shape)))

    def apply(
        params: Any, x: Any, *, key: random.Key | None = None, rng: random.Key | None = None
    ) -> Any:
        W, b = params
        return (
            lax.conv_general_dilated(
                x, W, window_strides, padding, dimension_numbers=dimension_numbers
            )
            + b
        )

    return Layer(init, apply)


def Conv(  # noqa: N802
    out_chan: int,
    filter_shape: Sequence[int],
    strides: Sequence[int] | None = None,
    padding: Any = "VALID",
    W_init: InitFn | None = None,  # noqa: N803
    b_init: InitFn = normal(1e-6),  # noqa: B008
) -> Layer:
    """2-D convolution layer on ``NHWC`` images with an ``HWIO`` kernel (``stax.Conv``).

    :func:`GeneralConv` with ``('NHWC', 'HWIO', 'NHWC')``.

    Examples
    --------
    >>> from fgrad import nn, random
    >>> init, apply = nn.Conv(8, (3, 3), padding="SAME")
    >>> shape, (W, b) = init(random.key(0), (-1, 28, 28, 1))
    >>> shape, W.shape, b.shape
    ((-1, 28, 28, 8), (3, 3, 1, 8), (1, 1, 1, 8))
    >>> apply((W, b), np.ones((2, 28, 28, 1))).shape
    (2, 28, 28, 8)
    """
    return GeneralConv(("NHWC", "HWIO", "NHWC"), out_chan, filter_shape, strides, padding,
                       W_init, b_init)  # fmt: skip


def Conv1D(  # noqa: N802
    out_chan: int,
    filter_shape: Sequence[int],
    strides: Sequence[int] | None = None,
    padding: Any = "VALID",
    W_init: InitFn | None = None,  # noqa: N803
    b_init: InitFn = normal(1e-6),  # noqa: B008
) -> Layer:
    """1-D convolution layer on ``(N, length, C)`` sequences, kernel ``(width, I, O)``.

    :func:`GeneralConv` with ``('NHC', 'HIO', 'NHC')``.

    Examples
    --------
    >>> from fgrad import nn, random
    >>> init, apply = nn.Conv1D(4, (3,), strides=(2,))
    >>> init(random.key(0), (-1, 11, 2))[0]
    (-1, 5, 4)
    """
    return GeneralConv(("NHC", "HIO", "NHC"), out_chan, filter_shape, strides, padding,
                       W_init, b_init)  # fmt: skip


def _pooling_layer(kind: str, name: str) -> Callable[..., Layer]:
    def layer(
        window_shape: Sequence[int],
        strides: Sequence[int] | None = None,
        padding: Any = "VALID",
        spec: str | None = None,
    ) -> Layer:
        from fgrad import lax

        window = _positive_ints(window_shape, name, "window_shape")
        step = window if strides is None else _positive_ints(strides, name, "strides")
        if len(step) != len(window):
            raise ValueError(f"{name}: strides {strides!r} and window_shape differ in length")
        if spec is None:
            non_spatial = (0, len(window) + 1)
        else:
            if len(spec) != len(window) + 2 or "N" not in spec or "C" not in spec:
                raise ValueError(
                    f"{name}: spec {spec!r} must be N, C and one letter per window axis"
                )
            non_spatial = (spec.index("N"), spec.index("C"))
        full_window, full_strides = list(window), list(step)
        for axis in sorted(non_spatial):
            full_window.insert(axis, 1)
            full_strides.insert(axis, 1)
        init_value = {"max": -np.inf, "add": 0.0, "avg": 0.0}[kind]
        computation = lax.max if kind == "max" else lax.add

        def init(key: random.Key, input_shape: Shape) -> tuple[Shape, tuple[()]]:
            shape = _check_shape(input_shape, name)
            if len(shape) != len(full_window):
                raise ValueError(
                    f"{name}: input_shape {input_shape!r} needs {len(full_window)} axes "
                    f"(batch, {len(window)} spatial, features)"
                )
            concrete_shape, unknown_batch = _with_batch(shape, non_spatial[0])
            out = lax.reduce_window_shape_tuple(concrete_shape, full_window, full_strides, padding)
            if unknown_batch:
                out = (*out[: non_spatial[0]], -1, *out[non_spatial[0] + 1 :])
            return out, ()

        def apply(
            params: Any, x: Any, *, key: random.Key | None = None, rng: random.Key | None = None
        ) -> Any:
            out = lax.reduce_window(x, init_value, computation, full_window, full_strides, padding)
            if kind != "avg":
                return out
            spatial_shape = [d for a, d in enumerate(np.shape(peek(x))) if a not in non_spatial]
            spatial_window = [w for a, w in enumerate(full_window) if a not in non_spatial]
            spatial_strides = [s for a, s in enumerate(full_strides) if a not in non_spatial]
            counts = lax.reduce_window(
                np.ones(spatial_shape), 0.0, lax.add, spatial_window, spatial_strides, padding
            )
            counts = np.expand_dims(counts, sorted(non_spatial))
            return out / counts

        return Layer(init, apply)

    layer.__name__ = layer.__qualname__ = name
    return layer


MaxPool = _pooling_layer("max", "MaxPool")
MaxPool.__doc__ = """Max pooling layer (``stax.MaxPool``): ``MaxPool(window_shape, strides=None,
padding='VALID', spec=None)``.

The window and strides cover the spatial axes; ``spec`` (such as ``'NHWC'``, the default
layout: batch first, features last) says where the batch and feature axes are. ``strides``
defaults to the window (non-overlapping windows; stax's default is ones). The gradient
goes to the first maximum of each window (see :func:`fgrad.lax.reduce_window`).

Examples
--------
>>> from fgrad import nn, random
>>> init, apply = nn.MaxPool((2, 2))
>>> init(random.key(0), (-1, 8, 8, 3))[0]
(-1, 4, 4, 3)
>>> apply((), np.arange(16.0).reshape(1, 4, 4, 1))[0, :, :, 0]
array([[ 5.,  7.],
       [13., 15.]])
"""
SumPool = _pooling_layer("add", "SumPool")
SumPool.__doc__ = """Sum pooling layer (``stax.SumPool``); arguments as :func:`MaxPool`.

Examples
--------
>>> from fgrad import nn
>>> nn.SumPool((2, 2)).apply((), np.ones((1, 4, 4, 1)))[0, :, :, 0]
array([[4., 4.],
       [4., 4.]])
"""
AvgPool = _pooling_layer("avg", "AvgPool")
AvgPool.__doc__ = """Average pooling layer (``stax.AvgPool``); arguments as :func:`MaxPool`.

Each window's sum is divided by the number of input entries it covers (padding excluded,
as stax does).

Examples
--------
>>> from fgrad import nn
>>> nn.AvgPool((2, 2), strides=(2, 2), padding="SAME").apply((), np.ones((1, 3, 3, 1)))[..., 0]
array([[[1., 1.],
        [1., 1.]]])
"""


def _global_avg_pool_init(key: random.Key, input_shape: Shape) -> tuple[Shape, tuple[()]]:
    shape = _check_shape(input_shape, "GlobalAvgPool")
    if len(shape) < 3:
        raise ValueError(
            f"GlobalAvgPool: input_shape needs batch, spatial and feature axes, got {shape}"
        )
    return (shape[0], shape[-1]), ()


def _global_avg_pool_apply(
    params: Any, x: Any, *, key: random.Key | None = None, rng: random.Key | None = None
) -> Any:
    return fnp.mean(x, axis=tuple(range(1, np.ndim(peek(x)) - 1)))


GlobalAvgPool = Layer(_global_avg_pool_init, _global_avg_pool_apply)
"""Layer averaging over the spatial axes of ``(N, *spatial, C)`` inputs: ``(N, C)`` out."""


# --------------------------------------------------------------------------- normalisation


def _normalized_axes(axis: Any, layer: str) -> tuple[int, ...]:
    listed = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    if any(isinstance(a, bool) or not isinstance(a, numbers.Integral) for a in listed):
        raise TypeError(f"{layer}: axis must be an int or a tuple of ints, got {axis!r}")
    return tuple(int(a) for a in listed)


def _param_shape(shape: Shape, axes: tuple[int, ...], keep: bool, layer: str) -> Shape:
    """The shape of a per-feature parameter: the axes not in ``axes`` (``keep``: those in)."""
    ndim = len(shape)
    try:
        resolved = {a % ndim for a in axes if -ndim <= a < ndim}
    except ZeroDivisionError:
        resolved = set()
    if len(resolved) != len(axes):
        raise ValueError(f"{layer}: axis {axes} does not fit input_shape {shape}")
    picked = tuple(d for a, d in enumerate(shape) if (a in resolved) == keep)
    if -1 in picked:
        raise ValueError(f"{layer}: the parameter axes of input_shape {shape} must be known")
    return picked


def _broadcastable(p: Any, ndim: int, axes: tuple[int, ...], keep: bool) -> Any:
    resolved = {a % ndim for a in axes}
    shape = np.shape(peek(p))
    sizes = iter(shape)
    return fnp.reshape(p, tuple(next(sizes) if (a in resolved) == keep else 1 for a in range(ndim)))


def _standardize(x: Any, axes: tuple[int, ...], epsilon: float) -> tuple[Any, Any, Any]:
    mean = fnp.mean(x, axis=axes, keepdims=True)
    centred = x - mean
    var = fnp.mean(centred * centred, axis=axes, keepdims=True)
    return centred / fnp.sqrt(var + epsilon), mean, var


def BatchNorm(  # noqa: N802
    axis: Any = (0, 1, 2),
    epsilon: float = 1e-5,
    center: bool = True,
    scale: bool = True,
    beta_init: InitFn = zeros,
    gamma_init: InitFn = ones,
) -> Layer:
    """Batch normalisation with the statistics of the batch (``stax.BatchNorm``).

    Standardises over ``axis`` (default ``(0, 1, 2)``: batch and spatial axes of ``NHWC``
    images; ``(0,)`` for ``(N, features)``), then scales by ``gamma`` and shifts by
    ``beta``, one per remaining entry. Training and evaluation both use the current
    batch's statistics, as stax does; :func:`RunningBatchNorm` keeps running averages
    for evaluation.

    Returns
    -------
    Layer
        Params ``(beta, gamma)`` (``()`` for one not used).

    Examples
    --------
    >>> from fgrad import nn, random
    >>> init, apply = nn.BatchNorm(axis=(0,))
    >>> shape, params = init(random.key(0), (-1, 3))
    >>> y = apply(params, np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]]))
    >>> np.round(y, 3) + 0.0
    array([[-1.,  0.,  1.],
           [ 1.,  0., -1.]])
    """
    axes = _normalized_axes(axis, "BatchNorm")
    eps = _check_nonnegative(epsilon, "epsilon", "BatchNorm")

    def init(key: random.Key, input_shape: Shape) -> tuple[Shape, tuple[Any, Any]]:
        shape = _check_shape(input_shape, "BatchNorm")
        param_shape = _param_shape(shape, axes, False, "BatchNorm")
        k_beta, k_gamma = random.split(key)
        beta = beta_init(k_beta, param_shape) if center else ()
        gamma = gamma_init(k_gamma, param_shape) if scale else ()
        return shape, freeze((beta, gamma))

    def apply(
        params: Any, x: Any, *, key: random.Key | None = None, rng: random.Key | None = None
    ) -> Any:
        beta, gamma = params
        ndim = np.ndim(peek(x))
        z, _, _ = _standardize(x, tuple(a % ndim for a in axes), eps)
        if scale:
            z = z * _broadcastable(gamma, ndim, axes, False)
        if center:
            z = z + _broadcastable(beta, ndim, axes, False)
        return z

    return Layer(init, apply)


class StatefulLayer(NamedTuple):
    """A layer with state besides its parameters, such as :func:`RunningBatchNorm`.

    Attributes
    ----------
    init : callable
        ``init(key, input_shape) -> (output_shape, params, state)``.
    apply : callable
        ``apply(params, state, x, *, training) -> (output, new_state)``; the state is
        not differentiated (its updates are computed on ``stop_gradient`` values).
    """

    init: Callable[..., tuple[Any, Any, Any]]
    apply: Callable[..., tuple[Any, Any]]


def RunningBatchNorm(  # noqa: N802
    axis: Any = (0, 1, 2),
    momentum: float = 0.99,
    epsilon: float = 1e-5,
    center: bool = True,
    scale: bool = True,
    beta_init: InitFn = zeros,
    gamma_init: InitFn = ones,
) -> StatefulLayer:
    """Batch normalisation with running statistics kept as explicit state, for evaluation.

    ``apply(params, state, x, training=True)`` standardises with the batch's mean and
    (biased) variance, as :func:`BatchNorm`, and returns the new state
    ``momentum * old + (1 - momentum) * batch`` for each (Flax's convention for
    ``momentum``); ``training=False`` standardises with the state and returns it unchanged.
    The state is a dict ``{"mean", "var"}``, started at zeros and ones; thread it through
    the training loop (return it as ``has_aux`` from the loss).

    Returns
    -------
    StatefulLayer
        Params ``(beta, gamma)``; state ``{"mean": ..., "var": ...}``.

    Examples
    --------
    >>> from fgrad import nn, random
    >>> init, apply = nn.RunningBatchNorm(axis=(0,), momentum=0.5)
    >>> shape, params, state = init(random.key(0), (-1, 2))
    >>> x = np.array([[1.0, 0.0], [3.0, 4.0]])
    >>> y, state = apply(params, state, x, training=True)
    >>> state["mean"], state["var"]
    (array([1., 1.]), array([1. , 2.5]))
    >>> y_eval, _ = apply(params, state, x, training=False)
    >>> np.round(y_eval[:, 0], 3)
    array([0., 2.])
    """
    axes = _normalized_axes(axis, "RunningBatchNorm")
    eps = _check_nonnegative(epsilon, "epsilon", "RunningBatchNorm")
    decay = _check_nonnegative(momentum, "momentum", "RunningBatchNorm")
    if decay > 1:
        raise ValueError(f"RunningBatchNorm: momentum must be in [0, 1], got {momentum!r}")
    stateless = BatchNorm(axis, epsilon, center, scale, beta_init, gamma_init)

    def init(key: random.Key, input_shape: Shape) -> tuple[Shape, Any, dict[str, Any]]:
        shape, params = stateless.init(key, input_shape)
        param_shape = _param_shape(shape, axes, False, "RunningBatchNorm")
        state = {"mean": np.zeros(param_shape), "var": np.ones(param_shape)}
        return shape, params, freeze(state)

    def apply(params: Any, state: Any, x: Any, *, training: bool) -> tuple[Any, Any]:
        from fgrad import stop_gradient

        beta, gamma = params
        ndim = np.ndim(peek(x))
        resolved = tuple(a % ndim for a in axes)
        if training:
            z, mean, var = _standardize(x, resolved, eps)
            batch_mean = fnp.reshape(stop_gradient(mean), np.shape(state["mean"]))
            batch_var = fnp.reshape(stop_gradient(var), np.shape(state["var"]))
            state = {
                "mean": decay * state["mean"] + (1 - decay) * batch_mean,
                "var": decay * state["var"] + (1 - decay) * batch_var,
            }
        else:
            mean = _broadcastable(state["mean"], ndim, axes, False)
            var = _broadcastable(state["var"], ndim, axes, False)
            z = (x - mean) / fnp.sqrt(var + eps)
        if scale:
            z = z * _broadcastable(gamma, ndim, axes, False)
        if center:
            z = z + _broadcastable(beta, ndim, axes, False)
        return z, state

    return StatefulLayer(init, apply)


def LayerNorm(  # noqa: N802
    axis: Any = -1,
    epsilon: float = 1e-5,
    center: bool = True,
    scale: bool = True,
    beta_init: InitFn = zeros,
    gamma_init: InitFn = ones,
) -> Layer:
    """Layer normalisation: standardise each example over ``axis`` (default the features).

    ``gamma`` and ``beta`` have the shape of the normalised axes. ``epsilon`` is added to
    the variance (1e-5 as PyTorch; Flax uses 1e-6).

    Examples
    --------
    >>> from fgrad import nn, random
    >>> init, apply = nn.LayerNorm()
    >>> shape, (beta, gamma) = init(random.key(0), (-1, 4))
    >>> y = apply((beta, gamma), np.array([[1.0, 2.0, 3.0, 4.0]]))
    >>> round(float(y.mean()), 6), round(float(y.std()), 3)
    (0.0, 1.0)
    """
    axes = _normalized_axes(axis, "LayerNorm")
    eps = _check_nonnegative(epsilon, "epsilon", "LayerNorm")

    def init(key: random.Key, input_shape: Shape) -> tuple[Shape, tuple[Any, Any]]:
        shape = _check_shape(input_shape, "LayerNorm")
        param_shape = _param_shape(shape, axes, True, "LayerNorm")
        k_beta, k_gamma = random.split(key)
        beta = beta_init(k_beta, param_shape) if center else ()
        gamma = gamma_init(k_gamma, param_shape) if scale else ()
        return shape, freeze((beta, gamma))

    def apply(
        params: Any, x: Any, *, key: random.Key | None = None, rng: random.Key | None = None
    ) -> Any:
        beta, gamma = params
        ndim = np.ndim(peek(x))
        z, _, _ = _standardize(x, tuple(sorted(a % ndim for a in axes)), eps)
        if scale:
            z = z * _broadcastable(gamma, ndim, axes, True)
        if center:
            z = z + _broadcastable(beta, ndim, axes, True)
        return z

    return Layer(init, apply)


def Embedding(  # noqa: N802
    vocab_size: int,
    features: int,
    embedding_init: InitFn = normal(1.0),  # noqa: B008
) -> Layer:
    """Lookup table: integer ids ``(...)`` to vectors ``(..., features)``.

    Params are the table ``(vocab_size, features)``, drawn from ``N(0, 1)`` by default
    (as ``torch.nn.Embedding``). Ids outside ``[0, vocab_size)`` raise ``IndexError``.

    Gradient: each row receives the sum of the cotangents of the positions that used it.

    Examples
    --------
    >>> from fgrad import nn, random
    >>> init, apply = nn.Embedding(10, 3)
    >>> shape, table = init(random.key(0), (-1, 5))
    >>> shape, table.shape, apply(table, np.array([[1, 2, 2, 0, 9]])).shape
    ((-1, 5, 3), (10, 3), (1, 5, 3))
    """
    for value, name in ((vocab_size, "vocab_size"), (features, "features")):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"Embedding: {name} must be a positive int, got {value!r}")

    def init(key: random.Key, input_shape: Shape) -> tuple[Shape, Any]:
        shape = _check_shape(input_shape, "Embedding")
        table = embedding_init(key, (int(vocab_size), int(features)))
        return (*shape, int(features)), freeze(table)

    def apply(
        params: Any, ids: Any, *, key: random.Key | None = None, rng: random.Key | None = None
    ) -> Any:
        kind = np.result_type(peek(ids)).kind
        if kind not in "iu":
            raise TypeError(
                f"Embedding: ids must be integers, got dtype {np.result_type(peek(ids))}"
            )
        return params[ids]

    return Layer(init, apply)
