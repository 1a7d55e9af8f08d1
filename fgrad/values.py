"""Reading what is under a traced array, for code that builds on fgrad (layers, optimizers).

Inside a transformed function, arrays may be :class:`~fgrad.Tracer` objects. Most code never
needs to know; code that decides something from a value (a dropout mask from a key, an
integer step count, a dtype to match) reads it with one of these:

* :func:`concrete` — the plain value, as a *value read*: no gradient flows through what is
  computed from it, and ``fgrad.jit`` guards it (a replay with a different value traces
  again), because Python code may branch on it.
* :func:`peek` — the plain value for reading its shape or dtype only: nothing is recorded,
  so never branch on its contents.
* :func:`is_traced` — whether ``x`` is a tracer at all.

And :func:`recorded` turns a function of plain values (sampling from a key, say) into one
``jit`` instruction, recomputed on every replay instead of read once.
"""

from __future__ import annotations

from typing import Any

from fgrad._core import Tracer, concrete, peek
from fgrad._jit import recorded

__all__ = ["Tracer", "concrete", "is_traced", "peek", "recorded"]


def is_traced(x: Any) -> bool:
    """Whether ``x`` is a :class:`~fgrad.Tracer` of some transform.

    Examples
    --------
    >>> from fgrad.values import is_traced
    >>> is_traced(1.0), fgrad.grad(lambda x: float(is_traced(x)) * x)(2.0)
    (False, array(1.))
    """
    return x.__class__ is Tracer
