"""Ravel a pytree of arrays into one flat vector and back, as ``jax.flatten_util``.

Optimizers and solvers written for one vector (``scipy.optimize.minimize``, a
Newton step, a Hessian as one matrix) work on any parameter pytree through
:func:`ravel_pytree`. Raveling and unraveling are written with
:mod:`fgrad.numpy` functions, so they work inside ``grad``, ``jit`` and ``vmap``
and gradients flow through both directions.

Examples
--------
>>> from fgrad.flatten_util import ravel_pytree
>>> params = {"w": np.ones((2, 2)), "b": np.zeros(2)}
>>> flat, unravel = ravel_pytree(params)
>>> flat
array([0., 0., 1., 1., 1., 1.])
>>> unravel(2 * flat)["w"]
array([[2., 2.],
       [2., 2.]])
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

import fgrad.numpy as fnp
from fgrad.tree import PyTreeDef, tree_flatten, tree_unflatten
from fgrad.values import peek

__all__ = ["ravel_pytree"]


def _leaf_dtype(value: Any) -> np.dtype[Any]:
    dtype = getattr(value, "dtype", None)
    if isinstance(dtype, np.dtype):
        return dtype
    return np.asarray(value).dtype


@dataclasses.dataclass(frozen=True)
class _Unravel:
    """The inverse of one :func:`ravel_pytree` call; equal and hashable by what it rebuilds."""

    treedef: PyTreeDef
    shapes: tuple[tuple[int, ...], ...]
    sizes: tuple[int, ...]
    leaf_dtypes: tuple[np.dtype[Any], ...]
    flat_dtype: np.dtype[Any]
    single_dtype: bool

    def __call__(self, flat: Any) -> Any:
        value = peek(flat)
        shape = np.shape(value)
        total = sum(self.sizes)
        if shape != (total,):
            raise ValueError(
                f"unravel: expected a 1-D array of {total} elements (the raveled "
                f"{self.treedef!r}), got shape {shape}"
            )
        dtype = _leaf_dtype(value)
        if not self.single_dtype and dtype != self.flat_dtype:
            raise TypeError(
                f"unravel: got an array of dtype {dtype}, but this tree's leaves have dtypes "
                f"{sorted({str(d) for d in self.leaf_dtypes})} and were raveled to "
                f"{self.flat_dtype}; pass an array of dtype {self.flat_dtype}"
            )
        leaves = []
        start = 0
        for shape_i, size, leaf_dtype in zip(self.shapes, self.sizes, self.leaf_dtypes):
            piece = fnp.reshape(flat[start : start + size], shape_i)
            start += size
            if not self.single_dtype and leaf_dtype != self.flat_dtype:
                if dtype.kind == "c" and leaf_dtype.kind != "c":
                    piece = fnp.real(piece)
                piece = fnp.astype(piece, leaf_dtype)
            leaves.append(piece)
        return tree_unflatten(self.treedef, leaves)


def ravel_pytree(pytree: Any) -> tuple[Any, Callable[[Any], Any]]:
    """Ravel a pytree of arrays and numbers into one 1-D array, and return its inverse.

    As ``jax.flatten_util.ravel_pytree``: the leaves are raveled in flattening
    order and concatenated, converted to the dtype that promoting all leaf
    dtypes gives (NumPy's ``result_type``: Python numbers are weak, so
    ``float32`` arrays with a Python float stay ``float32``).

    Parameters
    ----------
    pytree : pytree
        Arrays, NumPy or Python numbers (traced or not) as leaves.

    Returns
    -------
    flat : ndarray or Tracer
        1-D, of the promoted dtype. A tree without leaves gives an empty
        ``float64`` array (JAX uses ``float32``, its default float type).
    unravel : callable
        ``unravel(flat) -> pytree`` with the structure and leaf shapes of
        ``pytree``. If all leaves have one dtype it keeps the dtype of the
        array it is given (so it also unravels tangents and cotangents of
        another dtype); otherwise it requires the raveled dtype and converts
        each piece back to its leaf's dtype (complex to real keeps the real
        part). Python numbers come back as 0-d arrays. Two ``unravel``
        functions of trees with equal structures, shapes and dtypes compare
        equal and hash alike.

    Raises
    ------
    ValueError
        From ``unravel``, if its argument is not 1-D of the right length.
    TypeError
        From ``unravel`` of a mixed-dtype tree, if its argument's dtype is not
        the raveled one.

    Examples
    --------
    >>> flat, unravel = ravel_pytree({"a": np.float32(1.0), "b": np.arange(2)})
    >>> flat
    array([1., 0., 1.])
    >>> unravel(np.array([5.0, 6.0, 7.0]))
    {'a': array(5., dtype=float32), 'b': array([6, 7])}

    Gradients flow through both directions:

    >>> def loss(params):
    ...     flat, unravel = ravel_pytree(params)
    ...     return fnp.sum(unravel(flat * flat)["w"])
    >>> fgrad.grad(loss)({"w": np.array([1.0, 2.0]), "b": np.array(3.0)})
    {'b': array(0.), 'w': array([2., 4.])}
    """
    leaves, treedef = tree_flatten(pytree)
    if not leaves:
        return np.zeros(0), _Unravel(treedef, (), (), (), np.dtype(np.float64), True)
    values = [peek(leaf) for leaf in leaves]
    leaf_dtypes = tuple(_leaf_dtype(v) for v in values)
    flat_dtype = np.result_type(*values)
    shapes = tuple(np.shape(v) for v in values)
    sizes = tuple(int(np.size(v)) for v in values)
    single_dtype = all(d == flat_dtype for d in leaf_dtypes)
    pieces = [fnp.ravel(fnp.astype(fnp.asarray(leaf), flat_dtype)) for leaf in leaves]
    flat = fnp.concatenate(pieces) if len(pieces) > 1 else pieces[0]
    unravel = _Unravel(treedef, shapes, sizes, leaf_dtypes, flat_dtype, single_dtype)
    return flat, unravel
