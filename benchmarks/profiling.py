"""``run.py --profile NAME``: one workload's step under cProfile, top functions by tottime.

(Not called ``profile.py``: that name would shadow the standard-library module
that ``cProfile`` imports when the script's folder is first on ``sys.path``.)
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
from collections.abc import Callable
from typing import Any

from harness import REPO_ROOT, fmt_time, time_interleaved


def profile_step(
    label: str, step: Callable[[], Any], numpy_step: Callable[[], Any], seconds: float, top: int
) -> None:
    step()  # warm up
    numpy_step()
    timing = time_interleaved({"numpy": numpy_step, "col": step}, 5, 0.1, 2.0, 2)
    t_col, t_np = timing["col"].median_time, timing["numpy"].median_time
    ratio = timing["col"].median_ratio or t_col / t_np
    n = max(1, round(seconds / t_col))
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(n):
        step()
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    print(
        f"{label}: {fmt_time(t_col)} per step unprofiled (hand-written NumPy: {fmt_time(t_np)}, "
        f"median of 5 interleaved rounds {ratio:.2f}×); profiled {n} steps, top {top} by tottime"
    )
    print(f"(times below are totals over the {n} profiled steps; divide by {n} for per step)")
    text = out.getvalue().replace(REPO_ROOT + os.sep, "")
    start = text.find("   ncalls")
    print(text[start if start >= 0 else 0 :].rstrip())
