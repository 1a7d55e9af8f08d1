"""W7, first-call latency: the first step in a fresh process against the steady-state step.

Usage::

    .venv/bin/python benchmarks/first_call.py --jax-python /tmp/jaxenv/bin/python
    .venv/bin/python benchmarks/first_call.py --repeats 3 --workloads W1   # quicker
    .venv/bin/python benchmarks/first_call.py --profile W1   # cProfile of the first jit call

For the W1 step (moons-small, float64) and the W2 step (784-1024-1024-10 ReLU MLP, batch 512,
float32 and float64), built by ``workloads.BUILDERS`` exactly as ``run.py`` times them, every
measurement runs in a fresh subprocess (``--repeats`` of them, interleaved, the order reversed
on odd repeats) that imports NumPy, then fgrad or JAX, then builds the data, and only then
calls the step: the first call, the second, the third, and ``steady`` (the median of the later
calls). Import times and the build (data, closures; for JAX the transfer of the arguments to
the device) are reported apart, so they are not part of the first call. Columns:

* ``numpy``: the hand-written step, for reference (NumPy's own first-use costs);
* ``fgrad``: the eager step ``value_and_grad(loss)`` + ``optim.sgd_update``;
* ``fgrad.jit``: ``fgrad.jit`` of that step. The first call traces it (an eager run under a
  recording trace), prunes and optimises the recording (``_jit._record``) and generates and
  compiles the replay and the argument check (``_jit._Program``); both are timed inside the
  first call by wrappers installed in the child (a few µs);
* ``jax.jit``: ``jax.jit`` of the step written in JAX (``peers.py``), and ``jax.aot``: the same
  function through ``jax.jit(f).trace(...)``, ``.lower()``, ``.compile()``, each timed.

The JAX columns run under ``--jax-python`` (default: this interpreter); when that interpreter
cannot import jax they are skipped with a line saying so. ``OPENBLAS_NUM_THREADS``,
``OMP_NUM_THREADS`` and ``MKL_NUM_THREADS`` default to 1 in the children, as in the other
benchmarks. Before anything is reported, each child checks (after its timed calls, so the
checks cost nothing timed) that its first and last results match the NumPy step to the
workload's tolerance with its dtypes, that the first result equals the last, and for
``fgrad.jit`` that it equals the eager fgrad step. Times are medians over the repeats (the
minimum of the first calls is shown too); the machine is shared, so the load average is printed
at the end. A full run takes about three minutes on two cores.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import importlib
import json
import os
import pstats
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(HERE)
WORKLOADS = ("W1", "W2-f32", "W2-f64")
COLUMNS = ("numpy", "fgrad", "fgrad.jit", "jax.jit", "jax.aot")
JAX_COLUMNS = ("jax.jit", "jax.aot")
CALLS = {"W1": 203, "W2-f32": 10, "W2-f64": 10}
"""Calls per child: the first three are reported one by one, ``steady`` is the rest's median."""
REPORTED_CALLS = 3
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
PROFILE_LINES = 18
TRACE_RUN = "tracing run (the step under the jit trace)"
TOP_PHASES = (
    "record (prune, optimise)",
    "program (codegen + compile)",
    "describe the signature (for a retrace warning)",
)
SOURCE_PHASES = ("replay source", "argument-check source")
"""Steps of ``fgrad.jit``'s first call timed apart; the source phases are inside the program."""


# --------------------------------------------------------------------------- child side


def _seconds_since(start: float) -> float:
    return time.perf_counter() - start


def _jit_phase_timers(phases: dict[str, float], sizes: dict[str, int]) -> None:
    """Wrap the steps of ``fgrad.jit``'s first call so each one's time adds up in ``phases``."""
    jit_module: Any = importlib.import_module("fgrad._jit")

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                phases[name] = phases.get(name, 0.0) + _seconds_since(start)

        return wrapper

    record = jit_module._record

    def counting_record(*args: Any, **kwargs: Any) -> Any:
        rec = record(*args, **kwargs)
        sizes["instructions"] = len(rec.ops)
        return rec

    jit_module._call = timed(TRACE_RUN, jit_module._call)
    jit_module._record = timed(TOP_PHASES[0], counting_record)
    program_class = jit_module._Program
    program_class.__init__ = timed(TOP_PHASES[1], program_class.__init__)
    jitted_class = jit_module.Jitted
    jitted_class._signature_change = timed(TOP_PHASES[2], jitted_class._signature_change)
    jit_module._generate = timed(SOURCE_PHASES[0], jit_module._generate)
    jit_module._unpack_source = timed(SOURCE_PHASES[1], jit_module._unpack_source)


def _capturing_peers() -> Any:
    """``peers.Peers`` for the JAX columns, remembering the step function and its arguments."""
    peers_module = importlib.import_module("peers")

    class CapturingPeers(peers_module.Peers):  # type: ignore[name-defined]
        captured: tuple[Callable[..., Any], tuple[Any, ...]] | None = None

        def _jax_columns(
            self, wl: Any, columns: set[str], fn: Callable[..., Any], *args: Any
        ) -> None:
            self.captured = (fn, args)
            super()._jax_columns(wl, columns, fn, *args)

    return CapturingPeers({"jax.jit"})


def _identical(a: Any, b: Any, flatten: Callable[[Any], Any]) -> bool:
    import numpy as np

    return all(np.array_equal(x, y) for x, y in zip(flatten(a), flatten(b)))


def _profile_text(profiler: cProfile.Profile) -> str:
    """The top functions by cumulative and by own time, in ms (pstats prints whole ms)."""
    stats: dict[tuple[str, int, str], tuple[Any, ...]] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    lines = []
    for title, column in (("cumulative", 3), ("own time", 2)):
        lines.append(f"{'calls':>7} {'own ms':>8} {'cum ms':>8}  function (by {title})")
        ranked = sorted(stats.items(), key=lambda item: -item[1][column])[:PROFILE_LINES]
        for (filename, line, function), (_, calls, own, cumulative, _) in ranked:
            where = os.path.relpath(filename, REPO_ROOT) if filename.startswith("/") else filename
            lines.append(
                f"{calls:7d} {own * 1e3:8.3f} {cumulative * 1e3:8.3f}  {where}:{line}({function})"
            )
        lines.append("")
    return "\n".join(lines)


def run_child(key: str, column: str, profile: bool) -> dict[str, Any]:
    """One fresh-process measurement of ``column`` on workload ``key`` (printed as JSON)."""
    imports: dict[str, float] = {}
    start = time.perf_counter()
    importlib.import_module("numpy")
    imports["numpy"] = _seconds_since(start)
    sys.path.insert(0, HERE)
    sys.path.insert(1, REPO_ROOT)
    workloads = importlib.import_module("workloads")
    api = None
    peers = None
    if column.startswith("fgrad"):
        start = time.perf_counter()
        api = workloads.load_fgrad()
        imports["fgrad"] = _seconds_since(start)
    if column in JAX_COLUMNS:
        start = time.perf_counter()
        jax = importlib.import_module("jax")
        imports["jax"] = _seconds_since(start)
        peers = _capturing_peers()
        start = time.perf_counter()
        jax.devices()
        imports["jax backend"] = _seconds_since(start)
    phases: dict[str, float] = {}
    sizes: dict[str, int] = {}
    if column == "fgrad.jit" and not profile:
        _jit_phase_timers(phases, sizes)

    start = time.perf_counter()
    builder_column = "jax.jit" if column == "jax.aot" else column
    wl = workloads.BUILDERS[key]({builder_column}, api, peers)
    build = _seconds_since(start)
    step = wl.steps[builder_column]
    if column == "jax.aot":
        if peers is None or peers.captured is None:
            raise RuntimeError(f"peers.py defines no JAX step for {key}")
        fn, args = peers.captured
        start = time.perf_counter()
        traced = jax.jit(fn).trace(*args)
        phases["trace"] = _seconds_since(start)
        start = time.perf_counter()
        lowered = traced.lower()
        phases["lower"] = _seconds_since(start)
        start = time.perf_counter()
        compiled = lowered.compile()
        phases["compile"] = _seconds_since(start)

        def step() -> Any:
            return jax.block_until_ready(compiled(*args))

    out: dict[str, Any] = {"imports": imports, "build": build, "phases": phases, "sizes": sizes}
    if profile:
        profiler = cProfile.Profile()
        start = time.perf_counter()
        profiler.enable()
        first = step()
        profiler.disable()
        out["calls"] = [_seconds_since(start)]
        last = step()
        out["profile"] = _profile_text(profiler)
    else:
        calls = []
        first = last = None
        for call in range(CALLS[key]):
            start = time.perf_counter()
            result = step()
            calls.append(_seconds_since(start))
            if call == 0:
                first = result
            last = result
        out["calls"] = calls

    problems = []
    reference = wl.steps["numpy"]()
    ref_dtypes = [str(a.dtype) for a in workloads.flatten(reference)]
    for which, result in (("first", first), ("last", last)):
        err = workloads.max_rel_err(result, reference)
        if err > wl.rtol:
            problems.append(f"{which} call differs from NumPy by {err:.2e} (> {wl.rtol:g})")
        dtypes = [str(a.dtype) for a in workloads.flatten(result)]
        if dtypes != ref_dtypes:
            problems.append(f"{which} call has dtypes {sorted(set(dtypes))}, NumPy {ref_dtypes}")
    first_vs_last = workloads.max_rel_err(first, last)
    if first_vs_last > wl.rtol:
        problems.append(f"first call differs from the last by {first_vs_last:.2e}")
    out["err_vs_numpy"] = workloads.max_rel_err(first, reference)
    out["first_is_last"] = _identical(first, last, workloads.flatten)
    if column == "fgrad.jit":
        eager = workloads.BUILDERS[key]({"fgrad"}, api, None).steps["fgrad"]()
        err = workloads.max_rel_err(last, eager)
        if err > wl.rtol:
            problems.append(f"replay differs from eager fgrad by {err:.2e} (> {wl.rtol:g})")
        out["jit_is_eager"] = _identical(first, eager, workloads.flatten) and _identical(
            last, eager, workloads.flatten
        )
    out["problems"] = problems
    return out


# --------------------------------------------------------------------------- parent side


def _child_env() -> dict[str, str]:
    """This repo importable, bytecode caching on (as ``harness._child_env``), one BLAS thread."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = REPO_ROOT + os.pathsep + env.get("PYTHONPATH", "")
    for name in THREAD_VARIABLES:
        env.setdefault(name, "1")
    return env


def _spawn(python: str, key: str, column: str, profile: bool = False) -> dict[str, Any]:
    command = [python, os.path.abspath(__file__), "--child", key, column]
    if profile:
        command.append("--child-profile")
    proc = subprocess.run(
        command, capture_output=True, text=True, env=_child_env(), cwd=REPO_ROOT, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout.splitlines()[-1])
    return result


def _jax_available(python: str) -> str:
    """'' when ``python`` imports jax, else why not."""
    proc = subprocess.run(
        [python, "-c", "import jax; print(jax.__version__)"],
        capture_output=True,
        text=True,
        env=_child_env(),
        check=False,
    )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return f"{python} cannot import jax ({last})"
    return ""


def _ms(seconds: float) -> str:
    ms = seconds * 1e3
    if ms >= 100:
        return f"{ms:.0f}"
    if ms >= 10:
        return f"{ms:.1f}"
    if ms >= 1:
        return f"{ms:.2f}"
    return f"{ms:.3f}"


def _median(values: Sequence[float]) -> float:
    return statistics.median(values)


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over the repeats of one (workload, column)."""
    firsts = [r["calls"][0] for r in runs]
    steady = _median([_median(r["calls"][REPORTED_CALLS:]) for r in runs])
    summary: dict[str, Any] = {
        "first": _median(firsts),
        "first_min": min(firsts),
        "nth": [_median([r["calls"][k] for r in runs]) for k in range(1, REPORTED_CALLS)],
        "steady": steady,
        "build": _median([r["build"] for r in runs]),
        "imports": {k: _median([r["imports"][k] for r in runs]) for k in runs[0]["imports"]},
        "phases": {k: _median([r["phases"][k] for r in runs]) for k in runs[0]["phases"]},
        "sizes": runs[0]["sizes"],
        "err_vs_numpy": max(r["err_vs_numpy"] for r in runs),
        "first_is_last": all(r["first_is_last"] for r in runs),
        "problems": sorted({p for r in runs for p in r["problems"]}),
    }
    if "jit_is_eager" in runs[0]:
        summary["jit_is_eager"] = all(r["jit_is_eager"] for r in runs)
    return summary


def print_tables(results: dict[str, dict[str, dict[str, Any]]], skipped: list[str]) -> None:
    print(
        "\n| workload | column | 1st call ms (median, min) | 2nd ms | 3rd ms | steady ms "
        "| 1st / steady | identical 1st/last |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for key, by_column in results.items():
        for column, s in by_column.items():
            ratio = s["first"] / s["steady"]
            second, third = s["nth"]
            identical = "yes" if s["first_is_last"] else "no"
            if "jit_is_eager" in s:
                identical += ", = eager" if s["jit_is_eager"] else ", ≠ eager bits"
            print(
                f"| {key} | {column} | {_ms(s['first'])} ({_ms(s['first_min'])}) "
                f"| {_ms(second)} | {_ms(third)} | {_ms(s['steady'])} | {ratio:.1f}× "
                f"| {identical} |"
            )
    print("\nImports and build, ms (median; the build is data + closures + device transfer):\n")
    print("| workload | column | import numpy | import fgrad / jax | jax backend | build |")
    print("|---|---|---|---|---|---|")
    for key, by_column in results.items():
        for column, s in by_column.items():
            imp = s["imports"]
            lib = imp.get("fgrad", imp.get("jax"))
            backend = imp.get("jax backend")
            print(
                f"| {key} | {column} | {_ms(imp['numpy'])} "
                f"| {'—' if lib is None else _ms(lib)} "
                f"| {'—' if backend is None else _ms(backend)} | {_ms(s['build'])} |"
            )
    print("\nInside the first call, ms (median):\n")
    for key, by_column in results.items():
        jit = by_column.get("fgrad.jit")
        if jit is not None:
            phases = jit["phases"]
            rest = jit["first"] - sum(phases.get(k, 0.0) for k in (TRACE_RUN, *TOP_PHASES))
            sources = ", ".join(f"{k} {_ms(phases[k])}" for k in SOURCE_PHASES if k in phases)
            parts = ", ".join(
                f"{k} {_ms(phases[k])}" + (f" (of which {sources})" if k == TOP_PHASES[1] else "")
                for k in (TRACE_RUN, *TOP_PHASES)
                if k in phases
            )
            n = jit["sizes"].get("instructions", "?")
            eager = by_column.get("fgrad")
            versus = f" (eager first call: {_ms(eager['first'])})" if eager else ""
            print(
                f"- {key} fgrad.jit, {n} instructions, first call {_ms(jit['first'])}: "
                f"{parts}, other {_ms(rest)}{versus}"
            )
        jitted = by_column.get("jax.jit")
        if jitted is not None:
            print(f"- {key} jax.jit: first minus steady {_ms(jitted['first'] - jitted['steady'])}")
        aot = by_column.get("jax.aot")
        if aot is not None:
            parts = ", ".join(f"{k} {_ms(v)}" for k, v in aot["phases"].items())
            total = sum(aot["phases"].values())
            print(
                f"- {key} jax.jit(f).trace/lower/compile: {parts}, total {_ms(total)}; "
                f"then first call {_ms(aot['first'])}"
            )
    for line in skipped:
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", nargs=2, metavar=("WORKLOAD", "COLUMN"), help=argparse.SUPPRESS)
    parser.add_argument("--child-profile", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--workloads", nargs="+", choices=WORKLOADS, default=list(WORKLOADS))
    parser.add_argument("--columns", nargs="+", choices=COLUMNS, default=list(COLUMNS))
    parser.add_argument("--repeats", type=int, default=5, help="fresh processes per cell")
    parser.add_argument(
        "--jax-python",
        default=sys.executable,
        help="interpreter for the JAX columns (default: this one)",
    )
    parser.add_argument(
        "--profile",
        nargs="+",
        choices=WORKLOADS,
        help="only print cProfile of the first fgrad.jit call of these workloads",
    )
    parser.add_argument("--json", help="also write the per-process measurements here")
    args = parser.parse_args()

    if args.child:
        key, column = args.child
        print(json.dumps(run_child(key, column, args.child_profile)))
        return

    if args.profile:
        for key in args.profile:
            result = _spawn(sys.executable, key, "fgrad.jit", profile=True)
            print(f"=== {key}: first fgrad.jit call, {_ms(result['calls'][0])} ms under cProfile")
            print(result["profile"])
        return

    columns = list(args.columns)
    skipped = []
    if set(JAX_COLUMNS) & set(columns):
        why = _jax_available(args.jax_python)
        if why:
            columns = [c for c in columns if c not in JAX_COLUMNS]
            skipped.append(
                f"jax.jit, jax.aot: skipped: {why}; pass --jax-python /tmp/jaxenv/bin/python"
            )
    cells = [(key, column) for key in args.workloads for column in columns]
    for key, column in cells[:1] + [c for c in cells if c[1] in JAX_COLUMNS][:1]:
        python = args.jax_python if column in JAX_COLUMNS else sys.executable
        _spawn(python, key, column)  # warm the file cache and the .pyc files
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {cell: [] for cell in cells}
    started = time.perf_counter()
    for repeat in range(args.repeats):
        for key, column in cells if repeat % 2 == 0 else cells[::-1]:
            python = args.jax_python if column in JAX_COLUMNS else sys.executable
            runs[(key, column)].append(_spawn(python, key, column))
        print(
            f"repeat {repeat + 1}/{args.repeats} done ({time.perf_counter() - started:.0f} s)",
            file=sys.stderr,
        )
    results: dict[str, dict[str, dict[str, Any]]] = {}
    problems = []
    for (key, column), cell_runs in runs.items():
        summary = summarize(cell_runs)
        results.setdefault(key, {})[column] = summary
        problems += [f"{key} {column}: {p}" for p in summary["problems"]]
    versions = f"python {sys.version.split()[0]}"
    print(f"W7 first-call latency, {args.repeats} fresh processes per cell; {versions}")
    if problems:
        print("CHECKS FAILED:\n  " + "\n  ".join(problems))
        sys.exit(1)
    worst = max(s["err_vs_numpy"] for by in results.values() for s in by.values())
    print(f"checks passed: every first and last result matches NumPy (worst {worst:.1e})")
    print_tables(results, skipped)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({f"{k} {c}": v for (k, c), v in runs.items()}, fh, indent=1)
    print(f"\nload average: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
