"""Resources over long runs: no memory growth, thread safety, bounded jit caches."""

from __future__ import annotations

import gc
import sys
import threading
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import fgrad
import fgrad.numpy as fnp
from fgrad import nn, optim, random

TRAINING_STEPS = 10_000
WARMUP_STEPS = 100
PEAK_WINDOW_STEPS = 20
MAX_GROWTH_BYTES = 64 * 1024
"""Allowed growth of traced memory over ``TRAINING_STEPS`` steps after a warm-up: of the
memory in use (after a garbage collection), and of the peak during ``PEAK_WINDOW_STEPS`` steps.
A leak of one float per step (a list slot and a float object, 32 bytes) grows by about
320 KiB over 10^4 steps, five times this bound."""

LEARNING_RATE = 0.05

init_mlp, apply_mlp = nn.serial(nn.Dense(8), nn.Tanh, nn.Dense(1))


def mse(params: Any, X: Any, y: Any) -> Any:
    return fnp.mean((apply_mlp(params, X)[:, 0] - y) ** 2)


value_and_grad_mse = fgrad.value_and_grad(mse)


def train_step(params: Any, X: np.ndarray, y: np.ndarray) -> tuple[Any, Any]:
    loss, grads = value_and_grad_mse(params, X, y)
    return loss, optim.sgd_update(params, grads, LEARNING_RATE)


jitted_train_step = fgrad.jit(train_step)


def _problem() -> tuple[Any, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((16, 3))
    y = np.sin(X.sum(axis=1))
    _, params = init_mlp(random.key(0), (-1, 3))
    return params, X, y


def memory_growth(step: Callable[..., tuple[Any, Any]]) -> tuple[int, int]:
    """Growth of traced memory in use and of a window's peak over ``TRAINING_STEPS`` steps."""
    params, X, y = _problem()

    def window() -> tuple[int, int]:
        """Memory in use, then the peak of ``PEAK_WINDOW_STEPS`` steps."""
        nonlocal params
        gc.collect()
        current, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        for _ in range(PEAK_WINDOW_STEPS):
            _, params = step(params, X, y)
        return current, tracemalloc.get_traced_memory()[1]

    gc.collect()
    tracemalloc.start()
    try:
        for _ in range(WARMUP_STEPS):
            _, params = step(params, X, y)
        current_before, peak_before = window()
        for _ in range(TRAINING_STEPS):
            loss, params = step(params, X, y)
        current_after, peak_after = window()
    finally:
        tracemalloc.stop()
    assert np.isfinite(loss)
    return current_after - current_before, peak_after - peak_before


@pytest.mark.parametrize("step", [train_step, jitted_train_step], ids=["eager", "jit"])
def test_training_does_not_grow_memory(step: Callable[..., tuple[Any, Any]]) -> None:
    current, peak = memory_growth(step)
    assert current <= MAX_GROWTH_BYTES, f"memory grew by {current} bytes"
    assert peak <= MAX_GROWTH_BYTES, f"peak memory grew by {peak} bytes"


# --- threads -----------------------------------------------------------------------------

THREADS = 8
CALLS_PER_THREAD = 40


def nested_grad(params: Any, X: np.ndarray, y: np.ndarray) -> Any:
    """A gradient of a gradient whose inner function closes over the outer variable.

    Inner operations mix tracers of both traces, so each thread must see its own trace levels.
    """

    def outer(p: Any) -> Any:
        scale = fnp.mean(fnp.tanh(apply_mlp(p, X)) ** 2)  # work between opening the two traces

        def inner(q: Any) -> Any:
            return mse(q, X, y) * scale

        grads = fgrad.grad(inner)(p)
        pairs = zip(fgrad.tree.tree_leaves(grads), fgrad.tree.tree_leaves(p))
        return sum(fnp.sum(g * w) for g, w in pairs)

    return fgrad.grad(outer)(params)


def _inputs(k: int) -> tuple[Any, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(100 + k)
    X = rng.standard_normal((8, 3))
    _, params = init_mlp(random.key(k), (-1, 3))
    return params, X, np.cos(X[:, 0])


def _identical(a: Any, b: Any) -> bool:
    la, lb = fgrad.tree.tree_leaves(a), fgrad.tree.tree_leaves(b)
    return len(la) == len(lb) and all(
        np.asarray(x).dtype == np.asarray(y).dtype and np.array_equal(x, y) for x, y in zip(la, lb)
    )


@pytest.mark.parametrize(
    "fun", [value_and_grad_mse, nested_grad], ids=["value_and_grad", "nested_grad"]
)
def test_threads_running_at_once_give_the_serial_results(fun: Callable[..., Any]) -> None:
    inputs = [_inputs(k) for k in range(THREADS * 2)]
    serial = [fun(*args) for args in inputs]
    barrier = threading.Barrier(THREADS)
    mismatches: list[tuple[int, int]] = []
    errors: list[BaseException] = []

    def worker(t: int) -> None:
        try:
            barrier.wait()
            for call in range(CALLS_PER_THREAD):
                k = (t + call) % len(inputs)
                if not _identical(fun(*inputs[k]), serial[k]):
                    mismatches.append((t, k))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: interleave the traces
    try:
        threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert not errors, errors
    assert not mismatches, f"(thread, input) pairs differing from the serial result: {mismatches}"


# --- jit caches ----------------------------------------------------------------------------


def test_jit_caches_stay_within_max_signatures_and_max_variants() -> None:
    max_signatures, max_variants = 3, 2

    def scaled_by_first(x: Any) -> Any:
        return x * float(x[0])  # a value read: every new x[0] fails the guard

    jitted = fgrad.jit(scaled_by_first, max_signatures=max_signatures, max_variants=max_variants)
    rng = np.random.default_rng(1)
    retraces = pytest.warns(fgrad.JitRetraceWarning, match="scaled_by_first")
    with retraces:
        for call in range(210):
            # 7 signatures in turn, 5 calls each, a new value every call
            x = rng.standard_normal(1 + (call // 5) % 7)
            np.testing.assert_array_equal(jitted(x), scaled_by_first(x), strict=True)
            programs = list(jitted._cache.values())
            assert len(programs) <= max_signatures
            assert all(len(variants) <= max_variants for variants in programs)
            assert jitted.stats.variants == sum(len(variants) for variants in programs)
    assert jitted.stats.guard_failures > 0 and jitted.stats.eager_calls > 0
    assert len(jitted._cache) == max_signatures
    assert jitted.stats.variants == max_signatures * max_variants
