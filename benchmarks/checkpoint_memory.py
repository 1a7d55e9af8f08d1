"""Peak memory and time of a deep MLP's gradient, with and without ``fgrad.checkpoint``.

Run by hand: ``python benchmarks/checkpoint_memory.py [--depth 32 --width 256 --batch 256]``.
Peak memory is what ``tracemalloc`` sees (NumPy reports its array buffers to it) above the
memory held before the call; time is the median of interleaved runs, without tracemalloc.
Each layer is ``tanh(h @ W + b)``; the checkpointed version wraps every layer, so the tape
keeps one activation per layer and each layer's intermediate values are recomputed during
its own VJP. The gradients of both versions are compared bit for bit.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

import fgrad
import fgrad.numpy as fnp


def layer(w: Any, b: Any, h: Any) -> Any:
    return fnp.tanh(h @ w + b)


checkpointed_layer = fgrad.checkpoint(layer)


def make_loss(step: Callable[[Any, Any, Any], Any]) -> Callable[..., Any]:
    def loss(params: list[tuple[Any, Any]], x: Any) -> Any:
        h = x
        for w, b in params:
            h = step(w, b, h)
        return fnp.mean(h * h)

    return loss


def peak_bytes(fun: Callable[[], Any]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        result = fun()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return peak - base


def median_seconds(funs: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in funs}
    for _ in range(repeats):
        for name, fun in funs.items():
            start = time.perf_counter()
            fun()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=32)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    scale = 1.0 / np.sqrt(args.width)
    params = [
        (
            scale * rng.standard_normal((args.width, args.width)),
            0.1 * rng.standard_normal(args.width),
        )
        for _ in range(args.depth)
    ]
    x = rng.standard_normal((args.batch, args.width))
    plain = fgrad.grad(make_loss(layer))
    remat = fgrad.grad(make_loss(checkpointed_layer))
    runs = {"plain": lambda: plain(params, x), "checkpoint": lambda: remat(params, x)}

    grads_plain, grads_remat = runs["plain"](), runs["checkpoint"]()
    identical = all(
        np.array_equal(a, b)
        for a, b in zip(fgrad.tree.tree_leaves(grads_plain), fgrad.tree.tree_leaves(grads_remat))
    )
    del grads_plain, grads_remat

    peaks = {name: peak_bytes(run) for name, run in runs.items()}
    seconds = median_seconds(runs, args.repeats)
    activation = args.batch * args.width * 8
    print(
        f"MLP: depth {args.depth}, width {args.width}, batch {args.batch} "
        f"(one activation: {activation / 2**20:.2f} MiB, parameters: "
        f"{sum(w.nbytes + b.nbytes for w, b in params) / 2**20:.2f} MiB)"
    )
    for name in runs:
        print(
            f"  {name:<10} peak {peaks[name] / 2**20:8.2f} MiB   "
            f"time {seconds[name] * 1e3:8.2f} ms (median of {args.repeats})"
        )
    print(
        f"  peak memory drop: {1 - peaks['checkpoint'] / peaks['plain']:.1%}   "
        f"time ratio: {seconds['checkpoint'] / seconds['plain']:.2f}x   "
        f"gradients bit-identical: {identical}"
    )


if __name__ == "__main__":
    main()
