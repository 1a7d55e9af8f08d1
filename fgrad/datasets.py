"""Toy data sets, train/test splitting, mini-batching and feature scaling.

:func:`make_moons` and :func:`make_blobs` follow scikit-learn's signatures and,
for an integer ``random_state``, reproduce its output bit for bit (they draw
from ``np.random.RandomState(random_state)`` in the same order), so examples
written against scikit-learn give the same points here. :func:`train_test_split`
does the same for an integer ``random_state``. scikit-learn is not needed.

Wherever a ``random_state`` is accepted it may be:

- an ``int``: a fresh ``np.random.RandomState(random_state)``, as in scikit-learn;
- an :mod:`fgrad.random` key;
- a ``np.random.RandomState`` or ``np.random.Generator``, which is advanced;
- ``None``: fresh, unpredictable randomness (not NumPy's global state).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias, overload

import numpy as np
import numpy.typing as npt
from typing_extensions import Self

from fgrad import random as _random

__all__ = [
    "Standardizer",
    "batches",
    "make_blobs",
    "make_moons",
    "train_test_split",
]

RandomState: TypeAlias = int | _random.Key | np.random.RandomState | np.random.Generator | None

_Rng: TypeAlias = np.random.RandomState | np.random.Generator


def _check_random_state(random_state: object) -> _Rng:
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, np.random.RandomState | np.random.Generator):
        return random_state
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        seed = int(random_state)
        if not 0 <= seed < 2**32:
            raise ValueError(f"random_state must be an int in [0, 2**32), got {seed}")
        return np.random.RandomState(seed)
    if _random._is_key(random_state):
        return _random._generator(random_state)
    raise TypeError(
        "random_state must be None, an int, an fgrad.random key, a np.random.RandomState "
        f"or a np.random.Generator, got {type(random_state).__name__} {random_state!r}"
    )


def _shuffle_indices(rng: _Rng, n: int) -> npt.NDArray[np.intp]:
    """The permutation scikit-learn's ``utils.shuffle`` draws for ``n`` rows."""
    indices = np.arange(n)
    rng.shuffle(indices)
    return indices


def _check_bool(value: object, name: str) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__} {value!r}")
    return bool(value)


def _check_count(value: object, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def make_moons(
    n_samples: int | tuple[int, int] = 100,
    *,
    shuffle: bool = True,
    noise: float | None = None,
    random_state: RandomState = None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.intp]]:
    """Make two interleaving half circles, a classic non-linearly separable toy set.

    The outer half circle (unit circle, upper half) has label 0; the inner one
    (centre ``(1, 0.5)``, lower half) has label 1.

    Parameters
    ----------
    n_samples : int or tuple of (int, int), default=100
        Total number of points, split ``n // 2`` outer and the rest inner; or the
        number of points in the outer and inner moon.
    shuffle : bool, default=True
        Shuffle the samples.
    noise : float, optional
        Standard deviation of Gaussian noise added to the points.
    random_state : int, key, RandomState, Generator or None
        Source of randomness for shuffling and noise; see the module docstring.
        An int gives exactly scikit-learn's points.

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
    y : ndarray of shape (n_samples,)
        Labels 0 (outer) and 1 (inner).

    Examples
    --------
    >>> from fgrad.datasets import make_moons
    >>> X, y = make_moons(200, noise=0.1, random_state=0)
    >>> X.shape, y.shape, int(y.sum())
    ((200, 2), (200,), 100)
    >>> X, y = make_moons(4, shuffle=False)
    >>> X.round(3).tolist(), y.tolist()
    ([[1.0, 0.0], [-1.0, 0.0], [0.0, 0.5], [2.0, 0.5]], [0, 0, 1, 1])
    """
    if isinstance(n_samples, numbers.Integral) and not isinstance(n_samples, bool):
        total = _check_count(n_samples, "make_moons: n_samples", 1)
        n_out = total // 2
        n_in = total - n_out
    elif isinstance(n_samples, Sequence | np.ndarray) and len(n_samples) == 2:
        n_out = _check_count(n_samples[0], "make_moons: n_samples[0]", 0)
        n_in = _check_count(n_samples[1], "make_moons: n_samples[1]", 0)
    else:
        raise TypeError(
            f"n_samples must be an int or a two-element tuple of ints, got {n_samples!r}"
        )
    do_shuffle = _check_bool(shuffle, "make_moons: shuffle")
    if noise is not None and (
        not isinstance(noise, numbers.Real) or not math.isfinite(noise) or noise < 0
    ):
        raise ValueError(f"make_moons: noise must be None or a finite float >= 0, got {noise!r}")
    rng = _check_random_state(random_state)

    outer_circ_x = np.cos(np.linspace(0, np.pi, n_out))
    outer_circ_y = np.sin(np.linspace(0, np.pi, n_out))
    inner_circ_x = 1 - np.cos(np.linspace(0, np.pi, n_in))
    inner_circ_y = 1 - np.sin(np.linspace(0, np.pi, n_in)) - 0.5

    X = np.empty((n_out + n_in, 2), dtype=np.float64)
    X[:, 0] = np.append(outer_circ_x, inner_circ_x)
    X[:, 1] = np.append(outer_circ_y, inner_circ_y)
    y = np.hstack([np.zeros(n_out, dtype=np.intp), np.ones(n_in, dtype=np.intp)])

    if do_shuffle:
        idx = _shuffle_indices(rng, n_out + n_in)
        X, y = X[idx], y[idx]
    if noise is not None:
        X += rng.normal(scale=noise, size=X.shape)
    return X, y


@overload
def make_blobs(
    n_samples: int | Sequence[int] = ...,
    n_features: int = ...,
    *,
    centers: int | npt.ArrayLike | None = ...,
    cluster_std: float | Sequence[float] = ...,
    center_box: tuple[float, float] = ...,
    shuffle: bool = ...,
    random_state: RandomState = ...,
    return_centers: Literal[False] = ...,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.intp]]: ...


@overload
def make_blobs(
    n_samples: int | Sequence[int] = ...,
    n_features: int = ...,
    *,
    centers: int | npt.ArrayLike | None = ...,
    cluster_std: float | Sequence[float] = ...,
    center_box: tuple[float, float] = ...,
    shuffle: bool = ...,
    random_state: RandomState = ...,
    return_centers: Literal[True],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.intp], npt.NDArray[np.float64]]: ...


def make_blobs(
    n_samples: int | Sequence[int] = 100,
    n_features: int = 2,
    *,
    centers: int | npt.ArrayLike | None = None,
    cluster_std: float | Sequence[float] = 1.0,
    center_box: tuple[float, float] = (-10.0, 10.0),
    shuffle: bool = True,
    random_state: RandomState = None,
    return_centers: bool = False,
) -> (
    tuple[npt.NDArray[np.float64], npt.NDArray[np.intp]]
    | tuple[npt.NDArray[np.float64], npt.NDArray[np.intp], npt.NDArray[np.float64]]
):
    """Generate isotropic Gaussian blobs, one per centre.

    Parameters
    ----------
    n_samples : int or sequence of int, default=100
        Total number of points, divided as equally as possible among the
        centres (earlier centres get the remainder); or the number of points
        for each centre.
    n_features : int, default=2
        Dimension of the points; ignored when ``centers`` is an array.
    centers : int or array_like of shape (n_centers, n_features), optional
        Number of random centres (drawn uniformly from ``center_box``), or the
        centres themselves. Defaults to 3 random centres when ``n_samples`` is
        an int, and to one random centre per entry when it is a sequence.
    cluster_std : float or sequence of float, default=1.0
        Standard deviation of every cluster, or of each cluster.
    center_box : tuple of (float, float), default=(-10.0, 10.0)
        Bounds for random centres.
    shuffle : bool, default=True
        Shuffle the samples.
    random_state : int, key, RandomState, Generator or None
        Source of randomness; see the module docstring. An int gives exactly
        scikit-learn's points.
    return_centers : bool, default=False
        Also return the centres.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
        The index of the centre each point was drawn around.
    centers : ndarray of shape (n_centers, n_features)
        Only when ``return_centers=True``.

    Examples
    --------
    >>> from fgrad.datasets import make_blobs
    >>> X, y = make_blobs(10, centers=3, random_state=0)
    >>> X.shape, y.tolist()
    ((10, 2), [0, 0, 1, 0, 2, 2, 2, 1, 1, 0])
    >>> X, y = make_blobs([2, 3], centers=[[0.0, 0.0], [5.0, 5.0]], cluster_std=0.0,
    ...                   shuffle=False)
    >>> X.tolist(), y.tolist()
    ([[0.0, 0.0], [0.0, 0.0], [5.0, 5.0], [5.0, 5.0], [5.0, 5.0]], [0, 0, 1, 1, 1])
    """
    n_features = _check_count(n_features, "make_blobs: n_features", 1)
    do_shuffle = _check_bool(shuffle, "make_blobs: shuffle")
    if not (isinstance(center_box, Sequence) and len(center_box) == 2):
        raise TypeError(f"center_box must be a (min, max) tuple, got {center_box!r}")
    rng = _check_random_state(random_state)

    per_center: list[int] | None
    if isinstance(n_samples, numbers.Integral) and not isinstance(n_samples, bool):
        total = _check_count(n_samples, "make_blobs: n_samples", 1)
        per_center = None
    elif isinstance(n_samples, Iterable) and not isinstance(n_samples, str):
        per_center = [
            _check_count(n, f"make_blobs: n_samples[{i}]", 0) for i, n in enumerate(list(n_samples))
        ]
        if not per_center:
            raise ValueError("n_samples must not be an empty sequence")
    else:
        raise TypeError(f"n_samples must be an int or a sequence of ints, got {n_samples!r}")

    if centers is None:
        centers = 3 if per_center is None else len(per_center)
    if isinstance(centers, numbers.Integral) and not isinstance(centers, bool):
        n_centers = _check_count(centers, "make_blobs: centers", 1)
        if per_center is not None and n_centers != len(per_center):
            raise ValueError(
                f"n_samples has {len(per_center)} entries but centers={n_centers}; they must agree"
            )
        center_arr = np.asarray(
            rng.uniform(center_box[0], center_box[1], size=(n_centers, n_features)),
            dtype=np.float64,
        )
    else:
        center_arr = np.asarray(centers, dtype=np.float64)
        if center_arr.ndim != 2 or center_arr.shape[0] == 0 or center_arr.shape[1] == 0:
            raise ValueError(
                "centers must be an int or a non-empty 2-D array of shape "
                f"(n_centers, n_features), got shape {center_arr.shape}"
            )
        if not np.isfinite(center_arr).all():
            raise ValueError("centers must be finite")
        n_centers, n_features = center_arr.shape
        if per_center is not None and n_centers != len(per_center):
            raise ValueError(
                f"n_samples has {len(per_center)} entries but centers has {n_centers} rows; "
                "they must agree"
            )

    std = np.asarray(cluster_std, dtype=np.float64)
    if std.ndim == 0:
        std = np.full(n_centers, float(std))
    elif std.shape != (n_centers,):
        raise ValueError(
            f"cluster_std must be a float or have one entry per centre ({n_centers}), "
            f"got shape {std.shape}"
        )
    if np.isnan(std).any() or (std < 0).any():
        raise ValueError(f"make_blobs: cluster_std must be >= 0, got {cluster_std!r}")

    if per_center is None:
        per_center = [total // n_centers] * n_centers
        for i in range(total % n_centers):
            per_center[i] += 1

    n_total = sum(per_center)
    X = np.empty((n_total, n_features), dtype=np.float64)
    y = np.empty(n_total, dtype=np.intp)
    start = 0
    for i, (n, s) in enumerate(zip(per_center, std)):
        X[start : start + n] = rng.normal(loc=center_arr[i], scale=s, size=(n, n_features))
        y[start : start + n] = i
        start += n

    if do_shuffle:
        idx = _shuffle_indices(rng, n_total)
        X, y = X[idx], y[idx]
    if return_centers:
        return X, y, center_arr
    return X, y


def train_test_split(
    *arrays: npt.ArrayLike,
    test_size: float | int = 0.25,
    random_state: RandomState = None,
    shuffle: bool = True,
) -> list[npt.NDArray[Any]]:
    """Split arrays into random train and test subsets, row for row.

    Parameters
    ----------
    *arrays : array_like
        One or more arrays with the same length along axis 0.
    test_size : float or int, default=0.25
        A float in ``(0, 1)`` is the fraction of samples in the test set
        (rounded up); an int is the number of test samples.
    random_state : int, key, RandomState, Generator or None
        Source of randomness; see the module docstring. An int gives the same
        split as scikit-learn's ``train_test_split``.
    shuffle : bool, default=True
        If False, the first samples form the training set and the last ones
        the test set, in order.

    Returns
    -------
    list of ndarray
        ``[a_train, a_test, b_train, b_test, ...]``, two entries per input.

    Raises
    ------
    ValueError
        If the arrays' lengths differ, or ``test_size`` leaves an empty
        train or test set.

    Examples
    --------
    >>> from fgrad.datasets import train_test_split
    >>> X, y = np.arange(20).reshape(10, 2), np.arange(10)
    >>> X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=0)
    >>> X_tr.shape, X_te.shape, y_tr.shape, y_te.shape
    ((7, 2), (3, 2), (7,), (3,))
    >>> bool((X_te[:, 0] == 2 * y_te).all())
    True
    >>> train_test_split(np.arange(4), test_size=1, shuffle=False)
    [array([0, 1, 2]), array([3])]
    """
    if not arrays:
        raise ValueError("train_test_split needs at least one array")
    arrs = [np.asarray(a) for a in arrays]
    for i, a in enumerate(arrs):
        if a.ndim == 0:
            raise ValueError(f"train_test_split: array {i} is a scalar; arrays need a length")
    lengths = [a.shape[0] for a in arrs]
    if len(set(lengths)) != 1:
        raise ValueError(
            f"train_test_split: all arrays must have the same length, got lengths {lengths}"
        )
    n = lengths[0]

    if isinstance(test_size, bool) or not isinstance(test_size, numbers.Real):
        raise TypeError(f"test_size must be a float or an int, got {test_size!r}")
    if isinstance(test_size, numbers.Integral):
        if not 0 < test_size < n:
            raise ValueError(
                f"test_size={test_size} must be a positive int smaller than the "
                f"number of samples {n}, or a float in (0, 1)"
            )
        n_test = int(test_size)
    else:
        if not 0 < test_size < 1:
            raise ValueError(
                f"test_size={test_size} must be a float in (0, 1), or a positive int "
                f"smaller than the number of samples {n}"
            )
        n_test = math.ceil(test_size * n)
    n_train = n - n_test
    if n_train <= 0:
        raise ValueError(f"test_size={test_size} with {n} samples leaves an empty training set")

    if _check_bool(shuffle, "train_test_split: shuffle"):
        perm = _check_random_state(random_state).permutation(n)
        test, train = perm[:n_test], perm[n_test:]
    else:
        train, test = np.arange(n_train), np.arange(n_train, n)
    return [part for a in arrs for part in (a[train], a[test])]


def batches(
    key: _random.Key,
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    batch_size: int,
    *,
    drop_last: bool = False,
) -> Iterator[tuple[npt.NDArray[Any], npt.NDArray[Any]]]:
    """Iterate over shuffled ``(X_batch, y_batch)`` mini-batches: one epoch.

    Every sample appears exactly once per call (the last batch may be smaller,
    unless ``drop_last``). Use a new key each epoch, e.g.
    ``fgrad.random.fold_in(key, epoch)``.

    Parameters
    ----------
    key : Key
        An :mod:`fgrad.random` key; it fixes the order.
    X, y : array_like
        Inputs and targets with the same length along axis 0.
    batch_size : int
        Samples per batch, >= 1.
    drop_last : bool, default=False
        Skip the final batch if it has fewer than ``batch_size`` samples.

    Returns
    -------
    iterator of (ndarray, ndarray)

    Examples
    --------
    >>> from fgrad import random
    >>> from fgrad.datasets import batches
    >>> X, y = np.arange(10).reshape(5, 2), np.arange(5)
    >>> [xb.shape for xb, yb in batches(random.key(0), X, y, batch_size=2)]
    [(2, 2), (2, 2), (1, 2)]
    >>> sorted(int(i) for _, yb in batches(random.key(0), X, y, 2) for i in yb)
    [0, 1, 2, 3, 4]
    >>> len(list(batches(random.key(0), X, y, 2, drop_last=True)))
    2
    """
    k = _random._check_key(key)
    X_arr, y_arr = np.asarray(X), np.asarray(y)
    if X_arr.ndim == 0 or y_arr.ndim == 0:
        raise ValueError(
            f"batches: X and y need a length, got shapes {X_arr.shape} and {y_arr.shape}"
        )
    if X_arr.shape[0] != y_arr.shape[0]:
        raise ValueError(
            f"batches: X and y must have the same length, got {X_arr.shape[0]} and "
            f"{y_arr.shape[0]} (shapes {X_arr.shape} and {y_arr.shape})"
        )
    size = _check_count(batch_size, "batches: batch_size", 1)
    drop = _check_bool(drop_last, "batches: drop_last")
    n = X_arr.shape[0]
    perm = _random.permutation(k, n)
    stop = n - n % size if drop else n

    def _iterate() -> Iterator[tuple[npt.NDArray[Any], npt.NDArray[Any]]]:
        for start in range(0, stop, size):
            idx = perm[start : start + size]
            yield X_arr[idx], y_arr[idx]

    return _iterate()


@dataclass(frozen=True, eq=False)
class Standardizer:
    """Scale features to zero mean and unit variance, with statistics frozen at fit time.

    Fit it on the **training split only**, then apply the same transform to the
    validation and test splits. Statistics computed on (or including) the test
    split leak information about it into training and make test scores
    optimistic.

    A constant feature (``std == 0``) is centred and mapped to exactly 0 rather
    than divided by zero or by a small epsilon; :meth:`inverse_transform` maps
    it back to its mean.

    Attributes
    ----------
    mean : ndarray
        Per-feature mean of the training data (shape ``X.shape[1:]``).
    std : ndarray
        Per-feature (population) standard deviation, same shape as ``mean``.

    Examples
    --------
    >>> from fgrad.datasets import Standardizer
    >>> X_train = np.array([[1.0, 5.0], [3.0, 5.0]])
    >>> scaler = Standardizer.fit(X_train)
    >>> scaler.mean.tolist(), scaler.std.tolist()
    ([2.0, 5.0], [1.0, 0.0])
    >>> scaler.transform(np.array([[4.0, 7.0]])).tolist()
    [[2.0, 0.0]]
    >>> scaler.inverse_transform(scaler.transform(X_train)).tolist()
    [[1.0, 5.0], [3.0, 5.0]]
    """

    mean: npt.NDArray[np.floating[Any]]
    std: npt.NDArray[np.floating[Any]]

    def __post_init__(self) -> None:
        mean = np.asarray(self.mean)
        mean = np.array(mean, dtype=np.result_type(mean.dtype, np.float32))
        std = np.array(self.std, dtype=mean.dtype)
        if mean.shape != std.shape:
            raise ValueError(
                f"Standardizer: mean and std must have the same shape, got "
                f"{mean.shape} and {std.shape}"
            )
        if np.isnan(std).any() or (std < 0).any():
            raise ValueError("Standardizer: std must be >= 0")
        mean.flags.writeable = False
        std.flags.writeable = False
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "std", std)

    @classmethod
    def fit(cls, X: npt.ArrayLike) -> Self:
        """Compute per-feature mean and standard deviation of training data.

        Parameters
        ----------
        X : array_like of shape (n_samples, ...)
            Training data; statistics are taken over axis 0.

        Returns
        -------
        Standardizer

        Examples
        --------
        >>> from fgrad.datasets import Standardizer
        >>> Standardizer.fit([[0.0], [2.0]]).std.tolist()
        [1.0]
        """
        arr = np.asarray(X)
        if not np.issubdtype(arr.dtype, np.floating):
            arr = arr.astype(np.float64)
        if arr.ndim == 0 or arr.shape[0] == 0:
            raise ValueError(
                f"Standardizer.fit needs at least one sample along axis 0, got shape {arr.shape}"
            )
        return cls(mean=arr.mean(axis=0), std=arr.std(axis=0))

    def _check(self, X: npt.ArrayLike, method: str) -> npt.NDArray[Any]:
        arr = np.asarray(X)
        if arr.shape[1:] != self.mean.shape:
            raise ValueError(
                f"Standardizer.{method}: X must have shape (n_samples, *{self.mean.shape}) "
                f"like the data it was fitted on, got {arr.shape}"
            )
        return arr

    def transform(self, X: npt.ArrayLike) -> npt.NDArray[Any]:
        """Return ``(X - mean) / std``, with 0 for constant features.

        Examples
        --------
        >>> from fgrad.datasets import Standardizer
        >>> Standardizer.fit([[0.0], [2.0]]).transform([[3.0]]).tolist()
        [[2.0]]
        """
        arr = self._check(X, "transform")
        centred = arr - self.mean
        return np.divide(centred, self.std, out=np.zeros_like(centred), where=self.std != 0)

    def inverse_transform(self, X: npt.ArrayLike) -> npt.NDArray[Any]:
        """Map standardized data back to the original scale: ``X * std + mean``.

        Examples
        --------
        >>> from fgrad.datasets import Standardizer
        >>> Standardizer.fit([[0.0], [2.0]]).inverse_transform([[2.0]]).tolist()
        [[3.0]]
        """
        arr = self._check(X, "inverse_transform")
        return arr * self.std + self.mean
