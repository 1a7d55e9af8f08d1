"""Differentiable ``numpy.linalg``.

``cholesky cond det eigh eigvalsh inv matrix_power matrix_rank multi_dot norm pinv
slogdet solve svd svdvals`` and NumPy 2's ``cross diagonal matmul matrix_norm
matrix_transpose outer tensordot trace vecdot vector_norm``. Non-symmetric
``eig``/``eigvals`` have no gradient rule (their eigenvalues may be complex).

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

from fgrad._rules.linalg import EighResult as EighResult
from fgrad._rules.linalg import SlogdetResult as SlogdetResult
from fgrad._rules.linalg import SVDResult as SVDResult
from fgrad._rules.linalg import (
    cholesky,
    cond,
    det,
    eigh,
    eigvalsh,
    inv,
    matrix_norm,
    matrix_power,
    matrix_rank,
    matrix_transpose,
    multi_dot,
    norm,
    pinv,
    slogdet,
    solve,
    svd,
    svdvals,
    vecdot,
    vector_norm,
)
from fgrad._rules.linalg import linalg_cross as cross
from fgrad._rules.linalg import linalg_diagonal as diagonal
from fgrad._rules.linalg import linalg_outer as outer
from fgrad._rules.linalg import linalg_trace as trace
from fgrad._rules.products import matmul, tensordot

__all__ = [
    "cholesky",
    "cond",
    "cross",
    "det",
    "diagonal",
    "eigh",
    "eigvalsh",
    "inv",
    "matmul",
    "matrix_norm",
    "matrix_power",
    "matrix_rank",
    "matrix_transpose",
    "multi_dot",
    "norm",
    "outer",
    "pinv",
    "slogdet",
    "solve",
    "svd",
    "svdvals",
    "tensordot",
    "trace",
    "vecdot",
    "vector_norm",
]
