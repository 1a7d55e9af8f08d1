"""examples/per_example_gradients.py: runs with --fast, writes its figures, and its per-example
gradients (one ``vmap`` call) equal a Python loop of ``grad`` without falling back to one."""

import importlib.util
import re
import warnings
from pathlib import Path

import numpy as np
from example_runs import run_example

import fgrad
from fgrad import datasets, random

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "per_example_gradients.py"
FIGURES = ["01_gradient_norms.png", "02_hardest_points.png", "03_decision_boundaries.png"]


def test_fast_run_writes_every_figure(tmp_path: Path) -> None:
    done = run_example(SCRIPT, "--fast", "--out", str(tmp_path), timeout=180)
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr, done.stderr
    assert re.search(r"300 per-example gradients: vmap .* ms, Python loop .* ms", done.stdout)
    assert sorted(p.name for p in tmp_path.iterdir()) == FIGURES
    for name in FIGURES:
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_per_example_gradients_equal_a_loop_and_clipping_bounds_each_norm() -> None:
    spec = importlib.util.spec_from_file_location("per_example_gradients", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    X, y = datasets.make_moons(20, noise=0.1, random_state=0)
    _, params = module.MODEL.init(random.key(1), (-1, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error", fgrad.BatchingFallbackWarning)
        grads = module.per_example_grads(params, X, y)
    loop = [fgrad.grad(module.example_loss)(params, X[i], y[i]) for i in range(20)]
    for batched, single in zip(
        fgrad.tree.tree_leaves(grads), zip(*map(fgrad.tree.tree_leaves, loop))
    ):
        np.testing.assert_allclose(batched, np.stack(single), rtol=1e-10, atol=1e-14)
    norms = module.global_norms(grads)
    quiet = module.Privacy(clip_norm=0.01, noise_multiplier=0.0)
    mean = module.clipped_noisy_mean(grads, random.key(2), quiet)
    total = np.sqrt(sum(np.sum(g**2) for g in fgrad.tree.tree_leaves(mean)))
    assert norms.max() > 0.01
    assert total <= 0.01 + 1e-12
