"""Smoke test of examples/moons.py: a --fast run writes every figure and printout."""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from fgrad import plot as fplot
from fgrad import random

pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "moons.py"

EXPECTED_FIGURES = [
    "01_linear_regression_fit.png",
    "02_blobs_and_moons.png",
    "03_shallow_model_sigmoid.png",
    "04_deep_model_sigmoid.png",
    "05_deep_model_with_sigmoid_activation.png",
    "06_activation_gallery.png",
    "07_moons_predictions.png",
    "08_decision_boundary.png",
    "09_loss_curve.png",
]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run_script(*args):
    """Run the example as a user would, importing fgrad from this checkout."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["MPLBACKEND"] = "Agg"
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


@pytest.fixture(scope="module")
def fast_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("moons")
    return run_script("--fast", "--out", str(out)), out


def test_exits_cleanly(fast_run):
    result, _ = fast_run
    assert result.returncode == 0, result.stderr


def test_writes_every_figure_as_png(fast_run):
    _, out = fast_run
    assert sorted(p.name for p in out.iterdir()) == EXPECTED_FIGURES
    for name in EXPECTED_FIGURES:
        data = (out / name).read_bytes()
        assert len(data) > 1000, name
        assert data.startswith(PNG_SIGNATURE), name


def test_prints_the_notebook_printouts(fast_run):
    result, out = fast_run
    stdout = result.stdout
    assert "Hidden layer:" in stdout
    assert "Shape of hidden layer: \t(1, 4)" in stdout
    assert "Shape of output: \t(1, 2)" in stdout
    assert re.search(r"^Cost: \d\.\d{3}$", stdout, re.MULTILINE)
    epochs = re.findall(r"^Loss for epoch (\d+): \d+\.\d{4}$", stdout, re.MULTILINE)
    assert epochs and epochs == sorted(epochs, key=int)
    assert re.search(r"^Train accuracy \(notebook model.*: \d+\.\d%$", stdout, re.MULTILINE)
    assert re.search(r"^Train accuracy \(well-done model.*: \d+\.\d%$", stdout, re.MULTILINE)
    assert re.search(r"^Test accuracy \(well-done model.*: \d+\.\d%$", stdout, re.MULTILINE)
    assert str(out) in stdout


def load_example():
    spec = importlib.util.spec_from_file_location("moons_example", SCRIPT)
    moons = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(moons)
    return moons


def test_rejects_a_negative_seed(capsys):
    moons = load_example()
    with pytest.raises(SystemExit) as excinfo:
        moons.main(["--seed", "-1"])
    assert excinfo.value.code != 0
    assert "--seed" in capsys.readouterr().err


def test_well_done_model_reaches_the_required_held_out_accuracy(tmp_path, capsys):
    """The full run's training (``--fast`` skips this check) with cheap figures: about 1 s."""
    moons = load_example()
    settings = moons.FAST._replace(adam_epochs=moons.FULL.adam_epochs)
    well_done_key = random.split(random.key(42), 5)[4]  # as main() derives it from --seed 42
    figures = fplot.FigureSaver(tmp_path, dpi=settings.dpi, tight_layout=False)
    _, test_accuracy = moons.learn_it_well(well_done_key, figures, settings)
    capsys.readouterr()
    assert test_accuracy >= moons.REQUIRED_TEST_ACCURACY
