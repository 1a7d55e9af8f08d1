"""How fast can any pure-Python reverse-mode tracer run W3 (the scalar chain)?

Usage::

    OPENBLAS_NUM_THREADS=1 python benchmarks/tracer_floor.py [--steps 2000] [--samples 40]

W3 is 10,000 steps of ``x = tanh(x * 1.0001 + 0.1)`` on a 0-d float64 array, with its
derivative. NumPy's scalar operations take about 0.1 µs each there, so the time goes to
recording. This script times, in interleaved samples (the fastest of each kept, as in
``min_ratio.py``):

* ``numpy``: the hand-written forward and backward loops of ``workloads.py``;
* ``minimal tracer``: the least a general operator-overloading tracer can do. Each
  operation computes its value, appends one tape entry (rule, parent slot, operands,
  result) and returns a new two-slot object; the reverse sweep calls one rule per entry and
  accumulates cotangents. It has no trace levels (no higher order), no leak or error checks,
  no broadcasting in its rules, no dtype handling and one global tape. It is a measuring
  stick, not a library;
* ``fgrad``: ``fgrad.value_and_grad`` of the same chain.

The ratio of ``minimal tracer`` to ``numpy`` is a floor for any eager tracer written in
Python on this machine: the eager W3 target of performance round two (5x) is compared
with it in RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(1, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import min_ratio  # noqa: E402
import workloads  # noqa: E402

_TAPE: list[Any] = []


def _mul_rule(g: Any, ans: Any, x: Any, y: Any) -> Any:
    return g * y


def _add_rule(g: Any, ans: Any, x: Any, y: Any) -> Any:
    return g


def _tanh_rule(g: Any, ans: Any, x: Any) -> Any:
    return g * (1 - ans * ans)


class Recorded:
    """A value and its tape slot; ``*`` and ``+`` by a constant record one entry each."""

    __slots__ = ("value", "slot")

    def __init__(self, value: Any, slot: int) -> None:
        self.value = value
        self.slot = slot

    def __mul__(self, other: float) -> Recorded:
        ans = self.value * other
        _TAPE.append((_mul_rule, self.slot, (self.value, other), ans))
        return Recorded(ans, len(_TAPE) - 1)

    def __add__(self, other: float) -> Recorded:
        ans = self.value + other
        _TAPE.append((_add_rule, self.slot, (self.value, other), ans))
        return Recorded(ans, len(_TAPE) - 1)


def recorded_tanh(x: Recorded) -> Recorded:
    ans = np.tanh(x.value)
    _TAPE.append((_tanh_rule, x.slot, (x.value,), ans))
    return Recorded(ans, len(_TAPE) - 1)


def minimal_value_and_grad(fun: Callable[[Recorded], Recorded], x0: Any) -> tuple[Any, Any]:
    """Value and derivative of ``fun`` at ``x0`` with the minimal tracer."""
    _TAPE.clear()
    _TAPE.append(None)
    out = fun(Recorded(x0, 0))
    cotangents: list[Any] = [None] * len(_TAPE)
    cotangents[out.slot] = np.float64(1.0)
    for slot in range(len(_TAPE) - 1, 0, -1):
        g = cotangents[slot]
        if g is None:
            continue
        rule, parent, operands, ans = _TAPE[slot]
        contribution = rule(g, ans, *operands)
        before = cotangents[parent]
        cotangents[parent] = contribution if before is None else before + contribution
    return out.value, cotangents[0]


def minimal_chain(n: int) -> Callable[[Recorded], Recorded]:
    def chain(x: Recorded) -> Recorded:
        for _ in range(n):
            x = recorded_tanh(x * workloads.W3_SCALE + workloads.W3_SHIFT)
        return x

    return chain


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=2000, help="chain length (W3: 10,000)")
    parser.add_argument("--calls", type=int, default=3)
    parser.add_argument("--samples", type=int, default=40)
    options = parser.parse_args()
    import fgrad

    x0 = np.asarray(0.5)
    api = workloads.load_fgrad()
    for n in (*workloads.W3_SHORT, options.steps):
        reference = workloads.w3_numpy_value_and_grad(x0, n)
        for name, result in (
            ("minimal tracer", minimal_value_and_grad(minimal_chain(n), x0)),
            ("fgrad", fgrad.value_and_grad(workloads.w3_fgrad_chain(api, n))(x0)),
        ):
            err = workloads.max_rel_err(result, reference)
            if err > 1e-14:
                raise SystemExit(f"{name} differs from NumPy on the {n}-step chain: {err:.1e}")
    n = options.steps
    chain = minimal_chain(n)
    value_and_grad = fgrad.value_and_grad(workloads.w3_fgrad_chain(api, n))
    best = min_ratio.min_times(
        {
            "numpy": lambda: workloads.w3_numpy_value_and_grad(x0, n),
            "minimal tracer": lambda: minimal_value_and_grad(chain, x0),
            "fgrad": lambda: value_and_grad(x0),
        },
        options.calls,
        options.samples,
    )
    for name, seconds in best.items():
        per_step = seconds / n * 1e6
        print(f"W3 {name:15s} {per_step:7.3f} µs per chain step  {seconds / best['numpy']:6.2f}×")
    print("load average: {:.2f} / {:.2f} / {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
