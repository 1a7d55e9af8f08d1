"""Logic functions (truth tests, comparisons of whole arrays, type tests).

All are piecewise constant: they return plain NumPy values, no gradient.
"""

from __future__ import annotations

import numpy as np

from fgrad._rules import batching
from fgrad._rules.declare import non_differentiable

any = non_differentiable(np.any)  # noqa: A001
all = non_differentiable(np.all)  # noqa: A001
count_nonzero = non_differentiable(np.count_nonzero)
allclose = non_differentiable(np.allclose, sample="np.array([1.0, 2.0]), 1.0")
isclose = non_differentiable(
    np.isclose, sample="np.array([1.0, 2.0]), 1.0", batch=batching.elementwise
)
array_equal = non_differentiable(np.array_equal, sample="np.array([1.0, 2.0]), 1.0")
isneginf = non_differentiable(
    np.isneginf, sample="np.array([-np.inf, 1.0, np.inf])", batch=batching.elementwise
)
isposinf = non_differentiable(
    np.isposinf, sample="np.array([-np.inf, 1.0, np.inf])", batch=batching.elementwise
)
isreal = non_differentiable(np.isreal, batch=batching.elementwise)
iscomplex = non_differentiable(np.iscomplex, batch=batching.elementwise)
isrealobj = non_differentiable(np.isrealobj, batch=batching.shape_only)
iscomplexobj = non_differentiable(np.iscomplexobj, batch=batching.shape_only)
