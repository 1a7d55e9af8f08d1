"""TEMPORARY compatibility shim during the issue-8 refactor; deleted at its end."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from fgrad._rules.declare import (  # noqa: F401
    FUNCTION_RULES,
    UFUNC_RULES,
    binary,
    document,
    export,
    non_differentiable,
    plain_values,
    unary,
)
from fgrad._rules.helpers import (  # noqa: F401
    dtype_of,
    ndim_of,
    no_out,
    normalize_axes,
    shape_of,
    strip,
)


def register_function(numpy_fn: Callable[..., Any], fn: Callable[..., Any]) -> None:
    if isinstance(numpy_fn, np.ufunc):
        UFUNC_RULES[numpy_fn] = fn
    else:
        FUNCTION_RULES[numpy_fn] = fn


def piecewise_constant(
    fn: Callable[..., Any], name: str, numpy_fn: Callable[..., Any], sample: str
) -> None:
    export(name, differentiability="piecewise_constant", dispatch=False, sample=sample)(fn)
