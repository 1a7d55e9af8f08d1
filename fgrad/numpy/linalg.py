"""Differentiable ``numpy.linalg``.

The functions declared for this namespace in the rule modules
(``fgrad._rules.declare.DECLARATIONS["numpy.linalg"]``): ``cholesky cond det eig eigh
eigvals eigvalsh inv matrix_power matrix_rank multi_dot norm pinv slogdet solve svd
svdvals`` and NumPy 2's ``cross diagonal matmul matrix_norm matrix_transpose outer
tensordot trace vecdot vector_norm``. Non-symmetric ``eig`` differentiates its
eigenvalues only (as JAX), which may be complex (``docs/complex.md``).

Examples
--------
>>> a = np.array([[2.0, 1.0], [1.0, 3.0]])
>>> fgrad.grad(fnp.linalg.det)(a)
array([[ 3., -1.],
       [-1.,  2.]])
"""

from typing import Any as _Any

from fgrad._rules import declare as _declare

globals().update(_declare.exports("numpy.linalg"))

__all__ = sorted(_declare.exports("numpy.linalg"))


def __getattr__(name: str) -> _Any:
    raise AttributeError(_declare.missing("numpy.linalg", name))
