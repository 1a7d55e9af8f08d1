"""A small convolutional network reads handwritten digits, with fgrad.

scikit-learn's ``load_digits`` holds 1797 greyscale digits of 8x8 pixels. This script

1. splits them into a training set and a held-out test set of 20% (one fixed shuffle,
   the same for every ``--seed``), scaled to ``[0, 1]`` and shaped ``(N, 8, 8, 1)``
   (``NHWC``);
2. builds a stax-style network, two convolution-ReLU-max-pool blocks and a dense layer::

       Conv(32, 3x3, SAME) - Relu - MaxPool(2x2)     8x8x1  -> 4x4x32
       Conv(64, 3x3, SAME) - Relu - MaxPool(2x2)     4x4x32 -> 2x2x64
       Flatten - Dense(10)                           256    -> 10 logits

3. trains it for 20 epochs with Adam on mini-batches of 64 (learning rate 3e-3 with a
   cosine decay), one ``fgrad.jit``-compiled step (loss, gradient and Adam update), and
   reports the test accuracy after every epoch (``--seed`` changes the initialisation
   and the batch order);
4. saves a checkpoint of the parameters (``fgrad.checkpoints``) and checks that the
   reloaded model predicts the same;
5. draws the training curves, the misclassified test digits labelled ``predicted/true``,
   the first layer's 32 filters and the confusion matrix.

It must reach 98% test accuracy (``REQUIRED_ACCURACY``; seeds 0-4 give 98.3-98.9%); the
training takes about 10 s of CPU time. OpenBLAS is limited to one thread before NumPy is
imported: these matrices are small, and on a busy two-core machine its worker threads
spin and made training ten times slower (set ``OPENBLAS_NUM_THREADS`` to override).
``--fast`` trains for two epochs only (for smoke tests: the accuracy check is skipped)::

    python examples/digits_cnn.py
    python examples/digits_cnn.py --fast --out /tmp/digits
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import matplotlib  # noqa: E402
import numpy as np  # noqa: E402

try:
    from sklearn.datasets import load_digits
except ImportError as error:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "examples/digits_cnn.py reads scikit-learn's digits: pip install scikit-learn"
    ) from error
try:
    from tqdm import tqdm
except ImportError as error:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "examples/digits_cnn.py draws its progress bar with tqdm, which is not installed: "
        'pip install -e ".[examples]"'
    ) from error

import fgrad  # noqa: E402
import fgrad.numpy as fnp  # noqa: E402
from fgrad import checkpoints, datasets, losses, nn, optim, random  # noqa: E402
from fgrad import plot as fplot  # noqa: E402

matplotlib.use("Agg")  # draw into files only: works without a display

import matplotlib.pyplot as plt  # noqa: E402

Params = Any  # a pytree of arrays
Array = np.ndarray

NUM_CLASSES = 10
TEST_FRACTION = 0.2
BATCH_SIZE = 64
LEARNING_RATE = 3e-3  # at the start; cosine decay to 2% of it by the last step
SPLIT_SEED = 0
REQUIRED_ACCURACY = 0.98

MODEL = nn.serial(
    nn.Conv(32, (3, 3), padding="SAME"),
    nn.Relu,
    nn.MaxPool((2, 2), strides=(2, 2)),
    nn.Conv(64, (3, 3), padding="SAME"),
    nn.Relu,
    nn.MaxPool((2, 2), strides=(2, 2)),
    nn.Flatten,
    nn.Dense(NUM_CLASSES),
)


class Settings(NamedTuple):
    """What ``--fast`` changes: fewer epochs and cheaper figures."""

    epochs: int
    dpi: int
    check_accuracy: bool


FULL = Settings(epochs=20, dpi=100, check_accuracy=True)
FAST = Settings(epochs=2, dpi=50, check_accuracy=False)


# ---------------------------------------------------------------------------
# 1. Data
# ---------------------------------------------------------------------------


def load_data() -> tuple[Array, Array, Array, Array]:
    """Train and test images ``(n, 8, 8, 1)`` in ``[0, 1]`` and their integer labels."""
    digits = load_digits()
    images = (digits.images / 16.0)[..., None]
    x_train, x_test, y_train, y_test = datasets.train_test_split(
        images, digits.target, test_size=TEST_FRACTION, random_state=SPLIT_SEED
    )
    return x_train, x_test, y_train, y_test


# ---------------------------------------------------------------------------
# 2-3. Model and training
# ---------------------------------------------------------------------------


def loss_fn(params: Params, x: Array, y: Array) -> Any:
    return losses.softmax_cross_entropy(MODEL.apply(params, x), y)


def predict(params: Params, x: Array) -> Array:
    return np.asarray(fnp.argmax(MODEL.apply(params, x), axis=-1))


def accuracy(params: Params, x: Array, y: Array) -> float:
    return float(np.mean(predict(params, x) == y))


def make_step(optimizer: optim.GradientTransformation) -> Any:
    """One training step, jitted: loss and gradient, Adam's update, the new parameters."""

    def step(params: Params, opt_state: Any, x: Array, y: Array) -> tuple[Params, Any, Any]:
        loss, grads = fgrad.value_and_grad(loss_fn)(params, x, y)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optim.apply_updates(params, updates), opt_state, loss

    return fgrad.jit(step)


class History(NamedTuple):
    step_losses: list[float]
    train_accuracy: list[float]
    test_accuracy: list[float]


def train(
    params: Params, data: tuple[Array, Array, Array, Array], epochs: int, key: Array
) -> tuple[Params, History]:
    x_train, x_test, y_train, y_test = data
    steps_per_epoch = len(y_train) // BATCH_SIZE
    schedule = optim.cosine_decay_schedule(LEARNING_RATE, epochs * steps_per_epoch, alpha=0.02)
    optimizer = optim.adam(schedule)
    opt_state = optimizer.init(params)
    step = make_step(optimizer)
    history = History([], [], [])
    with tqdm(total=epochs * steps_per_epoch, unit="step", disable=not sys.stderr.isatty()) as bar:
        for epoch in range(epochs):
            epoch_key = random.fold_in(key, epoch)
            for xb, yb in datasets.batches(epoch_key, x_train, y_train, BATCH_SIZE, drop_last=True):
                params, opt_state, loss = step(params, opt_state, xb, yb)
                history.step_losses.append(float(loss))
                bar.set_postfix(loss=f"{float(loss):.4f}", refresh=False)
                bar.update()
            history.train_accuracy.append(accuracy(params, x_train, y_train))
            history.test_accuracy.append(accuracy(params, x_test, y_test))
            epoch_loss = np.mean(history.step_losses[-steps_per_epoch:])
            tqdm.write(
                f"epoch {epoch + 1:2d}/{epochs}   loss {epoch_loss:.4f}"
                f"   train {history.train_accuracy[-1]:.2%}   test {history.test_accuracy[-1]:.2%}",
                file=sys.stdout,
            )
    stats = step.stats
    print(f"jit: {stats.traces} trace(s), {stats.replays} replays")
    return params, history


# ---------------------------------------------------------------------------
# 5. Figures
# ---------------------------------------------------------------------------


def curves_figure(history: History) -> plt.Figure:
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    fplot.loss_curve(history.step_losses, left, log_scale=True)
    left.set_ylabel("cross-entropy")
    left.set_title("Training loss per step")
    epochs = np.arange(1, len(history.test_accuracy) + 1)
    right.plot(epochs, history.train_accuracy, marker="o", label="train")
    right.plot(epochs, history.test_accuracy, marker="o", label="test")
    right.axhline(REQUIRED_ACCURACY, color="grey", ls="--", lw=1, label="98%")
    right.set_xlabel("epoch")
    right.set_ylabel("accuracy")
    right.set_ylim(min(0.8, min(history.test_accuracy)), 1.0)
    right.set_title("Accuracy")
    right.legend(loc="lower right")
    return fig


def misclassified_figure(x: Array, y: Array, predicted: Array) -> plt.Figure:
    wrong = np.flatnonzero(predicted != y)
    columns = 8
    rows = max(1, -(-len(wrong) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 1.2, rows * 1.4), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, i in zip(axes.ravel(), wrong):
        ax.imshow(x[i, :, :, 0], cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(f"{predicted[i]}/{y[i]}", fontsize=10, color="tab:red")
    fig.suptitle(f"Misclassified test digits ({len(wrong)} of {len(y)}), predicted/true")
    return fig


def filters_figure(params: Params) -> plt.Figure:
    W = np.asarray(params[0][0])  # (3, 3, 1, 32): HWIO
    fig, axes = plt.subplots(4, 8, figsize=(9, 4.8))
    limit = np.abs(W).max()
    for k, ax in enumerate(axes.ravel()):
        ax.imshow(W[:, :, 0, k], cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(str(k), fontsize=8)
    fig.suptitle(f"First convolution layer: the {W.shape[-1]} trained 3x3 filters")
    return fig


def confusion_figure(y: Array, predicted: Array) -> plt.Figure:
    counts = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=int)
    np.add.at(counts, (y, predicted), 1)
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.imshow(counts, cmap="Blues")
    for (i, j), n in np.ndenumerate(counts):
        if n:
            ax.text(j, i, str(n), ha="center", va="center", fontsize=8,
                    color="white" if n > counts.max() / 2 else "black")  # fmt: skip
    ax.set_xticks(range(NUM_CLASSES))
    ax.set_yticks(range(NUM_CLASSES))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("Confusion matrix (test set)")
    return fig


# ---------------------------------------------------------------------------
# Putting it together
# ---------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="PRNG seed (default: 0)")
    parser.add_argument(
        "--out", type=Path, default=Path("out/digits_cnn"),
        help="figure and checkpoint directory (default: out/digits_cnn)",
    )  # fmt: skip
    parser.add_argument("--fast", action="store_true", help="two epochs, for smoke tests")
    args = parser.parse_args(argv)
    if args.seed < 0:
        parser.error(f"--seed must be a non-negative integer, got {args.seed}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    settings = FAST if args.fast else FULL
    start = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    figures = fplot.FigureSaver(args.out, dpi=settings.dpi)
    k_init, k_batches = random.split(random.key(args.seed))

    print("== 1. Data ==")
    data = load_data()
    x_train, x_test, y_train, y_test = data
    print(f"{len(y_train)} training and {len(y_test)} test digits of 8x8 pixels")

    print("\n== 2. Model ==")
    out_shape, params = MODEL.init(k_init, (-1, 8, 8, 1))
    n_params = sum(leaf.size for leaf in fgrad.tree.tree_leaves(params))
    print(f"(conv-relu-pool) x2, dense: {n_params} parameters, output {out_shape}")

    print(f"\n== 3. Training: {settings.epochs} epochs of Adam, batches of {BATCH_SIZE} ==")
    params, history = train(params, data, settings.epochs, k_batches)
    predicted = predict(params, x_test)
    test_accuracy = float(np.mean(predicted == y_test))
    print(f"Test accuracy: {test_accuracy:.2%} ({int(np.sum(predicted != y_test))} errors)")

    print("\n== 4. Checkpoint ==")
    path = checkpoints.save(args.out / "digits_cnn.npz", {"params": params})
    restored = checkpoints.load(path)["params"]
    same = np.array_equal(predict(restored, x_test), predicted)
    print(f"Saved {Path(path).name}; reloaded model predicts the same: {same}")

    print("\n== 5. Figures ==")
    figures.save(curves_figure(history), "training_curves")
    figures.save(misclassified_figure(x_test, y_test, predicted), "misclassified")
    figures.save(filters_figure(params), "first_layer_filters")
    figures.save(confusion_figure(y_test, predicted), "confusion_matrix")
    print(f"Saved {len(figures.saved)} figures to {args.out}/")
    for saved in figures.saved:
        print(f"  {saved.name}")
    print(f"Done in {time.perf_counter() - start:.1f} s")

    if not same:
        print("error: the reloaded checkpoint predicts differently", file=sys.stderr)
        return 1
    if settings.check_accuracy and not test_accuracy >= REQUIRED_ACCURACY:
        print(
            f"error: test accuracy {test_accuracy:.2%} is below {REQUIRED_ACCURACY:.0%}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
