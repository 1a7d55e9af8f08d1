"""Smoke tests of examples/sine_regression.py and examples/linear_regression.py.

Each example runs once with ``--fast`` as a user would (a subprocess importing
fgrad from this checkout); the tests then check its exit code, figures and
printout. A few in-process tests cover what a run cannot show: jit replays
give the eager numbers, and the progress bar stays quiet off a terminal.
"""

import importlib.util
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")

import fgrad  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
GIF_SIGNATURE = b"GIF89a"

SINE_FIGURES = ["01_predictions.png", "02_training.png"]
LINEAR_FIGURES = [
    "01_data_and_initial_guess.png",
    "02_gradient_descent_fit.png",
    "03_learning_rates.png",
    "04_minibatch_sgd.png",
]
LINEAR_GIF = "02_gradient_descent_fit.gif"


def run_script(name, *args):
    """Run ``examples/<name>.py``, importing fgrad from this checkout."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["MPLBACKEND"] = "Agg"
    return subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def load_example(name):
    spec = importlib.util.spec_from_file_location(f"{name}_example", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_pngs(out, names):
    for name in names:
        data = (out / name).read_bytes()
        assert len(data) > 1000, name
        assert data.startswith(PNG_SIGNATURE), name


# ---------------------------------------------------------------------------
# sine_regression.py
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sine_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("sine")
    return run_script("sine_regression", "--fast", "--out", str(out)), out


def test_sine_exits_cleanly(sine_run):
    result, _ = sine_run
    assert result.returncode == 0, result.stderr


def test_sine_writes_every_figure_as_png(sine_run):
    _, out = sine_run
    assert sorted(p.name for p in out.iterdir()) == SINE_FIGURES
    assert_pngs(out, SINE_FIGURES)


def test_sine_prints_progress_and_a_good_final_loss(sine_run):
    result, out = sine_run
    stdout = result.stdout
    assert "MLP 1-16-16-16-1: 593 parameters" in stdout
    steps = re.findall(r"^step +(\d+)/200 +lr (\d\.\d{4}) +loss \d+\.\d{5}$", stdout, re.MULTILINE)
    assert [int(s) for s, _ in steps] == list(range(20, 201, 20))
    rates = [float(lr) for _, lr in steps]
    assert rates == sorted(rates, reverse=True) and rates[0] < 0.1 and rates[-1] > 0.01
    final = re.search(r"^Final loss: (\d+\.\d{5})$", stdout, re.MULTILINE)
    assert final and float(final.group(1)) < 0.05
    assert str(out) in stdout
    assert "10/200" not in result.stderr  # stderr is a pipe: no progress bar


def _train_briefly(sine, monkeypatch, stderr):
    monkeypatch.setattr(sys, "stderr", stderr)
    x, y = sine.make_data(fgrad.random.key(0))
    params = sine.MODEL.init(fgrad.random.key(1), x.shape)[1]
    return sine.train(params, x, y, steps=10, print_every=5)


def test_progress_bar_is_quiet_off_a_terminal(monkeypatch, capsys):
    sine = load_example("sine_regression")
    stream = io.StringIO()
    _, history, _ = _train_briefly(sine, monkeypatch, stream)
    assert len(history) == 10
    assert stream.getvalue() == ""
    printed = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in printed] == ["5/10", "10/10"]


def test_progress_bar_on_a_terminal_keeps_printed_lines_whole(monkeypatch, capsys):
    sine = load_example("sine_regression")

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    _train_briefly(sine, monkeypatch, stream)
    printed = capsys.readouterr().out.splitlines()
    assert all(re.fullmatch(r"step +\d+/10 +lr \d\.\d{4} +loss \d+\.\d{5}", ln) for ln in printed)
    assert len(printed) == 2
    drawn = stream.getvalue()
    assert "10/10" in drawn and "loss=" in drawn


# ---------------------------------------------------------------------------
# linear_regression.py
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def linear_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("linear")
    return run_script("linear_regression", "--fast", "--out", str(out)), out


def test_linear_exits_cleanly(linear_run):
    result, _ = linear_run
    assert result.returncode == 0, result.stderr


def test_linear_writes_every_figure_as_png(linear_run):
    _, out = linear_run
    names = sorted(p.name for p in out.iterdir())
    assert sorted(n for n in names if n.endswith(".png")) == LINEAR_FIGURES
    assert_pngs(out, LINEAR_FIGURES)
    # The animation is written when Pillow is there (matplotlib depends on it).
    if importlib.util.find_spec("PIL") is not None:
        assert (out / LINEAR_GIF).read_bytes().startswith(GIF_SIGNATURE)
    assert set(names) <= {*LINEAR_FIGURES, LINEAR_GIF}


def test_linear_prints_the_workflow_and_both_solutions(linear_run):
    result, out = linear_run
    stdout = result.stdout
    assert "X: (100, 2), y: (100,)" in stdout
    assert "Equal: True" in stdout  # fgrad's gradient matches the hand-derived one
    assert "jit: 1 trace, 999 replays" in stdout
    assert re.search(r"below 2 / max eig\(H\) = \d\.\d{3}$", stdout, re.MULTILINE)
    assert "(too large)" in stdout
    number = r"\s+(-?\d+\.\d{4})\s+(-?\d+\.\d{4})\s+\d+\.\d{5}$"
    exact = re.search(r"^closed form" + number, stdout, re.MULTILINE)
    gd = re.search(r"^GD, lr 0\.1, 100 steps" + number, stdout, re.MULTILINE)
    sgd = re.search(r"^SGD, 5 epochs" + number, stdout, re.MULTILINE)
    assert exact and gd and sgd
    intercept, slope = float(exact.group(1)), float(exact.group(2))
    assert abs(intercept - 3.5) < 0.2 and abs(slope - 2.0) < 0.2  # noise averages 0.5
    assert abs(float(gd.group(1)) - intercept) < 0.05
    assert abs(float(gd.group(2)) - slope) < 0.05
    assert str(out) in stdout


def test_jitted_gradient_descent_matches_eager():
    linear = load_example("linear_regression")
    X, y = linear.make_data(fgrad.random.key(0))
    step = fgrad.jit(linear.gd_step)
    eager_path, eager_losses = linear.gradient_descent(linear.W_START, X, y, 0.01, 300)
    jit_path, jit_losses = linear.gradient_descent(linear.W_START, X, y, 0.01, 300, step)
    assert step.stats.traces == 1 and step.stats.replays == 299
    assert step.stats.guard_failures == 0 and step.stats.eager_calls == 0
    assert jit_losses == eager_losses
    for w_jit, w_eager in zip(jit_path, eager_path):
        np.testing.assert_array_equal(w_jit, w_eager)


@pytest.mark.parametrize("name", ["sine_regression", "linear_regression"])
def test_rejects_a_negative_seed(name, capsys):
    example = load_example(name)
    with pytest.raises(SystemExit) as excinfo:
        example.main(["--seed", "-1"])
    assert excinfo.value.code != 0
    assert "--seed" in capsys.readouterr().err
