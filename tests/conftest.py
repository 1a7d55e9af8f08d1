"""Shared test set-up: cases that need NumPy 2 are skipped on NumPy 1.26."""

from __future__ import annotations

from typing import Any

import pytest

from fgrad._compat import NUMPY_2

# Cases that call, through NumPy itself, a function or keyword NumPy 1.26 lacks. fgrad's
# own versions of these functions are tested on every NumPy by the other cases.
NUMPY_2_CASES = {
    "test_numpy_calls_of_added_rules": {
        "trapezoid",
        "svdvals",
        "matrix_transpose",
        "linalg_matrix_transpose",
        "vector_norm",
        "matrix_norm",
        "vecdot",
        "linalg_outer",
        "linalg_cross",
        "linalg_diagonal",
        "linalg_trace",
        "linalg_matmul",
        "linalg_tensordot",
    },
    "test_numpy_calls_differentiate_like_fgrad_numpy": {"clip_keywords"},
}


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    if NUMPY_2:
        return
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.id in NUMPY_2_CASES.get(item.originalname, ()):
            item.add_marker(pytest.mark.skip(reason="calls a function NumPy 1.26 does not have"))
