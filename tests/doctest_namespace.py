"""pytest plugin (``-p tests.doctest_namespace``, in pyproject): the names docstring examples use.

Docstring examples assume ``import numpy as np``, ``import fgrad`` and
``import fgrad.numpy as fnp``, as NumPy's assume ``np`` (stated in ``fgrad``'s docstring).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import fgrad
import fgrad.numpy as fnp


@pytest.fixture(autouse=True)
def _fgrad_doctest_names(doctest_namespace: dict[str, Any]) -> None:
    doctest_namespace.update(np=np, fgrad=fgrad, fnp=fnp)
