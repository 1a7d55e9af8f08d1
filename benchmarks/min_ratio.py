"""Ratio of minimum step times to hand-written NumPy, for comparing versions on a loaded machine.

Usage::

    OPENBLAS_NUM_THREADS=1 python benchmarks/min_ratio.py W1 --calls 10 --samples 200

Runs many short interleaved samples (``--calls`` steps each) of the NumPy, fgrad and
fgrad.jit columns of one workload and prints each column's fastest sample and its ratio to
NumPy's fastest. Other processes only ever slow a sample down, so the minimum is far steadier
than the median when the machine is shared (``run.py``'s per-round median ratios moved by
±0.15× between runs during performance round two; these by about ±0.02×). It measures the
best case, not the typical one: use it to compare two versions of fgrad, and ``run.py`` for
the table.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(1, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import workloads  # noqa: E402


def min_times(steps: dict[str, workloads.Step], calls: int, samples: int) -> dict[str, float]:
    """The fastest of ``samples`` interleaved samples of ``calls`` calls, per call, by column."""
    best = dict.fromkeys(steps, float("inf"))
    order = list(steps.items())
    for sample in range(samples):
        for name, step in order if sample % 2 == 0 else order[::-1]:
            start = time.perf_counter()
            for _ in range(calls):
                step()
            best[name] = min(best[name], (time.perf_counter() - start) / calls)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workload", choices=sorted(workloads.BUILDERS))
    parser.add_argument("--calls", type=int, default=10, help="steps per sample")
    parser.add_argument("--samples", type=int, default=200, help="samples per column")
    args = parser.parse_args()
    api = workloads.load_fgrad()
    wl = workloads.BUILDERS[args.workload]({"fgrad", "fgrad.jit"}, api, None)
    for step in wl.steps.values():
        for _ in range(4):  # trace, replay, and compile a long program on its second replay
            step()
    best = min_times(wl.steps, args.calls, args.samples)
    for name, seconds in best.items():
        print(
            f"{args.workload} {name:10s} {seconds * 1e6:10.1f} µs  {seconds / best['numpy']:.3f}×"
        )
    print(f"load average: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
