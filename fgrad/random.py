"""Explicit, pure pseudo-random numbers in the style of ``jax.random``.

There is no hidden global random state. Every sampling function takes a
*key* and returns the same numbers for the same key, on every platform. To
get fresh numbers, derive new keys with :func:`split` or :func:`fold_in`
and never reuse a key for two unrelated purposes::

    key = fgrad.random.key(0)
    key, init_key = fgrad.random.split(key)
    W = fgrad.random.normal(init_key, (3, 2))

A key is a read-only ``uint64`` NumPy array of shape ``(2,)``: the 128-bit key
of NumPy's counter-based :class:`numpy.random.Philox` bit generator. Sampling
runs Philox from counter zero; :func:`split` and :func:`fold_in` draw the new
keys from counter ranges that sampling never reaches, so derived keys and
samples do not overlap. Nothing ever writes to a key.

Under :func:`fgrad.jit` a key may be a traced argument: every function here
is then recorded as one instruction that draws from the key of each call, so
a step that receives a fresh key per call replays, with the same numbers as
an eager call.

The raw Philox bits are platform independent. The transforms from bits to
normal, uniform, permutation and choice samples are those of
:class:`numpy.random.Generator`, which NumPy may (rarely) change between
releases; pin NumPy if bit-for-bit reproducibility across upgrades matters.
"""

from __future__ import annotations

import numbers
import operator
from collections.abc import Sequence
from typing import Any, TypeAlias, TypeGuard

import numpy as np
import numpy.typing as npt

from fgrad.values import Tracer, peek, recorded

__all__ = [
    "Key",
    "bernoulli",
    "choice",
    "fold_in",
    "key",
    "normal",
    "permutation",
    "split",
    "uniform",
]

Key: TypeAlias = npt.NDArray[np.uint64]
"""A PRNG key: a read-only ``uint64`` array of shape ``(2,)`` made by :func:`key`."""

Shape: TypeAlias = int | Sequence[int]

_SPLIT_DOMAIN = 1
_FOLD_IN_DOMAIN = 2
_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_KEY_HELP = (
    "a PRNG key is a uint64 array of shape (2,); make one with fgrad.random.key(0) "
    "and derive more with fgrad.random.split(key)"
)


def _describe(x: object) -> str:
    if x.__class__ is Tracer:
        return f"traced {_describe(peek(x))}"
    if isinstance(x, np.ndarray):
        return f"array of shape {x.shape} and dtype {x.dtype}"
    return f"{type(x).__name__} {x!r}"


def _check_key(k: object, name: str = "key") -> Key:
    """Return ``k`` as a key array, or raise ``TypeError`` explaining what a key is.

    A traced key (under ``fgrad.jit``) is returned as it is once its shape and dtype check.
    """
    if _is_key(peek(k)):
        return k  # type: ignore[return-value]
    hint = ""
    k = peek(k)
    if isinstance(k, np.ndarray) and k.dtype == np.uint64 and k.ndim == 2 and k.shape[1:] == (2,):
        hint = f" (this looks like {k.shape[0]} keys from split(); index one, e.g. {name}[0])"
    raise TypeError(f"{name} must be a PRNG key, got {_describe(k)}{hint}; {_KEY_HELP}")


def _is_key(k: object) -> TypeGuard[Key]:
    return isinstance(k, np.ndarray) and k.dtype == np.uint64 and k.shape == (2,)


def _freeze(a: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    a.flags.writeable = False
    return a


def _philox(k: Key, domain: int = 0, counter_low: int = 0) -> np.random.Philox:
    counter = np.array([counter_low, 0, 0, domain], dtype=np.uint64)
    return np.random.Philox(key=k, counter=counter)


def _generator(k: Key) -> np.random.Generator:
    """A fresh NumPy ``Generator`` whose stream is fully determined by ``k``."""
    return np.random.Generator(_philox(k))


def _check_int(value: object, name: str, *, minimum: int | None = None) -> int:
    if value.__class__ is Tracer or (
        isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iu"
    ):
        value = operator.index(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {_describe(value)}")
    result = operator.index(value)
    if minimum is not None and result < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {result}")
    return result


def _check_shape(shape: object, name: str = "shape") -> tuple[int, ...]:
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        dims: Sequence[object] = (shape,)
    elif isinstance(shape, Sequence | np.ndarray) and not isinstance(shape, str):
        dims = list(shape)
    else:
        raise TypeError(f"{name} must be an int or a sequence of ints, got {_describe(shape)}")
    out = []
    for d in dims:
        if d.__class__ is Tracer:
            d = operator.index(d)
        if isinstance(d, bool) or not isinstance(d, numbers.Integral):
            raise TypeError(f"{name} must contain only ints, got {tuple(dims)!r}")
        if d < 0:
            raise ValueError(f"{name} must not have negative dimensions, got {tuple(dims)!r}")
        out.append(operator.index(d))
    return tuple(out)


def _check_float_dtype(dtype: npt.DTypeLike, fn: str) -> np.dtype[Any]:
    try:
        dt = np.dtype(dtype)
    except TypeError as e:
        raise TypeError(f"{fn}: dtype {dtype!r} is not a NumPy dtype") from e
    if dt not in _FLOAT_DTYPES:
        raise TypeError(f"{fn}: dtype must be float32 or float64, got {dt}")
    return dt


def key(seed: int) -> Key:
    """Create a PRNG key from an integer seed.

    Parameters
    ----------
    seed : int
        Any non-negative integer. It is hashed with
        :class:`numpy.random.SeedSequence`, so nearby seeds give unrelated keys.

    Returns
    -------
    Key
        A read-only ``uint64`` array of shape ``(2,)``.

    Raises
    ------
    TypeError
        If ``seed`` is not an integer.
    ValueError
        If ``seed`` is negative.

    Examples
    --------
    >>> from fgrad import random
    >>> k = random.key(0)
    >>> k.shape, k.dtype
    ((2,), dtype('uint64'))
    >>> bool((k == random.key(0)).all()), bool((k == random.key(1)).all())
    (True, False)
    """
    if seed.__class__ is not Tracer:
        _check_int(seed, "seed")
    return _key(seed)


def _key_impl(seed: Any) -> Key:
    s = _check_int(seed, "seed")
    if s < 0:
        raise ValueError(f"seed must be a non-negative integer, got {s}")
    state = np.random.SeedSequence(s).generate_state(2, np.uint64)
    return _freeze(np.asarray(state, dtype=np.uint64))


_key = recorded(_key_impl, "random.key", once_per_example=True)


def split(key: Key, num: int = 2) -> npt.NDArray[np.uint64]:
    """Derive ``num`` new, independent keys from ``key``.

    Parameters
    ----------
    key : Key
        The key to split. It is not modified; do not use it again afterwards
        for sampling, use the returned keys instead.
    num : int, default=2
        How many keys to return.

    Returns
    -------
    ndarray of shape (num, 2), dtype uint64
        Read-only; unpack it (``a, b = split(k)``) or index it to get keys.

    Examples
    --------
    >>> from fgrad import random
    >>> k = random.key(0)
    >>> keys = random.split(k, 3)
    >>> keys.shape
    (3, 2)
    >>> a, b = random.split(k)
    >>> bool((a == keys[0]).all()), bool((a == b).all())
    (True, False)
    """
    return _split(_check_key(key), num=_check_int(num, "num", minimum=0))


def _split_impl(k: Key, *, num: int) -> npt.NDArray[np.uint64]:
    raw = _philox(k, _SPLIT_DOMAIN).random_raw(2 * num)
    return _freeze(np.asarray(raw, dtype=np.uint64).reshape(num, 2))


_split = recorded(_split_impl, "random.split", once_per_example=True)


def fold_in(key: Key, data: int) -> Key:
    """Derive a new key from ``key`` and an integer, e.g. a step or layer index.

    Different ``data`` give different keys, and the result differs from the keys
    :func:`split` returns.

    Parameters
    ----------
    key : Key
        The key to derive from (not modified).
    data : int
        An integer in ``[0, 2**64)``.

    Returns
    -------
    Key

    Examples
    --------
    >>> from fgrad import random
    >>> k = random.key(0)
    >>> k1, k2 = random.fold_in(k, 1), random.fold_in(k, 2)
    >>> bool((k1 == random.fold_in(k, 1)).all()), bool((k1 == k2).all())
    (True, False)
    """
    k = _check_key(key)
    if data.__class__ is not Tracer:
        _check_int(data, "data", minimum=0)
    return _fold_in(k, data)


def _fold_in_impl(k: Key, data: Any) -> Key:
    d = _check_int(data, "data", minimum=0)
    if d >= 2**64:
        raise ValueError(f"data must be < 2**64, got {d}")
    raw = _philox(k, _FOLD_IN_DOMAIN, d).random_raw(2)
    return _freeze(np.asarray(raw, dtype=np.uint64))


_fold_in = recorded(_fold_in_impl, "random.fold_in", once_per_example=True)


def normal(key: Key, shape: Shape = (), dtype: npt.DTypeLike = np.float64) -> npt.NDArray[Any]:
    """Sample standard normal (mean 0, standard deviation 1) values.

    Parameters
    ----------
    key : Key
    shape : int or sequence of int, default=()
    dtype : float32 or float64, default=float64

    Returns
    -------
    ndarray of the given shape and dtype

    Examples
    --------
    >>> from fgrad import random
    >>> x = random.normal(random.key(0), (2, 3))
    >>> x.shape, x.dtype
    ((2, 3), dtype('float64'))
    >>> bool((x == random.normal(random.key(0), (2, 3))).all())
    True
    >>> random.normal(random.key(0), 4, dtype=np.float32).dtype
    dtype('float32')
    """
    k = _check_key(key)
    shp = _check_shape(shape)
    dt = _check_float_dtype(dtype, "normal")
    return _normal(k, shape=shp, dtype=dt)


def _normal_impl(k: Key, *, shape: tuple[int, ...], dtype: np.dtype[Any]) -> npt.NDArray[Any]:
    return np.asarray(_generator(k).standard_normal(size=shape, dtype=dtype))


_normal = recorded(_normal_impl, "random.normal", once_per_example=True)


def uniform(
    key: Key,
    shape: Shape = (),
    dtype: npt.DTypeLike = np.float64,
    minval: float = 0.0,
    maxval: float = 1.0,
) -> npt.NDArray[Any]:
    """Sample values uniformly from the half-open interval ``[minval, maxval)``.

    Parameters
    ----------
    key : Key
    shape : int or sequence of int, default=()
    dtype : float32 or float64, default=float64
    minval, maxval : float, default=0.0, 1.0
        Finite bounds with ``minval < maxval``.

    Returns
    -------
    ndarray of the given shape and dtype

    Examples
    --------
    >>> from fgrad import random
    >>> u = random.uniform(random.key(0), (1000,), minval=-2.0, maxval=3.0)
    >>> bool(u.min() >= -2.0), bool(u.max() < 3.0)
    (True, True)
    """
    k = _check_key(key)
    shp = _check_shape(shape)
    dt = _check_float_dtype(dtype, "uniform")
    return _uniform(k, minval, maxval, shape=shp, dtype=dt)


def _uniform_impl(
    k: Key, minval: Any, maxval: Any, *, shape: tuple[int, ...], dtype: np.dtype[Any]
) -> npt.NDArray[Any]:
    for name, v in (("minval", minval), ("maxval", maxval)):
        if np.ndim(v) != 0 or not np.isfinite(v):
            raise ValueError(f"uniform: {name} must be a finite scalar, got {v!r}")
    lo, hi = dtype.type(minval), dtype.type(maxval)
    if not lo < hi:
        raise ValueError(f"uniform: need minval < maxval, got minval={minval!r}, maxval={maxval!r}")
    u = _generator(k).random(size=shape, dtype=dtype)
    out = np.minimum(lo + (hi - lo) * u, np.nextafter(hi, lo))
    return np.asarray(out, dtype=dtype)


_uniform = recorded(_uniform_impl, "random.uniform", once_per_example=True)


def bernoulli(
    key: Key, p: npt.ArrayLike = 0.5, shape: Shape | None = None
) -> npt.NDArray[np.bool_]:
    """Sample booleans that are ``True`` with probability ``p``.

    Parameters
    ----------
    key : Key
    p : float or array_like, default=0.5
        Probabilities in ``[0, 1]``, broadcast against ``shape``.
    shape : int or sequence of int, optional
        Output shape; defaults to the shape of ``p``.

    Returns
    -------
    ndarray of bool

    Examples
    --------
    >>> from fgrad import random
    >>> random.bernoulli(random.key(0), [0.0, 1.0, 1.0, 0.0]).tolist()
    [False, True, True, False]
    >>> mask = random.bernoulli(random.key(1), 0.9, (10000,))
    >>> round(float(mask.mean()), 1)
    0.9
    """
    k = _check_key(key)
    return _bernoulli(k, p, shape=None if shape is None else _check_shape(shape))


def _bernoulli_impl(k: Key, p: Any, *, shape: tuple[int, ...] | None) -> npt.NDArray[np.bool_]:
    try:
        prob = np.asarray(p, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise TypeError(f"bernoulli: p must be a float or an array of floats, got {p!r}") from e
    if np.isnan(prob).any() or (prob < 0).any() or (prob > 1).any():
        raise ValueError(f"bernoulli: p must lie in [0, 1], got {p!r}")
    shp = prob.shape if shape is None else shape
    try:
        prob = np.broadcast_to(prob, shp)
    except ValueError as e:
        raise ValueError(
            f"bernoulli: p of shape {prob.shape} does not broadcast to shape {shp}"
        ) from e
    return np.asarray(_generator(k).random(size=shp) < prob)


_bernoulli = recorded(_bernoulli_impl, "random.bernoulli", once_per_example=True)


def permutation(key: Key, x: int | npt.ArrayLike) -> npt.NDArray[Any]:
    """Randomly permute ``range(x)`` for an int ``x``, or an array along axis 0.

    Parameters
    ----------
    key : Key
    x : int or array_like
        A non-negative length, or an array with at least one dimension. An
        array is copied, never shuffled in place.

    Returns
    -------
    ndarray

    Examples
    --------
    >>> from fgrad import random
    >>> perm = random.permutation(random.key(0), 5)
    >>> sorted(perm.tolist())
    [0, 1, 2, 3, 4]
    >>> X = np.arange(6).reshape(3, 2)
    >>> Xp = random.permutation(random.key(0), X)
    >>> Xp.shape, sorted(Xp[:, 0].tolist())
    ((3, 2), [0, 2, 4])
    """
    k = _check_key(key)
    plain = peek(x)
    if isinstance(plain, numbers.Integral) and not isinstance(plain, bool):
        n = _check_int(x, "permutation: x", minimum=0)
        return _permutation(k, n)
    return _permutation(k, x)


def _permutation_impl(k: Key, x: Any) -> npt.NDArray[Any]:
    if isinstance(x, numbers.Integral) and not isinstance(x, bool):
        return _generator(k).permutation(int(x))
    arr = np.asarray(x)
    if arr.ndim == 0:
        raise TypeError(
            f"permutation: x must be an int or an array with at least one dimension, "
            f"got {_describe(x)}"
        )
    return arr[_generator(k).permutation(arr.shape[0])]


_permutation = recorded(_permutation_impl, "random.permutation", once_per_example=True)


def choice(
    key: Key,
    a: int | npt.ArrayLike,
    shape: Shape = (),
    replace: bool = True,
    p: npt.ArrayLike | None = None,
) -> npt.NDArray[Any]:
    """Sample from ``range(a)`` for an int ``a``, or from the rows of an array.

    Parameters
    ----------
    key : Key
    a : int or array_like
        A positive population size, or an array sampled along axis 0.
    shape : int or sequence of int, default=()
        Number of samples; the result has shape ``shape + a.shape[1:]``.
    replace : bool, default=True
        Sample with replacement. Without it, ``prod(shape)`` may not exceed
        the population size.
    p : array_like, optional
        Probabilities of the population entries: non-negative, summing to 1.

    Returns
    -------
    ndarray

    Examples
    --------
    >>> from fgrad import random
    >>> c = random.choice(random.key(0), 10, (4,), replace=False)
    >>> c.shape, len(set(c.tolist()))
    ((4,), 4)
    >>> random.choice(random.key(0), ["a", "b", "c"], (3,), p=[0.0, 1.0, 0.0]).tolist()
    ['b', 'b', 'b']
    """
    k = _check_key(key)
    if isinstance(peek(a), numbers.Integral):
        a = _check_int(a, "choice: a", minimum=1)
    return _choice(k, a, p, shape=_check_shape(shape), replace=replace)


def _choice_impl(
    k: Key, a: Any, p: Any, *, shape: tuple[int, ...], replace: bool
) -> npt.NDArray[Any]:
    shp = shape
    population: int | npt.NDArray[Any]
    if isinstance(a, numbers.Integral) and not isinstance(a, bool):
        population = _check_int(a, "choice: a", minimum=1)
        n = population
    else:
        population = np.asarray(a)
        if population.ndim == 0:
            raise TypeError(
                f"choice: a must be an int or an array with at least one dimension, "
                f"got {_describe(a)}"
            )
        n = population.shape[0]
        if n == 0:
            raise ValueError("choice: a must not be empty")
    size = int(np.prod(shp))
    if not replace and size > n:
        raise ValueError(
            f"choice: cannot draw {size} samples (shape {shp}) without replacement "
            f"from a population of {n}"
        )
    probs = None
    if p is not None:
        probs = np.asarray(p, dtype=np.float64)
        if probs.shape != (n,):
            raise ValueError(
                f"choice: p must have shape ({n},) to match the population, got {probs.shape}"
            )
        if np.isnan(probs).any() or (probs < 0).any():
            raise ValueError(f"choice: p must be non-negative, got {probs.tolist()}")
        if not np.isclose(probs.sum(), 1.0, rtol=0.0, atol=1e-8):
            raise ValueError(f"choice: p must sum to 1, got sum {probs.sum()!r}")
    return np.asarray(_generator(k).choice(population, size=shp, replace=replace, p=probs))


_choice = recorded(_choice_impl, "random.choice", once_per_example=True)
