"""Beyond straight lines: a small ReLU network learns ``y = sin(5x)``, with fgrad.

A linear model can only ever draw a straight line. Stack a few dense layers
with a non-linear activation between them and the model can bend. This script
trains a multi-layer perceptron with three hidden layers of 16 ReLU units
(1-16-16-16-1, linear output) on 100 noiseless samples of ``sin(5x)`` for x in
``[1, 2)``:

1. make the data;
2. build the model as an ``(init, apply)`` pair and count its parameters;
3. train it for 200 full-batch gradient-descent steps on the mean squared
   error, with a learning rate that decays linearly from 0.1 to 0.01
   (``fgrad.optim.sgd`` driven by the schedule ``fgrad.optim.linear``);
4. plot the data, the untrained and the trained model, and the loss curve.

Two choices make this reliable. The inputs are standardised (zero mean, unit
variance) before they reach the network. Raw inputs in ``[1, 2)`` are all
positive, and with biases starting at zero every ReLU unit of the first layer
switches on or off at ``x = 0``, far from the data, so the network starts out
as a straight line and mostly stays one. The weights use ``nn.Dense``'s
default Glorot initialisation; weights drawn from ``U(-1, 1)`` make the
starting outputs so large that a learning rate of 0.1 often diverges.

Training prints the loss every 20 steps; when stderr is a terminal, a tqdm
progress bar is drawn there as well. Figures are written as numbered PNGs into
``--out``::

    python examples/sine_regression.py              # about two seconds
    python examples/sine_regression.py --fast       # smaller figures, for smoke tests
    python examples/sine_regression.py --seed 1 --out /tmp/sine
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

try:
    from tqdm import tqdm
except ImportError as error:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "examples/sine_regression.py draws its progress bar with tqdm, which is not installed: "
        'pip install -e ".[examples]"'
    ) from error

import fgrad
from fgrad import datasets, losses, nn, optim, random
from fgrad import plot as fplot

matplotlib.use("Agg")  # draw into files only: works without a display

import matplotlib.pyplot as plt  # noqa: E402

Params = Any  # a pytree of arrays
Array = np.ndarray

N_SAMPLES = 100
X_RANGE = (1.0, 2.0)
FREQUENCY = 5.0
HIDDEN = (16, 16, 16)
STEPS = 200
LEARNING_RATE = (0.1, 0.01)  # linear decay from the first value to the second
PRINT_EVERY = 20

# The trained model must fit the training data at least this well.
REQUIRED_LOSS = 0.05


class Settings(NamedTuple):
    """How the figures are drawn; ``--fast`` swaps in cheaper ones.

    Training is the same either way: 200 steps take a fraction of a second.
    """

    curve_points: int  # where the model's prediction curves are evaluated
    dpi: int  # resolution of the saved PNGs
    tidy_layout: bool  # fit labels and titles snugly (costs a second render per figure)


FULL = Settings(curve_points=400, dpi=100, tidy_layout=True)
FAST = Settings(curve_points=100, dpi=50, tidy_layout=False)


# ---------------------------------------------------------------------------
# 1. Data
# ---------------------------------------------------------------------------


def make_data(key: Array) -> tuple[Array, Array]:
    """Inputs ``x ~ U[1, 2)`` as a column ``(n, 1)`` and targets ``y = sin(5x)``, ``(n,)``."""
    x = random.uniform(key, (N_SAMPLES, 1), minval=X_RANGE[0], maxval=X_RANGE[1])
    return x, np.sin(FREQUENCY * x[:, 0])


# ---------------------------------------------------------------------------
# 2. The model
# ---------------------------------------------------------------------------


def mlp_layers(hidden: Sequence[int]) -> list[nn.Layer]:
    """Dense layers of the given widths with ReLU after each, then one linear output unit.

    No ReLU on the output: the targets go down to -1, and a ReLU output could
    never be negative.
    """
    layers: list[nn.Layer] = []
    for width in hidden:
        layers += [nn.Dense(width), nn.Relu]
    layers.append(nn.Dense(1))
    return layers


LAYERS = mlp_layers(HIDDEN)
MODEL = nn.serial(*LAYERS)  # params: one entry per layer, () for each Relu


def count_parameters(params: Params) -> int:
    return sum(leaf.size for leaf in fgrad.tree.tree_leaves(params))


def dead_units(params: Params, x: Array) -> int:
    """Hidden ReLU units that output zero for every training input.

    Such a unit passes no gradient back, so nothing ever revives it: the
    "dying ReLU" problem.
    """
    dead = 0
    h = x
    for layer, p in zip(LAYERS, params):
        h = layer.apply(p, h)
        if layer is nn.Relu:
            dead += int(np.sum(np.all(np.asarray(h) == 0.0, axis=0)))
    return dead


def predict(params: Params, x: Array) -> Array:
    """Model output for inputs ``x`` of shape ``(n, 1)``, as a vector ``(n,)``."""
    return MODEL.apply(params, x)[:, 0]


def mse_loss(params: Params, x: Array, y: Array) -> Array:
    return losses.mse(predict(params, x), y)


# ---------------------------------------------------------------------------
# 3. Training
# ---------------------------------------------------------------------------


def train(
    params: Params, x: Array, y: Array, steps: int = STEPS, print_every: int = PRINT_EVERY
) -> tuple[Params, list[float], list[float]]:
    """Full-batch gradient descent with a linearly decaying learning rate.

    Returns the trained parameters, the loss before each step, and the
    learning rate each step used.
    """
    schedule = optim.linear(*LEARNING_RATE, transition_steps=steps)
    optimizer = optim.sgd(schedule)
    opt_state = optimizer.init(params)
    loss_and_grads = fgrad.value_and_grad(mse_loss)

    history: list[float] = []
    rates: list[float] = []
    with tqdm(total=steps, unit="step", disable=not sys.stderr.isatty()) as progress:
        for step in range(steps):
            loss, grads = loss_and_grads(params, x, y)
            updates, opt_state = optimizer.update(grads, opt_state)
            params = optim.apply_updates(params, updates)
            history.append(float(loss))
            rates.append(schedule(step))
            progress.set_postfix(loss=f"{float(loss):.4f}", refresh=False)
            progress.update()
            if (step + 1) % print_every == 0:
                tqdm.write(
                    f"step {step + 1:4d}/{steps}   lr {rates[-1]:.4f}   loss {float(loss):.5f}",
                    file=sys.stdout,
                )
    return params, history, rates


# ---------------------------------------------------------------------------
# 4. Figures
# ---------------------------------------------------------------------------


def fit_figure(x: Array, y: Array, curve_x: Array, untrained: Array, trained: Array) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.scatter(x[:, 0], y, s=18, color="tab:blue", label="Data: sin(5x)", zorder=3)
    ax.plot(curve_x[:, 0], untrained, color="tab:orange", lw=2, label="Untrained model")
    ax.plot(curve_x[:, 0], trained, color="tab:green", lw=2, label="Trained model")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(f"MLP {'-'.join(map(str, (1, *HIDDEN, 1)))} after {STEPS} steps")
    ax.legend(loc="upper left", fontsize=9)
    return fig


def training_figure(history: list[float], rates: list[float]) -> plt.Figure:
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    fplot.loss_curve(history, left, log_scale=True)
    left.set_ylabel("mean squared error")
    left.set_title("Training loss")
    right.plot(np.arange(len(rates)), rates, color="tab:red")
    right.set_xlabel("step")
    right.set_ylabel("learning rate")
    right.set_ylim(0.0, 1.1 * max(rates))
    right.set_title("Learning rate: linear decay")
    return fig


# ---------------------------------------------------------------------------
# Putting it together
# ---------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="PRNG seed (default: 0)")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("out/sine_regression"),
        help="figure directory (default: out/sine_regression)",
    )
    parser.add_argument(
        "--fast", action="store_true", help="smaller, quicker figures, for smoke tests"
    )
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
    k_data, k_init = random.split(random.key(args.seed))

    print("== 1. Data ==")
    x, y = make_data(k_data)
    print(f"{len(y)} samples of y = sin({FREQUENCY:g} x), x in [{X_RANGE[0]:g}, {X_RANGE[1]:g})")
    # Statistics of the training inputs, applied to every input the model sees.
    scaler = datasets.Standardizer.fit(x)
    x_scaled = scaler.transform(x)

    print("\n== 2. Model ==")
    _, params = MODEL.init(k_init, (-1, 1))
    untrained = params  # parameters are immutable: this keeps the starting point
    print(f"MLP {'-'.join(map(str, (1, *HIDDEN, 1)))}: {count_parameters(params)} parameters")
    print(f"Initial loss: {float(mse_loss(params, x_scaled, y)):.5f}")

    lr_start, lr_end = LEARNING_RATE
    print(f"\n== 3. Training: {STEPS} steps, learning rate {lr_start} -> {lr_end} ==")
    params, history, rates = train(params, x_scaled, y)
    final_loss = float(mse_loss(params, x_scaled, y))
    print(f"Final loss: {final_loss:.5f}")
    print(
        f"Dead ReLU units (zero on every input): {dead_units(untrained, x_scaled)} before, "
        f"{dead_units(params, x_scaled)} after training, of {sum(HIDDEN)}"
    )

    curve_x = np.linspace(*X_RANGE, settings.curve_points)[:, None]
    curve_scaled = scaler.transform(curve_x)
    with plt.style.context("fivethirtyeight"):
        fig = fit_figure(
            x,
            y,
            curve_x,
            np.asarray(predict(untrained, curve_scaled)),
            np.asarray(predict(params, curve_scaled)),
        )
        figures.save(fig, "predictions")
        figures.save(training_figure(history, rates), "training")

    print(f"\nSaved {len(figures.saved)} figures to {args.out}/")
    for path in figures.saved:
        print(f"  {path.name}")
    print(f"Done in {time.perf_counter() - start:.1f} s")

    if not final_loss < REQUIRED_LOSS:
        print(
            f"error: the final loss {final_loss:.5f} is not below {REQUIRED_LOSS}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
