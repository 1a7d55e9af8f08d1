"""``fgrad.lax``: convolutions and windowed reductions under ``jax.lax``'s names and signatures.

These are the operations a JAX user finds in ``jax.lax`` (``stax.Conv`` and the pooling
layers are built on them there, as :mod:`fgrad.nn`'s are here):

``conv_general_dilated``
    N-D convolution: padding ``'SAME'``/``'VALID'``/explicit pairs, window strides, input
    (``lhs``) and kernel (``rhs``) dilation, feature groups, any layout through
    ``dimension_numbers`` (``None``: ``NCHW``/``OIHW`` as in JAX; ``stax.Conv`` uses
    ``('NHWC', 'HWIO', 'NHWC')``).
``conv``
    ``conv_general_dilated`` with the default layout.
``reduce_window``
    Sum, maximum or minimum over sliding windows (pooling), with ``computation`` one of
    ``add``, ``max``, ``min`` (exported here: ``fgrad.lax.max`` is elementwise
    ``fgrad.numpy.maximum``, as ``jax.lax.max`` is).
``padtype_to_pads``, ``conv_general_shape_tuple``, ``reduce_window_shape_tuple``
    Shape helpers, as in ``jax.lax``; ``ConvDimensionNumbers`` names layouts.

All are differentiable to any order, under ``jit`` and ``vmap``; the rules are in
``fgrad/_rules/conv.py``.

Examples
--------
>>> x = np.arange(16.0).reshape(1, 1, 4, 4)
>>> w = np.ones((1, 1, 3, 3))
>>> fgrad.lax.conv(x, w, (1, 1), "VALID")
array([[[[45., 54.],
         [81., 90.]]]])
>>> fgrad.lax.reduce_window(x, -np.inf, fgrad.lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")
array([[[[ 5.,  7.],
         [13., 15.]]]])
"""

from typing import Any as _Any

from fgrad._rules import declare as _declare
from fgrad._rules.conv import (  # noqa: F401  (exported)
    ConvDimensionNumbers,
    conv_general_shape_tuple,
    padtype_to_pads,
    reduce_window_shape_tuple,
)

globals().update(_declare.exports("lax"))

_numpy = _declare.DECLARATIONS["numpy"]
add = _numpy["add"].fn
max = _numpy["maximum"].fn  # noqa: A001  (jax.lax.max is the elementwise maximum)
min = _numpy["minimum"].fn  # noqa: A001

__all__ = sorted(
    [
        *_declare.exports("lax"),
        "ConvDimensionNumbers",
        "add",
        "conv_general_shape_tuple",
        "max",
        "min",
        "padtype_to_pads",
        "reduce_window_shape_tuple",
    ]
)


def __getattr__(name: str) -> _Any:
    raise AttributeError(
        f"module 'fgrad.lax' has no attribute {name!r}; it has {', '.join(__all__)}"
    )
