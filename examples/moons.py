"""Fundamentals of deep learning, from ``y = mx + b`` to a two-moons classifier, with fgrad.

A tutorial script in ten short steps. It builds neural networks out of plain
linear layers, shows what activation functions do to them, then learns to
classify the two-moons data set: first the textbook way (sigmoid everywhere,
mean squared error, full-batch gradient descent), then the way you would do it
for real (ReLU hidden layers, cross-entropy on logits, Adam, mini-batches and a
held-out test split).

Everything is functional, in the style of JAX: a model is a pair of pure
functions ``(init, apply)``, its parameters are a pytree (nested tuples of
arrays) that is never mutated, and gradients come from the transform
``fgrad.value_and_grad``. Randomness flows from one ``fgrad.random.key``.

Every figure is written as a numbered PNG into ``--out``::

    python examples/moons.py                 # full run, a few seconds
    python examples/moons.py --fast          # a smoke test, about two seconds
    python examples/moons.py --seed 0 --out /tmp/moons
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import matplotlib
import numpy as np

import fgrad
import fgrad.numpy as fnp
from fgrad import datasets, losses, nn, optim, random
from fgrad import plot as fplot

matplotlib.use("Agg")  # draw into files only: works without a display

import matplotlib.pyplot as plt  # noqa: E402

Params = Any  # a pytree of arrays
Array = np.ndarray

STYLE = "fivethirtyeight"
CMAP = "Spectral"
SCATTER = {"cmap": CMAP, "edgecolor": "k", "lw": 0.3}

# The well-done model must beat this on the held-out split in a full run.
REQUIRED_TEST_ACCURACY = 0.97


class Settings(NamedTuple):
    """How long to train each model; ``--fast`` swaps in tiny numbers."""

    line_steps: int  # gradient-descent steps for the straight-line fit
    gd_epochs: int  # full-batch epochs of the notebook's sigmoid classifier
    gd_print_every: int
    adam_epochs: int  # mini-batch epochs of the well-done classifier
    grid_resolution: int  # decision-boundary grid points per axis
    dpi: int  # resolution of the saved PNGs
    tidy_layout: bool  # fit labels and titles snugly (costs a second render per figure)


FULL = Settings(
    line_steps=1000,
    gd_epochs=1000,
    gd_print_every=100,
    adam_epochs=100,
    grid_resolution=200,
    dpi=100,
    tidy_layout=True,
)
FAST = Settings(
    line_steps=50,
    gd_epochs=50,
    gd_print_every=10,
    adam_epochs=5,
    grid_resolution=40,
    dpi=50,
    tidy_layout=False,
)


# ---------------------------------------------------------------------------
# 1. Linear regression: y = mx + b
# ---------------------------------------------------------------------------


def line(params: dict[str, Array], x: Array) -> Array:
    return params["slope"] * x + params["intercept"]


def line_loss(params: dict[str, Array], x: Array, y: Array) -> Array:
    return losses.mse(line(params, x), y)


def fit_line(x: Array, y: Array, steps: int, lr: float = 0.025) -> dict[str, Array]:
    """Least squares by gradient descent: fgrad differentiates ``line_loss``."""
    params = {"slope": np.array(0.0), "intercept": np.array(0.0)}
    loss_and_grads = fgrad.value_and_grad(line_loss)
    for _ in range(steps):
        _, grads = loss_and_grads(params, x, y)
        params = optim.sgd_update(params, grads, lr)
    return params


def linear_regression(key: Array, figures: fplot.FigureSaver, settings: Settings) -> None:
    print("== 1. Linear regression ==")
    x = np.linspace(0.0, 10.0, 100)
    y = 2.31531 * x + 0.23412 + random.normal(key, x.shape)

    params = fit_line(x, y, settings.line_steps)
    exact, *_ = np.linalg.lstsq(np.column_stack([x, np.ones_like(x)]), y, rcond=None)
    print(
        f"Gradient descent: y = {float(params['slope']):.3f} x + {float(params['intercept']):.3f}"
        f"   (closed form: y = {exact[0]:.3f} x + {exact[1]:.3f})"
    )

    fig, ax = plt.subplots(figsize=(5, 5))
    ax.scatter(x, y, label="Truth")
    ax.plot(x, line(params, x), label="Fit", color="k", ls="--")
    ax.set_title("Linear regression")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend()
    figures.save(fig, "linear_regression_fit")


# ---------------------------------------------------------------------------
# 2. Data that a straight line cannot separate
# ---------------------------------------------------------------------------


def load_moons() -> tuple[Array, Array]:
    """200 points in two interleaving half circles, labels 0 and 1."""
    return datasets.make_moons(200, noise=0.1, random_state=0)


def blobs_and_moons(figures: fplot.FigureSaver) -> None:
    print("\n== 2. Blobs and moons ==")
    blob_data, blob_labels = datasets.make_blobs(200, centers=[[0.0, 1], [0.0, -1]], random_state=0)
    moon_data, moon_labels = load_moons()
    print(f"Blobs: {blob_data.shape}, labels {np.bincount(blob_labels).tolist()} per class")
    print(f"Moons: {moon_data.shape}, labels {np.bincount(moon_labels).tolist()} per class")

    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 4))
    left.scatter(blob_data[:, 0], blob_data[:, 1], c=blob_labels, cmap=CMAP)
    left.set_title("Blobs")
    right.scatter(moon_data[:, 0], moon_data[:, 1], c=moon_labels, cmap=CMAP)
    right.set_title("Moons")
    figures.save(fig, "blobs_and_moons")


# ---------------------------------------------------------------------------
# 3. Neural networks are stacked linear layers
# ---------------------------------------------------------------------------


def linear_layer(x: Array, w: Array, b: Array) -> Array:
    """A fully connected layer on row-major data: ``(batch, in) @ (in, out) + (out,)``."""
    return x @ w + b


def mlp(hidden_dims: Sequence[int], out_dim: int, activation: nn.Layer | None = None) -> nn.Layer:
    """Fully connected layers of the given widths, ``activation`` after every one.

    Weights are drawn from a standard normal and biases start at zero, the
    naive initialisation the notebook uses (and the reason deep linear models
    blow up below; ``Dense``'s default, Glorot, scales them down).
    """
    layers: list[nn.Layer] = []
    for width in (*hidden_dims, out_dim):
        layers.append(nn.Dense(width, w_init=nn.normal(1.0), b_init=nn.zeros))
        if activation is not None:
            layers.append(activation)
    return nn.serial(*layers)


def init_and_apply(model: nn.Layer, key: Array, x: Array) -> Array:
    """Initialise ``model`` for inputs shaped like ``x`` and run it once."""
    _, params = model.init(key, (-1, x.shape[1]))
    return np.asarray(model.apply(params, x))


def describe(dims: Sequence[int]) -> str:
    return "→".join(str(d) for d in dims)


def stacked_linear_layers(key: Array) -> None:
    print("\n== 3. Stacked linear layers ==")
    k_x, k_w1, k_b1, k_w2, k_models = random.split(key, 5)
    x = random.normal(k_x, (1, 3))  # one sample with three features

    w1 = random.normal(k_w1, (3, 4))  # input length 3 -> hidden dimension 4
    b1 = random.normal(k_b1, (4,))  # one bias per hidden unit
    h = linear_layer(x, w1, b1)
    print(f"Hidden layer: \n{h}")
    print(f"Shape of hidden layer: \t{h.shape}")

    w2 = random.normal(k_w2, (4, 2))
    b2 = np.zeros(2)  # no bias on the output layer
    y = linear_layer(h, w2, b2)
    print(f"Output layer: \n{y}")
    print(f"Shape of output: \t{y.shape}")

    # The same computation as reusable (init, apply) models, ever deeper.
    print("\nOutput of linear models 3→...→2 on the same input:")
    depths = [(4,), (4, 10), (4, 10, 20), (4, 10, 20, 50)]
    for k, hidden in zip(random.split(k_models, len(depths)), depths):
        out = init_and_apply(mlp(hidden, 2), k, x)
        print(f"  {describe((3, *hidden, 2)):<16} {np.array2string(out, precision=2)}")
    print("The deeper the stack, the larger the outputs.")


# ---------------------------------------------------------------------------
# 4-6. Activation functions
# ---------------------------------------------------------------------------

SHALLOW = (4,)
DEEP = (4, 10, 30, 10, 4)


def model_and_sigmoid_figure(x: Array, y: Array, title: str) -> plt.Figure:
    """Left: a model's raw output; right: the same output through a sigmoid."""
    g = np.asarray(nn.sigmoid(y))
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 4))
    left.scatter(x[:, 0], y[:, 0], c=y[:, 0], **SCATTER)
    left.set_title("Model")
    left.set_xlabel("X")
    left.set_ylabel("Y")
    right.scatter(x[:, 0], g[:, 0], c=y[:, 0], **SCATTER)
    right.set_title("Sigmoid")
    right.set_xlabel("X")
    right.set_ylabel("G")
    fig.suptitle(title, fontsize=13)
    return fig


def sigmoid_on_outputs(x: Array, key: Array, figures: fplot.FigureSaver) -> None:
    k_shallow, k_deep = random.split(key)
    y = init_and_apply(mlp(SHALLOW, 1), k_shallow, x)
    fig = model_and_sigmoid_figure(x, y, f"Linear model {describe((1, *SHALLOW, 1))}")
    figures.save(fig, "shallow_model_sigmoid")

    y = init_and_apply(mlp(DEEP, 1), k_deep, x)
    fig = model_and_sigmoid_figure(x, y, f"Linear model {describe((1, *DEEP, 1))}")
    figures.save(fig, "deep_model_sigmoid")
    g = np.asarray(nn.sigmoid(y))
    saturated = np.mean((g < 0.01) | (g > 0.99))
    print(
        f"Deep linear model: |Y| up to {np.abs(y).max():.0f}; sigmoid saturated for {saturated:.0%}"
    )


def sigmoid_between_layers(x: Array, key: Array, figures: fplot.FigureSaver) -> None:
    y = init_and_apply(mlp(DEEP, 1, nn.Sigmoid), key, x)
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.scatter(x[:, 0], y[:, 0], c=y[:, 0], **SCATTER)
    ax.set_title("Model with sigmoid activation")
    ax.set_xlabel("X")
    ax.set_ylabel("Y")
    figures.save(fig, "deep_model_with_sigmoid_activation")
    print(f"With a sigmoid after every layer, Y stays within [{y.min():.3f}, {y.max():.3f}]")


def elementwise(fn: Callable[[Array], Array]) -> nn.Layer:
    """Turn any element-wise function into a parameter-free layer."""

    def init(key: Array, input_shape: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[()]]:
        return input_shape, ()

    def apply(params: tuple[()], x: Array, *, key: Array | None = None) -> Array:
        return fn(x)

    return nn.Layer(init, apply)


# (title, activation layer, note drawn on the panel)
ACTIVATIONS: list[tuple[str, nn.Layer, str]] = [
    ("Sigmoid", nn.Sigmoid, ""),
    # Softmax makes each sample's units sum to one. With a single output unit,
    # that unit is the whole sum: the model's output is exactly 1, whatever X.
    ("Softmax", nn.Softmax, "one output unit:\nsoftmax is always 1"),
    ("tanh", nn.Tanh, ""),
    ("cos", elementwise(fnp.cos), ""),
    ("ReLU", nn.Relu, ""),
]


def activation_gallery(x: Array, key: Array, figures: fplot.FigureSaver) -> None:
    fig, axes = plt.subplots(1, len(ACTIVATIONS), figsize=(18, 4))
    keys = random.split(key, len(ACTIVATIONS))
    for ax, k, (name, activation, note) in zip(axes, keys, ACTIVATIONS):
        y = init_and_apply(mlp(DEEP, 1, activation), k, x)
        ax.scatter(x[:, 0], y[:, 0], c=x[:, 0], **SCATTER)  # colour tracks X across panels
        ax.set_title(name)
        if note:
            ax.text(0.5, 0.3, note, transform=ax.transAxes, ha="center", fontsize=12)
        ax.set_xlabel("X")
        ax.set_ylabel("Y")
    fig.suptitle(f"Same input, {describe((1, *DEEP, 1))} model, different activations", fontsize=14)
    figures.save(fig, "activation_gallery")


def activation_functions(key: Array, figures: fplot.FigureSaver) -> None:
    print("\n== 4-6. Activation functions ==")
    k_x, k_out, k_between, k_gallery = random.split(key, 4)
    x = random.normal(k_x, (100, 1))  # 100 samples, one feature each
    sigmoid_on_outputs(x, k_out, figures)
    sigmoid_between_layers(x, k_between, figures)
    activation_gallery(x, k_gallery, figures)


# ---------------------------------------------------------------------------
# 7-9. Learning: a cost function and gradient descent
# ---------------------------------------------------------------------------

CLASSIFIER = mlp((4, 10, 4), 1, nn.Sigmoid)  # 2→4→10→4→1, sigmoid after every layer


def predict_proba(params: Params, X: Array) -> Array:
    """Probability of class 1 for each row of ``X``, shape ``(n,)``."""
    return CLASSIFIER.apply(params, X)[:, 0]


def mse_cost(params: Params, X: Array, y: Array) -> Array:
    return losses.mse(predict_proba(params, X), y)


def accuracy(probabilities: Array, labels: Array) -> float:
    return float(np.mean((np.asarray(probabilities) > 0.5) == labels))


def gradient_descent(
    params: Params, X: Array, y: Array, epochs: int, lr: float, print_every: int
) -> Params:
    """Full-batch gradient descent: each epoch returns new parameters."""
    cost_and_grads = fgrad.value_and_grad(mse_cost)
    for epoch in range(1, epochs + 1):
        cost, grads = cost_and_grads(params, X, y)
        if epoch % print_every == 0:
            print(f"Loss for epoch {epoch}: {float(cost):.4f}")
        params = optim.sgd_update(params, grads, lr)
    return params


def predictions_figure(X: Array, y: Array, probabilities: Array) -> plt.Figure:
    panels = [
        ("True Labels", y),
        ("Predicted", probabilities),
        ("Rounded Predictions", np.round(probabilities)),
    ]
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.5))
    for ax, (title, colour) in zip(axes, panels):
        ax.scatter(X[:, 0], X[:, 1], c=colour, cmap=CMAP, lw=0.3, vmin=0.0, vmax=1.0)
        ax.set_title(title)
    return fig


def learn_with_gradient_descent(
    key: Array, figures: fplot.FigureSaver, settings: Settings
) -> float:
    print("\n== 7-9. Learning the moons: sigmoid + MSE + gradient descent ==")
    X, y = load_moons()
    print(X.shape)  # row-major: one row per sample, one column per feature
    print(y.shape)

    _, params = CLASSIFIER.init(key, (-1, 2))
    print(f"Cost: {float(mse_cost(params, X, y)):.3f}")

    params = gradient_descent(
        params, X, y, epochs=settings.gd_epochs, lr=1.0, print_every=settings.gd_print_every
    )
    probabilities = np.asarray(predict_proba(params, X))
    figures.save(predictions_figure(X, y, probabilities), "moons_predictions")

    train_accuracy = accuracy(probabilities, y)
    print(
        f"Train accuracy (notebook model: sigmoid + MSE + gradient descent): {train_accuracy:.1%}"
    )
    return train_accuracy


# ---------------------------------------------------------------------------
# 10. The same task done well
# ---------------------------------------------------------------------------

# Hidden ReLU layers with He initialisation; the last layer outputs a logit
# (no sigmoid), which the loss turns into a probability stably.
WELL_DONE = nn.serial(
    nn.Dense(16, w_init=nn.he_normal()),
    nn.Relu,
    nn.Dense(16, w_init=nn.he_normal()),
    nn.Relu,
    nn.Dense(1),
)


def logits(params: Params, X: Array) -> Array:
    return WELL_DONE.apply(params, X)[:, 0]


def bce_loss(params: Params, X: Array, y: Array) -> Array:
    return losses.sigmoid_binary_cross_entropy(logits(params, X), y)


def train_with_adam(
    key: Array,
    X_train: Array,
    y_train: Array,
    X_test: Array,
    y_test: Array,
    epochs: int,
    batch_size: int = 32,
    learning_rate: float = 0.01,
) -> tuple[Params, dict[str, list[float]]]:
    """Mini-batch Adam; returns the parameters and per-epoch train/test loss."""
    k_init, k_batches = random.split(key)
    _, params = WELL_DONE.init(k_init, (-1, X_train.shape[1]))
    optimizer = optim.adam(learning_rate)
    opt_state = optimizer.init(params)
    loss_and_grads = fgrad.value_and_grad(bce_loss)

    history: dict[str, list[float]] = {"train": [], "test": []}
    for epoch in range(epochs + 1):
        if epoch > 0:  # epoch 0 records the loss of the untrained model
            epoch_key = random.fold_in(k_batches, epoch)  # a new shuffle every epoch
            for X_batch, y_batch in datasets.batches(epoch_key, X_train, y_train, batch_size):
                _, grads = loss_and_grads(params, X_batch, y_batch)
                updates, opt_state = optimizer.update(grads, opt_state, params)
                params = optim.apply_updates(params, updates)
        history["train"].append(float(bce_loss(params, X_train, y_train)))
        history["test"].append(float(bce_loss(params, X_test, y_test)))
    return params, history


def decision_boundary_figure(
    predict: Callable[[Array], Array], splits: dict[str, tuple[Array, Array]], resolution: int
) -> plt.Figure:
    fig, axes = plt.subplots(1, len(splits), figsize=(12, 5))
    for ax, (name, (X, y)) in zip(axes, splits.items()):
        fplot.decision_boundary(predict, X, y, ax, resolution=resolution, threshold=0.5)
        ax.set_title(f"{name}: {len(y)} points, accuracy {accuracy(predict(X), y):.1%}")
    fig.suptitle("ReLU network trained with Adam: P(class 1) and the 0.5 boundary", fontsize=14)
    return fig


def loss_curve_figure(history: dict[str, list[float]]) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(7, 4.5))
    fplot.loss_curve(history, ax, log_scale=True)
    ax.set_xlabel("epoch")
    ax.set_ylabel("binary cross-entropy")
    ax.set_title("Loss of the well-done model")
    return fig


def learn_it_well(
    key: Array, figures: fplot.FigureSaver, settings: Settings
) -> tuple[float, float]:
    print("\n== 10. The same task done well: ReLU + cross-entropy + Adam + mini-batches ==")
    k_split, k_train = random.split(key)
    X, y = load_moons()
    X_train, X_test, y_train, y_test = datasets.train_test_split(
        X, y, test_size=0.25, random_state=k_split
    )
    # Scaling statistics come from the training split only: the test split
    # must stay unseen until it is scored.
    scaler = datasets.Standardizer.fit(X_train)
    params, history = train_with_adam(
        k_train,
        scaler.transform(X_train),
        y_train,
        scaler.transform(X_test),
        y_test,
        epochs=settings.adam_epochs,
    )

    def predict(points: Array) -> Array:
        """P(class 1) for points in the original (unscaled) coordinates."""
        return np.asarray(nn.sigmoid(logits(params, scaler.transform(points))))

    splits = {"Train": (X_train, y_train), "Test": (X_test, y_test)}
    figures.save(
        decision_boundary_figure(predict, splits, settings.grid_resolution), "decision_boundary"
    )
    figures.save(loss_curve_figure(history), "loss_curve")

    train_accuracy = accuracy(predict(X_train), y_train)
    test_accuracy = accuracy(predict(X_test), y_test)
    print(f"Final losses: train {history['train'][-1]:.4f}, test {history['test'][-1]:.4f}")
    print(f"Train accuracy (well-done model: ReLU + cross-entropy + Adam): {train_accuracy:.1%}")
    print(f"Test accuracy (well-done model, {len(y_test)} held-out points): {test_accuracy:.1%}")
    return train_accuracy, test_accuracy


# ---------------------------------------------------------------------------
# Putting it together
# ---------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=42, help="PRNG seed (default: 42)")
    parser.add_argument(
        "--out", type=Path, default=Path("out/moons"), help="figure directory (default: out/moons)"
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
    k_line, k_layers, k_activations, k_gd, k_well = random.split(random.key(args.seed), 5)

    with plt.style.context(STYLE), np.printoptions(precision=4, suppress=True):
        linear_regression(k_line, figures, settings)
        blobs_and_moons(figures)
        stacked_linear_layers(k_layers)
        activation_functions(k_activations, figures)
        learn_with_gradient_descent(k_gd, figures, settings)
        _, test_accuracy = learn_it_well(k_well, figures, settings)

    print(f"\nSaved {len(figures.saved)} figures to {args.out}/")
    for path in figures.saved:
        print(f"  {path.name}")
    print(f"Done in {time.perf_counter() - start:.1f} s")

    if not args.fast and test_accuracy < REQUIRED_TEST_ACCURACY:
        print(
            f"error: the well-done model reached only {test_accuracy:.1%} test accuracy "
            f"(need at least {REQUIRED_TEST_ACCURACY:.0%})",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
