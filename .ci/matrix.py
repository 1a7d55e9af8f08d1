"""The version matrix of .ci/run, read from pyproject.toml and the interpreters installed.

``python .ci/matrix.py pythons`` prints two lines, ``oldest PATH VERSION`` and ``newest PATH
VERSION``: the oldest and newest installed CPython (3.8 to 3.19, found as ``python3.X`` on
PATH or under pyenv's versions folder) that satisfy ``requires-python`` and can make a
virtual environment with pip.

``python .ci/matrix.py floors`` prints ``name==version`` for every runtime dependency, the
version being its ``>=`` lower bound: the oldest versions the project claims to support.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10
    from pip._vendor import tomli as tomllib

try:
    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet
except ImportError:
    from pip._vendor.packaging.requirements import Requirement
    from pip._vendor.packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
PROBE = "import sys, venv, ensurepip; print('%d.%d.%d' % sys.version_info[:3])"


def candidates(minor: int) -> list[str]:
    name = f"python3.{minor}"
    found = [shutil.which(name)]
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    found += sorted(glob.glob(f"{pyenv_root}/versions/3.{minor}.*/bin/{name}"), reverse=True)
    return [path for path in found if path]


def version_of(python: str) -> str | None:
    try:
        done = subprocess.run(
            [python, "-c", PROBE], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def pythons() -> None:
    allowed = SpecifierSet(PROJECT.get("requires-python", ""))
    usable = []
    for minor in range(8, 20):
        for python in candidates(minor):
            version = version_of(python)
            if version is not None and allowed.contains(version):
                usable.append((python, version))
                break
    if not usable:
        sys.exit(f"no installed Python satisfies requires-python {allowed}")
    print("oldest", *usable[0])
    print("newest", *usable[-1])


def floors() -> None:
    for line in PROJECT["dependencies"]:
        requirement = Requirement(line)
        lower = [s.version for s in requirement.specifier if s.operator == ">="]
        if len(lower) != 1:
            sys.exit(f"dependency {line!r} states no single '>=' lower bound to test")
        print(f"{requirement.name}=={lower[0]}")


if __name__ == "__main__":
    {"pythons": pythons, "floors": floors}[sys.argv[1]]()
