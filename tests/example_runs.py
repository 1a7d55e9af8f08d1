"""Running an example script as a user would: a subprocess with this checkout importable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_example(script: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``python script *args`` with matplotlib headless and ``fgrad`` from this checkout."""
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
