"""W8: a W2-sized MLP step data-parallel on Dask, 1 worker against 2 (run by hand).

    python benchmarks/distributed_step.py [--steps 15] [--batches 512 4096]

The W2 model (784-1024-1024-10, ReLU, softmax cross-entropy, float64). For each batch size:
the one-process ``fgrad.value_and_grad`` step (single-threaded BLAS, as Dask's workers run),
then ``fgrad.distributed`` on a ``LocalCluster`` of 1 and of 2 worker processes with one
thread each. Prints medians per step, the 2-worker speedup over 1 worker, the bytes shipped
per step (parameters out, gradients back, per shard) and the per-step overhead (1 worker
minus one process: serialisation, transport, scheduling). Results are checked against the
one-process step first. The numbers feed the projection in RESULTS.md.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import logging  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import fgrad  # noqa: E402
import fgrad.numpy as fnp  # noqa: E402
from fgrad.distributed import Cluster  # noqa: E402

SIZES = (784, 1024, 1024, 10)
CHECK_RTOL = 1e-12


def loss(params, x, labels):
    h = x
    for w, b in params[:-1]:
        h = fnp.maximum(h @ w + b, 0.0)
    w, b = params[-1]
    logits = h @ w + b
    logp = logits - fgrad.nn.logsumexp(logits, axis=1, keepdims=True)
    return -fnp.mean(fnp.take_along_axis(logp, labels[:, None], axis=1))


def init(rng):
    return [
        (rng.standard_normal((m, n)) / np.sqrt(m), 0.1 * rng.standard_normal(n))
        for m, n in zip(SIZES[:-1], SIZES[1:])
    ]


def median_seconds(step, params, steps):
    step(params)
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step(params)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def check(got, want):
    np.testing.assert_allclose(got[0], want[0], rtol=CHECK_RTOL)
    for g, w in zip(fgrad.tree.tree_leaves(got[1]), fgrad.tree.tree_leaves(want[1])):
        np.testing.assert_allclose(g, w, rtol=CHECK_RTOL, atol=1e-15)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=15)
    parser.add_argument("--batches", type=int, nargs="+", default=[512, 4096])
    args = parser.parse_args()
    logging.getLogger("distributed").setLevel(logging.ERROR)
    rng = np.random.default_rng(0)
    params = init(rng)
    n_params = sum(leaf.size for leaf in fgrad.tree.tree_leaves(params))
    print(f"W8 data-parallel W2 step, MLP {SIZES} ({n_params} float64 parameters), numpy "
          f"{np.__version__}, median of {args.steps} steps")  # fmt: skip
    data = {b: (rng.random((b, SIZES[0])), rng.integers(0, SIZES[-1], b)) for b in args.batches}
    one_process = {}
    for batch, (x, labels) in data.items():
        step = fgrad.value_and_grad(loss)

        def local(p, step=step, x=x, labels=labels):
            return step(p, x, labels)

        one_process[batch] = (local(params), median_seconds(local, params, args.steps))
    timings: dict[tuple[int, int], float] = {}
    shipped: dict[tuple[int, int], int] = {}
    for workers in (1, 2):
        with Cluster(n_workers=workers, threads_per_worker=1) as cluster:
            for batch, (x, labels) in data.items():
                sharded = cluster.value_and_grad(loss, x, labels)
                check(sharded(params), one_process[batch][0])
                timings[workers, batch] = median_seconds(sharded, params, args.steps)
                shipped[workers, batch] = sharded.bytes_per_step
                sharded.close()
    for batch in args.batches:
        single = one_process[batch][1]
        one, two = timings[1, batch], timings[2, batch]
        print(f"  batch {batch:5d}: one process {single * 1e3:8.1f} ms"
              f" | 1 worker {one * 1e3:8.1f} ms | 2 workers {two * 1e3:8.1f} ms"
              f" | speedup 2 vs 1 worker {one / two:4.2f}x"
              f" | overhead {(one - single) * 1e3:6.1f} ms/step"
              f" | shipped {shipped[2, batch] / 1e6:5.1f} MB/step (2 workers)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
