"""examples/micrograd_tour.py and examples/linear_classifiers.py, and the graph helpers they use.

Each example runs once with --fast as a subprocess (as a user would run it, importing fgrad from
this checkout); ``fgrad.graph.trace_graph`` and ``fgrad.plot.draw_graph`` get unit tests.
"""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fgrad
import fgrad.numpy as fnp
from fgrad import nn, random
from fgrad.graph import Graph, label, trace_graph

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

TOUR_FIGURES = [
    "01_derivative.png",
    "02_graph_L.png",
    "03_graph_neuron.png",
    "04_graph_a_plus_a.png",
    "05_graph_two_paths.png",
    "06_graph_mlp_loss.png",
    "07_mlp_loss_curve.png",
    "08_quadratic_loss.png",
    "09_quadratic_predictions.png",
]
LINEAR_FIGURES = [
    "01_decision_regions.png",
    "02_training_loss.png",
    "03_init_activation_std.png",
    "04_init_activation_histograms.png",
]


def run_example(name, *args):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["MPLBACKEND"] = "Agg"
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )


def load_example(name):
    spec = importlib.util.spec_from_file_location(name.removesuffix(".py"), EXAMPLES / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_pngs(out, expected):
    assert sorted(p.name for p in out.iterdir()) == expected
    for name in expected:
        data = (out / name).read_bytes()
        assert len(data) > 1000, name
        assert data.startswith(PNG_SIGNATURE), name


# --------------------------------------------------------------------------- micrograd_tour.py


@pytest.fixture(scope="module")
def tour_run(tmp_path_factory):
    pytest.importorskip("matplotlib")
    out = tmp_path_factory.mktemp("tour")
    return run_example("micrograd_tour.py", "--fast", "--out", str(out)), out


def test_tour_exits_cleanly(tour_run):
    result, _ = tour_run
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_tour_writes_every_figure(tour_run):
    _, out = tour_run
    assert_pngs(out, TOUR_FIGURES)


def test_tour_prints_the_derivations(tour_run):
    result, out = tour_run
    stdout = result.stdout
    assert "fgrad.grad(f)(3.0) = 14.0" in stdout
    assert "f'(-3.0000) = -22.0000" in stdout
    assert "dd/da: nudging a by ±1e-4 gives -3.000000; fgrad -3.0" in stdout
    # manual backprop, step by step, agreeing with the graph
    assert re.search(
        r"dL/da\s+= dL/de \* de/da = -2\.0 \* -3\.0 .* = \+6\.0\s+graph: \+6\.0", stdout
    )
    assert re.search(
        r"dL/db\s+= dL/de \* de/db = -2\.0 \* \+2\.0 .* = -4\.0\s+graph: -4\.0", stdout
    )
    assert "n = 0.8814, o = tanh(n) = 0.7071" in stdout
    assert "x1 -1.5000, x2 +0.5000, w1 +1.0000, w2 +0.0000, b +0.5000" in stdout
    assert "b = a + a: db/da = 2.0" in stdout
    assert "df/da = -3.0, df/db = -8.0" in stdout
    assert re.search(r"2000 times: a graph of \d+ nodes", stdout)
    assert "Parameters: 41" in stdout
    epochs = re.findall(r"^  epoch +(\d+)  loss \d+\.\d{6}$", stdout, re.MULTILINE)
    assert epochs and epochs == sorted(epochs, key=int)
    assert "40 points: 26 to train on, 14 held out" in stdout
    assert re.search(r"^Test MSE of the quadratic fit: \d+\.\d{4}$", stdout, re.MULTILINE)
    assert "All gradients agree with finite differences" in stdout
    assert str(out) in stdout


# --------------------------------------------------------------------------- linear_classifiers.py


@pytest.fixture(scope="module")
def linear_run(tmp_path_factory):
    pytest.importorskip("matplotlib")
    out = tmp_path_factory.mktemp("linear")
    return run_example("linear_classifiers.py", "--fast", "--out", str(out)), out


def test_linear_exits_cleanly(linear_run):
    result, _ = linear_run
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_linear_writes_every_figure(linear_run):
    _, out = linear_run
    assert_pngs(out, LINEAR_FIGURES)


def test_linear_prints_checks_and_experiments(linear_run):
    result, out = linear_run
    stdout = result.stdout
    assert "Train: (225, 2), labels per class" in stdout
    assert "hinge loss max(0, 5.1 - 3.2 + 1) + max(0, -1.7 - 3.2 + 1) = 2.9" in stdout
    assert re.search(r"^  SVM accuracy: train \d+\.\d%, test \d+\.\d%$", stdout, re.MULTILINE)
    assert re.search(r"^  softmax accuracy: train \d+\.\d%, test \d+\.\d%$", stdout, re.MULTILINE)
    # the thresholds, and checks read against them
    for line in ("< 1e-07          good", "> 1e-02          probably wrong"):
        assert line in stdout
    errors = re.findall(r"d/d[Wb]: relative error (\S+)  \((.+)\)", stdout)
    assert len(errors) >= 4
    assert all(verdict == "good" for _, verdict in errors[:4])  # softmax, SVM after burn-in
    assert re.search(r"one-sided .*relative error \S+  \(error ~ h\)", stdout)
    assert re.search(r"centred .*relative error \S+  \(error ~ h\*\*2\)", stdout)
    assert "with a bug (sums where it should average): check_grads raises" in stdout
    assert re.search(r"h = 1e-03: .*different sides of the kink.*\(probably wrong\)", stdout)
    assert re.search(r"h = 1e-06: .*stay on one side.*\(good\)", stdout)
    assert "subgradient for b is [-0.5, 0.5, 0.0]" in stdout
    assert "10 ReLU layers of 100 units" in stdout
    assert "Evaluation (no key): the layer is the identity: True" in stdout
    assert "zero exactly where dropped: True" in stdout
    assert str(out) in stdout


@pytest.mark.parametrize("name", ["micrograd_tour.py", "linear_classifiers.py"])
def test_examples_reject_a_negative_seed(name, capsys):
    pytest.importorskip("matplotlib")
    with pytest.raises(SystemExit) as excinfo:
        load_example(name).main(["--seed", "-1"])
    assert excinfo.value.code != 0
    assert "--seed" in capsys.readouterr().err


# --------------------------------------------------------------------------- fgrad.graph


def expression(a, b, c, f):
    e = label(a * b, "e")
    d = label(e + c, "d")
    return d * f


def test_trace_graph_nodes_values_and_gradients_match_grad():
    args = (2.0, -3.0, 10.0, -2.0)
    graph = trace_graph(expression, *args)
    assert isinstance(graph, Graph)
    assert [n.name for n in graph.nodes] == ["a", "b", "c", "f", "e", "d", "multiply"]
    assert [n.op for n in graph.nodes[:4]] == ["input"] * 4
    assert graph.output == 6
    assert graph.edges == [(0, 4), (1, 4), (4, 5), (2, 5), (5, 6), (3, 6)]
    assert [float(n.value) for n in graph.nodes] == [2.0, -3.0, 10.0, -2.0, -6.0, 4.0, -8.0]
    grads = fgrad.grad(expression, argnums=(0, 1, 2, 3))(*args)
    for node, g in zip(graph.nodes[:4], grads):
        assert node.grad == pytest.approx(float(g))
    assert [float(graph.find(k).grad) for k in ("e", "d", "multiply")] == [-2.0, -2.0, 1.0]
    assert graph.parents(graph.output) == [5, 3]


def test_trace_graph_constants_pytrees_and_arrays():
    def loss(params, x):
        return fnp.sum(fnp.tanh(x @ params["w"] + params["b"]) ** 2)

    params = {"w": np.array([[0.5, -1.0], [2.0, 0.1]]), "b": np.array([0.1, -0.2])}
    x = np.array([[1.0, 2.0], [3.0, -1.0]])
    graph = trace_graph(lambda params: loss(params, x), params)
    names = [n.name for n in graph.nodes]
    assert names[:2] == ["params['b']", "params['w']"]
    constants = [n for n in graph.nodes if n.op == "constant"]
    assert all(n.grad is None for n in constants)
    assert any(np.array_equal(n.value, x) for n in constants)
    expected = fgrad.grad(loss)(params, x)
    np.testing.assert_allclose(graph.find("params['w']").grad, expected["w"])
    np.testing.assert_allclose(graph.find("params['b']").grad, expected["b"])
    for src, dst in graph.edges:
        assert src < dst  # topological order


def test_trace_graph_matches_grad_through_an_mlp():
    init, apply = nn.serial(nn.Dense(4), nn.Tanh, nn.Dense(1))
    _, params = init(random.key(0), (-1, 3))
    X = np.arange(12.0).reshape(4, 3) / 10

    def loss(params):
        return fnp.mean(apply(params, X) ** 2)

    graph = trace_graph(loss, params)
    inputs = [n for n in graph.nodes if n.op == "input"]
    for node, g in zip(inputs, fgrad.tree.tree_leaves(fgrad.grad(loss)(params))):
        np.testing.assert_allclose(node.grad, g, rtol=1e-12)
    assert float(graph.nodes[graph.output].value) == pytest.approx(float(loss(params)))


def test_trace_graph_a_deep_chain_needs_no_recursion():
    length = 10_000

    def chain(x):
        for _ in range(length):
            x = x + 0.001 * fnp.sin(x)
        return x

    graph = trace_graph(chain, 0.5)
    sins = [n for n in graph.nodes if n.op == "sin"]
    assert len(sins) == length
    assert len(graph.nodes) > 3 * length > sys.getrecursionlimit()
    assert float(graph.nodes[0].grad) == pytest.approx(float(fgrad.grad(chain)(0.5)), rel=1e-12)


def test_trace_graph_accumulates_over_repeated_use_and_ignores_dead_code():
    def f(a, b):
        _ = a * 100.0  # not used by the output: left out of the graph
        return a * a + a

    graph = trace_graph(f, 3.0, 1.0)
    assert [n.op for n in graph.nodes] == ["input", "input", "multiply", "add"]
    assert graph.edges.count((0, 2)) == 2
    assert float(graph.find("a").grad) == 7.0
    assert float(graph.find("b").grad) == 0.0  # unused input: zero gradient


def test_trace_graph_of_non_scalar_output_and_constant_output():
    graph = trace_graph(fnp.tanh, np.array([0.0, 1.0]))
    np.testing.assert_allclose(
        graph.nodes[0].grad, fgrad.grad(lambda x: fnp.sum(fnp.tanh(x)))(np.array([0.0, 1.0]))
    )
    graph = trace_graph(lambda x: np.float64(2.0), 1.0)
    assert graph.nodes[graph.output].op == "constant"
    assert float(graph.nodes[0].grad) == 0.0


def test_trace_graph_errors():
    with pytest.raises(TypeError, match="dtype int"):
        trace_graph(lambda x: x * 2.0, 2)
    with pytest.raises(TypeError, match="one array"):
        trace_graph(lambda x: (x, x), 2.0)
    with pytest.raises(TypeError, match="callable"):
        trace_graph(3.0, 2.0)
    with pytest.raises(KeyError, match="no node named"):
        trace_graph(lambda x: x * 2.0, 2.0).find("nope")


def test_label_is_a_no_op_elsewhere_and_under_other_transforms():
    x = np.array(2.0)
    assert label(x, "x") is x
    assert float(fgrad.grad(lambda x: label(x * x, "sq"))(3.0)) == 6.0
    with pytest.raises(TypeError, match="str"):
        label(x, 3)


def test_trace_graph_inside_grad_and_grad_inside_trace_graph():
    def outer(a):
        graph = trace_graph(lambda x: fnp.sin(a * x), 1.0)
        assert graph.nodes[0].grad == pytest.approx(np.cos(0.5) * 0.5)
        return fnp.sin(a)

    assert float(fgrad.grad(outer)(0.5)) == pytest.approx(np.cos(0.5))
    graph = trace_graph(lambda x: fgrad.grad(lambda z: z**3)(x) * x, 2.0)
    assert float(graph.nodes[0].grad) == pytest.approx(36.0)  # d/dx 3x**3


# --------------------------------------------------------------------------- fgrad.plot.draw_graph


@pytest.fixture
def plt():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def box_texts(ax):
    return [t.get_text() for t in ax.texts if " | " in t.get_text()]


def test_draw_graph_boxes_and_arrows(plt):
    from matplotlib.axes import Axes

    from fgrad.plot import draw_graph

    graph = trace_graph(expression, 2.0, -3.0, 10.0, -2.0)
    ax = draw_graph(graph)
    assert isinstance(ax, Axes)
    texts = box_texts(ax)
    assert len(texts) == len(graph.nodes)
    assert "e | data -6.0000 | grad -2.0000" in texts
    circles = [t.get_text() for t in ax.texts if t.get_text() in ("*", "+")]
    assert sorted(circles) == ["*", "*", "+"]
    arrows = [t for t in ax.texts if t.get_text() == ""]
    assert len(arrows) == len(graph.edges)
    ax.figure.canvas.draw()  # arrows resolve their end points at draw time


def test_draw_graph_on_given_axes_top_to_bottom_without_grads(plt, tmp_path):
    from fgrad.plot import draw_graph

    graph = trace_graph(lambda a: a + a, 3.0)
    fig, ax = plt.subplots(figsize=(6, 3))
    assert draw_graph(graph, ax, direction="TB", show_grad=False, precision=1) is ax
    assert sorted(box_texts(ax)) == ["a | data 3.0", "add | data 6.0"]
    fig.savefig(tmp_path / "g.png")
    assert (tmp_path / "g.png").read_bytes().startswith(PNG_SIGNATURE)


def test_draw_graph_summarises_arrays_and_rejects_bad_arguments(plt):
    from fgrad.plot import draw_graph

    graph = trace_graph(lambda w: fnp.sum(w**2), np.ones((3, 4)))
    texts = box_texts(draw_graph(graph))
    assert "w | data (3, 4) norm 3.46 | grad (3, 4) norm 6.93" in texts
    with pytest.raises(ValueError, match="direction"):
        draw_graph(graph, direction="RL")
    with pytest.raises(ValueError, match="precision"):
        draw_graph(graph, precision=-1)
