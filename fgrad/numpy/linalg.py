"""Differentiable ``numpy.linalg``: ``norm inv det slogdet solve cholesky``.

Examples
--------
>>> import numpy as np
>>> import fgrad
>>> import fgrad.numpy as fnp
>>> a = np.array([[2.0, 1.0], [1.0, 3.0]])
>>> fgrad.grad(fnp.linalg.det)(a)
array([[ 3., -1.],
       [-1.,  2.]])
"""

from fgrad._rules.linalg import cholesky, det, inv, norm, slogdet, solve

__all__ = ["cholesky", "det", "inv", "norm", "slogdet", "solve"]
