"""Timing, correctness checks, import-time and memory measurements, and table formatting.

Timing is interleaved: every round runs one block of steps per column
(``numpy``, ``fgrad``, ``fgrad.jit``, peers; the order is reversed on odd
rounds so that no column always runs right after another), and a column's
ratio is taken within each round against that round's NumPy block. The
reported ratio is the median of those per-round ratios, which cancels the slow
drift of a shared 2-core machine that a ratio of medians taken at different
moments would not.
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from workloads import Workload, flatten, max_rel_err

COLUMNS = ("numpy", "fgrad", "fgrad.jit", "autograd", "torch", "jax", "jax.jit")

# Target ratios (column value must be <= target), from the performance issue.
TARGETS: dict[str, dict[str, float]] = {
    # Performance round two (issue 12); round one was W1 2.5/1.0, W2 1.1/1.05, W3 10/3, W4 5/-.
    "W1": {"fgrad": 2.0, "fgrad.jit": 0.95},
    "W2-f32": {"fgrad": 1.05, "fgrad.jit": 0.95},
    "W2-f64": {"fgrad": 1.05, "fgrad.jit": 0.95},
    "W3": {"fgrad": 5.0, "fgrad.jit": 1.0},
    "W4": {"fgrad": 3.5, "fgrad.jit": 1.0},
    "memory": {"fgrad": 1.3, "fgrad.jit": 1.3},
}
IMPORT_TARGET_MS = 40.0

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# --------------------------------------------------------------------------- checks


@dataclass
class CheckResult:
    ok: dict[str, float] = field(default_factory=dict)  # column -> max relative error
    failed: dict[str, str] = field(default_factory=dict)  # column -> reason
    seconds: dict[str, float] = field(default_factory=dict)  # column -> time of the last call


CHECKED_CALLS = 2
"""Calls of each column whose results are checked before timing: for ``fgrad.jit`` the first
call traces (runs eagerly) and the second replays the recording, which is what is timed."""


def _dtypes(result: Any) -> list[str]:
    return [str(a.dtype) for a in flatten(result)]


def _check_calls(step: Callable[[], Any], ref: Any, rtol: float) -> tuple[float, float, str]:
    """Call ``step`` ``CHECKED_CALLS`` times, comparing every result with ``ref``.

    Returns the largest relative error, the duration of the last call, and why a
    result is wrong ("" when every result is right).
    """
    worst, seconds = 0.0, 0.0
    ref_dtypes = _dtypes(ref)
    for call in range(1, CHECKED_CALLS + 1):
        t0 = time.perf_counter()
        out = step()
        seconds = time.perf_counter() - t0
        err = max_rel_err(out, ref)
        worst = max(worst, err)
        which = "first" if call == 1 else f"call {call}"
        if err > rtol:
            return (
                worst,
                seconds,
                f"{which}: differs from the NumPy baseline by {err:.2e} (> {rtol:g})",
            )
        dts = _dtypes(out)
        if dts != ref_dtypes:
            bad = sorted({f"{d} (want {r})" for d, r in zip(dts, ref_dtypes) if d != r})
            return worst, seconds, f"{which}: result dtypes differ: " + ", ".join(bad)
    return worst, seconds, ""


def check_columns(wl: Workload) -> CheckResult:
    """Run every column ``CHECKED_CALLS`` times and compare each result with the NumPy baseline.

    This also warms the columns up; for ``fgrad.jit`` it checks the tracing call and a replay.
    """
    res = CheckResult()
    t0 = time.perf_counter()
    ref = wl.steps["numpy"]()
    res.seconds["numpy"] = time.perf_counter() - t0
    for col, step in wl.steps.items():
        if col == "numpy":
            continue
        try:
            err, res.seconds[col], why = _check_calls(step, ref, wl.rtol)
            for ecol, estep, eref in wl.extra_checks:
                if ecol == col and not why:
                    extra_err, _, why = _check_calls(estep, eref, wl.rtol)
                    err = max(err, extra_err)
        except Exception as exc:
            res.failed[col] = f"raised {type(exc).__name__}: {exc}"
            continue
        if why:
            res.failed[col] = why
        else:
            res.ok[col] = err
    return res


# --------------------------------------------------------------------------- timing


@dataclass
class Timing:
    reps: int  # steps per block
    times: list[float | None]  # seconds per step, by round (None: not run that round)
    ratios: list[float]  # per-round time / NumPy time of the same round

    @property
    def median_time(self) -> float:
        return statistics.median(t for t in self.times if t is not None)

    @property
    def median_ratio(self) -> float | None:
        return statistics.median(self.ratios) if self.ratios else None


def _per_call(step: Callable[[], Any], budget: float) -> float:
    n = 0
    t0 = time.perf_counter()
    while True:
        step()
        n += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= budget or n >= 10_000:
            return elapsed / n


def time_interleaved(
    steps: dict[str, Callable[[], Any]],
    rounds: int,
    block_s: float,
    slow_s: float,
    slow_rounds: int,
    progress: Callable[[str], None] | None = None,
    hints: dict[str, float] | None = None,
) -> dict[str, Timing]:
    """Median-of-rounds timing, every column's block in every round (slow ones in fewer).

    ``hints`` are the durations of earlier (warm-up) calls; a column whose call
    took longer than a block is not calibrated again.
    """
    names = list(steps)
    hints = hints or {}
    per_call = {
        name: hints[name]
        if hints.get(name, 0.0) > block_s
        else _per_call(steps[name], min(block_s, 0.05))
        for name in names
    }
    reps = {name: max(1, round(block_s / per_call[name])) for name in names}
    n_rounds = {
        name: rounds if per_call[name] <= slow_s else min(rounds, slow_rounds) for name in names
    }
    times: dict[str, list[float | None]] = {name: [None] * rounds for name in names}
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            if r >= n_rounds[name]:
                continue
            step = steps[name]
            n = reps[name]
            gc.collect()
            t0 = time.perf_counter()
            for _ in range(n):
                step()
            times[name][r] = (time.perf_counter() - t0) / n
        if progress is not None:
            progress(f"round {r + 1}/{rounds}")
    base = times["numpy"]
    out = {}
    for name in names:
        ratios = [t / b for t, b in zip(times[name], base) if t is not None and b is not None]
        out[name] = Timing(reps[name], times[name], ratios)
    return out


# --------------------------------------------------------------------------- import time

IMPORT_STATEMENTS = {
    "numpy": "import numpy",
    "fgrad": "import fgrad",
    "autograd": "import autograd",
    "torch": "import torch",
    "jax": "import jax",
}


def _child_env() -> dict[str, str]:
    """The environment of timed subprocesses: this repo importable, bytecode caching on.

    ``PYTHONDONTWRITEBYTECODE`` (set by some shells and tools) would make every import
    recompile fgrad from source, which no installed user sees; the warm-up run below
    writes the ``.pyc`` files that later runs load.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = REPO_ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _run_import(stmt: str, env: dict[str, str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one ``python -c stmt``."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", stmt], env=env, cwd=REPO_ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"python -c {stmt!r} exited with {proc.returncode}")
    return wall, usage.ru_utime + usage.ru_stime


def measure_imports(columns: Sequence[str], runs: int) -> dict[str, Any]:
    """Wall time of ``python -c "import X"``, interleaved with ``import numpy`` runs.

    The extra time is the median over runs of (import X) - (import numpy) of
    the same run. CPU time (user + system) is recorded too: it is less
    disturbed by other processes on a busy machine than wall time.
    """
    env = _child_env()
    names = ["numpy"] + [c for c in columns if c in IMPORT_STATEMENTS and c != "numpy"]
    wall: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    for stmt in {IMPORT_STATEMENTS[n] for n in names}:  # warm the file cache
        _run_import(stmt, env)
    for r in range(runs):
        for name in names if r % 2 == 0 else names[::-1]:
            w, c = _run_import(IMPORT_STATEMENTS[name], env)
            wall[name].append(w)
            cpu[name].append(c)
    out: dict[str, Any] = {}
    for name in names:
        out[name] = {
            "times_s": wall[name],
            "cpu_s": cpu[name],
            "median_s": statistics.median(wall[name]),
            "median_cpu_s": statistics.median(cpu[name]),
            "median_extra_s": statistics.median([t - b for t, b in zip(wall[name], wall["numpy"])]),
            "median_extra_cpu_s": statistics.median(
                [t - b for t, b in zip(cpu[name], cpu["numpy"])]
            ),
        }
    return out


# --------------------------------------------------------------------------- memory


def measure_memory(script: str, columns: Sequence[str], rss_runs: int) -> dict[str, Any]:
    """Peak memory of one W2 float64 step, each column in fresh subprocesses."""
    env = _child_env()
    out: dict[str, Any] = {}
    for col in columns:
        entry: dict[str, Any] = {}
        for mode, runs in (("tracemalloc", 1), ("rss", rss_runs), ("rss_mmap", rss_runs)):
            if mode == "tracemalloc" and col in ("torch", "jax", "jax.jit"):
                entry[mode] = None  # their buffers bypass Python's allocator hooks
                continue
            child_env = env
            if mode == "rss_mmap":
                # glibc raises its mmap threshold after the first large free, after which
                # freed buffers stay in the heap and peak RSS depends on the order of
                # allocations; pinning the threshold makes RSS follow the live arrays.
                child_env = dict(env, MALLOC_MMAP_THRESHOLD_="131072")
            values = []
            for _ in range(runs):
                proc = subprocess.run(
                    [
                        sys.executable,
                        script,
                        "--memory-child",
                        col,
                        "--memory-mode",
                        "rss" if mode == "rss_mmap" else mode,
                    ],
                    capture_output=True,
                    text=True,
                    env=child_env,
                    cwd=REPO_ROOT,
                )
                if proc.returncode != 0:
                    entry["error"] = proc.stderr.strip().splitlines()[-1:] or ["failed"]
                    break
                reply = json.loads(proc.stdout.strip().splitlines()[-1])
                values.append(reply["bytes"])
                entry["output_bytes"] = reply["output_bytes"]
            entry[mode] = statistics.median(values) if values else None
            entry[mode + "_runs"] = values
        out[col] = entry
    return out


def _read_status(field_name: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field_name} not in /proc/self/status")


def _malloc_trim() -> None:
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except Exception:
        pass


def memory_child(step: Callable[[], Any], mode: str) -> tuple[int, int]:
    """Bytes of peak memory of one ``step()`` call after one warm-up call, and of its outputs.

    The outputs (loss, gradients, updated parameters) stay alive until the
    measurement ends, as they would in a training loop, so they are part of
    the peak.
    """
    out = step()
    output_bytes = sum(a.nbytes for a in flatten(out))
    del out
    gc.collect()
    _malloc_trim()
    if mode == "tracemalloc":
        import tracemalloc

        tracemalloc.start()
        result = step()  # noqa: F841 -- the step's outputs stay alive, as in training
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return int(peak), output_bytes
    # Peak RSS during the step minus RSS before it; the kernel's high-water mark is reset
    # through /proc/self/clear_refs where possible, else ru_maxrss is used.
    rss0 = _read_status("VmRSS")
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        step()
        return _read_status("VmHWM") - rss0, output_bytes
    except OSError:
        import resource

        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        step()
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        return after - max(before, rss0), output_bytes


# --------------------------------------------------------------------------- formatting


def fmt_time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        ms = seconds * 1e3
        return f"{ms:.3g} ms" if ms < 100 else f"{ms:.0f} ms"
    us = seconds * 1e6
    return f"{us:.3g} µs" if us < 100 else f"{us:.0f} µs"


def fmt_bytes(n: float) -> str:
    return f"{n / 2**20:.1f} MiB"


def fmt_ratio(r: float) -> str:
    return f"{r:.2f}×" if r < 100 else f"{r:.0f}×"


def verdict(value: float, target: float | None) -> str:
    if target is None:
        return ""
    return " ✓" if value <= target else " ✗"


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    lines = [
        "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    for r in rows:
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")
    return "\n".join(lines)


def machine_header(extra: dict[str, str]) -> dict[str, str]:
    import datetime
    import platform

    info = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "numpy": np.__version__ + _blas_name(),
        "cpus": f"{os.cpu_count()} (usable {len(os.sched_getaffinity(0))}){_cpu_model()}",
        "platform": platform.platform(),
        "load average at start": load_average(),
    }
    info.update(extra)
    return info


def _blas_name() -> str:
    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg["Build Dependencies"]["blas"]
        return f" ({blas['name']} {blas.get('version', '')})".replace(" )", ")")
    except Exception:
        return ""


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return ", " + line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def git_revision() -> str:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], capture_output=True, text=True, cwd=REPO_ROOT, check=True
        ).stdout.strip()

    try:
        rev = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--", "fgrad")
        return rev + (" + uncommitted changes in fgrad/" if dirty else "")
    except Exception:
        return "unknown"


def load_average() -> str:
    try:
        return " / ".join(f"{v:.2f}" for v in os.getloadavg()) + " (1/5/15 min)"
    except OSError:
        return "unknown"
