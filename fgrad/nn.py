"""Neural-network building blocks: activations, initializers and layers.

A model is a :class:`Layer`, a pair of pure functions in the style of
``jax.example_libraries.stax``:

* ``init(key, input_shape) -> (output_shape, params)`` draws the parameters
  from a PRNG key. Shapes use ``-1`` for the batch dimension, e.g. ``(-1, 2)``;
  data are row-major ``(batch, features)``. Every parameter leaf is a
  read-only array, so an accidental in-place update raises.
* ``apply(params, x, *, key=None)`` computes the output. ``key`` is only
  needed by stochastic layers (:func:`Dropout`) during training; with
  ``key=None`` the model is deterministic.

Layers combine with :func:`serial` and :func:`parallel`. Ready-made layers are
:func:`Dense`, :func:`LeakyRelu`, :func:`Dropout` and the values ``Sigmoid``,
``Tanh``, ``Relu``, ``Softplus``, ``Identity``, ``Softmax``, ``LogSoftmax``
(both over the last axis) and ``Flatten`` (which keeps the batch dimension and
flattens the rest). Any pair of two functions with these signatures is a layer
too and mixes in; a user layer whose ``apply`` takes no ``key`` keyword is
called without one.

The activation functions are also available as plain functions:
``sigmoid relu softplus logsumexp softmax log_softmax`` (the stable primitives
of :mod:`fgrad._rules.special`), :func:`leaky_relu` and ``tanh``
(``fgrad.numpy.tanh``).

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
    "Dense",
    "Dropout",
    "Flatten",
    "Identity",
    "Layer",
    "LeakyRelu",
    "LogSoftmax",
    "Relu",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "Tanh",
    "freeze",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "leaky_relu",
    "lecun_normal",
    "log_softmax",
    "logsumexp",
    "normal",
    "ones",
    "parallel",
    "relu",
    "serial",
    "sigmoid",
    "softmax",
    "softplus",
    "tanh",
    "uniform",
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


# --------------------------------------------------------------------------- initializers


def _check_nonnegative(value: object, name: str, fn: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{fn}: {name} must be a real number, got {value!r}")
    v = float(value)
    if not math.isfinite(v) or v < 0 or (positive and v == 0):
        bound = "> 0" if positive else ">= 0"
        raise ValueError(f"{fn}: {name} must be finite and {bound}, got {value!r}")
    return v


def _fans(shape: Sequence[int], fn: str) -> tuple[int, int]:
    shape = tuple(shape)
    if len(shape) == 0:
        raise ValueError(f"{fn}: cannot compute fan-in/fan-out of a scalar (shape ())")
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


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


def _variance_scaling(name: str, mode: str, scale: float, distribution: str) -> InitFn:
    def init_fn(key: random.Key, shape: Sequence[int], dtype: npt.DTypeLike = np.float64) -> Any:
        fan_in, fan_out = _fans(shape, name)
        fan = {"fan_in": fan_in, "fan_avg": (fan_in + fan_out) / 2}[mode]
        variance = scale / max(fan, 1)
        if distribution == "normal":
            return math.sqrt(variance) * random.normal(key, shape, dtype)
        limit = math.sqrt(3 * variance)
        return random.uniform(key, shape, dtype, -limit, limit)

    init_fn.__qualname__ = init_fn.__name__ = f"{name}_init"
    return init_fn


def glorot_normal() -> InitFn:
    """Glorot (Xavier) normal initializer: std ``sqrt(2 / (fan_in + fan_out))``.

    For a shape ``(in, out)`` the fans are ``in`` and ``out``; leading
    dimensions of higher-rank shapes multiply both (a receptive field), and a
    1-D shape ``(n,)`` has both fans equal to ``n``.

    Examples
    --------
    >>> from fgrad import nn, random
    >>> w = nn.glorot_normal()(random.key(0), (300, 500))
    >>> round(float(w.std() ** 2 * (300 + 500) / 2), 1)
    1.0
    """
    return _variance_scaling("glorot_normal", "fan_avg", 1.0, "normal")


def glorot_uniform() -> InitFn:
    """Glorot (Xavier) uniform initializer on ``[-l, l)``, ``l = sqrt(6 / (fan_in + fan_out))``.

    Fans as in :func:`glorot_normal`.

    Examples
    --------
    >>> from fgrad import nn, random
    >>> w = nn.glorot_uniform()(random.key(0), (4, 2))
    >>> bool(np.abs(w).max() < np.sqrt(6 / 6))
    True
    """
    return _variance_scaling("glorot_uniform", "fan_avg", 1.0, "uniform")


def he_normal() -> InitFn:
    """He (Kaiming) normal initializer for ReLU layers: std ``sqrt(2 / fan_in)``.

    Fans as in :func:`glorot_normal`.

    Examples
    --------
    >>> from fgrad import nn, random
    >>> w = nn.he_normal()(random.key(0), (400, 300))
    >>> round(float(w.std() ** 2 * 400 / 2), 1)
    1.0
    """
    return _variance_scaling("he_normal", "fan_in", 2.0, "normal")


def he_uniform() -> InitFn:
    """He (Kaiming) uniform initializer on ``[-l, l)``, ``l = sqrt(6 / fan_in)``.

    Fans as in :func:`glorot_normal`.

    Examples
    --------
    >>> from fgrad import nn, random
    >>> w = nn.he_uniform()(random.key(0), (6, 3))
    >>> bool(np.abs(w).max() < 1.0)
    True
    """
    return _variance_scaling("he_uniform", "fan_in", 2.0, "uniform")


def lecun_normal() -> InitFn:
    """LeCun normal initializer (for SELU/tanh layers): std ``sqrt(1 / fan_in)``.

    Fans as in :func:`glorot_normal`.

    Examples
    --------
    >>> from fgrad import nn, random
    >>> w = nn.lecun_normal()(random.key(0), (400, 300))
    >>> round(float(w.std() ** 2 * 400), 1)
    1.0
    """
    return _variance_scaling("lecun_normal", "fan_in", 1.0, "normal")


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


def _elementwise(fn: Callable[[Any], Any], name: str) -> Layer:
    def init(key: random.Key, input_shape: Shape) -> tuple[Shape, tuple[()]]:
        return _check_shape(input_shape, name), ()

    def apply(params: Any, x: Any, *, key: random.Key | None = None) -> Any:
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


def _flatten_apply(params: Any, x: Any, *, key: random.Key | None = None) -> Any:
    shape = np.shape(peek(x))
    return fnp.reshape(x, (shape[0], math.prod(shape[1:])))


Flatten = Layer(_flatten_init, _flatten_apply)


_GLOROT_NORMAL = glorot_normal()


def Dense(out_dim: int, w_init: InitFn = _GLOROT_NORMAL, b_init: InitFn = zeros) -> Layer:  # noqa: N802
    """Fully connected layer ``x @ W + b`` on the last axis.

    Parameters
    ----------
    out_dim : int
        Number of output features.
    w_init : callable, default=glorot_normal()
        Initializer of ``W``, of shape ``(in_dim, out_dim)``.
    b_init : callable, default=zeros
        Initializer of ``b``, of shape ``(out_dim,)``.

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

    def init(key: random.Key, input_shape: Shape) -> tuple[Shape, tuple[Any, Any]]:
        shape = _check_shape(input_shape, "Dense")
        if not shape or shape[-1] == -1:
            raise ValueError(
                f"Dense: the last dimension of input_shape must be the (known) number of input "
                f"features, got {input_shape!r}"
            )
        k_w, k_b = random.split(key)
        params = (w_init(k_w, (shape[-1], n_out)), b_init(k_b, (n_out,)))
        return (*shape[:-1], n_out), freeze(params)

    def apply(params: Any, x: Any, *, key: random.Key | None = None) -> Any:
        W, b = params
        return fnp.matmul(x, W) + b

    return Layer(init, apply)


def Dropout(rate: float) -> Layer:  # noqa: N802
    """Inverted dropout: zero each entry with probability ``rate`` while training.

    With a ``key``, kept entries are scaled by ``1 / (1 - rate)`` so the
    expected output equals the input; with ``key=None`` (evaluation) the layer
    is the identity. The same key always drops the same entries.

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

    def apply(params: Any, x: Any, *, key: random.Key | None = None) -> Any:
        if key is None or keep == 1.0:
            return x
        value = np.asarray(peek(x))
        mask = random.bernoulli(key, keep, value.shape)
        dtype = value.dtype if value.dtype.kind == "f" else np.dtype(np.float64)
        return x * (mask.astype(dtype) / dtype.type(keep))

    return Layer(init, apply)


def _takes_key(apply: Callable[..., Any]) -> bool:
    try:
        parameters = inspect.signature(apply).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(
        p.kind is inspect.Parameter.VAR_KEYWORD
        or (p.name == "key" and p.kind is not inspect.Parameter.POSITIONAL_ONLY)
        for p in parameters
    )


def _as_layers(layers: tuple[Any, ...], combinator: str) -> list[tuple[Any, Any, bool]]:
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


def _call(apply: Callable[..., Any], takes_key: bool, p: Any, x: Any, key: Any) -> Any:
    if key is None or not takes_key:
        return apply(p, x)
    return apply(p, x, key=key)


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

    def apply(params: Any, x: Any, *, key: random.Key | None = None) -> Any:
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

    def apply(params: Any, xs: Any, *, key: random.Key | None = None) -> tuple[Any, ...]:
        _check_sequence(params, n, "parallel: params")
        _check_sequence(xs, n, "parallel: the input")
        return tuple(
            _call(layer_apply, takes_key, p, x, k)
            for (_, layer_apply, takes_key), p, x, k in zip(parts, params, xs, _layer_keys(key, n))
        )

    return Layer(init, apply)
