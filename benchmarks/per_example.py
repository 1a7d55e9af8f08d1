"""W5: per-example gradients of a 2-64-64-1 tanh MLP, batch 256, float64 (run by hand).

    python benchmarks/per_example.py [--rounds 9]

Columns, timed interleaved in rounds (``harness.time_interleaved``): hand-written NumPy
per-example backprop (the baseline), ``fgrad.vmap(fgrad.grad(loss))``, one batched
``fgrad.grad`` of the mean loss (what a per-example gradient should cost about as much as),
and the Python loop of ``fgrad.grad`` that ``vmap`` replaces; when importable, also
``jax.vmap(jax.grad(loss))`` eagerly and under ``jax.jit`` (float64), and PyTorch's
``torch.func.vmap(torch.func.grad(loss))``. Prints medians, ratios to NumPy, and the
issue's two targets: vmap(grad) <= 3x one batched gradient, and >= 30x faster than the
loop. Every column's result is checked against the NumPy baseline first.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(1, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
from harness import time_interleaved  # noqa: E402
from peers import Peers  # noqa: E402

import fgrad  # noqa: E402
import fgrad.numpy as fnp  # noqa: E402

SIZES = (2, 64, 64, 1)
BATCH = 256
CHECK_RTOL = 1e-10


def init(rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    return [
        (rng.normal(size=(m, n)) / np.sqrt(m), rng.normal(size=n) * 0.1)
        for m, n in zip(SIZES[:-1], SIZES[1:])
    ]


def example_loss(params: list[tuple[np.ndarray, np.ndarray]], x: np.ndarray, y: np.ndarray):
    h = x
    for w, b in params[:-1]:
        h = fnp.tanh(h @ w + b)
    w, b = params[-1]
    return fnp.sum((h @ w + b - y) ** 2)


def mean_loss(params: list[tuple[np.ndarray, np.ndarray]], xs: np.ndarray, ys: np.ndarray):
    h = xs
    for w, b in params[:-1]:
        h = fnp.tanh(h @ w + b)
    w, b = params[-1]
    return fnp.mean(fnp.sum((h @ w + b - ys) ** 2, axis=1))


def numpy_per_example(params, xs, ys):
    """Hand-written backprop keeping the batch axis: one gradient per example."""
    (w1, b1), (w2, b2), (w3, b3) = params
    h1 = np.tanh(xs @ w1 + b1)
    h2 = np.tanh(h1 @ w2 + b2)
    d3 = 2.0 * (h2 @ w3 + b3 - ys)
    d2 = (d3 @ w3.T) * (1.0 - h2 * h2)
    d1 = (d2 @ w2.T) * (1.0 - h1 * h1)
    return [
        (xs[:, :, None] * d1[:, None, :], d1),
        (h1[:, :, None] * d2[:, None, :], d2),
        (h2[:, :, None] * d3[:, None, :], d3),
    ]


def add_peer_columns(steps: dict, params, xs, ys, reference) -> None:
    """jax.vmap (eager and jitted) and torch.func.vmap columns, each checked against NumPy."""
    peers = Peers({"torch", "jax"})
    if peers.jax is not None:
        jax, jnp = peers.jax, peers.jnp

        def jax_loss(p, x, y):
            h = x
            for w, b in p[:-1]:
                h = jnp.tanh(h @ w + b)
            w, b = p[-1]
            return jnp.sum((h @ w + b - y) ** 2)

        jparams, jxs, jys = peers._jax_tree(params), jnp.asarray(xs), jnp.asarray(ys)
        eager = jax.vmap(jax.grad(jax_loss), in_axes=(None, 0, 0))
        jitted = jax.jit(eager)
        steps["jax.vmap(grad)"] = lambda: jax.block_until_ready(eager(jparams, jxs, jys))
        steps["jax.jit(vmap(grad))"] = lambda: jax.block_until_ready(jitted(jparams, jxs, jys))
    if peers.torch is not None:
        torch = peers.torch

        def torch_loss(p, x, y):
            h = x
            for w, b in p[:-1]:
                h = torch.tanh(h @ w + b)
            w, b = p[-1]
            return torch.sum((h @ w + b - y) ** 2)

        tparams = [(torch.from_numpy(w), torch.from_numpy(b)) for w, b in params]
        txs, tys = torch.from_numpy(xs), torch.from_numpy(ys)
        per_example = torch.func.vmap(torch.func.grad(torch_loss), in_dims=(None, 0, 0))
        steps["torch.func.vmap(grad)"] = lambda: per_example(tparams, txs, tys)
    for name in [n for n in steps if n.startswith(("jax", "torch"))]:
        check(name, [tuple(np.asarray(v) for v in layer) for layer in steps[name]()], reference)
    if peers.versions():
        print("peers:", ", ".join(f"{k} {v}" for k, v in peers.versions().items()))


def check(name: str, got, reference) -> None:
    for (rw, rb), (gw, gb) in zip(reference, got):
        np.testing.assert_allclose(gw, rw, rtol=CHECK_RTOL, atol=1e-13, err_msg=name)
        np.testing.assert_allclose(gb, rb, rtol=CHECK_RTOL, atol=1e-13, err_msg=name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    params = init(rng)
    xs, ys = rng.normal(size=(BATCH, 2)), rng.normal(size=(BATCH, 1))
    per_example = fgrad.vmap(fgrad.grad(example_loss), in_axes=(None, 0, 0))
    one = fgrad.grad(example_loss)
    batched = fgrad.grad(mean_loss)

    reference = numpy_per_example(params, xs, ys)
    check("fgrad vmap(grad)", per_example(params, xs, ys), reference)

    steps = {
        "numpy": lambda: numpy_per_example(params, xs, ys),
        "fgrad vmap(grad)": lambda: per_example(params, xs, ys),
        "fgrad grad(mean loss)": lambda: batched(params, xs, ys),
        "fgrad loop of grad": lambda: [one(params, xs[i], ys[i]) for i in range(BATCH)],
    }
    add_peer_columns(steps, params, xs, ys, reference)
    timings = time_interleaved(steps, args.rounds, block_s=0.2, slow_s=0.05, slow_rounds=3)
    median = {name: statistics.median(t for t in timing.times if t is not None)
              for name, timing in timings.items()}  # fmt: skip
    print(f"W5 per-example gradients, MLP {SIZES}, batch {BATCH}, float64, numpy {np.__version__}")
    for name, timing in timings.items():
        ratio = statistics.median(timing.ratios)
        print(f"  {name:24s} {median[name] * 1e3:9.3f} ms   {ratio:6.2f}x numpy")
    vs_batched = median["fgrad vmap(grad)"] / median["fgrad grad(mean loss)"]
    vs_loop = median["fgrad loop of grad"] / median["fgrad vmap(grad)"]
    print(f"  vmap(grad) / one batched grad: {vs_batched:.2f}x (target <= 3)"
          f" {'OK' if vs_batched <= 3 else 'MISSED'}")  # fmt: skip
    print(f"  loop / vmap(grad): {vs_loop:.0f}x faster (target >= 30)"
          f" {'OK' if vs_loop >= 30 else 'MISSED'}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
