"""fgrad performance benchmarks against hand-written NumPy (and peers, when importable).

Usage::

    python benchmarks/run.py [--quick] [--only NAMES] [--columns COLS] [--json OUT]
    python benchmarks/run.py --columns numpy,fgrad,torch     # choose the columns
    python benchmarks/run.py --profile W1 [--profile-column fgrad] [--top 25]

Prints one table, workload x column: the median time per step and the median
over rounds of the per-round ratio to the hand-written NumPy step timed in the
same round (see ``harness.py``), with the performance targets marked ✓/✗.
Before anything is timed, the NumPy baselines are checked against centred
finite differences (the run stops if one is wrong) and every other column's
results are compared with the baseline's; a column that disagrees is reported
and left out.

Workloads (``--only`` takes these names, comma-separated; ``W2`` selects both rows):
W1 (moons-small), W2-f32 and W2-f64 (mlp-large), W3 (scalar-chain), W4 (hvp),
import, memory.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(1, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import harness  # noqa: E402
import workloads  # noqa: E402
from harness import (  # noqa: E402
    COLUMNS,
    IMPORT_TARGET_MS,
    TARGETS,
    fmt_bytes,
    fmt_ratio,
    fmt_time,
    verdict,
)

ALL_NAMES = [*workloads.BUILDERS, "import", "memory"]
PEER_COLUMNS = ("autograd", "torch", "jax", "jax.jit")


_T0 = time.perf_counter()


def _log(msg: str) -> None:
    print(f"[{time.perf_counter() - _T0:6.1f}s] {msg}", file=sys.stderr, flush=True)


def select_names(only: str | None) -> list[str]:
    if not only:
        return list(ALL_NAMES)
    wanted = [w.strip() for w in only.split(",") if w.strip()]
    out = []
    for w in wanted:
        hits = [
            n for n in ALL_NAMES if n.lower() == w.lower() or n.lower().startswith(w.lower() + "-")
        ]
        if not hits:
            raise SystemExit(f"--only: unknown workload {w!r}; choose from {', '.join(ALL_NAMES)}")
        out += [h for h in hits if h not in out]
    return [n for n in ALL_NAMES if n in out]


def load(columns: set[str]) -> tuple[workloads.FgradAPI | None, Any]:
    api = workloads.load_fgrad() if {"fgrad", "fgrad.jit"} & columns else None
    peers = None
    if set(PEER_COLUMNS) & columns:
        import peers as peers_mod

        peers = peers_mod.Peers(columns)
    return api, peers


def build(name: str, columns: set[str], api: Any, peers: Any) -> workloads.Workload:
    wl = workloads.BUILDERS[name](columns, api, peers)
    for col in wl.skipped:
        wl.steps.pop(col, None)
    return wl


# --------------------------------------------------------------------------- main run


def run_workload(
    wl: workloads.Workload, args: argparse.Namespace, record: dict[str, Any]
) -> dict[str, Any]:
    problems = wl.check_baseline()
    if problems:
        for p in problems:
            _log("BASELINE WRONG: " + p)
        raise SystemExit(f"{wl.key}: the hand-written NumPy baseline is wrong; refusing to time it")
    checks = harness.check_columns(wl)
    for col, why in checks.failed.items():
        _log(f"{wl.key} {col}: NOT TIMED, {why}")
        wl.steps.pop(col)
        wl.skipped[col] = why
    is_w2 = wl.key.startswith("W2")
    if args.quick:
        rounds, block, slow_s, slow_rounds = (3 if is_w2 else 5), 0.04, 0.25, 1
    else:
        rounds, block, slow_s, slow_rounds = (7 if is_w2 else 11), 0.2, 1.5, 2
    timings = harness.time_interleaved(
        wl.steps,
        rounds,
        block,
        slow_s,
        slow_rounds,
        progress=lambda m: _log(f"  {wl.key} {m}"),
        hints=checks.seconds,
    )
    entry: dict[str, Any] = {
        "title": wl.title,
        "dtype": wl.dtype,
        "rounds": rounds,
        "block_s": block,
        "notes": wl.notes,
        "not_timed": wl.skipped,
        "max_rel_err": checks.ok,
        "columns": {},
    }
    for col, t in timings.items():
        target = TARGETS.get(wl.key, {}).get(col)
        ratio = t.median_ratio
        entry["columns"][col] = {
            "reps_per_block": t.reps,
            "times_s": t.times,
            "median_s": t.median_time,
            "ratios": t.ratios,
            "median_ratio": ratio,
            "target": target,
            "meets_target": None if target is None or ratio is None else ratio <= target,
        }
    record["workloads"][wl.key] = entry
    return entry


def table_rows(record: dict[str, Any], shown: list[str]) -> list[list[str]]:
    rows = []
    for key, e in record["workloads"].items():
        row = [f"{key} {e['title']} ({e['dtype']})"]
        for col in shown:
            c = e["columns"].get(col)
            if c is None:
                why = e["not_timed"].get(col, "")
                if why.startswith("raised"):
                    row.append("error")
                elif why.startswith(("differs", "result dtypes")):
                    row.append("WRONG")
                else:
                    row.append("—")
            elif col == "numpy":
                row.append(fmt_time(c["median_s"]))
            else:
                r = c["median_ratio"]
                row.append(f"{fmt_time(c['median_s'])} {fmt_ratio(r)}{verdict(r, c['target'])}")
        rows.append(row)
    imp = record.get("import")
    if imp:
        row = ["import (`python -c 'import X'`)"]
        for col in shown:
            name = "fgrad" if col == "fgrad" else col
            if col == "numpy":
                row.append(fmt_time(imp["numpy"]["median_s"]))
            elif name in imp:
                extra_ms = imp[name]["median_extra_s"] * 1e3
                mark = verdict(extra_ms, IMPORT_TARGET_MS) if col == "fgrad" else ""
                row.append(f"+{extra_ms:.0f} ms{mark}")
            else:
                row.append("—")
        rows.append(row)
    mem = record.get("memory")
    if mem:
        for mode, label in (
            ("tracemalloc", "tracemalloc peak"),
            ("rss", "peak RSS"),
            ("rss_mmap", "peak RSS, mmap threshold 128 KiB"),
        ):
            row = [f"memory W2-f64 step ({label})"]
            base = mem.get("numpy", {}).get(mode)
            for col in shown:
                m = mem.get(col)
                if m is None or m.get(mode) is None or not base:
                    row.append("—" if m is None or "error" not in m else "error")
                elif col == "numpy":
                    row.append(fmt_bytes(base))
                else:
                    r = m[mode] / base
                    target = TARGETS["memory"].get(col)
                    row.append(f"{fmt_bytes(m[mode])} {fmt_ratio(r)}{verdict(r, target)}")
            rows.append(row)
    return rows


def target_lines(record: dict[str, Any]) -> list[str]:
    lines = []
    for key, e in record["workloads"].items():
        for col, c in e["columns"].items():
            t, r = c["target"], c["median_ratio"]
            if t is None or r is None:
                continue
            lines.append(_target_line(f"{key} {col}", r, t, "×", 3))
        for col in TARGETS.get(key, {}):
            if col not in e["columns"]:
                why = e["not_timed"].get(col, "not run")
                lines.append(f"  {key} {col}: not measured ({why}); target ≤ {TARGETS[key][col]}×")
    imp = record.get("import")
    if imp and "fgrad" in imp:
        extra = imp["fgrad"]["median_extra_s"] * 1e3
        line = _target_line("import fgrad", extra, IMPORT_TARGET_MS, " ms", 0, "+")
        cpu = imp["fgrad"]["median_extra_cpu_s"] * 1e3
        lines.append(f"{line}; CPU time +{cpu:.0f} ms")
    mem = record.get("memory")
    if mem and mem.get("numpy", {}).get("tracemalloc"):
        base = mem["numpy"]["tracemalloc"]
        for col in ("fgrad", "fgrad.jit"):
            if mem.get(col, {}).get("tracemalloc"):
                r = mem[col]["tracemalloc"] / base
                line = _target_line(f"memory {col} (tracemalloc peak)", r, 1.3, "×", 3)
                out = mem["numpy"].get("output_bytes")
                if out:
                    transient = (mem[col]["tracemalloc"] - out) / (base - out)
                    line += f"; excluding the step's outputs ({fmt_bytes(out)}): {transient:.2f}×"
                lines.append(line)
    return lines


def _target_line(
    what: str, value: float, target: float, unit: str, digits: int, sign: str = ""
) -> str:
    shown = f"{sign}{value:.{digits}f}{unit}"
    if value <= target:
        return f"✓ {what}: {shown} (target ≤ {sign}{target:g}{unit})"
    over = value - target
    return (
        f"✗ {what}: {shown} (target ≤ {sign}{target:g}{unit}; "
        f"missed by {over:.{digits}f}{unit.strip()}, {100 * over / target:.0f}%)"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--quick",
        action="store_true",
        help="fewer rounds, numpy/fgrad/fgrad.jit only unless --columns says otherwise; < 1 minute",
    )
    p.add_argument("--only", help="comma-separated workloads: " + ", ".join(ALL_NAMES))
    p.add_argument("--columns", help="comma-separated columns (default: all available)")
    p.add_argument("--json", metavar="OUT", help="write all numbers to this JSON file")
    p.add_argument("--profile", metavar="NAME", help="run one workload under cProfile")
    p.add_argument("--profile-column", default="fgrad", help="column to profile (default fgrad)")
    p.add_argument("--profile-seconds", type=float, default=3.0, help="profiled run length")
    p.add_argument("--top", type=int, default=25, help="functions shown by --profile")
    p.add_argument("--memory-child", help=argparse.SUPPRESS)
    p.add_argument("--memory-mode", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.columns:
        columns = set(args.columns.split(","))
    elif args.quick:
        columns = {"numpy", "fgrad", "fgrad.jit"}  # peers only when asked for by --columns
    else:
        columns = set(COLUMNS)
    columns.add("numpy")

    if args.memory_child:
        col = args.memory_child
        api, peers = load({col})
        wl = build("W2-f64", {col}, api, peers)
        nbytes, out_bytes = harness.memory_child(wl.steps[col], args.memory_mode)
        reply = {
            "column": col,
            "mode": args.memory_mode,
            "bytes": nbytes,
            "output_bytes": out_bytes,
        }
        print(json.dumps(reply))
        return 0

    if args.profile:
        import profiling

        name = select_names(args.profile)[0]
        col = args.profile_column
        api, peers = load({col})
        wl = build(name, {col}, api, peers)
        if col not in wl.steps:
            raise SystemExit(f"column {col!r} is not available for {name}: {wl.skipped.get(col)}")
        profiling.profile_step(
            f"{name} {col}", wl.steps[col], wl.steps["numpy"], args.profile_seconds, args.top
        )
        return 0

    names = select_names(args.only)
    api, peers = load(columns)
    header = harness.machine_header({})
    if api is not None:
        header["fgrad"] = f"{api.fgrad.__version__} (git {harness.git_revision()})"
        header["fgrad pieces"] = ", ".join(f"{k}: {v}" for k, v in api.sources.items())
    if peers is not None:
        for lib, ver in peers.versions().items():
            header[lib] = ver
        if peers.torch is not None:
            header["torch"] += f" (threads {peers.torch.get_num_threads()})"
    header["mode"] = "quick" if args.quick else "full"
    available = {"numpy"}
    if api is not None:
        available |= {"fgrad", "fgrad.jit"} & columns
    if peers is not None:
        available |= peers.available() & columns
    shown = [c for c in COLUMNS if c in available]

    print("fgrad benchmarks")
    for k, v in header.items():
        print(f"  {k}: {v}")
    print(flush=True)

    record: dict[str, Any] = {"header": header, "workloads": {}}
    record["errors"] = {}

    def phase(name: str, fn: Any) -> None:
        # A failing phase (say, fgrad broken mid-edit) is reported; the others still print.
        try:
            fn()
        except Exception as exc:
            _log(f"{name}: FAILED: {type(exc).__name__}: {exc}")
            record["errors"][name] = f"{type(exc).__name__}: {exc}"

    for name in names:
        if name in workloads.BUILDERS:
            _log(f"{name}: building and checking")
            phase(
                name, lambda name=name: run_workload(build(name, columns, api, peers), args, record)
            )
    if "import" in names:
        _log("import: timing subprocesses")
        cols = [c for c in shown if c in harness.IMPORT_STATEMENTS]
        if args.quick:
            cols = [c for c in cols if c in ("numpy", "fgrad")]

        def do_import() -> None:
            record["import"] = harness.measure_imports(cols, 5 if args.quick else 10)

        phase("import", do_import)
    if "memory" in names:
        _log("memory: one W2 float64 step per fresh subprocess")
        cols = [c for c in shown if not (c == "fgrad.jit" and api is not None and api.jit is None)]

        def do_memory() -> None:
            record["memory"] = harness.measure_memory(
                os.path.abspath(__file__), cols, 1 if args.quick else 3
            )

        phase("memory", do_memory)

    print(harness.markdown_table(["workload", *shown], table_rows(record, shown)))
    print()
    print("Targets:")
    for line in target_lines(record):
        print("  " + line)
    notes = []
    for key, e in record["workloads"].items():
        notes += e["notes"]
        for col, why in e["not_timed"].items():
            notes.append(f"{key} {col}: not timed: {why}")
    notes += [f"{name}: FAILED, not in the table: {why}" for name, why in record["errors"].items()]
    if notes:
        print("Notes:")
        for n in dict.fromkeys(notes):
            print("  " + n)
    record["header"]["load average at end"] = harness.load_average()
    print(f"load average at end: {record['header']['load average at end']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(record, f, indent=1, default=float)
        _log(f"wrote {args.json}")
    return 1 if record["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
