"""Logic functions (truth tests, comparisons of whole arrays, type tests).

All are piecewise constant: they return plain NumPy values, no gradient.
"""

from __future__ import annotations

import numpy as np

from fgrad._rules.declare import non_differentiable

any = non_differentiable(np.any)  # noqa: A001
all = non_differentiable(np.all)  # noqa: A001
count_nonzero = non_differentiable(np.count_nonzero)
allclose = non_differentiable(np.allclose, sample="np.array([1.0, 2.0]), 1.0")
isclose = non_differentiable(np.isclose, sample="np.array([1.0, 2.0]), 1.0")
array_equal = non_differentiable(np.array_equal, sample="np.array([1.0, 2.0]), 1.0")
isneginf = non_differentiable(np.isneginf, sample="np.array([-np.inf, 1.0, np.inf])")
isposinf = non_differentiable(np.isposinf, sample="np.array([-np.inf, 1.0, np.inf])")
isreal = non_differentiable(np.isreal)
iscomplex = non_differentiable(np.iscomplex)
isrealobj = non_differentiable(np.isrealobj)
iscomplexobj = non_differentiable(np.iscomplexobj)
