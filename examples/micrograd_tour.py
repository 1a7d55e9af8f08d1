"""A tour of backpropagation in the style of micrograd, done with fgrad.

micrograd builds autodiff from scratch: a scalar ``Value`` class that records
how it was computed and pushes gradients back through that record. fgrad does
the same work on NumPy arrays with transforms (``fgrad.grad``,
``fgrad.value_and_grad``), so this tour follows micrograd's steps and lets
fgrad compute every derivative:

1. the derivative of ``f(x) = 3x**2 - 4x + 5`` by nudging ``x``, one-sided and
   centred, against ``fgrad.grad``;
2. partial derivatives of ``d = a*b + c``;
3. the expression graph of ``L = (a*b + c) * f``, drawn with each node's data
   and gradient (``fgrad.graph.trace_graph`` + ``fgrad.plot.draw_graph``), and
   backpropagation done by hand, one local derivative at a time;
4. a neuron ``o = tanh(x1*w1 + x2*w2 + b)``, its graph and its gradients;
5. why gradients add up where a value is used twice, and a graph 10,000
   operations deep (no recursion anywhere);
6. the 4-sample MLP 3-4-4-1 trained with ``value_and_grad`` and ``sgd_update``;
7. a quadratic fitted by a one-hidden-layer MLP, with a train/test split.

Every figure is written as a numbered PNG into ``--out``::

    python examples/micrograd_tour.py              # a few seconds
    python examples/micrograd_tour.py --fast       # a smoke test
    python examples/micrograd_tour.py --seed 1 --out /tmp/tour

The script exits with status 1 if a gradient disagrees with finite
differences, or (in a full run) if a model fails to fit.
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
from fgrad.graph import Graph, label, trace_graph

matplotlib.use("Agg")  # draw into files only: works without a display

import matplotlib.pyplot as plt  # noqa: E402

Params = Any  # a pytree of arrays
Array = np.ndarray

# fgrad's gradients must match centred finite differences this closely.
GRADIENT_RTOL = 1e-6
# In a full run the 4-sample MLP must reach this training loss (sum of squares) ...
REQUIRED_MLP_LOSS = 0.01
# ... and the quadratic fit this mean squared error on its held-out points.
REQUIRED_QUADRATIC_TEST_MSE = 0.5


class Settings(NamedTuple):
    """How long to train and how deep to go; ``--fast`` swaps in tiny numbers."""

    mlp_epochs: int  # gradient-descent steps on the 4 samples
    mlp_print_every: int
    quadratic_epochs: int  # Adam steps of the quadratic fit
    chain_length: int  # operations in the deep-graph demonstration
    dpi: int  # resolution of the saved PNGs
    tidy_layout: bool  # fit labels and titles snugly (costs a second render per figure)


FULL = Settings(
    mlp_epochs=100,
    mlp_print_every=10,
    quadratic_epochs=2000,
    chain_length=10_000,
    dpi=100,
    tidy_layout=True,
)
FAST = Settings(
    mlp_epochs=20,
    mlp_print_every=5,
    quadratic_epochs=150,
    chain_length=2_000,
    dpi=60,
    tidy_layout=False,
)


class Checks:
    """Collects comparisons of fgrad's gradients with other estimates."""

    def __init__(self) -> None:
        self.failures: list[str] = []

    def agree(self, what: str, fgrad_value: float, reference: float) -> bool:
        scale = max(abs(fgrad_value), abs(reference), 1e-8)
        ok = abs(fgrad_value - reference) / scale <= GRADIENT_RTOL
        if not ok:
            self.failures.append(f"{what}: fgrad {fgrad_value!r}, expected {reference!r}")
        return ok


def centred_difference(fun: Callable[..., Any], args: Sequence[float], i: int, h: float) -> float:
    """``(f(.., x_i + h, ..) - f(.., x_i - h, ..)) / 2h``: error O(h**2), not O(h)."""
    plus = list(args)
    minus = list(args)
    plus[i] += h
    minus[i] -= h
    return (float(fun(*plus)) - float(fun(*minus))) / (2 * h)


def graph_figure(graph: Graph, title: str, direction: str = "LR") -> plt.Figure:
    """Draw ``graph`` on a figure sized to it, with a title strip on top."""
    ax = fplot.draw_graph(graph, direction=direction)
    fig = ax.figure
    width, height = fig.get_size_inches()
    strip = 0.45
    fig.set_size_inches(width, height + strip)
    ax.set_position((0.0, 0.0, 1.0, height / (height + strip)))
    fig.text(0.01, 1 - 0.5 * strip / (height + strip), title, va="center", fontsize=11)
    return fig


# ---------------------------------------------------------------------------
# 1. What a derivative is
# ---------------------------------------------------------------------------


def f(x: Any) -> Any:
    return 3 * x**2 - 4 * x + 5


def derivative_by_nudging(figures: fplot.FigureSaver, checks: Checks) -> None:
    print("== 1. The derivative of f(x) = 3x**2 - 4x + 5 ==")
    df = fgrad.grad(f)
    print(f"f(3.0) = {f(3.0)}")
    print("Slope at x = 3 (exact: 6x - 4 = 14):")
    print(f"  {'h':>7}  {'one-sided (f(x+h)-f(x))/h':>27}  {'centred (f(x+h)-f(x-h))/2h':>27}")
    for h in (1e-2, 1e-4, 1e-6, 1e-8, 1e-12):
        one_sided = (f(3.0 + h) - f(3.0)) / h
        centred = (f(3.0 + h) - f(3.0 - h)) / (2 * h)
        print(f"  {h:7.0e}  {one_sided:27.10f}  {centred:27.10f}")
    print(f"  fgrad.grad(f)(3.0) = {float(df(3.0))}  (exact, no step size to choose)")
    for x in (3.0, -3.0, 2 / 3):
        slope = float(df(x))
        checks.agree(f"f'({x:.4f})", slope, 6 * x - 4)
        print(f"  f'({x:+.4f}) = {slope:+.4f}")
    print("At x = 2/3 the slope is zero: nudging x either way barely changes f.")
    figures.save(derivative_figure(df), "derivative")


def derivative_figure(df: Callable[[Any], Any]) -> plt.Figure:
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    xs = np.arange(-5, 5, 0.25)
    left.plot(xs, f(xs), color="k", label="f(x)")
    for x0, colour in ((-3.0, "tab:blue"), (2 / 3, "tab:green"), (3.0, "tab:red")):
        slope = float(df(x0))
        span = np.linspace(x0 - 1.5, x0 + 1.5, 2)
        left.plot(span, f(x0) + slope * (span - x0), color=colour, lw=2)
        left.plot([x0], [f(x0)], "o", color=colour, label=f"slope {slope:+.1f} at x = {x0:.2f}")
    left.set_title("f(x) = 3x² - 4x + 5 and tangents from fgrad.grad")
    left.set_xlabel("x")
    left.legend(fontsize=9)
    left.grid(alpha=0.3)

    steps = np.logspace(-13, -1, 49)
    exact = float(df(3.0))
    one_sided = [abs((f(3.0 + h) - f(3.0)) / h - exact) for h in steps]
    centred = [abs((f(3.0 + h) - f(3.0 - h)) / (2 * h) - exact) for h in steps]
    right.loglog(steps, np.maximum(one_sided, 1e-16), label="one-sided: error ~ h")
    right.loglog(
        steps, np.maximum(centred, 1e-16), label="centred: exact for a quadratic, rounding only"
    )
    right.set_title("Error of finite differences at x = 3")
    right.set_xlabel("step h")
    right.set_ylabel("|estimate - 14|")
    right.legend(fontsize=9)
    right.grid(alpha=0.3, which="both")
    right.text(2e-13, 3e-2, "rounding error\n~ 1e-16 / h", fontsize=9, color="0.3", va="bottom")
    return fig


# ---------------------------------------------------------------------------
# 2. Several inputs
# ---------------------------------------------------------------------------


def d_of(a: Any, b: Any, c: Any) -> Any:
    return a * b + c


def partial_derivatives(checks: Checks) -> None:
    print("\n== 2. Partial derivatives of d = a*b + c ==")
    point = (2.0, -3.0, 10.0)
    print(f"d(a=2, b=-3, c=10) = {d_of(*point)}")
    grads = fgrad.grad(d_of, argnums=(0, 1, 2))(*point)
    for i, name in enumerate("abc"):
        nudged = centred_difference(d_of, point, i, 1e-4)
        checks.agree(f"dd/d{name}", float(grads[i]), nudged)
        print(f"  dd/d{name}: nudging {name} by ±1e-4 gives {nudged:+.6f}; fgrad {grads[i]:+.1f}")


# ---------------------------------------------------------------------------
# 3. An expression graph, and backpropagation by hand
# ---------------------------------------------------------------------------


def expression_L(a: Any, b: Any, c: Any, f: Any) -> Any:  # noqa: N802
    """``L = (a*b + c) * f``, naming the intermediate values as micrograd does."""
    e = label(a * b, "e")
    d = label(e + c, "d")
    return label(d * f, "L")


def chain_rule_step(
    node: str, upstream: str, upstream_grad: float, local_name: str, local: float, fgrad_grad: float
) -> float:
    """Print ``dL/dnode = dL/dupstream * dupstream/dnode`` and return it."""
    value = upstream_grad * local
    print(
        f"  dL/d{node:<2} = dL/d{upstream} * d{upstream}/d{node} = {upstream_grad:+.1f} * "
        f"{local:+.1f} ({local_name:<8}) = {value:+.1f}   graph: {fgrad_grad:+.1f}"
    )
    return value


def backprop_by_hand(figures: fplot.FigureSaver, checks: Checks) -> None:
    print("\n== 3. Backpropagation by hand: L = (a*b + c) * f ==")
    point = {"a": 2.0, "b": -3.0, "c": 10.0, "f": -2.0}
    graph = trace_graph(expression_L, *point.values())
    value = {n.name: float(n.value) for n in graph.nodes}
    grad = {n.name: float(n.grad) for n in graph.nodes if n.grad is not None}
    print(f"Forward: e = a*b = {value['e']}, d = e + c = {value['d']}, L = d*f = {value['L']}")
    print(f"The graph has {len(graph.nodes)} nodes and {len(graph.edges)} edges.")
    print("Backward, from L to the leaves (each step: upstream gradient times local derivative):")
    print(f"  dL/dL  = 1 (the output itself)                    graph: {grad['L']:+.1f}")
    by_hand = {"L": 1.0}
    steps = [  # (node, upstream, local derivative name, its value)
        ("d", "L", "= f", point["f"]),
        ("f", "L", "= d", value["d"]),
        ("e", "d", "+ passes", 1.0),
        ("c", "d", "+ passes", 1.0),
        ("a", "e", "= b", point["b"]),
        ("b", "e", "= a", point["a"]),
    ]
    for node, upstream, local_name, local in steps:
        by_hand[node] = chain_rule_step(
            node, upstream, by_hand[upstream], local_name, local, grad[node]
        )
        checks.agree(f"dL/d{node} by hand", grad[node], by_hand[node])
    direct = fgrad.grad(expression_L, argnums=(0, 1, 2, 3))(*point.values())
    for name, g in zip(point, direct):
        checks.agree(f"dL/d{name} (grad vs graph)", float(g), grad[name])
    print(
        "fgrad.grad agrees: "
        + ", ".join(f"dL/d{k} = {float(g):+.1f}" for k, g in zip(point, direct))
    )

    nudged = {k: v + 0.01 * grad[k] for k, v in point.items()}
    print(
        f"Step every input by 0.01 x its gradient: L goes from {value['L']:.4f} to "
        f"{float(expression_L(*nudged.values())):.4f} (up, as the gradient promised)"
    )
    figures.save(
        graph_figure(graph, "L = (a*b + c) * f: data and dL/dnode"), "graph_L", tight_layout=False
    )


# ---------------------------------------------------------------------------
# 4. A neuron
# ---------------------------------------------------------------------------

NEURON_POINT = {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.8813735870195432}


def neuron(x1: Any, x2: Any, w1: Any, w2: Any, b: Any) -> Any:
    """``o = tanh(x1*w1 + x2*w2 + b)``: two inputs, two weights, a bias."""
    x1w1 = label(x1 * w1, "x1*w1")
    x2w2 = label(x2 * w2, "x2*w2")
    total = label(x1w1 + x2w2, "x1*w1 + x2*w2")
    n = label(total + b, "n")
    return label(fnp.tanh(n), "o")


def the_neuron(figures: fplot.FigureSaver, checks: Checks) -> None:
    print("\n== 4. A neuron: o = tanh(x1*w1 + x2*w2 + b) ==")
    graph = trace_graph(neuron, *NEURON_POINT.values())
    value = {n.name: float(n.value) for n in graph.nodes}
    grad = {n.name: float(n.grad) for n in graph.nodes}
    p = NEURON_POINT
    print(f"n = {value['n']:.4f}, o = tanh(n) = {value['o']:.4f}")
    do_dn = 1 - value["o"] ** 2
    print("Local derivatives, multiplied along the way back:")
    lines = [
        ("n", "tanh' = 1 - o**2", do_dn, do_dn),
        ("b", "+ passes the gradient on", 1.0, do_dn),
        ("x1*w1 + x2*w2", "+ passes the gradient on", 1.0, do_dn),
        ("x1*w1", "+ passes the gradient on", 1.0, do_dn),
        ("x2*w2", "+ passes the gradient on", 1.0, do_dn),
        ("x1", "d(x1*w1)/dx1 = w1", p["w1"], do_dn * p["w1"]),
        ("w1", "d(x1*w1)/dw1 = x1", p["x1"], do_dn * p["x1"]),
        ("x2", "d(x2*w2)/dx2 = w2", p["w2"], do_dn * p["w2"]),
        ("w2", "d(x2*w2)/dw2 = x2", p["x2"], do_dn * p["x2"]),
    ]
    for node, rule, local, by_hand in lines:
        checks.agree(f"do/d{node}", grad[node], by_hand)
        print(f"  do/d({node:<13}) local {rule:<26} = {local:+.4f} -> {by_hand:+.4f}")
    grads = fgrad.grad(neuron, argnums=tuple(range(5)))(*p.values())
    for i, name in enumerate(p):
        checks.agree(
            f"do/d{name} (grad vs nudging)",
            float(grads[i]),
            centred_difference(neuron, list(p.values()), i, 1e-5),
        )
    print(
        "fgrad.grad w.r.t. every input: "
        + ", ".join(f"{name} {float(g):+.4f}" for name, g in zip(p, grads))
    )
    print("w2 gets no gradient because x2 = 0: the weight of an input that is off cannot matter.")
    figures.save(
        graph_figure(graph, "A neuron, o = tanh(x1*w1 + x2*w2 + b): data and do/dnode"),
        "graph_neuron",
        tight_layout=False,
    )


# ---------------------------------------------------------------------------
# 5. Gradients accumulate; graphs can be deep
# ---------------------------------------------------------------------------


def twice(a: Any) -> Any:
    return label(a + a, "b")


def two_paths(a: Any, b: Any) -> Any:
    d = label(a * b, "d")
    e = label(a + b, "e")
    return label(d * e, "f")


def deep_chain(x: Any, length: int) -> Any:
    for _ in range(length):
        x = x + 0.001 * fnp.sin(x)
    return x


def accumulation_and_depth(figures: fplot.FigureSaver, checks: Checks, settings: Settings) -> None:
    print("\n== 5. Why gradients add up, and how deep a graph can be ==")
    db_da = float(fgrad.grad(twice)(3.0))
    checks.agree("d(a + a)/da", db_da, 2.0)
    print(f"b = a + a: db/da = {db_da} (a feeds both operands; each path contributes 1)")
    da, db = fgrad.grad(two_paths, argnums=(0, 1))(-2.0, 3.0)
    checks.agree("df/da", float(da), 3.0 * (-2.0 + 3.0) + (-2.0) * 3.0)
    checks.agree("df/db", float(db), -2.0 * (-2.0 + 3.0) + (-2.0) * 3.0)
    print(f"f = (a*b) * (a+b) at a=-2, b=3: df/da = {float(da):+.1f}, df/db = {float(db):+.1f}")
    print("  (b*(a+b) + a*b and a*(a+b) + a*b: one term per path; overwriting would keep one)")
    figures.save(
        graph_figure(trace_graph(twice, 3.0), "b = a + a: two edges from a"),
        "graph_a_plus_a",
        tight_layout=False,
    )
    figures.save(
        graph_figure(trace_graph(two_paths, -2.0, 3.0), "f = (a*b) * (a+b): a and b reach f twice"),
        "graph_two_paths",
        tight_layout=False,
    )

    length = settings.chain_length
    start = time.perf_counter()
    graph = trace_graph(lambda x: deep_chain(x, length), 0.5)
    slope = float(fgrad.grad(deep_chain)(0.5, length))
    nudged = centred_difference(lambda x: deep_chain(x, length), [0.5], 0, 1e-5)
    checks.agree("deep chain", slope, nudged)
    checks.agree("deep chain (graph)", float(graph.nodes[0].grad), slope)
    print(
        f"x <- x + 0.001 sin(x), {length} times: a graph of {len(graph.nodes)} nodes; "
        f"d/dx = {slope:.6f} (finite differences {nudged:.6f}), "
        f"{time.perf_counter() - start:.2f} s"
    )
    print(
        f"  A recursive topological sort would need {length} nested calls; Python allows "
        f"{sys.getrecursionlimit()}. fgrad's tape is already in order: one loop, backwards."
    )


# ---------------------------------------------------------------------------
# 6. An MLP learns four samples
# ---------------------------------------------------------------------------

XS = np.array([[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]])
YS = np.array([1.0, -1.0, -1.0, 1.0])  # the desired outputs


def symmetric_uniform(key: Array, shape: Sequence[int], dtype: Any = np.float64) -> Array:
    """Weights drawn from U(-1, 1), micrograd's initialisation."""
    return random.uniform(key, shape, dtype, -1.0, 1.0)


# 3 inputs -> 4 tanh -> 4 tanh -> 1 linear output
MLP = nn.serial(
    nn.Dense(4, w_init=symmetric_uniform),
    nn.Tanh,
    nn.Dense(4, w_init=symmetric_uniform),
    nn.Tanh,
    nn.Dense(1, w_init=symmetric_uniform),
)


def predict(params: Params, X: Array) -> Array:
    return MLP.apply(params, X)[:, 0]


def sum_of_squares(params: Params) -> Array:
    """micrograd's loss: the sum of squared errors over the four samples."""
    return fnp.sum((predict(params, XS) - YS) ** 2)


def loss_of_weights(W1: Array, b1: Array, W2: Array, b2: Array, W3: Array, b3: Array) -> Array:
    """``sum_of_squares`` with one argument per array, so the graph's inputs get short names."""
    return sum_of_squares(((W1, b1), (), (W2, b2), (), (W3, b3)))


def count_parameters(params: Params) -> int:
    return sum(leaf.size for leaf in fgrad.tree.tree_leaves(params))


def train_mlp(
    params: Params, epochs: int, lr: float, print_every: int
) -> tuple[Params, list[float]]:
    """Full-batch gradient descent: each step returns new parameters."""
    loss_and_grads = fgrad.value_and_grad(sum_of_squares)
    history = []
    for epoch in range(epochs):
        loss, grads = loss_and_grads(params)
        history.append(float(loss))
        if epoch % print_every == 0 or epoch == epochs - 1:
            print(f"  epoch {epoch:3d}  loss {float(loss):.6f}")
        params = optim.sgd_update(params, grads, lr)
    return params, history


def four_samples(key: Array, figures: fplot.FigureSaver, settings: Settings) -> float:
    print("\n== 6. An MLP 3-4-4-1 learns four samples ==")
    _, params = MLP.init(key, (-1, 3))
    print(f"Parameters: {count_parameters(params)} (3*4+4 + 4*4+4 + 4*1+1)")
    print(f"Targets:             {np.array2string(YS, precision=4)}")
    print(f"Initial predictions: {np.array2string(predict(params, XS), precision=4)}")
    graph = trace_graph(loss_of_weights, *(p for layer in params for p in layer))
    first_weight = graph.find("W1")
    print(
        f"Initial loss {float(graph.nodes[graph.output].value):.4f}; its graph has "
        f"{len(graph.nodes)} nodes (one per array operation, not per scalar)"
    )
    print(f"dloss/dW1[0, 0] = {first_weight.grad[0, 0]:+.4f}: W1[0, 0] should move the other way")
    figures.save(
        graph_figure(
            graph,
            "Loss of the MLP on 4 samples (arrays shown by shape and norm)",
            direction="TB",
        ),
        "graph_mlp_loss",
        tight_layout=False,
    )

    stepped = optim.sgd_update(params, fgrad.grad(sum_of_squares)(params), 0.01)
    print(
        f"One step of size 0.01 against the gradient: loss {float(sum_of_squares(params)):.4f}"
        f" -> {float(sum_of_squares(stepped)):.4f}"
    )
    print("Training (sum of squared errors, learning rate 0.05; no gradients to reset):")
    params, history = train_mlp(params, settings.mlp_epochs, 0.05, settings.mlp_print_every)
    print(f"Final predictions:   {np.array2string(predict(params, XS), precision=4)}")

    fig, ax = plt.subplots(figsize=(6.5, 4))
    fplot.loss_curve(history, ax, log_scale=True)
    ax.set_xlabel("epoch")
    ax.set_ylabel("sum of squared errors")
    ax.set_title("MLP 3-4-4-1 on four samples, gradient descent")
    ax.grid(alpha=0.3, which="both")
    figures.save(fig, "mlp_loss_curve")
    return float(sum_of_squares(params))


# ---------------------------------------------------------------------------
# 7. Fitting a quadratic
# ---------------------------------------------------------------------------

QUADRATIC = nn.serial(nn.Dense(16), nn.Tanh, nn.Dense(1))  # one hidden layer of 16 tanh units


def quadratic(x: Array) -> Array:
    return x**2 + 3 * x


def quadratic_mse(params: Params, X: Array, y: Array) -> Array:
    return losses.mse(QUADRATIC.apply(params, X)[:, 0], y)


class Scaling(NamedTuple):
    """Inputs and targets scaled with statistics of the training split only."""

    inputs: datasets.Standardizer
    target_mean: float
    target_std: float

    def x(self, x: Array) -> Array:
        return self.inputs.transform(x[:, None])

    def y(self, y: Array) -> Array:
        return (y - self.target_mean) / self.target_std

    def prediction(self, params: Params, x: Array) -> Array:
        return QUADRATIC.apply(params, self.x(x))[:, 0] * self.target_std + self.target_mean


def train_quadratic(
    key: Array, splits: dict[str, tuple[Array, Array]], scaling: Scaling, epochs: int
) -> tuple[Params, dict[str, list[float]], dict[int, Params]]:
    """Adam on the scaled data; returns the parameters, losses and a few snapshots."""
    _, params = QUADRATIC.init(key, (-1, 1))
    optimizer = optim.adam(optim.linear(0.01, 0.001, epochs))  # decaying: no late spikes
    state = optimizer.init(params)
    loss_and_grads = fgrad.value_and_grad(quadratic_mse)
    scaled = {name: (scaling.x(x), scaling.y(y)) for name, (x, y) in splits.items()}
    history: dict[str, list[float]] = {"train": [], "test": []}
    keep = {0, epochs // 20, epochs // 4, epochs}
    snapshots = {}
    for epoch in range(epochs + 1):
        if epoch in keep:
            snapshots[epoch] = params
        loss, grads = loss_and_grads(params, *scaled["train"])
        # Losses in the data's own units: scale back by the target variance.
        history["train"].append(float(loss) * scaling.target_std**2)
        history["test"].append(
            float(quadratic_mse(params, *scaled["test"])) * scaling.target_std**2
        )
        if epoch < epochs:
            updates, state = optimizer.update(grads, state, params)
            params = optim.apply_updates(params, updates)
    return params, history, snapshots


def quadratic_figures(
    figures: fplot.FigureSaver,
    splits: dict[str, tuple[Array, Array]],
    scaling: Scaling,
    history: dict[str, list[float]],
    snapshots: dict[int, Params],
) -> None:
    fig, ax = plt.subplots(figsize=(6.5, 4))
    fplot.loss_curve(history, ax, log_scale=True)
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean squared error")
    ax.set_title("Fitting y = x² + 3x: train and held-out loss")
    ax.grid(alpha=0.3, which="both")
    figures.save(fig, "quadratic_loss")

    curve = np.linspace(-5, 5, 200)
    fig, axes = plt.subplots(1, len(snapshots), figsize=(3.4 * len(snapshots), 3.6), sharey=True)
    for ax, (epoch, params) in zip(axes, sorted(snapshots.items())):
        ax.plot(curve, quadratic(curve), color="0.6", lw=1, label="x² + 3x")
        ax.plot(curve, scaling.prediction(params, curve), color="tab:red", lw=2, label="model")
        for (name, (x, y)), marker in zip(splits.items(), ("o", "s")):
            ax.scatter(x, y, s=18, marker=marker, label=name, zorder=3)
        ax.set_title(f"epoch {epoch}")
        ax.set_xlabel("x")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("y")
    axes[0].legend(fontsize=8)
    fig.suptitle("Predictions along the way (1-16-1 tanh MLP, Adam with a decaying learning rate)")
    figures.save(fig, "quadratic_predictions")


def fit_quadratic(key: Array, figures: fplot.FigureSaver, settings: Settings) -> float:
    print("\n== 7. Fitting y = x**2 + 3x with a train/test split ==")
    xs = np.linspace(-5, 5, 40)
    ys = quadratic(xs)
    x_train, x_test, y_train, y_test = datasets.train_test_split(
        xs, ys, test_size=0.33, random_state=42
    )
    print(f"{len(xs)} points: {len(x_train)} to train on, {len(x_test)} held out")
    splits = {"train": (x_train, y_train), "test": (x_test, y_test)}
    scaling = Scaling(
        datasets.Standardizer.fit(x_train[:, None]), float(y_train.mean()), float(y_train.std())
    )
    params, history, snapshots = train_quadratic(key, splits, scaling, settings.quadratic_epochs)
    for epoch in sorted(snapshots):
        print(
            f"  epoch {epoch:4d}  train MSE {history['train'][epoch]:9.4f}  "
            f"test MSE {history['test'][epoch]:9.4f}"
        )
    quadratic_figures(figures, splits, scaling, history, snapshots)
    test_mse = history["test"][-1]
    print(f"Test MSE of the quadratic fit: {test_mse:.4f}")
    return test_mse


# ---------------------------------------------------------------------------
# Putting it together
# ---------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="PRNG seed (default: 0)")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("out/micrograd_tour"),
        help="figure directory (default: out/micrograd_tour)",
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
    checks = Checks()
    k_mlp, k_quadratic = random.split(random.key(args.seed))

    derivative_by_nudging(figures, checks)
    partial_derivatives(checks)
    backprop_by_hand(figures, checks)
    the_neuron(figures, checks)
    accumulation_and_depth(figures, checks, settings)
    mlp_loss = four_samples(k_mlp, figures, settings)
    test_mse = fit_quadratic(k_quadratic, figures, settings)

    print(f"\nSaved {len(figures.saved)} figures to {args.out}/")
    for path in figures.saved:
        print(f"  {path.name}")
    print(f"Done in {time.perf_counter() - start:.1f} s")

    problems = list(checks.failures)
    if not args.fast and mlp_loss > REQUIRED_MLP_LOSS:
        problems.append(f"the 4-sample MLP ended at loss {mlp_loss:.4g} (need {REQUIRED_MLP_LOSS})")
    if not args.fast and test_mse > REQUIRED_QUADRATIC_TEST_MSE:
        problems.append(
            f"the quadratic fit has test MSE {test_mse:.4g} (need {REQUIRED_QUADRATIC_TEST_MSE})"
        )
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if not problems:
        print("All gradients agree with finite differences and the chain rule by hand.")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
