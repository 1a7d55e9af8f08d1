"""Primitive rules: each forward function with its VJPs, one family per module.

Importing this package attaches the array interface to ``Tracer``.
"""

from fgrad._rules import elementwise, linalg, reductions, shape, special, structural
from fgrad._rules import tracer_methods as _tracer_methods  # noqa: F401  (imported to attach)

__all__ = ["elementwise", "linalg", "reductions", "shape", "special", "structural"]
