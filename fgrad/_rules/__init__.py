"""Primitive rules: each forward function with its VJPs, one family per module.

Importing this package attaches the array interface to ``Tracer``.
"""

from fgrad._rules import (
    calculus,
    elementwise,
    indexing,
    linalg,
    linear,
    logic,
    products,
    reductions,
    shape,
    sorting,
    special,
)
from fgrad._rules import tracer_methods as _tracer_methods  # noqa: F401  (imported to attach)

__all__ = [
    "calculus",
    "elementwise",
    "indexing",
    "linalg",
    "linear",
    "logic",
    "products",
    "reductions",
    "shape",
    "sorting",
    "special",
]
