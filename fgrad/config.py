"""Process-wide switches that change how traced programs are checked.

``debug_nans``: when on, every primitive evaluated under a transform checks
its forward result, and every VJP checks the cotangent it produces, and the
first NaN raises :class:`FloatingPointError` naming the primitive, whether it
was the forward pass or a VJP, and the user's line that called it.
``debug_infs`` does the same for infinities (off by default even under
``debug_nans``, because ``log(0) = -inf`` is often intended).

Examples
--------
>>> fgrad.config.debug_nans, fgrad.config.debug_infs
(False, False)
>>> with fgrad.config.debugging_nans():
...     fgrad.config.debug_nans
True
"""

from __future__ import annotations

import contextlib
import sys
import types
from collections.abc import Iterator
from typing import Any

__all__ = ["debug_infs", "debug_nans", "debugging_infs", "debugging_nans"]

debug_nans: bool = False
debug_infs: bool = False
checking: bool = False
"""``debug_nans or debug_infs``, kept up to date on assignment: the one switch the
tracing hot path reads."""


class _Switches(types.ModuleType):
    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if name in ("debug_nans", "debug_infs"):
            super().__setattr__("checking", bool(self.debug_nans or self.debug_infs))


sys.modules[__name__].__class__ = _Switches


@contextlib.contextmanager
def debugging_nans(enabled: bool = True) -> Iterator[None]:
    """Turn NaN checking on (or off) inside a ``with`` block.

    Parameters
    ----------
    enabled : bool
        The value ``fgrad.config.debug_nans`` takes inside the block; the
        previous value is restored on exit.

    Examples
    --------
    >>> with fgrad.config.debugging_nans(), np.errstate(invalid="ignore"):
    ...     fgrad.grad(lambda x: fnp.log(x))(-1.0)
    Traceback (most recent call last):
    ...
    FloatingPointError: NaN produced by the forward pass of 'log' ...
    """
    module: Any = sys.modules[__name__]
    previous = module.debug_nans
    module.debug_nans = enabled
    try:
        yield
    finally:
        module.debug_nans = previous


@contextlib.contextmanager
def debugging_infs(enabled: bool = True) -> Iterator[None]:
    """Turn checking for infinities on (or off) inside a ``with`` block.

    Parameters
    ----------
    enabled : bool
        The value ``fgrad.config.debug_infs`` takes inside the block; the
        previous value is restored on exit.

    Examples
    --------
    >>> with fgrad.config.debugging_infs(), np.errstate(divide="ignore"):
    ...     fgrad.grad(lambda x: fnp.sqrt(x))(0.0)
    Traceback (most recent call last):
    ...
    FloatingPointError: inf produced by the VJP of 'sqrt' ...
    """
    module: Any = sys.modules[__name__]
    previous = module.debug_infs
    module.debug_infs = enabled
    try:
        yield
    finally:
        module.debug_infs = previous
