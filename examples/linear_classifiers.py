"""Linear classifiers, gradient checks, initialisation and dropout, with fgrad.

A walk through the CS231n notes on linear classification and on training
neural networks, with fgrad computing every gradient:

1. a linear score function ``s = x W + b`` on three Gaussian blobs;
2. the multiclass SVM (hinge) loss and the softmax cross-entropy loss, each
   with an L2 penalty, compared on a few score vectors;
3. both classifiers trained by gradient descent, with decision-region plots;
4. gradient checks done properly: centred differences in float64, relative
   errors read against the usual thresholds, a bug caught, and what a kink of
   the hinge does to the check;
5. weight initialisation: activation statistics through a deep ReLU network
   with He initialisation and with weights that are too small;
6. dropout: what it does while training and that it is the identity at
   evaluation.

Every figure is written as a numbered PNG into ``--out``::

    python examples/linear_classifiers.py              # a few seconds
    python examples/linear_classifiers.py --fast       # a smoke test
    python examples/linear_classifiers.py --seed 1 --out /tmp/linear

The script exits with status 1 if a gradient check fails where it should pass
(or passes where it should fail), or (in a full run) if a classifier is poor.
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
from fgrad.checking import DEFAULT_STEP, DEFAULT_TINY, GradientCheckError, gradient_errors

matplotlib.use("Agg")  # draw into files only: works without a display

import matplotlib.pyplot as plt  # noqa: E402

Params = Any  # a pytree of arrays
Array = np.ndarray

NUM_CLASSES = 3
REG = 1e-2  # L2 strength: loss + REG * 0.5 * sum(W**2)
LEARNING_RATE = 0.5
# In a full run both classifiers must reach this accuracy on the held-out split.
REQUIRED_TEST_ACCURACY = 0.9

# CS231n's reading of a relative error |a - n| / max(|a|, |n|, tiny).
THRESHOLDS = [
    (1e-7, "good"),
    (1e-4, "fine with kinks, too high without"),
    (1e-2, "uncomfortable"),
    (np.inf, "probably wrong"),
]


class Settings(NamedTuple):
    """Sizes of everything; ``--fast`` swaps in tiny numbers."""

    train_steps: int  # full-batch gradient-descent steps per classifier
    print_every: int
    deep_width: int  # units per layer of the initialisation experiment
    deep_samples: int  # inputs pushed through it
    grid_resolution: int  # decision-region grid points per axis
    dpi: int  # resolution of the saved PNGs
    tidy_layout: bool  # fit labels and titles snugly (costs a second render per figure)


FULL = Settings(
    train_steps=300,
    print_every=50,
    deep_width=300,
    deep_samples=300,
    grid_resolution=200,
    dpi=100,
    tidy_layout=True,
)
FAST = Settings(
    train_steps=30,
    print_every=10,
    deep_width=100,
    deep_samples=200,
    grid_resolution=40,
    dpi=60,
    tidy_layout=False,
)


def verdict(error: float) -> str:
    for bound, meaning in THRESHOLDS:
        if error < bound:
            return meaning
    return THRESHOLDS[-1][1]


# ---------------------------------------------------------------------------
# 1. Data and the score function
# ---------------------------------------------------------------------------


class Data(NamedTuple):
    X_train: Array  # standardised with the training split's statistics
    y_train: Array
    X_test: Array
    y_test: Array
    scaler: datasets.Standardizer


def load_blobs(key: Array) -> Data:
    X, y = datasets.make_blobs(300, centers=NUM_CLASSES, cluster_std=1.5, random_state=3)
    X_train, X_test, y_train, y_test = datasets.train_test_split(
        X, y, test_size=0.25, random_state=key
    )
    # Preprocessing statistics come from the training split only.
    scaler = datasets.Standardizer.fit(X_train)
    return Data(scaler.transform(X_train), y_train, scaler.transform(X_test), y_test, scaler)


# One dense layer: W has shape (2, 3), b shape (3,). CS231n's W = 0.01 * randn.
LINEAR = nn.Dense(NUM_CLASSES, w_init=nn.normal(0.01))


def scores(params: Params, X: Array) -> Array:
    """Class scores, one row per example: ``X @ W + b``."""
    return LINEAR.apply(params, X)


def accuracy(params: Params, X: Array, y: Array) -> float:
    return float(np.mean(np.argmax(scores(params, X), axis=1) == y))


def data_and_scores(data: Data, params: Params) -> None:
    print("== 1. Three blobs and a linear score function ==")
    counts = np.bincount(data.y_train, minlength=NUM_CLASSES).tolist()
    print(f"Train: {data.X_train.shape}, labels per class {counts}; test: {data.X_test.shape}")
    W, b = params
    print(f"W {W.shape} ~ 0.01 * N(0, 1), b {b.shape} = 0: {W.size + b.size} parameters")
    print(f"Scores of the first two training points:\n{scores(params, data.X_train[:2])}")
    ones = np.column_stack([data.X_train[:2], np.ones(2)])
    folded = ones @ np.vstack([W, b])
    print(
        f"Bias trick (append a 1 to x, b as the last row of W) gives the same: "
        f"{np.allclose(folded, scores(params, data.X_train[:2]))}"
    )


# ---------------------------------------------------------------------------
# 2. Two losses
# ---------------------------------------------------------------------------


def svm_loss(params: Params, X: Array, y: Array, reg: float = REG) -> Array:
    """Mean multiclass hinge loss (margin 1) plus ``reg * 0.5 * ||W||**2``."""
    W, _ = params
    return losses.multiclass_hinge(scores(params, X), y) + reg * losses.l2_penalty(W)


def softmax_loss(params: Params, X: Array, y: Array, reg: float = REG) -> Array:
    """Mean cross-entropy of ``softmax(scores)`` plus ``reg * 0.5 * ||W||**2``."""
    W, _ = params
    return losses.softmax_cross_entropy(scores(params, X), y) + reg * losses.l2_penalty(W)


LOSSES: dict[str, Callable[..., Array]] = {"SVM": svm_loss, "softmax": softmax_loss}


def compare_losses() -> None:
    print("\n== 2. The SVM loss and the softmax loss ==")
    notes = np.array([[3.2, 5.1, -1.7]])
    hinge = float(losses.multiclass_hinge(notes, np.array([0])))
    print(
        f"Scores {notes[0].tolist()}, correct class 0: hinge loss "
        f"max(0, 5.1 - 3.2 + 1) + max(0, -1.7 - 3.2 + 1) = {hinge:.1f}"
    )
    print("Correct class 0 in each row; the SVM is satisfied once every margin exceeds 1,")
    print("the softmax loss keeps asking for more:")
    print(f"  {'scores':<22} {'SVM':>6} {'softmax':>9}")
    for row in ([10.0, -2.0, 3.0], [10.0, 9.0, 9.0], [10.0, -100.0, -100.0], [1.0, 2.0, 3.0]):
        s = np.array([row])
        label = np.array([0])
        svm = float(losses.multiclass_hinge(s, label))
        ce = float(losses.softmax_cross_entropy(s, label))
        print(f"  {str(row):<22} {svm:6.2f} {ce:9.2e}")
    W = np.array([[1.0, -2.0, 0.5]])
    g = fgrad.grad(lambda W: REG * losses.l2_penalty(W))(W)
    print(f"L2 term: the gradient of reg * 0.5 * ||W||**2 is reg * W: {np.allclose(g, REG * W)}")


# ---------------------------------------------------------------------------
# 3. Training both classifiers
# ---------------------------------------------------------------------------


def train(
    loss: Callable[..., Array], params: Params, data: Data, steps: int, print_every: int
) -> tuple[Params, list[float]]:
    """Full-batch gradient descent on ``loss``; returns new parameters and the losses.

    Prints the loss every ``print_every`` steps (never for 0).
    """
    loss_and_grads = fgrad.value_and_grad(loss)
    history = []
    for step in range(steps + 1):
        value, grads = loss_and_grads(params, data.X_train, data.y_train)
        history.append(float(value))
        if print_every and step % print_every == 0:
            print(f"  step {step:4d}  loss {float(value):.4f}")
        if step < steps:
            params = optim.sgd_update(params, grads, LEARNING_RATE)
    return params, history


def decision_regions_figure(trained: dict[str, Params], data: Data, resolution: int) -> plt.Figure:
    fig, axes = plt.subplots(1, len(trained), figsize=(6 * len(trained), 5))
    X_raw = data.scaler.inverse_transform(data.X_train)
    for ax, (name, params) in zip(axes, trained.items()):

        def predict(points: Array, params: Params = params) -> Array:
            return np.asarray(scores(params, data.scaler.transform(points)))

        fplot.decision_boundary(predict, X_raw, data.y_train, ax, resolution=resolution)
        X_test_raw = data.scaler.inverse_transform(data.X_test)
        ax.scatter(
            X_test_raw[:, 0],
            X_test_raw[:, 1],
            marker="x",
            color="k",
            s=18,
            lw=0.8,
            label="test points",
        )
        ax.legend(loc="lower right", fontsize=9)
        ax.set_title(
            f"{name} loss: train {accuracy(params, data.X_train, data.y_train):.1%}, "
            f"test {accuracy(params, data.X_test, data.y_test):.1%}"
        )
    fig.suptitle("Linear classifiers on three blobs: regions of the highest score", fontsize=13)
    return fig


def training_loss_figure(histories: dict[str, list[float]]) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(6.5, 4))
    fplot.loss_curve(histories, ax)
    ax.set_xlabel("gradient-descent step")
    ax.set_ylabel("training loss (data + L2)")
    ax.set_title("Training the two linear classifiers")
    ax.grid(alpha=0.3, which="both")
    return fig


def train_both(
    params: Params, data: Data, figures: fplot.FigureSaver, settings: Settings
) -> dict[str, Params]:
    print(f"\n== 3. Training both, learning rate {LEARNING_RATE}, L2 strength {REG} ==")
    trained = {}
    histories = {}
    for name, loss in LOSSES.items():
        print(f"{name}:")
        trained[name], histories[name] = train(
            loss, params, data, settings.train_steps, settings.print_every
        )
        print(
            f"  {name} accuracy: train {accuracy(trained[name], data.X_train, data.y_train):.1%}, "
            f"test {accuracy(trained[name], data.X_test, data.y_test):.1%}"
        )
    figures.save(
        decision_regions_figure(trained, data, settings.grid_resolution), "decision_regions"
    )
    figures.save(training_loss_figure(histories), "training_loss")
    return trained


# ---------------------------------------------------------------------------
# 4. Gradient checks
# ---------------------------------------------------------------------------


def print_errors(errors: dict[str, float]) -> float:
    """Print each check's worst relative error with its reading; return the worst of all."""
    names = {"[0]": "W", "[1]": "b"}
    for key, error in errors.items():
        leaf = names.get(key[-3:], key)
        print(f"    d/d{leaf}: relative error {error:.1e}  ({verdict(error)})")
    return max(errors.values())


def relative_error(analytic: Array, numeric: Array) -> float:
    scale = np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), DEFAULT_TINY)
    return float(np.max(np.abs(analytic - numeric) / scale))


def one_sided_versus_centred(loss: Callable[[Array], Array], W: Array, h: float) -> None:
    """The numerical gradient of ``loss`` at ``W`` both ways, against fgrad's."""
    analytic = fgrad.grad(loss)(W)
    base = float(loss(W))
    one_sided = np.zeros_like(W)
    centred = np.zeros_like(W)
    for i in np.ndindex(W.shape):
        step = np.zeros_like(W)
        step[i] = h
        plus, minus = float(loss(W + step)), float(loss(W - step))
        one_sided[i] = (plus - base) / h
        centred[i] = (plus - minus) / (2 * h)
    print(f"  Numerical gradients by hand, h = {h:.0e}, against fgrad's:")
    print(
        f"    one-sided (f(x+h) - f(x)) / h:    relative error "
        f"{relative_error(analytic, one_sided):.1e}  (error ~ h)"
    )
    print(
        f"    centred (f(x+h) - f(x-h)) / 2h:   relative error "
        f"{relative_error(analytic, centred):.1e}  (error ~ h**2)"
    )


def softmax_loss_with_gradient_by_hand(X: Array, y: Array, forget_mean: bool) -> Any:
    """The softmax loss of ``W`` (no bias) with a hand-written backward pass.

    With ``forget_mean`` the backward pass has a classic bug: it sums over the
    examples where the forward pass averages.
    """
    one_hot = np.eye(NUM_CLASSES)[y]

    def value(W: Any) -> Any:
        return losses.softmax_cross_entropy(X @ W, y)

    def forward(W: Any) -> tuple[Any, Any]:
        return value(W), W  # the residual saved for the backward pass is W

    def backward(W: Any, g: Any) -> tuple[Any]:
        probabilities = nn.softmax(X @ W, axis=-1)
        dscores = probabilities - one_hot
        if not forget_mean:
            dscores = dscores / len(y)
        return (g * (X.T @ dscores),)

    loss = fgrad.custom_vjp(value)  # a new primitive with the VJP below
    loss.defvjp(forward, backward)
    return loss


def margins_within(params: Params, X: Array, y: Array, h: float) -> tuple[int, int]:
    """How many hinge margins ``s_j - s_y + 1`` lie within ``h`` of the kink at 0, of how many."""
    s = np.asarray(scores(params, X))
    correct = s[np.arange(len(s)), y][:, None]
    margins = (s - correct + 1.0)[np.arange(NUM_CLASSES) != y[:, None]]
    return int(np.sum(np.abs(margins) < h)), margins.size


def check(name: str, loss: Callable[[Params], Array], params: Params) -> float:
    """Relative errors of fgrad's gradient of ``loss`` (fgrad.checking.gradient_errors)."""
    print(f"  {name}:")
    # rtol=inf: report every error instead of raising at the first one above 1e-7.
    errors = gradient_errors(loss, (params,), order=1, modes=("rev",), rtol=np.inf)
    return print_errors(errors)


def check_the_losses(
    params: Params, trained: dict[str, Params], data: Data, burn_in: int
) -> list[str]:
    """Gradient checks of both losses; returns what went unexpectedly."""
    problems = []
    # Few data points: fewer kinks of the hinge near the point, and a quick check.
    X, y = data.X_train[:20], data.y_train[:20]
    h = DEFAULT_STEP
    worst = check(
        "softmax loss at the trained parameters, 20 points",
        lambda p: softmax_loss(p, X, y),
        trained["softmax"],
    )
    if worst > 1e-7:
        problems.append(f"the softmax loss failed its gradient check ({worst:.1e})")

    early, _ = train(svm_loss, params, data, burn_in, print_every=0)
    near, total = margins_within(early, X, y, h)
    worst = check(
        f"SVM loss after {burn_in} steps of training, 20 points ({near} of {total} margins "
        f"within h = {h:.0e} of a kink)",
        lambda p: svm_loss(p, X, y),
        early,
    )
    if near == 0 and worst > 1e-7:
        problems.append(f"the SVM loss failed its gradient check away from kinks ({worst:.1e})")
    near, total = margins_within(trained["SVM"], X, y, h)
    check(
        f"SVM loss at the trained parameters, 20 points ({near} of {total} margins within h)",
        lambda p: svm_loss(p, X, y),
        trained["SVM"],
    )
    if near:
        print("  At the SVM's optimum, support vectors sit on the margin, i.e. on a kink. A")
        print("  difference straddling a kink mixes the slopes of both sides, so it is the")
        print("  estimate, not the gradient, that is off. Check at a characteristic point (after")
        print("  a short burn-in) where no kink is within h, as above.")

    W = trained["softmax"][0]
    one_sided_versus_centred(lambda W: softmax_loss((W, np.zeros(NUM_CLASSES)), X, y), W, 1e-5)
    for forget_mean in (False, True):
        loss = softmax_loss_with_gradient_by_hand(X, y, forget_mean)
        which = "with a bug (sums where it should average)" if forget_mean else "correct"
        try:
            fgrad.check_grads(loss, (W,), order=1, modes=("rev",))
            raised = False
        except GradientCheckError:
            raised = True
        errors = gradient_errors(loss, (W,), order=1, modes=("rev",), rtol=np.inf)
        worst = max(errors.values())
        outcome = "raises GradientCheckError" if raised else "passes"
        print(f"  Hand-written backward pass, {which}: check_grads {outcome};")
        print(f"    relative error {worst:.1e} ({verdict(worst)})")
        if raised != forget_mean:
            problems.append(f"check_grads on the {which} hand-written gradient: {outcome}")
    return problems


def hinge_kink() -> list[str]:
    """A margin just inside the finite-difference step: the check trips over the kink."""
    problems = []
    x = np.array([[1.0, 0.0]])
    y = np.array([0])
    W = np.zeros((2, NUM_CLASSES))
    margin = 2e-4
    b = np.array([0.0, -1.0 + margin, -3.0])  # class 1 beats the margin by 2e-4; class 2 is far

    def loss(params: Params) -> Array:
        return losses.multiclass_hinge(scores(params, x), y)

    print(
        f"  One example, correct class 0, score margin of class 1: {margin:+.0e}; "
        "the hinge max(0, margin) bends at 0."
    )
    for h in (1e-3, 1e-6):
        crossed = (margin - h < 0) != (margin + h < 0)
        errors = gradient_errors(loss, ((W, b),), order=1, modes=("rev",), eps=h, rtol=np.inf)
        worst = max(errors.values())
        print(
            f"  step h = {h:.0e}: f(x-h) and f(x+h) "
            f"{'fall on different sides of the kink' if crossed else 'stay on one side'};"
            f" relative error {worst:.1e} ({verdict(worst)})"
        )
        if crossed != (worst > 1e-2):
            problems.append(f"hinge kink check with h = {h}: relative error {worst:.1e}")
    at_kink = np.array([0.0, -1.0, -3.0])
    db = fgrad.grad(loss)((W, at_kink))[1]
    print(f"  Exactly on the kink, fgrad's subgradient for b is {db.tolist()}: the mean of the two")
    print("  one-sided slopes, which is also what a centred difference measures there.")
    return problems


def gradient_checks(params: Params, trained: dict[str, Params], data: Data) -> list[str]:
    print("\n== 4. Gradient checks ==")
    print("fgrad.check_grads compares fgrad's gradient with centred differences in float64")
    print("(steps h and h/2, Richardson-extrapolated) by the relative error")
    print("|a - n| / max(|a|, |n|, 1e-4). Reading it:")
    lower = 0.0
    for bound, meaning in THRESHOLDS:
        span = (
            f"< {bound:.0e}"
            if lower == 0
            else (f"> {lower:.0e}" if bound == np.inf else f"{lower:.0e} .. {bound:.0e}")
        )
        print(f"  {span:<16} {meaning}")
        lower = bound
    problems = check_the_losses(params, trained, data, burn_in=10)
    print("A kink of the hinge, crossed by the finite difference:")
    problems += hinge_kink()
    return problems


# ---------------------------------------------------------------------------
# 5. Weight initialisation
# ---------------------------------------------------------------------------

DEPTH = 10
INITIALISERS = {"he_normal: std sqrt(2 / fan_in)": nn.he_normal(), "normal(0.01)": nn.normal(0.01)}


def deep_relu_activations(weights: list[Array], x: Array) -> list[Array]:
    """The hidden activations of a deep ReLU network without biases, layer by layer."""
    activations = []
    for W in weights:
        x = nn.relu(x @ W)
        activations.append(x)
    return activations


def weight_gradient_norms(weights: list[Array], x: Array, direction: Array) -> list[float]:
    """Norms of the gradients of a linear read-out of the last layer w.r.t. each layer's W."""

    def readout(weights: list[Array]) -> Array:
        return fnp.mean(deep_relu_activations(weights, x)[-1] @ direction)

    return [float(np.linalg.norm(g)) for g in fgrad.grad(readout)(weights)]


def initialisation(key: Array, figures: fplot.FigureSaver, settings: Settings) -> None:
    print(f"\n== 5. Initialisation: {DEPTH} ReLU layers of {settings.deep_width} units ==")
    width = settings.deep_width
    k_x, k_v, k_w = random.split(key, 3)
    x = random.normal(k_x, (settings.deep_samples, width))
    direction = random.normal(k_v, (width,))
    stats = {}
    gradients = {}
    for name, init in INITIALISERS.items():
        weights = [init(k, (width, width)) for k in random.split(k_w, DEPTH)]
        activations = [np.asarray(a) for a in deep_relu_activations(weights, x)]
        stats[name] = activations
        stds = " ".join(f"{a.std():.1e}" for a in activations)
        print(f"{name}\n  activation std by layer: {stds}")
        norms = weight_gradient_norms(weights, x, direction)
        gradients[name] = norms
        print(f"  gradient norm w.r.t. W, first layer {norms[0]:.1e}, last layer {norms[-1]:.1e}")
    print("Too-small weights shrink the signal at every layer: by the last layer the activations")
    print("(and the gradients that depend on them) have all but vanished. He keeps them steady.")
    figures.save(activation_std_figure(stats, gradients), "init_activation_std")
    figures.save(activation_histograms_figure(stats), "init_activation_histograms")


def activation_std_figure(
    stats: dict[str, list[Array]], gradients: dict[str, list[float]]
) -> plt.Figure:
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    layers = np.arange(1, DEPTH + 1)
    for name, activations in stats.items():
        left.semilogy(layers, [a.std() for a in activations], "o-", label=name)
        right.semilogy(layers, gradients[name], "o-", label=name)
    left.set_title("Standard deviation of the activations")
    left.set_ylabel("std (log scale)")
    right.set_title("Gradient of a read-out w.r.t. each layer's weights")
    right.set_ylabel("norm (log scale)")
    for ax in (left, right):
        ax.set_xlabel("layer")
        ax.set_xticks(layers)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=9)
    return fig


def activation_histograms_figure(stats: dict[str, list[Array]]) -> plt.Figure:
    shown = [1, 3, 5, 7, DEPTH]
    fig, axes = plt.subplots(len(stats), len(shown), figsize=(3 * len(shown), 5.5))
    for row, (name, activations) in zip(axes, stats.items()):
        for ax, layer in zip(row, shown):
            a = activations[layer - 1]
            positive = a[a > 0][:20_000]  # a sample is enough for the shape
            ax.hist(positive, bins=40, color="tab:blue" if "he" in name else "tab:orange")
            ax.set_title(f"layer {layer}: std {a.std():.1e}", fontsize=10)
            ax.ticklabel_format(axis="x", style="sci", scilimits=(-2, 3))
            ax.tick_params(labelsize=8)
        row[0].set_ylabel(name.split(":")[0], fontsize=11)
    fig.suptitle(
        "Positive activations by layer (ReLU zeros left out); note the x scales", fontsize=12
    )
    return fig


# ---------------------------------------------------------------------------
# 6. Dropout
# ---------------------------------------------------------------------------


def dropout(key: Array) -> list[str]:
    print("\n== 6. Dropout (rate 0.5) ==")
    problems = []
    layer = nn.Dropout(0.5)
    _, params = layer.init(key, (-1, 1000))
    k_x, k_train, k_other = random.split(key, 3)
    x = 1.0 + random.uniform(k_x, (4, 1000))
    train_out = np.asarray(layer.apply(params, x, key=k_train))
    dropped = float(np.mean(train_out == 0))
    kept = train_out != 0
    print(
        f"Training (a key given): {dropped:.1%} of the units are zeroed; the rest are scaled by "
        f"{float(np.median(train_out[kept] / x[kept])):.1f}"
    )
    print(
        f"  mean input {x.mean():.4f}, mean output {train_out.mean():.4f} "
        "(inverted dropout keeps the expectation)"
    )
    again = np.asarray(layer.apply(params, x, key=k_train))
    other = np.asarray(layer.apply(params, x, key=k_other))
    print(
        f"  the same key drops the same units: {np.array_equal(again, train_out)}; "
        f"another key drops others: {not np.array_equal(other, train_out)}"
    )
    eval_out = layer.apply(params, x)
    print(f"Evaluation (no key): the layer is the identity: {eval_out is x}")
    g = fgrad.grad(lambda x: fnp.sum(layer.apply(params, x, key=k_train)))(x)
    print(
        f"The gradient flows only through kept units: zero exactly where dropped: "
        f"{bool(np.all((g == 0) == ~kept))}"
    )
    if not (0.45 < dropped < 0.55 and eval_out is x):
        problems.append(f"dropout behaved unexpectedly (dropped {dropped:.1%})")
    return problems


# ---------------------------------------------------------------------------
# Putting it together
# ---------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="PRNG seed (default: 0)")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("out/linear_classifiers"),
        help="figure directory (default: out/linear_classifiers)",
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
    k_split, k_init, k_deep, k_dropout = random.split(random.key(args.seed), 4)

    with np.printoptions(precision=4, suppress=True):
        data = load_blobs(k_split)
        _, params = LINEAR.init(k_init, (-1, 2))
        data_and_scores(data, params)
        compare_losses()
        trained = train_both(params, data, figures, settings)
        problems = gradient_checks(params, trained, data)
        initialisation(k_deep, figures, settings)
        problems += dropout(k_dropout)

    print(f"\nSaved {len(figures.saved)} figures to {args.out}/")
    for path in figures.saved:
        print(f"  {path.name}")
    print(f"Done in {time.perf_counter() - start:.1f} s")

    if not args.fast:
        for name, p in trained.items():
            test_accuracy = accuracy(p, data.X_test, data.y_test)
            if test_accuracy < REQUIRED_TEST_ACCURACY:
                problems.append(
                    f"the {name} classifier reached only {test_accuracy:.1%} test accuracy "
                    f"(need {REQUIRED_TEST_ACCURACY:.0%})"
                )
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
