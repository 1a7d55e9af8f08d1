"""examples/distributed_training.py: with --fast, a 2-worker LocalCluster trains to the
one-process parameters, runs the sweep, and writes its figures."""

import re
from pathlib import Path

import pytest
from example_runs import run_example

pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "distributed_training.py"
FIGURES = ["01_loss_curves.png", "02_decision_boundaries.png", "03_sweep.png"]


def test_fast_run_matches_one_process_and_writes_every_figure(tmp_path: Path) -> None:
    done = run_example(SCRIPT, "--fast", "--out", str(tmp_path), timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert re.search(
        r"Dask cluster: 2 workers at tcp://127\.0\.0\.1:\d+, tcp://127\.0\.0\.1:\d+", done.stdout
    )
    gap = re.search(r"2 workers vs one process: ([0-9.e+-]+)", done.stdout)
    assert gap is not None and float(gap.group(1)) < 1e-12, done.stdout
    assert re.search(r"Test accuracy: one process (\S+), 2 workers \1", done.stdout)
    assert re.search(r"Sweep: 9 runs; best test accuracy", done.stdout)
    assert sorted(p.name for p in tmp_path.iterdir()) == FIGURES
    for name in FIGURES:
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
