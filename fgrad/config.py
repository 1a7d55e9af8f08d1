"""Process-wide switches that change how traced programs are checked.

The only switch today is ``debug_nans``: when on, every primitive evaluated
under a transform checks its forward result, and every VJP checks the
cotangent it produces, and the first NaN raises :class:`FloatingPointError`
naming the primitive.

Examples
--------
>>> import fgrad
>>> fgrad.config.debug_nans
False
>>> with fgrad.config.debugging_nans():
...     fgrad.config.debug_nans
True
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["debug_nans", "debugging_nans"]

debug_nans: bool = False


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
    >>> import numpy as np
    >>> import fgrad, fgrad.numpy as fnp
    >>> with fgrad.config.debugging_nans(), np.errstate(invalid="ignore"):
    ...     fgrad.grad(lambda x: fnp.log(x))(-1.0)
    Traceback (most recent call last):
    ...
    FloatingPointError: NaN produced by the forward pass of 'log' ...
    """
    global debug_nans
    previous = debug_nans
    debug_nans = enabled
    try:
        yield
    finally:
        debug_nans = previous
