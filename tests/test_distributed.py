"""``fgrad.distributed``: data-parallel ``value_and_grad`` and sweeps on a 2-worker LocalCluster.

The cluster runs worker processes (as on a real cluster) and is started once for the module
and stopped at its end; every Dask wait is bounded by ``TIMEOUT_S``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import fgrad
import fgrad.numpy as fnp
from fgrad import optim

distributed = pytest.importorskip("distributed")
from fgrad.distributed import Cluster, WorkerLostWarning  # noqa: E402

SINGLE_PROCESS_RTOL = 1e-12
"""Sharded means combined on the driver against one mean over all the data: rounding only."""
TIMEOUT_S = 60
N_EXAMPLES = 203
LR = 0.5


def mlp_loss(params: Any, x: Any, y: Any) -> Any:
    (w1, b1), (w2, b2) = params
    logits = (fnp.tanh(x @ w1 + b1) @ w2 + b2)[:, 0]
    return fnp.mean(fnp.logaddexp(0.0, logits) - y * logits)


def init(seed: int) -> Any:
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=(2, 8)), np.zeros(8)), (rng.normal(size=(8, 1)) * 0.5, np.zeros(1))]


def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(N_EXAMPLES, 2))
    return x, (x[:, 0] * x[:, 1] > 0).astype(np.float64)


def train(step: Any, params: Any, steps: int, on_step: Any = None) -> tuple[Any, list[float]]:
    curve = []
    for k in range(steps):
        value, grads = step(params)
        params = optim.sgd_update(params, grads, LR)
        curve.append(float(value))
        if on_step is not None:
            on_step(k)
    return params, curve


def train_seed(seed: int) -> tuple[Any, list[float]]:
    x, y = data()
    return train(lambda p: fgrad.value_and_grad(mlp_loss)(p, x, y), init(seed), 5)


def failing_loss(params: Any, x: Any) -> Any:
    raise ValueError("a bug in the user's loss")


def missing_key_loss(params: Any, x: Any) -> Any:
    return {"other": params}["weights"]


def assert_trees_close(got: Any, want: Any, rtol: float) -> None:
    for g, w in zip(fgrad.tree.tree_leaves(got), fgrad.tree.tree_leaves(want)):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol * 1e-3)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with Cluster(n_workers=2, timeout=TIMEOUT_S) as started:
            started.client.wait_for_workers(2, timeout=TIMEOUT_S)
            yield started


def _listening(pids: set[int]) -> list[str]:
    psutil = pytest.importorskip("psutil")
    return [
        f"{conn.laddr.ip}:{conn.laddr.port}"
        for conn in psutil.net_connections(kind="inet")
        if conn.status == psutil.CONN_LISTEN and conn.pid in pids
    ]


def test_everything_listens_on_localhost_only(cluster: Cluster) -> None:
    info = cluster.client.scheduler_info()
    addresses = [info["address"]]
    for address, worker in info["workers"].items():
        addresses += [address, worker["nanny"]]
    assert len(addresses) == 5
    for address in addresses:
        assert address.startswith("tcp://127.0.0.1:"), address
    pids = {os.getpid(), *cluster.client.run(os.getpid).values()}
    pids |= set(cluster.client.run(os.getppid).values())  # the nannies
    sockets = _listening(pids)
    assert len(sockets) >= 5, sockets
    assert all(s.startswith("127.0.0.1:") for s in sockets), sockets


def test_a_threaded_local_cluster_listens_on_localhost_only() -> None:
    before = set(_listening({os.getpid()}))
    with Cluster(n_workers=1, processes=False, timeout=TIMEOUT_S) as threaded:
        threaded.map(abs, [-1])
        opened = set(_listening({os.getpid()})) - before
    assert opened, "the cluster's sockets were not found, so nothing was checked"
    assert all(s.startswith("127.0.0.1:") for s in opened), opened


def test_sharded_value_and_grad_equals_single_process(cluster: Cluster) -> None:
    x, y = data()
    params = init(0)
    want_value, want_grads = fgrad.value_and_grad(mlp_loss)(params, x, y)
    for n_shards in (None, 3, 5):
        step = cluster.value_and_grad(mlp_loss, x, y, n_shards=n_shards)
        value, grads = step(params)
        assert sum(step.shard_sizes) == N_EXAMPLES
        assert len(set(step.shard_sizes)) > 1, "uneven shards test the weighting"
        np.testing.assert_allclose(value, want_value, rtol=SINGLE_PROCESS_RTOL)
        assert_trees_close(grads, want_grads, SINGLE_PROCESS_RTOL)
        assert fgrad.tree.tree_structure(grads) == fgrad.tree.tree_structure(params)
        param_bytes = sum(leaf.nbytes for leaf in fgrad.tree.tree_leaves(params))
        assert step.bytes_per_step == 2 * len(step.shard_sizes) * param_bytes
        step.close()


def test_sum_reduction_and_a_penalty_added_once(cluster: Cluster) -> None:
    x, y = data()
    params = init(1)

    def summed(p: Any, x: Any, y: Any) -> Any:
        return mlp_loss(p, x, y) * x.shape[0]

    def penalty(p: Any) -> Any:
        return 0.01 * sum(fnp.sum(w**2) for w, _ in p)

    def full(p: Any) -> Any:
        return summed(p, x, y) + penalty(p)

    step = cluster.value_and_grad(summed, x, y, reduction="sum", penalty=penalty)
    value, grads = step(params)
    want_value, want_grads = fgrad.value_and_grad(full)(params)
    np.testing.assert_allclose(value, want_value, rtol=SINGLE_PROCESS_RTOL)
    assert_trees_close(grads, want_grads, SINGLE_PROCESS_RTOL)
    step.close()


@pytest.mark.parametrize("noticed", [True, False], ids=["between-steps", "during-a-step"])
def test_training_continues_to_the_same_params_after_a_worker_is_killed(
    cluster: Cluster, noticed: bool
) -> None:
    x, y = data()
    steps = 8
    single, single_curve = train(lambda p: fgrad.value_and_grad(mlp_loss)(p, x, y), init(2), steps)

    step = cluster.value_and_grad(mlp_loss, x, y)
    uninterrupted, curve = train(step, init(2), steps)
    step.close()
    assert_trees_close(uninterrupted, single, SINGLE_PROCESS_RTOL)
    np.testing.assert_allclose(curve, single_curve, rtol=SINGLE_PROCESS_RTOL)

    step = cluster.value_and_grad(mlp_loss, x, y)
    pids = cluster.client.run(os.getpid)
    victim = sorted(pids)[0]

    def kill_after_step_three(k: int) -> None:
        if k == 2:
            os.kill(pids[victim], signal.SIGKILL)
            if not noticed:
                return
            deadline = time.monotonic() + TIMEOUT_S
            while victim in cluster.workers and time.monotonic() < deadline:
                time.sleep(0.05)
            assert victim not in cluster.workers, "the killed worker is still registered"

    with pytest.warns(WorkerLostWarning, match=r"shard\(s\) \[0\].*scattered again"):
        interrupted, _ = train(step, init(2), steps, on_step=kill_after_step_three)
    assert step.recoveries >= 1
    step.close()
    for got, want in zip(
        fgrad.tree.tree_leaves(interrupted), fgrad.tree.tree_leaves(uninterrupted)
    ):
        np.testing.assert_array_equal(got, want)
    cluster.client.wait_for_workers(2, timeout=TIMEOUT_S)


def test_map_runs_a_sweep_and_returns_results_in_order(cluster: Cluster) -> None:
    runs = cluster.map(train_seed, [3, 4, 5])
    for seed, (params, curve) in zip([3, 4, 5], runs):
        want_params, want_curve = train_seed(seed)
        np.testing.assert_array_equal(curve, want_curve)
        assert_trees_close(params, want_params, SINGLE_PROCESS_RTOL)
    assert runs[0][1] != runs[1][1]


def test_errors_name_what_is_wrong(cluster: Cluster) -> None:
    x, y = data()
    with pytest.raises(ValueError, match=r"data\[0\] \(203, 2\), data\[1\] \(202,\)"):
        cluster.value_and_grad(mlp_loss, x, y[:-1])
    with pytest.raises(ValueError, match="reduction must be 'mean' or 'sum'"):
        cluster.value_and_grad(mlp_loss, x, y, reduction="max")
    with pytest.raises(
        ValueError, match=r"n_shards must be an int from 1 to the number of examples \(3\)"
    ):
        cluster.value_and_grad(mlp_loss, x[:3], y[:3], n_shards=4)
    with pytest.raises(TypeError, match="give the data arrays"):
        cluster.value_and_grad(mlp_loss)
    step = cluster.value_and_grad(failing_loss, x)
    with pytest.raises(ValueError, match="a bug in the user's loss"):
        step(init(0))
    step.close()
    step = cluster.value_and_grad(missing_key_loss, x)
    started = time.monotonic()
    with pytest.raises(KeyError, match="weights"):
        step(init(0))
    assert time.monotonic() - started < 5.0, "a user's error is raised at once, not retried"
    assert step.recoveries == 0
    step.close()


def test_import_fgrad_does_not_need_dask_and_a_missing_extra_is_named() -> None:
    script = (
        "import sys\n"
        "import fgrad, fgrad.numpy\n"
        "assert 'distributed' not in sys.modules and 'dask' not in sys.modules\n"
        "sys.modules['distributed'] = None\n"
        "try:\n"
        "    import fgrad.distributed\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=TIMEOUT_S
    )
    assert done.returncode == 0, done.stderr
    assert "pip install 'fgrad[distributed]'" in done.stdout
