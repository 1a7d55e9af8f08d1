"""Per-example gradients on the two moons with ``fgrad.vmap``, and private-style training.

``fgrad.grad`` of a mean loss gives one gradient for the whole batch. Wrapping the
gradient of a *one-example* loss in ``fgrad.vmap`` gives one gradient per example, in
one batched computation instead of a Python loop. This script:

1. trains a small ReLU network on the moons, then computes the gradient of every
   training point's loss and draws the histogram of their norms;
2. marks the points with the largest gradients: the hardest ones, near the boundary
   or on the wrong side of it;
3. trains two models from the same start: plain mini-batch SGD, and DP-SGD style
   (each example's gradient clipped to a norm bound, Gaussian noise added to their
   sum), and draws both decision boundaries.

Every figure is written as a numbered PNG into ``--out``::

    python examples/per_example_gradients.py            # full run, a few seconds
    python examples/per_example_gradients.py --fast     # a smoke test
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
import fgrad.numpy as fnp
from fgrad import datasets, losses, nn, optim, random
from fgrad import plot as fplot
from fgrad.tree import tree_flatten, tree_leaves, tree_unflatten

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
HARDEST = 15  # points marked as hardest


class Settings(NamedTuple):
    """How long to train; ``--fast`` swaps in tiny numbers."""

    epochs: int
    grid_resolution: int
    dpi: int


FULL = Settings(epochs=60, grid_resolution=150, dpi=100)
FAST = Settings(epochs=3, grid_resolution=30, dpi=50)


class Privacy(NamedTuple):
    """DP-SGD's two knobs: the per-example norm bound and the noise multiplier."""

    clip_norm: float = 1.0
    noise_multiplier: float = 0.6


def example_loss(params: Params, x: Array, y: Array) -> Array:
    """The loss of one example: ``x`` of shape (2,), ``y`` a 0-d label."""
    logit = MODEL.apply(params, x[None, :])[0, 0]
    return losses.sigmoid_binary_cross_entropy(logit, y)


def batch_loss(params: Params, X: Array, y: Array) -> Array:
    return losses.sigmoid_binary_cross_entropy(MODEL.apply(params, X)[:, 0], y)


per_example_grads = fgrad.vmap(fgrad.grad(example_loss), in_axes=(None, 0, 0))


def global_norms(grads: Params) -> Array:
    """The norm of each example's whole gradient (all parameters), shape (batch,)."""
    squares = [fnp.sum(g.reshape(g.shape[0], -1) ** 2, axis=1) for g in tree_leaves(grads)]
    return np.asarray(fnp.sqrt(sum(squares)))


def clipped_noisy_mean(grads: Params, key: Array, privacy: Privacy) -> Params:
    """DP-SGD's gradient: each example's clipped to ``clip_norm``, summed, noised, averaged."""
    norms = global_norms(grads)
    scale = np.minimum(1.0, privacy.clip_norm / np.maximum(norms, 1e-12))
    leaves, treedef = tree_flatten(grads)
    keys = random.split(key, len(leaves))
    sigma = privacy.noise_multiplier * privacy.clip_norm
    n = len(norms)

    def privatize(g: Array, k: Array) -> Array:
        clipped = np.tensordot(scale, g, axes=1)
        return (clipped + sigma * random.normal(k, clipped.shape)) / n

    return tree_unflatten(treedef, [privatize(g, k) for g, k in zip(leaves, keys)])


def train(
    key: Array,
    params: Params,
    X: Array,
    y: Array,
    epochs: int,
    privacy: Privacy | None,
    batch_size: int = 32,
    learning_rate: float = 0.3,
) -> Params:
    """Mini-batch SGD; with ``privacy``, on clipped and noised per-example gradients."""
    batch_grad = fgrad.grad(batch_loss)
    for epoch in range(epochs):
        epoch_key = random.fold_in(key, epoch)
        for step, (X_batch, y_batch) in enumerate(datasets.batches(epoch_key, X, y, batch_size)):
            if privacy is None:
                grads = batch_grad(params, X_batch, y_batch)
            else:
                noise_key = random.fold_in(random.fold_in(key, 10_000 + epoch), step)
                grads = clipped_noisy_mean(
                    per_example_grads(params, X_batch, y_batch), noise_key, privacy
                )
            params = optim.sgd_update(params, grads, lr=learning_rate)
    return params


def accuracy(params: Params, X: Array, y: Array) -> float:
    return float(np.mean((np.asarray(MODEL.apply(params, X)[:, 0]) > 0) == (y > 0.5)))


def norms_figure(norms: Array) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(7, 4.5))
    bins = np.geomspace(max(norms.min(), 1e-8), norms.max(), 40)
    ax.hist(norms, bins=bins, color="tab:blue", edgecolor="k", lw=0.3)
    ax.set_xscale("log")
    ax.set_xlabel("norm of the example's gradient (log scale)")
    ax.set_ylabel("training points")
    ax.set_title(f"Per-example gradient norms: {len(norms)} points, one vmap call", fontsize=12)
    return fig


def hardest_figure(params: Params, X: Array, y: Array, norms: Array, resolution: int) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(7, 5.5))
    probability = fgrad.nn.sigmoid

    def predict(points: Array) -> Array:
        return np.asarray(probability(MODEL.apply(params, points)[:, 0]))

    fplot.decision_boundary(predict, X, y, ax, resolution=resolution, threshold=0.5)
    hardest = np.argsort(norms)[-HARDEST:]
    ax.scatter(X[hardest, 0], X[hardest, 1], s=160, facecolors="none", edgecolors="k", lw=1.5)
    ax.set_title(f"The {HARDEST} points with the largest gradients (circled)", fontsize=12)
    return fig


def boundaries_figure(models: dict[str, Params], X: Array, y: Array, resolution: int) -> plt.Figure:
    fig, axes = plt.subplots(1, len(models), figsize=(12, 5))
    for ax, (name, params) in zip(axes, models.items()):

        def predict(points: Array, params: Params = params) -> Array:
            return np.asarray(fgrad.nn.sigmoid(MODEL.apply(params, points)[:, 0]))

        fplot.decision_boundary(predict, X, y, ax, resolution=resolution, threshold=0.5)
        ax.set_title(f"{name}: test accuracy {accuracy(params, X, y):.1%}", fontsize=12)
    fig.suptitle("Held-out points and the decision boundary of each model", fontsize=13)
    return fig


def time_per_example_grads(params: Params, X: Array, y: Array) -> tuple[float, float]:
    """Seconds for one vmap call and for the Python loop it replaces, on the same points."""
    one = fgrad.grad(example_loss)
    per_example_grads(params, X, y)
    start = time.perf_counter()
    per_example_grads(params, X, y)
    batched = time.perf_counter() - start
    start = time.perf_counter()
    for x_i, y_i in zip(X, y):
        one(params, x_i, y_i)
    return batched, time.perf_counter() - start


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="PRNG seed (default: 0)")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("out/per_example_gradients"),
        help="figure directory (default: out/per_example_gradients)",
    )
    parser.add_argument("--fast", action="store_true", help="train briefly, for smoke tests")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    settings = FAST if args.fast else FULL
    args.out.mkdir(parents=True, exist_ok=True)
    figures = fplot.FigureSaver(args.out, dpi=settings.dpi, tight_layout=True)
    k_split, k_init, k_plain, k_private = random.split(random.key(args.seed), 4)

    X, y = datasets.make_moons(400, noise=0.15, random_state=args.seed)
    X_train, X_test, y_train, y_test = datasets.train_test_split(
        X, y, test_size=0.25, random_state=k_split
    )
    scaler = datasets.Standardizer.fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    _, start = MODEL.init(k_init, (-1, 2))

    plain = train(k_plain, start, X_train, y_train, settings.epochs, privacy=None)
    grads = per_example_grads(plain, X_train, y_train)
    norms = global_norms(grads)
    batched_seconds, loop_seconds = time_per_example_grads(plain, X_train, y_train)
    speedup = loop_seconds / batched_seconds
    print(
        f"{len(norms)} per-example gradients: vmap {batched_seconds * 1e3:.1f} ms, "
        f"Python loop {loop_seconds * 1e3:.1f} ms ({speedup:.0f}x faster)"
    )
    print(f"Gradient norms: median {np.median(norms):.3f}, largest {norms.max():.3f}")
    with plt.style.context("fivethirtyeight"):
        figures.save(norms_figure(norms), "gradient_norms")
        figures.save(
            hardest_figure(plain, X_train, y_train, norms, settings.grid_resolution),
            "hardest_points",
        )
        privacy = Privacy()
        private = train(k_private, start, X_train, y_train, settings.epochs, privacy)
        models = {"plain SGD": plain, f"clipped (C={privacy.clip_norm}) + noise": private}
        figures.save(
            boundaries_figure(models, X_test, y_test, settings.grid_resolution),
            "decision_boundaries",
        )
    for name, params in models.items():
        print(f"Test accuracy, {name}: {accuracy(params, X_test, y_test):.1%}")
    print(f"Saved {len(figures.saved)} figures to {args.out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
