"""Linear regression by gradient descent, the way neural networks learn, with fgrad.

Fitting a straight line needs no iterative method: least squares has a closed
form. Doing it by gradient descent anyway shows, on a problem small enough to
draw, the loop that trains every neural network: a model, a loss, the gradient
of the loss with respect to the parameters, and small steps downhill.

1. make 100 noisy points around the line ``y = 3 + 2x``;
2. write the model ``y_hat = X @ w`` and the mean squared error, and check
   that fgrad's gradient equals the one derived by hand;
3. run gradient descent from a bad guess and watch the line move (a grid of
   snapshots, and an animated GIF);
4. see what the learning rate does, and compute the largest stable one from
   the Hessian of the loss;
5. replace full-batch gradient descent by mini-batch stochastic gradient
   descent (SGD), which updates the weights after every few samples;
6. compare the learned intercept and slope with the closed-form solution.

The weight vector is ``w = (w0, w1)``: intercept and slope. The data matrix
``X`` has a column of ones next to the inputs, so that ``X @ w = w0 + w1 x``:
linear regression is a single neuron without an activation.

Figures are written as numbered PNGs (and one GIF) into ``--out``::

    python examples/linear_regression.py             # full run, about six seconds
    python examples/linear_regression.py --fast      # a smoke test, two or three seconds
    python examples/linear_regression.py --seed 0 --out /tmp/linreg
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import matplotlib
import numpy as np

import fgrad
from fgrad import datasets, losses, optim, random
from fgrad import plot as fplot

matplotlib.use("Agg")  # draw into files only: works without a display

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import animation  # noqa: E402

Array = np.ndarray
StepFn = Callable[[Array, Array, Array, float], tuple[Array, Array]]

N_SAMPLES = 100
W_TRUE = np.array([3.0, 2.0])  # intercept and slope of the line the data come from
W_START = np.array([-2.0, -3.0])  # the (bad) initial guess every run starts from

GD_LEARNING_RATE = 0.001  # small on purpose: the line moves slowly enough to watch
STEPS_PER_FRAME = 100
CURVE_STEPS = 100  # steps per learning rate in the comparison
CURVE_LEARNING_RATES = (0.01, 0.1, 0.5)  # plus one above the stability limit
CONVERGED_LR = 0.1  # one of the above, whose result is compared with the exact solution
SGD_LEARNING_RATE = 0.05
SGD_BATCH_SIZE = 10
GIF_FPS = 8
GIF_MAX_FRAMES = 36  # rendering a frame takes about 60 ms

# In a full run, gradient descent and SGD must land this close to the exact solution.
TOLERANCE = 0.05


class Settings(NamedTuple):
    """How long to train; ``--fast`` swaps in tiny numbers."""

    gd_frames: int  # animation frames, STEPS_PER_FRAME gradient-descent steps each
    sgd_epochs: int  # passes over the data for the SGD comparison
    dpi: int  # resolution of the saved PNGs
    gif_dpi: int  # resolution of the animation frames
    tidy_layout: bool  # fit labels and titles snugly (costs a second render per figure)


FULL = Settings(gd_frames=70, sgd_epochs=50, dpi=100, gif_dpi=60, tidy_layout=True)
FAST = Settings(gd_frames=10, sgd_epochs=5, dpi=50, gif_dpi=30, tidy_layout=False)


def save_animation(
    figures: fplot.FigureSaver,
    path: Path,
    fig: plt.Figure,
    draw_frame: Callable[[int], object],
    frames: int,
    dpi: int,
) -> Path | None:
    """Write ``frames`` frames of ``fig`` as the GIF ``path``; None without Pillow.

    ``draw_frame(i)`` updates ``fig`` to show frame ``i``. A written GIF is
    listed in ``figures.saved`` without taking a number of its own.
    """
    written = None
    if animation.PillowWriter.isAvailable():
        writer = animation.PillowWriter(fps=GIF_FPS)
        with writer.saving(fig, str(path), dpi=dpi):
            for i in range(frames):
                draw_frame(i)
                writer.grab_frame()
        figures.saved.append(path)
        written = path
    plt.close(fig)
    return written


# ---------------------------------------------------------------------------
# 1. Data
# ---------------------------------------------------------------------------


def make_data(key: Array) -> tuple[Array, Array]:
    """``X`` of shape ``(n, 2)``, ones then ``x ~ U[-1, 1)``; ``y = X @ W_TRUE + U[0, 1)``.

    The noise is uniform on ``[0, 1)``: it averages 0.5, not 0, so the line
    that fits the data best lies about 0.5 above the true one.
    """
    k_x, k_noise = random.split(key)
    x = random.uniform(k_x, (N_SAMPLES,), minval=-1.0, maxval=1.0)
    X = np.column_stack([np.ones(N_SAMPLES), x])
    y = X @ W_TRUE + random.uniform(k_noise, (N_SAMPLES,))
    return X, y


# ---------------------------------------------------------------------------
# 2. Model, loss and gradient
# ---------------------------------------------------------------------------


def predict(w: Array, X: Array) -> Array:
    return X @ w


def mse_loss(w: Array, X: Array, y: Array) -> Array:
    """``L(w) = mean((y - (w0 + w1 x)) ** 2)``."""
    return losses.mse(predict(w, X), y)


def gradient_by_hand(w: Array, X: Array, y: Array) -> Array:
    """``dL/dw0 = mean(-2 r)`` and ``dL/dw1 = mean(-2 r x)``, with residuals ``r = y - X @ w``."""
    r = y - X @ w
    return np.array([np.mean(-2 * r), np.mean(-2 * r * X[:, 1])])


def check_gradient(w: Array, X: Array, y: Array) -> None:
    loss, grad = fgrad.value_and_grad(mse_loss)(w, X, y)
    by_hand = gradient_by_hand(w, X, y)
    print(f"Initial guess w = {w}: loss {float(loss):.4f}")
    print(f"Gradient from fgrad:   {grad}")
    print(f"Gradient by hand:      {by_hand}")
    print(f"Equal: {bool(np.allclose(grad, by_hand, rtol=1e-12, atol=0.0))}")


# ---------------------------------------------------------------------------
# 3. Gradient descent
# ---------------------------------------------------------------------------


def gd_step(w: Array, X: Array, y: Array, lr: float) -> tuple[Array, Array]:
    """One step downhill; returns the loss before the step and the new weights.

    Nothing is updated in place: the new weights are a new array, so there
    are no gradients to reset between steps either.
    """
    loss, grad = fgrad.value_and_grad(mse_loss)(w, X, y)
    return loss, optim.sgd_update(w, grad, lr)


def gradient_descent(
    w: Array, X: Array, y: Array, lr: float, steps: int, step: StepFn = gd_step
) -> tuple[list[Array], list[float]]:
    """``steps`` full-batch steps from ``w``.

    Returns every iterate (the start and the weights after each step) and
    the loss before each step.
    """
    path = [w]
    history = []
    for _ in range(steps):
        loss, w = step(w, X, y, lr)
        path.append(w)
        history.append(float(loss))
    return path, history


class Snapshot(NamedTuple):
    step: int
    w: Array
    loss: float


def watch_gradient_descent(X: Array, y: Array, frames: int, step: StepFn) -> list[Snapshot]:
    """The weights and loss at the start and after every ``STEPS_PER_FRAME`` steps."""
    w = W_START
    snapshots = [Snapshot(0, w, float(mse_loss(w, X, y)))]
    for frame in range(1, frames + 1):
        path, _ = gradient_descent(w, X, y, GD_LEARNING_RATE, STEPS_PER_FRAME, step)
        w = path[-1]
        snapshots.append(Snapshot(frame * STEPS_PER_FRAME, w, float(mse_loss(w, X, y))))
    return snapshots


def draw_fit(ax: plt.Axes, X: Array, y: Array, w: Array, title: str) -> plt.Line2D:
    """Data, the true line and the line ``w``; returns the latter, for animating."""
    x_ends = np.array([-1.0, 1.0])
    ax.scatter(X[:, 1], y, s=14, alpha=0.7, label="data")
    ax.plot(x_ends, W_TRUE[0] + W_TRUE[1] * x_ends, "k--", lw=1, label="true line")
    (line,) = ax.plot(x_ends, w[0] + w[1] * x_ends, color="firebrick", lw=2, label="model")
    ax.set_ylim(-7.0, 7.0)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(title)
    return line


def data_figure(X: Array, y: Array) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(7, 4.5))
    loss = float(mse_loss(W_START, X, y))
    draw_fit(ax, X, y, W_START, f"The data and the initial guess (loss = {loss:.2f})")
    ax.legend(loc="upper left", fontsize=9)
    return fig


def snapshot_indices(frames: int, panels: int = 6) -> list[int]:
    """The start and about ``panels - 1`` geometrically spaced frames up to the last."""
    later = np.geomspace(1, frames, panels - 1).round().astype(int)
    return [0, *sorted(set(later.tolist()))]


def snapshots_figure(X: Array, y: Array, snapshots: list[Snapshot]) -> plt.Figure:
    chosen = [snapshots[i] for i in snapshot_indices(len(snapshots) - 1)]
    cols = 3
    rows = -(-len(chosen) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(12, 3.6 * rows), sharex=True, sharey=True)
    for ax, snap in zip(axes.flat, chosen):
        draw_fit(ax, X, y, snap.w, f"step {snap.step}: loss {snap.loss:.2f}")
    for ax in axes.flat[len(chosen) :]:
        ax.set_visible(False)
    for ax in axes.flat:
        ax.label_outer()  # axis labels only on the left column and bottom row
    axes.flat[0].legend(loc="upper left", fontsize=8)
    fig.suptitle(f"Gradient descent, learning rate {GD_LEARNING_RATE}", fontsize=14)
    return fig


def animation_frames(
    X: Array, y: Array, snapshots: list[Snapshot]
) -> tuple[plt.Figure, Callable[[int], None]]:
    """A figure and a function that redraws it to show ``snapshots[i]``."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    line = draw_fit(ax, X, y, snapshots[0].w, "Gradient descent, step 0: loss = 0.00")
    ax.legend(loc="upper left", fontsize=9)
    fig.tight_layout()  # once, with a title as long as the frames' ones
    x_ends = np.array([-1.0, 1.0])

    def draw_frame(i: int) -> None:
        snap = snapshots[i]
        line.set_ydata(snap.w[0] + snap.w[1] * x_ends)
        ax.set_title(f"Gradient descent, step {snap.step}: loss = {snap.loss:.2f}")

    return fig, draw_frame


def run_gradient_descent(
    X: Array, y: Array, step: StepFn, figures: fplot.FigureSaver, settings: Settings
) -> Array:
    steps = settings.gd_frames * STEPS_PER_FRAME
    print(f"\n== 3. Gradient descent: {steps} steps, learning rate {GD_LEARNING_RATE} ==")
    snapshots = watch_gradient_descent(X, y, settings.gd_frames, step)
    for snap in snapshots[:: max(1, len(snapshots) // 7)]:
        print(f"Loss after {snap.step:5d} steps: {snap.loss:.4f}")
    png = figures.save(snapshots_figure(X, y, snapshots), "gradient_descent_fit")

    stride = -(-len(snapshots) // GIF_MAX_FRAMES)
    frames = snapshots[::stride] + ([snapshots[-1]] if (len(snapshots) - 1) % stride else [])
    fig, draw_frame = animation_frames(X, y, frames)
    gif = png.with_suffix(".gif")  # numbered like the PNG of the same run
    if save_animation(figures, gif, fig, draw_frame, len(frames), settings.gif_dpi) is None:
        print("(Pillow is not installed: no animated GIF)")
    return snapshots[-1].w


# ---------------------------------------------------------------------------
# 4. The learning rate
# ---------------------------------------------------------------------------


def stability_limit(X: Array, y: Array) -> float:
    """Largest learning rate for which gradient descent on this loss converges.

    The loss is quadratic in ``w``; its Hessian ``H`` is constant. A step
    multiplies the error ``w - w*`` by ``I - lr H``, which shrinks it only if
    ``lr < 2 / (largest eigenvalue of H)``.
    """
    H = fgrad.hessian(mse_loss)(W_START, X, y)
    return 2.0 / float(np.linalg.eigvalsh(H).max())


def learning_rate_figure(curves: dict[str, list[float]]) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(8, 4.5))
    fplot.loss_curve(curves, ax, log_scale=True)
    lowest = min(min(history) for history in curves.values())
    ax.set_ylim(0.5 * lowest, 1e4)  # a diverging curve leaves through the top
    ax.set_ylabel("mean squared error")
    ax.set_title(f"Gradient descent from w = ({W_START[0]:g}, {W_START[1]:g})", fontsize=14)
    return fig


def compare_learning_rates(
    X: Array, y: Array, step: StepFn, figures: fplot.FigureSaver
) -> dict[float, Array]:
    """Gradient descent with several learning rates; returns the final weights for each."""
    print(f"\n== 4. The learning rate: {CURVE_STEPS} steps each ==")
    limit = stability_limit(X, y)
    print(f"Gradient descent converges for learning rates below 2 / max eig(H) = {limit:.3f}")
    curves = {}
    final = {}
    for lr in (*CURVE_LEARNING_RATES, round(1.1 * limit, 2)):
        path, history = gradient_descent(W_START, X, y, lr, CURVE_STEPS, step)
        label = f"lr = {lr:g}" + (" (too large)" if lr > limit else "")
        curves[label] = [*history, float(mse_loss(path[-1], X, y))]
        final[lr] = path[-1]
        print(f"{label:22s} loss {curves[label][0]:.4f} -> {curves[label][-1]:.4g}")
    figures.save(learning_rate_figure(curves), "learning_rates")
    return final


# ---------------------------------------------------------------------------
# 5. Mini-batch stochastic gradient descent
# ---------------------------------------------------------------------------


def minibatch_sgd(
    key: Array, X: Array, y: Array, epochs: int
) -> tuple[Array, list[float], list[Array]]:
    """SGD from ``W_START``: returns the weights, the loss after each epoch, and every iterate."""
    w = W_START
    loss_and_grad = fgrad.value_and_grad(mse_loss)
    history = [float(mse_loss(w, X, y))]
    path = [w]
    for epoch in range(1, epochs + 1):
        # A new shuffle every epoch; each batch gives a noisy estimate of the gradient.
        for X_batch, y_batch in datasets.batches(random.fold_in(key, epoch), X, y, SGD_BATCH_SIZE):
            _, grad = loss_and_grad(w, X_batch, y_batch)
            w = optim.sgd_update(w, grad, SGD_LEARNING_RATE)
            path.append(w)
        history.append(float(mse_loss(w, X, y)))
    return w, history, path


def loss_surface(ax: plt.Axes, X: Array, y: Array, w0: Array, w1: Array) -> None:
    """Contours of the loss over a grid of intercepts ``w0`` and slopes ``w1``."""
    W0, W1 = np.meshgrid(w0, w1)
    residuals = y - (W0[..., None] + W1[..., None] * X[:, 1])
    surface = np.mean(residuals**2, axis=-1)
    levels = np.geomspace(surface.min() * 1.05, surface.max(), 15)
    ax.contour(W0, W1, surface, levels=levels, colors="0.55", linewidths=0.7)


def sgd_figure(
    X: Array,
    y: Array,
    curves: dict[str, list[float]],
    paths: dict[str, list[Array]],
    exact: Array,
) -> plt.Figure:
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    fplot.loss_curve(curves, left, log_scale=True)
    left.set_xlabel("epoch (one pass over the data)")
    left.set_ylabel("mean squared error")
    left.set_title(f"Loss per epoch, learning rate {SGD_LEARNING_RATE}", fontsize=13)

    loss_surface(right, X, y, np.linspace(-3.0, 5.0, 120), np.linspace(-4.0, 4.0, 120))
    for (name, path), colour in zip(paths.items(), ["tab:blue", "tab:orange"]):
        ws = np.array(path)
        right.plot(ws[:, 0], ws[:, 1], ".-", color=colour, ms=3, lw=1, label=name)
    right.plot(*exact, "r*", ms=14, label="least squares")
    right.set_xlabel("intercept w0")
    right.set_ylabel("slope w1")
    right.set_title("The weights' paths over the loss contours", fontsize=13)
    right.legend(loc="upper left", fontsize=9)
    return fig


def compare_with_full_batch(
    key: Array, X: Array, y: Array, step: StepFn, figures: fplot.FigureSaver, settings: Settings
) -> Array:
    """SGD against full-batch gradient descent, same learning rate and epochs; SGD's weights."""
    epochs = settings.sgd_epochs
    print(f"\n== 5. Mini-batch SGD: batches of {SGD_BATCH_SIZE}, {epochs} epochs ==")
    w_sgd, sgd_history, sgd_path = minibatch_sgd(key, X, y, epochs)
    full_path, full_history = gradient_descent(W_START, X, y, SGD_LEARNING_RATE, epochs, step)
    full_history.append(float(mse_loss(full_path[-1], X, y)))
    n_batches = -(-N_SAMPLES // SGD_BATCH_SIZE)
    print(f"Final loss, full batch ({1:2d} step per epoch):   {full_history[-1]:.5f}")
    print(f"Final loss, mini-batches ({n_batches:2d} steps per epoch): {sgd_history[-1]:.5f}")
    sgd_label = f"mini-batches of {SGD_BATCH_SIZE}"
    fig = sgd_figure(
        X,
        y,
        {"full batch": full_history, sgd_label: sgd_history},
        {"full batch": full_path, sgd_label: sgd_path},
        least_squares(X, y),
    )
    figures.save(fig, "minibatch_sgd")
    return w_sgd


# ---------------------------------------------------------------------------
# 6. The exact answer
# ---------------------------------------------------------------------------


def least_squares(X: Array, y: Array) -> Array:
    """The ``w`` minimising the loss, from ``X.T @ X @ w = X.T @ y``."""
    w, *_ = np.linalg.lstsq(X, y, rcond=None)
    return w


def report(X: Array, y: Array, results: dict[str, Array]) -> None:
    print(f"{'':24s} {'intercept':>9s} {'slope':>8s} {'loss':>8s}")
    for name, w in results.items():
        print(f"{name:24s} {w[0]:9.4f} {w[1]:8.4f} {float(mse_loss(w, X, y)):8.5f}")


# ---------------------------------------------------------------------------
# Putting it together
# ---------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=42, help="PRNG seed (default: 42)")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("out/linear_regression"),
        help="figure directory (default: out/linear_regression)",
    )
    parser.add_argument("--fast", action="store_true", help="train briefly, for smoke tests")
    args = parser.parse_args(argv)
    if args.seed < 0:
        parser.error(f"--seed must be a non-negative integer, got {args.seed}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    settings = FAST if args.fast else FULL
    start = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    figures = fplot.FigureSaver(args.out, dpi=settings.dpi, tight_layout=settings.tidy_layout)
    k_data, k_sgd = random.split(random.key(args.seed))

    with plt.style.context("fivethirtyeight"), np.printoptions(precision=4, suppress=True):
        print("== 1. Data ==")
        X, y = make_data(k_data)
        print(f"X: {X.shape}, y: {y.shape}; the first rows of X (ones, x):\n{X[:5]}")
        figures.save(data_figure(X, y), "data_and_initial_guess")

        print("\n== 2. Loss and gradient ==")
        check_gradient(W_START, X, y)

        # Thousands of identical steps: trace the step once, then replay the recording.
        step = fgrad.jit(gd_step)
        w_slow = run_gradient_descent(X, y, step, figures, settings)
        print(f"jit: {step.stats.traces} trace, {step.stats.replays} replays")
        w_by_lr = compare_learning_rates(X, y, step, figures)
        w_sgd = compare_with_full_batch(k_sgd, X, y, step, figures, settings)

        print("\n== 6. Gradient descent against the closed form ==")
        exact = least_squares(X, y)
        slow = f"GD, lr {GD_LEARNING_RATE}, {settings.gd_frames * STEPS_PER_FRAME} steps"
        # The slow run is there to be watched; these two should reach the minimum.
        checked = {
            f"GD, lr {CONVERGED_LR}, {CURVE_STEPS} steps": w_by_lr[CONVERGED_LR],
            f"SGD, {settings.sgd_epochs} epochs": w_sgd,
        }
        report(X, y, {"true line": W_TRUE, "closed form": exact, slow: w_slow, **checked})

    print(f"\nSaved {len(figures.saved)} figures to {args.out}/")
    for path in figures.saved:
        print(f"  {path.name}")
    print(f"Done in {time.perf_counter() - start:.1f} s")

    if not args.fast:
        for name, w in checked.items():
            error = float(np.max(np.abs(w - exact)))
            if not error < TOLERANCE:
                print(
                    f"error: {name} ended {error:.3f} away from the least-squares solution "
                    f"(tolerance {TOLERANCE})",
                    file=sys.stderr,
                )
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
