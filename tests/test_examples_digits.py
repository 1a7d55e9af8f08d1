"""examples/digits_cnn.py: a --fast run writes its figures and checkpoint; the jitted step
replays the eager step bit for bit; the reloaded checkpoint is the trained model."""

import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest
from example_runs import run_example

import fgrad
from fgrad import random

pytest.importorskip("matplotlib")
pytest.importorskip("sklearn")
pytest.importorskip("tqdm")

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "digits_cnn.py"
OUTPUTS = [
    "01_training_curves.png",
    "02_misclassified.png",
    "03_first_layer_filters.png",
    "04_confusion_matrix.png",
    "digits_cnn.npz",
]


def load_example():
    spec = importlib.util.spec_from_file_location("digits_cnn_example", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fast_run_writes_every_figure_and_the_checkpoint(tmp_path: Path) -> None:
    done = run_example(SCRIPT, "--fast", "--out", str(tmp_path), timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr, done.stderr
    assert "1437 training and 360 test digits" in done.stdout
    assert re.search(r"^epoch  2/2   loss \d\.\d{4}   train .*%   test .*%$", done.stdout, re.M)
    assert "jit: 1 trace(s), 43 replays" in done.stdout
    assert "reloaded model predicts the same: True" in done.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == OUTPUTS
    for name in OUTPUTS[:-1]:
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_jitted_step_replays_the_eager_step_bit_for_bit() -> None:
    digits = load_example()
    x_train, _, y_train, _ = digits.load_data()
    _, params = digits.MODEL.init(random.key(3), (-1, 8, 8, 1))
    optimizer = fgrad.optim.adam(1e-3)
    jitted = digits.make_step(optimizer)
    batches = [(x_train[i : i + 64], y_train[i : i + 64]) for i in (0, 64, 128)]
    results = []
    for step in (jitted, jitted.fun):
        p, state = params, optimizer.init(params)
        for xb, yb in batches:
            p, state, loss = step(p, state, xb, yb)
        results.append((p, state, loss))
    assert jitted.stats.traces == 1 and jitted.stats.replays == 2
    (p_jit, s_jit, loss_jit), (p_eager, s_eager, loss_eager) = results
    for a, b in zip(
        fgrad.tree.tree_leaves((p_jit, s_jit)), fgrad.tree.tree_leaves((p_eager, s_eager))
    ):
        np.testing.assert_array_equal(a, b)
    assert float(loss_jit) == float(loss_eager)
