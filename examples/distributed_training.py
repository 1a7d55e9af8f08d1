"""Train the moons classifier data-parallel on a 2-worker Dask cluster, and run a sweep there.

The loss is the same pure function a one-process run differentiates. ``fgrad.distributed``
shards the training set across the workers once; every step sends the parameters, each
worker computes ``value_and_grad`` on its shard, and the driver combines the shards'
results weighted by their size. For a mean loss that is exactly the one-process gradient
(up to rounding), so both runs end at the same parameters and accuracy. Then a sweep
(learning rates x seeds) runs as one task per configuration on the same cluster.

Needs the ``distributed`` and ``examples`` extras::

    pip install -e ".[examples,distributed]"
    python examples/distributed_training.py            # about half a minute
    python examples/distributed_training.py --fast     # a smoke test

Every figure is written as a numbered PNG into ``--out``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import matplotlib
import numpy as np

import fgrad
from fgrad import datasets, losses, nn, optim, random
from fgrad import plot as fplot
from fgrad.distributed import Cluster
from fgrad.tree import tree_leaves

matplotlib.use("Agg")  # draw into files only: works without a display

import matplotlib.pyplot as plt  # noqa: E402

Params = Any
Array = np.ndarray

MODEL = nn.serial(
    nn.Dense(16, w_init=nn.he_normal()),
    nn.Relu,
    nn.Dense(16, w_init=nn.he_normal()),
    nn.Relu,
    nn.Dense(1),
)
LEARNING_RATE = 0.02
PARAMS_RTOL = 1e-9
"""Two data-parallel runs and a one-process run differ by rounding only, amplified by training."""


class Settings(NamedTuple):
    """How long to train; ``--fast`` swaps in tiny numbers."""

    steps: int
    sweep_steps: int
    grid_resolution: int
    dpi: int


FULL = Settings(steps=300, sweep_steps=150, grid_resolution=150, dpi=100)
FAST = Settings(steps=6, sweep_steps=3, grid_resolution=30, dpi=50)


def loss(params: Params, X: Array, y: Array) -> Array:
    """The mean loss over the examples given: what each worker differentiates on its shard."""
    return losses.sigmoid_binary_cross_entropy(MODEL.apply(params, X)[:, 0], y)


def train(
    step: Any, params: Params, steps: int, learning_rate: float
) -> tuple[Params, list[float]]:
    """Full-batch Adam; ``step(params)`` returns the loss and its gradients."""
    optimizer = optim.adam(learning_rate)
    state = optimizer.init(params)
    curve = []
    for _ in range(steps):
        value, grads = step(params)
        updates, state = optimizer.update(grads, state, params)
        params = optim.apply_updates(params, updates)
        curve.append(float(value))
    return params, curve


def accuracy(params: Params, X: Array, y: Array) -> float:
    return float(np.mean((np.asarray(MODEL.apply(params, X)[:, 0]) > 0) == (y > 0.5)))


class Run(NamedTuple):
    """One configuration of the sweep."""

    learning_rate: float
    seed: int
    steps: int
    data: tuple[Array, Array, Array, Array]


def sweep_run(run: Run) -> tuple[Params, list[float], float]:
    """Train one configuration from its own seed; runs on a worker."""
    X_train, y_train, X_test, y_test = run.data
    _, params = MODEL.init(random.key(run.seed), (-1, 2))
    step = fgrad.value_and_grad(loss)
    params, curve = train(lambda p: step(p, X_train, y_train), params, run.steps, run.learning_rate)
    return params, curve, accuracy(params, X_test, y_test)


def curves_figure(curves: dict[str, list[float]]) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(7, 4.5))
    styles = ["-", "--"]
    for (name, curve), style in zip(curves.items(), styles):
        ax.plot(curve, style, lw=2, label=name)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("training loss (log scale)")
    ax.legend()
    ax.set_title("One process and two workers: the same curve", fontsize=12)
    return fig


def boundaries_figure(models: dict[str, Params], X: Array, y: Array, resolution: int) -> plt.Figure:
    fig, axes = plt.subplots(1, len(models), figsize=(12, 5))
    for ax, (name, params) in zip(axes, models.items()):

        def predict(points: Array, params: Params = params) -> Array:
            return np.asarray(fgrad.nn.sigmoid(MODEL.apply(params, points)[:, 0]))

        fplot.decision_boundary(predict, X, y, ax, resolution=resolution, threshold=0.5)
        ax.set_title(f"{name}: test accuracy {accuracy(params, X, y):.1%}", fontsize=12)
    fig.suptitle("Held-out points and each run's decision boundary", fontsize=13)
    return fig


def sweep_figure(runs: list[Run], results: list[tuple[Params, list[float], float]]) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(7, 4.5))
    rates = sorted({run.learning_rate for run in runs})
    for rate in rates:
        accs = [acc for run, (_, _, acc) in zip(runs, results) if run.learning_rate == rate]
        seeds = [run.seed for run in runs if run.learning_rate == rate]
        ax.plot(seeds, accs, "o-", label=f"learning rate {rate:g}")
    ax.set_xlabel("seed")
    ax.set_ylabel("test accuracy")
    ax.legend()
    ax.set_title(f"A sweep of {len(runs)} runs, one task each on the cluster", fontsize=12)
    return fig


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="PRNG seed (default: 0)")
    parser.add_argument(
        "--address", default=None, help="a Dask scheduler to use (default: a local 2-worker one)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("out/distributed_training"),
        help="figure directory (default: out/distributed_training)",
    )
    parser.add_argument("--fast", action="store_true", help="train briefly, for smoke tests")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    settings = FAST if args.fast else FULL
    args.out.mkdir(parents=True, exist_ok=True)
    figures = fplot.FigureSaver(args.out, dpi=settings.dpi, tight_layout=True)
    k_split, k_init = random.split(random.key(args.seed), 2)

    X, y = datasets.make_moons(1000, noise=0.2, random_state=args.seed)
    X_train, X_test, y_train, y_test = datasets.train_test_split(
        X, y, test_size=0.25, random_state=k_split
    )
    scaler = datasets.Standardizer.fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    _, start = MODEL.init(k_init, (-1, 2))

    one_step = fgrad.value_and_grad(loss)
    began = time.perf_counter()
    single, single_curve = train(
        lambda p: one_step(p, X_train, y_train), start, settings.steps, LEARNING_RATE
    )
    single_seconds = time.perf_counter() - began

    with Cluster(args.address, n_workers=2) as cluster:
        print(f"Dask cluster: {len(cluster.workers)} workers at {', '.join(cluster.workers)}")
        sharded = cluster.value_and_grad(loss, X_train, y_train)
        began = time.perf_counter()
        parallel, parallel_curve = train(sharded, start, settings.steps, LEARNING_RATE)
        parallel_seconds = time.perf_counter() - began
        print(
            f"{settings.steps} steps: one process {single_seconds:.2f} s, "
            f"{len(sharded.shard_sizes)} shards {sharded.shard_sizes} "
            f"{parallel_seconds:.2f} s ({sharded.bytes_per_step / 1e3:.1f} kB per step)"
        )
        sharded.close()

        runs = [
            Run(rate, seed, settings.sweep_steps, (X_train, y_train, X_test, y_test))
            for rate in (0.003, 0.01, 0.03)
            for seed in range(3)
        ]
        results = cluster.map(sweep_run, runs)

    gaps = [
        float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))
        for a, b in zip(tree_leaves(parallel), tree_leaves(single))
    ]
    worst = max(gaps)
    print(f"Largest relative difference of the parameters, 2 workers vs one process: {worst:.1e}")
    single_accuracy = accuracy(single, X_test, y_test)
    parallel_accuracy = accuracy(parallel, X_test, y_test)
    print(f"Test accuracy: one process {single_accuracy:.1%}, 2 workers {parallel_accuracy:.1%}")
    if worst > PARAMS_RTOL or single_accuracy != parallel_accuracy:
        print("The data-parallel run did not reach the one-process parameters", file=sys.stderr)
        return 1
    best_run, (_, _, best_accuracy) = max(zip(runs, results), key=lambda pair: pair[1][2])
    print(
        f"Sweep: {len(runs)} runs; best test accuracy {best_accuracy:.1%} "
        f"(learning rate {best_run.learning_rate:g}, seed {best_run.seed})"
    )
    with plt.style.context("fivethirtyeight"):
        figures.save(
            curves_figure({"one process": single_curve, "2 workers": parallel_curve}),
            "loss_curves",
        )
        figures.save(
            boundaries_figure(
                {"one process": single, "2 workers": parallel},
                X_test,
                y_test,
                settings.grid_resolution,
            ),
            "decision_boundaries",
        )
        figures.save(sweep_figure(runs, results), "sweep")
    print(f"Saved {len(figures.saved)} figures to {args.out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
